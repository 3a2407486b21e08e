/* SPDX-License-Identifier: MIT */
/*
 * render-crash.c - the crash report: plain words first, then the facts
 * (signal, si_code, address, access, instruction, region and section or
 * hole, thread), the backtrace, and a slice of the address-space diagram
 * around the fault with the fault address and the stack pointer marked.
 * With ML_OUT_JSON the same facts as one JSON object, written as they
 * come by json.c (keys in memlayout-run(1)).
 *
 * Text the target controls (paths, symbol and file names, the abort
 * message, comm) is escaped: ml_escape(ML_ESC_TERM) for the terminal;
 * for JSON by json.c (invalid UTF-8 as \xHH text, controls, DEL and bidi
 * controls as \u escapes).
 */
#include "ml-crash.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define DIAGRAM_CONTEXT 3

/* si_code names per signal; generic ones (<= 0, SI_KERNEL) apart. */
static const struct code_name {
	int signo, code;
	const char *name;
} code_names[] = {
	{ SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR" }, { SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR" },
	{ SIGSEGV, SEGV_BNDERR, "SEGV_BNDERR" }, { SIGSEGV, SEGV_PKUERR, "SEGV_PKUERR" },
	{ SIGBUS, BUS_ADRALN, "BUS_ADRALN" }, { SIGBUS, BUS_ADRERR, "BUS_ADRERR" },
	{ SIGBUS, BUS_OBJERR, "BUS_OBJERR" }, { SIGBUS, BUS_MCEERR_AR, "BUS_MCEERR_AR" },
	{ SIGBUS, BUS_MCEERR_AO, "BUS_MCEERR_AO" },
	{ SIGILL, ILL_ILLOPC, "ILL_ILLOPC" }, { SIGILL, ILL_ILLOPN, "ILL_ILLOPN" },
	{ SIGILL, ILL_ILLADR, "ILL_ILLADR" }, { SIGILL, ILL_ILLTRP, "ILL_ILLTRP" },
	{ SIGILL, ILL_PRVOPC, "ILL_PRVOPC" }, { SIGILL, ILL_PRVREG, "ILL_PRVREG" },
	{ SIGILL, ILL_COPROC, "ILL_COPROC" }, { SIGILL, ILL_BADSTK, "ILL_BADSTK" },
	{ SIGFPE, FPE_INTDIV, "FPE_INTDIV" }, { SIGFPE, FPE_INTOVF, "FPE_INTOVF" },
	{ SIGFPE, FPE_FLTDIV, "FPE_FLTDIV" }, { SIGFPE, FPE_FLTOVF, "FPE_FLTOVF" },
	{ SIGFPE, FPE_FLTUND, "FPE_FLTUND" }, { SIGFPE, FPE_FLTRES, "FPE_FLTRES" },
	{ SIGFPE, FPE_FLTINV, "FPE_FLTINV" }, { SIGFPE, FPE_FLTSUB, "FPE_FLTSUB" },
	{ SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT" }, { SIGTRAP, TRAP_TRACE, "TRAP_TRACE" },
	{ 0, SI_KERNEL, "SI_KERNEL" }, { 0, SI_USER, "SI_USER" }, { 0, SI_QUEUE, "SI_QUEUE" },
	{ 0, SI_TKILL, "SI_TKILL" }, { 0, SI_TIMER, "SI_TIMER" }, { 0, SI_MESGQ, "SI_MESGQ" },
	{ 0, SI_ASYNCIO, "SI_ASYNCIO" }, { 0, SI_SIGIO, "SI_SIGIO" },
};

static const char *code_name(int signo, int code)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(code_names); i++)
		if ((code_names[i].signo == signo || (code_names[i].signo == 0 &&
		     (code <= 0 || code == SI_KERNEL))) && code_names[i].code == code)
			return code_names[i].name;
	return "?";
}

static const char *sig_abbrev(int signo)
{
	const char *s = sigabbrev_np(signo);
	return s ? s : "?";
}

static const struct ml_thread *find_thread(const struct ml_snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}

/* ---- text ---- */

void ml__put_escaped(FILE *out, const char *s)
{
	char *e = ml_escape(s ? s : "", ML_ESC_TERM);
	fputs(e ? e : "?", out);
	free(e);
}

static void text_where(const struct ml_crash *c, FILE *out)
{
	char perms[5], sz[32];
	const struct ml_region *r = c->region;

	if (!c->addr_known) {
		fputs("  where        unknown (no address)\n", out);
		return;
	}
	if (!r) {
		fprintf(out, "  hole         %s [0x%" PRIx64 ", 0x%" PRIx64 "), %s: %s\n",
			ml_hole_name(c->hole), c->hole_start, c->hole_end,
			ml_size_human(c->hole_end - c->hole_start, sz, sizeof(sz)),
			ml_hole_description(c->hole));
		return;
	}
	ml_perms_str(r->perms, perms);
	fprintf(out, "  region       %s [0x%" PRIx64 ", 0x%" PRIx64 ") %s ",
		ml_kind_name(r->kind), r->start, r->end, perms);
	ml__put_escaped(out, r->object ? r->object : r->name);
	if (c->section) {
		fputs(", section ", out);
		ml__put_escaped(out, c->section->name);
	}
	if (c->guard_page)
		fputs(", a guard page (MADV_GUARD_INSTALL)", out);
	fputc('\n', out);
}

void ml__text_frames(FILE *out, const struct ml_frame *fr, size_t n, bool truncated)
{
	for (size_t i = 0; i < n; i++) {
		const struct ml_frame *f = &fr[i];
		size_t same = 0;

		/* A recursion: one line for a run of the same return address. */
		while (i > 0 && i + same < n && fr[i + same].pc == fr[i - 1].pc &&
		       !fr[i + same].inlined && !fr[i - 1].inlined)
			same++;
		if (same > 1) {
			fprintf(out, "  ...  the same frame %zu more times\n", same);
			i += same - 1;
			continue;
		}

		/* As gdb: a caller at its return address, its line the call's. */
		uint64_t shown = f->return_address ? f->return_address : f->pc;
		fprintf(out, "  #%-3zu 0x%016" PRIx64 " in ", i, shown);
		ml__put_escaped(out, f->function ? f->function : "??");
		if (f->inlined)   /* no symbol of its own: inlined into the next */
			fputs(" [inlined]", out);
		else if (f->function)
			fprintf(out, "+0x%" PRIx64, f->offset + (shown - f->pc));
		if (f->file) {
			fputs(" at ", out);
			ml__put_escaped(out, f->file);
			fprintf(out, ":%d", f->line);
		}
		if (f->object) {
			const char *o = strrchr(f->object, '/');
			fputs(" (", out);
			ml__put_escaped(out, o ? o + 1 : f->object);
			fputc(')', out);
		}
		fputc('\n', out);
	}
	if (truncated)
		fprintf(out, "  ... more frames (the first %zu shown)\n", n);
}

int ml__diagram_slice(FILE *out, const struct ml_snapshot *snap, const char *title,
		      const struct ml_mark *marks, size_t nmarks, uint64_t around,
		      unsigned int flags, unsigned int width)
{
	struct ml_diagram_opts d = { flags & ML_OUT_COLOR, marks, nmarks, width,
				     DIAGRAM_CONTEXT, around };

	fprintf(out, "\nAddress space around the %s (memlayout show -d):\n", title);
	return ml_render_diagram(snap, out, &d);
}

static int render_text(const struct ml_snapshot *snap, const struct ml_crash *c,
		       const struct ml_backtrace *bt, FILE *out, unsigned int flags,
		       unsigned int width)
{
	const struct ml_proc *p = &snap->proc;
	const struct ml_thread *t = find_thread(snap, c->tid);

	fprintf(out, "memlayout: process %d (", (int)c->pid);
	ml__put_escaped(out, p->comm);
	if (c->then_signo)
		fprintf(out, ") died of SIG%s after its own handler caught a SIG%s: %s\n  ",
			sig_abbrev(c->then_signo), sig_abbrev(c->signo), ml_crash_kind_name(c->kind));
	else
		fprintf(out, ") died of SIG%s: %s\n  ", sig_abbrev(c->signo),
			ml_crash_kind_name(c->kind));
	ml__crash_words(out, snap, c, false);
	fputs(".\n\n", out);
	fprintf(out, "  signal       SIG%s (%d), si_code %s (%d)", sig_abbrev(c->signo), c->signo,
		code_name(c->signo, c->code), c->code);
	if (c->addr_known)
		fprintf(out, ", address 0x%" PRIx64, c->addr);
	fprintf(out, "\n  access       %s\n", ml_access_name(c->access));
	if (c->have_insn)
		fprintf(out, "  instruction  %s  at 0x%" PRIx64 "\n", c->insn.text,
			c->insn_pc ? c->insn_pc : c->pc);
	text_where(c, out);
	fprintf(out, "  thread       %d (", (int)c->tid);
	ml__put_escaped(out, t ? t->comm : "?");
	fprintf(out, ")%s, sp 0x%" PRIx64 "\n", c->tid == c->pid ? ", the main thread" : "", c->sp);
	if (c->thread_stack)
		fprintf(out, "  stack        0x%" PRIx64 "-0x%" PRIx64 "%s", c->thread_stack->start,
			c->thread_stack->end, c->thread_guard ? ", guard " : "\n");
	if (c->thread_stack && c->thread_guard)
		fprintf(out, "0x%" PRIx64 "-0x%" PRIx64 "\n", c->thread_guard->start,
			c->thread_guard->end);
	fprintf(out, "  process      %d ", (int)c->pid);
	ml__put_escaped(out, p->exe ? p->exe : p->comm);
	fputc('\n', out);
	if (c->abort_msg) {
		fputs("  message      \"", out);
		ml__put_escaped(out, c->abort_msg);
		fputs("\"\n", out);
	}
	if (bt && bt->n) {
		fprintf(out, "\nBacktrace of thread %d:\n", (int)c->tid);
		ml__text_frames(out, bt->frames, bt->n, bt->truncated);
	}

	struct ml_mark marks[2] = { { c->addr, "fault" }, { c->sp, "sp" } };
	return ml__diagram_slice(out, snap, "fault", c->addr_known ? marks : marks + 1,
				 c->addr_known ? 2 : 1, c->addr_known ? c->addr : c->sp, flags, width);
}

/* ---- JSON ---- */

bool ml__json_object_or_null(struct ml_json *j, const char *key, bool present)
{
	if (present)
		ml_json_open(j, key, false);
	else
		ml_json_null(j, key);
	return present;
}

/* key: v as "0x..." (hex) or as a number, or null if not known. */
static void num_or_null(struct ml_json *j, const char *key, bool known, bool hex, uint64_t v)
{
	if (!known)
		ml_json_null(j, key);
	else if (hex)
		ml_json_hex(j, key, v);
	else
		ml_json_i64(j, key, (int64_t)v);
}

void ml__json_process(struct ml_json *j, const struct ml_proc *p)
{
	ml_json_open(j, "process", false);
	ml_json_i64(j, "pid", p->pid);
	ml_json_str(j, "comm", p->comm);
	ml_json_str(j, "exe", p->exe);
	ml_json_close(j);
}

static void json_region(struct ml_json *j, const struct ml_crash *c)
{
	const struct ml_region *r = c->region;
	char perms[5];

	if (!ml__json_object_or_null(j, "region", r))
		return;
	ml_perms_str(r->perms, perms);
	ml_json_str(j, "kind", ml_kind_name(r->kind));
	ml_json_str(j, "object", r->object ? r->object : (r->name[0] ? r->name : NULL));
	ml_json_str(j, "section", c->section ? c->section->name : NULL);
	ml_json_hex(j, "start", r->start);
	ml_json_hex(j, "end", r->end);
	ml_json_str(j, "perms", perms);
	ml_json_bool(j, "guard_page", c->guard_page);
	ml_json_close(j);
}

static void json_hole(struct ml_json *j, const struct ml_crash *c)
{
	if (!ml__json_object_or_null(j, "hole", c->addr_known && !c->region))
		return;
	ml_json_str(j, "kind", ml_hole_name(c->hole));
	ml_json_str(j, "description", ml_hole_description(c->hole));
	ml_json_hex(j, "start", c->hole_start);
	ml_json_hex(j, "end", c->hole_end);
	ml_json_close(j);
}

/* The faulting thread's stack: bounds, guard, how far below its limit
 * (its lowest address) the access was. */
static void json_stack(struct ml_json *j, const struct ml_crash *c)
{
	const struct ml_region *s = c->thread_stack, *g = c->thread_guard;

	if (!ml__json_object_or_null(j, "stack", s))
		return;
	ml_json_hex(j, "start", s->start);
	ml_json_hex(j, "end", s->end);
	num_or_null(j, "guard_start", g, true, g ? g->start : 0);
	num_or_null(j, "guard_end", g, true, g ? g->end : 0);
	num_or_null(j, "below_limit", c->addr_known && c->addr < s->start, false,
		    s->start - c->addr);
	ml_json_close(j);
}

/* Where a bad jump target came from, or null. */
static void json_jump(struct ml_json *j, const struct ml_crash *c)
{
	static const char *const via[] = {
		[ML_JUMP_RETURN] = "return-slot", [ML_JUMP_CALL_REG] = "call-operand",
		[ML_JUMP_CALL] = "call",
	};

	if (!ml__json_object_or_null(j, "jump", c->jump_via != ML_JUMP_NONE &&
				     (size_t)c->jump_via < ML_ARRAY_SIZE(via)))
		return;
	ml_json_str(j, "via", via[c->jump_via]);
	num_or_null(j, "slot", c->jump_via != ML_JUMP_CALL_REG, true, c->jump_slot);
	ml_json_close(j);
}

void ml__json_frames(struct ml_json *j, const char *key, const struct ml_frame *fr, size_t n,
		     bool with_inlined)
{
	ml_json_open(j, key, true);
	for (size_t i = 0; i < n; i++) {
		const struct ml_frame *f = &fr[i];

		ml_json_open(j, NULL, false);
		ml_json_hex(j, "pc", f->pc);
		ml_json_str(j, "function", f->function);
		ml_json_u64(j, "offset", f->inlined ? 0 : f->offset);
		ml_json_str(j, "file", f->file);
		num_or_null(j, "line", f->line, false, (uint64_t)f->line);
		ml_json_str(j, "object", f->object);
		if (with_inlined)
			ml_json_bool(j, "inlined", f->inlined);
		ml_json_close(j);
	}
	ml_json_close(j);
}

static int render_json(const struct ml_snapshot *snap, const struct ml_crash *c,
		       const struct ml_backtrace *bt, FILE *out)
{
	const struct ml_thread *t = find_thread(snap, c->tid);
	struct ml_json *j;
	char sig[16], *words;
	int r;

	if (!(words = ml__crash_sentence(snap, c, true)))   /* raw: json.c escapes it */
		return -ENOMEM;
	if ((r = ml_json_begin(out, &j)) < 0) {
		free(words);
		return r;
	}
	snprintf(sig, sizeof(sig), "SIG%s", sig_abbrev(c->signo));
	ml_json_str(j, "kind", ml_crash_kind_name(c->kind));
	ml_json_str(j, "access", ml_access_name(c->access));
	ml_json_str(j, "signal", sig);
	ml_json_i64(j, "signo", c->signo);
	ml_json_str(j, "code", code_name(c->signo, c->code));
	ml_json_i64(j, "si_code", c->code);
	num_or_null(j, "address", c->addr_known, true, c->addr);
	ml_json_str(j, "explanation", words);
	free(words);
	ml_json_str(j, "instruction", c->have_insn ? c->insn.text : NULL);
	ml_json_hex(j, "pc", c->pc);
	ml_json_hex(j, "sp", c->sp);
	json_region(j, c);
	json_hole(j, c);
	ml_json_open(j, "thread", false);
	ml_json_i64(j, "tid", c->tid);
	ml_json_str(j, "name", t ? t->comm : NULL);
	ml_json_bool(j, "main", c->tid == c->pid);
	json_stack(j, c);
	ml_json_close(j);
	ml__json_process(j, &snap->proc);
	num_or_null(j, "recursion_depth", c->recursion_depth, false, c->recursion_depth);
	ml_json_str(j, "message", c->abort_msg);
	ml__json_frames(j, "backtrace", bt ? bt->frames : NULL, bt ? bt->n : 0, true);
	ml_json_bool(j, "backtrace_truncated", bt && bt->truncated);
	json_jump(j, c);
	if (ml__json_object_or_null(j, "handled_then", c->then_signo)) {
		snprintf(sig, sizeof(sig), "SIG%s", sig_abbrev(c->then_signo));
		ml_json_str(j, "signal", sig);
		ml_json_i64(j, "signo", c->then_signo);
		ml_json_close(j);
	}
	return ml_json_end(j);
}

int ml_render_crash_width(const struct ml_snapshot *snap, const struct ml_crash *c,
			  const struct ml_backtrace *bt, FILE *out, unsigned int flags,
			  unsigned int width)
{
	int r;

	if (!snap || !c || !out)
		return -EINVAL;
	r = (flags & ML_OUT_JSON) ? render_json(snap, c, bt, out) :
				    render_text(snap, c, bt, out, flags, width);
	if (r == 0 && ferror(out))
		r = -EIO;
	return r;
}
