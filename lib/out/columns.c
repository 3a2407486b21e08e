/* SPDX-License-Identifier: MIT */
/*
 * columns.c - the one table printer of memlayout: a util-linux column
 * list ("START,SIZE", "+RSS" to add to the default set) parsed against any
 * table of struct ml_column_info, its default set, and the table printed
 * from its column descriptions (ml_table_print): through libsmartcols for
 * text (aligned, raw, no headings, colour; on a terminal the default
 * columns fitted to its width, ml_scols_fit), through json.c for JSON,
 * target text (ML_COL_TEXT, ML_COL_ARRAY) escaped on the way; off a
 * terminal a table of plain ASCII goes to the bulk writer (table-text.c:
 * libsmartcols' bytes, faster), which refuses any other.
 */
#include "ml-out.h"

#include <ctype.h>
#include <errno.h>
#include <libsmartcols/libsmartcols.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int by_name(const struct ml_column_info *cols, size_t ncols,
		   const char *name, size_t len)
{
	for (size_t i = 0; i < ncols; i++)
		if (strlen(cols[i].name) == len && !strncasecmp(cols[i].name, name, len))
			return (int)i;
	return -1;
}

size_t ml_columns_default(const struct ml_column_info *cols, size_t ncols,
			  int *ret_ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ncols && n < max; i++)
		if (cols[i].is_default)
			ret_ids[n++] = (int)i;
	return n;
}

int ml_columns_parse_in(const struct ml_column_info *cols, size_t ncols,
			const char *list, int *ret_ids, size_t max, size_t *ret_n,
			const char **ret_bad)
{
	const char *p = list;
	size_t n = 0;

	if (*p == '+') {
		for (size_t i = 0; i < ncols; i++) {
			if (!cols[i].is_default)
				continue;
			if (n == max)
				return -E2BIG;
			ret_ids[n++] = (int)i;
		}
		p++;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		int id = by_name(cols, ncols, p, len);
		if (id < 0) {
			*ret_bad = p;
			return -EINVAL;
		}
		if (n == max)
			return -E2BIG;
		ret_ids[n++] = id;
		p += len;
		if (*p == ',')
			p++;
	}
	*ret_n = n;
	return 0;
}

struct libscols_table *ml_scols_table_new(FILE *out, unsigned int flags, const char *name)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_set_stream(tb, out);
	scols_table_enable_json(tb, !!(flags & ML_OUT_JSON));
	scols_table_enable_raw(tb, !!(flags & ML_OUT_RAW));
	scols_table_enable_noheadings(tb, !!(flags & ML_OUT_NOHEADINGS));
	scols_table_enable_colors(tb, !!(flags & ML_OUT_COLOR));
	scols_table_set_name(tb, name);
	if (flags & ML_OUT_TERM)
		scols_table_set_termforce(tb, SCOLS_TERMFORCE_ALWAYS);
	return tb;
}

/* Columns a cell takes on the terminal (its text as libsmartcols prints
 * it, multibyte characters by their width). */
static size_t cell_width(struct libscols_line *ln, size_t col)
{
	struct libscols_cell *ce = scols_line_get_cell(ln, col);
	const char *d = ce ? scols_cell_get_data(ce) : NULL;

	return d ? ml__text_width(d, strlen(d)) : 0;
}

/* The columns column col needs: its widest cell (a truncated column at
 * most min of it), its header, and an absolute width hint the header is
 * narrower than, as libsmartcols measures them. */
static size_t column_need(struct libscols_table *tb, struct libscols_column *cl,
			  size_t col, unsigned int min)
{
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	struct libscols_cell *hc = scols_column_get_header(cl);
	const char *title = hc ? scols_cell_get_data(hc) : NULL;
	size_t w = 0, head = title && !scols_table_is_noheadings(tb) ? strlen(title) : 0;
	double hint = scols_column_get_whint(cl);
	bool cut = min && (scols_column_get_flags(cl) & SCOLS_FL_TRUNC);

	while (it && scols_table_next_line(tb, it, &ln) == 0) {
		size_t cw = cell_width(ln, col);
		if (cw > w)
			w = cw;
	}
	scols_free_iter(it);
	if (cut) {
		if (w > min)
			w = min;
		else            /* all of it fits its min: never cut */
			scols_column_set_flags(cl, scols_column_get_flags(cl) & ~SCOLS_FL_TRUNC);
	}
	if (head > w)
		w = head;
	if (!cut && hint >= 1 && (size_t)hint > w && (size_t)hint > head)
		w = (size_t)hint;   /* a column cut to min is not widened by its hint */
	return w ? w : 1;
}

int ml_scols_fit(struct libscols_table *tb, const struct ml_fit *fit, size_t ncols)
{
	size_t need[ML_FIT_MAX], total = 0, width = scols_table_get_termwidth(tb);
	bool shown[ML_FIT_MAX];

	if (ncols > ML_FIT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < ncols; i++) {
		struct libscols_column *cl = scols_table_get_column(tb, i);
		if (cl && fit[i].rank == ML_FIT_OFF &&
		    scols_column_set_flags(cl, scols_column_get_flags(cl) | SCOLS_FL_HIDDEN) < 0)
			return -ENOMEM;
		shown[i] = cl && !(scols_column_get_flags(cl) & SCOLS_FL_HIDDEN);
		need[i] = shown[i] ? column_need(tb, cl, i, fit[i].min) : 0;
		total += shown[i] ? need[i] + (total ? 1 : 0) : 0;
	}
	while (total > width) {
		size_t drop = SIZE_MAX;
		for (size_t i = 0; i < ncols; i++)
			if (shown[i] && fit[i].rank && (drop == SIZE_MAX || fit[i].rank > fit[drop].rank))
				drop = i;
		if (drop == SIZE_MAX)
			break;             /* the rest: libsmartcols truncates */
		struct libscols_column *cl = scols_table_get_column(tb, drop);
		if (scols_column_set_flags(cl, scols_column_get_flags(cl) | SCOLS_FL_HIDDEN) < 0)
			return -ENOMEM;
		shown[drop] = false;
		total -= need[drop] + 1;
	}
	return 0;
}

void ml__json_string(FILE *out, const char *s)
{
	static const char short_esc[] = "\b\f\n\r\t";
	const unsigned char *q = (const unsigned char *)s;
	char *e;

	while (q && *q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
		q++;
	if (q && !*q) {           /* printable ASCII, nothing to escape: as it is */
		fprintf(out, "\"%s\"", s);
		return;
	}
	if (!(e = s ? ml_escape(s, ML_ESC_JSON_SAFE) : NULL)) {
		fputs("null", out);
		return;
	}
	size_t len = strlen(e);

	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)e; *p; p++) {
		int k;
		const char *sh = *p < 0x20 ? strchr(short_esc, *p) : NULL;

		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (sh && *p)   /* \b \f \n \r \t, as libsmartcols and jansson */
			fprintf(out, "\\%c", "bfnrt"[sh - short_esc]);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else if ((k = ml__json_u(out, (const char *)p, len - (size_t)(p - (const unsigned char *)e))) > 0)
			p += k - 1;   /* DEL, invisible characters */
		else
			fputc(*p, out);
	}
	fputc('"', out);
	free(e);
}

int ml__scols_safe(struct libscols_table *tb)
{
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_column *cl;
	int r = 0;

	if (!it)
		return -ENOMEM;
	while (r == 0 && scols_table_next_column(tb, it, &cl) == 0)
		r = scols_column_set_safechars(cl, "\\") ? -ENOMEM : 0;
	scols_free_iter(it);
	return r;
}


/* ---- the table printer: any table of struct ml_column_info with cells ---- */

bool ml__col_right(enum ml_col_type t)
{
	return t == ML_COL_HEX || t == ML_COL_SIZE || t == ML_COL_NUM || t == ML_COL_BOOL ||
	       t == ML_COL_FLOAT;
}

bool ml__col_target_text(enum ml_col_type t)
{
	return t == ML_COL_TEXT || t == ML_COL_ARRAY;
}

/* The columns t prints: its ids, or into ids its default set (JSON with
 * json_every: all). */
static const int *chosen(const struct ml_table *t, unsigned int flags, int *ids, size_t *ret_n)
{
	size_t n = 0;

	if (t->ids) {
		*ret_n = t->nids;
		return t->ids;
	}
	for (size_t i = 0; i < t->ncols && n < ML_FIT_MAX; i++)
		if (t->cols[i].is_default || (t->json_every && (flags & ML_OUT_JSON)))
			ids[n++] = (int)i;
	*ret_n = n;
	return ids;
}

static const void *row_at(const struct ml_table *t, size_t i)
{
	return (const char *)t->rows + i * t->stride;
}

/* Printable ASCII without a backslash reads the same escaped or not. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '\\')
			return false;
	return true;
}

/* Cell id of row as the caller owns it: *ret NULL (empty), or malloc'ed
 * (target text escaped for the terminal when flags say so).  0 or -ENOMEM. */
static int cell_text(const struct ml_column_info *col, const void *row, const void *ctx,
		     unsigned int flags, bool escape, char **ret)
{
	char buf[ML_CELL_BUF];
	char *s, *e;

	errno = 0;
	s = col->cell(row, ctx, flags, buf);
	if (!s) {
		*ret = NULL;
		return errno == ENOMEM ? -ENOMEM : 0;
	}
	if (escape && ml__col_target_text(col->type) && !plain(s))
		e = ml__escape_cell(s, flags);
	else
		e = s == buf ? strdup(buf) : s;
	if (s != buf && e != s)
		free(s);
	*ret = e;
	return e ? 0 : -ENOMEM;
}

static int add_column(struct libscols_table *tb, const struct ml_column_info *col, bool fitted,
		      const char *color)
{
	int fl = ml__col_right(col->type) && !col->left ? SCOLS_FL_RIGHT :
		 ml__col_target_text(col->type) || (fitted && col->fit.min) ? SCOLS_FL_TRUNC : 0;
	struct libscols_column *cl = scols_table_new_column(tb, col->name,
							    col->whint ? col->whint : 1, fl);

	return cl && (!color || scols_column_set_color(cl, color) == 0) ? 0 : -ENOMEM;
}

static int add_rows(struct libscols_table *tb, unsigned int flags, const struct ml_table *t,
		    const int *ids, size_t nids)
{
	for (size_t i = 0; i < t->nrows; i++) {
		if (t->skip && t->skip[i])
			continue;
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln)
			return -ENOMEM;
		for (size_t k = 0; k < nids; k++) {
			char *s;
			int r = cell_text(&t->cols[ids[k]], row_at(t, i), t->ctx, flags, true, &s);
			if (r < 0)
				return r;
			if (s && scols_line_refer_data(ln, k, s) < 0) {
				free(s);
				return -ENOMEM;
			}
			const struct ml_column_info *col = &t->cols[ids[k]];
			const char *color = col->color && (flags & ML_OUT_COLOR) &&
				!(flags & (ML_OUT_JSON | ML_OUT_RAW)) ? col->color(row_at(t, i), t->ctx) : NULL;
			if (color && scols_cell_set_color(scols_line_get_cell(ln, k), color) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int print_scols(FILE *out, unsigned int flags, const struct ml_table *t)
{
	int defids[ML_FIT_MAX];
	size_t nids;
	const int *ids = chosen(t, flags, defids, &nids);
	bool fitted = (flags & ML_OUT_TERM) && !t->ids && !(flags & (ML_OUT_JSON | ML_OUT_RAW));
	struct libscols_table *tb = ml_scols_table_new(out, flags & ~ML_OUT_JSON, t->name);
	struct ml_fit fit[ML_FIT_MAX];
	int r = tb ? 0 : -ENOMEM;

	if (nids > ML_FIT_MAX)
		r = -EINVAL;
	for (size_t i = 0; i < nids && r == 0; i++) {
		fit[i] = t->cols[ids[i]].fit;
		r = add_column(tb, &t->cols[ids[i]], fitted, t->colors && (flags & ML_OUT_COLOR) &&
			       !(flags & ML_OUT_RAW) ? t->colors[ids[i]] : NULL);
	}
	if (r == 0)
		r = add_rows(tb, flags, t, ids, nids);
	for (size_t i = 0; i < nids && r == 0 && fitted; i++)
		if (t->cols[ids[i]].label)
			r = ml__scols_label_column(tb, i);
	if (r == 0 && fitted)
		r = ml_scols_fit(tb, fit, nids);
	if (r == 0)
		r = ml__scols_safe(tb) < 0 ? -ENOMEM : scols_print_table(tb);
	scols_unref_table(tb);
	return r;
}

/* Cell s of col as a JSON member of its row. */
static void json_cell(struct ml_json *j, const char *key, enum ml_col_type type,
		      unsigned int flags, const char *s)
{
	if (type == ML_COL_ARRAY) {
		ml_json_open(j, key, true);
		for (const char *p = s; p && *p;) {
			size_t n = strcspn(p, "\n");
			char *one = strndup(p, n);
			ml_json_str(j, NULL, one ? one : "");
			free(one);
			p += n + (p[n] == '\n');
		}
		ml_json_close(j);
	} else if (!s || !*s) {   /* an empty cell, as libsmartcols says it */
		ml_json_null(j, key);
	} else if (type == ML_COL_BOOL) {
		ml_json_bool(j, key, strcmp(s, "0") && strcmp(s, "false"));
	} else if (type == ML_COL_NUM || type == ML_COL_FLOAT ||
		   (type == ML_COL_SIZE && (flags & ML_OUT_BYTES))) {
		ml_json_number(j, key, s);
	} else {
		ml_json_str(j, key, s);
	}
}

/* A column's JSON key: its name in lower case. */
static void json_key(const char *name, char *key, size_t len)
{
	size_t i = 0;

	for (; name[i] && i + 1 < len; i++)
		key[i] = (char)tolower((unsigned char)name[i]);
	key[i] = '\0';
}

int ml_json_table(struct ml_json *j, unsigned int flags, const struct ml_table *t)
{
	int defids[ML_FIT_MAX];
	size_t nids;
	const int *ids = chosen(t, flags, defids, &nids);
	char key[64];
	int r = 0;

	ml_json_open(j, t->name, true);
	for (size_t i = 0; i < t->nrows && r == 0; i++) {
		if (t->skip && t->skip[i])
			continue;
		ml_json_open(j, NULL, false);
		for (size_t k = 0; k < nids && r == 0; k++) {
			const struct ml_column_info *col = &t->cols[ids[k]];
			char *s;
			if ((r = cell_text(col, row_at(t, i), t->ctx, flags, false, &s)) < 0)
				break;
			json_key(col->name, key, sizeof(key));
			json_cell(j, key, col->type, flags, s);
			free(s);
		}
		ml_json_close(j);
	}
	ml_json_close(j);
	return r;
}

/* The bulk writer's (table-text.c) view of a table: the cells of a row,
 * each in its column's buffer or malloc'ed (owned[k], freed at the next
 * row), valid together until the next row is made. */
struct bulk {
	const struct ml_table *t;         /* with its columns' ids */
	unsigned int flags;
	char **owned;
	bool lost;                /* a cell failed (ENOMEM) */
};

_Static_assert(ML__TEXT_CELL_BUF == ML_CELL_BUF, "a cell buffer is the writer's");

static void bulk_row(void *ctx, size_t row, const char **s, size_t *n,
		     char (*bufs)[ML__TEXT_CELL_BUF])
{
	struct bulk *b = ctx;

	for (size_t k = 0; k < b->t->nids; k++) {
		errno = 0;
		free(b->owned[k]);
		s[k] = b->t->cols[b->t->ids[k]].cell(row_at(b->t, row), b->t->ctx, b->flags, bufs[k]);
		b->owned[k] = s[k] != bufs[k] ? (char *)s[k] : NULL;
		b->lost |= !s[k] && errno == ENOMEM;
		n[k] = SIZE_MAX;
	}
}

/* t by the bulk writer: off a terminal, no colour, every row; -EILSEQ
 * (nothing written) when it cannot print it exactly as libsmartcols. */
static int print_bulk(FILE *out, unsigned int flags, const struct ml_table *t)
{
	int defids[ML_FIT_MAX];
	size_t nids;
	const int *ids = chosen(t, flags, defids, &nids);
	struct ml__text_col cols[ML_FIT_MAX];
	char *owned[ML_FIT_MAX] = { NULL };
	struct ml_table one = *t;
	struct bulk b = { &one, flags, owned, false };
	int r;

	if ((flags & (ML_OUT_SCOLS_ONLY | ML_OUT_TERM | ML_OUT_COLOR)) || t->skip ||
	    nids > ML_FIT_MAX || isatty(STDOUT_FILENO))
		return -EILSEQ;
	one.ids = ids;
	one.nids = nids;
	for (size_t k = 0; k < nids; k++)
		cols[k] = (struct ml__text_col){ t->cols[ids[k]].name, t->cols[ids[k]].whint,
			ml__col_right(t->cols[ids[k]].type) && !t->cols[ids[k]].left,
			!ml__col_target_text(t->cols[ids[k]].type) };
	r = ml__text_table_print(out, flags, cols, nids, t->nrows, bulk_row, &b);
	for (size_t k = 0; k < nids; k++)
		free(owned[k]);
	return r == 0 && b.lost ? -ENOMEM : r;
}

int ml_table_print(FILE *out, unsigned int flags, const struct ml_table *t)
{
	struct ml_json *j;
	int r;

	if (!(flags & ML_OUT_JSON) && (r = print_bulk(out, flags, t)) != -EILSEQ)
		return r;
	if (!(flags & ML_OUT_JSON))
		return print_scols(out, flags, t);
	if ((r = ml_json_begin(out, &j)) < 0)
		return r;
	r = ml_json_table(j, flags, t);
	int e = ml_json_end(j);
	return r < 0 ? r : e;
}
