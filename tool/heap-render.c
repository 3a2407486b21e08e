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
#include <libsmartcols/libsmartcols.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "heap-table.h"

#include <stdio.h>

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *ml__heap_size_cell(uint64_t v, const struct ctx *c)
{
	char buf[32];

	if (c->flags & ML_OUT_BYTES)
		return xasprintf("%" PRIu64, v);
	return strdup(ml_size_human(v, buf, sizeof(buf)));
}

char *ml__heap_hex_cell(uint64_t v) { return xasprintf("0x%" PRIx64, v); }
char *ml__heap_num_cell(uint64_t v) { return xasprintf("%" PRIu64, v); }
char *ml__heap_text_cell(const char *s, const struct ctx *c)
{
	if (!s)
		return NULL;
	return (c->flags & ML_OUT_JSON) ? ml_escape(s, ML_ESC_JSON_SAFE) : strdup(s);
}

/* ---- region table (one row per segment or large block) ---- */

#define R(row) ((const struct ml_heap_region *)(row))
static char *r_start(const void *x, const struct ctx *c) { (void)c; return hex_cell(R(x)->start); }
static char *r_end(const void *x, const struct ctx *c) { (void)c; return hex_cell(R(x)->end); }
static char *r_size(const void *x, const struct ctx *c) { return size_cell(R(x)->end - R(x)->start, c); }
static char *r_type(const void *x, const struct ctx *c) { (void)c; return strdup(R(x)->type == ML_HEAP_LARGE ? "large" : "segment"); }
static char *r_from(const void *x, const struct ctx *c) { (void)c; return strdup(R(x)->from); }
static char *r_state(const void *x, const struct ctx *c) { (void)c; return strdup(R(x)->state); }
static char *r_tid(const void *x, const struct ctx *c) { (void)c; return R(x)->tid ? num_cell(R(x)->tid) : NULL; }
static char *r_used(const void *x, const struct ctx *c) { return size_cell(R(x)->used, c); }
static char *r_free(const void *x, const struct ctx *c) { return size_cell(R(x)->free, c); }
static char *r_dirty(const void *x, const struct ctx *c) { return size_cell(R(x)->dirty, c); }
static char *r_run(const void *x, const struct ctx *c) { return size_cell(R(x)->run, c); }
static char *r_block(const void *x, const struct ctx *c) { (void)c; return R(x)->block ? hex_cell(R(x)->block) : NULL; }
static char *r_map(const void *x, const struct ctx *c) { (void)c; return strdup(R(x)->map); }

/* Block sizes of the classes with a span in the segment ("48 4096 ..."). */
static char *r_classes(const void *x, const struct ctx *c)
{
	const struct mlalloc_pub_header *hd = &c->h->as->header;
	char buf[ML_HEAP_MAP_CELLS * 12] = "", one[32];
	size_t len = 0;

	for (unsigned k = 0; k < hd->nclasses && k < 64; k++) {
		if (!(R(x)->class_mask >> k & 1))
			continue;
		uint64_t sz = c->h->as->class_size[k];
		if (c->flags & ML_OUT_BYTES)
			snprintf(one, sizeof(one), "%" PRIu64, sz);
		else
			ml_size_human(sz, one, sizeof(one));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "", one);
		if (len >= sizeof(buf))
			break;
	}
	return len ? strdup(buf) : NULL;
}
#undef R

static const struct col region_cols[] = {
	{ "START",   0.10, J_HEX,  true,  "start address", r_start, { 0, 0 } },
	{ "END",     0.10, J_HEX,  false, "end address (exclusive)", r_end, { ML_FIT_OFF, 0 } },
	{ "SIZE",    5,    J_SIZE, true,  "size of the segment or of the block's mapping", r_size, { 0, 0 } },
	{ "TYPE",    7,    J_STR,  true,  "segment (small and medium blocks) or large (one block)", r_type, { 0, 0 } },
	{ "FROM",    4,    J_STR,  true,  "brk or mmap", r_from, { 4, 0 } },
	{ "STATE",   6,    J_STR,  true,  "segment: owned, abandoned, pooled; large: live, cached", r_state, { 3, 0 } },
	{ "TID",     5,    J_NUM,  false, "thread whose heap owns the segment", r_tid, { 0, 0 } },
	{ "USED",    5,    J_SIZE, true,  "bytes of pages in spans; a live large block's usable bytes", r_used, { 0, 0 } },
	{ "FREE",    5,    J_SIZE, true,  "bytes of free pages; a cached large block's mapping", r_free, { 2, 0 } },
	{ "DIRTY",   5,    J_SIZE, false, "free pages not yet given back to the system", r_dirty, { 0, 0 } },
	{ "RUN",     5,    J_SIZE, true,  "largest run of free pages", r_run, { 1, 0 } },
	{ "CLASSES", 0.10, J_STR,  false, "block sizes of the spans in the segment", r_classes, { 0, 0 } },
	{ "BLOCK",   0.10, J_HEX,  false, "large: the address the program holds", r_block, { 0, 0 } },
	{ "MAP",     ML_HEAP_MAP_CELLS, J_STR, true, "one cell per page: M metadata, # span, : free dirty, . free clean", r_map, { 0, 32 } },
};

const struct ml_column_info *ml_heap_columns(size_t *ret_n)
{
	static struct ml_column_info infos[ARRAY_SIZE(region_cols)];

	for (size_t i = 0; i < ARRAY_SIZE(region_cols); i++)
		infos[i] = (struct ml_column_info){ .name = region_cols[i].name,
			.whint = region_cols[i].whint, .is_default = region_cols[i].def,
			.help = region_cols[i].help };
	*ret_n = ARRAY_SIZE(region_cols);
	return infos;
}

int ml_heap_columns_parse(const char *list, int *ret_ids, size_t max, size_t *ret_n,
			  const char **ret_bad)
{
	size_t n;
	const struct ml_column_info *infos = ml_heap_columns(&n);

	return ml_columns_parse_in(infos, n, list, ret_ids, max, ret_n, ret_bad);
}

/* ---- size-class table ---- */

#define K(row) ((const struct ml_heap_class *)(row))
static char *k_class(const void *x, const struct ctx *c) { (void)c; return num_cell(K(x)->cls); }
static char *k_size(const void *x, const struct ctx *c) { return size_cell(K(x)->size, c); }
static char *k_live(const void *x, const struct ctx *c) { (void)c; return num_cell(K(x)->live); }
static char *k_free(const void *x, const struct ctx *c) { (void)c; return num_cell(K(x)->free); }
static char *k_live_bytes(const void *x, const struct ctx *c) { return size_cell(K(x)->live * K(x)->size, c); }
static char *k_free_bytes(const void *x, const struct ctx *c) { return size_cell(K(x)->free * K(x)->size, c); }
static char *k_spans(const void *x, const struct ctx *c) { (void)c; return num_cell(K(x)->spans); }
static char *k_span_bytes(const void *x, const struct ctx *c) { return size_cell(K(x)->span_bytes, c); }
#undef K

static const struct col class_cols[] = {
	{ "CLASS",      3, J_NUM,  true, "size class index", k_class },
	{ "SIZE",       5, J_SIZE, true, "block size", k_size },
	{ "LIVE",       5, J_NUM,  true, "live blocks", k_live },
	{ "FREE",       5, J_NUM,  true, "free blocks in its spans", k_free },
	{ "LIVE_BYTES", 5, J_SIZE, true, "live blocks times the block size", k_live_bytes },
	{ "FREE_BYTES", 5, J_SIZE, true, "free blocks times the block size", k_free_bytes },
	{ "SPANS",      3, J_NUM,  true, "spans of the class", k_spans },
	{ "SPAN_BYTES", 5, J_SIZE, true, "bytes of its spans' pages", k_span_bytes },
};

/* ---- the heap as a whole (one row; JSON only) ---- */

static const struct ml_proc *proc(const struct ctx *c) { return ml_snapshot_proc(c->snap); }
#define HD(c) (&(c)->h->as->header)
static char *s_pid(const void *x, const struct ctx *c) { (void)x; return num_cell((uint64_t)proc(c)->pid); }
static char *s_comm(const void *x, const struct ctx *c) { (void)x; return text_cell(proc(c)->comm, c); }
static char *s_bits(const void *x, const struct ctx *c) { (void)x; return num_cell(proc(c)->is_32bit ? 32 : 64); }
static char *s_mlalloc(const void *x, const struct ctx *c) { (void)x; return strdup(c->h ? "1" : "0"); }
static char *s_reason(const void *x, const struct ctx *c) { (void)x; return text_cell(c->why, c); }
static char *s_start_brk(const void *x, const struct ctx *c) { (void)x; return hex_cell(proc(c)->start_brk); }
static char *s_brk(const void *x, const struct ctx *c) { (void)x; return hex_cell(proc(c)->brk); }
static char *s_brk_moved(const void *x, const struct ctx *c) { (void)x; return size_cell(proc(c)->brk - proc(c)->start_brk, c); }
static char *s_found_by(const void *x, const struct ctx *c) { (void)x; return strdup(c->h->as->found_by); }
static char *s_region(const void *x, const struct ctx *c) { (void)x; return hex_cell(c->h->as->region_addr); }
static char *s_version(const void *x, const struct ctx *c) { (void)x; return num_cell(HD(c)->version); }
static char *s_ml_brk_start(const void *x, const struct ctx *c) { (void)x; return HD(c)->brk_start ? hex_cell(HD(c)->brk_start) : NULL; }
static char *s_ml_brk_end(const void *x, const struct ctx *c) { (void)x; return HD(c)->brk_end ? hex_cell(HD(c)->brk_end) : NULL; }
static char *s_brk_failed(const void *x, const struct ctx *c) { (void)x; return strdup(HD(c)->brk_failed ? "1" : "0"); }
static char *s_threads(const void *x, const struct ctx *c) { (void)x; return num_cell(c->h->threads); }
static char *s_segments(const void *x, const struct ctx *c) { (void)x; return num_cell(c->h->nregions - c->h->live_large_blocks - c->h->cached_large_blocks); }
static char *s_live(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->live_small + c->h->live_large, c); }
static char *s_live_blocks(const void *x, const struct ctx *c) { (void)x; return num_cell(c->h->live_small_blocks + c->h->live_large_blocks); }
static char *s_live_small(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->live_small, c); }
static char *s_live_large(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->live_large, c); }
static char *s_large_live(const void *x, const struct ctx *c) { (void)x; return num_cell(c->h->live_large_blocks); }
static char *s_large_cached(const void *x, const struct ctx *c) { (void)x; return num_cell(c->h->cached_large_blocks); }
static char *s_cached_bytes(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->cached_large, c); }
static char *s_in_spans(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->span_bytes, c); }
static char *s_free_in_spans(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->free_in_spans, c); }
static char *s_metadata(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->meta_bytes, c); }
static char *s_free_pages(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->free_pages, c); }
static char *s_dirty(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->dirty_pages, c); }
static char *s_run(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->largest_run, c); }
static char *s_committed(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->committed, c); }
static char *s_reserved(const void *x, const struct ctx *c) { (void)x; return size_cell(c->h->reserved, c); }
static char *s_frag(const void *x, const struct ctx *c) { (void)x; return xasprintf("%.4f", c->h->fragmentation); }
static char *s_purged(const void *x, const struct ctx *c) { (void)x; return size_cell(HD(c)->purged_bytes, c); }
static char *s_decay(const void *x, const struct ctx *c) { (void)x; return num_cell(HD(c)->decay_ms); }
static char *s_unpub(const void *x, const struct ctx *c) { (void)x; return num_cell(HD(c)->heaps_unpublished + HD(c)->segs_unpublished + HD(c)->large_unpublished); }

/* def here means: also for a process without mlalloc. */
static const struct col summary_cols[] = {
	{ "PID", 0, J_NUM, true, "", s_pid },
	{ "COMM", 0, J_STR, true, "", s_comm },
	{ "BITS", 0, J_NUM, true, "", s_bits },
	{ "MLALLOC", 0, J_BOOL, true, "", s_mlalloc },
	{ "REASON", 0, J_STR, true, "", s_reason },
	{ "START_BRK", 0, J_HEX, true, "", s_start_brk },
	{ "BRK", 0, J_HEX, true, "", s_brk },
	{ "BRK_MOVED", 0, J_SIZE, true, "", s_brk_moved },
	{ "FOUND_BY", 0, J_STR, false, "", s_found_by },
	{ "REGION", 0, J_HEX, false, "", s_region },
	{ "VERSION", 0, J_NUM, false, "", s_version },
	{ "MLALLOC_BRK_START", 0, J_HEX, false, "", s_ml_brk_start },
	{ "MLALLOC_BRK_END", 0, J_HEX, false, "", s_ml_brk_end },
	{ "BRK_FAILED", 0, J_BOOL, false, "", s_brk_failed },
	{ "THREADS", 0, J_NUM, false, "", s_threads },
	{ "SEGMENTS", 0, J_NUM, false, "", s_segments },
	{ "LIVE", 0, J_SIZE, false, "", s_live },
	{ "LIVE_BLOCKS", 0, J_NUM, false, "", s_live_blocks },
	{ "LIVE_SMALL", 0, J_SIZE, false, "", s_live_small },
	{ "LIVE_LARGE", 0, J_SIZE, false, "", s_live_large },
	{ "LARGE_LIVE", 0, J_NUM, false, "", s_large_live },
	{ "LARGE_CACHED", 0, J_NUM, false, "", s_large_cached },
	{ "LARGE_CACHED_BYTES", 0, J_SIZE, false, "", s_cached_bytes },
	{ "IN_SPANS", 0, J_SIZE, false, "", s_in_spans },
	{ "FREE_IN_SPANS", 0, J_SIZE, false, "", s_free_in_spans },
	{ "METADATA", 0, J_SIZE, false, "", s_metadata },
	{ "FREE_PAGES", 0, J_SIZE, false, "", s_free_pages },
	{ "DIRTY_FREE_PAGES", 0, J_SIZE, false, "", s_dirty },
	{ "LARGEST_FREE_RUN", 0, J_SIZE, false, "", s_run },
	{ "COMMITTED", 0, J_SIZE, false, "", s_committed },
	{ "RESERVED", 0, J_SIZE, false, "", s_reserved },
	{ "FRAGMENTATION", 0, J_FLOAT, false, "", s_frag },
	{ "PURGED", 0, J_SIZE, false, "", s_purged },
	{ "DECAY_MS", 0, J_NUM, false, "", s_decay },
	{ "UNPUBLISHED", 0, J_NUM, false, "", s_unpub },
};
#undef HD

/* ---- maps regions of a process without mlalloc ---- */

#define M(row) ((const struct ml_region *)(row))
static char *m_start(const void *x, const struct ctx *c) { (void)c; return hex_cell(M(x)->start); }
static char *m_end(const void *x, const struct ctx *c) { (void)c; return hex_cell(M(x)->end); }
static char *m_size(const void *x, const struct ctx *c) { return size_cell(M(x)->end - M(x)->start, c); }
static char *m_kind(const void *x, const struct ctx *c) { (void)c; return strdup(ml_kind_name(M(x)->kind)); }
static char *m_object(const void *x, const struct ctx *c) { return text_cell(M(x)->object, c); }
static char *m_perms(const void *x, const struct ctx *c)
{
	char buf[5];

	(void)c;
	return strdup(ml_perms_str(M(x)->perms, buf));
}
#undef M

static const struct col maps_cols[] = {
	{ "START",  0.10, J_HEX,  true, "", m_start },
	{ "END",    0.10, J_HEX,  true, "", m_end },
	{ "SIZE",   5,    J_SIZE, true, "", m_size },
	{ "PERMS",  5,    J_STR,  true, "", m_perms },
	{ "KIND",   0.06, J_STR,  true, "", m_kind },
	{ "OBJECT", 0.20, J_STR,  true, "", m_object },
};

/* ---- printing ---- */

static int json_type(enum jtype j, unsigned int flags)
{
	switch (j) {
	case J_SIZE:  return (flags & ML_OUT_BYTES) ? SCOLS_JSON_NUMBER : SCOLS_JSON_STRING;
	case J_NUM:
	case J_FLOAT: return SCOLS_JSON_NUMBER;
	case J_BOOL:  return SCOLS_JSON_BOOLEAN;
	default:      return SCOLS_JSON_STRING;
	}
}

/* Print (or, for JSON, append to *json the inside of) one table. */
int ml__heap_print_table(FILE *out, const char *name, const struct col *cols,
			 const int *ids, size_t nids, const struct rows *rows,
			 const struct ctx *c, char **json)
{
	struct libscols_table *tb = ml_scols_table_new(out, c->flags, name);
	int r = -ENOMEM;

	if (!tb)
		return -ENOMEM;
	for (size_t i = 0; i < nids; i++) {
		const struct col *col = &cols[ids[i]];
		int fl = col->json != J_STR ? SCOLS_FL_RIGHT : c->fitted && col->fit.min ? SCOLS_FL_TRUNC : 0;
		struct libscols_column *cl = scols_table_new_column(tb, col->name, col->whint ? col->whint : 1, fl);
		if (!cl)
			goto out;
		scols_column_set_json_type(cl, json_type(col->json, c->flags));
		if (col->fn == r_map && (c->flags & ML_OUT_COLOR))
			scols_column_set_color(cl, "green");
	}
	for (size_t i = 0; i < rows->n; i++) {
		if (rows->skip && rows->skip[i])
			continue;
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		const void *row = (const char *)rows->base + i * rows->stride;
		if (!ln)
			goto out;
		for (size_t k = 0; k < nids; k++) {
			char *data = cols[ids[k]].fn(row, c);
			if (data && scols_line_refer_data(ln, k, data) < 0) {
				free(data);
				goto out;
			}
		}
	}
	if (!(c->flags & ML_OUT_JSON)) {
		struct ml_fit fit[ML_FIT_MAX];
		for (size_t i = 0; i < nids && i < ML_FIT_MAX; i++)
			fit[i] = cols[ids[i]].fit;
		if (!c->fitted || (r = ml_scols_fit(tb, fit, nids)) == 0)
			r = scols_print_table(tb);
		goto out;
	}
	/* Gathered in a stream whose failure to grow is an error (glibc's
	 * memory stream, under scols_print_table_to_string, drops it). */
	char *s;
	size_t slen;
	FILE *mem = ml_memstream_open(&s, &slen);
	if (!mem) {
		r = -ENOMEM;
		goto out;
	}
	scols_table_set_stream(tb, mem);
	r = scols_print_table(tb);
	if ((ferror(mem) | fclose(mem)) && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(s);
		goto out;
	}
	/* {\n   "name": [...]\n}\n  ->  the part between the braces. */
	char *open = s ? strchr(s, '{') : NULL, *close = s ? strrchr(s, '}') : NULL;
	r = -EPROTO;
	if (open && close && close > open) {
		*close = '\0';
		char *all = xasprintf("%s%s%s", *json ? *json : "", *json ? ",\n" : "",
				      open + 1 + strspn(open + 1, "\n"));
		if (all) {
			size_t len = strlen(all);
			while (len && (all[len - 1] == '\n' || all[len - 1] == ' '))
				all[--len] = '\0';
			free(*json);
			*json = all;
			r = 0;
		} else {
			r = -ENOMEM;
		}
	}
	free(s);
out:
	scols_unref_table(tb);
	return r;
}

int ml__heap_all_ids(const struct col *cols, size_t n, bool only_def, int *ids)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!only_def || cols[i].def)
			ids[k++] = (int)i;
	return (int)k;
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

/* The document, through ml_json_stream (DEL, bidi controls as \u). */
int ml__heap_finish_json(FILE *out, char *json, int r)
{
	FILE *j = r == 0 && json ? ml_json_stream(out) : NULL;

	if (r == 0 && json && !j)
		r = -ENOMEM;
	if (j) {
		fprintf(j, "{\n%s\n}\n", json);
		if (fclose(j))
			r = -EIO;
	}
	free(json);
	return r;
}

int ml_heap_render(const struct ml_snapshot *snap, const struct ml_heap *h,
		   FILE *out, const struct ml_heap_out *o)
{
	struct ctx c = { .flags = o->flags, .snap = snap, .h = h,
			 .fitted = (o->flags & ML_OUT_TERM) && !(o->flags & (ML_OUT_JSON | ML_OUT_RAW)) };
	/* On a terminal the prose is folded at its width. */
	unsigned int width = c.fitted ? o->width : 0;
	FILE *text = width ? ml_fold_stream(out, width, 2, NULL) : NULL;
	unsigned parts = o->parts ? o->parts : ML_HEAP_SUMMARY | ML_HEAP_CLASSES | ML_HEAP_MAP;
	bool json = o->flags & ML_OUT_JSON;
	bool plain = !(o->flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	int ids[ARRAY_SIZE(summary_cols)];
	char *doc = NULL;
	int r = 0;

	if (parts & ML_HEAP_SUMMARY) {
		if (!plain) {   /* JSON, or a raw / headless one-row table */
			struct rows one = { h, 0, 1, NULL };
			size_t n = 0;
			for (size_t i = 0; i < ARRAY_SIZE(summary_cols); i++)
				if (summary_cols[i].fn != s_reason)   /* why not mlalloc */
					ids[n++] = (int)i;
			r = print_table(out, "heap", summary_cols, ids, n, &one, &c, &doc);
		} else {
			prose(text ? text : out, &c);
			if (text)
				fflush(text);
		}
	}
	if (r == 0 && (parts & ML_HEAP_CLASSES)) {
		struct rows rows = { h->classes, sizeof(*h->classes), h->nclasses, NULL };
		int n = all_ids(class_cols, ARRAY_SIZE(class_cols), false, ids);
		if (plain && (parts & ML_HEAP_SUMMARY))
			fputc('\n', out);
		r = print_table(out, "classes", class_cols, ids, (size_t)n, &rows, &c, &doc);
	}
	if (r == 0 && (parts & ML_HEAP_MAP)) {
		struct rows rows = { h->regions, sizeof(*h->regions), h->nregions, NULL };
		const int *rids = o->columns;
		size_t n = o->ncolumns;
		if (!rids) {   /* JSON: every column */
			n = json ? (size_t)all_ids(region_cols, ARRAY_SIZE(region_cols), false, ids) :
				   (size_t)all_ids(region_cols, ARRAY_SIZE(region_cols), true, ids);
			rids = ids;
		}
		if (plain && (parts & (ML_HEAP_SUMMARY | ML_HEAP_CLASSES)))
			fputc('\n', out);
		c.fitted = c.fitted && !o->columns;
		r = print_table(out, "regions", region_cols, rids, n, &rows, &c, &doc);
		if (r == 0 && plain)
			fprintf(text ? text : out, "MAP: one cell per %s page: M metadata, # in a span, : free "
				"(not yet given back), . free (given back or never used); large "
				"blocks: # live, : cached, + longer than shown%s\n",
				ml_size_human(h->as->header.page_size, (char[32]){ 0 }, 32),
				c.fitted ? " (on this terminal, as many cells as fit)" : "");
	}
	if (text && fclose(text) && r == 0)
		r = -EIO;
	return finish_json(out, doc, r);
}

/* The regions the maps say belong to an allocator: the brk heap and
 * glibc's arenas. */
static bool heapish(const struct ml_region *r)
{
	return r->kind == ML_KIND_HEAP || (r->object && !strcmp(r->object, "[malloc arena]"));
}

int ml_heap_render_plain(const struct ml_snapshot *snap, const char *why,
			 FILE *out, const struct ml_heap_out *o)
{
	struct ctx c = { .flags = o->flags, .snap = snap, .why = why };
	const struct ml_proc *p = ml_snapshot_proc(snap);
	bool plain = !(o->flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	size_t n, nheap = 0;
	const struct ml_region *regs = ml_snapshot_regions(snap, &n);
	bool *skip = calloc(n + 1, sizeof(*skip));
	int ids[ARRAY_SIZE(summary_cols)];
	char *doc = NULL, a[32];
	int r = 0;

	if (!skip)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		skip[i] = !heapish(&regs[i]);
		nheap += !skip[i];
	}
	if (!plain) {   /* JSON, or a raw / headless one-row table */
		struct rows one = { NULL, 0, 1, NULL };
		int k = all_ids(summary_cols, ARRAY_SIZE(summary_cols), true, ids);
		r = print_table(out, "heap", summary_cols, ids, (size_t)k, &one, &c, &doc);
	} else {
		char *comm = ml_escape(p->comm, ML_ESC_TERM), *w = ml_escape(why, ML_ESC_TERM);
		fprintf(out, "PID %d (%s) does not use mlalloc: %s.\nWhat its maps tell: brk starts at "
			"0x%" PRIx64 " and stands at 0x%" PRIx64 ": moved %s%s\n", (int)p->pid,
			comm ? comm : "?", w ? w : "?", p->start_brk, p->brk,
			ml_size_human(p->brk - p->start_brk, a, sizeof(a)),
			nheap ? "; its allocator's regions:" : "; no heap or arena mapping.");
		free(comm);
		free(w);
	}
	if (r == 0 && (nheap || (o->flags & ML_OUT_JSON))) {
		struct rows rows = { regs, sizeof(*regs), n, skip };
		int k = all_ids(maps_cols, ARRAY_SIZE(maps_cols), false, ids);
		r = print_table(out, "regions", maps_cols, ids, (size_t)k, &rows, &c, &doc);
	}
	free(skip);
	return finish_json(out, doc, r);
}
