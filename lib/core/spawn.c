/* SPDX-License-Identifier: MIT */
/*
 * spawn.c - start a command in a child process: the one fork-and-exec of
 * memlayout (trace.c's traced child, run's seized one, watch's plain one).
 *
 * Protocol: fork; the child optionally waits for a byte on a "go" pipe
 * (ML_SPAWN_HOLD: the parent seizes it first) or asks to be traced and
 * stops itself (ML_SPAWN_TRACEME: PTRACE_TRACEME, raise(SIGSTOP)), then
 * execvp()s.  An exec failure is sent as the child's errno through a
 * close-on-exec, non-blocking pipe (EOF = the exec happened), and the
 * child _exit(127)s.  execvp's EACCES for a bare name that no searchable
 * PATH directory holds is sent as ENOENT, as the shell says.
 *
 * Ownership: the descriptors in struct ml_spawn are the caller's until
 * ml_spawn_close(); the child is the caller's to wait for (waitpid).
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

/* Whether a file called name (no '/') exists in a directory of PATH that
 * we can search (execvp's search; its default PATH when unset). */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t len = strlen(name);
	char buf[4096];

	for (p = path ? path : "/bin:/usr/bin"; ; p = end + 1) {
		size_t dlen;

		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		if (dlen + len + 2 <= sizeof(buf)) {
			memcpy(buf, dlen ? p : ".", dlen ? dlen : 1);
			dlen = dlen ? dlen : 1;
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, name, len + 1);
			if (faccessat(AT_FDCWD, buf, F_OK, AT_EACCESS) == 0)
				return true;
		}
		if (*end == '\0')
			return false;
	}
}

static _Noreturn void child(char *const argv[], unsigned int flags, int go_fd, int err_fd)
{
	char c;
	int e;

	/* Wait until the parent has seized us; EOF means it gave up. */
	if ((flags & ML_SPAWN_HOLD) && read(go_fd, &c, 1) != 1)
		_exit(127);
	if (!(flags & ML_SPAWN_TRACEME) || ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0) {
		if (flags & ML_SPAWN_TRACEME)
			raise(SIGSTOP);
		execvp(argv[0], argv);
		if (errno == EACCES && !strchr(argv[0], '/') && !on_path(argv[0]))
			errno = ENOENT;
	}
	e = errno;
	(void)!write(err_fd, &e, sizeof(e));
	_exit(127);
}

int ml_spawn_start(char *const argv[], unsigned int flags, struct ml_spawn *ret)
{
	int go[2] = { -1, -1 }, err[2];
	pid_t pid;
	int r;

	if (!argv || !argv[0] || !ret || (flags & ~(ML_SPAWN_HOLD | ML_SPAWN_TRACEME)))
		return -EINVAL;
	if (pipe2(err, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	if ((flags & ML_SPAWN_HOLD) && pipe2(go, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0) {
		close(err[0]);
		if (go[1] >= 0)
			close(go[1]);
		child(argv, flags, go[0], err[1]);
	}
	close(err[1]);
	if (go[0] >= 0)
		close(go[0]);
	*ret = (struct ml_spawn){ .pid = pid, .go_fd = go[1], .err_fd = err[0] };
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close(err[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	return r;
}

int ml_spawn_release(struct ml_spawn *s)
{
	int r = 0;

	if (!s || s->go_fd < 0)
		return -EINVAL;
	if (write(s->go_fd, "g", 1) != 1)
		r = -errno;
	close(s->go_fd);
	s->go_fd = -1;
	return r;
}

/* What the child sent: -errno of its failed exec, 0 at EOF (the exec
 * happened), -EAGAIN when it has not said yet. */
static int read_error(int fd)
{
	int e;
	ssize_t n = read(fd, &e, sizeof(e));

	if (n == (ssize_t)sizeof(e))
		return e > 0 ? -e : -EIO;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	return 0;
}

int ml_spawn_exec_error(const struct ml_spawn *s)
{
	int r = read_error(s->err_fd);

	return r == -EAGAIN ? 0 : r;
}

int ml_spawn_wait_exec(const struct ml_spawn *s)
{
	struct pollfd p = { .fd = s->err_fd, .events = POLLIN };
	int r;

	do {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	} while ((r = read_error(s->err_fd)) == -EAGAIN);
	return r;
}

void ml_spawn_close(struct ml_spawn *s)
{
	if (!s)
		return;
	if (s->go_fd >= 0)
		close(s->go_fd);
	if (s->err_fd >= 0)
		close(s->err_fd);
	s->go_fd = s->err_fd = -1;
}
