/* SPDX-License-Identifier: MIT */
/*
 * crash-many.c - the crashing process of bench/explain-core: N mappings
 * (default 20000) that the kernel cannot merge (one anonymous area whose
 * pages alternate r--p / rw-p, every writable one touched), T threads
 * (default 64) blocked in pthread_cond_wait, then a NULL read in the main
 * thread, so the kernel writes a core of N+ mappings and T+1 threads.
 *
 * Usage: crash-many [N [T]]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int started;

static void *blocked(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	started++;
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	int threads = argc > 2 ? atoi(argv[2]) : 64;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t;

	if (base == MAP_FAILED) {
		perror("crash-many: mmap");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i % 2)
			base[i * page] = 1;
		else if (mprotect(base + i * page, page, PROT_READ) < 0) {
			perror("crash-many: mprotect");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, blocked, NULL)) {
			fputs("crash-many: pthread_create failed\n", stderr);
			return 1;
		}
	for (;;) {   /* every thread blocked before the crash */
		pthread_mutex_lock(&lock);
		int all = started == threads;
		pthread_mutex_unlock(&lock);
		if (all)
			break;
		usleep(1000);
	}
	return *(volatile int *)(argc > 100 ? (void *)base : NULL);
}
