/* SPDX-License-Identifier: MIT */
/*
 * crash.c - explain a fatal signal in the terms of the process memory
 * model: which kind of crash it is (a fixed vocabulary), read, write or
 * instruction fetch, the region and section at the fault address or the
 * kind of hole it lies in, and one sentence in plain words.
 *
 * Input: a snapshot taken at the signal-delivery-stop (the maps are still
 * those of the fault) and what the tracer read there (struct ml_fault).
 * Order: locate the address through where.c (region and section, or the
 * kind and bounds of the hole: where's hole rules are the only ones),
 * decode the instruction (insn.c), settle the access, then walk the rule
 * table: the first rule whose signal matches and whose test holds gives
 * the kind.  The rules about holes read hole_crash[], which maps each of
 * where's hole kinds to the crash kind it means (and what must hold too).
 * Each kind has its sentence writer in the kinds table.  Nothing here
 * reads the tracee except one pagemap entry (is the page a MADV_GUARD
 * guard?) and one stat() of a mapped file (file-truncated).
 */
#include "ml-crash.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
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
typedef void (*say_fn)(const struct ctx *x, char *buf, size_t len);

/* ---- helpers for the sentences ---- */

static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static const char *access_words(const struct ml_crash *c)
{
	static const char *const w[] = {
		[ML_ACCESS_UNKNOWN] = "an access", [ML_ACCESS_READ] = "a read",
		[ML_ACCESS_WRITE] = "a write", [ML_ACCESS_EXEC] = "an instruction fetch",
	};
	return w[c->access];
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s && s[1] ? s + 1 : p;
}

/* "in .rodata of prog (rodata, mapped r--p)" for the fault's region. */
static void where_region(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_region *r = x->c->region;
	const char *obj = r->object ? r->object : r->name;
	char *e = ml_escape(obj[0] == '/' ? base_name(obj) : obj, ML_ESC_TERM);
	char *s = x->c->section ? ml_escape(x->c->section->name, ML_ESC_TERM) : NULL;
	char perms[5];

	ml_perms_str(r->perms, perms);
	append(buf, len, "in %s%s%s%s(%s, mapped %s)", s ? s : "", s ? " of " : "",
	       e && *e ? e : "an anonymous mapping", " ", ml_kind_name(r->kind), perms);
	free(e);
	free(s);
}

static void depth_words(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_backtrace *bt = x->f->bt;

	if (!x->c->recursion_depth || !bt || bt->n <= bt->period_start)
		return;
	const char *fn = bt->frames[bt->period_start ? bt->period_start : 1].function;
	char *e = ml_escape(fn ? fn : "?", ML_ESC_TERM);
	append(buf, len, "; the frames repeat: recursion through %s(), %s%zu calls deep",
	       e ? e : "?", bt->truncated ? "about " : "", x->c->recursion_depth);
	free(e);
}

static const char *sig_name(int signo)
{
	static const char *const names[] = {
		[SIGSEGV] = "SIGSEGV", [SIGBUS] = "SIGBUS", [SIGILL] = "SIGILL",
		[SIGFPE] = "SIGFPE", [SIGABRT] = "SIGABRT", [SIGTRAP] = "SIGTRAP",
	};
	return signo > 0 && (size_t)signo < ML_ARRAY_SIZE(names) && names[signo] ?
	       names[signo] : "a signal";
}

/* ---- the sentence of each kind ---- */

static void say_null(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;

	if (c->access == ML_ACCESS_EXEC)
		append(buf, len, "call through a NULL function pointer: an instruction fetch at 0x%" PRIx64, c->addr);
	else
		append(buf, len, "NULL pointer dereference: %s at 0x%" PRIx64, access_words(c), c->addr);
	if (c->addr)
		append(buf, len, ", %" PRIu64 " bytes above address 0", c->addr);
	else
		append(buf, len, ", address 0 itself");
	append(buf, len, ", inside the unmapped zone below vm.mmap_min_addr = %" PRIu64,
	       x->p->mmap_min_addr);
}

static void say_stack(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;
	const struct ml_region *s = c->thread_stack;
	char lim[32];

	if (x->p->stack_rlimit == UINT64_MAX)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		ml_size_human(x->p->stack_rlimit, lim, sizeof(lim));
	append(buf, len, "stack overflow: %s at 0x%" PRIx64, access_words(c), c->addr);
	if (s && c->addr < s->start)
		append(buf, len, ", %" PRIu64 " bytes below the lowest page of the main thread's stack,",
		       s->start - c->addr);
	append(buf, len, " found no room to grow (RLIMIT_STACK %s)", lim);
	depth_words(x, buf, len);
}

/* The guard of thread stack s: the PROT_NONE mapping right below it
 * that classify.c named its guard, or NULL (guard size 0, or a stack of
 * the program's own). */
static const struct ml_region *stack_guard(const struct ctx *x, const struct ml_region *s)
{
	const struct ml_region *g = s && s->start ? ml_snapshot_find(x->snap, s->start - 1) : NULL;

	return g && g->kind == ML_KIND_GUARD && g->end == s->start ? g : NULL;
}

static void say_thread_stack(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;
	const struct ml_region *s = c->thread_stack;
	const struct ml_region *g = c->thread_guard;
	char sz[32];

	append(buf, len, "thread stack overflow: thread %d ran off the low end of its stack",
	       (int)c->tid);
	if (s)
		append(buf, len, " [0x%" PRIx64 ", 0x%" PRIx64 ") (%s, its limit 0x%" PRIx64 ")",
		       s->start, s->end, ml_size_human(s->end - s->start, sz, sizeof(sz)), s->start);
	append(buf, len, "; %s at 0x%" PRIx64, access_words(c), c->addr);
	if (s && c->addr < s->start)
		append(buf, len, ", %" PRIu64 " bytes below its limit,", s->start - c->addr);
	append(buf, len, " hit ");
	if (c->guard_page)
		append(buf, len, "a guard page installed with MADV_GUARD_INSTALL inside its "
		       "stack mapping (no PROT_NONE page)");
	else if (c->region && c->region == g)
		append(buf, len, "the %s guard below it", ml_size_human(g->end - g->start, sz, sizeof(sz)));
	else if (g)
		append(buf, len, "%s memory below its %s guard", c->region ? "PROT_NONE" : "unmapped",
		       ml_size_human(g->end - g->start, sz, sizeof(sz)));
	else if (c->region)
		append(buf, len, "a PROT_NONE mapping below it (it has no guard)");
	else
		append(buf, len, "unmapped memory below it (it has no guard)");
	depth_words(x, buf, len);
}

static void say_write_ro(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "write to read-only memory: a write at 0x%" PRIx64 " ", x->c->addr);
	where_region(x, buf, len);
}

static void say_exec_nx(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "jump into non-executable memory: an instruction fetch at 0x%" PRIx64 " ",
	       x->c->addr);
	where_region(x, buf, len);
}

static void say_hole(const struct ctx *x, char *buf, size_t len)
{
	char sz[32];

	append(buf, len, ", in a %s hole of unmapped addresses [0x%" PRIx64 ", 0x%" PRIx64
	       "), %s", ml_size_human(x->c->hole_end - x->c->hole_start, sz, sizeof(sz)),
	       x->c->hole_start, x->c->hole_end, ml_hole_description(x->c->hole));
}

static void say_jump_unmapped(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;
	const struct ml_fault *f = x->f;

	append(buf, len, "jump to an unmapped address: an instruction fetch at 0x%" PRIx64,
	       c->addr);
	say_hole(x, buf, len);
	switch (c->jump_via) {
	case ML_JUMP_RETURN:
		append(buf, len, "; a ret took it from the return slot at 0x%" PRIx64
		       " (a smashed return address)", c->jump_slot);
		break;
	case ML_JUMP_CALL_REG:
		append(buf, len, "; the %s at 0x%" PRIx64 " (%s) took it from its operand "
		       "(a bad function pointer)", c->insn.branch == ML_BRANCH_JMP ? "jmp" : "call",
		       c->pc, c->insn.text);
		break;
	case ML_JUMP_CALL:
		append(buf, len, "; a call took it, whose return address 0x%" PRIx64 " is at "
		       "0x%" PRIx64 " (a bad function pointer)", f->stack_words[1], c->jump_slot);
		break;
	default:
		append(buf, len, " (a bad function pointer or a smashed return address)");
	}
}

static void say_kernel(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "access to the kernel half of the address space: %s at 0x%" PRIx64
	       ", at or above 0x%" PRIx64 ", where user code may never go",
	       access_words(x->c), x->c->addr, x->p->kernel_start);
}

static void say_noncanon(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;

	if (!c->addr_known) {
		append(buf, len, "general-protection fault: the CPU refused the instruction "
		       "without giving an address (most often a non-canonical pointer)");
		return;
	}
	append(buf, len, "non-canonical address: %s at 0x%" PRIx64 ", in the hole between "
	       "the top of user space (0x%" PRIx64 ") and the kernel half (0x%" PRIx64
	       "), which no address may use; the CPU faults without an address, so it "
	       "was decoded from the instruction", access_words(c), c->addr,
	       x->p->user_top, x->p->kernel_start);
}

static void say_unmapped(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "access to unmapped memory: %s at 0x%" PRIx64,
	       access_words(x->c), x->c->addr);
	say_hole(x, buf, len);
	append(buf, len, " (a wild pointer, or a use after munmap)");
}

static void say_past_heap(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "access past the end of the heap: %s at 0x%" PRIx64 ", %" PRIu64
	       " bytes above the brk (0x%" PRIx64 "), where nothing is mapped",
	       access_words(x->c), x->c->addr, x->c->addr - x->p->brk, x->p->brk);
}

static void say_no_access(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "access to %s: %s at 0x%" PRIx64 " ", x->c->guard_page ?
	       "a guard page (MADV_GUARD_INSTALL) inside a mapping" : "a PROT_NONE mapping",
	       access_words(x->c), x->c->addr);
	where_region(x, buf, len);
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

static void say_truncated(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;
	const struct ml_region *r = c->region;

	append(buf, len, "access beyond the end of a mapped file: %s at 0x%" PRIx64,
	       access_words(c), c->addr);
	if (!r)
		return;
	char *e = ml_escape(r->name, ML_ESC_TERM);
	long long size = mapped_file_size(x, r);
	append(buf, len, " maps offset %" PRIu64 " of %s", c->addr - r->start + r->offset,
	       e ? e : "?");
	if (size >= 0)
		append(buf, len, ", which is only %lld bytes long: the page is past the end "
		       "of the file, and no file page backs it", size);
	free(e);
}

static void say_misaligned(const struct ctx *x, char *buf, size_t len)
{
	const struct ml_crash *c = x->c;

	if (c->have_insn && c->insn.align)
		append(buf, len, "misaligned access: %s needs a %u-byte aligned operand, and "
		       "0x%" PRIx64 " is %" PRIu64 " bytes off", c->insn.text, c->insn.align,
		       c->addr, c->addr % c->insn.align);
	else
		append(buf, len, "misaligned access: %s at 0x%" PRIx64 " that the CPU requires "
		       "aligned (alignment checking is on)", access_words(c), c->addr);
}

static const char *const fpe_words[] = {
	[FPE_INTDIV] = "integer division by zero", [FPE_INTOVF] = "integer overflow",
	[FPE_FLTDIV] = "floating-point division by zero", [FPE_FLTOVF] = "floating-point overflow",
	[FPE_FLTUND] = "floating-point underflow", [FPE_FLTRES] = "inexact floating-point result",
	[FPE_FLTINV] = "invalid floating-point operation", [FPE_FLTSUB] = "subscript out of range",
};

static void say_fpe(const struct ctx *x, char *buf, size_t len)
{
	int code = x->c->code;
	const char *w = code > 0 && (size_t)code < ML_ARRAY_SIZE(fpe_words) && fpe_words[code] ?
			fpe_words[code] : "arithmetic exception";

	append(buf, len, "%s: the instruction at 0x%" PRIx64 " divided by zero or overflowed (%s)",
	       w, x->c->pc, x->c->have_insn ? x->c->insn.text : "?");
}

static void say_ill(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "illegal instruction at 0x%" PRIx64 "%s%s%s: the CPU cannot execute it "
	       "(ud2 is what __builtin_trap() and failed compiler checks emit)", x->c->pc,
	       x->c->have_insn ? " (" : "", x->c->have_insn ? x->c->insn.text : "",
	       x->c->have_insn ? ")" : "");
}

static void say_trap(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "breakpoint trap at 0x%" PRIx64 ": an int3 (or a debugger's trap) "
	       "ran with no debugger to catch it", x->c->addr);
}

static void say_message(const struct ctx *x, char *buf, size_t len)
{
	char *e = x->c->abort_msg ? ml_escape(x->c->abort_msg, ML_ESC_TERM) : NULL;

	if (e)
		append(buf, len, ": \"%s\"", e);
	free(e);
}

static void say_heap(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "heap corruption: the C library's malloc found its bookkeeping broken "
	       "(a double free, a free of a bad pointer, or a write past a block) and aborted");
	say_message(x, buf, len);
}

static void say_smash(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "stack smashing: on return, the stack protector found the canary of a "
	       "frame overwritten (a buffer on the stack was written past its end) and aborted");
	say_message(x, buf, len);
}

static void say_abort(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "the program called abort()");
	say_message(x, buf, len);
}

static void say_sent(const struct ctx *x, char *buf, size_t len)
{
	append(buf, len, "%s was sent to it", sig_name(x->c->signo));
	if (x->f->sender)
		append(buf, len, " by process %d", (int)x->f->sender);
	append(buf, len, " (kill, raise): no fault in its memory");
}

/* After the sentence of the fault: what the program's own handler did. */
static void say_then(const struct ctx *x, char *buf, size_t len)
{
	int then = x->c->then_signo;

	if (!then)
		return;
	append(buf, len, "; the program's own %s handler caught it first, then ", sig_name(x->c->signo));
	if (then == SIGABRT)
		append(buf, len, "called abort() (SIGABRT)");
	else if (then == x->c->signo)
		append(buf, len, "raised it again, which ended the process");
	else
		append(buf, len, "ended the process with %s", sig_name(then));
}

static const struct kind_info {
	const char *name;
	say_fn say;
} kinds[ML_CRASH__COUNT] = {
	[ML_CRASH_NULL_POINTER]          = { "null-pointer", say_null },
	[ML_CRASH_STACK_OVERFLOW]        = { "stack-overflow", say_stack },
	[ML_CRASH_THREAD_STACK_OVERFLOW] = { "thread-stack-overflow", say_thread_stack },
	[ML_CRASH_WRITE_READ_ONLY]       = { "write-read-only", say_write_ro },
	[ML_CRASH_EXEC_NON_EXECUTABLE]   = { "exec-non-executable", say_exec_nx },
	[ML_CRASH_JUMP_UNMAPPED]         = { "jump-unmapped", say_jump_unmapped },
	[ML_CRASH_KERNEL_SPACE]          = { "kernel-space", say_kernel },
	[ML_CRASH_NON_CANONICAL]         = { "non-canonical", say_noncanon },
	[ML_CRASH_UNMAPPED]              = { "unmapped", say_unmapped },
	[ML_CRASH_PAST_HEAP_END]         = { "past-heap-end", say_past_heap },
	[ML_CRASH_NO_ACCESS]             = { "no-access", say_no_access },
	[ML_CRASH_FILE_TRUNCATED]        = { "file-truncated", say_truncated },
	[ML_CRASH_MISALIGNED]            = { "misaligned", say_misaligned },
	[ML_CRASH_DIVIDE_BY_ZERO]        = { "divide-by-zero", say_fpe },
	[ML_CRASH_ILLEGAL_INSTRUCTION]   = { "illegal-instruction", say_ill },
	[ML_CRASH_BREAKPOINT]            = { "breakpoint", say_trap },
	[ML_CRASH_HEAP_CORRUPTION]       = { "heap-corruption", say_heap },
	[ML_CRASH_STACK_SMASHING]        = { "stack-smashing", say_smash },
	[ML_CRASH_ABORT]                 = { "abort", say_abort },
	[ML_CRASH_SENT]                  = { "signal-sent", say_sent },
};

const char *ml_crash_kind_name(enum ml_crash_kind k)
{
	return (size_t)k < ML_CRASH__COUNT ? kinds[k].name : "?";
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
	kinds[c.kind].say(&x, c.explanation, sizeof(c.explanation));
	say_then(&x, c.explanation, sizeof(c.explanation));
	*ret = c;
	return 0;
}
