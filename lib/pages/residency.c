/* SPDX-License-Identifier: MIT */
/*
 * residency.c - the state of every page of a range of a process (in RAM,
 * huge, zero page, swapped, guard, untouched), from its pagemap, by one of
 * two methods that must agree:
 *
 * - PAGEMAP_SCAN (Linux 6.7+, Documentation/admin-guide/mm/pagemap.rst):
 *   the kernel walks the page tables and returns only ranges of pages that
 *   are present, swapped or guards, merged by category, so an untouched
 *   4 GiB mapping costs a few calls.  Quirk: the kernel walks in steps of
 *   512 ranges, and when more come back and the walk then completes,
 *   walk_end keeps the value of an earlier step.  So the loop stops as
 *   soon as fewer ranges than the vector holds come back, and ranges (or
 *   parts) below what was already reported are dropped, never counted
 *   twice.  Without the ioctl (ENOTTY, or EINVAL from a kernel that does
 *   not know a category) it falls back to pread.
 * - pread of the raw 64-bit entries, CHUNK_PAGES at a time, read from a
 *   2 MiB-aligned start so that a huge page is always whole in a chunk.
 *   pagemap has no huge-page or zero-page bit: with CAP_SYS_ADMIN the
 *   frame numbers and /proc/kpageflags tell them (a zero page is a
 *   present, non-exclusive, anonymous entry whose frame has KPF_ZERO_PAGE;
 *   a huge page is a 2 MiB-aligned block of 512 present entries with
 *   consecutive frames from a 512-aligned one flagged KPF_THP or
 *   KPF_HUGE); without it they are counted as present and reported
 *   unknown.
 *
 * pread has no way to skip what PAGEMAP_SCAN skips (page tables never
 * made): it costs 8 bytes and a page-table step per page, 40 GB and 30 s+
 * for the 20 TiB PROT_NONE reservation of any ASan program.  So for a part
 * of a region (ml_residency_scan_region) that no access reaches (---p) and
 * whose smaps counts no Rss and no Swap, nothing is read: it is reported
 * untouched, as PAGEMAP_SCAN would.  What smaps does not count, and so is
 * then not seen, are zero-page entries and guard markers made before an
 * mprotect(PROT_NONE); a ---p region with pages in it (touched, then
 * protected) has Rss or Swap and is read; without smaps, every one is.
 *
 * Both emit runs (start, end, state) covering the range exactly; the
 * residency accumulator turns runs into counts and bar cells without
 * keeping a per-page array, so memory is O(chunk + bar), not O(pages).
 */
#include "ml-pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* The uapi of PAGEMAP_SCAN, for headers older than Linux 6.7 (and
 * PAGE_IS_GUARD, 6.15), under our own names so newer headers do not
 * clash. */
struct ml__pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct ml__page_region {
	__u64 start, end, categories;
};
#define ML_PAGEMAP_SCAN     _IOWR('f', 16, struct ml__pm_scan_arg)
#define ML_PAGE_IS_PRESENT  (1u << 3)
#define ML_PAGE_IS_SWAPPED  (1u << 4)
#define ML_PAGE_IS_PFNZERO  (1u << 5)
#define ML_PAGE_IS_HUGE     (1u << 6)
#define ML_PAGE_IS_GUARD    (1u << 8)

#define KPF_HUGE        17
#define KPF_THP         22
#define KPF_ZERO_PAGE   24

#define VEC_LEN      1024                 /* ranges per PAGEMAP_SCAN call */
#define CHUNK_PAGES  (64 * 1024)          /* pagemap entries per pread (512 KiB) */
#define PMD_PAGES    512                  /* 4 KiB pages per 2 MiB block */

struct ml_scanner {
	struct ml_pagemap *pm;
	enum ml_scan_method method;      /* AUTO until decided */
	uint64_t page;                   /* page size */
	unsigned int unknown;            /* 1 << ML_PST_* */
	bool no_guard_category;          /* the kernel predates PAGE_IS_GUARD */
	uint64_t zero_pfn;               /* the zero page's frame, once seen */
	struct ml__page_region *vec;     /* VEC_LEN */
	uint64_t *entries;               /* CHUNK_PAGES */
	unsigned char *state;            /* CHUNK_PAGES */
};

/* Per state: its bar characters (full cell, partial cell). */
static const struct {
	char full, part;
} pstates[ML_PST__COUNT] = {
	[ML_PST_UNTOUCHED] = { '.', '.' },
	[ML_PST_PRESENT]   = { 'O', 'o' },
	[ML_PST_HUGE]      = { 'H', 'h' },
	[ML_PST_ZERO]      = { 'Z', 'z' },
	[ML_PST_SWAPPED]   = { 'S', 's' },
	[ML_PST_GUARD]     = { 'G', 'g' },
};

static const char *const method_names[] = {
	[ML_SCAN_AUTO] = "auto", [ML_SCAN_IOCTL] = "scan", [ML_SCAN_PREAD] = "pread",
};

char ml_pstate_bar_char(enum ml_pstate st, bool full)
{
	if ((unsigned int)st >= ML_PST__COUNT)
		return '?';
	return full ? pstates[st].full : pstates[st].part;
}

int ml_scan_method_from_name(const char *name)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(method_names); i++)
		if (!strcmp(name, method_names[i]))
			return (int)i;
	return -EINVAL;
}

int ml_scanner_new(struct ml_pagemap *pm, enum ml_scan_method method,
		   struct ml_scanner **ret)
{
	struct ml_scanner *sc;

	if (!pm || (unsigned int)method >= ML_ARRAY_SIZE(method_names))
		return -EINVAL;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->pm = pm;
	sc->method = method;
	sc->page = ml_pagemap_page_size(pm);
	*ret = sc;
	return 0;
}

void ml_scanner_free(struct ml_scanner *sc)
{
	if (!sc)
		return;
	free(sc->vec);
	free(sc->entries);
	free(sc->state);
	free(sc);
}

enum ml_scan_method ml_scanner_method(const struct ml_scanner *sc)
{
	return sc->method;
}

unsigned int ml_scanner_unknown(const struct ml_scanner *sc)
{
	return sc->unknown;
}

/* ---- PAGEMAP_SCAN ---- */

static enum ml_pstate category_state(uint64_t cat)
{
	if (cat & ML_PAGE_IS_GUARD)
		return ML_PST_GUARD;
	if (cat & ML_PAGE_IS_SWAPPED)
		return ML_PST_SWAPPED;
	if (cat & ML_PAGE_IS_PFNZERO)
		return ML_PST_ZERO;
	if (cat & ML_PAGE_IS_HUGE)
		return ML_PST_HUGE;
	return ML_PST_PRESENT;
}

/* One PAGEMAP_SCAN call from start; the number of ranges or -errno. */
static int scan_call(struct ml_scanner *sc, uint64_t start, uint64_t end,
		     uint64_t *ret_walk_end)
{
	uint64_t guard = sc->no_guard_category ? 0 : ML_PAGE_IS_GUARD;
	struct ml__pm_scan_arg arg = {
		.size = sizeof(arg), .start = start, .end = end,
		.vec = (uintptr_t)sc->vec, .vec_len = VEC_LEN,
		.category_anyof_mask = ML_PAGE_IS_PRESENT | ML_PAGE_IS_SWAPPED | guard,
		.return_mask = ML_PAGE_IS_PRESENT | ML_PAGE_IS_SWAPPED |
			       ML_PAGE_IS_PFNZERO | ML_PAGE_IS_HUGE | guard,
	};
	int n;

	do
		n = ioctl(ml_pagemap_fd(sc->pm), ML_PAGEMAP_SCAN, &arg);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*ret_walk_end = arg.walk_end;
	return n;
}

/* Emit [*hw, to) as untouched and the part of r above *hw as its state. */
static int emit_range(uint64_t *hw, const struct ml__page_region *r,
		      ml_run_fn fn, void *arg)
{
	uint64_t s = r->start > *hw ? r->start : *hw;
	int rc;

	if (r->end <= s)
		return 0;                 /* already reported: stale walk_end */
	if (s > *hw && (rc = fn(*hw, s, ML_PST_UNTOUCHED, arg)))
		return rc;
	*hw = r->end;
	return fn(s, r->end, category_state(r->categories), arg);
}

static int scan_ioctl(struct ml_scanner *sc, uint64_t start, uint64_t end,
		      ml_run_fn fn, void *arg)
{
	uint64_t hw = start, next = start, walk_end;
	int n, rc;

	if (!sc->vec && !(sc->vec = calloc(VEC_LEN, sizeof(*sc->vec))))
		return -ENOMEM;
	while (next < end) {
		n = scan_call(sc, next, end, &walk_end);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			if ((rc = emit_range(&hw, &sc->vec[i], fn, arg)))
				return rc;
		if (n < VEC_LEN)
			break;            /* the walk reached end */
		next = walk_end > hw ? walk_end : hw;
	}
	return hw < end ? fn(hw, end, ML_PST_UNTOUCHED, arg) : 0;
}

/* ---- pread of pagemap ---- */

/* The state of one entry, before zero/huge refinement. */
static enum ml_pstate entry_state(uint64_t e)
{
	if (!e)
		return ML_PST_UNTOUCHED;
	if (e >> 58 & 1)
		return ML_PST_GUARD;      /* before bit 62, which it may also set */
	if (e >> 63 & 1)
		return ML_PST_PRESENT;
	if (e >> 62 & 1)
		return ML_PST_SWAPPED;
	return ML_PST_UNTOUCHED;          /* soft-dirty or uffd-wp bits alone */
}

static int kflags(struct ml_scanner *sc, uint64_t pfn, uint64_t *ret)
{
	struct ml_page pg = { .flags = ML_PAGE_PRESENT, .pfn = pfn };
	int r = ml_pagemap_frame(sc->pm, &pg);

	if (r < 0)
		return r;
	if (!(pg.flags & ML_PAGE_KFLAGS))
		return -ENODATA;
	*ret = pg.kflags;
	return 0;
}

#define PFN(e) ((e) & ((1ULL << 55) - 1))

/* Is entries[i..i+512) a PMD-mapped huge page? (see the top comment) */
static bool huge_block(struct ml_scanner *sc, const uint64_t *e)
{
	uint64_t pfn0 = PFN(e[0]), kf;

	if (!(e[0] >> 63) || !pfn0 || pfn0 % PMD_PAGES)
		return false;
	for (size_t k = 1; k < PMD_PAGES; k++)
		if (!(e[k] >> 63) || PFN(e[k]) != pfn0 + k)
			return false;
	return kflags(sc, pfn0, &kf) == 0 &&
	       (kf & (1ULL << KPF_THP | 1ULL << KPF_HUGE));
}

/* A present entry that may be the zero page: not exclusive, not a file
 * page (the kernel has no struct page for it to count or test). */
static bool zero_page(struct ml_scanner *sc, uint64_t e)
{
	uint64_t pfn = PFN(e), kf;

	if (e >> 56 & 1 || e >> 61 & 1 || !pfn)
		return false;
	if (pfn == sc->zero_pfn)
		return true;
	if (kflags(sc, pfn, &kf) < 0 || !(kf >> KPF_ZERO_PAGE & 1))
		return false;
	if (!sc->zero_pfn)
		sc->zero_pfn = pfn;       /* the 4 KiB zero page: one frame */
	return true;
}

/* States of n entries at virtual page vpn0 (vpn0 % 512 == 0). */
static void classify_chunk(struct ml_scanner *sc, uint64_t vpn0, size_t n)
{
	bool frames = ml_pagemap_frames_readable(sc->pm);

	(void)vpn0;
	for (size_t i = 0; i < n; i++) {
		uint64_t e = sc->entries[i];
		sc->state[i] = entry_state(e);
		if (sc->state[i] != ML_PST_PRESENT)
			continue;
		if (!PFN(e) || !frames) {
			sc->unknown |= 1u << ML_PST_ZERO | 1u << ML_PST_HUGE;
			continue;
		}
		if (i % PMD_PAGES == 0 && i + PMD_PAGES <= n &&
		    huge_block(sc, &sc->entries[i])) {
			memset(&sc->state[i], ML_PST_HUGE, PMD_PAGES);
			i += PMD_PAGES - 1;
			continue;
		}
		if (zero_page(sc, e))
			sc->state[i] = ML_PST_ZERO;
	}
}

/* Emit the runs of states[lo, hi) at addresses from base. */
static int emit_states(struct ml_scanner *sc, uint64_t base, size_t lo,
		       size_t hi, ml_run_fn fn, void *arg)
{
	size_t i = lo;
	int rc;

	while (i < hi) {
		size_t j = i + 1;
		while (j < hi && sc->state[j] == sc->state[i])
			j++;
		rc = fn(base + i * sc->page, base + j * sc->page,
			(enum ml_pstate)sc->state[i], arg);
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

static int scan_pread(struct ml_scanner *sc, uint64_t start, uint64_t end,
		      ml_run_fn fn, void *arg)
{
	uint64_t first = start / sc->page, last = end / sc->page;  /* [first, last) */
	uint64_t vpn = first - first % PMD_PAGES;
	int r;

	if (!sc->entries && !(sc->entries = malloc(CHUNK_PAGES * sizeof(uint64_t))))
		return -ENOMEM;
	if (!sc->state && !(sc->state = malloc(CHUNK_PAGES)))
		return -ENOMEM;
	while (vpn < last) {
		uint64_t n = last - vpn;
		if (n > CHUNK_PAGES)
			n = CHUNK_PAGES;
		else if (n % PMD_PAGES)
			n += PMD_PAGES - n % PMD_PAGES;   /* whole blocks past end */
		r = ml_pagemap_read(sc->pm, vpn * sc->page, n, sc->entries);
		if (r < 0)
			return r;
		classify_chunk(sc, vpn, n);
		uint64_t lo = vpn < first ? first - vpn : 0;
		uint64_t hi = vpn + n > last ? last - vpn : n;
		if ((r = emit_states(sc, vpn * sc->page, lo, hi, fn, arg)))
			return r;
		vpn += n;
	}
	return 0;
}

/* ---- the scanner ---- */

static bool no_scan(int err)
{
	return err == -ENOTTY || err == -EINVAL || err == -EOPNOTSUPP;
}

/* The first PAGEMAP_SCAN decides: with PAGE_IS_GUARD, without it (a
 * kernel older than 6.15 rejects unknown categories), or not at all. */
static int decide(struct ml_scanner *sc, uint64_t start)
{
	uint64_t we;
	int n;

	if (!(sc->vec = calloc(VEC_LEN, sizeof(*sc->vec))))
		return -ENOMEM;
	n = scan_call(sc, start, start + sc->page, &we);
	if (n == -EINVAL) {
		sc->no_guard_category = true;
		n = scan_call(sc, start, start + sc->page, &we);
	}
	if (n >= 0) {
		if (sc->no_guard_category)
			sc->unknown |= 1u << ML_PST_GUARD;
		sc->method = ML_SCAN_IOCTL;
		return 0;
	}
	if (!no_scan(n))
		return n;
	if (sc->method == ML_SCAN_IOCTL)
		return -EOPNOTSUPP;
	sc->method = ML_SCAN_PREAD;
	return 0;
}

/* The method decided, by a scan at start if not yet.  0 or -errno. */
static int settle(struct ml_scanner *sc, uint64_t start)
{
	return sc->method != ML_SCAN_PREAD && !sc->vec ? decide(sc, start) : 0;
}

int ml_scanner_run(struct ml_scanner *sc, uint64_t start, uint64_t end,
		   ml_run_fn fn, void *arg)
{
	int r;

	start -= start % sc->page;
	if (end % sc->page)
		end += sc->page - end % sc->page;
	if (end <= start)
		return 0;
	if ((r = settle(sc, start)) < 0)
		return r;
	if (sc->method == ML_SCAN_PREAD)
		return scan_pread(sc, start, end, fn, arg);
	r = scan_ioctl(sc, start, end, fn, arg);
	return r == -ESRCH || r == -EIO ? -ESRCH : r;
}

int ml_scanner_check_alive(struct ml_scanner *sc)
{
	uint64_t e;

	/* pagemap reads end of file once the address space is gone. */
	return ml_pagemap_read(sc->pm, 0, 1, &e) < 0 ? -ESRCH : 0;
}

/* ---- residency: runs into counts and bar cells ---- */

struct acc {
	struct ml_residency *res;
	uint64_t first, npages, ncells, page;
	uint64_t (*cells)[ML_PST__COUNT];
};

/* First page of cell c (cells split npages as evenly as integers allow). */
static uint64_t cell_start(const struct acc *a, uint64_t c)
{
	return c * a->npages / a->ncells;
}

static int add_run(uint64_t start, uint64_t end, enum ml_pstate st, void *arg)
{
	struct acc *a = arg;
	uint64_t p = start / a->page - a->first, q = end / a->page - a->first;
	uint64_t c = p * a->ncells / a->npages;

	a->res->pages[st] += q - p;
	while (c + 1 < a->ncells && cell_start(a, c + 1) <= p)
		c++;
	for (; p < q; c++) {
		uint64_t ce = cell_start(a, c + 1);
		uint64_t e = ce < q ? ce : q;
		a->cells[c][st] += e - p;
		p = e;
	}
	return 0;
}

static void draw_bar(const struct acc *a)
{
	for (uint64_t c = 0; c < a->ncells; c++) {
		const uint64_t *n = a->cells[c];
		int best = ML_PST_UNTOUCHED;
		for (int s = ML_PST_UNTOUCHED + 1; s < ML_PST__COUNT; s++)
			if (n[s] && (best == ML_PST_UNTOUCHED || n[s] >= n[best]))
				best = s;
		a->res->bar[c] = ml_pstate_bar_char(best, !n[ML_PST_UNTOUCHED]);
	}
	a->res->bar[a->ncells] = '\0';
}

/* [start, end) into *ret; untouched: known to be, without a scan. */
static int residency(struct ml_scanner *sc, uint64_t start, uint64_t end,
		     unsigned int width, bool untouched, struct ml_residency *ret)
{
	struct ml_residency res = { 0 };
	struct acc a = { &res };
	int r;

	if (width < 1 || width > ML_BAR_MAX || end < start)
		return -EINVAL;
	res.start = start - start % sc->page;
	res.end = end % sc->page ? end + sc->page - end % sc->page : end;
	a.page = sc->page;
	a.first = res.start / sc->page;
	a.npages = (res.end - res.start) / sc->page;
	a.ncells = a.npages < width ? a.npages : width;
	if (a.ncells && !(a.cells = calloc(a.ncells, sizeof(*a.cells))))
		return -ENOMEM;
	r = !a.npages ? 0 : untouched ? add_run(res.start, res.end, ML_PST_UNTOUCHED, &a) :
	    ml_scanner_run(sc, res.start, res.end, add_run, &a);
	if (r == 0) {
		draw_bar(&a);
		res.unknown = sc->unknown;
		*ret = res;
	}
	free(a.cells);
	return r;
}

int ml_residency_scan(struct ml_scanner *sc, uint64_t start, uint64_t end,
		      unsigned int width, struct ml_residency *ret)
{
	return residency(sc, start, end, width, false, ret);
}

/* No access reaches it, and smaps counts no page in it (top comment). */
static bool reserved_empty(const struct ml_region *r)
{
	return !(r->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC | ML_PERM_SHARED)) &&
	       r->have_smaps && !r->smaps->rss && !r->smaps->swap;
}

int ml_residency_scan_region(struct ml_scanner *sc, const struct ml_region *r,
			     uint64_t start, uint64_t end, unsigned int width,
			     struct ml_residency *ret)
{
	int e;

	if (!r || start < r->start || end > r->end)
		return -EINVAL;
	if (start < end && (e = settle(sc, start - start % sc->page)) < 0)
		return e;
	return residency(sc, start, end, width,
			 sc->method == ML_SCAN_PREAD && reserved_empty(r), ret);
}
