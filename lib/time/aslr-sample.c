/* SPDX-License-Identifier: MIT */
/*
 * aslr-sample.c - one run of the ASLR measurement: start the command under
 * ptrace, stop it at its entry point (or exit), take a cheap snapshot, record
 * the bases it shows in the estimator (aslr.c), kill it (at exit: let it
 * finish exiting).
 *
 * The snapshot skips ELF attribution (ML_SNAP_NOELF): the executable's
 * text, rodata, data and bss come from the permissions of its mappings and
 * the anonymous mapping after them (classify.c's fallback), which is all a
 * base needs and keeps one run to a fork, an exec and a few /proc reads.
 *
 * Points, in this order (the first of a group leads it):
 *   exe text, exe rodata, exe data, exe bss   first mapping of that kind of
 *                                             the executable (page unit)
 *   heap                                      start_brk (stat field 47)
 *   heap - end of exe                         start_brk minus the end of the
 *                                             executable's last mapping, an
 *                                             offset (not grouped)
 *   each file by base name, "anon mmap #k"    lowest mapping of each file;
 *                                             anonymous mmaps numbered from
 *                                             the top (the first mapped)
 *   vdso, vvar, vsyscall, stack               region start; the stack's top
 *   argv, env                                 arg_start, env_start (stat
 *                                             fields 48, 50): where the
 *                                             argument and environment strings
 *                                             begin, in bytes (unit 1)
 *   stack pointer                             the main thread's sp (16-byte)
 *
 * ml_aslr_host_info reads the host's setting for the report's header
 * (/proc/sys/kernel/randomize_va_space and this process's persona).
 *
 * argv and env are counted at byte granularity because they are not
 * aligned to anything: the kernel copies the strings just below the top
 * of the stack, so they sit at the stack top minus their lengths.  The
 * estimator's step detection then finds the step the runs really show
 * (a page on x86-64, where only the stack top moves), rather than this
 * file presuming one.
 */
#include "ml-time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>

#define SP_UNIT 16

/* The executable's kinds that give a point, table-driven. */
static const struct { enum ml_kind kind; const char *name; } exe_points[] = {
	{ ML_KIND_TEXT,   "exe text" },
	{ ML_KIND_RODATA, "exe rodata" },
	{ ML_KIND_DATA,   "exe data" },
	{ ML_KIND_BSS,    "exe bss" },
};

/* Special regions that give a point: their start, or (stack) their end. */
static const struct { enum ml_kind kind; const char *name; bool top; } special_points[] = {
	{ ML_KIND_VDSO,     "vdso",        false },
	{ ML_KIND_VVAR,     "vvar",        false },
	{ ML_KIND_VSYSCALL, "vsyscall",    false },
	{ ML_KIND_STACK,    "stack (top)", true },
};

static bool is_exe(const struct ml_region *r, const char *exe)
{
	return exe && r->object && !strcmp(r->object, exe);
}

static int add_exe(struct ml_aslr *a, const struct ml_snapshot *snap, uint64_t page)
{
	const struct ml_proc *p = &snap->proc;
	uint64_t end = 0;
	int r;

	for (size_t k = 0; k < ML_ARRAY_SIZE(exe_points); k++) {
		for (size_t i = 0; i < snap->nregions; i++) {
			const struct ml_region *reg = &snap->regions[i];
			if (is_exe(reg, p->exe) && reg->kind == exe_points[k].kind) {
				if ((r = ml_aslr_add(a, exe_points[k].name, reg->start, page, 0)) < 0)
					return r;
				break;
			}
		}
	}
	for (size_t i = 0; i < snap->nregions; i++)
		if (is_exe(&snap->regions[i], p->exe))
			end = snap->regions[i].end;
	if (p->start_brk && (r = ml_aslr_add(a, "heap", p->start_brk, page, 0)) < 0)
		return r;
	if (p->start_brk && end && p->start_brk >= end)
		return ml_aslr_add(a, "heap - end of exe", p->start_brk - end, page,
				   ML_ASLR_RELATIVE);
	return 0;
}

/* Files (other than the executable) by base name, at their lowest mapping. */
static int add_files(struct ml_aslr *a, const struct ml_snapshot *snap, uint64_t page)
{
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *reg = &snap->regions[i];
		if (!reg->inode || reg->name[0] != '/' || is_exe(reg, snap->proc.exe) ||
		    reg->kind == ML_KIND_BSS)
			continue;
		int r = ml_aslr_add(a, ml__base_name(reg->name), reg->start, page, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_anon(struct ml_aslr *a, const struct ml_snapshot *snap, uint64_t page)
{
	char name[32];
	int k = 0;

	for (size_t i = snap->nregions; i-- > 0;) {
		if (snap->regions[i].kind != ML_KIND_ANON)
			continue;
		snprintf(name, sizeof(name), "anon mmap #%d", ++k);
		int r = ml_aslr_add(a, name, snap->regions[i].start, page, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_specials(struct ml_aslr *a, const struct ml_snapshot *snap, uint64_t page)
{
	for (size_t k = 0; k < ML_ARRAY_SIZE(special_points); k++) {
		for (size_t i = 0; i < snap->nregions; i++) {
			const struct ml_region *reg = &snap->regions[i];
			if (reg->kind != special_points[k].kind)
				continue;
			int r = ml_aslr_add(a, special_points[k].name,
					    special_points[k].top ? reg->end : reg->start, page, 0);
			if (r < 0)
				return r;
			break;
		}
	}
	if (snap->proc.arg_start) {
		int r = ml_aslr_add(a, "argv", snap->proc.arg_start, 1, 0);
		if (r == 0 && snap->proc.env_start)
			r = ml_aslr_add(a, "env", snap->proc.env_start, 1, 0);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < snap->nthreads; i++)
		if (snap->threads[i].tid == snap->proc.pid && snap->threads[i].sp_known)
			return ml_aslr_add(a, "stack pointer", snap->threads[i].sp, SP_UNIT, 0);
	return 0;
}

int ml_aslr_add_snapshot(struct ml_aslr *a, const struct ml_snapshot *snap)
{
	uint64_t page = snap->proc.page_size ? snap->proc.page_size : 4096;
	int r = ml_aslr_begin_run(a);

	if (r >= 0)
		r = add_exe(a, snap, page);
	if (r >= 0)
		r = add_files(a, snap, page);
	if (r >= 0)
		r = add_anon(a, snap, page);
	if (r >= 0)
		r = add_specials(a, snap, page);
	return r < 0 ? r : 0;
}

int ml_aslr_sample(struct ml_aslr *a, char *const argv[], enum ml_stop_at at,
		   int *ret_status)
{
	struct ml_snap_opts opts = { NULL, ML_SNAP_NOELF };
	struct ml_snapshot *snap = NULL;
	struct ml_traced *t;
	int r;

	r = ml_trace_start(argv, at, &t, ret_status);
	if (r < 0)
		return r;
	r = ml_snapshot_take(ml_traced_pid(t), &opts, &snap);
	if (r == 0)
		r = ml_aslr_add_snapshot(a, snap);
	ml_snapshot_free(snap);
	/* At its exit stop the child is already leaving: let it finish. */
	ml_trace_finish(t, at == ML_STOP_AT_START);
	return r;
}

/* The host's side of the runs (the header of `memlayout aslr`):
 * randomize_va_space, and the persona of this process, which the runs it
 * starts inherit (setarch -R, or a parent's). */
void ml_aslr_host_info(struct ml_aslr_info *ret)
{
	char *buf = NULL;
	size_t len;
	int persona = personality(0xffffffff);

	ret->randomize_va_space = -1;
	if (ml__read_file("/proc/sys/kernel/randomize_va_space", &buf, &len) == 0 &&
	    sscanf(buf, "%d", &ret->randomize_va_space) != 1)
		ret->randomize_va_space = -1;
	free(buf);
	ret->no_randomize = persona >= 0 && (persona & ADDR_NO_RANDOMIZE);
}
