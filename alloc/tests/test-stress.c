/* SPDX-License-Identifier: MIT */
/* test-stress: N threads do random malloc/realloc/free on a shared table of
 * slots, so most frees are cross-thread.  Every block is filled with a
 * pattern derived from its address and size, checked when it is freed or
 * reallocated; every thread checks its heap's invariants before it exits.
 * Bounded: ITERS operations per thread. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "mlalloc.h"
#include "tcheck.h"

#define NTHREADS 4
#define ITERS 150000
#define NSLOTS 4096

static _Atomic(uint64_t *) slots[NSLOTS];

static uint64_t word(uintptr_t p, size_t i) { return (p * 0x9e3779b97f4a7c15ULL) ^ (i * 0x2545f4914f6cdd1dULL); }

/* Block layout: [0] = size in bytes, then words of the pattern; large blocks
 * only get their first and last 4 KiB filled, to bound the CPU time. */
static void fill(uint64_t *p, size_t size)
{
	size_t n = size / 8;
	p[0] = size;
	for (size_t i = 1; i < n; i++) {
		if (n > 1024 && i == 512)
			i = n - 512;
		p[i] = word((uintptr_t)p, i);
	}
}

static void verify(const uint64_t *p, uintptr_t as)
{
	size_t size = p[0], n = size / 8;
	for (size_t i = 1; i < n; i++) {
		if (n > 1024 && i == 512)
			i = n - 512;
		if (p[i] != word(as, i)) {
			fprintf(stderr, "block %p (size %zu) word %zu damaged\n", (void *)p, size, i);
			abort();
		}
	}
}

static size_t pick_size(unsigned long long *r)
{
	unsigned long long x = trand(r);
	switch (x % 100) {
	case 0: return 600000 + x % (3 << 20);        /* large */
	case 1 ... 5: return 8192 + x % 300000;       /* medium */
	default: return 8 + x % 600;                  /* small */
	}
}

static void *worker(void *arg)
{
	unsigned long long r = (uintptr_t)arg * 7919 + 1;
	for (int it = 0; it < ITERS; it++) {
		unsigned s = (unsigned)(trand(&r) % NSLOTS);
		uint64_t *old = atomic_exchange(&slots[s], NULL);
		if (old && trand(&r) % 4 == 0) {   /* realloc: the prefix survives */
			size_t oldsize = old[0], size = pick_size(&r);
			uintptr_t was = (uintptr_t)old;
			verify(old, was);
			uint64_t *nw = realloc(old, size);
			CHECK(nw != NULL);
			CHECK(malloc_usable_size(nw) >= size);
			size_t keep = (size < oldsize ? size : oldsize) / 8;
			for (size_t i = 1; i < keep && i < 512; i++)
				CHECK(nw[i] == word(was, i));
			fill(nw, size);
			old = atomic_exchange(&slots[s], nw);
		}
		if (old) {
			verify(old, (uintptr_t)old);
			free(old);
		}
		if (trand(&r) % 2) {
			size_t size = pick_size(&r);
			uint64_t *p = malloc(size);
			CHECK(p != NULL);
			CHECK(((uintptr_t)p & 15) == 0);
			fill(p, size);
			if ((old = atomic_exchange(&slots[trand(&r) % NSLOTS], p))) {
				verify(old, (uintptr_t)old);
				free(old);
			}
		}
	}
	CHECK(mlalloc_check() == 0);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	for (uintptr_t i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int s = 0; s < NSLOTS; s++) {
		uint64_t *p = atomic_exchange(&slots[s], NULL);
		if (p) {
			verify(p, (uintptr_t)p);
			free(p);
		}
	}
	CHECK(mlalloc_check() == 0);
	printf("stress: %d threads x %d operations, all patterns intact\n", NTHREADS, ITERS);
	return 0;
}
