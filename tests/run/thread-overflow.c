/* SPDX-License-Identifier: MIT */
/*
 * thread-overflow.c - a thread that runs off its own stack, for
 * `memlayout run`'s thread-stack-overflow case, in each of the ways
 * programs do it:
 *
 *   thread-overflow FRAME STACK GUARD
 *     FRAME  frame: a recursion with a 64-byte buffer per call;
 *            alloca: each call also grows its frame by 3000 bytes with
 *            alloca (sp jumps into the guard before anything is pushed);
 *            big: one 256 KiB frame (sp jumps past the guard at once)
 *     STACK  the thread's stack size in KiB (pthread_attr_setstacksize),
 *            0 for glibc's default (RLIMIT_STACK, 8 MiB)
 *     GUARD  its guard size in bytes (pthread_attr_setguardsize), -1 for
 *            the default (one page)
 *
 * Before the thread starts, the program prints "stack START END" (the
 * bounds glibc gave it, from pthread_getattr_np in the thread) on stdout
 * so the test can compare them with the report.  Built -O0 and -O2, 64-
 * and 32-bit.
 */
#include <alloca.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int sink;
static const char *frame_kind;

__attribute__((noinline)) int deep(int n)
{
	volatile char buf[64];

	buf[n & 63] = (char)n;
	if (frame_kind[0] == 'a') {
		volatile char *p = alloca(3000);
		p[0] = (char)n;
	}
	return deep(n + 1) + buf[(n + 1) & 63];    /* LINE:recursion */
}

__attribute__((noinline)) int big(int n)
{
	volatile char buf[256 << 10];

	buf[0] = (char)n;
	buf[n] = 1;
	return buf[7];
}

static void *thread_main(void *arg)
{
	pthread_attr_t a;
	void *addr;
	size_t size;

	(void)arg;
	if (pthread_getattr_np(pthread_self(), &a) == 0 &&
	    pthread_attr_getstack(&a, &addr, &size) == 0)
		printf("stack %#jx %#jx\n", (uintmax_t)(uintptr_t)addr,
		       (uintmax_t)((uintptr_t)addr + size));
	fflush(stdout);
	sink = frame_kind[0] == 'b' ? big(1) : deep(0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t a;
	pthread_t t;

	if (argc != 4) {
		fprintf(stderr, "usage: thread-overflow frame|alloca|big STACK_KIB GUARD\n");
		return 2;
	}
	frame_kind = argv[1];
	pthread_attr_init(&a);
	if (atol(argv[2]) > 0)
		pthread_attr_setstacksize(&a, (size_t)atol(argv[2]) << 10);
	if (atol(argv[3]) >= 0)
		pthread_attr_setguardsize(&a, (size_t)atol(argv[3]));
	if (pthread_create(&t, &a, thread_main, NULL) != 0)
		return 3;
	pthread_join(t, NULL);
	return 0;
}
