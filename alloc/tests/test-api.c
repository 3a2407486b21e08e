/* SPDX-License-Identifier: MIT */
/* test-api: the malloc family's contract, one test per function, run with
 * mlalloc linked in (static copy) so every call below reaches it. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"
#include "mlalloc.h"

static void *volatile sink;   /* keeps the compiler from folding malloc away */

static void test_malloc_contract(void **state)
{
	(void)state;
	void *z = malloc(0), *z2 = malloc(0);
	assert_non_null(z);
	assert_ptr_not_equal(z, z2);
	free(z);
	free(z2);
	for (size_t n = 1; n < ((size_t)3 << 20); n = n * 3 / 2 + 1) {
		uint8_t *p = malloc(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_true(malloc_usable_size(p) >= n);
		memset(p, 0xa5, malloc_usable_size(p));
		free(p);
	}
	assert_int_equal(mlalloc_check(), 0);
}

static void test_enomem(void **state)
{
	(void)state;
	errno = 0;
	sink = malloc(SIZE_MAX);
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	sink = malloc(SIZE_MAX - 4096);
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	sink = malloc((size_t)1 << 46);   /* 64 TiB: the kernel refuses it */
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	sink = calloc(SIZE_MAX / 2, 3);
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	sink = reallocarray(NULL, SIZE_MAX / 2, 3);
	assert_null(sink);
	assert_int_equal(errno, ENOMEM);
	void *p = malloc(100);
	errno = 0;
	assert_null(realloc(p, SIZE_MAX - 100));
	assert_int_equal(errno, ENOMEM);
	free(p);   /* still valid after the failed realloc */
}

static void test_calloc_contract(void **state)
{
	(void)state;
	/* Dirty blocks first, so calloc must really clear reused memory. */
	for (size_t n = 16; n < ((size_t)2 << 20); n *= 4) {
		void *d = malloc(n);
		memset(d, 0xff, n);
		free(d);
		uint8_t *p = calloc(1, n);
		assert_non_null(p);
		for (size_t i = 0; i < n; i++)
			if (p[i])
				fail_msg("calloc(%zu) byte %zu is %d", n, i, p[i]);
		free(p);
	}
}

/* In a fresh thread (a heap with a fresh segment, so the pages after the
 * first span are free), a 256 KiB block (a one-block span) grows in place
 * through the 64 KiB-multiple classes, keeping its bytes; a 300 KiB request
 * in another thread's block cannot grow in place and moves.  Then a block
 * with a live neighbour after it and a freed one before it slides down
 * into the freed one's pages. */
static void *grow_thread(void *arg)
{
	uint8_t **ret = arg;
	uint8_t *a = malloc(256 << 10), *b = malloc(256 << 10), *c = malloc(256 << 10);
	memset(b, 'b', 256 << 10);
	free(a);
	uint8_t *s = realloc(b, 300 << 10);
	ret[3] = s == a ? a : NULL;   /* slid into a's pages */
	for (size_t i = 0; s && i < (256 << 10); i++)
		if (s[i] != 'b')
			ret[3] = NULL;
	free(s);
	free(c);
	uint8_t *p = malloc(256 << 10);
	for (size_t i = 0; i < (256 << 10); i += 1000)
		p[i] = (uint8_t)(i / 1000);
	uint8_t *q = realloc(p, 300 << 10);
	ret[0] = p;
	ret[1] = q;
	ret[2] = q ? (uint8_t *)(uintptr_t)malloc_usable_size(q) : NULL;
	for (size_t i = 0; q && i < (256 << 10); i += 1000)
		if (q[i] != (uint8_t)(i / 1000))
			ret[2] = NULL;
	return NULL;
}

static void test_realloc_grow_in_place(void **state)
{
	(void)state;
	uint8_t *r[4];
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, grow_thread, r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_non_null(r[3]);
	assert_ptr_equal(r[1], r[0]);
	assert_int_equal((uintptr_t)r[2], 320 << 10);
	/* The block is now the other thread's: growing it here must move it. */
	uint8_t *q = realloc(r[1], 400 << 10);
	assert_non_null(q);
	assert_ptr_not_equal(q, r[1]);
	for (size_t i = 0; i < (256 << 10); i += 1000)
		assert_int_equal(q[i], (uint8_t)(i / 1000));
	free(q);
}

/* A block of a one-block span that realloc moves (or slides down) gives the
 * pages it leaves back at once (mla__realloc_leaving): none of them stays
 * resident.  The block moved is one with live blocks right before and
 * after it, so that it cannot grow in place. */
static void *move_thread(void *arg)
{
	enum { N = 40 };
	size_t *ret = arg, sz = 128 << 10, nsz = 300 << 10, os = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *blk[N], *a = NULL;
	for (int i = 0; i < N; i++)
		blk[i] = malloc(sz);
	for (int i = 0; i < N && !a; i++) {
		int around = 0;
		for (int j = 0; j < N; j++)
			around += blk[j] + sz == blk[i] || blk[i] + sz == blk[j];
		if (around == 2)
			a = blk[i];
	}
	ret[0] = ret[1] = ret[2] = 0;
	if (!a)
		return NULL;
	memset(a, 7, sz);
	uint8_t *q = realloc(a, nsz);
	ret[0] = q != a;
	ret[1] = q && q[0] == 7 && q[sz - 1] == 7;
	for (uint8_t *o = a; q && o < a + sz; o += os) {
		unsigned char v = 0;
		if (o >= q && o < q + nsz)
			continue;   /* now part of the block again */
		if (mincore(o, os, &v) == 0 && (v & 1))
			ret[2]++;
	}
	for (int i = 0; i < N; i++)
		free(blk[i] == a ? q : blk[i]);
	return NULL;
}

static void test_realloc_move_gives_back(void **state)
{
	(void)state;
	size_t r[3];
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, move_thread, r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1], 1);
	assert_int_equal(r[2], 0);   /* resident pages left behind */
}

static void test_realloc_contract(void **state)
{
	(void)state;
	uint8_t *p = realloc(NULL, 100);
	assert_non_null(p);
	for (int i = 0; i < 100; i++)
		p[i] = (uint8_t)i;
	uint8_t *q = realloc(p, 110);   /* same class (112): in place */
	assert_ptr_equal(q, p);
	q = realloc(q, 5000);
	for (int i = 0; i < 100; i++)
		assert_int_equal(q[i], i);
	/* Large growth moves pages (mremap) and keeps the bytes. */
	size_t n = (size_t)1 << 20;
	uint8_t *l = malloc(n);
	for (size_t i = 0; i < n; i += 4096)
		l[i] = (uint8_t)(i >> 12);
	for (size_t m = 2 * n; m <= 64 * n; m *= 2) {
		l = realloc(l, m);
		assert_non_null(l);
		assert_true(malloc_usable_size(l) >= m);
	}
	for (size_t i = 0; i < n; i += 4096)
		assert_int_equal(l[i], (uint8_t)(i >> 12));
	uint8_t *s = realloc(l, 1000);   /* back to a small block */
	for (size_t i = 0; i < 1000; i += 4096)
		assert_int_equal(s[i], (uint8_t)(i >> 12));
	free(s);
	assert_null(realloc(q, 0));   /* frees, as glibc */
}

static void test_aligned(void **state)
{
	(void)state;
	for (size_t a = 1; a <= ((size_t)4 << 20); a <<= 1) {
		size_t sizes[] = { 0, 1, 24, a, a + 1, 3 * a + 5, 700000 };
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *p = NULL;
			if (a >= sizeof(void *)) {
				assert_int_equal(posix_memalign(&p, a, sizes[i]), 0);
				assert_int_equal((uintptr_t)p % a, 0);
				assert_true(malloc_usable_size(p) >= sizes[i]);
				free(p);
			}
			p = aligned_alloc(a, sizes[i]);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % a, 0);
			free(p);
			p = memalign(a, sizes[i]);
			assert_int_equal((uintptr_t)p % a, 0);
			free(p);
		}
	}
	void *p;
	assert_int_equal(posix_memalign(&p, 24, 10), EINVAL);
	assert_int_equal(posix_memalign(&p, 4, 10), EINVAL);
	errno = 0;
	assert_null(aligned_alloc(48, 96));
	assert_int_equal(errno, EINVAL);
	p = memalign(48, 10);   /* glibc rounds to 64 */
	assert_int_equal((uintptr_t)p % 64, 0);
	free(p);
	p = valloc(10);
	assert_int_equal((uintptr_t)p % 4096, 0);
	free(p);
	p = pvalloc(10);
	assert_int_equal((uintptr_t)p % 4096, 0);
	assert_true(malloc_usable_size(p) >= 4096);
	free(p);
	assert_int_equal(mlalloc_check(), 0);
}

static void test_free_keeps_errno(void **state)
{
	(void)state;
	void *ps[2000];
	for (int i = 0; i < 2000; i++)
		ps[i] = malloc(i % 3 ? 48 : 2 << 20);
	for (int i = 0; i < 2000; i++) {
		errno = 1234;
		free(ps[i]);
		assert_int_equal(errno, 1234);
	}
	errno = 77;
	mlalloc_purge();
	free(NULL);
	assert_int_equal(errno, 77);
	assert_int_equal(malloc_usable_size(NULL), 0);
}

/* Large blocks are reused from the cache, not mapped again. */
static void test_large_reuse(void **state)
{
	(void)state;
	void *p = malloc(8 << 20);
	memset(p, 1, 8 << 20);
	free(p);
	void *q = malloc(8 << 20);
	assert_ptr_equal(p, q);
	free(q);
}

/* Resident pages of [p, p + len), p page-aligned. */
static size_t resident_pages(uint8_t *p, size_t len)
{
	size_t os = (size_t)sysconf(_SC_PAGESIZE), n = 0;
	for (size_t o = 0; o < len; o += os) {
		unsigned char v = 0;
		if (mincore(p + o, os, &v) == 0 && (v & 1))
			n++;
	}
	return n;
}

/* The large cache hands out the cached block that fits best, not the one
 * freed last; a block reused for a request a quarter smaller or more gives
 * the pages past the request back (a block reused whole stays resident
 * whole: bench/alloc malloc-large-zero peaked 1.48x glibc's RSS). */
static void test_large_best_fit(void **state)
{
	(void)state;
	const size_t mib = (size_t)1 << 20, os = (size_t)sysconf(_SC_PAGESIZE);
	mlalloc_purge();   /* an empty cache: what earlier tests freed is unmapped */
	uint8_t *big = malloc(24 * mib), *mid = malloc(13 * mib);
	assert_non_null(big);
	assert_non_null(mid);
	memset(big, 1, 24 * mib);
	memset(mid, 1, 13 * mib);
	free(mid);
	free(big);   /* cached first: a first fit would take it */
	uint8_t *q = malloc(12 * mib);
	assert_ptr_equal(q, mid);
	uint8_t *r = malloc(14 * mib);   /* only big is left: 10 MiB to spare */
	assert_ptr_equal(r, big);
	uint8_t *map = r - MLA_LARGE_HDR;   /* the mapping starts at the header */
	size_t kept = (MLA_LARGE_HDR + 14 * mib + os - 1) / os * os, whole = (MLA_LARGE_HDR + 24 * mib + os - 1) / os * os;
	assert_int_equal(resident_pages(map + kept, whole - kept), 0);
	assert_int_equal(r[14 * mib - 1], 1);   /* the request's bytes are kept */
	free(q);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malloc_contract),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_calloc_contract),
		cmocka_unit_test(test_realloc_contract),
		cmocka_unit_test(test_realloc_grow_in_place),
		cmocka_unit_test(test_realloc_move_gives_back),
		cmocka_unit_test(test_aligned),
		cmocka_unit_test(test_free_keeps_errno),
		cmocka_unit_test(test_large_reuse),
		cmocka_unit_test(test_large_best_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
