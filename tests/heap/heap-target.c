/* SPDX-License-Identifier: MIT */
/* heap-target: a program whose allocations are known, for the tests of
 * `memlayout heap` (tests/heap/test_heap.py).  Run it with
 * LD_PRELOAD=libmlalloc.so, or without (a process that does not use
 * mlalloc).  It prints "ready=0x1", then obeys one-letter commands from
 * stdin, answering each with name=0x<hex> facts and "ready=0x1":
 *   a  malloc 1000 blocks of 48 bytes, free every other one, malloc a
 *      3 MiB block; facts: small (a kept 48-byte block), large, large_usable,
 *      brk (sbrk(0) after)
 *   t  tear mlalloc's published state: leave its seqlock odd, as a writer
 *      stopped in the middle of an update would
 *   v  make the seqlock even again and publish an unknown format version
 * It exits when stdin closes.  With the argument "exit" it does 'a' and
 * exits at once (for memlayout heap -- COMMAND).  Output goes through
 * write(2) so that printing allocates nothing. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlalloc-format.h"

struct root { char magic[8]; uint64_t version, region, region_size; };

static void *small[1000], *large;

static void say(const char *name, uint64_t v)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%s=0x%llx\n", name, (unsigned long long)v);
	if (write(1, buf, (size_t)n) != n)
		_exit(3);
}

static void allocate(void)
{
	for (int i = 0; i < 1000; i++)
		small[i] = malloc(48);
	for (int i = 1; i < 1000; i += 2) {
		free(small[i]);
		small[i] = NULL;
	}
	large = malloc(3 << 20);
	memset(large, 1, 3 << 20);
}

/* mlalloc's published header, or NULL when mlalloc is not loaded. */
static struct mlalloc_pub_header *published(void)
{
	struct root *root = dlsym(RTLD_DEFAULT, "mlalloc_introspect_root");
	return root ? (struct mlalloc_pub_header *)(uintptr_t)root->region : NULL;
}

int main(int argc, char **argv)
{
	char c;

	if (argc > 1 && !strcmp(argv[1], "exit")) {
		allocate();
		return 0;
	}
	say("ready", 1);
	while (read(0, &c, 1) == 1) {
		struct mlalloc_pub_header *h = published();
		if (c == 'a') {
			allocate();
			say("small", (uintptr_t)small[0]);
			say("large", (uintptr_t)large);
			say("large_usable", malloc_usable_size(large));
			say("brk", (uintptr_t)sbrk(0));
		} else if (c == 't' && h) {
			__atomic_store_n(&h->seq, h->seq | 1, __ATOMIC_SEQ_CST);
		} else if (c == 'v' && h) {
			h->version = 99;
			__atomic_store_n(&h->seq, h->seq + 1, __ATOMIC_SEQ_CST);
		} else if (c != '\n') {
			say("unknown_command", (unsigned char)c);
		}
		say("ready", 1);
	}
	return 0;
}
