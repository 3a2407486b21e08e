/* SPDX-License-Identifier: MIT */
/*
 * test-maps.c - the maps/smaps parser on fixtures with every edge case:
 * names with spaces and \012, (deleted), [anon:NAME], no name, chunk
 * boundaries anywhere, malformed lines, smaps figures and VmFlags, 32-bit
 * addresses, and 20,000 mappings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

static struct ml_snapshot *new_snap(void)
{
	struct ml_snapshot *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	return s;
}

static const char maps_fixture[] =
	"55d546523000-55d546552000 r--p 00000000 fe:00 332835                     /usr/bin/bash\n"
	"55d546552000-55d546613000 r-xp 0002f000 fe:00 332835                     /usr/bin/bash\n"
	"55d57a375000-55d57a3f1000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f958bbe4000-7f958bc65000 rw-p 00000000 00:00 0 \n"
	"7f958bc65000-7f958bcbc000 r--p 00000000 fe:00 12                         /tmp/a dir/with  spaces \n"
	"7f958bcbc000-7f958bcbd000 r--p 00000000 fe:00 13                         /tmp/new\\012line (deleted)\n"
	"7f958bcbd000-7f958bcbe000 rw-p 00000000 00:00 0                          [anon:my arena]\n"
	"7f958bcbe000-7f958bcbf000 rw-s 00000000 00:01 2049                       /memfd:ring (deleted)\n"
	"7f958bcbf000-7f958bcc0000 rw-s 00000000 00:01 65538                      /SYSV0000162e (deleted)\n"
	"7f958bee8000-7f958beec000 r--p 00000000 00:00 0                          [vvar]\n"
	"7f958beec000-7f958beee000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
	"7f958beee000-7f958bef0000 r-xp 00000000 00:00 0                          [vdso]\n"
	"7ffcfb354000-7ffcfb375000 rw-p 00000000 00:00 0                          [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void parse_whole(struct ml_snapshot *s, const char *buf, bool smaps)
{
	assert_int_equal(ml__maps_parse_buffer(s, buf, strlen(buf), smaps), 0);
}

static void free_snap(struct ml_snapshot *s)
{
	ml_snapshot_free(s);
}

static void test_fields(void **state)
{
	(void)state;
	struct ml_snapshot *s = new_snap();
	parse_whole(s, maps_fixture, false);
	assert_int_equal(s->nregions, 14);
	const struct ml_region *r = &s->regions[1];
	assert_true(r->start == 0x55d546552000ull && r->end == 0x55d546613000ull);
	assert_int_equal(r->perms, ML_PERM_READ | ML_PERM_EXEC);
	assert_true(r->offset == 0x2f000);
	assert_int_equal(r->dev_major, 0xfe);
	assert_int_equal(r->dev_minor, 0);
	assert_true(r->inode == 332835);
	assert_string_equal(r->name, "/usr/bin/bash");
	assert_false(r->deleted);
	assert_true(s->regions[13].start == 0xffffffffff600000ull);
	assert_int_equal(s->regions[7].perms, ML_PERM_READ | ML_PERM_WRITE | ML_PERM_SHARED);
	free_snap(s);
}

static void test_names(void **state)
{
	(void)state;
	struct ml_snapshot *s = new_snap();
	parse_whole(s, maps_fixture, false);
	assert_string_equal(s->regions[3].name, "");           /* no name */
	assert_string_equal(s->regions[4].name, "/tmp/a dir/with  spaces ");
	assert_string_equal(s->regions[5].name, "/tmp/new\nline");
	assert_true(s->regions[5].deleted);
	assert_string_equal(s->regions[6].name, "[anon:my arena]");
	assert_string_equal(s->regions[7].name, "/memfd:ring");
	assert_true(s->regions[7].deleted);
	assert_string_equal(s->regions[10].name, "[vvar_vclock]");
	free_snap(s);
}

static void test_decode_name(void **state)
{
	(void)state;
	char a[] = "\\012\\012x\\01 (deleted) (deleted)";
	bool del;
	size_t n = ml__decode_name(a, strlen(a), &del);
	assert_true(del);
	assert_string_equal(a, "\n\nx\\01 (deleted)");
	assert_int_equal(n, strlen(a));
	char b[] = " (deleted)";   /* the whole name: not a suffix of a name */
	ml__decode_name(b, strlen(b), &del);
	assert_false(del);
	char c[] = "\\0";
	ml__decode_name(c, strlen(c), &del);
	assert_string_equal(c, "\\0");
}

/* Feeding the input in chunks of every size gives the same regions. */
static void test_chunks(void **state)
{
	(void)state;
	struct ml_snapshot *whole = new_snap();
	parse_whole(whole, maps_fixture, false);
	size_t len = strlen(maps_fixture);
	for (size_t chunk = 1; chunk < 97; chunk += 7) {
		struct ml_snapshot *s = new_snap();
		struct ml__maps_parser *p = ml__maps_parser_new(s, false);
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			assert_int_equal(ml__maps_parser_feed(p, maps_fixture + off, n), 0);
		}
		assert_int_equal(ml__maps_parser_finish(p), 0);
		assert_int_equal(s->nregions, whole->nregions);
		for (size_t i = 0; i < s->nregions; i++) {
			assert_true(s->regions[i].start == whole->regions[i].start);
			assert_string_equal(s->regions[i].name, whole->regions[i].name);
		}
		free_snap(s);
	}
	free_snap(whole);
}

static void test_no_final_newline(void **state)
{
	(void)state;
	struct ml_snapshot *s = new_snap();
	const char *in = "1000-2000 r--p 00000000 00:00 0   [x]";
	parse_whole(s, in, false);
	assert_int_equal(s->nregions, 1);
	assert_string_equal(s->regions[0].name, "[x]");
	free_snap(s);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"1000-2000 r--q 00000000 00:00 0\n",          /* perms */
		"2000-1000 r--p 00000000 00:00 0\n",          /* start >= end */
		"1000-1000 r--p 00000000 00:00 0\n",
		"1000 2000 r--p 00000000 00:00 0\n",
		"1000-2000 r--p 00000000 0000 0\n",           /* device */
		"1000-2000 r--p 00000000 00:00 x\n",          /* inode */
		"1000-3000 r--p 0 00:00 0\n2000-4000 r--p 0 00:00 0\n", /* overlap */
		"Rss: 4 kB\n",                                /* smaps field first */
		"zz-2000 r--p 00000000 00:00 0\n",
		"11112222333344445-fffffffffffffffff r--p 0 00:00 0\n", /* > 64 bits */
		"1000-2000 r--p\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ml_snapshot *s = new_snap();
		assert_int_equal(ml__maps_parse_buffer(s, bad[i], strlen(bad[i]), i == 7), -EBADMSG);
		free_snap(s);
	}
}

static void test_long_line(void **state)
{
	(void)state;
	size_t n = (2u << 20);
	char *buf = malloc(n + 64);
	int off = snprintf(buf, 64, "1000-2000 r--p 00000000 00:00 1 /");
	memset(buf + off, 'a', n - (size_t)off);
	buf[n] = '\n';
	struct ml_snapshot *s = new_snap();
	assert_int_equal(ml__maps_parse_buffer(s, buf, n + 1, false), -EBADMSG);
	free_snap(s);
	free(buf);
}

static const char smaps_fixture[] =
	"7f958bcec000-7f958be42000 r-xp 00026000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"Size:               1368 kB\n"
	"KernelPageSize:        4 kB\n"
	"MMUPageSize:           4 kB\n"
	"Rss:                1124 kB\n"
	"Pss:                 188 kB\n"
	"Pss_Dirty:             8 kB\n"
	"Shared_Clean:       1116 kB\n"
	"Shared_Dirty:          0 kB\n"
	"Private_Clean:         0 kB\n"
	"Private_Dirty:         8 kB\n"
	"Referenced:         1124 kB\n"
	"Anonymous:             8 kB\n"
	"KSM:                   0 kB\n"
	"LazyFree:              0 kB\n"
	"AnonHugePages:         0 kB\n"
	"ShmemPmdMapped:        0 kB\n"
	"FilePmdMapped:         0 kB\n"
	"Shared_Hugetlb:        0 kB\n"
	"Private_Hugetlb:       0 kB\n"
	"Swap:                 12 kB\n"
	"SwapPss:               3 kB\n"
	"Locked:                0 kB\n"
	"THPeligible:           0\n"
	"ProtectionKey:         0\n"
	"VmFlags: rd ex mr mw me sd gu xx \n"
	"7ffcfb354000-7ffcfb375000 rw-p 00000000 00:00 0                          [stack]\n"
	"Rss:                  20 kB\n"
	"VmFlags: rd wr mr mw me gd ac\n";

static void test_smaps(void **state)
{
	(void)state;
	struct ml_snapshot *s = new_snap();
	parse_whole(s, smaps_fixture, true);
	assert_int_equal(s->nregions, 2);
	const struct ml_smaps *m = s->regions[0].smaps;
	assert_true(s->regions[0].have_smaps);
	assert_true(m->rss == 1124 * 1024);
	assert_true(m->pss == 188 * 1024);
	assert_true(m->pss_dirty == 8 * 1024);
	assert_true(m->shared_clean == 1116 * 1024);
	assert_true(m->private_dirty == 8 * 1024);
	assert_true(m->anonymous == 8 * 1024);
	assert_true(m->swap == 12 * 1024);
	assert_true(m->swap_pss == 3 * 1024);
	assert_true(m->kernel_page_size == 4096);
	assert_string_equal(m->vmflags_str, "rd ex mr mw me sd gu xx");
	assert_true(m->vmflags & (1ull << ml__vmflag_bit("gu")));
	assert_true(m->vmflags & (1ull << ml__vmflag_bit("ex")));
	assert_false(m->vmflags & (1ull << ml__vmflag_bit("wr")));
	const struct ml_smaps *st = s->regions[1].smaps;
	assert_true(st->rss == 20 * 1024);
	assert_true(st->vmflags & (1ull << ml__vmflag_bit("gd")));
	free_snap(s);
}

/* Numbers up to UINT64_MAX parse; one more does not. */
static void test_number_limits(void **state)
{
	(void)state;
	const char *ok = "1000-2000 r--p 00000000 00:00 18446744073709551615 /x\n";
	const char *over = "1000-2000 r--p 00000000 00:00 18446744073709551616 /x\n";
	struct ml_snapshot *s = new_snap();
	parse_whole(s, ok, false);
	assert_true(s->regions[0].inode == UINT64_MAX);
	free_snap(s);
	s = new_snap();
	assert_int_equal(ml__maps_parse_buffer(s, over, strlen(over), false), -EBADMSG);
	free_snap(s);
}

static void test_32bit(void **state)
{
	(void)state;
	const char *in =
		"56555000-56556000 r--p 00000000 08:01 1234       /tmp/t32\n"
		"56556000-56557000 r-xp 00001000 08:01 1234       /tmp/t32\n"
		"f7c00000-f7c1f000 r--p 00000000 08:01 99         /usr/lib32/libc.so.6\n"
		"ffd6e000-ffd8f000 rw-p 00000000 00:00 0          [stack]\n";
	struct ml_snapshot *s = new_snap();
	parse_whole(s, in, false);
	assert_int_equal(s->nregions, 4);
	assert_true(s->regions[3].end == 0xffd8f000ull);
	free_snap(s);
}

/* ml_perms_str writes back what the parser read, for all 16 combinations. */
static void test_perms_str(void **state)
{
	static const char *const all[] = {
		"---p", "r--p", "-w-p", "rw-p", "--xp", "r-xp", "-wxp", "rwxp",
		"---s", "r--s", "-w-s", "rw-s", "--xs", "r-xs", "-wxs", "rwxs",
	};
	char buf[5];
	(void)state;

	for (unsigned int p = 0; p < 16; p++)
		assert_string_equal(ml_perms_str(p, buf), all[p]);
}

static void test_20k(void **state)
{
	(void)state;
	size_t n = 20000, cap = n * 100, len = 0;
	char *buf = malloc(cap);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
			"%llx-%llx %s 00000000 00:00 0 \n",
			0x10000000ull + i * 0x2000, 0x10000000ull + i * 0x2000 + 0x1000,
			i % 2 ? "r--p" : "rw-p");
	struct ml_snapshot *s = new_snap();
	parse_whole(s, buf, false);
	assert_int_equal(s->nregions, n);
	assert_true(s->regions[n - 1].start == 0x10000000ull + (n - 1) * 0x2000);
	assert_true(ml_snapshot_find(s, 0x10000000ull + 777 * 0x2000 + 5) == &s->regions[777]);
	assert_null(ml_snapshot_find(s, 0x10000000ull + 777 * 0x2000 + 0x1000));
	free_snap(s);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_decode_name),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_smaps),
		cmocka_unit_test(test_number_limits),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_20k),
		cmocka_unit_test(test_perms_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
