/* SPDX-License-Identifier: MIT */
/*
 * heap-render.c - `memlayout heap` output: a few lines of prose (the
 * process, the brk, the totals), the size-class table and the region table
 * with its page map; or, with -J, one JSON document {"heap": [...],
 * "classes": [...], "regions": [...]} stitched from the libsmartcols JSON
 * of each table.  For a process without mlalloc: why, and what its maps
 * tell (the brk, the [heap] mapping, glibc's arenas).
 *
 * Every table is driven by a column table {name, width, JSON type,
 * default, help, cell}; text the target controls (comm, object names) is
 * escaped (ml_escape for prose and JSON, libsmartcols for table cells).
 */
#include "heap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "heap-table.h"

/* ---- region table (one row per segment or large block) ---- */

#define R(row) ((const struct ml_heap_region *)(row))
CELLFN(r_start, ml_fmt_hex(buf, R(x)->start))
CELLFN(r_end, ml_fmt_hex(buf, R(x)->end))
CELLFN(r_size, ml_fmt_size(buf, R(x)->end - R(x)->start, fl))
CELLFN(r_type, word_cell(buf, R(x)->type == ML_HEAP_LARGE ? "large" : "segment"))
CELLFN(r_from, word_cell(buf, R(x)->from))
CELLFN(r_state, word_cell(buf, R(x)->state))
CELLFN(r_tid, R(x)->tid ? ml_fmt_u64(buf, R(x)->tid) : NULL)
CELLFN(r_used, ml_fmt_size(buf, R(x)->used, fl))
CELLFN(r_free, ml_fmt_size(buf, R(x)->free, fl))
CELLFN(r_dirty, ml_fmt_size(buf, R(x)->dirty, fl))
CELLFN(r_run, ml_fmt_size(buf, R(x)->run, fl))
CELLFN(r_block, R(x)->block ? ml_fmt_hex(buf, R(x)->block) : NULL)
CELLFN(r_map, strdup(R(x)->map))

/* Block sizes of the classes with a span in the segment ("48 4096 ..."). */
static char *r_classes(const void *x, const void *cv, unsigned int fl, char *buf)
{
	const struct ctx *c = cv;
	const struct mlalloc_pub_header *hd = &c->h->as->header;
	char list[64 * 26] = "";
	size_t len = 0;

	for (unsigned k = 0; k < hd->nclasses && k < 64; k++) {
		if (!(R(x)->class_mask >> k & 1))
			continue;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? " " : "",
					ml_fmt_size(buf, c->h->as->class_size[k], fl));
	}
	return len ? strdup(list) : NULL;
}
#undef R

static const char *green(const void *row, const void *ctx)
{
	(void)row, (void)ctx;
	return "green";
}

static const struct ml_column_info region_cols[] = {
	COL("START", 0.10, ML_COL_HEX, true, "start address", r_start, { 0, 0 }),
	COL("END", 0.10, ML_COL_HEX, false, "end address (exclusive)", r_end, { ML_FIT_OFF, 0 }),
	COL("SIZE", 5, ML_COL_SIZE, true, "size of the segment or of the block's mapping", r_size, { 0, 0 }),
	COL("TYPE", 7, ML_COL_STR, true, "segment (small and medium blocks) or large (one block)", r_type, { 0, 0 }),
	COL("FROM", 4, ML_COL_STR, true, "brk or mmap", r_from, { 4, 0 }),
	COL("STATE", 6, ML_COL_STR, true, "segment: owned, abandoned, pooled; large: live, cached", r_state, { 3, 0 }),
	COL("TID", 5, ML_COL_NUM, false, "thread whose heap owns the segment", r_tid, { 0, 0 }),
	COL("USED", 5, ML_COL_SIZE, true, "bytes of pages in spans; a live large block's usable bytes", r_used, { 0, 0 }),
	COL("FREE", 5, ML_COL_SIZE, true, "bytes of free pages; a cached large block's mapping", r_free, { 2, 0 }),
	COL("DIRTY", 5, ML_COL_SIZE, false, "free pages not yet given back to the system", r_dirty, { 0, 0 }),
	COL("RUN", 5, ML_COL_SIZE, true, "largest run of free pages", r_run, { 1, 0 }),
	COL("CLASSES", 0.10, ML_COL_STR, false, "block sizes of the spans in the segment", r_classes, { 0, 0 }),
	COL("BLOCK", 0.10, ML_COL_HEX, false, "large: the address the program holds", r_block, { 0, 0 }),
	COL("MAP", ML_HEAP_MAP_CELLS, ML_COL_STR, true, "one cell per page: M metadata, # span, : free dirty, . free clean", r_map, { 0, 32 }, green),
};

/* ---- size-class table ---- */

#define K(row) ((const struct ml_heap_class *)(row))
CELLFN(k_class, ml_fmt_u64(buf, K(x)->cls))
CELLFN(k_size, ml_fmt_size(buf, K(x)->size, fl))
CELLFN(k_live, ml_fmt_u64(buf, K(x)->live))
CELLFN(k_free, ml_fmt_u64(buf, K(x)->free))
CELLFN(k_live_bytes, ml_fmt_size(buf, K(x)->live * K(x)->size, fl))
CELLFN(k_free_bytes, ml_fmt_size(buf, K(x)->free * K(x)->size, fl))
CELLFN(k_spans, ml_fmt_u64(buf, K(x)->spans))
CELLFN(k_span_bytes, ml_fmt_size(buf, K(x)->span_bytes, fl))
#undef K

static const struct ml_column_info class_cols[] = {
	COL("CLASS", 3, ML_COL_NUM, true, "size class index", k_class),
	COL("SIZE", 5, ML_COL_SIZE, true, "block size", k_size),
	COL("LIVE", 5, ML_COL_NUM, true, "live blocks", k_live),
	COL("FREE", 5, ML_COL_NUM, true, "free blocks in its spans", k_free),
	COL("LIVE_BYTES", 5, ML_COL_SIZE, true, "live blocks times the block size", k_live_bytes),
	COL("FREE_BYTES", 5, ML_COL_SIZE, true, "free blocks times the block size", k_free_bytes),
	COL("SPANS", 3, ML_COL_NUM, true, "spans of the class", k_spans),
	COL("SPAN_BYTES", 5, ML_COL_SIZE, true, "bytes of its spans' pages", k_span_bytes),
};

/* ---- the heap as a whole (one row; JSON only) ---- */

static const struct ml_proc *proc(const struct ctx *c) { return ml_snapshot_proc(c->snap); }
#define HD(c) (&(c)->h->as->header)
CELLFN(s_pid, ml_fmt_u64(buf, (uint64_t)proc(c)->pid))
CELLFN(s_comm, text_cell(proc(c)->comm))
CELLFN(s_bits, ml_fmt_u64(buf, proc(c)->is_32bit ? 32 : 64))
CELLFN(s_mlalloc, word_cell(buf, c->h ? "1" : "0"))
CELLFN(s_reason, text_cell(c->why))
CELLFN(s_start_brk, ml_fmt_hex(buf, proc(c)->start_brk))
CELLFN(s_brk, ml_fmt_hex(buf, proc(c)->brk))
CELLFN(s_brk_moved, ml_fmt_size(buf, proc(c)->brk - proc(c)->start_brk, fl))
CELLFN(s_found_by, text_cell(c->h->as->found_by))
CELLFN(s_region, ml_fmt_hex(buf, c->h->as->region_addr))
CELLFN(s_version, ml_fmt_u64(buf, HD(c)->version))
CELLFN(s_ml_brk_start, HD(c)->brk_start ? ml_fmt_hex(buf, HD(c)->brk_start) : NULL)
CELLFN(s_ml_brk_end, HD(c)->brk_end ? ml_fmt_hex(buf, HD(c)->brk_end) : NULL)
CELLFN(s_brk_failed, word_cell(buf, HD(c)->brk_failed ? "1" : "0"))
CELLFN(s_threads, ml_fmt_u64(buf, c->h->threads))
CELLFN(s_segments, ml_fmt_u64(buf, c->h->nregions - c->h->live_large_blocks - c->h->cached_large_blocks))
CELLFN(s_live, ml_fmt_size(buf, c->h->live_small + c->h->live_large, fl))
CELLFN(s_live_blocks, ml_fmt_u64(buf, c->h->live_small_blocks + c->h->live_large_blocks))
CELLFN(s_live_small, ml_fmt_size(buf, c->h->live_small, fl))
CELLFN(s_live_large, ml_fmt_size(buf, c->h->live_large, fl))
CELLFN(s_large_live, ml_fmt_u64(buf, c->h->live_large_blocks))
CELLFN(s_large_cached, ml_fmt_u64(buf, c->h->cached_large_blocks))
CELLFN(s_cached_bytes, ml_fmt_size(buf, c->h->cached_large, fl))
CELLFN(s_in_spans, ml_fmt_size(buf, c->h->span_bytes, fl))
CELLFN(s_free_in_spans, ml_fmt_size(buf, c->h->free_in_spans, fl))
CELLFN(s_metadata, ml_fmt_size(buf, c->h->meta_bytes, fl))
CELLFN(s_free_pages, ml_fmt_size(buf, c->h->free_pages, fl))
CELLFN(s_dirty, ml_fmt_size(buf, c->h->dirty_pages, fl))
CELLFN(s_run, ml_fmt_size(buf, c->h->largest_run, fl))
CELLFN(s_committed, ml_fmt_size(buf, c->h->committed, fl))
CELLFN(s_reserved, ml_fmt_size(buf, c->h->reserved, fl))
CELLFN(s_frag, ml_fmt_ratio(buf, c->h->fragmentation))
CELLFN(s_purged, ml_fmt_size(buf, HD(c)->purged_bytes, fl))
CELLFN(s_decay, ml_fmt_u64(buf, HD(c)->decay_ms))
CELLFN(s_unpub, ml_fmt_u64(buf, HD(c)->heaps_unpublished + HD(c)->segs_unpublished + HD(c)->large_unpublished))

/* def here means: also for a process without mlalloc. */
static const struct ml_column_info summary_cols[] = {
	COL("PID", 0, ML_COL_NUM, true, "", s_pid),
	COL("COMM", 0, ML_COL_TEXT, true, "", s_comm),
	COL("BITS", 0, ML_COL_NUM, true, "", s_bits),
	COL("MLALLOC", 0, ML_COL_BOOL, true, "", s_mlalloc),
	COL("REASON", 0, ML_COL_STR, true, "", s_reason),
	COL("START_BRK", 0, ML_COL_HEX, true, "", s_start_brk),
	COL("BRK", 0, ML_COL_HEX, true, "", s_brk),
	COL("BRK_MOVED", 0, ML_COL_SIZE, true, "", s_brk_moved),
	COL("FOUND_BY", 0, ML_COL_STR, false, "", s_found_by),
	COL("REGION", 0, ML_COL_HEX, false, "", s_region),
	COL("VERSION", 0, ML_COL_NUM, false, "", s_version),
	COL("MLALLOC_BRK_START", 0, ML_COL_HEX, false, "", s_ml_brk_start),
	COL("MLALLOC_BRK_END", 0, ML_COL_HEX, false, "", s_ml_brk_end),
	COL("BRK_FAILED", 0, ML_COL_BOOL, false, "", s_brk_failed),
	COL("THREADS", 0, ML_COL_NUM, false, "", s_threads),
	COL("SEGMENTS", 0, ML_COL_NUM, false, "", s_segments),
	COL("LIVE", 0, ML_COL_SIZE, false, "", s_live),
	COL("LIVE_BLOCKS", 0, ML_COL_NUM, false, "", s_live_blocks),
	COL("LIVE_SMALL", 0, ML_COL_SIZE, false, "", s_live_small),
	COL("LIVE_LARGE", 0, ML_COL_SIZE, false, "", s_live_large),
	COL("LARGE_LIVE", 0, ML_COL_NUM, false, "", s_large_live),
	COL("LARGE_CACHED", 0, ML_COL_NUM, false, "", s_large_cached),
	COL("LARGE_CACHED_BYTES", 0, ML_COL_SIZE, false, "", s_cached_bytes),
	COL("IN_SPANS", 0, ML_COL_SIZE, false, "", s_in_spans),
	COL("FREE_IN_SPANS", 0, ML_COL_SIZE, false, "", s_free_in_spans),
	COL("METADATA", 0, ML_COL_SIZE, false, "", s_metadata),
	COL("FREE_PAGES", 0, ML_COL_SIZE, false, "", s_free_pages),
	COL("DIRTY_FREE_PAGES", 0, ML_COL_SIZE, false, "", s_dirty),
	COL("LARGEST_FREE_RUN", 0, ML_COL_SIZE, false, "", s_run),
	COL("COMMITTED", 0, ML_COL_SIZE, false, "", s_committed),
	COL("RESERVED", 0, ML_COL_SIZE, false, "", s_reserved),
	COL("FRAGMENTATION", 0, ML_COL_FLOAT, false, "", s_frag),
	COL("PURGED", 0, ML_COL_SIZE, false, "", s_purged),
	COL("DECAY_MS", 0, ML_COL_NUM, false, "", s_decay),
	COL("UNPUBLISHED", 0, ML_COL_NUM, false, "", s_unpub),
};
#undef HD

/* ---- maps regions of a process without mlalloc ---- */

#define M(row) ((const struct ml_region *)(row))
CELLFN(m_start, ml_fmt_hex(buf, M(x)->start))
CELLFN(m_end, ml_fmt_hex(buf, M(x)->end))
CELLFN(m_size, ml_fmt_size(buf, M(x)->end - M(x)->start, fl))
CELLFN(m_kind, word_cell(buf, ml_kind_name(M(x)->kind)))
CELLFN(m_object, text_cell(M(x)->object))
CELLFN(m_perms, ml_perms_str(M(x)->perms, buf))
#undef M

static const struct ml_column_info maps_cols[] = {
	COL("START", 0.10, ML_COL_HEX, true, "", m_start),
	COL("END", 0.10, ML_COL_HEX, true, "", m_end),
	COL("SIZE", 5, ML_COL_SIZE, true, "", m_size),
	COL("PERMS", 5, ML_COL_STR, true, "", m_perms),
	COL("KIND", 0.06, ML_COL_STR, true, "", m_kind),
	COL("OBJECT", 0.20, ML_COL_TEXT, true, "", m_object),
};

/* ---- printing ---- */

const struct ml_column_info *cli_heap_mlalloc_columns(bool classes, size_t *ret_n)
{
	*ret_n = classes ? ARRAY_SIZE(class_cols) : ARRAY_SIZE(region_cols);
	return classes ? class_cols : region_cols;
}

static void prose(FILE *out, const struct ctx *c)
{
	const struct ml_heap *h = c->h;
	const struct mlalloc_pub_header *hd = &h->as->header;
	const struct ml_proc *p = proc(c);
	char a[32], b[32], d[32], e[32], f[32], g[32];
	char *comm = ml_escape(p->comm, ML_ESC_TERM);
	size_t nseg = h->nregions - h->live_large_blocks - h->cached_large_blocks;

	fprintf(out, "PID %d (%s) uses mlalloc: state at 0x%" PRIx64 " (found through %s), "
		"%u thread heap%s, %zu segment%s\n", (int)p->pid, comm ? comm : "?",
		h->as->region_addr, h->as->found_by, h->threads, h->threads == 1 ? "" : "s",
		nseg, nseg == 1 ? "" : "s");
	free(comm);
	fprintf(out, "brk: starts at 0x%" PRIx64 ", now 0x%" PRIx64 ": moved %s", p->start_brk,
		p->brk, ml_size_human(p->brk - p->start_brk, a, sizeof(a)));
	if (hd->brk_start)
		fprintf(out, "; mlalloc took 0x%" PRIx64 "-0x%" PRIx64 " (%s)", hd->brk_start,
			hd->brk_end, ml_size_human(hd->brk_end - hd->brk_start, b, sizeof(b)));
	fputs(hd->brk_failed ? "; brk was refused: segments now come from mmap\n" : "\n", out);
	fprintf(out, "live: %s in %" PRIu64 " blocks (%s in %" PRIu64 " small, %s in %" PRIu64 " large)\n",
		ml_size_human(h->live_small + h->live_large, a, sizeof(a)),
		h->live_small_blocks + h->live_large_blocks, ml_size_human(h->live_small, b, sizeof(b)),
		h->live_small_blocks, ml_size_human(h->live_large, d, sizeof(d)), h->live_large_blocks);
	fprintf(out, "committed %s, reserved %s; fragmentation %.1f%% (committed bytes in no live block)\n",
		ml_size_human(h->committed, a, sizeof(a)), ml_size_human(h->reserved, b, sizeof(b)),
		100.0 * h->fragmentation);
	fprintf(out, "free: %s in spans, %s in free pages (%s not yet given back), largest free run %s; "
		"%" PRIu64 " cached large block%s (%s); given back so far %s\n",
		ml_size_human(h->free_in_spans, a, sizeof(a)), ml_size_human(h->free_pages, b, sizeof(b)),
		ml_size_human(h->dirty_pages, d, sizeof(d)), ml_size_human(h->largest_run, e, sizeof(e)),
		h->cached_large_blocks, h->cached_large_blocks == 1 ? "" : "s",
		ml_size_human(h->cached_large, f, sizeof(f)), ml_size_human(hd->purged_bytes, g, sizeof(g)));
	if (hd->heaps_unpublished + hd->segs_unpublished + hd->large_unpublished)
		fprintf(out, "not published (tables full): %" PRIu64 " heaps, %" PRIu64 " segments, %" PRIu64
			" large blocks\n", hd->heaps_unpublished, hd->segs_unpublished, hd->large_unpublished);
}

/* The one-row summary (JSON, or a raw / headless table): every figure
 * but the reason there is no mlalloc. */
static int summary_table(FILE *out, const struct ctx *c)
{
	int ids[ARRAY_SIZE(summary_cols)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(summary_cols); i++)
		if (summary_cols[i].cell != s_reason)
			ids[n++] = (int)i;
	return put_table(out, c, &(struct ml_table){ "heap", summary_cols, ARRAY_SIZE(summary_cols),
						     ids, n, c->h, 0, 1, NULL, c });
}

/* The region table: -o's columns, else the default set (JSON: all). */
static int region_table(FILE *out, const struct ctx *c, const struct cli_heap_out *o)
{
	const struct ml_heap *h = c->h;

	return put_table(out, c, &(struct ml_table){ "regions", region_cols, ARRAY_SIZE(region_cols),
		o->columns, o->ncolumns, h->regions, sizeof(*h->regions), h->nregions, NULL, c, true });
}

static int class_table(FILE *out, const struct ctx *c, const struct cli_heap_out *o)
{
	const struct ml_heap *h = c->h;

	return put_table(out, c, &(struct ml_table){ "classes", class_cols, ARRAY_SIZE(class_cols),
		o->class_columns, o->nclass_columns, h->classes, sizeof(*h->classes), h->nclasses, NULL, c });
}

int cli_heap_render(const struct ml_snapshot *snap, const struct ml_heap *h,
		   FILE *out, const struct cli_heap_out *o)
{
	struct ctx c = { .flags = o->flags, .snap = snap, .h = h };
	bool fitted = (o->flags & ML_OUT_TERM) && !(o->flags & (ML_OUT_JSON | ML_OUT_RAW));
	/* On a terminal the prose is folded at its width. */
	FILE *text = fitted && o->width ? ml_fold_stream(out, o->width, 2, NULL) : NULL;
	unsigned parts = o->parts ? o->parts : CLI_HEAP_SUMMARY | CLI_HEAP_CLASSES | CLI_HEAP_MAP;
	bool plain = !(o->flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	int r = heap_json_begin(out, &c);

	if (r == 0 && (parts & CLI_HEAP_SUMMARY)) {
		if (!plain) {
			r = summary_table(out, &c);
		} else {
			prose(text ? text : out, &c);
			if (text)
				fflush(text);
		}
	}
	if (r == 0 && (parts & CLI_HEAP_CLASSES)) {
		if (plain && (parts & CLI_HEAP_SUMMARY))
			fputc('\n', out);
		r = class_table(out, &c, o);
	}
	if (r == 0 && (parts & CLI_HEAP_MAP)) {
		if (plain && (parts & (CLI_HEAP_SUMMARY | CLI_HEAP_CLASSES)))
			fputc('\n', out);
		r = region_table(out, &c, o);
		if (r == 0 && plain)
			fprintf(text ? text : out, "MAP: one cell per %s page: M metadata, # in a span, : free "
				"(not yet given back), . free (given back or never used); large "
				"blocks: # live, : cached, + longer than shown%s\n",
				ml_size_human(h->as->header.page_size, (char[32]){ 0 }, 32),
				fitted && !o->columns ? " (on this terminal, as many cells as fit)" : "");
	}
	if (text && fclose(text) && r == 0)
		r = -EIO;
	return heap_json_end(&c, r);
}

/* The regions the maps say belong to an allocator: the brk heap and
 * glibc's arenas. */
static bool heapish(const struct ml_region *r)
{
	return r->kind == ML_KIND_HEAP || (r->object && !strcmp(r->object, "[malloc arena]"));
}

int cli_heap_render_plain(const struct ml_snapshot *snap, const char *why,
			 FILE *out, const struct cli_heap_out *o)
{
	struct ctx c = { .flags = o->flags, .snap = snap, .why = why };
	const struct ml_proc *p = ml_snapshot_proc(snap);
	bool plain = !(o->flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	size_t n, nheap = 0;
	const struct ml_region *regs = ml_snapshot_regions(snap, &n);
	bool *skip = calloc(n + 1, sizeof(*skip));
	char a[32];
	int r;

	if (!skip)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		skip[i] = !heapish(&regs[i]);
		nheap += !skip[i];
	}
	r = heap_json_begin(out, &c);
	if (r == 0 && !plain) {   /* JSON, or a raw / headless one-row table */
		r = put_table(out, &c, &(struct ml_table){ "heap", summary_cols,
			ARRAY_SIZE(summary_cols), NULL, 0, NULL, 0, 1, NULL, &c });
	} else if (r == 0) {
		char *comm = ml_escape(p->comm, ML_ESC_TERM), *w = ml_escape(why, ML_ESC_TERM);
		fprintf(out, "PID %d (%s) does not use mlalloc: %s.\nWhat its maps tell: brk starts at "
			"0x%" PRIx64 " and stands at 0x%" PRIx64 ": moved %s%s\n", (int)p->pid,
			comm ? comm : "?", w ? w : "?", p->start_brk, p->brk,
			ml_size_human(p->brk - p->start_brk, a, sizeof(a)),
			nheap ? "; its allocator's regions:" : "; no heap or arena mapping.");
		free(comm);
		free(w);
	}
	if (r == 0 && (nheap || c.json))
		r = put_table(out, &c, &(struct ml_table){ "regions", maps_cols, ARRAY_SIZE(maps_cols),
			NULL, 0, regs, sizeof(*regs), n, skip, &c });
	free(skip);
	return heap_json_end(&c, r);
}
