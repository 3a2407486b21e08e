/* SPDX-License-Identifier: MIT */
/*
 * shared.c - the physical frames two processes share.
 *
 * For each process: the frame number of every resident page of its ranges
 * (the residency scanner finds the resident runs, pread of pagemap gives
 * their entries), kept as (pfn, range) pairs sorted by pfn.  Comparing two
 * such sets is one merge pass: O(n log n + m log m) for the sorts, O(n + m)
 * after.  A present page whose frame number reads 0 means the kernel hides
 * frames from us (no CAP_SYS_ADMIN): -EPERM, never "frame 0".
 */
#include "ml-pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define READ_PAGES 4096                   /* entries per pread */

struct frame {
	uint64_t pfn;
	size_t range;
};

struct ml_frames {
	struct frame *v;                  /* sorted by pfn, then range */
	size_t n, cap;
	size_t nranges;
};

struct collect {
	struct ml_frames *f;
	struct ml_pagemap *pm;
	size_t range;
	uint64_t *buf;                    /* READ_PAGES entries */
};

static int push(struct ml_frames *f, uint64_t pfn, size_t range)
{
	if (ML__RESERVE(f->v, f->cap, f->n + 1) < 0)
		return -ENOMEM;
	f->v[f->n++] = (struct frame){ pfn, range };
	return 0;
}

/* A run of resident pages: read their entries, keep their frames. */
static int collect_run(uint64_t start, uint64_t end, enum ml_pstate st, void *arg)
{
	struct collect *c = arg;
	uint64_t page = ml_pagemap_page_size(c->pm);
	int r;

	if (st != ML_PST_PRESENT && st != ML_PST_HUGE && st != ML_PST_ZERO)
		return 0;
	for (uint64_t a = start; a < end; ) {
		size_t n = (end - a) / page > READ_PAGES ? READ_PAGES : (end - a) / page;
		if ((r = ml_pagemap_read(c->pm, a, n, c->buf)) < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			struct ml_page pg;
			ml_page_decode(c->buf[i], &pg);
			if (!(pg.flags & ML_PAGE_PRESENT))
				continue;         /* gone since the scan */
			if (pg.flags & ML_PAGE_PFN_HIDDEN)
				return -EPERM;
			if ((r = push(c->f, pg.pfn, c->range)) < 0)
				return r;
		}
		a += n * page;
	}
	return 0;
}

static int cmp_frame(const void *x, const void *y)
{
	const struct frame *a = x, *b = y;

	if (a->pfn != b->pfn)
		return a->pfn < b->pfn ? -1 : 1;
	return a->range < b->range ? -1 : a->range > b->range;
}

int ml_frames_collect(struct ml_scanner *sc, struct ml_pagemap *pm,
		      const uint64_t (*ranges)[2], size_t n,
		      struct ml_frames **ret)
{
	struct ml_frames *f = calloc(1, sizeof(*f));
	struct collect c = { f, pm, 0, malloc(READ_PAGES * sizeof(uint64_t)) };
	int r = 0;

	if (!f || !c.buf) {
		r = -ENOMEM;
		goto out;
	}
	f->nranges = n;
	for (size_t i = 0; i < n && r == 0; i++) {
		c.range = i;
		r = ml_scanner_run(sc, ranges[i][0], ranges[i][1], collect_run, &c);
	}
	if (r == 0 && f->n)
		ml__sort(f->v, f->n, sizeof(*f->v), cmp_frame);
out:
	free(c.buf);
	if (r < 0) {
		ml_frames_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void ml_frames_free(struct ml_frames *f)
{
	if (!f)
		return;
	free(f->v);
	free(f);
}

/* Count the pages of one side's group [i, j) (all of frame pfn). */
static void count_group(const struct ml_frames *f, size_t i, size_t j,
			bool shared, struct ml_share_count *ret)
{
	if (!ret)
		return;
	for (size_t k = i; k < j; k++) {
		struct ml_share_count *c = &ret[f->v[k].range];
		c->resident++;
		if (shared)
			c->shared++;
		else
			c->private_pages++;
	}
}

/* End of the group of entries with the pfn of v[i]. */
static size_t group_end(const struct ml_frames *f, size_t i)
{
	size_t j = i + 1;

	while (j < f->n && f->v[j].pfn == f->v[i].pfn)
		j++;
	return j;
}

int ml_frames_compare(const struct ml_frames *a, const struct ml_frames *b,
		      struct ml_share_count *ret_a, struct ml_share_count *ret_b,
		      struct ml_share_totals *ret)
{
	struct ml_share_totals t = { 0 };
	size_t i = 0, k = 0;

	if (ret_a)
		memset(ret_a, 0, a->nranges * sizeof(*ret_a));
	if (ret_b)
		memset(ret_b, 0, b->nranges * sizeof(*ret_b));
	while (i < a->n || k < b->n) {
		size_t ie = i < a->n ? group_end(a, i) : i;
		size_t ke = k < b->n ? group_end(b, k) : k;
		if (k == b->n || (i < a->n && a->v[i].pfn < b->v[k].pfn)) {
			count_group(a, i, ie, false, ret_a);
			t.only_a++;
			i = ie;
		} else if (i == a->n || b->v[k].pfn < a->v[i].pfn) {
			count_group(b, k, ke, false, ret_b);
			t.only_b++;
			k = ke;
		} else {
			count_group(a, i, ie, true, ret_a);
			count_group(b, k, ke, true, ret_b);
			t.shared++;
			i = ie;
			k = ke;
		}
	}
	*ret = t;
	return 0;
}
