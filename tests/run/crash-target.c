/* SPDX-License-Identifier: MIT */
/*
 * crash-target.c - the corpus of `memlayout run`: one way to die (or not)
 * per mode, `crash-target MODE`.  Each crashing function marks the line
 * that crashes with a comment "LINE:<mode>" so the test can check the
 * backtrace's file:line.  Built -g -O0 -fstack-protector-all.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct rec { int a[6]; int b; };

static volatile int sink;

int null_read(struct rec *p)
{
	return p->b;    /* LINE:null-pointer */
}

int recurse(int n)
{
	volatile char buf[64];

	buf[0] = (char)n;
	return recurse(n + 1) + buf[0];    /* LINE:stack-overflow */
}

static void *thread_recurse(void *arg)
{
	(void)arg;
	sink = recurse(0);
	return NULL;
}

void write_rodata(void)
{
	char *s = (char *)"a constant string";
	s[0] = 'A';    /* LINE:write-read-only */
}

void exec_heap(void)
{
	unsigned char *code = malloc(64);
	void (*f)(void) = (void (*)(void))code;

	memset(code, 0xc3, 64);
	f();    /* LINE:exec-non-executable */
}

void jump_wild(void)
{
	void (*f)(void) = (void (*)(void))(uintptr_t)0x100000000000ull;
	f();    /* LINE:jump-unmapped */
}

long read_kernel(void)
{
	return *(volatile long *)(uintptr_t)0xffffffffff000000ull;    /* LINE:kernel-space */
}

long read_noncanonical(void)
{
	return *(volatile long *)(uintptr_t)0x8000000000000000ull;    /* LINE:non-canonical */
}

long use_after_munmap(void)
{
	long *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, 4096);
	return p[3];    /* LINE:unmapped */
}

long past_brk(void)
{
	char *end;

	free(malloc(100));
	end = sbrk(0);
	return *(volatile long *)(end + 65536);    /* LINE:past-heap-end */
}

long prot_none(void)
{
	long *p = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p[5];    /* LINE:no-access */
}

long truncated(void)
{
	char path[] = "/tmp/crash-target-XXXXXX";
	int fd = mkstemp(path);
	char *p;

	unlink(path);
	if (fd < 0 || ftruncate(fd, 8192) < 0)
		exit(99);
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	if (ftruncate(fd, 100) < 0)
		exit(99);
	return p[4096 + 8];    /* LINE:file-truncated */
}

/* A file that was never longer than 100 bytes, mapped for two pages. */
long past_eof(void)
{
	char path[] = "/tmp/crash-target-XXXXXX";
	int fd = mkstemp(path);
	char *p;

	unlink(path);
	if (fd < 0 || write(fd, "short file\n", 11) != 11)
		exit(99);
	p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	return p[4096 + 8];    /* LINE:past-eof */
}

/* The alignment-check flag (EFLAGS.AC) on, then an unaligned load: the
 * CPU's #AC gives SIGBUS BUS_ADRALN with no address. */
#if defined(__x86_64__) || defined(__i386__)
long misaligned_ac(void)
{
	static char buf[64] __attribute__((aligned(16)));
	long v;
#if defined(__x86_64__)
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq\n\t"
			 "movl (%1), %%eax\n\t"    /* LINE:misaligned-ac */
			 "movl %%eax, %k0" : "=r"(v) : "r"(buf + 1) : "rax", "cc");
#else
	__asm__ volatile("pushfl; orl $0x40000, (%%esp); popfl\n\t"
			 "movl (%1), %%eax\n\t"
			 "movl %%eax, %0" : "=r"(v) : "r"(buf + 1) : "eax", "cc");
#endif
	return v;
}
#endif

/* A recursion whose frames are small and that calls snprintf at each
 * level: the stack runs out inside snprintf, a callee of the recursion. */
int callee_recurse(int n)
{
	char out[32];

	snprintf(out, sizeof(out), "%d %f %s", n, n * 0.5, "level");    /* LINE:callee-overflow */
	return callee_recurse(n + 1) + out[0];
}

/* A return address overwritten with garbage, and a call through a
 * garbage pointer: non-canonical on x86-64 (the CPU faults at the ret or
 * the call, not at the target), an unmapped address on i386; and a ret
 * to a canonical unmapped address (the fault is at the target). */
#if defined(__x86_64__)
void ret_garbage(void)
{
	__asm__ volatile("movabsq $0x4141414141414141, %%rax\n\tpushq %%rax\n\tret" : : : "rax");    /* LINE:ret-garbage */
}

void call_garbage(void)
{
	__asm__ volatile("movabsq $0x4141414141414141, %%rax\n\tcall *%%rax" : : : "rax");    /* LINE:call-garbage */
}

void ret_wild(void)
{
	__asm__ volatile("movabsq $0x100000000000, %%rax\n\tpushq %%rax\n\tret" : : : "rax");    /* LINE:ret-wild */
}
#elif defined(__i386__)
void ret_garbage(void)
{
	__asm__ volatile("movl $0x41414141, %%eax\n\tpushl %%eax\n\tret" : : : "eax");    /* LINE:ret-garbage */
}

void call_garbage(void)
{
	__asm__ volatile("movl $0x41414141, %%eax\n\tcall *%%eax" : : : "eax");    /* LINE:call-garbage */
}

void ret_wild(void)
{
	ret_garbage();
}
#endif

void misaligned(void)
{
	static char buf[64] __attribute__((aligned(16)));
	char *p = buf + 1;
	__asm__ volatile("movaps (%0), %%xmm0" : : "r"(p) : "xmm0");    /* LINE:misaligned */
}

int divide(int d)
{
	return 100 / d;    /* LINE:divide-by-zero */
}

void illegal(void)
{
	__builtin_trap();    /* LINE:illegal-instruction */
}

void breakpoint(void)
{
	__asm__ volatile("int3");    /* LINE:breakpoint */
}

void double_free(void)
{
	char *p = malloc(32);
	free(p);
	free(p);    /* LINE:heap-corruption */
}

void smash(int n)
{
	char buf[8];
	volatile char *q = buf;

	for (int i = 0; i < n; i++)
		q[i] = 'A';
}    /* LINE:stack-smashing */

void call_abort(void)
{
	abort();    /* LINE:abort */
}

static void *thread_null(void *arg)
{
	sink = null_read(arg);
	return NULL;
}

static sigjmp_buf recover;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(recover, 1);
}

/* A program that handles SIGSEGV itself and goes on. */
static int handler(void)
{
	signal(SIGSEGV, on_segv);
	if (sigsetjmp(recover, 1) == 0)
		sink = null_read(NULL);
	printf("recovered\n");
	return 0;
}

static int in_thread(void *(*fn)(void *))
{
	pthread_t t;
	pthread_attr_t a;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 << 10);
	pthread_create(&t, &a, fn, NULL);
	pthread_join(t, NULL);
	return 0;
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102    /* Linux 6.13 */
#endif
#define GUARDED_STACK (256 << 10)
#define GUARD_PAGES 4

/* A thread on a stack of our own (pthread_attr_setstack: glibc adds no
 * guard), rw-p throughout, whose lowest pages are guard markers installed
 * with MADV_GUARD_INSTALL, not a PROT_NONE mapping.  A kernel that
 * refuses them ends the program with status 98 and says why. */
static int in_guarded_thread(void *(*fn)(void *))
{
	long ps = sysconf(_SC_PAGESIZE);
	char *stack = mmap(NULL, GUARDED_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pthread_attr_t a;
	pthread_t t;

	if (stack == MAP_FAILED)
		return 97;
	if (madvise(stack, (size_t)(GUARD_PAGES * ps), MADV_GUARD_INSTALL) < 0) {
		fprintf(stderr, "crash-target: madvise(MADV_GUARD_INSTALL): %s\n", strerror(errno));
		return 98;
	}
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stack, GUARDED_STACK);
	pthread_create(&t, &a, fn, NULL);
	pthread_join(t, NULL);
	return 0;
}

/* The parent lives on after its child crashed: exit 3. */
static int in_child(const char *self, bool do_exec)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (do_exec)
			execl(self, self, "null-pointer", (char *)NULL);
		sink = null_read(NULL);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("child=%d signal=%d\n", (int)pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 3;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(m, "null-pointer")) return null_read(NULL);
	if (!strcmp(m, "stack-overflow")) return recurse(0);
	if (!strcmp(m, "thread-stack-overflow")) return in_thread(thread_recurse);
	if (!strcmp(m, "thread-guard-overflow")) return in_guarded_thread(thread_recurse);
	if (!strcmp(m, "write-read-only")) write_rodata();
	if (!strcmp(m, "exec-non-executable")) exec_heap();
	if (!strcmp(m, "jump-unmapped")) jump_wild();
	if (!strcmp(m, "kernel-space")) return (int)read_kernel();
	if (!strcmp(m, "non-canonical")) return (int)read_noncanonical();
	if (!strcmp(m, "unmapped")) return (int)use_after_munmap();
	if (!strcmp(m, "past-heap-end")) return (int)past_brk();
	if (!strcmp(m, "no-access")) return (int)prot_none();
	if (!strcmp(m, "file-truncated")) return (int)truncated();
	if (!strcmp(m, "misaligned")) misaligned();
	if (!strcmp(m, "past-eof")) return (int)past_eof();
#if defined(__x86_64__) || defined(__i386__)
	if (!strcmp(m, "misaligned-ac")) return (int)misaligned_ac();
#endif
	if (!strcmp(m, "callee-overflow")) return callee_recurse(0);
#if defined(__x86_64__) || defined(__i386__)
	if (!strcmp(m, "ret-garbage")) ret_garbage();
	if (!strcmp(m, "call-garbage")) call_garbage();
	if (!strcmp(m, "ret-wild")) ret_wild();
#endif
	if (!strcmp(m, "divide-by-zero")) return divide(0);
	if (!strcmp(m, "illegal-instruction")) illegal();
	if (!strcmp(m, "breakpoint")) breakpoint();
	if (!strcmp(m, "heap-corruption")) double_free();
	if (!strcmp(m, "stack-smashing")) smash(64);
	if (!strcmp(m, "abort")) call_abort();
	if (!strcmp(m, "thread")) return in_thread(thread_null);
	if (!strcmp(m, "child")) return in_child(argv[0], false);
	if (!strcmp(m, "child-exec")) return in_child(argv[0], true);
	if (!strcmp(m, "handler")) return handler();
	if (!strcmp(m, "exit7")) return 7;
	if (!strcmp(m, "sigkill")) raise(SIGKILL);
	if (!strcmp(m, "sleep")) { printf("sleeping\n"); sleep(30); return 0; }
	fprintf(stderr, "crash-target: unknown mode '%s'\n", m);
	return 100;
}
