/* SPDX-License-Identifier: MIT */
/* reader-child: a target for test-reader.  Makes known allocations, says
 * "ready" on stdout, then obeys one-letter commands from stdin:
 *   f  free 10 of the 300000-byte blocks and 1 large block, then "ready"
 *   c  start 2 threads that churn malloc/free until stdin closes, then
 *      "ready" once each has its heap
 *   C  start 16 more that churn small blocks only (every thread its own
 *      heap: the reader's copy of 16 busy heaps), the same
 * and exits when stdin closes.  Built twice: linked with mlalloc, and plain
 * (for LD_PRELOAD and for "not an mlalloc process"). */
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *medium[20], *large[3], *small[1000];
static atomic_bool stop;

static atomic_int started;

static void *churn(void *arg);

/* Start churning threads t[*threads .. upto - 1]; return once each has
 * its heap. */
static void start_churn(pthread_t *t, int *threads, int upto)
{
	for (; *threads < upto; ++*threads)
		pthread_create(&t[*threads], NULL, churn, (void *)(uintptr_t)(*threads + 1));
	while (atomic_load(&started) < upto)
		usleep(1000);
}

static void *churn(void *arg)
{
	unsigned long x = (unsigned long)(uintptr_t)arg;
	bool small_only = x > 2;
	void *keep[64] = { malloc(16) };   /* the thread has its heap */
	atomic_fetch_add(&started, 1);
	for (long i = 0; i < 50000000 && !atomic_load(&stop); i++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		unsigned k = (unsigned)(x >> 58);
		free(keep[k]);
		keep[k] = malloc((x >> 20) % (small_only || (x >> 40) % 8 ? 2000 : 900000) + 1);
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < 20; i++)
		memset(medium[i] = malloc(300000), 1, 300000);
	for (int i = 0; i < 3; i++)
		memset(large[i] = malloc(5 << 20), 2, 5 << 20);
	for (int i = 0; i < 1000; i++)
		small[i] = malloc(24);
	fputs("ready\n", stdout);
	pthread_t t[2 + 16];
	int threads = 0;
	char c;
	while (read(0, &c, 1) == 1) {
		if (c == 'f') {
			for (int i = 0; i < 10; i++)
				free(medium[i]);
			free(large[0]);
			fputs("ready\n", stdout);
		} else if (c == 'c' && !threads) {
			start_churn(t, &threads, 2);
			fputs("ready\n", stdout);
		} else if (c == 'C' && threads == 2) {
			start_churn(t, &threads, 2 + 16);
			fputs("ready\n", stdout);
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 1000; i++)
		free(small[i]);
	return 0;
}
