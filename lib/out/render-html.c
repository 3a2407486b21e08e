/* SPDX-License-Identifier: MIT */
/*
 * render-html.c - the address space as a picture: an SVG drawing (alone,
 * or in one self-contained HTML page with the snapshot's data and a
 * script for details and zoom), top-down like the figures of the process
 * memory model: kernel half, non-canonical hole, user space from its top
 * down to the NULL guard zone.
 *
 * The layout is computed first as facts (struct band: an address range,
 * what it is, its height), then written.  A band's height is a function of
 * its size alone, h = clamp(H_MIN + H_STEP * (log2(size) - 12), H_MIN,
 * H_MAX): monotonic, so a bigger band is never shorter, a 4 KiB guard is
 * H_MIN pixels (visible) and a 128 TiB gap H_MAX (not 128 TiB tall).
 * Gaps are bands of their own with their true size written on them; the
 * gap under the main stack is split at its reach (RLIMIT_STACK).  Past
 * GROUP_OVER regions, runs of more than GROUP_RUN regions of one kind and
 * object (no thread's) fold into one band, gaps between them included,
 * so 20,000 mappings draw as a few hundred bands; the page's script
 * zooms into a band, drawing its regions one by one.
 *
 * Every string the target controls is written escaped: first as the
 * terminal sees it (ml_escape(ML_ESC_TERM): control bytes as \xHH), the
 * bidirectional controls and line separators then as visible \uXXXX
 * text, and the result as pure ASCII: character references in SVG text
 * and attributes, \uXXXX in the JSON data (so "<" is \u003c and no
 * "</script>" can end the data block; quotes are \u0022).  The page has a Content Security
 * Policy of default-src 'none': it loads nothing from anywhere.
 */
#include "ml-out.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define H_MIN 14.0           /* px: a 4 KiB band, room for one line of text */
#define H_STEP 3.0           /* px per doubling of the size */
#define H_MAX 110.0          /* px: the tallest band (a 128 TiB gap) */
#define GROUP_OVER 400       /* more regions than this: fold runs */
#define GROUP_RUN 8          /* ... of more than this many regions */
#define SVG_W 980
#define X_BAND 170           /* bands from here ... */
#define W_BAND 420           /* ... this wide */
#define X_NOTE (X_BAND + W_BAND + 12)
#define TOP_PAD 8

/* What a band is. */
enum band_type {
	BAND_REGION, BAND_GROUP, BAND_GAP, BAND_REACH, BAND_KERNEL,
	BAND_HOLE, BAND_NULL, BAND__COUNT
};

static const struct {
	const char *name;         /* data-type, the JSON's "t" */
	const char *fill;         /* NULL: the kind's colour */
	const char *label;        /* the words on the band; NULL: kind */
} band_info[BAND__COUNT] = {
	[BAND_REGION] = { "region", NULL, NULL },
	[BAND_GROUP]  = { "group",  NULL, NULL },
	[BAND_GAP]    = { "gap",    "url(#ml-gap)", "unmapped" },
	[BAND_REACH]  = { "reach",  "url(#ml-reach)", "stack reach" },
	[BAND_KERNEL] = { "kernel", "#8a8a8a", "kernel" },
	[BAND_HOLE]   = { "hole",   "url(#ml-hole)", "non-canonical hole" },
	[BAND_NULL]   = { "null-zone", "#8a8a8a", "NULL guard zone" },
};

/* One band of the drawing, top-down.  [lo, hi) its addresses (lo == hi
 * for a band with no extent: the kernel of a 32-bit task); first and n
 * the regions it draws (BAND_REGION: 1, BAND_GROUP: n > 1). */
struct band {
	uint64_t lo, hi;
	enum band_type type;
	size_t first, n;
	double y, h;
};

struct layout {
	struct band *b;
	size_t n, cap;
	double height;
};

struct hctx {
	const struct ml_snapshot *snap;
	const struct ml_diagram_opts *o;
	FILE *out;
	struct layout *l;
};

/* ---- colours: the terminal's (kinds.c's SGR codes) as CSS ---- */

/* SGR 30..37 at normal and bold intensity (VS Code's terminal palette). */
static const char *const sgr_rgb[2][8] = {
	{ "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5" },
	{ "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff" },
};

/* The CSS colour of kind k from its SGR parameters: "3N" a colour, ";1"
 * bold (bright), "2" alone or ";2" dim (mixed half with white). */
void ml__kind_css(enum ml_kind k, char buf[8])
{
	const char *sgr = ml__kind_color(k);
	int colour = -1, bold = 0, dim = 0;
	unsigned int rgb;

	for (const char *p = sgr; p && *p;) {
		int v = (int)strtol(p, (char **)&p, 10);
		if (v >= 30 && v <= 37)
			colour = v - 30;
		bold |= v == 1;
		dim |= v == 2;
		p += *p == ';';
	}
	if (colour < 0) {
		snprintf(buf, 8, dim ? "#a8a8a8" : "#d0d0d0");
		return;
	}
	rgb = (unsigned int)strtoul(sgr_rgb[bold][colour] + 1, NULL, 16);
	if (dim)
		rgb = ((rgb >> 1) & 0x7f7f7f) + 0x808080;
	snprintf(buf, 8, "#%06x", rgb & 0xffffff);
}

/* ---- escaping ---- */

/* Code point of the valid UTF-8 sequence at s (ml_escape made it valid),
 * its length in *len. */
static uint32_t utf8_cp(const unsigned char *s, size_t *len)
{
	if (s[0] < 0x80)
		return *len = 1, s[0];
	if (s[0] < 0xe0)
		return *len = 2, (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	if (s[0] < 0xf0)
		return *len = 3, (uint32_t)(s[0] & 0x0f) << 12 |
			(uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	return *len = 4, (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		(uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* s (target text) shown as the terminal shows it, written as pure ASCII
 * for an XML text node or attribute value, or for the inside of a JSON
 * string in a <script> element. */
void ml__html_escaped(FILE *out, const char *s, enum ml__esc_to to)
{
	char *t = ml_escape(s ? s : "", ML_ESC_TERM);
	const unsigned char *p = (const unsigned char *)(t ? t : "?");

	while (*p) {
		size_t n;
		uint32_t cp = utf8_cp(p, &n);

		p += n;
		if (to == ML__ESC_XML && strchr("<>&\"'", (int)cp) && cp)
			fprintf(out, "&#%u;", (unsigned int)cp);
		else if (to == ML__ESC_XML && cp >= 0x7f)
			fprintf(out, "&#x%X;", (unsigned int)cp);
		else if (to == ML__ESC_JSON && (cp >= 0x7f || strchr("<>&'\"", (int)cp)))
			if (cp >= 0x10000)
				fprintf(out, "\\u%04X\\u%04X", (unsigned int)(0xd800 + ((cp - 0x10000) >> 10)),
					(unsigned int)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
			else
				fprintf(out, "\\u%04X", (unsigned int)cp);
		else if (to == ML__ESC_JSON && cp == '\\')
			fputs("\\\\", out);
		else
			fputc((int)cp, out);
	}
	free(t);
}

/* ---- layout ---- */

static double band_height(uint64_t size)
{
	double h = size ? H_MIN + H_STEP * (log2((double)size) - 12.0) : H_MIN;

	return h < H_MIN ? H_MIN : h > H_MAX ? H_MAX : floor(h * 10.0 + 0.5) / 10.0;
}

static int add(struct layout *l, enum band_type t, uint64_t lo, uint64_t hi,
	       size_t first, size_t n)
{
	if (ML__RESERVE(l->b, l->cap, l->n + 1) < 0)
		return -ENOMEM;
	l->b[l->n] = (struct band){ lo, hi, t, first, n, l->height, band_height(hi - lo) };
	l->height += l->b[l->n++].h + 1;
	return 0;
}

/* How many regions from index i down fold with region i: same kind and
 * object, no thread's, not the heap's or the main stack's. */
static size_t group_run(const struct ml_snapshot *s, size_t i, size_t lo)
{
	const struct ml_region *a = &s->regions[i];
	size_t n = 1;

	if (s->nregions <= GROUP_OVER || a->tid || a->kind == ML_KIND_HEAP ||
	    a->kind == ML_KIND_STACK)
		return 1;
	while (n <= i - lo) {
		const struct ml_region *b = &s->regions[i - n];
		if (b->kind != a->kind || b->tid || (a->object != b->object &&
		    (!a->object || !b->object || strcmp(a->object, b->object))))
			break;
		n++;
	}
	return n > GROUP_RUN ? n : 1;
}

/* The gap [lo, hi) under the region at index i; under the main stack,
 * split at the lowest address the stack may grow to. */
static int gap(struct layout *l, const struct ml_snapshot *s,
	       const struct ml_region *above, uint64_t lo, uint64_t hi)
{
	uint64_t lim = s->proc.stack_rlimit, reach;
	int r;

	if (lo >= hi)
		return 0;
	if (!above || above->kind != ML_KIND_STACK)
		return add(l, BAND_GAP, lo, hi, 0, 0);
	reach = lim == UINT64_MAX || lim > above->end ? 0 : above->end - lim;
	if (reach <= lo)
		return add(l, BAND_REACH, lo, hi, 0, 0);
	if (reach >= hi)
		return add(l, BAND_GAP, lo, hi, 0, 0);
	if ((r = add(l, BAND_REACH, reach, hi, 0, 0)))
		return r;
	return add(l, BAND_GAP, lo, reach, 0, 0);
}

static int top_bands(struct layout *l, const struct ml_snapshot *s, size_t nuser)
{
	const struct ml_proc *p = &s->proc;
	int r = 0;

	if (p->is_32bit)
		return add(l, BAND_KERNEL, p->user_top, p->user_top, 0, 0);
	for (size_t i = s->nregions; i-- > nuser && !r;)
		r = add(l, BAND_REGION, s->regions[i].start, s->regions[i].end, i, 1);
	if (!r && p->kernel_start)
		r = add(l, BAND_KERNEL, p->kernel_start, 0, 0, 0);
	if (!r && p->kernel_start > p->user_top)
		r = add(l, BAND_HOLE, p->user_top, p->kernel_start, 0, 0);
	return r;
}

static int build_layout(const struct ml_snapshot *s, struct layout *l)
{
	const struct ml_proc *p = &s->proc;
	size_t nuser = s->nregions;
	uint64_t above;
	const struct ml_region *prev = NULL;
	int r;

	l->height = TOP_PAD;
	while (!p->is_32bit && nuser && s->regions[nuser - 1].start >= p->user_top)
		nuser--;
	if ((r = top_bands(l, s, nuser)))
		return r;
	above = p->user_top;
	for (size_t i = nuser; i-- > 0;) {
		const struct ml_region *reg = &s->regions[i];
		size_t n = group_run(s, i, 0);

		if (reg->end < above && (r = gap(l, s, prev, reg->end, above)))
			return r;
		r = add(l, n > 1 ? BAND_GROUP : BAND_REGION, s->regions[i - n + 1].start,
			reg->end, i - n + 1, n);
		if (r)
			return r;
		i -= n - 1;
		prev = &s->regions[i];
		above = prev->start;
	}
	if (above > p->mmap_min_addr && (r = gap(l, s, prev, p->mmap_min_addr, above)))
		return r;
	return add(l, BAND_NULL, 0, p->mmap_min_addr, 0, 0);
}

/* ---- SVG ---- */

/* The words on a band (one line) and its tooltip (<title>). */
static void band_words(const struct hctx *c, const struct band *b, bool title)
{
	const struct ml_region *r = b->n ? &c->snap->regions[b->first + b->n - 1] : NULL;
	const struct ml_proc *p = &c->snap->proc;
	char sz[ML_CELL_BUF], perms[5];

	if (r) {
		const char *obj = r->object ? r->object : r->name;
		fprintf(c->out, "%s %s %s ", ml_kind_name(r->kind),
			ml_fmt_size(sz, b->hi - b->lo, c->o->flags),
			b->n > 1 ? "" : ml_perms_str(r->perms, perms));
		ml__html_escaped(c->out, title || obj[0] != '/' ? obj : ml__base_name(obj), ML__ESC_XML);
		if (b->n > 1)
			fprintf(c->out, " (%zu regions)", b->n);
		if (r->tid && r->kind != ML_KIND_STACK)
			fprintf(c->out, " tid %d", (int)r->tid);
		if (r->kind == ML_KIND_HEAP)
			fprintf(c->out, " brk 0x%" PRIx64, p->brk);
	} else if (b->type == BAND_KERNEL && p->is_32bit) {
		fputs("kernel: not in this 32-bit address space (above 4 GiB)", c->out);
	} else if (b->type == BAND_NULL && !b->hi) {
		fputs("NULL zone: vm.mmap_min_addr is 0 (or unknown)", c->out);
	} else {
		fprintf(c->out, "%s %s", band_info[b->type].label,
			ml_fmt_size(sz, b->hi - b->lo, c->o->flags));
		if (b->type == BAND_REACH)
			fprintf(c->out, " (RLIMIT_STACK %s)", p->stack_rlimit == UINT64_MAX ?
				"unlimited" : ml_fmt_size(sz, p->stack_rlimit, c->o->flags));
	}
	if (title)
		fprintf(c->out, "\n0x%" PRIx64 "-0x%" PRIx64, b->lo, b->hi);
}

static void band_svg(const struct hctx *c, const struct band *b, size_t idx)
{
	const struct ml_region *r = b->n ? &c->snap->regions[b->first] : NULL;
	char fill[8];
	const char *f = band_info[b->type].fill;

	if (r) {
		ml__kind_css(r->kind, fill);
		f = fill;
	}
	fprintf(c->out, "<g class=\"band\" data-i=\"%zu\" data-type=\"%s\" data-kind=\"%s\" "
		"data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64 "\" data-count=\"%zu\">"
		"<title>", idx, band_info[b->type].name, r ? ml_kind_name(r->kind) : "",
		b->lo, b->hi, b->n);
	band_words(c, b, true);
	fprintf(c->out, "</title><rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
		"fill=\"%s\"/>", X_BAND, b->y, W_BAND, b->h, f);
	if (b->type != BAND_KERNEL || !c->snap->proc.is_32bit)
		fprintf(c->out, "<text class=\"a\" x=\"%d\" y=\"%.1f\">0x%0*" PRIx64 "</text>",
			X_BAND - 6, b->y + b->h, c->snap->proc.is_32bit ? 8 : 16, b->lo);
	fprintf(c->out, "<text class=\"w\" x=\"%d\" y=\"%.1f\">", X_BAND + 6,
		b->y + b->h / 2 + 4);
	band_words(c, b, false);
	fputs("</text></g>\n", c->out);
}

/* y of address a inside band b (linear within the band). */
static double addr_y(const struct band *b, uint64_t a)
{
	double f = b->hi > b->lo ? (double)(b->hi - a) / (double)(b->hi - b->lo) : 0.5;

	return b->y + f * b->h;
}

static const struct band *band_of(const struct layout *l, uint64_t a)
{
	for (size_t i = 0; i < l->n; i++)
		if (a >= l->b[i].lo && (a < l->b[i].hi || (!l->b[i].hi && l->b[i].lo)))
			return &l->b[i];
	return NULL;
}

/* A pointer at address a: a line across the band and its label. */
static void pointer(const struct hctx *c, uint64_t a, const char *cls,
		    const char *label, pid_t tid)
{
	const struct band *b = band_of(c->l, a);
	double y;

	if (!b)
		return;
	y = addr_y(b, a);
	/* From the band's middle: its left edge shows the band's colour unbroken. */
	fprintf(c->out, "<g class=\"%s\" data-addr=\"0x%" PRIx64 "\"><line x1=\"%d\" y1=\"%.1f\" "
		"x2=\"%d\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\">&#8592; ", cls, a, X_BAND + W_BAND / 2,
		y, X_NOTE - 4, y, X_NOTE, y + 4);
	if (label)
		ml__html_escaped(c->out, label, ML__ESC_XML);
	else
		fprintf(c->out, "sp of %d", (int)tid);
	fprintf(c->out, " 0x%" PRIx64 "</text></g>\n", a);
}

static void pointers(const struct hctx *c)
{
	const struct ml_snapshot *s = c->snap;

	if (s->proc.brk > s->proc.start_brk)
		pointer(c, s->proc.brk - 1, "brk", "brk", 0);
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].sp_known)
			pointer(c, s->threads[i].sp, "sp", NULL, s->threads[i].tid);
	for (size_t i = 0; i < c->o->nmarks; i++)
		pointer(c, c->o->marks[i].addr, "mark",
			c->o->marks[i].label ? c->o->marks[i].label : "", 0);
}

static const char svg_style[] =
	"<style>"
	".band text.w{font:12px sans-serif;fill:#111;pointer-events:none}"
	".band text.a{font:11px monospace;fill:#333;text-anchor:end}"
	".band rect{stroke:#fff;stroke-width:0.5}"
	".band:hover rect,.band.sel rect{stroke:#000;stroke-width:2}"
	".mark line,.sp line,.brk line{stroke:#c00;stroke-width:1.5}"
	".sp line{stroke:#06c}.brk line{stroke:#080;stroke-dasharray:4 2}"
	".mark text,.sp text,.brk text{font:12px sans-serif;fill:#111}"
	"</style>"
	"<defs>"
	"<pattern id=\"ml-gap\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
	"<rect width=\"8\" height=\"8\" fill=\"#f4f4f4\"/><path d=\"M0 8L8 0\" stroke=\"#ddd\"/></pattern>"
	"<pattern id=\"ml-reach\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
	"<rect width=\"8\" height=\"8\" fill=\"#fbf6d8\"/><path d=\"M0 8L8 0\" stroke=\"#e8dc90\"/></pattern>"
	"<pattern id=\"ml-hole\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
	"<rect width=\"8\" height=\"8\" fill=\"#e0e0e0\"/><path d=\"M0 0L8 8\" stroke=\"#bbb\"/></pattern>"
	"</defs>\n";

static void write_svg(const struct hctx *c, bool standalone)
{
	int h = (int)ceil(c->l->height) + TOP_PAD;

	fprintf(c->out, "<svg %sid=\"ml-svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"data-hmin=\"%g\" data-hstep=\"%g\" data-hmax=\"%g\">\n",
		standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "",
		SVG_W, h, SVG_W, h, H_MIN, H_STEP, H_MAX);
	fputs(svg_style, c->out);
	for (size_t i = 0; i < c->l->n; i++)
		band_svg(c, &c->l->b[i], i);
	pointers(c);
	fputs("</svg>\n", c->out);
}

/* ---- HTML: the SVG, the data as JSON, the script ---- */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	ml__html_escaped(out, s, ML__ESC_JSON);
	fputc('"', out);
}

static void region_json(const struct hctx *c, const struct ml_region *r, bool comma)
{
	char perms[5];

	fprintf(c->out, "%s{\"s\":\"0x%" PRIx64 "\",\"e\":\"0x%" PRIx64 "\",\"z\":%" PRIu64
		",\"k\":\"%s\",\"p\":\"%s\",\"n\":", comma ? ",\n" : "", r->start, r->end,
		r->end - r->start, ml_kind_name(r->kind), ml_perms_str(r->perms, perms));
	json_str(c->out, r->name);
	fputs(",\"o\":", c->out);
	json_str(c->out, r->object ? r->object : "");
	fputs(",\"sec\":[", c->out);
	for (size_t i = 0; i < r->nsections; i++) {
		fputs(i ? ",[" : "[", c->out);
		json_str(c->out, r->sections[i].name);
		fprintf(c->out, ",\"0x%" PRIx64 "\",\"0x%" PRIx64 "\"]", r->sections[i].start,
			r->sections[i].end);
	}
	fputc(']', c->out);
	if (r->have_smaps)
		fprintf(c->out, ",\"rss\":%" PRIu64 ",\"pss\":%" PRIu64, r->smaps->rss, r->smaps->pss);
	if (r->tid)
		fprintf(c->out, ",\"tid\":%d", (int)r->tid);
	fputc('}', c->out);
}

static void data_json(const struct hctx *c)
{
	const struct ml_snapshot *s = c->snap;
	const struct ml_proc *p = &s->proc;
	char fill[8];

	fprintf(c->out, "<script type=\"application/json\" id=\"ml-data\">{\"pid\":%d,"
		"\"bits\":%d,\"brk\":\"0x%" PRIx64 "\",\"start_brk\":\"0x%" PRIx64 "\",\"comm\":",
		(int)p->pid, p->is_32bit ? 32 : 64, p->brk, p->start_brk);
	json_str(c->out, p->comm);
	fputs(",\"exe\":", c->out);
	json_str(c->out, p->exe ? p->exe : "");
	fprintf(c->out, ",\"scale\":[%g,%g,%g],\"colors\":{", H_MIN, H_STEP, H_MAX);
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		ml__kind_css(k, fill);
		fprintf(c->out, "%s\"%s\":\"%s\"", k ? "," : "", ml_kind_name(k), fill);
	}
	fputs("},\"regions\":[\n", c->out);
	for (size_t i = 0; i < s->nregions; i++)
		region_json(c, &s->regions[i], i > 0);
	fputs("],\"bands\":[", c->out);
	for (size_t i = 0; i < c->l->n; i++)
		fprintf(c->out, "%s[%zu,%zu]", i ? "," : "", c->l->b[i].first, c->l->b[i].n);
	fputs("]}</script>\n", c->out);
}

/* The page's script: details of the band clicked (textContent only, never
 * markup), zoom into a band (its regions and the gaps between them drawn
 * again with the same height rule); #zoom=LO-HI in the URL zooms, #sel=ADDR
 * selects the band holding ADDR. */
static const char page_js[] =
"<script>\n"
"'use strict';\n"
"const D=JSON.parse(document.getElementById('ml-data').textContent);\n"
"const NS='http://www.w3.org/2000/svg',full=document.getElementById('ml-svg');\n"
"const det=document.getElementById('ml-details'),zv=document.getElementById('ml-zoom');\n"
"function H(z){if(z<=0)return D.scale[0];let h=D.scale[0]+D.scale[1]*(Math.log2(z)-12);\n"
" h=Math.min(D.scale[2],Math.max(D.scale[0],h));return Math.round(h*10)/10;}\n"
"function hs(z){const u=['B','K','M','G','T','P','E'];let i=0;while(z>=1024&&i<6){z/=1024;i++;}\n"
" return (i&&z<10?z.toFixed(1):Math.round(z))+u[i];}\n"
"function el(t,a,txt){const e=document.createElementNS(NS,t);for(const k in a)e.setAttribute(k,a[k]);\n"
" if(txt!==undefined)e.textContent=txt;return e;}\n"
"function row(k,v){const tr=document.createElement('tr'),a=document.createElement('th'),\n"
" b=document.createElement('td');a.textContent=k;b.textContent=v;tr.append(a,b);det.append(tr);}\n"
"function show(rs,lo,hi,n){det.textContent='';\n"
" row('range',lo+' - '+hi);if(n>1){row('regions',n);}\n"
" for(const r of rs.slice(0,n>1?0:1)){row('size',hs(r.z)+' ('+r.z+' bytes)');row('kind',r.k);\n"
"  row('perms',r.p);row('object',r.o);row('name',r.n);\n"
"  row('sections',r.sec.map(s=>s[0]+' '+s[1]+'-'+s[2]).join(', '));\n"
"  if('rss' in r){row('RSS',hs(r.rss));row('PSS',hs(r.pss));}if(r.tid)row('TID',r.tid);}}\n"
"function select(g){for(const o of document.querySelectorAll('.band.sel'))o.classList.remove('sel');\n"
" g.classList.add('sel');const i=+g.dataset.i,s=g.dataset.start,e=g.dataset.end;\n"
" if(g.dataset.type==='region'||g.dataset.type==='group'){const ri=+g.dataset.first;\n"
"  show(D.regions.slice(ri,ri+ +g.dataset.count),s,e,+g.dataset.count);}\n"
" else{det.textContent='';row('range',s+' - '+e);row('what',g.querySelector('title').textContent);}}\n"
"function zoom(lo,hi){lo=BigInt(lo);hi=BigInt(hi);const rs=[];\n"
" for(let i=0;i<D.regions.length;i++){const r=D.regions[i];\n"
"  if(BigInt(r.e)>lo&&BigInt(r.s)<hi)rs.push(i);}\n"
" const MAX=5000,keep=rs.slice(-MAX).reverse();zv.textContent='';let y=8,above=null;\n"
" const svg=el('svg',{id:'ml-zoom-svg',width:980});\n"
" const bar=(t,k,s,e,z,fill,words,ri)=>{const h=H(z),g=el('g',{class:'band','data-type':t,\n"
"  'data-kind':k,'data-start':s,'data-end':e,'data-count':ri<0?0:1,'data-first':ri});\n"
"  g.append(el('title',{},words+'\\n'+s+'-'+e),el('rect',{x:170,y:y,width:420,height:h,fill:fill}),\n"
"  el('text',{class:'a',x:164,y:y+h},s),el('text',{class:'w',x:176,y:y+h/2+4},words));\n"
"  g.addEventListener('click',()=>select(g));svg.append(g);y+=h+1;};\n"
" for(const i of keep){const r=D.regions[i];\n"
"  if(above!==null&&BigInt(r.e)<above){const z=Number(above-BigInt(r.e));\n"
"   bar('gap','',r.e,'0x'+above.toString(16),z,'url(#ml-gap)','unmapped '+hs(z),-1);}\n"
"  bar('region',r.k,r.s,r.e,r.z,D.colors[r.k],r.k+' '+hs(r.z)+' '+r.p+' '+(r.o||r.n)+(r.tid?' tid '+r.tid:''),i);\n"
"  above=BigInt(r.s);}\n"
" svg.setAttribute('height',y+8);svg.setAttribute('data-regions',rs.length);\n"
" const note=document.createElement('p');note.id='ml-zoom-note';\n"
" note.textContent='Zoomed into 0x'+lo.toString(16)+' - 0x'+hi.toString(16)+': '+rs.length+\n"
"  ' regions'+(rs.length>MAX?' (the top '+MAX+' drawn: zoom into a smaller band)':'')+'. ';\n"
" const back=document.createElement('button');back.textContent='back to the whole address space';\n"
" back.onclick=()=>{zv.textContent='';full.style.display='';history.replaceState(null,'','#');};\n"
" note.append(back);zv.append(note,svg);full.style.display='none';}\n"
"for(const g of full.querySelectorAll('.band')){const b=D.bands[+g.dataset.i];g.dataset.first=b[0];\n"
" g.addEventListener('click',()=>select(g));\n"
" g.addEventListener('dblclick',()=>{if(b[1])zoom(g.dataset.start,g.dataset.end);});}\n"
"const m=/#zoom=(0x[0-9a-f]+)-(0x[0-9a-f]+)/.exec(location.hash);if(m)zoom(m[1],m[2]);\n"
"const ms=/#sel=(0x[0-9a-f]+)/.exec(location.hash);if(ms){const a=BigInt(ms[1]);\n"
" for(const g of full.querySelectorAll('.band'))if(BigInt(g.dataset.start)<=a&&\n"
"  (a<BigInt(g.dataset.end)||g.dataset.end==='0x0'))select(g);}\n"
"document.body.dataset.ready='1';document.body.dataset.readyMs=Math.round(performance.now());\n"
"</script>\n";

static void html_head(const struct hctx *c)
{
	const struct ml_proc *p = &c->snap->proc;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>memlayout: ", c->out);
	ml__html_escaped(c->out, p->comm, ML__ESC_XML);
	fprintf(c->out, " (%d)</title>\n<style>body{font:14px sans-serif;margin:12px}"
		"#ml-side{position:fixed;right:12px;top:12px;width:380px;background:#fff;"
		"border:1px solid #ccc;padding:6px;max-height:90vh;overflow:auto}"
		"#ml-side:has(table:empty){display:none}#ml-details th{text-align:left;vertical-align:top;padding-right:8px}"
		"#ml-details td{word-break:break-all;font-family:monospace}"
		"</style></head>\n<body>\n<h1 id=\"ml-title\">PID %d (", (int)p->pid, (int)p->pid);
	ml__html_escaped(c->out, p->comm, ML__ESC_XML);
	fputs(") ", c->out);
	ml__html_escaped(c->out, p->exe ? p->exe : "?", ML__ESC_XML);
	fprintf(c->out, ", %d-bit</h1>\n<p>Click a band for its details, double-click to zoom "
		"into it. Heights grow with log2 of the size: gaps are not to scale, their size "
		"is written on them.</p>\n<div id=\"ml-side\"><table id=\"ml-details\"></table>"
		"</div>\n<div id=\"ml-zoom\"></div>\n", p->is_32bit ? 32 : 64);
}

/* The picture alone (page false: an SVG document) or in its page. */
static int render(const struct ml_snapshot *snap, FILE *out,
		  const struct ml_diagram_opts *opts, bool page)
{
	struct layout l = { 0 };
	struct hctx c = { snap, opts, out, &l };
	int r;

	if ((r = build_layout(snap, &l)) == 0) {
		if (page)
			html_head(&c);
		else
			fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
		write_svg(&c, !page);
		if (page) {
			data_json(&c);
			fputs(page_js, out);
			fputs("</body></html>\n", out);
		}
	}
	free(l.b);
	return r ? r : ferror(out) ? -EIO : 0;
}

int ml_render_svg(const struct ml_snapshot *snap, FILE *out,
		  const struct ml_diagram_opts *opts)
{
	return render(snap, out, opts, false);
}

int ml_render_html(const struct ml_snapshot *snap, FILE *out,
		   const struct ml_diagram_opts *opts)
{
	return render(snap, out, opts, true);
}
