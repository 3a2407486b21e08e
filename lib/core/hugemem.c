/* SPDX-License-Identifier: MIT */
/*
 * hugemem.c - big zeroed blocks backed by transparent huge pages where the
 * kernel gives them (THP "always" or "madvise").
 *
 * A snapshot of 20,000 regions with smaps figures touches about 7 MB of
 * fresh memory.  In 4 KiB pages that is 1,800 page faults, each costing
 * ~2 us of allocation, zeroing and accounting under a VM (bench/show-vs-pmap
 * measured it); in 2 MiB pages it is four.  Blocks are 2 MiB-aligned
 * mappings, whole huge pages; where THP is off they are plain anonymous
 * mappings, which cost no more than the heap would.
 */
#include "ml-core.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

size_t ml__huge_size(size_t size)
{
	return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *ml__huge_alloc(size_t size)
{
	size_t len;
	char *p, *a;

	if (!size || size > SIZE_MAX - 2 * HUGE_PAGE)
		return NULL;
	len = ml__huge_size(size);
	/* Map one huge page more, then trim to an aligned block. */
	p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + len + HUGE_PAGE)
		munmap(a + len, (size_t)(p + len + HUGE_PAGE - (a + len)));
	madvise(a, len, MADV_HUGEPAGE);   /* a hint: EINVAL without THP is fine */
	return a;
}

void ml__huge_free(void *p, size_t size)
{
	if (p)
		munmap(p, ml__huge_size(size));
}

/* Huge block p (cap bytes) moved into the fresh huge block *np (ncap
 * bytes): its pages themselves move (mremap over the fresh mapping, which
 * keeps the 2 MiB alignment), so nothing is copied and only the new tail
 * is faulted in when used.  false if it could not: p is as it was, and *np
 * a fresh block again (a failed mremap may have unmapped it), or NULL. */
static bool remap(void *p, size_t cap, void **np, size_t ncap)
{
	if (mremap(p, cap, ncap, MREMAP_MAYMOVE | MREMAP_FIXED, *np) != MAP_FAILED)
		return true;
	ml__huge_free(*np, ncap);
	*np = ml__huge_alloc(ncap);
	return false;
}

int ml__grow(void **p, size_t *cap, bool *huge, size_t used, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	void *np;

	assert(used <= *cap && (*p || !*cap) && (!*huge || *cap >= ML__HUGE_MIN));

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap == *cap)
		return 0;
	if (ncap < ML__HUGE_MIN) {
		if (!(np = realloc(*p, ncap)))
			return -ENOMEM;
	} else {
		ncap = ml__huge_size(ncap);
		if (!(np = ml__huge_alloc(ncap)))
			return -ENOMEM;
		if (!*huge || !remap(*p, *cap, &np, ncap)) {
			if (!np)
				return -ENOMEM;
			if (used)
				memcpy(np, *p, used);
			ml__grow_free(*p, *cap, *huge);
		}
		*huge = true;
	}
	*p = np;
	*cap = ncap;
	return 0;
}

void ml__grow_free(void *p, size_t cap, bool huge)
{
	if (huge)
		ml__huge_free(p, cap);
	else
		free(p);
}
