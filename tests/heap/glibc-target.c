/* SPDX-License-Identifier: MIT */
/*
 * glibc-target.c - a process whose glibc heap the tests read.  It builds an
 * allocation pattern (MODE, below) in THREADS threads (each its own arena)
 * and the main thread, then writes glibc's own view of that moment to
 * stdout: malloc_info()'s XML, a line "mallinfo2 arena=... keepcost=..."
 * and a line "tcache chunks=N bytes=B" (what its frees left in the
 * tcaches: min(7, frees) per thread and size, as glibc fills them), and
 * "ready"; then waits on stdin, allocating nothing, until it is closed.
 * Every thread stays alive, blocked, so its tcache stays.
 *
 *   glibc-target pattern THREADS   mixed sizes, every third freed, mmap'd blocks
 *   glibc-target bench THREADS N   N live chunks in all (16-200 bytes)
 *   glibc-target cycle|size|link|long   a corrupted heap (fastbin cycle, a
 *                                  size reaching past the heap, bk->fd !=
 *                                  chunk, a fastbin of 1,000,000 made-up
 *                                  chunks in an mmap'd block)
 * pattern also prints "probe live=P free=Q": a block in use and one its
 * free left in the tcache (bin 0, the first 24-byte block freed).
 *
 * The output stream is fmemopen()ed on a static buffer and unbuffered
 * before anything is measured, so writing the report allocates nothing.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
#define TC_BINS 64
#define MINSIZE (sizeof(size_t) == 8 ? 32 : 16)

static char report[1 << 20];
static pthread_barrier_t done;
static int hold[2];
static long per_thread = 3000;
static int bench;

struct tcount { unsigned n[TC_BINS]; };

static void *volatile big[MAX_THREADS + 1][3];   /* mmap'd blocks, kept */
static void *volatile *volatile lists[MAX_THREADS + 1];

static size_t chunk_size(void *p) { return malloc_usable_size(p) + sizeof(size_t); }

/* Free p; count it as a tcache entry as glibc would (up to 7 a size). */
static void release(void *p, struct tcount *tc, uint64_t *chunks, uint64_t *bytes)
{
	size_t cs = chunk_size(p);
	size_t idx = (cs - MINSIZE + 15) / 16;

	if (idx < TC_BINS && tc->n[idx] < 7) {
		tc->n[idx]++;
		(*chunks)++;
		*bytes += cs;
	}
	free(p);
}

static uint64_t tc_chunks, tc_bytes;
static void *probe_live, *probe_free;
static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;

static void pattern(unsigned seed)
{
	static const size_t sizes[] = { 24, 40, 56, 100, 200, 500, 1000, 1500, 3000, 9000 };
	size_t n = (size_t)per_thread;
	void **v = malloc(n * sizeof(*v));
	struct tcount tc = { { 0 } };
	uint64_t c = 0, b = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = malloc(bench ? 16 + (i * 7 + seed) % 185 : sizes[(i + seed) % 10]);
	if (!bench) {
		if (!seed) {
			probe_live = v[1];
			probe_free = v[0];               /* 24 bytes, the first freed: tcache 0 */
		}
		for (size_t i = 0; i < n; i += 3)
			release(v[i], &tc, &c, &b);
		for (size_t i = 0; i < 3; i++)            /* over the mmap threshold */
			big[seed][i] = malloc((1 << 20) + seed * 4096 + i * 100000);
	}
	lists[seed] = v;
	pthread_mutex_lock(&tc_lock);
	tc_chunks += c;
	tc_bytes += b;
	pthread_mutex_unlock(&tc_lock);
}

static void *thread_main(void *arg)
{
	char x;

	pattern((unsigned)(uintptr_t)arg);
	pthread_barrier_wait(&done);
	while (read(hold[0], &x, 1) < 0)
		;
	return NULL;
}

static void corrupt(const char *how)
{
	size_t W = sizeof(size_t);
	void *volatile keep[16];

	if (!strcmp(how, "cycle")) {             /* fastbin 0 holding itself */
		for (int i = 0; i < 9; i++)
			keep[i] = malloc(24);
		for (int i = 0; i < 8; i++)
			free(keep[i]);                   /* 7 to tcache, the 8th to fastbin 0 */
		uintptr_t mem = (uintptr_t)keep[7];
		*(volatile uintptr_t *)mem = (mem >> 12) ^ (mem - 2 * W);
	} else if (!strcmp(how, "size")) {       /* a free chunk's size past the heap */
		keep[0] = malloc(2000);
		keep[1] = malloc(100);
		free(keep[0]);                       /* unsorted bin */
		((volatile size_t *)keep[0])[-1] = ((size_t)1 << 30) | 1;
	} else if (!strcmp(how, "long")) {       /* fastbin 0 -> a million fake chunks */
		size_t n = 1000000, cs = 2 * W == 16 ? 32 : 16;
		unsigned char *m = mmap(NULL, n * cs + 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(2);
		uintptr_t first = ((uintptr_t)m + 15) & ~(uintptr_t)15;
		for (size_t i = 0; i < n; i++) {
			uintptr_t c = first + i * cs, mem = c + 2 * W;
			uintptr_t next = i + 1 < n ? c + cs : 0;
			*(volatile size_t *)(c + W) = cs | 1;
			*(volatile uintptr_t *)mem = (mem >> 12) ^ next;
		}
		for (int i = 0; i < 9; i++)
			keep[i] = malloc(24);
		for (int i = 0; i < 8; i++)
			free(keep[i]);
		uintptr_t mem = (uintptr_t)keep[7];
		*(volatile uintptr_t *)mem = (mem >> 12) ^ first;
	} else if (!strcmp(how, "link")) {       /* unsorted chunk whose fd is wrong */
		keep[0] = malloc(2000);
		keep[1] = malloc(100);
		free(keep[0]);
		((volatile uintptr_t *)keep[0])[0] = (uintptr_t)keep[1] - 2 * W;
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "pattern";
	int nthreads = argc > 2 ? atoi(argv[2]) : 0;
	pthread_t t[MAX_THREADS];
	FILE *out;
	char line[512], x;

	if (nthreads < 0 || nthreads > MAX_THREADS || pipe(hold))
		return 2;
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);   /* Yama: memlayout is no ancestor */
	bench = !strcmp(mode, "bench");
	if (bench && argc > 3)
		per_thread = atol(argv[3]) / (nthreads + 1);
	if (!(out = fmemopen(report, sizeof(report) - 1, "w")) || setvbuf(out, NULL, _IONBF, 0))
		return 2;
	pthread_barrier_init(&done, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(i + 1)))
			return 2;
	if (!strcmp(mode, "pattern") || bench)
		pattern(0);
	else
		corrupt(mode);
	pthread_barrier_wait(&done);
	if (!strcmp(mode, "pattern") || bench) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		malloc_info(0, out);
		clock_gettime(CLOCK_MONOTONIC, &b);
		struct mallinfo2 mi = mallinfo2();
		fflush(out);
		if (write(1, report, strlen(report)) < 0)
			return 2;
		snprintf(line, sizeof(line), "mallinfo2 arena=%zu ordblks=%zu smblks=%zu hblks=%zu hblkhd=%zu "
			 "fsmblks=%zu uordblks=%zu fordblks=%zu keepcost=%zu\ntcache chunks=%llu bytes=%llu\n"
			 "malloc_info_ns=%lld\nprobe live=%p free=%p\n", mi.arena, mi.ordblks, mi.smblks, mi.hblks, mi.hblkhd,
			 mi.fsmblks, mi.uordblks, mi.fordblks, mi.keepcost, (unsigned long long)tc_chunks,
			 (unsigned long long)tc_bytes,
			 (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec),
			 probe_live, probe_free);
		if (write(1, line, strlen(line)) < 0)
			return 2;
	}
	if (write(1, "ready\n", 6) < 0)
		return 2;
	while (read(0, &x, 1) > 0)
		;
	_exit(0);
}
