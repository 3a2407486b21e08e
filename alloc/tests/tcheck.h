/* SPDX-License-Identifier: MIT */
/* tcheck.h: assertions for the non-cmocka alloc tests; a failure prints both
 * operands and the line, then exits 1 (meson counts the test failed). */
#ifndef MLA_TCHECK_H
#define MLA_TCHECK_H
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); exit(1); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
	fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b); exit(1); } } while (0)

/* xorshift64*: the tests' deterministic random numbers. */
static inline unsigned long long trand(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}
#endif
