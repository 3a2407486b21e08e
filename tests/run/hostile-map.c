/* SPDX-License-Identifier: MIT */
/*
 * hostile-map.c - a crash whose sentence names a file the program chose:
 * it maps DIR/NAME read-only, NAME holding an escape sequence (ESC [31m)
 * and a bidi control (U+202E), then writes to it (write-read-only: the
 * sentence says "in NAME (file, mapped r--s)").  The file stays, for the
 * test to remove with DIR.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAME "evil\x1b[31mred\xe2\x80\xaegnp.txt"

int main(int argc, char **argv)
{
	char path[4096];
	volatile char *p;
	int fd;

	if (argc != 2 || snprintf(path, sizeof(path), "%s/" NAME, argv[1]) >= (int)sizeof(path))
		return 2;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 2;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	p[8] = 1;    /* SIGSEGV, SEGV_ACCERR: a write to read-only memory */
	return 0;
}
