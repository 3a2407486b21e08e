/* SPDX-License-Identifier: MIT */
/*
 * where.c - what an address is, in the terms of the process memory model.
 *
 * ml_where_explain() fills a struct ml_where and prints nothing:
 *  - the region (binary search in the snapshot), offsets in the mapping and
 *    in the file; with a symbolizer, section, symbol and source line;
 *  - stack facts (whose stack, distance below its top, room left before
 *    RLIMIT_STACK or the stack guard gap) and heap facts (offset from
 *    start_brk, distance to the brk);
 *  - for an unmapped address, the kind of hole, decided by the first rule
 *    of hole_rules[] that matches (each rule claims an interval), its
 *    bounds, and the neighbours;
 *  - the page: number, offset, page-table indices per level of this
 *    machine's geometry (walks[]);
 *  - with a pagemap, what the kernel says of the page, read at call time.
 *    Entries are read 512 at a time (one 2 MiB-aligned stretch, clipped to
 *    TASK_SIZE, where pagemap ends) into a small direct-mapped cache, and
 *    frame facts are cached by PFN, so a batch of addresses costs few
 *    preads; a page that changes during one batch may be seen as it was
 *    when its stretch was read.
 *    The size of the page comes from /proc/kpageflags (root): a THP whose
 *    stretch holds 512 present, physically contiguous, aligned frames is a
 *    PMD-mapped huge page (its walk ends at the PMD); otherwise a THP is a
 *    large folio of unknown size.
 *
 * Bounds: O(log regions) per address (a branch-free search of a packed
 * array of starts, in two levels; ml_where_prefetch() lets a batch start
 * loading the next address's region early), plus the symbolizer's lookup and at
 * most one pagemap pread (PM_CHUNK entries) and two frame preads.
 */
#include "ml-where.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define STARTS_BLOCK  32        /* region starts per block of the search index */
#define PM_CHUNK      512       /* pagemap entries per cached stretch */
#define PM_SLOTS      64        /* cached stretches */
#define FRAME_SLOTS   4096      /* cached frame facts, direct-mapped by PFN */
#define KPF_HUGE_BIT  17
#define KPF_THP_BIT   22
#define GUARD_GAP_DEFAULT_PAGES 256   /* the kernel's stack_guard_gap */

struct pm_slot {
	uint64_t chunk;           /* vpn / PM_CHUNK, UINT64_MAX if empty */
	uint64_t lo, hi;          /* vpns read: [lo, hi) */
	uint64_t e[PM_CHUNK];
};

/* Frame facts of a PFN, cached for a batch. */
struct frame_slot {
	uint64_t pfn;             /* 0: empty */
	unsigned int flags;       /* ML_PAGE_KFLAGS | ML_PAGE_MAPCOUNT */
	uint64_t kflags, mapcount;
};

struct ml_where_ctx {
	const struct ml_snapshot *snap;
	struct ml_symbolizer *sym;
	struct ml_pagemap *pm;
	uint64_t page_size;
	uint64_t guard_gap;       /* bytes */
	uint64_t canon_top;       /* first non-canonical address, 0 if none */
	const struct ml_pt_level *walk;
	unsigned int nlevels;
	struct pm_slot *slots;    /* PM_SLOTS of them, with pm */
	struct frame_slot *frames;  /* FRAME_SLOTS of them, with pm */
	uint64_t *starts;         /* starts[i] = snap->regions[i].start */
	uint64_t *tops;           /* tops[k] = starts[k * STARTS_BLOCK] */
	size_t ntops;
	/* The last two addresses given to ml_where_prefetch() (a batch
	 * prefetches one while it explains the one before) and their
	 * upper_bound(); nnext of them set, the newer at [last_next]. */
	uint64_t next_addr[2];
	size_t next_up[2];
	unsigned int nnext, last_next;
	bool live;                /* /proc, not a saved tree */
	unsigned int flags;       /* ML_WHERE_* */
};

/* ---- holes ---- */

static const struct {
	const char *name, *description;
} holes[ML_HOLE__COUNT] = {
	[ML_HOLE_NONE]         = { "mapped", "mapped" },
	[ML_HOLE_NULL_ZONE]    = { "null-zone", "the NULL guard zone below mmap_min_addr: nothing can ever be mapped here" },
	[ML_HOLE_BELOW_FIRST]  = { "below-first", "unmapped, below the lowest mapping" },
	[ML_HOLE_PRE_HEAP]     = { "pre-heap", "the random gap between the program's data and the start of the heap" },
	[ML_HOLE_HEAP_MMAP]    = { "heap-mmap-gap", "the gap between the heap (brk) and the mmap area: the heap grows up into it, mmaps down" },
	[ML_HOLE_STACK_GUARD]  = { "stack-guard-gap", "the stack guard gap: no mapping may come this close below the stack" },
	[ML_HOLE_STACK_REACH]  = { "stack-reach", "below the stack, within RLIMIT_STACK: the stack may grow down here" },
	[ML_HOLE_BETWEEN]      = { "gap", "unmapped, between two mappings" },
	[ML_HOLE_ABOVE_LAST]   = { "above-last", "unmapped, above the highest mapping of user space" },
	[ML_HOLE_USER_TOP]     = { "above-user-top", "above the top of user space: the process cannot map here" },
	[ML_HOLE_NONCANONICAL] = { "non-canonical", "the non-canonical hole: no address here is valid" },
	[ML_HOLE_KERNEL]       = { "kernel", "the kernel half: off limits to user code" },
};

const char *ml_hole_name(enum ml_hole h)
{
	return (unsigned int)h < ML_HOLE__COUNT ? holes[h].name : "?";
}

const char *ml_hole_description(enum ml_hole h)
{
	return (unsigned int)h < ML_HOLE__COUNT ? holes[h].description : "?";
}

/* What a hole rule sees. */
struct hole_in {
	const struct ml_where_ctx *ctx;
	const struct ml_proc *p;
	uint64_t addr;
	const struct ml_region *below, *above;   /* user-space neighbours */
};

/* Each rule gives the addresses it claims as one interval [lo, hi) (hi
 * UINT64_MAX: to the top); an empty one (lo >= hi) claims none.  A rule
 * matches an address in its interval, and the hole's bounds are the
 * rule's interval clipped by the gap between the neighbours and by the
 * intervals of the rules before it (which did not match). */
struct span { uint64_t lo, hi; };

#define SPAN_ALL  ((struct span){ 0, UINT64_MAX })
#define SPAN_NONE ((struct span){ 0, 0 })
#define SPAN_FROM(a) ((struct span){ (a), UINT64_MAX })

static uint64_t sub_sat(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

static struct span h_kernel(const struct hole_in *h)
{
	return !h->p->is_32bit && h->p->kernel_start ? SPAN_FROM(h->p->kernel_start) : SPAN_NONE;
}

static struct span h_noncanon(const struct hole_in *h)
{
	return !h->p->is_32bit && h->ctx->canon_top ? SPAN_FROM(h->ctx->canon_top) : SPAN_NONE;
}

static struct span h_user_top(const struct hole_in *h)
{
	return h->p->user_top ? SPAN_FROM(h->p->user_top) : SPAN_NONE;
}

static struct span h_null(const struct hole_in *h)
{
	return (struct span){ 0, h->p->mmap_min_addr };
}

static bool under_stack(const struct hole_in *h)
{
	return h->above && h->above->kind == ML_KIND_STACK;
}

static struct span h_stack_guard(const struct hole_in *h)
{
	if (!under_stack(h))
		return SPAN_NONE;
	return (struct span){ sub_sat(h->above->start, h->ctx->guard_gap), h->above->start };
}

static struct span h_stack_reach(const struct hole_in *h)
{
	uint64_t lim = h->p->stack_rlimit;

	if (!under_stack(h))
		return SPAN_NONE;
	return lim == UINT64_MAX ? SPAN_ALL : SPAN_FROM(sub_sat(h->above->end, lim));
}

static struct span h_below_first(const struct hole_in *h) { return h->below ? SPAN_NONE : SPAN_ALL; }
static struct span h_above_last(const struct hole_in *h) { return h->above ? SPAN_NONE : SPAN_ALL; }

static struct span h_pre_heap(const struct hole_in *h)
{
	if (!h->p->start_brk || !h->above || h->above->start < h->p->start_brk)
		return SPAN_NONE;
	return (struct span){ 0, h->p->start_brk };
}

static struct span h_heap_mmap(const struct hole_in *h)
{
	if (!h->p->start_brk || !h->below || h->below->end > h->p->brk)
		return SPAN_NONE;
	return SPAN_FROM(h->p->brk);
}

static struct span h_between(const struct hole_in *h) { (void)h; return SPAN_ALL; }

/* In order: the first that matches names the hole. */
static const struct {
	enum ml_hole hole;
	struct span (*span)(const struct hole_in *h);
} hole_rules[] = {
	{ ML_HOLE_KERNEL,       h_kernel },
	{ ML_HOLE_NONCANONICAL, h_noncanon },
	{ ML_HOLE_USER_TOP,     h_user_top },
	{ ML_HOLE_NULL_ZONE,    h_null },
	{ ML_HOLE_STACK_GUARD,  h_stack_guard },
	{ ML_HOLE_STACK_REACH,  h_stack_reach },
	{ ML_HOLE_BELOW_FIRST,  h_below_first },
	{ ML_HOLE_ABOVE_LAST,   h_above_last },
	{ ML_HOLE_PRE_HEAP,     h_pre_heap },
	{ ML_HOLE_HEAP_MMAP,    h_heap_mmap },
	{ ML_HOLE_BETWEEN,      h_between },
};

/* hi UINT64_MAX means "to the top": the last address, 2^64 - 1, is in
 * it (a half-open interval cannot name 2^64). */
static bool in_span(struct span s, uint64_t a)
{
	return a >= s.lo && (a < s.hi || (s.hi == UINT64_MAX && s.lo < s.hi));
}

/* How many of the n sorted values a[] are <= x.  Branch-free: the answer
 * stays in [base, base + n]; a batch's addresses are random, so a branch
 * here was mispredicted half the time. */
static size_t count_le(const uint64_t *a, size_t n, uint64_t x)
{
	const uint64_t *base = a;

	if (!n)
		return 0;
	while (n > 1) {
		size_t half = n / 2;

		base = base[half] <= x ? base + half : base;
		n -= half;
	}
	return (size_t)(base - a) + (*base <= x);
}

/* Index of the first region starting above addr.  The search runs on a
 * packed copy of the start addresses (8 bytes a region, not a whole
 * struct ml_region), in two levels: tops[] (every STARTS_BLOCK-th start,
 * small enough for the L1 cache) picks a block, then the block's few
 * cache lines of starts[] are searched. */
static size_t upper_bound(const struct ml_where_ctx *ctx, uint64_t addr)
{
	size_t n = ctx->snap->nregions, k = count_le(ctx->tops, ctx->ntops, addr), lo, len;

	if (k == 0)
		return 0;                 /* below the first start */
	lo = (k - 1) * STARTS_BLOCK;      /* starts[lo] <= addr */
	len = n - lo < STARTS_BLOCK ? n - lo : STARTS_BLOCK;
	return lo + count_le(ctx->starts + lo, len, addr);
}

static void explain_hole(const struct ml_where_ctx *ctx, size_t up, struct ml_where *w)
{
	const struct ml_snapshot *s = ctx->snap;
	const struct ml_proc *p = &s->proc;
	struct hole_in h = { ctx, p, w->addr, NULL, NULL };
	uint64_t lo, hi;

	w->below = up ? &s->regions[up - 1] : NULL;
	w->above = up < s->nregions ? &s->regions[up] : NULL;
	if (w->below)
		w->dist_below = w->addr - w->below->end;
	if (w->above)
		w->dist_above = w->above->start - w->addr;
	lo = w->below ? w->below->end : 0;
	hi = w->above ? w->above->start : UINT64_MAX;
	/* Regions above user space (vsyscall) are no neighbours in it. */
	h.below = w->below && (!p->user_top || w->below->end <= p->user_top) ? w->below : NULL;
	h.above = w->above && (!p->user_top || w->above->start < p->user_top) ? w->above : NULL;
	for (size_t i = 0; i < ML_ARRAY_SIZE(hole_rules); i++) {
		struct span sp = hole_rules[i].span(&h);

		if (in_span(sp, w->addr)) {
			w->hole = hole_rules[i].hole;
			w->hole_start = sp.lo > lo ? sp.lo : lo;
			w->hole_end = sp.hi < hi ? sp.hi : hi;
			return;
		}
		if (sp.lo >= sp.hi)
			continue;
		if (sp.lo > w->addr && sp.lo < hi)
			hi = sp.lo;
		else if (sp.hi <= w->addr && sp.hi > lo)
			lo = sp.hi;
	}
}

/* ---- stacks and heap ---- */

static const struct ml_thread *thread_of(const struct ml_snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}

/* The lowest address the main stack may grow down to, and why. */
static uint64_t stack_floor(const struct ml_where_ctx *ctx, const struct ml_region *r,
			    const char **ret_why)
{
	const struct ml_snapshot *s = ctx->snap;
	uint64_t lim = s->proc.stack_rlimit, floor = 0, gap = 0;
	size_t i = (size_t)(r - s->regions);

	*ret_why = "unlimited";
	if (lim != UINT64_MAX) {
		floor = r->end > lim ? r->end - lim : 0;
		*ret_why = "RLIMIT_STACK";
	}
	if (i > 0)
		gap = s->regions[i - 1].end + ctx->guard_gap;
	if (i > 0 && gap > floor) {
		floor = gap;
		*ret_why = "the stack guard gap";
	}
	return floor;
}

static void explain_stack(const struct ml_where_ctx *ctx, struct ml_where *w)
{
	const struct ml_region *r = w->region;
	const struct ml_thread *t;
	uint64_t from, floor;

	w->is_stack = true;
	w->stack_tid = r->kind == ML_KIND_STACK ? ctx->snap->proc.pid : r->tid;
	w->below_top = r->end - w->addr;
	t = w->stack_tid ? thread_of(ctx->snap, w->stack_tid) : NULL;
	if (t && t->sp_known && t->sp >= r->start && t->sp < r->end) {
		w->sp_known = true;
		w->sp = t->sp;
	}
	from = w->sp_known ? w->sp : r->start;
	if (r->kind == ML_KIND_STACK) {
		floor = stack_floor(ctx, r, &w->room_limit);
	} else {
		floor = r->start;     /* a thread stack has a fixed size */
		w->room_limit = "the guard page";
	}
	w->room = from > floor ? from - floor : 0;
}

static void explain_heap(const struct ml_where_ctx *ctx, struct ml_where *w)
{
	const struct ml_proc *p = &ctx->snap->proc;
	uint64_t start = p->start_brk && p->start_brk <= w->addr ? p->start_brk : w->region->start;
	uint64_t brk = p->brk > w->addr ? p->brk : w->region->end;

	w->is_heap = true;
	w->heap_offset = w->addr - start;
	w->to_brk = brk - w->addr;
}

/* ---- the page and the walk ---- */

/* Page-table levels, top down; 9 bits of index each. */
static const struct ml_pt_level walk_x86_4[] = {
	{ "PGD", 0, 39 }, { "PUD", 0, 30 }, { "PMD", 0, 21 }, { "PTE", 0, 12 },
};
static const struct ml_pt_level walk_x86_5[] = {
	{ "PGD", 0, 48 }, { "P4D", 0, 39 }, { "PUD", 0, 30 }, { "PMD", 0, 21 }, { "PTE", 0, 12 },
};
static const struct ml_pt_level walk_arm64_4k[] = {
	{ "L0", 0, 39 }, { "L1", 0, 30 }, { "L2", 0, 21 }, { "L3", 0, 12 },
};

/* The walk of this machine for paging_levels, and the first
 * non-canonical address. */
static void geometry(struct ml_where_ctx *ctx, unsigned int levels)
{
#if defined(__aarch64__)
	(void)walk_x86_4;
	(void)walk_x86_5;
	if (levels == 4 && ctx->page_size == 4096) {
		ctx->walk = walk_arm64_4k;
		ctx->nlevels = ML_ARRAY_SIZE(walk_arm64_4k);
		ctx->canon_top = 1ull << 48;
	}
#elif defined(__x86_64__)
	(void)walk_arm64_4k;
	if (levels == 4) {
		ctx->walk = walk_x86_4;
		ctx->nlevels = ML_ARRAY_SIZE(walk_x86_4);
		ctx->canon_top = 1ull << 47;
	} else if (levels == 5) {
		ctx->walk = walk_x86_5;
		ctx->nlevels = ML_ARRAY_SIZE(walk_x86_5);
		ctx->canon_top = 1ull << 56;
	}
#else
	(void)walk_x86_4; (void)walk_x86_5; (void)walk_arm64_4k; (void)levels;
#endif
}

static void explain_page(const struct ml_where_ctx *ctx, struct ml_where *w)
{
	w->page_size = ctx->page_size;
	w->vpn = w->addr / ctx->page_size;
	w->page_offset = w->addr % ctx->page_size;
	/* A non-canonical address has no walk. */
	if (!ctx->nlevels || (w->addr >= ctx->canon_top &&
			      w->addr < ctx->snap->proc.kernel_start))
		return;
	w->nlevels = ctx->nlevels;
	for (unsigned int i = 0; i < ctx->nlevels; i++) {
		w->levels[i] = ctx->walk[i];
		w->levels[i].index = (unsigned int)(w->addr >> ctx->walk[i].shift) & 511;
	}
}

/* ---- pagemap ---- */

/* The pagemap entry of page vpn (a mapped user page).  Its whole stretch
 * is read, holes included (they read as zeros), up to TASK_SIZE. */
static int pm_entry(struct ml_where_ctx *ctx, uint64_t vpn, uint64_t **ret_chunk,
		    uint64_t *ret_e)
{
	uint64_t chunk = vpn / PM_CHUNK, ps = ctx->page_size;
	uint64_t top = ctx->snap->proc.user_top ? ctx->snap->proc.user_top / ps : UINT64_MAX;
	struct pm_slot *s = &ctx->slots[chunk % PM_SLOTS];
	int err;

	if (s->chunk != chunk || vpn < s->lo || vpn >= s->hi) {
		uint64_t lo = chunk * PM_CHUNK, hi = lo + PM_CHUNK;

		if (hi > top)
			hi = top;
		s->chunk = UINT64_MAX;
		err = ml_pagemap_read(ctx->pm, lo * ps, (size_t)(hi - lo),
				      s->e + (lo - chunk * PM_CHUNK));
		if (err < 0)
			return err;
		s->chunk = chunk;
		s->lo = lo;
		s->hi = hi;
	}
	*ret_e = s->e[vpn - chunk * PM_CHUNK];
	*ret_chunk = (s->lo == chunk * PM_CHUNK && s->hi == s->lo + PM_CHUNK) ? s->e : NULL;
	return 0;
}

/* A THP filling its whole aligned stretch with contiguous frames is mapped
 * by one PMD entry: a huge page of PM_CHUNK pages. */
static bool pmd_mapped(const uint64_t *chunk)
{
	struct ml_page first, p;

	if (!chunk)
		return false;
	ml_page_decode(chunk[0], &first);
	if (!first.pfn || first.pfn % PM_CHUNK)
		return false;
	for (size_t i = 1; i < PM_CHUNK; i++) {
		ml_page_decode(chunk[i], &p);
		if (p.pfn != first.pfn + i)
			return false;
	}
	return true;
}

static void page_size_verdict(const struct ml_where *w, const uint64_t *chunk,
			      struct ml_where *out)
{
	const struct ml_region *r = w->region;

	if (w->page.flags & ML_PAGE_KFLAGS) {
		bool thp = w->page.kflags >> KPF_THP_BIT & 1;
		bool huge = w->page.kflags >> KPF_HUGE_BIT & 1;

		out->pgsz_known = thp || huge ? ML_PGSZ_HUGE : ML_PGSZ_BASE;
		if (thp && pmd_mapped(chunk)) {
			struct ml_page head;
			ml_page_decode(chunk[0], &head);
			out->huge_size = w->page_size * PM_CHUNK;
			out->huge_head_pfn = head.pfn;
		} else if (huge && r->have_smaps && r->smaps->kernel_page_size > w->page_size) {
			out->huge_size = r->smaps->kernel_page_size;
		}
		return;
	}
	/* No frame flags: smaps can still say "no huge pages in this region". */
	if (r->have_smaps && r->smaps->kernel_page_size == w->page_size &&
	    r->smaps->anon_huge == 0 && r->smaps->file_pmd == 0 && r->smaps->shmem_pmd == 0)
		out->pgsz_known = ML_PGSZ_BASE;
}

/* A huge page mapped by one entry (a 2 MiB page by a PMD entry, 1 GiB by
 * a PUD entry) ends the walk at that level: the levels below it, which
 * index within the huge page, are dropped. */
static void end_walk_at_huge(struct ml_where *w)
{
	unsigned int n = w->nlevels;

	if (w->pgsz_known != ML_PGSZ_HUGE || !w->huge_size ||
	    (w->huge_size & (w->huge_size - 1)))
		return;
	while (n > 1 && (1ull << w->levels[n - 1].shift) < w->huge_size)
		n--;
	if (n < w->nlevels && (1ull << w->levels[n - 1].shift) == w->huge_size)
		w->nlevels = n;
}

/* kpageflags and kpagecount of a present page, through the cache; best
 * effort: page->flags say what was found. */
static void frame_facts(struct ml_where_ctx *ctx, struct ml_page *page)
{
	struct frame_slot *f = &ctx->frames[page->pfn % FRAME_SLOTS];

	if (f->pfn != page->pfn) {
		if (ml_pagemap_frame(ctx->pm, page) < 0)
			return;
		*f = (struct frame_slot){ page->pfn, page->flags & (ML_PAGE_KFLAGS | ML_PAGE_MAPCOUNT),
					  page->kflags, page->mapcount };
		return;
	}
	page->flags |= f->flags;
	page->kflags = f->kflags;
	page->mapcount = f->mapcount;
}

/* What pagemap says of the page of a mapped address, read before *ret is
 * touched (the one step of an explanation that can fail). */
struct pm_got {
	int status;               /* as ml_where.pagemap_status */
	uint64_t e, *chunk;
};

static int pagemap_get(struct ml_where_ctx *ctx, const struct ml_region *r, uint64_t vpn,
		       struct pm_got *ret)
{
	int err;

	ret->status = -ENOENT;
	ret->chunk = NULL;
	if (!ctx->pm || !r)
		return 0;
	ret->status = -ERANGE;
	if (ctx->snap->proc.user_top && r->end > ctx->snap->proc.user_top)
		return 0;      /* [vsyscall]: above TASK_SIZE, pagemap ends there */
	err = pm_entry(ctx, vpn, &ret->chunk, &ret->e);
	if (err == -ESRCH && ctx->live)
		return err;           /* the process is gone */
	ret->status = err < 0 ? err : 0;   /* a saved tree's short pagemap, ... */
	return 0;
}

static void explain_pagemap(struct ml_where_ctx *ctx, const struct pm_got *pg,
			    struct ml_where *w)
{
	w->pagemap_status = pg->status;
	if (pg->status < 0)
		return;
	ml_page_decode(pg->e, &w->page);
	if (w->page.pfn) {
		w->has_phys = true;
		w->phys = w->page.pfn * ctx->page_size + w->page_offset;
		frame_facts(ctx, &w->page);
	}
	if (w->page.flags & ML_PAGE_PRESENT)
		page_size_verdict(w, pg->chunk, w);
	end_walk_at_huge(w);
}

/* ---- context ---- */

/* stack_guard_gap=N (pages) on the kernel command line, or the default. */
static uint64_t guard_gap(const struct ml_snapshot *s, uint64_t ps)
{
	char path[sizeof(s->proc_root) + 16], *buf = NULL, *p;
	uint64_t pages = GUARD_GAP_DEFAULT_PAGES;

	if (ml__path(path, sizeof(path), s->proc_root, "cmdline") == 0 &&
	    ml__read_file(path, &buf, NULL) == 0) {
		p = strstr(buf, "stack_guard_gap=");
		if (p)
			pages = strtoull(p + 16, NULL, 0);
		free(buf);
	}
	return pages * ps;
}

int ml_where_ctx_new(const struct ml_snapshot *snap, struct ml_symbolizer *sym,
		     struct ml_pagemap *pm, struct ml_where_ctx **ret)
{
	struct ml_where_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->snap = snap;
	ctx->sym = sym;
	ctx->pm = pm;
	ctx->page_size = snap->proc.page_size ? snap->proc.page_size : 4096;
	ctx->guard_gap = guard_gap(snap, ctx->page_size);
	ctx->live = !snap->proc_root[0] || !strcmp(snap->proc_root, "/proc");
	geometry(ctx, snap->proc.paging_levels);
	ctx->starts = malloc((snap->nregions ? snap->nregions : 1) * sizeof(*ctx->starts));
	if (!ctx->starts) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->ntops = (snap->nregions + STARTS_BLOCK - 1) / STARTS_BLOCK;
	ctx->tops = malloc((ctx->ntops ? ctx->ntops : 1) * sizeof(*ctx->tops));
	if (!ctx->tops) {
		ml_where_ctx_free(ctx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < snap->nregions; i++)
		ctx->starts[i] = snap->regions[i].start;
	for (size_t k = 0; k < ctx->ntops; k++)
		ctx->tops[k] = ctx->starts[k * STARTS_BLOCK];
	if (pm) {
		ctx->slots = malloc(PM_SLOTS * sizeof(*ctx->slots));
		ctx->frames = calloc(FRAME_SLOTS, sizeof(*ctx->frames));
		if (!ctx->slots || !ctx->frames) {
			ml_where_ctx_free(ctx);
			return -ENOMEM;
		}
		for (size_t i = 0; i < PM_SLOTS; i++)
			ctx->slots[i].chunk = UINT64_MAX;
	}
	*ret = ctx;
	return 0;
}

void ml_where_ctx_free(struct ml_where_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->slots);
	free(ctx->frames);
	free(ctx->starts);
	free(ctx->tops);
	free(ctx);
}

void ml_where_ctx_set_flags(struct ml_where_ctx *ctx, unsigned int flags)
{
	ctx->flags = flags;
}

/* Everything of w zeroed but sym, which ml_symbolize() fills whole when
 * it succeeds: an explanation writes *ret in place, without a second
 * struct to zero and copy (a batch explains millions of addresses). */
static void where_clear(struct ml_where *w, bool keep_sym)
{
	if (!keep_sym) {
		memset(w, 0, sizeof(*w));
		return;
	}
	memset(w, 0, offsetof(struct ml_where, sym));
	memset((char *)w + offsetof(struct ml_where, sym) + sizeof(w->sym), 0,
	       sizeof(*w) - offsetof(struct ml_where, sym) - sizeof(w->sym));
}

/* upper_bound(addr), found by ml_where_prefetch() if it was given addr. */
static size_t prefetched_up(const struct ml_where_ctx *ctx, uint64_t addr)
{
	for (unsigned int i = 0; i < ctx->nnext; i++)
		if (ctx->next_addr[i] == addr)
			return ctx->next_up[i];
	return upper_bound(ctx, addr);
}

/* The lines of a region an explanation reads, and its upper neighbour
 * (a hole's); the region structs of a big process do not stay in cache. */
void ml_where_prefetch(struct ml_where_ctx *ctx, uint64_t addr)
{
	const struct ml_snapshot *s = ctx->snap;
	size_t up = upper_bound(ctx, addr);

	ctx->last_next ^= 1;
	ctx->next_addr[ctx->last_next] = addr;
	ctx->next_up[ctx->last_next] = up;
	if (ctx->nnext < 2)
		ctx->nnext++;
	if (up) {
		const char *r = (const char *)&s->regions[up - 1];

		for (size_t off = 0; off < sizeof(struct ml_region); off += 64)
			__builtin_prefetch(r + off);
	}
	if (up < s->nregions)
		__builtin_prefetch(&s->regions[up]);
}

/* The section holding addr is the snapshot's (elf.c reads the sections of
 * a mapping once, for show, crash and where alike); its offset is from the
 * whole section's start as the symbolizer read it when it names the same
 * section, else from where the region's part of it starts.  A region the
 * snapshot read no ELF headers for (the vdso: no file) keeps the
 * symbolizer's. */
static void snapshot_section(const struct ml_region *r, uint64_t addr, struct ml_symbol *sym)
{
	const struct ml_section *s = ml_region_section(r, addr);

	if (!r->nsections)
		return;
	if (!s) {
		sym->section = NULL;
		sym->section_offset = 0;
		return;
	}
	assert(s->start <= addr && addr < s->end);
	if (!sym->section || strcmp(sym->section, s->name))
		sym->section_offset = addr - s->start;
	sym->section = s->name;
}

int ml_where_explain(struct ml_where_ctx *ctx, uint64_t addr, struct ml_where *ret)
{
	const struct ml_snapshot *s = ctx->snap;
	size_t up = prefetched_up(ctx, addr);
	const struct ml_region *r = up ? &s->regions[up - 1] : NULL;
	struct pm_got pg;
	int err;

	if (r && addr >= r->end)
		r = NULL;
	/* The only step that fails comes first: *ret is untouched then. */
	if ((err = pagemap_get(ctx, r, addr / ctx->page_size, &pg)) < 0)
		return err;
	where_clear(ret, r && ctx->sym && r->object);
	ret->addr = addr;
	if (r) {
		assert(r->start <= addr && addr < r->end);
		ret->region = r;
		ret->map_offset = addr - r->start;
		ret->has_file_offset = r->inode != 0;
		ret->file_offset = r->offset + ret->map_offset;
		if (r->kind == ML_KIND_STACK || r->kind == ML_KIND_THREAD_STACK)
			explain_stack(ctx, ret);
		if (r->kind == ML_KIND_HEAP && !strcmp(r->name, "[heap]"))
			explain_heap(ctx, ret);   /* the brk heap; others: its owner */
		if (ctx->sym && r->object) {
			ret->has_object = ml_symbolize(ctx->sym, addr, (r->perms & ML_PERM_EXEC) &&
						       !(ctx->flags & ML_WHERE_NO_LINES) ?
						       ML_SYM_LINES : 0, &ret->sym) == 0;
			if (!ret->has_object)
				memset(&ret->sym, 0, sizeof(ret->sym));
			else
				snapshot_section(r, addr, &ret->sym);
		}
	} else {
		explain_hole(ctx, up, ret);
	}
	explain_page(ctx, ret);
	explain_pagemap(ctx, &pg, ret);
	return 0;
}
