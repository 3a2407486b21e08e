/* SPDX-License-Identifier: MIT */
/* introspect.c: the published heap state (format in mlalloc-format.h and
 * FORMAT.md).  One mapping, named "mlalloc" so that /proc/PID/maps shows it,
 * and pointed to by the exported `mlalloc_introspect_root`.  Writers:
 *   header totals + large table: under pub_lock, inside the header seqlock;
 *   a segment record: its owner (one thread at a time), inside its own seq;
 *   a heap slot: its thread, plain 64-bit stores.
 * Heap slots are handed out once and kept (heaps are never freed); segment
 * and large-table slots are recycled through stacks of free indices (a
 * segment given back to the OS leaves a record of kind MLALLOC_SEG_UNUSED). */
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define HEAPS_MAX 256
#define SEGS_MAX  4096
#define LARGE_MAX 4096

struct mlalloc_introspect_root {
	char magic[8];
	uint64_t version;
	uint64_t region;
	uint64_t region_size;
};

MLA_API struct mlalloc_introspect_root mlalloc_introspect_root = { MLALLOC_PUB_MAGIC, MLALLOC_PUB_VERSION, 0, 0 };

static struct mlalloc_pub_header *pub;
bool mla__pub_unnamed;
static mla_lock pub_lock = MLA_LOCK_INIT;
static uint32_t large_free_stack[LARGE_MAX];
static uint32_t large_free_top, large_next;
static uint16_t seg_free_stack[SEGS_MAX];
static uint32_t seg_free_top;

static size_t up64(size_t x) { return (x + 63) & ~(size_t)63; }

static void pub_create(void)
{
	size_t off = up64(sizeof(struct mlalloc_pub_header));
	size_t classes_off = off;
	off = up64(off + MLA_NCLASSES * sizeof(uint32_t));
	size_t class_pages_off = off;
	off = up64(off + MLA_NCLASSES);
	size_t heaps_off = off;
	off = up64(off + HEAPS_MAX * sizeof(struct mlalloc_pub_heap));
	size_t segs_off = off;
	off = up64(off + SEGS_MAX * sizeof(struct mlalloc_pub_segment));
	size_t large_off = off;
	off = mla_align_up(off + LARGE_MAX * sizeof(struct mlalloc_pub_large), 4096);
	struct mlalloc_pub_header *h = mla__os_map_named(off, !mla__pub_unnamed);
	if (!h)
		return;
	memcpy(h->magic, MLALLOC_PUB_MAGIC, 8);
	h->version = MLALLOC_PUB_VERSION;
	h->header_size = sizeof(*h);
	h->region_size = off;
	h->pid = (uint64_t)getpid();
	h->seg_size = MLA_SEG_SIZE;
	h->page_size = MLA_PAGE_SIZE;
	h->seg_pages = MLA_SEG_PAGES;
	h->nclasses = MLA_NCLASSES;
	h->max_small = MLA_MAX_SMALL;
	h->classes_off = classes_off;
	h->class_pages_off = class_pages_off;
	h->heaps_off = heaps_off;
	h->segs_off = segs_off;
	h->large_off = large_off;
	h->heap_stride = sizeof(struct mlalloc_pub_heap);
	h->seg_stride = sizeof(struct mlalloc_pub_segment);
	h->large_stride = sizeof(struct mlalloc_pub_large);
	h->heaps_max = HEAPS_MAX;
	h->segs_max = SEGS_MAX;
	h->large_max = LARGE_MAX;
	h->decay_ms = mla__decay_ms;
	uint32_t *cls = (uint32_t *)((uint8_t *)h + classes_off);
	for (unsigned c = 0; c < MLA_NCLASSES; c++)
		cls[c] = (uint32_t)mla_class_size(c);
	uint8_t *pages = (uint8_t *)h + class_pages_off;
	for (unsigned c = 0; c < MLA_NCLASSES; c++)
		pages[c] = (uint8_t)mla_class_span_pages(c);
	pub = h;
	mlalloc_introspect_root.region = (uintptr_t)h;
	__atomic_store_n(&mlalloc_introspect_root.region_size, off, __ATOMIC_RELEASE);
}

struct mlalloc_pub_header *mla__pub(void)
{
	if (mla_unlikely(!pub)) {
		mla_lock_take(&pub_lock);
		if (!pub)
			pub_create();
		mla_lock_drop(&pub_lock);
	}
	return pub;
}

void mla__pub_begin(void)
{
	mla_lock_take(&pub_lock);
	if (pub) {
		__atomic_store_n(&pub->seq, pub->seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
	}
}

void mla__pub_end(void)
{
	if (pub) {
		struct mla_os_info os;
		mla__os_info(&os);
		pub->brk_start = os.brk_start;
		pub->brk_end = os.brk_end;
		pub->brk_failed = os.brk_failed;
		__atomic_store_n(&pub->seq, pub->seq + 1, __ATOMIC_RELEASE);
	}
	mla_lock_drop(&pub_lock);
}

struct mlalloc_pub_heap *mla__pub_heap_slot(int tid)
{
	if (!mla__pub())
		return NULL;
	struct mlalloc_pub_heap *slot = NULL;
	mla__pub_begin();
	if (pub->heaps_used < HEAPS_MAX)
		slot = (void *)((uint8_t *)pub + pub->heaps_off + pub->heaps_used++ * sizeof(*slot));
	else
		pub->heaps_unpublished++;
	if (slot)
		slot->tid = (uint64_t)tid;
	mla__pub_end();
	return slot;
}

int mla__pub_seg_slot(void)
{
	if (!mla__pub())
		return -1;
	int slot = -1;
	mla__pub_begin();
	if (seg_free_top)
		slot = seg_free_stack[--seg_free_top];
	else if (pub->segs_used < SEGS_MAX)
		slot = (int)pub->segs_used++;
	else
		pub->segs_unpublished++;
	mla__pub_end();
	return slot;
}

uint32_t mla__pub_large_slot(void)
{
	if (!mla__pub())
		return UINT32_MAX;
	uint32_t slot = UINT32_MAX;
	mla__pub_begin();
	if (large_free_top)
		slot = large_free_stack[--large_free_top];
	else if (large_next < LARGE_MAX) {
		slot = large_next++;
		pub->large_used = large_next;
	}
	else
		pub->large_unpublished++;
	mla__pub_end();
	return slot;
}

/* Called inside mla__pub_begin/end by large.c. */
void mla__pub_large_release(uint32_t index)
{
	if (index != UINT32_MAX && large_free_top < LARGE_MAX)
		large_free_stack[large_free_top++] = index;
}

/* Rewrite the record of seg; the caller owns seg. */
void mla__pub_seg_write(mla_segment *seg, uint32_t state)
{
	if (!pub || seg->pub_index == 0xffff)
		return;
	struct mlalloc_pub_segment *r = (void *)((uint8_t *)pub + pub->segs_off + (size_t)seg->pub_index * sizeof(*r));
	uint64_t s = r->seq;
	__atomic_store_n(&r->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	mla_heap *owner = atomic_load_explicit(&seg->heap, memory_order_relaxed);
	r->base = (uintptr_t)seg;
	r->kind = seg->from;
	r->state = state;
	r->owner_tid = owner && state == MLALLOC_SEGSTATE_OWNED ? (uint64_t)owner->tid : 0;
	r->used = seg->used;
	r->dirty = seg->dirty;
	for (unsigned i = 0; i < MLA_SEG_PAGES; i++) {
		const mla_page *pg = &seg->pages[i];
		const mla_page *head = pg - pg->head_off;
		r->page_class[i] = (seg->used >> i & 1) && i && head->block_size ? head->cls : 0xff;
	}
	__atomic_store_n(&r->seq, s + 2, __ATOMIC_RELEASE);
}

/* A segment (of kind `from`, record `index` or 0xffff) was given back to
 * the OS: its record becomes unused (kind 0) and free for the next
 * segment, its bytes leave the header totals, and `resident` bytes (its
 * pages not purged before) count as purged. */
void mla__pub_seg_release(uint8_t from, uint16_t index, size_t resident)
{
	if (!pub)
		return;
	__atomic_fetch_add(&pub->purged_bytes, resident, __ATOMIC_RELAXED);
	mla__pub_begin();
	if (from == MLALLOC_SEG_BRK)
		pub->seg_bytes_brk -= MLA_SEG_SIZE;
	else
		pub->seg_bytes_mmap -= MLA_SEG_SIZE;
	if (index != 0xffff) {
		struct mlalloc_pub_segment *r = (void *)((uint8_t *)pub + pub->segs_off + (size_t)index * sizeof(*r));
		uint64_t s = r->seq;
		__atomic_store_n(&r->seq, s + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		memset((uint8_t *)r + sizeof(r->seq), 0, sizeof(*r) - sizeof(r->seq));
		memset(r->page_class, 0xff, sizeof(r->page_class));
		__atomic_store_n(&r->seq, s + 2, __ATOMIC_RELEASE);
		seg_free_stack[seg_free_top++] = index;
	}
	mla__pub_end();
}

void mla__pub_atfork(int phase)
{
	if (!mla_lock_atfork(&pub_lock, phase))
		return;
	if (!pub)
		return;
	pub->pid = (uint64_t)getpid();
	/* A thread that does not exist here may have been mid-write. */
	for (uint64_t i = 0; i < pub->segs_used; i++) {
		struct mlalloc_pub_segment *r = (void *)((uint8_t *)pub + pub->segs_off + i * sizeof(*r));
		if (r->seq & 1)
			r->seq++;
	}
}
