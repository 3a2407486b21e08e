/* SPDX-License-Identifier: MIT */
/*
 * many-maps.c - a process with many mappings, for bench/show-vs-pmap.
 *
 * Usage: many-maps [N]   (N mappings to add, default 20000)
 *
 * Maps one anonymous area of N pages and mprotects every other page
 * PROT_READ, so the kernel cannot merge neighbours: N separate VMAs
 * (alternating r--p / rw-p).  One page in 8 of the writable ones is
 * touched, so smaps has non-zero Rss/Dirty figures to report.  A quarter
 * of the mappings instead map a temporary file, page by page in reverse
 * offset order (never mergeable), so file-backed regions are measured too.
 * Prints "ready PID COUNT" on stdout (COUNT = lines of /proc/self/maps)
 * and then blocks until stdin reaches EOF.  Exits 1 on any failure, with
 * the failing call on stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "many-maps: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Alternate r--p / rw-p over n anonymous pages. */
static void anon_maps(size_t n, size_t page)
{
	char *base = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		die("mmap anonymous");
	for (size_t i = 0; i < n; i += 2) {
		if (i % 16 == 0 && i + 1 < n)
			base[(i + 1) * page] = 1;   /* page i + 1 stays writable */
		if (mprotect(base + i * page, page, PROT_READ) < 0)
			die("mprotect");
	}
}

/* n pages of a temporary file, mapped at consecutive addresses with
 * decreasing offsets so no two neighbours merge. */
static void file_maps(size_t n, size_t page)
{
	char path[] = "/tmp/many-maps.XXXXXX";
	int fd = mkstemp(path);
	char *base;

	if (fd < 0)
		die("mkstemp");
	unlink(path);
	if (ftruncate(fd, (off_t)(n * page)) < 0)
		die("ftruncate");
	base = mmap(NULL, n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		die("mmap reservation");
	for (size_t i = 0; i < n; i++) {
		off_t off = (off_t)((n - 1 - i) * page);
		if (mmap(base + i * page, page, PROT_READ, MAP_PRIVATE | MAP_FIXED,
			 fd, off) == MAP_FAILED)
			die("mmap file");
		if (i % 8 == 0)
			(void)*(volatile char *)(base + i * page);
	}
	close(fd);
}

static size_t count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int c;

	if (!f)
		die("/proc/self/maps");
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char buf[256];

	if (n < 8)
		n = 8;
	anon_maps(n - n / 4, page);
	file_maps(n / 4, page);
	printf("ready %d %zu\n", (int)getpid(), count_maps());
	fflush(stdout);
	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		;
	return 0;
}
