/* SPDX-License-Identifier: MIT */
/*
 * watch-diff.c - the changes between two samples of a process, as events:
 * a mapping appeared, vanished, grew, shrank or changed permissions; the
 * brk moved; a thread came or went; the process exec'd.
 *
 * Mappings are compared by coverage, not by start address: an old and a
 * new mapping correspond where they overlap and hold the same thing (same
 * dev, inode and name; all anonymous memory is one thing).  Both lists are
 * sorted and disjoint, so one merge-like sweep visits every overlapping
 * pair: O(old + new).  Then:
 *   new mapping covered by nothing old            appeared
 *   new mapping larger than what covers it         grew (the stack, the heap,
 *                                                  an mmap merged onto one)
 *   new mapping whose main old part had other perms  perms (mprotect)
 *   old mapping covered by nothing new             vanished
 *   old mapping partly covered                     shrank (munmap of a part)
 *   old mapping whose main new part has other perms  perms, unless that new
 *                                                  mapping reported it (an
 *                                                  mprotect that merges)
 * An mprotect that splits a mapping is one perms event, not a shrink; one
 * that merges a part back into its neighbour is one perms event on the
 * part, not silence.
 *
 * After an exec (the caller knows: the maps it held read empty) the two
 * samples are of two programs: one exec event (the total sizes before and
 * after), no mapping or brk events (the new program's heap did not "move"
 * from the old one's brk).
 */
#include "watch-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ml__events_free(struct ml__events *e)
{
	free(e->ev);
	free(e->old);
	free(e->new);
	memset(e, 0, sizeof(*e));
}

static struct ml_watch_event *push(struct ml__events *e, enum ml_watch_event_type t)
{
	if (ML__RESERVE(e->ev, e->cap, e->n + 1) < 0)
		return NULL;
	struct ml_watch_event *ev = &e->ev[e->n++];
	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	return ev;
}

static struct ml_watch_event *push_region(struct ml__events *e, enum ml_watch_event_type t,
					  const struct ml_region *r, uint64_t before,
					  uint64_t after)
{
	struct ml_watch_event *ev = push(e, t);

	if (!ev)
		return NULL;
	ev->kind = r->kind;
	ev->start = r->start;
	ev->end = r->end;
	ev->before = before;
	ev->after = after;
	ev->name = r->object ? r->object : (r->name[0] ? r->name : NULL);
	ev->deleted = r->deleted;   /* the name is without " (deleted)": say it apart */
	ev->tid = r->tid;
	return ev;
}

static bool same_thing(const struct ml_region *a, const struct ml_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && !strcmp(a->name, b->name);
}

/* Record an overlap of ov bytes of the same thing between mapping i
 * (one side) and j (the other). */
static void cover(struct ml__cover *c, size_t j, uint64_t ov)
{
	c->cov += ov;
	if (ov > c->bestov) {
		c->bestov = ov;
		c->best = j;
	}
}

/* Fill e->old and e->new (see struct ml__cover); 0 or -ENOMEM. */
static int sweep(struct ml__events *e, const struct ml_snapshot *p,
		 const struct ml_snapshot *c)
{
	size_t i = 0, j = 0;

	/* One merge pass is right only over two sorted, disjoint lists. */
	assert(ml__regions_sorted(p) && ml__regions_sorted(c));
	if (ML__RESERVE(e->old, e->old_cap, p->nregions + 1) < 0 ||
	    ML__RESERVE(e->new, e->new_cap, c->nregions + 1) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < p->nregions; k++)
		e->old[k] = (struct ml__cover){ 0, 0, SIZE_MAX };
	for (size_t k = 0; k < c->nregions; k++)
		e->new[k] = (struct ml__cover){ 0, 0, SIZE_MAX };
	while (i < p->nregions && j < c->nregions) {
		const struct ml_region *o = &p->regions[i], *n = &c->regions[j];
		uint64_t lo = o->start > n->start ? o->start : n->start;
		uint64_t hi = o->end < n->end ? o->end : n->end;
		if (lo < hi && same_thing(o, n)) {
			cover(&e->old[i], j, hi - lo);
			cover(&e->new[j], i, hi - lo);
		}
		if (o->end <= n->end)
			i++;
		else
			j++;
	}
	return 0;
}

static int diff_regions(struct ml__events *e, const struct ml_snapshot *p,
			const struct ml_snapshot *c)
{
	if (sweep(e, p, c) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->nregions; i++) {
		const struct ml_region *o = &p->regions[i];
		uint64_t size = o->end - o->start, cov = e->old[i].cov;
		if (cov == 0 && !push_region(e, ML_EV_VANISHED, o, size, 0))
			return -ENOMEM;
		if (cov && cov < size && !push_region(e, ML_EV_SHRANK, o, size, cov))
			return -ENOMEM;
		size_t j = e->old[i].best;
		if (j != SIZE_MAX && e->new[j].best != i && c->regions[j].perms != o->perms &&
		    !push_region(e, ML_EV_PERMS, o, o->perms, c->regions[j].perms))
			return -ENOMEM;
	}
	for (size_t j = 0; j < c->nregions; j++) {
		const struct ml_region *r = &c->regions[j];
		uint64_t size = r->end - r->start, cov = e->new[j].cov;
		if (cov == 0) {
			if (!push_region(e, ML_EV_APPEARED, r, 0, size))
				return -ENOMEM;
			continue;
		}
		if (cov < size && !push_region(e, ML_EV_GREW, r, cov, size))
			return -ENOMEM;
		const struct ml_region *o = e->new[j].best == SIZE_MAX ? NULL :
					    &p->regions[e->new[j].best];
		if (o && o->perms != r->perms &&
		    !push_region(e, ML_EV_PERMS, r, o->perms, r->perms))
			return -ENOMEM;
	}
	return 0;
}

static int diff_brk(struct ml__events *e, const struct ml_snapshot *p,
		    const struct ml_snapshot *c)
{
	struct ml_watch_event *ev;

	if (p->proc.brk == c->proc.brk)
		return 0;
	if (!(ev = push(e, ML_EV_BRK)))
		return -ENOMEM;
	ev->kind = ML_KIND_HEAP;
	ev->start = c->proc.start_brk;
	ev->end = c->proc.brk;
	ev->before = p->proc.brk;
	ev->after = c->proc.brk;
	ev->name = "[heap]";
	return 0;
}

/* The stack mapping of tid in snap, or NULL. */
static const struct ml_region *stack_of(const struct ml_snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nregions; i++)
		if (s->regions[i].tid == tid && (s->regions[i].kind == ML_KIND_THREAD_STACK ||
						  s->regions[i].kind == ML_KIND_STACK))
			return &s->regions[i];
	return NULL;
}

static int thread_event(struct ml__events *e, enum ml_watch_event_type t,
			const struct ml_snapshot *s, pid_t tid)
{
	const struct ml_region *st = stack_of(s, tid);
	struct ml_watch_event *ev = st ? push_region(e, t, st, 0, 0) : push(e, t);

	if (!ev)
		return -ENOMEM;
	if (!st)
		ev->kind = ML_KIND_THREAD_STACK;
	ev->tid = tid;
	return 0;
}

/* Threads are sorted by tid in both samples. */
static int diff_threads(struct ml__events *e, const struct ml_snapshot *p,
			const struct ml_snapshot *c)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (r == 0 && (i < p->nthreads || j < c->nthreads)) {
		pid_t a = i < p->nthreads ? p->threads[i].tid : 0;
		pid_t b = j < c->nthreads ? c->threads[j].tid : 0;
		if (j == c->nthreads || (i < p->nthreads && a < b)) {
			r = thread_event(e, ML_EV_THREAD_GONE, p, a);
			i++;
		} else if (i == p->nthreads || b < a) {
			r = thread_event(e, ML_EV_THREAD_NEW, c, b);
			j++;
		} else {
			i++;
			j++;
		}
	}
	return r;
}

static uint64_t total_size(const struct ml_snapshot *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->nregions; i++)
		n += s->regions[i].end - s->regions[i].start;
	return n;
}

static int exec_event(struct ml__events *e, const struct ml_snapshot *p,
		      const struct ml_snapshot *c)
{
	struct ml_watch_event *ev = push(e, ML_EV_EXEC);

	if (!ev)
		return -ENOMEM;
	ev->kind = ML_KIND_TEXT;
	ev->before = total_size(p);
	ev->after = total_size(c);
	ev->name = c->proc.comm;
	return 0;
}

int ml__watch_diff(struct ml__events *e, const struct ml_snapshot *prev,
		   const struct ml_snapshot *cur)
{
	int r;

	if (e->exec)
		r = exec_event(e, prev, cur);
	else if ((r = diff_regions(e, prev, cur)) == 0)
		r = diff_brk(e, prev, cur);
	if (r == 0)
		r = diff_threads(e, prev, cur);
	return r;
}
