/* SPDX-License-Identifier: MIT */
/*
 * strlen-null.c - glibc's string functions of this CPU handed NULL:
 * `strlen-null` calls strlen(NULL) (on an AVX-512 CPU, __strlen_evex: an
 * EVEX compare of the memory at rdi, a read at 0); `strlen-null memset`
 * calls memset(NULL, 0, 10) (__memset_evex_unaligned_erms: a store of
 * fewer bytes than a vector, an EVEX masked store, a write at 0).  For
 * tests/run/test_run_insn.py.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	/* NULL and 10, hidden from the compiler so it calls glibc. */
	char *volatile p = NULL;
	volatile size_t n = 10;

	if (argc > 1 && strcmp(argv[1], "memset") == 0) {
		memset(p, 0, n);
		return 0;
	}
	printf("%zu\n", strlen(p));
	return 0;
}
