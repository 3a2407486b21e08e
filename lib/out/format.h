/* SPDX-License-Identifier: MIT */
/*
 * format.h - the formatting module's writers at a pointer (format.c has
 * the rest): v in decimal; "0x" and hex, which needs 18 bytes of room
 * whatever v; ml_size_human's text, at most 24 bytes.  Each returns the
 * end, not NUL-terminated.  Inline: the region table and where's batch
 * write a quarter of a million to millions of them.
 */
#ifndef ML_FORMAT_H
#define ML_FORMAT_H

#include "ml-out.h"

#include <stdio.h>
#include <string.h>

static inline char *ml__put_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* The eight hex digits of x, most significant first, as the bytes of a
 * little-endian word: each nibble spread into a byte of its own, the
 * bytes put in printing order, then each turned into '0'..'9' or 'a'..'f'
 * (9 + 6 carries into bit 4: those bytes get 'a' - '0' - 10 = 39 more). */
static inline uint64_t ml__hex8(uint32_t x)
{
	uint64_t y = x;

	y = (y | y << 16) & 0x0000ffff0000ffffull;
	y = (y | y << 8) & 0x00ff00ff00ff00ffull;
	y = (y | y << 4) & 0x0f0f0f0f0f0f0f0full;
	y = __builtin_bswap64(y);
	return y + 0x3030303030303030ull + (((y + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull) * 39;
}

static inline char *ml__put_hex(char *p, uint64_t v)
{
	char digits[32] = { 0 };   /* the copy below reads past the digits */
	uint64_t hi = ml__hex8((uint32_t)(v >> 32)), lo = ml__hex8((uint32_t)v);
	size_t n = v ? (size_t)(67 - __builtin_clzll(v)) / 4 : 1;

	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hex8 builds little-endian words");
	memcpy(digits, &hi, 8);
	memcpy(digits + 8, &lo, 8);
	*p++ = '0';
	*p++ = 'x';
	memcpy(p, digits + 16 - n, 16);   /* the n digits and what follows */
	return p + n;
}

/* Below 2^53 the quotient is exact in a double, so the tenths are rounded
 * here half to even as printf rounds an exact tie; above, printf does it. */
static inline char *ml__put_size_human(char *p, uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	uint64_t div = 1;

	while (u < 6 && bytes >= div * 1024) {
		div *= 1024;
		u++;
	}
	if (u == 0) {
		p = ml__put_dec(p, bytes);
		*p++ = 'B';
		return p;
	}
	if (bytes % div == 0) {
		p = ml__put_dec(p, bytes / div);
	} else if (bytes >= (uint64_t)1 << 53) {
		p += snprintf(p, 24, "%.1f", (double)bytes / (double)div);
	} else {
		uint64_t t = bytes * 10 / div, rem = bytes * 10 % div;
		if (rem * 2 > div || (rem * 2 == div && (t & 1)))
			t++;
		p = ml__put_dec(p, t / 10);
		*p++ = '.';
		*p++ = (char)('0' + t % 10);
	}
	*p++ = units[u];
	return p;
}

/* A size as every view writes it: human, or with ML_OUT_BYTES in bytes. */
static inline char *ml__put_size(char *p, uint64_t v, unsigned int flags)
{
	return (flags & ML_OUT_BYTES) ? ml__put_dec(p, v) : ml__put_size_human(p, v);
}

#endif
