/* SPDX-License-Identifier: MIT */
/*
 * test-trace.c - running a command under ptrace: it stops where asked, the
 * stopped child is a live process, and finishing it (killing or letting it
 * run) always ends it, from either stop point; a command not found is
 * -ENOENT, also with an unsearchable directory in PATH, and one found but
 * not executable -EACCES (as a user: root drops to uid 65534 for these).
 * An alarm turns a hang into a failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
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

/* ml_trace_start(name) with PATH set to path, in a child process that is
 * not root (root drops to uid/gid 65534, which may not search our mode-0700
 * directories): its result, as a positive errno (0: the exec happened). */
static int start_with_path(const char *name, const char *path)
{
	pid_t pid;
	int st;

	alarm(20);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { (char *)name, NULL };
		struct ml_traced *t;
		int r;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
				       setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		if (setenv("PATH", path, 1) < 0)
			_exit(101);
		r = ml_trace_start(argv, ML_STOP_AT_EXIT, &t, NULL);
		if (r == 0)
			ml_trace_finish(t, true);
		_exit(-r);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* A private directory holding locked/ (mode 0: no one but root searches
 * it) and bin/ with a file "memlayout-test-noexec" that has no x bit. */
static char tmpdir[] = "/tmp/ml-trace-XXXXXX";
static char locked[64], bin[64], noexec[96];

static int dirs_setup(void **s)
{
	int fd;

	(void)s;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(locked, sizeof(locked), "%s/locked", tmpdir);
	snprintf(bin, sizeof(bin), "%s/bin", tmpdir);
	snprintf(noexec, sizeof(noexec), "%s/memlayout-test-noexec", bin);
	if (mkdir(locked, 0) < 0 || mkdir(bin, 0755) < 0 ||
	    chmod(tmpdir, 0755) < 0)
		return -1;
	fd = open(noexec, O_CREAT | O_WRONLY | O_EXCL, 0644);
	return fd < 0 ? -1 : close(fd);
}

static int dirs_teardown(void **s)
{
	(void)s;
	unlink(noexec);
	rmdir(bin);
	rmdir(locked);
	return rmdir(tmpdir);
}

/* A command in no directory of PATH is "no such file" even when PATH holds
 * a directory the user may not search (root's PATH kept by su): the shell
 * says "command not found" there, not "permission denied". */
static void test_missing_unsearchable(void **s)
{
	char path[256];

	(void)s;
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", locked);
	assert_int_equal(start_with_path("memlayout-no-such-command", path),
			 ENOENT);
}

/* A file of that name that may not be executed is "permission denied". */
static void test_not_executable(void **s)
{
	char path[256];

	(void)s;
	snprintf(path, sizeof(path), "%s:%s:/usr/bin:/bin", locked, bin);
	assert_int_equal(start_with_path("memlayout-test-noexec", path), EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_kill),
		cmocka_unit_test(test_start_run),
		cmocka_unit_test(test_exit_kill),
		cmocka_unit_test(test_exit_run),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_missing_unsearchable),
		cmocka_unit_test(test_not_executable),
	};
	return cmocka_run_group_tests(tests, dirs_setup, dirs_teardown);
}
