/* SPDX-License-Identifier: MIT */
/*
 * inlined.c - a fault inside functions inlined into their caller (built
 * -O2 -g): poke() is inlined into scale(), itself inlined into outer(),
 * which is a real frame called from main().  test_run_inlined.py reads the
 * lines marked LINE-* below and checks that memlayout run's backtrace names
 * poke and scale as inlined frames and each caller at the line of its call,
 * as gdb and addr2line -i do.
 */
#include <stdlib.h>

static inline __attribute__((always_inline)) int poke(volatile int *p, int v)
{
	*p = v;                               /* LINE-FAULT */
	return v + 1;
}

static inline __attribute__((always_inline)) int scale(volatile int *p, int v)
{
	return poke(p, v * 3) * 2;            /* LINE-POKE */
}

__attribute__((noinline)) int outer(volatile int *p, int v)
{
	int r = scale(p, v + 7);              /* LINE-SCALE */

	__asm__ volatile("" ::: "memory");    /* no tail call: outer stays a frame */
	return r;
}

int main(int argc, char **argv)
{
	volatile int *p = argc > 5 ? malloc(sizeof(int)) : NULL;

	(void)argv;
	return outer(p, argc) == 3;           /* LINE-OUTER */
}
