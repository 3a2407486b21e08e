/* SPDX-License-Identifier: MIT */
/* api.c: the exported malloc family.  malloc and free are the fast paths: a
 * class lookup, a pop or a push on the current span's list and one counter;
 * everything else goes to the noinline slow paths of heap.c and large.c.
 * The checks here are always on: a pointer must map to a segment or large
 * block we own, start a block, and not already be free; else mla__fatal.
 * malloc checks the canary and the encoded link of every block it pops
 * (mla__page_pop, types.h "Free blocks"): a free block written by an
 * overflow or after free aborts there, naming the block. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "mlalloc.h"

/* Whether p is a block start of the span page (the head of p's span); a
 * free span and the header page have capacity 0, so it rejects them too.
 * checked_page: that span, or NULL (the caller reports it: bad_block). */
static inline bool block_start(const mla_page *page, const void *p)
{
	return mla_block_index_ok((uintptr_t)p - (uintptr_t)page->start, page->div_magic, page->capacity);
}

static inline mla_page *checked_page(mla_segment *seg, void *p)
{
	mla_page *page = mla__page_of(seg, p);
	return mla_likely(block_start(page, p)) ? page : NULL;
}

/* p is in segment seg but not a block start of an in-use span: abort. */
static MLA_COLD _Noreturn void bad_block(mla_segment *seg, void *p, const char *func)
{
	mla_page *page = mla__page_of(seg, p);
	if (page->block_size == 0)
		mla__fatal(MLA_FAULT_FREE_SPAN, func, p, seg, 0);
	uint32_t off = (uint32_t)((uint8_t *)p - page->start);
	uint32_t idx = off / page->block_size;
	mla__fatal(MLA_FAULT_INTERIOR, func, p, page->start + (size_t)idx * page->block_size, page->block_size);
}

/* Push the block b of page on its free list: local_free if the calling
 * thread owns the segment, else thread_free (a remote free). */
static inline void free_push(mla_segment *seg, mla_page *page, mla_block *b, uintptr_t key)
{
	mla_heap *heap = mla__tls.heap;
	if (mla_likely(atomic_load_explicit(&seg->heap, memory_order_relaxed) == heap)) {
		mla_link_set(b, page->local_free);
		b->key = key;
		page->local_free = b;
		heap->stat->nfree[page->cls]++;
		if (mla_unlikely(mla_page_drop_used(page)))   /* empties, or in_full */
			mla__free_local_slow(heap, page);
		return;
	}
	mla__free_remote(seg, page, b);
}

/* b carries its canary: a block already free, or live data that happens
 * to look like it (it would have to hold a secret).  A link that is not a
 * block of the span then says the block was written while free, and it is
 * freed again: abort at once, do not walk lists through it.  Else walk the
 * span's lists to confirm; abort if free. */
static MLA_COLD void check_not_free(mla_page *page, mla_block *b, const char *func)
{
	if (!mla_link_ok(page, mla_link_get(b)))
		mla__fatal(MLA_FAULT_DOUBLE_WRITTEN, func, b, b, page->block_size);
	if (mla__page_holds_free(page, b, true))
		mla__fatal(MLA_FAULT_DOUBLE, func, b, b, page->block_size);
}

/* free() of a block carrying the key: abort on a double free, else free it. */
static MLA_COLD void double_free_suspect(mla_segment *seg, mla_page *page, mla_block *b, const char *func)
{
	check_not_free(page, b, func);
	free_push(seg, page, b, mla_canary(page, b));
}

/* A small request takes its span from heap->direct by one load; the
 * countdown of the sampled mode (guard.c: sample_now) goes below 0 only in
 * that mode.  In the full checking mode direct[] holds no span, and
 * mla__fast_lim (MLA_MAX_SMALL + 1, else 0) sends the rest to the slow path. */
MLA_API void *malloc(size_t size)
{
	mla_heap *heap = mla__tls.heap;
	mla_page *page;
	if (mla_likely(size <= MLA_DIRECT_MAX)) {
		if (mla_unlikely(--mla__tls.sample_left < 0))
			return mla__malloc_slow(size);
		page = heap->direct[(size + 15) >> 4];
	} else {
		if (mla_unlikely(size >= mla__fast_lim) || mla_unlikely(--mla__tls.sample_left < 0))
			return mla__malloc_slow(size);
		page = heap->pages[mla_size_class(size)];
	}
	if (mla_likely(page->free != NULL)) {
		mla_block *b = mla__page_pop(heap, page);
		page->used++;
		heap->stat->nmalloc[page->cls]++;
		return b;
	}
	return mla__malloc_slow(size);
}

/* Every free: the checks, reported with their message, then the push.
 * free(NULL) comes here too (segmap[0] is 0) and does nothing. */
static MLA_NOINLINE void free_checked(void *p, const char *func)
{
	if (!p)
		return;
	if (mla_unlikely(mla__check_mode) && mla__check_free(p, func))
		return;
	mla_segment *seg = mla__hdr_of(p);
	if (mla_unlikely(!seg || seg->magic != MLA_MAGIC_SEG || (void *)seg == p)) {
		mla__free_slow(p, func);
		return;
	}
	mla_page *page = checked_page(seg, p);
	if (mla_unlikely(!page))
		bad_block(seg, p, func);
	mla_block *b = p;
	uintptr_t key = mla_canary(page, b);
	if (mla_unlikely(b->key == key)) {
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
	/* An address above MLA_ADDR_BITS needs no test here: masked, it finds
	 * a segment of ours (or leaves), whose span then puts it at 2^47 - 4 MiB
	 * or more from its start, which no span has; free_checked reports it. */
	size_t i = ((uintptr_t)p >> MLA_SEG_SHIFT) & (MLA_SEGMAP_LEN - 1);
	if (mla_unlikely(atomic_load_explicit(&mla__segmap[i], memory_order_relaxed) != MLA_KIND_SEGMENT))
		return free_checked(p, func);
	mla_segment *seg = (mla_segment *)(i << MLA_SEG_SHIFT);
	/* p == seg (the header) needs no test here: page 0 is never a span,
	 * its capacity is 0, so block_start rejects it and free_checked reports. */
	mla_page *page = mla__page_of(seg, p);
	mla_block *b = p;
	uintptr_t key = mla_canary(page, b);   /* any descriptor's key is readable */
	if (mla_unlikely(!block_start(page, p) || b->key == key))
		return free_checked(p, func);
	mla_heap *heap = mla__tls.heap;
	/* The map says segment, so the magic is checked only where the owner
	 * is not us: a header overwritten there (a heap pointer that is not
	 * ours) is reported by free_checked instead of trusted. */
	if (mla_unlikely(atomic_load_explicit(&seg->heap, memory_order_relaxed) != heap))
		return mla_likely(seg->magic == MLA_MAGIC_SEG) ? mla__free_remote(seg, page, b) : free_checked(p, func);
	mla_link_set_k(b, page->local_free, heap->link_key);
	b->key = key;
	page->local_free = b;
	heap->stat->nfree[page->cls]++;
	if (mla_unlikely(mla_page_drop_used(page))) {   /* empties, or in_full (types.h) */
		/* A class keeps its only one-page span when it empties (see
		 * mla__free_local_slow): a block churning alone stays here. */
		if (page->used == 0 && heap->pages[page->cls] == page && !page->next && page->span_pages == 1)
			return;
		return mla__free_local_slow(heap, page);
	}
}

MLA_API void free(void *p)
{
	free_block(p, "free");   /* NULL leaves by free_checked */
}

MLA_API void *calloc(size_t n, size_t size)
{
	size_t total;
	if (mla_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (mla_unlikely(mla__check_mode)) {
		mla__init_once();
		return mla__check_malloc(total, MLA_MIN_BLOCK, true);
	}
	if (total > MLA_MAX_SMALL) {
		mla__init_once();
		return mla__large_alloc(total, MLA_MIN_BLOCK, true);
	}
	void *p = malloc(total);
	if (p)
		memset(p, 0, total);
	return p;
}

/* Usable size of the live block p; aborts on a bad pointer. */
size_t mla__usable_size(const void *cp, const char *func)
{
	void *p = (void *)cp;
	size_t checked;
	if (mla_unlikely(mla__check_mode) && mla__check_usable(p, &checked))
		return checked;
	void *hdr = mla__hdr_of(p);
	if (!hdr)
		mla__fatal(MLA_FAULT_FOREIGN, func, p, NULL, 0);
	if (*(uint32_t *)hdr == MLA_MAGIC_LARGE) {
		mla_large *lg = hdr;
		if (lg->state != MLALLOC_LARGE_LIVE)
			mla__fatal(MLA_FAULT_LARGE_DOUBLE, func, p, lg->user, lg->usable);
		if (p != lg->user)
			mla__fatal(MLA_FAULT_INTERIOR, func, p, lg->user, lg->usable);
		return lg->usable;
	}
	if (*(uint32_t *)hdr != MLA_MAGIC_SEG || hdr == p)
		mla__fatal(MLA_FAULT_CORRUPT, func, p, hdr, 0);
	mla_page *page = checked_page(hdr, p);
	if (mla_unlikely(!page))
		bad_block(hdr, p, func);
	mla_block *b = p;
	if (mla_unlikely(b->key == mla_canary(page, b)))
		check_not_free(page, b, func);
	return page->block_size;
}

MLA_API void *realloc(void *p, size_t size)
{
	if (mla_unlikely(mla__check_mode))
		return mla__check_realloc(p, size);
	return mla__realloc_plain(p, size);
}

void *mla__realloc_plain(void *p, size_t size)
{
	if (!p)
		return malloc(size);
	if (size == 0) {   /* as glibc: free and return NULL */
		free_block(p, "realloc");
		return NULL;
	}
	size_t usable = mla__usable_size(p, "realloc");
	void *hdr = mla__hdr_of(p);
	if (*(uint32_t *)hdr == MLA_MAGIC_LARGE) {
		if (size > MLA_MAX_SMALL) {
			void *r = mla__large_realloc(hdr, p, size);
			if (r)
				return r;
		}
	} else if (size <= usable && size >= usable / 2) {
		return p;
	} else if (size > usable && size <= MLA_MAX_SMALL) {
		void *r = mla__realloc_grow(hdr, p, size);
		if (r)
			return r;
	}
	void *q = malloc(size);
	if (!q)
		return NULL;
	memcpy(q, p, size < usable ? size : usable);
	uint64_t leaving = *(uint32_t *)hdr == MLA_MAGIC_SEG ? mla__realloc_leaving(hdr, p, usable) : 0;
	free_block(p, "realloc");
	if (leaving)
		mla__segment_purge_pages(hdr, leaving);
	return q;
}

MLA_API void *reallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (mla_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

static void *aligned(size_t align, size_t size)
{
	mla__init_once();
	if (mla_unlikely(mla__check_mode))
		return mla__check_malloc(size, align, false);
	if (align <= MLA_MIN_BLOCK)
		return malloc(size);
	return mla__malloc_aligned(size, align);
}

MLA_API int posix_memalign(void **ret, size_t align, size_t size)
{
	if (!mla_is_pow2(align) || align % sizeof(void *) != 0)
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

MLA_API void *aligned_alloc(size_t align, size_t size)
{
	if (!mla_is_pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(align, size);
}

MLA_API void *memalign(size_t align, size_t size)
{
	if (!mla_is_pow2(align)) {   /* as glibc: round up to a power of two */
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

MLA_API void *valloc(size_t size) { return aligned(4096, size); }

MLA_API void *pvalloc(size_t size)
{
	size_t r = mla_align_up(size ? size : 1, 4096);
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned(4096, r);
}

MLA_API size_t malloc_usable_size(void *p)
{
	return p ? mla__usable_size(p, "malloc_usable_size") : 0;
}

MLA_API int mlalloc_purge(void)
{
	mla__init_once();
	mla__heap_purge(mla__tls.heap, true);
	return 0;
}

MLA_API unsigned mlalloc_format_version(void) { return MLALLOC_PUB_VERSION; }

/* ---- fork: every global lock is taken around fork, in one order ---- */

static void fork_prepare(void)
{
	mla__check_atfork(MLA_FORK_PREPARE);
	mla__heap_atfork(MLA_FORK_PREPARE);
	mla__large_atfork(MLA_FORK_PREPARE);
	mla__segment_atfork(MLA_FORK_PREPARE);
	mla__os_atfork(MLA_FORK_PREPARE);
	mla__pub_atfork(MLA_FORK_PREPARE);
}

static void fork_parent(void)
{
	mla__pub_atfork(MLA_FORK_PARENT);
	mla__os_atfork(MLA_FORK_PARENT);
	mla__segment_atfork(MLA_FORK_PARENT);
	mla__large_atfork(MLA_FORK_PARENT);
	mla__heap_atfork(MLA_FORK_PARENT);
	mla__check_atfork(MLA_FORK_PARENT);
}

static void fork_child(void)
{
	mla__pub_atfork(MLA_FORK_CHILD);
	mla__os_atfork(MLA_FORK_CHILD);
	mla__segment_atfork(MLA_FORK_CHILD);
	mla__large_atfork(MLA_FORK_CHILD);
	mla__heap_atfork(MLA_FORK_CHILD);
	mla__check_atfork(MLA_FORK_CHILD);
}

__attribute__((constructor)) static void mlalloc_ctor(void)
{
	mla__init_once();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
