/* SPDX-License-Identifier: MIT */
/*
 * heap-model.c - the figures `memlayout heap` shows, computed from a copy
 * of mlalloc's published state (alloc/FORMAT.md): per size class the live
 * blocks (allocations minus frees over all thread heaps) and the free room
 * left in its spans; one region per segment and per large block, each with
 * a map of one cell per page; the totals (live, committed, reserved,
 * fragmentation, largest free run) as memlayout-heap(1) defines them.
 *
 * The copy comes from another process and is untrusted: class indexes,
 * page counts and sizes are bounded here before any use, and a geometry
 * that would divide by zero is -EPROTO.
 */
#include "ml-heap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const seg_state[] = { "owned", "abandoned", "pooled" };
static const char *const large_state[] = { NULL, "live", "cached" };
static const char *const seg_from[] = { "?", "brk", "mmap" };

static const char *pick(const char *const *names, size_t n, uint64_t v)
{
	return v < n && names[v] ? names[v] : "?";
}

/* Longest run of clear bits among pages [1, npages) of a used bitmap. */
static unsigned free_run(uint64_t used, unsigned npages)
{
	unsigned best = 0, cur = 0;

	for (unsigned i = 1; i < npages; i++) {
		cur = (used >> i & 1) ? 0 : cur + 1;
		if (cur > best)
			best = cur;
	}
	return best;
}

static void add_segment(struct ml_heap *h, const struct mlalloc_pub_segment *s,
			unsigned npages, uint64_t *class_pages, uint64_t *class_runs)
{
	const struct mlalloc_pub_header *hd = &h->as->header;
	struct ml_heap_region *r = &h->regions[h->nregions++];
	uint64_t mask = npages == 64 ? ~0ULL : (1ULL << npages) - 1;
	uint64_t pg = hd->page_size, used = s->used | 1;
	unsigned prev = 0xff;

	r->start = s->base;
	r->end = s->base + hd->seg_size;
	r->type = ML_HEAP_SEGMENT;
	r->from = pick(seg_from, 3, s->kind);
	r->state = pick(seg_state, 3, s->state);
	r->tid = s->state == MLALLOC_SEGSTATE_OWNED ? s->owner_tid : 0;
	r->used = (uint64_t)__builtin_popcountll(used & mask & ~1ULL) * pg;
	r->free = (uint64_t)__builtin_popcountll(~used & mask) * pg;
	r->dirty = (uint64_t)__builtin_popcountll(s->dirty & ~used & mask) * pg;
	r->run = free_run(used, npages) * pg;
	for (unsigned i = 0; i < npages; i++) {
		unsigned c = s->page_class[i];
		bool in_span = used >> i & 1;
		r->map[i] = i == 0 ? 'M' : in_span ? '#' : (s->dirty >> i & 1) ? ':' : '.';
		if (i && in_span && c < hd->nclasses) {
			r->class_mask |= 1ULL << c;
			class_pages[c]++;
			class_runs[c] += c != prev;   /* for writers without span sizes */
		}
		prev = i && in_span ? c : 0xff;
	}
	h->span_bytes += r->used;
	h->free_pages += r->free;
	h->dirty_pages += r->dirty;
	h->meta_bytes += pg;
	if (r->run > h->largest_run)
		h->largest_run = r->run;
}

static void add_large(struct ml_heap *h, const struct mlalloc_pub_large *l)
{
	struct ml_heap_region *r = &h->regions[h->nregions++];
	uint64_t pg = h->as->header.page_size;
	uint64_t cells = (l->map_size + pg - 1) / pg;
	bool live = l->state == MLALLOC_LARGE_LIVE;

	r->start = l->map_base;
	r->end = l->map_base + l->map_size;
	r->type = ML_HEAP_LARGE;
	r->from = "mmap";
	r->state = pick(large_state, 3, l->state);
	r->used = live ? l->usable : 0;
	r->free = live ? 0 : l->map_size;
	r->block = l->addr;
	for (uint64_t i = 0; i < cells && i < ML_HEAP_MAP_CELLS; i++)
		r->map[i] = live ? '#' : ':';
	if (cells > ML_HEAP_MAP_CELLS)
		r->map[ML_HEAP_MAP_CELLS - 1] = '+';
	h->large_map_bytes += l->map_size;
	if (live) {
		h->live_large += l->usable;
		h->live_large_blocks++;
	} else {
		h->cached_large += l->map_size;
		h->cached_large_blocks++;
	}
}

/* Live blocks of class c; counters of a running thread may be a few
 * operations apart, so a negative difference reads as 0. */
static uint64_t class_live(const struct mla_alloc_snapshot *as, unsigned c)
{
	uint64_t m = 0, f = 0;

	for (size_t i = 0; i < as->nheaps; i++) {
		m += as->heaps[i].nmalloc[c];
		f += as->heaps[i].nfree[c];
	}
	return m > f ? m - f : 0;
}

static void add_classes(struct ml_heap *h, const uint64_t *class_pages, const uint64_t *class_runs)
{
	const struct mla_alloc_snapshot *as = h->as;
	uint64_t pg = as->header.page_size;

	for (unsigned c = 0; c < as->header.nclasses; c++) {
		uint64_t size = as->class_size[c], live = class_live(as, c);
		unsigned per = as->class_pages ? as->class_pages[c] : 0;
		if (!size || (!live && !class_pages[c]))
			continue;
		struct ml_heap_class *k = &h->classes[h->nclasses++];
		k->cls = c;
		k->size = size;
		k->live = live;
		k->span_bytes = class_pages[c] * pg;
		k->spans = per ? class_pages[c] / per : class_runs[c];
		uint64_t cap = per ? k->spans * (per * pg / size) : k->span_bytes / size;
		k->free = cap > live ? cap - live : 0;
		h->live_small += live * size;
		h->live_small_blocks += live;
		h->free_in_spans += k->free * size;
	}
}

static int by_start(const void *a, const void *b)
{
	const struct ml_heap_region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int ml_heap_build(const struct mla_alloc_snapshot *as, struct ml_heap **ret)
{
	const struct mlalloc_pub_header *hd = &as->header;
	uint64_t class_pages[MLALLOC_PUB_NCLASSES] = { 0 }, class_runs[MLALLOC_PUB_NCLASSES] = { 0 };
	unsigned npages = hd->seg_pages < 64 ? hd->seg_pages : 64;
	struct ml_heap *h;

	if (!hd->page_size || !npages || hd->nclasses > MLALLOC_PUB_NCLASSES)
		return -EPROTO;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->as = as;
	h->spans_exact = as->class_pages != NULL;
	h->classes = calloc(hd->nclasses + 1, sizeof(*h->classes));
	h->regions = calloc(as->nsegs + as->nlarge + 1, sizeof(*h->regions));
	if (!h->classes || !h->regions) {
		ml_heap_free(h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < as->nsegs; i++)
		if (as->segs[i].kind != MLALLOC_SEG_UNUSED)
			add_segment(h, &as->segs[i], npages, class_pages, class_runs);
	for (size_t i = 0; i < as->nlarge; i++)
		if (as->large[i].state != MLALLOC_LARGE_UNUSED)
			add_large(h, &as->large[i]);
	add_classes(h, class_pages, class_runs);
	if (h->nregions > 1)
		qsort(h->regions, h->nregions, sizeof(*h->regions), by_start);
	for (size_t i = 0; i < as->nheaps; i++)
		h->threads += as->heaps[i].state == 1;
	h->committed = h->span_bytes + h->meta_bytes + h->dirty_pages + h->large_map_bytes;
	h->reserved = (uint64_t)(h->nregions - h->live_large_blocks - h->cached_large_blocks) *
		      hd->seg_size + h->large_map_bytes;
	uint64_t live = h->live_small + h->live_large;
	h->fragmentation = h->committed && live < h->committed ?
		1.0 - (double)live / (double)h->committed : 0.0;
	*ret = h;
	return 0;
}

void ml_heap_free(struct ml_heap *h)
{
	if (!h)
		return;
	free(h->classes);
	free(h->regions);
	free(h);
}
