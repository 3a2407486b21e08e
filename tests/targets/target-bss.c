/* SPDX-License-Identifier: MIT */
/*
 * target-bss.c - end-to-end test target: one object in each part of the
 * process memory model.
 *
 * Prints, one per line on stdout, "name=0x<hex>" for: a 1 MiB static array
 * (.bss), an initialised global (.data), a const string (.rodata), a
 * function (.text), malloc(16) (brk heap), malloc(1 MiB) (anonymous mmap),
 * a local (main stack) and sbrk(0); then "ready=0x1".  Then it blocks
 * reading stdin and exits 0 at EOF (or on the first byte).  Built 64-bit
 * as target-bss and 32-bit (-m32) as target-bss32.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char big[1 << 20];
volatile int data_global = 0x5eed;
static const char rodata_str[] = "memlayout e2e rodata string";

__attribute__((noinline)) static int text_func(int x)
{
	return x * 3 + data_global;
}

static void fact(const char *name, const volatile void *addr)
{
	printf("%s=0x%" PRIxPTR "\n", name, (uintptr_t)addr);
}

int main(void)
{
	volatile int local = text_func(1);
	char *small = malloc(16), *large = malloc(1 << 20);
	char c;

	if (!small || !large)
		return 1;
	memset(small, 1, 16);
	memset(large, 1, 1 << 20);
	big[0] = (char)local;
	fact("bss", big);
	fact("bss_end", big + sizeof(big));
	fact("data", &data_global);
	fact("rodata", rodata_str);
	fact("text", (const void *)(uintptr_t)text_func);
	fact("malloc_small", small);
	fact("malloc_large", large);
	fact("local", &local);
	fact("brk", sbrk(0));
	fact("ready", (void *)1);
	fflush(stdout);
	while (read(0, &c, 1) < 0)
		;
	free(small);
	free(large);
	return 0;
}
