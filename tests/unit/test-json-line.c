/* SPDX-License-Identifier: MIT */
/*
 * test-json-line.c - the one JSON writer's one-line mode (json.c,
 * ml_json_begin_line: watch's JSON lines) and the table printer's column
 * colours (columns.c, ml_table.colors: watch's screen): the exact bytes of
 * a nested document on one line with a hostile string, parsed back by
 * jansson; a coloured column's header and cells wrapped in its colour,
 * the other column not, and no colour without ML_OUT_COLOR or raw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

static char *json_doc(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct ml_json *j;

	assert_non_null(f);
	assert_int_equal(ml_json_begin_line(f, &j), 0);
	ml_json_number(j, "t", "1.250");
	ml_json_str(j, "name", "a\"b\n\033\x7f");
	ml_json_open(j, "kinds", false);
	ml_json_open(j, "text", false);
	ml_json_u64(j, "vsize", 4096);
	ml_json_close(j);
	ml_json_close(j);
	ml_json_open(j, "objects", true);
	ml_json_open(j, NULL, false);
	ml_json_hex(j, "start", 0x1000);
	ml_json_close(j);
	ml_json_open(j, NULL, false);
	ml_json_null(j, "tid");
	ml_json_close(j);
	ml_json_close(j);
	ml_json_open(j, "empty", true);
	assert_int_equal(ml_json_end(j), 0);   /* closes "empty" */
	fclose(f);
	return out;
}

static void test_line(void **state)
{
	(void)state;
	char *out = json_doc();
	json_error_t err;
	json_t *doc = json_loads(out, 0, &err);

	assert_string_equal(out, "{\"t\":1.250,\"name\":\"a\\\"b\\n\\u001b\\u007f\","
			    "\"kinds\":{\"text\":{\"vsize\":4096}},\"objects\":[{\"start\":"
			    "\"0x1000\"},{\"tid\":null}],\"empty\":[]}\n");
	if (!doc)
		fail_msg("not JSON (%s): %s", err.text, out);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "a\"b\n\033\x7f");
	json_decref(doc);
	free(out);
}

static char *c_name(const void *row, const void *ctx, unsigned int flags, char *buf)
{
	(void)ctx, (void)flags;
	return strcpy(buf, *(const char *const *)row);
}

static const struct ml_column_info cols[] = {
	{ "NAME", 0, false, false, true, NULL, ML_COL_STR, c_name, { 0, 0 }, NULL },
	{ "SAME", 0, false, false, true, NULL, ML_COL_STR, c_name, { 0, 0 }, NULL },
};

static char *table(unsigned int flags)
{
	static const char *const rows[] = { "alpha", "beta" };
	static const char *const colors[] = { NULL, "\033[31m" };
	struct ml_table t = { "t", cols, 2, NULL, 0, rows, sizeof(*rows), 2, NULL, NULL, false,
			      colors };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(ml_table_print(f, flags, &t), 0);
	fclose(f);
	return out;
}

static void test_colors(void **state)
{
	(void)state;
	char *out = table(ML_OUT_COLOR), *plain = table(0), *raw = table(ML_OUT_COLOR | ML_OUT_RAW);

	/* the second column, header and cells, in red; the first not */
	assert_non_null(strstr(out, "\033[31mSAME"));
	assert_non_null(strstr(out, "\033[31malpha"));
	assert_non_null(strstr(out, "\033[31mbeta"));
	assert_null(strstr(out, "\033[31mNAME"));
	assert_non_null(strstr(out, "alpha "));
	assert_null(strchr(plain, '\033'));
	assert_null(strchr(raw, '\033'));
	free(out);
	free(plain);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_colors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
