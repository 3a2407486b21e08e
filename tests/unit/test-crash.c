/* SPDX-License-Identifier: MIT */
/*
 * test-crash.c - the crash rule table (crash.c) on a real snapshot: this
 * test process takes a snapshot of itself, with a thread blocked in a
 * read (so its stack and guard are classified), a PROT_NONE mapping, a
 * hole punched between two mapped pages, a rw-p mapping whose first page
 * is a MADV_GUARD_INSTALL guard (where the kernel has them; else the
 * guard case skips, saying why, and the others run), and then
 * explains faults crafted at addresses inside its own regions and holes:
 * one case per rule, and the edges (mmap_min_addr - 1 and mmap_min_addr,
 * just below [stack] and below its guard gap, the brk and 16 MiB above
 * it, the top of user space and the first non-canonical address, SI_KERNEL
 * with no address, and with an address decoded from the instruction).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include "memlayout.h"
#include "ml-private.h"
#include "kernel-probe.h"

#define MIB (1ull << 20)

static const char rodata_string[] = "a constant in .rodata";

struct world {
	struct ml_snapshot *snap;
	const struct ml_proc *p;
	pid_t pid, thread_tid;
	pthread_t thread;
	int pipe[2];
	char *hole;            /* 3 pages, the middle one unmapped */
	char *none;            /* PROT_NONE, 2 pages */
	char *guarded;         /* rw-p, 2 pages, the first a MADV_GUARD guard */
	int guard_errno;       /* 0, or why MADV_GUARD_INSTALL was refused */
	char *heap;            /* malloc'ed */
	const struct ml_region *stack, *guard;
	long page;
};

static struct world W;

static void *blocked_thread(void *arg)
{
	char c;

	(void)arg;
	W.thread_tid = (pid_t)syscall(SYS_gettid);
	if (read(W.pipe[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

/* Wait until the thread sits in read(): its sp is then in
 * /proc/self/task/TID/syscall and the snapshot marks its stack. */
static void wait_blocked(void)
{
	char path[64], buf[256];

	for (int i = 0; i < 2000; i++) {
		int fd;
		ssize_t n;

		if (W.thread_tid) {
			snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)W.thread_tid);
			fd = open(path, O_RDONLY);
			n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
			if (fd >= 0)
				close(fd);
			if (n > 0 && buf[0] >= '0' && buf[0] <= '9' && atoi(buf) == SYS_read)
				return;
		}
		usleep(1000);
	}
	fail_msg("the thread never blocked in read()");
}

static int setup(void **state)
{
	size_t n;
	const struct ml_region *r;

	(void)state;
	W.pid = getpid();
	W.page = sysconf(_SC_PAGESIZE);
	W.heap = malloc(100);
	/* A [heap] whatever malloc is in use (ASan's does not use brk). */
	if (sbrk(W.page) == (void *)-1)
		return -1;
	W.hole = mmap(NULL, 3 * W.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	W.none = mmap(NULL, 2 * W.page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!W.heap || W.hole == MAP_FAILED || W.none == MAP_FAILED || pipe(W.pipe) < 0)
		return -1;
	munmap(W.hole + W.page, W.page);
	W.guarded = mmap(NULL, 2 * W.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (W.guarded == MAP_FAILED)
		return -1;
	/* Linux 6.13+; EINVAL (an unknown advice) before: test_madv_guard skips. */
	if (madvise(W.guarded, W.page, 102 /* MADV_GUARD_INSTALL */) < 0) {
		W.guard_errno = errno;
		if (errno != EINVAL)
			fail_msg("MADV_GUARD_INSTALL refused: %s", strerror(errno));
	}
	if (pthread_create(&W.thread, NULL, blocked_thread, NULL))
		return -1;
	wait_blocked();
	if (ml_snapshot_take(W.pid, NULL, &W.snap) < 0)
		return -1;
	W.p = ml_snapshot_proc(W.snap);
	r = ml_snapshot_regions(W.snap, &n);
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind == ML_KIND_STACK)
			W.stack = &r[i];
		if (r[i].kind == ML_KIND_GUARD && r[i].tid == W.thread_tid)
			W.guard = &r[i];
	}
	return W.stack && W.guard ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (write(W.pipe[1], "x", 1) == 1)
		pthread_join(W.thread, NULL);
	ml_snapshot_free(W.snap);
	return 0;
}

/* A fault of the main thread (or tid), no registers. */
static struct ml_fault fault(int signo, int code, uint64_t addr)
{
	struct ml_fault f = { .pid = W.pid, .tid = W.pid, .signo = signo,
			      .code = code, .addr = addr };
	return f;
}

/* ... with pc and sp (no instruction bytes: nothing decoded). */
static struct ml_fault fault_at(int signo, int code, uint64_t addr, uint64_t pc, uint64_t sp)
{
	struct ml_fault f = fault(signo, code, addr);

	f.have_regs = true;
	f.regs.pc = pc;
	f.regs.sp = sp;
	return f;
}

static struct ml_crash explain(const struct ml_fault *f)
{
	struct ml_crash c;

	assert_int_equal(ml_crash_explain(W.snap, f, &c), 0);
	return c;
}

/* The sentence the report would print (render-crash-words.c), kept
 * until the next call. */
static const char *words(const struct ml_crash *c)
{
	static char buf[2048];
	char *s = ml__crash_sentence(W.snap, c, false);

	assert_non_null(s);
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

#define assert_kind(c, k) assert_string_equal(ml_crash_kind_name((c).kind), ml_crash_kind_name(k))
#define assert_hole(c, h) assert_string_equal(ml_hole_name((c).hole), ml_hole_name(h))

static void test_null_zone_edges(void **state)
{
	uint64_t min = W.p->mmap_min_addr;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	assert_true(min > 0);
	f = fault(SIGSEGV, SEGV_MAPERR, min - 1);
	c = explain(&f);
	assert_kind(c, ML_CRASH_NULL_POINTER);
	assert_hole(c, ML_HOLE_NULL_ZONE);
	assert_int_equal(c.hole_start, 0);
	assert_int_equal(c.hole_end, min);
	assert_non_null(strstr(words(&c), "NULL pointer dereference"));

	f = fault(SIGSEGV, SEGV_MAPERR, min);     /* the first mappable address */
	c = explain(&f);
	assert_kind(c, ML_CRASH_UNMAPPED);
	assert_hole(c, ML_HOLE_BELOW_FIRST);
	assert_int_equal(c.hole_start, min);

	f = fault_at(SIGSEGV, SEGV_MAPERR, 0, 0, 0);   /* call through NULL */
	c = explain(&f);
	assert_kind(c, ML_CRASH_NULL_POINTER);
	assert_int_equal(c.access, ML_ACCESS_EXEC);
	assert_non_null(strstr(words(&c), "NULL function pointer"));

	f = fault_at(SIGSEGV, SEGV_MAPERR, min, min, 0);   /* a jump just above it */
	c = explain(&f);
	assert_kind(c, ML_CRASH_JUMP_UNMAPPED);
	assert_int_equal(c.access, ML_ACCESS_EXEC);
}

static void test_main_stack(void **state)
{
	uint64_t s = W.stack->start;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	f = fault_at(SIGSEGV, SEGV_MAPERR, s - 1, 0x1000, s + 64);
	c = explain(&f);
	assert_kind(c, ML_CRASH_STACK_OVERFLOW);
	assert_hole(c, ML_HOLE_STACK_GUARD);
	assert_int_equal(c.hole_end, s);
	assert_ptr_equal(c.thread_stack, W.stack);

	/* Below the guard gap, within RLIMIT_STACK: where it may still grow. */
	if (W.p->stack_rlimit > W.stack->end - s + 2 * MIB) {
		f = fault_at(SIGSEGV, SEGV_MAPERR, s - MIB - 1, 0x1000, s + 64);
		c = explain(&f);
		assert_kind(c, ML_CRASH_STACK_OVERFLOW);
		assert_hole(c, ML_HOLE_STACK_REACH);
		assert_true(c.hole_end <= s - MIB);
	}

	/* The same address from another thread is no overflow of ours. */
	f = fault_at(SIGSEGV, SEGV_MAPERR, s - 1, 0x1000, 0);
	f.tid = W.thread_tid;
	c = explain(&f);
	assert_kind(c, ML_CRASH_UNMAPPED);
	assert_hole(c, ML_HOLE_STACK_GUARD);
}

static void test_thread_guard(void **state)
{
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	f = fault_at(SIGSEGV, SEGV_ACCERR, W.guard->end - 8, 0x1000, W.guard->end + 16);
	f.tid = W.thread_tid;
	c = explain(&f);
	assert_kind(c, ML_CRASH_THREAD_STACK_OVERFLOW);
	assert_ptr_equal(c.region, W.guard);
	assert_int_equal(c.hole, ML_HOLE_NONE);

	/* The main thread touching it: a PROT_NONE access, not an overflow. */
	f.tid = W.pid;
	c = explain(&f);
	assert_kind(c, ML_CRASH_NO_ACCESS);
}

static void test_brk_edges(void **state)
{
	uint64_t brk = W.p->brk;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	assert_true(brk > 0);
	f = fault(SIGSEGV, SEGV_MAPERR, brk);
	c = explain(&f);
	assert_kind(c, ML_CRASH_PAST_HEAP_END);
	assert_hole(c, ML_HOLE_HEAP_MMAP);
	assert_int_equal(c.hole_start, brk);

	f = fault(SIGSEGV, SEGV_MAPERR, brk + 16 * MIB);   /* no longer "just above" */
	c = explain(&f);
	assert_hole(c, ML_HOLE_HEAP_MMAP);
	assert_kind(c, ML_CRASH_UNMAPPED);

	f = fault(SIGSEGV, SEGV_MAPERR, brk - 1);          /* the heap's last byte */
	c = explain(&f);
	assert_non_null(c.region);
	assert_int_equal(c.region->kind, ML_KIND_HEAP);
}

static void test_top_of_address_space(void **state)
{
	uint64_t canon = W.p->paging_levels == 5 ? 1ull << 56 : 1ull << 47;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	if (W.p->is_32bit || !W.p->kernel_start || !W.p->paging_levels)
		fail_msg("a 64-bit process with a known paging depth is expected");
	f = fault(SIGSEGV, SEGV_MAPERR, canon);            /* first non-canonical */
	c = explain(&f);
	assert_kind(c, ML_CRASH_NON_CANONICAL);
	assert_hole(c, ML_HOLE_NONCANONICAL);
	assert_int_equal(c.hole_start, canon);
	assert_int_equal(c.hole_end, W.p->kernel_start);

	f = fault(SIGSEGV, SEGV_MAPERR, canon - 1);        /* canonical, above TASK_SIZE */
	c = explain(&f);
	assert_kind(c, ML_CRASH_UNMAPPED);
	assert_hole(c, ML_HOLE_USER_TOP);
	assert_int_equal(c.hole_start, W.p->user_top);
	assert_int_equal(c.hole_end, canon);

	f = fault(SIGSEGV, SEGV_MAPERR, W.p->kernel_start);
	c = explain(&f);
	assert_kind(c, ML_CRASH_KERNEL_SPACE);
	assert_hole(c, ML_HOLE_KERNEL);
	assert_int_equal(c.hole_start, W.p->kernel_start);
}

static void test_general_protection(void **state)
{
#if defined(__x86_64__)
	static const unsigned char mov_rax_mem_rax[] = { 0x48, 0x8b, 0x00 };
	struct user_regs_struct regs = { 0 };
#endif
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	/* SI_KERNEL, si_addr 0, nothing to decode: no address at all. */
	f = fault(SIGSEGV, SI_KERNEL, 0);
	c = explain(&f);
	assert_kind(c, ML_CRASH_NON_CANONICAL);
	assert_false(c.addr_known);
	assert_null(c.region);
	assert_int_equal(c.hole, ML_HOLE_NONE);
	assert_non_null(strstr(words(&c), "without giving an address"));
#if defined(__x86_64__)
	/* mov rax, [rax] with rax = 1 << 63: the address is decoded. */
	regs.rax = 1ull << 63;
	regs.rip = 0x1000;
	f = fault(SIGSEGV, SI_KERNEL, 0);
	f.have_regs = true;
	memcpy(f.regs.raw, &regs, sizeof(regs));
	f.regs.len = sizeof(regs);
	f.regs.pc = regs.rip;
	memcpy(f.code_bytes, mov_rax_mem_rax, sizeof(mov_rax_mem_rax));
	f.ncode = sizeof(mov_rax_mem_rax);
	c = explain(&f);
	assert_kind(c, ML_CRASH_NON_CANONICAL);
	assert_true(c.addr_known);
	assert_int_equal(c.addr, 1ull << 63);
	assert_int_equal(c.access, ML_ACCESS_READ);
	assert_hole(c, ML_HOLE_NONCANONICAL);

	/* A GP fault above TASK_SIZE is non-canonical whatever where's
	 * boundary says (a canonical address would page-fault instead). */
	regs.rax = W.p->user_top + 8;
	memcpy(f.regs.raw, &regs, sizeof(regs));
	c = explain(&f);
	assert_hole(c, ML_HOLE_USER_TOP);
	assert_kind(c, ML_CRASH_NON_CANONICAL);
#endif
}

static void test_regions(void **state)
{
	uint64_t ro = (uint64_t)(uintptr_t)rodata_string;
	uint64_t heap = (uint64_t)(uintptr_t)W.heap;
	uint64_t none = (uint64_t)(uintptr_t)W.none;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	f = fault(SIGSEGV, SEGV_ACCERR, ro);               /* ACCERR in r--p: a write */
	c = explain(&f);
	assert_kind(c, ML_CRASH_WRITE_READ_ONLY);
	assert_int_equal(c.access, ML_ACCESS_WRITE);
	assert_non_null(c.section);
	assert_string_equal(c.section->name, ".rodata");

	f = fault_at(SIGSEGV, SEGV_ACCERR, heap, heap, 0);  /* fetch from the heap */
	c = explain(&f);
	assert_kind(c, ML_CRASH_EXEC_NON_EXECUTABLE);
	assert_int_equal(c.access, ML_ACCESS_EXEC);

	f = fault(SIGSEGV, SEGV_ACCERR, none + 8);
	c = explain(&f);
	assert_kind(c, ML_CRASH_NO_ACCESS);
}

static void test_punched_hole(void **state)
{
	uint64_t a = (uint64_t)(uintptr_t)W.hole;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	f = fault(SIGSEGV, SEGV_MAPERR, a + (uint64_t)W.page + 24);
	c = explain(&f);
	assert_kind(c, ML_CRASH_UNMAPPED);
	assert_hole(c, ML_HOLE_BETWEEN);
	assert_int_equal(c.hole_start, a + (uint64_t)W.page);
	assert_int_equal(c.hole_end, a + 2 * (uint64_t)W.page);
	assert_non_null(strstr(words(&c), "between two mappings"));
}

static void test_madv_guard(void **state)
{
	uint64_t g = (uint64_t)(uintptr_t)W.guarded;
	struct ml_fault f;
	struct ml_crash c;

	(void)state;
	if (W.guard_errno)
		skip_because("madvise(MADV_GUARD_INSTALL): %s (this kernel has no guard "
			     "markers; Linux 6.13 added them)", strerror(W.guard_errno));
	/* A thread whose sp is just above the guard: its stack overflowed. */
	f = fault_at(SIGSEGV, SEGV_MAPERR, g + 8, 0x1000, g + 64);
	f.tid = W.thread_tid;
	c = explain(&f);
	assert_true(c.guard_page);
	assert_kind(c, ML_CRASH_THREAD_STACK_OVERFLOW);
	assert_non_null(strstr(words(&c), "MADV_GUARD_INSTALL"));

	/* The main thread there: a guard page that is no stack's. */
	f.tid = W.pid;
	c = explain(&f);
	assert_true(c.guard_page);
	assert_kind(c, ML_CRASH_NO_ACCESS);
	assert_non_null(strstr(words(&c), "guard page"));

	/* The last byte before the guard's end and the first after it. */
	f = fault(SIGSEGV, SEGV_MAPERR, g + (uint64_t)W.page - 1);
	assert_true(explain(&f).guard_page);
	f = fault(SIGSEGV, SEGV_MAPERR, g + (uint64_t)W.page);
	assert_false(explain(&f).guard_page);
}

static void test_other_signals(void **state)
{
	static const struct {
		int signo, code;
		const char *msg;
		enum ml_crash_kind kind;
	} cases[] = {
		{ SIGFPE,  FPE_INTDIV, NULL, ML_CRASH_DIVIDE_BY_ZERO },
		{ SIGILL,  ILL_ILLOPN, NULL, ML_CRASH_ILLEGAL_INSTRUCTION },
		{ SIGTRAP, SI_KERNEL,  NULL, ML_CRASH_BREAKPOINT },
		{ SIGBUS,  BUS_ADRALN, NULL, ML_CRASH_MISALIGNED },
		{ SIGABRT, SI_TKILL,   "free(): double free detected in tcache 2\n", ML_CRASH_HEAP_CORRUPTION },
		{ SIGABRT, SI_TKILL,   "*** stack smashing detected ***: terminated\n", ML_CRASH_STACK_SMASHING },
		{ SIGABRT, SI_TKILL,   "my own words\n", ML_CRASH_ABORT },
		{ SIGABRT, SI_TKILL,   NULL, ML_CRASH_ABORT },
		{ SIGSEGV, SI_USER,    NULL, ML_CRASH_SENT },
		{ SIGBUS,  SI_USER,    NULL, ML_CRASH_SENT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ml_fault f = fault_at(cases[i].signo, cases[i].code, 0x1000, 0x1000, 0);
		struct ml_crash c;

		f.abort_msg = cases[i].msg;
		c = explain(&f);
		assert_kind(c, cases[i].kind);
	}
}

static void test_bad_arguments(void **state)
{
	struct ml_fault f = fault(SIGSEGV, SEGV_MAPERR, 0);
	struct ml_crash c;

	(void)state;
	assert_int_equal(ml_crash_explain(NULL, &f, &c), -EINVAL);
	assert_int_equal(ml_crash_explain(W.snap, NULL, &c), -EINVAL);
	assert_string_equal(ml_crash_kind_name(ML_CRASH__COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_zone_edges),
		cmocka_unit_test(test_main_stack),
		cmocka_unit_test(test_thread_guard),
		cmocka_unit_test(test_brk_edges),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_general_protection),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_punched_hole),
		cmocka_unit_test(test_madv_guard),
		cmocka_unit_test(test_other_signals),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
