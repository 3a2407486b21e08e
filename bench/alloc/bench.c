/* bench.c: allocator workloads after the well-known allocator benchmarks,
 * each a bounded amount of work (no time loops), timed by the caller's
 * clock:  bench WORKLOAD [THREADS]  prints "WORKLOAD seconds".
 *   cfrac     small-object churn: many short-lived 8..64 byte blocks
 *   espresso  mixed sizes with realloc growth, moderate lifetimes
 *   larson    server churn: threads replace random blocks, and hand their
 *             arrays to new threads, so frees are cross-thread
 *   xmalloc   producer/consumer: one thread allocates, another frees
 *   cache-scratch  false sharing: threads write to blocks the main thread
 *             allocated next to each other
 *   large     large-block churn: 1..8 MiB blocks allocated, touched, freed
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long rnd(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void *volatile sink;

static void cfrac(int threads)
{
	(void)threads;
	unsigned long long r = 1;
	void *live[512] = { 0 };
	for (long i = 0; i < 10000000; i++) {
		unsigned k = (unsigned)(rnd(&r) & 511);
		free(live[k]);
		live[k] = malloc(8 + (rnd(&r) & 56));
		*(char *)live[k] = 1;
	}
	for (int k = 0; k < 512; k++)
		free(live[k]);
}

static void espresso(int threads)
{
	(void)threads;
	unsigned long long r = 2;
	enum { N = 4096 };
	char *p[N] = { 0 };
	size_t sz[N] = { 0 };
	for (long i = 0; i < 2000000; i++) {
		unsigned k = (unsigned)(rnd(&r) % N);
		unsigned op = (unsigned)(rnd(&r) % 8);
		if (p[k] && op < 3) {
			sz[k] = sz[k] * 2 > 8000 ? 16 : sz[k] * 2;
			p[k] = realloc(p[k], sz[k]);
			p[k][sz[k] - 1] = 1;
		} else {
			free(p[k]);
			sz[k] = 16 + rnd(&r) % (op == 7 ? 4000 : 200);
			p[k] = malloc(sz[k]);
			p[k][0] = 1;
		}
	}
	for (int k = 0; k < N; k++)
		free(p[k]);
}

/* larson: each thread owns an array of blocks, replaces random ones, then
 * passes the array to a fresh thread (which frees the old owner's blocks). */
struct larson_arg { void **blocks; int n; unsigned long long seed; long rounds; };

static void *larson_thread(void *a)
{
	struct larson_arg *la = a;
	for (long i = 0; i < la->rounds; i++) {
		int k = (int)(rnd(&la->seed) % (unsigned)la->n);
		free(la->blocks[k]);
		la->blocks[k] = malloc(16 + rnd(&la->seed) % 1000);
	}
	return NULL;
}

static void larson(int threads)
{
	enum { PER = 4000, GENERATIONS = 20 };
	struct larson_arg args[64];
	for (int t = 0; t < threads; t++) {
		args[t].n = PER;
		args[t].blocks = calloc(PER, sizeof(void *));
		args[t].seed = (unsigned long long)t + 11;
		args[t].rounds = 2000000 / GENERATIONS;
	}
	for (int g = 0; g < GENERATIONS; g++) {
		pthread_t th[64];
		for (int t = 0; t < threads; t++)
			pthread_create(&th[t], NULL, larson_thread, &args[(t + g) % threads]);
		for (int t = 0; t < threads; t++)
			pthread_join(th[t], NULL);
	}
	for (int t = 0; t < threads; t++) {
		for (int k = 0; k < PER; k++)
			free(args[t].blocks[k]);
		free(args[t].blocks);
	}
}

/* xmalloc: producers allocate into a ring, consumers free from it. */
#define RING 4096
static _Atomic(void *) ring[RING];
static atomic_long produced;

static void *producer(void *a)
{
	unsigned long long r = (uintptr_t)a + 3;
	for (long i = 0; i < 500000; i++) {
		void *p = malloc(16 + rnd(&r) % 512);
		unsigned k = (unsigned)(rnd(&r) % RING);
		void *old;
		while ((old = atomic_exchange(&ring[k], p)) != NULL) {
			p = old;   /* slot taken: carry the old block to the next slot */
			k = (k + 1) % RING;
		}
	}
	atomic_fetch_add(&produced, 1);
	return NULL;
}

static void *consumer(void *a)
{
	(void)a;
	for (;;) {
		int empty = 1;
		for (unsigned k = 0; k < RING; k++) {
			void *p = atomic_exchange(&ring[k], NULL);
			if (p) {
				free(p);
				empty = 0;
			}
		}
		if (empty && atomic_load(&produced))
			return NULL;
	}
}

static void xmalloc(int threads)
{
	(void)threads;
	pthread_t p, c;
	atomic_store(&produced, 0);
	pthread_create(&c, NULL, consumer, NULL);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
}

/* cache-scratch: main allocates one small block per thread, back to back;
 * each thread frees it, then repeatedly allocates its own and writes it. */
static void *scratch_thread(void *a)
{
	char *mine = a;
	free(mine);
	for (int i = 0; i < 20000; i++) {
		char *p = malloc(8);
		for (int j = 0; j < 5000; j++)
			p[j & 7]++;
		sink = p;
		free(p);
	}
	return NULL;
}

static void cache_scratch(int threads)
{
	pthread_t th[64];
	for (int t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, scratch_thread, malloc(8));
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
}

static void large(int threads)
{
	(void)threads;
	unsigned long long r = 5;
	void *live[8] = { 0 };
	for (int i = 0; i < 6000; i++) {
		unsigned k = (unsigned)(rnd(&r) & 7);
		free(live[k]);
		size_t n = ((size_t)1 << 20) + rnd(&r) % ((size_t)7 << 20);
		char *p = malloc(n);
		for (size_t o = 0; o < n; o += 65536)   /* touch some pages */
			p[o] = 1;
		live[k] = p;
	}
	for (int k = 0; k < 8; k++)
		free(live[k]);
}

static const struct { const char *name; void (*run)(int); } workloads[] = {
	{ "cfrac", cfrac }, { "espresso", espresso }, { "larson", larson },
	{ "xmalloc", xmalloc }, { "cache-scratch", cache_scratch }, { "large", large },
};

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	if (argc < 2 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench WORKLOAD [THREADS]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		if (strcmp(argv[1], workloads[i].name))
			continue;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		workloads[i].run(threads);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %.4f\n", argv[1], (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
		return 0;
	}
	fprintf(stderr, "bench: %s: unknown workload\n", argv[1]);
	return 2;
}
