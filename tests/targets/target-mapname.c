/* SPDX-License-Identifier: MIT */
/*
 * target-mapname.c - end-to-end test target: maps a file whose name the
 * test chooses (argv[1]; hostile bytes such as newlines and escape
 * sequences are the point), so that /proc/PID/maps carries that name.
 *
 * Creates the file (one page), maps it private, prints "map=0x<hex>" and
 * "ready=0x1", blocks reading stdin, and exits 0 at EOF.  The test removes
 * the file.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	char c;
	int fd;

	if (argc != 2)
		return 2;
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, page) < 0)
		return 1;
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	close(fd);
	printf("map=0x%" PRIxPTR "\n", (uintptr_t)p);
	printf("ready=0x1\n");
	fflush(stdout);
	while (read(0, &c, 1) < 0)
		;
	return 0;
}
