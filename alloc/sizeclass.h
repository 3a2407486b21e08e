/* SPDX-License-Identifier: MIT */
/* sizeclass.h: size classes and alignment arithmetic, all pure functions.
 *
 * Classes 0..7 are 16, 32, ... 128 bytes; above 128 every power-of-two range
 * (2^b, 2^(b+1)] is split into 4 classes, as in jemalloc, up to 512 KiB: 56
 * classes.  Bound: the class of n wastes less than n/4 bytes (n > 128) or 15
 * bytes (n <= 128).  Every class size is a multiple of 16, and of every power
 * of two up to min(its lowest set bit, 64 KiB) -- mla_class_for_align uses that.
 */
#ifndef MLA_ALLOC_SIZECLASS_H
#define MLA_ALLOC_SIZECLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MLA_SC_NCLASSES 56
#define MLA_SC_MAX      ((size_t)512 << 10)

static inline bool mla_is_pow2(size_t x) { return x && !(x & (x - 1)); }

/* x rounded up to a multiple of the power of two a; 0 if that overflows. */
static inline size_t mla_align_up(size_t x, size_t a)
{
	size_t r = (x + a - 1) & ~(a - 1);
	return r < x ? 0 : r;
}

static inline uintptr_t mla_align_down(uintptr_t x, size_t a) { return x & ~(uintptr_t)(a - 1); }

/* Class of a request of n bytes, 0 < n <= MLA_SC_MAX (n == 0 gives class 0). */
static inline unsigned mla_size_class(size_t n)
{
	if (n <= 128)
		return n ? (unsigned)((n + 15) >> 4) - 1 : 0;
	size_t s = n - 1;
	unsigned b = 63u - (unsigned)__builtin_clzl(s);   /* b >= 7 */
	return 8u + (b - 7u) * 4u + (unsigned)((s >> (b - 2u)) & 3u);
}

/* The class of n <= MLA_SC_TABLE_MAX bytes by one load: every class size
 * is a multiple of 16, so all n in (16k - 16, 16k] share a class and
 * mla_sc_table[(n + 15) >> 4] == mla_size_class(n) (test-sizeclass checks
 * every n).  malloc's fast path uses it: the arithmetic above costs about
 * ten instructions more for n > 128 (callgrind, bench glibc-thread). */
#define MLA_SC_TABLE_MAX 1024
static const uint8_t mla_sc_table[MLA_SC_TABLE_MAX / 16 + 1] = {
	0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  8,  9,  9,  10, 10, 11, 11,
	12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
	16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 17, 17, 17,
	18, 18, 18, 18, 18, 18, 18, 18, 19, 19, 19, 19, 19, 19, 19, 19,
};

/* mla_size_class(n), through the table when n is small. */
static inline unsigned mla_size_class_fast(size_t n)
{
	return n <= MLA_SC_TABLE_MAX ? mla_sc_table[(n + 15) >> 4] : mla_size_class(n);
}

/* Block size of class c. */
static inline size_t mla_class_size(unsigned c)
{
	if (c < 8)
		return (size_t)(c + 1) << 4;
	unsigned g = (c - 8) >> 2, k = (c - 8) & 3;
	return ((size_t)128 << g) + ((size_t)(k + 1) << (g + 5));
}

/* Whether spans of class c hold one block: the classes that are multiples
 * of 64 KiB (64, 128, 192, 256, 320, 384, 448, 512 KiB), which then waste
 * nothing.  A freed one-block span is a run of pages any other span can
 * reuse, and realloc can grow such a block in place or slide it into the
 * free pages before it (blocks growing by realloc move through these
 * classes).  (One-block spans for every class from 64 KiB, with untouched
 * tails, measured worse on the realloc trace: 63% against 70%.) */
static inline bool mla_class_one_block(unsigned c)
{
	size_t sz = mla_class_size(c);
	return sz >= 65536 && (sz & 0xffff) == 0;
}

/* Pages of 64 KiB in a span of class c: one up to 8 KiB blocks; for a
 * one-block class, the pages its block covers; else enough for 4 blocks, or
 * up to 4 pages more when that wastes a smaller fraction (never more than
 * 32 pages, half a segment). */
static inline unsigned mla_class_span_pages(unsigned c)
{
	size_t sz = mla_class_size(c);
	if (sz <= 8192)
		return 1;
	if (mla_class_one_block(c))
		return (unsigned)(sz >> 16);
	size_t n0 = (4 * sz + ((size_t)1 << 16) - 1) >> 16, best = n0;
	for (size_t n = n0 + 1; n <= n0 + 4 && n <= 32; n++) {
		size_t w = (n << 16) % sz, bw = (best << 16) % sz;
		if (w * best < bw * n)
			best = n;
	}
	return (unsigned)best;
}

/* Smallest class whose blocks can hold n bytes and are all aligned to align
 * (a power of two <= 64 KiB) because the class size is a multiple of it and
 * spans start on 64 KiB boundaries.  Returns MLA_SC_NCLASSES if none fits. */
static inline unsigned mla_class_for_align(size_t n, size_t align)
{
	if (n < align)
		n = align;
	if (n > MLA_SC_MAX)
		return MLA_SC_NCLASSES;
	for (unsigned c = mla_size_class(n); c < MLA_SC_NCLASSES; c++)
		if ((mla_class_size(c) & (align - 1)) == 0)
			return c;
	return MLA_SC_NCLASSES;
}

/* Constant for mla_divisible(): d > 0. */
static inline uint64_t mla_div_magic(uint32_t d) { return UINT64_MAX / d + 1; }

/* Whether d divides n, for 32-bit n, with the magic of d (Lemire et al.,
 * "Faster remainder by direct computation", 2019): one multiply. */
static inline bool mla_divisible(uint32_t n, uint64_t magic) { return (uint64_t)n * magic <= magic - 1; }

/* Whether off is k * d for some k < capacity, with the magic of d: one
 * 64x64 -> 128-bit multiply gives both (the high word is off / d and the
 * low word is below the magic iff d divides off: Lemire et al., above, for
 * off < 2^32).  A larger off (an address below a span's start) gives a
 * quotient of at least off / d >= 2^32 / d, beyond any capacity of a span
 * (at most 2 MiB / d), so it fails too.  free's check of a block start. */
static inline bool mla_block_index_ok(uint64_t off, uint64_t magic, uint32_t capacity)
{
	unsigned __int128 m = (unsigned __int128)off * magic;
	return (uint64_t)(m >> 64) < capacity && (uint64_t)m < magic;
}

/* Rounded-up request for calloc: n * size, false on overflow. */
static inline bool mla_mul_overflow(size_t n, size_t size, size_t *ret)
{
	return __builtin_mul_overflow(n, size, ret);
}

#endif
