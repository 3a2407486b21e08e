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
 */
#include "ml-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ML_RUN_FOLD 8

struct dctx {
	const struct ml_snapshot *snap;
	const struct ml_diagram_opts *o;
	FILE *out;
	int aw;                 /* address width */
	bool color;
};

static void addr(const struct dctx *d, uint64_t a)
{
	fprintf(d->out, "0x%0*" PRIx64 " ", d->aw, a);
}

static void noaddr(const struct dctx *d)
{
	fprintf(d->out, "%*s ", d->aw + 2, "");
}

static const char *size_str(const struct dctx *d, uint64_t v, char *buf, size_t len)
{
	if (d->o->flags & ML_OUT_BYTES)
		snprintf(buf, len, "%" PRIu64, v);
	else
		ml_size_human(v, buf, len);
	return buf;
}

/* Room for a size: "1023.9M", or up to 20 digits with -b. */
static int size_width(const struct dctx *d)
{
	return (d->o->flags & ML_OUT_BYTES) ? 20 : 7;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s && s[1] ? s + 1 : p;
}

/* Print the marks in [lo, hi) after a line: "<- label 0xADDR (.section)". */
static void marks_in(const struct dctx *d, const struct ml_region *r,
		     uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < d->o->nmarks; i++) {
		const struct ml_mark *m = &d->o->marks[i];
		const struct ml_section *sec = r ? ml_region_section(r, m->addr) : NULL;
		if (m->addr >= lo && m->addr < hi) {
			char *e = ml_escape(m->label ? m->label : "", ML_ESC_TERM);
			char *se = sec ? ml_escape(sec->name, ML_ESC_TERM) : NULL;
			fprintf(d->out, "  <- %s 0x%" PRIx64 "%s%s%s", e ? e : "", m->addr,
				se ? " (" : "", se ? se : "", se ? ")" : "");
			free(e);
			free(se);
		}
	}
}

static void sp_marks(const struct dctx *d, uint64_t lo, uint64_t hi)
{
	const struct ml_snapshot *s = d->snap;

	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].sp_known && s->threads[i].sp >= lo && s->threads[i].sp < hi)
			fprintf(d->out, "  <- sp of %d", (int)s->threads[i].tid);
}

static void band(const struct dctx *d, uint64_t at, const char *bar,
		 const char *label, uint64_t size, const char *note)
{
	char sz[32];

	if (at == UINT64_MAX)
		noaddr(d);
	else
		addr(d, at);
	fprintf(d->out, "%s %-12s %*s       %s", bar, label, size_width(d),
		size ? size_str(d, size, sz, sizeof(sz)) : "", note);
}

static void gap_line(const struct dctx *d, uint64_t lo, uint64_t hi)
{
	const struct ml_proc *p = &d->snap->proc;
	char note[160] = "unmapped";

	if (lo < p->brk && p->brk < hi && p->brk != p->start_brk)
		snprintf(note, sizeof(note), "unmapped (brk 0x%" PRIx64 ")", p->brk);
	band(d, UINT64_MAX, ":", "", hi - lo, note);
	marks_in(d, NULL, lo, hi);
	fputc('\n', d->out);
}

static void region_line(const struct dctx *d, const struct ml_region *r,
			size_t nfold, uint64_t fold_lo)
{
	char sz[32], perms[5];
	const char *color = d->color ? ml__kind_color(r->kind) : NULL;
	uint64_t lo = nfold ? fold_lo : r->start;

	ml_perms_str(r->perms, perms);
	addr(d, lo);
	if (color)
		fprintf(d->out, "\033[%sm", color);
	fprintf(d->out, "| %-12s %*s %s", ml_kind_name(r->kind), size_width(d),
		size_str(d, r->end - lo, sz, sizeof(sz)), perms);
	if (color)
		fputs("\033[0m", d->out);
	const char *obj = r->object ? r->object : r->name;
	char *e = ml_escape(obj[0] == '/' ? base_name(obj) : obj, ML_ESC_TERM);
	fprintf(d->out, " %s", e ? e : "");
	free(e);
	if (nfold)
		fprintf(d->out, " (%zu regions)", nfold);
	if (r->tid && r->kind != ML_KIND_STACK)
		fprintf(d->out, " tid %d", (int)r->tid);
	for (size_t i = 0; i < r->nsections && i < 6 && !nfold; i++) {
		char *s = ml_escape(r->sections[i].name, ML_ESC_TERM);
		fprintf(d->out, "%s%s", i ? " " : "  ", s ? s : "");
		free(s);
	}
	if (r->nsections > 6 && !nfold)
		fprintf(d->out, " +%zu", r->nsections - 6);
	if (r->kind == ML_KIND_HEAP && !strcmp(r->name, "[heap]"))
		fprintf(d->out, "  brk 0x%" PRIx64, d->snap->proc.brk);
	else if (ml_region_allocator(r))
		fprintf(d->out, "  %s", ml_region_allocator(r));
	sp_marks(d, lo, r->end);
	marks_in(d, nfold ? NULL : r, lo, r->end);
	fputc('\n', d->out);
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

static void stack_reach(const struct dctx *d, const struct ml_region *stk, uint64_t below)
{
	const struct ml_proc *p = &d->snap->proc;
	char note[200], lim[32];

	if (p->stack_rlimit == UINT64_MAX) {
		snprintf(note, sizeof(note), "stack may grow into this gap (RLIMIT_STACK unlimited)");
	} else {
		uint64_t low = stk->end > p->stack_rlimit ? stk->end - p->stack_rlimit : 0;
		snprintf(note, sizeof(note), "stack may grow down to 0x%" PRIx64 " (RLIMIT_STACK %s)%s",
			 low, size_str(d, p->stack_rlimit, lim, sizeof(lim)),
			 low < below ? ", but a mapping is in the way" : "");
	}
	band(d, UINT64_MAX, ":", "", 0, note);
	fputc('\n', d->out);
}

/* The kernel half with what user code can see of it (the vsyscall page),
 * and the hole above user space.  Returns how many regions (from the top)
 * lie above user space and were drawn here. */
static size_t top_part(const struct dctx *d)
{
	const struct ml_snapshot *s = d->snap;
	const struct ml_proc *p = &s->proc;
	size_t n = 0;
	char note[160];

	if (p->is_32bit) {
		band(d, UINT64_MAX, "#", "kernel", 0,
		     "not in this 32-bit address space: the 64-bit kernel lies above 4 GiB");
		fputc('\n', d->out);
	} else {
		for (size_t i = s->nregions; i-- > 0 && s->regions[i].start >= p->user_top;)
			n++;
		for (size_t i = s->nregions; i-- > s->nregions - n;)
			region_line(d, &s->regions[i], 0, 0);
		snprintf(note, sizeof(note), "kernel half: off limits to user code (%u-level paging)",
			 p->paging_levels);
		band(d, p->kernel_start, "#", "kernel", 0 - p->kernel_start, note);
		marks_in(d, NULL, p->kernel_start, UINT64_MAX);
		fputc('\n', d->out);
		band(d, UINT64_MAX, ":", "", p->kernel_start - p->user_top,
		     "non-canonical hole: no address here is valid");
		marks_in(d, NULL, p->user_top, p->kernel_start);
		fputc('\n', d->out);
	}
	band(d, p->user_top, "-", "", 0, "top of user space");
	fputc('\n', d->out);
	return n;
}

static void bottom_part(const struct dctx *d, uint64_t lowest)
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
	marks_in(d, NULL, 0, p->mmap_min_addr);
	fputc('\n', d->out);
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

static void elided(const struct dctx *d)
{
	band(d, UINT64_MAX, ".", "...", 0, "");
	fputc('\n', d->out);
}

int ml_render_diagram(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_diagram_opts *opts)
{
	struct dctx d = { snap, opts, out, snap->proc.is_32bit ? 8 : 16,
			  !!(opts->flags & ML_OUT_COLOR) };
	uint64_t above;
	size_t nkernel = count_kernel(snap), lo, hi;

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
	return ferror(out) ? -EIO : 0;
}
