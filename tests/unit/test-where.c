/* SPDX-License-Identifier: MIT */
/*
 * test-where.c - where.c on the snapshot of a real child process: the
 * child maps an anonymous region and a file region in a reservation of
 * its own (a gap of 3 pages between them, which it tells the test), grows its brk and tells its stack address.
 * Expected values come from the test's own knowledge of what the child
 * mapped and from its own sscanf parse of /proc/PID/maps and stat, never
 * from where.c's rules: region, offsets in the mapping and in the file,
 * the holes (between, null zone, stack guard gap, stack reach, above the
 * heap, above the last mapping, non-canonical, kernel) with their bounds
 * and neighbours, the main stack's facts, the brk heap's offsets, and the
 * page-table indices taken from the address's bits one level at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ml-private.h"
#include "kernel-probe.h"

#define PG 4096ull
static uint64_t BASE;                   /* the anonymous region: 4 pages */
#define FILEMAP (BASE + 7 * PG)         /* the file region: 2 pages at file offset 2 pages */

struct line { uint64_t start, end, off; char perms[5]; char name[256]; };

static pid_t child;
static int to_child = -1;
static uint64_t child_stack_var, child_brk;
static struct line lines[512];
static size_t nlines;
static struct ml_snapshot *snap;
static struct ml_where_ctx *ctx;

/* The child: its mappings, then its facts on the pipe, then wait. */
static void child_main(int wfd, int rfd, int filefd)
{
	volatile int local = 1;
	uint64_t facts[3];
	char c;
	/* 11 pages reserved where the kernel likes, then: one left ---p (so
	 * that no neighbour merges with what follows), 4 anonymous, a gap of
	 * 3, 2 of the file, one left ---p */
	char *r = mmap(NULL, 11 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED)
		_exit(3);
	r += PG;
	BASE = (uint64_t)(uintptr_t)r;
	if (mmap(r, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) != r || munmap(r + 4 * PG, 3 * PG) ||
	    mmap(r + 7 * PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED,
		 filefd, 2 * PG) != r + 7 * PG)
		_exit(3);
	if (sbrk(5 * PG) == (void *)-1)
		_exit(4);
	facts[0] = (uint64_t)(uintptr_t)&local;
	facts[1] = (uint64_t)(uintptr_t)sbrk(0);
	facts[2] = BASE;
	if (write(wfd, facts, sizeof(facts)) != sizeof(facts))
		_exit(5);
	(void)!read(rfd, &c, 1);
	_exit(local ? 0 : 1);
}

/* The child's maps, parsed here with sscanf. */
static void read_maps(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	nlines = 0;
	while (nlines < 512 && fgets(buf, sizeof(buf), f)) {
		struct line *l = &lines[nlines];
		int n = 0;

		l->name[0] = 0;
		assert_true(sscanf(buf, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n",
				   &l->start, &l->end, l->perms, &l->off, &n) >= 4);
		sscanf(buf + n, "%255[^\n]", l->name);
		nlines++;
	}
	fclose(f);
}

/* The last line of that name (after a fork the brk's growth can be a
 * [heap] mapping of its own, not merged with the inherited one). */
static const struct line *line_named(const char *name)
{
	const struct line *l = NULL;

	for (size_t i = 0; i < nlines; i++)
		if (!strcmp(lines[i].name, name))
			l = &lines[i];
	return l;
}

static const struct line *line_at(uint64_t a)
{
	for (size_t i = 0; i < nlines; i++)
		if (a >= lines[i].start && a < lines[i].end)
			return &lines[i];
	return NULL;
}

/* The last line ending at or below a, the first starting above it. */
static const struct line *line_below(uint64_t a)
{
	const struct line *b = NULL;

	for (size_t i = 0; i < nlines; i++)
		if (lines[i].end <= a)
			b = &lines[i];
	return b;
}

/* Until the child is blocked in its read() (its /proc/PID/syscall no
 * longer "running"; at most 5 s): it wrote its facts just before, and a
 * snapshot taken while it is still on its way there has no sp to give,
 * where test_stack, reading the same file later, would find one. */
static void wait_blocked(void)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)child);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		bool running;

		if (!f)
			return;   /* not readable: test_stack finds no sp either */
		running = !fgets(buf, sizeof(buf), f) || !strncmp(buf, "running", 7);
		fclose(f);
		if (!running)
			return;
		usleep(1000);
	}
}

static int setup(void **state)
{
	int up[2], down[2];
	char tmpl[] = "/tmp/ml-test-where-XXXXXX";
	int fd = mkstemp(tmpl);
	char page[PG];
	ssize_t got;

	(void)state;
	if (fd < 0 || pipe(up) || pipe(down))
		return -1;
	unlink(tmpl);
	memset(page, 'x', sizeof(page));
	for (int i = 0; i < 4; i++)
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
			return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		child_main(up[1], down[0], fd);
	}
	close(fd);
	close(up[1]);
	close(down[0]);
	to_child = down[1];
	uint64_t facts[3];
	got = read(up[0], facts, sizeof(facts));
	close(up[0]);
	if (got != (ssize_t)sizeof(facts))
		return -1;
	child_stack_var = facts[0];
	child_brk = facts[1];
	BASE = facts[2];
	read_maps(child);
	wait_blocked();
	struct ml_snap_opts o = { NULL, ML_SNAP_NOELF };
	if (ml_snapshot_take(child, &o, &snap) || ml_where_ctx_new(snap, NULL, NULL, &ctx))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	int st;

	(void)state;
	ml_where_ctx_free(ctx);
	ml_snapshot_free(snap);
	close(to_child);
	waitpid(child, &st, 0);
	return 0;
}

static struct ml_where ask(uint64_t a)
{
	struct ml_where w;

	memset(&w, 0xa5, sizeof(w));
	assert_int_equal(ml_where_explain(ctx, a, &w), 0);
	assert_true(w.addr == a);
	return w;
}

static void expect_hole(uint64_t a, enum ml_hole want, uint64_t lo, uint64_t hi)
{
	struct ml_where w = ask(a);

	assert_null(w.region);
	if (w.hole != want)
		fail_msg("0x%" PRIx64 ": hole %s, want %s", a, ml_hole_name(w.hole), ml_hole_name(want));
	if (w.hole_start != lo || w.hole_end != hi)
		fail_msg("0x%" PRIx64 " (%s): bounds 0x%" PRIx64 "-0x%" PRIx64 ", want 0x%" PRIx64
			 "-0x%" PRIx64, a, ml_hole_name(want), w.hole_start, w.hole_end, lo, hi);
}

static void test_mapped(void **state)
{
	(void)state;
	struct ml_where w = ask(BASE + 2 * PG + 0x123);

	assert_non_null(w.region);
	assert_true(w.region->start == BASE && w.region->end == BASE + 4 * PG);
	assert_int_equal(w.region->kind, ML_KIND_ANON);
	assert_true(w.map_offset == 2 * PG + 0x123);
	assert_false(w.has_file_offset);
	assert_int_equal(w.hole, ML_HOLE_NONE);
	assert_false(w.is_stack);
	assert_false(w.is_heap);

	w = ask(FILEMAP + PG + 7);
	assert_true(w.region->start == FILEMAP && w.region->end == FILEMAP + 2 * PG);
	assert_int_equal(w.region->kind, ML_KIND_FILE);
	assert_true(w.map_offset == PG + 7);
	assert_true(w.has_file_offset);
	assert_true(w.file_offset == 3 * PG + 7);      /* mapped at file offset 2 pages */

	/* the first and last byte are in, the end is not */
	assert_true(ask(BASE).region->start == BASE);
	assert_true(ask(BASE + 4 * PG - 1).map_offset == 4 * PG - 1);
	assert_null(ask(BASE + 4 * PG).region);
}

static void test_between(void **state)
{
	(void)state;
	uint64_t a = BASE + 5 * PG + 0x10;
	struct ml_where w = ask(a);

	expect_hole(a, ML_HOLE_BETWEEN, BASE + 4 * PG, FILEMAP);
	assert_true(w.below->start == BASE && w.above->start == FILEMAP);
	assert_true(w.dist_below == PG + 0x10);
	assert_true(w.dist_above == FILEMAP - a);
	/* the last byte of the gap */
	expect_hole(FILEMAP - 1, ML_HOLE_BETWEEN, BASE + 4 * PG, FILEMAP);
}

static uint64_t read_u64_file(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &v), 1);
	fclose(f);
	return v;
}

static void test_null_zone(void **state)
{
	(void)state;
	uint64_t min = read_u64_file("/proc/sys/vm/mmap_min_addr");

	if (min == 0)
		skip_because("vm.mmap_min_addr is 0: no NULL guard zone");
	expect_hole(0, ML_HOLE_NULL_ZONE, 0, min);
	expect_hole(min - 1, ML_HOLE_NULL_ZONE, 0, min);
	struct ml_where w = ask(0x10);
	assert_null(w.below);
	assert_true(w.above == &snap->regions[0]);
	assert_true(w.above->start == lines[0].start);
	assert_true(w.dist_above == lines[0].start - 0x10);
}

/* stack_guard_gap (pages) from the kernel command line, else 256. */
static uint64_t guard_gap_bytes(void)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");
	const char *p;

	if (f) {
		(void)!fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	p = strstr(buf, "stack_guard_gap=");
	return (p ? strtoull(p + 16, NULL, 0) : 256) * PG;
}

/* The sp field of /proc/PID/syscall ("nr a1 .. a6 sp pc"), 0 if none. */
static uint64_t syscall_sp(void)
{
	char path[64], buf[512];
	unsigned long long f[9];
	FILE *f_;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)child);
	f_ = fopen(path, "r");
	if (!f_)
		return 0;
	if (!fgets(buf, sizeof(buf), f_) ||
	    sscanf(buf, "%llu %llx %llx %llx %llx %llx %llx %llx %llx", &f[0], &f[1], &f[2],
		   &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) != 9)
		f[7] = 0;
	fclose(f_);
	return f[7];
}

static void test_stack(void **state)
{
	(void)state;
	const struct line *st = line_named("[stack]"), *below;
	struct rlimit rl;
	uint64_t gap = guard_gap_bytes(), floor, a;

	assert_non_null(st);
	assert_true(child_stack_var >= st->start && child_stack_var < st->end);
	struct ml_where w = ask(child_stack_var);
	assert_true(w.is_stack);
	assert_int_equal(w.region->kind, ML_KIND_STACK);
	assert_int_equal(w.stack_tid, child);
	assert_true(w.below_top == st->end - child_stack_var);
	/* blocked in read(): /proc/PID/syscall gives its sp (the snapshot's
	 * source too, but read here on its own) */
	uint64_t sp = syscall_sp();
	if (sp && sp >= st->start && sp < st->end) {
		assert_true(w.sp_known);
		assert_true(w.sp == sp);
	} else {
		assert_false(w.sp_known);
	}

	/* room: from the region's start down to RLIMIT_STACK below its top,
	 * or to the guard gap above the mapping below, whichever is higher */
	assert_int_equal(getrlimit(RLIMIT_STACK, &rl), 0);
	below = line_below(st->start);
	assert_non_null(below);
	floor = 0;
	const char *why = "unlimited";
	if (rl.rlim_cur != RLIM_INFINITY && st->end > rl.rlim_cur) {
		floor = st->end - rl.rlim_cur;
		why = "RLIMIT_STACK";
	}
	if (below->end + gap > floor) {
		floor = below->end + gap;
		why = "the stack guard gap";
	}
	uint64_t from = w.sp_known ? sp : st->start;
	assert_true(w.room == (from > floor ? from - floor : 0));
	assert_string_equal(w.room_limit, why);

	/* just below [stack]: its guard gap, then where it may still reach */
	if (st->start - below->end <= gap + 2 * PG)
		skip_because("the mapping below [stack] is within its guard gap");
	expect_hole(st->start - 1, ML_HOLE_STACK_GUARD, st->start - gap, st->start);
	a = st->start - gap - 1;
	if (rl.rlim_cur == RLIM_INFINITY || st->end - rl.rlim_cur < st->start - gap) {
		uint64_t lo = rl.rlim_cur == RLIM_INFINITY ? below->end :
			(st->end - rl.rlim_cur > below->end ? st->end - rl.rlim_cur : below->end);
		if (a >= lo)
			expect_hole(a, ML_HOLE_STACK_REACH, lo, st->start - gap);
	}
}

static void test_heap(void **state)
{
	(void)state;
	const struct line *h = line_named("[heap]");
	char path[64], buf[4096], *p;
	unsigned long long start_brk = 0;
	FILE *f;

	assert_non_null(h);
	if (child_brk <= h->start || child_brk > h->end)
		fail_msg("brk 0x%" PRIx64 " outside [heap] 0x%" PRIx64 "-0x%" PRIx64,
			 child_brk, h->start, h->end);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* after ") ", field 3 onward; start_brk is field 47 */
	p += 2;
	for (int field = 3; field < 47; field++) {
		p = strchr(p, ' ');
		assert_non_null(p);
		p++;
	}
	start_brk = strtoull(p, NULL, 10);
	assert_true(start_brk >= line_at(start_brk)->start && start_brk <= h->start);

	uint64_t a = child_brk - 100;
	struct ml_where w = ask(a);
	assert_true(w.is_heap);
	assert_int_equal(w.region->kind, ML_KIND_HEAP);
	assert_true(w.heap_offset == a - start_brk);
	assert_true(w.to_brk == h->end - a);        /* the brk: [heap]'s page-rounded end */
	a = start_brk + 8;
	w = ask(a);
	assert_true(w.is_heap && w.heap_offset == 8);

	/* right above the heap: room for the heap and the mmaps */
	if (line_at(h->end))
		skip_because("a mapping follows [heap] directly");
	a = h->end + 0x10;
	const struct line *up = NULL;
	for (size_t i = 0; i < nlines && !up; i++)
		if (lines[i].start > a)
			up = &lines[i];
	assert_non_null(up);
	expect_hole(a, ML_HOLE_HEAP_MMAP, h->end, up->start);
	w = ask(a);
	assert_true(w.below->start == h->start && w.dist_below == 0x10);
}

static int cpu_has_la57(void)
{
	char buf[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int la57 = 0;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "flags", 5)) {
			la57 = strstr(buf, " la57") != NULL;
			break;
		}
	fclose(f);
	return la57;
}

/* Indices per level: the bits of the address, one level at a time,
 * from the bottom: 12 bits of page offset, then 9 bits a level. */
static void test_page_walk(void **state)
{
	(void)state;
#if !defined(__x86_64__)
	skip_because("page-table geometry checked on x86-64 only");
#else
	const uint64_t addrs[] = { BASE + 0x1234, FILEMAP + PG + 1, 0x7f123456789aull,
					  0x10, 0x0000555512345678ull, 0x7fffffffefffull };
	int la57 = cpu_has_la57();
	unsigned int levels = la57 > 0 ? 5 : 4;
	static const char *names5[] = { "PGD", "P4D", "PUD", "PMD", "PTE" };
	static const char *names4[] = { "PGD", "PUD", "PMD", "PTE" };

	if (la57 < 0)
		skip_because("no /proc/cpuinfo");
	for (size_t i = 0; i < ML_ARRAY_SIZE(addrs); i++) {
		uint64_t a = addrs[i], rest = a / PG;
		struct ml_where w = ask(a);

		assert_true(w.page_size == PG);
		assert_true(w.vpn == a >> 12);
		assert_true(w.page_offset == (a & 0xfff));
		assert_int_equal(w.nlevels, levels);
		for (int lv = (int)levels - 1; lv >= 0; lv--) {
			unsigned int idx = (unsigned int)(rest % 512);
			rest /= 512;
			if (w.levels[lv].index != idx)
				fail_msg("0x%" PRIx64 " level %d (%s): index %u, want %u", a, lv,
					 w.levels[lv].name, w.levels[lv].index, idx);
			assert_string_equal(w.levels[lv].name,
					    (levels == 5 ? names5 : names4)[lv]);
		}
	}
#endif
}

static void test_top_holes(void **state)
{
	(void)state;
#if !defined(__x86_64__)
	skip_because("the x86-64 address space is checked here");
#else
	int la57 = cpu_has_la57();
	uint64_t canon = la57 > 0 ? 1ull << 56 : 1ull << 47;
	uint64_t top = snap->proc.user_top;
	const struct line *last = NULL;

	for (size_t i = 0; i < nlines; i++)
		if (lines[i].end <= canon - PG)
			last = &lines[i];
	assert_non_null(last);
	assert_true(top > last->end && top <= canon);
	/* above the last user mapping, below the top of user space */
	expect_hole(last->end + 0x100, ML_HOLE_ABOVE_LAST, last->end, top);
	/* the non-canonical hole: no page-table walk */
	struct ml_where w = ask(canon + 0x1000);
	assert_int_equal(w.hole, ML_HOLE_NONCANONICAL);
	assert_int_equal(w.nlevels, 0);
	assert_true(w.vpn == (canon + 0x1000) >> 12);
	/* the kernel half (below vsyscall, where x86-64 maps it) */
	w = ask(0xffff888000000000ull);
	assert_int_equal(w.hole, ML_HOLE_KERNEL);
	assert_true(w.nlevels > 0);
	assert_string_equal(ml_hole_name(ML_HOLE_KERNEL), "kernel");
	assert_string_equal(ml_hole_name(ML_HOLE__COUNT), "?");
#endif
}

/* Every address of a sweep over the child's whole layout: mapped iff
 * the maps file says so, in the region maps names, and otherwise between
 * the neighbours maps names. */
static void test_sweep(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < nlines; i++) {
		const uint64_t probe[] = { lines[i].start, lines[i].end - 1, lines[i].end,
					   lines[i].start - 1 };
		for (size_t k = 0; k < 4; k++) {
			uint64_t a = probe[k];
			const struct line *l = line_at(a);
			struct ml_where w = ask(a);
			if (!l) {
				assert_null(w.region);
				assert_true(w.hole != ML_HOLE_NONE);
				const struct line *b = line_below(a + 1);
				if (b && w.below && w.below->end <= snap->proc.user_top)
					assert_true(w.below->end == b->end);
				continue;
			}
			assert_non_null(w.region);
			assert_true(w.region->start == l->start && w.region->end == l->end);
			assert_true(w.map_offset == a - l->start);
		}
	}
	for (int n = 0; n < 20000; n++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* around the mapped addresses: near a random line */
		const struct line *near = &lines[x % nlines];
		uint64_t a = near->start + ((x >> 20) % (near->end - near->start + 8 * PG)) - 4 * PG;
		const struct line *l = line_at(a);
		struct ml_where w = ask(a);
		if (l)
			assert_true(w.region && w.region->start == l->start &&
				    w.file_offset == l->off + (a - l->start));
		else
			assert_null(w.region);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_null_zone),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_heap),
		cmocka_unit_test(test_page_walk),
		cmocka_unit_test(test_top_holes),
		cmocka_unit_test(test_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
