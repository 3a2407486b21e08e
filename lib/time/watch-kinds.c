/* SPDX-License-Identifier: MIT */
/*
 * watch-kinds.c - the ELF kind cache of `watch`: what ELF attribution said
 * each file-backed mapping is (text, rodata, relro, data, bss, file), kept
 * by (dev, inode, offset) across samples so a sample needs no ELF parsing.
 *
 * A sample is classified by names (classify.c's basic kinds); then each
 * private file mapping whose (dev, inode, offset) the cache knows takes
 * the cached kind, and the anonymous mapping after it the .bss tail the
 * full snapshot found there (elf.c's rule, its split of a merged tail
 * included; classify.c's fallback only as the full snapshot applied it),
 * so watch and show call each mapping the same.  A file the cache
 * has not looked at yet makes the sample stale: the caller then takes one
 * full snapshot and learns from it.  Every file of the sample is marked as
 * looked at, ELF or not, so a file costs at most one full snapshot.
 *
 * Both tables are sorted arrays searched by bisection: O(log n) per
 * mapping; learning is O(n log n).
 */
#include "watch-private.h"

#include <errno.h>
#include <stdlib.h>

struct kentry {
	uint64_t inode, offset;
	unsigned int major, minor;
	enum ml_kind kind;
	uint64_t tail;            /* bytes of .bss tail after the mapping, 0 */
};

struct ml__kind_cache {
	struct kentry *kinds;     /* sorted by (inode, major, minor, offset) */
	size_t nkinds;
	struct kentry *files;     /* looked at; offset 0, sorted likewise */
	size_t nfiles;
};

struct ml__kind_cache *ml__kind_cache_new(void)
{
	return calloc(1, sizeof(struct ml__kind_cache));
}

void ml__kind_cache_free(struct ml__kind_cache *c)
{
	if (!c)
		return;
	free(c->kinds);
	free(c->files);
	free(c);
}

static int kcmp(const void *x, const void *y)
{
	const struct kentry *a = x, *b = y;

	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	return (a->offset > b->offset) - (a->offset < b->offset);
}

static bool is_private_file(const struct ml_region *r)
{
	return r->inode && !(r->perms & ML_PERM_SHARED) && r->kind != ML_KIND_SHM;
}

static struct kentry key_of(const struct ml_region *r, bool with_offset)
{
	return (struct kentry){ r->inode, with_offset ? r->offset : 0,
				r->dev_major, r->dev_minor, 0, 0 };
}

bool ml__kind_cache_stale(const struct ml__kind_cache *c, const struct ml_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		struct kentry k = key_of(r, false);
		if (is_private_file(r) &&
		    !bsearch(&k, c->files, c->nfiles, sizeof(k), kcmp))
			return true;
	}
	return false;
}

/* Append the keys of snap's private file mappings to *arr. */
static int append(struct kentry **arr, size_t *n, const struct ml_snapshot *snap,
		  bool with_offset)
{
	struct kentry *na = realloc(*arr, (*n + snap->nregions + 1) * sizeof(**arr));

	if (!na)
		return -ENOMEM;
	*arr = na;
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		if (!is_private_file(r))
			continue;
		na[*n] = key_of(r, with_offset);
		if (i + 1 < snap->nregions && r[1].kind == ML_KIND_BSS &&
		    !r[1].inode && r[1].start == r->end)
			na[*n].tail = r[1].end - r[1].start;
		na[(*n)++].kind = r->kind;
	}
	return 0;
}

/* Sort and drop repeated keys (the first one stays). */
static size_t uniq(struct kentry *a, size_t n)
{
	size_t m = 0;

	ml__sort(a, n, sizeof(*a), kcmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || kcmp(&a[m - 1], &a[i]))
			a[m++] = a[i];
	return m;
}

int ml__kind_cache_learn(struct ml__kind_cache *c, const struct ml_snapshot *full,
			 const struct ml_snapshot *snap)
{
	/* A key (file, offset) gives the same kind in any snapshot. */
	struct kentry *fresh = NULL;
	size_t nfresh = 0;
	int r = append(&fresh, &nfresh, full, true);

	if (r == 0 && nfresh) {
		struct kentry *na = realloc(fresh, (nfresh + c->nkinds) * sizeof(*na));
		if (!na) {
			r = -ENOMEM;
		} else {
			for (size_t i = 0; i < c->nkinds; i++)
				na[nfresh + i] = c->kinds[i];
			free(c->kinds);
			c->kinds = na;
			c->nkinds = uniq(na, nfresh + c->nkinds);
			fresh = NULL;
		}
	}
	free(fresh);
	if (r == 0)
		r = append(&c->files, &c->nfiles, full, false);
	if (r == 0)
		r = append(&c->files, &c->nfiles, snap, false);
	if (r == 0)
		c->nfiles = uniq(c->files, c->nfiles);
	return r;
}

static bool code_or_data(enum ml_kind k)
{
	return k == ML_KIND_TEXT || k == ML_KIND_RODATA || k == ML_KIND_RELRO ||
	       k == ML_KIND_DATA || k == ML_KIND_BSS || k == ML_KIND_FILE;
}

/* The anonymous mapping after region i is its .bss tail (hit->tail
 * bytes, as elf.c found it); longer, the kernel merged the tail with a
 * mapping after it: split as elf.c splits it. */
static int apply_tail(struct ml_snapshot *snap, size_t i, const struct kentry *hit)
{
	struct ml_region *n = i + 1 < snap->nregions ? &snap->regions[i + 1] : NULL;
	int r;

	if (!hit->tail || !n || n->inode || n->kind != ML_KIND_ANON || n->name[0] ||
	    n->start != snap->regions[i].end || n->end - n->start < hit->tail)
		return 0;
	if (n->end - n->start > hit->tail &&
	    (r = ml__region_split(snap, i + 1, n->start + hit->tail)) < 0)
		return r;
	snap->regions[i + 1].kind = ML_KIND_BSS;
	snap->regions[i + 1].object = snap->regions[i].object;
	return 0;
}

int ml__kind_cache_apply(const struct ml__kind_cache *c, struct ml_snapshot *snap)
{
	int r = 0;

	for (size_t i = 0; i < snap->nregions && r == 0; i++) {
		struct ml_region *reg = &snap->regions[i];
		struct kentry k = key_of(reg, true), *hit;
		if (!is_private_file(reg) || !code_or_data(reg->kind))
			continue;
		hit = bsearch(&k, c->kinds, c->nkinds, sizeof(k), kcmp);
		if (hit) {
			reg->kind = hit->kind;
			r = apply_tail(snap, i, hit);
		}
	}
	return r;
}
