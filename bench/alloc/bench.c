/* SPDX-License-Identifier: MIT */
/* bench.c: allocator speed workloads after the well-known allocator
 * benchmarks (our own code and parameters; only the ideas are borrowed),
 * each a bounded, deterministic amount of work (no time loops):
 *   bench WORKLOAD [THREADS]  prints "WORKLOAD seconds peak-rss-KiB cpu-seconds"
 * (wall time, and the user + system time of all threads).
 *   cfrac          small-object churn: many short-lived 8..64 byte blocks
 *   espresso       mixed sizes with realloc growth, moderate lifetimes
 *   larson         server churn: threads replace random blocks, and hand
 *                  their arrays to new threads, so frees are cross-thread
 *   xmalloc        producer/consumer: one thread allocates, another frees
 *   cache-scratch  false sharing: threads free a block the main thread
 *                  allocated next to the others', then write their own
 *   glibc-simple   glibc's bench-malloc-simple idea: one thread, batches of
 *                  same-size malloc then free, several sizes
 *   glibc-thread   glibc's bench-malloc-thread idea: each thread replaces
 *                  random slots of its own working set, no sharing
 *   alloc-test     Pareto-distributed sizes up to 1 KiB, random lifetimes,
 *                  per thread (after alloc-test)
 *   large          large-block churn: 1..8 MiB blocks allocated, touched, freed
 *   malloc-large   5..25 MiB blocks churned through 20 slots (malloc-large)
 *   malloc-large-zero  the same, each block written whole, the new one
 *                  allocated before the old one is freed (as the peer's)
 * Peak RSS is getrusage's ru_maxrss of the whole process at the end.
 * Space utilization on traces is measured by traces.c.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static unsigned long long rnd(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Keep p's block "used" so malloc/free are not optimised away, without a
 * store to memory other threads write too. */
static inline void use(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

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
/* Each thread's arguments on a cache line of their own: seed is written
 * twice an iteration, and two threads' seeds side by side in args[] on
 * main's stack shared a line or not as ASLR placed the stack -- a false
 * sharing of the benchmark's own that swung every allocator's figure
 * between four speeds (bench/alloc/README.md). */
struct larson_arg {
	_Alignas(64) void **blocks;
	int n;
	unsigned long long seed;
	long rounds;
};

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
 * each thread frees it, then repeatedly allocates its own and writes it.
 * The threads start together at a barrier: without it the first thread,
 * woken on main's CPU, preempted main for 1-4 ms before main could create
 * the next one (seen with every allocator, glibc's included), and that
 * scheduler delay, not the allocator, decided the wall time. */
static pthread_barrier_t scratch_start;

static void *scratch_thread(void *a)
{
	char *mine = a;
	pthread_barrier_wait(&scratch_start);
	free(mine);
	for (int i = 0; i < 20000; i++) {
		char *p = malloc(8);
		for (int j = 0; j < 5000; j++)
			p[j & 7]++;
		use(p);   /* was a shared global: both threads stored to it
			   * 20,000 times, true sharing of the benchmark's own */
		free(p);
	}
	return NULL;
}

static void cache_scratch(int threads)
{
	pthread_t th[64];
	pthread_barrier_init(&scratch_start, NULL, (unsigned)threads);
	for (int t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, scratch_thread, malloc(8));
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&scratch_start);
}

/* glibc-simple: batches of N same-size blocks, malloc'd then freed in order. */
static void glibc_simple(int threads)
{
	(void)threads;
	static void *b[1000];
	static const size_t sizes[] = { 16, 32, 64, 128, 256, 512, 1024, 4096 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int rep = 0; rep < 250; rep++) {
			for (int i = 0; i < 1000; i++) {
				b[i] = malloc(sizes[s]);
				*(char *)b[i] = 1;
			}
			for (int i = 0; i < 1000; i++)
				free(b[i]);
		}
}

/* glibc-thread: each thread churns its own working set of 1024 slots with
 * sizes 8..(1 << k) bytes, k mostly small (a skew towards small blocks). */
static void *gthread(void *a)
{
	unsigned long long r = (uintptr_t)a * 7919 + 1;
	void *slot[1024] = { 0 };
	for (long i = 0; i < 3000000; i++) {
		unsigned k = (unsigned)(rnd(&r) & 1023);
		free(slot[k]);
		unsigned lg = 3 + (unsigned)(rnd(&r) % 8);   /* 8 .. 1 KiB upper bounds */
		size_t n = 8 + rnd(&r) % ((size_t)1 << lg);
		slot[k] = malloc(n);
		*(char *)slot[k] = 1;
	}
	for (int k = 0; k < 1024; k++)
		free(slot[k]);
	return NULL;
}

static void run_threads(int threads, void *(*fn)(void *))
{
	pthread_t th[64];
	for (int t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, fn, (void *)(uintptr_t)(t + 1));
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
}

static void glibc_thread(int threads) { run_threads(threads, gthread); }

/* alloc-test: Pareto sizes (shape 1.1, minimum 8 bytes, capped at 1 KiB),
 * working set of 8192 slots per thread; each step frees a random slot with
 * probability 1/2 and fills an empty one, so lifetimes are geometric. */
static size_t pareto_size(unsigned long long *r)
{
	double u = (double)((rnd(r) >> 11) + 1) / 9007199254740993.0;   /* (0, 1] */
	double x = 8.0 / pow(u, 1.0 / 1.1);
	return x > 1024.0 ? 1024 : (size_t)x;
}

static void *atest(void *a)
{
	enum { N = 8192 };
	unsigned long long r = (uintptr_t)a * 104729 + 3;
	static __thread void *slot[N];
	for (long i = 0; i < 3000000; i++) {
		unsigned k = (unsigned)(rnd(&r) % N);
		if (slot[k] && (rnd(&r) & 1)) {
			free(slot[k]);
			slot[k] = NULL;
		}
		unsigned j = (unsigned)(rnd(&r) % N);
		if (!slot[j]) {
			size_t n = pareto_size(&r);
			slot[j] = malloc(n);
			memset(slot[j], (int)j, n < 64 ? n : 64);
		}
	}
	for (int k = 0; k < N; k++)
		free(slot[k]);
	return NULL;
}

static void alloc_test(int threads) { run_threads(threads, atest); }

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

/* malloc-large: 20 slots of 5..25 MiB blocks, replaced at random, a byte
 * written every 64 KiB of each. */
static void malloc_large(int threads)
{
	(void)threads;
	unsigned long long r = 9;
	void *live[20] = { 0 };
	for (int i = 0; i < 2000; i++) {
		unsigned k = (unsigned)(rnd(&r) % 20);
		free(live[k]);
		size_t n = ((size_t)5 << 20) + rnd(&r) % ((size_t)20 << 20);
		char *p = malloc(n);
		for (size_t o = 0; o < n; o += 65536)
			p[o] = 1;
		live[k] = p;
	}
	for (int k = 0; k < 20; k++)
		free(live[k]);
}

/* malloc-large-zero: malloc-large as the peer suite has it: every block is
 * written whole (its C++ value-initialises each buffer), so a freed block
 * an allocator keeps mapped counts in the resident set in full. */
static void malloc_large_zero(int threads)
{
	(void)threads;
	unsigned long long r = 9;
	void *live[20] = { 0 };
	for (int i = 0; i < 400; i++) {
		unsigned k = (unsigned)(rnd(&r) % 20);
		size_t n = ((size_t)5 << 20) + rnd(&r) % ((size_t)20 << 20);
		char *p = malloc(n);   /* before the old one goes, as reset() does */
		memset(p, 0, n);
		free(live[k]);
		live[k] = p;
	}
	for (int k = 0; k < 20; k++)
		free(live[k]);
}

static const struct { const char *name; void (*run)(int); } workloads[] = {
	{ "cfrac", cfrac }, { "espresso", espresso }, { "larson", larson },
	{ "xmalloc", xmalloc }, { "cache-scratch", cache_scratch },
	{ "glibc-simple", glibc_simple }, { "glibc-thread", glibc_thread },
	{ "alloc-test", alloc_test }, { "large", large }, { "malloc-large", malloc_large },
	{ "malloc-large-zero", malloc_large_zero },
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
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		printf("%s %.4f %ld %.4f\n", argv[1], (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
		       ru.ru_maxrss, cpu);
		return 0;
	}
	fprintf(stderr, "bench: %s: unknown workload\n", argv[1]);
	return 2;
}
