/* SPDX-License-Identifier: MIT */
/*
 * test-hugemem.c - big blocks: whole 2 MiB pages, 2 MiB-aligned, zeroed;
 * a growing block keeps its bytes across every move (malloc'ed while
 * small, huge pages past ML__HUGE_MIN); the pool hands out zeroed,
 * aligned memory across the switch to huge chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

#define MIB ((size_t)1 << 20)

static void test_huge_alloc(void **state)
{
	(void)state;
	assert_int_equal(ml__huge_size(1), 2 * MIB);
	assert_int_equal(ml__huge_size(2 * MIB), 2 * MIB);
	assert_int_equal(ml__huge_size(2 * MIB + 1), 4 * MIB);
	unsigned char *p = ml__huge_alloc(3 * MIB);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (2 * MIB), 0);
	for (size_t i = 0; i < 4 * MIB; i += 4096)
		assert_int_equal(p[i], 0);
	memset(p, 0xa5, 4 * MIB);   /* all of the rounded size is ours */
	ml__huge_free(p, 3 * MIB);
	assert_null(ml__huge_alloc(0));
	assert_null(ml__huge_alloc(SIZE_MAX - 4096));
}

static void test_grow(void **state)
{
	void *p = NULL;
	size_t cap = 0, used = 0;
	bool huge = false;

	(void)state;
	for (size_t need = 100; need <= 10 * MIB; need = need * 3 / 2) {
		assert_int_equal(ml__grow(&p, &cap, &huge, used, need), 0);
		assert_true(cap >= need);
		assert_int_equal(huge, cap >= ML__HUGE_MIN);
		if (huge)
			assert_int_equal((uintptr_t)p % (2 * MIB), 0);
		for (size_t i = 0; i < used; i += 997)
			assert_int_equal(((unsigned char *)p)[i], (unsigned char)(i * 7));
		for (size_t i = used; i < need; i++)
			((unsigned char *)p)[i] = (unsigned char)(i * 7);
		used = need;
	}
	size_t before = cap;
	assert_int_equal(ml__grow(&p, &cap, &huge, used, 10), 0);   /* no shrinking */
	assert_int_equal(cap, before);
	ml__grow_free(p, cap, huge);
}

static void test_pool(void **state)
{
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));
	size_t total = 0;

	(void)state;
	assert_non_null(snap);
	for (size_t i = 0; total < 8 * MIB; i++) {
		size_t n = 1 + i % 5000;
		unsigned char *p = ml__alloc(snap, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(p[k], 0);
		memset(p, 0xff, n);
		total += n;
	}
	ml_snapshot_free(snap);   /* frees the pool, malloc'ed and huge chunks */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huge_alloc),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
