/* SPDX-License-Identifier: MIT */
/* internal.h: what the allocator's files share: the glue (locks, time,
 * fatal errors), the OS layer, and the functions of each concept.  Nothing
 * here is exported from libmlalloc.so (-fvisibility=hidden). */
#ifndef MLA_ALLOC_INTERNAL_H
#define MLA_ALLOC_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "sizeclass.h"
#include "types.h"

/* ---- glue: locks and time ---- */
typedef pthread_mutex_t mla_lock;
#define MLA_LOCK_INIT PTHREAD_MUTEX_INITIALIZER
static inline void mla_lock_take(mla_lock *l) { pthread_mutex_lock(l); }
static inline void mla_lock_drop(mla_lock *l) { pthread_mutex_unlock(l); }
uint64_t mla__now_ms(void);

/* ---- os.c: the only file that calls brk, mmap, munmap, madvise ---- */
void *mla__os_brk_segment(size_t size, int *ret_from);  /* aligned to size */
void *mla__os_map_aligned(size_t size, size_t align);   /* NULL on failure */
void *mla__os_map(size_t size);
void mla__os_unmap(void *p, size_t size);
void mla__os_purge(void *p, size_t size);               /* MADV_DONTNEED */
uintptr_t mla__os_brk_top(void);                        /* end of our top brk segment handed out, else 0 (no syscall) */
bool mla__os_brk_release(void *seg, size_t size);       /* lower the break to seg if seg is the top segment */
void *mla__os_map_named(size_t size, bool name);        /* for the published region */
void *mla__os_move(void *p, size_t old_size, size_t new_size, size_t align);
void mla__os_atfork(int phase);
struct mla_os_info { uintptr_t brk_start, brk_end; bool brk_failed; };
void mla__os_info(struct mla_os_info *ret);
void *mla__os_reserve(size_t len, bool rw, const char *name);   /* NORESERVE, named */
int mla__os_protect(void *p, size_t len, bool rw);
int mla__os_guard(void *p, size_t len, bool install);          /* MADV_GUARD_*: 0 or -errno */
extern bool mla__os_no_brk;   /* MLALLOC_NO_BRK=1: skip brk */
extern bool mla__pub_unnamed; /* MLALLOC_PUB_UNNAMED=1: do not name the region */

/* ---- globals ---- */
extern _Atomic uint8_t mla__segmap[MLA_SEGMAP_LEN];
extern struct mla_keys mla__keys;
extern uint64_t mla__decay_ms;
extern mla_page mla__page_empty;
extern mla_heap mla__heap_empty;
/* The thread's allocator state, one initial-exec TLS block (nothing is
 * allocated on first access): heap (&mla__heap_empty until the thread's
 * first slow path) and the sampled mode's countdown (guard.c), so that
 * malloc's fast path finds both by one GOT load. */
struct mla_tls {
	mla_heap *heap;
	intptr_t sample_left;
};
extern __thread struct mla_tls mla__tls __attribute__((tls_model("initial-exec")));

/* ---- free-list links and canaries (types.h, "Free blocks") ---- */

static inline uintptr_t mla_rotl(uintptr_t x, unsigned k) { return (x << k) | (x >> (64 - k)); }

/* The canary of the free block b of the span page. */
static inline uintptr_t mla_canary(const mla_page *page, const mla_block *b) { return page->key ^ (uintptr_t)b; }

/* Store next (NULL or a block of b's span) as b's link; key is keys.link
 * (the fast paths read the thread heap's copy, on a line they load anyway). */
static inline void mla_link_set_k(mla_block *b, const mla_block *next, uintptr_t key)
{
	b->link = mla_rotl((uintptr_t)next ^ (uintptr_t)b ^ key, 64 - MLA_LINK_ROT);
}

static inline void mla_link_set(mla_block *b, const mla_block *next) { mla_link_set_k(b, next, mla__keys.link); }

/* The link of b decoded, unchecked: see mla_link_ok. */
static inline mla_block *mla_link_get_k(const mla_block *b, uintptr_t key)
{
	return (mla_block *)(mla_rotl(b->link, MLA_LINK_ROT) ^ (uintptr_t)b ^ key);
}

static inline mla_block *mla_link_get(const mla_block *b) { return mla_link_get_k(b, mla__keys.link); }

/* Whether a decoded link may be followed: NULL, or a carved block of page
 * (inside [start, start + limit), limit = capacity * block_size, at a
 * multiple of block_size from start).  One multiply, no division. */
static inline bool mla_link_ok(const mla_page *page, const mla_block *next)
{
	uintptr_t off = (uintptr_t)next - (uintptr_t)page->start;
	return !next || (off < page->limit && mla_divisible((uint32_t)off, page->div_magic));
}

/* A span's live blocks and its full flag, both kept in `used` (types.h). */
static inline uint32_t mla_page_used(const mla_page *page) { return page->used & ~MLA_USED_FULL; }
static inline bool mla_page_in_full(const mla_page *page) { return page->used & MLA_USED_FULL; }

/* A local free's `--used`, true when the span empties or is in_full: the
 * old value, as int32_t, is <= 1 (types.h).  On x86-64 one `subl` and a
 * `jle` on its flags, which compilers do not fuse from the C (they keep
 * the new value for a test of their own). */
static inline bool mla_page_drop_used(mla_page *page)
{
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 11)   /* asm goto with outputs */
	__asm__ goto("subl $1, %0\n\tjle %l[slow]" : "+m"(page->used) : : "cc" : slow);
	return false;
slow:
	return true;
#else
	return (int32_t)page->used-- <= 1;
#endif
}

/* ---- error.c ---- */
enum mla_fault {
	MLA_FAULT_FOREIGN,     /* not memory mlalloc handed out */
	MLA_FAULT_INTERIOR,    /* inside a block, not its start */
	MLA_FAULT_FREE_SPAN,   /* into a segment page that is not in use */
	MLA_FAULT_DOUBLE,      /* block already free */
	MLA_FAULT_LARGE_DOUBLE,
	MLA_FAULT_CORRUPT,     /* metadata damaged */
	MLA_FAULT_FREE_LIST,   /* a free block's link is not a block of its span */
	MLA_FAULT_FREE_BLOCK,  /* a free block's canary is overwritten */
	MLA_FAULT_DOUBLE_WRITTEN,  /* double free of a block written while free */
	MLA_FAULT_FREE_LINK_INSIDE,  /* a free list leads inside a block of its span */
	MLA_FAULT_FREE_LINK_OUTSIDE, /* a free list leads out of its span (into its segment) */
};
_Noreturn void mla__fatal(enum mla_fault fault, const char *func, const void *p,
                         const void *block, size_t block_size);
void mla__init_once(void);

/* ---- segment.c ---- */
mla_segment *mla__segment_new(mla_heap *heap);
mla_page *mla__span_alloc(mla_heap *heap, size_t pages, bool grow);
bool mla__span_extend(mla_page *head, size_t pages);
mla_page *mla__span_slide(mla_page *head, size_t pages);
void mla__span_free(mla_heap *heap, mla_page *page);
void mla__segment_purge(mla_segment *seg, uint64_t now, bool force);
void mla__segment_purge_pages(mla_segment *seg, uint64_t pages);   /* free ones, now */
void mla__segment_abandon(mla_segment *seg);
void mla__segment_repair(mla_segment *seg);   /* owner died mid-operation (fork child) */
mla_segment *mla__segment_adopt(mla_heap *heap);
void mla__segment_pool_purge(uint64_t now, bool force);   /* and give idle segments back */
void mla__segment_atfork(int phase);
void mla__segmap_set(uintptr_t base, size_t size, enum mla_hdr_kind kind);   /* MLA_KIND_NONE: off */

/* Header of the segment or large block holding p, or NULL if not ours. */
static inline void *mla__hdr_of(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	if (mla_unlikely(a >> MLA_ADDR_BITS))
		return NULL;
	size_t i = a >> MLA_SEG_SHIFT;
	uint8_t k = atomic_load_explicit(&mla__segmap[i], memory_order_relaxed);
	if (mla_likely(k - 1u < MLA_KIND_LARGE))   /* MLA_KIND_SEGMENT or MLA_KIND_LARGE */
		return (void *)(i << MLA_SEG_SHIFT);
	if (k == MLA_KIND_NONE)
		return NULL;
	extern void *mla__hdr_walk(size_t i);
	return mla__hdr_walk(i);
}

/* The head of the span holding p in seg.  The byte offset of p's page
 * descriptor is taken from p's bits by one shift and one mask (descriptors
 * are 128 bytes), and the head's address by one subtraction. */
static inline mla_page *mla__page_of(mla_segment *seg, const void *p)
{
	_Static_assert(sizeof(mla_page) == (size_t)1 << 7, "mla_page is 128 bytes");
	uintptr_t off = ((uintptr_t)p >> (MLA_PAGE_SHIFT - 7)) & ((MLA_SEG_PAGES - 1) << 7);
	mla_page *pg = (mla_page *)((uint8_t *)seg->pages + off);
	return (mla_page *)((uint8_t *)pg - ((uintptr_t)pg->head_off << 7));
}

/* ---- page.c ---- */
MLA_COLD _Noreturn void mla__page_pop_fatal(mla_page *page, mla_block *b);

/* Take the first block of page->free (not empty) for malloc: its canary
 * and its link are checked, so a block written while free (an overflow
 * from the block before it, a write after free) aborts here rather than
 * handing out the address it was made to hold. */
static inline mla_block *mla__page_pop(mla_heap *heap, mla_page *page)
{
	mla_block *b = page->free;
	/* next ^ b, straight from the link: below MLA_SEG_SIZE - 16 when next
	 * is in b's segment with room for its two words (types.h, "Free
	 * blocks"); equal to b when next is NULL, which is the rare case. */
	uintptr_t x = mla_rotl(b->link, MLA_LINK_ROT) ^ heap->link_key;
	if (mla_unlikely(b->key != mla_canary(page, b) || (x > MLA_SEG_SIZE - 16 && x != (uintptr_t)b)))
		mla__page_pop_fatal(page, b);
	page->free = (mla_block *)(x ^ (uintptr_t)b);
	b->key = 0;
	return b;
}

void mla__page_init(mla_page *page, unsigned cls);
void mla__page_rekey(mla_page *page);     /* a new span key: the span changes class */
bool mla__page_collect(mla_page *page);   /* true if page->free is non-empty after */
uint32_t mla__page_collect_remote(mla_page *page);
bool mla__page_holds_free(mla_page *page, mla_block *b, bool walk_remote);
void mla__page_repair(mla_page *page);   /* owner died mid-operation (fork child) */

/* ---- heap.c ---- */
void *mla__malloc_slow(size_t size);
void *mla__malloc_aligned(size_t size, size_t align);
void mla__free_slow(void *p, const char *func);
void mla__free_remote(mla_segment *seg, mla_page *page, mla_block *b);
void mla__free_local_slow(mla_heap *heap, mla_page *page);
void *mla__realloc_grow(mla_segment *seg, void *p, size_t size);
uint64_t mla__realloc_leaving(mla_segment *seg, void *p, size_t usable);
mla_heap *mla__heap_init_thread(void);
void mla__heap_purge(mla_heap *heap, bool force);
void mla__heap_tick(void);
void mla__heap_atfork(int phase);
size_t mla__usable_size(const void *p, const char *func);

/* ---- large.c ---- */
void *mla__large_alloc(size_t size, size_t align, bool zero);
void mla__large_free(mla_large *lg, const void *p, const char *func);
void *mla__large_realloc(mla_large *lg, void *p, size_t size);
void mla__large_purge(uint64_t now, bool force);
void mla__large_atfork(int phase);

/* ---- introspect.c ---- */
struct mlalloc_pub_header *mla__pub(void);     /* NULL if it could not be mapped */
struct mlalloc_pub_heap *mla__pub_heap_slot(int tid);
void mla__pub_heap_release(struct mlalloc_pub_heap *slot);
int mla__pub_seg_slot(void);                   /* -1 if none */
uint32_t mla__pub_large_slot(void);            /* UINT32_MAX if none */
void mla__pub_large_release(uint32_t index);
void mla__pub_seg_write(mla_segment *seg, uint32_t state);
void mla__pub_seg_release(uint8_t from, uint16_t index, size_t resident);   /* segment given back */
void mla__pub_begin(void);                     /* takes the header seqlock */
void mla__pub_end(void);
void mla__pub_atfork(int phase);

/* ---- guard.c: the checking mode (MLALLOC_CHECK) ---- */
enum { MLA_CHECK_OFF = 0, MLA_CHECK_FULL = 1, MLA_CHECK_SAMPLE = 2 };
extern uint8_t mla__check_mode;     /* set once at init, never changed */
extern size_t mla__fast_lim;        /* malloc's fast path serves size < this: 0 in full check mode */
void mla__check_init(const char *spec);
void *mla__check_malloc(size_t size, size_t align, bool zero);
bool mla__check_free(void *p, const char *func);      /* false: not a checked block */
void *mla__check_realloc(void *p, size_t size);
bool mla__check_usable(const void *p, size_t *ret_size);
void mla__check_atfork(int phase);
struct mla_live { uintptr_t user; size_t size; const uintptr_t *bt; unsigned depth; };
size_t mla__check_live_each(void (*fn)(const struct mla_live *b, void *arg), void *arg);
void mla__leaks_report(void);                         /* leaks.c: scan and report, at exit */
void mla__leaks_print(struct mlalloc_leak_report *r); /* error.c: publish, and print if any */
uintptr_t mla__maps_end_of(uintptr_t a);              /* error.c: end of the mapping holding a, else a */
void *mla__malloc_plain(size_t size);                 /* heap.c: malloc without the check */
void *mla__realloc_plain(void *p, size_t size);       /* api.c */

void *mla__check_malloc_slow(size_t size);            /* malloc's slow path in check mode */

/* ---- sample.c: sampled mode's pool of guarded slots ---- */
size_t mla__sample_init(void *at, bool underflow, bool use_mprotect);   /* bytes taken at at */
void *mla__sample_alloc(size_t size, size_t align, bool zero);   /* NULL: not here */
bool mla__sample_free(void *p, const char *func);        /* false: not a pool block */
bool mla__sample_usable(const void *p, size_t *ret_size);
bool mla__sample_fault(uintptr_t a, uint32_t access);     /* true: reported */
size_t mla__sample_live_each(void (*fn)(const struct mla_live *b, void *arg), void *arg);
void mla__sample_atfork(int phase);

/* ---- backtrace.c: the checking mode's backtraces ---- */
void mla__backtrace_init(void);
uint8_t mla__backtrace(uintptr_t *out);               /* MLALLOC_CHECK_DEPTH slots; returns the count */
uint32_t mla__backtrace_id(void);                     /* the same, stored in the depot: its id */
void mla__backtrace_stats(void);                      /* ",stats": the walks, on stderr */
extern bool mla__bt_stats;
extern __thread bool mla__in_unwind __attribute__((tls_model("initial-exec")));   /* a DWARF walk is running */

/* ---- depot.c: the checking mode's stack depot (backtraces by id) ---- */
int mla__depot_init(void);                            /* 0 or -ENOMEM (then every id is 0) */
uint32_t mla__depot_put(const uintptr_t *f, unsigned depth);   /* 0: none stored */
const uintptr_t *mla__depot_get(uint32_t id, unsigned *ret_depth);

/* A bug the checking mode found, for mla__check_report (error.c). */
struct mla_check_fault {
	uint32_t kind, access;       /* enum mlalloc_check_kind / _access */
	uintptr_t addr, block;
	size_t size;
	const uintptr_t *bt_alloc, *bt_free;
	unsigned depth_alloc, depth_free;
	const char *func;            /* the call that found it, or NULL (a fault) */
	const char *how;             /* how it was found, for the message, or NULL */
};
void mla__check_report(const struct mla_check_fault *f);   /* message + published record */

/* Atfork phases. */
enum { MLA_FORK_PREPARE, MLA_FORK_PARENT, MLA_FORK_CHILD };
/* A lock's part in a fork: taken before it, dropped after it in the
 * parent, made anew in the child (its holder may not live there).  True
 * in the child, where the caller has its own state to mend. */
static inline bool mla_lock_atfork(mla_lock *l, int phase)
{
	if (phase == MLA_FORK_PREPARE)
		mla_lock_take(l);
	else if (phase == MLA_FORK_PARENT)
		mla_lock_drop(l);
	else
		pthread_mutex_init(l, NULL);
	return phase == MLA_FORK_CHILD;
}

#endif
