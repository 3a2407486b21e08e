/* SPDX-License-Identifier: MIT */
/* leaks.c: leaks at exit (MLALLOC_CHECK=full,leaks or sample:N,leaks):
 * the live checked blocks that nothing reachable points to, found the way
 * LeakSanitizer does, conservatively.  Roots: the writable PT_LOAD
 * segments of every loaded object (data, bss) and the calling thread's
 * stack from its stack pointer up (at exit: the main thread, after the
 * program's destructors).  Every aligned word holding an address inside a
 * block (its start to its end, interior pointers included) marks the
 * block, whose bytes are then scanned in turn.  Blocks never marked are
 * grouped by allocation backtrace, largest group first; the groups go to
 * stderr and to the exported record mlalloc_leak_report (error.c).
 * Not roots: other threads' stacks and registers, thread-local storage
 * the dynamic loader allocated: a block only they point to is reported.
 * Memory: arrays of the reservation layer (os.c), never malloc. */
#include <link.h>
#include <string.h>

#include "internal.h"

struct blk {
	uintptr_t lo, hi;
	const uintptr_t *bt;
	unsigned depth;
	bool reached;
};

struct scan {
	struct blk *b;
	size_t n, cap;
	size_t *work;
	size_t nwork;
};

static void collect(const struct mla_live *l, void *arg)
{
	struct scan *s = arg;
	if (s->n < s->cap)
		s->b[s->n++] = (struct blk){ l->user, l->user + (l->size ? l->size : 1), l->bt, l->depth, false };
}

static void count(const struct mla_live *l, void *arg)
{
	(void)l;
	(*(size_t *)arg)++;
}

/* Heap sort of the blocks by address (no libc: qsort may allocate). */
static void sift(struct blk *b, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && b[c + 1].lo > b[c].lo)
			c++;
		if (b[i].lo >= b[c].lo)
			return;
		struct blk t = b[i];
		b[i] = b[c];
		b[c] = t;
		i = c;
	}
}

static void sort_blocks(struct blk *b, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(b, i, n);
	for (size_t k = n; k-- > 1;) {
		struct blk t = b[0];
		b[0] = b[k];
		b[k] = t;
		sift(b, 0, k);
	}
}

static void mark(struct scan *s, uintptr_t v)
{
	if (!s->n || v < s->b[0].lo || v >= s->b[s->n - 1].hi)
		return;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {   /* first block with lo > v */
		size_t mid = (lo + hi) / 2;
		if (s->b[mid].lo <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return;
	struct blk *b = &s->b[lo - 1];
	if (v < b->hi && !b->reached) {
		b->reached = true;
		s->work[s->nwork++] = (size_t)(b - s->b);
	}
}

static void scan_range(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = (lo + 7) & ~(uintptr_t)7; a + 8 <= hi; a += 8)
		mark(s, *(const uintptr_t *)a);
}

static int scan_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			scan_range(arg, info->dlpi_addr + ph->p_vaddr,
			           info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
	}
	return 0;
}

/* The end of the mapping holding the stack pointer (its top). */
static uintptr_t stack_top(uintptr_t sp)
{
	return mla__maps_end_of(sp);
}

/* Same backtrace? */
static bool same_bt(const struct blk *a, const struct blk *b)
{
	return a->depth == b->depth && !memcmp(a->bt, b->bt, a->depth * sizeof(uintptr_t));
}

/* Group the unreached blocks into r, largest groups first. */
static void group(struct scan *s, struct mlalloc_leak_report *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < s->n; i++) {
		struct blk *b = &s->b[i];
		if (b->reached)
			continue;
		r->bytes += b->hi - b->lo;
		r->blocks++;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)   /* first of its backtrace? */
			seen = !s->b[j].reached && same_bt(&s->b[j], b);
		if (seen)
			continue;
		struct mlalloc_leak_group g = { 0 };
		g.depth = b->depth;
		for (unsigned k = 0; k < b->depth; k++)
			g.bt[k] = b->bt[k];
		for (size_t j = i; j < s->n; j++)
			if (!s->b[j].reached && same_bt(&s->b[j], b)) {
				g.bytes += s->b[j].hi - s->b[j].lo;
				g.blocks++;
			}
		r->ngroups_total++;
		/* insert by bytes into the first MLALLOC_LEAK_GROUPS */
		size_t at = r->ngroups;
		while (at > 0 && r->groups[at - 1].bytes < g.bytes)
			at--;
		if (at >= MLALLOC_LEAK_GROUPS)
			continue;
		size_t last = r->ngroups < MLALLOC_LEAK_GROUPS ? r->ngroups : MLALLOC_LEAK_GROUPS - 1;
		memmove(&r->groups[at + 1], &r->groups[at], (last - at) * sizeof(g));
		r->groups[at] = g;
		if (r->ngroups < MLALLOC_LEAK_GROUPS)
			r->ngroups++;
	}
}

void mla__leaks_report(void)
{
	size_t n = 0;
	mla__check_live_each(count, &n);
	n += 64;   /* blocks made meanwhile by other threads are left out */
	size_t bytes = mla_align_up(n * (sizeof(struct blk) + sizeof(size_t)), 4096);
	struct scan s = { .cap = n };
	s.b = mla__os_reserve(bytes, true, "mlalloc-leaks");
	if (!s.b)
		return;
	s.work = (size_t *)(s.b + n);
	mla__check_live_each(collect, &s);
	sort_blocks(s.b, s.n);
	dl_iterate_phdr(scan_object, &s);
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	scan_range(&s, sp, stack_top(sp));
	while (s.nwork) {
		struct blk *b = &s.b[s.work[--s.nwork]];
		scan_range(&s, b->lo, b->hi);
	}
	static struct mlalloc_leak_report r;
	group(&s, &r);
	mla__leaks_print(&r);
	mla__os_unmap(s.b, bytes);
}
