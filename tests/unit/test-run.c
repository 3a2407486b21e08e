/* SPDX-License-Identifier: MIT */
/*
 * test-run.c - the library's tracer (run.c) driven directly on small
 * programs: this test's own executable, run again with a case name
 * (/proc/self/exe CASE), does one thing: a write to address 0x10 (SIGSEGV,
 * SEGV_MAPERR, in the main thread or in a second thread), exit 7, a fault
 * its own handler catches and then abort()s, a fork whose child faults,
 * a SIGTERM sent by kill().  The events and the facts are checked: the
 * crash event's process, thread and siginfo, the registers read at the stop,
 * ml_run_crash's snapshot and the fault its handler caught, the program's
 * end as its wait status (death by the same signal, once the crash is
 * resumed), the exit stop with ML_RUN_EXIT_STOP, an exec that fails.
 * Where ptrace is refused (a sandbox) the test skips (77).  An alarm turns
 * a hang into a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memlayout.h"

#define BAD_ADDR 0x10

static char self[4096];

/* ---- the programs ---- */

static void *fault_now(void *arg)
{
	volatile int *volatile p = (volatile int *)(uintptr_t)BAD_ADDR;

	(void)arg;
	*p = 1;
	return NULL;
}

static void on_segv(int sig)
{
	(void)sig;
	abort();
}

static int child_main(const char *what)
{
	pthread_t t;

	if (!strcmp(what, "segv"))
		fault_now(NULL);
	if (!strcmp(what, "thread-segv")) {
		if (pthread_create(&t, NULL, fault_now, NULL) == 0)
			pthread_join(t, NULL);
	}
	if (!strcmp(what, "handled")) {
		signal(SIGSEGV, on_segv);
		fault_now(NULL);
	}
	if (!strcmp(what, "fork-segv")) {
		pid_t pid = fork();
		if (pid == 0)
			fault_now(NULL);
		int st;
		waitpid(pid, &st, 0);
		return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? 5 : 6;
	}
	if (!strcmp(what, "sigterm"))
		raise(SIGTERM);
	if (!strcmp(what, "exit7"))
		return 7;
	return 99;
}

/* ---- helpers ---- */

static struct ml_run *start(const char *what, unsigned int flags)
{
	char *argv[] = { self, (char *)what, NULL };
	struct ml_run *r = NULL;

	alarm(30);
	assert_int_equal(ml_run_start(argv, flags, &r, NULL), 0);
	assert_non_null(r);
	assert_true(ml_run_pid(r) > 0);
	return r;
}

static struct ml_run_event next(struct ml_run *r)
{
	struct ml_run_event ev;

	memset(&ev, 0xa5, sizeof(ev));
	assert_int_equal(ml_run_next(r, &ev), 0);
	return ev;
}

/* The end: the program's wait status, everything detached. */
static void assert_ended(struct ml_run *r, bool signaled, int code)
{
	struct ml_run_event ev = next(r);

	assert_int_equal(ev.kind, ML_RUN_EXITED);
	assert_int_equal(ev.pid, ml_run_pid(r));
	assert_int_equal(ev.exec_errno, 0);
	if (signaled) {
		assert_true(WIFSIGNALED(ev.status));
		assert_int_equal(WTERMSIG(ev.status), code);
	} else {
		assert_true(WIFEXITED(ev.status));
		assert_int_equal(WEXITSTATUS(ev.status), code);
	}
	ml_run_free(r);
	alarm(0);
}

static void assert_segv(const struct ml_run_event *ev, pid_t pid)
{
	assert_int_equal(ev->kind, ML_RUN_CRASH);
	assert_int_equal(ev->pid, pid);
	assert_int_equal(ev->fault.pid, pid);
	assert_int_equal(ev->fault.tid, ev->tid);
	assert_int_equal(ev->fault.signo, SIGSEGV);
	assert_int_equal(ev->fault.code, SEGV_MAPERR);
	assert_int_equal(ev->fault.addr, BAD_ADDR);
	assert_true(ev->fault.have_regs);
	assert_true(ev->fault.regs.pc != 0 && ev->fault.regs.sp != 0);
	assert_true(ev->fault.ncode > 0);     /* the instruction's bytes */
}

/* ---- the cases ---- */

static void test_segv(void **s)
{
	struct ml_run *r = start("segv", 0);
	struct ml_run_event ev = next(r);
	struct ml_run_crash c;
	struct ml_crash cr;

	(void)s;
	assert_segv(&ev, ml_run_pid(r));
	assert_int_equal(ev.tid, ml_run_pid(r));
	assert_int_equal(ml_run_crash(r, &ev, 16, &c), 0);
	assert_non_null(c.snap);
	assert_int_equal(ml_snapshot_proc(c.snap)->pid, ev.pid);
	assert_int_equal(c.fault.addr, BAD_ADDR);
	assert_int_equal(c.fault.then_signo, 0);
	assert_ptr_equal(c.fault.bt, c.bt);
	assert_int_equal(ml_crash_explain(c.snap, &c.fault, &cr), 0);
	assert_int_equal(cr.kind, ML_CRASH_NULL_POINTER);
	assert_int_equal(cr.access, ML_ACCESS_WRITE);
	ml_run_crash_free(&c);
	assert_null(c.snap);
	assert_ended(r, true, SIGSEGV);       /* the signal went on */
}

static void test_thread_segv(void **s)
{
	struct ml_run *r = start("thread-segv", 0);
	struct ml_run_event ev = next(r);

	(void)s;
	assert_segv(&ev, ml_run_pid(r));
	assert_true(ev.tid != ev.pid);        /* the second thread */
	assert_ended(r, true, SIGSEGV);
}

static void test_handled(void **s)
{
	struct ml_run *r = start("handled", 0);
	struct ml_run_event ev = next(r);
	struct ml_run_crash c;

	(void)s;
	/* The SIGSEGV its handler caught is no event; the abort is. */
	assert_int_equal(ev.kind, ML_RUN_CRASH);
	assert_int_equal(ev.fault.signo, SIGABRT);
	assert_int_equal(ml_run_crash(r, &ev, 64, &c), 0);
	if (c.bt) {      /* the fault is the one its handler caught */
		assert_int_equal(c.fault.signo, SIGSEGV);
		assert_int_equal(c.fault.addr, BAD_ADDR);
		assert_int_equal(c.fault.then_signo, SIGABRT);
	} else {
		assert_int_equal(c.bt_error, -ENOTSUP);   /* no libdw here */
	}
	ml_run_crash_free(&c);
	assert_ended(r, true, SIGABRT);
}

static void test_fork_segv(void **s)
{
	struct ml_run *r = start("fork-segv", 0);
	struct ml_run_event ev = next(r);

	(void)s;
	assert_int_equal(ev.kind, ML_RUN_CRASH);   /* followed into the fork */
	assert_true(ev.pid != ml_run_pid(r));
	assert_int_equal(ev.fault.signo, SIGSEGV);
	assert_int_equal(ev.fault.addr, BAD_ADDR);
	assert_ended(r, false, 5);            /* its child died of it: 5 */
}

static void test_sigterm(void **s)
{
	struct ml_run *r = start("sigterm", 0);

	(void)s;
	assert_ended(r, true, SIGTERM);       /* not a crash signal: no event */
}

static void test_exit_stop(void **s)
{
	struct ml_run *r = start("exit7", ML_RUN_EXIT_STOP);
	struct ml_run_event ev = next(r);

	(void)s;
	assert_int_equal(ev.kind, ML_RUN_EXITING);
	assert_int_equal(ev.tid, ml_run_pid(r));
	assert_int_equal(kill(ev.tid, 0), 0);      /* still there, stopped */
	assert_ended(r, false, 7);
}

static void test_exec_fails(void **s)
{
	char *argv[] = { "/nonexistent/memlayout-no-such-command", NULL };
	struct ml_run *r;
	struct ml_run_event ev;

	(void)s;
	alarm(30);
	assert_int_equal(ml_run_start(argv, 0, &r, NULL), 0);
	assert_int_equal(ml_run_next(r, &ev), 0);
	assert_int_equal(ev.kind, ML_RUN_EXITED);
	assert_int_equal(ev.exec_errno, ENOENT);
	ml_run_free(r);
	alarm(0);
}

static void test_bad_args(void **s)
{
	char *none[] = { NULL };
	struct ml_run *r;
	struct ml_run_event ev;

	(void)s;
	assert_int_equal(ml_run_start(none, 0, &r, NULL), -EINVAL);
	assert_int_equal(ml_run_next(NULL, &ev), -EINVAL);
	assert_int_equal(ml_run_crash(NULL, &ev, 1, NULL), -EINVAL);
	ml_run_free(NULL);
	ml_run_crash_free(NULL);
}

/* Can we trace a child at all here? */
static bool can_trace(void)
{
	char *argv[] = { self, "exit7", NULL };
	struct ml_run *r;
	struct ml_run_event ev;
	int e = ml_run_start(argv, 0, &r, NULL);

	if (e < 0) {
		printf("SKIP: the tracer cannot start here: %s\n", strerror(-e));
		return false;
	}
	while (ml_run_next(r, &ev) == 0 && ev.kind != ML_RUN_EXITED)
		;
	ml_run_free(r);
	return true;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segv),
		cmocka_unit_test(test_thread_segv),
		cmocka_unit_test(test_handled),
		cmocka_unit_test(test_fork_segv),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_exit_stop),
		cmocka_unit_test(test_exec_fails),
		cmocka_unit_test(test_bad_args),
	};
	ssize_t n;

	if (argc == 2)
		return child_main(argv[1]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 99;
	self[n] = 0;
	if (!can_trace())
		return 77;
	/* The traced program is this executable: in a sanitizer build its
	 * faults must reach the kernel's default action, as a plain
	 * program's do (not ASan's SEGV handler), and LeakSanitizer, which
	 * cannot run under a tracer, must stay off in it.  The options are
	 * read at the child's start; this process parsed its own already. */
	setenv("ASAN_OPTIONS", "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
	       "handle_abort=0:detect_leaks=0:disable_coredump=0", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
