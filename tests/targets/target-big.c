/* SPDX-License-Identifier: MIT */
/*
 * target-big.c - end-to-end test target: one large reservation (64 GiB,
 * PROT_NONE, never touched), so that `memlayout where` given an address
 * every 2 MiB of it reads a fresh stretch of pagemap for each: a long run
 * of answers during which the test makes the target exit.
 *
 * Prints "map=0x<hex>", "size=N" and "ready=0x1", blocks reading stdin
 * and exits 0 at EOF.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE ((size_t)64 << 30)

int main(void)
{
	void *p = mmap(NULL, SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char c;

	if (p == MAP_FAILED)
		return 1;
	printf("map=0x%" PRIxPTR "\nsize=%zu\nready=0x1\n", (uintptr_t)p, SIZE);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
