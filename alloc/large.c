/* SPDX-License-Identifier: MIT */
/* large.c: blocks bigger than MLA_MAX_SMALL, each in its own mmap aligned to
 * MLA_SEG_SIZE (or to its alignment if bigger), with struct mla_large in the
 * first MLA_LARGE_HDR bytes.  Freed blocks stay mapped in a small cache for
 * mla__decay_ms so that a program that frees and reallocates big buffers does
 * not pay for munmap, mmap and page faults every time; past the decay, or
 * past the cache bounds, they are unmapped.  Growing realloc moves the pages
 * with mremap instead of copying.  One lock guards the cache and the
 * published large table; large operations are rare next to small ones. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Cache bounds.  A cached block the program had written whole stays
 * resident, so what a reuse wastes counts: cache_take takes the best fit,
 * and a block reused for a request smaller by REUSE_TRIM_MIN and by a
 * quarter of it gives the pages past the request back.  Measured on
 * bench/alloc's malloc-large-zero (peak RSS, glibc 459 MiB): first fit 678
 * MiB, best fit 567, best fit + trim 546 (537 with a 1 MiB minimum, which
 * doubled the CPU time of `large`: its 1-8 MiB blocks were trimmed and
 * faulted in again); malloc-large's CPU time 0.056 -> 0.09 s (glibc 0.30 s).
 * A cache of 128 MiB instead: 526 MiB, but malloc-large 0.12 s. */
#define CACHE_MAX_COUNT 32
#define CACHE_MAX_BYTES ((size_t)256 << 20)
#define REUSE_TRIM_MIN  ((size_t)4 << 20)
#define OS_PAGE 4096

static mla_lock large_lock = MLA_LOCK_INIT;
static mla_large *cache;            /* most recently freed first */
static size_t cache_count, cache_bytes;

static size_t user_offset(size_t align) { return mla_align_up(MLA_LARGE_HDR, align); }

static void pub_record(mla_large *lg)
{
	struct mlalloc_pub_header *h = mla__pub();
	if (!h || lg->pub_index == UINT32_MAX)
		return;
	struct mlalloc_pub_large *r = (void *)((uint8_t *)h + h->large_off + (size_t)lg->pub_index * sizeof(*r));
	r->addr = (uintptr_t)lg->user;
	r->usable = lg->usable;
	r->map_base = (uintptr_t)lg;
	r->map_size = lg->map_size;
	r->state = lg->state;
}

static void pub_release(mla_large *lg)
{
	struct mlalloc_pub_header *h = mla__pub();
	if (!h || lg->pub_index == UINT32_MAX)
		return;
	struct mlalloc_pub_large *r = (void *)((uint8_t *)h + h->large_off + (size_t)lg->pub_index * sizeof(*r));
	memset(r, 0, sizeof(*r));
}

/* Header totals; under large_lock and the pub seqlock. */
static void pub_totals(long live, long live_bytes, long cached, long cached_bytes, int nmalloc, int nfree)
{
	struct mlalloc_pub_header *h = mla__pub();
	if (!h)
		return;
	h->large_live += (uint64_t)live;
	h->large_live_bytes += (uint64_t)live_bytes;
	h->large_cached += (uint64_t)cached;
	h->large_cached_bytes += (uint64_t)cached_bytes;
	h->large_nmalloc += (uint64_t)nmalloc;
	h->large_nfree += (uint64_t)nfree;
}

static void cache_remove(mla_large *lg)
{
	if (lg->prev)
		lg->prev->next = lg->next;
	else
		cache = lg->next;
	if (lg->next)
		lg->next->prev = lg->prev;
	lg->next = lg->prev = NULL;
	cache_count--;
	cache_bytes -= lg->map_size;
}

/* Unmap a cached block; under large_lock and the seqlock. */
static void large_unmap(mla_large *lg)
{
	cache_remove(lg);
	pub_totals(0, 0, -1, -(long)lg->map_size, 0, 0);
	pub_release(lg);
	mla__pub_large_release(lg->pub_index);
	mla__segmap_set((uintptr_t)lg, lg->map_size, MLA_KIND_NONE);
	struct mlalloc_pub_header *h = mla__pub();
	if (h)
		__atomic_fetch_add(&h->purged_bytes, lg->map_size, __ATOMIC_RELAXED);
	mla__os_unmap(lg, lg->map_size);
}

/* The cached block that holds size bytes at alignment align with the
 * least room to spare (not wasting more than half of it), most recently
 * freed first among equals; under large_lock.  The best fit, not the
 * first: a block reused whole stays resident whole. */
static mla_large *cache_take(size_t size, size_t align, size_t base_align, size_t map_size)
{
	mla_large *best = NULL;
	for (mla_large *lg = cache; lg; lg = lg->next) {
		if (lg->map_size < map_size || lg->map_size / 2 > map_size)
			continue;
		if (((uintptr_t)lg & (base_align - 1)) != 0 || user_offset(align) + size > lg->map_size)
			continue;
		if (!best || lg->map_size < best->map_size)
			best = lg;
		if (lg->map_size == map_size)
			break;
	}
	if (best) {
		cache_remove(best);
		pub_totals(0, 0, -1, -(long)best->map_size, 0, 0);
	}
	return best;
}

void *mla__large_alloc(size_t size, size_t align, bool zero)
{
	size_t off = user_offset(align), map_size;
	size_t base_align = align > MLA_SEG_SIZE ? align : MLA_SEG_SIZE;
	if (!off || size > PTRDIFF_MAX || !(map_size = mla_align_up(off + size, OS_PAGE)) || off + size < size) {
		errno = ENOMEM;
		return NULL;
	}
	mla__heap_tick();
	mla_lock_take(&large_lock);
	mla__pub_begin();
	mla_large *lg = cache_take(size, align, base_align, map_size);
	mla__pub_end();
	mla_lock_drop(&large_lock);
	if (!lg) {
		lg = mla__os_map_aligned(map_size, base_align);
		if (!lg) {
			errno = ENOMEM;
			return NULL;
		}
		lg->magic = MLA_MAGIC_LARGE;
		lg->kind = MLA_KIND_LARGE;
		lg->fresh = 1;
		lg->map_size = map_size;
		lg->pub_index = mla__pub_large_slot();
		mla__segmap_set((uintptr_t)lg, map_size, MLA_KIND_LARGE);
	} else if (lg->map_size - map_size >= REUSE_TRIM_MIN && lg->map_size - map_size >= lg->map_size / 4) {
		mla__os_purge((uint8_t *)lg + map_size, lg->map_size - map_size);
		struct mlalloc_pub_header *h = mla__pub();
		if (h)
			__atomic_fetch_add(&h->purged_bytes, lg->map_size - map_size, __ATOMIC_RELAXED);
	}
	lg->user = (uint8_t *)lg + off;
	lg->usable = lg->map_size - off;
	lg->state = MLALLOC_LARGE_LIVE;
	if (zero && !lg->fresh)
		memset(lg->user, 0, size);
	lg->fresh = 0;
	mla_lock_take(&large_lock);
	mla__pub_begin();
	pub_totals(1, (long)lg->usable, 0, 0, 1, 0);
	pub_record(lg);
	mla__pub_end();
	mla_lock_drop(&large_lock);
	return lg->user;
}

void mla__large_free(mla_large *lg, const void *p, const char *func)
{
	if (mla_unlikely(lg->kind != MLA_KIND_LARGE))
		mla__fatal(MLA_FAULT_CORRUPT, func, p, lg, 0);
	if (mla_unlikely(lg->state != MLALLOC_LARGE_LIVE))
		mla__fatal(MLA_FAULT_LARGE_DOUBLE, func, p, lg->user, lg->usable);
	if (mla_unlikely(p != lg->user))
		mla__fatal(MLA_FAULT_INTERIOR, func, p, lg->user, lg->usable);
	uint64_t now = mla__now_ms();
	mla_lock_take(&large_lock);
	mla__pub_begin();
	pub_totals(-1, -(long)lg->usable, 1, (long)lg->map_size, 0, 1);
	lg->state = MLALLOC_LARGE_CACHED;
	lg->freed_ms = now;
	lg->prev = NULL;
	lg->next = cache;
	if (cache)
		cache->prev = lg;
	cache = lg;
	cache_count++;
	cache_bytes += lg->map_size;
	pub_record(lg);
	while (cache_count > CACHE_MAX_COUNT || cache_bytes > CACHE_MAX_BYTES) {
		mla_large *old = cache;
		while (old->next)
			old = old->next;
		large_unmap(old);
	}
	mla__pub_end();
	mla_lock_drop(&large_lock);
	mla__heap_tick();
}

/* realloc of a large block: in place when it fits and does not waste more
 * than 3/4 of the mapping, else grow by moving pages.  NULL if it has to go
 * through malloc + copy (the caller does that). */
void *mla__large_realloc(mla_large *lg, void *p, size_t size)
{
	size_t off = (size_t)((uint8_t *)p - (uint8_t *)lg);
	size_t need = mla_align_up(off + size, OS_PAGE);
	if (!need || off + size < size)
		return NULL;
	if (need <= lg->map_size && need >= lg->map_size / 4)
		return p;
	if (need < lg->map_size || off > MLA_SEG_SIZE)
		return NULL;
	/* Unmark first: once moved, the old range may be mapped by anyone. */
	size_t old_map = lg->map_size, old_usable = lg->usable;
	mla__segmap_set((uintptr_t)lg, old_map, MLA_KIND_NONE);
	uint8_t *nb = mla__os_move(lg, old_map, need, MLA_SEG_SIZE);
	if (!nb) {
		mla__segmap_set((uintptr_t)lg, old_map, MLA_KIND_LARGE);
		return NULL;
	}
	mla_large *nl = (mla_large *)nb;   /* the header moved with its page */
	nl->map_size = need;
	nl->user = nb + off;
	nl->usable = need - off;
	mla__segmap_set((uintptr_t)nb, need, MLA_KIND_LARGE);
	mla_lock_take(&large_lock);
	mla__pub_begin();
	pub_totals(0, (long)nl->usable - (long)old_usable, 0, 0, 0, 0);
	pub_record(nl);
	mla__pub_end();
	mla_lock_drop(&large_lock);
	return nl->user;
}

/* Unmap cached blocks idle for the decay time (all if force). */
void mla__large_purge(uint64_t now, bool force)
{
	if (!cache || pthread_mutex_trylock(&large_lock) != 0)
		return;
	mla__pub_begin();
	for (mla_large *lg = cache, *next; lg; lg = next) {
		next = lg->next;
		if (force || now - lg->freed_ms >= mla__decay_ms)
			large_unmap(lg);
	}
	mla__pub_end();
	mla_lock_drop(&large_lock);
}

void mla__large_atfork(int phase)
{
	mla_lock_atfork(&large_lock, phase);
}
