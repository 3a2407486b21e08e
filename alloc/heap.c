/* SPDX-License-Identifier: MIT */
/* heap.c: the thread-local heap: per-class queues of spans, the malloc slow
 * path, the free slow paths, thread exit and decay.  The fast paths live in
 * api.c; they fall here when the current span of a class has no free block,
 * or when a free empties a span or lands in a full one.
 *
 * Full spans leave the class queue, so the slow path never rescans them; a
 * remote free into a full span clears its MLA_TF_FULL mark, sets the span's
 * bit in its segment's `wake` bitmap and bumps the owner's wake_hint; the
 * owner then brings the span back.  Heaps are recycled, never unmapped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

mla_page mla__page_empty;
mla_heap mla__heap_empty = {
	.direct = { [0 ... MLA_DIRECT_MAX / 16] = &mla__page_empty },
	.pages = { [0 ... MLA_NCLASSES - 1] = &mla__page_empty },
};
__thread struct mla_tls mla__tls __attribute__((tls_model("initial-exec"))) = { &mla__heap_empty, INTPTR_MAX };
struct mla_keys mla__keys __attribute__((aligned(16)));
uint64_t mla__decay_ms = 1000;

static mla_lock heaps_lock = MLA_LOCK_INIT;
static mla_heap *heap_pool;          /* heaps of exited threads */
static mla_heap *heap_all[4096];     /* every heap ever made, for fork */
static size_t heap_count;
static uint8_t *meta_cur, *meta_end;
static pthread_key_t heap_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void heap_thread_exit(void *arg);

/* getenv without libc's getenv, strncmp and strtoull: in a small program
 * under LD_PRELOAD every libc code page we touch first costs resident
 * memory (the kernel maps 16 pages around each fault). */
extern char **environ;
static const char *env(const char *name)
{
	for (char **e = environ; e && *e; e++) {
		const char *s = *e, *n = name;
		while (*n && *s == *n) {
			s++;
			n++;
		}
		if (!*n && *s == '=')
			return s + 1;
	}
	return NULL;
}

/* The secrets of the free blocks (types.h): from getrandom (a raw
 * syscall, non-blocking: early in boot it may have no entropy yet), else
 * from the kernel's AT_RANDOM bytes mixed with an address and the time.
 * Drawn once; a fork child keeps them, as it keeps the blocks they sign. */
static void init_keys(void)
{
	uintptr_t k[2] = { 0, 0 };
	if (syscall(SYS_getrandom, k, sizeof(k), GRND_NONBLOCK) != (long)sizeof(k)) {
		const uint8_t *rnd = (const uint8_t *)getauxval(AT_RANDOM);
		if (rnd)
			memcpy(k, rnd, sizeof(k));
		k[0] ^= (uintptr_t)&k ^ (uintptr_t)mla__now_ms();
		k[1] ^= mla_rotl(k[0], 29) * 0x9e3779b97f4a7c15u;
	}
	mla__keys.canary = k[0] | 1;   /* never 0, the key of a live block */
	mla__keys.link = k[1];
}

static void init_globals(void)
{
	init_keys();
	const char *d = env("MLALLOC_DECAY_MS");
	if (d && *d >= '0' && *d <= '9') {
		uint64_t v = 0;
		while (*d >= '0' && *d <= '9' && v < UINT64_MAX / 10)
			v = v * 10 + (uint64_t)(*d++ - '0');
		mla__decay_ms = v;
	}
	const char *nb = env("MLALLOC_NO_BRK");
	if (nb && *nb == '1')
		mla__os_no_brk = true;
	const char *un = env("MLALLOC_PUB_UNNAMED");
	if (un && *un == '1')
		mla__pub_unnamed = true;
	mla__check_init(env("MLALLOC_CHECK"));
	pthread_key_create(&heap_key, heap_thread_exit);
	(void)mla__pub();
}

void mla__init_once(void) { pthread_once(&init_once, init_globals); }

/* ---- queues ---- */

/* Make p (a span of class c, or &mla__page_empty) the current span of c:
 * pages[c] and, for a class of small requests, its entries of direct[]
 * (types.h), unless the fast path serves nothing. */
static void heap_set_current(mla_heap *heap, unsigned c, mla_page *p)
{
	heap->pages[c] = p;
	size_t size = mla_class_size(c);
	if (size > MLA_DIRECT_MAX || mla__fast_lim <= MLA_DIRECT_MAX)
		return;
	size_t lo = c ? mla_class_size(c - 1) / 16 + 1 : 0;
	for (size_t i = lo; i <= size / 16; i++)
		heap->direct[i] = p;
}

static void queue_push_front(mla_heap *heap, mla_page_queue *q, mla_page *p)
{
	p->prev = NULL;
	p->next = q->first;
	if (q->first)
		q->first->prev = p;
	else
		q->last = p;
	q->first = p;
	if (q != &heap->full)
		heap_set_current(heap, p->cls, p);
}

/* At the back: a span that just got a block back should not become the
 * current one, or malloc takes that one block and falls to the slow path
 * again (larson: spans bounced between full and current on every call). */
static void queue_push_back(mla_heap *heap, mla_page_queue *q, mla_page *p)
{
	p->next = NULL;
	p->prev = q->last;
	if (q->last)
		q->last->next = p;
	else
		q->first = p;
	q->last = p;
	if (q != &heap->full && q->first == p)
		heap_set_current(heap, p->cls, p);
}

static void queue_remove(mla_heap *heap, mla_page_queue *q, mla_page *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		q->first = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		q->last = p->prev;
	p->next = p->prev = NULL;
	if (q != &heap->full)
		heap_set_current(heap, p->cls, q->first ? q->first : &mla__page_empty);
}

static void page_unfull(mla_heap *heap, mla_page *page)
{
	atomic_fetch_and_explicit(&page->thread_free, ~MLA_TF_FULL, memory_order_relaxed);
	queue_remove(heap, &heap->full, page);
	page->used &= ~MLA_USED_FULL;
	queue_push_back(heap, &heap->queue[page->cls], page);
}

/* Park a span with no free block in the full queue, unless remote frees
 * arrived meanwhile (then returns false: collect again). */
static bool page_try_full(mla_heap *heap, mla_page *page)
{
	uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
	do {
		if (tf & ~MLA_TF_FULL)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, MLA_TF_FULL,
	                                               memory_order_acq_rel, memory_order_relaxed));
	queue_remove(heap, &heap->queue[page->cls], page);
	page->used |= MLA_USED_FULL;
	queue_push_front(heap, &heap->full, page);
	return true;
}

/* Bring back full spans that remote frees woke (all of them if force). */
static void heap_wake(mla_heap *heap, bool force)
{
	uint64_t hint = atomic_load_explicit(&heap->wake_hint, memory_order_relaxed);
	if (!force && hint == heap->wake_seen)
		return;
	heap->wake_seen = hint;
	for (mla_segment *seg = heap->segments; seg; seg = seg->next) {
		uint64_t w = atomic_exchange_explicit(&seg->wake, 0, memory_order_acquire);
		while (w) {
			mla_page *page = &seg->pages[__builtin_ctzll(w)];
			w &= w - 1;
			if (page->head_off == 0 && page->block_size && mla_page_in_full(page))
				page_unfull(heap, page);
		}
	}
}

/* File the spans of an adopted segment into this heap's queues; spans
 * that turn out empty (their blocks were freed while nobody owned them) go
 * back to the segment, so any class can use their pages.  Those are freed
 * last: freeing the last one may pool the segment, after which it is no
 * longer ours to read. */
static void heap_file_segment(mla_heap *heap, mla_segment *seg)
{
	mla_page *empty[MLA_SEG_PAGES];
	unsigned nempty = 0;
	for (unsigned i = 1; i < MLA_SEG_PAGES; i++) {
		mla_page *page = &seg->pages[i];
		if (page->head_off || !page->block_size)
			continue;
		mla__page_collect_remote(page);
		atomic_fetch_and_explicit(&page->thread_free, ~MLA_TF_FULL, memory_order_relaxed);
		page->used &= ~MLA_USED_FULL;
		page->next = page->prev = NULL;
		if (page->used == 0)
			empty[nempty++] = page;
		else
			queue_push_back(heap, &heap->queue[page->cls], page);
	}
	for (unsigned k = 0; k < nempty; k++)
		mla__span_free(heap, empty[k]);
}

/* The span a class keeps when its last block is freed (so that a single
 * block churning does not free and take a span every time) goes back to
 * its segment on the decay tick if it is still empty: else it would pin
 * its segment, and the top of the break, forever. */
static void heap_free_kept_spans(mla_heap *heap)
{
	for (unsigned c = 0; c < MLA_NCLASSES; c++) {
		mla_page *page = heap->queue[c].first;
		if (!page || page->next)
			continue;
		mla__page_collect_remote(page);
		if (page->used == 0) {
			queue_remove(heap, &heap->queue[c], page);
			mla__span_free(heap, page);
		}
	}
}

/* Give back what stayed free past the decay time; at most every decay/4.
 * An empty segment goes back to the OS once it has been pooled for the
 * decay time, so memory freed at t is given back by about t + 2 decays. */
static void heap_decay(mla_heap *heap)
{
	uint64_t now = mla__now_ms();
	if (now < heap->next_purge_ms)
		return;
	heap->next_purge_ms = now + (mla__decay_ms / 4 ? mla__decay_ms / 4 : 1);
	heap_free_kept_spans(heap);
	for (mla_segment *seg = heap->segments; seg; seg = seg->next) {
		uint64_t had = seg->dirty;
		mla__segment_purge(seg, now, false);
		if (had != seg->dirty)
			mla__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
	}
	mla__segment_pool_purge(now, false);
	mla__large_purge(now, false);
}

static void heap_housekeeping(mla_heap *heap)
{
	if ((++heap->slow_count & 15) != 0)
		return;
	heap_wake(heap, (heap->slow_count & 1023) == 0);
	heap_decay(heap);
}

/* Called by large allocations and frees, which are slow anyway. */
void mla__heap_tick(void)
{
	mla_heap *heap = mla__tls.heap;
	if (heap != &mla__heap_empty)
		heap_decay(heap);
}

/* Collect the remote frees of every span of the heap; spans left empty go
 * back to their segments, full ones that got blocks back rejoin their
 * queue.  Slow (every span); only before the heap takes a new segment. */
static void heap_collect_all(mla_heap *heap)
{
	heap_wake(heap, true);
	for (unsigned q = 0; q <= MLA_NCLASSES; q++) {
		mla_page_queue *queue = q < MLA_NCLASSES ? &heap->queue[q] : &heap->full;
		for (mla_page *page = queue->first, *next; page; page = next) {
			next = page->next;
			if (!mla__page_collect_remote(page) && mla_page_used(page))
				continue;
			if (mla_page_used(page) == 0 && (queue != &heap->queue[page->cls] || page != queue->first || page->next)) {
				queue_remove(heap, queue, page);
				mla__span_free(heap, page);
			} else if (mla_page_in_full(page)) {
				page_unfull(heap, page);
			}
		}
	}
}

/* A span of class c with a free block, at the front of queue[c]. */
static mla_page *heap_find_page(mla_heap *heap, unsigned c)
{
	heap_housekeeping(heap);
	for (int round = 0; round < 2; round++) {
		mla_page *page = heap->queue[c].first, *next;
		for (; page; page = next) {
			next = page->next;
			if (mla__page_collect(page))
				goto found;
			if (!page_try_full(heap, page) && mla__page_collect(page))
				goto found;
		}
		if (round == 0)
			heap_wake(heap, false);
		continue;
found:
		if (page != heap->queue[c].first) {
			queue_remove(heap, &heap->queue[c], page);
			queue_push_front(heap, &heap->queue[c], page);
		}
		return page;
	}
	/* A new span where the heap has room; else adopt one abandoned segment
	 * at a time, using its spans of class c or its room.  Adopting only
	 * when out of room leaves the other abandoned segments to the heaps
	 * that need them (larson: the first new thread took every segment of
	 * the exited ones, and the second took fresh memory). */
	mla_page *page;
	mla_segment *seg;
	while (!(page = mla__span_alloc(heap, mla_class_span_pages(c), false)) && (seg = mla__segment_adopt(heap))) {
		heap_file_segment(heap, seg);
		page = heap->queue[c].first;
		if (page && mla__page_collect(page))
			return page;
	}
	if (!page) {
		/* Before taking another segment, take in every remote free: spans
		 * other threads emptied give their pages back (larson grew by a
		 * segment per thread generation without this). */
		heap_collect_all(heap);
		page = mla__span_alloc(heap, mla_class_span_pages(c), true);
	}
	if (!page)
		return NULL;
	mla__page_init(page, c);
	/* Publish the new span (used bit and class) for outside readers. */
	mla__pub_seg_write((mla_segment *)mla_align_down((uintptr_t)page, MLA_SEG_SIZE), MLALLOC_SEGSTATE_OWNED);
	queue_push_front(heap, &heap->queue[c], page);
	mla__page_collect(page);
	return page;
}

static mla_heap *heap_new_struct(void)
{
	mla_heap *heap = heap_pool;
	if (heap) {
		heap_pool = heap->next_pool;
		return heap;
	}
	size_t sz = mla_align_up(sizeof(mla_heap), 64);
	if (meta_cur + sz > meta_end || !meta_cur) {
		uint8_t *m = mla__os_map(MLA_PAGE_SIZE);
		if (!m)
			return NULL;
		meta_cur = m;
		meta_end = m + MLA_PAGE_SIZE;
	}
	heap = (mla_heap *)meta_cur;
	meta_cur += sz;
	if (heap_count < sizeof(heap_all) / sizeof(heap_all[0]))
		heap_all[heap_count++] = heap;
	heap->stat = mla__pub_heap_slot(0);
	if (!heap->stat)
		heap->stat = &heap->own_stat;
	return heap;
}

/* The calling thread's heap, made on first use; NULL when out of memory. */
mla_heap *mla__heap_init_thread(void)
{
	mla__init_once();
	mla_lock_take(&heaps_lock);
	mla_heap *heap = heap_new_struct();
	mla_lock_drop(&heaps_lock);
	if (!heap)
		return NULL;
	struct mlalloc_pub_heap *stat = heap->stat;
	for (size_t i = 0; i <= MLA_DIRECT_MAX / 16; i++)
		heap->direct[i] = &mla__page_empty;
	for (unsigned c = 0; c < MLA_NCLASSES; c++) {
		heap_set_current(heap, c, &mla__page_empty);
		heap->queue[c].first = heap->queue[c].last = NULL;
	}
	heap->full.first = heap->full.last = NULL;
	heap->segments = NULL;
	heap->link_key = mla__keys.link;
	heap->wake_seen = atomic_load(&heap->wake_hint);
	heap->slow_count = 0;
	heap->next_purge_ms = 0;
	heap->tid = (int)gettid();
	heap->live = true;
	stat->tid = (uint64_t)heap->tid;
	stat->state = 1;
	mla__tls.heap = heap;   /* before setspecific, which may allocate */
	pthread_setspecific(heap_key, heap);
	return heap;
}

/* Thread exit: collect what other threads freed, give back empty spans and
 * hand every segment on (pool if empty, else abandoned for adoption). */
static void heap_thread_exit(void *arg)
{
	mla_heap *heap = arg;
	if (!heap || heap == &mla__heap_empty)
		return;
	mla_page_queue *queues[MLA_NCLASSES + 1];
	for (unsigned c = 0; c < MLA_NCLASSES; c++)
		queues[c] = &heap->queue[c];
	queues[MLA_NCLASSES] = &heap->full;
	for (unsigned q = 0; q <= MLA_NCLASSES; q++) {
		for (mla_page *page = queues[q]->first, *next; page; page = next) {
			next = page->next;
			mla__page_collect_remote(page);
			if (mla_page_used(page) == 0) {
				queue_remove(heap, queues[q], page);
				page->next = page->prev = NULL;
				mla__span_free(heap, page);
			}
		}
	}
	while (heap->segments) {
		mla_segment *seg = heap->segments;
		heap->segments = seg->next;
		seg->next = seg->prev = NULL;
		mla__segment_abandon(seg);
	}
	heap->stat->state = 0;
	heap->stat->tid = 0;
	heap->live = false;
	mla__tls.heap = &mla__heap_empty;
	mla_lock_take(&heaps_lock);
	heap->next_pool = heap_pool;
	heap_pool = heap;
	mla_lock_drop(&heaps_lock);
}

/* ---- malloc and free slow paths ---- */

MLA_NOINLINE void *mla__malloc_slow(size_t size)
{
	if (mla__tls.heap == &mla__heap_empty && !mla__heap_init_thread()) {
		errno = ENOMEM;
		return NULL;
	}
	if (mla_unlikely(mla__check_mode))
		return mla__check_malloc_slow(size);
	return mla__malloc_plain(size);
}

/* malloc without the checking mode: the fast path's pop, else a span
 * found or made, or a large block. */
void *mla__malloc_plain(size_t size)
{
	mla_heap *heap = mla__tls.heap;
	if (heap == &mla__heap_empty && !(heap = mla__heap_init_thread())) {
		errno = ENOMEM;
		return NULL;
	}
	if (size > MLA_MAX_SMALL)
		return mla__large_alloc(size, MLA_MIN_BLOCK, false);
	unsigned c = mla_size_class_fast(size);
	mla_page *page = heap->pages[c];
	if (!page->free)
		page = heap_find_page(heap, c);
	if (!page) {
		errno = ENOMEM;
		return NULL;
	}
	mla_block *b = mla__page_pop(heap, page);
	page->used++;
	heap->stat->nmalloc[c]++;
	return b;
}

/* Blocks aligned to align (power of two > 16): a class whose size is a
 * multiple of align when align <= 64 KiB, else a large block. */
void *mla__malloc_aligned(size_t size, size_t align)
{
	if (align <= MLA_PAGE_SIZE) {
		unsigned c = mla_class_for_align(size, align);
		if (c < MLA_NCLASSES)
			return mla__malloc_plain(mla_class_size(c));
	}
	mla_heap *heap = mla__tls.heap;
	if (heap == &mla__heap_empty && !mla__heap_init_thread()) {
		errno = ENOMEM;
		return NULL;
	}
	return mla__large_alloc(size, align, false);
}

/* Owner's free that emptied a span or landed in a full one. */
MLA_NOINLINE void mla__free_local_slow(mla_heap *heap, mla_page *page)
{
	int saved = errno;
	if (mla_page_in_full(page))
		page_unfull(heap, page);
	if (page->used == 0) {
		mla_page_queue *q = &heap->queue[page->cls];
		/* A class keeps its last span of one page (a single block
		 * churning would free and take it every time); longer spans go
		 * back at once, or the runs they pin break up the free pages
		 * that bigger spans need (blocks growing by realloc). */
		if (q->first != page || page->next || page->span_pages > 1) {
			queue_remove(heap, q, page);
			mla__span_free(heap, page);
			heap_housekeeping(heap);
		}
	}
	errno = saved;
}

/* realloc of the block p to size > its class without malloc + copy + free:
 * possible when p is the one block of its span (mla_class_one_block), the
 * new class is one of those too and the caller owns the segment.  In place
 * when the span already covers the new class or the pages after it are
 * free; else, when
 * the free pages just before it make room, the span slides down into them
 * (memmove) and grows: blocks growing in turn then keep filling the hole
 * the previous one left instead of leaving holes too short for anything.
 * The span changes class: a free in the old class, a malloc in the new.
 * Returns the block's address, or NULL (nothing changed). */
void *mla__realloc_grow(mla_segment *seg, void *p, size_t size)
{
	mla_heap *heap = mla__tls.heap;
	mla_page *page = mla__page_of(seg, p);
	unsigned nc = mla_size_class(size);
	size_t nsz = mla_class_size(nc), pages = mla_class_span_pages(nc);
	if (atomic_load_explicit(&seg->heap, memory_order_relaxed) != heap || !mla_class_one_block(page->cls) ||
	    !mla_class_one_block(nc))
		return NULL;
	unsigned oc = page->cls;
	size_t old_size = page->block_size;
	mla_page_queue *q = mla_page_in_full(page) ? &heap->full : &heap->queue[oc];
	queue_remove(heap, q, page);
	mla_page *head = page;
	if (pages > page->span_pages && !mla__span_extend(page, pages)) {
		uint64_t oldm = (((uint64_t)1 << page->span_pages) - 1) << page->index;
		head = mla__span_slide(page, pages);
		if (!head) {
			queue_push_back(heap, q, page);
			return NULL;
		}
		memmove(head->start, p, old_size);
		mla__segment_purge_pages(seg, oldm);   /* what the block left: see mla__realloc_leaving */
	}
	atomic_store_explicit(&head->thread_free, 0, memory_order_relaxed);
	mla__page_rekey(head);
	head->cls = (uint8_t)nc;
	head->block_size = (uint32_t)nsz;
	head->div_magic = mla_div_magic((uint32_t)nsz);
	head->reserved = head->capacity = head->used = 1;
	head->limit = (uint32_t)nsz;
	head->free = head->local_free = NULL;
	queue_push_back(heap, &heap->queue[nc], head);
	heap->stat->nfree[oc]++;
	heap->stat->nmalloc[nc]++;
	mla__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
	return head->start;
}

/* realloc is moving the block p (usable bytes) of seg elsewhere and is
 * about to free it.  Returns the pages the free will leave that realloc
 * should then give back at once with mla__segment_purge_pages() (0: none):
 * those of a one-block span (64 KiB and up) in a segment of this thread
 * that the free does not send to the pool (after which the segment is no
 * longer ours to touch).  Why at once rather than after the decay: a block
 * that grew out of its pages is a buffer still growing; no span of its old
 * size is likely to want them soon, and the runs growing blocks leave
 * between the blocks after them are too short for the next, bigger size.
 * Left resident they are pure overhead (a quarter of the resident set when
 * 64 buffers grow in turn); purged, they cost one madvise per move of a
 * block that was just copied anyway. */
uint64_t mla__realloc_leaving(mla_segment *seg, void *p, size_t usable)
{
	if (usable < MLA_PAGE_SIZE || atomic_load_explicit(&seg->heap, memory_order_relaxed) != mla__tls.heap)
		return 0;
	mla_page *page = mla__page_of(seg, p);
	if (!mla_class_one_block(page->cls) || page->span_pages >= 64)
		return 0;
	uint64_t mask = (((uint64_t)1 << page->span_pages) - 1) << page->index;
	return (seg->used & ~mask) == 1 ? 0 : mask;
}

/* Free by a thread that does not own the segment: push on thread_free. */
MLA_NOINLINE void mla__free_remote(mla_segment *seg, mla_page *page, mla_block *b)
{
	mla_heap *me = mla__tls.heap;
	if (me == &mla__heap_empty) {
		int saved = errno;
		me = mla__heap_init_thread();
		errno = saved;
	}
	if (me)
		me->stat->nfree[page->cls]++;
	b->key = mla_canary(page, b);
	uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
	do {
		mla_link_set(b, (mla_block *)(tf & ~MLA_TF_FULL));
	} while (!atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, (uintptr_t)b,
	                                               memory_order_release, memory_order_relaxed));
	if (tf & MLA_TF_FULL) {
		atomic_fetch_or_explicit(&seg->wake, (uint64_t)1 << page->index, memory_order_release);
		mla_heap *owner = atomic_load_explicit(&seg->heap, memory_order_acquire);
		if (owner)
			atomic_fetch_add_explicit(&owner->wake_hint, 1, memory_order_release);
	}
}

/* free() of a pointer that is not at the start of a segment-owned region:
 * a large block, or something that is not ours. */
MLA_NOINLINE void mla__free_slow(void *p, const char *func)
{
	void *hdr = mla__hdr_of(p);
	if (!hdr)
		mla__fatal(MLA_FAULT_FOREIGN, func, p, NULL, 0);
	uint32_t magic = *(uint32_t *)hdr;
	if (magic == MLA_MAGIC_LARGE) {
		int saved = errno;
		mla__large_free(hdr, p, func);
		errno = saved;
		return;
	}
	mla__fatal(MLA_FAULT_CORRUPT, func, p, hdr, 0);
}

void mla__heap_purge(mla_heap *heap, bool force)
{
	uint64_t now = mla__now_ms();
	if (heap && heap != &mla__heap_empty) {
		heap_wake(heap, true);
		if (force)
			heap_free_kept_spans(heap);
		for (mla_segment *seg = heap->segments; seg; seg = seg->next) {
			mla__segment_purge(seg, now, force);
			mla__pub_seg_write(seg, MLALLOC_SEGSTATE_OWNED);
		}
	}
	mla__segment_pool_purge(now, force);
	mla__large_purge(now, force);
}

void mla__heap_atfork(int phase)
{
	if (!mla_lock_atfork(&heaps_lock, phase))
		return;
	/* Only this thread lives on in the child: the heaps of the others have
	 * no thread, so their segments are handed on as if those threads had
	 * exited (abandoned, or pooled if empty: the heaps of the child adopt
	 * them) and the heap structs go to the pool.  A thread caught in the
	 * middle of an operation at fork time leaves its spans inconsistent
	 * (a block pushed on a list but still counted, two lists sharing
	 * blocks): mla__segment_repair makes them agree again, at the cost of at
	 * worst a few blocks or a span that nobody can free in the child: a
	 * bounded leak, never a block handed out twice. */
	mla_heap *me = mla__tls.heap;
	for (size_t i = 0; i < heap_count; i++) {
		mla_heap *h = heap_all[i];
		if (h == me || !h->live)
			continue;
		h->live = false;
		h->stat->state = 0;
		h->stat->tid = 0;
		while (h->segments) {
			mla_segment *seg = h->segments;
			h->segments = seg->next;
			seg->next = seg->prev = NULL;
			mla__segment_repair(seg);
			mla__segment_abandon(seg);
		}
		h->next_pool = heap_pool;
		heap_pool = h;
	}
	if (me != &mla__heap_empty) {
		me->tid = (int)gettid();
		me->stat->tid = (uint64_t)me->tid;
	}
}
