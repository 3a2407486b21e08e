/* SPDX-License-Identifier: MIT */
/*
 * target-exec.c - end-to-end test target: a process that keeps exec'ing
 * itself, for the test of a snapshot taken across an exec.
 *
 * Run with no argument, it prints "ready=0x1" and execs itself with the
 * argument "again"; every image then sleeps a couple of milliseconds and
 * execs again, about half the time from a second thread (so that
 * de_thread() has a leader to replace), until stdin reaches EOF; then it
 * exits 0.
 * The PID and the start time in /proc/PID/stat stay the same throughout.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static char *self_argv[3];

static int stdin_closed(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;

	return poll(&p, 1, 0) > 0 && read(0, &c, 1) <= 0;
}

static void *exec_self(void *arg)
{
	(void)arg;
	execv("/proc/self/exe", self_argv);
	_exit(1);
}

int main(int argc, char **argv)
{
	struct timespec now;
	pthread_t th;

	self_argv[0] = argv[0];
	self_argv[1] = "again";
	self_argv[2] = NULL;
	if (argc < 2) {
		puts("ready=0x1");
		fflush(stdout);
	}
	nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	if (stdin_closed())
		return 0;
	/* which thread execs: either, by the clock */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_nsec >> 10 & 1) && pthread_create(&th, NULL, exec_self, NULL) == 0)
		pause();
	exec_self(NULL);
	return 1;
}
