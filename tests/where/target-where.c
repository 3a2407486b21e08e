/* SPDX-License-Identifier: MIT */
/*
 * target-where.c - the target of the where tests (built with -O0 -g).
 *
 * Prints "name=0x<hex>" facts: a global in .data, an address deep in a
 * 64 KiB .bss array, a const in .rodata, a function (its line is marked
 * LINE:where_func in this file), a local of main, a malloc'ed block, a
 * local of a thread blocked in read() (and its TID), an untouched
 * anonymous page, a hole (the middle of three pages, unmapped), an
 * address in a 2 MiB-aligned, touched MADV_HUGEPAGE area (a THP where
 * the kernel gives one), and for
 * each shared object given as an argument (dlopen'ed) its global and its
 * static function; then "ready=0x1".  Then it reads stdin line by line:
 * "touch" writes to the untouched page and answers "touched=0x1"; EOF ends
 * it.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int where_data = 0x5eed;
static char where_bss[1 << 16];
const char where_rodata[] = "memlayout where rodata";
static int thread_pipe[2], started_pipe[2];

static void fact(const char *name, const volatile void *addr)
{
	printf("%s=0x%" PRIxPTR "\n", name, (uintptr_t)addr);
}

int __attribute__((noinline)) where_func(int x)
{ /* LINE:where_func */
	return x + where_data + where_bss[100];
}

static void *thread_main(void *arg)
{
	volatile int local = 1;
	char c;

	(void)arg;
	fact("thread_local", &local);
	printf("thread_tid=%ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	if (write(started_pipe[1], "s", 1) != 1)
		return NULL;
	return read(thread_pipe[0], &c, 1) < 0 ? NULL : arg;
}

static void dl_facts(const char *path, int i)
{
	void *h = dlopen(path, RTLD_NOW);
	void *(*static_addr)(void);
	char name[32];

	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		exit(1);
	}
	snprintf(name, sizeof(name), "lib%d_global", i);
	fact(name, dlsym(h, "where_lib_global"));
	*(void **)&static_addr = dlsym(h, "where_lib_static_addr");
	snprintf(name, sizeof(name), "lib%d_static", i);
	fact(name, static_addr());
}

int main(int argc, char **argv)
{
	volatile int local = where_func(1);
	long ps = sysconf(_SC_PAGESIZE);
	char *heap = malloc(32), *fresh, *three, *raw, *thp, line[64];
	const size_t huge = 2u << 20;
	pthread_t th;
	char c;

	fresh = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	three = mmap(NULL, 3 * (size_t)ps, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!heap || fresh == MAP_FAILED || three == MAP_FAILED ||
	    munmap(three + ps, (size_t)ps) < 0 || pipe(thread_pipe) < 0 ||
	    pipe(started_pipe) < 0)
		return 1;
	memset(heap, 1, 32);
	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return 1;
	thp = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	madvise(thp, huge, MADV_HUGEPAGE);   /* best effort: the test asks smaps */
	memset(thp, 1, huge);
	fact("thp", thp + 3 * ps + 5);
	fact("data", &where_data);
	fact("bss", where_bss + 40000);
	fact("rodata", where_rodata);
	fact("func", (void *)(uintptr_t)where_func);
	fact("local", &local);
	fact("heap", heap);
	fact("fresh", fresh);
	fact("hole", three + ps + 8);
	for (int i = 1; i < argc; i++)
		dl_facts(argv[i], i);
	fflush(stdout);
	if (pthread_create(&th, NULL, thread_main, NULL) ||
	    read(started_pipe[0], &c, 1) != 1)   /* its facts are out */
		return 1;
	fact("ready", (void *)1);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "touch\n")) {
			fresh[0] = 1;
			fact("touched", (void *)1);
			fflush(stdout);
		}
	}
	return write(thread_pipe[1], "x", 1) == 1 && !pthread_join(th, NULL) ? 0 : 1;
}
