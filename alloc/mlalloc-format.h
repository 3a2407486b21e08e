/* SPDX-License-Identifier: MIT */
/* mlalloc-format.h: the layout of the introspection region that a running
 * mlalloc process publishes for outside readers (see alloc/FORMAT.md).
 *
 * The region is one mapping, found in /proc/PID/maps as "[anon:mlalloc]"
 * (kernels with PR_SET_VMA_ANON_NAME) or "/memfd:mlalloc (deleted)", and
 * also through the exported symbol `mlalloc_introspect_root`.  It starts
 * with struct mlalloc_pub_header; every other table is found through the
 * offsets in that header, so a reader never hard-codes a table position.
 *
 * All fields are little-endian native x86-64 integers; the layout only
 * grows at the end of each struct (header_size / *_stride say how big the
 * writer's structs are), and `version` changes on any incompatible change.
 *
 * Consistency: see FORMAT.md.  In short: the large-block table and the
 * header totals are covered by header.seq; each segment record by its own
 * seq; heap counters are single-writer 64-bit words.
 */
#ifndef MLALLOC_FORMAT_H
#define MLALLOC_FORMAT_H

#include <stdint.h>

#define MLALLOC_PUB_MAGIC   "MLALLOC\x01"   /* 8 bytes, no terminator needed */
#define MLALLOC_PUB_VERSION 1u
#define MLALLOC_PUB_NCLASSES 56u            /* size classes in version 1 */

/* Segment kinds (mlalloc_pub_segment.kind). */
enum {
	MLALLOC_SEG_UNUSED = 0,   /* record slot not in use (never, or its segment was given back) */
	MLALLOC_SEG_BRK    = 1,   /* small/medium segment carved from the brk heap */
	MLALLOC_SEG_MMAP   = 2,   /* small/medium segment from mmap (brk could not grow) */
};

/* Segment states (mlalloc_pub_segment.state). */
enum {
	MLALLOC_SEGSTATE_OWNED     = 0,   /* owned by the heap of thread owner_tid */
	MLALLOC_SEGSTATE_ABANDONED = 1,   /* its thread exited; live blocks remain */
	MLALLOC_SEGSTATE_POOLED    = 2,   /* empty, kept for reuse */
};

/* Large block states (mlalloc_pub_large.state). */
enum {
	MLALLOC_LARGE_UNUSED = 0,
	MLALLOC_LARGE_LIVE   = 1,   /* handed out to the program */
	MLALLOC_LARGE_CACHED = 2,   /* freed, kept mapped for reuse */
};

/* One per heap (thread) slot.  Written only by the owning thread, with plain
 * 64-bit stores; counters only grow.  live blocks of class c over all heaps =
 * sum(nmalloc[c]) - sum(nfree[c]) (a block freed by another thread counts in
 * the freeing thread's nfree). */
struct mlalloc_pub_heap {
	uint64_t tid;                 /* kernel thread id, 0 if the slot is free */
	uint64_t state;               /* 1 while a thread uses it, 0 after exit */
	uint64_t nmalloc[MLALLOC_PUB_NCLASSES];
	uint64_t nfree[MLALLOC_PUB_NCLASSES];
};

/* One per segment: a 4 MiB (seg_size) aligned block of seg_pages pages of
 * page_size bytes.  Page 0 holds the allocator's metadata.
 * seq is odd while the record is being written. */
struct mlalloc_pub_segment {
	uint64_t seq;
	uint64_t base;                /* address of the segment */
	uint32_t kind;                /* MLALLOC_SEG_* */
	uint32_t state;               /* MLALLOC_SEGSTATE_* */
	uint64_t owner_tid;           /* 0 unless OWNED */
	uint64_t used;                /* bit i: page i belongs to an in-use span */
	uint64_t dirty;               /* bit i: free page that may still hold RSS */
	uint8_t  page_class[64];      /* class of the span covering page i, 0xff if free/meta */
};

/* One per large block (bigger than max_small, mapped on its own). */
struct mlalloc_pub_large {
	uint64_t addr;                /* pointer returned to the program */
	uint64_t usable;              /* malloc_usable_size() of it */
	uint64_t map_base;            /* start of its mapping */
	uint64_t map_size;            /* length of its mapping */
	uint32_t state;               /* MLALLOC_LARGE_* */
	uint32_t reserved;
};

/* At offset 0 of the region. */
struct mlalloc_pub_header {
	char     magic[8];            /* MLALLOC_PUB_MAGIC */
	uint32_t version;             /* MLALLOC_PUB_VERSION */
	uint32_t header_size;         /* sizeof(struct mlalloc_pub_header) of the writer */
	uint64_t seq;                 /* seqlock over header totals + large table: odd = writing */
	uint64_t region_size;         /* bytes of the whole region */
	uint64_t pid;                 /* getpid() of the writer (updated in a forked child) */

	uint32_t seg_size;            /* bytes per segment (4 MiB) */
	uint32_t page_size;           /* bytes per allocator page (64 KiB) */
	uint32_t seg_pages;           /* pages per segment (64) */
	uint32_t nclasses;            /* number of size classes */
	uint64_t max_small;           /* largest size served from segments */

	uint64_t classes_off;         /* uint32_t class_size[nclasses] */
	uint64_t heaps_off;           /* struct mlalloc_pub_heap[heaps_max] */
	uint64_t segs_off;            /* struct mlalloc_pub_segment[segs_max] */
	uint64_t large_off;           /* struct mlalloc_pub_large[large_max] */
	uint32_t heap_stride, seg_stride, large_stride, reserved0;
	uint32_t heaps_max, segs_max, large_max, reserved1;

	/* Covered by seq. */
	uint64_t heaps_used;          /* slots [0, heaps_used) have ever been used */
	uint64_t segs_used;           /* records [0, segs_used) have ever been used */
	uint64_t large_used;          /* records [0, large_used) have ever been used */
	uint64_t heaps_unpublished;   /* heaps that got no slot (more than heaps_max threads) */
	uint64_t segs_unpublished;    /* segments that got no record */
	uint64_t large_unpublished;   /* large blocks that got no record */
	uint64_t brk_start;           /* first brk address the allocator took, 0 if none */
	uint64_t brk_end;             /* current end of the allocator's brk heap */
	uint64_t brk_failed;          /* 1 once brk was refused and mmap took over */
	uint64_t seg_bytes_brk;       /* bytes of segments from brk, held now */
	uint64_t seg_bytes_mmap;      /* bytes of segments from mmap, held now */
	uint64_t large_live;          /* large blocks in use */
	uint64_t large_live_bytes;    /* their usable bytes */
	uint64_t large_cached;        /* freed large blocks kept mapped */
	uint64_t large_cached_bytes;  /* their mapping bytes */
	uint64_t large_nmalloc;       /* large allocations ever */
	uint64_t large_nfree;         /* large frees ever */
	uint64_t purged_bytes;        /* bytes ever given back with madvise/munmap */
	uint64_t decay_ms;            /* idle time before free pages are given back */

	/* Added after the first release of version 1 (a reader sees it only
	 * when header_size covers it; older writers leave it out). */
	uint64_t class_pages_off;     /* uint8_t span_pages[nclasses]: pages per span of class i */
};

/* ---- checking mode (MLALLOC_CHECK, alloc/README.md "Checking mode") ----
 * When the checking mode finds a heap bug it fills the exported object
 * `mlalloc_check_report` before it aborts or lets the fault kill the
 * process, so that a tracer (memlayout run --check=heap) reads the facts
 * from the stopped process instead of parsing the message.  magic is
 * written last: a reader takes the record only when magic matches.
 * Backtraces are return addresses (the call site is the byte before),
 * innermost first, mlalloc's own frames left out. */
#define MLALLOC_CHECK_MAGIC   0x4b434c4du   /* "MLCK" */
#define MLALLOC_CHECK_VERSION 1u
#define MLALLOC_CHECK_DEPTH   10u

enum mlalloc_check_kind {
	MLALLOC_CHECK_NONE = 0,
	MLALLOC_CHECK_USE_AFTER_FREE = 1,   /* heap-use-after-free */
	MLALLOC_CHECK_OVERFLOW = 2,         /* heap-buffer-overflow */
	MLALLOC_CHECK_UNDERFLOW = 3,        /* heap-buffer-underflow */
	MLALLOC_CHECK_DOUBLE_FREE = 4,      /* double-free */
	MLALLOC_CHECK_INVALID_FREE = 5,     /* invalid-free */
};

enum mlalloc_check_access {
	MLALLOC_ACCESS_UNKNOWN = 0,
	MLALLOC_ACCESS_READ = 1,
	MLALLOC_ACCESS_WRITE = 2,
	MLALLOC_ACCESS_FREE = 3,            /* found by free/realloc, or at quarantine eviction */
};

struct mlalloc_check_report {
	uint32_t magic;          /* MLALLOC_CHECK_MAGIC once the record is complete */
	uint32_t version;        /* MLALLOC_CHECK_VERSION */
	uint32_t kind;           /* enum mlalloc_check_kind */
	uint32_t access;         /* enum mlalloc_check_access */
	uint64_t address;        /* the faulting address, or the pointer freed */
	uint64_t block;          /* the block's user address (0: none known) */
	uint64_t size;           /* its requested size */
	int64_t offset;          /* address - block */
	uint32_t tid;            /* thread that found it */
	uint32_t depth_alloc;    /* entries of alloc_bt in use */
	uint32_t depth_free;     /* entries of free_bt in use (0 unless freed) */
	uint32_t reserved;
	uint64_t alloc_bt[MLALLOC_CHECK_DEPTH];
	uint64_t free_bt[MLALLOC_CHECK_DEPTH];
};

/* Leaks at exit (MLALLOC_CHECK=...,leaks): the exported object
 * `mlalloc_leak_report`, filled before the process exits; magic written
 * last.  Groups of unreferenced live blocks with the same allocation
 * backtrace, largest first; the totals count every group. */
#define MLALLOC_LEAK_MAGIC  0x4b4c4d4du   /* "MMLK" */
#define MLALLOC_LEAK_GROUPS 16u

struct mlalloc_leak_group {
	uint64_t bytes, blocks;
	uint32_t depth, reserved;
	uint64_t bt[MLALLOC_CHECK_DEPTH];
};

struct mlalloc_leak_report {
	uint32_t magic;          /* MLALLOC_LEAK_MAGIC once complete */
	uint32_t version;        /* MLALLOC_CHECK_VERSION */
	uint32_t ngroups;        /* entries of groups in use (<= MLALLOC_LEAK_GROUPS) */
	uint32_t ngroups_total;  /* groups found */
	uint64_t bytes, blocks;  /* totals */
	struct mlalloc_leak_group groups[MLALLOC_LEAK_GROUPS];
};

#endif
