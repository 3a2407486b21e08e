/* SPDX-License-Identifier: MIT */
/* test-sizeclass: the size-class and alignment arithmetic of sizeclass.h,
 * checked exhaustively against plain definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sizeclass.h"

/* Class sizes grow, are multiples of 16 and end at MLA_SC_MAX. */
static void test_class_sizes(void **state)
{
	(void)state;
	assert_int_equal(mla_class_size(0), 16);
	assert_int_equal(mla_class_size(7), 128);
	assert_int_equal(mla_class_size(8), 160);
	assert_int_equal(mla_class_size(MLA_SC_NCLASSES - 1), MLA_SC_MAX);
	for (unsigned c = 1; c < MLA_SC_NCLASSES; c++) {
		assert_true(mla_class_size(c) > mla_class_size(c - 1));
		assert_int_equal(mla_class_size(c) % 16, 0);
	}
}

/* mla_size_class(n) is the smallest class holding n, for every n, and the
 * waste bound of the header comment holds. */
static void test_size_to_class(void **state)
{
	(void)state;
	assert_int_equal(mla_size_class(0), 0);
	unsigned c = 0;
	for (size_t n = 1; n <= MLA_SC_MAX; n++) {
		while (mla_class_size(c) < n)
			c++;
		assert_int_equal(mla_size_class(n), c);
		size_t waste = mla_class_size(c) - n;
		if (n <= 128)
			assert_true(waste <= 15);
		else
			assert_true(waste < n / 4);
	}
}

/* The table behind malloc's fast path gives mla_size_class(n) for every n
 * it covers, and mla_size_class_fast agrees everywhere. */
static void test_size_table(void **state)
{
	(void)state;
	for (size_t n = 0; n <= MLA_SC_MAX; n++) {
		if (n <= MLA_SC_TABLE_MAX)
			assert_int_equal(mla_sc_table[(n + 15) >> 4], mla_size_class(n));
		assert_int_equal(mla_size_class_fast(n), mla_size_class(n));
	}
}

/* Spans hold exactly one block of a class that is a multiple of 64 KiB, or
 * at least 4 blocks past 8 KiB; they fit a segment and waste < 1/8. */
static void test_span_pages(void **state)
{
	(void)state;
	for (unsigned c = 0; c < MLA_SC_NCLASSES; c++) {
		unsigned pages = mla_class_span_pages(c);
		size_t bytes = (size_t)pages << 16, bs = mla_class_size(c);
		assert_true(pages >= 1 && pages <= 32);
		assert_int_equal(mla_class_one_block(c), bs >= 65536 && bs % 65536 == 0);
		if (mla_class_one_block(c)) {
			assert_true(bytes == bs);
			continue;
		}
		assert_true(bytes / bs >= (bs <= 8192 ? 8u : 4u));
		assert_true(bytes % bs <= bytes / 8);
	}
}

static void test_align_helpers(void **state)
{
	(void)state;
	assert_true(mla_is_pow2(1) && mla_is_pow2(4096) && mla_is_pow2((size_t)1 << 63));
	assert_false(mla_is_pow2(0) || mla_is_pow2(3) || mla_is_pow2(4097));
	assert_int_equal(mla_align_up(0, 16), 0);
	assert_int_equal(mla_align_up(1, 16), 16);
	assert_int_equal(mla_align_up(4096, 4096), 4096);
	assert_int_equal(mla_align_up(4097, 4096), 8192);
	assert_int_equal(mla_align_up(SIZE_MAX - 5, 4096), 0);   /* overflow */
	assert_int_equal(mla_align_down(0x12345, 0x1000), 0x12000);
	size_t r;
	assert_true(mla_mul_overflow(SIZE_MAX / 2 + 1, 2, &r));
	assert_false(mla_mul_overflow(1000, 1000, &r));
	assert_int_equal(r, 1000000);
}

/* Every class/alignment pair: the chosen class holds n and its size is a
 * multiple of align (so blocks in a 64 KiB-aligned span are aligned). */
static void test_class_for_align(void **state)
{
	(void)state;
	for (size_t align = 32; align <= 65536; align <<= 1) {
		for (size_t n = 0; n <= 300000; n += n < 4096 ? 1 : 997) {
			unsigned c = mla_class_for_align(n, align);
			if (c == MLA_SC_NCLASSES) {
				assert_true(n > MLA_SC_MAX - align);
				continue;
			}
			assert_true(mla_class_size(c) >= n && mla_class_size(c) >= align);
			assert_int_equal(mla_class_size(c) % align, 0);
			if (c > 0 && mla_class_size(c - 1) >= n && mla_class_size(c - 1) >= align)
				assert_true(mla_class_size(c - 1) % align != 0);
		}
	}
	assert_int_equal(mla_class_for_align(MLA_SC_MAX + 1, 64), MLA_SC_NCLASSES);
}

/* The one-multiply divisibility test agrees with % for every class size over
 * every offset of a 2 MiB span. */
static void test_divisible(void **state)
{
	(void)state;
	for (unsigned c = 0; c < MLA_SC_NCLASSES; c++) {
		uint32_t d = (uint32_t)mla_class_size(c);
		uint64_t m = mla_div_magic(d);
		for (uint32_t n = 0; n < (2u << 20); n += (c < 8 ? 1 : 7))
			if (mla_divisible(n, m) != (n % d == 0))
				fail_msg("divisible(%u, %u) wrong", n, d);
	}
}

/* free's block-start test agrees with the plain definition for every class
 * over every offset of a 2 MiB span and past it, at several capacities,
 * and rejects offsets of addresses below the span (negative, wrapped). */
static void test_block_index(void **state)
{
	(void)state;
	for (unsigned c = 0; c < MLA_SC_NCLASSES; c++) {
		uint32_t d = (uint32_t)mla_class_size(c);
		uint64_t m = mla_div_magic(d);
		uint32_t most = (uint32_t)((2u << 20) / d);
		uint32_t caps[] = { 0, 1, most / 2, most };
		for (unsigned k = 0; k < 4; k++) {
			for (uint64_t n = 0; n < (4u << 20); n += (c < 8 ? 1 : 5))
				if (mla_block_index_ok(n, m, caps[k]) != (n % d == 0 && n / d < caps[k]))
					fail_msg("block_index_ok(%llu, %u, cap %u) wrong", (unsigned long long)n, d, caps[k]);
			for (uint64_t back = 1; back < (4u << 20); back += 4093)
				if (mla_block_index_ok(-back, m, caps[k]) || mla_block_index_ok((1ull << 32) + back * d, m, caps[k]))
					fail_msg("block_index_ok accepts an offset out of the span (%u)", d);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_sizes),
		cmocka_unit_test(test_size_to_class),
		cmocka_unit_test(test_size_table),
		cmocka_unit_test(test_span_pages),
		cmocka_unit_test(test_align_helpers),
		cmocka_unit_test(test_class_for_align),
		cmocka_unit_test(test_divisible),
		cmocka_unit_test(test_block_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
