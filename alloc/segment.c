/* SPDX-License-Identifier: MIT */
/* segment.c: segments (4 MiB, aligned, from brk or mmap) and the spans of
 * pages inside them.  A segment's free pages are the zero bits of its `used`
 * bitmap, so a span of n pages is found with n shifts and one ctz, and freed
 * spans coalesce for free.  Owners: a segment belongs to one heap (only that
 * thread changes its bitmaps); a segment whose thread exited sits on the
 * abandoned list until another heap adopts it; an empty one sits in the pool.
 * Both lists are under one lock; only slow paths take it.  Free pages are
 * purged (MADV_DONTNEED) once idle for mla__decay_ms; a segment that stayed
 * empty in the pool that long is given back: unmapped if it came from mmap,
 * or, if it came from brk, by lowering the break once it is the top one
 * (brk memory below a live segment cannot be given back). */
#include <string.h>

#include "internal.h"

_Atomic uint8_t mla__segmap[MLA_SEGMAP_LEN];

static mla_lock seg_lock = MLA_LOCK_INIT;
static mla_segment *pool;        /* empty segments (heap == NULL) */
static mla_segment *abandoned;   /* segments of exited threads with live blocks */

void *mla__hdr_walk(size_t i)
{
	for (;;) {
		uint8_t k = atomic_load_explicit(&mla__segmap[i], memory_order_relaxed);
		if (k == MLA_KIND_NONE)
			return NULL;
		if (k <= MLA_KIND_LARGE)
			return (void *)(i << MLA_SEG_SHIFT);
		size_t back = k == 255 ? 253 : (size_t)k - MLA_KIND_LARGE;
		if (back > i)
			return NULL;
		i -= back;
	}
}

void mla__segmap_set(uintptr_t base, size_t size, enum mla_hdr_kind kind)
{
	size_t first = base >> MLA_SEG_SHIFT;
	size_t n = (size + MLA_SEG_SIZE - 1) >> MLA_SEG_SHIFT;
	for (size_t j = 0; j < n && first + j < MLA_SEGMAP_LEN; j++) {
		uint8_t v = kind == MLA_KIND_NONE ? 0 : j == 0 ? (uint8_t)kind
		          : (uint8_t)(j + MLA_KIND_LARGE < 255 ? j + MLA_KIND_LARGE : 255);
		atomic_store_explicit(&mla__segmap[first + j], v, memory_order_release);
	}
}

static void list_push(mla_segment **head, mla_segment *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void list_remove(mla_segment **head, mla_segment *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static mla_segment *segment_from_os(void)
{
	int from = 0;
	mla_segment *seg = mla__os_brk_segment(MLA_SEG_SIZE, &from);
	if (!seg)
		return NULL;
	/* brk memory that an earlier owner released could hold old bytes. */
	memset(seg, 0, sizeof(*seg));
	seg->magic = MLA_MAGIC_SEG;
	seg->kind = MLA_KIND_SEGMENT;
	seg->from = (uint8_t)from;
	seg->used = 1;   /* page 0: this header */
	for (unsigned i = 0; i < MLA_SEG_PAGES; i++)
		seg->pages[i].index = i;
	int slot = mla__pub_seg_slot();
	seg->pub_index = slot < 0 ? 0xffff : (uint16_t)slot;
	struct mlalloc_pub_header *h = mla__pub();
	if (h) {
		mla__pub_begin();
		if (from == MLALLOC_SEG_BRK)
			h->seg_bytes_brk += MLA_SEG_SIZE;
		else
			h->seg_bytes_mmap += MLA_SEG_SIZE;
		mla__pub_end();
	}
	mla__segmap_set((uintptr_t)seg, MLA_SEG_SIZE, MLA_KIND_SEGMENT);
	return seg;
}

/* A segment for heap: adopted if one was abandoned, else pooled, else new.
 * An adopted segment comes back with its pages untouched: the caller files
 * them into its queues.  NULL when the OS has no memory. */
mla_segment *mla__segment_new(mla_heap *heap)
{
	mla_lock_take(&seg_lock);
	mla_segment *seg = pool;
	for (mla_segment *s = pool; s; s = s->next)   /* the lowest: let the top empty */
		if (s < seg)
			seg = s;
	if (seg)
		list_remove(&pool, seg);
	mla_lock_drop(&seg_lock);
	if (!seg)
		seg = segment_from_os();
	if (!seg)
		return NULL;
	atomic_store_explicit(&seg->heap, heap, memory_order_release);
	list_push(&heap->segments, seg);
	mla__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
	return seg;
}

mla_segment *mla__segment_adopt(mla_heap *heap)
{
	if (!atomic_load_explicit((_Atomic(mla_segment *) *)&abandoned, memory_order_relaxed))
		return NULL;
	mla_lock_take(&seg_lock);
	mla_segment *seg = abandoned;
	if (seg)
		list_remove(&abandoned, seg);
	mla_lock_drop(&seg_lock);
	if (!seg)
		return NULL;
	atomic_store_explicit(&seg->heap, heap, memory_order_release);
	atomic_store_explicit(&seg->wake, 0, memory_order_relaxed);
	list_push(&heap->segments, seg);
	mla__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
	return seg;
}

/* First run of n pages of the set `free` (a page bitmap), or -1. */
static int find_run_in(uint64_t free, unsigned n)
{
	uint64_t m = free;
	for (unsigned i = 1; i < n && m; i++)
		m &= free >> i;
	if (n > 1)
		m &= ~(uint64_t)0 >> (n - 1);   /* the run must end inside the segment */
	return m ? __builtin_ctzll(m) : -1;
}

static int find_run(const mla_segment *seg, unsigned n) { return find_run_in(~seg->used, n); }

static uint64_t run_mask(unsigned first, unsigned n);

/* The best place for n pages in seg: in the free run where they cover the
 * most pages still resident (freed, not purged), then the tightest such
 * run (best fit keeps long runs for long spans).  Returns the first page
 * or -1; *ret_score orders candidates across segments (higher is better). */
static int find_best(const mla_segment *seg, unsigned n, long *ret_score)
{
	uint64_t free = ~seg->used;
	int best = -1;
	long best_score = -1;
	while (free) {
		unsigned at = (unsigned)__builtin_ctzll(free);
		uint64_t rest = ~(free >> at);
		unsigned len = rest ? (unsigned)__builtin_ctzll(rest) : 64 - at;
		free &= ~run_mask(at, len);
		if (len < n)
			continue;
		/* the n pages at the end of the run with the most dirty ones */
		unsigned pos = at, most = 0;
		for (unsigned p = at; p + n <= at + len; p++) {
			unsigned d = (unsigned)__builtin_popcountll(seg->dirty & run_mask(p, n));
			if (d > most) {
				most = d;
				pos = p;
			}
			if (d == n)
				break;
		}
		long score = (long)most * 128 - (long)(len - n);
		if (score > best_score) {
			best_score = score;
			best = (int)pos;
		}
	}
	*ret_score = best_score;
	return best;
}

static uint64_t run_mask(unsigned first, unsigned n)
{
	uint64_t m = n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
	return m << first;
}

/* A span of `pages` pages owned by heap, head descriptor returned with
 * block_size still 0 (mla__page_init sets it), or NULL if out of memory, or
 * if !grow and no segment of the heap has room. */
mla_page *mla__span_alloc(mla_heap *heap, size_t pages, bool grow)
{
	mla_segment *seg = NULL;
	int at = -1;
	/* In the first few segments, the place covering the most pages freed
	 * but still resident, in the tightest run: a heap that frees and
	 * allocates in waves keeps touching the same memory.  Past those, the
	 * first fit. */
	long best_score = -1;
	unsigned looked = 0;
	for (mla_segment *s = heap->segments; s && looked < 16; s = s->next, looked++) {
		long score;
		int a = find_best(s, (unsigned)pages, &score);
		if (a >= 0 && score > best_score) {
			best_score = score;
			seg = s;
			at = a;
		}
	}
	if (!seg)
		for (seg = heap->segments; seg; seg = seg->next)
			if ((at = find_run(seg, (unsigned)pages)) >= 0)
				break;
	if (!seg) {
		if (!grow)
			return NULL;
		seg = mla__segment_new(heap);
		if (!seg || (at = find_run(seg, (unsigned)pages)) < 0)
			return NULL;
	} else if (seg != heap->segments) {
		list_remove(&heap->segments, seg);   /* keep the one with room first */
		list_push(&heap->segments, seg);
	}
	uint64_t mask = run_mask((unsigned)at, (unsigned)pages);
	seg->used |= mask;
	seg->dirty &= ~mask;
	for (unsigned i = 0; i < pages; i++)
		seg->pages[at + i].head_off = (uint8_t)i;
	mla_page *head = &seg->pages[at];
	head->span_pages = (uint8_t)pages;
	head->start = (uint8_t *)seg + ((size_t)at << MLA_PAGE_SHIFT);
	return head;
}

/* Grow the span headed by head to `pages` pages in place, if the pages
 * after it in its segment are free; the caller owns the segment and sets
 * the new class.  False (nothing changed) if they are not. */
bool mla__span_extend(mla_page *head, size_t pages)
{
	mla_segment *seg = (mla_segment *)mla_align_down((uintptr_t)head, MLA_SEG_SIZE);
	unsigned at = head->index, n = head->span_pages;
	if (pages <= n || at + pages > MLA_SEG_PAGES)
		return false;
	uint64_t more = run_mask(at + n, (unsigned)pages - n);
	if (seg->used & more)
		return false;
	seg->used |= more;
	seg->dirty &= ~more;
	for (unsigned i = n; i < pages; i++)
		seg->pages[at + i].head_off = (uint8_t)i;
	head->span_pages = (uint8_t)pages;
	return true;
}

/* Move the span headed by head (one block, live) down into the free pages
 * just before it, growing it into those after it if need be, so that it
 * covers `pages` pages starting with the first free page before it.  The
 * caller owns the segment, has taken head off its queue, moves the bytes
 * and sets the new head's class and lists.  Returns the new head, or NULL
 * (nothing changed) when there is no free page before the span or the free
 * run around it is too short. */
mla_page *mla__span_slide(mla_page *head, size_t pages)
{
	mla_segment *seg = (mla_segment *)mla_align_down((uintptr_t)head, MLA_SEG_SIZE);
	unsigned at = head->index, n = head->span_pages, before = 0, after = 0;
	while (!(seg->used >> (at - before - 1) & 1))   /* bit 0 (metadata) is always set */
		before++;
	while (at + n + after < MLA_SEG_PAGES && !(seg->used >> (at + n + after) & 1))
		after++;
	if (!before || before + n + after < pages)
		return NULL;
	unsigned nat = at - before;
	uint64_t oldm = run_mask(at, n), newm = run_mask(nat, (unsigned)pages);
	for (unsigned i = 0; i < n; i++)
		seg->pages[at + i].head_off = 0;
	head->block_size = 0;   /* no longer a head: must not look like a span */
	head->limit = 0;
	head->free = head->local_free = NULL;
	head->used &= ~MLA_USED_FULL;
	seg->used = (seg->used & ~oldm) | newm;
	if (!seg->dirty && (oldm & ~newm))
		seg->dirty_since_ms = mla__now_ms();
	seg->dirty = (seg->dirty | (oldm & ~newm)) & ~newm;
	for (unsigned i = 0; i < pages; i++)
		seg->pages[nat + i].head_off = (uint8_t)i;
	mla_page *nh = &seg->pages[nat];
	nh->span_pages = (uint8_t)pages;
	nh->start = (uint8_t *)seg + ((size_t)nat << MLA_PAGE_SHIFT);
	nh->next = nh->prev = NULL;
	return nh;
}

/* Give a span whose blocks are all free back to its segment.  The segment
 * goes to the pool when it becomes empty (even the heap's last one: the
 * pool hands out its lowest segment, so the top of the break can empty
 * and be given back). */
void mla__span_free(mla_heap *heap, mla_page *page)
{
	mla_segment *seg = (mla_segment *)mla_align_down((uintptr_t)page, MLA_SEG_SIZE);
	unsigned at = page->index, n = page->span_pages;
	uint64_t mask = run_mask(at, n);
	for (unsigned i = 0; i < n; i++)
		seg->pages[at + i].head_off = 0;
	page->block_size = 0;
	page->free = page->local_free = NULL;
	page->used = page->capacity = page->reserved = page->limit = 0;
	atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
	seg->used &= ~mask;
	if (!seg->dirty)
		seg->dirty_since_ms = mla__now_ms();
	seg->dirty |= mask;
	if (seg->used == 1) {
		list_remove(&heap->segments, seg);
		atomic_store_explicit(&seg->heap, NULL, memory_order_release);
		mla__pub_seg_write(seg, MLALLOC_SEGSTATE_POOLED);
		seg->pooled_ms = mla__now_ms();
		mla_lock_take(&seg_lock);
		list_push(&pool, seg);
		mla_lock_drop(&seg_lock);
		return;
	}
	mla__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
}

/* Give back free pages idle for the decay time (all of them if force). */
void mla__segment_purge(mla_segment *seg, uint64_t now, bool force)
{
	if (!seg->dirty || (!force && now - seg->dirty_since_ms < mla__decay_ms))
		return;
	uint64_t d = seg->dirty;
	size_t bytes = 0;
	while (d) {
		unsigned at = (unsigned)__builtin_ctzll(d);
		uint64_t rest = ~(d >> at);
		unsigned n = rest ? (unsigned)__builtin_ctzll(rest) : 64;
		mla__os_purge((uint8_t *)seg + ((size_t)at << MLA_PAGE_SHIFT), (size_t)n << MLA_PAGE_SHIFT);
		bytes += (size_t)n << MLA_PAGE_SHIFT;
		d &= ~run_mask(at, n);
	}
	seg->dirty = 0;
	struct mlalloc_pub_header *h = mla__pub();
	if (h)
		__atomic_fetch_add(&h->purged_bytes, bytes, __ATOMIC_RELAXED);
}

/* Give back at once the pages of seg in `pages` (a bitmap) that are free
 * and dirty, whatever their age; the caller owns seg. */
void mla__segment_purge_pages(mla_segment *seg, uint64_t pages)
{
	uint64_t d = pages & seg->dirty & ~seg->used;
	size_t bytes = 0;
	seg->dirty &= ~d;
	while (d) {
		unsigned at = (unsigned)__builtin_ctzll(d);
		uint64_t rest = ~(d >> at);
		unsigned n = rest ? (unsigned)__builtin_ctzll(rest) : 64 - at;
		mla__os_purge((uint8_t *)seg + ((size_t)at << MLA_PAGE_SHIFT), (size_t)n << MLA_PAGE_SHIFT);
		bytes += (size_t)n << MLA_PAGE_SHIFT;
		d &= ~run_mask(at, n);
	}
	struct mlalloc_pub_header *h = mla__pub();
	if (h && bytes)
		__atomic_fetch_add(&h->purged_bytes, bytes, __ATOMIC_RELAXED);
}

/* Give a pooled segment back to the OS; under seg_lock, seg already out of
 * the pool.  False (nothing changed) if it cannot go: a brk segment that
 * is not the top of the break. */
static bool segment_release(mla_segment *seg)
{
	uint8_t from = seg->from;
	uint16_t index = seg->pub_index;
	size_t resident = (size_t)__builtin_popcountll(seg->dirty) << MLA_PAGE_SHIFT;
	mla__segmap_set((uintptr_t)seg, MLA_SEG_SIZE, MLA_KIND_NONE);   /* before the range can be reused */
	if (from == MLALLOC_SEG_BRK) {
		if (!mla__os_brk_release(seg, MLA_SEG_SIZE)) {
			mla__segmap_set((uintptr_t)seg, MLA_SEG_SIZE, MLA_KIND_SEGMENT);
			return false;
		}
	} else {
		mla__os_unmap(seg, MLA_SEG_SIZE);
	}
	mla__pub_seg_release(from, index, resident);   /* seg is gone: values only */
	return true;
}

static bool pool_idle(const mla_segment *s, uint64_t now, bool force)
{
	return force || now - s->pooled_ms >= mla__decay_ms;
}

/* Purge idle pooled segments; give back those that stayed empty for the
 * decay time (all of them if force): mmap ones at once, brk ones from the
 * top of the break down. */
void mla__segment_pool_purge(uint64_t now, bool force)
{
	if (pthread_mutex_trylock(&seg_lock) != 0)
		return;
	for (mla_segment *s = pool, *next; s; s = next) {
		next = s->next;
		if (s->from == MLALLOC_SEG_MMAP && pool_idle(s, now, force)) {
			list_remove(&pool, s);
			segment_release(s);
			continue;
		}
		bool had = s->dirty != 0;
		mla__segment_purge(s, now, force);
		if (had && !s->dirty)
			mla__pub_seg_write(s, MLALLOC_SEGSTATE_POOLED);
	}
	uintptr_t top;
	while ((top = mla__os_brk_top()) != 0) {
		mla_segment *s = pool;
		while (s && (uintptr_t)s + MLA_SEG_SIZE != top)
			s = s->next;
		if (!s || !pool_idle(s, now, force))
			break;
		list_remove(&pool, s);
		if (!segment_release(s)) {
			list_push(&pool, s);
			break;
		}
	}
	mla_lock_drop(&seg_lock);
}

/* The owner thread exits: the segment goes to the pool if empty, else to the
 * abandoned list for the next heap that needs memory. */
void mla__segment_abandon(mla_segment *seg)
{
	atomic_store_explicit(&seg->heap, NULL, memory_order_release);
	bool empty = seg->used == 1;
	mla__pub_seg_write(seg, empty ? MLALLOC_SEGSTATE_POOLED : MLALLOC_SEGSTATE_ABANDONED);
	seg->pooled_ms = mla__now_ms();
	mla_lock_take(&seg_lock);
	list_push(empty ? &pool : &abandoned, seg);
	mla_lock_drop(&seg_lock);
}

/* In the fork child, before a segment of a thread that does not exist
 * there is abandoned: that thread may have stopped inside an operation on
 * it (see mla__page_repair), so its spans' counts and lists, and the
 * segment's bitmaps (a span taken: `used` set before `dirty` cleared), are
 * made to agree again. */
void mla__segment_repair(mla_segment *seg)
{
	seg->dirty &= ~seg->used;
	for (unsigned i = 1; i < MLA_SEG_PAGES; i++) {
		mla_page *page = &seg->pages[i];
		if (page->head_off == 0 && page->block_size)
			mla__page_repair(page);
	}
}

void mla__segment_atfork(int phase)
{
	mla_lock_atfork(&seg_lock, phase);
}
