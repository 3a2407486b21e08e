/* SPDX-License-Identifier: MIT */
/*
 * test-procfs.c - the small /proc file parsers: stat (hostile comm, kernel
 * thread flag), limits, auxv (64- and 32-bit layouts), task syscall, and
 * a task directory left empty by a target that exited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ml-private.h"

/* 52 fields; comm with spaces and parentheses; flags field 9. */
static const char stat_line[] =
	"4242 (a) (b ) c) S 1 4242 4242 0 -1 %s 1111 0 22 0 3 4 0 0 20 0 3 0 100 "
	"10000000 500 18446744073709551615 94000000000000 94000000100000 "
	"140720000000000 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94000000200000 "
	"94000000300000 94000001000000 140720000001000 140720000002000 "
	"140720000002000 140720000003000 0\n";

static void test_stat(void **state)
{
	(void)state;
	char buf[1024];
	struct ml_proc p = { 0 };

	snprintf(buf, sizeof(buf), stat_line, "4194304");
	assert_int_equal(ml__parse_stat(buf, &p), 0);
	assert_string_equal(p.comm, "a) (b ) c");
	assert_true(p.minflt == 1111);
	assert_true(p.majflt == 22);
	assert_true(p.start_stack == 140720000000000ull);
	assert_true(p.start_brk == 94000001000000ull);
	assert_true(p.arg_start == 140720000001000ull);
	assert_true(p.env_start == 140720000002000ull);

	struct ml_proc k = { 0 };
	snprintf(buf, sizeof(buf), stat_line, "2129984");   /* PF_KTHREAD set */
	assert_int_equal(ml__parse_stat(buf, &k), 1);

	struct ml_proc x = { 0 };
	snprintf(buf, sizeof(buf), stat_line, "4194308");   /* PF_EXITING set */
	assert_int_equal(ml__parse_stat(buf, &x), -ESRCH);

	struct ml_proc z = { 0 };
	assert_int_equal(ml__parse_stat("12 (x S 1 2 3", &z), -EBADMSG);
	assert_int_equal(ml__parse_stat("12 (x) S 1 2 3", &z), -EBADMSG);
}

static void test_limits(void **state)
{
	(void)state;
	uint64_t v = 0;
	const char *a =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max cpu time              unlimited            unlimited            seconds   \n"
		"Max stack size            8388608              unlimited            bytes     \n";
	assert_int_equal(ml__parse_limits(a, &v), 0);
	assert_true(v == 8388608);
	const char *b =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max stack size            unlimited            unlimited            bytes     \n";
	assert_int_equal(ml__parse_limits(b, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(ml__parse_limits("Limit\n", &v), -EBADMSG);
}

static void test_auxv64(void **state)
{
	(void)state;
	uint64_t a[] = { AT_SYSINFO_EHDR, 0x7fff0000a000ull, AT_PAGESZ, 4096,
			 AT_ENTRY, 0x555555555040ull, AT_NULL, 0 };
	struct ml_proc p = { 0 };
	assert_int_equal(ml__parse_auxv(a, sizeof(a), &p), 64);
	assert_true(p.entry == 0x555555555040ull);
	assert_true(p.vdso == 0x7fff0000a000ull);
	assert_true(p.page_size == 4096);
}

static void test_auxv32(void **state)
{
	(void)state;
	uint32_t a[] = { AT_SYSINFO, 0xf7fc4550, AT_SYSINFO_EHDR, 0xf7fc4000,
			 AT_PAGESZ, 4096, AT_ENTRY, 0x56556090, AT_NULL, 0 };
	struct ml_proc p = { 0 };
	assert_int_equal(ml__parse_auxv(a, sizeof(a), &p), 32);
	assert_true(p.entry == 0x56556090);
	assert_true(p.vdso == 0xf7fc4000);
	assert_int_equal(ml__parse_auxv(a, 4, &p), -EBADMSG);
}

static void test_syscall(void **state)
{
	(void)state;
	struct ml_thread t = { 0 };
	assert_int_equal(ml__parse_syscall("running\n", &t), 0);
	assert_false(t.sp_known);
	assert_int_equal(t.syscall_nr, -2);

	assert_int_equal(ml__parse_syscall("-1 0x7ffd1000 0x401000\n", &t), 0);
	assert_true(t.sp_known);
	assert_int_equal(t.syscall_nr, -1);
	assert_true(t.sp == 0x7ffd1000 && t.pc == 0x401000);

	struct ml_thread u = { 0 };
	assert_int_equal(ml__parse_syscall(
		"0 0x0 0x7ffc 0x1 0x0 0x0 0x0 0x7f00aa10 0x7f00bb20\n", &u), 0);
	assert_int_equal(u.syscall_nr, 0);
	assert_true(u.sp == 0x7f00aa10 && u.pc == 0x7f00bb20);

	struct ml_thread v = { 0 };
	assert_int_equal(ml__parse_syscall("garbage", &v), -EBADMSG);
	assert_int_equal(ml__parse_syscall("5\n", &v), -EBADMSG);
	assert_false(v.sp_known);
}

/* A target that exits between opendir and readdir leaves task/ empty: no
 * threads and no array, and nothing handed to qsort (UBSan's nonnull check
 * caught a NULL base there in a sanitizer run of e2e-where-exit). */
static void test_threads_empty_task(void **state)
{
	(void)state;
	char root[] = "/tmp/ml-procfs-XXXXXX", task[4200];
	assert_non_null(mkdtemp(root));
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));
	assert_non_null(snap);
	snprintf(snap->proc_dir, sizeof(snap->proc_dir), "%s", root);
	snprintf(task, sizeof(task), "%s/task", root);
	assert_int_equal(mkdir(task, 0700), 0);
	assert_int_equal(ml__read_threads(snap, false), 0);
	assert_int_equal(snap->nthreads, 0);
	assert_null(snap->threads);
	rmdir(task);
	assert_int_equal(ml__read_threads(snap, false), -ENOENT);
	rmdir(root);
	free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_auxv64),
		cmocka_unit_test(test_auxv32),
		cmocka_unit_test(test_syscall),
		cmocka_unit_test(test_threads_empty_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
