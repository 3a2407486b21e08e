/* SPDX-License-Identifier: MIT */
/* page.c: the free lists of one span (mimalloc's free-list sharding).  A span
 * keeps three lists: `free` (malloc pops), `local_free` (the owner's frees)
 * and `thread_free` (other threads' frees, a lock-free stack).  The fast
 * paths only touch the first two; this file carves fresh blocks lazily and
 * folds the other lists into `free` when it runs dry.  Carving is lazy so
 * that a class used for one block touches one OS page, not the whole span.
 * Links between blocks are stored encoded and checked before they are
 * followed (types.h, "Free blocks"); every walk here is bounded by the
 * span's block count. */
#include "internal.h"

#define MLA_CARVE_BYTES 16384   /* bytes carved per extension, at least one block */

/* Spans made so far, in the process: one term of every span key, so a
 * span made again in the same place gets another key. */
static _Atomic uint64_t span_count;

/* A fresh key for page (types.h, "Free blocks"): keys.canary, the span's
 * address and the count mixed by splitmix64's finalizer, odd (never the 0
 * of a live block's second word).  Blocks keyed before are void. */
void mla__page_rekey(mla_page *page)
{
	uint64_t n = atomic_fetch_add_explicit(&span_count, 1, memory_order_relaxed);
	uint64_t x = mla__keys.canary ^ (uintptr_t)page ^ (n * 0x9e3779b97f4a7c15u);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	page->key = (x ^ (x >> 31)) | 1;
}

/* First of all a new key: a fork child that finds the span cut inside
 * this function (mla__page_repair) keeps none of the blocks keyed before. */
void mla__page_init(mla_page *page, unsigned cls)
{
	size_t bs = mla_class_size(cls);
	mla__page_rekey(page);
	page->cls = (uint8_t)cls;
	page->block_size = (uint32_t)bs;
	page->div_magic = mla_div_magic((uint32_t)bs);
	page->reserved = (uint32_t)(((size_t)page->span_pages << MLA_PAGE_SHIFT) / bs);
	page->capacity = 0;
	page->limit = 0;
	page->used = 0;
	page->free = page->local_free = NULL;
	page->next = page->prev = NULL;
	atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
}

/* Carve the next blocks of the span onto `free` (which is empty). */
static void page_extend(mla_page *page)
{
	uint32_t bs = page->block_size;
	uint32_t n = (uint32_t)(MLA_CARVE_BYTES / bs);
	if (n == 0)
		n = 1;
	if (n > page->reserved - page->capacity)
		n = page->reserved - page->capacity;
	uint8_t *first = page->start + (size_t)page->capacity * bs;
	mla_block *b = (mla_block *)first;
	for (uint32_t i = 0; i + 1 < n; i++) {
		mla_block *nx = (mla_block *)((uint8_t *)b + bs);
		mla_link_set(b, nx);
		b->key = mla_canary(page, b);
		b = nx;
	}
	mla_link_set(b, NULL);
	b->key = mla_canary(page, b);
	page->free = (mla_block *)first;
	page->capacity += n;
	page->limit = page->capacity * bs;
}

/* malloc found the block b at the head of page->free with a bad canary or
 * link (mla__page_pop): name the block and what is wrong with it.  A b that
 * is no block of the span came by a link that stays inside the segment (the
 * pop before checks only that): name where it leads, outside the span or
 * inside one of its blocks. */
MLA_COLD _Noreturn void mla__page_pop_fatal(mla_page *page, mla_block *b)
{
	if ((uintptr_t)b - (uintptr_t)page->start >= page->limit)
		mla__fatal(MLA_FAULT_FREE_LINK_OUTSIDE, "malloc", b, page->start, page->block_size);
	uint32_t off = (uint32_t)((uint8_t *)b - page->start);
	if (!mla_link_ok(page, b))   /* reached by a link that stays in the span */
		mla__fatal(MLA_FAULT_FREE_LINK_INSIDE, "malloc", b, page->start + off / page->block_size * page->block_size,
		           page->block_size);
	if (b->key != mla_canary(page, b))
		mla__fatal(MLA_FAULT_FREE_BLOCK, "malloc", b, b, page->block_size);
	mla__fatal(MLA_FAULT_FREE_LIST, "malloc", b, b, page->block_size);
}

/* Take the remote frees of page onto local_free; returns how many.  When
 * there were some, the first of them already cleared MLA_TF_FULL.  Each
 * link is checked before it is followed (their canaries, when malloc pops
 * them); the walk is bounded by the span's block count. */
uint32_t mla__page_collect_remote(mla_page *page)
{
	uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
	if (!(tf & ~MLA_TF_FULL))
		return 0;   /* nothing; a FULL mark stays as it is */
	tf = atomic_exchange_explicit(&page->thread_free, 0, memory_order_acquire);
	mla_block *head = (mla_block *)(tf & ~MLA_TF_FULL), *tail = head, *next;
	uint32_t n = 1;
	while ((next = mla_link_get(tail)) != NULL) {
		if (mla_unlikely(!mla_link_ok(page, next)))
			mla__fatal(MLA_FAULT_FREE_LIST, "malloc", tail, tail, page->block_size);
		tail = next;
		if (mla_unlikely(++n > page->reserved))
			mla__fatal(MLA_FAULT_CORRUPT, "free", tail, page->start, page->block_size);
	}
	mla_link_set(tail, page->local_free);
	page->local_free = head;
	page->used -= n;
	return n;
}

/* Refill page->free from local_free, remote frees, or fresh blocks.
 * Returns whether free is non-empty now. */
bool mla__page_collect(mla_page *page)
{
	if (page->free)
		return true;
	mla__page_collect_remote(page);
	if (page->local_free) {
		page->free = page->local_free;
		page->local_free = NULL;
		return true;
	}
	if (page->capacity < page->reserved) {
		page_extend(page);
		return true;
	}
	return false;
}

/* Cut the list headed by *head after the first `room` blocks, or at the
 * first entry that is not a carved, keyed free block of page; returns how
 * many blocks it keeps.  A cut leaks what followed: in use, as far as the
 * counts are concerned, which is what mla__page_repair wants. */
static uint32_t list_trim(mla_page *page, mla_block **head, uint32_t room)
{
	uint32_t n = 0;
	mla_block *prev = NULL;
	for (mla_block *b = *head; b; prev = b, b = mla_link_get(b)) {
		if (n == room || !mla_link_ok(page, b) || b->key != mla_canary(page, b)) {
			if (prev)
				mla_link_set(prev, NULL);
			else
				*head = NULL;
			break;
		}
		n++;
	}
	return n;
}

/* The owner of page stopped for good inside an operation on it: the fork
 * child has only the forking thread, and every other thread is frozen
 * wherever fork found it; worse, fork write-protects the pages one by one
 * while those threads run on, so a thread that faults on a page fork has
 * already copied stops between two stores to different pages (a local free
 * pushed the block, then faulted on its counter in the published region
 * before `--used`).  Between the owner-only stores of one operation the
 * span breaks its equations (types.h): a block on local_free still counted
 * in `used` (the span never empties: a leak mlalloc_check reports),
 * `free` and `local_free` heading the same list (page_collect: the next
 * owner would hand those blocks out twice), a chain carved before
 * `capacity` covers it, a class whose divisor is not set yet.  Make the
 * lists and `used` agree again: keep what is certainly free, count the
 * rest as in use.  At worst a few blocks are leaked; never one handed out
 * twice. */
void mla__page_repair(mla_page *page)
{
	/* Cut inside mla__page_init: block_size stored, what follows not yet. */
	size_t most = ((size_t)page->span_pages << MLA_PAGE_SHIFT) / page->block_size;
	page->cls = (uint8_t)mla_size_class(page->block_size);
	page->div_magic = mla_div_magic(page->block_size);
	if (page->reserved > most)
		page->reserved = (uint32_t)most;
	if (page->capacity > page->reserved)
		page->capacity = page->reserved;
	if (page->local_free == page->free)
		page->local_free = NULL;
	uint32_t n = list_trim(page, &page->free, page->capacity);
	n += list_trim(page, &page->local_free, page->capacity - n);
	page->used = (page->used & MLA_USED_FULL) | (page->capacity - n);
	page->limit = page->capacity * page->block_size;
}

/* Is b on one of page's free lists?  The confirmation step of the cheap
 * double-free check; bounded by the span's block count. */
bool mla__page_holds_free(mla_page *page, mla_block *b, bool walk_remote)
{
	mla_block *lists[3] = {
		page->free, page->local_free,
		walk_remote ? (mla_block *)(atomic_load_explicit(&page->thread_free, memory_order_acquire) & ~MLA_TF_FULL) : NULL,
	};
	uint8_t *lo = page->start, *hi = page->start + (size_t)page->reserved * page->block_size;
	for (int l = 0; l < 3; l++) {
		uint32_t steps = 0;
		for (mla_block *x = lists[l]; x && steps <= page->reserved; x = mla_link_get(x), steps++) {
			if (x == b)
				return true;
			if ((uint8_t *)x < lo || (uint8_t *)x >= hi)
				break;   /* racing remote list or damage: stop, do not follow */
		}
	}
	return false;
}
