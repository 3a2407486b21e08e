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
 * free it with ml_alloc_snapshot_free(). */
struct ml_alloc_snapshot {
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

/* Copy the heap state of process pid into *ret_snap.  Returns 0, or
 * -ESRCH (no such process), -ENOENT (the process does not use mlalloc),
 * -EPROTO (a format version this reader does not know), -EAGAIN (the state
 * kept changing during every try), -EPERM/-EACCES (not allowed to read it),
 * -ENOMEM. */
int ml_alloc_snapshot_read(pid_t pid, struct ml_alloc_snapshot **ret_snap);

/* Frees a snapshot; accepts NULL. */
void ml_alloc_snapshot_free(struct ml_alloc_snapshot *snap);

/* Blocks of class cls live in the snapshot: allocations minus frees over all
 * heaps.  0 for an unknown class. */
uint64_t ml_alloc_snapshot_live(const struct ml_alloc_snapshot *snap, unsigned cls);

/* Bytes in live small/medium blocks (sum over classes of live * class size). */
uint64_t ml_alloc_snapshot_live_bytes(const struct ml_alloc_snapshot *snap);

/* Address of the published region in process pid (what
 * ml_alloc_snapshot_read finds first).  0 or -errno as above. */
int ml_alloc_locate(pid_t pid, uint64_t *ret_addr, uint64_t *ret_size);

#endif
