/* SPDX-License-Identifier: MIT */
/* mlalloc-reader.h: take a consistent copy of the heap state that a running
 * mlalloc process publishes (format: mlalloc-format.h, FORMAT.md), from
 * another process, without stopping it.  Needs the right to read the
 * target's memory (same user and ptrace scope, or CAP_SYS_PTRACE).
 * Library rules: returns 0 or -errno, never prints, ret_* untouched on error. */
#ifndef MLALLOC_READER_H
#define MLALLOC_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mlalloc-format.h"

/* A copy of the published state.  All pointers point into this allocation;
 * free it with mla_alloc_snapshot_free(). */
struct mla_alloc_snapshot {
	uint64_t region_addr;                   /* where the region is in the target */
	const char *found_by;                   /* "maps" or "symbol" */
	struct mlalloc_pub_header header;
	const uint32_t *class_size;             /* [header.nclasses] */
	const struct mlalloc_pub_heap *heaps;   /* [nheaps] */
	size_t nheaps;
	const struct mlalloc_pub_segment *segs; /* [nsegs] */
	size_t nsegs;
	const struct mlalloc_pub_large *large;  /* [nlarge] */
	size_t nlarge;
	const uint8_t *class_pages;             /* [header.nclasses] pages per span of
	                                           each class; NULL if the writer is
	                                           older than that field */
};

/* Bounds on the work that data from the target can cause (the target is
 * untrusted; memlayout-heap(1) lists them).  The table caps are 4 times the
 * tables mlalloc itself publishes (256 heaps, 4096 segments, 4096 large
 * blocks), so a real writer never reaches them: with them the copy is at
 * most 1024 * 912 + 16384 * 112 + 16384 * 40 bytes (3.4 MiB). */
#define MLA_ALLOC_READ_MS    2000u        /* copying: retries of a torn or moving state */
#define MLA_ALLOC_FIND_MS    2000u        /* finding: the symbol search in mapped files */
#define MLA_ALLOC_MAX_HEAPS  1024u        /* heap slots (one per thread) */
#define MLA_ALLOC_MAX_SEGS   16384u       /* segment records */
#define MLA_ALLOC_MAX_LARGE  16384u       /* large-block records */
#define MLA_ALLOC_MAX_SYMS   (1u << 22)   /* ELF symbols scanned, all mapped files together */
#define MLA_ALLOC_MAX_STRTAB (64u << 20)  /* ELF string table bytes read, all mapped files together */

/* Which bound stopped a read (mla_alloc_snapshot_read_bounded()): what
 * ("heap slots", "segment records", "large-block records", "symbols
 * scanned", "string table bytes", "copies of the symbol's name" (more than
 * 64 places in one string table hold it), "ms torn" (a seq stayed odd), "ms
 * changing" (a seq kept moving), "ms searching"), the value met (for the
 * times: the limit) and the limit. */
struct mla_alloc_bound {
	const char *what;
	uint64_t value, limit;
};

/* Copy the heap state of process pid into *ret_snap.  Returns 0, or
 * -ESRCH (no such process), -ENOENT (the process does not use mlalloc),
 * -EPROTO (a format version this reader does not know), -EAGAIN (the state
 * stayed torn or kept changing for MLA_ALLOC_READ_MS), -E2BIG (a table or
 * the symbol search is over its MLA_ALLOC_MAX_* limit), -ETIME (the symbol
 * search ran past MLA_ALLOC_FIND_MS), -EPERM/-EACCES (not allowed to read
 * it), -ENOMEM.  Mapped files are opened only through
 * /proc/PID/map_files/START-END or, where that is refused, by name without
 * following any symlink, and only if the object opened is the regular file
 * maps names (device and inode). */
int mla_alloc_snapshot_read(pid_t pid, struct mla_alloc_snapshot **ret_snap);

/* The same; on -EAGAIN, -E2BIG and -ETIME, *ret_bound (if not NULL) says
 * which bound was hit (it is filled on those failures only). */
int mla_alloc_snapshot_read_bounded(pid_t pid, struct mla_alloc_snapshot **ret_snap,
				   struct mla_alloc_bound *ret_bound);

/* Frees a snapshot; accepts NULL. */
void mla_alloc_snapshot_free(struct mla_alloc_snapshot *snap);

/* Blocks of class cls live in the snapshot: allocations minus frees over all
 * heaps.  0 for an unknown class. */
uint64_t mla_alloc_snapshot_live(const struct mla_alloc_snapshot *snap, unsigned cls);

/* Bytes in live small/medium blocks (sum over classes of live * class size). */
uint64_t mla_alloc_snapshot_live_bytes(const struct mla_alloc_snapshot *snap);

#endif
