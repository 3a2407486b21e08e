/* SPDX-License-Identifier: MIT */
/*
 * render-diagram.c - the address space drawn top-down, as in the figures of
 * the process memory model: the kernel half at the top, then user space
 * from its top down to the NULL guard zone at address 0.
 *
 * One line per region, with its start address, kind, size, permissions and
 * object; every gap between regions is one line labelled with its size (not
 * drawn to scale).  Under the main stack, the reach it may still grow to
 * (RLIMIT_STACK); at the heap, the brk.  Marks (--mark, the demo's
 * addresses, the stack pointers) are pointed at with "<-".  Runs of more
 * than ML_RUN_FOLD regions of the same kind and object with nothing but
 * gaps between them fold into one line, so 20,000 mappings stay readable.
 * Objects are named by their shortest unambiguous names (labels.c).
 *
 * With a width (a terminal's), every line fits it: a region's sections
 * are cut to what the line has room for ("+N" more), each pointer ("<-")
 * that does not fit goes on a line of its own under the kind, and the
 * rest (long notes, names) is folded by ml_fold_stream with the bar kept,
 * under the notes.
 */
#include "ml-out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ML_RUN_FOLD 8
/* Where a band's note starts after the address ("| kind size" and the
 * room of the permissions). */
#define NOTE_COL (2 + 12 + 1 + 7 + 7)

struct dctx {
	const struct ml_snapshot *snap;
	const struct ml_diagram_opts *o;
	FILE *out;
	int aw;                 /* address width */
	bool color;
	unsigned int width;     /* 0: lines as long as they are */
	const char **labels;    /* per region, its object's short name */
	int col;                /* columns written on the current line */
};

/* Text on the current line, its columns counted. */
static void say(struct dctx *d, const char *s)
{
	fputs(s, d->out);
	d->col += (int)ml__text_width(s, strlen(s));
}

/* An item after the first part of a line ("  <- sp of 42"): where it does
 * not fit the width, on a new line led by the bar, under the kind. */
static void item(struct dctx *d, char bar, const char *s)
{
	int w = (int)ml__text_width(s, strlen(s)), lead = d->aw + 5;

	if (d->width && d->col > lead && d->col + 2 + w > (int)d->width) {
		fprintf(d->out, "\n%*s%c ", d->aw + 3, "", bar);
		d->col = lead;
	}
	fputs("  ", d->out);
	say(d, s);
}

/* item() of a formatted text (dropped on ENOMEM). */
static void itemf(struct dctx *d, char bar, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void itemf(struct dctx *d, char bar, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		item(d, bar, s);
	free(s);
}

static void endline(struct dctx *d)
{
	fputc('\n', d->out);
	d->col = 0;
}

static void addr(struct dctx *d, uint64_t a)
{
	fprintf(d->out, "0x%0*" PRIx64 " ", d->aw, a);
	d->col = d->aw + 3;
}

static void noaddr(struct dctx *d)
{
	fprintf(d->out, "%*s ", d->aw + 2, "");
	d->col = d->aw + 3;
}

/* Room for a size: "1023.9M", or up to 20 digits with -b. */
static int size_width(const struct dctx *d)
{
	return (d->o->flags & ML_OUT_BYTES) ? 20 : 7;
}

/* Print the marks in [lo, hi) after a line: "<- label 0xADDR (.section)". */
static void marks_in(struct dctx *d, char bar, const struct ml_region *r,
		     uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < d->o->nmarks; i++) {
		const struct ml_mark *m = &d->o->marks[i];
		const struct ml_section *sec = r ? ml_region_section(r, m->addr) : NULL;
		if (m->addr >= lo && m->addr < hi) {
			char *e = ml_escape(m->label ? m->label : "", ML_ESC_TERM);
			char *se = sec ? ml_escape(sec->name, ML_ESC_TERM) : NULL;
			itemf(d, bar, "<- %s 0x%" PRIx64 "%s%s%s", e ? e : "", m->addr,
			      se ? " (" : "", se ? se : "", se ? ")" : "");
			free(e);
			free(se);
		}
	}
}

static void sp_marks(struct dctx *d, uint64_t lo, uint64_t hi)
{
	const struct ml_snapshot *s = d->snap;

	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].sp_known && s->threads[i].sp >= lo && s->threads[i].sp < hi)
			itemf(d, '|', "<- sp of %d", (int)s->threads[i].tid);
}

static void band(struct dctx *d, uint64_t at, const char *bar,
		 const char *label, uint64_t size, const char *note)
{
	char sz[ML_CELL_BUF];

	if (at == UINT64_MAX)
		noaddr(d);
	else
		addr(d, at);
	d->col += fprintf(d->out, "%s %-12s %*s       ", bar, label, size_width(d),
			  size ? ml_fmt_size(sz, size, d->o->flags) : "");
	say(d, note);
}

static void gap_line(struct dctx *d, uint64_t lo, uint64_t hi)
{
	const struct ml_proc *p = &d->snap->proc;
	char note[160] = "unmapped";

	if (lo < p->brk && p->brk < hi && p->brk != p->start_brk)
		snprintf(note, sizeof(note), "unmapped (brk 0x%" PRIx64 ")", p->brk);
	band(d, UINT64_MAX, ":", "", hi - lo, note);
	marks_in(d, ':', NULL, lo, hi);
	endline(d);
}

/* The sections of r that fit the line (all with no width; at most 6),
 * then "+N" for the rest. */
static void sections(struct dctx *d, const struct ml_region *r)
{
	size_t i = 0, n = r->nsections;

	for (; i < n && i < 6; i++) {
		char *s = ml_escape(r->sections[i].name, ML_ESC_TERM);
		int w = s ? (int)ml__text_width(s, strlen(s)) : 0;
		int more = i + 1 < n ? 4 : 0;      /* room kept for " +N" */
		if (d->width && d->col + (i ? 1 : 2) + w + more > (int)d->width) {
			free(s);
			break;
		}
		say(d, i ? " " : "  ");
		say(d, s ? s : "");
		free(s);
	}
	if (i < n)
		d->col += fprintf(d->out, "%s+%zu", i ? " " : "  ", n - i);
}

static void region_line(struct dctx *d, const struct ml_region *r,
			size_t nfold, uint64_t fold_lo)
{
	char sz[ML_CELL_BUF], perms[5];
	const char *color = d->color ? ml__kind_color(r->kind) : NULL;
	uint64_t lo = nfold ? fold_lo : r->start;

	ml_perms_str(r->perms, perms);
	addr(d, lo);
	if (color)
		fprintf(d->out, "\033[%sm", color);
	d->col += fprintf(d->out, "| %-12s %*s %s", ml_kind_name(r->kind), size_width(d),
			  ml_fmt_size(sz, r->end - lo, d->o->flags), perms);
	if (color)
		fputs("\033[0m", d->out);
	const char *obj = d->labels && d->labels[r - d->snap->regions] ?
			  d->labels[r - d->snap->regions] : r->object ? r->object : r->name;
	char *e = ml_escape(obj, ML_ESC_TERM);
	say(d, " ");
	say(d, e ? e : "");
	free(e);
	if (nfold)
		d->col += fprintf(d->out, " (%zu regions)", nfold);
	if (r->tid && r->kind != ML_KIND_STACK)
		d->col += fprintf(d->out, " tid %d", (int)r->tid);
	if (!nfold)
		sections(d, r);
	if (r->kind == ML_KIND_HEAP && !strcmp(r->name, "[heap]"))
		itemf(d, '|', "brk 0x%" PRIx64, d->snap->proc.brk);
	else if (ml_region_allocator(r))
		itemf(d, '|', "%s", ml_region_allocator(r));
	sp_marks(d, lo, r->end);
	marks_in(d, '|', nfold ? NULL : r, lo, r->end);
	endline(d);
}

/* How many regions from index i (going down) fold with region i. */
static size_t fold_run(const struct ml_snapshot *s, size_t i)
{
	const struct ml_region *a = &s->regions[i];
	size_t n = 1;

	while (n <= i) {
		const struct ml_region *b = &s->regions[i - n];
		if (b->kind != a->kind || b->perms != a->perms ||
		    (a->object != b->object && (!a->object || !b->object ||
		     strcmp(a->object, b->object))) || b->tid || a->tid)
			break;
		n++;
	}
	return n;
}

static void stack_reach(struct dctx *d, const struct ml_region *stk, uint64_t below)
{
	const struct ml_proc *p = &d->snap->proc;
	char note[200], lim[ML_CELL_BUF];

	if (p->stack_rlimit == UINT64_MAX) {
		snprintf(note, sizeof(note), "stack may grow into this gap (RLIMIT_STACK unlimited)");
	} else {
		uint64_t low = stk->end > p->stack_rlimit ? stk->end - p->stack_rlimit : 0;
		snprintf(note, sizeof(note), "stack may grow down to 0x%" PRIx64 " (RLIMIT_STACK %s)%s",
			 low, ml_fmt_size(lim, p->stack_rlimit, d->o->flags),
			 low < below ? ", but a mapping is in the way" : "");
	}
	band(d, UINT64_MAX, ":", "", 0, note);
	endline(d);
}

/* The kernel half with what user code can see of it (the vsyscall page),
 * and the hole above user space.  Returns how many regions (from the top)
 * lie above user space and were drawn here. */
static size_t top_part(struct dctx *d)
{
	const struct ml_snapshot *s = d->snap;
	const struct ml_proc *p = &s->proc;
	size_t n = 0;
	char note[160];

	if (p->is_32bit) {
		band(d, UINT64_MAX, "#", "kernel", 0,
		     "not in this 32-bit address space: the 64-bit kernel lies above 4 GiB");
		endline(d);
	} else {
		for (size_t i = s->nregions; i-- > 0 && s->regions[i].start >= p->user_top;)
			n++;
		for (size_t i = s->nregions; i-- > s->nregions - n;)
			region_line(d, &s->regions[i], 0, 0);
		snprintf(note, sizeof(note), "kernel half: off limits to user code (%u-level paging)",
			 p->paging_levels);
		band(d, p->kernel_start, "#", "kernel", 0 - p->kernel_start, note);
		marks_in(d, '#', NULL, p->kernel_start, UINT64_MAX);
		endline(d);
		band(d, UINT64_MAX, ":", "", p->kernel_start - p->user_top,
		     "non-canonical hole: no address here is valid");
		marks_in(d, ':', NULL, p->user_top, p->kernel_start);
		endline(d);
	}
	band(d, p->user_top, "-", "", 0, "top of user space");
	endline(d);
	return n;
}

static void bottom_part(struct dctx *d, uint64_t lowest)
{
	const struct ml_proc *p = &d->snap->proc;
	char note[160];

	if (lowest > p->mmap_min_addr)
		gap_line(d, p->mmap_min_addr, lowest);
	if (p->mmap_min_addr) {
		snprintf(note, sizeof(note), "NULL guard zone: nothing may map below vm.mmap_min_addr");
		band(d, 0, "#", "null-zone", p->mmap_min_addr, note);
	} else {
		band(d, 0, "#", "null-zone", 0, "vm.mmap_min_addr is 0 (or unknown): page 0 can be mapped");
	}
	marks_in(d, '#', NULL, 0, p->mmap_min_addr);
	endline(d);
}

/* Regions above user space (the vsyscall page), drawn in the top part. */
static size_t count_kernel(const struct ml_snapshot *s)
{
	size_t n = 0;

	if (s->proc.is_32bit)
		return 0;
	for (size_t i = s->nregions; i-- > 0 && s->regions[i].start >= s->proc.user_top;)
		n++;
	return n;
}

/* The slice of user regions [*lo, *hi] to draw: all, or `context` either
 * side of the region at (or the first above) `around`. */
static void slice(const struct ml_snapshot *s, const struct ml_diagram_opts *o,
		  size_t nuser, size_t *lo, size_t *hi)
{
	size_t k = 0;

	*lo = 0;
	*hi = nuser ? nuser - 1 : 0;
	if (!o->context || !nuser)
		return;
	while (k < nuser && s->regions[k].end <= o->around)
		k++;
	if (k == nuser)
		k = nuser - 1;
	*lo = k > o->context ? k - o->context : 0;
	*hi = k + o->context < nuser ? k + o->context : nuser - 1;
}

static void elided(struct dctx *d)
{
	band(d, UINT64_MAX, ".", "...", 0, "");
	endline(d);
}

int ml_render_diagram(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_diagram_opts *opts)
{
	struct dctx d = { snap, opts, out, snap->proc.is_32bit ? 8 : 16,
			  !!(opts->flags & ML_OUT_COLOR), opts->width, NULL, 0 };
	uint64_t above;
	size_t nkernel = count_kernel(snap), lo, hi;
	int r;

	if ((r = ml__object_labels(snap, &d.labels)) < 0)
		return r;
	/* On a terminal: what the items leave too long folded, the bar kept. */
	if (d.width && !(d.out = ml_fold_stream(out, d.width, (unsigned int)d.aw + 3 +
						 NOTE_COL, "|:#"))) {
		free(d.labels);
		return -ENOMEM;
	}

	slice(snap, opts, snap->nregions - nkernel, &lo, &hi);
	if (hi + 1 + nkernel >= snap->nregions) {
		top_part(&d);
		above = snap->proc.user_top;
	} else {
		elided(&d);
		above = snap->regions[hi].end;
	}
	for (size_t i = nkernel < snap->nregions ? hi + 1 : 0; i-- > lo;) {
		const struct ml_region *r = &snap->regions[i];
		size_t n = fold_run(snap, i);

		if (n > i - lo + 1)
			n = i - lo + 1;
		if (r->end < above)
			gap_line(&d, r->end, above);
		if (n > ML_RUN_FOLD) {
			region_line(&d, r, n, snap->regions[i - n + 1].start);
			i -= n - 1;
			r = &snap->regions[i];
		} else {
			region_line(&d, r, 0, 0);
		}
		if (r->kind == ML_KIND_STACK)
			stack_reach(&d, r, i ? snap->regions[i - 1].end : 0);
		above = r->start;
	}
	if (lo == 0)
		bottom_part(&d, above);
	else
		elided(&d);
	free(d.labels);
	if (d.out != out && fclose(d.out))
		return -EIO;
	return ferror(out) ? -EIO : 0;
}
