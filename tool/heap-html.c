/* SPDX-License-Identifier: MIT */
/*
 * heap-html.c - `memlayout heap --html`: the figures of heap-model.c as
 * one self-contained HTML page: the totals (live, committed, reserved,
 * fragmentation as a bar), the heap's map (one row per segment or large
 * block in address order, one cell per page coloured by what the page is:
 * metadata, span, free dirty, free clean, live or cached large, "+" more)
 * and the size classes (per class a bar of its live bytes beside the free
 * room in its spans, to one scale).  No script, nothing loaded (CSP
 * default-src 'none'); every figure is also a number in a tooltip.
 * Nothing here comes from the target as text but the process's name,
 * escaped (the map cells are our own characters, checked against the
 * table).
 */
#include "heap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CELL 12                 /* px of one map cell */
#define BAR_W 600               /* px of the longest class bar */

/* What a map cell is (heap-model.c's characters) and its colour. */
static const struct { char c; const char *what, *fill; } cells[] = {
	{ 'M', "metadata",   "#8250df" },
	{ '#', "in use (span or live block)", "#cf222e" },
	{ ':', "free, dirty (not given back)", "#f5c26b" },
	{ '.', "free, clean", "#d8f0d8" },
	{ '+', "more pages than cells", "#888888" },
};

static const char *cell_fill(char c, const char **what)
{
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
		if (cells[i].c == c)
			return *what = cells[i].what, cells[i].fill;
	return *what = "?", "#ffffff";
}

const char *cli_heap_html_size(const struct cli_heap_out *o, uint64_t v, char *buf, size_t len)
{
	if (o->flags & ML_OUT_BYTES)
		snprintf(buf, len, "%" PRIu64, v);
	else
		ml_size_human(v, buf, len);
	return buf;
}

static void totals(FILE *out, const struct ml_heap *h, const struct cli_heap_out *o)
{
	char a[32], b[32], c[32], d[32];
	double f = h->fragmentation < 0 ? 0 : h->fragmentation > 1 ? 1 : h->fragmentation;

	fprintf(out, "<table id=\"ml-totals\"><tr><th>live</th><td>%s in %" PRIu64 " small and %"
		PRIu64 " large blocks</td></tr><tr><th>committed</th><td>%s</td></tr><tr><th>"
		"reserved</th><td>%s</td></tr><tr><th>largest free run</th><td>%s</td></tr>"
		"<tr><th>fragmentation</th><td>%.1f%% (1 - live / committed)</td></tr></table>\n",
		cli_heap_html_size(o, h->live_small + h->live_large, a, sizeof(a)), h->live_small_blocks,
		h->live_large_blocks, cli_heap_html_size(o, h->committed, b, sizeof(b)),
		cli_heap_html_size(o, h->reserved, c, sizeof(c)), cli_heap_html_size(o, h->largest_run, d, sizeof(d)), f * 100);
	fprintf(out, "<svg id=\"ml-frag\" width=\"%d\" height=\"22\" data-fragmentation=\"%.4f\">"
		"<rect width=\"%d\" height=\"20\" fill=\"#cf222e\"><title>live</title></rect>"
		"<rect x=\"%.1f\" width=\"%.1f\" height=\"20\" fill=\"#f5c26b\"><title>committed, "
		"not live</title></rect></svg>\n", BAR_W, f, BAR_W, BAR_W * (1 - f), BAR_W * f);
}

static void map_rows(FILE *out, const struct ml_heap *h, const struct cli_heap_out *o)
{
	char a[32], b[32];
	int y = 0;

	fprintf(out, "<h2>Map: one cell per page</h2>\n<p>");
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
		fprintf(out, "<span style=\"background:%s\">&#160;%c&#160;</span> %s &#160; ",
			cells[i].fill, cells[i].c, cells[i].what);
	fprintf(out, "</p>\n<svg id=\"ml-map\" width=\"%d\" height=\"%zu\">\n",
		200 + ML_HEAP_MAP_CELLS * CELL + 320, h->nregions * (CELL + 6) + 4);
	for (size_t i = 0; i < h->nregions; i++, y += CELL + 6) {
		const struct ml_heap_region *r = &h->regions[i];
		fprintf(out, "<g class=\"hregion\" data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64
			"\" data-type=\"%s\" data-cells=\"%zu\"><title>0x%" PRIx64 "-0x%" PRIx64 " %s %s "
			"%s, used %s, free %s", r->start, r->end, r->type == ML_HEAP_SEGMENT ? "segment" :
			"large", strlen(r->map), r->start, r->end, r->type == ML_HEAP_SEGMENT ?
			"segment" : "large block", r->from, r->state, cli_heap_html_size(o, r->used, a, sizeof(a)),
			cli_heap_html_size(o, r->free, b, sizeof(b)));
		if (r->tid)
			fprintf(out, ", thread %" PRIu64, r->tid);
		fprintf(out, "</title><text x=\"0\" y=\"%d\" class=\"a\">0x%012" PRIx64 "</text>\n",
			y + CELL, r->start);
		for (size_t c = 0; c < ML_HEAP_MAP_CELLS && r->map[c]; c++) {
			const char *what, *fill = cell_fill(r->map[c], &what);
			fprintf(out, "<rect class=\"cell\" data-c=\"%c\" x=\"%zu\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" fill=\"%s\"/>", r->map[c] == '"' ? '?' : r->map[c],
				130 + c * CELL, y + 2, CELL - 1, CELL, fill);
		}
		fprintf(out, "\n<text x=\"%d\" y=\"%d\">%s %s %s</text></g>\n",
			140 + ML_HEAP_MAP_CELLS * CELL, y + CELL, r->type == ML_HEAP_SEGMENT ?
			"segment" : "large", r->from, r->state);
	}
	fputs("</svg>\n", out);
}

static void class_bars(FILE *out, const struct ml_heap *h, const struct cli_heap_out *o)
{
	uint64_t top = 1;
	char a[32], b[32];

	for (size_t i = 0; i < h->nclasses; i++) {
		uint64_t live = h->classes[i].live * h->classes[i].size;
		uint64_t fr = h->classes[i].free * h->classes[i].size;
		if (live + fr > top)
			top = live + fr;
	}
	fprintf(out, "<h2>Size classes: live (red) and free room in their spans (green)</h2>\n"
		"<svg id=\"ml-classes\" width=\"%d\" height=\"%zu\" data-top=\"%" PRIu64 "\">\n",
		BAR_W + 400, h->nclasses * 20 + 4, top);
	for (size_t i = 0; i < h->nclasses; i++) {
		const struct ml_heap_class *c = &h->classes[i];
		double lw = (double)(c->live * c->size) / (double)top * BAR_W;
		double fw = (double)(c->free * c->size) / (double)top * BAR_W;
		int y = (int)i * 20;
		fprintf(out, "<g class=\"hclass\" data-size=\"%" PRIu64 "\" data-live=\"%" PRIu64 "\" "
			"data-free=\"%" PRIu64 "\"><title>class %u: %" PRIu64 "-byte blocks, %" PRIu64
			" live (%s), %" PRIu64 " free (%s)</title><text x=\"0\" y=\"%d\" class=\"a\">%"
			PRIu64 " B</text><rect class=\"live\" x=\"90\" y=\"%d\" width=\"%.1f\" height=\"16\" "
			"fill=\"#cf222e\"/><rect class=\"free\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			"height=\"16\" fill=\"#2da44e\"/><text x=\"%.1f\" y=\"%d\">%" PRIu64 " live, %"
			PRIu64 " free</text></g>\n", c->size, c->live, c->free, c->cls, c->size, c->live,
			cli_heap_html_size(o, c->live * c->size, a, sizeof(a)), c->free,
			cli_heap_html_size(o, c->free * c->size, b, sizeof(b)), y + 14, c->size, y + 2, lw, 90 + lw,
			y + 2, fw, 96 + lw + fw, y + 14, c->live, c->free);
	}
	fputs("</svg>\n", out);
}

/* The page's head, up to and including its <h1> naming the allocator
 * and the process (its name escaped: ASCII, references for the rest);
 * shared with heap-glibc-html.c. */
void cli_heap_html_head(FILE *out, const struct ml_snapshot *snap, const char *allocator)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	char *comm = ml_escape(p->comm, ML_ESC_TERM);

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>memlayout heap</title>\n<style>"
	      "body{font:14px sans-serif;margin:12px}th{text-align:left;padding-right:10px}"
	      "h2{font-size:15px}text{font:12px sans-serif}text.a{font:11px monospace}"
	      "</style></head>\n<body>\n<h1 id=\"ml-title\">The ", out);
	fprintf(out, "%s heap of PID %d (", allocator, (int)p->pid);
	for (const char *s = comm ? comm : "?"; *s; s++)
		if (strchr("<>&\"'", *s) || (unsigned char)*s >= 0x7f)
			fprintf(out, "&#%u;", (unsigned char)*s);
		else
			fputc(*s, out);
	free(comm);
	fputs(")</h1>\n", out);
}

int cli_heap_render_html(const struct ml_snapshot *snap, const struct ml_heap *h,
			FILE *out, const struct cli_heap_out *o)
{
	cli_heap_html_head(out, snap, "mlalloc");
	totals(out, h, o);
	map_rows(out, h, o);
	class_bars(out, h, o);
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}
