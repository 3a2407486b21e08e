/* SPDX-License-Identifier: MIT */
/*
 * target-reserve.c - test target of `memlayout pages` on reservations and
 * of memlayout under a small address-space limit (tests/pages/test_limits.py).
 *
 * Maps a 20 TiB PROT_NONE MAP_NORESERVE reservation, never touched (what
 * every ASan program has for its shadow), and a 64-page anonymous region
 * whose even pages are written before the whole region is made PROT_NONE
 * (a ---p region that does hold pages).  With an argument N, N more
 * one-page mappings whose permissions alternate (r--p, rw-p) so the
 * kernel cannot merge them: a process with many regions.
 *
 * Prints "reserve=0x..", "reserve_pages=N" (0 and no reservation where
 * the kernel refuses one that big), "protected=0x..", "protected_written=N",
 * "many=N", then "ready=0x1"; exits 0 at end of input.  Exits 1 with the
 * failing call on stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define RESERVE (20ULL << 40)
#define PROTECTED_PAGES 64

static void *map(size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Written pages, then no access: the even pages hold frames. */
static char *protected_region(size_t page)
{
	char *p = map(PROTECTED_PAGES * page, PROT_READ | PROT_WRITE, 0);

	if (!p)
		return NULL;
	for (size_t i = 0; i < PROTECTED_PAGES; i += 2)
		p[i * page] = 1;
	return mprotect(p, PROTECTED_PAGES * page, PROT_NONE) ? NULL : p;
}

/* n one-page mappings, r--p and rw-p in turn, in one reserved span so
 * they sit side by side and differ from each neighbour. */
static int many(size_t n, size_t page)
{
	char *p = map(n * page, PROT_NONE, MAP_NORESERVE);

	if (!p && n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (mprotect(p + i * page, page, i % 2 ? PROT_READ | PROT_WRITE : PROT_READ))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	char *reserve = map(RESERVE, PROT_NONE, MAP_NORESERVE);
	char *prot = protected_region(page);
	char buf[64];

	if (!prot || many(n, page)) {
		perror("target-reserve: mmap/mprotect");
		return 1;
	}
	printf("reserve=%#lx\nreserve_pages=%llu\nprotected=%#lx\nprotected_written=%d\n"
	       "many=%zu\nready=0x1\n", (unsigned long)(uintptr_t)reserve,
	       reserve ? RESERVE / page : 0ULL, (unsigned long)(uintptr_t)prot,
	       PROTECTED_PAGES / 2, n);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin))
		;
	return 0;
}
