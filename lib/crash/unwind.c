/* SPDX-License-Identifier: MIT */
/*
 * unwind.c - the backtrace of a thread stopped under ptrace by us, with
 * elfutils libdwfl: modules from /proc/PID/maps (dwfl_linux_proc_report),
 * the thread's registers and memory through ptrace
 * (dwfl_linux_proc_attach with assume_ptrace_stopped), CFI unwinding
 * (dwfl_getthread_frames), and per frame its symbol, source line and
 * module.  No unwinder of our own.
 *
 * Bound: at most `max` frames are unwound and symbolised, so a stack
 * overflowed by recursion (100,000 frames) costs what `max` frames cost.
 * The repeating cycle of the innermost frames (the recursion) is found by
 * comparing return addresses: the period and the stack bytes one cycle
 * takes, from which crash.c estimates the depth.
 *
 * Inlined functions are frames too, as gdb shows them: the scopes around
 * a frame's pc in its CU's DWARF (dwarf_getscopes, then the concrete
 * chain of its innermost by dwarf_getscopes_die) name each
 * DW_TAG_inlined_subroutine, innermost first; each caller's line is its
 * inlined call's (DW_AT_call_file/DW_AT_call_line).  They count toward
 * `max` (at most MAX_INLINED at one pc).
 *
 * Ownership: the backtrace and its strings are malloc'ed, freed by
 * ml_backtrace_free().
 */
#include "ml-crash.h"
#include "dynlib.h"

#include <dwarf.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PERIOD 16
#define MAX_PERIOD_START 32
#define MAX_INLINED 64     /* inlined functions shown at one pc */

#if defined(__x86_64__)
/* DWARF register numbers of the stack pointer: rsp, and esp for i386. */
enum { DWARF_SP_64 = 7, DWARF_SP_32 = 4 };
#elif defined(__aarch64__)
enum { DWARF_SP_64 = 31, DWARF_SP_32 = 13 };
#endif

struct walk {
	Dwfl *dwfl;
	struct ml_backtrace *bt;
	size_t max;
	unsigned int sp_reg;
	ml__mem_read_fn read;     /* the target's memory */
	void *read_ctx;
	int err;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Symbol, source line and module of pc (already moved back for return
 * addresses, so it lies in the call instruction). */
static void symbolise(Dwfl *dwfl, struct ml_frame *f)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, f->pc);
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name, *file;
	Dwfl_Line *line;
	int lineno = 0;

	if (!mod)
		return;
	f->object = dup_or_null(dwfl_module_info(mod, NULL, NULL, NULL, NULL,
						 NULL, NULL, NULL));
	name = dwfl_module_addrinfo(mod, f->pc, &off, &sym, NULL, NULL, NULL);
	if (name) {
		if (ml__demangle(name, &f->function) < 0)
			f->function = strdup(name);
		f->offset = off;
	}
	line = dwfl_module_getsrc(mod, f->pc);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (file) {
		f->file = strdup(file);
		f->line = lineno;
	}
}

/* The name of a subprogram or inlined subroutine DIE (its abstract
 * origin's), linkage name first so C++ and Rust demangle; NULL if none. */
static char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *s = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	char *out = NULL;

	if (!s)
		s = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	if (s && ml__demangle(s, &out) < 0)
		out = strdup(s);
	return out;
}

/* Where the inlined subroutine inl was called: DW_AT_call_file (an index
 * into cu's file table, bounded by its count) and DW_AT_call_line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, struct ml_frame *f)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, line;
	Dwarf_Files *files;
	size_t nfiles;
	const char *name = NULL;

	free(f->file);
	f->file = NULL;
	f->line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &idx) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && idx < nfiles)
		name = dwarf_filesrc(files, idx, NULL, NULL);
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &line) == 0 &&
	    line <= INT_MAX)
		f->line = (int)line;
	f->file = dup_or_null(name);
}

/* The DW_TAG_inlined_subroutine scopes around pc (innermost first, up to
 * the enclosing subprogram), at most max, into inl; their count. */
static size_t inline_chain(Dwarf_Die *scopes, int n, Dwarf_Die *inl, size_t max)
{
	size_t k = 0;

	for (int i = 0; i < n && k < max; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram)
			break;
		if (tag == DW_TAG_inlined_subroutine)
			inl[k++] = scopes[i];
	}
	return k;
}

/* Frame i (symbolised) stands for a chain of functions inlined at its pc:
 * it becomes one frame per inlined function, innermost first, marked
 * inlined, then the function they were inlined into (its symbol kept),
 * each caller at the line of the inlined call, as gdb shows them.  Frames
 * past w->max are dropped (truncated). */
static void expand_inlined(struct walk *w, size_t i)
{
	struct ml_backtrace *bt = w->bt;
	Dwfl_Module *mod = dwfl_addrmodule(w->dwfl, bt->frames[i].pc);
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, bt->frames[i].pc, &bias) : NULL;
	Dwarf_Die *scopes = NULL, *chain = NULL, inl[MAX_INLINED];
	int n = cu ? dwarf_getscopes(cu, bt->frames[i].pc - bias, &scopes) : -1;
	/* dwarf_getscopes follows an inlined instance into its abstract
	 * definition; the concrete chain of callers is the innermost
	 * scope's, by dwarf_getscopes_die (as eu-addr2line -i does) */
	int nc = n > 0 ? dwarf_getscopes_die(&scopes[0], &chain) : -1;
	size_t k = nc > 0 ? inline_chain(chain, nc, inl, MAX_INLINED) : 0;

	if (k > w->max - bt->n) {
		k = w->max - bt->n;
		bt->truncated = true;
	}
	if (k > 0) {
		struct ml_frame *f = &bt->frames[i];

		/* f + k: the outer function, the rest inlined into it. */
		f[k] = f[0];
		for (size_t j = 0; j < k; j++) {
			f[j] = (struct ml_frame){ .pc = f[k].pc, .sp = f[k].sp,
				.return_address = f[k].return_address, .inlined = true,
				.object = dup_or_null(f[k].object),
				.function = die_name(&inl[j]) };
			if (j == 0)   /* the innermost: the pc's own line */
				f[0].file = dup_or_null(f[k].file), f[0].line = f[k].line;
			else
				call_site(cu, &inl[j - 1], &f[j]);
		}
		call_site(cu, &inl[k - 1], &f[k]);
		bt->n += k;
	}
	free(chain);
	free(scopes);
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	struct ml_backtrace *bt = w->bt;
	struct ml_frame *f;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation = false;

	if (bt->n == w->max) {
		bt->truncated = true;
		return DWARF_CB_ABORT;
	}
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	f = &bt->frames[bt->n++];
	f->pc = activation ? pc : pc - 1;
	f->return_address = activation ? 0 : pc;
	if (dwfl_frame_reg(state, w->sp_reg, &sp) == 0)
		f->sp = sp;
	symbolise(w->dwfl, f);
	expand_inlined(w, bt->n - 1);
	return DWARF_CB_OK;
}

/* The same frame: the same pc, and the same function at it (the frames
 * of an inlined chain share one pc). */
static bool same_frame(const struct ml_frame *a, const struct ml_frame *b)
{
	return a->pc == b->pc && a->inlined == b->inlined &&
	       (a->function == b->function ||
		(a->function && b->function && !strcmp(a->function, b->function)));
}

/* The first frame s (from #1 on, at most MAX_PERIOD_START deep: the fault
 * may lie in a callee of the recursion, snprintf's frames or an
 * interpreter's) from which the frames repeat with the smallest period p
 * (at least twice over); none: period 0. */
static void find_period(struct ml_backtrace *bt)
{
	for (size_t s = 1; s <= MAX_PERIOD_START; s++)
		for (size_t p = 1; p <= MAX_PERIOD; p++) {
			size_t i;

			if (s + 3 * p > bt->n)
				break;
			for (i = s; i + p < bt->n && i < s + 2 * p; i++)
				if (!same_frame(&bt->frames[i], &bt->frames[i + p]))
					break;
			if (i < s + 2 * p)
				continue;
			bt->period = p;
			bt->period_start = s;
			if (bt->frames[s + p].sp > bt->frames[s].sp)
				bt->period_bytes = bt->frames[s + p].sp - bt->frames[s].sp;
			return;
		}
}

/* A fetch from an address outside every module (a call through a bad
 * pointer) has no CFI to unwind: the return address the call left at sp
 * names the caller, which a frame-pointer fallback would skip. */
static void caller_of_wild_call(struct walk *w, bool is32)
{
	struct ml_backtrace *bt = w->bt;
	uint64_t ret = 0;
	size_t width = is32 ? 4 : 8;

	if (bt->n == 0 || bt->frames[0].object || !bt->frames[0].sp)
		return;
	if (w->read(w->read_ctx, bt->frames[0].sp, &ret, width) != (ssize_t)width || !ret)
		return;
	if (!dwfl_addrmodule(w->dwfl, ret - 1) || (bt->n > 1 && bt->frames[1].pc == ret - 1))
		return;
	if (bt->n == w->max) {
		bt->n--;
		bt->truncated = true;
	}
	memmove(&bt->frames[2], &bt->frames[1], (bt->n - 1) * sizeof(bt->frames[0]));
	memset(&bt->frames[1], 0, sizeof(bt->frames[1]));
	bt->frames[1].pc = ret - 1;
	bt->frames[1].return_address = ret;
	symbolise(w->dwfl, &bt->frames[1]);
	bt->n++;
}

/* Is the process pid a 32-bit one?  (Which sp register to read.) */
static bool is_32bit(pid_t tid)
{
	struct ml_regs r;

	return ml_regs_get(tid, &r) == 0 && r.is_32bit;
}

/* The frames of tid into w->bt. */
static void walk_thread(struct walk *w, pid_t tid, bool is32)
{
	w->sp_reg = is32 ? DWARF_SP_32 : DWARF_SP_64;
	/* Ends with -1 when the unwinder runs out of CFI or hits the cap:
	 * the frames so far are the answer either way. */
	dwfl_getthread_frames(w->dwfl, tid, frame_cb, w);
	caller_of_wild_call(w, is32);
}

static ssize_t tracee_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return ml_tracee_read((pid_t)(intptr_t)ctx, addr, buf, len);
}

static int walk(pid_t pid, pid_t tid, struct walk *w)
{
	int r;

	dwfl_report_begin(w->dwfl);
	r = dwfl_linux_proc_report(w->dwfl, pid);
	dwfl_report_end(w->dwfl, NULL, NULL);
	if (r != 0)
		return r > 0 ? -r : -ESRCH;
	r = dwfl_linux_proc_attach(w->dwfl, pid, true);
	if (r != 0)
		return r > 0 ? -r : -ESRCH;
	w->read = tracee_read;
	w->read_ctx = (void *)(intptr_t)pid;
	walk_thread(w, tid, is_32bit(tid));
	return 0;
}

static struct ml_backtrace *backtrace_new(size_t max)
{
	struct ml_backtrace *bt = calloc(1, sizeof(*bt));

	if (bt && !(bt->frames = calloc(max, sizeof(*bt->frames)))) {
		free(bt);
		bt = NULL;
	}
	return bt;
}

int ml_backtrace_take(pid_t pid, pid_t tid, size_t max, struct ml_backtrace **ret)
{
	struct ml_backtrace *bt;
	struct walk w = { 0 };
	int r;

	if (pid <= 0 || tid <= 0 || max == 0 || !ret)
		return -EINVAL;
	if ((r = ml__dw_load()) < 0)
		return r;
	bt = backtrace_new(max);
	w.dwfl = dwfl_begin(&ml__dw_proc_callbacks);
	if (!bt || !w.dwfl) {
		ml_backtrace_free(bt);
		dwfl_end(w.dwfl);
		return -ENOMEM;
	}
	w.bt = bt;
	w.max = max;
	r = walk(pid, tid, &w);
	dwfl_end(w.dwfl);
	if (r < 0) {
		ml_backtrace_free(bt);
		return r;
	}
	find_period(bt);
	*ret = bt;
	return 0;
}

int ml__backtrace_dwfl(struct Dwfl *dwfl, pid_t tid, bool is_32bit, size_t max,
		       ml__mem_read_fn read, void *ctx, struct ml_backtrace **ret)
{
	struct walk w = { .dwfl = dwfl, .max = max, .read = read, .read_ctx = ctx };

	if (!dwfl || tid <= 0 || max == 0 || !read || !ret)
		return -EINVAL;
	if (!(w.bt = backtrace_new(max)))
		return -ENOMEM;
	walk_thread(&w, tid, is_32bit);
	find_period(w.bt);
	*ret = w.bt;
	return 0;
}

static void frame_free(struct ml_frame *f)
{
	free(f->function);
	free(f->file);
	free(f->object);
}

int ml_backtrace_from(struct ml_backtrace *bt, uint64_t pc)
{
	size_t k;

	if (!bt)
		return -EINVAL;
	for (k = 1; k < bt->n && bt->frames[k].pc != pc; k++)
		;
	if (k >= bt->n)
		return -ENOENT;
	for (size_t i = 0; i < k; i++)
		frame_free(&bt->frames[i]);
	memmove(bt->frames, bt->frames + k, (bt->n - k) * sizeof(*bt->frames));
	bt->n -= k;
	bt->period = bt->period_start = 0;
	bt->period_bytes = 0;
	find_period(bt);
	return (int)k;
}

void ml_backtrace_free(struct ml_backtrace *bt)
{
	if (!bt)
		return;
	for (size_t i = 0; bt->frames && i < bt->n; i++)
		frame_free(&bt->frames[i]);
	free(bt->frames);
	free(bt);
}
