/* SPDX-License-Identifier: MIT */
/*
 * lsan-leak.c - a program built with -fsanitize=address that leaks one
 * block: at its exit LeakSanitizer attaches to its threads with ptrace(2)
 * from a process it clones with CLONE_UNTRACED, which fails under
 * memlayout run (test_run_ptrace.py).
 */
#include <stdio.h>
#include <stdlib.h>

static void *volatile kept;

int main(void)
{
	kept = malloc(64);
	kept = NULL;        /* the block is lost: a leak */
	puts("leaked");
	fflush(stdout);     /* LeakSanitizer's fatal error ends it with _exit */
	return 0;
}
