/* SPDX-License-Identifier: MIT */
/*
 * watch-private.h - what the files of `watch` share: the ELF kind cache
 * (watch-kinds.c) and the diff of two samples into events (watch-diff.c).
 */
#ifndef ML_WATCH_PRIVATE_H
#define ML_WATCH_PRIVATE_H

#include "ml-time.h"

/* Kinds of file-backed mappings as ELF attribution gave them, by (dev,
 * inode, offset), and the files already looked at. */
struct ml__kind_cache;
struct ml__kind_cache *ml__kind_cache_new(void);
void ml__kind_cache_free(struct ml__kind_cache *c);
/* Does snap map a private file the cache has not looked at yet? */
bool ml__kind_cache_stale(const struct ml__kind_cache *c, const struct ml_snapshot *snap);
/* Learn the kinds of full (an ELF-attributed snapshot) and mark every file
 * of snap as looked at.  0 or -ENOMEM. */
int ml__kind_cache_learn(struct ml__kind_cache *c, const struct ml_snapshot *full,
			 const struct ml_snapshot *snap);
/* Give snap's file-backed code and data mappings their cached kinds. */
/* 0 or -ENOMEM (a merged .bss tail split). */
int ml__kind_cache_apply(const struct ml__kind_cache *c, struct ml_snapshot *snap);

/* What the diff knows of a mapping of one side: the bytes the same thing
 * covers on the other side (64-bit: a 32-bit host may watch more than 4
 * GiB), and the other side's mapping overlapping it most (SIZE_MAX: none)
 * and by how much. */
struct ml__cover {
	uint64_t cov, bestov;
	size_t best;
};

/* Growable array of events. */
struct ml__events {
	struct ml_watch_event *ev;
	size_t n, cap;
	struct ml__cover *old, *new;   /* scratch of the diff, per mapping */
	size_t old_cap, new_cap;
	bool exec;    /* set by the caller: an exec replaced prev's address space */
};
void ml__events_free(struct ml__events *e);
/* Append the changes from prev to cur (mappings, brk, threads; after an
 * exec, e->exec, one exec event stands for the mappings and the brk).  0
 * or -ENOMEM.  Names point into the snapshots. */
int ml__watch_diff(struct ml__events *e, const struct ml_snapshot *prev,
		   const struct ml_snapshot *cur);

#endif
