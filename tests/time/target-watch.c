/* SPDX-License-Identifier: MIT */
/*
 * target-watch.c - test target of `memlayout watch`: changes its address
 * space one step per command read from stdin, so a test can check that
 * each change is reported.  Commands (one per line):
 *   brk N      sbrk(N) bytes; prints brk=0x<new break>
 *   map N      mmap N bytes anonymous rw, touches them; prints map=0x<addr>
 *              (madvise(MADV_DONTFORK) makes its flags differ from any
 *              neighbour's, so the kernel keeps it a mapping of its own)
 *   protect    mprotect the first page of that mapping read-only
 *   unmap      munmap the whole mapping
 *   thread     start a thread that blocks in read(2); prints thread_tid=<tid>
 *   dlopen P   dlopen the library at path P (RTLD_NOW)
 *   dlclose    dlclose it (it is unmapped: nothing else holds it)
 *   quit       exit 0 (EOF too)
 * Prints "ready=0x1" at start and "done=0x1" after each command, flushed.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *map;
static size_t map_len;
static int block_pipe[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;
static pid_t thread_tid;

static void *blocker(void *arg)
{
	char c;

	(void)arg;
	pthread_mutex_lock(&lock);
	thread_tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_signal(&started);
	pthread_mutex_unlock(&lock);
	return read(block_pipe[0], &c, 1) < 0 ? NULL : NULL;
}

static void *lib;

static int command(const char *cmd, const char *arg)
{
	unsigned long n = strtoul(arg, NULL, 10);

	if (!strcmp(cmd, "dlopen")) {
		return (lib = dlopen(arg, RTLD_NOW)) ? 0 : -1;
	} else if (!strcmp(cmd, "dlclose")) {
		return lib && dlclose(lib) == 0 ? 0 : -1;
	} else if (!strcmp(cmd, "brk")) {
		if (sbrk((intptr_t)n) == (void *)-1)
			return -1;
		printf("brk=0x%" PRIxPTR "\n", (uintptr_t)sbrk(0));
	} else if (!strcmp(cmd, "map")) {
		map = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED)
			return -1;
		map_len = n;
		if (madvise(map, n, MADV_DONTFORK) < 0)
			return -1;
		memset(map, 1, n);
		printf("map=0x%" PRIxPTR "\n", (uintptr_t)map);
	} else if (!strcmp(cmd, "protect")) {
		return mprotect(map, (size_t)sysconf(_SC_PAGESIZE), PROT_READ);
	} else if (!strcmp(cmd, "unmap")) {
		return munmap(map, map_len);
	} else if (!strcmp(cmd, "thread")) {
		pthread_t t;
		pthread_mutex_lock(&lock);
		if (pthread_create(&t, NULL, blocker, NULL))
			return -1;
		while (!thread_tid)
			pthread_cond_wait(&started, &lock);
		pthread_mutex_unlock(&lock);
		printf("thread_tid=%d\n", (int)thread_tid);
	} else if (!strcmp(cmd, "quit")) {
		exit(0);
	} else {
		return -1;
	}
	return 0;
}

int main(void)
{
	char line[4200], cmd[32], arg[4096];

	if (pipe(block_pipe) < 0)
		return 1;
	printf("ready=0x1\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		arg[0] = '\0';
		if (sscanf(line, "%31s %4095s", cmd, arg) < 1 || command(cmd, arg) < 0) {
			fprintf(stderr, "target-watch: %s failed\n", line);
			return 1;
		}
		printf("done=0x1\n");
		fflush(stdout);
	}
	return 0;
}
