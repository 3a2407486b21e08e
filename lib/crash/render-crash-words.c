/* SPDX-License-Identifier: MIT */
/*
 * render-crash-words.c - the sentence of a crash: one writer per kind
 * (a table indexed by enum ml_crash_kind), made from the facts crash.c
 * found (struct ml_crash) and the process's own figures in the snapshot
 * (mmap_min_addr, RLIMIT_STACK, brk, the kernel's start).  Then, if the
 * program's own handler caught the fault first, what it did.
 *
 * Text the target controls (object and file names, the function of a
 * recursion, the abort message) is written escaped for a terminal
 * (ml_escape ML_ESC_TERM), or raw for JSON, whose writer escapes it.
 */
#include "ml-crash.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>

struct words {
	const struct ml_proc *p;
	const struct ml_crash *c;
	FILE *out;
	bool raw;                /* for JSON: target text as it is */
};

typedef void (*say_fn)(const struct words *w);

/* ---- helpers ---- */

/* Text the target controls. */
static void name(const struct words *w, const char *s)
{
	if (w->raw)
		fputs(s, w->out);
	else
		ml__put_escaped(w->out, s);
}

static const char *access_words(const struct ml_crash *c)
{
	static const char *const a[] = {
		[ML_ACCESS_UNKNOWN] = "an access", [ML_ACCESS_READ] = "a read",
		[ML_ACCESS_WRITE] = "a write", [ML_ACCESS_EXEC] = "an instruction fetch",
	};
	return (size_t)c->access < ML_ARRAY_SIZE(a) ? a[c->access] : a[ML_ACCESS_UNKNOWN];
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

/* "in .rodata of prog (rodata, mapped r--p)" for the fault's region. */
static void where_region(const struct words *w)
{
	const struct ml_region *r = w->c->region;
	const char *obj = r->object ? r->object : r->name;
	char perms[5];

	fputs("in ", w->out);
	if (w->c->section) {
		name(w, w->c->section->name);
		fputs(" of ", w->out);
	}
	if (*obj)
		name(w, obj[0] == '/' ? ml__base_name(obj) : obj);
	else
		fputs("an anonymous mapping", w->out);
	fprintf(w->out, " (%s, mapped %s)", ml_kind_name(r->kind), ml_perms_str(r->perms, perms));
}

static void depth_words(const struct words *w)
{
	const struct ml_crash *c = w->c;

	if (!c->recursion_depth || !c->recursion_frame)
		return;
	fputs("; the frames repeat: recursion through ", w->out);
	name(w, c->recursion_function ? c->recursion_function : "?");
	fprintf(w->out, "(), %s%zu calls deep", c->recursion_about ? "about " : "",
		c->recursion_depth);
}

static void say_hole(const struct words *w)
{
	const struct ml_crash *c = w->c;
	char sz[32];

	fprintf(w->out, ", in a %s hole of unmapped addresses [0x%" PRIx64 ", 0x%" PRIx64 "), %s",
		ml_size_human(c->hole_end - c->hole_start, sz, sizeof(sz)), c->hole_start,
		c->hole_end, ml_hole_description(c->hole));
}

static void say_message(const struct words *w)
{
	if (!w->c->abort_msg)
		return;
	fputs(": \"", w->out);
	name(w, w->c->abort_msg);
	fputc('"', w->out);
}

/* ---- the sentence of each kind ---- */

static void say_null(const struct words *w)
{
	const struct ml_crash *c = w->c;

	if (c->access == ML_ACCESS_EXEC)
		fprintf(w->out, "call through a NULL function pointer: an instruction fetch at 0x%" PRIx64, c->addr);
	else
		fprintf(w->out, "NULL pointer dereference: %s at 0x%" PRIx64, access_words(c), c->addr);
	if (c->addr)
		fprintf(w->out, ", %" PRIu64 " bytes above address 0", c->addr);
	else
		fputs(", address 0 itself", w->out);
	fprintf(w->out, ", inside the unmapped zone below vm.mmap_min_addr = %" PRIu64,
		w->p->mmap_min_addr);
}

static void say_stack(const struct words *w)
{
	const struct ml_crash *c = w->c;
	const struct ml_region *s = c->thread_stack;
	char lim[32];

	if (w->p->stack_rlimit == UINT64_MAX)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		ml_size_human(w->p->stack_rlimit, lim, sizeof(lim));
	fprintf(w->out, "stack overflow: %s at 0x%" PRIx64, access_words(c), c->addr);
	if (s && c->addr < s->start)
		fprintf(w->out, ", %" PRIu64 " bytes below the lowest page of the main thread's stack,",
			s->start - c->addr);
	fprintf(w->out, " found no room to grow (RLIMIT_STACK %s)", lim);
	depth_words(w);
}

/* What the thread ran into below its stack. */
static void say_hit(const struct words *w)
{
	const struct ml_crash *c = w->c;
	const struct ml_region *g = c->thread_guard;
	char sz[32];

	if (c->guard_page)
		fputs("a guard page installed with MADV_GUARD_INSTALL inside its "
		      "stack mapping (no PROT_NONE page)", w->out);
	else if (c->region && c->region == g)
		fprintf(w->out, "the %s guard below it", ml_size_human(g->end - g->start, sz, sizeof(sz)));
	else if (g)
		fprintf(w->out, "%s memory below its %s guard", c->region ? "PROT_NONE" : "unmapped",
			ml_size_human(g->end - g->start, sz, sizeof(sz)));
	else if (c->region)
		fputs("a PROT_NONE mapping below it (it has no guard)", w->out);
	else
		fputs("unmapped memory below it (it has no guard)", w->out);
}

static void say_thread_stack(const struct words *w)
{
	const struct ml_crash *c = w->c;
	const struct ml_region *s = c->thread_stack;
	char sz[32];

	fprintf(w->out, "thread stack overflow: thread %d ran off the low end of its stack",
		(int)c->tid);
	if (s)
		fprintf(w->out, " [0x%" PRIx64 ", 0x%" PRIx64 ") (%s, its limit 0x%" PRIx64 ")",
			s->start, s->end, ml_size_human(s->end - s->start, sz, sizeof(sz)), s->start);
	fprintf(w->out, "; %s at 0x%" PRIx64, access_words(c), c->addr);
	if (s && c->addr < s->start)
		fprintf(w->out, ", %" PRIu64 " bytes below its limit,", s->start - c->addr);
	fputs(" hit ", w->out);
	say_hit(w);
	depth_words(w);
}

static void say_write_ro(const struct words *w)
{
	fprintf(w->out, "write to read-only memory: a write at 0x%" PRIx64 " ", w->c->addr);
	where_region(w);
}

static void say_exec_nx(const struct words *w)
{
	fprintf(w->out, "jump into non-executable memory: an instruction fetch at 0x%" PRIx64 " ",
		w->c->addr);
	where_region(w);
}

static void say_jump_unmapped(const struct words *w)
{
	const struct ml_crash *c = w->c;

	fprintf(w->out, "jump to an unmapped address: an instruction fetch at 0x%" PRIx64, c->addr);
	say_hole(w);
	switch (c->jump_via) {
	case ML_JUMP_RETURN:
		fprintf(w->out, "; a ret took it from the return slot at 0x%" PRIx64
			" (a smashed return address)", c->jump_slot);
		break;
	case ML_JUMP_CALL_REG:
		fprintf(w->out, "; the %s at 0x%" PRIx64 " (%s) took it from its operand "
			"(a bad function pointer)", c->insn.branch == ML_BRANCH_JMP ? "jmp" : "call",
			c->pc, c->insn.text);
		break;
	case ML_JUMP_CALL:
		fprintf(w->out, "; a call took it, whose return address 0x%" PRIx64 " is at "
			"0x%" PRIx64 " (a bad function pointer)", c->jump_return, c->jump_slot);
		break;
	default:
		fputs(" (a bad function pointer or a smashed return address)", w->out);
	}
}

static void say_kernel(const struct words *w)
{
	fprintf(w->out, "access to the kernel half of the address space: %s at 0x%" PRIx64
		", at or above 0x%" PRIx64 ", where user code may never go",
		access_words(w->c), w->c->addr, w->p->kernel_start);
}

static void say_noncanon(const struct words *w)
{
	const struct ml_crash *c = w->c;

	if (!c->addr_known) {
		fputs("general-protection fault: the CPU refused the instruction "
		      "without giving an address (most often a non-canonical pointer)", w->out);
		return;
	}
	fprintf(w->out, "non-canonical address: %s at 0x%" PRIx64 ", in the hole between "
		"the top of user space (0x%" PRIx64 ") and the kernel half (0x%" PRIx64
		"), which no address may use; the CPU faults without an address, so it "
		"was decoded from the instruction", access_words(c), c->addr,
		w->p->user_top, w->p->kernel_start);
}

static void say_unmapped(const struct words *w)
{
	fprintf(w->out, "access to unmapped memory: %s at 0x%" PRIx64, access_words(w->c), w->c->addr);
	say_hole(w);
	fputs(" (a wild pointer, or a use after munmap)", w->out);
}

static void say_past_heap(const struct words *w)
{
	fprintf(w->out, "access past the end of the heap: %s at 0x%" PRIx64 ", %" PRIu64
		" bytes above the brk (0x%" PRIx64 "), where nothing is mapped",
		access_words(w->c), w->c->addr, w->c->addr - w->p->brk, w->p->brk);
}

static void say_no_access(const struct words *w)
{
	fprintf(w->out, "access to %s: %s at 0x%" PRIx64 " ", w->c->guard_page ?
		"a guard page (MADV_GUARD_INSTALL) inside a mapping" : "a PROT_NONE mapping",
		access_words(w->c), w->c->addr);
	where_region(w);
}

static void say_truncated(const struct words *w)
{
	const struct ml_crash *c = w->c;
	const struct ml_region *r = c->region;

	fprintf(w->out, "access beyond the end of a mapped file: %s at 0x%" PRIx64,
		access_words(c), c->addr);
	if (!r)
		return;
	fprintf(w->out, " maps offset %" PRIu64 " of ", c->addr - r->start + r->offset);
	name(w, r->name);
	if (c->file_size >= 0)
		fprintf(w->out, ", which is only %lld bytes long: the page is past the end "
			"of the file, and no file page backs it", (long long)c->file_size);
}

static void say_misaligned(const struct words *w)
{
	const struct ml_crash *c = w->c;

	if (c->have_insn && c->insn.align)
		fprintf(w->out, "misaligned access: %s needs a %u-byte aligned operand, and "
			"0x%" PRIx64 " is %" PRIu64 " bytes off", c->insn.text, c->insn.align,
			c->addr, c->addr % c->insn.align);
	else
		fprintf(w->out, "misaligned access: %s at 0x%" PRIx64 " that the CPU requires "
			"aligned (alignment checking is on)", access_words(c), c->addr);
}

static const char *const fpe_words[] = {
	[FPE_INTDIV] = "integer division by zero", [FPE_INTOVF] = "integer overflow",
	[FPE_FLTDIV] = "floating-point division by zero", [FPE_FLTOVF] = "floating-point overflow",
	[FPE_FLTUND] = "floating-point underflow", [FPE_FLTRES] = "inexact floating-point result",
	[FPE_FLTINV] = "invalid floating-point operation", [FPE_FLTSUB] = "subscript out of range",
};

static void say_fpe(const struct words *w)
{
	int code = w->c->code;
	const char *f = code > 0 && (size_t)code < ML_ARRAY_SIZE(fpe_words) && fpe_words[code] ?
			fpe_words[code] : "arithmetic exception";

	fprintf(w->out, "%s: the instruction at 0x%" PRIx64 " divided by zero or overflowed (%s)",
		f, w->c->pc, w->c->have_insn ? w->c->insn.text : "?");
}

static void say_ill(const struct words *w)
{
	const struct ml_crash *c = w->c;

	fprintf(w->out, "illegal instruction at 0x%" PRIx64 "%s%s%s: the CPU cannot execute it "
		"(ud2 is what __builtin_trap() and failed compiler checks emit)", c->pc,
		c->have_insn ? " (" : "", c->have_insn ? c->insn.text : "", c->have_insn ? ")" : "");
}

static void say_trap(const struct words *w)
{
	fprintf(w->out, "breakpoint trap at 0x%" PRIx64 ": an int3 (or a debugger's trap) "
		"ran with no debugger to catch it", w->c->addr);
}

static void say_heap(const struct words *w)
{
	fputs("heap corruption: the C library's malloc found its bookkeeping broken "
	      "(a double free, a free of a bad pointer, or a write past a block) and aborted", w->out);
	say_message(w);
}

static void say_smash(const struct words *w)
{
	fputs("stack smashing: on return, the stack protector found the canary of a "
	      "frame overwritten (a buffer on the stack was written past its end) and aborted", w->out);
	say_message(w);
}

static void say_abort(const struct words *w)
{
	fputs("the program called abort()", w->out);
	say_message(w);
}

static void say_sent(const struct words *w)
{
	fprintf(w->out, "%s was sent to it", sig_name(w->c->signo));
	if (w->c->sender)
		fprintf(w->out, " by process %d", (int)w->c->sender);
	fputs(" (kill, raise): no fault in its memory", w->out);
}

/* After the sentence of the fault: what the program's own handler did. */
static void say_then(const struct words *w)
{
	int then = w->c->then_signo;

	if (!then)
		return;
	fprintf(w->out, "; the program's own %s handler caught it first, then ", sig_name(w->c->signo));
	if (then == SIGABRT)
		fputs("called abort() (SIGABRT)", w->out);
	else if (then == w->c->signo)
		fputs("raised it again, which ended the process", w->out);
	else
		fprintf(w->out, "ended the process with %s", sig_name(then));
}

static const say_fn say[ML_CRASH__COUNT] = {
	[ML_CRASH_NULL_POINTER]          = say_null,
	[ML_CRASH_STACK_OVERFLOW]        = say_stack,
	[ML_CRASH_THREAD_STACK_OVERFLOW] = say_thread_stack,
	[ML_CRASH_WRITE_READ_ONLY]       = say_write_ro,
	[ML_CRASH_EXEC_NON_EXECUTABLE]   = say_exec_nx,
	[ML_CRASH_JUMP_UNMAPPED]         = say_jump_unmapped,
	[ML_CRASH_KERNEL_SPACE]          = say_kernel,
	[ML_CRASH_NON_CANONICAL]         = say_noncanon,
	[ML_CRASH_UNMAPPED]              = say_unmapped,
	[ML_CRASH_PAST_HEAP_END]         = say_past_heap,
	[ML_CRASH_NO_ACCESS]             = say_no_access,
	[ML_CRASH_FILE_TRUNCATED]        = say_truncated,
	[ML_CRASH_MISALIGNED]            = say_misaligned,
	[ML_CRASH_DIVIDE_BY_ZERO]        = say_fpe,
	[ML_CRASH_ILLEGAL_INSTRUCTION]   = say_ill,
	[ML_CRASH_BREAKPOINT]            = say_trap,
	[ML_CRASH_HEAP_CORRUPTION]       = say_heap,
	[ML_CRASH_STACK_SMASHING]        = say_smash,
	[ML_CRASH_ABORT]                 = say_abort,
	[ML_CRASH_SENT]                  = say_sent,
};

void ml__crash_words(FILE *out, const struct ml_snapshot *snap, const struct ml_crash *c, bool raw)
{
	struct words w = { &snap->proc, c, out, raw };

	if ((size_t)c->kind < ML_CRASH__COUNT && say[c->kind])
		say[c->kind](&w);
	say_then(&w);
}

char *ml__crash_sentence(const struct ml_snapshot *snap, const struct ml_crash *c, bool raw)
{
	char *s = NULL;
	size_t len;
	FILE *m = ml_memstream_open(&s, &len);

	if (!m)
		return NULL;
	ml__crash_words(m, snap, c, raw);
	bool bad = ferror(m);
	if (fclose(m) == 0 && !bad && s)
		return s;
	free(s);
	return NULL;
}
