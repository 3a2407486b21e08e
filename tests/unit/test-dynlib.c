/* SPDX-License-Identifier: MIT */
/*
 * test-dynlib.c - libdw and jansson loaded on first use (dynlib.c): both
 * load, from any number of threads at once, to complete tables; then a
 * symbolizer names a function of this test, and jansson parses a
 * document through the redirected names (json_loadb, json_decref).
 * test-dynlib-missing.c covers the libraries being absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ml-private.h"
#include "dynlib.h"

#define NTHREADS 8

static void *load_both(void *arg)
{
	int *r = arg;

	r[0] = ml__dw_load();
	r[1] = ml__json_load();
	return NULL;
}

/* Every pointer of a table set (the tables are arrays of pointers). */
static void assert_complete(const void *api, size_t size)
{
	void *const *f = api;

	for (size_t i = 0; i < size / sizeof(*f); i++)
		assert_non_null(f[i]);
}

static void test_load(void **state)
{
	pthread_t t[NTHREADS];
	int r[NTHREADS][2];

	(void)state;
	for (size_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, load_both, r[i]), 0);
	for (size_t i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i][0], 0);
		assert_int_equal(r[i][1], 0);
	}
	assert_int_equal(ml__dw_load(), 0);     /* the verdict stays */
	assert_int_equal(ml__json_load(), 0);
	assert_complete(&ml__dw, sizeof(ml__dw));
	assert_complete(&ml__json, sizeof(ml__json));
}

__attribute__((noinline)) int dynlib_probe(int x);
__attribute__((noinline)) int dynlib_probe(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

static void test_symbolize(void **state)
{
	struct ml_symbolizer *sz;
	struct ml_symbol s;
	uint64_t a = (uint64_t)(uintptr_t)dynlib_probe;

	(void)state;
	assert_int_equal(dynlib_probe(1), 4);
	assert_int_equal(ml_symbolizer_new_pid(getpid(), &sz), 0);
	assert_int_equal(ml_symbolize(sz, a, ML_SYM_LINES, &s), 0);
	assert_non_null(s.name);
	assert_string_equal(s.name, "dynlib_probe");
	assert_int_equal(s.offset, 0);
	if (s.has_dwarf) {          /* built with -g */
		assert_non_null(s.file);
		assert_non_null(strstr(s.file, "test-dynlib.c"));
	}
	ml_symbolizer_free(sz);
}

/* What lib/ still asks of jansson: parsing (watch-record.c). */
static void test_json(void **state)
{
	static const char text[] = "{\"name\":\"x\",\"list\":[7,null],\"t\":true,\"d\":0.5}";
	json_error_t err;
	json_t *o, *a;

	(void)state;
	assert_int_equal(ml__json_load(), 0);
	o = json_loadb(text, sizeof(text) - 1, JSON_REJECT_DUPLICATES, &err);
	assert_true(json_is_object(o));
	assert_string_equal(json_string_value(json_object_get(o, "name")), "x");
	a = json_object_get(o, "list");
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 7);
	assert_true(json_is_null(json_array_get(a, 1)));
	assert_true(json_is_true(json_object_get(o, "t")));
	assert_true(json_number_value(json_object_get(o, "d")) == 0.5);
	assert_null(json_loadb("{\"a\":1,\"a\":2}", 13, JSON_REJECT_DUPLICATES, &err));
	json_decref(o);
	json_decref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_symbolize),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
