/* SPDX-License-Identifier: MIT */
/*
 * test-residency.c - the residency scanner on real pages of this process
 * and of forked children: both methods give the same runs (AUTO picks
 * PAGEMAP_SCAN where the kernel has it, probed, else pread); more ranges
 * than PAGEMAP_SCAN's vector and its internal 512-range step (the stale
 * walk_end quirk) are counted once; bars of fewer cells than pages; a
 * process that exits between reads is -ESRCH, never an empty address
 * space; frames shared after fork (root) or -EPERM (frame numbers hidden).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memlayout.h"
#include "../unit/kernel-probe.h"

static long page;

static char *map_pages(size_t n)
{
	char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	madvise(p, n * page, MADV_NOHUGEPAGE);
	return p;
}

/* Scan [p, p + n pages) of pid by method m into *ret; false (having
 * checked it says -EOPNOTSUPP) for ML_SCAN_IOCTL where the kernel has no
 * PAGEMAP_SCAN. */
static bool scan(pid_t pid, enum ml_scan_method m, const char *p, size_t n,
		 unsigned int width, struct ml_residency *ret,
		 enum ml_scan_method *ret_used)
{
	bool none = m == ML_SCAN_IOCTL && probe_pagemap_scan() < 0;
	struct ml_pagemap *pm;
	struct ml_scanner *sc;

	assert_int_equal(ml_pagemap_open(pid, NULL, &pm), 0);
	assert_int_equal(ml_scanner_new(pm, m, &sc), 0);
	assert_int_equal(ml_residency_scan(sc, (uintptr_t)p, (uintptr_t)p + n * page,
					   width, ret), none ? -EOPNOTSUPP : 0);
	if (!none)
		assert_int_equal(ml_scanner_check_alive(sc), 0);
	if (ret_used)
		*ret_used = ml_scanner_method(sc);
	ml_scanner_free(sc);
	ml_pagemap_close(pm);
	return !none;
}

/* Every other page of n written: n/2 separate ranges.  1500 is more than
 * the vector (1024) and the kernel's 512-range step; 1024 fills the vector
 * exactly as the walk completes, when the kernel's walk_end is stale (it
 * was measured to point 0x800000 bytes back): counted once either way. */
static void many_ranges(size_t N)
{
	char *p = map_pages(N);
	struct ml_residency a, b;
	enum ml_scan_method used;

	for (size_t i = 0; i < N; i += 2)
		p[i * page] = 1;
	scan(getpid(), ML_SCAN_AUTO, p, N, 64, &a, &used);
	scan(getpid(), ML_SCAN_PREAD, p, N, 64, &b, NULL);
	assert_int_equal(a.pages[ML_PST_PRESENT], N / 2);
	assert_int_equal(a.pages[ML_PST_UNTOUCHED], N / 2);
	assert_memory_equal(a.pages, b.pages, sizeof(a.pages));
	assert_string_equal(a.bar, b.bar);
	assert_int_equal(strlen(a.bar), 64);
	assert_int_equal(a.bar[0], 'o');          /* half of each cell */
	/* PAGEMAP_SCAN where the kernel has it (6.7+), else the pread fallback. */
	assert_int_equal(used, probe_pagemap_scan() == 0 ? ML_SCAN_IOCTL : ML_SCAN_PREAD);
	munmap(p, N * page);
}

static void test_many_ranges(void **state)
{
	(void)state;
	many_ranges(3000);
	many_ranges(2048);
}

/* 64 pages in 4 cells of 16: full, partial, none, partial. */
static void test_bar_cells(void **state)
{
	char *p = map_pages(64);
	struct ml_residency r;
	(void)state;

	for (size_t i = 0; i < 16; i++)
		p[i * page] = 1;
	p[20 * page] = 1;
	p[63 * page] = 1;
	for (int m = ML_SCAN_AUTO; m <= ML_SCAN_PREAD; m++) {
		if (!scan(getpid(), m, p, 64, 4, &r, NULL))
			continue;
		assert_string_equal(r.bar, "Oo.o");
		assert_int_equal(r.pages[ML_PST_PRESENT], 18);
		assert_int_equal(r.pages[ML_PST_UNTOUCHED], 46);
	}
	/* A range inside the mapping, not page aligned: rounded out. */
	scan(getpid(), ML_SCAN_AUTO, p + 15 * page + 7, 5, 32, &r, NULL);
	assert_int_equal(r.end - r.start, 6 * page);
	assert_string_equal(r.bar, "O....O");
	munmap(p, 64 * page);
}

/* A child that maps and touches pages, then waits for its pipe to close. */
static pid_t child_with_pages(char **ret_p, int *ret_fd)
{
	int go[2], ready[2];
	char *p = map_pages(32), c;
	pid_t pid;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		for (size_t i = 0; i < 32; i++)
			p[i * page] = 2;            /* its own frames now */
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*ret_p = p;
	*ret_fd = go[1];
	return pid;
}

/* The pagemap is open, then the process exits: no method may report its
 * pages as untouched without saying it is gone. */
static void test_exit_between_reads(void **state)
{
	struct ml_pagemap *pm;
	struct ml_scanner *sc[2];
	struct ml_residency r;
	char *p;
	int fd;
	pid_t pid = child_with_pages(&p, &fd);
	(void)state;

	assert_int_equal(ml_pagemap_open(pid, NULL, &pm), 0);
	assert_int_equal(ml_scanner_new(pm, ML_SCAN_AUTO, &sc[0]), 0);
	assert_int_equal(ml_scanner_new(pm, ML_SCAN_PREAD, &sc[1]), 0);
	assert_int_equal(ml_residency_scan(sc[0], (uintptr_t)p, (uintptr_t)p + 32 * page, 32, &r), 0);
	assert_int_equal(r.pages[ML_PST_PRESENT], 32);
	close(fd);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* PAGEMAP_SCAN of the dead address space finds nothing ... */
	int rc = ml_residency_scan(sc[0], (uintptr_t)p, (uintptr_t)p + 32 * page, 32, &r);
	assert_true(rc == 0 || rc == -ESRCH);
	/* ... which is why the liveness check after the scans exists. */
	assert_int_equal(ml_scanner_check_alive(sc[0]), -ESRCH);
	assert_int_equal(ml_residency_scan(sc[1], (uintptr_t)p, (uintptr_t)p + 32 * page, 32, &r), -ESRCH);
	ml_scanner_free(sc[0]);
	ml_scanner_free(sc[1]);
	ml_pagemap_close(pm);
	munmap(p, 32 * page);
}

/* The frames of [p, p + n pages) and [q, q + 32 pages) of pid. */
static struct ml_frames *frames_of(pid_t pid, const char *p, size_t n,
				   const char *q, int *ret_rc)
{
	struct ml_pagemap *pm;
	struct ml_scanner *sc;
	struct ml_frames *f = NULL;
	uint64_t range[2][2] = { { (uintptr_t)p, (uintptr_t)p + n * page },
				 { (uintptr_t)q, (uintptr_t)q + 32 * page } };

	assert_int_equal(ml_pagemap_open(pid, NULL, &pm), 0);
	assert_int_equal(ml_scanner_new(pm, ML_SCAN_AUTO, &sc), 0);
	*ret_rc = ml_frames_collect(sc, pm, (const uint64_t (*)[2])range, 2, &f);
	ml_scanner_free(sc);
	ml_pagemap_close(pm);
	return f;
}

/* After fork, pages neither side wrote again are one frame for both; the
 * 32 pages only the child wrote (the parent never touched them) are its
 * own. */
static void test_frames_after_fork(void **state)
{
	enum { N = 64 };
	char *p = map_pages(N), *q;
	struct ml_share_count ca[2], cb[2];
	struct ml_share_totals t;
	int fd, rc_a, rc_b;
	(void)state;

	for (size_t i = 0; i < N; i++)
		p[i * page] = 1;
	pid_t pid = child_with_pages(&q, &fd);   /* maps 32 more pages it writes */
	struct ml_frames *a = frames_of(getpid(), p, N, q, &rc_a);
	struct ml_frames *b = frames_of(pid, p, N, q, &rc_b);
	bool hidden = rc_a == -EPERM;
	close(fd);
	waitpid(pid, NULL, 0);
	assert_int_equal(rc_a, rc_b);
	if (hidden) {   /* no CAP_SYS_ADMIN: frame numbers read as 0 */
		assert_null(a);
		assert_null(b);
	} else {
		assert_int_equal(rc_a, 0);
		assert_int_equal(ml_frames_compare(a, b, ca, cb, &t), 0);
		assert_int_equal(ca[0].resident, N);
		assert_int_equal(ca[0].shared, N);      /* the child wrote nothing here */
		assert_int_equal(cb[0].shared, N);
		assert_int_equal(ca[1].resident, 0);    /* the parent never touched q */
		assert_int_equal(cb[1].resident, 32);
		assert_int_equal(cb[1].private_pages, 32);
		assert_int_equal(t.shared, N);
		assert_int_equal(t.only_a, 0);
		assert_int_equal(t.only_b, 32);
	}
	ml_frames_free(a);
	ml_frames_free(b);
	munmap(p, N * page);
	munmap(q, 32 * page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_ranges),
		cmocka_unit_test(test_bar_cells),
		cmocka_unit_test(test_exit_between_reads),
		cmocka_unit_test(test_frames_after_fork),
	};

	page = sysconf(_SC_PAGESIZE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
