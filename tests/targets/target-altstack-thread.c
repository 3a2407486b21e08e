/* SPDX-License-Identifier: MIT */
/*
 * target-altstack-thread.c - a thread (default attributes: glibc maps its
 * stack with a guard) parked in a signal handler that runs on an mmap'd
 * sigaltstack, so its sp is far from its own stack.  Prints one line
 *   TID STACK_ADDR ALT_START ALT_END
 * (a local of the thread's function, on its own stack; the sigaltstack's
 * bounds) once the handler runs, then sleeps until killed.
 * test_thread_tcb.py checks that show names the thread's stack and guard
 * all the same.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALT_SIZE (256 * 1024)

static volatile uintptr_t local_addr;
static void *alt;

static void handler(int sig)
{
	(void)sig;
	printf("%ld %#lx %#lx %#lx\n", (long)gettid(), (unsigned long)local_addr,
	       (unsigned long)(uintptr_t)alt, (unsigned long)((uintptr_t)alt + ALT_SIZE));
	fflush(stdout);
	for (;;)
		pause();   /* parked here, sp on the sigaltstack */
}

static void *thread_main(void *arg)
{
	volatile int local = 0;
	stack_t ss = { .ss_size = ALT_SIZE };
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };

	(void)arg;
	local_addr = (uintptr_t)&local;
	alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (alt == MAP_FAILED)
		return NULL;
	ss.ss_sp = alt;
	if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
		return NULL;
	raise(SIGUSR1);   /* to this thread */
	return (void *)(uintptr_t)local;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	return 1;   /* the handler never returns */
}
