/* SPDX-License-Identifier: MIT */
/*
 * demo-target.c - the small program `memlayout demo` looks into.  In the
 * spirit of the classic example that prints where its code, heap and stack
 * are, it puts one thing in each part of the address space, prints
 * "label=0xADDR" lines, then "ready", and blocks until its stdin closes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int initialized_global = 42;                    /* .data */
int zeroed_global;                              /* .bss */
const char constant_string[] = "hello, memory"; /* .rodata */

static int thread_pipe[2];

static void *thread_main(void *arg)
{
	int thread_local_var = 7;
	char c;

	(void)arg;
	printf("a local in a thread=%p\n", (void *)&thread_local_var);
	fflush(stdout);
	if (write(thread_pipe[1], "x", 1) != 1)
		return NULL;
	/* Block in a syscall so /proc shows this thread's stack pointer. */
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return NULL;
}

int main(void)
{
	int local = 1;
	char *small = malloc(32);
	char *large = malloc(4u << 20);   /* above the mmap threshold */
	pthread_t th;
	char c;

	if (!small || !large || pipe(thread_pipe) ||
	    pthread_create(&th, NULL, thread_main, NULL))
		return 1;
	if (read(thread_pipe[0], &c, 1) != 1)
		return 1;
	printf("main (code)=%p\n", (void *)main);
	printf("constant string=%p\n", (void *)constant_string);
	printf("initialized global=%p\n", (void *)&initialized_global);
	printf("zeroed global=%p\n", (void *)&zeroed_global);
	printf("malloc(32)=%p\n", (void *)small);
	printf("malloc(4 MiB)=%p\n", (void *)large);
	printf("a local in main=%p\n", (void *)&local);
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	pthread_join(th, NULL);
	free(large);
	free(small);
	return initialized_global + zeroed_global == 42 ? 0 : 1;
}
