/* SPDX-License-Identifier: MIT */
/* test-os: the OS layer's fallbacks.  brk blocked by a mapping right above
 * the break: allocation goes on from mmap and the published header says so.
 * The brk reserve: a new thread's first segment comes from it without
 * moving the break; a reserve that does not fit is taken one segment at a
 * time until brk is refused.
 * Address space exhausted (RLIMIT_AS): malloc, calloc, realloc and
 * posix_memalign return NULL with ENOMEM, never crash, and work again once
 * memory is freed.  Each case runs in a child process. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "tcheck.h"

static int brk_blocked(void)
{
	uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
	void *wall = mmap((void *)cur, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(wall == (void *)cur);
	static void *blocks[20000];
	for (int i = 0; i < 20000; i++) {   /* ~80 MB: many new segments */
		blocks[i] = malloc(4000);
		CHECK(blocks[i] != NULL);
		memset(blocks[i], i & 0xff, 4000);
	}
	for (int i = 0; i < 20000; i++)
		free(blocks[i]);
	struct mlalloc_pub_header *h = mla__pub();
	CHECK(h != NULL);
	CHECK_EQ(h->brk_failed, 1);
	/* The break never moved past the wall.  A reserve taken below it
	 * before main (a sanitizer runtime calls malloc first) serves first;
	 * every segment beyond it came from mmap. */
	CHECK_EQ((uintptr_t)syscall(SYS_brk, 0), cur);
	CHECK(h->seg_bytes_mmap > 0);
	CHECK(h->seg_bytes_brk + h->seg_bytes_mmap >= (64u << 20));
	return 0;
}

static pthread_barrier_t all_in;

/* Each thread holds its block until all have one: else a thread could
 * adopt the segment an exited one left. */
static void *thread_malloc(void *arg)
{
	(void)arg;
	char *p = malloc(8);
	if (p)
		memset(p, 1, 8);
	pthread_barrier_wait(&all_in);
	return p;
}

static int reserve_for_threads(void)
{
	free(malloc(8));   /* this thread's heap and segment */
	struct mlalloc_pub_header *h = mla__pub();
	CHECK(h != NULL);
	uint64_t segs = h->seg_bytes_brk;
	uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
	CHECK_EQ(cur, h->brk_end);
	pthread_t t[3];
	void *got[3];
	CHECK(pthread_barrier_init(&all_in, NULL, 3) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, thread_malloc, NULL) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(pthread_join(t[i], &got[i]) == 0);
		CHECK((uintptr_t)got[i] >= h->brk_start && (uintptr_t)got[i] < cur);
	}
	CHECK_EQ((uintptr_t)syscall(SYS_brk, 0), cur);   /* no thread moved the break */
	CHECK_EQ(h->seg_bytes_brk, segs + 3 * MLA_SEG_SIZE);
	for (int i = 0; i < 3; i++)
		free(got[i]);
	return 0;
}

static int reserve_refused(void)
{
	free(malloc(8));
	uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
	CHECK_EQ(cur % MLA_SEG_SIZE, 0);
	/* Room for three segments above the break (brk wants a free page after
	 * the new break): no reserve fits. */
	uintptr_t at = cur + 3 * MLA_SEG_SIZE + (uintptr_t)sysconf(_SC_PAGESIZE);
	void *wall = mmap((void *)at, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(wall == (void *)at);
	static void *blocks[20000];
	for (int i = 0; i < 20000; i++) {   /* ~80 MB: the old reserve, then more */
		blocks[i] = malloc(4000);
		CHECK(blocks[i] != NULL);
		memset(blocks[i], i & 0xff, 4000);
	}
	struct mlalloc_pub_header *h = mla__pub();
	CHECK(h != NULL);
	CHECK_EQ(h->brk_failed, 1);
	CHECK_EQ(h->brk_end, cur + 3 * MLA_SEG_SIZE);   /* taken one at a time up to the wall */
	CHECK(h->seg_bytes_mmap > 0);
	for (int i = 0; i < 20000; i++)
		free(blocks[i]);
	return 0;
}

static int out_of_memory(void)
{
	struct rlimit rl = { 256u << 20, 256u << 20 };
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
	static void *blocks[100000];
	int n = 0;
	errno = 0;
	while (n < 100000 && (blocks[n] = malloc(n % 2 ? 100000 : 1 << 20)))
		n++;
	CHECK(n < 100000);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(calloc(1, 64 << 20) == NULL && errno == ENOMEM);
	void *p;
	CHECK_EQ(posix_memalign(&p, 1 << 21, 64 << 20), ENOMEM);
	errno = 0;
	int small = 0;   /* small blocks until the last segment is full too */
	while (malloc(2000))
		small++;
	CHECK_EQ(errno, ENOMEM);
	while (n > 0)
		free(blocks[--n]);
	mla__heap_purge(mla__tls.heap, true);
	p = malloc(8 << 20);
	CHECK(p != NULL);
	free(p);
	return 0;
}

static int run(const char *name, int (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int st;
	waitpid(pid, &st, 0);
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("%s: %s (status 0x%x)\n", ok ? "ok  " : "FAIL", name, st);
	return ok ? 0 : 1;
}

int main(void)
{
	int failed = run("brk blocked by a mapping: segments come from mmap", brk_blocked);
	failed += run("RLIMIT_AS exhausted: NULL and ENOMEM, no crash", out_of_memory);
	failed += run("new threads take segments from the brk reserve", reserve_for_threads);
	failed += run("a reserve that does not fit: one segment at a time", reserve_refused);
	printf("%d passed, %d failed\n", 4 - failed, failed);
	return failed != 0;
}
