/* SPDX-License-Identifier: MIT */
/*
 * render-heapcheck.c - the report of a heap bug mlalloc's checking mode
 * found (heapcheck.c), in the shape of the crash report: plain words
 * first (what happened to which block, allocated where), then the facts,
 * the allocation and free backtraces symbolized with function and
 * file:line (symbols.c), the backtrace of the thread at the stop, and the
 * slice of the diagram around the block with the block and the address
 * marked; the backtraces and the slice are the crash report's own
 * (ml__text_frames, ml__diagram_slice, ml__json_frames).  With ML_OUT_JSON the same facts as one JSON object (keys in
 * memlayout-run(1), schema doc/schema/memlayout-run-heap.schema.json).
 * Names from the target (paths, symbols, files) are escaped.
 */
#include "ml-crash.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Recorded return addresses as frames at the call (return address - 1),
 * symbolized; their strings are the symbolizer's, only read (the frames
 * are the crash report's shape, whose printers they share). */
static void symbolize(struct ml_symbolizer *sz, const uint64_t *pcs, size_t n, struct ml_frame *out)
{
	for (size_t i = 0; i < n; i++) {
		struct ml_symbol s;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].pc = pcs[i] ? pcs[i] - 1 : 0;
		if (!sz || ml_symbolize(sz, out[i].pc, ML_SYM_LINES, &s) < 0)
			continue;
		out[i].function = (char *)s.name;
		out[i].offset = s.offset;
		out[i].file = (char *)s.file;
		out[i].line = s.line;
		out[i].object = (char *)s.module;
	}
}

/* The first frame with a source line: the site named in the words. */
static const struct ml_frame *site(const struct ml_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].file)
			return &f[i];
	return n ? &f[0] : NULL;
}

static void text_site(FILE *out, const struct ml_frame *f)
{
	if (!f) {
		fputs("an unknown place", out);
		return;
	}
	if (f->file) {
		ml__put_escaped(out, ml__base_name(f->file));
		fprintf(out, ":%d", f->line);
	} else {
		fprintf(out, "0x%" PRIx64, f->pc);
	}
	if (f->function) {
		fputs(" (", out);
		ml__put_escaped(out, f->function);
		fputc(')', out);
	}
}

static void text_frames(FILE *out, const char *title, const struct ml_frame *f, size_t n)
{
	fprintf(out, "\n%s:\n", title);
	ml__text_frames(out, f, n, false);
	if (!n)
		fputs("  (none recorded)\n", out);
}

/* Where the address is relative to the block, in words. */
static void text_position(FILE *out, const struct ml_heapcheck *h)
{
	if (h->offset < 0)
		fprintf(out, "%" PRIu64 " bytes before", (uint64_t)-h->offset);
	else if ((uint64_t)h->offset >= h->size)
		fprintf(out, "%" PRIu64 " bytes after the end of", (uint64_t)h->offset - h->size);
	else
		fprintf(out, "at offset %" PRId64 " of", h->offset);
}

static const char *const what_text[] = {
	[ML_HEAPCHECK_USE_AFTER_FREE] = "of freed memory",
	[ML_HEAPCHECK_OVERFLOW] = "past the end of a heap block",
	[ML_HEAPCHECK_UNDERFLOW] = "before the start of a heap block",
	[ML_HEAPCHECK_DOUBLE_FREE] = "frees a block already freed",
	[ML_HEAPCHECK_INVALID_FREE] = "frees a pointer that is not the start of a block",
};

static void text_words(FILE *out, const struct ml_heapcheck *h, const struct ml_frame *a,
		       const struct ml_frame *fr)
{
	bool is_free = h->kind == ML_HEAPCHECK_DOUBLE_FREE || h->kind == ML_HEAPCHECK_INVALID_FREE;
	if (is_free)
		fprintf(out, "  The program %s: 0x%" PRIx64 ", ", what_text[h->kind], h->address);
	else
		fprintf(out, "  A %s %s: 0x%" PRIx64 " is ",
			h->access == ML_HEAPCHECK_ACCESS_FREE ? "write found on free"
							      : ml_heapcheck_access_name(h->access),
			what_text[h->kind], h->address);
	text_position(out, h);
	fprintf(out, " the %" PRIu64 "-byte block 0x%" PRIx64 " allocated at ", h->size, h->block);
	text_site(out, a);
	if (fr) {
		fputs(" and freed at ", out);
		text_site(out, fr);
	}
	fputs(".\n\n", out);
}

static int render_text(const struct ml_snapshot *snap, const struct ml_heapcheck *h,
		       const struct ml_frame *af, const struct ml_frame *ff,
		       const struct ml_backtrace *bt, FILE *out, unsigned int flags,
		       unsigned int width)
{
	const struct ml_proc *p = &snap->proc;
	const struct ml_region *r = ml_snapshot_find(snap, h->block ? h->block : h->address);
	char perms[5];

	fprintf(out, "memlayout: process %d (", (int)p->pid);
	ml__put_escaped(out, p->comm);
	fprintf(out, ") %s%s: %s\n", h->signo ? "died of SIG" : "",
		h->signo ? (sigabbrev_np(h->signo) ? sigabbrev_np(h->signo) : "?") : "", ml_heapcheck_kind_name(h->kind));
	text_words(out, h, site(af, h->n_alloc), h->n_free ? site(ff, h->n_free) : NULL);
	fprintf(out, "  kind         %s\n  access       %s\n  address      0x%" PRIx64 "\n",
		ml_heapcheck_kind_name(h->kind), ml_heapcheck_access_name(h->access), h->address);
	if (h->block)
		fprintf(out, "  block        0x%" PRIx64 ", %" PRIu64 " bytes, offset %" PRId64 "\n",
			h->block, h->size, h->offset);
	if (r) {
		ml_perms_str(r->perms, perms);
		fprintf(out, "  region       %s [0x%" PRIx64 ", 0x%" PRIx64 ") %s ",
			ml_kind_name(r->kind), r->start, r->end, perms);
		ml__put_escaped(out, r->object ? r->object : r->name);
		fputc('\n', out);
	}
	fprintf(out, "  thread       %d%s\n  process      %d ", (int)h->tid,
		h->tid == p->pid ? ", the main thread" : "", (int)p->pid);
	ml__put_escaped(out, p->exe ? p->exe : p->comm);
	fputc('\n', out);
	text_frames(out, "Allocated at", af, h->n_alloc);
	if (h->n_free)
		text_frames(out, "Freed at", ff, h->n_free);
	if (bt && bt->n) {
		fprintf(out, "\nBacktrace of thread %d at the stop:\n", (int)h->tid);
		ml__text_frames(out, bt->frames, bt->n, bt->truncated);
	}
	struct ml_mark marks[2] = { { h->block, "block" }, { h->address, "address" } };
	return ml__diagram_slice(out, snap, "block", h->block ? marks : marks + 1,
				 h->block ? 2 : 1, h->block ? h->block : h->address, flags, width);
}

/* ---- JSON ---- */

static int render_json(const struct ml_snapshot *snap, const struct ml_heapcheck *h,
		       const struct ml_frame *af, const struct ml_frame *ff,
		       const struct ml_backtrace *bt, FILE *out)
{
	struct ml_json *j;
	char sig[16] = "";
	int r;

	if ((r = ml_json_begin(out, &j)) < 0)
		return r;
	if (h->signo)
		snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(h->signo) ? sigabbrev_np(h->signo) : "?");
	ml_json_str(j, "kind", ml_heapcheck_kind_name(h->kind));
	ml_json_str(j, "access", ml_heapcheck_access_name(h->access));
	ml_json_hex(j, "address", h->address);
	ml_json_str(j, "signal", h->signo ? sig : NULL);
	if (ml__json_object_or_null(j, "block", h->block)) {
		ml_json_hex(j, "address", h->block);
		ml_json_u64(j, "size", h->size);
		ml_json_i64(j, "offset", h->offset);
		ml_json_close(j);
	}
	ml__json_frames(j, "alloc_backtrace", af, h->n_alloc, false);
	ml__json_frames(j, "free_backtrace", ff, h->n_free, false);
	ml_json_open(j, "thread", false);
	ml_json_i64(j, "tid", h->tid);
	ml_json_bool(j, "main", h->tid == snap->proc.pid);
	ml_json_close(j);
	ml__json_process(j, &snap->proc);
	ml__json_frames(j, "backtrace", bt ? bt->frames : NULL, bt ? bt->n : 0, false);
	return ml_json_end(j);
}

int ml_render_heapcheck_width(const struct ml_snapshot *snap, const struct ml_heapcheck *h,
			      const struct ml_backtrace *bt, FILE *out, unsigned int flags,
			      unsigned int width)
{
	struct ml_frame af[ML_HEAPCHECK_DEPTH], ff[ML_HEAPCHECK_DEPTH];
	struct ml_symbolizer *sz = NULL;
	int r;

	if (!snap || !h || !out || (unsigned)h->kind >= ML_HEAPCHECK__COUNT ||
	    h->n_alloc > ML_HEAPCHECK_DEPTH || h->n_free > ML_HEAPCHECK_DEPTH)
		return -EINVAL;
	if (ml_symbolizer_new(snap, &sz) < 0)
		sz = NULL;   /* the report goes on with addresses */
	symbolize(sz, h->alloc_pc, h->n_alloc, af);
	symbolize(sz, h->free_pc, h->n_free, ff);
	r = (flags & ML_OUT_JSON) ? render_json(snap, h, af, ff, bt, out) :
				    render_text(snap, h, af, ff, bt, out, flags, width);
	ml_symbolizer_free(sz);
	if (r == 0 && ferror(out))
		r = -EIO;
	return r;
}

/* ---- leaks ---- */

static int leaks_text(const struct ml_snapshot *snap, const struct ml_heapleaks *l,
		      struct ml_symbolizer *sz, FILE *out)
{
	fprintf(out, "memlayout: process %d (", (int)snap->proc.pid);
	ml__put_escaped(out, snap->proc.comm);
	fprintf(out, ") leaked %" PRIu64 " bytes in %" PRIu64 " blocks, allocated at %zu places\n"
		"  Blocks never freed that nothing the program could still reach points to at exit\n"
		"  (its data, bss and stack, and the blocks those reach), largest first.\n",
		l->bytes, l->blocks, l->ngroups_total);
	for (size_t i = 0; i < l->ngroups; i++) {
		struct ml_frame f[ML_HEAPCHECK_DEPTH];
		char title[96];
		symbolize(sz, l->groups[i].pc, l->groups[i].n, f);
		snprintf(title, sizeof(title), "%" PRIu64 " bytes in %" PRIu64 " block%s allocated at",
			 l->groups[i].bytes, l->groups[i].blocks, l->groups[i].blocks == 1 ? "" : "s");
		text_frames(out, title, f, l->groups[i].n);
	}
	if (l->ngroups < l->ngroups_total)
		fprintf(out, "\n  ... %zu more places\n", l->ngroups_total - l->ngroups);
	return 0;
}

static int leaks_json(const struct ml_snapshot *snap, const struct ml_heapleaks *l,
		      struct ml_symbolizer *sz, FILE *out)
{
	struct ml_json *j;
	int r;

	if ((r = ml_json_begin(out, &j)) < 0)
		return r;
	ml_json_str(j, "kind", "leaks");
	ml_json_u64(j, "bytes", l->bytes);
	ml_json_u64(j, "blocks", l->blocks);
	ml_json_u64(j, "sites", l->ngroups_total);
	ml_json_open(j, "leaks", true);
	for (size_t i = 0; i < l->ngroups; i++) {
		struct ml_frame f[ML_HEAPCHECK_DEPTH];
		symbolize(sz, l->groups[i].pc, l->groups[i].n, f);
		ml_json_open(j, NULL, false);
		ml_json_u64(j, "bytes", l->groups[i].bytes);
		ml_json_u64(j, "blocks", l->groups[i].blocks);
		ml__json_frames(j, "backtrace", f, l->groups[i].n, false);
		ml_json_close(j);
	}
	ml_json_close(j);
	ml__json_process(j, &snap->proc);
	return ml_json_end(j);
}

int ml_render_heapleaks(const struct ml_snapshot *snap, const struct ml_heapleaks *l,
			FILE *out, unsigned int flags)
{
	struct ml_symbolizer *sz = NULL;
	int r;

	if (!snap || !l || !out || l->ngroups > ML_HEAPCHECK_LEAK_GROUPS)
		return -EINVAL;
	for (size_t i = 0; i < l->ngroups; i++)
		if (l->groups[i].n > ML_HEAPCHECK_DEPTH)
			return -EINVAL;
	if (ml_symbolizer_new(snap, &sz) < 0)
		sz = NULL;
	r = (flags & ML_OUT_JSON) ? leaks_json(snap, l, sz, out) : leaks_text(snap, l, sz, out);
	ml_symbolizer_free(sz);
	if (r == 0 && ferror(out))
		r = -EIO;
	return r;
}
