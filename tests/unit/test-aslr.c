/* SPDX-License-Identifier: MIT */
/*
 * test-aslr.c - the ASLR estimator (aslr.c) on hand-made observations:
 * bits from the range in steps (the formula worked by hand), the step
 * detected from the values (page, 2 MiB, 16 bytes) and never below the
 * unit, the log2 n ceiling, exactly 0 bits for a constant, groups of
 * points at a constant offset (and their offsets and leader), offsets
 * (ML_ASLR_RELATIVE) left out of groups, points missing from some runs,
 * the first value of a run counting, and bad calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "ml-private.h"

#define PAGE 4096u

static struct ml_aslr *new_aslr(void)
{
	struct ml_aslr *a = NULL;

	assert_int_equal(ml_aslr_new(&a), 0);
	assert_non_null(a);
	return a;
}

static const struct ml_aslr_row *row(const struct ml_aslr_row *rows, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	fail_msg("no row %s", name);
	return NULL;
}

static void close_to(double got, double want)
{
	if (fabs(got - want) > 1e-9)
		fail_msg("%.12f != %.12f", got, want);
}

/* Three runs, bases 0, 2 and 4 pages above the lowest: a step of 8 KiB,
 * 2 slots, N = 2 * (3 + 1) / (3 - 1) + 1 = 5 places, bits = log2 5. */
static void test_bits_and_ceiling(void **state)
{
	const uint64_t v[] = { 0x7f0000000000, 0x7f0000002000, 0x7f0000004000 };
	const struct ml_aslr_row *rows;
	struct ml_aslr *a = new_aslr();

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ml_aslr_begin_run(a), (int)i);
		assert_int_equal(ml_aslr_add(a, "lib", v[i], PAGE, 0), 0);
	}
	assert_int_equal(ml_aslr_runs(a), 3);
	assert_int_equal(ml_aslr_result(a, &rows), 1);
	const struct ml_aslr_row *r = row(rows, 1, "lib");
	assert_int_equal(r->samples, 3);
	assert_int_equal(r->distinct, 3);
	assert_true(r->min == v[0] && r->max == v[2]);
	assert_int_equal(r->align, 0x2000);       /* every step is two pages */
	close_to(r->bits, log2(2.0 * 4 / 2 + 1)); /* 2 slots of 8 KiB */
	close_to(r->ceiling, log2(3));
	ml_aslr_free(a);
}

/* The step: 2 MiB-aligned bases count in 2 MiB steps; a stack pointer in
 * 16-byte steps; values 16 bytes apart with a page unit count in pages. */
static void test_step_detection(void **state)
{
	const struct ml_aslr_row *rows;
	struct ml_aslr *a = new_aslr();

	(void)state;
	for (uint64_t i = 0; i < 4; i++) {
		ml_aslr_begin_run(a);
		assert_int_equal(ml_aslr_add(a, "big", 0x7f0000000000 + (i * 3 << 21), PAGE, 0), 0);
		assert_int_equal(ml_aslr_add(a, "sp", 0x7ffc00000000 + i * 0x30, 16, 0), 0);
		assert_int_equal(ml_aslr_add(a, "odd", 0x7e0000000000 + i * 16, PAGE, 0), 0);
	}
	int n = ml_aslr_result(a, &rows);
	assert_int_equal(n, 3);
	assert_int_equal(row(rows, n, "big")->align, 2u << 20);
	close_to(row(rows, n, "big")->bits, log2(9.0 * 5 / 3 + 1));
	assert_int_equal(row(rows, n, "sp")->align, 16);
	close_to(row(rows, n, "sp")->bits, log2(9.0 * 5 / 3 + 1));
	assert_int_equal(row(rows, n, "odd")->align, PAGE);    /* never below the unit */
	ml_aslr_free(a);
}

/* A value the same in every run: exactly 0 bits, one distinct value. */
static void test_constant(void **state)
{
	const struct ml_aslr_row *rows;
	struct ml_aslr *a = new_aslr();

	(void)state;
	for (int i = 0; i < 50; i++) {
		ml_aslr_begin_run(a);
		assert_int_equal(ml_aslr_add(a, "exe text", 0x400000, PAGE, 0), 0);
	}
	assert_int_equal(ml_aslr_result(a, &rows), 1);
	assert_true(rows[0].bits == 0.0);
	assert_int_equal(rows[0].distinct, 1);
	assert_int_equal(rows[0].align, PAGE);
	close_to(rows[0].ceiling, log2(50));
	ml_aslr_free(a);
}

/* text, data and bss at constant offsets from each other (one group, led
 * by text, with their offsets); a library that moves on its own; an
 * offset point not grouped even when constant. */
static void test_groups(void **state)
{
	const uint64_t exe[] = { 0x555500000000, 0x555612345000, 0x5557aaaa0000 };
	const uint64_t lib[] = { 0x7f1000000000, 0x7f0000111000, 0x7f2000222000 };
	const struct ml_aslr_row *rows;
	struct ml_aslr *a = new_aslr();

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		ml_aslr_begin_run(a);
		ml_aslr_add(a, "exe text", exe[i], PAGE, 0);
		ml_aslr_add(a, "exe data", exe[i] + 0x3000, PAGE, 0);
		ml_aslr_add(a, "libc", lib[i], PAGE, 0);
		ml_aslr_add(a, "exe bss", exe[i] + 0x5000, PAGE, 0);
		ml_aslr_add(a, "ld", lib[i] + 0x200000, PAGE, 0);
		ml_aslr_add(a, "heap - end", 0x1000, PAGE, ML_ASLR_RELATIVE);
	}
	int n = ml_aslr_result(a, &rows);
	assert_int_equal(n, 6);
	const struct ml_aslr_row *t = row(rows, n, "exe text"), *d = row(rows, n, "exe data"),
				 *b = row(rows, n, "exe bss"), *l = row(rows, n, "libc"),
				 *ld = row(rows, n, "ld"), *off = row(rows, n, "heap - end");
	assert_int_equal(t->group, 1);
	assert_true(d->group == 1 && b->group == 1);
	assert_string_equal(d->leader, "exe text");
	assert_true(t->offset == 0 && d->offset == 0x3000 && b->offset == 0x5000);
	assert_int_equal(l->group, 2);
	assert_int_equal(ld->group, 2);
	assert_string_equal(ld->leader, "libc");
	assert_true(ld->offset == 0x200000);
	assert_int_equal(off->group, 0);
	assert_true(off->flags & ML_ASLR_RELATIVE);
	assert_true(off->bits == 0.0);
	ml_aslr_free(a);
}

/* A point missing from some runs: counted over the runs that showed it,
 * grouped by the runs both showed; seen in only one of many runs it
 * proves nothing and stays alone. */
static void test_missing_samples(void **state)
{
	const struct ml_aslr_row *rows;
	struct ml_aslr *a = new_aslr();

	(void)state;
	for (uint64_t i = 0; i < 6; i++) {
		ml_aslr_begin_run(a);
		ml_aslr_add(a, "stack", 0x7ffc00000000 + i * 0x5000, PAGE, 0);
		if (i % 2 == 0)                     /* runs 0, 2, 4 */
			ml_aslr_add(a, "env", 0x7ffc00000000 + i * 0x5000 - 0x800, 1, 0);
		if (i == 3)
			ml_aslr_add(a, "once", 0x7f0000000000, PAGE, 0);
	}
	int n = ml_aslr_result(a, &rows);
	assert_int_equal(n, 3);
	const struct ml_aslr_row *s = row(rows, n, "stack"), *e = row(rows, n, "env"),
				 *o = row(rows, n, "once");
	assert_int_equal(s->samples, 6);
	assert_int_equal(e->samples, 3);
	close_to(e->ceiling, log2(3));
	assert_int_equal(e->align, 0x2000);   /* diffs 0xa000, 0x14000: lowest bit */
	assert_int_equal(e->group, s->group);
	assert_true(e->offset == -0x800);
	assert_int_equal(o->samples, 1);
	assert_true(o->bits == 0.0 && o->ceiling == 0.0);
	assert_true(o->group != s->group);
	ml_aslr_free(a);
}

/* The first value of a name in a run counts; a one-run estimate groups
 * what it saw; calls out of order are refused. */
static void test_first_value_and_errors(void **state)
{
	const struct ml_aslr_row *rows;
	struct ml_aslr *a = new_aslr();

	(void)state;
	assert_int_equal(ml_aslr_add(a, "x", 1, 1, 0), -EINVAL);   /* no run begun */
	ml_aslr_begin_run(a);
	assert_int_equal(ml_aslr_add(a, NULL, 1, 1, 0), -EINVAL);
	assert_int_equal(ml_aslr_add(a, "x", 0x1000, PAGE, 0), 0);
	assert_int_equal(ml_aslr_add(a, "x", 0x9000, PAGE, 0), 0);
	assert_int_equal(ml_aslr_add(a, "y", 0x3000, PAGE, 0), 0);
	int n = ml_aslr_result(a, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(row(rows, n, "x")->samples, 1);
	assert_true(row(rows, n, "x")->min == 0x1000 && row(rows, n, "x")->max == 0x1000);
	assert_int_equal(row(rows, n, "y")->group, row(rows, n, "x")->group);
	assert_int_equal(ml_aslr_result(NULL, &rows), -EINVAL);
	ml_aslr_free(a);
	ml_aslr_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits_and_ceiling),
		cmocka_unit_test(test_step_detection),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_missing_samples),
		cmocka_unit_test(test_first_value_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
