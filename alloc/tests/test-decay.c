/* test-decay: a program that frees most of its memory shrinks.  Allocates
 * ~300 MB (small, medium and large blocks), frees it all, waits past the
 * decay time (MLALLOC_DECAY_MS=100 from meson) and keeps allocating a
 * little: the resident set must drop below a quarter of its peak, without
 * any explicit purge call. */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "tcheck.h"

static long rss_mb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, rss = 0;
	CHECK(f && fscanf(f, "%ld %ld", &size, &rss) == 2);
	fclose(f);
	return rss * sysconf(_SC_PAGESIZE) >> 20;
}

int main(void)
{
	CHECK_EQ(ml__decay_ms, 100);
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
	long peak = rss_mb();
	for (int i = 0; i < n; i++)
		free(blocks[i]);
	struct timespec ts = { 0, 250 * 1000000 };
	nanosleep(&ts, NULL);
	for (int round = 0; round < 64; round++) {   /* a little ongoing work */
		void *a = malloc(100000), *b = malloc(2 << 20);
		free(a);
		free(b);
	}
	long after = rss_mb();
	printf("decay: resident %ld MB at peak, %ld MB after freeing and %lu ms\n", peak, after, (unsigned long)ml__decay_ms);
	CHECK(peak > 250);
	CHECK(after < peak / 4);
	CHECK(ml__pub()->purged_bytes > (200u << 20));
	return 0;
}
