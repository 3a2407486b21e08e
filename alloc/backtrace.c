/* SPDX-License-Identifier: MIT */
/* backtrace.c: the checking mode's backtraces (guard.c), exact and cheap.
 *
 * libgcc's DWARF unwinder (_Unwind_Backtrace) is exact but costs a few
 * microseconds a walk: FDE lookup, CIE parsing and the CFA program of
 * every frame, every time (85 % of full mode's time on cfrac).  Yet what
 * it finds for a return address never changes: at a given return address
 * a frame is either one with a frame pointer (CFA = rbp + 16, the
 * caller's rbp saved at CFA - 16) or one of a fixed size (CFA = the
 * callee's CFA + a constant) that leaves rbp alone; only alloca, dynamic
 * realignment and signal frames are neither, and those set rbp up or are
 * told apart (below).  So each return address is learned once from a
 * DWARF walk, checked against the stack (the return address must sit at
 * CFA - 8, a frame pointer's saved rbp at CFA - 16, a fixed-size frame
 * must leave rbp as it was), and cached; later walks that meet only cached
 * addresses read the stack with a few loads a frame and call nothing.  An
 * address DWARF could not vouch for (a signal frame, a frame that keeps
 * another value in rbp, a frame over 128 KiB) is cached as BAD, and a walk
 * that meets it, or an address not yet cached, is a DWARF walk (which
 * learns).  This is libunwind's per-address cache reduced to the two
 * shapes the x86-64 ABI's call sites take; a frame-pointer walk alone
 * loses the caller of any function built without frame pointers (the
 * C++ operator new of libstdc++ among them).
 *
 * Full mode stores its backtraces in the depot (depot.c) by id, through
 * mla__backtrace_id, which first asks the thread's memo: its last four
 * fast walks, each with its start (return address, CFA, rbp) and the stack
 * words its result depends on (the return addresses read, and a saved rbp
 * only where a frame-pointer frame used it).  A walk from the same start
 * that finds those words unchanged would find the same frames: the memo
 * answers its id after independent loads, where a walk is a chain of
 * dependent ones (cfrac: 20 M of 20 M walks, full mode 1.38 s -> 0.79 s).
 *
 * Bounds: a fast walk reads only [its own frame, the stack's top): a
 * thread's top is its descriptor (glibc puts it above the stack), the
 * main thread's __libc_stack_end; a stack that is neither (an alternate
 * signal stack, a coroutine's) is walked by DWARF.  CFAs must grow.  The
 * cache: 64 Ki words (ra << 16 | shape), open addressing, 8 probes,
 * inserted by compare-and-swap, never removed (a library unloaded and
 * another mapped at its addresses could meet stale shapes: the walk's
 * bounds still hold).  The DWARF walk may allocate (libgcc's first FDE
 * lookup of an object): mla__in_unwind then serves it unchecked.
 * x86-64 only: elsewhere every walk is a DWARF walk. */
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <unwind.h>

#include "internal.h"

#define DEPTH      MLALLOC_CHECK_DEPTH
#define MAXF       (DEPTH + 24)          /* frames a walk looks at, mlalloc's included */
#define CACHE_BITS 16
#define PROBES     8
#define DELTA_MAX  ((uintptr_t)1 << 17)   /* 15 bits of words */

/* A frame's shape, the value cached for its return address:
 * VALID | kind | delta / 8 << 2 | slot / 8 << 17: S_SP frames are delta
 * bytes, and keep the caller's rbp in rbp (slot 0) or at CFA - slot. */
enum { S_BAD = 0, S_FP = 1, S_SP = 2, S_END = 3 };
#define VALID      (1u << 31)

static _Atomic uintptr_t keys[(size_t)1 << CACHE_BITS];
static _Atomic uint32_t vals[(size_t)1 << CACHE_BITS];   /* 0: being written */
static uintptr_t self_lo, self_hi;   /* mlalloc's text, left out of backtraces */
__thread bool mla__in_unwind __attribute__((tls_model("initial-exec")));
bool mla__bt_stats;                   /* count the walks (",stats") */
static _Atomic uint64_t mla__bt_walks[3];   /* [0] fast, [1] DWARF, [2] memo, with mla__bt_stats */

extern void *__libc_stack_end;

static bool in_self(uintptr_t ip) { return ip >= self_lo && ip < self_hi; }

static size_t slot_of(uintptr_t ra)
{
	return (size_t)((ra * 0x9e3779b97f4a7c15ull) >> (64 - CACHE_BITS));
}

/* The shape cached for ra, or 0. */
static uint32_t lookup(uintptr_t ra)
{
	size_t s = slot_of(ra);
	for (unsigned i = 0; i < PROBES; i++) {
		size_t at = (s + i) & ((1u << CACHE_BITS) - 1);
		uintptr_t k = atomic_load_explicit(&keys[at], memory_order_acquire);
		if (!k)
			return 0;
		if (k == ra)
			return atomic_load_explicit(&vals[at], memory_order_acquire);
	}
	return 0;
}

/* Cache v for ra (the first to claim a slot writes it). */
static void learn(uintptr_t ra, uint32_t v)
{
	size_t s = slot_of(ra);
	for (unsigned i = 0; i < PROBES && ra; i++) {
		size_t at = (s + i) & ((1u << CACHE_BITS) - 1);
		uintptr_t old = 0;
		if (atomic_compare_exchange_strong_explicit(&keys[at], &old, ra, memory_order_acq_rel, memory_order_acquire)) {
			atomic_store_explicit(&vals[at], v | VALID, memory_order_release);
			return;
		}
		if (old == ra)
			return;
	}
}

/* The top of the stack holding sp, or 0 if it is not a thread's. */
static uintptr_t stack_top(uintptr_t sp)
{
	uintptr_t tp = (uintptr_t)pthread_self(), main = (uintptr_t)__libc_stack_end;
	if (sp < tp && tp - sp < ((uintptr_t)1 << 30))
		return tp;
	if (sp < main && main - sp < ((uintptr_t)1 << 30))
		return main;
	return 0;
}

/* ---- the DWARF walk, which learns ---- */

struct frames {
	unsigned n;
	bool ended;                  /* the unwinder found the outermost frame */
	uintptr_t ip[MAXF], sp[MAXF], rbp[MAXF], start[MAXF];   /* sp: _Unwind_GetCFA */
	bool sig[MAXF];
};

static _Unwind_Reason_Code dw_frame(struct _Unwind_Context *ctx, void *arg)
{
	struct frames *f = arg;
	if (f->n >= MAXF)
		return _URC_END_OF_STACK;
	int before = 0;
	uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
	if (!ip) {
		f->ended = true;
		return _URC_END_OF_STACK;
	}
	f->ip[f->n] = ip;
	f->sp[f->n] = _Unwind_GetCFA(ctx);
#if defined(__x86_64__)
	f->rbp[f->n] = _Unwind_GetGR(ctx, 6);
#endif
	f->start[f->n] = _Unwind_GetRegionStart(ctx);
	f->sig[f->n] = before != 0;
	f->n++;
	return _URC_NO_REASON;
}

/* The slot of the frame [lo, hi) holding v, if exactly one does: its
 * distance below hi in words; 0 if none, -1 if several.  Only the six
 * slots under the return address are looked at: the prologue pushes the
 * callee-saved registers (rbp among them) there. */
static int slot_holding(uintptr_t lo, uintptr_t hi, uintptr_t v)
{
	int found = 0;
	if (lo < hi - 56)
		lo = hi - 56;
	for (uintptr_t a = hi - 16; a >= lo && a < hi; a -= 8) {
		if (*(const uintptr_t *)a != v)
			continue;
		if (found)
			return -1;
		found = (int)((hi - a) / 8);
	}
	return found;
}

/* The length of the instruction at c if it is one a prologue mixes in
 * with its pushes and it leaves rsp alone (mov of an immediate, a
 * register-to-register mov, xor, test, cmp, add or sub, lea, an SSE
 * register zeroed), else 0. */
static unsigned plain_insn(const uint8_t *c)
{
	unsigned j = c[0] == 0x66;   /* pxor, xorps, xorpd of two xmm registers (git's prologues) */
	j += (c[j] & 0xf0) == 0x40;
	if (c[j] == 0x0f && (c[j + 1] == 0xef || c[j + 1] == 0x57) && (c[j + 2] >> 6) == 3)
		return j + 3;
	unsigned rex = (c[0] & 0xf0) == 0x40 ? c[0] : 0, i = rex ? 1 : 0;
	uint8_t op = c[i];
	if (op >= 0xb8 && op <= 0xbf)
		return i + ((rex & 8) ? 9 : 5);
	if (op == 0x8d) {   /* lea: any address form, a destination other than rsp */
		uint8_t m = c[i + 1];
		unsigned mod = m >> 6, rm = m & 7, len = i + 2;
		if (mod == 3 || (((m >> 3) & 7) == 4 && !(rex & 4)))
			return 0;
		if (rm == 4)
			len += (mod == 0 && (c[i + 2] & 7) == 5) ? 5 : 1;   /* SIB, and its disp32 */
		else if (mod == 0 && rm == 5)
			len += 4;                                         /* rip + disp32 */
		return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
	}
	static const uint8_t rr[] = { 0x01, 0x29, 0x31, 0x33, 0x39, 0x3b, 0x85, 0x89, 0x8b };
	for (unsigned k = 0; k < sizeof(rr); k++) {
		if (op != rr[k])
			continue;
		uint8_t m = c[i + 1];
		if ((m >> 6) != 3 || ((m & 7) == 4 && !(rex & 1)) || (((m >> 3) & 7) == 4 && !(rex & 4)))
			return 0;
		return i + 2;
	}
	return 0;
}

/* Where the function at start saved its caller's rbp, read from its
 * prologue: an optional endbr64, then pushes (rbx, rbp, r12-r15...) with
 * plain instructions between them; push rbp as the n-th push (from 0)
 * puts it n + 2 words below the CFA.  0 if the function does not begin
 * that way (a shrink-wrapped prologue, anything else). */
static int slot_by_prologue(uintptr_t start)
{
	const uint8_t *c = (const uint8_t *)start;
	if (!start)
		return 0;
	unsigned i = c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa ? 4 : 0;
	int pushes = 0;
	for (unsigned n = 0; n < 24 && pushes < 8; n++) {
		unsigned len;
		if (c[i] == 0x55)
			return 2 + pushes;
		if (c[i] >= 0x50 && c[i] <= 0x57 && c[i] != 0x54) {
			pushes++;
			i++;
		} else if (c[i] == 0x41 && c[i + 1] >= 0x50 && c[i + 1] <= 0x57) {
			pushes++;
			i += 2;
		} else if ((len = plain_insn(c + i)) != 0) {
			i += len;
		} else {
			return 0;
		}
	}
	return 0;
}

/* The shape of frame k, from what DWARF found for it and its caller.
 * libgcc's _Unwind_GetCFA of a frame is its stack pointer, the CFA of the
 * frame below: frame k's own CFA is sp[k + 1]. */
static void learn_frame(const struct frames *f, unsigned k)
{
#if defined(__x86_64__)
	if (k + 1 >= f->n) {
		if (f->ended && !f->sig[k])
			learn(f->ip[k], S_END);
		return;
	}
	uintptr_t cfa = f->sp[k + 1], delta = cfa - f->sp[k];
	const uintptr_t *top = (const uintptr_t *)cfa;
	if (f->sig[k] || f->sig[k + 1] || top[-1] != f->ip[k + 1] || cfa <= f->sp[k] ||
	    delta >= DELTA_MAX || (delta & 7)) {
		learn(f->ip[k], S_BAD);
		return;
	}
	if (cfa == f->rbp[k] + 16 && top[-2] == f->rbp[k + 1]) {
		learn(f->ip[k], S_FP);
		return;
	}
	int slot = 0;
	if (f->rbp[k + 1] != f->rbp[k]) {
		slot = slot_by_prologue(f->start[k]);
		if (!slot || cfa - (uintptr_t)slot * 8 < f->sp[k] || top[-slot] != f->rbp[k + 1])
			slot = slot_holding(f->sp[k], cfa, f->rbp[k + 1]);
	}
	bool last = k + 2 == f->n && f->ended;   /* the caller is the outermost frame */
	if (slot <= 0 && last)
		slot = 0;   /* whose rbp is not used */
	else if (slot < 0)
		return;     /* the caller's rbp twice in the frame: learn it another time */
	if (slot == 0 && f->rbp[k + 1] != f->rbp[k] && !last)
		learn(f->ip[k], S_BAD);
	else
		learn(f->ip[k], S_SP | (uint32_t)(delta / 8) << 2 | (uint32_t)slot << 17);
#else
	(void)f;
	(void)k;
#endif
}

/* Frames from the one whose ip is ra (the caller of mla__backtrace) on:
 * learned, and mlalloc's own at the start left out of out. */
static MLA_NOINLINE unsigned walk_dwarf(uintptr_t ra, uintptr_t *out)
{
	struct frames f;
	f.n = 0;
	f.ended = false;
	mla__in_unwind = true;
	_Unwind_Backtrace(dw_frame, &f);
	mla__in_unwind = false;
	if (mla__bt_stats)
		atomic_fetch_add_explicit(&mla__bt_walks[1], 1, memory_order_relaxed);
	unsigned j = 1;
	while (j < f.n && f.ip[j] != ra)
		j++;
	if (j >= f.n)
		j = 0;   /* not found: keep every frame, learn none */
	unsigned n = 0;
	for (unsigned k = j; k < f.n && n < DEPTH; k++) {
		if (j)
			learn_frame(&f, k);
		if (n || !in_self(f.ip[k]))
			out[n++] = f.ip[k];
	}
	return n;
}

/* ---- the fast walk: cached shapes only ---- */

/* A walk's start and the stack words its result depends on (see the memo,
 * below): every return address read, and a saved rbp only where a
 * frame-pointer frame used it (code built without frame pointers keeps
 * any value in rbp: a loop counter would make every walk look new). */
#define MEMO_READS 48
struct memo {
	uintptr_t ra, cfa, rbp;          /* rbp: 0 if the walk did not use it */
	uint32_t id, n;                  /* depot id; words noted (> MEMO_READS: too many) */
	uint64_t used;                   /* walk_fast: bit i, word i matters */
	uintptr_t at[MEMO_READS], val[MEMO_READS];
};
#define RBP_START  (-1)               /* rbp is still the walk's first one */

/* The word at a, noted in m if there is one, as the n-th (or -2). */
static inline uintptr_t read_word(struct memo *m, uintptr_t a, int *ret_n)
{
	uintptr_t v = *(const uintptr_t *)a;
	*ret_n = -2;
	if (m) {
		if (m->n < MEMO_READS) {
			m->at[m->n] = a;
			m->val[m->n] = v;
			*ret_n = (int)m->n;
		}
		m->n++;
	}
	return v;
}

/* The word noted as n matters (RBP_START: the first rbp). */
static inline void memo_use(struct memo *m, int n)
{
	if (m && n >= 0)
		m->used |= (uint64_t)1 << n;
	else if (m && n == RBP_START)
		m->used |= (uint64_t)1 << 63;   /* bit 63 is never a word's: MEMO_READS < 63 */
}

/* Frames from ra on, given the CFA of its callee and the rbp of its
 * frame; -1 at the first frame whose shape is not cached (or is BAD), or
 * when a CFA leaves (cfa, hi].  The words read are noted in m (or NULL). */
static int walk_fast(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t hi, uintptr_t *out, struct memo *m)
{
	unsigned n = 0;
	int rbp_at = RBP_START, at;
	for (unsigned k = 0; k < MAXF; k++) {
		if (n || !in_self(ra)) {
			out[n++] = ra;
			if (n == DEPTH)
				return (int)n;
		}
		uint32_t s = lookup(ra);
		uintptr_t next;
		switch (s & (VALID | 3)) {
		case VALID | S_END:
			return (int)n;
		case VALID | S_FP:
			memo_use(m, rbp_at);
			next = rbp + 16;
			if (next <= cfa || next > hi || (next & 7))
				return -1;
			rbp = read_word(m, next - 16, &rbp_at);
			break;
		case VALID | S_SP:
			next = cfa + (uintptr_t)(s >> 2 & 0x7fff) * 8;
			if (next > hi)
				return -1;
			if (s >> 17 & 0x3fff)
				rbp = read_word(m, next - (uintptr_t)(s >> 17 & 0x3fff) * 8, &rbp_at);
			break;
		default:
			return -1;
		}
		ra = read_word(m, next - 8, &at);
		memo_use(m, at);
		cfa = next;
	}
	return -1;
}

/* The backtrace of the calling thread, at most DEPTH return addresses,
 * mlalloc's own frames at the start left out.  __builtin_frame_address
 * gives this function a frame pointer: its caller's return address, CFA
 * and rbp are read from it. */
MLA_NOINLINE uint8_t mla__backtrace(uintptr_t *out)
{
	const uintptr_t *fp = __builtin_frame_address(0);
	uintptr_t ra = fp[1];
#if defined(__x86_64__)
	uintptr_t hi = stack_top((uintptr_t)fp);
	if (hi) {
		int n = walk_fast(ra, (uintptr_t)(fp + 2), fp[0], hi, out, NULL);
		if (n >= 0) {
			if (mla__bt_stats)
				atomic_fetch_add_explicit(&mla__bt_walks[0], 1, memory_order_relaxed);
			return (uint8_t)n;
		}
	}
#endif
	return (uint8_t)walk_dwarf(ra, out);
}

/* ---- the memo: a thread's last walks, checked instead of redone ---- */

/* A fast walk is a function of its start (ra, CFA, rbp), of the cached
 * shapes (never changed once learned) and of the stack words it reads.  A
 * thread keeps its last MEMO_WAYS walks' starts, words read and depot ids:
 * a walk from the same start that finds every one of those words as it
 * was has the same frames, and the same id.  The check is independent
 * loads at known addresses, where the walk is a chain of dependent ones
 * (each frame's shape decides where the next is read): on cfrac it
 * answers most walks in a few cycles. */
#define MEMO_WAYS 4
static __thread struct memo memo[MEMO_WAYS] __attribute__((tls_model("initial-exec")));
static __thread unsigned memo_next __attribute__((tls_model("initial-exec")));

static uint32_t memo_find(uintptr_t ra, uintptr_t cfa, uintptr_t rbp)
{
	for (unsigned w = 0; w < MEMO_WAYS; w++) {
		const struct memo *m = &memo[w];
		if (m->ra != ra || m->cfa != cfa || (m->rbp && m->rbp != rbp) || !m->id)
			continue;
		uintptr_t diff = 0;
		for (unsigned i = 0; i < m->n; i++)
			diff |= *(const uintptr_t *)m->at[i] ^ m->val[i];
		if (!diff)
			return m->id;
	}
	return 0;
}

/* Keep the walk m (its words that matter) in the next way. */
static void memo_keep(const struct memo *m)
{
	struct memo *to = &memo[memo_next++ % MEMO_WAYS];
	to->id = 0;   /* a signal handler's walk meanwhile sees no half-written way */
	to->ra = m->ra, to->cfa = m->cfa, to->n = 0;
	to->rbp = m->used >> 63 ? m->rbp : 0;
	if (m->used >> 63 && !m->rbp)
		return;   /* a walk that used rbp 0 is not kept */
	for (unsigned i = 0; i < m->n; i++) {
		if (!(m->used >> i & 1))
			continue;
		to->at[to->n] = m->at[i];
		to->val[to->n++] = m->val[i];
	}
	to->id = m->id;
}

/* The calling thread's backtrace (as mla__backtrace), stored in the depot
 * (depot.c): its id, 0 if the depot could not store it. */
MLA_NOINLINE uint32_t mla__backtrace_id(void)
{
	const uintptr_t *fp = __builtin_frame_address(0);
	uintptr_t ra = fp[1], cfa = (uintptr_t)(fp + 2), rbp = fp[0], out[DEPTH];
#if defined(__x86_64__)
	uint32_t id = memo_find(ra, cfa, rbp);
	if (id) {
		if (mla__bt_stats)
			atomic_fetch_add_explicit(&mla__bt_walks[2], 1, memory_order_relaxed);
		return id;
	}
	uintptr_t hi = stack_top(cfa);
	struct memo m;
	m.ra = ra, m.cfa = cfa, m.rbp = rbp, m.n = 0, m.used = 0;
	int n = hi ? walk_fast(ra, cfa, rbp, hi, out, &m) : -1;
	if (n >= 0) {
		if (mla__bt_stats)
			atomic_fetch_add_explicit(&mla__bt_walks[0], 1, memory_order_relaxed);
		m.id = mla__depot_put(out, (unsigned)n);
		if (m.id && m.n <= MEMO_READS)
			memo_keep(&m);
		return m.id;
	}
#endif
	unsigned k = walk_dwarf(ra, out);
	return mla__depot_put(out, k);
}

/* The text of the object holding this file, unless it is the main
 * program (a static link: then nothing is left out). */
static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uintptr_t me = (uintptr_t)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD || me < lo || me >= lo + ph->p_memsz)
			continue;
		if (info->dlpi_name && info->dlpi_name[0]) {
			self_lo = lo;
			self_hi = lo + ph->p_memsz;
		}
		return 1;
	}
	return 0;
}

void mla__backtrace_init(void)
{
	dl_iterate_phdr(find_self, (void *)(uintptr_t)&mla__backtrace_init);
}

/* ",stats": how many walks were fast and how many DWARF, one line on
 * stderr at exit (for tests and for tuning; no allocation). */
void mla__backtrace_stats(void)
{
	char buf[192], *p = buf + sizeof(buf);
	uint64_t v[3] = { atomic_load(&mla__bt_walks[0]) + atomic_load(&mla__bt_walks[2]),
	                  atomic_load(&mla__bt_walks[1]), atomic_load(&mla__bt_walks[2]) };
	const char *word[3] = { "mlalloc: backtraces: fast ", " dwarf ", "\nmlalloc: backtraces: of the fast, from the memo " };
	*--p = '\n';
	for (int i = 2; i >= 0; i--) {
		uint64_t x = v[i];
		do
			*--p = (char)('0' + x % 10);
		while (x /= 10);
		for (size_t k = strlen(word[i]); k-- > 0;)
			*--p = word[i][k];
	}
	ssize_t r = write(2, p, (size_t)(buf + sizeof(buf) - p));
	(void)r;
}
