/* SPDX-License-Identifier: MIT */
/*
 * render-table.c - the region table and the per-kind summary: their
 * column descriptions (util-linux conventions: -o columns, JSON, raw, no
 * headings) printed by the one table printer (columns.c), which sends a
 * table off a terminal to its bulk writer (table-text.c) itself.
 *
 * Text the target controls (names, paths, section names) is escaped by
 * the table printer (ML_COL_TEXT, ML_COL_ARRAY).  The JSON document (doc/schema/show.json,
 * show-summary.json) carries, after the table, the process it describes:
 * format_version, pid, exe, comm, word_size.
 */
#include "ml-out.h"
#include "format.h"

#include <stdlib.h>
#include <string.h>

struct ctx {
	const struct ml_snapshot *snap;
	unsigned int flags;
	const char **labels;      /* per region, the object's shortest
	                             unambiguous name (a terminal's default
	                             table), or NULL: whole paths */
};

/* A cell's text.  Short cells (numbers, permissions, kinds) are written
 * into buf (CELL_BUF bytes) and buf is returned; text cells return a
 * malloc'ed string the caller then owns; NULL is an empty cell (with
 * errno ENOMEM: an allocation failed, and the table with it).  No
 * printf: with 20,000 regions the table has a quarter of a million cells. */
#define CELL_BUF ML__TEXT_CELL_BUF
_Static_assert(CELL_BUF >= ML_CELL_BUF, "a cell's buffer holds any cell");

/* A cell of the region table: fn, as the table printer calls it (struct
 * ml_column_info's cell), over fn_, which reads the region and the ctx
 * (which few cells need). */
#define CELL(fn)                                                                   \
	static char *fn##_(const struct ml_region *r, __attribute__((unused)) const struct ctx *c, \
			   char *buf);                                             \
	static char *fn(const void *r, const void *c, unsigned int fl, char *buf)  \
	{                                                                          \
		(void)fl;                                                          \
		return fn##_(r, c, buf);                                           \
	}                                                                          \
	static char *fn##_(const struct ml_region *r, __attribute__((unused)) const struct ctx *c, \
			   char *buf)

/* Text built in buf up to e, ended. */
static char *built(char *buf, char *e)
{
	*e = '\0';
	return buf;
}

static char *size_cell(uint64_t v, const struct ctx *c, char *buf)
{
	return ml_fmt_size(buf, v, c->flags);
}

static char *hex_cell(uint64_t v, char *buf)
{
	return built(buf, ml__put_hex(buf, v));
}

static char *dec_cell(uint64_t v, char *buf)
{
	return built(buf, ml__put_dec(buf, v));
}

/* Text the target controls, which the table printer escapes (ML_COL_TEXT,
 * ML_COL_ARRAY): in buf when it fits (most do: no malloc per row), else a
 * malloc'ed copy. */
static char *text_cell(const char *s, char *buf)
{
	size_t n = s ? strlen(s) : 0;

	if (!s || n >= CELL_BUF)
		return s ? strdup(s) : NULL;
	return memcpy(buf, s, n + 1);
}

CELL(c_start) { return hex_cell(r->start, buf); }
CELL(c_end) { return hex_cell(r->end, buf); }
CELL(c_offset) { return hex_cell(r->offset, buf); }
CELL(c_size) { return size_cell(r->end - r->start, c, buf); }
CELL(c_inode) { return dec_cell(r->inode, buf); }
CELL(c_name) { return text_cell(r->name, buf); }
CELL(c_kind) { return strcpy(buf, ml_kind_name(r->kind)); }   /* names are short */

/* Whose memory it is ("glibc", "probably jemalloc"), none when unknown. */
CELL(c_allocator)
{
	const char *a = ml_region_allocator(r);

	return a ? strcpy(buf, a) : NULL;   /* static words, short */
}

/* The object, with " (deleted)" when the file is gone. */
CELL(c_object)
{
	static const char del[] = " (deleted)";
	const char *o = c->labels ? c->labels[r - c->snap->regions] : r->object;
	size_t n;
	char *s;

	if (!o || !r->deleted)
		return text_cell(o, buf);
	n = strlen(o);
	if ((s = malloc(n + sizeof(del)))) {
		memcpy(s, o, n);
		memcpy(s + n, del, sizeof(del));
	}
	return s;
}

CELL(c_dev)
{
	static const char hex[] = "0123456789abcdef";
	char *p = buf;

	/* "%02x:%02x": at least two lower-case hex digits each */
	for (int i = 0; i < 2; i++) {
		unsigned int v = i ? r->dev_minor : r->dev_major;
		int shift = 28;
		while (shift > 4 && !(v >> shift))
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			*p++ = hex[(v >> shift) & 15];
		if (!i)
			*p++ = ':';
	}
	return built(buf, p);
}

CELL(c_perms)
{
	return built(buf, ml_perms_str(r->perms, buf) + 4);
}

CELL(c_tid)
{
	if (!r->tid)
		return NULL;
	if (r->tid < 0) {   /* never from the kernel; printed as it is */
		buf[0] = '-';
		return built(buf, ml__put_dec(buf + 1, -(uint64_t)(int64_t)r->tid));
	}
	return dec_cell((uint64_t)r->tid, buf);
}

/* Section names: one per line in JSON (an array), space-separated else. */
CELL(c_sections)
{
	char sep = (c->flags & ML_OUT_JSON) ? '\n' : ' ';
	size_t len = 1;
	char *s, *p;

	(void)buf;
	if (!r->nsections)   /* JSON: [] (ml_scols_print_doc) */
		return NULL;
	for (size_t i = 0; i < r->nsections; i++)
		len += strlen(r->sections[i].name) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < r->nsections; i++) {
		size_t n = strlen(r->sections[i].name);
		if (i)
			*p++ = sep;
		memcpy(p, r->sections[i].name, n);
		p += n;
	}
	*p = '\0';
	return s;
}

CELL(c_vmflags)
{
	return r->have_smaps ? text_cell(r->smaps->vmflags_str, buf) : NULL;
}

#define SMAPS_CELL(fn, expr)                                               \
	CELL(fn)                                                           \
	{                                                                  \
		return r->have_smaps ? size_cell((expr), c, buf) : NULL;   \
	}
SMAPS_CELL(c_rss, r->smaps->rss)
SMAPS_CELL(c_pss, r->smaps->pss)
SMAPS_CELL(c_pss_dirty, r->smaps->pss_dirty)
SMAPS_CELL(c_dirty, r->smaps->shared_dirty + r->smaps->private_dirty)
SMAPS_CELL(c_swap, r->smaps->swap)
SMAPS_CELL(c_swap_pss, r->smaps->swap_pss)
SMAPS_CELL(c_shared_clean, r->smaps->shared_clean)
SMAPS_CELL(c_shared_dirty, r->smaps->shared_dirty)
SMAPS_CELL(c_private_clean, r->smaps->private_clean)
SMAPS_CELL(c_private_dirty, r->smaps->private_dirty)
SMAPS_CELL(c_anon, r->smaps->anonymous)
SMAPS_CELL(c_anonhuge, r->smaps->anon_huge)
SMAPS_CELL(c_locked, r->smaps->locked)
#undef SMAPS_CELL

/* The column table, one row per column, in the default order.  The long
 * text columns, OBJECT and SECTIONS, come last (as lsblk puts MOUNTPOINTS
 * last) so the empty cells of anonymous regions are never padded out:
 * X(name, whint, is_size, needs_smaps, default, help, cell, type,
 * fit rank, fit min): ML_COL_TEXT and ML_COL_ARRAY cells hold text the
 * target controls (names, paths, section names), the others only text
 * made here (numbers, permissions, kind names); on a terminal the default columns are fitted to its
 * width by hiding the highest ranks first (0: never; ML_FIT_OFF: END, which
 * START and SIZE say, always), OBJECT counted at 20 columns at most and
 * SECTIONS at 8 (libsmartcols cuts them to the room left).
 * It expands into the table's column descriptions (ml_column_info). */
#define COLUMNS(X)                                                                                  \
	X("START",    1,    false, false, true,  "start address", c_start, ML_COL_HEX, 0, 0)            \
	X("END",      1,    false, false, true,  "end address (exclusive)", c_end, ML_COL_HEX, ML_FIT_OFF, 0)    \
	X("SIZE",     5,    true,  false, true,  "virtual size", c_size, ML_COL_SIZE, 0, 0)                \
	X("PERMS",    5,    false, false, true,  "permissions: r w x, p(rivate) or s(hared)", c_perms, ML_COL_STR, 0, 0) \
	X("OFFSET",   1,    false, false, false, "offset in the mapped file", c_offset, ML_COL_HEX, 0, 0) \
	X("DEV",      5,    false, false, false, "device of the mapped file (major:minor)", c_dev, ML_COL_STR, 0, 0) \
	X("INODE",    1,    false, false, false, "inode of the mapped file", c_inode, ML_COL_NUM, 0, 0)     \
	X("KIND",     1,    false, false, true,  "what the region is (see memlayout-show(1))", c_kind, ML_COL_STR, 0, 0) \
	X("ALLOCATOR", 1,   false, false, true,  "whose heap memory it is (glibc, obmalloc, go, ...; \"probably\" for a guess)", c_allocator, ML_COL_STR, 3, 0) \
	X("RSS",      5,    true,  true,  true,  "resident set size", c_rss, ML_COL_SIZE, 2, 0)            \
	X("PSS",      5,    true,  true,  true,  "proportional set size", c_pss, ML_COL_SIZE, 4, 0)        \
	X("PSS_DIRTY", 5,   true,  true,  false, "proportional dirty size", c_pss_dirty, ML_COL_SIZE, 0, 0) \
	X("DIRTY",    5,    true,  true,  true,  "dirty pages, shared and private", c_dirty, ML_COL_SIZE, 6, 0) \
	X("SWAP",     5,    true,  true,  true,  "swapped out", c_swap, ML_COL_SIZE, 7, 0)                 \
	X("SWAP_PSS", 5,    true,  true,  false, "proportional swap", c_swap_pss, ML_COL_SIZE, 0, 0)       \
	X("SHARED_CLEAN", 5, true, true,  false, "clean pages shared with other processes", c_shared_clean, ML_COL_SIZE, 0, 0) \
	X("SHARED_DIRTY", 5, true, true,  false, "dirty pages shared with other processes", c_shared_dirty, ML_COL_SIZE, 0, 0) \
	X("PRIVATE_CLEAN", 5, true, true, false, "clean private pages", c_private_clean, ML_COL_SIZE, 0, 0) \
	X("PRIVATE_DIRTY", 5, true, true, false, "dirty private pages", c_private_dirty, ML_COL_SIZE, 0, 0) \
	X("ANON",     5,    true,  true,  false, "anonymous memory", c_anon, ML_COL_SIZE, 0, 0)            \
	X("ANONHUGE", 5,    true,  true,  false, "anonymous transparent huge pages", c_anonhuge, ML_COL_SIZE, 0, 0) \
	X("LOCKED",   5,    true,  true,  false, "locked in RAM (mlock)", c_locked, ML_COL_SIZE, 0, 0)     \
	X("VMFLAGS",  0.10, false, true,  false, "kernel VmFlags mnemonics", c_vmflags, ML_COL_TEXT, 0, 0) \
	X("TID",      5,    false, false, true,  "thread whose stack or guard this is", c_tid, ML_COL_NUM, 5, 0) \
	X("OBJECT",   0.25, false, false, true,  "the object it belongs to (ELF file, [heap], ...)", c_object, ML_COL_TEXT, 0, 20) \
	X("SECTIONS", 0.15, false, false, true,  "ELF sections it holds", c_sections, ML_COL_ARRAY, 1, 8)  \
	X("NAME",     0.20, false, false, false, "the name the kernel gives (decoded)", c_name, ML_COL_TEXT, 0, 0)

#define INFO_ROW(name, whint, size, smaps, def, help, fn, type, rank, min) \
	{ name, whint, size, smaps, def, help, type, fn, { rank, min }, NULL },
static const struct ml_column_info infos[] = { COLUMNS(INFO_ROW) };
#undef INFO_ROW

const struct ml_column_info *ml_columns(size_t *ret_n)
{
	*ret_n = ML_ARRAY_SIZE(infos);
	return infos;
}

/* The region table's -o list (columns.c parses every table's). */
int ml_columns_parse(const char *list, int *ret_ids, size_t max, size_t *ret_n,
		     const char **ret_bad)
{
	return ml_columns_parse_in(infos, ML_ARRAY_SIZE(infos), list, ret_ids, max,
				   ret_n, ret_bad);
}

/* The table; for JSON the document with its own members after the
 * table: which process, which format (bump ML_JSON_FORMAT when a key
 * changes meaning or type). */
#define ML_JSON_FORMAT 1
static int print_doc(FILE *out, unsigned int flags, const struct ml_table *t,
		     const struct ml_snapshot *snap)
{
	const struct ml_proc *p = &snap->proc;
	struct ml_json *j;
	int r;

	if (!(flags & ML_OUT_JSON))
		return ml_table_print(out, flags, t);
	if ((r = ml_json_begin(out, &j)) < 0)
		return r;
	r = ml_json_table(j, flags, t);
	ml_json_i64(j, "format_version", ML_JSON_FORMAT);
	ml_json_i64(j, "pid", p->pid);
	ml_json_str(j, "exe", p->exe);
	ml_json_str(j, "comm", p->comm);
	ml_json_i64(j, "word_size", p->is_32bit ? 32 : 64);
	int e = ml_json_end(j);
	return r < 0 ? r : e;
}

int ml_render_regions(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_table_opts *opts)
{
	struct ctx c = { snap, opts->flags, NULL };
	struct ml_table t = { "regions", infos, ML_ARRAY_SIZE(infos), opts->columns, opts->ncolumns,
			      snap->regions, sizeof(*snap->regions), snap->nregions, NULL, &c, false };
	bool fitted = (opts->flags & ML_OUT_TERM) && !opts->columns &&
		      !(opts->flags & (ML_OUT_JSON | ML_OUT_RAW));
	int r;

	/* A terminal's default table: objects by their shortest names. */
	if (fitted && (r = ml__object_labels(snap, &c.labels)) < 0)
		return r;
	r = print_doc(out, opts->flags, &t, snap);
	free(c.labels);
	return r;
}

/* The summary's rows: the kinds present, then the total. */
struct sum_row {
	const char *kind;
	struct ml_kind_total t;
};

/* The summary's columns (every figure but KIND and COUNT a size; without
 * smaps the first three). */
#define SUM(x) ((const struct sum_row *)(x))
CELL(s_kind) { return strcpy(buf, SUM(r)->kind); }
CELL(s_count) { return dec_cell(SUM(r)->t.count, buf); }
CELL(s_vsize) { return size_cell(SUM(r)->t.vsize, c, buf); }
CELL(s_rss) { return size_cell(SUM(r)->t.rss, c, buf); }
CELL(s_pss) { return size_cell(SUM(r)->t.pss, c, buf); }
CELL(s_dirty) { return size_cell(SUM(r)->t.dirty, c, buf); }
CELL(s_swap) { return size_cell(SUM(r)->t.swap, c, buf); }
#undef SUM

static const struct ml_column_info sum_cols[] = {
	{ "KIND", 5, false, false, true, "", ML_COL_STR, s_kind, { 0, 0 }, NULL },
	{ "COUNT", 5, false, false, true, "", ML_COL_NUM, s_count, { 0, 0 }, NULL },
	{ "VIRTUAL", 5, true, false, true, "", ML_COL_SIZE, s_vsize, { 0, 0 }, NULL },
	{ "RSS", 5, true, true, true, "", ML_COL_SIZE, s_rss, { 0, 0 }, NULL },
	{ "PSS", 5, true, true, true, "", ML_COL_SIZE, s_pss, { 0, 0 }, NULL },
	{ "DIRTY", 5, true, true, true, "", ML_COL_SIZE, s_dirty, { 0, 0 }, NULL },
	{ "SWAP", 5, true, true, true, "", ML_COL_SIZE, s_swap, { 0, 0 }, NULL },
};

int ml_render_summary(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_table_opts *opts)
{
	static const int ids[] = { 0, 1, 2, 3, 4, 5, 6 };
	struct ml_kind_total tot[ML_KIND__COUNT];
	struct sum_row rows[ML_KIND__COUNT + 1], *all;
	bool smaps = snap->nregions && snap->regions[0].have_smaps;
	/* Without smaps there are no residency figures: no empty columns. */
	size_t ncols = smaps ? ML_ARRAY_SIZE(sum_cols) : 3, nrows = 0;
	struct ctx c = { snap, opts->flags, NULL };

	ml_snapshot_totals(snap, tot);
	for (int k = 0; k < ML_KIND__COUNT; k++)
		if (tot[k].count)
			rows[nrows++] = (struct sum_row){ ml_kind_name(k), tot[k] };
	all = &rows[nrows];
	*all = (struct sum_row){ "total", { 0 } };
	for (size_t i = 0; i < nrows; i++) {
		all->t.count += rows[i].t.count;
		all->t.vsize += rows[i].t.vsize;
		all->t.rss += rows[i].t.rss;
		all->t.pss += rows[i].t.pss;
		all->t.dirty += rows[i].t.dirty;
		all->t.swap += rows[i].t.swap;
	}
	nrows++;
	return print_doc(out, opts->flags, &(struct ml_table){ "summary", sum_cols, ML_ARRAY_SIZE(sum_cols),
		ids, ncols, rows, sizeof(*rows), nrows, NULL, &c, false }, snap);
}
