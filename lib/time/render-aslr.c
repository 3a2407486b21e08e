/* SPDX-License-Identifier: MIT */
/*
 * render-aslr.c - the table of `memlayout aslr` through libsmartcols: one
 * row per point (region base, stack pointer, offset), columns from one
 * table that drives the default set, --list-columns, -o and JSON types.
 *
 * Point names come from the target's mappings (file base names): for the
 * terminal libsmartcols escapes them, for JSON invalid UTF-8 is escaped
 * here (ML_ESC_JSON_SAFE) and the rest by the JSON writer.  On a terminal
 * the default columns fit its width: the names whole (24 columns at most
 * before they are cut: "stack (top)" and "stack pointer" stay apart), the
 * columns alike in every row (SAMPLES, CEILING: the header says them) and
 * ALIGN, GROUP, OFFSET hidden first.
 */
#include "ml-time.h"

#include <errno.h>
#include <inttypes.h>
#include <libsmartcols/libsmartcols.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct actx {
	const struct ml_aslr_info *info;
	unsigned int flags;
};

typedef char *(*acell_fn)(const struct ml_aslr_row *r, const struct actx *c);



static char *c_region(const struct ml_aslr_row *r, const struct actx *c)
{
	return ml__escape_cell(r->name, c->flags);
}
static char *c_bits(const struct ml_aslr_row *r, const struct actx *c) { (void)c; return ml__asprintf("%.1f", r->bits); }
static char *c_ceiling(const struct ml_aslr_row *r, const struct actx *c) { (void)c; return ml__asprintf("%.1f", r->ceiling); }
static char *c_samples(const struct ml_aslr_row *r, const struct actx *c) { (void)c; return ml__asprintf("%zu", r->samples); }
static char *c_distinct(const struct ml_aslr_row *r, const struct actx *c) { (void)c; return ml__asprintf("%zu", r->distinct); }
static char *c_min(const struct ml_aslr_row *r, const struct actx *c) { (void)c; return ml__asprintf("0x%" PRIx64, r->min); }
static char *c_max(const struct ml_aslr_row *r, const struct actx *c) { (void)c; return ml__asprintf("0x%" PRIx64, r->max); }

static char *c_align(const struct ml_aslr_row *r, const struct actx *c)
{
	char buf[32];

	if (c->flags & ML_OUT_BYTES)
		return ml__asprintf("%" PRIu64, r->align);
	return strdup(ml_size_human(r->align, buf, sizeof(buf)));
}

static char *c_group(const struct ml_aslr_row *r, const struct actx *c)
{
	(void)c;
	return r->group ? ml__asprintf("%zu", r->group) : NULL;
}

static char *c_leader(const struct ml_aslr_row *r, const struct actx *c)
{
	if (!r->group)
		return NULL;
	return ml__escape_cell(r->leader, c->flags);
}

/* Offset from the group's leader: signed hex, or with -b a number. */
static char *c_offset(const struct ml_aslr_row *r, const struct actx *c)
{
	uint64_t mag = r->offset < 0 ? -(uint64_t)r->offset : (uint64_t)r->offset;

	if (!r->group)
		return NULL;
	if (c->flags & ML_OUT_BYTES)
		return ml__asprintf("%" PRId64, r->offset);
	return ml__asprintf("%s0x%" PRIx64, r->offset < 0 ? "-" : "+", mag);
}

static char *c_va_space(const struct ml_aslr_row *r, const struct actx *c)
{
	(void)r;
	return c->info->randomize_va_space < 0 ? NULL : ml__asprintf("%d", c->info->randomize_va_space);
}

static char *c_norand(const struct ml_aslr_row *r, const struct actx *c)
{
	(void)r;
	return strdup(c->info->no_randomize ? "true" : "false");
}

enum jtype { JS, JN, JSIZE, JOFF, JB };

static const struct acolumn {
	struct ml_column_info info;
	acell_fn fn;
	enum jtype json;
	bool json_default;         /* in the default set of -J too */
	struct ml_fit fit;        /* on a terminal (ml_scols_fit): the
	                              columns every row has alike first */
} columns[] = {
	/* name, whint, is_size, needs_smaps, default, help */
	{ { "REGION",   0.25, false, false, true,  "the region, stack pointer or offset measured" }, c_region, JS, true, { 0, 24 } },
	{ { "BITS",     5,    false, false, true,  "estimated randomisation in bits (0: fixed)" }, c_bits, JN, true, { 0, 0 } },
	{ { "CEILING",  5,    false, false, true,  "log2 of the sample count: bits above it are extrapolated from the range" }, c_ceiling, JN, true, { 4, 0 } },
	{ { "SAMPLES",  5,    false, false, true,  "runs in which it was seen" }, c_samples, JN, true, { 5, 0 } },
	{ { "DISTINCT", 5,    false, false, false, "distinct values among those runs" }, c_distinct, JN, true, { 0, 0 } },
	{ { "ALIGN",    5,    true,  false, true,  "step between the observed values" }, c_align, JSIZE, true, { 3, 0 } },
	{ { "MIN",      0.10, false, false, true,  "lowest value seen" }, c_min, JS, true, { 0, 0 } },
	{ { "MAX",      0.10, false, false, true,  "highest value seen" }, c_max, JS, true, { 0, 0 } },
	{ { "GROUP",    5,    false, false, true,  "regions with the same group move together" }, c_group, JN, true, { 2, 0 } },
	{ { "LEADER",   0.15, false, false, false, "the first region of the group" }, c_leader, JS, true, { 0, 0 } },
	{ { "OFFSET",   0.10, false, false, true,  "offset from the group's first region, the same in every run" }, c_offset, JOFF, true, { 1, 0 } },
	{ { "VA_SPACE", 5,    false, false, false, "/proc/sys/kernel/randomize_va_space" }, c_va_space, JN, true, { 0, 0 } },
	{ { "NORANDOMIZE", 5, false, false, false, "runs were made with personality(ADDR_NO_RANDOMIZE)" }, c_norand, JB, true, { 0, 0 } },
};

const struct ml_column_info *ml_aslr_columns(size_t *ret_n)
{
	static struct ml_column_info infos[ML_ARRAY_SIZE(columns)];

	for (size_t i = 0; i < ML_ARRAY_SIZE(columns); i++)
		infos[i] = columns[i].info;
	*ret_n = ML_ARRAY_SIZE(columns);
	return infos;
}

static int json_type(enum jtype j, unsigned int flags)
{
	switch (j) {
	case JN:    return SCOLS_JSON_NUMBER;
	case JB:    return SCOLS_JSON_BOOLEAN;
	case JSIZE:
	case JOFF:  return (flags & ML_OUT_BYTES) ? SCOLS_JSON_NUMBER : SCOLS_JSON_STRING;
	default:    return SCOLS_JSON_STRING;
	}
}

static size_t default_ids(int *ids, unsigned int flags)
{
	size_t n = 0;

	for (size_t i = 0; i < ML_ARRAY_SIZE(columns); i++)
		if ((flags & ML_OUT_JSON) ? columns[i].json_default : columns[i].info.is_default)
			ids[n++] = (int)i;
	return n;
}

static int add_columns(struct libscols_table *tb, const int *ids, size_t n,
		       unsigned int flags)
{
	for (size_t i = 0; i < n; i++) {
		const struct acolumn *col = &columns[ids[i]];
		int fl = col->json == JS || col->json == JB ? 0 : SCOLS_FL_RIGHT;
		if (col->fn == c_region || col->fn == c_leader)
			fl |= SCOLS_FL_TRUNC;
		struct libscols_column *cl = scols_table_new_column(tb, col->info.name,
								    col->info.whint, fl);
		if (!cl)
			return -ENOMEM;
		scols_column_set_json_type(cl, json_type(col->json, flags));
	}
	return 0;
}

int ml_render_aslr(const struct ml_aslr_row *rows, size_t nrows,
		   const struct ml_aslr_info *info, FILE *out,
		   const struct ml_table_opts *opts)
{
	int defids[ML_ARRAY_SIZE(columns)];
	const int *ids = opts->columns;
	size_t nids = opts->ncolumns;
	struct actx c = { info, opts->flags };
	struct ml_fit fit[ML_ARRAY_SIZE(columns)];
	bool fitted = (opts->flags & ML_OUT_TERM) && !ids &&
		      !(opts->flags & (ML_OUT_JSON | ML_OUT_RAW));
	struct libscols_table *tb = scols_new_table();
	int r;

	if (!tb)
		return -ENOMEM;
	scols_table_set_stream(tb, out);
	scols_table_enable_json(tb, !!(opts->flags & ML_OUT_JSON));
	scols_table_enable_raw(tb, !!(opts->flags & ML_OUT_RAW));
	scols_table_enable_noheadings(tb, !!(opts->flags & ML_OUT_NOHEADINGS));
	scols_table_set_name(tb, "aslr");
	if (fitted)
		scols_table_set_termforce(tb, SCOLS_TERMFORCE_ALWAYS);
	if (!ids) {
		nids = default_ids(defids, opts->flags);
		ids = defids;
	}
	r = add_columns(tb, ids, nids, opts->flags);
	for (size_t i = 0; r == 0 && i < nrows; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln) {
			r = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < nids; k++) {
			char *data = columns[ids[k]].fn(&rows[i], &c);
			if (data && scols_line_refer_data(ln, k, data) < 0) {
				free(data);
				r = -ENOMEM;
				break;
			}
		}
	}
	for (size_t i = 0; i < nids; i++)
		fit[i] = columns[ids[i]].fit;
	if (r == 0 && fitted)
		r = ml_scols_fit(tb, fit, nids);
	if (r == 0)
		r = ml_scols_print(tb);
	scols_unref_table(tb);
	return r;
}
