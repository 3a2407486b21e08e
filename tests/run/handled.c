/* SPDX-License-Identifier: MIT */
/*
 * handled.c - programs whose own SIGSEGV handler catches a fault first,
 * for `memlayout run`: `handled MODE`
 *   overflow-abort   the main thread recurses into its stack's guard; a
 *                    handler on a sigaltstack says so and calls abort(),
 *                    the way Rust's runtime does ("has overflowed its
 *                    stack")
 *   thread-abort     the same in a thread with its own sigaltstack
 *   null-reraise     a NULL read; the handler (SA_NODEFER, as Python's
 *                    faulthandler) restores SIG_DFL and raises SIGSEGV
 *   recover-abort    a NULL read the handler recovers from (siglongjmp),
 *                    then an unrelated abort(): that abort is not the fault
 *   threads-null     no handler: 64 threads read NULL at once (one
 *                    process death, one report)
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile int sink;
static sigjmp_buf recover;
static int mode_recover;

__attribute__((noinline)) int deep(int n)
{
	volatile char buf[128];

	buf[n & 127] = (char)n;
	return deep(n + 1) + buf[(n + 3) & 127];    /* LINE:recursion */
}

__attribute__((noinline)) int null_read(int *p)
{
	return *p;    /* LINE:null */
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "\nthread has overflowed its stack\n";

	(void)si;
	(void)uc;
	if (mode_recover)
		siglongjmp(recover, 1);
	if (sig == SIGSEGV && mode_recover == 0 && write(2, msg, sizeof(msg) - 1) < 0)
		_exit(99);
	abort();
}

static void on_segv_reraise(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
}

#define ALT_SIZE (64 << 10)

/* An alternate signal stack of its own mapping with a guard page below
 * it, as Rust's runtime makes one for each thread. */
static char *altstack_map(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, ALT_SIZE + (size_t)ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED || mprotect(m, (size_t)ps, PROT_NONE) < 0)
		_exit(97);
	return m + ps;
}

static void altstack_use(char *sp)
{
	stack_t ss = { .ss_sp = sp, .ss_size = ALT_SIZE };

	sigaltstack(&ss, NULL);
}

static void altstack(void)
{
	altstack_use(altstack_map());
}

static void handle(int flags, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { 0 };

	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static void *thread_main(void *arg)
{
	altstack_use(arg);    /* mapped before the thread: above its stack */
	sink = deep(0);
	return NULL;
}

static pthread_barrier_t all_ready;

static void *thread_null(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&all_ready);
	sink = null_read(NULL);
	return NULL;
}

static int threads_null(void)
{
	pthread_t t[64];

	pthread_barrier_init(&all_ready, NULL, 64);
	for (int i = 0; i < 64; i++)
		pthread_create(&t[i], NULL, thread_null, NULL);
	for (int i = 0; i < 64; i++)
		pthread_join(t[i], NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	pthread_t t;

	if (!strcmp(m, "overflow-abort")) {
		altstack();
		handle(SA_ONSTACK, on_segv);
		return deep(0);
	}
	if (!strcmp(m, "thread-abort")) {
		handle(SA_ONSTACK, on_segv);
		pthread_create(&t, NULL, thread_main, altstack_map());
		pthread_join(t, NULL);
		return 0;
	}
	if (!strcmp(m, "null-reraise")) {
		struct sigaction sa = { 0 };
		sa.sa_handler = on_segv_reraise;
		sa.sa_flags = SA_NODEFER;
		sigaction(SIGSEGV, &sa, NULL);
		return null_read(NULL);
	}
	if (!strcmp(m, "recover-abort")) {
		mode_recover = 1;
		handle(0, on_segv);
		if (sigsetjmp(recover, 1) == 0)
			sink = null_read(NULL);
		printf("recovered\n");
		fflush(stdout);
		abort();
	}
	if (!strcmp(m, "threads-null"))
		return threads_null();
	fprintf(stderr, "handled: unknown mode '%s'\n", m);
	return 2;
}
