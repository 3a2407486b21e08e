/* SPDX-License-Identifier: MIT */
/*
 * target-pages.c - end-to-end test target of `memlayout pages`: pages in
 * known states.
 *
 * A 16-page private anonymous mapping (no THP) with pages 0, 5 and 6
 * written, page 9 only read (so it maps the shared zero page) and, where
 * the kernel has MADV_GUARD_INSTALL (6.13+), a guard marker on page 12.
 * A 2 MiB-aligned 2 MiB anonymous block with MADV_HUGEPAGE, written whole
 * (the kernel backs it with a transparent huge page when THP is enabled
 * for madvise and a huge page is free; the test checks smaps).
 *
 * Prints "region=0x..", "thp=0x..", "guard=0|1", then "ready=0x1".  Then
 * reads commands on stdin, one a line: "touch N" writes page N of the
 * region and answers "touched=N"; it exits 0 at end of input.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define NPAGES 16
#define HUGE (2UL << 20)

static const int written[] = { 0, 5, 6 };
enum { READ_PAGE = 9, GUARD_PAGE = 12 };

static char *small_region(long page)
{
	char *p = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, NPAGES * page, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		p[written[i] * page] = 1;
	return p;
}

/* 2 MiB aligned inside a 4 MiB reservation; the rest is unmapped so the
 * block is a VMA of its own. */
static char *thp_block(void)
{
	char *p = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1);
	if ((char *)a > p)
		munmap(p, (char *)a - p);
	if ((char *)a + HUGE < p + 2 * HUGE)
		munmap((char *)a + HUGE, p + 2 * HUGE - ((char *)a + HUGE));
	madvise((void *)a, HUGE, MADV_HUGEPAGE);
	memset((void *)a, 7, HUGE);
	return (char *)a;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *r = small_region(page), *thp = thp_block(), line[64];
	volatile char sink;
	int guard, n;

	if (!r || !thp)
		return 1;
	sink = r[READ_PAGE * page];
	(void)sink;
	guard = madvise(r + GUARD_PAGE * page, page, MADV_GUARD_INSTALL) == 0;
	printf("region=0x%" PRIxPTR "\nthp=0x%" PRIxPTR "\nguard=%d\nready=0x1\n",
	       (uintptr_t)r, (uintptr_t)thp, guard);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "touch %d", &n) == 1 && n >= 0 && n < NPAGES) {
			r[n * page] = 2;
			printf("touched=%d\n", n);
			fflush(stdout);
		}
	}
	return 0;
}
