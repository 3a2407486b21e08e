/* SPDX-License-Identifier: MIT */
/* sample.c: sampled mode's pool of guarded slots (MLALLOC_CHECK=sample,
 * the GWP-ASan design): a fixed number of slots, each one page for a
 * block, with a guard page on either side, reused in FIFO order.
 *
 * Layout: SLOTS * 2 + 1 pages at the start of guard.c's reservation,
 * [G][D0][G][D1][G]...[G];
 * slot i's data page is page 2i + 1.  A block is right-aligned in its page
 * (an overflow faults at once in the guard after it), with ",underflow"
 * left-aligned (an underflow faults in the guard before); the bytes
 * between the block and the page edges are filled and checked at free.
 *
 * States (struct slot): FRESH (never used), FREE (in the FIFO,
 * inaccessible), LIVE (its page accessible, the block handed out), BUSY
 * (between the two, owned by the malloc or free making the change).  free
 * makes the page inaccessible at once and puts the slot at the FIFO's
 * tail; malloc takes the head, the slot freed longest ago.  So a freed
 * block stays inaccessible, and a use after free faults and is reported
 * with both backtraces, until SLOTS - live later sampled allocations have
 * taken every slot freed before it (at one in 20000, SLOTS * 20000 later
 * mallocs when few sampled blocks are live).  After that the slot holds a
 * new block and an access through the old pointer is not detected.
 *
 * Two ways to make a page inaccessible, chosen once at init:
 *  - guard markers (MADV_GUARD_INSTALL/REMOVE, Linux 6.13+): the slots
 *    used so far are one read-write VMA with a marker on every page, put
 *    there CHUNK slots at a time as fresh slots are first used; a slot's
 *    page loses its marker at malloc and gets it back at free, which also
 *    drops the page (the next use faults in a zero page).
 *  - mprotect (older kernels, or ",mprotect"): the mapping starts
 *    PROT_NONE; malloc opens the slot's page, free closes it; the page
 *    keeps its memory (no fault when reused) but each live slot is a VMA.
 * Both are two system calls per sampled block, no mmap, munmap or
 * MADV_DONTNEED; bench/README.md "heap-check" has the figures (markers
 * were the cheaper on the machine measured, even with their fault).
 *
 * Not served here: blocks over a page or aligned beyond one, and any
 * allocation while every slot is live; guard.c gives those a page block
 * of its own (addresses never reused), up to its bounds.  The slot table
 * is read without the lock by the SIGSEGV handler: a slot's facts are
 * written before its state says LIVE or FREE (release), and read after. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PAGE      ((uintptr_t)4096)
#define SLOTS     512u
#define CHUNK     32u       /* slots put under guard markers at once */
#define FILL      0xbe      /* the slack around a block (as guard.c's) */

enum { SL_FRESH = 0, SL_LIVE = 1, SL_FREE = 2, SL_BUSY = 3 };

struct slot {
	uintptr_t user;
	size_t size;
	_Atomic uint8_t state;
	uint8_t depth_a, depth_f;
	uintptr_t bt_a[MLALLOC_CHECK_DEPTH], bt_f[MLALLOC_CHECK_DEPTH];
};

static struct {
	uintptr_t base;              /* the mapping: SLOTS * 2 + 1 pages */
	bool markers;                /* guard markers, else mprotect */
	uint32_t ready;              /* markers: slots [0, ready) under markers */
	bool underflow;              /* blocks left-aligned */
	struct slot *slot;           /* SLOTS */
	uint32_t fifo[SLOTS];        /* slots not live, oldest freed first */
	uint32_t head, count;
	size_t live;                 /* blocks handed out, for live_each */
} p;
static mla_lock lock = MLA_LOCK_INIT;

static uintptr_t page_of(uint32_t i) { return p.base + (2 * (uintptr_t)i + 1) * PAGE; }

/* Make slot i's page accessible or not; 0 or -errno. */
static int set_open(uint32_t i, bool open)
{
	if (p.markers)
		return mla__os_guard((void *)page_of(i), PAGE, !open);
	return mla__os_protect((void *)page_of(i), PAGE, open);
}

/* Markers: the slots up to the chunk holding slot i get their pages
 * read-write with a marker on each (the rest of the pool stays PROT_NONE
 * until used: markers are page-table entries, which fork copies: a pool
 * under markers whole cost 90 us a fork on the machine measured).  Under
 * the lock, or at init; 0 or -errno. */
static int prepare(uint32_t i)
{
	uint32_t a = p.ready, b = (i / CHUNK + 1) * CHUNK;
	if (i < a)
		return 0;
	uintptr_t from = p.base + (2 * (uintptr_t)a + (a > 0)) * PAGE, to = p.base + (2 * (uintptr_t)b + 1) * PAGE;
	int e = mla__os_protect((void *)from, to - from, true);
	if (e == 0 && (e = mla__os_guard((void *)from, to - from, true)) != 0)
		mla__os_protect((void *)from, to - from, false);
	if (e == 0)
		p.ready = b;
	return e;
}

/* Set the pool up at at, PROT_NONE address space of guard.c's reservation
 * (so that one compare there tells a checked block from a plain one):
 * with guard markers if the first chunk takes them.  Returns the bytes it
 * took, 0 if it could not (no pool: page blocks). */
size_t mla__sample_init(void *at, bool underflow, bool use_mprotect)
{
	void *t = mla__os_reserve(SLOTS * sizeof(struct slot), true, "mlalloc-sample-slots");
	if (!t)
		return 0;
	p.base = (uintptr_t)at;
	p.markers = !use_mprotect && prepare(0) == 0;   /* else before Linux 6.13 */
	p.slot = t;
	p.underflow = underflow;
	for (uint32_t i = 0; i < SLOTS; i++)
		p.fifo[i] = i;
	p.count = SLOTS;
	return (2 * (size_t)SLOTS + 1) * PAGE;
}

static void fill(uintptr_t from, uintptr_t to)
{
	if (to > from)
		memset((void *)from, FILL, to - from);
}

void *mla__sample_alloc(size_t size, size_t align, bool zero)
{
	if (!p.base || size > PAGE || align > PAGE)
		return NULL;
	mla_lock_take(&lock);
	if (!p.count) {
		mla_lock_drop(&lock);
		return NULL;
	}
	uint32_t i = p.fifo[p.head];
	if (p.markers && prepare(i) != 0) {
		mla_lock_drop(&lock);
		return NULL;
	}
	p.head = (p.head + 1) % SLOTS;
	p.count--;
	p.live++;
	struct slot *s = &p.slot[i];
	atomic_store_explicit(&s->state, SL_BUSY, memory_order_relaxed);
	mla_lock_drop(&lock);
	uintptr_t pg = page_of(i), al = align > MLA_MIN_BLOCK ? align : MLA_MIN_BLOCK;
	if (set_open(i, true) != 0) {   /* no memory for the VMA: the slot stays closed */
		mla_lock_take(&lock);
		p.live--;
		atomic_store_explicit(&s->state, SL_FREE, memory_order_relaxed);
		p.fifo[(p.head + p.count++) % SLOTS] = i;
		mla_lock_drop(&lock);
		return NULL;
	}
	s->user = p.underflow ? pg : (pg + PAGE - (size ? size : 1)) & ~(al - 1);
	s->size = size;
	s->depth_f = 0;
	fill(pg, s->user);
	fill(s->user + size, pg + PAGE);
	if (zero)
		memset((void *)s->user, 0, size);
	s->depth_a = mla__backtrace(s->bt_a);
	atomic_store_explicit(&s->state, SL_LIVE, memory_order_release);
	return (void *)s->user;
}

/* The slot whose data page holds a, or NULL. */
static struct slot *slot_of(uintptr_t a)
{
	if (!p.base || a < p.base || a >= p.base + (2 * (uintptr_t)SLOTS + 1) * PAGE)
		return NULL;
	uintptr_t q = (a - p.base) / PAGE;
	return q & 1 ? &p.slot[q / 2] : NULL;
}

static MLA_COLD _Noreturn void fatal(uint32_t kind, uint32_t access, uintptr_t addr,
                                     const struct slot *s, const char *func, const char *how)
{
	struct mla_check_fault f = {
		.kind = kind, .access = access, .addr = addr, .block = s ? s->user : 0,
		.size = s ? s->size : 0, .bt_alloc = s ? s->bt_a : NULL, .depth_alloc = s ? s->depth_a : 0,
		.bt_free = s ? s->bt_f : NULL, .depth_free = s ? s->depth_f : 0, .func = func, .how = how,
	};
	mla__check_report(&f);
	abort();
}

/* First byte of [a, b) that is not FILL, or 0. */
static uintptr_t bad_fill(uintptr_t a, uintptr_t b)
{
	for (; a < b && (a & 7); a++)
		if (*(uint8_t *)a != FILL)
			return a;
	for (; a + 8 <= b; a += 8)
		if (*(uint64_t *)a != 0x0101010101010101ull * FILL)
			break;
	for (; a < b; a++)
		if (*(uint8_t *)a != FILL)
			return a;
	return 0;
}

bool mla__sample_free(void *ptr, const char *func)
{
	uintptr_t a = (uintptr_t)ptr;
	if (!p.base || a < p.base || a >= p.base + (2 * (uintptr_t)SLOTS + 1) * PAGE)
		return false;
	struct slot *s = slot_of(a);
	if (!s || atomic_load_explicit(&s->state, memory_order_acquire) == SL_FRESH)
		fatal(MLALLOC_CHECK_INVALID_FREE, MLALLOC_ACCESS_FREE, a, NULL, func, NULL);
	if (a != s->user)
		fatal(MLALLOC_CHECK_INVALID_FREE, MLALLOC_ACCESS_FREE, a, s, func, NULL);
	mla_lock_take(&lock);
	uint8_t was = atomic_load_explicit(&s->state, memory_order_relaxed);
	if (was == SL_LIVE)
		atomic_store_explicit(&s->state, SL_BUSY, memory_order_relaxed);
	mla_lock_drop(&lock);
	if (was != SL_LIVE)
		fatal(MLALLOC_CHECK_DOUBLE_FREE, MLALLOC_ACCESS_FREE, a, s, func, NULL);
	uintptr_t pg = a & ~(PAGE - 1), bad = bad_fill(pg, s->user);
	const char *how = "found by the bytes between the block and its page edge, when the block was freed";
	if (bad)
		fatal(MLALLOC_CHECK_UNDERFLOW, MLALLOC_ACCESS_FREE, bad, s, func, how);
	if ((bad = bad_fill(s->user + s->size, pg + PAGE)))
		fatal(MLALLOC_CHECK_OVERFLOW, MLALLOC_ACCESS_FREE, bad, s, func, how);
	s->depth_f = mla__backtrace(s->bt_f);
	uint32_t i = (uint32_t)(s - p.slot);
	set_open(i, false);   /* cannot fail: a marker needs no memory, a VMA merges */
	mla_lock_take(&lock);
	atomic_store_explicit(&s->state, SL_FREE, memory_order_release);
	p.fifo[(p.head + p.count++) % SLOTS] = i;
	p.live--;
	mla_lock_drop(&lock);
	return true;
}

bool mla__sample_usable(const void *ptr, size_t *ret_size)
{
	uintptr_t a = (uintptr_t)ptr;
	if (!p.base || a < p.base || a >= p.base + (2 * (uintptr_t)SLOTS + 1) * PAGE)
		return false;
	struct slot *s = slot_of(a);
	uint8_t st = s ? atomic_load_explicit(&s->state, memory_order_acquire) : SL_FRESH;
	if (st == SL_FRESH || a != s->user)
		fatal(MLALLOC_CHECK_INVALID_FREE, MLALLOC_ACCESS_FREE, a, st == SL_FRESH ? NULL : s,
		      "malloc_usable_size", NULL);
	if (st != SL_LIVE)
		fatal(MLALLOC_CHECK_USE_AFTER_FREE, MLALLOC_ACCESS_READ, a, s, "malloc_usable_size", NULL);
	*ret_size = s->size;
	return true;
}

/* A fault at a: on a freed slot's page, a use after free; on a guard
 * page, an overflow of the block before it (",underflow": an underflow
 * of the block after it), or a use after free if that block is freed.
 * Reports and returns true, or false when a is not ours. */
bool mla__sample_fault(uintptr_t a, uint32_t access)
{
	if (!p.base || a < p.base || a >= p.base + (2 * (uintptr_t)SLOTS + 1) * PAGE)
		return false;
	uintptr_t q = (a - p.base) / PAGE;
	struct slot *s = slot_of(a);
	if (!s) {   /* a guard page: its neighbour on the side blocks are aligned to */
		uintptr_t i = p.underflow ? q / 2 : q / 2 - 1;
		if ((p.underflow && q / 2 >= SLOTS) || (!p.underflow && q == 0))
			return false;
		s = &p.slot[i];
	}
	uint8_t st = atomic_load_explicit(&s->state, memory_order_acquire);
	uint32_t kind = st == SL_FREE ? MLALLOC_CHECK_USE_AFTER_FREE
	              : st != SL_LIVE ? 0
	              : a >= s->user + s->size ? MLALLOC_CHECK_OVERFLOW
	              : a < s->user ? MLALLOC_CHECK_UNDERFLOW : 0;
	if (!kind)
		return false;
	struct mla_check_fault f = {
		.kind = kind, .access = access, .addr = a, .block = s->user, .size = s->size,
		.bt_alloc = s->bt_a, .depth_alloc = s->depth_a,
		.bt_free = s->bt_f, .depth_free = s->depth_f,
	};
	mla__check_report(&f);
	return true;
}

/* Call fn for every live block of the pool; under the lock. */
size_t mla__sample_live_each(void (*fn)(const struct mla_live *b, void *arg), void *arg)
{
	size_t n = 0;
	if (!p.base)
		return 0;
	mla_lock_take(&lock);
	for (uint32_t i = 0; i < SLOTS && n < p.live; i++) {
		struct slot *s = &p.slot[i];
		if (atomic_load_explicit(&s->state, memory_order_relaxed) != SL_LIVE)
			continue;
		struct mla_live b = { s->user, s->size, s->bt_a, s->depth_a };
		fn(&b, arg);
		n++;
	}
	mla_lock_drop(&lock);
	return n;
}

void mla__sample_atfork(int phase)
{
	mla_lock_atfork(&lock, phase);
}
