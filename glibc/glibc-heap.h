/* SPDX-License-Identifier: MIT */
/*
 * glibc-heap.h - glibc malloc read from outside the process: where its
 * state is (main_arena, mp_, found by libc's debug symbols or by a scan of
 * libc's data validated against the heap), every arena and heap walked
 * chunk by chunk, every free list (tcache, fastbins, unsorted, small and
 * large bins) followed with glibc's own checks, mmap'd chunks found from
 * the maps and their headers.  Facts only: numbers, enums, addresses; the
 * tool turns them into words.
 *
 * Every pointer and size is read from the target and untrusted: each list
 * walk is bounded by the number of chunks the heap walks found (a list
 * longer than that is cyclic), every chunk is checked against its heap's
 * bounds, and ML_GLIBC_MAX_CHUNKS caps the whole read.  A failed check is
 * -EUCLEAN with the finding in struct ml_glibc_problem.
 *
 * Depends on libc only (process_vm_readv, ptrace for ml_glibc_stop_*).
 * Functions return 0 or -errno and never print or exit.
 */
#ifndef ML_GLIBC_HEAP_H
#define ML_GLIBC_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ML_GLIBC_MAX_CHUNKS  (16u << 20)  /* chunks walked in all, per read */
#define ML_GLIBC_MAX_ARENAS  1024u        /* arenas on the next list */
#define ML_GLIBC_MAX_HEAPS   65536u       /* heaps of all thread arenas */
#define ML_GLIBC_MAX_TCACHES 4096u        /* tcache_perthread_structs */
#define ML_GLIBC_MAP_CELLS   64
#define ML_GLIBC_HIST        24           /* size buckets: < 32, < 64, ... >= 128 MiB */
#define ML_GLIBC_STOP_MS     2000         /* stopping every thread: the limit */

/* A mapping of the target, as its maps line says. */
struct ml_glibc_map {
	uint64_t start, end, offset;
	bool r, w, x, anon;       /* anon: no file name (or [heap]) */
	bool heap;                /* [heap] */
	const char *name;         /* borrowed; NULL for none */
};

/* Reads len bytes of the target at addr into buf: 0 or -errno (-EFAULT for
 * memory that is not there). */
typedef int (*ml_glibc_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

enum ml_glibc_found { ML_GLIBC_BY_SYMBOLS, ML_GLIBC_BY_SCAN };

enum ml_glibc_list {
	ML_GLIBC_INUSE, ML_GLIBC_TCACHE, ML_GLIBC_FAST, ML_GLIBC_UNSORTED,
	ML_GLIBC_SMALL, ML_GLIBC_LARGE, ML_GLIBC_TOP, ML_GLIBC_MMAPPED,
	ML_GLIBC_NLISTS
};

/* What a corrupt heap showed first (glibc's own words are in the tool). */
enum ml_glibc_bad {
	ML_GLIBC_BAD_NONE,
	ML_GLIBC_BAD_SIZE,          /* chunk: size field below MINSIZE or misaligned */
	ML_GLIBC_BAD_OUTSIDE,       /* chunk: size reaches past its heap */
	ML_GLIBC_BAD_BIN_SIZE,      /* list chunk: size does not belong to the bin */
	ML_GLIBC_BAD_LINK,          /* doubly linked: bk->fd != chunk (or fd->bk) */
	ML_GLIBC_BAD_CYCLE,         /* list longer than the heap has chunks */
	ML_GLIBC_BAD_NOT_CHUNK,     /* list entry is not a chunk of any heap */
	ML_GLIBC_BAD_TWICE,         /* one chunk on two lists (double free) */
	ML_GLIBC_BAD_ALIGN,         /* misaligned pointer on a list */
	ML_GLIBC_BAD_TOP,           /* top chunk not where the heap ends */
	ML_GLIBC_BAD_ARENA_LIST,    /* main_arena.next does not come back */
	ML_GLIBC_BAD_HEAP_INFO,     /* a thread heap's heap_info is inconsistent */
	ML_GLIBC_BAD_UNREADABLE,    /* a pointer leads to unmapped memory */
	ML_GLIBC_BAD_TOO_MANY,      /* a bound (ML_GLIBC_MAX_*) was hit */
	ML_GLIBC_BAD_TCACHE,        /* a heap's first tcache_perthread_struct: counts and lists disagree */
};

struct ml_glibc_problem {
	enum ml_glibc_bad bad;
	enum ml_glibc_list list;    /* the list it was on (INUSE: the heap walk) */
	int bin;                    /* bin or tcache/fastbin index, -1 none */
	unsigned arena;             /* index in ml_glibc_heap.arenas */
	uint64_t chunk, value, expect;
};

struct ml_glibc_count { uint64_t chunks, bytes; };

/* One stretch of chunks: the brk heap of main_arena, or one heap_info heap. */
struct ml_glibc_heapseg {
	uint64_t start, end;        /* the mapping part (heap_info or brk area) */
	uint64_t chunks_start;      /* first chunk */
	uint64_t chunks_end;        /* end of the last chunk (top's end, or fenceposts) */
	unsigned arena;
	uint64_t in_use, free;      /* bytes (free: every free list and top) */
	char map[ML_GLIBC_MAP_CELLS + 1];
};

struct ml_glibc_arena {
	uint64_t addr;
	bool main;
	uint64_t system_mem, max_system_mem;
	uint64_t top, top_size, attached_threads;
	struct ml_glibc_count list[ML_GLIBC_NLISTS];   /* INUSE counts tcache too? no: see .c */
	uint64_t chunks;            /* walked */
	uint64_t largest_free;
	/* malloc_info()'s per-heap figures */
	uint64_t fast_chunks, fast_bytes, rest_chunks, rest_bytes;  /* rest: bins + top */
	size_t first_seg, nsegs;
};

struct ml_glibc_tcache {
	uint64_t addr;              /* the tcache_perthread_struct (chunk's mem) */
	uint64_t chunks, bytes;
	unsigned arena;
};

struct ml_glibc_mmapped { uint64_t start, size; };

/* One chunk, as `where` asks. */
struct ml_glibc_chunk {
	uint64_t chunk, size, mem;  /* header address, chunksize, user pointer */
	enum ml_glibc_list list;
	int bin;                    /* bin / tcache / fastbin index, -1 none */
	unsigned arena;
	bool mmapped;
};

struct ml_glibc_heap {
	unsigned version_minor;     /* 2.x */
	unsigned word;              /* 4 or 8 */
	enum ml_glibc_found found;
	uint64_t main_arena, mp;    /* addresses (mp 0: not found) */
	bool have_mp, safe_linking;
	uint64_t sbrk_base, mmap_threshold;
	uint64_t n_mmaps, mmapped_mem;       /* mp_'s figures */
	unsigned tcache_bins, tcache_count;
	struct ml_glibc_arena *arenas; size_t narenas;
	struct ml_glibc_heapseg *segs; size_t nsegs;
	struct ml_glibc_tcache *tcaches; size_t ntcaches;
	struct ml_glibc_mmapped *mmapped; size_t nmmapped;
	/* mallinfo2() of the whole process, as glibc computes it */
	uint64_t arena_bytes, free_chunks, fastbin_chunks, mmap_chunks, mmap_bytes,
		 fastbin_bytes, in_use_bytes, free_bytes, top_bytes;
	uint64_t tcache_chunks, tcache_bytes;
	uint64_t chunks, largest_free;
	double fragmentation;       /* free bytes outside top / (in use + that) */
	struct ml_glibc_count hist_used[ML_GLIBC_HIST], hist_free[ML_GLIBC_HIST];
	/* private: sorted free chunks, for ml_glibc_where */
	void *priv;
};

struct ml_glibc_src {
	ml_glibc_read_fn read;
	void *ctx;
	const struct ml_glibc_map *maps;
	size_t nmaps;
	unsigned word;              /* 4 or 8 */
};

/* Where libc is: -ENOENT when no libc.so.6 is mapped (not glibc). */
int ml_glibc_detect(const struct ml_glibc_map *maps, size_t nmaps);

/* Read the heap of the process behind src.  debug_dir: where to look for
 * libc's debug file by build-id (NULL: /usr/lib/debug).  0, -ENOENT (no
 * glibc), -ENODATA (main_arena not found), -ENOTSUP (a glibc older than
 * 2.26), -EUCLEAN (corrupt: *ret_bad filled), -E2BIG (a bound hit: in
 * *ret_bad too), -ENOMEM, or the read's -errno. */
int ml_glibc_heap_read(const struct ml_glibc_src *src, const char *debug_dir,
		       struct ml_glibc_heap **ret, struct ml_glibc_problem *ret_bad);
/* The same on a located arena, for the fuzzer: main_arena at arena_addr. */
int ml_glibc_heap_walk(const struct ml_glibc_src *src, unsigned version_minor,
		       uint64_t arena_addr, uint64_t mp_addr, uint64_t sbrk_base,
		       struct ml_glibc_heap **ret, struct ml_glibc_problem *ret_bad);
void ml_glibc_heap_free(struct ml_glibc_heap *h);

/* The chunk addr is in: 0, or -ENOENT when it is in no heap or mmap'd chunk. */
int ml_glibc_where(const struct ml_glibc_src *src, const struct ml_glibc_heap *h,
		   uint64_t addr, struct ml_glibc_chunk *ret);

/* process_vm_readv as an ml_glibc_read_fn: ctx is a struct ml_glibc_pid. */
struct ml_glibc_pid { pid_t pid; void *cache; };
int ml_glibc_pid_read(void *ctx, uint64_t addr, void *buf, size_t len);
void ml_glibc_pid_done(struct ml_glibc_pid *p);

/* Every thread of pid stopped (PTRACE_SEIZE + PTRACE_INTERRUPT), within
 * ML_GLIBC_STOP_MS.  0 (*ret set; release it with ml_glibc_stop_release
 * on every path), -EPERM/-EACCES, -ETIME, -ESRCH, -ENOMEM.  Nothing is left
 * stopped on failure. */
struct ml_glibc_stopped;
int ml_glibc_stop_all(pid_t pid, struct ml_glibc_stopped **ret);
void ml_glibc_stop_release(struct ml_glibc_stopped *s);

#endif
