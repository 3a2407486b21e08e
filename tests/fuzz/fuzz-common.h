/* SPDX-License-Identifier: MIT */
/*
 * fuzz-common.h - what every libFuzzer target here shares: a /dev/null
 * stream the renderers write to (opened once per process; abort() if it
 * cannot be, which libFuzzer reports).
 */
#ifndef ML_FUZZ_COMMON_H
#define ML_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

static inline FILE *devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

#endif
