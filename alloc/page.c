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

#define ML_CARVE_BYTES 16384   /* bytes carved per extension, at least one block */

void ml__page_init(ml_page *page, unsigned cls)
{
	size_t bs = ml_class_size(cls);
	page->cls = (uint8_t)cls;
	page->block_size = (uint32_t)bs;
	page->div_magic = ml_div_magic((uint32_t)bs);
	page->reserved = (uint32_t)(((size_t)page->span_pages << ML_PAGE_SHIFT) / bs);
	page->capacity = 0;
	page->limit = 0;
	page->used = 0;
	page->free = page->local_free = NULL;
	page->in_full = 0;
	page->next = page->prev = NULL;
	atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
}

/* Carve the next blocks of the span onto `free` (which is empty). */
static void page_extend(ml_page *page)
{
	uint32_t bs = page->block_size;
	uint32_t n = (uint32_t)(ML_CARVE_BYTES / bs);
	if (n == 0)
		n = 1;
	if (n > page->reserved - page->capacity)
		n = page->reserved - page->capacity;
	uint8_t *first = page->start + (size_t)page->capacity * bs;
	ml_block *b = (ml_block *)first;
	for (uint32_t i = 0; i + 1 < n; i++) {
		ml_block *nx = (ml_block *)((uint8_t *)b + bs);
		ml_link_set(b, nx);
		b->key = ml_canary(b);
		b = nx;
	}
	ml_link_set(b, NULL);
	b->key = ml_canary(b);
	page->free = (ml_block *)first;
	page->capacity += n;
	page->limit = page->capacity * bs;
}

/* malloc found the block b at the head of page->free with a bad canary or
 * link (ml__page_pop): name the block and what is wrong with it. */
ML_COLD _Noreturn void ml__page_pop_fatal(ml_page *page, ml_block *b)
{
	if (b->key != ml_canary(b))
		ml__fatal(ML_FAULT_FREE_BLOCK, "malloc", b, b, page->block_size);
	ml__fatal(ML_FAULT_FREE_LIST, "malloc", b, b, page->block_size);
}

/* Take the remote frees of page onto local_free; returns how many.  When
 * there were some, the first of them already cleared ML_TF_FULL.  Each
 * link is checked before it is followed (their canaries, when malloc pops
 * them); the walk is bounded by the span's block count. */
uint32_t ml__page_collect_remote(ml_page *page)
{
	uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
	if (!(tf & ~ML_TF_FULL))
		return 0;   /* nothing; a FULL mark stays as it is */
	tf = atomic_exchange_explicit(&page->thread_free, 0, memory_order_acquire);
	ml_block *head = (ml_block *)(tf & ~ML_TF_FULL), *tail = head, *next;
	uint32_t n = 1;
	while ((next = ml_link_get(tail)) != NULL) {
		if (ml_unlikely(!ml_link_ok(page, next)))
			ml__fatal(ML_FAULT_FREE_LIST, "malloc", tail, tail, page->block_size);
		tail = next;
		if (ml_unlikely(++n > page->reserved))
			ml__fatal(ML_FAULT_CORRUPT, "free", tail, page->start, page->block_size);
	}
	ml_link_set(tail, page->local_free);
	page->local_free = head;
	page->used -= n;
	return n;
}

/* Refill page->free from local_free, remote frees, or fresh blocks.
 * Returns whether free is non-empty now. */
bool ml__page_collect(ml_page *page)
{
	if (page->free)
		return true;
	ml__page_collect_remote(page);
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
 * counts are concerned, which is what ml__page_repair wants. */
static uint32_t list_trim(ml_page *page, ml_block **head, uint32_t room)
{
	uint32_t n = 0;
	ml_block *prev = NULL;
	for (ml_block *b = *head; b; prev = b, b = ml_link_get(b)) {
		if (n == room || !ml_link_ok(page, b) || b->key != ml_canary(b)) {
			if (prev)
				ml_link_set(prev, NULL);
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
 * in `used` (the span never empties: a leak ml_alloc_check reports),
 * `free` and `local_free` heading the same list (page_collect: the next
 * owner would hand those blocks out twice), a chain carved before
 * `capacity` covers it, a class whose divisor is not set yet.  Make the
 * lists and `used` agree again: keep what is certainly free, count the
 * rest as in use.  At worst a few blocks are leaked; never one handed out
 * twice. */
void ml__page_repair(ml_page *page)
{
	/* Cut inside ml__page_init: block_size stored, what follows not yet. */
	size_t most = ((size_t)page->span_pages << ML_PAGE_SHIFT) / page->block_size;
	page->cls = (uint8_t)ml_size_class(page->block_size);
	page->div_magic = ml_div_magic(page->block_size);
	if (page->reserved > most)
		page->reserved = (uint32_t)most;
	if (page->capacity > page->reserved)
		page->capacity = page->reserved;
	if (page->local_free == page->free)
		page->local_free = NULL;
	uint32_t n = list_trim(page, &page->free, page->capacity);
	n += list_trim(page, &page->local_free, page->capacity - n);
	page->used = page->capacity - n;
	page->limit = page->capacity * page->block_size;
}

/* Is b on one of page's free lists?  The confirmation step of the cheap
 * double-free check; bounded by the span's block count. */
bool ml__page_holds_free(ml_page *page, ml_block *b, bool walk_remote)
{
	ml_block *lists[3] = {
		page->free, page->local_free,
		walk_remote ? (ml_block *)(atomic_load_explicit(&page->thread_free, memory_order_acquire) & ~ML_TF_FULL) : NULL,
	};
	uint8_t *lo = page->start, *hi = page->start + (size_t)page->reserved * page->block_size;
	for (int l = 0; l < 3; l++) {
		uint32_t steps = 0;
		for (ml_block *x = lists[l]; x && steps <= page->reserved; x = ml_link_get(x), steps++) {
			if (x == b)
				return true;
			if ((uint8_t *)x < lo || (uint8_t *)x >= hi)
				break;   /* racing remote list or damage: stop, do not follow */
		}
	}
	return false;
}
