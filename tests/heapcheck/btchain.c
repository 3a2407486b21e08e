/* SPDX-License-Identifier: MIT */
/* btchain.c: the backtraces of mlalloc's checking mode through functions
 * built without frame pointers (-O2 -fomit-frame-pointer), taken many
 * times from the same sites: `btchain N [thread]` allocates and frees N
 * blocks through chain1 -> chain2 -> chain3 -> malloc (chain2 with a big
 * frame that keeps a pointer in rbp-free registers), then frees the last
 * block twice, so the double-free report gives both backtraces (not with
 * BTCHAIN_CLEAN set: then the run ends normally, for the ",stats" line).  The
 * sites are tagged @bt:NAME for test_btchain.py. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

__attribute__((noinline)) static void *chain3(size_t n)
{
	void *p = malloc(n);   /* @bt:alloc3 */
	sink = p;
	return p;
}

__attribute__((noinline)) static void *chain2(size_t n)
{
	char buf[3000];
	memset(buf, (int)n, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
	void *p = chain3(n + (size_t)(buf[n % sizeof(buf)] & 1));   /* @bt:alloc2 */
	__asm__ volatile("" : : "r"(buf) : "memory");   /* buf stays live past the call */
	return p;
}

__attribute__((noinline)) static void *chain1(size_t n)
{
	void *p = chain2(n);   /* @bt:alloc1 */
	sink = p;
	return p;
}

__attribute__((noinline)) static void release(void *p)
{
	free(p);   /* @bt:free1 */
	sink = p;
}

static void *loop(void *arg)
{
	long n = (long)arg;
	void *p = NULL;
	for (long i = 0; i < n; i++) {
		if (p)
			release(p);
		p = chain1(24);
	}
	release(p);
	if (!getenv("BTCHAIN_CLEAN"))
		release(p);   /* the double free: the report */
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	if (argc > 2) {
		pthread_t t;
		if (pthread_create(&t, NULL, loop, (void *)n))
			return 2;
		pthread_join(t, NULL);
		return 0;
	}
	loop((void *)n);
	return 0;
}
