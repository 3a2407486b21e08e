/* SPDX-License-Identifier: MIT */
/*
 * target-aslr.c - test target of `memlayout aslr`, built twice (PIE and
 * -no-pie): a small program with text, data and a 1 MiB .bss, so its
 * executable has a bss mapping of its own.  Run directly, it prints where
 * main, an initialised global and the .bss array are ("name=0x<hex>").
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int initialised = 42;
static char big[1 << 20];

int main(void)
{
	big[0] = 1;
	printf("main=0x%" PRIxPTR "\n", (uintptr_t)&main);
	printf("data=0x%" PRIxPTR "\n", (uintptr_t)&initialised);
	printf("bss=0x%" PRIxPTR "\n", (uintptr_t)big);
	return big[0] - 1;
}
