/* SPDX-License-Identifier: MIT */
/*
 * test-render-aslr.c - render-aslr.c on rows built here: the raw table
 * (one line per row, each cell the value put in, formatted here), the
 * JSON document parsed back with jansson (numbers as numbers, offsets
 * signed, GROUP/LEADER/OFFSET null for an ungrouped row, the run's facts),
 * a hostile region name escaped for the terminal and intact in JSON, and
 * -o against the column table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

#define EVIL "lib\033[31mx\n\xe2\x80\xae.so"

static const struct ml_aslr_row rows[] = {
	{ "exe", 0, 20, 20, 0x555555554000, 0x5655ffffe000, 0x1000, 28.0, 4.321928, 1, "exe", 0 },
	{ EVIL, 0, 20, 19, 0x7f0000000000, 0x7fff00000000, 0x1000, 27.5, 4.321928, 2, "libc.so.6", -0x3000 },
	{ "stack - vdso", ML_ASLR_RELATIVE, 18, 18, 0x100000, 0x7fffff0000, 0x10, 22.25, 4.169925, 0, NULL, 0 },
	{ "vsyscall", 0, 20, 1, 0xffffffffff600000, 0xffffffffff600000, 0x1000, 0.0, 4.321928, 3, "vsyscall", 0x7fab },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))
static const struct ml_aslr_info info = { 2, false };

static char *render(const char *cols, unsigned int flags)
{
	size_t ncols, n = 0;
	const struct ml_column_info *c = ml_aslr_columns(&ncols);
	int ids[64];
	const char *bad = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	if (cols)
		assert_int_equal(ml_columns_parse_in(c, ncols, cols, ids, 64, &n, &bad), 0);
	struct ml_table_opts o = { cols ? ids : NULL, n, flags };
	assert_int_equal(ml_render_aslr(rows, NROWS, &info, f, &o), 0);
	fclose(f);
	return out;
}

static void test_raw(void **state)
{
	(void)state;
	char *out = render("BITS,CEILING,SAMPLES,DISTINCT,ALIGN,MIN,MAX,GROUP,OFFSET,VA_SPACE,REGION",
			   ML_OUT_RAW | ML_OUT_NOHEADINGS | ML_OUT_BYTES);
	char *save = NULL, *line;
	size_t i = 0;

	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != ' ') || *p == 0x7f || *p >= 0x80)
			fail_msg("raw byte 0x%02x in:\n%s", *p, out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		const struct ml_aslr_row *r = &rows[i];
		char want[256], grp[64];

		if (r->group)
			snprintf(grp, sizeof(grp), "%zu %" PRId64, r->group, r->offset);
		else
			snprintf(grp, sizeof(grp), " ");
		/* raw: empty cells as nothing between the spaces */
		snprintf(want, sizeof(want), "%.1f %.1f %zu %zu %" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64
			 " %s 2 ", r->bits, r->ceiling, r->samples, r->distinct, r->align, r->min,
			 r->max, grp);
		if (strncmp(line, want, strlen(want)))
			fail_msg("row %zu:\n got  \"%s\"\n want \"%s...\"", i, line, want);
	}
	assert_int_equal(i, NROWS);
	free(out);
}

static void test_term_escape(void **state)
{
	(void)state;
	char *out = render(NULL, 0);

	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("control byte 0x%02x in:\n%s", *p, out);
	assert_null(strstr(out, "\xe2\x80\xae"));
	assert_non_null(strstr(out, "lib\\x1b[31mx\\x0a"));
	/* a header line and one line per row */
	size_t lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, NROWS + 1);
	assert_true(!strncmp(out, "REGION", 6));
	free(out);
}

static void test_json(void **state)
{
	(void)state;
	char *out = render(NULL, ML_OUT_JSON | ML_OUT_BYTES);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err), *a;

	if (!j)
		fail_msg("not JSON (%s):\n%s", err.text, out);
	a = json_object_get(j, "aslr");
	assert_int_equal(json_array_size(a), NROWS);
	for (size_t i = 0; i < NROWS; i++) {
		json_t *o = json_array_get(a, i);
		const struct ml_aslr_row *r = &rows[i];
		char hex[32];

		assert_string_equal(json_string_value(json_object_get(o, "region")), r->name);
		/* one decimal: within half a tenth of the value put in */
		double bits = json_number_value(json_object_get(o, "bits"));
		if (!json_is_number(json_object_get(o, "bits")) || bits < r->bits - 0.0501 ||
		    bits > r->bits + 0.0501)
			fail_msg("row %zu: bits %f, put in %f", i, bits, r->bits);
		assert_int_equal(json_integer_value(json_object_get(o, "samples")), r->samples);
		snprintf(hex, sizeof(hex), "0x%" PRIx64, r->min);
		assert_string_equal(json_string_value(json_object_get(o, "min")), hex);
		snprintf(hex, sizeof(hex), "0x%" PRIx64, r->max);
		assert_string_equal(json_string_value(json_object_get(o, "max")), hex);
		if (r->group) {
			assert_int_equal(json_integer_value(json_object_get(o, "group")), r->group);
			assert_int_equal(json_integer_value(json_object_get(o, "offset")), r->offset);
		} else {
			assert_true(json_is_null(json_object_get(o, "group")));
			assert_true(json_is_null(json_object_get(o, "offset")));
		}
	}
	json_decref(j);
	free(out);
	/* without -b, an offset is signed hex */
	out = render(NULL, ML_OUT_JSON);
	assert_non_null(strstr(out, "\"offset\": \"-0x3000\""));
	assert_non_null(strstr(out, "\"offset\": \"+0x7fab\""));
	free(out);
}

static void test_columns(void **state)
{
	(void)state;
	size_t ncols, n;
	const struct ml_column_info *c = ml_aslr_columns(&ncols);
	int ids[64];
	const char *bad = NULL;

	assert_true(ncols >= 10);
	assert_true(ml_columns_parse_in(c, ncols, "REGION,BOGUS", ids, 64, &n, &bad) < 0);
	assert_non_null(bad);
	char *out = render("REGION,OFFSET", ML_OUT_RAW);
	assert_true(!strncmp(out, "REGION OFFSET\nexe +0x0\n", 23));
	assert_non_null(strstr(out, " -0x3000\n"));
	assert_non_null(strstr(out, "\nstack\\x20-\\x20vdso \n") || strstr(out, "\nstack - vdso \n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_term_escape),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
