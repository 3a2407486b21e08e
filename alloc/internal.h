/* SPDX-License-Identifier: MIT */
/* internal.h: what the allocator's files share: the glue (locks, time,
 * fatal errors), the OS layer, and the functions of each concept.  Nothing
 * here is exported from libmlalloc.so (-fvisibility=hidden). */
#ifndef ML_ALLOC_INTERNAL_H
#define ML_ALLOC_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "sizeclass.h"
#include "types.h"

/* ---- glue: locks and time ---- */
typedef pthread_mutex_t ml_lock;
#define ML_LOCK_INIT PTHREAD_MUTEX_INITIALIZER
static inline void ml_lock_take(ml_lock *l) { pthread_mutex_lock(l); }
static inline void ml_lock_drop(ml_lock *l) { pthread_mutex_unlock(l); }
uint64_t ml__now_ms(void);

/* ---- os.c: the only file that calls brk, mmap, munmap, madvise ---- */
void *ml__os_brk_segment(size_t size, int *ret_from);  /* aligned to size */
void *ml__os_map_aligned(size_t size, size_t align);   /* NULL on failure */
void *ml__os_map(size_t size);
void ml__os_unmap(void *p, size_t size);
void ml__os_purge(void *p, size_t size);               /* MADV_DONTNEED */
uintptr_t ml__os_brk_top(void);                        /* end of our top brk segment handed out, else 0 (no syscall) */
bool ml__os_brk_release(void *seg, size_t size);       /* lower the break to seg if seg is the top segment */
void *ml__os_map_named(size_t size, bool name);        /* for the published region */
void *ml__os_move(void *p, size_t old_size, size_t new_size, size_t align);
void ml__os_atfork(int phase);
struct ml_os_info { uintptr_t brk_start, brk_end; bool brk_failed; };
void ml__os_info(struct ml_os_info *ret);
void *ml__os_reserve(size_t len, bool rw, const char *name);   /* NORESERVE, named */
int ml__os_protect(void *p, size_t len, bool rw);
extern bool ml__os_no_brk;   /* MLALLOC_NO_BRK=1: skip brk */
extern bool ml__pub_unnamed; /* MLALLOC_PUB_UNNAMED=1: do not name the region */

/* ---- globals ---- */
extern _Atomic uint8_t ml__segmap[ML_SEGMAP_LEN];
extern struct ml_keys ml__keys;
extern uint64_t ml__decay_ms;
extern ml_page ml__page_empty;
extern ml_heap ml__heap_empty;
extern __thread ml_heap *ml__tl_heap __attribute__((tls_model("initial-exec")));

/* ---- free-list links and canaries (types.h, "Free blocks") ---- */

static inline uintptr_t ml_rotl(uintptr_t x, unsigned k) { return (x << k) | (x >> (64 - k)); }

/* The canary of the free block b. */
static inline uintptr_t ml_canary(const ml_block *b) { return ml__keys.canary ^ (uintptr_t)b; }

/* Store next (NULL or a block of b's span) as b's link. */
static inline void ml_link_set(ml_block *b, const ml_block *next)
{
	b->link = ml_rotl((uintptr_t)next ^ (uintptr_t)b ^ ml__keys.link, 64 - ML_LINK_ROT);
}

/* The link of b decoded, unchecked: see ml_link_ok. */
static inline ml_block *ml_link_get(const ml_block *b)
{
	return (ml_block *)(ml_rotl(b->link, ML_LINK_ROT) ^ (uintptr_t)b ^ ml__keys.link);
}

/* Whether a decoded link may be followed: NULL, or a carved block of page
 * (inside [start, start + limit), limit = capacity * block_size, at a
 * multiple of block_size from start).  One multiply, no division. */
static inline bool ml_link_ok(const ml_page *page, const ml_block *next)
{
	uintptr_t off = (uintptr_t)next - (uintptr_t)page->start;
	return !next || (off < page->limit && ml_divisible((uint32_t)off, page->div_magic));
}

/* ---- error.c ---- */
enum ml_fault {
	ML_FAULT_FOREIGN,     /* not memory mlalloc handed out */
	ML_FAULT_INTERIOR,    /* inside a block, not its start */
	ML_FAULT_FREE_SPAN,   /* into a segment page that is not in use */
	ML_FAULT_DOUBLE,      /* block already free */
	ML_FAULT_LARGE_DOUBLE,
	ML_FAULT_CORRUPT,     /* metadata damaged */
	ML_FAULT_FREE_LIST,   /* a free block's link is not a block of its span */
	ML_FAULT_FREE_BLOCK,  /* a free block's canary is overwritten */
	ML_FAULT_DOUBLE_WRITTEN,  /* double free of a block written while free */
};
_Noreturn void ml__fatal(enum ml_fault fault, const char *func, const void *p,
                         const void *block, size_t block_size);
void ml__init_once(void);

/* ---- segment.c ---- */
ml_segment *ml__segment_new(ml_heap *heap);
ml_page *ml__span_alloc(ml_heap *heap, size_t pages, bool grow);
bool ml__span_extend(ml_page *head, size_t pages);
ml_page *ml__span_slide(ml_page *head, size_t pages);
void ml__span_free(ml_heap *heap, ml_page *page);
void ml__segment_purge(ml_segment *seg, uint64_t now, bool force);
void ml__segment_purge_pages(ml_segment *seg, uint64_t pages);   /* free ones, now */
void ml__segment_abandon(ml_segment *seg);
void ml__segment_repair(ml_segment *seg);   /* owner died mid-operation (fork child) */
ml_segment *ml__segment_adopt(ml_heap *heap);
void ml__segment_pool_purge(uint64_t now, bool force);   /* and give idle segments back */
void ml__segment_atfork(int phase);
void ml__segmap_set(uintptr_t base, size_t size, bool on);

/* Header of the segment or large block holding p, or NULL if not ours. */
static inline void *ml__hdr_of(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	if (ml_unlikely(a >> ML_ADDR_BITS))
		return NULL;
	size_t i = a >> ML_SEG_SHIFT;
	uint8_t k = atomic_load_explicit(&ml__segmap[i], memory_order_relaxed);
	if (ml_likely(k == 1))
		return (void *)(i << ML_SEG_SHIFT);
	if (k == 0)
		return NULL;
	extern void *ml__hdr_walk(size_t i);
	return ml__hdr_walk(i);
}

static inline ml_page *ml__page_of(ml_segment *seg, const void *p)
{
	ml_page *pg = &seg->pages[((uintptr_t)p - (uintptr_t)seg) >> ML_PAGE_SHIFT];
	return pg - pg->head_off;
}

/* ---- page.c ---- */
ML_COLD _Noreturn void ml__page_pop_fatal(ml_page *page, ml_block *b);

/* Take the first block of page->free (not empty) for malloc: its canary
 * and its link are checked, so a block written while free (an overflow
 * from the block before it, a write after free) aborts here rather than
 * handing out the address it was made to hold. */
static inline ml_block *ml__page_pop(ml_page *page)
{
	ml_block *b = page->free;
	ml_block *next = ml_link_get(b);
	if (ml_unlikely(b->key != ml_canary(b) || !ml_link_ok(page, next)))
		ml__page_pop_fatal(page, b);
	page->free = next;
	b->key = 0;
	return b;
}

void ml__page_init(ml_page *page, unsigned cls);
bool ml__page_collect(ml_page *page);   /* true if page->free is non-empty after */
uint32_t ml__page_collect_remote(ml_page *page);
bool ml__page_holds_free(ml_page *page, ml_block *b, bool walk_remote);
void ml__page_repair(ml_page *page);   /* owner died mid-operation (fork child) */

/* ---- heap.c ---- */
void *ml__malloc_slow(size_t size);
void *ml__malloc_aligned(size_t size, size_t align);
void ml__free_slow(void *p, const char *func);
void ml__free_remote(ml_segment *seg, ml_page *page, ml_block *b);
void ml__free_local_slow(ml_heap *heap, ml_page *page);
void *ml__realloc_grow(ml_segment *seg, void *p, size_t size);
uint64_t ml__realloc_leaving(ml_segment *seg, void *p, size_t usable);
ml_heap *ml__heap_init_thread(void);
void ml__heap_purge(ml_heap *heap, bool force);
void ml__heap_tick(void);
void ml__heap_atfork(int phase);
size_t ml__usable_size(const void *p, const char *func);

/* ---- large.c ---- */
void *ml__large_alloc(size_t size, size_t align, bool zero);
void ml__large_free(ml_large *lg, const void *p, const char *func);
void *ml__large_realloc(ml_large *lg, void *p, size_t size);
void ml__large_purge(uint64_t now, bool force);
void ml__large_atfork(int phase);

/* ---- introspect.c ---- */
struct mlalloc_pub_header *ml__pub(void);     /* NULL if it could not be mapped */
struct mlalloc_pub_heap *ml__pub_heap_slot(int tid);
void ml__pub_heap_release(struct mlalloc_pub_heap *slot);
int ml__pub_seg_slot(void);                   /* -1 if none */
uint32_t ml__pub_large_slot(void);            /* UINT32_MAX if none */
void ml__pub_large_release(uint32_t index);
void ml__pub_seg_write(ml_segment *seg, uint32_t state);
void ml__pub_seg_release(uint8_t from, uint16_t index, size_t resident);   /* segment given back */
void ml__pub_begin(void);                     /* takes the header seqlock */
void ml__pub_end(void);
void ml__pub_atfork(int phase);

/* ---- guard.c: the checking mode (MLALLOC_CHECK) ---- */
enum { ML_CHECK_OFF = 0, ML_CHECK_FULL = 1, ML_CHECK_SAMPLE = 2 };
extern uint8_t ml__check_mode;     /* set once at init, never changed */
extern size_t ml__fast_lim;        /* malloc's fast path serves size < this: 0 in full check mode */
void ml__check_init(const char *spec);
void *ml__check_malloc(size_t size, size_t align, bool zero);
bool ml__check_free(void *p, const char *func);      /* false: not a checked block */
void *ml__check_realloc(void *p, size_t size);
bool ml__check_usable(const void *p, size_t *ret_size);
void ml__check_atfork(int phase);
struct ml_live { uintptr_t user; size_t size; const uintptr_t *bt; unsigned depth; };
size_t ml__check_live_each(void (*fn)(const struct ml_live *b, void *arg), void *arg);
void ml__leaks_report(void);                         /* leaks.c: scan and report, at exit */
void ml__leaks_print(struct mlalloc_leak_report *r); /* error.c: publish, and print if any */
uintptr_t ml__maps_end_of(uintptr_t a);              /* error.c: end of the mapping holding a, else a */
void *ml__malloc_plain(size_t size);                 /* heap.c: malloc without the check */
void *ml__realloc_plain(void *p, size_t size);       /* api.c */

void *ml__check_malloc_slow(size_t size);            /* malloc's slow path in check mode */
extern __thread intptr_t ml__sample_left __attribute__((tls_model("initial-exec")));  /* sampled mode's countdown */

/* ---- backtrace.c: the checking mode's backtraces ---- */
void ml__backtrace_init(void);
uint8_t ml__backtrace(uintptr_t *out);               /* MLALLOC_CHECK_DEPTH slots; returns the count */
void ml__backtrace_stats(void);                      /* ",stats": the walks, on stderr */
extern bool ml__bt_stats;
extern __thread bool ml__in_unwind __attribute__((tls_model("initial-exec")));   /* a DWARF walk is running */

/* A bug the checking mode found, for ml__check_report (error.c). */
struct ml_check_fault {
	uint32_t kind, access;       /* enum mlalloc_check_kind / _access */
	uintptr_t addr, block;
	size_t size;
	const uintptr_t *bt_alloc, *bt_free;
	unsigned depth_alloc, depth_free;
	const char *func;            /* the call that found it, or NULL (a fault) */
	const char *how;             /* how it was found, for the message, or NULL */
};
void ml__check_report(const struct ml_check_fault *f);   /* message + published record */

/* Atfork phases. */
enum { ML_FORK_PREPARE, ML_FORK_PARENT, ML_FORK_CHILD };

#endif
