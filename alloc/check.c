/* SPDX-License-Identifier: MIT */
/* check.c: the expensive invariant walker behind mlalloc_check(): every
 * span of the calling thread's heap is checked against the equations in
 * types.h.  For tests and debugging; never called by the allocator itself. */
#include <errno.h>

#include "internal.h"
#include "mlalloc.h"

static bool list_ok(const mla_page *page, const mla_block *b, uint32_t *count)
{
	const uint8_t *lo = page->start, *hi = page->start + (size_t)page->capacity * page->block_size;
	for (; b; b = mla_link_get(b)) {
		if ((const uint8_t *)b < lo || (const uint8_t *)b >= hi)
			return false;
		if ((uint32_t)((const uint8_t *)b - lo) % page->block_size)
			return false;
		if (b->key != mla_canary(page, b))
			return false;
		if (++*count > page->capacity)
			return false;
	}
	return true;
}

static bool page_ok(const mla_heap *heap, const mla_page *page, bool in_full)
{
	const mla_segment *seg = (const mla_segment *)mla_align_down((uintptr_t)page, MLA_SEG_SIZE);
	if (seg->magic != MLA_MAGIC_SEG || atomic_load(&seg->heap) != heap)
		return false;
	if (page->head_off != 0 || page->block_size != mla_class_size(page->cls))
		return false;
	if (!(seg->used >> page->index & 1) || (seg->dirty >> page->index & 1))
		return false;
	if (page->capacity > page->reserved || mla_page_in_full(page) != in_full || page->limit != page->capacity * page->block_size)
		return false;
	if ((uint64_t)page->reserved * page->block_size > (uint64_t)page->span_pages << MLA_PAGE_SHIFT)
		return false;
	uint32_t nfree = 0;
	if (!list_ok(page, page->free, &nfree) || !list_ok(page, page->local_free, &nfree))
		return false;
	return mla_page_used(page) == page->capacity - nfree;
}

MLA_API int mlalloc_check(void)
{
	mla_heap *heap = mla__tls.heap;
	if (heap == &mla__heap_empty)
		return 0;
	for (unsigned c = 0; c < MLA_NCLASSES; c++) {
		const mla_page *first = heap->queue[c].first;
		if (heap->pages[c] != (first ? first : &mla__page_empty))
			return -EFAULT;
		for (const mla_page *p = first; p; p = p->next)
			if (p->cls != c || !page_ok(heap, p, false))
				return -EFAULT;
	}
	for (size_t i = 0; i <= MLA_DIRECT_MAX / 16; i++) {
		mla_page *want = mla__fast_lim > MLA_DIRECT_MAX ? heap->pages[mla_size_class(i * 16)] : &mla__page_empty;
		if (heap->direct[i] != want)
			return -EFAULT;
	}
	for (const mla_page *p = heap->full.first; p; p = p->next)
		if (!page_ok(heap, p, true))
			return -EFAULT;
	for (const mla_segment *seg = heap->segments; seg; seg = seg->next)
		if ((seg->used & seg->dirty) || !(seg->used & 1) || mla__hdr_of(seg) != seg)
			return -EFAULT;
	return 0;
}
