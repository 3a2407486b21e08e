/* SPDX-License-Identifier: MIT */
/* test-decay: a program that frees most of its memory shrinks.  Allocates
 * ~450 MB (small, medium and large blocks), frees it all, waits past the
 * decay time (MLALLOC_DECAY_MS=100 from meson) and keeps allocating a
 * little: the resident set must drop below a quarter of its peak, and the
 * address space too (segments unmapped, or the break lowered: meson runs
 * it once with brk segments and once with MLALLOC_NO_BRK=1), without any
 * explicit purge call. */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "tcheck.h"

/* Resident set and address space size in MB. */
static long statm_mb(bool resident)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, rss = 0;
	CHECK(f && fscanf(f, "%ld %ld", &size, &rss) == 2);
	fclose(f);
	return (resident ? rss : size) * sysconf(_SC_PAGESIZE) >> 20;
}

static long rss_mb(void) { return statm_mb(true); }

static long seg_mb(void)
{
	struct mlalloc_pub_header *h = mla__pub();
	return (long)((h->seg_bytes_brk + h->seg_bytes_mmap) >> 20);
}

int main(void)
{
	CHECK_EQ(mla__decay_ms, 100);
	static void *blocks[70000];
	int n = 0;
	for (int i = 0; i < 50000; i++)
		blocks[n++] = malloc(3000);
	for (int i = 0; i < 2000; i++)
		blocks[n++] = malloc(60000);
	for (int i = 0; i < 20; i++)
		blocks[n++] = malloc(8 << 20);
	for (int i = 0; i < n; i++) {
		CHECK(blocks[i] != NULL);
		memset(blocks[i], 1, i < 50000 ? 3000 : i < 52000 ? 60000 : 8 << 20);
	}
	long peak = rss_mb(), peak_vm = statm_mb(false), peak_seg = seg_mb();
	uintptr_t peak_brk = mla__pub()->brk_end;
	for (int i = 0; i < n; i++)
		free(blocks[i]);
	for (int wave = 0; wave < 2; wave++) {   /* pages idle for a decay, then segments */
		struct timespec ts = { 0, 250 * 1000000 };
		nanosleep(&ts, NULL);
		for (int round = 0; round < 64; round++) {   /* a little ongoing work */
			void *a = malloc(100000), *b = malloc(2 << 20);
			free(a);
			free(b);
		}
	}
	long after = rss_mb(), after_vm = statm_mb(false), after_seg = seg_mb();
	printf("decay: resident %ld MB at peak, %ld MB after freeing and %lu ms\n", peak, after, (unsigned long)mla__decay_ms);
	printf("decay: address space %ld -> %ld MB, segments %ld -> %ld MB, break end %#lx -> %#lx\n",
	       peak_vm, after_vm, peak_seg, after_seg, (unsigned long)peak_brk, (unsigned long)mla__pub()->brk_end);
	CHECK(peak > 250);
	CHECK(after < peak / 4);
	CHECK(mla__pub()->purged_bytes > (200u << 20));
	CHECK(peak_seg > 200);
	CHECK(after_seg < 16);                 /* at most a few segments kept */
	CHECK(after_vm < peak_vm - 350);       /* segments and cached large blocks gone */
	if (peak_brk)                          /* brk segments: the break came down */
		CHECK(mla__pub()->brk_end < peak_brk - (200u << 20));
	return 0;
}
