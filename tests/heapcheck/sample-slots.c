/* SPDX-License-Identifier: MIT */
/* sample-slots.c: sampled mode's pool of slots (alloc/sample.c), run by
 * test_sample.py under LD_PRELOAD=libmlalloc.so and MLALLOC_CHECK:
 *   reuse         5000 blocks allocated and freed one after the other;
 *                 each written whole and read back; prints how many came
 *                 at an address handed out before ("reused N")
 *   uaf-reused    the pool cycled twice, then a use after free of a block
 *                 (40 bytes, the read at offset 3): must be reported
 *   many-live     3000 blocks live at once (more than the slots), each
 *                 written and checked, then an overflow of the last one
 *                 (128 bytes, the write at offset 128): must be reported
 *   vmas          50 blocks freed, then 20 live: prints how many lines
 *                 /proc/self/maps gained with the 20 ("vmas N"); exits 77
 *                 where the kernel has no guard markers (vmas-any: never)
 *   rate N        N mallocs of 33 bytes, each freed at once: prints how
 *                 many were sampled ("sampled K"): a checked block's usable
 *                 size is its size, a plain one's its size class (48) */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static char maps[1 << 20];

/* The lines of /proc/self/maps (read(2): no malloc while counting). */
static int mappings(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	size_t n = 0;
	ssize_t r;
	while (fd >= 0 && n < sizeof(maps) && (r = read(fd, maps + n, sizeof(maps) - n)) > 0)
		n += (size_t)r;
	if (fd >= 0)
		close(fd);
	int lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += maps[i] == '\n';
	return lines;
}

static void fill_check(unsigned char *p, size_t n, unsigned char v)
{
	memset(p, v, n);
	for (size_t i = 0; i < n; i++)
		if (p[i] != v) {
			fprintf(stderr, "byte %zu of a block reads %#x, not %#x\n", i, p[i], v);
			exit(1);
		}
	if (malloc_usable_size(p) < n) {
		fprintf(stderr, "malloc_usable_size %zu < %zu\n", malloc_usable_size(p), n);
		exit(1);
	}
}

static int reuse(void)
{
	enum { N = 5000 };
	static uintptr_t seen[N];
	int reused = 0;
	for (int i = 0; i < N; i++) {
		unsigned char *p = malloc(40);
		fill_check(p, 40, (unsigned char)i);
		seen[i] = (uintptr_t)p;
		for (int j = 0; j < i; j++)
			if (seen[j] == (uintptr_t)p) {
				reused++;
				break;
			}
		free(p);
	}
	printf("reused %d\n", reused);
	return 0;
}

static int uaf_reused(void)
{
	for (int i = 0; i < 2048 + 100; i++)
		free(malloc(40));
	volatile char *p = malloc(40);   /* @alloc:uaf-reused */
	p[0] = 1;
	free((void *)p);                 /* @free:uaf-reused */
	return p[3];                     /* a read after free */
}

static int many_live(void)
{
	enum { N = 3000 };
	static unsigned char *live[N];
	for (int i = 0; i < N; i++) {
		live[i] = malloc(24 + i % 40);
		fill_check(live[i], 24 + i % 40, (unsigned char)i);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < 24 + (size_t)i % 40; k++)
			if (live[i][k] != (unsigned char)i) {
				fprintf(stderr, "block %d changed\n", i);
				return 1;
			}
	for (int i = 0; i < N; i += 2)
		free(live[i]);
	volatile char *q = malloc(128);   /* @alloc:many-live */
	q[128] = 1;                       /* one past the end */
	return 0;
}

static int vmas(bool probe_markers)
{
	void *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (probe_markers && (probe == MAP_FAILED || madvise(probe, 4096, MADV_GUARD_INSTALL) != 0)) {
		printf("no guard markers in this kernel (madvise: %s)\n", strerror(errno));
		return 77;
	}
	static void *live[20];
	for (int i = 0; i < 50; i++)
		free(malloc(40));
	int before = mappings();
	for (int i = 0; i < 20; i++)
		live[i] = malloc(40);
	printf("vmas %d\n", mappings() - before);
	for (int i = 0; i < 20; i++)
		free(live[i]);
	return 0;
}

static int rate(long n)
{
	int sampled = 0;
	for (long i = 0; i < n; i++) {
		void *p = malloc(33);
		sampled += malloc_usable_size(p) == 33;   /* a size class would be more */
		free(p);
	}
	printf("sampled %d of %ld\n", sampled, n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 2 && !strcmp(argv[1], "reuse"))
		return reuse();
	if (argc == 2 && !strcmp(argv[1], "uaf-reused"))
		return uaf_reused();
	if (argc == 2 && !strcmp(argv[1], "many-live"))
		return many_live();
	if (argc == 2 && !strcmp(argv[1], "vmas"))
		return vmas(true);
	if (argc == 2 && !strcmp(argv[1], "vmas-any"))
		return vmas(false);
	if (argc == 3 && !strcmp(argv[1], "rate"))
		return rate(atol(argv[2]));
	fprintf(stderr, "usage: sample-slots reuse|uaf-reused|many-live|vmas|vmas-any|rate N\n");
	return 2;
}
