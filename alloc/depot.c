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
 * Layout: ents[id - 1] = {hash, next, depth, frames}, handed out upwards
 * by an atomic counter, and a small index of chain heads by hash (256 KiB:
 * an index sized for the most entries, 8 MiB, made every lookup of a
 * program with many stacks a cache miss, 7 % of cc1's time), each chain
 * linked through the entries' next ids.  An insert writes its entry, next
 * the head it saw, then publishes it by a compare-and-swap of the head
 * (release); a lookup reads heads with acquire, so an entry it meets is
 * complete, and entries never change.  A lost race re-reads the chain
 * (another thread may have stored the same backtrace) and wastes at most
 * an entry, never makes a wrong one.  No lock, nothing removed.
 * Bounds: DEPOT_MAX entries (96 bytes each, reserved at init and touched
 * as used); a full depot, or one that could not be reserved, answers id
 * 0: no backtrace (depth 0).  Chains average DEPOT_MAX / HEADS at worst. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define DEPTH      MLALLOC_CHECK_DEPTH
#define DEPOT_MAX  ((uint32_t)1 << 20)          /* 1 Mi backtraces */
#define HEADS      ((size_t)1 << 16)

struct ent {
	uint32_t hash;
	uint32_t next;                 /* the next id in its chain, 0 at the end */
	uint32_t depth;
	uintptr_t f[DEPTH];
};

static struct ent *ents;
static _Atomic uint32_t heads[HEADS];
static _Atomic uint32_t nents;

int mla__depot_init(void)
{
	ents = mla__os_reserve(DEPOT_MAX * sizeof(*ents), true, "mlalloc-check-depot");
	return ents ? 0 : -ENOMEM;
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
	if (e->hash != hash || e->depth != depth)
		return false;
	for (unsigned i = 0; i < depth; i++)
		if (e->f[i] != f[i])
			return false;
	return true;
}

/* The id of f[0..depth) in the chain from head, or 0. */
static uint32_t find(uint32_t head, uint32_t hash, const uintptr_t *f, unsigned depth)
{
	for (uint32_t id = head; id; id = ents[id - 1].next)
		if (same(&ents[id - 1], hash, f, depth))
			return id;
	return 0;
}

/* The id of the backtrace f[0..depth), stored if new; 0 if the depot is
 * full or absent. */
uint32_t mla__depot_put(const uintptr_t *f, unsigned depth)
{
	if (!ents)
		return 0;
	uint32_t hash = hash_of(f, depth), mine = 0, found;
	_Atomic uint32_t *head = &heads[hash & (HEADS - 1)];
	uint32_t h = atomic_load_explicit(head, memory_order_acquire);
	if ((found = find(h, hash, f, depth)) != 0)
		return found;
	mine = atomic_fetch_add_explicit(&nents, 1, memory_order_relaxed) + 1;
	if (mine > DEPOT_MAX) {
		atomic_store_explicit(&nents, DEPOT_MAX, memory_order_relaxed);
		return 0;
	}
	struct ent *e = &ents[mine - 1];
	e->hash = hash;
	e->depth = depth;
	memcpy(e->f, f, depth * sizeof(*f));
	for (;;) {
		e->next = h;
		if (atomic_compare_exchange_weak_explicit(head, &h, mine, memory_order_release, memory_order_acquire))
			return mine;
		if ((found = find(h, hash, f, depth)) != 0)   /* another thread stored it meanwhile */
			return found;
	}
}

/* The frames of id (NULL and *ret_depth 0 for id 0: none).  They stay
 * valid and unchanged for the life of the process. */
const uintptr_t *mla__depot_get(uint32_t id, unsigned *ret_depth)
{
	if (!id || id > DEPOT_MAX || id > atomic_load_explicit(&nents, memory_order_relaxed) || !ents) {
		*ret_depth = 0;
		return NULL;
	}
	*ret_depth = ents[id - 1].depth;
	return ents[id - 1].f;
}
