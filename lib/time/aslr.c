/* SPDX-License-Identifier: MIT */
/*
 * aslr.c - the ASLR estimator: named bases observed over many runs of a
 * program, their randomisation in bits, and which of them move together.
 *
 * A point is a named address (a region's base, the stack pointer) or a
 * named offset between two addresses (ML_ASLR_RELATIVE), recorded at most
 * once per run.  For the values v of one point over its n runs:
 *   align = the largest power of two dividing every v - min(v), at least
 *           the point's unit (page size, 16 for a stack pointer): 2 MiB
 *           aligned mappings are counted in 2 MiB steps, not in pages;
 *   slots = (max - min) / align, the spread in steps;
 *   N     = slots * (n + 1) / (n - 1) + 1, the number of possible places
 *           estimated from the range of n uniform draws (the expected range
 *           of n draws out of N is (N - 1)(n - 1)/(n + 1));
 *   bits  = log2 N, 0 exactly when every run gave the same value.
 * n runs can show at most n distinct values, so the "ceiling" log2 n is
 * reported next to each estimate: bits above it are extrapolated from the
 * range, not observed.
 * Two address points move together when v_a - v_b is the same in every run
 * where both were seen (at least two such runs, or the only run): a union-
 * find over all pairs gives the groups, and each member's offset from its
 * group's first member.  Offsets are not grouped.
 *
 * Cost: O(points^2 * runs) for the groups, O(points * runs) otherwise.
 * Ownership: names are copied; rows returned by ml_aslr_result() belong to
 * the estimator and stay valid until the next ml_aslr_* call that changes
 * it or ml_aslr_free().
 */
#include "ml-time.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct obs {
	size_t run;
	uint64_t value;
};

struct point {
	char *name;
	uint64_t unit;
	unsigned int flags;        /* ML_ASLR_* */
	struct obs *obs;           /* in run order, at most one per run */
	size_t n, cap;
};

struct ml_aslr {
	struct point *points;
	size_t npoints, cap;
	size_t runs;               /* runs begun */
	struct ml_aslr_row *rows;
	size_t *parent;            /* union-find over points */
};

int ml_aslr_new(struct ml_aslr **ret)
{
	struct ml_aslr *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	*ret = a;
	return 0;
}

void ml_aslr_free(struct ml_aslr *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->npoints; i++) {
		free(a->points[i].name);
		free(a->points[i].obs);
	}
	free(a->points);
	free(a->rows);
	free(a->parent);
	free(a);
}

int ml_aslr_begin_run(struct ml_aslr *a)
{
	a->runs++;
	return (int)(a->runs - 1);
}

size_t ml_aslr_runs(const struct ml_aslr *a)
{
	return a->runs;
}

static struct point *find_point(struct ml_aslr *a, const char *name)
{
	for (size_t i = 0; i < a->npoints; i++)
		if (!strcmp(a->points[i].name, name))
			return &a->points[i];
	return NULL;
}

static struct point *new_point(struct ml_aslr *a, const char *name,
			       uint64_t unit, unsigned int flags)
{
	if (ML__RESERVE(a->points, a->cap, a->npoints + 1) < 0)
		return NULL;
	struct point *p = &a->points[a->npoints];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	if (!p->name)
		return NULL;
	p->unit = unit ? unit : 1;
	p->flags = flags;
	a->npoints++;
	return p;
}

int ml_aslr_add(struct ml_aslr *a, const char *name, uint64_t value,
		uint64_t unit, unsigned int flags)
{
	struct point *p;

	if (!a || !name || a->runs == 0)
		return -EINVAL;
	p = find_point(a, name);
	if (!p && !(p = new_point(a, name, unit, flags)))
		return -ENOMEM;
	if (p->n && p->obs[p->n - 1].run == a->runs - 1)
		return 0;                  /* seen in this run: the first counts */
	if (ML__RESERVE(p->obs, p->cap, p->n + 1) < 0)
		return -ENOMEM;
	p->obs[p->n++] = (struct obs){ a->runs - 1, value };
	return 0;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* Distinct values among the observations of p. */
static size_t count_distinct(const struct point *p)
{
	uint64_t *v = malloc(p->n * sizeof(*v));
	size_t d = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		v[i] = p->obs[i].value;
	ml__sort(v, p->n, sizeof(*v), u64_cmp);
	for (size_t i = 0; i < p->n; i++)
		d += i == 0 || v[i] != v[i - 1];
	free(v);
	return d;
}

static void estimate(const struct point *p, struct ml_aslr_row *row)
{
	uint64_t lo = UINT64_MAX, hi = 0, diffs = 0;

	for (size_t i = 0; i < p->n; i++) {
		lo = p->obs[i].value < lo ? p->obs[i].value : lo;
		hi = p->obs[i].value > hi ? p->obs[i].value : hi;
	}
	for (size_t i = 0; i < p->n; i++)
		diffs |= p->obs[i].value - lo;
	uint64_t align = diffs ? diffs & -diffs : p->unit;
	if (align < p->unit)
		align = p->unit;
	row->name = p->name;
	row->flags = p->flags;
	row->samples = p->n;
	row->distinct = count_distinct(p);
	row->min = lo;
	row->max = hi;
	row->align = align;
	row->ceiling = p->n ? log2((double)p->n) : 0;
	row->bits = 0;
	if (p->n >= 2 && hi > lo) {
		double slots = (double)((hi - lo) / align);
		double n = (double)p->n;
		row->bits = log2(slots * (n + 1) / (n - 1) + 1);
	}
}

/* The runs where both a and b were seen: how many; *ret_off gets a - b
 * in the first of them, *ret_same whether it was the same in each. */
static size_t shared_runs(const struct point *a, const struct point *b,
			  uint64_t *ret_off, bool *ret_same)
{
	size_t i = 0, j = 0, shared = 0;

	*ret_off = 0;
	*ret_same = true;
	while (i < a->n && j < b->n) {
		if (a->obs[i].run < b->obs[j].run) {
			i++;
		} else if (a->obs[i].run > b->obs[j].run) {
			j++;
		} else {
			uint64_t d = a->obs[i++].value - b->obs[j++].value;
			if (shared++ == 0)
				*ret_off = d;
			*ret_same = *ret_same && d == *ret_off;
		}
	}
	return shared;
}

/* Is a - b the same in every run where both were seen? */
static bool move_together(const struct point *a, const struct point *b, size_t runs)
{
	uint64_t off;
	bool same;
	size_t shared = shared_runs(a, b, &off, &same);

	return same && (shared >= 2 || (shared == 1 && runs == 1));
}

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

static void group(struct ml_aslr *a)
{
	size_t *parent = a->parent, next = 1;

	for (size_t i = 0; i < a->npoints; i++)
		parent[i] = i;
	for (size_t i = 0; i < a->npoints; i++) {
		if (a->points[i].flags & ML_ASLR_RELATIVE)
			continue;
		for (size_t j = i + 1; j < a->npoints; j++) {
			if (a->points[j].flags & ML_ASLR_RELATIVE)
				continue;
			size_t ri = uf_find(parent, i), rj = uf_find(parent, j);
			if (ri != rj && move_together(&a->points[i], &a->points[j], a->runs))
				parent[rj > ri ? rj : ri] = rj > ri ? ri : rj;
		}
	}
	/* The root is the lowest index, so the group's first row leads it. */
	for (size_t i = 0; i < a->npoints; i++) {
		struct ml_aslr_row *row = &a->rows[i];
		uint64_t off;
		bool same;
		if (a->points[i].flags & ML_ASLR_RELATIVE)
			continue;
		size_t root = uf_find(parent, i);
		shared_runs(&a->points[i], &a->points[root], &off, &same);
		row->group = root == i ? next++ : a->rows[root].group;
		row->leader = a->points[root].name;
		row->offset = (int64_t)off;   /* in their first shared run */
	}
}

int ml_aslr_result(struct ml_aslr *a, const struct ml_aslr_row **ret)
{
	struct ml_aslr_row *rows;
	size_t *parent;

	if (!a || !ret)
		return -EINVAL;
	rows = calloc(a->npoints ? a->npoints : 1, sizeof(*rows));
	parent = calloc(a->npoints ? a->npoints : 1, sizeof(*parent));
	if (!rows || !parent) {
		free(rows);
		free(parent);
		return -ENOMEM;
	}
	free(a->rows);
	free(a->parent);
	a->rows = rows;
	a->parent = parent;
	for (size_t i = 0; i < a->npoints; i++)
		estimate(&a->points[i], &rows[i]);
	group(a);
	*ret = rows;
	return (int)a->npoints;
}
