/* SPDX-License-Identifier: MIT */
/*
 * scols-time.c - an LD_PRELOAD shim that tells how much of a command's CPU
 * time is spent inside libsmartcols' printing: it wraps scols_print_table
 * and scols_unref_table, sums the process CPU time (CLOCK_PROCESS_CPUTIME_ID)
 * spent in each, and prints the sums and the process total to stderr at
 * exit.  Cells and lines built before printing are not counted (a perf
 * profile shows them: a few per cent).
 *
 *   LD_PRELOAD=BUILD_DIR/bench/libscols-time.so memlayout show PID >/dev/null
 *
 * A benchmark tool, never linked into memlayout.  Not thread-safe (it does
 * not need to be: memlayout prints from one thread).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

struct libscols_table;

static double in_print, in_unref;   /* ms of CPU */

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int scols_print_table(struct libscols_table *tb)
{
	static int (*real)(struct libscols_table *);
	double t0 = cpu_ms();
	int r;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "scols_print_table");
	r = real ? real(tb) : -1;
	in_print += cpu_ms() - t0;
	return r;
}

void scols_unref_table(struct libscols_table *tb)
{
	static void (*real)(struct libscols_table *);
	double t0 = cpu_ms();

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "scols_unref_table");
	if (real)
		real(tb);
	in_unref += cpu_ms() - t0;
}

__attribute__((destructor)) static void report(void)
{
	fprintf(stderr, "scols-time: process %.1f ms CPU; in scols_print_table "
		"%.1f ms, in scols_unref_table %.1f ms\n", cpu_ms(), in_print, in_unref);
}
