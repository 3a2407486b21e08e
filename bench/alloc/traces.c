/* SPDX-License-Identifier: MIT */
/* traces.c: space utilization on malloc-lab style traces (after the CS:APP
 * malloc lab: a trace is a list of "a id size", "f id", "r id size"
 * operations).  Our traces are generated here, deterministically, by small
 * programs that reproduce the classic patterns; none is copied.
 *   traces TRACE  prints "TRACE seconds peak-rss-KiB utilization".
 * Utilization = peak live payload (bytes requested and not yet freed) /
 * heap size, where heap size is how far the resident set grew during the
 * replay: ru_maxrss at the end minus the resident set just before it (the
 * trace itself is generated, and resident, before that).  Every block is
 * written in full when allocated (and the new part on realloc), as the lab's
 * driver does, so the pages an allocator hands out are counted.  Each trace
 * peaks at 25..60 MB of payload so fixed per-process costs hardly count.
 *   binary    64 and 448 byte blocks alternately; the 448s freed; 512s
 *             allocated (holes too small for the new size)
 *   binary2   the same with 16/112 then 128
 *   coalesce  two blocks freed, then one of their joint size allocated
 *   random    random sizes 1..8 KiB, random frees, live set up to 12000
 *   realloc   64 buffers grown by realloc step by step, a small block kept
 *             between steps so growth in place is blocked
 *   phases    compiler-like: phases allocate many Pareto-sized blocks, then
 *             free three quarters of all that is live
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { OP_ALLOC, OP_FREE, OP_REALLOC };
struct op { uint8_t kind; uint32_t id; uint32_t size; };

static struct op *ops;   /* in its own mapping: the allocator under test never sees it */
static size_t nops;
#define MAX_OPS ((size_t)8 << 20)
static uint32_t next_id;

static unsigned long long rnd(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void emit(uint8_t kind, uint32_t id, uint32_t size)
{
	if (nops == MAX_OPS)
		exit(1);
	ops[nops++] = (struct op){ kind, id, size };
}

static uint32_t a(uint32_t size) { emit(OP_ALLOC, next_id, size); return next_id++; }
static void f(uint32_t id) { emit(OP_FREE, id, 0); }

static void gen_binary(uint32_t small, uint32_t big, uint32_t after)
{
	enum { N = 50000 };
	static uint32_t bigs[N];
	for (int i = 0; i < N; i++) {
		a(small);
		bigs[i] = a(big);
	}
	for (int i = 0; i < N; i++)
		f(bigs[i]);
	for (int i = 0; i < N; i++)
		a(after);
}

static void gen_binary1(void) { gen_binary(64, 448, 512); }
static void gen_binary2(void) { gen_binary(16, 112, 128); }

static void gen_coalesce(void)
{
	for (int i = 0; i < 6000; i++) {
		uint32_t x = a(4000), y = a(4000);
		f(x);
		f(y);
		a(8000);
	}
}

static void gen_random(void)
{
	enum { N = 12000 };
	static uint32_t live[N];
	size_t n = 0;
	unsigned long long r = 21;
	for (int i = 0; i < 120000; i++) {
		if (n == N || (n && rnd(&r) % 5 < 2)) {
			size_t k = rnd(&r) % n;
			f(live[k]);
			live[k] = live[--n];
		} else {
			live[n++] = a(1 + (uint32_t)(rnd(&r) % 8192));
		}
	}
}

static void gen_realloc(void)
{
	enum { B = 64 };
	uint32_t buf[B], size[B];
	unsigned long long r = 33;
	for (int b = 0; b < B; b++) {
		size[b] = 512;
		buf[b] = a(size[b]);
	}
	for (int step = 0; step < 800; step++)
		for (int b = 0; b < B; b++) {
			size[b] += 256 + (uint32_t)(rnd(&r) % 512);
			emit(OP_REALLOC, buf[b], size[b]);
			a(16 + (uint32_t)(rnd(&r) % 48));
		}
}

static uint32_t pareto(unsigned long long *r)
{
	double u = (double)((rnd(r) >> 11) + 1) / 9007199254740993.0;
	double x = 16.0 / pow(u, 1.0 / 1.2);
	return x > 4096.0 ? 4096 : (uint32_t)x;
}

static void gen_phases(void)
{
	enum { N = 1000000 };
	static uint32_t live[N];
	size_t n = 0;
	unsigned long long r = 45;
	for (int ph = 0; ph < 10; ph++) {
		for (int i = 0; i < 200000 && n < N; i++)
			live[n++] = a(pareto(&r));
		for (size_t k = 0; k < n;) {
			if (rnd(&r) % 4) {
				f(live[k]);
				live[k] = live[--n];
			} else {
				k++;
			}
		}
	}
}

static const struct { const char *name; void (*gen)(void); } traces[] = {
	{ "binary", gen_binary1 }, { "binary2", gen_binary2 }, { "coalesce", gen_coalesce },
	{ "random", gen_random }, { "realloc", gen_realloc }, { "phases", gen_phases },
};

/* Zeroed memory that does not come from the allocator under test. */
static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		exit(1);
	return p;
}

static long rss_kib(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	if (!fp || fscanf(fp, "%ld %ld", &size, &res) != 2)
		exit(1);
	fclose(fp);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Replay ops; returns the utilization, and the process's peak RSS. */
static double replay(long *ret_maxrss)
{
	char **ptr = map(next_id * sizeof(*ptr));
	uint32_t *sz = map(next_id * sizeof(*sz));
	memset(ptr, 0, next_id * sizeof(*ptr));   /* make both resident now */
	memset(sz, 0, next_id * sizeof(*sz));
	size_t live = 0, peak = 0;
	long before = rss_kib();
	for (size_t i = 0; i < nops; i++) {
		struct op *o = &ops[i];
		if (o->kind == OP_ALLOC) {
			ptr[o->id] = malloc(o->size);
			memset(ptr[o->id], (int)o->id, o->size);
			live += o->size;
			sz[o->id] = o->size;
		} else if (o->kind == OP_FREE) {
			free(ptr[o->id]);
			live -= sz[o->id];
		} else {
			ptr[o->id] = realloc(ptr[o->id], o->size);
			memset(ptr[o->id] + sz[o->id], (int)o->id, o->size - sz[o->id]);
			live += o->size - sz[o->id];
			sz[o->id] = o->size;
		}
		if (!ptr[o->id] && o->kind != OP_FREE)
			exit(1);
		if (live > peak)
			peak = live;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long grew = ru.ru_maxrss - before;
	*ret_maxrss = ru.ru_maxrss;
	return grew > 0 ? (double)peak / ((double)grew * 1024) : 0.0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {   /* a second argument (threads, from run.sh) is ignored */
		fprintf(stderr, "usage: traces TRACE\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		if (strcmp(argv[1], traces[i].name))
			continue;
		ops = map(MAX_OPS * sizeof(*ops));
		traces[i].gen();
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long maxrss;
		double util = replay(&maxrss);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%s %.4f %ld %.4f\n", argv[1],
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, maxrss, util);
		return 0;
	}
	fprintf(stderr, "traces: %s: unknown trace\n", argv[1]);
	return 2;
}
