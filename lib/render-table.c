/* SPDX-License-Identifier: MIT */
/*
 * render-table.c - the region table and the per-kind summary, through
 * libsmartcols (util-linux conventions: -o columns, JSON, raw, no headings).
 *
 * One table of columns drives everything: the default set, --list-columns,
 * -o parsing, JSON types and the cell text.  Text the target controls
 * (names, paths, section names) is escaped: for the terminal by
 * libsmartcols (every non-printable character as \xHH); for JSON, invalid
 * UTF-8 here and the rest by libsmartcols' JSON writer, printed through
 * ml_scols_print_doc() (DEL and bidi controls as \u escapes, an empty
 * SECTIONS as []).  The JSON document (doc/schema/show.json, show-summary.json)
 * carries, after the table, the process it describes: format_version, pid,
 * exe, comm, word_size.
 */
#include "ml-private.h"

#include <errno.h>
#include <inttypes.h>
#include <libsmartcols/libsmartcols.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctx {
	const struct ml_snapshot *snap;
	unsigned int flags;
	bool borrow;              /* text cells: lent, not malloc'ed (below) */
	char *scratch;            /* with borrow: where built text goes */
	size_t scap;
	size_t len;               /* the length of the text a cell built in
	                             its buf (the bulk writer then needs no
	                             strlen); SIZE_MAX: not told */
	const char **labels;      /* per region, the object's shortest
	                             unambiguous name (a terminal's default
	                             table), or NULL: whole paths */
};

/* A cell's text.  Short cells (numbers, permissions, kinds) are written
 * into buf (CELL_BUF bytes) and buf is returned; text cells return a
 * malloc'ed string the caller then owns -- or, with c->borrow, a string
 * that stays valid only until the next cell; NULL is an empty cell (with
 * errno ENOMEM: an allocation failed, and the table with it).  No
 * printf: with 20,000 regions the table has a quarter of a million cells. */
#define CELL_BUF ML__TEXT_CELL_BUF
typedef char *(*cell_fn)(const struct ml_region *r, const struct ctx *c, char *buf);

/* Text built in buf up to e: ended, and its length told (ctx.len). */
static char *built(const struct ctx *c, char *buf, char *e)
{
	*e = '\0';
	((struct ctx *)c)->len = (size_t)(e - buf);   /* the ctx's own field */
	return buf;
}

static char *size_cell(uint64_t v, const struct ctx *c, char *buf)
{
	return built(c, buf, (c->flags & ML_OUT_BYTES) ? ml__put_dec(buf, v) : ml__put_size_human(buf, v));
}

static char *hex_cell(uint64_t v, const struct ctx *c, char *buf)
{
	return built(c, buf, ml__put_hex(buf, v));
}

static char *dec_cell(uint64_t v, const struct ctx *c, char *buf)
{
	return built(c, buf, ml__put_dec(buf, v));
}

/* For JSON, invalid UTF-8 becomes \xHH text and the JSON writer escapes
 * the rest; for the terminal, libsmartcols' own encoding turns controls
 * into \xHH and ml__escape_cell() what it lets through (invisible
 * characters, "\x"). */
static char *text_cell(const char *s, const struct ctx *c)
{
	if (!s)
		return NULL;
	if (c->borrow)
		return (char *)s;
	return ml__escape_cell(s, c->flags);
}

/* Room for n bytes of built text: c->scratch when borrowing, else a new
 * malloc'ed buffer. */
static char *text_room(const struct ctx *c, size_t n)
{
	struct ctx *w = (struct ctx *)c;   /* the scratch buffer is the ctx's own */

	if (!c->borrow)
		return malloc(n);
	if (n > w->scap) {
		char *p = realloc(w->scratch, n);
		if (!p)
			return NULL;
		w->scratch = p;
		w->scap = n;
	}
	return w->scratch;
}

static char *c_start(const struct ml_region *r, const struct ctx *c, char *buf) { return hex_cell(r->start, c, buf); }
static char *c_end(const struct ml_region *r, const struct ctx *c, char *buf) { return hex_cell(r->end, c, buf); }
static char *c_offset(const struct ml_region *r, const struct ctx *c, char *buf) { return hex_cell(r->offset, c, buf); }
static char *c_size(const struct ml_region *r, const struct ctx *c, char *buf) { return size_cell(r->end - r->start, c, buf); }
static char *c_inode(const struct ml_region *r, const struct ctx *c, char *buf) { return dec_cell(r->inode, c, buf); }
static char *c_name(const struct ml_region *r, const struct ctx *c, char *buf) { (void)buf; return text_cell(r->name, c); }

static char *c_kind(const struct ml_region *r, const struct ctx *c, char *buf)
{
	if (c->borrow)
		return (char *)ml_kind_name(r->kind);
	return strcpy(buf, ml_kind_name(r->kind));   /* names are short */
}

/* Whose memory it is ("glibc", "probably jemalloc"), none when unknown. */
static char *c_allocator(const struct ml_region *r, const struct ctx *c, char *buf)
{
	const char *a = ml_region_allocator(r);

	if (!a)
		return NULL;
	if (c->borrow)
		return (char *)a;
	return strcpy(buf, a);   /* static words, short */
}

/* The object, with " (deleted)" when the file is gone. */
static char *c_object(const struct ml_region *r, const struct ctx *c, char *buf)
{
	static const char del[] = " (deleted)";
	char *o = text_cell(c->labels ? c->labels[r - c->snap->regions] : r->object, c), *s;
	size_t n;

	(void)buf;
	if (!o || !r->deleted)
		return o;
	n = strlen(o);
	if (c->borrow) {
		if ((s = text_room(c, n + sizeof(del))))
			memcpy(s, o, n);
	} else if (!(s = realloc(o, n + sizeof(del)))) {
		free(o);
	}
	if (s)
		memcpy(s + n, del, sizeof(del));
	return s;
}

static char *c_dev(const struct ml_region *r, const struct ctx *c, char *buf)
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
	return built(c, buf, p);
}

static char *c_perms(const struct ml_region *r, const struct ctx *c, char *buf)
{
	return built(c, buf, ml_perms_str(r->perms, buf) + 4);
}

static char *c_tid(const struct ml_region *r, const struct ctx *c, char *buf)
{
	if (!r->tid)
		return NULL;
	if (r->tid < 0) {   /* never from the kernel; printed as it is */
		buf[0] = '-';
		return built(c, buf, ml__put_dec(buf + 1, -(uint64_t)(int64_t)r->tid));
	}
	return dec_cell((uint64_t)r->tid, c, buf);
}

/* Section names: one per line in JSON (an array), space-separated else. */
static char *c_sections(const struct ml_region *r, const struct ctx *c, char *buf)
{
	char sep = (c->flags & ML_OUT_JSON) ? '\n' : ' ';
	size_t len = 1;
	char *s, *p;

	(void)buf;
	if (!r->nsections)   /* JSON: [] (ml_scols_print_doc) */
		return NULL;
	for (size_t i = 0; i < r->nsections; i++)
		len += strlen(r->sections[i].name) + 1;
	s = p = text_room(c, len);
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
	if (!(c->flags & ML_OUT_JSON) || c->borrow)
		return s;
	char *e = text_cell(s, c);
	free(s);
	return e;
}

static char *c_vmflags(const struct ml_region *r, const struct ctx *c, char *buf)
{
	(void)buf;
	return r->have_smaps ? text_cell(r->smaps->vmflags_str, c) : NULL;
}

#define SMAPS_CELL(fn, expr)                                                        \
	static char *fn(const struct ml_region *r, const struct ctx *c, char *buf) \
	{                                                                           \
		return r->have_smaps ? size_cell((expr), c, buf) : NULL;            \
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

/* How a column is typed in JSON; J_TEXT and J_ARRAY cells hold text the
 * target controls (names, paths, section names), the others only text
 * made here (numbers, permissions, kind names), which is plain ASCII. */
enum json_kind { J_STR, J_TEXT, J_HEXSTR, J_SIZE, J_NUM, J_ARRAY };

/* The column table, one row per column, in the default order.  The long
 * text columns, OBJECT and SECTIONS, come last (as lsblk puts MOUNTPOINTS
 * last) so the empty cells of anonymous regions are never padded out:
 * X(name, whint, is_size, needs_smaps, default, help, cell, json, right,
 * fit rank, fit min): on a terminal the default columns are fitted to its
 * width by hiding the highest ranks first (0: never; ML_FIT_OFF: END, which
 * START and SIZE say, always), OBJECT counted at 20 columns at most and
 * SECTIONS at 8 (libsmartcols cuts them to the room left).
 * It expands into the public ml_column_info table and, row for row, into
 * how each column is rendered. */
#define COLUMNS(X)                                                                                  \
	X("START",    1,    false, false, true,  "start address", c_start, J_HEXSTR, true, 0, 0)            \
	X("END",      1,    false, false, true,  "end address (exclusive)", c_end, J_HEXSTR, true, ML_FIT_OFF, 0)    \
	X("SIZE",     5,    true,  false, true,  "virtual size", c_size, J_SIZE, true, 0, 0)                \
	X("PERMS",    5,    false, false, true,  "permissions: r w x, p(rivate) or s(hared)", c_perms, J_STR, false, 0, 0) \
	X("OFFSET",   1,    false, false, false, "offset in the mapped file", c_offset, J_HEXSTR, true, 0, 0) \
	X("DEV",      5,    false, false, false, "device of the mapped file (major:minor)", c_dev, J_STR, false, 0, 0) \
	X("INODE",    1,    false, false, false, "inode of the mapped file", c_inode, J_NUM, true, 0, 0)     \
	X("KIND",     1,    false, false, true,  "what the region is (see memlayout-show(1))", c_kind, J_STR, false, 0, 0) \
	X("ALLOCATOR", 1,   false, false, true,  "whose heap memory it is (glibc, obmalloc, go, ...; \"probably\" for a guess)", c_allocator, J_STR, false, 3, 0) \
	X("RSS",      5,    true,  true,  true,  "resident set size", c_rss, J_SIZE, true, 2, 0)            \
	X("PSS",      5,    true,  true,  true,  "proportional set size", c_pss, J_SIZE, true, 4, 0)        \
	X("PSS_DIRTY", 5,   true,  true,  false, "proportional dirty size", c_pss_dirty, J_SIZE, true, 0, 0) \
	X("DIRTY",    5,    true,  true,  true,  "dirty pages, shared and private", c_dirty, J_SIZE, true, 6, 0) \
	X("SWAP",     5,    true,  true,  true,  "swapped out", c_swap, J_SIZE, true, 7, 0)                 \
	X("SWAP_PSS", 5,    true,  true,  false, "proportional swap", c_swap_pss, J_SIZE, true, 0, 0)       \
	X("SHARED_CLEAN", 5, true, true,  false, "clean pages shared with other processes", c_shared_clean, J_SIZE, true, 0, 0) \
	X("SHARED_DIRTY", 5, true, true,  false, "dirty pages shared with other processes", c_shared_dirty, J_SIZE, true, 0, 0) \
	X("PRIVATE_CLEAN", 5, true, true, false, "clean private pages", c_private_clean, J_SIZE, true, 0, 0) \
	X("PRIVATE_DIRTY", 5, true, true, false, "dirty private pages", c_private_dirty, J_SIZE, true, 0, 0) \
	X("ANON",     5,    true,  true,  false, "anonymous memory", c_anon, J_SIZE, true, 0, 0)            \
	X("ANONHUGE", 5,    true,  true,  false, "anonymous transparent huge pages", c_anonhuge, J_SIZE, true, 0, 0) \
	X("LOCKED",   5,    true,  true,  false, "locked in RAM (mlock)", c_locked, J_SIZE, true, 0, 0)     \
	X("VMFLAGS",  0.10, false, true,  false, "kernel VmFlags mnemonics", c_vmflags, J_TEXT, false, 0, 0) \
	X("TID",      5,    false, false, true,  "thread whose stack or guard this is", c_tid, J_NUM, true, 5, 0) \
	X("OBJECT",   0.25, false, false, true,  "the object it belongs to (ELF file, [heap], ...)", c_object, J_TEXT, false, 0, 20) \
	X("SECTIONS", 0.15, false, false, true,  "ELF sections it holds", c_sections, J_ARRAY, false, 1, 8)  \
	X("NAME",     0.20, false, false, false, "the name the kernel gives (decoded)", c_name, J_TEXT, false, 0, 0)

#define INFO_ROW(name, whint, size, smaps, def, help, fn, json, right, rank, min) \
	{ name, whint, size, smaps, def, help },
static const struct ml_column_info infos[] = { COLUMNS(INFO_ROW) };
#undef INFO_ROW

#define RENDER_ROW(name, whint, size, smaps, def, help, fn, json, right, rank, min) \
	{ fn, json, right, { rank, min } },
static const struct column {
	cell_fn fn;
	enum json_kind json;
	bool right;
	struct ml_fit fit;       /* on a terminal (ml_scols_fit) */
} columns[] = { COLUMNS(RENDER_ROW) };
#undef RENDER_ROW

_Static_assert(ML_ARRAY_SIZE(infos) == ML_ARRAY_SIZE(columns),
	       "one rendering row per column");

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

static int json_type(enum json_kind j, unsigned int flags)
{
	switch (j) {
	case J_SIZE:  return (flags & ML_OUT_BYTES) ? SCOLS_JSON_NUMBER : SCOLS_JSON_STRING;
	case J_NUM:   return SCOLS_JSON_NUMBER;
	case J_ARRAY: return SCOLS_JSON_ARRAY_STRING;
	default:      return SCOLS_JSON_STRING;
	}
}

/* One line of the region table: short cells are copied by libsmartcols
 * (scols_line_set_data), malloc'ed ones handed over (refer_data). */
static int add_line(struct libscols_table *tb, const struct ml_region *reg,
		    const struct ctx *c, const int *ids, size_t nids)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[CELL_BUF];

	if (!ln)
		return -ENOMEM;
	for (size_t k = 0; k < nids; k++) {
		errno = 0;
		char *data = columns[ids[k]].fn(reg, c, buf);
		int r = 0;

		if (!data && errno == ENOMEM)   /* a cell lost, not an empty one */
			return -ENOMEM;
		if (data == buf)
			r = scols_line_set_data(ln, k, buf);
		else if (data && (r = scols_line_refer_data(ln, k, data)) < 0)
			free(data);
		if (r < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Its cells hold text the target controls (names, paths, sections). */
static bool target_text(const struct column *col)
{
	return col->json == J_TEXT || col->json == J_ARRAY;
}

/* The table through the bulk writer (table-text.c) when it can print it
 * exactly as libsmartcols would: not JSON, stdout not a terminal (the test
 * libsmartcols makes), every cell plain ASCII.  -EILSEQ: it cannot, and
 * nothing was written. */
struct bulk {
	struct ctx c;
	const int *ids;
	size_t ncols;
	struct { char *p; size_t cap; } scratch[ML_ARRAY_SIZE(columns)];
};

/* The cells of a row, for table-text.c.  A column's built text lives in
 * its own scratch buffer, so that a row's cells all stay valid together
 * (table-text.c makes a row, then reads it). */
static void bulk_row(void *ctx, size_t row, const char **s, size_t *n,
		     char (*bufs)[ML__TEXT_CELL_BUF])
{
	struct bulk *b = ctx;
	const struct ml_region *r = &b->c.snap->regions[row];

	for (size_t col = 0; col < b->ncols; col++) {
		b->c.scratch = b->scratch[col].p;
		b->c.scap = b->scratch[col].cap;
		b->c.len = SIZE_MAX;
		s[col] = columns[b->ids[col]].fn(r, &b->c, bufs[col]);
		n[col] = s[col] == bufs[col] ? b->c.len : SIZE_MAX;
		b->scratch[col].p = b->c.scratch;
		b->scratch[col].cap = b->c.scap;
	}
}

/* May a table go to the bulk writer at all: not JSON, not turned off, and
 * stdout not a terminal (the test libsmartcols makes for its own output). */
static bool bulk_allowed(unsigned int flags)
{
	return !(flags & (ML_OUT_JSON | ML_OUT_SCOLS_ONLY | ML_OUT_TERM)) && !isatty(STDOUT_FILENO);
}

static int print_bulk(const struct ml_snapshot *snap, FILE *out, unsigned int flags,
		      const int *ids, size_t nids)
{
	struct bulk b = { { snap, flags, true, NULL, 0, 0 }, ids, nids, { { NULL, 0 } } };
	struct ml__text_col cols[ML_ARRAY_SIZE(columns)];
	int r;

	if (!bulk_allowed(flags))
		return -EILSEQ;
	for (size_t i = 0; i < nids; i++)
		cols[i] = (struct ml__text_col){ infos[ids[i]].name, infos[ids[i]].whint,
			columns[ids[i]].right, !target_text(&columns[ids[i]]) };
	r = ml__text_table_print(out, flags, cols, nids, snap->nregions, bulk_row, &b);
	for (size_t i = 0; i < nids; i++)
		free(b.scratch[i].p);
	return r;
}

/* The JSON document's own members: which process, which format (bump
 * ML_JSON_FORMAT when a key changes meaning or type).  NULL on ENOMEM. */
#define ML_JSON_FORMAT 1
static char *doc_members(const struct ml_snapshot *snap)
{
	const struct ml_proc *p = &snap->proc;
	char *s = NULL;
	size_t len = 0;
	FILE *f = ml_memstream_open(&s, &len);

	if (!f)
		return NULL;
	fprintf(f, "   \"format_version\": %d,\n   \"pid\": %d,\n   \"exe\": ",
		ML_JSON_FORMAT, (int)p->pid);
	ml__json_string(f, p->exe);
	fputs(",\n   \"comm\": ", f);
	ml__json_string(f, p->comm);
	fprintf(f, ",\n   \"word_size\": %d", p->is_32bit ? 32 : 64);
	if (ferror(f) | fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

/* The table; for JSON with the document's members. */
static int print_doc(struct libscols_table *tb, const struct ml_snapshot *snap)
{
	char *m = NULL;
	int r;

	if (scols_table_is_json(tb) && !(m = doc_members(snap)))
		return -ENOMEM;
	r = ml_scols_print_doc(tb, m);
	free(m);
	return r;
}

int ml_render_regions(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_table_opts *opts)
{
	int defids[ML_ARRAY_SIZE(columns)];
	const int *ids = opts->columns;
	size_t nids = opts->ncolumns;
	struct ctx c = { snap, opts->flags, false, NULL, 0, 0, NULL };
	struct ml_fit fit[ML_ARRAY_SIZE(columns)];
	struct libscols_table *tb;
	bool fitted = (opts->flags & ML_OUT_TERM) && !ids &&
		      !(opts->flags & (ML_OUT_JSON | ML_OUT_RAW));
	int r = 0;

	if (!ids) {
		nids = ml_columns_default(infos, ML_ARRAY_SIZE(infos), defids, ML_ARRAY_SIZE(defids));
		ids = defids;
	}
	if ((r = print_bulk(snap, out, opts->flags, ids, nids)) != -EILSEQ)
		return r;
	r = 0;
	/* A terminal's default table: objects by their shortest names. */
	if (fitted && (r = ml__object_labels(snap, &c.labels)) < 0)
		return r;
	if (!(tb = ml_scols_table_new(out, opts->flags, "regions"))) {
		free(c.labels);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nids; i++) {
		const struct column *col = &columns[ids[i]];
		/* On a narrow terminal the text columns (sections, object,
		 * name) are cut to fit; the others have absolute width hints,
		 * so libsmartcols never squeezes them below their text (which
		 * would spill the rest of the row onto a line of its own). */
		int fl = col->right ? SCOLS_FL_RIGHT : target_text(col) ? SCOLS_FL_TRUNC : 0;
		struct libscols_column *cl = scols_table_new_column(tb,
			infos[ids[i]].name, infos[ids[i]].whint, fl);
		if (!cl) {
			r = -ENOMEM;
			goto out;
		}
		scols_column_set_json_type(cl, json_type(col->json, opts->flags));
		/* libsmartcols splits an array cell at newlines only through
		 * its wrap callbacks (as lsblk's MOUNTPOINTS). */
		if (col->json == J_ARRAY && (opts->flags & ML_OUT_JSON)) {
			scols_column_set_flags(cl, SCOLS_FL_WRAP);
			scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize,
						  scols_wrapnl_nextchunk, NULL);
		}
	}
	for (size_t i = 0; i < snap->nregions && r == 0; i++)
		r = add_line(tb, &snap->regions[i], &c, ids, nids);
	for (size_t i = 0; i < nids; i++)
		fit[i] = columns[ids[i]].fit;
	if (r == 0 && fitted)
		r = ml_scols_fit(tb, fit, nids);
	if (r == 0)
		r = print_doc(tb, snap);
out:
	scols_unref_table(tb);
	free(c.labels);
	return r;
}

/* The summary's rows: the kinds present, then the total. */
struct sum_row {
	const char *kind;
	struct ml_kind_total t;
};

static const char *const sum_heads[] = { "KIND", "COUNT", "VIRTUAL", "RSS", "PSS", "DIRTY", "SWAP" };

struct sum {
	struct ctx c;
	const struct sum_row *rows;
	size_t ncols;
};

/* Cell col of a summary row into buf (kind names are ours: plain). */
static const char *sum_cell(const struct sum *m, const struct sum_row *row, size_t col,
			    char *buf)
{
	const struct ml_kind_total *t = &row->t;
	uint64_t v[] = { t->vsize, t->rss, t->pss, t->dirty, t->swap };

	if (col == 0)
		return row->kind;
	if (col == 1)
		return dec_cell(t->count, &m->c, buf);
	return size_cell(v[col - 2], &m->c, buf);
}

static void sum_row_cells(void *ctx, size_t row, const char **s, size_t *n,
			  char (*bufs)[ML__TEXT_CELL_BUF])
{
	struct sum *m = ctx;

	for (size_t col = 0; col < m->ncols; col++) {
		m->c.len = SIZE_MAX;
		s[col] = sum_cell(m, &m->rows[row], col, bufs[col]);
		n[col] = s[col] == bufs[col] ? m->c.len : SIZE_MAX;
	}
}

int ml_render_summary(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_table_opts *opts)
{
	struct ml_kind_total tot[ML_KIND__COUNT];
	struct sum_row rows[ML_KIND__COUNT + 1], *all;
	bool smaps = snap->nregions && snap->regions[0].have_smaps;
	/* Without smaps there are no residency figures: no empty columns. */
	size_t ncols = smaps ? ML_ARRAY_SIZE(sum_heads) : 3, nrows = 0;
	struct sum m = { { snap, opts->flags }, rows, ncols };
	char buf[CELL_BUF];

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

	/* Off a terminal, through the bulk writer as the region table. */
	if (bulk_allowed(opts->flags)) {
		struct ml__text_col cols[ML_ARRAY_SIZE(sum_heads)];
		for (size_t i = 0; i < ncols; i++)
			cols[i] = (struct ml__text_col){ sum_heads[i], 5, i > 0, true };
		int r = ml__text_table_print(out, opts->flags, cols, ncols, nrows, sum_row_cells, &m);
		if (r != -EILSEQ)
			return r;
	}

	struct libscols_table *tb = ml_scols_table_new(out, opts->flags, "summary");
	if (!tb)
		return -ENOMEM;
	for (size_t i = 0; i < ncols; i++) {
		struct libscols_column *cl = scols_table_new_column(tb, sum_heads[i], 5,
						i ? SCOLS_FL_RIGHT : 0);
		if (!cl) {
			scols_unref_table(tb);
			return -ENOMEM;
		}
		scols_column_set_json_type(cl, i == 0 ? SCOLS_JSON_STRING :
			i == 1 ? SCOLS_JSON_NUMBER : json_type(J_SIZE, opts->flags));
	}
	for (size_t k = 0; k < nrows; k++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln)
			break;
		for (size_t i = 0; i < ncols; i++)
			scols_line_set_data(ln, i, sum_cell(&m, &rows[k], i, buf));
	}
	int r = print_doc(tb, snap);
	scols_unref_table(tb);
	return r;
}
