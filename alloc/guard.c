/* SPDX-License-Identifier: MIT */
/* guard.c: the checking mode, MLALLOC_CHECK=full | sample:N, optionally
 * followed by ",underflow".  Off by default; when off nothing here runs.
 *
 * Two kinds of checked block:
 *  - page blocks: their own run of pages in one PROT_NONE reservation,
 *    placed against a guard page (right-aligned, guard after: overflows
 *    fault; with ",underflow" left-aligned, guard before).  The bytes
 *    between the block and the page edge are filled and checked on free.
 *    Free makes the pages PROT_NONE.  A run of up to 64 KiB of data
 *    keeps its pages through a FIFO of freed runs (32 MiB), then waits in
 *    a pool (32 MiB) for the next page block of its size (runs_retire):
 *    a later access faults until the run is reused.  A larger run, or one
 *    the full pool cannot take, is given back (MADV_DONTNEED) and its
 *    addresses never reused: a later access faults at any time.
 *    Their facts (run, block, size, state, both backtraces) live in a
 *    table of records in address order, found by binary search; the
 *    SIGSEGV handler uses it to recognise its own pages.  In full mode
 *    blocks of a page or more and over-aligned blocks are page blocks; in
 *    sampled mode the sampled blocks that sample.c's pool does not take
 *    (over a page, or every slot live).
 *  - slots (sampled mode, one allocation in N, the GWP-ASan idea): a
 *    block of up to a page in a reused slot of sample.c's pool.
 *  - redzone blocks (full mode, smaller than a page): a block of the plain
 *    allocator holding a 48-byte header (state, size, the ids of both
 *    backtraces in the stack depot, depot.c, a 16-byte left canary), the
 *    user bytes and a right redzone of 16 to 31 bytes.  free
 *    checks both redzones, poisons the bytes and keeps the block in its
 *    thread's FIFO quarantine (struct ring: no global lock, bounded by
 *    bytes and blocks); leaving it, the poison is checked (a write after
 *    free) before the block goes back to the plain allocator.  The
 *    eviction prefetches the block it will evict QUAR_AHEAD frees later
 *    (the evicted block's cache misses were 42 % of cfrac's time).  A thread's
 *    quarantine leaves at its exit, every one at the process's.  Reads
 *    after free of these blocks are not detected.
 * A bug found is reported by mla__check_report (error.c): a message on
 * stderr and the exported record mlalloc_check_report; then abort, or for
 * a fault the default action of SIGSEGV.
 *
 * With ",leaks", live redzone blocks are also on a list, and at exit the
 * live blocks no root reaches are reported (leaks.c).
 *
 * Sampled mode: malloc's fast path counts down mla__tls.sample_left (one
 * decrement); below 0 it takes the slow path, which samples (sample_now).
 * "sample" without ":N" is one in MLA_SAMPLE_RATE (bench/README.md,
 * "heap-check": the cost at each rate); ",mprotect" makes the pool use
 * mprotect even where the kernel has guard markers (sample.c).
 *
 * Bounds: the reservation is 1 TiB (halved until mmap accepts it), the
 * record table 4 Mi records, each thread's quarantine 4 MiB / 64 Ki blocks
 * (the cost of evicting is the evicted block's cache misses: on cfrac a
 * 32 MiB quarantine made full mode 1.9x slower than 1 MiB), the freed
 * runs of page blocks 32 MiB waiting and 32 MiB reusable.  Past the
 * first two, allocations are served unchecked.  Backtraces: backtrace.c,
 * at most MLALLOC_CHECK_DEPTH frames; an allocation made by libgcc's
 * unwinder (its fallback) is served unchecked. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <sched.h>

#include "internal.h"

#define PAGE            ((uintptr_t)4096)
#define DEPTH           MLALLOC_CHECK_DEPTH
#define RESERVE_MAX     ((size_t)1 << 40)
#define RESERVE_MIN     ((size_t)1 << 30)
#define RECORDS_MAX     ((size_t)4 << 20)
#define QUAR_BYTES      ((size_t)4 << 20)    /* per thread */
#define QUAR_SLOTS      ((size_t)1 << 16)    /* per thread */
#define QUAR_AHEAD      8                    /* evictions prefetched ahead */
#define FILL            0xbe     /* redzones and page slack */
#define POISON          0xfd     /* freed bytes of redzone blocks */
#define MAGIC_LIVE      0x4c4b4843u
#define MAGIC_FREED     0x464b4843u
#define MLA_SAMPLE_RATE 20000u   /* "sample" without ":N" */

uint8_t mla__check_mode;
size_t mla__fast_lim = MLA_MAX_SMALL + 1;

enum { ST_LIVE = 1, ST_FREED = 2 };

/* A page block.  records[] is in increasing run order (runs are carved
 * upwards under the lock and never reused). */
struct rec {
	uintptr_t run;            /* first page; run_len bytes, guard included */
	size_t run_len;
	uintptr_t user;
	size_t size;
	uint8_t state;
	uint8_t depth_a, depth_f;
	uint32_t next;            /* freed: the next in runs' FIFO or pool (index + 1) */
	uintptr_t bt_a[DEPTH], bt_f[DEPTH];
};

/* The header of a redzone block, at the start of its plain block: 48
 * bytes, the backtraces being ids in the stack depot (depot.c). */
struct hdr {
	uint32_t magic;           /* MAGIC_LIVE or MAGIC_FREED, else not ours */
	uint32_t size;            /* < PAGE */
	uint32_t bt_a, bt_f;      /* depot ids of the allocation and free; 0: none */
	struct hdr *prev, *next;  /* the live list, with ",leaks" */
	uint8_t canary[16];       /* FILL: the left redzone */
};
#define HDR sizeof(struct hdr)
_Static_assert(sizeof(struct hdr) % 16 == 0, "user bytes 16-aligned");

static struct {
	bool underflow;
	bool leaks;                      /* ",leaks": scan for leaks at exit */
	struct hdr *live;                /* live redzone blocks, with leaks */
	uint32_t rate;
	uintptr_t base, used, len;       /* the reservation */
	struct rec *recs;
	_Atomic size_t nrec;
	struct ring *rings;              /* every quarantine made, under lock */
	pthread_key_t ring_key;          /* a thread's quarantine leaves at its exit */
	bool stats;                      /* ",stats": walk counts at exit */
	bool use_mprotect;               /* ",mprotect": the pool without guard markers */
	struct sigaction old_segv;
} g;
static mla_lock lock = MLA_LOCK_INIT;
static __thread uint32_t sample_init __attribute__((tls_model("initial-exec")));

/* ---- reports ---- */

static void report_rec(uint32_t kind, uint32_t access, uintptr_t addr, const struct rec *r, const char *func)
{
	struct mla_check_fault f = {
		.how = func && (kind == MLALLOC_CHECK_OVERFLOW || kind == MLALLOC_CHECK_UNDERFLOW)
		       ? "found by the bytes between the block and its page edge, when the block was freed" : NULL,
		.kind = kind, .access = access, .addr = addr, .block = r->user, .size = r->size,
		.bt_alloc = r->bt_a, .depth_alloc = r->depth_a,
		.bt_free = r->bt_f, .depth_free = r->depth_f, .func = func,
	};
	mla__check_report(&f);
}

/* A redzone block's fault: kind, access, addr and how are the caller's. */
static void report_hdr_how(struct mla_check_fault *f, const struct hdr *h)
{
	f->block = (uintptr_t)h + HDR;
	f->size = h->size;
	f->bt_alloc = mla__depot_get(h->bt_a, &f->depth_alloc);
	f->bt_free = mla__depot_get(h->bt_f, &f->depth_free);
	mla__check_report(f);
}

static void report_hdr(uint32_t kind, uintptr_t addr, const struct hdr *h, const char *func)
{
	struct mla_check_fault f = {
		.how = kind == MLALLOC_CHECK_OVERFLOW || kind == MLALLOC_CHECK_UNDERFLOW
		       ? "found by its redzone, when the block was freed" : NULL,
		.kind = kind, .access = MLALLOC_ACCESS_FREE, .addr = addr, .func = func,
	};
	report_hdr_how(&f, h);
}

static MLA_COLD _Noreturn void fatal_rec(uint32_t kind, uintptr_t addr, const struct rec *r, const char *func)
{
	report_rec(kind, MLALLOC_ACCESS_FREE, addr, r, func);
	abort();
}

static MLA_COLD _Noreturn void fatal_hdr(uint32_t kind, uintptr_t addr, const struct hdr *h, const char *func)
{
	report_hdr(kind, addr, h, func);
	abort();
}

/* First byte of [p, p + n) that is not c, or NULL: 32 bytes a test where
 * aligned (the poison of every freed redzone block and the slack of every
 * page block are checked: espresso spent 19 % of its time here). */
static const uint8_t *first_not(const uint8_t *p, size_t n, uint8_t c)
{
	const uint8_t *end = p + n;
	uint64_t w = 0x0101010101010101ull * c;
	while (p < end && ((uintptr_t)p & 7))
		if (*p++ != c)
			return p - 1;
	for (; p + 32 <= end; p += 32) {
		uint64_t v[4];
		memcpy(v, p, 32);
		if (((v[0] ^ w) | (v[1] ^ w) | (v[2] ^ w) | (v[3] ^ w)) != 0)
			break;
	}
	for (; p + 8 <= end; p += 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		if (v != w)
			break;
	}
	for (; p < end; p++)
		if (*p != c)
			return p;
	return NULL;
}

/* ---- page blocks ---- */

/* The record whose run holds a, or NULL. */
static struct rec *rec_of(uintptr_t a)
{
	if (a < g.base || a >= g.base + g.len)
		return NULL;
	size_t lo = 0, hi = atomic_load_explicit(&g.nrec, memory_order_acquire);
	while (lo < hi) {   /* first record with run > a */
		size_t mid = (lo + hi) / 2;
		if (g.recs[mid].run <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct rec *r = &g.recs[lo - 1];
	return a < r->run + r->run_len ? r : NULL;
}

/* Reused runs.  A freed page block's run of up to RUN_PAGES pages of data
 * stays inaccessible but resident (no MADV_DONTNEED) in a FIFO of freed
 * runs; past RUNQ_BYTES of later frees it leaves the FIFO for a pool of
 * reusable runs by size, where the next page block of that size takes it:
 * one mprotect at malloc and one at free instead of a fresh run's
 * mprotect, page faults and zeroing, and the mprotect and DONTNEED of its
 * free (espresso: 1 s of system time in 2.2 s).  A use after free faults
 * while the run is in the FIFO or the pool, however late; after its reuse
 * it goes unseen (as a redzone block's after its quarantine).  Larger runs
 * and runs the full pool cannot take are given back and never reused.
 * Under the lock; records keep their runs, so rec_of is unchanged. */
#define RUN_PAGES  16                        /* runs of up to 64 KiB of data */
#define RUNQ_BYTES ((size_t)32 << 20)
#define POOL_BYTES ((size_t)32 << 20)
static struct {
	uint32_t q_head, q_tail;     /* the FIFO, oldest first (index + 1; 0: none) */
	size_t q_bytes, pool_bytes;
	uint32_t pool[RUN_PAGES + 1]; /* reusable runs by pages of data */
} runs;

static size_t rec_data(const struct rec *r) { return r->run_len - PAGE; }
static uintptr_t rec_start(const struct rec *r) { return g.underflow ? r->run + PAGE : r->run; }

/* Under the lock: freed r enters the FIFO; the oldest runs past RUNQ_BYTES
 * go to the pool, or are given back when it is full. */
static void runs_retire(struct rec *r)
{
	uint32_t i = (uint32_t)(r - g.recs) + 1;
	r->next = 0;
	if (runs.q_tail)
		g.recs[runs.q_tail - 1].next = i;
	else
		runs.q_head = i;
	runs.q_tail = i;
	runs.q_bytes += rec_data(r);
	while (runs.q_bytes > RUNQ_BYTES) {
		struct rec *o = &g.recs[runs.q_head - 1];
		size_t d = rec_data(o);
		runs.q_head = o->next;
		if (!runs.q_head)
			runs.q_tail = 0;
		runs.q_bytes -= d;
		if (runs.pool_bytes + d > POOL_BYTES) {
			mla__os_purge((void *)rec_start(o), d);   /* never reused */
			continue;
		}
		o->next = runs.pool[d / PAGE];
		runs.pool[d / PAGE] = (uint32_t)(o - g.recs) + 1;
		runs.pool_bytes += d;
	}
}

/* Under the lock: a reusable run with data bytes of data, or NULL. */
static struct rec *runs_take(size_t data)
{
	size_t pages = data / PAGE;
	if (pages > RUN_PAGES || !runs.pool[pages])
		return NULL;
	struct rec *r = &g.recs[runs.pool[pages] - 1];
	runs.pool[pages] = r->next;
	runs.pool_bytes -= data;
	return r;
}

static void *page_alloc(size_t size, size_t align, bool zero)
{
	size_t extra = align > PAGE ? align : 0;
	size_t data = mla_align_up((size ? size : 1) + extra, PAGE);
	if (!data)
		return NULL;
	mla_lock_take(&lock);
	size_t n = atomic_load_explicit(&g.nrec, memory_order_relaxed);
	struct rec *r = runs_take(data);
	bool reused = r != NULL;   /* else fresh pages: zero */
	if (!r && (n >= RECORDS_MAX || data + PAGE > g.len - g.used)) {
		mla_lock_drop(&lock);
		return NULL;
	}
	if (!r) {
		r = &g.recs[n];
		r->run = g.base + g.used;
		r->run_len = data + PAGE;
		g.used += data + PAGE;
	}
	uintptr_t start = g.underflow ? r->run + PAGE : r->run;
	uintptr_t al = align > MLA_MIN_BLOCK ? align : MLA_MIN_BLOCK;
	r->user = g.underflow ? mla_align_up(start, al) : (start + data - size) & ~(al - 1);
	r->size = size;
	r->state = ST_LIVE;
	r->depth_f = 0;
	if (!reused)
		atomic_store_explicit(&g.nrec, n + 1, memory_order_release);
	mla_lock_drop(&lock);
	if (mla__os_protect((void *)start, data, true) != 0) {
		r->state = ST_FREED;   /* stays inaccessible; its addresses are lost */
		return NULL;
	}
	memset((void *)start, FILL, r->user - start);
	memset((void *)(r->user + size), FILL, start + data - r->user - size);
	if (reused && zero)
		memset((void *)r->user, 0, size);
	r->depth_a = mla__backtrace(r->bt_a);
	return (void *)r->user;
}

static void page_free(struct rec *r, uintptr_t p, const char *func)
{
	if (p != r->user)
		fatal_rec(MLALLOC_CHECK_INVALID_FREE, p, r, func);
	if (r->state != ST_LIVE)
		fatal_rec(MLALLOC_CHECK_DOUBLE_FREE, p, r, func);
	uintptr_t start = g.underflow ? r->run + PAGE : r->run;
	size_t data = r->run_len - PAGE;
	const uint8_t *bad = first_not((void *)start, r->user - start, FILL);
	if (bad)
		fatal_rec(MLALLOC_CHECK_UNDERFLOW, (uintptr_t)bad, r, func);
	bad = first_not((void *)(r->user + r->size), start + data - r->user - r->size, FILL);
	if (bad)
		fatal_rec(MLALLOC_CHECK_OVERFLOW, (uintptr_t)bad, r, func);
	r->depth_f = mla__backtrace(r->bt_f);
	r->state = ST_FREED;
	mla__os_protect((void *)start, data, false);
	if (data / PAGE > RUN_PAGES) {
		mla__os_purge((void *)start, data);
		return;
	}
	mla_lock_take(&lock);
	runs_retire(r);
	mla_lock_drop(&lock);
}

/* ---- redzone blocks ---- */

static size_t rz_total(size_t size) { return HDR + mla_align_up(size, 16) + 16; }

static void *small_alloc(size_t size, bool zero)
{
	struct hdr *h = mla__malloc_plain(rz_total(size));
	if (!h)
		return NULL;
	uint8_t *user = (uint8_t *)h + HDR;
	h->size = (uint32_t)size;
	h->bt_f = 0;
	memset(h->canary, FILL, sizeof(h->canary));
	memset(user + size, FILL, rz_total(size) - HDR - size);
	if (zero)
		memset(user, 0, size);
	h->bt_a = mla__backtrace_id();
	h->magic = MAGIC_LIVE;
	if (g.leaks) {
		mla_lock_take(&lock);
		h->prev = NULL;
		h->next = g.live;
		if (g.live)
			g.live->prev = h;
		g.live = h;
		mla_lock_drop(&lock);
	}
	return user;
}

/* A thread's quarantine: a FIFO of its freed redzone blocks, bounded by
 * QUAR_SLOTS and QUAR_BYTES.  Only its thread pushes and evicts; busy is
 * taken by the owner around each operation and by whoever drains it (at
 * exit), so the owner's free takes no global lock and shares no line. */
struct ring {
	struct ring *next;               /* g.rings */
	atomic_flag busy;
	bool owned;                      /* a live thread's (under lock) */
	size_t head, count, bytes;
	struct hdr *slot[QUAR_SLOTS];
};
static __thread struct ring *my_ring __attribute__((tls_model("initial-exec")));

static void ring_take(struct ring *r)
{
	while (atomic_flag_test_and_set_explicit(&r->busy, memory_order_acquire))
		sched_yield();
}

static void ring_drop(struct ring *r)
{
	atomic_flag_clear_explicit(&r->busy, memory_order_release);
}

/* The oldest block of r leaves: check its poison, free it. */
static void quar_evict(struct ring *r)
{
	if (r->count > QUAR_AHEAD) {   /* the block evicted QUAR_AHEAD frees later */
		const uint8_t *next = (const uint8_t *)r->slot[(r->head + QUAR_AHEAD) % QUAR_SLOTS];
		__builtin_prefetch(next, 1);
		__builtin_prefetch(next + 64, 1);
	}
	struct hdr *h = r->slot[r->head];
	r->head = (r->head + 1) % QUAR_SLOTS;
	r->count--;
	r->bytes -= rz_total(h->size);
	const uint8_t *bad = first_not((uint8_t *)h + HDR, h->size, POISON);
	if (bad) {
		struct mla_check_fault f = {
			.kind = MLALLOC_CHECK_USE_AFTER_FREE, .access = MLALLOC_ACCESS_WRITE,
			.addr = (uintptr_t)bad, .func = NULL,
			.how = "the poison of the freed block was found overwritten when it left the quarantine",
		};
		report_hdr_how(&f, h);
		abort();
	}
	h->magic = 0;   /* a plain block again */
	free(h);
}

static void ring_drain(struct ring *r)
{
	ring_take(r);
	while (r->count)
		quar_evict(r);
	ring_drop(r);
}

/* pthread key destructor: the exiting thread's quarantine leaves (its
 * poison checked) and the ring waits for another thread. */
static void ring_exit(void *arg)
{
	struct ring *r = arg;
	ring_drain(r);
	my_ring = NULL;
	mla_lock_take(&lock);
	r->owned = false;
	mla_lock_drop(&lock);
}

/* The calling thread's quarantine, made (or an idle one taken) on its
 * first free; NULL if none can be made. */
static MLA_NOINLINE struct ring *ring_get(void)
{
	mla_lock_take(&lock);
	struct ring *r = g.rings;
	while (r && r->owned)
		r = r->next;
	if (!r && (r = mla__os_reserve(sizeof(*r), true, "mlalloc-check-quarantine"))) {
		atomic_flag_clear(&r->busy);
		r->next = g.rings;
		g.rings = r;
	}
	if (r)
		r->owned = true;
	mla_lock_drop(&lock);
	if (r)
		pthread_setspecific(g.ring_key, r);
	return my_ring = r;
}

static void small_free(struct hdr *h, const char *func)
{
	uint8_t *user = (uint8_t *)h + HDR;
	if (h->magic == MAGIC_FREED)
		fatal_hdr(MLALLOC_CHECK_DOUBLE_FREE, (uintptr_t)user, h, func);
	const uint8_t *bad = first_not(h->canary, sizeof(h->canary), FILL);
	if (bad) {   /* report the damaged byte nearest the block */
		for (bad = h->canary + sizeof(h->canary) - 1; *bad == FILL; bad--)
			;
		fatal_hdr(MLALLOC_CHECK_UNDERFLOW, (uintptr_t)bad, h, func);
	}
	bad = first_not(user + h->size, rz_total(h->size) - HDR - h->size, FILL);
	if (bad)
		fatal_hdr(MLALLOC_CHECK_OVERFLOW, (uintptr_t)bad, h, func);
	h->bt_f = mla__backtrace_id();
	h->magic = MAGIC_FREED;
	memset(user, POISON, h->size);
	if (g.leaks) {
		mla_lock_take(&lock);
		if (h->prev)
			h->prev->next = h->next;
		else
			g.live = h->next;
		if (h->next)
			h->next->prev = h->prev;
		mla_lock_drop(&lock);
	}
	struct ring *r = my_ring ? my_ring : ring_get();
	if (!r) {   /* no quarantine: checked now, freed at once */
		h->magic = 0;
		free(h);
		return;
	}
	ring_take(r);
	r->slot[(r->head + r->count) % QUAR_SLOTS] = h;
	r->count++;
	r->bytes += rz_total(h->size);
	while (r->count == QUAR_SLOTS || r->bytes > QUAR_BYTES)
		quar_evict(r);
	ring_drop(r);
}

/* The redzone header of the segment block holding p, or NULL.  *ret_user
 * says whether p is the block's user address. */
static struct hdr *hdr_of(const void *p, bool *ret_user)
{
	if (mla__check_mode != MLA_CHECK_FULL)
		return NULL;   /* sampled mode makes no redzone blocks */
	mla_segment *seg = mla__hdr_of(p);
	if (!seg || seg->magic != MLA_MAGIC_SEG || (void *)seg == p)
		return NULL;
	mla_page *page = mla__page_of(seg, p);
	if (page->block_size == 0)
		return NULL;
	size_t off = (size_t)((const uint8_t *)p - page->start);
	if (off >= (size_t)page->capacity * page->block_size || page->block_size < HDR + 16)
		return NULL;
	struct hdr *h = (struct hdr *)(page->start + off / page->block_size * page->block_size);
	if (h->magic != MAGIC_LIVE && h->magic != MAGIC_FREED)
		return NULL;
	*ret_user = (const uint8_t *)p == (uint8_t *)h + HDR;
	return h;
}

/* ---- live blocks, for the leak scan (leaks.c) ---- */

/* Call fn for every live checked block; under the lock (no allocation
 * from fn).  Returns the number of blocks. */
size_t mla__check_live_each(void (*fn)(const struct mla_live *b, void *arg), void *arg)
{
	size_t n = mla__sample_live_each(fn, arg);
	mla_lock_take(&lock);
	size_t nrec = atomic_load_explicit(&g.nrec, memory_order_acquire);
	for (size_t i = 0; i < nrec; i++) {
		struct rec *r = &g.recs[i];
		if (r->state != ST_LIVE)
			continue;
		struct mla_live b = { r->user, r->size, r->bt_a, r->depth_a };
		fn(&b, arg);
		n++;
	}
	for (struct hdr *h = g.live; h; h = h->next) {
		struct mla_live b = { (uintptr_t)h + HDR, h->size, NULL, 0 };
		b.bt = mla__depot_get(h->bt_a, &b.depth);
		fn(&b, arg);
		n++;
	}
	mla_lock_drop(&lock);
	return n;
}

/* ---- the interface (internal.h) ---- */

/* Sampled mode: is this allocation the one in g.rate?  The countdown
 * mla__tls.sample_left is decremented by malloc's fast path (counted), here
 * otherwise; it going below 0 sends malloc here.  A thread starts at
 * INTPTR_MAX (so with the mode off the fast path never leaves for it) and
 * is set to the rate at its first slow-path call (its heap is made there). */
static bool sample_now(bool counted)
{
	if (mla_unlikely(!sample_init)) {   /* what the fast path counted was INTPTR_MAX's */
		sample_init = 1;
		mla__tls.sample_left = (intptr_t)g.rate - 1;
		counted = false;
	}
	if (!counted)
		mla__tls.sample_left--;
	if (mla__tls.sample_left >= 0)
		return false;
	mla__tls.sample_left = (intptr_t)g.rate - 1;
	return true;
}

static void *plain(size_t size, size_t align, bool zero)
{
	void *p = align > MLA_MIN_BLOCK ? mla__malloc_aligned(size, align) : mla__malloc_plain(size);
	if (p && zero)
		memset(p, 0, size);
	return p;
}

static void *check_malloc(size_t size, size_t align, bool zero, bool counted)
{
	if (mla__in_unwind || (mla__check_mode == MLA_CHECK_SAMPLE && !sample_now(counted)))
		return plain(size, align, zero);
	void *p;
	if (mla__check_mode == MLA_CHECK_FULL && size < PAGE && align <= MLA_MIN_BLOCK)
		p = small_alloc(size, zero);
	else if (mla__check_mode != MLA_CHECK_SAMPLE || !(p = mla__sample_alloc(size, align, zero)))
		p = page_alloc(size, align, zero);
	return p ? p : plain(size, align, zero);
}

void *mla__check_malloc(size_t size, size_t align, bool zero)
{
	return check_malloc(size, align, zero, false);
}

/* From malloc's slow path: its fast path counted sizes it serves. */
void *mla__check_malloc_slow(size_t size)
{
	return check_malloc(size, MLA_MIN_BLOCK, false, size < mla__fast_lim);
}

bool mla__check_free(void *p, const char *func)
{
	if ((uintptr_t)p - g.base >= g.len && mla__check_mode != MLA_CHECK_FULL)
		return false;   /* sampled mode: not a checked block (one compare) */
	if (mla__sample_free(p, func))
		return true;
	struct rec *r = rec_of((uintptr_t)p);
	if (r) {
		page_free(r, (uintptr_t)p, func);
		return true;
	}
	if ((uintptr_t)p >= g.base && (uintptr_t)p < g.base + g.len) {
		struct mla_check_fault f = { .kind = MLALLOC_CHECK_INVALID_FREE,
			.access = MLALLOC_ACCESS_FREE, .addr = (uintptr_t)p, .func = func };
		mla__check_report(&f);
		abort();
	}
	bool user;
	struct hdr *h = hdr_of(p, &user);
	if (!h)
		return false;
	if (!user)
		fatal_hdr(MLALLOC_CHECK_INVALID_FREE, (uintptr_t)p, h, func);
	small_free(h, func);
	return true;
}

bool mla__check_usable(const void *p, size_t *ret_size)
{
	if ((uintptr_t)p - g.base >= g.len && mla__check_mode != MLA_CHECK_FULL)
		return false;   /* sampled mode: not a checked block (one compare) */
	if (mla__sample_usable(p, ret_size))
		return true;
	struct rec *r = rec_of((uintptr_t)p);
	bool user;
	struct hdr *h = r ? NULL : hdr_of(p, &user);
	if (r && (r->user != (uintptr_t)p || r->state != ST_LIVE))
		fatal_rec(r->state != ST_LIVE ? MLALLOC_CHECK_USE_AFTER_FREE : MLALLOC_CHECK_INVALID_FREE,
		          (uintptr_t)p, r, "malloc_usable_size");
	if (h && (!user || h->magic != MAGIC_LIVE))
		fatal_hdr(h->magic != MAGIC_LIVE ? MLALLOC_CHECK_USE_AFTER_FREE : MLALLOC_CHECK_INVALID_FREE,
		          (uintptr_t)p, h, "malloc_usable_size");
	if (!r && !h)
		return false;
	*ret_size = r ? r->size : h->size;
	return true;
}

void *mla__check_realloc(void *p, size_t size)
{
	size_t old;
	if (p && (uintptr_t)p - g.base >= g.len && mla__check_mode != MLA_CHECK_FULL)
		return mla__realloc_plain(p, size);   /* sampled mode, a plain block */
	if (!p || !mla__check_usable(p, &old))
		return p ? mla__realloc_plain(p, size) : mla__check_malloc(size, 0, false);
	if (size == 0) {
		mla__check_free(p, "realloc");
		return NULL;
	}
	void *q = mla__check_malloc(size, 0, false);
	if (!q)
		return NULL;
	memcpy(q, p, old < size ? old : size);
	mla__check_free(p, "realloc");
	return q;
}

/* ---- faults on our pages ---- */

static uint32_t access_of(void *uc)
{
#if defined(__x86_64__)
	ucontext_t *u = uc;
	return (u->uc_mcontext.gregs[REG_ERR] & 2) ? MLALLOC_ACCESS_WRITE : MLALLOC_ACCESS_READ;
#else
	(void)uc;
	return MLALLOC_ACCESS_UNKNOWN;
#endif
}

/* Not ours: hand the fault to the handler that was there before, or let
 * the default action take it when the instruction runs again. */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
	if ((g.old_segv.sa_flags & SA_SIGINFO) && g.old_segv.sa_sigaction) {
		g.old_segv.sa_sigaction(sig, si, uc);
		return;
	}
	if (g.old_segv.sa_handler != SIG_DFL && g.old_segv.sa_handler != SIG_IGN) {
		g.old_segv.sa_handler(sig);
		return;
	}
	signal(SIGSEGV, SIG_DFL);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	if (mla__sample_fault(a, access_of(uc))) {
		signal(SIGSEGV, SIG_DFL);   /* the access runs again and kills */
		return;
	}
	struct rec *r = rec_of(a);
	uint32_t kind = 0;
	if (r && r->state != ST_LIVE)
		kind = MLALLOC_CHECK_USE_AFTER_FREE;
	else if (r && a >= r->user + r->size)
		kind = MLALLOC_CHECK_OVERFLOW;
	else if (r && a < r->user)
		kind = MLALLOC_CHECK_UNDERFLOW;
	if (!kind) {
		pass_on(sig, si, uc);
		return;
	}
	report_rec(kind, access_of(uc), a, r, NULL);
	signal(SIGSEGV, SIG_DFL);   /* the access runs again and kills */
}

/* At exit every quarantined block leaves: a write after free that no
 * eviction saw yet is reported here. */
__attribute__((destructor)) static void check_at_exit(void)
{
	if (mla__check_mode && g.leaks)
		mla__leaks_report();
	if (g.stats)
		mla__backtrace_stats();
	if (mla__check_mode != MLA_CHECK_FULL)
		return;
	mla_lock_take(&lock);
	struct ring *rings = g.rings;
	mla_lock_drop(&lock);
	for (struct ring *r = rings; r; r = r->next)
		ring_drain(r);
}

void mla__check_atfork(int phase)
{
	mla__sample_atfork(phase);
	if (mla_lock_atfork(&lock, phase))
		for (struct ring *r = g.rings; r; r = r->next) {
			atomic_flag_clear(&r->busy);   /* its blocks stay until exit */
			r->owned = r == my_ring;
		}
}

static bool parse_spec(const char *s)
{
	if (!strncmp(s, "full", 4)) {
		mla__check_mode = MLA_CHECK_FULL;
		s += 4;
	} else if (!strncmp(s, "sample", 6) && (s[6] == ':' || s[6] == ',' || !s[6])) {
		uint64_t v = s[6] == ':' ? 0 : MLA_SAMPLE_RATE;
		for (s += 6 + (s[6] == ':'); *s >= '0' && *s <= '9' && v < UINT32_MAX; s++)
			v = v * 10 + (uint64_t)(*s - '0');
		if (v == 0 || v > UINT32_MAX)
			return false;
		g.rate = (uint32_t)v;
		mla__check_mode = MLA_CHECK_SAMPLE;
	} else {
		return false;
	}
	while (*s) {
		if (!strncmp(s, ",underflow", 10)) {
			g.underflow = true;
			s += 10;
		} else if (!strncmp(s, ",leaks", 6)) {
			g.leaks = true;
			s += 6;
		} else if (!strncmp(s, ",mprotect", 9)) {
			g.use_mprotect = true;
			s += 9;
		} else if (!strncmp(s, ",stats", 6)) {
			g.stats = mla__bt_stats = true;
			s += 6;
		} else {
			return false;
		}
	}
	return true;
}

/* From init_globals (heap.c), once, before any allocation is served.  A
 * spec we cannot parse, or memory we cannot reserve, leaves the mode off. */
void mla__check_init(const char *spec)
{
	if (!spec || !*spec || !strcmp(spec, "0") || !parse_spec(spec)) {
		mla__check_mode = MLA_CHECK_OFF;
		return;
	}
	void *m = NULL;
	for (g.len = RESERVE_MAX; g.len >= RESERVE_MIN && !m; g.len /= 2)
		m = mla__os_reserve(g.len, false, "mlalloc-check");
	g.len *= 2;
	void *recs = mla__os_reserve(RECORDS_MAX * sizeof(struct rec), true, "mlalloc-check-records");
	if (!m || !recs || pthread_key_create(&g.ring_key, ring_exit) != 0) {
		mla__check_mode = MLA_CHECK_OFF;
		return;
	}
	g.base = (uintptr_t)m;
	g.used = PAGE;   /* a first block's pages never merge with the mapping below */
	if (mla__check_mode == MLA_CHECK_SAMPLE)   /* the pool's slots, else page blocks only */
		g.used += mla__sample_init((void *)(g.base + PAGE), g.underflow, g.use_mprotect);
	g.recs = recs;
	mla__backtrace_init();
	if (mla__check_mode == MLA_CHECK_FULL)
		(void)mla__depot_init();   /* without it, redzone blocks keep no backtraces */
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &g.old_segv);
	if (mla__check_mode == MLA_CHECK_FULL)
		mla__fast_lim = 0;   /* sampled mode: the fast path counts down */
}
