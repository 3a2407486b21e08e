/* SPDX-License-Identifier: MIT */
/*
 * crash.c - explain a fatal signal in the terms of the process memory
 * model: which kind of crash it is (a fixed vocabulary), read, write or
 * instruction fetch, the region and section at the fault address or the
 * kind of hole it lies in: facts (struct ml_crash), whose sentence
 * render-crash-words.c writes.
 *
 * Input: a snapshot taken at the signal-delivery-stop (the maps are still
 * those of the fault) and what the tracer read there (struct ml_fault).
 * Order: locate the address through where.c (region and section, or the
 * kind and bounds of the hole: where's hole rules are the only ones),
 * decode the instruction (insn.c), settle the access, then walk the rule
 * table: the first rule whose signal matches and whose test holds gives
 * the kind.  The rules about holes read hole_crash[], which maps each of
 * where's hole kinds to the crash kind it means (and what must hold too).
 * Nothing here makes words or escapes text; nothing reads the tracee except one pagemap entry (is the page a MADV_GUARD
 * guard?) and one stat() of a mapped file (file-truncated).
 */
#include "ml-crash.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NEAR_SP (64ull << 10)          /* a fault this close to sp is the stack's */
#define ABOVE_BRK (16ull << 20)        /* "just above the brk" */

struct ctx {
	const struct ml_snapshot *snap;
	const struct ml_proc *p;
	const struct ml_fault *f;
	struct ml_crash *c;
};

typedef bool (*rule_fn)(const struct ctx *x, enum ml_crash_kind k);

/* The guard of thread stack s: the PROT_NONE mapping right below it
 * that classify.c named its guard, or NULL (guard size 0, or a stack of
 * the program's own). */
static const struct ml_region *stack_guard(const struct ctx *x, const struct ml_region *s)
{
	const struct ml_region *g = s && s->start ? ml_snapshot_find(x->snap, s->start - 1) : NULL;

	return g && g->kind == ML_KIND_GUARD && g->end == s->start ? g : NULL;
}

/* The size of the file mapped by r, or -1. */
static long long mapped_file_size(const struct ctx *x, const struct ml_region *r)
{
	char path[4200];
	struct stat st;

	if (x->snap->core)   /* the file as it is now, under the sysroot */
		snprintf(path, sizeof(path), "%s%s", x->snap->sysroot, r->name);
	else
		snprintf(path, sizeof(path), "%s/map_files/%" PRIx64 "-%" PRIx64,
			 x->snap->proc_dir, r->start, r->end);
	if (stat(path, &st) == 0 || (!x->snap->core && stat(r->name, &st) == 0))
		return (long long)st.st_size;
	return -1;
}

static const char *const kind_names[ML_CRASH__COUNT] = {
	[ML_CRASH_NULL_POINTER]          = "null-pointer",
	[ML_CRASH_STACK_OVERFLOW]        = "stack-overflow",
	[ML_CRASH_THREAD_STACK_OVERFLOW] = "thread-stack-overflow",
	[ML_CRASH_WRITE_READ_ONLY]       = "write-read-only",
	[ML_CRASH_EXEC_NON_EXECUTABLE]   = "exec-non-executable",
	[ML_CRASH_JUMP_UNMAPPED]         = "jump-unmapped",
	[ML_CRASH_KERNEL_SPACE]          = "kernel-space",
	[ML_CRASH_NON_CANONICAL]         = "non-canonical",
	[ML_CRASH_UNMAPPED]              = "unmapped",
	[ML_CRASH_PAST_HEAP_END]         = "past-heap-end",
	[ML_CRASH_NO_ACCESS]             = "no-access",
	[ML_CRASH_FILE_TRUNCATED]        = "file-truncated",
	[ML_CRASH_MISALIGNED]            = "misaligned",
	[ML_CRASH_DIVIDE_BY_ZERO]        = "divide-by-zero",
	[ML_CRASH_ILLEGAL_INSTRUCTION]   = "illegal-instruction",
	[ML_CRASH_BREAKPOINT]            = "breakpoint",
	[ML_CRASH_HEAP_CORRUPTION]       = "heap-corruption",
	[ML_CRASH_STACK_SMASHING]        = "stack-smashing",
	[ML_CRASH_ABORT]                 = "abort",
	[ML_CRASH_SENT]                  = "signal-sent",
};

const char *ml_crash_kind_name(enum ml_crash_kind k)
{
	return (size_t)k < ML_CRASH__COUNT ? kind_names[k] : "?";
}

/* ---- the rules ---- */

/* Messages of glibc's fatal checks, by the kind they mean. */
static const struct {
	const char *needle;
	enum ml_crash_kind kind;
} abort_msgs[] = {
	{ "stack smashing detected", ML_CRASH_STACK_SMASHING },
	{ "free(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "malloc(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "realloc(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "double free", ML_CRASH_HEAP_CORRUPTION },
	{ "corrupted", ML_CRASH_HEAP_CORRUPTION },
	{ "munmap_chunk(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "malloc_consolidate(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "_int_malloc(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "_int_free(): ", ML_CRASH_HEAP_CORRUPTION },
	{ "tcache_thread_shutdown(): ", ML_CRASH_HEAP_CORRUPTION },
};

static enum ml_crash_kind abort_kind(const char *msg)
{
	for (size_t i = 0; msg && i < ML_ARRAY_SIZE(abort_msgs); i++)
		if (strstr(msg, abort_msgs[i].needle))
			return abort_msgs[i].kind;
	return ML_CRASH_ABORT;
}

static bool is_sent(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->code <= 0 && x->c->signo != SIGABRT;
}

static bool always(const struct ctx *x, enum ml_crash_kind k) { (void)x; (void)k; return true; }

/* An abort whose C library message means kind k. */
static bool abort_says(const struct ctx *x, enum ml_crash_kind k)
{
	return abort_kind(x->c->abort_msg) == k;
}

static bool bus_adraln(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->code == BUS_ADRALN;
}

static bool in_region(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->region != NULL;
}

static bool gp_fault(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->code == SI_KERNEL;
}

static bool gp_misaligned(const struct ctx *x, enum ml_crash_kind k)
{
	const struct ml_crash *c = x->c;

	(void)k;
	return c->code == SI_KERNEL && c->have_insn && c->insn.align && c->insn.ea_known &&
	       c->insn.ea % c->insn.align != 0;
}

static bool is_main_thread(const struct ctx *x) { return x->c->tid == x->c->pid; }

static bool near_sp(const struct ctx *x)
{
	uint64_t a = x->c->addr, sp = x->c->sp;

	return sp && (a > sp ? a - sp : sp - a) <= NEAR_SP;
}

/* A general-protection fault: above TASK_SIZE, only a non-canonical
 * address faults so (a canonical one page-faults, with its address). */
static bool is_gp(const struct ctx *x) { return x->c->code == SI_KERNEL; }

static bool near_brk(const struct ctx *x)
{
	return x->p->brk && x->c->addr >= x->p->brk && x->c->addr - x->p->brk < ABOVE_BRK;
}

/* What each of where's hole kinds means for a data access (a fetch from
 * any hole but the NULL zone is jump-unmapped, a rule of its own), and
 * what must hold too (NULL: nothing).  ML_CRASH__COUNT: no kind. */
static const struct {
	enum ml_crash_kind kind;
	bool (*also)(const struct ctx *x);
} hole_crash[ML_HOLE__COUNT] = {
	[ML_HOLE_NONE]         = { ML_CRASH__COUNT, NULL },
	[ML_HOLE_NULL_ZONE]    = { ML_CRASH_NULL_POINTER, NULL },
	[ML_HOLE_BELOW_FIRST]  = { ML_CRASH_UNMAPPED, NULL },
	[ML_HOLE_PRE_HEAP]     = { ML_CRASH_UNMAPPED, NULL },
	[ML_HOLE_HEAP_MMAP]    = { ML_CRASH_PAST_HEAP_END, near_brk },
	[ML_HOLE_STACK_GUARD]  = { ML_CRASH_STACK_OVERFLOW, is_main_thread },
	[ML_HOLE_STACK_REACH]  = { ML_CRASH_STACK_OVERFLOW, is_main_thread },
	[ML_HOLE_BETWEEN]      = { ML_CRASH_UNMAPPED, NULL },
	[ML_HOLE_ABOVE_LAST]   = { ML_CRASH_UNMAPPED, NULL },
	[ML_HOLE_USER_TOP]     = { ML_CRASH_NON_CANONICAL, is_gp },  /* else unmapped */
	[ML_HOLE_NONCANONICAL] = { ML_CRASH_NON_CANONICAL, NULL },
	[ML_HOLE_KERNEL]       = { ML_CRASH_KERNEL_SPACE, NULL },
};

/* The address lies in a hole that means kind k (hole_crash[]). */
static bool hole_says(const struct ctx *x, enum ml_crash_kind k)
{
	const struct ml_crash *c = x->c;

	if (!c->addr_known || c->region || (unsigned int)c->hole >= ML_HOLE__COUNT)
		return false;
	return hole_crash[c->hole].kind == k &&
	       (!hole_crash[c->hole].also || hole_crash[c->hole].also(x));
}

/* Any hole at all (the last word on a data access that found nothing). */
static bool in_hole(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->addr_known && !x->c->region && x->c->hole != ML_HOLE_NONE;
}

/* Main thread, not in a hole below [stack]: sp left the stack (a huge
 * frame or alloca jumped past the guard gap) and the fault is near it. */
static bool sp_left_main_stack(const struct ctx *x, enum ml_crash_kind k)
{
	const struct ml_crash *c = x->c;
	const struct ml_region *s = c->thread_stack;

	(void)k;
	return is_main_thread(x) && c->addr_known && !c->region && s && c->sp < s->start &&
	       near_sp(x);
}

/* Below the thread's own stack (known from its sp, or from where it
 * started: ml_snapshot_mark_stack), in its guard, or in unmapped or
 * PROT_NONE memory that sp already reached or that lies within NEAR_SP
 * of the stack; a MADV_GUARD guard page in the thread's own stack (or
 * near its sp); a PROT_NONE mapping right below a thread stack near sp. */
static bool thread_stack_overflow(const struct ctx *x, enum ml_crash_kind k)
{
	const struct ml_crash *c = x->c;
	const struct ml_region *r = c->region, *s = c->thread_stack;
	bool no_access = r && !(r->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC));

	(void)k;
	if (is_main_thread(x) || !c->addr_known)
		return false;
	if (r && r->kind == ML_KIND_GUARD)
		return true;
	if (r && c->guard_page)
		return r == s || near_sp(x);
	if (s && c->addr < s->start && (!r || no_access) &&
	    ((c->sp < s->start && near_sp(x)) || s->start - c->addr <= NEAR_SP))
		return true;
	if (no_access) {
		const struct ml_region *above = ml_snapshot_find(x->snap, r->end);
		return above && above->kind == ML_KIND_THREAD_STACK && near_sp(x);
	}
	return false;
}

/* A call, jmp or ret to an address where nothing is mapped (the
 * non-canonical hole included). */
static bool bad_branch(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->jump_via && x->c->access == ML_ACCESS_EXEC && !x->c->region &&
	       x->c->addr_known && x->c->hole != ML_HOLE_NULL_ZONE;
}

static bool exec_unmapped(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->access == ML_ACCESS_EXEC && !x->c->region;
}

static bool exec_nx(const struct ctx *x, enum ml_crash_kind k)
{
	(void)k;
	return x->c->access == ML_ACCESS_EXEC && x->c->region &&
	       !(x->c->region->perms & ML_PERM_EXEC);
}

static bool write_ro(const struct ctx *x, enum ml_crash_kind k)
{
	const struct ml_region *r = x->c->region;

	(void)k;
	return x->c->access == ML_ACCESS_WRITE && r && !(r->perms & ML_PERM_WRITE) &&
	       (r->perms & (ML_PERM_READ | ML_PERM_EXEC));
}

/* A PROT_NONE mapping, or a guard page (MADV_GUARD_INSTALL) in any. */
static bool prot_none(const struct ctx *x, enum ml_crash_kind k)
{
	const struct ml_region *r = x->c->region;

	(void)k;
	return r && (!(r->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)) ||
		     x->c->guard_page);
}

/* First match wins; each test is called with the rule's kind.  signo 0:
 * any of the fault signals. */
static const struct rule {
	int signo;
	rule_fn test;
	enum ml_crash_kind kind;
} rules[] = {
	{ 0,       is_sent,               ML_CRASH_SENT },
	{ SIGABRT, abort_says,            ML_CRASH_STACK_SMASHING },
	{ SIGABRT, abort_says,            ML_CRASH_HEAP_CORRUPTION },
	{ SIGABRT, always,                ML_CRASH_ABORT },
	{ SIGFPE,  always,                ML_CRASH_DIVIDE_BY_ZERO },
	{ SIGILL,  always,                ML_CRASH_ILLEGAL_INSTRUCTION },
	{ SIGTRAP, always,                ML_CRASH_BREAKPOINT },
	{ SIGBUS,  bus_adraln,            ML_CRASH_MISALIGNED },
	{ SIGBUS,  in_region,             ML_CRASH_FILE_TRUNCATED },
	{ SIGSEGV, gp_misaligned,         ML_CRASH_MISALIGNED },
	{ SIGSEGV, bad_branch,            ML_CRASH_JUMP_UNMAPPED },
	{ SIGSEGV, hole_says,             ML_CRASH_NON_CANONICAL },
	{ SIGSEGV, hole_says,             ML_CRASH_NULL_POINTER },
	{ SIGSEGV, hole_says,             ML_CRASH_KERNEL_SPACE },
	{ SIGSEGV, thread_stack_overflow, ML_CRASH_THREAD_STACK_OVERFLOW },
	{ SIGSEGV, hole_says,             ML_CRASH_STACK_OVERFLOW },
	{ SIGSEGV, sp_left_main_stack,    ML_CRASH_STACK_OVERFLOW },
	{ SIGSEGV, exec_unmapped,         ML_CRASH_JUMP_UNMAPPED },
	{ SIGSEGV, exec_nx,               ML_CRASH_EXEC_NON_EXECUTABLE },
	{ SIGSEGV, prot_none,             ML_CRASH_NO_ACCESS },
	{ SIGSEGV, write_ro,              ML_CRASH_WRITE_READ_ONLY },
	{ SIGSEGV, hole_says,             ML_CRASH_PAST_HEAP_END },
	{ SIGSEGV, in_hole,               ML_CRASH_UNMAPPED },
	{ SIGSEGV, gp_fault,              ML_CRASH_NON_CANONICAL },
	{ 0,       always,                ML_CRASH_UNMAPPED },
};

/* ---- locating the address ---- */

static const struct ml_region *main_stack(const struct ml_snapshot *s)
{
	for (size_t i = s->nregions; i-- > 0;)
		if (s->regions[i].kind == ML_KIND_STACK)
			return &s->regions[i];
	return NULL;
}

/* Is the page at addr a guard marker (MADV_GUARD_INSTALL, pagemap bit
 * 58)?  Guards live inside ordinary mappings, so only the pagemap tells;
 * unreadable (a saved tree without it): no. */
static bool is_guard_page(const struct ml_snapshot *s, uint64_t addr)
{
	struct ml_pagemap *pm;
	struct ml_page page;
	uint64_t e;
	bool guard = false;

	if (s->core)   /* a core has no page tables: no marker is seen */
		return false;
	if (ml_pagemap_open(s->proc.pid, s->proc_root, &pm) < 0)
		return false;
	if (ml_pagemap_read(pm, addr, 1, &e) == 0) {
		ml_page_decode(e, &page);
		guard = page.flags & ML_PAGE_GUARD;
	}
	ml_pagemap_close(pm);
	return guard;
}

/* The region and section holding the address, or the kind and bounds of
 * the hole it lies in, as where.c explains them. */
static int locate(const struct ctx *x)
{
	struct ml_crash *c = x->c;
	struct ml_where_ctx *wc;
	struct ml_where w;
	int err;

	if (!c->addr_known)
		return 0;
	if ((err = ml_where_ctx_new(x->snap, NULL, NULL, &wc)) < 0)
		return err;
	err = ml_where_explain(wc, c->addr, &w);
	ml_where_ctx_free(wc);
	if (err < 0)
		return err;
	c->region = w.region;
	if (c->region) {
		c->section = ml_region_section(c->region, c->addr);
		c->guard_page = c->signo == SIGSEGV && is_guard_page(x->snap, c->addr);
	}
	c->hole = w.hole;
	c->hole_start = w.hole_start;
	c->hole_end = w.hole_end;
	return 0;
}

uint64_t ml_fault_code_addr(const struct ml_fault *f)
{
	if (!f || !f->have_regs)
		return 0;
#if defined(__x86_64__) || defined(__i386__)
	if (f->signo == SIGTRAP && f->code == SI_KERNEL && f->regs.pc)
		return f->regs.pc - 1;
#endif
	return f->regs.pc;
}

/* The instruction at the fault: at regs.pc, or where the tracer read it
 * (an x86 int3 trap leaves pc after the int3: the int3 is shown). */
static void decode(const struct ctx *x)
{
	const struct ml_fault *f = x->f;
	struct ml_crash *c = x->c;
	struct ml_regs at = f->regs;

	if (!f->ncode)
		return;
	if (f->code_addr && f->code_addr < f->regs.pc && f->regs.pc - f->code_addr <= 1)
		at.pc = f->code_addr;
	if (ml_insn_decode(f->code_bytes, f->ncode, &at, &c->insn) == 0) {
		c->have_insn = true;
		c->insn_pc = at.pc;
	}
}

/* A general-protection fault at a call, jmp or ret to a non-canonical
 * target (the CPU faults at the branch, not at the target): the target
 * is the address to explain, fetched, and where it came from is said. */
static bool branch_target(const struct ctx *x)
{
	struct ml_crash *c = x->c;
	const struct ml_fault *f = x->f;

	if (!c->have_insn || c->insn.branch == ML_BRANCH_NONE)
		return false;
	if (c->insn.branch == ML_BRANCH_RET && f->have_stack_words) {
		c->addr = f->stack_words[1];
		c->jump_via = ML_JUMP_RETURN;
		c->jump_slot = c->sp;
	} else if (c->insn.target_known) {
		c->addr = c->insn.target;
		c->jump_via = ML_JUMP_CALL_REG;
	} else {
		return false;
	}
	c->addr_known = true;
	c->access = ML_ACCESS_EXEC;
	return true;
}

/* A fetch fault at pc == the address: was it reached by a ret (the word
 * just popped, at sp - word, is pc) or a call (the word at sp is a return
 * address into executable memory)? */
static void jump_source(const struct ctx *x)
{
	struct ml_crash *c = x->c;
	const struct ml_fault *f = x->f;
	size_t w = f->regs.is_32bit ? 4 : 8;
	const struct ml_region *r;

	if (c->access != ML_ACCESS_EXEC || c->jump_via || !f->have_stack_words || c->region)
		return;
	if (f->stack_words[0] == c->pc) {
		c->jump_via = ML_JUMP_RETURN;
		c->jump_slot = c->sp - w;
	} else if ((r = ml_snapshot_find(x->snap, f->stack_words[1])) && (r->perms & ML_PERM_EXEC)) {
		c->jump_via = ML_JUMP_CALL;
		c->jump_slot = c->sp;
		c->jump_return = f->stack_words[1];
	}
}

/* The address to explain: si_addr, or for a general-protection fault
 * (SI_KERNEL, no address) the decoded operand's. */
static void fault_address(const struct ctx *x)
{
	struct ml_crash *c = x->c;
	const struct ml_fault *f = x->f;

	if (c->code <= 0 || c->signo == SIGABRT)
		return;
	if (c->signo == SIGSEGV && c->code == SI_KERNEL && branch_target(x))
		return;
	if (c->signo == SIGSEGV && c->code == SI_KERNEL) {
		if (c->have_insn && c->insn.has_mem && c->insn.ea_known) {
			c->addr = c->insn.ea;
			c->addr_known = true;
		}
		return;
	}
	c->addr = f->addr;
	/* #AC (EFLAGS.AC) gives BUS_ADRALN with no address: the operand's. */
	if (c->signo == SIGBUS && c->code == BUS_ADRALN && !c->addr && c->have_insn &&
	    c->insn.has_mem && c->insn.ea_known)
		c->addr = c->insn.ea;
	/* SIGTRAP from int3 (SI_KERNEL) carries no address: the pc is it. */
	if (!c->addr && (c->signo == SIGTRAP || c->signo == SIGILL || c->signo == SIGFPE))
		c->addr = c->pc;
#if defined(__x86_64__)
	/* x86 reports an int3 trap with pc past the one-byte instruction. */
	if (c->signo == SIGTRAP && c->code == SI_KERNEL && c->addr == c->pc)
		c->addr = c->pc - 1;
#endif
	c->addr_known = true;
}

/* Read, write or fetch: the address equal to pc is a fetch; else the
 * decoded operand; ACCERR in a readable, non-writable mapping is a write. */
static void settle_access(const struct ctx *x)
{
	struct ml_crash *c = x->c;
	const struct ml_region *r = c->region;

	if (c->signo == SIGILL)
		c->access = ML_ACCESS_EXEC;
	if (c->signo != SIGSEGV && c->signo != SIGBUS)
		return;
	if (c->jump_via)
		return;           /* a branch's target: a fetch */
	if (c->addr_known && c->addr == c->pc) {
		c->access = ML_ACCESS_EXEC;
		return;
	}
	if (c->have_insn && c->insn.has_mem)
		c->access = c->insn.access;
	if (c->signo == SIGSEGV && c->code == SEGV_ACCERR && r &&
	    (r->perms & (ML_PERM_READ | ML_PERM_EXEC)) && !(r->perms & ML_PERM_WRITE))
		c->access = ML_ACCESS_WRITE;
}

/* The stack region of the faulting thread. */
static void find_thread_stack(const struct ctx *x)
{
	const struct ml_snapshot *s = x->snap;
	struct ml_crash *c = x->c;

	if (c->tid == c->pid) {
		c->thread_stack = main_stack(s);
		return;
	}
	for (size_t i = 0; i < s->nregions; i++)
		if (s->regions[i].kind == ML_KIND_THREAD_STACK && s->regions[i].tid == c->tid)
			c->thread_stack = &s->regions[i];
	c->thread_guard = stack_guard(x, c->thread_stack);
}

/* Frames in the recursion: counted when the backtrace reached its end,
 * else estimated from the stack left above sp and one cycle's size. */
static void recursion_depth(const struct ctx *x)
{
	const struct ml_backtrace *bt = x->f->bt;
	struct ml_crash *c = x->c;
	size_t i;

	if (!bt || !bt->period)
		return;
	if (bt->n > bt->period_start) {   /* the function the cycle runs through */
		c->recursion_frame = true;
		c->recursion_function = bt->frames[bt->period_start ? bt->period_start : 1].function;
		c->recursion_about = bt->truncated;
	}
	if (!bt->truncated) {
		for (i = bt->period_start; i + bt->period < bt->n; i++)
			if (bt->frames[i].pc != bt->frames[i + bt->period].pc)
				break;
		c->recursion_depth = i + bt->period - bt->period_start;
		return;
	}
	if (bt->period_bytes && c->thread_stack && c->thread_stack->end > c->sp)
		c->recursion_depth = (size_t)((c->thread_stack->end - c->sp) /
					      bt->period_bytes * bt->period);
}

int ml_crash_explain(const struct ml_snapshot *snap, const struct ml_fault *f,
		     struct ml_crash *ret)
{
	struct ml_crash c = { 0 };
	struct ctx x = { snap, NULL, f, &c };
	int err;

	if (!snap || !f || !ret)
		return -EINVAL;
	x.p = &snap->proc;
	c.signo = f->signo;
	c.code = f->code;
	c.pid = f->pid;
	c.tid = f->tid;
	c.abort_msg = f->abort_msg;
	c.then_signo = f->then_signo;
	c.sender = f->sender;
	c.file_size = -1;
	if (f->have_regs) {
		c.pc = f->regs.pc;
		c.sp = f->regs.sp;
		decode(&x);
	}
	fault_address(&x);
	if ((err = locate(&x)) < 0)
		return err;
	settle_access(&x);
	jump_source(&x);
	find_thread_stack(&x);
	for (size_t i = 0; i < ML_ARRAY_SIZE(rules); i++) {
		if (rules[i].signo && rules[i].signo != c.signo)
			continue;
		if (rules[i].test(&x, rules[i].kind)) {
			c.kind = rules[i].kind;
			break;
		}
	}
	recursion_depth(&x);
	if (c.kind == ML_CRASH_FILE_TRUNCATED && c.region)
		c.file_size = mapped_file_size(&x, c.region);
	*ret = c;
	return 0;
}
