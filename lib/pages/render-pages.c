/* SPDX-License-Identifier: MIT */
/*
 * render-pages.c - the table of `memlayout pages`: per region (or part of
 * one) its page counts by state, a residency bar, and with --shared-with
 * the pages whose frames the other process maps too.  libsmartcols does
 * the table, raw and JSON output; one column table drives the default
 * set, --list-columns, -o and the JSON types.
 *
 * Counts a method could not know (ml_residency.unknown) print as "?" and
 * as JSON null.  Target-controlled text (OBJECT) is left to libsmartcols'
 * encoding on a terminal and made valid UTF-8 for JSON.  With colour a bar
 * takes the colour of the state most of its touched pages are in.  On a
 * terminal the default columns fit its width: END left out, the counts
 * that are mostly 0 hidden first, objects by their shortest names.
 */
#include "ml-pages.h"

#include <errno.h>
#include <inttypes.h>
#include <libsmartcols/libsmartcols.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	unsigned int flags;
	const struct ml_pages_row *rows;
	const char **labels;      /* a terminal's default table: per row the
	                             object's shortest unambiguous name */
};

typedef char *(*cell_fn)(const struct ml_pages_row *r, const struct ctx *c);


static char *num(uint64_t v) { return ml__asprintf("%" PRIu64, v); }

/* A count of one state; "?" (JSON: null) if it could not be known. */
static char *state_cell(const struct ml_pages_row *r, const struct ctx *c,
			enum ml_pstate st)
{
	if (r->res.unknown >> st & 1)
		return (c->flags & ML_OUT_JSON) ? NULL : strdup("?");
	return num(r->res.pages[st]);
}

static char *c_pid(const struct ml_pages_row *r, const struct ctx *c) { (void)c; return ml__asprintf("%d", (int)r->pid); }
static char *c_start(const struct ml_pages_row *r, const struct ctx *c) { (void)c; return ml__asprintf("0x%" PRIx64, r->res.start); }
static char *c_end(const struct ml_pages_row *r, const struct ctx *c) { (void)c; return ml__asprintf("0x%" PRIx64, r->res.end); }
static char *c_kind(const struct ml_pages_row *r, const struct ctx *c) { (void)c; return strdup(ml_kind_name(r->region->kind)); }

static char *c_size(const struct ml_pages_row *r, const struct ctx *c)
{
	char buf[32];
	uint64_t v = r->res.end - r->res.start;

	if (c->flags & ML_OUT_BYTES)
		return num(v);
	return strdup(ml_size_human(v, buf, sizeof(buf)));
}

static char *c_perms(const struct ml_pages_row *r, const struct ctx *c)
{
	char buf[5];

	(void)c;
	return strdup(ml_perms_str(r->region->perms, buf));
}

static char *c_object(const struct ml_pages_row *r, const struct ctx *c)
{
	const char *o = c->labels ? c->labels[r - c->rows] : r->region->object;

	if (!o)
		return NULL;
	return ml__escape_cell(o, c->flags);
}

static char *c_pages(const struct ml_pages_row *r, const struct ctx *c)
{
	uint64_t n = 0;

	(void)c;
	for (int i = 0; i < ML_PST__COUNT; i++)
		n += r->res.pages[i];
	return num(n);
}

/* In RAM and this process's own mapping of a frame: present and huge
 * (what smaps counts as Rss); the zero page is counted apart. */
static char *c_resident(const struct ml_pages_row *r, const struct ctx *c)
{
	(void)c;
	return num(r->res.pages[ML_PST_PRESENT] + r->res.pages[ML_PST_HUGE]);
}

static char *c_untouched(const struct ml_pages_row *r, const struct ctx *c) { return state_cell(r, c, ML_PST_UNTOUCHED); }
static char *c_swapped(const struct ml_pages_row *r, const struct ctx *c) { return state_cell(r, c, ML_PST_SWAPPED); }
static char *c_zero(const struct ml_pages_row *r, const struct ctx *c) { return state_cell(r, c, ML_PST_ZERO); }
static char *c_huge(const struct ml_pages_row *r, const struct ctx *c) { return state_cell(r, c, ML_PST_HUGE); }
static char *c_guard(const struct ml_pages_row *r, const struct ctx *c) { return state_cell(r, c, ML_PST_GUARD); }
static char *c_shared(const struct ml_pages_row *r, const struct ctx *c) { (void)c; return r->have_share ? num(r->share.shared) : NULL; }
static char *c_private(const struct ml_pages_row *r, const struct ctx *c) { (void)c; return r->have_share ? num(r->share.private_pages) : NULL; }

/* Colour of a bar, by the state holding most of the touched pages (a
 * cell's colour is all libsmartcols can align: it measures escape
 * sequences inside the text as printable). */
static const char *const bar_colors[ML_PST__COUNT] = {
	[ML_PST_PRESENT] = "green", [ML_PST_HUGE] = "magenta", [ML_PST_ZERO] = "cyan",
	[ML_PST_SWAPPED] = "yellow", [ML_PST_GUARD] = "red",
};

static const char *bar_color(const struct ml_pages_row *r)
{
	int best = ML_PST_UNTOUCHED;

	for (int s = ML_PST_UNTOUCHED + 1; s < ML_PST__COUNT; s++)
		if (r->res.pages[s] && (best == ML_PST_UNTOUCHED ||
					r->res.pages[s] >= r->res.pages[best]))
			best = s;
	return bar_colors[best];
}

static char *c_bar(const struct ml_pages_row *r, const struct ctx *c)
{
	(void)c;
	return strdup(r->res.bar);
}

enum json_kind { J_STR, J_SIZE, J_NUM };

static const struct column {
	struct ml_column_info info;
	cell_fn fn;
	enum json_kind json;
	bool right;
	const char *(*color)(const struct ml_pages_row *r);  /* with ML_OUT_COLOR */
	struct ml_fit fit;       /* on a terminal (ml_scols_fit): counts
	                             that are mostly 0 hidden first */
} columns[] = {
	/* name, whint, is_size, needs_smaps, default, help */
	{ { "PID",       5,    false, false, false, "process ID" }, c_pid, J_NUM, true, NULL, { 0, 0 } },
	{ { "START",     0.10, false, false, true,  "start address of the part scanned" }, c_start, J_STR, true, NULL, { 0, 0 } },
	{ { "END",       0.10, false, false, true,  "end address (exclusive)" }, c_end, J_STR, true, NULL, { ML_FIT_OFF, 0 } },
	{ { "SIZE",      5,    true,  false, false, "virtual size" }, c_size, J_SIZE, true, NULL, { 0, 0 } },
	{ { "PERMS",     5,    false, false, false, "permissions: r w x, p(rivate) or s(hared)" }, c_perms, J_STR, false, NULL, { 0, 0 } },
	{ { "KIND",      0.06, false, false, true,  "what the region is (see memlayout-show(1))" }, c_kind, J_STR, false, NULL, { 0, 0 } },
	{ { "OBJECT",    0.20, false, false, true,  "the object it belongs to" }, c_object, J_STR, false, NULL, { 0, 20 } },
	{ { "PAGES",     5,    false, false, true,  "pages in the range" }, c_pages, J_NUM, true, NULL, { 3, 0 } },
	{ { "RESIDENT",  5,    false, false, true,  "pages in RAM that map their own frame (smaps Rss)" }, c_resident, J_NUM, true, NULL, { 0, 0 } },
	{ { "HUGE",      5,    false, false, true,  "pages of PMD-mapped huge pages (THP, hugetlb)" }, c_huge, J_NUM, true, NULL, { 5, 0 } },
	{ { "ZERO",      5,    false, false, true,  "pages mapping the shared zero page (read, never written)" }, c_zero, J_NUM, true, NULL, { 6, 0 } },
	{ { "SWAPPED",   5,    false, false, true,  "pages in swap" }, c_swapped, J_NUM, true, NULL, { 4, 0 } },
	{ { "GUARD",     5,    false, false, true,  "guard markers (MADV_GUARD_INSTALL)" }, c_guard, J_NUM, true, NULL, { 7, 0 } },
	{ { "UNTOUCHED", 5,    false, false, true,  "pages with no page-table entry: never touched" }, c_untouched, J_NUM, true, NULL, { 2, 0 } },
	{ { "BAR",       0.20, false, false, true,  "residency bar: O present H huge Z zero S swapped G guard . untouched" }, c_bar, J_STR, false, bar_color, { 0, 0 } },
	{ { "SHARED",    5,    false, false, false, "--shared-with: pages whose frame the other process maps too" }, c_shared, J_NUM, true, NULL, { 0, 0 } },
	{ { "PRIVATE",   5,    false, false, false, "--shared-with: resident pages whose frame the other does not map" }, c_private, J_NUM, true, NULL, { 0, 0 } },
};

const struct ml_column_info *ml_pages_columns(size_t *ret_n)
{
	static struct ml_column_info infos[ML_ARRAY_SIZE(columns)];

	for (size_t i = 0; i < ML_ARRAY_SIZE(columns); i++)
		infos[i] = columns[i].info;
	*ret_n = ML_ARRAY_SIZE(columns);
	return infos;
}

int ml_pages_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad)
{
	size_t n;
	const struct ml_column_info *infos = ml_pages_columns(&n);

	return ml_columns_parse_in(infos, n, list, ret_ids, max, ret_n, ret_bad);
}

static int json_type(enum json_kind j, unsigned int flags)
{
	if (j == J_NUM || (j == J_SIZE && (flags & ML_OUT_BYTES)))
		return SCOLS_JSON_NUMBER;
	return SCOLS_JSON_STRING;
}

/* The columns; fitted to a terminal, OBJECT may be cut (ml_scols_fit). */
static int add_columns(struct libscols_table *tb, const int *ids, size_t n,
		       unsigned int flags, bool fitted)
{
	for (size_t i = 0; i < n; i++) {
		const struct column *col = &columns[ids[i]];
		int fl = col->right ? SCOLS_FL_RIGHT : fitted && col->fit.min ? SCOLS_FL_TRUNC : 0;
		struct libscols_column *cl = scols_table_new_column(tb, col->info.name,
			col->info.whint, fl);
		if (!cl)
			return -ENOMEM;
		scols_column_set_json_type(cl, json_type(col->json, flags));
	}
	return 0;
}

int ml_render_pages(const struct ml_pages_row *rows, size_t n, FILE *out,
		    const struct ml_table_opts *opts)
{
	int defids[ML_ARRAY_SIZE(columns)];
	const int *ids = opts->columns;
	size_t nids = opts->ncolumns;
	struct ctx c = { opts->flags, rows, NULL };
	struct ml_fit fit[ML_ARRAY_SIZE(columns)];
	bool fitted = (opts->flags & ML_OUT_TERM) && !ids &&
		      !(opts->flags & (ML_OUT_JSON | ML_OUT_RAW));
	struct libscols_table *tb;
	int r;

	if (c.flags & (ML_OUT_JSON | ML_OUT_RAW))
		c.flags &= ~(unsigned int)ML_OUT_COLOR;
	if (!(tb = ml_scols_table_new(out, c.flags, "pages")))
		return -ENOMEM;
	if (!ids) {
		size_t ninfos;
		const struct ml_column_info *infos = ml_pages_columns(&ninfos);
		nids = ml_columns_default(infos, ninfos, defids, ML_ARRAY_SIZE(defids));
		ids = defids;
	}
	if ((r = add_columns(tb, ids, nids, c.flags, fitted)) < 0)
		goto out;
	if (fitted) {   /* objects by their shortest unambiguous names */
		const char **objs = malloc((n ? n : 1) * sizeof(*objs));
		r = objs ? 0 : -ENOMEM;
		for (size_t i = 0; i < n && objs; i++)
			objs[i] = rows[i].region->object;
		if (r == 0)
			r = ml__path_labels(objs, n, &c.labels);
		free(objs);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < nids; k++) {
			errno = 0;
			char *data = columns[ids[k]].fn(&rows[i], &c);
			if (!data && errno == ENOMEM) {   /* not an empty cell */
				r = -ENOMEM;
				goto out;
			}
			if (data && scols_line_refer_data(ln, k, data) < 0) {
				free(data);
				r = -ENOMEM;
				goto out;
			}
			if ((c.flags & ML_OUT_COLOR) && columns[ids[k]].color &&
			    columns[ids[k]].color(&rows[i]))
				scols_cell_set_color(scols_line_get_cell(ln, k),
						     columns[ids[k]].color(&rows[i]));
		}
	}
	for (size_t i = 0; i < nids; i++)
		fit[i] = columns[ids[i]].fit;
	if (fitted && (r = ml_scols_fit(tb, fit, nids)) < 0)
		goto out;
	r = ml_scols_print(tb);
out:
	scols_unref_table(tb);
	free(c.labels);
	return r;
}
