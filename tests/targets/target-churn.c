/* SPDX-License-Identifier: MIT */
/*
 * target-churn.c - end-to-end test target: an address space that changes
 * without pause, for the tests that read a process racing them.
 *
 * Maps NSLOTS small regions, one to a slot of SLOT pages, then replaces
 * them in a tight loop: a slot's region is unmapped and mapped again at
 * another offset and size inside the slot (MAP_FIXED, so a new region may
 * start below the end of the one it replaced: the overlap the kernel shows
 * across two read() calls of maps).  Alternate protections keep the
 * regions from merging; the last page of each slot stays a gap.
 * Prints "base=0x<hex>", "slots=N" and "ready=0x1", churns until stdin
 * reaches EOF (checked every few thousand changes), then exits 0.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define NSLOTS 3000
#define SLOT 4            /* pages a slot, the last one never mapped */

static int stdin_closed(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;

	return poll(&p, 1, 0) > 0 && read(0, &c, 1) <= 0;
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), slot = SLOT * page;
	char *base = mmap(NULL, NSLOTS * slot, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int seed = 12345;

	if (base == MAP_FAILED || munmap(base, NSLOTS * slot) < 0)
		return 1;
	for (size_t i = 0; i < NSLOTS; i++)
		if (mmap(base + i * slot, page, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			return 1;
	printf("base=0x%" PRIxPTR "\nslots=%d\nready=0x1\n", (uintptr_t)base, NSLOTS);
	fflush(stdout);
	for (unsigned long n = 0;; n++) {
		size_t i = (size_t)rand_r(&seed) % NSLOTS;
		size_t off = (size_t)rand_r(&seed) % (SLOT - 1);
		size_t len = 1 + (size_t)rand_r(&seed) % (SLOT - 1 - off);
		char *s = base + i * slot;

		if (n % 4096 == 0 && stdin_closed())
			return 0;
		munmap(s, slot - page);
		if (mmap(s + off * page, len * page, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			return 1;
	}
}
