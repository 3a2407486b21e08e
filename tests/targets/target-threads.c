/* SPDX-License-Identifier: MIT */
/*
 * target-threads.c - end-to-end test target: a main thread and three
 * threads that block in a system call, plus (with --spin) a fourth thread
 * that spins in user space so only ptrace can read its stack pointer.
 *
 * Prints "thread<i>_tid=<tid>" (decimal) and "thread<i>_local=0x<hex>" for
 * each blocked thread, "spin_tid=<tid>" and "spin_local=0x<hex>" for the
 * spinning one, "main_local=0x<hex>", then, once the three are in read(2),
 * "ready=0x1".  Then the main
 * thread blocks reading stdin and the process exits 0 at EOF.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 3

static pthread_barrier_t started;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static int block_pipe[2];
static volatile uint64_t spin_counter;
static pid_t blocker_tids[NTHREADS];

static pid_t facts(const char *who, const volatile void *local)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	pthread_mutex_lock(&print_lock);
	printf("%s_tid=%ld\n", who, (long)tid);
	printf("%s_local=0x%" PRIxPTR "\n", who, (uintptr_t)local);
	pthread_mutex_unlock(&print_lock);
	return tid;
}

/* Whether thread tid sits in read(2), by /proc/self/task/TID/syscall. */
static bool in_read(pid_t tid)
{
	char path[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr == SYS_read;
}

/* "ready" is only true once every blocker is in read(2), so that a
 * snapshot finds all of them in a system call. */
static void wait_blocked(void)
{
	int i, tries;

	for (i = 0; i < NTHREADS; i++)
		for (tries = 0; tries < 5000 && !in_read(blocker_tids[i]); tries++)
			usleep(1000);
}

static void *blocker(void *arg)
{
	volatile char local = 0;
	char name[16];
	int i = (int)(intptr_t)arg;

	snprintf(name, sizeof(name), "thread%d", i);
	blocker_tids[i] = facts(name, &local);
	pthread_barrier_wait(&started);
	/* Nobody writes: blocks in read(2) until the process exits. */
	while (read(block_pipe[0], (char *)&local, 1) != 0)
		;
	return NULL;
}

static void *spinner(void *arg)
{
	volatile char local = 0;

	(void)arg;
	facts("spin", &local);
	pthread_barrier_wait(&started);
	for (;;)
		spin_counter++;
	return NULL;
}

int main(int argc, char **argv)
{
	bool spin = argc > 1 && strcmp(argv[1], "--spin") == 0;
	pthread_t th;
	volatile int local = 0;
	char c;
	int i;

	if (pipe(block_pipe) < 0)
		return 1;
	pthread_barrier_init(&started, NULL, NTHREADS + spin + 1);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th, NULL, blocker, (void *)(intptr_t)i))
			return 1;
	if (spin && pthread_create(&th, NULL, spinner, NULL))
		return 1;
	pthread_barrier_wait(&started);
	wait_blocked();
	printf("main_local=0x%" PRIxPTR "\n", (uintptr_t)&local);
	printf("ready=0x1\n");
	fflush(stdout);
	while (read(0, &c, 1) < 0)
		;
	return 0;
}
