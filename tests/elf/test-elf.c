/* SPDX-License-Identifier: MIT */
/*
 * test-elf.c - ELF attribution (lib/elf.c) on real files and processes.
 *
 * Runs elf-target (see elf-target.c) and its variants as children, takes a
 * snapshot with ml_snapshot_take() and checks the kind, object and
 * sections of the regions holding the addresses the child reports.
 * Arguments: elf-target, its stripped copy, its copy without section
 * headers, and the 32-bit build (or "-" if it could not be built).
 * test_layout_rules feeds edited copies of a real layout straight to
 * ml__elf_attribute() (ml-private.h).  Scratch files go to a mkdtemp()
 * directory removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memlayout.h"
#include "ml-private.h"

static const char *target_path, *stripped_path, *noshdr_path, *target32_path;
static char tmpdir[PATH_MAX];

#define MAX_FACTS 16
#define ML_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A running elf-target: stdin to end it, the facts it printed. */
struct child {
	pid_t pid;
	int in_fd;
	size_t nfacts;
	char keys[MAX_FACTS][64];
	uint64_t vals[MAX_FACTS];
};

static void read_facts(struct child *c, int out_fd)
{
	FILE *f = fdopen(out_fd, "r");
	char line[64];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		assert_non_null(eq);
		assert_true(c->nfacts < MAX_FACTS);
		*eq = '\0';
		snprintf(c->keys[c->nfacts], sizeof(c->keys[0]), "%s", line);
		c->vals[c->nfacts++] = strtoull(eq + 1, NULL, 16);
		if (strcmp(line, "ready") == 0)
			break;
	}
	fclose(f);
	assert_true(c->nfacts > 0);
	assert_string_equal(c->keys[c->nfacts - 1], "ready");
}

/* Start path with the extra argv (NULL-terminated) and read its facts. */
static void child_start(struct child *c, const char *path, char **extra)
{
	int in[2], out[2];
	char *argv[512] = { (char *)path };
	size_t n = 1;

	while (extra && extra[n - 1] && n < ML_ARRAY_LEN(argv) - 1) {
		argv[n] = extra[n - 1];
		n++;
	}
	memset(c, 0, sizeof(*c));
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in_fd = in[1];
	read_facts(c, out[0]);
}

static void child_stop(struct child *c)
{
	int status;

	close(c->in_fd);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static uint64_t fact(const struct child *c, const char *key)
{
	for (size_t i = 0; i < c->nfacts; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->vals[i];
	fail_msg("child did not report %s", key);
	return 0;
}

static struct ml_snapshot *snap_flags(const struct child *c,
				       unsigned int flags)
{
	struct ml_snap_opts opts = { .flags = flags };
	struct ml_snapshot *snap = NULL;

	assert_int_equal(ml_snapshot_take(c->pid, &opts, &snap), 0);
	assert_non_null(snap);
	return snap;
}

static struct ml_snapshot *snap_of(const struct child *c)
{
	return snap_flags(c, 0);
}

/* r is labelled as without ELF attribution (ML_SNAP_NOELF): the
 * permission-based labels. */
static void expect_basic(const struct ml_snapshot *basic,
			 const struct ml_region *r)
{
	const struct ml_region *b = ml_snapshot_find(basic, r->start);

	assert_non_null(b);
	assert_int_equal(b->start, r->start);
	assert_int_equal(b->end, r->end);
	if (r->kind != b->kind)
		fail_msg("%s at 0x%" PRIx64 ": kind %s, without ELF %s", r->name,
			 r->start, ml_kind_name(r->kind), ml_kind_name(b->kind));
	if (b->object) {
		assert_non_null(r->object);
		assert_string_equal(r->object, b->object);
	} else {
		assert_null(r->object);
	}
	assert_int_equal(r->nsections, b->nsections);
}

/* The region holding addr, checked to be of kind and owned by object
 * (NULL: none). */
static const struct ml_region *expect_region(const struct ml_snapshot *snap,
					     uint64_t addr, enum ml_kind kind,
					     const char *object)
{
	const struct ml_region *r = ml_snapshot_find(snap, addr);

	assert_non_null(r);
	if (r->kind != kind)
		fail_msg("0x%" PRIx64 " in %" PRIx64 "-%" PRIx64 " %s: kind %s, want %s",
			 addr, r->start, r->end, r->name, ml_kind_name(r->kind),
			 ml_kind_name(kind));
	if (object) {
		assert_non_null(r->object);
		assert_string_equal(r->object, object);
	} else {
		assert_null(r->object);
	}
	return r;
}

/* The region holding addr, of kind and owned by the file it maps. */
static const struct ml_region *expect_own_region(const struct ml_snapshot *snap,
						 uint64_t addr, enum ml_kind kind)
{
	const struct ml_region *r = ml_snapshot_find(snap, addr);

	assert_non_null(r);
	return expect_region(snap, addr, kind, r->name);
}

/* The section of r holding addr (0: any); its name must start with
 * prefix. */
static const struct ml_section *expect_section(const struct ml_region *r,
					       uint64_t addr, const char *prefix,
					       bool nobits)
{
	for (size_t i = 0; i < r->nsections; i++) {
		const struct ml_section *s = &r->sections[i];

		assert_true(s->start >= r->start && s->end <= r->end);
		assert_true(s->start < s->end);
		if (i > 0)
			assert_true(s->start >= r->sections[i - 1].start);
		if (addr && (addr < s->start || addr >= s->end))
			continue;
		if (strncmp(s->name, prefix, strlen(prefix)) != 0)
			continue;
		assert_int_equal(s->nobits, nobits);
		return s;
	}
	fail_msg("no section %s... at 0x%" PRIx64 " in %s (%zu sections)",
		 prefix, addr, r->name, r->nsections);
	return NULL;
}

static char *real(const char *path)
{
	char *p = realpath(path, NULL);

	assert_non_null(p);
	return p;
}

/* The kinds (bit set) of the regions whose object contains name. */
static unsigned int kinds_of(const struct ml_snapshot *snap, const char *name)
{
	size_t n;
	const struct ml_region *r = ml_snapshot_regions(snap, &n);
	unsigned int kinds = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].object && strstr(r[i].object, name))
			kinds |= 1u << r[i].kind;
	return kinds;
}

#define KIND_BIT(k) (1u << (k))
#define PERM_ANY (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)

/* The checks shared by the attributed variants; secs: real section names
 * (else program-header names). */
static void check_target(const char *path, bool secs)
{
	struct child c;
	struct ml_snapshot *snap;
	const struct ml_region *r, *first;
	char *exe = real(path);
	uint64_t bss_mid;
	size_t n;

	child_start(&c, path, NULL);
	snap = snap_of(&c);

	r = expect_region(snap, fact(&c, "text"), ML_KIND_TEXT, exe);
	expect_section(r, fact(&c, "text"), secs ? ".text" : "[LOAD#", false);
	r = expect_region(snap, fact(&c, "rodata"), ML_KIND_RODATA, exe);
	expect_section(r, fact(&c, "rodata"), secs ? ".rodata" : "[LOAD#", false);
	r = expect_region(snap, fact(&c, "data"), ML_KIND_DATA, exe);
	expect_section(r, fact(&c, "data"), secs ? ".data" : "[LOAD#", false);

	/* The 1 MiB .bss: an anonymous mapping after the rw-p file pages. */
	bss_mid = fact(&c, "bss_mid");
	r = expect_region(snap, bss_mid, ML_KIND_BSS, exe);
	assert_int_equal(r->inode, 0);
	assert_string_equal(r->name, "");
	assert_true(r->end - r->start >= (1u << 20) - 2 * 4096);
	expect_section(r, bss_mid, secs ? ".bss" : "[LOAD#", true);
	for (size_t i = 0; i < r->nsections; i++)
		assert_true(r->sections[i].nobits);
	r = ml_snapshot_find(snap, fact(&c, "bss"));
	assert_non_null(r);
	assert_true(r->kind == ML_KIND_DATA || r->kind == ML_KIND_BSS);
	expect_section(r, fact(&c, "bss"), secs ? ".bss" : "[LOAD#", true);

	/* The first mapping holds the ELF header: read-only data. */
	first = ml_snapshot_regions(snap, &n);
	while (first->name[0] != '/')
		first++;
	assert_string_equal(first->name, exe);
	assert_int_equal(first->kind, ML_KIND_RODATA);
	if (!secs) {
		assert_true(kinds_of(snap, exe) & KIND_BIT(ML_KIND_RELRO));
		for (r = first; r->object && strcmp(r->object, exe) == 0; r++)
			if (r->kind == ML_KIND_RELRO)
				break;
		expect_section(r, 0, "[PT_GNU_RELRO]", false);
	}

	/* libc, from its own file: all four kinds of file-backed segment. */
	r = expect_own_region(snap, fact(&c, "libc_text"), ML_KIND_TEXT);
	assert_non_null(strstr(r->object, "libc.so"));
	expect_section(r, fact(&c, "libc_text"), ".text", false);
	assert_int_equal(kinds_of(snap, "libc.so") &
			 (KIND_BIT(ML_KIND_TEXT) | KIND_BIT(ML_KIND_RODATA) |
			  KIND_BIT(ML_KIND_RELRO) | KIND_BIT(ML_KIND_DATA)),
			 KIND_BIT(ML_KIND_TEXT) | KIND_BIT(ML_KIND_RODATA) |
			 KIND_BIT(ML_KIND_RELRO) | KIND_BIT(ML_KIND_DATA));

	ml_snapshot_free(snap);
	child_stop(&c);
	free(exe);
}

static void test_exe64(void **state)
{
	(void)state;
	check_target(target_path, true);
}

/* objcopy --strip-all keeps the section headers (and so the names). */
static void test_stripped(void **state)
{
	(void)state;
	check_target(stripped_path, true);
}

static void test_no_section_headers(void **state)
{
	(void)state;
	check_target(noshdr_path, false);
}

static void test_exe32(void **state)
{
	struct child c;
	struct ml_snapshot *snap;

	(void)state;
	if (!target32_path)
		skip();
	check_target(target32_path, true);
	child_start(&c, target32_path, NULL);
	snap = snap_of(&c);
	assert_true(ml_snapshot_proc(snap)->is_32bit);
	ml_snapshot_free(snap);
	child_stop(&c);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	assert_int_equal(close(out), 0);
}

/* A deleted executable is read through map_files (root only); without
 * that it degrades to the permission-based labels. */
static void test_deleted(void **state)
{
	char path[PATH_MAX + 32];
	struct child c;
	struct ml_snapshot *snap;
	const struct ml_region *r;

	(void)state;
	snprintf(path, sizeof(path), "%s/elf-target-deleted", tmpdir);
	copy_file(target_path, path, 0755);
	child_start(&c, path, NULL);
	assert_int_equal(unlink(path), 0);
	snap = snap_of(&c);
	r = ml_snapshot_find(snap, fact(&c, "text"));
	assert_non_null(r);
	assert_true(r->deleted);
	assert_string_equal(r->name, path);
	/* Read through map_files (root) or /proc/PID/exe (a user). */
	r = expect_region(snap, fact(&c, "text"), ML_KIND_TEXT, path);
	expect_section(r, fact(&c, "text"), ".text", false);
	r = expect_region(snap, fact(&c, "bss_mid"), ML_KIND_BSS, path);
	expect_section(r, fact(&c, "bss_mid"), ".bss", true);
	ml_snapshot_free(snap);
	child_stop(&c);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static unsigned char *slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

/* Bad files that must keep the labels of a plain file mapping. */
enum { BAD_TRUNC64, BAD_GARBAGE, BAD_HUGE_COUNTS, BAD_PHDR_PAST_EOF, NBAD };

static size_t make_bad(const unsigned char *elf, size_t len, int which,
		       unsigned char *out)
{
	size_t n = len < 8192 ? len : 8192;

	memcpy(out, elf, n);
	switch (which) {
	case BAD_TRUNC64:             /* the ELF header only */
		return 64;
	case BAD_GARBAGE:             /* ELF magic, then noise */
		for (size_t i = 4; i < n; i++)
			out[i] = (unsigned char)(rand() >> 7);
		return n;
	case BAD_HUGE_COUNTS:         /* e_phnum, e_shnum = 0xffff */
		memset(out + 0x38, 0xff, 2);
		memset(out + 0x3c, 0xff, 2);
		return n;
	default:                      /* e_phoff far past the end */
		memset(out + 0x20, 0x7f, 8);
		return n;
	}
}

/* Flip a few random bytes in the ELF, program and section headers. */
static size_t mutate(const unsigned char *elf, size_t len, unsigned char *out)
{
	uint64_t shoff;
	int k = 1 + rand() % 8;

	memcpy(out, elf, len);
	memcpy(&shoff, elf + 0x28, sizeof(shoff));
	for (int i = 0; i < k; i++) {
		size_t at = rand() % 3 == 0 && shoff < len ?
			    shoff + (size_t)rand() % (len - shoff) :
			    (size_t)rand() % (len < 1024 ? len : 1024);
		out[at] = (unsigned char)(rand() >> 5);
	}
	return rand() % 8 == 0 ? (size_t)rand() % len : len;
}

#define NMUT 150

/* Garbage, truncated and hostile ELF files mapped by a process: no crash,
 * no error, and the plain bad files keep their file labels; so do plain
 * mmaps of the (valid) executable: the whole file, and its first page. */
static void test_hostile(void **state)
{
	static char names[NBAD + NMUT][PATH_MAX + 32];
	char *argv[NBAD + NMUT + 3] = { 0 };
	char first_page[PATH_MAX + 8];
	char *exe = real(target_path);
	size_t plain = 0;
	unsigned char *elf, *buf;
	size_t len, n;
	struct child c;
	struct ml_snapshot *snap, *basic;
	const struct ml_region *r;

	(void)state;
	srand(12345);
	elf = slurp(target_path, &len);
	buf = malloc(len);
	assert_non_null(buf);
	for (int i = 0; i < NBAD + NMUT; i++) {
		snprintf(names[i], sizeof(names[i]), "%s%s/bad-%03d",
			 i % 2 ? "x:" : "", tmpdir, i);
		n = i < NBAD ? make_bad(elf, len, i, buf) : mutate(elf, len, buf);
		write_file(names[i] + (i % 2 ? 2 : 0), buf, n ? n : 1);
		argv[i] = names[i];
	}
	argv[NBAD + NMUT] = exe;       /* plain read-only mmaps of an ELF */
	snprintf(first_page, sizeof(first_page), "n:4:%s", exe);
	argv[NBAD + NMUT + 1] = first_page;
	child_start(&c, target_path, argv);
	snap = snap_of(&c);
	basic = snap_flags(&c, ML_SNAP_NOELF);
	r = ml_snapshot_regions(snap, &n);
	for (size_t i = 0, seen = 0; i < n || seen != NBAD; i++) {
		const char *base;
		int idx;

		assert_true(i < n);
		base = strrchr(r[i].name, '/');
		if (!base || sscanf(base, "/bad-%d", &idx) != 1 || idx >= NBAD)
			continue;
		if (r[i].nsections)
			fail_msg("%s: %zu sections", r[i].name, r[i].nsections);
		expect_basic(basic, &r[i]);
		seen++;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(r[i].name, exe) != 0 || r[i].nsections)
			continue;
		assert_int_equal(r[i].offset, 0);
		assert_true(r[i].end - r[i].start == 4096 ||
			    r[i].end - r[i].start == ((len + 4095) & ~4095ul));
		expect_basic(basic, &r[i]);
		plain++;
	}
	assert_int_equal(plain, 1 + 4);
	expect_own_region(snap, fact(&c, "text"), ML_KIND_TEXT);
	ml_snapshot_free(basic);
	ml_snapshot_free(snap);
	child_stop(&c);
	free(buf);
	free(elf);
	free(exe);
}

/* A data file mapped 10,000 times is opened once: the snapshot stays fast
 * and the mappings stay plain file mappings. */
static void test_many_mappings(void **state)
{
	char path[PATH_MAX + 32], arg[PATH_MAX + 64], page[4096];
	char *argv[2] = { arg, NULL };
	struct timespec t0, t1;
	struct child c;
	struct ml_snapshot *snap;
	const struct ml_region *r;
	size_t n, files = 0;
	double secs;

	(void)state;
	memset(page, 'd', sizeof(page));
	snprintf(path, sizeof(path), "%s/data-file", tmpdir);
	write_file(path, page, sizeof(page));
	snprintf(arg, sizeof(arg), "n:10000:%s", path);
	child_start(&c, target_path, argv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snap = snap_of(&c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	r = ml_snapshot_regions(snap, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].name, path) == 0) {
			assert_int_equal(r[i].kind, ML_KIND_FILE);
			assert_int_equal(r[i].nsections, 0);
			files++;
		}
	assert_int_equal(files, 10000);
	if (secs > 2.0)
		fail_msg("snapshot of 10000 mappings took %.2f s", secs);
	ml_snapshot_free(snap);
	child_stop(&c);
}

/* A copy of src (an ML_SNAP_NOELF snapshot) below the user-space top, with
 * the basic labels back (file / anonymous) and room for extra regions.
 * Names are borrowed from src, which must outlive it. */
static struct ml_snapshot *basic_copy(const struct ml_snapshot *src,
				      size_t extra)
{
	struct ml_snapshot *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->proc = src->proc;
	memcpy(t->proc_dir, src->proc_dir, sizeof(t->proc_dir));
	memcpy(t->proc_root, src->proc_root, sizeof(t->proc_root));
	t->regions = calloc(src->nregions + extra, sizeof(*t->regions));
	assert_non_null(t->regions);
	t->cap = src->nregions + extra;
	for (size_t i = 0; i < src->nregions; i++) {
		struct ml_region *r = &t->regions[t->nregions];

		if (src->regions[i].start >= (1ull << 47))
			break;
		*r = src->regions[i];
		r->sections = NULL;
		r->nsections = 0;
		if (r->name[0] == '/' && r->inode) {
			r->kind = ML_KIND_FILE;
			r->object = r->name;
		} else if (r->name[0] == '\0') {
			r->kind = r->perms & PERM_ANY ? ML_KIND_ANON : ML_KIND_RESERVED;
			r->object = NULL;
		}
		t->nregions++;
	}
	return t;
}

/* Index in t of the first and last file mapping named exe. */
static void exe_span(const struct ml_snapshot *t, const char *exe,
		     size_t *ret_first, size_t *ret_last)
{
	size_t first = SIZE_MAX, last = 0;

	for (size_t i = 0; i < t->nregions; i++)
		if (strcmp(t->regions[i].name, exe) == 0) {
			if (first == SIZE_MAX)
				first = i;
			last = i;
		}
	assert_true(first != SIZE_MAX);
	*ret_first = first;
	*ret_last = last;
}

/* Rules that real layouts rarely show, on edited copies of a real layout
 * fed to ml__elf_attribute(): [heap] right after the last file mapping is
 * never .bss; an anonymous mapping reaching past p_memsz (merged with
 * another) is split there into .bss and anon; a second load of the same file at another address
 * gets its own bias; a PROT_NONE hole inside a load is a reservation of
 * the object. */
static void test_layout_rules(void **state)
{
	struct child c;
	struct ml_snapshot *src, *t;
	const struct ml_region *r, *o;
	char *exe = real(target_path);
	size_t first, last, n, k;
	uint64_t delta, text = 0;

	(void)state;
	child_start(&c, target_path, NULL);
	src = snap_flags(&c, ML_SNAP_NOELF);

	/* [heap] directly after the rw-p file mapping. */
	t = basic_copy(src, 0);
	exe_span(t, exe, &first, &last);
	assert_int_equal(t->regions[last + 1].start, t->regions[last].end);
	t->regions[last + 1].name = "[heap]";
	t->regions[last + 1].kind = ML_KIND_HEAP;
	t->regions[last + 1].object = "[heap]";
	assert_int_equal(ml__elf_attribute(t), 0);
	assert_int_equal(t->regions[last].kind, ML_KIND_DATA);
	assert_int_equal(t->regions[last + 1].kind, ML_KIND_HEAP);
	assert_string_equal(t->regions[last + 1].object, "[heap]");
	assert_int_equal(t->regions[last + 1].nsections, 0);
	ml_snapshot_free(t);

	/* The .bss mapping merged with the anonymous mapping after it: split
	 * where p_memsz ends, .bss and anon, sorted and disjoint. */
	t = basic_copy(src, 1);
	exe_span(t, exe, &first, &last);
	assert_true(t->regions[last + 2].start >= t->regions[last + 1].end + 16 * 4096);
	uint64_t bss_end = t->regions[last + 1].end;
	n = t->nregions;
	t->regions[last + 1].end += 16 * 4096;
	assert_int_equal(ml__elf_attribute(t), 0);
	assert_int_equal(t->nregions, n + 1);
	assert_int_equal(t->regions[last + 1].kind, ML_KIND_BSS);
	assert_string_equal(t->regions[last + 1].object, t->regions[last].object);
	assert_int_equal(t->regions[last + 1].end, bss_end);
	assert_int_equal(t->regions[last + 2].kind, ML_KIND_ANON);
	assert_null(t->regions[last + 2].object);
	assert_int_equal(t->regions[last + 2].start, bss_end);
	assert_int_equal(t->regions[last + 2].end, bss_end + 16 * 4096);
	for (size_t i = 1; i < t->nregions; i++)
		assert_true(t->regions[i - 1].end <= t->regions[i].start);
	ml_snapshot_free(t);

	/* A second load of the executable above everything else, its text
	 * turned into a PROT_NONE hole. */
	t = basic_copy(src, 16);
	exe_span(t, exe, &first, &last);
	n = last + 2 - first;                /* file mappings + .bss */
	assert_true(n <= 16);
	delta = (t->regions[t->nregions - 1].end - t->regions[first].start +
		 (1ull << 32)) & ~0xfffffull;
	for (size_t i = 0; i < n; i++) {
		struct ml_region *copy = &t->regions[t->nregions + i];

		*copy = t->regions[first + i];
		copy->start += delta;
		copy->end += delta;
		if (copy->perms & ML_PERM_EXEC)
			copy->perms = 0;
	}
	t->nregions += n;
	assert_int_equal(ml__elf_attribute(t), 0);
	for (size_t i = 0; i < n; i++) {
		o = &t->regions[first + i];
		r = &t->regions[t->nregions - n + i];
		if (o->kind == ML_KIND_TEXT) {
			assert_int_equal(r->kind, ML_KIND_RESERVED);
			assert_string_equal(r->object, exe);
			assert_true(o->nsections > 0);
			text = o->sections[0].start;
			continue;
		}
		assert_int_equal(r->kind, o->kind);
		assert_string_equal(r->object, exe);
		assert_int_equal(r->nsections, o->nsections);
		for (k = 0; k < r->nsections; k++) {
			assert_string_equal(r->sections[k].name, o->sections[k].name);
			assert_int_equal(r->sections[k].start, o->sections[k].start + delta);
			assert_int_equal(r->sections[k].end, o->sections[k].end + delta);
		}
	}
	assert_true(text != 0);
	assert_int_equal(t->regions[last + 1].kind, ML_KIND_BSS);
	assert_int_equal(t->regions[t->nregions - 1].kind, ML_KIND_BSS);
	ml_snapshot_free(t);

	ml_snapshot_free(src);
	child_stop(&c);
	free(exe);
}

static int rm_tmpdir(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe64),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_no_section_headers),
		cmocka_unit_test(test_exe32),
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_many_mappings),
		cmocka_unit_test(test_layout_rules),
	};
	const char *tmp = getenv("TMPDIR");
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: %s TARGET STRIPPED NOSHDR TARGET32|-\n",
			argv[0]);
		return 2;
	}
	target_path = argv[1];
	stripped_path = argv[2];
	noshdr_path = argv[3];
	target32_path = strcmp(argv[4], "-") ? argv[4] : NULL;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test-elf-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rm_tmpdir();
	return r;
}
