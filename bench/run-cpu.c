/* SPDX-License-Identifier: MIT */
/* run-cpu.c - the CPU-bound program of bench/run-overhead: arithmetic in
 * a loop, no system calls, about 0.6 s; prints the result so the loop
 * is not optimised away. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 150000000ull;
	uint64_t x = 88172645463325252ull, sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x & 0xff;
	}
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}
