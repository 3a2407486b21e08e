/* SPDX-License-Identifier: MIT */
/*
 * glibc-layout.h - the shapes of glibc malloc's structures (malloc/malloc.c,
 * malloc/arena.c of glibc 2.26 and later) for a 32- or 64-bit process: the
 * offsets of struct malloc_state, struct malloc_par read from its end, the
 * chunk arithmetic (request2size, fastbin_index, csize2tidx, the bin
 * indexes), and the reads of the walker's block cache.  Private to glibc/.
 */
#ifndef ML_GLIBC_LAYOUT_H
#define ML_GLIBC_LAYOUT_H

#include "glibc-heap.h"

#define GL_NBINS 128
#define GL_TCACHE_BINS 64
#define GL_CACHE_BLOCK 65536u
#define GL_CACHE_SLOTS 16u

struct gl_layout {
	unsigned W, align, minsize, nfast;
	unsigned fast_off, top_off, bins_off, next_off, attached_off, sysmem_off, state_size;
	unsigned tc_count_size, tc_chunk;       /* tcache counts: 1 (< 2.30) or 2 bytes */
	uint64_t heap_max;                      /* HEAP_MAX_SIZE of thread heaps */
	bool safe;                              /* safe-linking (>= 2.32) */
	unsigned version;
};

/* Memory of the target through a small direct-mapped cache of 64 KiB blocks. */
struct gl_mem {
	const struct ml_glibc_src *src;
	uint64_t tag[GL_CACHE_SLOTS];
	uint16_t pages[GL_CACHE_SLOTS];         /* bit i: page i of the block was read */
	bool valid[GL_CACHE_SLOTS];
	unsigned char *buf;                     /* GL_CACHE_SLOTS * GL_CACHE_BLOCK */
};

void gl_layout_init(struct gl_layout *l, unsigned word, unsigned version_minor);
int gl_mem_init(struct gl_mem *m, const struct ml_glibc_src *src);
void gl_mem_done(struct gl_mem *m);
int gl_read(struct gl_mem *m, uint64_t addr, void *buf, size_t len);
int gl_word(struct gl_mem *m, unsigned W, uint64_t addr, uint64_t *ret);

uint64_t gl_request2size(const struct gl_layout *l, uint64_t req);
int gl_fastbin_index(const struct gl_layout *l, uint64_t sz);
int gl_tcache_index(const struct gl_layout *l, uint64_t sz);
int gl_bin_index(const struct gl_layout *l, uint64_t sz);  /* small or large bin */
uint64_t gl_bin_at(const struct gl_layout *l, uint64_t arena, int i);

#endif
