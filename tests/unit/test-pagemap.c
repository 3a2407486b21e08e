/* SPDX-License-Identifier: MIT */
/*
 * test-pagemap.c - decoding of /proc/PID/pagemap entries (guard before
 * swap, hidden PFNs, swap type and offset) and reading the entries of our
 * own pages: a page we touch is present, one we never touch is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <errno.h>
#include <unistd.h>

#include "memlayout.h"
#include "ml-private.h"   /* ml_page_decode, ml_pagemap_read, ml_pagemap_page_size */

#define BIT(n) (1ULL << (n))

static void test_decode(void **state)
{
	struct ml_page p;
	(void)state;

	ml_page_decode(BIT(63) | BIT(56) | 0x1234, &p);
	assert_int_equal(p.flags, ML_PAGE_PRESENT | ML_PAGE_EXCLUSIVE);
	assert_int_equal(p.pfn, 0x1234);

	ml_page_decode(BIT(63) | BIT(61), &p);            /* unprivileged reader */
	assert_true(p.flags & ML_PAGE_PFN_HIDDEN);
	assert_true(p.flags & ML_PAGE_FILE_SHARED);
	assert_int_equal(p.pfn, 0);

	ml_page_decode(BIT(62) | (777ULL << 5) | 3, &p);  /* swap type 3, offset 777 */
	assert_int_equal(p.flags, ML_PAGE_SWAPPED);
	assert_int_equal(p.swap_type, 3);
	assert_int_equal(p.swap_offset, 777);

	ml_page_decode(BIT(62) | BIT(58), &p);            /* guard marker, not swap */
	assert_int_equal(p.flags, ML_PAGE_GUARD);

	ml_page_decode(BIT(55), &p);                      /* never touched, soft-dirty */
	assert_int_equal(p.flags, ML_PAGE_SOFT_DIRTY);
	assert_int_equal(p.pfn, 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ml_kpageflag_name(22), "thp");
	assert_string_equal(ml_kpageflag_name(24), "zero_page");
	assert_null(ml_kpageflag_name(63));
}

static void test_read_self(void **state)
{
	struct ml_pagemap *pm;
	uint64_t e[2];
	struct ml_page p;
	long ps = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)state;

	assert_true(m != MAP_FAILED);
	m[0] = 1;                                          /* page 0 faulted in */
	assert_int_equal(ml_pagemap_open(getpid(), NULL, &pm), 0);
	assert_int_equal(ml_pagemap_page_size(pm), (uint64_t)ps);
	assert_int_equal(ml_pagemap_read(pm, (uintptr_t)m, 2, e), 0);
	ml_page_decode(e[0], &p);
	assert_true(p.flags & ML_PAGE_PRESENT);
	assert_true(p.flags & ML_PAGE_EXCLUSIVE);
	ml_page_decode(e[1], &p);
	assert_false(p.flags & (ML_PAGE_PRESENT | ML_PAGE_SWAPPED));
	ml_pagemap_close(pm);
	munmap(m, 2 * ps);

	assert_int_equal(ml_pagemap_open(0x7ffffff0, NULL, &pm), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_read_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
