/* SPDX-License-Identifier: MIT */
/*
 * fuzz-glibc.c - libFuzzer target for glibc malloc's heap as `memlayout heap`
 * walks it (glibc/glibc-walk.c): every byte of the arena and the heap is the
 * target's, so every pointer and size is hostile.
 *
 * Input: byte 0: bit 0 a 32-bit process, bit 1 the fenceposts of a thread
 * heap...; byte 1: the glibc minor version (26 + byte % 15); the rest is
 * the memory image at BASE: main_arena at BASE + 16, the [heap] mapping from
 * BASE + 4096 (sbrk_base) to the image's end, an anonymous rw mapping over
 * the whole image too (mmap'd chunks are looked for in it).  Reads outside
 * the image fail as unmapped memory does.
 * Each input is walked by ml_glibc_heap_walk(); a success must hold its
 * bounds (segments, tcaches, free chunks and the histogram within the
 * chunks walked, fragmentation in [0, 1]) and answers ml_glibc_where() for
 * a few addresses; a failure is -EUCLEAN or -E2BIG with a finding named, or
 * -ENOMEM.  A failed check calls abort().
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-glibc' on corpus-glibc/.
 */
#include "glibc-heap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x10000u

struct image { const uint8_t *p; size_t n; };

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;

	if (addr < BASE || addr - BASE > im->n || len > im->n - (addr - BASE))
		return -EFAULT;
	memcpy(buf, im->p + (addr - BASE), len);
	return 0;
}

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_heap(const struct ml_glibc_src *src, const struct ml_glibc_heap *h, size_t n)
{
	uint64_t free_chunks = 0;

	check(h->narenas >= 1 && h->narenas <= ML_GLIBC_MAX_ARENAS);
	check(h->nsegs <= ML_GLIBC_MAX_HEAPS && h->ntcaches <= ML_GLIBC_MAX_TCACHES);
	check(h->chunks <= ML_GLIBC_MAX_CHUNKS);
	check(h->fragmentation >= 0.0 && h->fragmentation <= 1.0);
	for (unsigned b = 0; b < ML_GLIBC_HIST; b++)
		free_chunks += h->hist_free[b].chunks;
	check(free_chunks <= h->chunks);
	for (size_t i = 0; i < h->nsegs; i++)
		check(h->segs[i].arena < h->narenas && h->segs[i].map[ML_GLIBC_MAP_CELLS] == '\0');
	for (uint64_t a = BASE; a < BASE + n + 64; a += n / 7 + 1) {
		struct ml_glibc_chunk k;
		if (ml_glibc_where(src, h, a, &k) == 0)
			check(a >= k.chunk && (k.mmapped || a - k.chunk < k.size));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im;
	struct ml_glibc_map maps[2];
	struct ml_glibc_src src;
	struct ml_glibc_heap *h = NULL;
	struct ml_glibc_problem bad = { .bad = ML_GLIBC_BAD_NONE };
	unsigned word, version;
	int r;

	if (size < 2 + 4096 + 64)
		return 0;
	word = data[0] & 1 ? 4 : 8;
	version = 26 + data[1] % 15;
	im = (struct image){ data + 2, size - 2 };
	maps[0] = (struct ml_glibc_map){ BASE, BASE + 4096, 0, true, true, false, true, false, NULL };
	maps[1] = (struct ml_glibc_map){ BASE + 4096, BASE + im.n, 0, true, true, false, true, true, "[heap]" };
	src = (struct ml_glibc_src){ image_read, &im, maps, 2, word };
	r = ml_glibc_heap_walk(&src, version, BASE + 16, 0, BASE + 4096, &h, &bad);
#ifdef FUZZ_GLIBC_VERBOSE
	fprintf(stderr, "walk: %d (finding %d at 0x%llx)\n", r, bad.bad, (unsigned long long)bad.chunk);
#endif
	if (r == 0) {
		check_heap(&src, h, im.n);
		ml_glibc_heap_free(h);
	} else {
		check(r == -ENOMEM || ((r == -EUCLEAN || r == -E2BIG) && bad.bad != ML_GLIBC_BAD_NONE));
	}
	return 0;
}
