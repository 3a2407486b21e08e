/* SPDX-License-Identifier: MIT */
/* types.h: the allocator's data structures and their invariants.  This is the
 * design document of mlalloc in code; README.md tells the story around it.
 *
 * Memory is cut into segments of MLA_SEG_SIZE bytes, aligned to MLA_SEG_SIZE,
 * taken from the brk heap (or mmap when brk cannot grow).  A segment holds
 * MLA_SEG_PAGES pages of MLA_PAGE_SIZE; page 0 holds struct mla_segment itself.
 * A span is a run of pages serving blocks of one size class; its first page
 * descriptor (the head) carries the free lists.  Each segment belongs to one
 * thread's heap; only that thread allocates from it.  Blocks bigger than
 * MLA_MAX_SMALL are "large": each gets its own mmap, aligned to MLA_SEG_SIZE,
 * with struct mla_large at the start of the mapping.
 *
 * Finding metadata from a pointer p: mla__segmap[p >> MLA_SEG_SHIFT] is the
 * kind (enum mla_hdr_kind) of the header that starts at the MLA_SEG_SIZE
 * boundary below p: MLA_KIND_NONE for memory we do not own,
 * MLA_KIND_SEGMENT or MLA_KIND_LARGE; or k > MLA_KIND_LARGE if an mla_large
 * header starts k - MLA_KIND_LARGE boundaries lower (large blocks spanning
 * several segments; 255 means "at least 253 lower").  So free's fast path
 * knows from the map alone that p is in a segment, without reading the
 * magic of a header that may be a large block's.
 */
#ifndef MLA_ALLOC_TYPES_H
#define MLA_ALLOC_TYPES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlalloc-format.h"

#define MLA_SEG_SHIFT   22
#define MLA_SEG_SIZE    ((size_t)1 << MLA_SEG_SHIFT)          /* 4 MiB */
#define MLA_PAGE_SHIFT  16
#define MLA_PAGE_SIZE   ((size_t)1 << MLA_PAGE_SHIFT)         /* 64 KiB */
#define MLA_SEG_PAGES   (MLA_SEG_SIZE / MLA_PAGE_SIZE)         /* 64 */
#define MLA_NCLASSES    MLALLOC_PUB_NCLASSES                 /* 56 */
#define MLA_MAX_SMALL   ((size_t)512 << 10)                  /* 512 KiB */
#define MLA_MIN_BLOCK   16                                   /* malloc alignment too */
#define MLA_MAX_SPAN    32                                   /* pages */
#define MLA_ADDR_BITS   47
#define MLA_SEGMAP_LEN  ((size_t)1 << (MLA_ADDR_BITS - MLA_SEG_SHIFT))

#define MLA_MAGIC_SEG   0x6d6c5345u   /* "ESlm" */
#define MLA_MAGIC_LARGE 0x6d6c4c41u   /* "ALlm" */

enum mla_hdr_kind { MLA_KIND_NONE = 0, MLA_KIND_SEGMENT = 1, MLA_KIND_LARGE = 2 };

#define mla_likely(x)   __builtin_expect(!!(x), 1)
#define mla_unlikely(x) __builtin_expect(!!(x), 0)
#define MLA_NOINLINE    __attribute__((noinline))
#define MLA_COLD        __attribute__((noinline, cold))
#define MLA_API         __attribute__((visibility("default")))

/* Free blocks.  Every block is at least 16 bytes; a free one holds two
 * words, both derived from secrets (getrandom, else AT_RANDOM; a fork child
 * keeps them): keys.link, drawn once per process, and the key of the span,
 * drawn for each span when it is made for a class (mla__page_init: a mix of
 * keys.canary, the span and a process-wide count of spans made):
 *
 *   link = rotl(next ^ &block ^ keys.link, 64 - MLA_LINK_ROT)
 *   key  = span->key ^ &block                  (the canary)
 *
 * `link` is the free-list link (next block, or NULL), encoded as in glibc's
 * safe-linking and mimalloc's secure mode: a value planted by a program
 * that does not know keys.link decodes to a random address.  Decoding
 * rotates left by MLA_LINK_ROT = 48, so the link's two low bytes land in the
 * top 16 bits of the decoded address, which must be zero: an overflow of 1
 * or 2 bytes into a free block always decodes out of range.  `key` is the
 * canary: written when the block goes on any list (free, local_free,
 * thread_free, or carved), checked when malloc pops it, cleared by malloc.
 * Only mlalloc writes span->key ^ x at x + 8, and only for x a block start
 * of that span made since the span got its key; so a block whose canary
 * matches is a carved block of this span, of this class.  malloc therefore
 * checks of the link it follows only that it is NULL or leads into the
 * block's own segment, far enough from its end for a block's two words
 * (mla__page_pop: one compare of next ^ b, which decoding yields before
 * next itself): a segment is mapped whole, so the next pop may read the
 * words there, and a link to anywhere else in the segment (not a block
 * start, a block of the span's earlier class left in its memory, another
 * span, the header) is caught when that block is popped, by its canary,
 * before it is handed out.  The slow paths (remote-free walk, double-free check,
 * repair) still check every link fully (mla_link_ok: NULL, or a carved
 * block of the same span at a multiple of the block size).
 * A free() that finds the canary intact has found a block already free: a
 * bad link then means it was written while free (reported at once), else a
 * walk of the span's lists confirms the double free.  The page's list heads
 * (free, local_free, thread_free) are metadata and stay plain pointers.
 * Invariant: for every block b on a list of page p, b->key == mla_canary(p, b)
 * and mla_link_ok(p, mla_link_get(b)). */
#define MLA_LINK_ROT 48

typedef struct mla_block {
	uintptr_t link;              /* encoded next: mla_link_get/mla_link_set */
	uintptr_t key;               /* mla_canary(block) while free, 0 when handed out */
} mla_block;

/* The per-process secrets of the free blocks (heap.c draws them); canary
 * is the root the span keys are drawn from. */
struct mla_keys {
	uintptr_t canary;
	uintptr_t link;
};

/* thread_free word: list head of blocks freed by other threads, low bit
 * MLA_TF_FULL set while the owner parked the page in its full queue (the next
 * remote free clears it and rings the segment's wake bitmap). */
#define MLA_TF_FULL ((uintptr_t)1)

/* Page descriptor.  For a span of n pages, descriptor [i] heads it and
 * [i+1 .. i+n-1] have head_off = their distance to [i].  Invariants for a
 * head with block_size != 0 (owner-only fields unless marked atomic), where
 * used(p) = p->used & ~MLA_USED_FULL and in_full(p) = p->used & MLA_USED_FULL
 * (mla_page_used, mla_page_in_full):
 *   capacity <= reserved;  blocks [0, capacity) were carved;
 *   used(p) == capacity - |free| - |local_free|
 *   used(p) - |thread_free| == blocks live in the program
 *   limit == capacity * block_size (0 when block_size == 0: free span)
 *   in_full(p)  <=> the page is in heap->full, not heap->queue[class]
 *   in_full(p) and no remote free since  <=> thread_free has MLA_TF_FULL
 * block_size == 0 means the span is free (or the page is metadata).
 * The full flag is the top bit of `used` so that free's fast path tests
 * "the span empties or is full" with the decrement itself: the field read
 * as int32_t is <= 0 exactly then (a span never holds 2^31 blocks). */
#define MLA_USED_FULL 0x80000000u
typedef struct mla_page {
	/* first cache line: what malloc and a local free read and write */
	mla_block *free;              /* malloc pops here */
	mla_block *local_free;        /* owner's frees; moved to free when free runs dry */
	uint8_t *start;              /* first block */
	uint64_t div_magic;          /* mla__divisible() constant for block_size */
	uint32_t used;                /* live blocks, | MLA_USED_FULL while in heap->full */
	uint32_t capacity;
	uint32_t block_size;
	uint32_t limit;              /* capacity * block_size: bytes carved; one load for free's check */
	uint8_t cls;
	uint8_t pad1;
	uint8_t span_pages;          /* on the head: pages in this span */
	uint8_t head_off;            /* on any page: distance back to its head */
	uint32_t pad0;
	uintptr_t key;               /* the span's canary secret: mla_canary(page, b) = key ^ b */
	/* second line: remote frees and the slow paths */
	_Atomic uintptr_t thread_free __attribute__((aligned(64)));
	uint32_t reserved;
	uint32_t index;              /* position in segment->pages */
	struct mla_page *next, *prev; /* in heap->queue[class] or heap->full */
} mla_page;   /* 128 bytes, 64-aligned: a remote free does not share the owner's line */

struct mla_heap;

/* Segment header, at the MLA_SEG_SIZE-aligned start of the segment.
 * used  : bit i set <=> page i belongs to an in-use span (bit 0 = this header)
 * dirty : bit i set => page i is free and was touched since last purged
 * (used & dirty) == 0.  heap is the owner (NULL when abandoned or pooled);
 * only the owner changes used/dirty and the page descriptors' owner fields. */
typedef struct mla_segment {
	uint32_t magic;              /* MLA_MAGIC_SEG */
	uint8_t kind;                /* MLA_KIND_SEGMENT */
	uint8_t from;                /* MLALLOC_SEG_BRK or MLALLOC_SEG_MMAP */
	uint16_t pub_index;          /* record in the published table, or 0xffff */
	_Atomic(struct mla_heap *) heap;
	uint64_t used;
	uint64_t dirty;
	uint64_t dirty_since_ms;     /* when dirty went from 0 to non-0 */
	uint64_t pooled_ms;          /* when it last went to the pool (empty) */
	/* bit i: a remote free hit full page i; on its own line, since every
	 * free into the segment reads the line of magic and heap */
	_Atomic uint64_t wake __attribute__((aligned(64)));
	struct mla_segment *next, *prev;
	mla_page pages[MLA_SEG_PAGES];
} mla_segment;

/* Large block header, at the start of its own MLA_SEG_SIZE-aligned mapping.
 * user + usable <= (uint8_t *)this + map_size; state LIVE or CACHED. */
typedef struct mla_large {
	uint32_t magic;              /* MLA_MAGIC_LARGE */
	uint8_t kind;                /* MLA_KIND_LARGE */
	uint8_t state;               /* MLALLOC_LARGE_LIVE / _CACHED */
	uint8_t fresh;               /* never handed out since mmap: still zero */
	uint8_t pad;
	uint32_t pub_index;          /* record in the published table, or UINT32_MAX */
	size_t map_size;
	size_t usable;
	uint8_t *user;
	uint64_t freed_ms;
	struct mla_large *next, *prev;  /* in the cache while CACHED */
} mla_large;

#define MLA_LARGE_HDR 64   /* bytes reserved for struct mla_large */

typedef struct mla_page_queue {
	mla_page *first, *last;
} mla_page_queue;

/* Thread-local heap.  pages[c] == queue[c].first, or &mla__page_empty when the
 * queue is empty, so the malloc fast path needs no NULL test.  direct[i] is
 * pages[c] for the class c of the requests of 16i - 15 .. 16i bytes (i <=
 * MLA_DIRECT_MAX / 16, and request 0 in direct[0]): malloc's fast path finds
 * the span of a small request by one load, as mimalloc's pages_free_direct.
 * Where the fast path serves nothing (mla__fast_lim <= MLA_DIRECT_MAX: the
 * full checking mode) direct[] stays &mla__page_empty.  Heap structs are
 * never unmapped (recycled through a pool), so a stale pointer read by a
 * racing remote free stays safe to touch. */
#define MLA_DIRECT_MAX 1024
typedef struct mla_heap {
	mla_page *direct[MLA_DIRECT_MAX / 16 + 1];
	mla_page *pages[MLA_NCLASSES];
	struct mlalloc_pub_heap *stat;   /* published counters (or &own_stat) */
	uintptr_t link_key;              /* keys.link, on the line of stat */
	mla_page_queue queue[MLA_NCLASSES];
	mla_page_queue full;
	mla_segment *segments;            /* owned segments (list via next/prev) */
	uint64_t wake_seen;
	uint64_t next_purge_ms;
	uint64_t slow_count;
	int tid;
	bool live;
	struct mla_heap *next_pool;       /* in the pool of unused heaps */
	struct mlalloc_pub_heap own_stat;
	/* bumped by remote frees into full pages: last, on a line of its own */
	_Atomic uint64_t wake_hint __attribute__((aligned(64)));
} mla_heap;

#endif
