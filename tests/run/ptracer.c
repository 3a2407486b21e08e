/* SPDX-License-Identifier: MIT */
/*
 * ptracer.c - a program that traces, as strace, gdb and LeakSanitizer do,
 * for `memlayout run`'s note on them: `ptracer MODE`.  Each mode prints
 * what its ptrace(2) calls returned ("TRACEME: EPERM") on stdout, so the
 * test sees the calls ran and failed as they would under any tracer, and
 * exits with a status of its own (the test checks it is passed through).
 *
 *   traceme   ptrace(PTRACE_TRACEME), twice            exit 3
 *   attach    fork a child, PTRACE_ATTACH it, kill it  exit 4
 *   seize     the same with PTRACE_SEIZE               exit 4
 *   thread    a second thread calls PTRACE_TRACEME     exit 5
 *   forked    parent and child both call PTRACE_TRACEME exit 6
 *   none      no ptrace(2) at all                      exit 7
 *   own-filter  its own seccomp filter: SECCOMP_RET_TRACE for getppid(2),
 *             which then fails with ENOSYS (no tracer of its own)  exit 8
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err_name(long r)
{
	if (r == 0)
		return "ok";
	return errno == EPERM ? "EPERM" : errno == ESRCH ? "ESRCH" :
	       errno == ENOSYS ? "ENOSYS" : strerror(errno);
}

static void traceme(void)
{
	long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);

	printf("TRACEME: %s\n", err_name(r));
	fflush(stdout);
}

static int attach(int request, const char *name)
{
	pid_t child = fork();
	long r;

	if (child == 0) {
		pause();
		_exit(0);
	}
	r = ptrace(request, child, NULL, NULL);
	printf("%s: %s\n", name, err_name(r));
	fflush(stdout);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 4;
}

/* A filter of its own that sends getppid(2) to a tracer (its number in
 * this program's ABI; any other ABI is allowed), then the call. */
static int own_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	long r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		printf("seccomp: %s\n", strerror(errno));
		return 1;
	}
	r = syscall(SYS_getppid);
	printf("getppid: %s\n", r > 0 ? "ran" : err_name(r));
	return 8;
}

static void *thread_main(void *arg)
{
	(void)arg;
	traceme();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t t;
	pid_t child;

	if (!strcmp(mode, "traceme")) {
		traceme();
		traceme();
		return 3;
	}
	if (!strcmp(mode, "attach"))
		return attach(PTRACE_ATTACH, "ATTACH");
	if (!strcmp(mode, "seize"))
		return attach(PTRACE_SEIZE, "SEIZE");
	if (!strcmp(mode, "thread")) {
		if (pthread_create(&t, NULL, thread_main, NULL) != 0)
			return 1;
		pthread_join(t, NULL);
		return 5;
	}
	if (!strcmp(mode, "forked")) {
		if ((child = fork()) == 0) {
			traceme();
			_exit(0);
		}
		waitpid(child, NULL, 0);
		traceme();
		return 6;
	}
	if (!strcmp(mode, "none"))
		return 7;
	if (!strcmp(mode, "own-filter"))
		return own_filter();
	fputs("usage: ptracer traceme|attach|seize|thread|forked|none|own-filter\n", stderr);
	return 2;
}
