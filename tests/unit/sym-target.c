/* SPDX-License-Identifier: MIT */
/*
 * sym-target.c - the program test-symbols.c symbolizes (built -O0 -g):
 * functions, initialised data, zeroed data and read-only data of known
 * names; prints "ready" and waits for its stdin to close.
 */
#include <stdio.h>
#include <unistd.h>

int ml_sym_data[64] = { 1, 2, 3 };
int ml_sym_bss[256];
const char ml_sym_rodata[48] = "read-only data of sym-target";

__attribute__((noinline)) int ml_sym_alpha(int x)
{
	int y = x * 3;

	for (int i = 0; i < x; i++)
		y += ml_sym_data[i & 63];
	ml_sym_bss[x & 255] = y;
	return y + ml_sym_rodata[x & 31];
}

__attribute__((noinline)) static int ml_sym_beta(int x)
{
	if (x > 10)
		return ml_sym_alpha(x - 1);
	return ml_sym_alpha(x + 1) * 2;
}

int main(int argc, char **argv)
{
	char c;

	(void)argv;
	printf("ready %d\n", ml_sym_beta(argc));
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
