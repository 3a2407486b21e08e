/*
 * test-trace.c - running a command under ptrace: it stops where asked, the
 * stopped child is a live process, and finishing it (killing or letting it
 * run) always ends it, from either stop point.  An alarm turns a hang into
 * a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memlayout.h"

static void run(enum ml_stop_at at, bool kill_it)
{
	char *argv[] = { "true", NULL };
	struct ml_traced *t;
	pid_t pid;
	int st;

	alarm(20);
	assert_int_equal(ml_trace_start(argv, at, &t, NULL), 0);
	pid = ml_traced_pid(t);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);                /* stopped, not gone */
	st = ml_trace_finish(t, kill_it);
	assert_true(st >= 0);
	if (kill_it && at == ML_STOP_AT_START)
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	else if (!kill_it)
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kill(pid, 0), -1);               /* reaped */
	assert_int_equal(errno, ESRCH);
	alarm(0);
}

static void test_start_kill(void **s)  { (void)s; run(ML_STOP_AT_START, true); }
static void test_start_run(void **s)   { (void)s; run(ML_STOP_AT_START, false); }
static void test_exit_kill(void **s)   { (void)s; run(ML_STOP_AT_EXIT, true); }
static void test_exit_run(void **s)    { (void)s; run(ML_STOP_AT_EXIT, false); }

static void test_missing(void **s)
{
	char *argv[] = { "memlayout-no-such-command", NULL };
	struct ml_traced *t;
	(void)s;
	assert_int_equal(ml_trace_start(argv, ML_STOP_AT_EXIT, &t, NULL), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_kill),
		cmocka_unit_test(test_start_run),
		cmocka_unit_test(test_exit_kill),
		cmocka_unit_test(test_exit_run),
		cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
