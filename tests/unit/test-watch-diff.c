/* SPDX-License-Identifier: MIT */
/*
 * test-watch-diff.c - watch's diff of two samples into events
 * (watch-diff.c, through its header watch-private.h) on hand-built maps:
 * a mapping appeared, vanished, grew (heap, stack, an mmap merged onto a
 * neighbour), shrank (munmap of a part), changed permissions (whole, or a
 * split by mprotect of a part: one perms event, no shrink), two mappings
 * merged into one, the brk moved, threads came and went, and the same file
 * at the same place with another inode (a new thing, not a change); after
 * an exec, one exec event and no mapping or brk event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "watch-private.h"

#define HEAP  "55d57a375000-%s rw-p 00000000 00:00 0 [heap]\n"
#define STACK "%s-7ffcfb375000 rw-p 00000000 00:00 0 [stack]\n"

/* A classified snapshot of maps text and the given tids. */
static struct ml_snapshot *snap_of(const char *maps, const pid_t *tids, size_t ntids)
{
	struct ml_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_int_equal(ml__maps_parse_buffer(s, maps, strlen(maps), false), 0);
	ml__classify_basic(s);
	s->threads = calloc(ntids + 1, sizeof(*s->threads));
	assert_non_null(s->threads);
	for (size_t i = 0; i < ntids; i++)
		s->threads[i].tid = tids[i];
	s->nthreads = ntids;
	return s;
}

struct diff {
	struct ml__events e;
	struct ml_snapshot *a, *b;
};

static void diff(struct diff *d, const char *old, const char *new)
{
	memset(d, 0, sizeof(*d));
	d->a = snap_of(old, NULL, 0);
	d->b = snap_of(new, NULL, 0);
	assert_int_equal(ml__watch_diff(&d->e, d->a, d->b), 0);
}

static void diff_free(struct diff *d)
{
	ml__events_free(&d->e);
	ml_snapshot_free(d->a);
	ml_snapshot_free(d->b);
}

/* The only event of d, which must be of type t. */
static const struct ml_watch_event *only(const struct diff *d, enum ml_watch_event_type t)
{
	assert_int_equal(d->e.n, 1);
	assert_string_equal(ml_watch_event_name(d->e.ev[0].type), ml_watch_event_name(t));
	return &d->e.ev[0];
}

static void test_nothing_changed(void **state)
{
	struct diff d;
	const char *m = "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n"
			"7f0000020000-7f0000021000 r--p 00000000 fe:00 12 /lib/x.so\n";

	(void)state;
	diff(&d, m, m);
	assert_int_equal(d.e.n, 0);
	diff_free(&d);
}

static void test_appeared_vanished(void **state)
{
	struct diff d;
	const char *a = "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n";
	const char *b = "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n"
			"7f0000100000-7f0000104000 r--p 00000000 fe:00 12 /tmp/f\n";

	(void)state;
	diff(&d, a, b);
	const struct ml_watch_event *e = only(&d, ML_EV_APPEARED);
	assert_true(e->start == 0x7f0000100000 && e->end == 0x7f0000104000);
	assert_true(e->before == 0 && e->after == 0x4000);
	assert_int_equal(e->kind, ML_KIND_FILE);
	assert_string_equal(e->name, "/tmp/f");
	diff_free(&d);

	diff(&d, b, a);
	e = only(&d, ML_EV_VANISHED);
	assert_true(e->start == 0x7f0000100000 && e->before == 0x4000 && e->after == 0);
	diff_free(&d);
}

static void test_heap_and_stack_grew(void **state)
{
	char a[256], b[256];
	struct diff d;

	(void)state;
	snprintf(a, sizeof(a), HEAP STACK, "55d57a396000", "7ffcfb354000");
	snprintf(b, sizeof(b), HEAP STACK, "55d57a3a6000", "7ffcfb344000");
	diff(&d, a, b);
	assert_int_equal(d.e.n, 3);   /* and the brk, at the end of [heap] here */
	const struct ml_watch_event *h = &d.e.ev[0], *s = &d.e.ev[1], *k = &d.e.ev[2];
	assert_int_equal(h->type, ML_EV_GREW);
	assert_int_equal(h->kind, ML_KIND_HEAP);
	assert_true(h->before == 0x21000 && h->after == 0x31000);
	assert_int_equal(s->type, ML_EV_GREW);
	assert_int_equal(s->kind, ML_KIND_STACK);
	assert_true(s->before == 0x21000 && s->after == 0x31000);
	assert_int_equal(k->type, ML_EV_BRK);
	assert_true(k->before == 0x55d57a396000 && k->after == 0x55d57a3a6000);
	diff_free(&d);
}

/* munmap of the top half: shrank, with before/after sizes; of the middle:
 * one shrink of the old mapping, nothing appears. */
static void test_shrank(void **state)
{
	struct diff d;
	const char *a = "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n";

	(void)state;
	diff(&d, a, "7f0000000000-7f0000008000 rw-p 00000000 00:00 0\n");
	const struct ml_watch_event *e = only(&d, ML_EV_SHRANK);
	assert_true(e->start == 0x7f0000000000 && e->end == 0x7f0000010000);
	assert_true(e->before == 0x10000 && e->after == 0x8000);
	diff_free(&d);

	diff(&d, a, "7f0000000000-7f0000004000 rw-p 00000000 00:00 0\n"
		    "7f000000c000-7f0000010000 rw-p 00000000 00:00 0\n");
	e = only(&d, ML_EV_SHRANK);
	assert_true(e->before == 0x10000 && e->after == 0x8000);
	diff_free(&d);
}

/* mprotect of the whole mapping, then of its first page (a split): one
 * perms event each, on the part whose permissions changed. */
static void test_perms_and_split(void **state)
{
	struct diff d;
	const char *a = "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n";

	(void)state;
	diff(&d, a, "7f0000000000-7f0000010000 r--p 00000000 00:00 0\n");
	const struct ml_watch_event *e = only(&d, ML_EV_PERMS);
	assert_true(e->before == (ML_PERM_READ | ML_PERM_WRITE));
	assert_true(e->after == ML_PERM_READ);
	diff_free(&d);

	diff(&d, a, "7f0000000000-7f0000001000 r--p 00000000 00:00 0\n"
		    "7f0000001000-7f0000010000 rw-p 00000000 00:00 0\n");
	e = only(&d, ML_EV_PERMS);
	assert_true(e->start == 0x7f0000000000 && e->end == 0x7f0000001000);
	assert_true(e->after == ML_PERM_READ);
	diff_free(&d);
}

/* Two neighbours merged (the mprotect undone): one perms event on the
 * part whose permissions changed, nothing grew; an mmap placed right
 * below an anonymous mapping merges with it: that mapping grew. */
static void test_merge(void **state)
{
	struct diff d;

	(void)state;
	diff(&d, "7f0000000000-7f0000001000 r--p 00000000 00:00 0\n"
		 "7f0000001000-7f0000010000 rw-p 00000000 00:00 0\n",
	     "7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n");
	const struct ml_watch_event *e = only(&d, ML_EV_PERMS);
	assert_true(e->start == 0x7f0000000000 && e->end == 0x7f0000001000);
	assert_true(e->before == ML_PERM_READ);
	assert_true(e->after == (ML_PERM_READ | ML_PERM_WRITE));
	diff_free(&d);

	diff(&d, "7f0000010000-7f0000020000 rw-p 00000000 00:00 0\n",
	     "7f0000000000-7f0000020000 rw-p 00000000 00:00 0\n");
	e = only(&d, ML_EV_GREW);
	assert_true(e->before == 0x10000 && e->after == 0x20000);
	assert_true(e->start == 0x7f0000000000);
	diff_free(&d);
}

/* A file replaced at the same place (another inode) is a vanish and an
 * appearance, not a change; anonymous memory is one thing wherever. */
static void test_same_place_other_file(void **state)
{
	struct diff d;

	(void)state;
	diff(&d, "7f0000000000-7f0000004000 r--p 00000000 fe:00 12 /tmp/f\n",
	     "7f0000000000-7f0000004000 r--p 00000000 fe:00 13 /tmp/f\n");
	assert_int_equal(d.e.n, 2);
	assert_int_equal(d.e.ev[0].type, ML_EV_VANISHED);
	assert_int_equal(d.e.ev[1].type, ML_EV_APPEARED);
	diff_free(&d);
}

static void test_brk_and_threads(void **state)
{
	const pid_t t1[] = { 100, 101, 103 }, t2[] = { 100, 102, 103, 104 };
	char a[256], b[256];
	struct ml__events e = { 0 };

	(void)state;
	snprintf(a, sizeof(a), HEAP, "55d57a396000");
	snprintf(b, sizeof(b), HEAP, "55d57a396000");
	struct ml_snapshot *p = snap_of(a, t1, 3), *c = snap_of(b, t2, 4);
	c->proc.brk = p->proc.brk + 0x1000;       /* same [heap], brk moved */
	assert_int_equal(ml__watch_diff(&e, p, c), 0);
	assert_int_equal(e.n, 4);
	assert_int_equal(e.ev[0].type, ML_EV_BRK);
	assert_true(e.ev[0].before == p->proc.brk && e.ev[0].after == c->proc.brk);
	assert_int_equal(e.ev[1].type, ML_EV_THREAD_GONE);
	assert_int_equal(e.ev[1].tid, 101);
	assert_int_equal(e.ev[2].type, ML_EV_THREAD_NEW);
	assert_int_equal(e.ev[2].tid, 102);
	assert_int_equal(e.ev[3].type, ML_EV_THREAD_NEW);
	assert_int_equal(e.ev[3].tid, 104);
	assert_int_equal(e.ev[3].kind, ML_KIND_THREAD_STACK);

	/* The events array is reused: a second diff into it after a reset. */
	e.n = 0;
	assert_int_equal(ml__watch_diff(&e, c, c), 0);
	assert_int_equal(e.n, 0);
	ml__events_free(&e);
	ml_snapshot_free(p);
	ml_snapshot_free(c);
}

/* An exec: two programs, one event (sizes before and after, the new
 * comm); the heap and the brk of the new one did not move from the old. */
static void test_exec(void **state)
{
	const pid_t t1[] = { 100, 101 }, t2[] = { 100 };
	char a[256], b[256];
	struct ml__events e = { 0 };

	(void)state;
	snprintf(a, sizeof(a), HEAP, "55d57a396000");
	snprintf(b, sizeof(b), "5600aa000000-5600aa004000 r-xp 00000000 fe:00 7 /bin/sleep\n"
		 "5600ab000000-%s rw-p 00000000 00:00 0 [heap]\n", "5600ab021000");
	struct ml_snapshot *p = snap_of(a, t1, 2), *c = snap_of(b, t2, 1);
	c->proc.brk = 0x5600ab021000ull;
	p->proc.brk = 0x55d57a396000ull;
	strcpy(c->proc.comm, "sleep");
	e.exec = true;
	assert_int_equal(ml__watch_diff(&e, p, c), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ev[0].type, ML_EV_EXEC);
	assert_string_equal(e.ev[0].name, "sleep");
	assert_true(e.ev[0].before == 0x21000 && e.ev[0].after == 0x4000 + 0x21000);
	assert_int_equal(e.ev[1].type, ML_EV_THREAD_GONE);   /* exec ends the others */
	assert_int_equal(e.ev[1].tid, 101);
	assert_string_equal(ml_watch_event_name(ML_EV_EXEC), "exec");
	ml__events_free(&e);
	ml_snapshot_free(p);
	ml_snapshot_free(c);
}

/* Sizes above 4 GiB are counted exactly (coverage is 64-bit). */
static void test_large(void **state)
{
	struct diff d;

	(void)state;
	diff(&d, "7f0000000000-7f0200000000 rw-p 00000000 00:00 0\n",
	     "7f0000000000-7f0300000000 rw-p 00000000 00:00 0\n");
	const struct ml_watch_event *e = only(&d, ML_EV_GREW);
	assert_true(e->before == 0x200000000ull && e->after == 0x300000000ull);
	diff_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_changed),
		cmocka_unit_test(test_appeared_vanished),
		cmocka_unit_test(test_heap_and_stack_grew),
		cmocka_unit_test(test_shrank),
		cmocka_unit_test(test_perms_and_split),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_same_place_other_file),
		cmocka_unit_test(test_brk_and_threads),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_exec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
