/* SPDX-License-Identifier: MIT */
/*
 * target-anon-after.c - test target: an anonymous mapping placed right
 * after a shared object's mappings.  argv[1] is the object (its soname,
 * dlopen()ed), argv[2] where the mapping goes:
 *   file  right after the object's last file mapping (libm: it has no .bss
 *         tail, so the mapping is a neighbour, not part of the object);
 *   tail  right after the object's .bss tail (the anonymous mapping that
 *         follows its last file mapping), rw-p as it is, so the kernel
 *         merges the two into one mapping.
 * argv[3] the size in pages (default 4).  The mapping is made with
 * MAP_FIXED_NOREPLACE and touched.  Prints "last=0x<end of the object's
 * last file mapping>", "anon=0x<start>", "anon_end=0x<end>" and
 * "ready=0x1", blocks reading stdin, exits 0 at EOF; exit 3 if the
 * object or the place is not there (the test skips).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* End of the last mapping whose path ends in /name, and the end of the
 * unnamed mapping right after it (0 if none). */
static int find(const char *name, uintptr_t *ret_last, uintptr_t *ret_tail)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	uintptr_t last = 0, tail = 0, prev_end = 0;
	bool after = false;
	size_t n = strlen(name);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t s, e;
		char path[4096] = "";
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %*s %4095s",
			   &s, &e, path) < 2)
			continue;
		size_t l = strlen(path);
		if (l > n && path[l - n - 1] == '/' && !strcmp(path + l - n, name)) {
			last = e;
			tail = 0;
			after = true;
		} else if (after && !path[0] && s == prev_end) {
			tail = e;
			after = false;
		} else {
			after = false;
		}
		prev_end = e;
	}
	fclose(f);
	*ret_last = last;
	*ret_tail = tail;
	return last ? 0 : -1;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t last, tail, at;
	size_t len;
	char *p, c;

	if (argc < 3)
		return 2;
	len = (size_t)(argc > 3 ? atol(argv[3]) : 4) * (size_t)page;
	if (!dlopen(argv[1], RTLD_NOW) || find(argv[1], &last, &tail) < 0)
		return 3;
	at = strcmp(argv[2], "tail") == 0 ? tail : last;
	if (!at)
		return 3;
	p = mmap((void *)at, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || (uintptr_t)p != at)
		return 3;
	memset(p, 1, len);
	printf("last=0x%" PRIxPTR "\nanon=0x%" PRIxPTR "\nanon_end=0x%" PRIxPTR "\n",
	       last, at, at + len);
	printf("ready=0x1\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
