/* SPDX-License-Identifier: MIT */
/*
 * render-pages.c - the table of `memlayout pages`: per region (or part of
 * one) its page counts by state, a residency bar, and with --shared-with
 * the pages whose frames the other process maps too.  libsmartcols does
 * the table, raw and JSON output through the one table printer
 * (columns.c); one column table drives the default set, --list-columns,
 * -o and the JSON types.
 *
 * Counts a method could not know (ml_residency.unknown) print as "?" and
 * as JSON null.  Target-controlled text (OBJECT, ML_COL_TEXT) is escaped
 * by the table printer.  With colour a bar
 * takes the colour of the state most of its touched pages are in.  On a
 * terminal the default columns fit its width: END left out, the counts
 * that are mostly 0 hidden first, objects by their shortest names.
 */
#include "ml-pages.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	const struct ml_pages_row *rows;
	const char **labels;      /* a terminal's default table: per row the
	                             object's shortest unambiguous name */
};

#define ROW(x) ((const struct ml_pages_row *)(x))
#define CELL(fn) static char *fn(const void *x, const void *cv, unsigned int fl, char *buf)

/* A count of one state; "?" (JSON: null) if it could not be known. */
static char *state_cell(const void *x, unsigned int fl, char *buf, enum ml_pstate st)
{
	if (ROW(x)->res.unknown >> st & 1)
		return (fl & ML_OUT_JSON) ? NULL : strcpy(buf, "?");
	return ml_fmt_u64(buf, ROW(x)->res.pages[st]);
}

CELL(c_pid) { (void)cv, (void)fl; return ml_fmt_u64(buf, (uint64_t)ROW(x)->pid); }
CELL(c_start) { (void)cv, (void)fl; return ml_fmt_hex(buf, ROW(x)->res.start); }
CELL(c_end) { (void)cv, (void)fl; return ml_fmt_hex(buf, ROW(x)->res.end); }
CELL(c_kind) { (void)cv, (void)fl; return strcpy(buf, ml_kind_name(ROW(x)->region->kind)); }
CELL(c_size) { (void)cv; return ml_fmt_size(buf, ROW(x)->res.end - ROW(x)->res.start, fl); }
CELL(c_perms) { (void)cv, (void)fl; return ml_perms_str(ROW(x)->region->perms, buf); }

CELL(c_object)
{
	const struct ctx *c = cv;
	const char *o = c->labels ? c->labels[ROW(x) - c->rows] : ROW(x)->region->object;

	(void)fl, (void)buf;
	return o ? strdup(o) : NULL;
}

CELL(c_pages)
{
	uint64_t n = 0;

	(void)cv, (void)fl;
	for (int i = 0; i < ML_PST__COUNT; i++)
		n += ROW(x)->res.pages[i];
	return ml_fmt_u64(buf, n);
}

/* In RAM and this process's own mapping of a frame: present and huge
 * (what smaps counts as Rss); the zero page is counted apart. */
CELL(c_resident) { (void)cv, (void)fl; return ml_fmt_u64(buf, ROW(x)->res.pages[ML_PST_PRESENT] + ROW(x)->res.pages[ML_PST_HUGE]); }
CELL(c_untouched) { (void)cv; return state_cell(x, fl, buf, ML_PST_UNTOUCHED); }
CELL(c_swapped) { (void)cv; return state_cell(x, fl, buf, ML_PST_SWAPPED); }
CELL(c_zero) { (void)cv; return state_cell(x, fl, buf, ML_PST_ZERO); }
CELL(c_huge) { (void)cv; return state_cell(x, fl, buf, ML_PST_HUGE); }
CELL(c_guard) { (void)cv; return state_cell(x, fl, buf, ML_PST_GUARD); }
CELL(c_shared) { (void)cv, (void)fl; return ROW(x)->have_share ? ml_fmt_u64(buf, ROW(x)->share.shared) : NULL; }
CELL(c_private) { (void)cv, (void)fl; return ROW(x)->have_share ? ml_fmt_u64(buf, ROW(x)->share.private_pages) : NULL; }
CELL(c_bar) { (void)cv, (void)fl, (void)buf; return strdup(ROW(x)->res.bar); }

/* Colour of a bar, by the state holding most of the touched pages (a
 * cell's colour is all libsmartcols can align: it measures escape
 * sequences inside the text as printable). */
static const char *const bar_colors[ML_PST__COUNT] = {
	[ML_PST_PRESENT] = "green", [ML_PST_HUGE] = "magenta", [ML_PST_ZERO] = "cyan",
	[ML_PST_SWAPPED] = "yellow", [ML_PST_GUARD] = "red",
};

static const char *bar_color(const void *x, const void *cv)
{
	int best = ML_PST_UNTOUCHED;

	(void)cv;
	for (int s = ML_PST_UNTOUCHED + 1; s < ML_PST__COUNT; s++)
		if (ROW(x)->res.pages[s] && (best == ML_PST_UNTOUCHED ||
					     ROW(x)->res.pages[s] >= ROW(x)->res.pages[best]))
			best = s;
	return bar_colors[best];
}

/* On a terminal the counts that are mostly 0 give way first. */
#define COL(name, whint, def, help, type, fn, rank, min) \
	{ name, whint, type == ML_COL_SIZE, false, def, help, type, fn, { rank, min }, NULL }
static const struct ml_column_info columns[] = {
	COL("PID",       5,    false, "process ID", ML_COL_NUM, c_pid, 0, 0),
	COL("START",     0.10, true,  "start address of the part scanned", ML_COL_HEX, c_start, 0, 0),
	COL("END",       0.10, true,  "end address (exclusive)", ML_COL_HEX, c_end, ML_FIT_OFF, 0),
	COL("SIZE",      5,    false, "virtual size", ML_COL_SIZE, c_size, 0, 0),
	COL("PERMS",     5,    false, "permissions: r w x, p(rivate) or s(hared)", ML_COL_STR, c_perms, 0, 0),
	COL("KIND",      0.06, true,  "what the region is (see memlayout-show(1))", ML_COL_STR, c_kind, 0, 0),
	COL("OBJECT",    0.20, true,  "the object it belongs to", ML_COL_TEXT, c_object, 0, 20),
	COL("PAGES",     5,    true,  "pages in the range", ML_COL_NUM, c_pages, 3, 0),
	COL("RESIDENT",  5,    true,  "pages in RAM that map their own frame (smaps Rss)", ML_COL_NUM, c_resident, 0, 0),
	COL("HUGE",      5,    true,  "pages of PMD-mapped huge pages (THP, hugetlb)", ML_COL_NUM, c_huge, 5, 0),
	COL("ZERO",      5,    true,  "pages mapping the shared zero page (read, never written)", ML_COL_NUM, c_zero, 6, 0),
	COL("SWAPPED",   5,    true,  "pages in swap", ML_COL_NUM, c_swapped, 4, 0),
	COL("GUARD",     5,    true,  "guard markers (MADV_GUARD_INSTALL)", ML_COL_NUM, c_guard, 7, 0),
	COL("UNTOUCHED", 5,    true,  "pages with no page-table entry: never touched", ML_COL_NUM, c_untouched, 2, 0),
	{ "BAR", 0.20, false, false, true, "residency bar: O present H huge Z zero S swapped G guard . untouched",
	  ML_COL_STR, c_bar, { 0, 0 }, bar_color },
	COL("SHARED",    5,    false, "--shared-with: pages whose frame the other process maps too", ML_COL_NUM, c_shared, 0, 0),
	COL("PRIVATE",   5,    false, "--shared-with: resident pages whose frame the other does not map", ML_COL_NUM, c_private, 0, 0),
};
#undef COL

const struct ml_column_info *ml_pages_columns(size_t *ret_n)
{
	*ret_n = ML_ARRAY_SIZE(columns);
	return columns;
}

int ml_pages_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad)
{
	return ml_columns_parse_in(columns, ML_ARRAY_SIZE(columns), list, ret_ids, max, ret_n, ret_bad);
}

int ml_render_pages(const struct ml_pages_row *rows, size_t n, FILE *out,
		    const struct ml_table_opts *opts)
{
	struct ctx c = { rows, NULL };
	struct ml_table t = { "pages", columns, ML_ARRAY_SIZE(columns), opts->columns,
			      opts->ncolumns, rows, sizeof(*rows), n, NULL, &c, false };
	bool fitted = (opts->flags & ML_OUT_TERM) && !opts->columns &&
		      !(opts->flags & (ML_OUT_JSON | ML_OUT_RAW));
	int r = 0;

	if (fitted) {   /* objects by their shortest unambiguous names */
		const char **objs = malloc((n ? n : 1) * sizeof(*objs));
		r = objs ? 0 : -ENOMEM;
		for (size_t i = 0; i < n && objs; i++)
			objs[i] = rows[i].region->object;
		if (r == 0)
			r = ml__path_labels(objs, n, &c.labels);
		free(objs);
	}
	if (r == 0)
		r = ml_table_print(out, opts->flags, &t);
	free(c.labels);
	return r;
}
