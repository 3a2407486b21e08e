/* SPDX-License-Identifier: MIT */
/*
 * spawn.c - start a command in a child process: the one fork-and-exec of
 * memlayout (trace.c's traced child, run's seized one, watch's plain one).
 *
 * Protocol: fork; the child optionally waits for a byte on a "go" pipe
 * (ML_SPAWN_HOLD: the parent seizes it first) or asks to be traced and
 * stops itself (ML_SPAWN_TRACEME: PTRACE_TRACEME, raise(SIGSTOP)),
 * optionally installs a seccomp filter that sends its ptrace(2) calls to
 * its tracer (ML_SPAWN_WATCH_PTRACE, below), takes a pipe as its stdin or
 * stdout (ML_SPAWN_PIPE_IN, ML_SPAWN_PIPE_OUT) or our stderr as its stdout
 * (ML_SPAWN_OUT_TO_ERR), then execvp()s.  An exec failure is sent as the child's errno through a
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
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- ML_SPAWN_WATCH_PTRACE: ptrace(2) calls shown to the tracer ----
 *
 * A classic BPF seccomp filter: SECCOMP_RET_TRACE for ptrace(2) in each
 * ABI this host runs (x86-64: 64-bit, x32, i386), and for a clone(2) with
 * CLONE_UNTRACED (a thread its tracer would not follow: LeakSanitizer's
 * tracer thread); SECCOMP_RET_ALLOW for every other call.  The data of
 * each RET_TRACE says which (ML__SECCOMP_*).  The filter runs in the
 * kernel at each system call (a few BPF instructions, no stop; the kernel's
 * seccomp path costs a few tens of ns a call whatever the filter); only
 * those calls stop the caller at PTRACE_EVENT_SECCOMP when its tracer asked
 * for PTRACE_O_TRACESECCOMP.  Without such a tracer (a process detached at
 * the end) the kernel fails them with ENOSYS instead.  Filters are
 * inherited by forks and kept across exec; they cannot be removed.
 */
struct traced_call {
	uint32_t arch;          /* seccomp_data.arch: AUDIT_ARCH_* */
	uint32_t nr;            /* the call's number in that ABI */
	uint32_t arg0_mask;     /* 0: always; else only if args[0] has a bit of it */
	uint16_t data;          /* SECCOMP_RET_DATA: ML__SECCOMP_* */
};

#define UNTRACED 0x00800000u   /* CLONE_UNTRACED */

static const struct traced_call traced_calls[] = {
#if defined(__x86_64__)
	{ AUDIT_ARCH_X86_64, 101, 0, ML__SECCOMP_PTRACE },
	{ AUDIT_ARCH_X86_64, 0x40000000u + 521, 0, ML__SECCOMP_PTRACE },  /* x32 */
	{ AUDIT_ARCH_I386, 26, 0, ML__SECCOMP_PTRACE },
	{ AUDIT_ARCH_X86_64, 56, UNTRACED, ML__SECCOMP_CLONE_UNTRACED },
	{ AUDIT_ARCH_X86_64, 0x40000000u + 56, UNTRACED, ML__SECCOMP_CLONE_UNTRACED },
	{ AUDIT_ARCH_I386, 120, UNTRACED, ML__SECCOMP_CLONE_UNTRACED },
#elif defined(__i386__)
	{ AUDIT_ARCH_I386, 26, 0, ML__SECCOMP_PTRACE },
#elif defined(__aarch64__)
	{ AUDIT_ARCH_AARCH64, 117, 0, ML__SECCOMP_PTRACE },
	{ AUDIT_ARCH_ARM, 26, 0, ML__SECCOMP_PTRACE },
#endif
};

#define CALL_INSNS 7   /* at most, per call: arch, nr, args[0] tested; trace */

/* The filter's instructions for call c at f; returns their count. */
static size_t filter_call(const struct traced_call *c, struct sock_filter *f)
{
	size_t n = 0;
	unsigned char mask = c->arg0_mask ? 2 : 0;   /* the args[0] test's two */

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->arch, 0, 3 + mask);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->nr, 0, 1 + mask);
	if (mask) {   /* the low word of args[0] (little-endian) */
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[0]));
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
						      c->arg0_mask, 0, 1);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | c->data);
	return n;
}

bool ml__seccomp_ours(uint32_t arch, uint64_t nr, uint16_t data)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(traced_calls); i++)
		if (traced_calls[i].arch == arch && traced_calls[i].nr == nr &&
		    traced_calls[i].data == data)
			return true;
	return false;
}

/* Install the filter; false if this host has no table or the kernel
 * refused (then the program runs without it).  Tried first without
 * no_new_privs (allowed with CAP_SYS_ADMIN: root keeps set-ID programs'
 * privileges under ptrace, as it would), else with it: for anyone else
 * ptrace already runs a set-ID program without its privileges.
 * SECCOMP_FILTER_FLAG_SPEC_ALLOW: the program's speculation mitigations
 * stay as they were (a filter would turn on SSBD). */
static bool watch_ptrace(void)
{
	struct sock_filter f[ML_ARRAY_SIZE(traced_calls) * CALL_INSNS + 1];
	struct sock_fprog prog = { 0, f };
	size_t n = 0;

	if (ML_ARRAY_SIZE(traced_calls) == 0)
		return false;
	for (size_t i = 0; i < ML_ARRAY_SIZE(traced_calls); i++)
		n += filter_call(&traced_calls[i], f + n);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW,
		    &prog) == 0)
		return true;
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return false;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW,
		       &prog) == 0;
}

int ml_path_find(const char *name, int mode, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t nlen = strlen(name);

	if (!len)
		return -EINVAL;
	if (strchr(name, '/')) {
		if (nlen >= len)
			return -ENAMETOOLONG;
		memcpy(buf, name, nlen + 1);
		return faccessat(AT_FDCWD, buf, mode, AT_EACCESS) == 0 ? 0 : -ENOENT;
	}
	/* memcpy, not snprintf: the child of a fork calls this before exec. */
	for (p = path ? path : "/bin:/usr/bin"; ; p = end + 1) {
		size_t dlen;

		end = strchrnul(p, ':');
		dlen = end > p ? (size_t)(end - p) : 1;   /* "" is the current directory */
		if (dlen + nlen + 2 <= len) {
			memcpy(buf, end > p ? p : ".", dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, name, nlen + 1);
			if (faccessat(AT_FDCWD, buf, mode, AT_EACCESS) == 0)
				return 0;
		}
		if (*end == '\0')
			return -ENOENT;
	}
}

/* The pipes of a spawn: the exec's error, go (ML_SPAWN_HOLD), the child's
 * stdin and its stdout; [i][0] reads, [i][1] writes. */
enum { P_ERR, P_GO, P_IN, P_OUT, NPIPES };
#define SPAWN_FLAGS (ML_SPAWN_HOLD | ML_SPAWN_TRACEME | ML_SPAWN_WATCH_PTRACE | \
		     ML_SPAWN_PIPE_IN | ML_SPAWN_PIPE_OUT | ML_SPAWN_OUT_TO_ERR)
static const unsigned int pipe_flag[NPIPES] = { 0, ML_SPAWN_HOLD, ML_SPAWN_PIPE_IN, ML_SPAWN_PIPE_OUT };
/* Which end of each pipe the child keeps: it writes the error, reads go
 * and stdin, writes stdout. */
static const int child_end[NPIPES] = { 1, 0, 0, 1 };

static _Noreturn void child(char *const argv[], unsigned int flags, int p[NPIPES][2])
{
	char c, buf[4096];
	int e;

	for (int i = 0; i < NPIPES; i++)
		if (p[i][!child_end[i]] >= 0)
			close(p[i][!child_end[i]]);
	/* Wait until the parent has seized us; EOF means it gave up. */
	if ((flags & ML_SPAWN_HOLD) && read(p[P_GO][0], &c, 1) != 1)
		_exit(127);
	if (((flags & ML_SPAWN_PIPE_IN) && dup2(p[P_IN][0], STDIN_FILENO) < 0) ||
	    ((flags & ML_SPAWN_PIPE_OUT) && dup2(p[P_OUT][1], STDOUT_FILENO) < 0) ||
	    ((flags & ML_SPAWN_OUT_TO_ERR) && dup2(STDERR_FILENO, STDOUT_FILENO) < 0))
		goto fail;
	if (flags & ML_SPAWN_WATCH_PTRACE)
		(void)watch_ptrace();   /* without it, the program runs all the same */
	if (!(flags & ML_SPAWN_TRACEME) || ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0) {
		if (flags & ML_SPAWN_TRACEME)
			raise(SIGSTOP);
		execvp(argv[0], argv);
		if (errno == EACCES && !strchr(argv[0], '/') &&
		    ml_path_find(argv[0], F_OK, buf, sizeof(buf)) < 0)
			errno = ENOENT;
	}
fail:
	e = errno;
	(void)!write(p[P_ERR][1], &e, sizeof(e));
	_exit(127);
}

int ml_spawn_start(char *const argv[], unsigned int flags, struct ml_spawn *ret)
{
	int p[NPIPES][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	pid_t pid = -1;
	int r = 0;

	if (!argv || !argv[0] || !ret || (flags & ~SPAWN_FLAGS))
		return -EINVAL;
	for (int i = 0; i < NPIPES && r == 0; i++)
		if ((i == P_ERR || (flags & pipe_flag[i])) &&
		    pipe2(p[i], O_CLOEXEC | (i == P_ERR ? O_NONBLOCK : 0)) < 0)
			r = -errno;
	if (r == 0 && (pid = fork()) < 0)
		r = -errno;
	if (pid == 0)
		child(argv, flags, p);
	/* Ours are the other ends; on failure, every end. */
	for (int i = 0; i < NPIPES; i++)
		for (int k = 0; k < 2; k++)
			if (p[i][k] >= 0 && (r < 0 || k == child_end[i]))
				close(p[i][k]);
	if (r < 0)
		return r;
	*ret = (struct ml_spawn){ .pid = pid, .go_fd = p[P_GO][1], .err_fd = p[P_ERR][0],
				  .in_fd = p[P_IN][1], .out_fd = p[P_OUT][0] };
	return 0;
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
	if (s->in_fd >= 0)
		close(s->in_fd);
	if (s->out_fd >= 0)
		close(s->out_fd);
	s->go_fd = s->err_fd = s->in_fd = s->out_fd = -1;
}
