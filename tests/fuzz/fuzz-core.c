/* SPDX-License-Identifier: MIT */
/*
 * fuzz-core.c - libFuzzer target for the core reader (lib/core.c): a core
 * file is whatever a crashed process left, or anything a user points
 * memlayout explain at.  The input is the core file, written to a fresh
 * memfd and opened as /proc/self/fd/N with an empty directory as the
 * sysroot (so no file the notes name is ever opened), then:
 *  1. ml_core_open: 0 or one of its documented errors;
 *  2. on success, the snapshot (ELF attribution included, finding
 *     nothing) is checked: regions sorted, disjoint, start < end, a name
 *     never NULL; threads as many as the core says;
 *  3. the fault of the dumping thread, and reads of memory at the fault
 *     address, the pc, each thread's sp and each region's start: a count
 *     never above what was asked, or -EFAULT;
 *  4. the region table (every column, text and JSON) and the diagram,
 *     and ml_crash_explain on the fault, its report (text, JSON) to /dev/null.
 * The backtrace (libdwfl, dlopen()ed) is left out: its parsing of the core
 * is elfutils', fuzzed there.  A failed check calls abort().
 *
 * Seeds (corpus-core/): cores of tests/run/crash-target null-pointer,
 * 64-bit and 32-bit, written by the kernel with coredump_filter 0 (notes
 * and headers, no contents) so they stay small.
 */
#include "memlayout.h"
#include "ml-private.h"
#include "fuzz-common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const int core_errors[] = { ENOEXEC, EMEDIUMTYPE, EPROTONOSUPPORT, ENODATA,
				   EBADMSG, E2BIG, ENOMEM };

static char sysroot[] = "/tmp/fuzz-core-root.XXXXXX";

static void check_snapshot(const struct ml_snapshot *snap, const struct ml_core *c)
{
	size_t n, nt, ct;
	const struct ml_region *r = ml_snapshot_regions(snap, &n);

	for (size_t i = 0; i < n; i++) {
		if (r[i].start >= r[i].end || !r[i].name || !r[i].smaps)
			abort();
		if (i && r[i].start < r[i - 1].end)
			abort();
	}
	ml_snapshot_threads(snap, &nt);
	ml_core_threads(c, &ct);
	if (nt != ct)
		abort();
}

static void read_at(struct ml_core *c, uint64_t addr)
{
	unsigned char buf[64];
	ssize_t k = ml_core_read(c, addr, buf, sizeof(buf));

	if (k != -EFAULT && (k <= 0 || (size_t)k > sizeof(buf)))
		abort();
}

static void render(const struct ml_snapshot *snap)
{
	int all[64];
	size_t ncols;

	ml_columns(&ncols);
	if (ncols > ML_ARRAY_SIZE(all))
		abort();
	for (size_t i = 0; i < ncols; i++)
		all[i] = (int)i;
	const struct ml_table_opts t = { all, ncols, 0 }, j = { all, ncols, ML_OUT_JSON };
	ml_render_regions(snap, devnull(), &t);
	ml_render_regions(snap, devnull(), &j);
	struct ml_diagram_opts d = { 0 };
	ml_render_diagram(snap, devnull(), &d);
}

static void fuzz_core(struct ml_core *c)
{
	struct ml_snapshot *snap;
	struct ml_fault f;
	struct ml_crash cr;
	size_t n;

	if (ml_core_snapshot(c, 0, &snap) < 0)
		return;
	check_snapshot(snap, c);
	if (ml_core_fault(c, &f) < 0 || f.ncode > sizeof(f.code_bytes))
		abort();
	read_at(c, f.addr);
	read_at(c, f.regs.pc);
	const struct ml_core_thread *t = ml_core_threads(c, &n);
	for (size_t i = 0; i < n; i++)
		read_at(c, t[i].regs.sp);
	const struct ml_region *r = ml_snapshot_regions(snap, &n);
	for (size_t i = 0; i < n && i < 64; i++)
		read_at(c, r[i].start);
	render(snap);
	if (ml_crash_explain(snap, &f, &cr) == 0) {
		ml_render_crash_width(snap, &cr, NULL, devnull(), 0, 0);
		ml_render_crash_width(snap, &cr, NULL, devnull(), ML_OUT_JSON, 0);
	}
	ml_core_gaps(c, &n);
	ml_snapshot_free(snap);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct ml_core *c;
	char path[64];
	int fd, r;

	static bool made;

	/* Once: mkdtemp's random suffix may itself end in 'X', so the
	 * template is no sign of whether it was made (that flaked in CI). */
	if (!made) {
		if (!mkdtemp(sysroot))
			abort();
		made = true;
	}
	fd = memfd_create("fuzz-core", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (size_t done = 0; done < size; ) {
		ssize_t k = write(fd, data + done, size - done);
		if (k <= 0)
			abort();
		done += (size_t)k;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = ml_core_open(path, sysroot, NULL, &c);
	if (r == 0) {
		fuzz_core(c);
		ml_core_free(c);
	} else {
		bool known = false;
		for (size_t i = 0; i < ML_ARRAY_SIZE(core_errors); i++)
			known |= -r == core_errors[i];
		if (!known)
			abort();
	}
	close(fd);
	return 0;
}
