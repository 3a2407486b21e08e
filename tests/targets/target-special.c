/* SPDX-License-Identifier: MIT */
/*
 * target-special.c - end-to-end test target: the special mappings the
 * kernel makes for a process, each where this kernel and these privileges
 * allow (0 where not):
 *   uring  io_uring's submission/completion ring (anon_inode:[io_uring])
 *   perf   a perf event's ring buffer (anon_inode:[perf_event]), a
 *          software clock event on this process
 *   memfd  a shared memfd mapping (/memfd:NAME), memfd_priv a private one
 *   sysv   a SysV shared memory segment (/SYSV...), removed at once so
 *          it goes with the process
 *   huge   a MAP_HUGETLB mapping (/anon_hugepage), if huge pages are
 *          reserved
 *   chunk  a malloc(4 MiB) block: glibc's mmap'ed chunk
 * Argument "alloc": also 64 MiB in 64 KiB blocks (allocators preloaded by
 * the test lay them out in their own mappings), first at "block".
 * Prints name=0x<hex> facts and "ready=0x1", blocks reading stdin, exits 0
 * at EOF.
 */

#include <inttypes.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fact(const char *name, const void *p)
{
	printf("%s=0x%" PRIxPTR "\n", name, p == MAP_FAILED ? (uintptr_t)0 : (uintptr_t)p);
}

static void *uring(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		return MAP_FAILED;
	return mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(uint32_t),
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
}

static void *perf(long page)
{
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(__NR_perf_event_open, &a, 0, -1, -1, 0);
	if (fd < 0)
		return MAP_FAILED;
	return mmap(NULL, 3 * (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

static void *memfd(long page, int flags)
{
	int fd = memfd_create("target special", 0);

	if (fd < 0 || ftruncate(fd, 4 * page) < 0)
		return MAP_FAILED;
	return mmap(NULL, 4 * (size_t)page, PROT_READ | PROT_WRITE, flags, fd, 0);
}

static void *sysv(long page)
{
	int id = shmget(IPC_PRIVATE, 2 * (size_t)page, IPC_CREAT | 0600);
	void *p;

	if (id < 0)
		return MAP_FAILED;
	p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	return p == (void *)-1 ? MAP_FAILED : p;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	char *chunk = malloc(4u << 20), *block = NULL, c;

	if (!chunk)
		return 1;
	memset(chunk, 1, 4u << 20);
	if (argc > 1 && !strcmp(argv[1], "alloc"))
		for (int i = 0; i < 1024; i++) {
			char *b = malloc(64u << 10);
			if (!b)
				return 1;
			memset(b, 2, 64u << 10);
			if (!block)
				block = b;
		}
	fact("uring", uring());
	fact("perf", perf(page));
	fact("memfd", memfd(page, MAP_SHARED));
	fact("memfd_priv", memfd(page, MAP_PRIVATE));
	fact("sysv", sysv(page));
	fact("huge", mmap(NULL, 2u << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0));
	fact("chunk", chunk);
	fact("block", block ? block : MAP_FAILED);
	printf("ready=0x1\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
