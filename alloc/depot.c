/* SPDX-License-Identifier: MIT */
/* depot.c: the checking mode's stack depot: each distinct backtrace stored
 * once, named by a 32-bit id.
 *
 * A redzone block (guard.c) keeps two ids, its allocation's and its free's
 * backtrace, instead of two arrays of MLALLOC_CHECK_DEPTH frames: 8 bytes
 * instead of 160, so its header is 48 bytes, not 192.  That is less memory
 * per block, and fewer cache lines written at malloc and free and read
 * when the block leaves the quarantine (the misses that were most of full
 * mode's time).  A program allocates from few distinct stacks (bench.c's
 * cfrac from 3; python3 running a script from a few thousand), so the
 * table stays small and its hot entries stay in cache.
 *
 * Layout: ents[id - 1] = {hash, depth, frames}, handed out upwards by an
 * atomic counter, and an index of ids, open addressing by the backtrace's
 * hash, linear probing.  An insert writes its entry, then publishes the id
 * by a compare-and-swap of an empty index slot (release); a lookup reads
 * index slots with acquire, so an entry it meets is complete.  A lost race
 * wastes an entry, never makes a wrong one.  No lock, nothing removed.
 * Bounds: DEPOT_MAX entries (88 bytes each), an index twice that (4 bytes
 * a slot), both reserved at init and touched as used; a full depot, or one
 * that could not be reserved, answers id 0: no backtrace (depth 0). */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define DEPTH      MLALLOC_CHECK_DEPTH
#define DEPOT_BITS 20                              /* 1 Mi backtraces */
#define DEPOT_MAX  ((uint32_t)1 << DEPOT_BITS)
#define INDEX_MASK (((size_t)2 << DEPOT_BITS) - 1)   /* at most half full */

struct ent {
	uint32_t hash;
	uint32_t depth;
	uintptr_t f[DEPTH];
};

static struct ent *ents;
static _Atomic uint32_t *index_;
static _Atomic uint32_t nents;

int mla__depot_init(void)
{
	ents = mla__os_reserve(DEPOT_MAX * sizeof(*ents), true, "mlalloc-check-depot");
	index_ = mla__os_reserve((INDEX_MASK + 1) * sizeof(*index_), true, "mlalloc-check-depot-index");
	return ents && index_ ? 0 : -ENOMEM;
}

static uint32_t hash_of(const uintptr_t *f, unsigned depth)
{
	uint64_t h = depth;
	for (unsigned i = 0; i < depth; i++)
		h = (h ^ f[i]) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

static bool same(const struct ent *e, uint32_t hash, const uintptr_t *f, unsigned depth)
{
	return e->hash == hash && e->depth == depth && !memcmp(e->f, f, depth * sizeof(*f));
}

/* The id of the backtrace f[0..depth), stored if new; 0 if the depot is
 * full or absent. */
uint32_t mla__depot_put(const uintptr_t *f, unsigned depth)
{
	if (!ents || !index_)
		return 0;
	uint32_t hash = hash_of(f, depth), mine = 0;
	for (size_t at = hash & INDEX_MASK;; at = (at + 1) & INDEX_MASK) {
		uint32_t id = atomic_load_explicit(&index_[at], memory_order_acquire);
		if (id && same(&ents[id - 1], hash, f, depth))
			return id;
		if (id)
			continue;
		if (!mine) {   /* write an entry, then try to publish it here */
			mine = atomic_fetch_add_explicit(&nents, 1, memory_order_relaxed) + 1;
			if (mine > DEPOT_MAX) {
				atomic_store_explicit(&nents, DEPOT_MAX, memory_order_relaxed);
				return 0;
			}
			struct ent *e = &ents[mine - 1];
			e->hash = hash;
			e->depth = depth;
			memcpy(e->f, f, depth * sizeof(*f));
		}
		uint32_t empty = 0;
		if (atomic_compare_exchange_strong_explicit(&index_[at], &empty, mine,
		                                            memory_order_release, memory_order_acquire))
			return mine;
		if (same(&ents[empty - 1], hash, f, depth))   /* another thread stored it first */
			return empty;
	}
}

/* The frames of id (NULL and *ret_depth 0 for id 0: none).  They stay
 * valid and unchanged for the life of the process. */
const uintptr_t *mla__depot_get(uint32_t id, unsigned *ret_depth)
{
	if (!id || id > atomic_load_explicit(&nents, memory_order_relaxed) || !ents) {
		*ret_depth = 0;
		return NULL;
	}
	*ret_depth = ents[id - 1].depth;
	return ents[id - 1].f;
}
