/* SPDX-License-Identifier: MIT */
/*
 * elf-target.c - a process for the ELF attribution tests: known objects in
 * .text, .rodata, .data and a 1 MiB .bss, plus files mapped on request.
 *
 * Arguments, each mapped MAP_PRIVATE at offset 0 at an address the kernel
 * picks: "FILE" the whole file read-only, "x:FILE" the whole file r-x,
 * "n:COUNT:FILE" its first page COUNT times read-only.  Then prints
 * "name=0x<hex>" lines for text, rodata, data, bss, bss_mid, libc_text,
 * then "ready=0x1", and blocks reading stdin until EOF.  Built 64-bit and
 * 32-bit; the tests also run stripped and section-header-less copies.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char big_bss[1 << 20];
int data_arr[64] = { 1, 2, 3, 4, 5, 6, 7, 8 };
const char ro_str[] = "memlayout elf test rodata string";

__attribute__((noinline)) int text_fn(int x)
{
	return x + data_arr[x & 63] + big_bss[x & 0xfffff] + ro_str[x & 15];
}

static void fact(const char *name, const volatile void *addr)
{
	printf("%s=0x%" PRIxPTR "\n", name, (uintptr_t)addr);
}

/* Map path count times (0: whole file once) with prot; 0 or -1. */
static int map_file(const char *path, int prot, long count)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	len = count ? 4096 : (st.st_size ? (size_t)st.st_size : 1);
	for (long i = 0; i < (count ? count : 1); i++)
		if (mmap(NULL, len, prot, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			return -1;
	close(fd);
	return 0;
}

static int map_arg(const char *arg)
{
	char *end;
	long n;

	if (strncmp(arg, "x:", 2) == 0)
		return map_file(arg + 2, PROT_READ | PROT_EXEC, 0);
	if (strncmp(arg, "n:", 2) != 0)
		return map_file(arg, PROT_READ, 0);
	n = strtol(arg + 2, &end, 10);
	if (*end != ':' || n <= 0)
		return -1;
	return map_file(end + 1, PROT_READ, n);
}

int main(int argc, char **argv)
{
	char c;

	for (int i = 1; i < argc; i++)
		if (map_arg(argv[i]) < 0) {
			fprintf(stderr, "elf-target: cannot map %s\n", argv[i]);
			return 2;
		}
	big_bss[text_fn(1) & 0xfff] = 1;
	fact("text", (const void *)(uintptr_t)text_fn);
	fact("rodata", ro_str);
	fact("data", &data_arr[8]);
	fact("bss", big_bss);
	fact("bss_mid", big_bss + sizeof(big_bss) / 2);
	fact("libc_text", (const void *)(uintptr_t)puts);
	fact("ready", (void *)1);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
