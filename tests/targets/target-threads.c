/*
 * target-threads.c - end-to-end test target: a main thread and three
 * threads that block in a system call, plus (with --spin) a fourth thread
 * that spins in user space so only ptrace can read its stack pointer.
 *
 * Prints "thread<i>_tid=<tid>" (decimal) and "thread<i>_local=0x<hex>" for
 * each blocked thread, "spin_tid=<tid>" and "spin_local=0x<hex>" for the
 * spinning one, "main_local=0x<hex>", then "ready=0x1".  Then the main
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

static void facts(const char *who, const volatile void *local)
{
	pthread_mutex_lock(&print_lock);
	printf("%s_tid=%ld\n", who, (long)syscall(SYS_gettid));
	printf("%s_local=0x%" PRIxPTR "\n", who, (uintptr_t)local);
	pthread_mutex_unlock(&print_lock);
}

static void *blocker(void *arg)
{
	volatile char local = 0;
	char name[16];

	snprintf(name, sizeof(name), "thread%d", (int)(intptr_t)arg);
	facts(name, &local);
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
	printf("main_local=0x%" PRIxPTR "\n", (uintptr_t)&local);
	printf("ready=0x1\n");
	fflush(stdout);
	while (read(0, &c, 1) < 0)
		;
	return 0;
}
