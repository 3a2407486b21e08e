/* SPDX-License-Identifier: MIT */
/*
 * ml-heap.h - the heap model of `memlayout heap` on mlalloc (lib/heap/):
 * the figures heap-model.c computes from a copy of mlalloc's published
 * state taken by alloc/'s reader.  The tool's heap renderers (tool/heap-*.c)
 * turn them into words.  Depends on alloc/'s reader only (not part of
 * libmemlayout.so: the allocator's format is not the library's API).
 */
#ifndef ML_HEAP_MODEL_H
#define ML_HEAP_MODEL_H

#include "mlalloc-reader.h"

#include <stdbool.h>
#include <stdint.h>

#define ML_HEAP_MAP_CELLS 64   /* cells of a region's map, one per page */

/* One size class that has spans or live blocks. */
struct ml_heap_class {
	unsigned cls;
	uint64_t size;            /* block size */
	uint64_t live, free;      /* blocks: live, and free room in its spans */
	uint64_t spans, span_bytes;
};

enum ml_heap_rtype { ML_HEAP_SEGMENT, ML_HEAP_LARGE };

/* One segment or large block, in address order. */
struct ml_heap_region {
	uint64_t start, end;
	enum ml_heap_rtype type;
	const char *from;         /* "brk", "mmap" (static) */
	const char *state;        /* "owned", "abandoned", "pooled", "live", "cached" */
	uint64_t tid;             /* owner of a segment, 0 if none */
	uint64_t used;            /* bytes of pages in spans / usable bytes of a live block */
	uint64_t free;            /* bytes of free pages / of a cached block's mapping */
	uint64_t dirty;           /* free pages not yet given back */
	uint64_t run;             /* largest run of free pages */
	uint64_t block;           /* large: the pointer the program holds */
	uint64_t class_mask;      /* bit c: a span of class c lies in the segment */
	char map[ML_HEAP_MAP_CELLS + 1];
};

/* The heap of an mlalloc process. */
struct ml_heap {
	const struct mla_alloc_snapshot *as;   /* borrowed */
	struct ml_heap_class *classes;
	size_t nclasses;
	struct ml_heap_region *regions;
	size_t nregions;
	uint64_t live_small, live_small_blocks;      /* bytes, blocks */
	uint64_t live_large, live_large_blocks;      /* usable bytes, blocks */
	uint64_t cached_large, cached_large_blocks;  /* mapping bytes, blocks */
	uint64_t span_bytes, free_in_spans, meta_bytes;
	uint64_t free_pages, dirty_pages, largest_run;
	uint64_t large_map_bytes, committed, reserved;
	double fragmentation;     /* 1 - live / committed */
	unsigned threads;         /* heaps of running threads */
	bool spans_exact;         /* pages per span published (else runs counted as spans) */
};

/* Compute the figures of as (kept borrowed by *ret).  0, -ENOMEM, or
 * -EPROTO when the copy's geometry is unusable. */
int ml_heap_build(const struct mla_alloc_snapshot *as, struct ml_heap **ret);
void ml_heap_free(struct ml_heap *h);

#endif
