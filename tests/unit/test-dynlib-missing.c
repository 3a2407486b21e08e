/* SPDX-License-Identifier: MIT */
/*
 * test-dynlib-missing.c - libdw and jansson absent: built with a copy of
 * dynlib.c told to open libraries that do not exist (see meson.build), so
 * the functions that need them return -ENOTSUP, and nothing crashes; the
 * JSON crash report, written by json.c, needs neither.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ML__DYNLIB_IMPL   /* the tables' members by their names */
#include "ml-private.h"
#include "dynlib.h"

static void test_load(void **state)
{
	(void)state;
	assert_int_equal(ml__dw_load(), -ENOTSUP);
	assert_int_equal(ml__dw_load(), -ENOTSUP);
	assert_int_equal(ml__json_load(), -ENOTSUP);
	assert_null(ml__dw.dwfl_begin);
	assert_null(ml__json.json_loadb);
}

static void test_functions(void **state)
{
	struct ml_symbolizer *sz = NULL;
	struct ml_backtrace *bt = NULL;
	struct ml_snapshot *snap;
	struct ml_watch_record *rec = NULL;
	struct ml_crash c = { 0 };
	char *msg = NULL, *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len), *in = fmemopen((char *)"{}\n", 3, "r");

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	assert_int_equal(ml_symbolizer_new_pid(getpid(), &sz), -ENOTSUP);
	assert_null(sz);
	assert_int_equal(ml_backtrace_take(getpid(), gettid(), 8, &bt), -ENOTSUP);
	assert_null(bt);
	assert_int_equal(ml_abort_message(getpid(), false, &msg), -ENOTSUP);
	assert_null(msg);
	assert_int_equal(ml_snapshot_take(getpid(), NULL, &snap), 0);
	assert_int_equal(ml_watch_record_read(in, &rec, NULL), -ENOTSUP);
	assert_null(rec);
	c.pid = c.tid = getpid();
	assert_int_equal(ml_render_crash_width(snap, &c, NULL, out, ML_OUT_JSON, 0), 0);
	ml_snapshot_free(snap);
	fclose(in);
	fclose(out);
	assert_non_null(strstr(json, "\"backtrace\": []"));
	assert_non_null(strstr(json, "\"pid\": "));
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_functions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
