/* SPDX-License-Identifier: MIT */
/*
 * glibc-walk.c - glibc malloc's heap, walked from its arena: the arenas on
 * main_arena's next list, the heaps of each (main: the brk stretch from
 * sbrk_base to top; thread arenas: heap_info heaps from top's heap down the
 * prev chain), every chunk of every heap in address order, and the free
 * lists: fastbins (singly linked, safe-linked since 2.32), the unsorted,
 * small and large bins (doubly linked, checked as glibc checks them:
 * p->bk->fd == p), tcache_perthread_structs (the first chunk of a heap, or
 * any chunk of its exact size whose counts and lists hold), and mmap'd
 * chunks from the maps (IS_MMAPPED headers whose sizes tile the mapping).
 *
 * Passes: (1) the chunk walk checks every size against its heap's bounds and
 * counts the chunks, n; (2) every list is followed for at most n steps (a
 * longer one is cyclic), each entry's size checked against its bin; (3) the
 * free entries, sorted, are matched with a second chunk walk: each must be a
 * chunk boundary, none on two lists; in use, free per list, the map and the
 * histogram come from that walk.  Figures per arena follow glibc's
 * int_mallinfo() and __malloc_info(): "rest" counts every bin chunk plus
 * top, in use is system_mem minus fast and rest.
 *
 * Bounds: ML_GLIBC_MAX_CHUNKS chunks walked, ML_GLIBC_MAX_ARENAS arenas,
 * ML_GLIBC_MAX_HEAPS heaps, ML_GLIBC_MAX_TCACHES tcaches; the free-entry
 * array holds at most as many entries as chunks were walked.  Memory: the
 * 1 MiB block cache plus 24 bytes a free chunk.
 */
#include "glibc-layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fent {
	uint64_t chunk, size;
	uint32_t arena;
	int16_t bin;
	uint8_t list;
};

struct tcand { uint64_t chunk; uint32_t arena; bool first; };

struct walk {
	const struct ml_glibc_src *src;
	struct gl_mem mem;
	struct gl_layout L;
	struct ml_glibc_heap *h;
	struct ml_glibc_problem *bad;
	struct fent *fr;
	size_t nfr, cfr;
	struct tcand *tc;
	size_t ntc, ctc;
	uint64_t chunks;            /* walked in pass 1 */
	size_t cseg;
};

struct gl_priv { struct fent *fr; size_t nfr; struct gl_layout L; };

static int fail(struct walk *w, enum ml_glibc_bad bad, enum ml_glibc_list list, int bin,
		unsigned arena, uint64_t chunk, uint64_t value, uint64_t expect)
{
	*w->bad = (struct ml_glibc_problem){ bad, list, bin, arena, chunk, value, expect };
	return bad == ML_GLIBC_BAD_TOO_MANY ? -E2BIG : -EUCLEAN;
}

static int rword(struct walk *w, uint64_t addr, uint64_t *ret, enum ml_glibc_list list,
		 int bin, unsigned arena)
{
	if (gl_word(&w->mem, w->L.W, addr, ret) < 0)
		return fail(w, ML_GLIBC_BAD_UNREADABLE, list, bin, arena, addr, addr, 0);
	return 0;
}

static uint64_t align_chunk(const struct gl_layout *L, uint64_t p)
{
	uint64_t mis = (p + 2 * L->W) & (L->align - 1);
	return mis ? p + L->align - mis : p;
}

static bool misaligned(const struct gl_layout *L, uint64_t chunk)
{
	return (chunk + 2 * L->W) & (L->align - 1);
}

/* ---- arenas and their heaps ---- */

static int add_seg(struct walk *w, const struct ml_glibc_heapseg *s)
{
	struct ml_glibc_heap *h = w->h;

	if (h->nsegs == w->cseg) {
		size_t n = w->cseg ? w->cseg * 2 : 8;
		void *p;
		if (h->nsegs >= ML_GLIBC_MAX_HEAPS)
			return fail(w, ML_GLIBC_BAD_TOO_MANY, ML_GLIBC_INUSE, -1, s->arena, s->start,
				    h->nsegs, ML_GLIBC_MAX_HEAPS);
		if (!(p = realloc(h->segs, n * sizeof(*h->segs))))
			return -ENOMEM;
		h->segs = p;
		w->cseg = n;
	}
	h->segs[h->nsegs++] = *s;
	return 0;
}

static int main_segs(struct walk *w, struct ml_glibc_arena *a, uint64_t sbrk_base)
{
	const struct ml_glibc_map *m = NULL;
	struct ml_glibc_heapseg s = { 0 };

	if (a->top == gl_bin_at(&w->L, a->addr, 1))
		return 0;                       /* never used: initial_top */
	for (size_t i = 0; i < w->src->nmaps; i++)
		if (w->src->maps[i].heap)
			m = &w->src->maps[i];
	if (!sbrk_base && m)
		sbrk_base = m->start;
	if (!m || a->top < sbrk_base || a->top >= m->end)
		return fail(w, ML_GLIBC_BAD_TOP, ML_GLIBC_TOP, -1, 0, a->top, a->top, sbrk_base);
	s.start = sbrk_base;
	s.end = m->end;
	s.chunks_start = align_chunk(&w->L, sbrk_base);
	s.arena = 0;
	return add_seg(w, &s);
}

/* Where the chunks of a heap that is not its arena's first begin: after a
 * heap_info of 4 or 5 words (2.35 added pagesize), padded to the alignment;
 * the one whose first chunk has PREV_INUSE set and a sane size. */
static uint64_t heap_chunks_start(struct walk *w, uint64_t hp)
{
	const struct gl_layout *L = &w->L;
	unsigned words[] = { 4, 5 };

	for (size_t i = 0; i < 2; i++) {
		uint64_t c = align_chunk(L, hp + words[i] * L->W), sz;
		if (gl_word(&w->mem, L->W, c + L->W, &sz) == 0 && (sz & 1) &&
		    (sz & ~(uint64_t)7) >= L->minsize && !((sz & ~(uint64_t)7) & (L->align - 1)))
			return c;
	}
	return align_chunk(L, hp + 4 * L->W);
}

static int thread_segs(struct walk *w, struct ml_glibc_arena *a, unsigned ai)
{
	const struct gl_layout *L = &w->L;
	uint64_t mask = ~(L->heap_max - 1), hp = a->top & mask, first = a->addr & mask;

	for (unsigned n = 0; ; n++) {
		struct ml_glibc_heapseg s = { 0 };
		uint64_t ar, prev, size;
		int r;

		if (n >= ML_GLIBC_MAX_HEAPS)
			return fail(w, ML_GLIBC_BAD_TOO_MANY, ML_GLIBC_INUSE, -1, ai, hp, n, ML_GLIBC_MAX_HEAPS);
		if ((r = rword(w, hp, &ar, ML_GLIBC_INUSE, -1, ai)) ||
		    (r = rword(w, hp + L->W, &prev, ML_GLIBC_INUSE, -1, ai)) ||
		    (r = rword(w, hp + 2 * L->W, &size, ML_GLIBC_INUSE, -1, ai)))
			return r;
		if (ar != a->addr || size > L->heap_max || size < 4096)
			return fail(w, ML_GLIBC_BAD_HEAP_INFO, ML_GLIBC_INUSE, -1, ai, hp, ar, a->addr);
		s.start = hp;
		s.end = hp + size;
		s.arena = ai;
		s.chunks_start = hp == first ? align_chunk(L, a->addr + L->state_size)
					     : heap_chunks_start(w, hp);
		if ((r = add_seg(w, &s)))
			return r;
		if (hp == first)
			return prev ? fail(w, ML_GLIBC_BAD_HEAP_INFO, ML_GLIBC_INUSE, -1, ai, hp, prev, 0) : 0;
		if (!prev || (prev & ~mask))
			return fail(w, ML_GLIBC_BAD_HEAP_INFO, ML_GLIBC_INUSE, -1, ai, hp, prev, first);
		hp = prev;
	}
}

static int read_arena(struct walk *w, uint64_t addr, struct ml_glibc_arena *a, uint64_t *ret_next)
{
	const struct gl_layout *L = &w->L;
	unsigned ai = (unsigned)w->h->narenas;
	int r;

	memset(a, 0, sizeof(*a));
	a->addr = addr;
	if ((r = rword(w, addr + L->top_off, &a->top, ML_GLIBC_INUSE, -1, ai)) ||
	    (r = rword(w, addr + L->next_off, ret_next, ML_GLIBC_INUSE, -1, ai)) ||
	    (r = rword(w, addr + L->attached_off, &a->attached_threads, ML_GLIBC_INUSE, -1, ai)) ||
	    (r = rword(w, addr + L->sysmem_off, &a->system_mem, ML_GLIBC_INUSE, -1, ai)) ||
	    (r = rword(w, addr + L->sysmem_off + L->W, &a->max_system_mem, ML_GLIBC_INUSE, -1, ai)))
		return r;
	if (misaligned(L, a->top) && a->top != gl_bin_at(L, addr, 1))
		return fail(w, ML_GLIBC_BAD_ALIGN, ML_GLIBC_TOP, -1, ai, a->top, a->top, 0);
	return 0;
}

static int read_arenas(struct walk *w, uint64_t main_arena, uint64_t sbrk_base)
{
	struct ml_glibc_heap *h = w->h;
	uint64_t addr = main_arena, next;
	int r;

	if (!(h->arenas = calloc(ML_GLIBC_MAX_ARENAS, sizeof(*h->arenas))))
		return -ENOMEM;
	do {
		struct ml_glibc_arena *a;
		if (h->narenas >= ML_GLIBC_MAX_ARENAS)
			return fail(w, ML_GLIBC_BAD_ARENA_LIST, ML_GLIBC_INUSE, -1, 0, main_arena,
				    h->narenas, ML_GLIBC_MAX_ARENAS);
		a = &h->arenas[h->narenas];
		if ((r = read_arena(w, addr, a, &next)))
			return r;
		a->main = addr == main_arena;
		if ((r = a->main ? main_segs(w, a, sbrk_base) : thread_segs(w, a, (unsigned)h->narenas)))
			return r;
		h->narenas++;
		if (!next || (next & (w->L.W - 1)))
			return fail(w, ML_GLIBC_BAD_ARENA_LIST, ML_GLIBC_INUSE, -1, (unsigned)h->narenas - 1,
				    addr, next, main_arena);
		addr = next;
	} while (addr != main_arena);
	return 0;
}

/* ---- pass 1: the chunk walk ---- */

static int add_tcand(struct walk *w, uint64_t c, unsigned arena, bool first)
{
	if (w->ntc == w->ctc) {
		size_t n = w->ctc ? w->ctc * 2 : 16;
		void *p;
		if (w->ntc >= ML_GLIBC_MAX_TCACHES)
			return 0;                /* more candidates than threads could have */
		if (!(p = realloc(w->tc, n * sizeof(*w->tc))))
			return -ENOMEM;
		w->tc = p;
		w->ctc = n;
	}
	w->tc[w->ntc++] = (struct tcand){ c, arena, first };
	return 0;
}

/* One step of a chunk walk at c in s: its size, or a failure.  *ret_end set
 * when c ends the heap (top, or a fencepost). */
static int step(struct walk *w, struct ml_glibc_heapseg *s, uint64_t c, uint64_t *ret_sz,
		bool *ret_end)
{
	const struct gl_layout *L = &w->L;
	struct ml_glibc_arena *a = &w->h->arenas[s->arena];
	uint64_t size, sz;
	int r;

	if ((r = rword(w, c + L->W, &size, ML_GLIBC_INUSE, -1, s->arena)))
		return r;
	sz = size & ~(uint64_t)7;
	*ret_end = false;
	if (c == a->top) {
		if (c + sz > s->end || c + sz < c)
			return fail(w, ML_GLIBC_BAD_TOP, ML_GLIBC_TOP, -1, s->arena, c, sz, s->end - c);
		*ret_end = true;
	} else if (sz == 2 * L->W) {
		*ret_end = true;                 /* fencepost: CHUNK_HDR_SZ | PREV_INUSE, then 0 */
		sz = 0;
	} else if (sz < L->minsize || (sz & (L->align - 1))) {
		return fail(w, ML_GLIBC_BAD_SIZE, ML_GLIBC_INUSE, -1, s->arena, c, size, 0);
	} else if (c + sz > s->end || c + sz < c || (a->top > c && a->top < c + sz)) {
		return fail(w, ML_GLIBC_BAD_OUTSIDE, ML_GLIBC_INUSE, -1, s->arena, c, size, s->end);
	}
	*ret_sz = sz;
	return 0;
}

static int walk_count(struct walk *w, struct ml_glibc_heapseg *s)
{
	struct ml_glibc_arena *a = &w->h->arenas[s->arena];
	uint64_t c = s->chunks_start, sz;
	bool end = false;
	int r;

	while (c < s->end && !end) {
		if (++w->chunks > ML_GLIBC_MAX_CHUNKS)
			return fail(w, ML_GLIBC_BAD_TOO_MANY, ML_GLIBC_INUSE, -1, s->arena, c,
				    w->chunks, ML_GLIBC_MAX_CHUNKS);
		if ((r = step(w, s, c, &sz, &end)))
			return r;
		if (end && c == a->top)
			a->top_size = sz;
		if (!end && sz == w->L.tc_chunk && (r = add_tcand(w, c, s->arena, c == s->chunks_start)))
			return r;
		if (!end)
			a->chunks++;
		c += sz;
	}
	if (a->top >= s->chunks_start && a->top < s->end && c != a->top + a->top_size)
		return fail(w, ML_GLIBC_BAD_TOP, ML_GLIBC_TOP, -1, s->arena, a->top, c, a->top);
	s->chunks_end = c;
	return 0;
}

/* ---- pass 2: the lists ---- */

static int add_free(struct walk *w, uint64_t chunk, uint64_t size, enum ml_glibc_list list,
		    int bin, unsigned arena)
{
	if (w->nfr == w->cfr) {
		size_t n = w->cfr ? w->cfr * 2 : 256;
		void *p;
		if (!(p = realloc(w->fr, n * sizeof(*w->fr))))
			return -ENOMEM;
		w->fr = p;
		w->cfr = n;
	}
	w->fr[w->nfr++] = (struct fent){ chunk, size, arena, (int16_t)bin, (uint8_t)list };
	return 0;
}

static uint64_t reveal(const struct gl_layout *L, uint64_t pos, uint64_t v)
{
	return L->safe ? (pos >> 12) ^ v : v;
}

static int chunk_size(struct walk *w, uint64_t c, enum ml_glibc_list list, int bin, unsigned ai,
		      uint64_t *ret)
{
	int r;

	if (misaligned(&w->L, c))
		return fail(w, ML_GLIBC_BAD_ALIGN, list, bin, ai, c, c, 0);
	if ((r = rword(w, c + w->L.W, ret, list, bin, ai)))
		return fail(w, ML_GLIBC_BAD_NOT_CHUNK, list, bin, ai, c, c, 0);
	*ret &= ~(uint64_t)7;
	return 0;
}

static int fastbins(struct walk *w, struct ml_glibc_arena *a, unsigned ai)
{
	const struct gl_layout *L = &w->L;

	for (unsigned i = 0; i < L->nfast; i++) {
		uint64_t p, steps = 0, sz;
		int r;
		if ((r = rword(w, a->addr + L->fast_off + i * L->W, &p, ML_GLIBC_FAST, (int)i, ai)))
			return r;
		while (p) {
			if (++steps > w->chunks)
				return fail(w, ML_GLIBC_BAD_CYCLE, ML_GLIBC_FAST, (int)i, ai, p, steps, w->chunks);
			if ((r = chunk_size(w, p, ML_GLIBC_FAST, (int)i, ai, &sz)))
				return r;
			if (gl_fastbin_index(L, sz) != (int)i)
				return fail(w, ML_GLIBC_BAD_BIN_SIZE, ML_GLIBC_FAST, (int)i, ai, p, sz, 0);
			if ((r = add_free(w, p, sz, ML_GLIBC_FAST, (int)i, ai)))
				return r;
			a->fast_chunks++;
			a->fast_bytes += sz;
			if ((r = rword(w, p + 2 * L->W, &p, ML_GLIBC_FAST, (int)i, ai)))
				return r;
			p = reveal(L, w->fr[w->nfr - 1].chunk + 2 * L->W, p);
		}
	}
	return 0;
}

static enum ml_glibc_list bin_list(int i)
{
	return i == 1 ? ML_GLIBC_UNSORTED : i < 64 ? ML_GLIBC_SMALL : ML_GLIBC_LARGE;
}

/* Bin i followed by bk from the bin, as int_mallinfo() does, with
 * unlink's check: the chunk reached from q by bk has fd == q. */
static int one_bin(struct walk *w, struct ml_glibc_arena *a, unsigned ai, int i)
{
	const struct gl_layout *L = &w->L;
	enum ml_glibc_list list = bin_list(i);
	uint64_t b = gl_bin_at(L, a->addr, i), q = b, p, fd, sz, steps = 0;
	int r;

	if ((r = rword(w, b + 3 * L->W, &p, list, i, ai)))
		return r;
	while (p != b) {
		if (++steps > w->chunks)
			return fail(w, ML_GLIBC_BAD_CYCLE, list, i, ai, p, steps, w->chunks);
		if ((r = chunk_size(w, p, list, i, ai, &sz)))
			return r;
		if ((r = rword(w, p + 2 * L->W, &fd, list, i, ai)))
			return r;
		if (fd != q)
			return fail(w, ML_GLIBC_BAD_LINK, list, i, ai, p, fd, q);
		if (sz < L->minsize || (i > 1 && gl_bin_index(L, sz) != i))
			return fail(w, ML_GLIBC_BAD_BIN_SIZE, list, i, ai, p, sz, 0);
		if ((r = add_free(w, p, sz, list, i, ai)))
			return r;
		a->rest_chunks++;
		a->rest_bytes += sz;
		q = p;
		if ((r = rword(w, p + 3 * L->W, &p, list, i, ai)))
			return r;
	}
	return 0;
}

/* One tcache candidate's lists: 0 (entries added when add), 1 when it is not
 * a tcache (counts and lists disagree), or a failure. */
static int one_tcache(struct walk *w, const struct tcand *t, bool add, uint64_t *ret_n)
{
	const struct gl_layout *L = &w->L;
	unsigned char raw[GL_TCACHE_BINS * (2 + 8)];
	uint64_t mem = t->chunk + 2 * L->W, max = w->h->tcache_count ? w->h->tcache_count : 65535;
	size_t csz = L->tc_count_size;
	uint64_t total = 0;

	if (gl_read(&w->mem, mem, raw, GL_TCACHE_BINS * (csz + L->W)) < 0)
		return 1;
	for (int i = 0; i < GL_TCACHE_BINS; i++) {
		uint64_t cnt = csz == 2 ? (uint64_t)(raw[2 * i] | raw[2 * i + 1] << 8) : raw[i], e = 0;
		memcpy(&e, raw + GL_TCACHE_BINS * csz + (size_t)i * L->W, L->W);
		if (cnt > max || (cnt == 0) != (e == 0))
			return 1;
		for (uint64_t k = 0; k < cnt; k++) {
			uint64_t sz, next;
			if ((e & (L->align - 1)) || gl_word(&w->mem, L->W, e - L->W, &sz) < 0 ||
			    gl_tcache_index(L, sz & ~(uint64_t)7) != i || gl_word(&w->mem, L->W, e, &next) < 0)
				return 1;
			if (add) {
				int r = add_free(w, e - 2 * L->W, sz & ~(uint64_t)7, ML_GLIBC_TCACHE, i, t->arena);
				if (r)
					return r;
			}
			total += sz & ~(uint64_t)7;
			e = reveal(L, e, next);
		}
		if (e)
			return 1;
	}
	*ret_n = total;
	return 0;
}

static int tcaches(struct walk *w)
{
	struct ml_glibc_heap *h = w->h;

	if (!w->ntc)
		return 0;
	if (!(h->tcaches = calloc(w->ntc, sizeof(*h->tcaches))))
		return -ENOMEM;
	for (size_t i = 0; i < w->ntc; i++) {
		uint64_t bytes = 0;
		size_t before = w->nfr;
		int r = one_tcache(w, &w->tc[i], false, &bytes);
		if (r < 0)
			return r;
		if (r == 1 && w->tc[i].first)
			return fail(w, ML_GLIBC_BAD_TCACHE, ML_GLIBC_TCACHE, -1, w->tc[i].arena,
				    w->tc[i].chunk + 2 * w->L.W, 0, 0);
		if (r == 1 || (!w->tc[i].first && !bytes))
			continue;
		if ((r = one_tcache(w, &w->tc[i], true, &bytes)) < 0)
			return r;
		h->tcaches[h->ntcaches++] = (struct ml_glibc_tcache){
			w->tc[i].chunk + 2 * w->L.W, w->nfr - before, bytes, w->tc[i].arena };
		h->tcache_chunks += w->nfr - before;
		h->tcache_bytes += bytes;
	}
	return 0;
}

static int lists(struct walk *w)
{
	int r;

	for (size_t ai = 0; ai < w->h->narenas; ai++) {
		struct ml_glibc_arena *a = &w->h->arenas[ai];
		if ((r = fastbins(w, a, (unsigned)ai)))
			return r;
		for (int i = 1; i < GL_NBINS; i++)
			if ((r = one_bin(w, a, (unsigned)ai, i)))
				return r;
		a->rest_chunks++;                /* top, as glibc counts it */
		a->rest_bytes += a->top_size;
	}
	return tcaches(w);
}

/* ---- pass 3: the chunks classified ---- */

static int cmp_fent(const void *a, const void *b)
{
	const struct fent *x = a, *y = b;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct ml_glibc_heapseg *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static unsigned hist_bucket(uint64_t sz)
{
	unsigned b = 0;
	while (b + 1 < ML_GLIBC_HIST && sz >= ((uint64_t)32 << b))
		b++;
	return b;
}

enum { CELL_USED, CELL_CACHED, CELL_FREE, CELL_N };

static void cells_add(uint64_t (*cells)[CELL_N], const struct ml_glibc_heapseg *s,
		      uint64_t c, uint64_t sz, int kind)
{
	uint64_t span = s->end - s->start, width = span / ML_GLIBC_MAP_CELLS + 1;

	while (sz) {
		uint64_t cell = (c - s->start) / width, cend = s->start + (cell + 1) * width;
		uint64_t n = cend - c < sz ? cend - c : sz;
		if (cell >= ML_GLIBC_MAP_CELLS)
			return;
		cells[cell][kind] += n;
		c += n;
		sz -= n;
	}
}

static void cells_render(uint64_t (*cells)[CELL_N], char *map)
{
	static const char ch[CELL_N] = { '#', ':', '.' };

	for (int i = 0; i < ML_GLIBC_MAP_CELLS; i++) {
		int best = -1;
		uint64_t most = 0;
		for (int k = 0; k < CELL_N; k++)
			if (cells[i][k] > most) {
				most = cells[i][k];
				best = k;
			}
		map[i] = best < 0 ? ' ' : ch[best];
	}
	map[ML_GLIBC_MAP_CELLS] = '\0';
}

static void account(struct walk *w, struct ml_glibc_heapseg *s, uint64_t c, uint64_t sz,
		    enum ml_glibc_list list, uint64_t (*cells)[CELL_N])
{
	struct ml_glibc_heap *h = w->h;
	struct ml_glibc_arena *a = &h->arenas[s->arena];
	bool used = list == ML_GLIBC_INUSE;

	a->list[list].chunks++;
	a->list[list].bytes += sz;
	if (list == ML_GLIBC_TOP) {
		s->free += sz;
		cells_add(cells, s, c, sz, CELL_FREE);
		return;
	}
	(used ? &h->hist_used[hist_bucket(sz)] : &h->hist_free[hist_bucket(sz)])->chunks++;
	(used ? &h->hist_used[hist_bucket(sz)] : &h->hist_free[hist_bucket(sz)])->bytes += sz;
	if (used) {
		s->in_use += sz;
	} else {
		s->free += sz;
		if (sz > a->largest_free)
			a->largest_free = sz;
	}
	cells_add(cells, s, c, sz, used ? CELL_USED :
		  list == ML_GLIBC_TCACHE || list == ML_GLIBC_FAST ? CELL_CACHED : CELL_FREE);
}

static int classify_seg(struct walk *w, struct ml_glibc_heapseg *s, size_t *k)
{
	uint64_t cells[ML_GLIBC_MAP_CELLS][CELL_N];
	struct ml_glibc_arena *a = &w->h->arenas[s->arena];
	uint64_t c = s->chunks_start, sz;
	bool end = false;
	int r;

	memset(cells, 0, sizeof(cells));
	while (c < s->chunks_end && !end) {
		enum ml_glibc_list list = ML_GLIBC_INUSE;
		if ((r = step(w, s, c, &sz, &end)))
			return r;
		if (*k < w->nfr && w->fr[*k].chunk < c)
			return fail(w, ML_GLIBC_BAD_NOT_CHUNK, w->fr[*k].list, w->fr[*k].bin,
				    w->fr[*k].arena, w->fr[*k].chunk, 0, 0);
		if (*k < w->nfr && w->fr[*k].chunk == c) {
			if (w->fr[*k].size != sz)
				return fail(w, ML_GLIBC_BAD_BIN_SIZE, w->fr[*k].list, w->fr[*k].bin,
					    w->fr[*k].arena, c, w->fr[*k].size, sz);
			list = w->fr[(*k)++].list;
		}
		if (c == a->top)
			list = ML_GLIBC_TOP;
		if (sz)
			account(w, s, c, sz, list, cells);
		c += sz;
	}
	cells_render(cells, s->map);
	return 0;
}

static int classify(struct walk *w)
{
	struct ml_glibc_heap *h = w->h;
	size_t k = 0;
	int r;

	if (w->nfr > 1)
		qsort(w->fr, w->nfr, sizeof(*w->fr), cmp_fent);
	for (size_t i = 1; i < w->nfr; i++)
		if (w->fr[i].chunk == w->fr[i - 1].chunk)
			return fail(w, ML_GLIBC_BAD_TWICE, w->fr[i].list, w->fr[i].bin, w->fr[i].arena,
				    w->fr[i].chunk, w->fr[i - 1].list, w->fr[i - 1].bin);
	if (h->nsegs > 1)
		qsort(h->segs, h->nsegs, sizeof(*h->segs), cmp_seg);
	for (size_t i = 0; i < h->nsegs; i++)
		if ((r = classify_seg(w, &h->segs[i], &k)))
			return r;
	if (k < w->nfr)
		return fail(w, ML_GLIBC_BAD_NOT_CHUNK, w->fr[k].list, w->fr[k].bin, w->fr[k].arena,
			    w->fr[k].chunk, 0, 0);
	return 0;
}

/* ---- mmap'd chunks: anonymous mappings tiled by IS_MMAPPED chunks ---- */

static bool in_seg(const struct ml_glibc_heap *h, uint64_t a)
{
	for (size_t i = 0; i < h->nsegs; i++)
		if (a >= h->segs[i].start && a < h->segs[i].end)
			return true;
	return false;
}

static int add_mmapped(struct walk *w, uint64_t start, uint64_t size, size_t *cap)
{
	struct ml_glibc_heap *h = w->h;

	if (h->nmmapped == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		void *p = realloc(h->mmapped, n * sizeof(*h->mmapped));
		if (!p)
			return -ENOMEM;
		h->mmapped = p;
		*cap = n;
	}
	h->mmapped[h->nmmapped++] = (struct ml_glibc_mmapped){ start, size };
	h->hist_used[hist_bucket(size)].chunks++;
	h->hist_used[hist_bucket(size)].bytes += size;
	return 0;
}

static int mmapped(struct walk *w)
{
	const struct gl_layout *L = &w->L;
	size_t cap = 0;

	for (size_t i = 0; i < w->src->nmaps; i++) {
		const struct ml_glibc_map *m = &w->src->maps[i];
		uint64_t mm = m->start;
		if (!m->anon || m->heap || !m->r || !m->w || in_seg(w->h, m->start))
			continue;
		while (mm < m->end) {
			uint64_t p = align_chunk(L, mm), prev, size, sz;
			int r;
			if (gl_word(&w->mem, L->W, p, &prev) < 0 ||
			    gl_word(&w->mem, L->W, p + L->W, &size) < 0)
				break;
			sz = size & ~(uint64_t)7;
			if (prev != p - mm || !(size & 2) || (size & 4) || !sz ||
			    ((sz + (p - mm)) & 4095) || sz > m->end - p)
				break;
			if (w->chunks + w->h->nmmapped >= ML_GLIBC_MAX_CHUNKS)
				return fail(w, ML_GLIBC_BAD_TOO_MANY, ML_GLIBC_MMAPPED, -1, 0, p,
					    w->h->nmmapped, ML_GLIBC_MAX_CHUNKS);
			if ((r = add_mmapped(w, mm, sz + (p - mm), &cap)))
				return r;
			mm = p + sz;
		}
	}
	return 0;
}

/* ---- totals ---- */

static void totals(struct ml_glibc_heap *h)
{
	uint64_t held = 0, used = 0;

	for (size_t i = 0; i < h->narenas; i++) {
		const struct ml_glibc_arena *a = &h->arenas[i];
		h->arena_bytes += a->system_mem;
		h->free_chunks += a->rest_chunks;
		h->fastbin_chunks += a->fast_chunks;
		h->fastbin_bytes += a->fast_bytes;
		h->free_bytes += a->fast_bytes + a->rest_bytes;
		h->in_use_bytes += a->system_mem - a->fast_bytes - a->rest_bytes;
		h->chunks += a->chunks;
		if (a->main)
			h->top_bytes = a->top_size;
		if (a->largest_free > h->largest_free)
			h->largest_free = a->largest_free;
		for (int l = ML_GLIBC_TCACHE; l <= ML_GLIBC_LARGE; l++)
			held += a->list[l].bytes;
		used += a->list[ML_GLIBC_INUSE].bytes;
	}
	h->mmap_chunks = h->have_mp ? h->n_mmaps : h->nmmapped;
	if (h->have_mp) {
		h->mmap_bytes = h->mmapped_mem;
	} else {
		for (size_t i = 0; i < h->nmmapped; i++)
			h->mmap_bytes += h->mmapped[i].size;
	}
	h->fragmentation = held + used ? (double)held / (double)(held + used) : 0.0;
}

int ml_glibc_heap_walk(const struct ml_glibc_src *src, unsigned version_minor,
		       uint64_t arena_addr, uint64_t mp_addr, uint64_t sbrk_base,
		       struct ml_glibc_heap **ret, struct ml_glibc_problem *ret_bad)
{
	struct walk w = { .src = src, .bad = ret_bad };
	struct gl_priv *priv;
	int r;

	if (src->word != 4 && src->word != 8)
		return -EINVAL;
	if (version_minor < 26)
		return -ENOTSUP;
	gl_layout_init(&w.L, src->word, version_minor);
	if (!(w.h = calloc(1, sizeof(*w.h))) || !(priv = calloc(1, sizeof(*priv)))) {
		free(w.h);
		return -ENOMEM;
	}
	w.h->priv = priv;
	w.h->version_minor = version_minor;
	w.h->word = src->word;
	w.h->main_arena = arena_addr;
	w.h->mp = mp_addr;
	w.h->sbrk_base = sbrk_base;
	w.h->safe_linking = w.L.safe;
	if ((r = gl_mem_init(&w.mem, src)))
		goto out;
	if ((r = read_arenas(&w, arena_addr, sbrk_base)))
		goto out;
	for (size_t i = 0; i < w.h->nsegs; i++)
		if ((r = walk_count(&w, &w.h->segs[i])))
			goto out;
	if ((r = lists(&w)) || (r = classify(&w)) || (r = mmapped(&w)))
		goto out;
	totals(w.h);
	priv->fr = w.fr;
	priv->nfr = w.nfr;
	priv->L = w.L;
	w.fr = NULL;
	*ret = w.h;
	w.h = NULL;
out:
	gl_mem_done(&w.mem);
	free(w.fr);
	free(w.tc);
	ml_glibc_heap_free(w.h);
	return r;
}

void ml_glibc_heap_free(struct ml_glibc_heap *h)
{
	struct gl_priv *p;

	if (!h)
		return;
	p = h->priv;
	if (p)
		free(p->fr);
	free(p);
	free(h->arenas);
	free(h->segs);
	free(h->tcaches);
	free(h->mmapped);
	free(h);
}

/* ---- one address ---- */

static int cmp_key(const void *k, const void *e)
{
	uint64_t a = *(const uint64_t *)k;
	const struct fent *f = e;
	return a < f->chunk ? -1 : a > f->chunk;
}

int ml_glibc_where(const struct ml_glibc_src *src, const struct ml_glibc_heap *h,
		   uint64_t addr, struct ml_glibc_chunk *ret)
{
	const struct gl_priv *p = h->priv;
	const struct gl_layout *L = &p->L;
	struct gl_mem m;
	int r = -ENOENT;

	for (size_t i = 0; i < h->nmmapped; i++)
		if (addr >= h->mmapped[i].start && addr - h->mmapped[i].start < h->mmapped[i].size) {
			uint64_t c = align_chunk(L, h->mmapped[i].start);
			*ret = (struct ml_glibc_chunk){ c, h->mmapped[i].size - (c - h->mmapped[i].start),
							c + 2 * L->W, ML_GLIBC_MMAPPED, -1, 0, true };
			return 0;
		}
	if (gl_mem_init(&m, src))
		return -ENOMEM;
	for (size_t i = 0; i < h->nsegs && r == -ENOENT; i++) {
		const struct ml_glibc_heapseg *s = &h->segs[i];
		const struct ml_glibc_arena *a = &h->arenas[s->arena];
		uint64_t c = s->chunks_start, size, sz;
		if (addr < s->chunks_start || addr >= s->chunks_end)
			continue;
		for (uint64_t n = 0; n <= h->chunks && c < s->chunks_end; n++, c += sz) {
			const struct fent *f;
			if (gl_word(&m, L->W, c + L->W, &size) < 0 || !(sz = size & ~(uint64_t)7)) {
				r = -EUCLEAN;
				break;
			}
			if (addr >= c + sz)
				continue;
			f = p->nfr ? bsearch(&c, p->fr, p->nfr, sizeof(*p->fr), cmp_key) : NULL;
			*ret = (struct ml_glibc_chunk){ c, sz, c + 2 * L->W,
				c == a->top ? ML_GLIBC_TOP : f ? f->list : ML_GLIBC_INUSE,
				f ? f->bin : -1, s->arena, false };
			r = 0;
			break;
		}
	}
	gl_mem_done(&m);
	return r;
}
