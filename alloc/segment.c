/* segment.c: segments (4 MiB, aligned, from brk or mmap) and the spans of
 * pages inside them.  A segment's free pages are the zero bits of its `used`
 * bitmap, so a span of n pages is found with n shifts and one ctz, and freed
 * spans coalesce for free.  Owners: a segment belongs to one heap (only that
 * thread changes its bitmaps); a segment whose thread exited sits on the
 * abandoned list until another heap adopts it; an empty one sits in the pool.
 * Both lists are under one lock; only slow paths take it.  Segments are never
 * given back to the kernel (brk memory cannot be, short of the top), but
 * their free pages are purged (MADV_DONTNEED) once idle for ml__decay_ms. */
#include <string.h>

#include "internal.h"

_Atomic uint8_t ml__segmap[ML_SEGMAP_LEN];

static ml_lock seg_lock = ML_LOCK_INIT;
static ml_segment *pool;        /* empty segments (heap == NULL) */
static ml_segment *abandoned;   /* segments of exited threads with live blocks */

void *ml__hdr_walk(size_t i)
{
	for (;;) {
		uint8_t k = atomic_load_explicit(&ml__segmap[i], memory_order_relaxed);
		if (k == 0)
			return NULL;
		if (k == 1)
			return (void *)(i << ML_SEG_SHIFT);
		size_t back = k == 255 ? 254 : (size_t)k - 1;
		if (back > i)
			return NULL;
		i -= back;
	}
}

void ml__segmap_set(uintptr_t base, size_t size, bool on)
{
	size_t first = base >> ML_SEG_SHIFT;
	size_t n = (size + ML_SEG_SIZE - 1) >> ML_SEG_SHIFT;
	for (size_t j = 0; j < n && first + j < ML_SEGMAP_LEN; j++) {
		uint8_t v = on ? (uint8_t)(j + 1 < 255 ? j + 1 : 255) : 0;
		atomic_store_explicit(&ml__segmap[first + j], v, memory_order_release);
	}
}

static void list_push(ml_segment **head, ml_segment *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void list_remove(ml_segment **head, ml_segment *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static ml_segment *segment_from_os(void)
{
	int from = 0;
	ml_segment *seg = ml__os_brk_segment(ML_SEG_SIZE, &from);
	if (!seg)
		return NULL;
	/* brk memory that an earlier owner released could hold old bytes. */
	memset(seg, 0, sizeof(*seg));
	seg->magic = ML_MAGIC_SEG;
	seg->kind = ML_KIND_SEGMENT;
	seg->from = (uint8_t)from;
	seg->used = 1;   /* page 0: this header */
	for (unsigned i = 0; i < ML_SEG_PAGES; i++)
		seg->pages[i].index = i;
	int slot = ml__pub_seg_slot();
	seg->pub_index = slot < 0 ? 0xffff : (uint16_t)slot;
	struct mlalloc_pub_header *h = ml__pub();
	if (h) {
		ml__pub_begin();
		if (from == MLALLOC_SEG_BRK)
			h->seg_bytes_brk += ML_SEG_SIZE;
		else
			h->seg_bytes_mmap += ML_SEG_SIZE;
		ml__pub_end();
	}
	ml__segmap_set((uintptr_t)seg, ML_SEG_SIZE, true);
	return seg;
}

/* A segment for heap: adopted if one was abandoned, else pooled, else new.
 * An adopted segment comes back with its pages untouched: the caller files
 * them into its queues.  NULL when the OS has no memory. */
ml_segment *ml__segment_new(ml_heap *heap)
{
	ml_lock_take(&seg_lock);
	ml_segment *seg = pool;
	if (seg)
		list_remove(&pool, seg);
	ml_lock_drop(&seg_lock);
	if (!seg)
		seg = segment_from_os();
	if (!seg)
		return NULL;
	atomic_store_explicit(&seg->heap, heap, memory_order_release);
	list_push(&heap->segments, seg);
	ml__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
	return seg;
}

ml_segment *ml__segment_adopt(ml_heap *heap)
{
	if (!atomic_load_explicit((_Atomic(ml_segment *) *)&abandoned, memory_order_relaxed))
		return NULL;
	ml_lock_take(&seg_lock);
	ml_segment *seg = abandoned;
	if (seg)
		list_remove(&abandoned, seg);
	ml_lock_drop(&seg_lock);
	if (!seg)
		return NULL;
	atomic_store_explicit(&seg->heap, heap, memory_order_release);
	atomic_store_explicit(&seg->wake, 0, memory_order_relaxed);
	list_push(&heap->segments, seg);
	ml__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
	return seg;
}

/* First run of n free pages in seg, or -1. */
static int find_run(const ml_segment *seg, unsigned n)
{
	uint64_t free = ~seg->used, m = free;
	for (unsigned i = 1; i < n && m; i++)
		m &= free >> i;
	if (n > 1)
		m &= ~(uint64_t)0 >> (n - 1);   /* the run must end inside the segment */
	return m ? __builtin_ctzll(m) : -1;
}

static uint64_t run_mask(unsigned first, unsigned n)
{
	uint64_t m = n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
	return m << first;
}

/* A span of `pages` pages owned by heap, head descriptor returned with
 * block_size still 0 (ml__page_init sets it), or NULL if out of memory. */
ml_page *ml__span_alloc(ml_heap *heap, size_t pages)
{
	ml_segment *seg;
	int at = -1;
	for (seg = heap->segments; seg; seg = seg->next)
		if ((at = find_run(seg, (unsigned)pages)) >= 0)
			break;
	if (!seg) {
		seg = ml__segment_new(heap);
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
	ml_page *head = &seg->pages[at];
	head->span_pages = (uint8_t)pages;
	head->start = (uint8_t *)seg + ((size_t)at << ML_PAGE_SHIFT);
	return head;
}

/* Give a span whose blocks are all free back to its segment.  The segment
 * goes to the pool when it becomes empty and the heap has another one. */
void ml__span_free(ml_heap *heap, ml_page *page)
{
	ml_segment *seg = (ml_segment *)ml_align_down((uintptr_t)page, ML_SEG_SIZE);
	unsigned at = page->index, n = page->span_pages;
	uint64_t mask = run_mask(at, n);
	for (unsigned i = 0; i < n; i++)
		seg->pages[at + i].head_off = 0;
	page->block_size = 0;
	page->free = page->local_free = NULL;
	page->used = page->capacity = page->reserved = 0;
	page->in_full = 0;
	atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
	seg->used &= ~mask;
	if (!seg->dirty)
		seg->dirty_since_ms = ml__now_ms();
	seg->dirty |= mask;
	if (seg->used == 1 && !(heap->segments == seg && !seg->next)) {
		list_remove(&heap->segments, seg);
		atomic_store_explicit(&seg->heap, NULL, memory_order_release);
		ml__pub_seg_write(seg, MLALLOC_SEGSTATE_POOLED);
		ml_lock_take(&seg_lock);
		list_push(&pool, seg);
		ml_lock_drop(&seg_lock);
		return;
	}
	ml__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
}

/* Give back free pages idle for the decay time (all of them if force). */
void ml__segment_purge(ml_segment *seg, uint64_t now, bool force)
{
	if (!seg->dirty || (!force && now - seg->dirty_since_ms < ml__decay_ms))
		return;
	uint64_t d = seg->dirty;
	size_t bytes = 0;
	while (d) {
		unsigned at = (unsigned)__builtin_ctzll(d);
		uint64_t rest = ~(d >> at);
		unsigned n = rest ? (unsigned)__builtin_ctzll(rest) : 64;
		ml__os_purge((uint8_t *)seg + ((size_t)at << ML_PAGE_SHIFT), (size_t)n << ML_PAGE_SHIFT);
		bytes += (size_t)n << ML_PAGE_SHIFT;
		d &= ~run_mask(at, n);
	}
	seg->dirty = 0;
	struct mlalloc_pub_header *h = ml__pub();
	if (h)
		__atomic_fetch_add(&h->purged_bytes, bytes, __ATOMIC_RELAXED);
}

void ml__segment_pool_purge(uint64_t now, bool force)
{
	if (pthread_mutex_trylock(&seg_lock) != 0)
		return;
	for (ml_segment *s = pool; s; s = s->next) {
		bool had = s->dirty != 0;
		ml__segment_purge(s, now, force);
		if (had && !s->dirty)
			ml__pub_seg_write(s, MLALLOC_SEGSTATE_POOLED);
	}
	ml_lock_drop(&seg_lock);
}

/* The owner thread exits: the segment goes to the pool if empty, else to the
 * abandoned list for the next heap that needs memory. */
void ml__segment_abandon(ml_segment *seg)
{
	atomic_store_explicit(&seg->heap, NULL, memory_order_release);
	bool empty = seg->used == 1;
	ml__pub_seg_write(seg, empty ? MLALLOC_SEGSTATE_POOLED : MLALLOC_SEGSTATE_ABANDONED);
	ml_lock_take(&seg_lock);
	list_push(empty ? &pool : &abandoned, seg);
	ml_lock_drop(&seg_lock);
}

void ml__segment_atfork(int phase)
{
	if (phase == ML_FORK_PREPARE)
		ml_lock_take(&seg_lock);
	else if (phase == ML_FORK_PARENT)
		ml_lock_drop(&seg_lock);
	else
		pthread_mutex_init(&seg_lock, NULL);
}
