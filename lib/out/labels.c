/* SPDX-License-Identifier: MIT */
/*
 * labels.c - the shortest unambiguous label of every object of a snapshot,
 * for views that fit a terminal: the fewest trailing path components that
 * no other object of the process shares ("libc.so.6"; "app/lib/x.so" and
 * "opt/lib/x.so" when both are mapped).  A name without '/' ("[heap]") is
 * its own label.  A label is a suffix of the object's own string, so it
 * points into the snapshot's pool and lives as long as the snapshot.
 *
 * How: the distinct objects sorted by their components read from the end
 * (the last component first), so that the objects sharing the most
 * trailing components with an object are its neighbours in that order;
 * an object needs one component more than it shares with either
 * neighbour.  O(n log n) comparisons for n regions (any count a target
 * makes), no pairwise pass.
 */
#include "ml-out.h"

#include <errno.h>
#include <libsmartcols/libsmartcols.h>
#include <stdlib.h>
#include <string.h>

/* The component of s ending at *end (exclusive): its start; *end is moved
 * before the '/' that precedes it, or to NULL when it was the first. */
static const char *component(const char *s, const char **end)
{
	const char *p = *end;

	while (p > s && p[-1] != '/')
		p--;
	*end = p > s ? p - 1 : NULL;
	return p;
}

/* Compare a and b by components from the last one; *ret_common gets how
 * many trailing components they share. */
static int compare_tail(const char *a, const char *b, size_t *ret_common)
{
	const char *ea = a + strlen(a), *eb = b + strlen(b);
	size_t common = 0;

	while (ea && eb) {
		const char *ca_end = ea, *cb_end = eb;
		const char *ca = component(a, &ea), *cb = component(b, &eb);
		size_t la = (size_t)(ca_end - ca), lb = (size_t)(cb_end - cb);
		int c = memcmp(ca, cb, la < lb ? la : lb);
		if (c || la != lb) {
			*ret_common = common;
			return c ? c : la < lb ? -1 : 1;
		}
		common++;
	}
	*ret_common = common;
	return ea ? 1 : eb ? -1 : 0;
}

static int by_tail(const void *pa, const void *pb)
{
	size_t common;

	return compare_tail(*(const char *const *)pa, *(const char *const *)pb, &common);
}

/* The suffix of s holding its last k components (all of s if it has no
 * more). */
static const char *last_components(const char *s, size_t k)
{
	const char *end = s + strlen(s), *c = s;

	while (k-- && end)
		c = component(s, &end);
	return end ? c : s;
}

/* The labels of the sorted distinct objects u[0..n), in place. */
static void shorten(const char **u, const char **lab, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t need = 0, common;
		if (i > 0) {
			compare_tail(u[i], u[i - 1], &common);
			need = common;
		}
		if (i + 1 < n) {
			compare_tail(u[i], u[i + 1], &common);
			if (common > need)
				need = common;
		}
		lab[i] = last_components(u[i], need + 1);
	}
}

int ml__path_labels(const char *const *paths, size_t n, const char ***ret)
{
	size_t k = 0, m = 0;
	const char **u, **lab, **out;

	if (!(out = calloc(n ? n : 1, sizeof(*out))))
		return -ENOMEM;
	if (!(u = malloc((n ? n : 1) * 2 * sizeof(*u)))) {
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (paths[i])
			u[k++] = paths[i];
	qsort(u, k, sizeof(*u), by_tail);
	for (size_t i = 0; i < k; i++)     /* distinct strings only */
		if (!m || by_tail(&u[m - 1], &u[i]))
			u[m++] = u[i];
	lab = u + n;
	shorten(u, lab, m);
	for (size_t i = 0; i < n; i++) {
		const char **hit = paths[i] ? bsearch(&paths[i], u, m, sizeof(*u), by_tail) : NULL;
		out[i] = hit ? lab[hit - u] : NULL;
	}
	free(u);
	*ret = out;
	return 0;
}

int ml__object_labels(const struct ml_snapshot *snap, const char ***ret)
{
	const char **objs = malloc((snap->nregions ? snap->nregions : 1) * sizeof(*objs));
	int r;

	if (!objs)
		return -ENOMEM;
	for (size_t i = 0; i < snap->nregions; i++)
		objs[i] = snap->regions[i].object;
	r = ml__path_labels(objs, snap->nregions, ret);
	free(objs);
	return r;
}

/* Column col of tb, each cell replaced by its shortest unambiguous label
 * among the column's cells (tables filled before they know every object:
 * where's table, watch's summary). */
int ml__scols_label_column(struct libscols_table *tb, size_t col)
{
	size_t n = scols_table_get_nlines(tb), i = 0;
	const char **paths = malloc((n ? n : 1) * sizeof(*paths)), **lab = NULL;
	char **copy = calloc(n ? n : 1, sizeof(*copy));
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	int r = paths && copy && it ? 0 : -ENOMEM;

	while (r == 0 && i < n && scols_table_next_line(tb, it, &ln) == 0) {
		struct libscols_cell *ce = scols_line_get_cell(ln, col);
		paths[i++] = ce ? scols_cell_get_data(ce) : NULL;
	}
	if (r == 0)
		r = ml__path_labels(paths, i, &lab);
	/* copies first: a label may point into another line's cell */
	for (size_t k = 0; r == 0 && k < i; k++)
		if (lab[k] && lab[k] != paths[k] && !(copy[k] = strdup(lab[k])))
			r = -ENOMEM;
	if (it)
		scols_reset_iter(it, SCOLS_ITER_FORWARD);
	for (size_t k = 0; r == 0 && k < i && scols_table_next_line(tb, it, &ln) == 0; k++)
		if (copy[k] && scols_line_refer_data(ln, col, copy[k]) == 0)
			copy[k] = NULL;         /* the cell's now */
	for (size_t k = 0; copy && k < i; k++)
		free(copy[k]);
	scols_free_iter(it);
	free(copy);
	free(lab);
	free(paths);
	return r;
}
