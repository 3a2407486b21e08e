/* SPDX-License-Identifier: MIT */
/*
 * test-classify.c - kinds from names and permissions, thread stacks and
 * their guards from stack pointers, and glibc arena reservations that must
 * not be taken for guards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

static const char layout[] =
	"555555554000-555555555000 r--p 00000000 fe:00 77 /tmp/prog\n"
	"555555559000-55555557a000 rw-p 00000000 00:00 0  [heap]\n"
	"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"          /* 2: arena head */
	"7f0000021000-7f0004000000 ---p 00000000 00:00 0 \n"          /* 3: arena tail */
	"7f0010000000-7f0010001000 ---p 00000000 00:00 0 \n"          /* 4: guard of t1 */
	"7f0010001000-7f0010801000 rw-p 00000000 00:00 0 \n"          /* 5: stack of t1 */
	"7f0014000000-7f0014021000 rw-p 00000000 00:00 0 \n"          /* 6: arena head */
	"7f0014021000-7f0018000000 ---p 00000000 00:00 0 \n"          /* 7: arena tail */
	"7f0018000000-7f0018800000 rw-p 00000000 00:00 0 \n"          /* 8: stack of t2 */
	"7f0020000000-7f0020001000 rw-s 00000000 00:01 5 /SYSV0000162e (deleted)\n"
	"7f0020001000-7f0020002000 rw-s 00000000 00:01 6 /memfd:ring (deleted)\n"
	"7f0020002000-7f0020003000 r--p 00000000 00:01 7 /memfd:code (deleted)\n"
	"7f0020003000-7f0020004000 rw-p 00000000 00:00 0 [anon:jit]\n"
	"7f0020004000-7f0020005000 ---p 00000000 00:00 0 [anon:reserve]\n"
	"7f0020005000-7f0020006000 rw-s 00000000 00:01 8 /dev/zero (deleted)\n"
	"7f0020006000-7f0020007000 r--s 00000000 fe:00 9 /var/cache/data.bin\n"
	"7f0020007000-7f0020008000 rw-p 00000000 00:00 0 [stack:4300]\n"
	"7f0020008000-7f0020009000 r--p 00000000 00:00 0 [vvar_vclock]\n"
	"7f0020009000-7f002000a000 r--p 00000000 00:00 0 [weird]\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n";

static struct ml_snapshot *classified(void)
{
	struct ml_snapshot *s = calloc(1, sizeof(*s));
	assert_int_equal(ml__maps_parse_buffer(s, layout, strlen(layout), false), 0);
	s->proc.pid = 4242;
	s->threads = calloc(4, sizeof(*s->threads));
	s->nthreads = 4;
	s->threads[0] = (struct ml_thread){ .tid = 4242, .sp_known = true, .sp = 0x7fffffffe000ull };
	s->threads[1] = (struct ml_thread){ .tid = 4243, .sp_known = true, .sp = 0x7f0010800e00ull };
	s->threads[2] = (struct ml_thread){ .tid = 4244, .sp_known = true, .sp = 0x7f00187ff000ull };
	s->threads[3] = (struct ml_thread){ .tid = 4245, .sp_known = false };
	ml__classify_basic(s);
	ml__classify_threads(s);
	return s;
}

static void test_basic_kinds(void **state)
{
	(void)state;
	struct ml_snapshot *s = classified();
	static const struct { size_t i; enum ml_kind k; } want[] = {
		{ 0, ML_KIND_FILE }, { 1, ML_KIND_HEAP }, { 9, ML_KIND_SHM },
		{ 10, ML_KIND_SHM }, { 11, ML_KIND_FILE }, { 12, ML_KIND_ANON },
		{ 13, ML_KIND_RESERVED }, { 14, ML_KIND_SHM }, { 15, ML_KIND_FILE },
		{ 16, ML_KIND_THREAD_STACK }, { 17, ML_KIND_VVAR }, { 18, ML_KIND_OTHER },
		{ 19, ML_KIND_STACK },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (s->regions[want[i].i].kind != want[i].k)
			fail_msg("region %zu (%s): kind %s, want %s", want[i].i,
				 s->regions[want[i].i].name,
				 ml_kind_name(s->regions[want[i].i].kind), ml_kind_name(want[i].k));
	}
	assert_int_equal(s->regions[16].tid, 4300);
	assert_string_equal(s->regions[0].object, "/tmp/prog");
	assert_true(s->proc.brk == 0x55555557a000ull);
	assert_true(s->proc.start_brk == 0x555555559000ull);
	ml_snapshot_free(s);
}

static void test_threads(void **state)
{
	(void)state;
	struct ml_snapshot *s = classified();
	assert_int_equal(s->regions[19].tid, 4242);          /* main stack */
	assert_int_equal(s->regions[5].kind, ML_KIND_THREAD_STACK);
	assert_int_equal(s->regions[5].tid, 4243);
	assert_int_equal(s->regions[4].kind, ML_KIND_GUARD);
	assert_int_equal(s->regions[4].tid, 4243);
	assert_int_equal(s->regions[8].kind, ML_KIND_THREAD_STACK);
	assert_int_equal(s->regions[8].tid, 4244);
	/* The PROT_NONE below t2's stack is an arena's tail, not a guard. */
	assert_int_equal(s->regions[7].kind, ML_KIND_RESERVED);
	assert_int_equal(s->regions[7].tid, 0);
	assert_string_equal(s->regions[7].object, "[malloc arena]");
	assert_string_equal(s->regions[6].object, "[malloc arena]");
	assert_int_equal(s->regions[3].kind, ML_KIND_RESERVED);
	assert_int_equal(s->regions[2].kind, ML_KIND_ANON);
	ml_snapshot_free(s);
}

static void test_totals(void **state)
{
	(void)state;
	struct ml_snapshot *s = classified();
	struct ml_kind_total t[ML_KIND__COUNT];
	ml_snapshot_totals(s, t);
	assert_int_equal(t[ML_KIND_THREAD_STACK].count, 3);
	assert_true(t[ML_KIND_THREAD_STACK].vsize == 0x800000ull * 2 + 0x1000);
	assert_int_equal(t[ML_KIND_GUARD].count, 1);
	size_t all = 0;
	for (int k = 0; k < ML_KIND__COUNT; k++)
		all += t[k].count;
	assert_int_equal(all, s->nregions);
	ml_snapshot_free(s);
}

static void test_kind_names(void **state)
{
	(void)state;
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		assert_int_equal(ml_kind_from_name(ml_kind_name(k)), k);
		assert_string_not_equal(ml_kind_description(k), "?");
	}
	assert_string_equal(ml_kind_name(ML_KIND__COUNT), "?");
	assert_true(ml_kind_from_name("nope") < 0);
}

/* Devices and rings by name; CUDA's address space by its rules; a Go
 * binary's arena at 0xc000000000 is heap of go, never a thread's stack
 * although a thread's sp is in it; glibc's arena head is heap. */
static const char special_layout[] =
	"000000400000-000000480000 r-xp 00000000 fe:00 90 /tmp/gocode\n"      /* 0 */
	"000200000000-000200600000 ---p 00000000 00:00 0 \n"                  /* 1: uva, aligned */
	"000200600000-000200800000 rw-s 00000000 00:06 142 /dev/nvidia0\n"    /* 2 */
	"000200800000-000200a00000 rw-s 00000000 00:06 143 /dev/nvidia-uvm\n" /* 3 */
	"000200a00000-000200a15000 ---p 00000000 00:00 0 \n"                  /* 4: uva, beside */
	"00c000000000-00c000400000 rw-p 00000000 00:00 0 \n"                  /* 5: go arena */
	"00c000400000-00c004000000 ---p 00000000 00:00 0 \n"                  /* 6: go arena */
	"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"                  /* 7: arena head */
	"7f0000021000-7f0004000000 ---p 00000000 00:00 0 \n"                  /* 8: arena tail */
	"7f000f000000-7f000f200000 rw-s 00000000 00:01 9 /dev/zero (deleted)\n" /* 9: not beside */
	"7f0010200000-7f0010400000 ---p 00000000 00:00 0 \n"                  /* 10: uva */
	"7f0010400000-7f0010600000 rw-s 00000000 00:01 10 /dev/zero (deleted)\n" /* 11: pinned */
	"7f0020000000-7f0020001000 rw-s 00000000 00:0e 11 anon_inode:[io_uring]\n"
	"7f0020001000-7f0020004000 rw-s 00000000 00:0e 12 anon_inode:[perf_event]\n"
	"7f0020004000-7f0020005000 rw-s 00000000 00:0e 13 anon_inode:bpf-map\n"
	"7f0020005000-7f0020006000 rw-s 00000000 00:06 14 /dev/dri/renderD128\n"
	"7f0020006000-7f0020007000 rw-s 00000000 00:06 15 /dev/dax0.0\n"
	"7f0020200000-7f0020400000 rw-p 00000000 00:10 16 /anon_hugepage (deleted)\n"
	"7f0020400000-7f0020401000 rw-p 00000000 00:00 0 [anon: glibc: malloc arena]\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n";

static void test_special_owners(void **state)
{
	(void)state;
	struct ml_snapshot *s = calloc(1, sizeof(*s));
	static struct ml_section gosec = { ".gopclntab", 0x400000, 0x401000, false };
	assert_int_equal(ml__maps_parse_buffer(s, special_layout, strlen(special_layout), false), 0);
	s->proc.pid = 4242;
	s->proc.page_size = 4096;
	s->regions[0].sections = &gosec;
	s->regions[0].nsections = 1;
	s->threads = calloc(1, sizeof(*s->threads));
	s->nthreads = 1;
	s->threads[0] = (struct ml_thread){ .tid = 4243, .sp_known = true, .sp = 0xc000100000ull };
	ml__classify_basic(s);
	ml__classify_owners(s);
	ml__classify_threads(s);
	ml__classify_devices(s);
	ml__classify_owners_late(s);
	static const struct { size_t i; enum ml_kind k; const char *obj; enum ml_allocator a; } want[] = {
		{ 1, ML_KIND_GPU, "[cuda uva]", 0 }, { 2, ML_KIND_GPU, "/dev/nvidia0", 0 },
		{ 3, ML_KIND_GPU, "/dev/nvidia-uvm", 0 }, { 4, ML_KIND_GPU, "[cuda uva]", 0 },
		{ 5, ML_KIND_HEAP, "[go heap arena]", ML_ALLOC_GO },
		{ 6, ML_KIND_RESERVED, "[go heap arena]", ML_ALLOC_GO },
		{ 7, ML_KIND_HEAP, "[malloc arena]", ML_ALLOC_GLIBC },
		{ 8, ML_KIND_RESERVED, "[malloc arena]", ML_ALLOC_GLIBC },
		{ 9, ML_KIND_SHM, "/dev/zero", 0 }, { 10, ML_KIND_GPU, "[cuda uva]", 0 },
		{ 11, ML_KIND_GPU, "[cuda pinned host]", 0 },
		{ 12, ML_KIND_RING, "[io_uring]", 0 }, { 13, ML_KIND_RING, "[perf_event]", 0 },
		{ 14, ML_KIND_RING, "anon_inode:bpf-map", 0 },
		{ 15, ML_KIND_GPU, "/dev/dri/renderD128", 0 }, { 16, ML_KIND_DEVICE, "/dev/dax0.0", 0 },
		{ 17, ML_KIND_ANON, "[hugetlb]", 0 },
		{ 18, ML_KIND_HEAP, "[malloc arena]", ML_ALLOC_GLIBC },
	};
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		const struct ml_region *r = &s->regions[want[w].i];
		assert_int_equal(r->kind, want[w].k);
		assert_string_equal(r->object, want[w].obj);
		assert_int_equal(r->allocator, want[w].a);
		assert_int_equal(r->tid, 0);   /* no thread's stack, no guard */
	}
	assert_string_equal(ml_region_allocator(&s->regions[5]), "go");
	assert_non_null(ml_region_owner_evidence(&s->regions[5]));
	ml_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_kinds),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_special_owners),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
