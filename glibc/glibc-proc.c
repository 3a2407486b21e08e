/* SPDX-License-Identifier: MIT */
/*
 * glibc-proc.c - a live process for the glibc heap reader: its memory by
 * process_vm_readv, and every thread stopped for a consistent read
 * (PTRACE_SEIZE, then PTRACE_INTERRUPT, each waited for with __WALL), the
 * task list read again until it shows no thread not yet seized (a thread
 * created meanwhile), all within ML_GLIBC_STOP_MS.  Every failure path
 * detaches what it seized; PTRACE_SEIZE'd threads are also detached by the
 * kernel if memlayout dies, and an interrupt leaves no pending group stop,
 * so the process is never left stopped.
 */

#include "glibc-heap.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 65536u

int ml_glibc_pid_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct ml_glibc_pid *p = ctx;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return errno == ESRCH || errno == EPERM ? -errno : -EFAULT;
	return (size_t)n == len ? 0 : -EFAULT;
}

void ml_glibc_pid_done(struct ml_glibc_pid *p)
{
	(void)p;
}

struct ml_glibc_stopped {
	pid_t *tids;
	size_t n, cap;
};

static bool have(const struct ml_glibc_stopped *s, pid_t t)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->tids[i] == t)
			return true;
	return false;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Wait for tid's interrupt stop; other stops it reports first (a signal
 * arriving) are resumed with their signal, the next wait gets the stop. */
static int wait_stop(pid_t tid, const struct timespec *t0)
{
	for (;;) {
		int st;
		pid_t w = waitpid(tid, &st, __WALL | WNOHANG);
		if (w < 0)
			return -errno == -ECHILD ? -ESRCH : -errno;
		if (w == tid) {
			if (WIFEXITED(st) || WIFSIGNALED(st))
				return -ESRCH;
			if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
				return 0;
			if (WIFSTOPPED(st))   /* a signal-delivery stop: deliver it, wait again */
				ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st));
			continue;
		}
		if (ms_since(t0) > ML_GLIBC_STOP_MS)
			return -ETIME;
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
}

static int seize(struct ml_glibc_stopped *s, pid_t tid, const struct timespec *t0)
{
	int r;

	if (s->n == s->cap) {
		size_t n = s->cap ? s->cap * 2 : 16;
		void *p = n <= MAX_THREADS ? realloc(s->tids, n * sizeof(*s->tids)) : NULL;
		if (!p)
			return -ENOMEM;
		s->tids = p;
		s->cap = n;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0)
		return errno == ESRCH ? 0 : -errno;   /* a thread that just exited */
	s->tids[s->n++] = tid;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return errno == ESRCH ? 0 : -errno;
	r = wait_stop(tid, t0);
	return r == -ESRCH ? 0 : r;
}

/* One pass over task/: threads not seized yet are seized; *ret_new counts them. */
static int pass(struct ml_glibc_stopped *s, pid_t pid, const struct timespec *t0, size_t *ret_new)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return errno == ENOENT ? -ESRCH : -errno;
	*ret_new = 0;
	while (!r && (e = readdir(d))) {
		pid_t t = (pid_t)strtol(e->d_name, NULL, 10);
		if (t <= 0 || have(s, t))
			continue;
		if (!(r = seize(s, t, t0)))
			(*ret_new)++;
	}
	closedir(d);
	return r;
}

int ml_glibc_stop_all(pid_t pid, struct ml_glibc_stopped **ret)
{
	struct ml_glibc_stopped *s = calloc(1, sizeof(*s));
	struct timespec t0;
	size_t fresh = 1;
	int r = 0;

	if (!s)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!r && fresh) {
		r = pass(s, pid, &t0, &fresh);
		if (!r && fresh && ms_since(&t0) > ML_GLIBC_STOP_MS)
			r = -ETIME;
	}
	if (!r && !s->n)
		r = -ESRCH;
	if (r) {
		ml_glibc_stop_release(s);
		return r;
	}
	*ret = s;
	return 0;
}

void ml_glibc_stop_release(struct ml_glibc_stopped *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		ptrace(PTRACE_DETACH, s->tids[i], NULL, NULL);
	free(s->tids);
	free(s);
}
