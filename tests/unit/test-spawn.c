/* SPDX-License-Identifier: MIT */
/*
 * test-spawn.c - spawn.c's child on pipes and its one walk of PATH: a
 * child's stdin and stdout as pipes (ML_SPAWN_PIPE_IN, ML_SPAWN_PIPE_OUT,
 * demo's), its stdout sent to our stderr (ML_SPAWN_OUT_TO_ERR,
 * explain's coredumpctl), and ml_path_find (run's set-ID note, the
 * child's "not found") against real files in a temporary PATH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memlayout.h"

/* Everything fd gives until EOF, into buf (NUL-ended). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t k;

	while (n + 1 < len && (k = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
}

static int wait_status(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* cat with both ends on pipes: what we write comes back; no go or other
 * descriptor is left open for a spawn without them. */
static void test_pipes(void **state)
{
	char *argv[] = { "cat", NULL }, buf[64];
	struct ml_spawn sp;

	(void)state;
	assert_int_equal(ml_spawn_start(argv, ML_SPAWN_PIPE_IN | ML_SPAWN_PIPE_OUT, &sp), 0);
	assert_int_equal(ml_spawn_wait_exec(&sp), 0);
	assert_true(sp.in_fd >= 0 && sp.out_fd >= 0);
	assert_int_equal(sp.go_fd, -1);
	assert_int_equal(write(sp.in_fd, "ready\n", 6), 6);
	close(sp.in_fd);
	sp.in_fd = -1;
	read_all(sp.out_fd, buf, sizeof(buf));
	assert_string_equal(buf, "ready\n");
	ml_spawn_close(&sp);
	assert_int_equal(sp.in_fd, -1);
	assert_int_equal(sp.out_fd, -1);
	assert_int_equal(wait_status(sp.pid), 0);
}

/* Without the pipe flags the descriptors are -1. */
static void test_no_pipes(void **state)
{
	char *argv[] = { "true", NULL };
	struct ml_spawn sp;

	(void)state;
	assert_int_equal(ml_spawn_start(argv, 0, &sp), 0);
	assert_int_equal(sp.in_fd, -1);
	assert_int_equal(sp.out_fd, -1);
	assert_int_equal(ml_spawn_wait_exec(&sp), 0);
	ml_spawn_close(&sp);
	assert_int_equal(wait_status(sp.pid), 0);
	assert_int_equal(ml_spawn_start(argv, 1u << 12, &sp), -EINVAL);
}

/* ML_SPAWN_OUT_TO_ERR: the child's stdout is our stderr (a pipe here),
 * ours untouched. */
static void test_out_to_err(void **state)
{
	char *argv[] = { "sh", "-c", "echo to-stdout; echo to-stderr >&2", NULL }, buf[64];
	struct ml_spawn sp;
	int p[2], saved = dup(STDERR_FILENO);

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	assert_int_equal(ml_spawn_start(argv, ML_SPAWN_OUT_TO_ERR, &sp), 0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(ml_spawn_wait_exec(&sp), 0);
	ml_spawn_close(&sp);
	assert_int_equal(wait_status(sp.pid), 0);
	read_all(p[0], buf, sizeof(buf));
	close(p[0]);
	assert_string_equal(buf, "to-stdout\nto-stderr\n");
}

/* A file of mode in dir. */
static void make(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_path_find(void **state)
{
	char tmpl[] = "/tmp/ml-spawn-XXXXXX", *dir = mkdtemp(tmpl), path[256], want[PATH_MAX];
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	(void)state;
	assert_non_null(dir);
	make(dir, "ml-pf-exec", 0755);
	make(dir, "ml-pf-plain", 0644);
	snprintf(path, sizeof(path), "/nonexistent-ml::%s", dir);
	setenv("PATH", path, 1);
	/* The first directory that has it, by the mode asked. */
	assert_int_equal(ml_path_find("ml-pf-exec", X_OK, want, sizeof(want)), 0);
	snprintf(path, sizeof(path), "%s/ml-pf-exec", dir);
	assert_string_equal(want, path);
	assert_int_equal(ml_path_find("ml-pf-plain", X_OK, want, sizeof(want)), -ENOENT);
	assert_int_equal(ml_path_find("ml-pf-plain", F_OK, want, sizeof(want)), 0);
	assert_int_equal(ml_path_find("ml-pf-none", F_OK, want, sizeof(want)), -ENOENT);
	/* An empty entry is the current directory. */
	assert_int_equal(chdir(dir), 0);
	setenv("PATH", "/nonexistent-ml:", 1);
	assert_int_equal(ml_path_find("ml-pf-exec", X_OK, want, sizeof(want)), 0);
	assert_string_equal(want, "./ml-pf-exec");
	/* A name with a '/' is itself; a buffer too small finds nothing. */
	assert_int_equal(ml_path_find("./ml-pf-plain", X_OK, want, sizeof(want)), -ENOENT);
	assert_int_equal(ml_path_find("./ml-pf-plain", R_OK, want, sizeof(want)), 0);
	assert_string_equal(want, "./ml-pf-plain");
	assert_int_equal(ml_path_find("./ml-pf-plain", R_OK, want, 4), -ENAMETOOLONG);
	setenv("PATH", dir, 1);
	assert_int_equal(ml_path_find("ml-pf-exec", X_OK, want, strlen(dir) + 4), -ENOENT);
	/* No PATH: execvp's default. */
	unsetenv("PATH");
	assert_int_equal(ml_path_find("sh", X_OK, want, sizeof(want)), 0);
	assert_true(!strcmp(want, "/bin/sh") || !strcmp(want, "/usr/bin/sh"));
	if (old)
		setenv("PATH", old, 1);
	free(old);
	assert_int_equal(chdir("/"), 0);
	snprintf(path, sizeof(path), "%s/ml-pf-exec", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ml-pf-plain", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_no_pipes),
		cmocka_unit_test(test_out_to_err),
		cmocka_unit_test(test_path_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
