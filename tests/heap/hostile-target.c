/* SPDX-License-Identifier: MIT */
/* hostile-target: a process that attacks whoever runs `memlayout heap` on
 * it (root, usually), for tests/heap/test_heap.py.  It prints "ready=0x1"
 * once set up and waits for stdin to close.  Modes:
 *   fifo FILE       map FILE (any regular file) at offset 0, unlink it and
 *                   put a FIFO at "FILE (deleted)", the name maps now shows:
 *                   a reader that opens the name blocks forever
 *   symlink FILE TO map FILE, unlink it and put a symlink to TO at
 *                   "FILE (deleted)" (the test points TO at a FIFO of its
 *                   own, mode 0600: following it hangs)
 *   map N FILE...   map each FILE at offset 0, in turn, N rounds (ELF
 *                   symbol-table bombs the test wrote, searched by the
 *                   reader for mlalloc_introspect_root)
 *   odd-seg         publish a well-formed mlalloc state whose segment 2
 *                   keeps an odd seq (a writer stopped mid-update), and
 *                   spin in a thread (pinned to memlayout's CPU by the test,
 *                   each sched_yield of a reader costs it a time slice)
 *   churn           publish one whose seqs (the header's, every segment's)
 *                   change without pause, odd all but an instant
 *   max             publish maximal tables: a 64 MiB region holding
 *                   500,000 segment records and as many large-block
 *                   records as fit after them
 * The published region is an anonymous mapping named "mlalloc" where the
 * kernel can name one ([anon:mlalloc]); the symbol mlalloc_introspect_root
 * below points to it anyway (found through this program's .symtab). */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlalloc-format.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

struct root { char magic[8]; uint64_t version, region, region_size; };
struct root mlalloc_introspect_root = { MLALLOC_PUB_MAGIC, MLALLOC_PUB_VERSION, 0, 0 };

#define REGION_SIZE ((size_t)64 << 20)
#define TABLES_OFF 65536

static struct mlalloc_pub_header *pub;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void *map_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	return p;
}

/* The name maps shows for FILE once unlinked. */
static char *deleted_name(const char *file)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s (deleted)", file);
	return buf;
}

/* A region with a valid header and nsegs/nlarge records; returns the
 * segment table. */
static struct mlalloc_pub_segment *publish(uint32_t nsegs, uint32_t nlarge)
{
	uint8_t *r = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap");
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)r, REGION_SIZE, "mlalloc");
	struct mlalloc_pub_header *h = (void *)r;
	uint32_t *classes = (uint32_t *)(r + 4096);
	struct mlalloc_pub_heap *heap = (void *)(r + 8192);
	struct mlalloc_pub_segment *segs = (void *)(r + TABLES_OFF);
	struct mlalloc_pub_large *large = (void *)(r + TABLES_OFF + (size_t)nsegs * sizeof(*segs));

	h->version = MLALLOC_PUB_VERSION;
	h->header_size = sizeof(*h);
	h->region_size = REGION_SIZE;
	h->pid = (uint64_t)getpid();
	h->seg_size = 4 << 20;
	h->page_size = 65536;
	h->seg_pages = 64;
	h->nclasses = MLALLOC_PUB_NCLASSES;
	h->max_small = 512 << 10;
	for (unsigned c = 0; c < MLALLOC_PUB_NCLASSES; c++)
		classes[c] = 16 * (c + 1);
	h->classes_off = 4096;
	h->heaps_off = 8192;
	h->segs_off = TABLES_OFF;
	h->large_off = TABLES_OFF + (uint64_t)nsegs * sizeof(*segs);
	h->heap_stride = sizeof(struct mlalloc_pub_heap);
	h->seg_stride = sizeof(struct mlalloc_pub_segment);
	h->large_stride = sizeof(struct mlalloc_pub_large);
	h->heaps_max = h->heaps_used = 1;
	h->segs_max = h->segs_used = nsegs;
	h->large_max = h->large_used = nlarge;
	heap->tid = (uint64_t)getpid();
	heap->state = 1;
	for (uint32_t i = 0; i < nsegs; i++) {
		segs[i].base = 0x100000000000ULL + (uint64_t)i * (4 << 20);
		segs[i].kind = MLALLOC_SEG_MMAP;
		segs[i].used = 0x5555555555555555ULL;
		memset(segs[i].page_class, 0, sizeof(segs[i].page_class));
	}
	for (uint32_t i = 0; i < nlarge; i++) {
		large[i].map_base = 0x200000000000ULL + (uint64_t)i * (1 << 20);
		large[i].addr = large[i].map_base + 4096;
		large[i].map_size = 1 << 20;
		large[i].usable = (1 << 20) - 4096;
		large[i].state = MLALLOC_LARGE_LIVE;
	}
	memcpy(h->magic, MLALLOC_PUB_MAGIC, 8);
	mlalloc_introspect_root.region = (uintptr_t)r;
	mlalloc_introspect_root.region_size = REGION_SIZE;
	pub = h;
	return segs;
}

static void *spin(void *arg)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
	return arg;
}

static void *churn(void *arg)
{
	struct mlalloc_pub_segment *segs = arg;

	for (;;) {
		__atomic_add_fetch(&pub->seq, 1, __ATOMIC_SEQ_CST);
		for (unsigned i = 0; i < pub->segs_used; i++)
			__atomic_add_fetch(&segs[i].seq, 1, __ATOMIC_SEQ_CST);
		for (volatile unsigned spin = 0; spin < 20000; spin++)
			;
		for (unsigned i = 0; i < pub->segs_used; i++)
			__atomic_add_fetch(&segs[i].seq, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&pub->seq, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	char c;

	if (!strcmp(mode, "fifo") && argc == 3) {
		map_file(argv[2]);
		if (unlink(argv[2]) < 0 || mkfifo(deleted_name(argv[2]), 0600) < 0)
			die("fifo");
	} else if (!strcmp(mode, "symlink") && argc == 4) {
		map_file(argv[2]);
		if (unlink(argv[2]) < 0 || symlink(argv[3], deleted_name(argv[2])) < 0)
			die("symlink");
	} else if (!strcmp(mode, "map") && argc >= 4) {
		for (int i = 0; i < atoi(argv[2]); i++)
			for (int k = 3; k < argc; k++)
				map_file(argv[k]);
	} else if (!strcmp(mode, "odd-seg")) {
		pthread_t t;
		publish(4, 1)[2].seq = 1;
		if (pthread_create(&t, NULL, spin, NULL))
			die("pthread_create");
	} else if (!strcmp(mode, "churn")) {
		pthread_t t;
		if (pthread_create(&t, NULL, churn, publish(4, 1)))
			die("pthread_create");
	} else if (!strcmp(mode, "max")) {
		uint32_t nsegs = 500000;
		size_t room = REGION_SIZE - TABLES_OFF - (size_t)nsegs * sizeof(struct mlalloc_pub_segment);
		publish(nsegs, (uint32_t)(room / sizeof(struct mlalloc_pub_large)));
	} else {
		fprintf(stderr, "usage: hostile-target fifo FILE | symlink FILE TO | map N FILE... | "
			"odd-seg | churn | max\n");
		return 2;
	}
	printf("ready=0x1\n");
	fflush(stdout);
	while (read(0, &c, 1) == 1)
		;
	return 0;
}
