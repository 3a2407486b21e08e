/* SPDX-License-Identifier: MIT */
/* api.c: the exported malloc family.  malloc and free are the fast paths: a
 * class lookup, a pop or a push on the current span's list and one counter;
 * everything else goes to the noinline slow paths of heap.c and large.c.
 * The checks here are always on: a pointer must map to a segment or large
 * block we own, start a block, and not already be free; else ml__fatal.
 * malloc checks the canary and the encoded link of every block it pops
 * (ml__page_pop, types.h "Free blocks"): a free block written by an
 * overflow or after free aborts there, naming the block. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "mlalloc.h"

/* The span of segment seg holding the block p, or NULL if p is not a block
 * start in an in-use span (the caller reports it: bad_block).  A free span
 * has limit 0, so the bound rejects it too. */
static inline ml_page *checked_page(ml_segment *seg, void *p)
{
	ml_page *page = ml__page_of(seg, p);
	uint32_t off = (uint32_t)((uint8_t *)p - page->start);
	if (ml_unlikely(off >= page->limit || !ml_divisible(off, page->div_magic)))
		return NULL;
	return page;
}

/* p is in segment seg but not a block start of an in-use span: abort. */
static ML_COLD _Noreturn void bad_block(ml_segment *seg, void *p, const char *func)
{
	ml_page *page = ml__page_of(seg, p);
	if (page->block_size == 0)
		ml__fatal(ML_FAULT_FREE_SPAN, func, p, seg, 0);
	uint32_t off = (uint32_t)((uint8_t *)p - page->start);
	uint32_t idx = off / page->block_size;
	ml__fatal(ML_FAULT_INTERIOR, func, p, page->start + (size_t)idx * page->block_size, page->block_size);
}

/* Push the block b of page on its free list: local_free if the calling
 * thread owns the segment, else thread_free (a remote free). */
static inline void free_push(ml_segment *seg, ml_page *page, ml_block *b, uintptr_t key)
{
	ml_heap *heap = ml__tl_heap;
	if (ml_likely(atomic_load_explicit(&seg->heap, memory_order_relaxed) == heap)) {
		ml_link_set(b, page->local_free);
		b->key = key;
		page->local_free = b;
		heap->stat->nfree[page->cls]++;
		if (ml_unlikely(--page->used == 0 || page->in_full))
			ml__free_local_slow(heap, page);
		return;
	}
	ml__free_remote(seg, page, b);
}

/* b carries its canary: a block already free, or live data that happens
 * to look like it (it would have to hold a secret).  A link that is not a
 * block of the span then says the block was written while free, and it is
 * freed again: abort at once, do not walk lists through it.  Else walk the
 * span's lists to confirm; abort if free. */
static ML_COLD void check_not_free(ml_page *page, ml_block *b, const char *func)
{
	if (!ml_link_ok(page, ml_link_get(b)))
		ml__fatal(ML_FAULT_DOUBLE_WRITTEN, func, b, b, page->block_size);
	if (ml__page_holds_free(page, b, true))
		ml__fatal(ML_FAULT_DOUBLE, func, b, b, page->block_size);
}

/* free() of a block carrying the key: abort on a double free, else free it. */
static ML_COLD void double_free_suspect(ml_segment *seg, ml_page *page, ml_block *b, const char *func)
{
	check_not_free(page, b, func);
	free_push(seg, page, b, ml_canary(b));
}

ML_API void *malloc(size_t size)
{
	ml_heap *heap = ml__tl_heap;
	/* ML_MAX_SMALL + 1, 0 in full check mode; the countdown goes below 0
	 * only in sampled mode (guard.c: sample_now) */
	if (ml_likely(size < ml__fast_lim) && ml_likely(--ml__sample_left >= 0)) {
		unsigned c = ml_size_class_fast(size);
		ml_page *page = heap->pages[c];
		if (ml_likely(page->free != NULL)) {
			ml_block *b = ml__page_pop(page);
			page->used++;
			heap->stat->nmalloc[c]++;
			return b;
		}
	}
	return ml__malloc_slow(size);
}

/* Every free: the checks, reported with their message, then the push. */
static ML_NOINLINE void free_checked(void *p, const char *func)
{
	if (ml_unlikely(ml__check_mode) && ml__check_free(p, func))
		return;
	ml_segment *seg = ml__hdr_of(p);
	if (ml_unlikely(!seg || seg->magic != ML_MAGIC_SEG || (void *)seg == p)) {
		ml__free_slow(p, func);
		return;
	}
	ml_page *page = checked_page(seg, p);
	if (ml_unlikely(!page))
		bad_block(seg, p, func);
	ml_block *b = p;
	uintptr_t key = ml_canary(b);
	if (ml_unlikely(b->key == key)) {
		double_free_suspect(seg, page, b, func);
		return;
	}
	free_push(seg, page, b, key);
}

/* The fast path of free: the same checks, but anything out of the common
 * case (not a block of an in-use span of a segment, a block that looks
 * free, a span that empties or was full, another thread's segment) leaves
 * by a tail call, so the common case saves no register and calls nothing.
 * Inlined into free(), which then is the fast path itself, not a jump. */
static inline __attribute__((always_inline)) void free_block(void *p, const char *func)
{
	size_t i = (uintptr_t)p >> ML_SEG_SHIFT;
	if (ml_unlikely(i >= ML_SEGMAP_LEN || atomic_load_explicit(&ml__segmap[i], memory_order_relaxed) != 1))
		return free_checked(p, func);
	ml_segment *seg = (ml_segment *)(i << ML_SEG_SHIFT);
	if (ml_unlikely(seg->magic != ML_MAGIC_SEG))
		return free_checked(p, func);
	/* p == seg (the header) needs no test here: page 0 is never a span,
	 * its limit is 0, so checked_page rejects it and free_checked reports. */
	ml_page *page = checked_page(seg, p);
	ml_block *b = p;
	uintptr_t key = ml_canary(b);
	if (ml_unlikely(!page || b->key == key))
		return free_checked(p, func);
	ml_heap *heap = ml__tl_heap;
	if (ml_unlikely(atomic_load_explicit(&seg->heap, memory_order_relaxed) != heap))
		return ml__free_remote(seg, page, b);
	ml_link_set(b, page->local_free);
	b->key = key;
	page->local_free = b;
	heap->stat->nfree[page->cls]++;
	if (ml_unlikely(--page->used == 0 || page->in_full)) {
		/* A class keeps its only one-page span when it empties (see
		 * ml__free_local_slow): a block churning alone stays here. */
		if (!page->in_full && heap->pages[page->cls] == page && !page->next && page->span_pages == 1)
			return;
		return ml__free_local_slow(heap, page);
	}
}

ML_API void free(void *p)
{
	if (ml_likely(p != NULL))
		free_block(p, "free");
}

ML_API void *calloc(size_t n, size_t size)
{
	size_t total;
	if (ml_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (ml_unlikely(ml__check_mode)) {
		ml__init_once();
		return ml__check_malloc(total, ML_MIN_BLOCK, true);
	}
	if (total > ML_MAX_SMALL) {
		ml__init_once();
		return ml__large_alloc(total, ML_MIN_BLOCK, true);
	}
	void *p = malloc(total);
	if (p)
		memset(p, 0, total);
	return p;
}

/* Usable size of the live block p; aborts on a bad pointer. */
size_t ml__usable_size(const void *cp, const char *func)
{
	void *p = (void *)cp;
	size_t checked;
	if (ml_unlikely(ml__check_mode) && ml__check_usable(p, &checked))
		return checked;
	void *hdr = ml__hdr_of(p);
	if (!hdr)
		ml__fatal(ML_FAULT_FOREIGN, func, p, NULL, 0);
	if (*(uint32_t *)hdr == ML_MAGIC_LARGE) {
		ml_large *lg = hdr;
		if (lg->state != MLALLOC_LARGE_LIVE)
			ml__fatal(ML_FAULT_LARGE_DOUBLE, func, p, lg->user, lg->usable);
		if (p != lg->user)
			ml__fatal(ML_FAULT_INTERIOR, func, p, lg->user, lg->usable);
		return lg->usable;
	}
	if (*(uint32_t *)hdr != ML_MAGIC_SEG || hdr == p)
		ml__fatal(ML_FAULT_CORRUPT, func, p, hdr, 0);
	ml_page *page = checked_page(hdr, p);
	if (ml_unlikely(!page))
		bad_block(hdr, p, func);
	ml_block *b = p;
	if (ml_unlikely(b->key == ml_canary(b)))
		check_not_free(page, b, func);
	return page->block_size;
}

ML_API void *realloc(void *p, size_t size)
{
	if (ml_unlikely(ml__check_mode))
		return ml__check_realloc(p, size);
	return ml__realloc_plain(p, size);
}

void *ml__realloc_plain(void *p, size_t size)
{
	if (!p)
		return malloc(size);
	if (size == 0) {   /* as glibc: free and return NULL */
		free_block(p, "realloc");
		return NULL;
	}
	size_t usable = ml__usable_size(p, "realloc");
	void *hdr = ml__hdr_of(p);
	if (*(uint32_t *)hdr == ML_MAGIC_LARGE) {
		if (size > ML_MAX_SMALL) {
			void *r = ml__large_realloc(hdr, p, size);
			if (r)
				return r;
		}
	} else if (size <= usable && size >= usable / 2) {
		return p;
	} else if (size > usable && size <= ML_MAX_SMALL) {
		void *r = ml__realloc_grow(hdr, p, size);
		if (r)
			return r;
	}
	void *q = malloc(size);
	if (!q)
		return NULL;
	memcpy(q, p, size < usable ? size : usable);
	uint64_t leaving = *(uint32_t *)hdr == ML_MAGIC_SEG ? ml__realloc_leaving(hdr, p, usable) : 0;
	free_block(p, "realloc");
	if (leaving)
		ml__segment_purge_pages(hdr, leaving);
	return q;
}

ML_API void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (ml_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

static void *aligned(size_t align, size_t size)
{
	ml__init_once();
	if (ml_unlikely(ml__check_mode))
		return ml__check_malloc(size, align, false);
	if (align <= ML_MIN_BLOCK)
		return malloc(size);
	return ml__malloc_aligned(size, align);
}

ML_API int posix_memalign(void **ret, size_t align, size_t size)
{
	if (!ml_is_pow2(align) || align % sizeof(void *) != 0)
		return EINVAL;
	int saved = errno;
	void *p = aligned(align, size);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*ret = p;
	return 0;
}

ML_API void *aligned_alloc(size_t align, size_t size)
{
	if (!ml_is_pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(align, size);
}

ML_API void *memalign(size_t align, size_t size)
{
	if (!ml_is_pow2(align)) {   /* as glibc: round up to a power of two */
		if (align > ((size_t)1 << 62)) {
			errno = EINVAL;
			return NULL;
		}
		size_t a = 1;
		while (a < align)
			a <<= 1;
		align = a;
	}
	return aligned(align, size);
}

ML_API void *valloc(size_t size) { return aligned(4096, size); }

ML_API void *pvalloc(size_t size)
{
	size_t r = ml_align_up(size ? size : 1, 4096);
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned(4096, r);
}

ML_API size_t malloc_usable_size(void *p)
{
	return p ? ml__usable_size(p, "malloc_usable_size") : 0;
}

ML_API int ml_alloc_purge(void)
{
	ml__init_once();
	ml__heap_purge(ml__tl_heap, true);
	return 0;
}

ML_API unsigned ml_alloc_format_version(void) { return MLALLOC_PUB_VERSION; }

/* ---- fork: every global lock is taken around fork, in one order ---- */

static void fork_prepare(void)
{
	ml__check_atfork(ML_FORK_PREPARE);
	ml__heap_atfork(ML_FORK_PREPARE);
	ml__large_atfork(ML_FORK_PREPARE);
	ml__segment_atfork(ML_FORK_PREPARE);
	ml__os_atfork(ML_FORK_PREPARE);
	ml__pub_atfork(ML_FORK_PREPARE);
}

static void fork_parent(void)
{
	ml__pub_atfork(ML_FORK_PARENT);
	ml__os_atfork(ML_FORK_PARENT);
	ml__segment_atfork(ML_FORK_PARENT);
	ml__large_atfork(ML_FORK_PARENT);
	ml__heap_atfork(ML_FORK_PARENT);
	ml__check_atfork(ML_FORK_PARENT);
}

static void fork_child(void)
{
	ml__pub_atfork(ML_FORK_CHILD);
	ml__os_atfork(ML_FORK_CHILD);
	ml__segment_atfork(ML_FORK_CHILD);
	ml__large_atfork(ML_FORK_CHILD);
	ml__heap_atfork(ML_FORK_CHILD);
	ml__check_atfork(ML_FORK_CHILD);
}

__attribute__((constructor)) static void mlalloc_ctor(void)
{
	ml__init_once();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
