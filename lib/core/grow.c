/* SPDX-License-Identifier: MIT */
/*
 * grow.c - the growable array of the library: an array of *cap elements
 * made to hold at least need, its capacity doubled (from 16), so n
 * appends cost O(n) copying in all.  Every array that grows by appending
 * (threads, events, bands, frames, symbols' modules, line buffers) grows
 * through it; hugemem.c's ml__grow is the same for blocks that move into
 * huge pages.
 */
#include "ml-core.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ml__array_grow(void *arrp, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap > 16 ? *cap : 16;
	void *p, *np;

	assert(size > 0);
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	memcpy(&p, arrp, sizeof(p));
	if (!(np = realloc(p, ncap * size)))
		return -ENOMEM;
	memcpy(arrp, &np, sizeof(np));
	*cap = ncap;
	return 0;
}
