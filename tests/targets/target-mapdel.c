/* SPDX-License-Identifier: MIT */
/*
 * target-mapdel.c - end-to-end test target: maps files whose names the
 * test chooses, on command, for the tests of " (deleted)" and "\012" in
 * names (a live file may be called "x (deleted)"; an unlinked one gets
 * the suffix from the kernel).
 *
 * Prints "ready=0x1", then for each stdin line "map PATH" creates PATH
 * (one page), maps it shared and prints "map=0x<hex>"; for "del PATH" it
 * does the same and unlinks PATH while it stays mapped.  Exits 0 at EOF.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int map_file(const char *path, int unlink_it)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, page) < 0)
		return -1;
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED || (unlink_it && unlink(path) < 0))
		return -1;
	printf("map=0x%" PRIxPTR "\n", (uintptr_t)p);
	fflush(stdout);
	return 0;
}

int main(void)
{
	char line[4096];

	puts("ready=0x1");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "map ", 4) && map_file(line + 4, 0) < 0)
			return 1;
		if (!strncmp(line, "del ", 4) && map_file(line + 4, 1) < 0)
			return 1;
	}
	return 0;
}
