/* SPDX-License-Identifier: MIT */
/* test-churn: threads that come and go.  Each thread allocates, frees half,
 * and leaves the rest to the main thread, then exits; its segments are
 * handed on (abandoned, then adopted or pooled).  Checks: every block intact
 * when main frees it, and the number of segments stays bounded, i.e. memory
 * of exited threads is reused rather than leaked. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "mlalloc.h"
#include "tcheck.h"

#define ROUNDS 150
#define PER_ROUND 4
#define BLOCKS 2000

struct job { void *left[BLOCKS]; size_t size[BLOCKS]; unsigned long long seed; };

static void *thread_main(void *arg)
{
	struct job *j = arg;
	void *mine[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		size_t n = trand(&j->seed) % 3000 + 1;
		mine[i] = malloc(n);
		CHECK(mine[i] != NULL);
		memset(mine[i], (int)(n & 0xff), n);
		j->size[i] = n;
	}
	for (int i = 0; i < BLOCKS; i++) {
		if (i % 2) {
			free(mine[i]);
			j->left[i] = NULL;
		} else {
			j->left[i] = mine[i];
		}
	}
	CHECK(mlalloc_check() == 0);
	return NULL;
}

int main(void)
{
	static struct job jobs[PER_ROUND];
	for (int round = 0; round < ROUNDS; round++) {
		pthread_t t[PER_ROUND];
		for (int k = 0; k < PER_ROUND; k++) {
			jobs[k].seed = (unsigned long long)round * 100 + (unsigned long long)k + 1;
			CHECK(pthread_create(&t[k], NULL, thread_main, &jobs[k]) == 0);
		}
		for (int k = 0; k < PER_ROUND; k++) {
			pthread_join(t[k], NULL);
			for (int i = 0; i < BLOCKS; i++) {
				unsigned char *p = jobs[k].left[i];
				if (!p)
					continue;
				CHECK(p[0] == (jobs[k].size[i] & 0xff) && p[jobs[k].size[i] - 1] == (jobs[k].size[i] & 0xff));
				free(p);
			}
		}
	}
	struct mlalloc_pub_header *h = mla__pub();
	CHECK(h != NULL);
	/* One round needs about PER_ROUND * 3 MB; without reuse 150 rounds would
	 * take hundreds of segments. */
	if (h->segs_used > 40) {
		fprintf(stderr, "churn: %llu segments for %d rounds: exited threads' memory not reused\n",
		        (unsigned long long)h->segs_used, ROUNDS);
		return 1;
	}
	printf("churn: %d threads, %llu segments in all\n", ROUNDS * PER_ROUND, (unsigned long long)h->segs_used);
	return 0;
}
