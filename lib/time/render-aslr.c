/* SPDX-License-Identifier: MIT */
/*
 * render-aslr.c - the table of `memlayout aslr`: one row per point
 * (region base, stack pointer, offset), its column descriptions printed by
 * the one table printer (columns.c: the default set, --list-columns, -o,
 * JSON with every column).
 *
 * Point names come from the target's mappings (file base names): ML_COL_TEXT,
 * escaped by the table printer.  On a terminal the default columns fit its
 * width: the names whole (24 columns at most before they are cut: "stack
 * (top)" and "stack pointer" stay apart), the columns alike in every row
 * (SAMPLES, CEILING: the header says them) and ALIGN, GROUP, OFFSET hidden
 * first.
 */
#include "ml-time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ROW(x) ((const struct ml_aslr_row *)(x))
#define INFO(c) ((const struct ml_aslr_info *)(c))

static char *c_region(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)c, (void)fl, (void)buf;
	return ROW(x)->name ? strdup(ROW(x)->name) : NULL;
}

static char *c_bits(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)c, (void)fl;
	snprintf(buf, ML_CELL_BUF, "%.1f", ROW(x)->bits);
	return buf;
}

static char *c_ceiling(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)c, (void)fl;
	snprintf(buf, ML_CELL_BUF, "%.1f", ROW(x)->ceiling);
	return buf;
}

static char *c_samples(const void *x, const void *c, unsigned int fl, char *buf) { (void)c, (void)fl; return ml_fmt_u64(buf, ROW(x)->samples); }
static char *c_distinct(const void *x, const void *c, unsigned int fl, char *buf) { (void)c, (void)fl; return ml_fmt_u64(buf, ROW(x)->distinct); }
static char *c_min(const void *x, const void *c, unsigned int fl, char *buf) { (void)c, (void)fl; return ml_fmt_hex(buf, ROW(x)->min); }
static char *c_max(const void *x, const void *c, unsigned int fl, char *buf) { (void)c, (void)fl; return ml_fmt_hex(buf, ROW(x)->max); }
static char *c_align(const void *x, const void *c, unsigned int fl, char *buf) { (void)c; return ml_fmt_size(buf, ROW(x)->align, fl); }

static char *c_group(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)c, (void)fl;
	return ROW(x)->group ? ml_fmt_u64(buf, ROW(x)->group) : NULL;
}

static char *c_leader(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)c, (void)fl, (void)buf;
	return ROW(x)->group && ROW(x)->leader ? strdup(ROW(x)->leader) : NULL;
}

/* Offset from the group's leader: signed hex, or with -b a number. */
static char *c_offset(const void *x, const void *c, unsigned int fl, char *buf)
{
	int64_t off = ROW(x)->offset;
	uint64_t mag = off < 0 ? -(uint64_t)off : (uint64_t)off;

	(void)c;
	if (!ROW(x)->group)
		return NULL;
	buf[0] = off < 0 ? '-' : '+';
	if (fl & ML_OUT_BYTES)
		return off < 0 ? (ml_fmt_u64(buf + 1, mag), buf) : ml_fmt_u64(buf, mag);
	ml_fmt_hex(buf + 1, mag);
	return buf;
}

static char *c_va_space(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)x, (void)fl;
	if (INFO(c)->randomize_va_space < 0)
		return NULL;
	snprintf(buf, ML_CELL_BUF, "%d", INFO(c)->randomize_va_space);
	return buf;
}

static char *c_norand(const void *x, const void *c, unsigned int fl, char *buf)
{
	(void)x, (void)fl;
	return strcpy(buf, INFO(c)->no_randomize ? "true" : "false");
}

/* On a terminal the columns every row has alike give way first.  MIN and
 * MAX are left-aligned strings (ML_COL_STR), OFFSET a signed hex string
 * (a number with -b: ML_COL_SIZE's rule). */
static const struct ml_column_info columns[] = {
	{ "REGION",   0.25, false, false, true,  "the region, stack pointer or offset measured", ML_COL_TEXT, c_region, { 0, 24 }, NULL },
	{ "BITS",     5,    false, false, true,  "estimated randomisation in bits (0: fixed)", ML_COL_NUM, c_bits, { 0, 0 }, NULL },
	{ "CEILING",  5,    false, false, true,  "log2 of the sample count: bits above it are extrapolated from the range", ML_COL_NUM, c_ceiling, { 4, 0 }, NULL },
	{ "SAMPLES",  5,    false, false, true,  "runs in which it was seen", ML_COL_NUM, c_samples, { 5, 0 }, NULL },
	{ "DISTINCT", 5,    false, false, false, "distinct values among those runs", ML_COL_NUM, c_distinct, { 0, 0 }, NULL },
	{ "ALIGN",    5,    true,  false, true,  "step between the observed values", ML_COL_SIZE, c_align, { 3, 0 }, NULL },
	{ "MIN",      0.10, false, false, true,  "lowest value seen", ML_COL_STR, c_min, { 0, 0 }, NULL },
	{ "MAX",      0.10, false, false, true,  "highest value seen", ML_COL_STR, c_max, { 0, 0 }, NULL },
	{ "GROUP",    5,    false, false, true,  "regions with the same group move together", ML_COL_NUM, c_group, { 2, 0 }, NULL },
	{ "LEADER",   0.15, false, false, false, "the first region of the group", ML_COL_TEXT, c_leader, { 0, 0 }, NULL },
	{ "OFFSET",   0.10, false, false, true,  "offset from the group's first region, the same in every run", ML_COL_SIZE, c_offset, { 1, 0 }, NULL },
	{ "VA_SPACE", 5,    false, false, false, "/proc/sys/kernel/randomize_va_space", ML_COL_NUM, c_va_space, { 0, 0 }, NULL },
	{ "NORANDOMIZE", 5, false, false, false, "runs were made with personality(ADDR_NO_RANDOMIZE)", ML_COL_BOOL, c_norand, { 0, 0 }, NULL },
};

const struct ml_column_info *ml_aslr_columns(size_t *ret_n)
{
	*ret_n = ML_ARRAY_SIZE(columns);
	return columns;
}

int ml_render_aslr(const struct ml_aslr_row *rows, size_t nrows,
		   const struct ml_aslr_info *info, FILE *out,
		   const struct ml_table_opts *opts)
{
	struct ml_table t = { "aslr", columns, ML_ARRAY_SIZE(columns), opts->columns,
			      opts->ncolumns, rows, sizeof(*rows), nrows, NULL, info, true };

	return ml_table_print(out, opts->flags, &t);
}
