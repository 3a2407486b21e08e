/* SPDX-License-Identifier: MIT */
/*
 * test-render-watch.c - render-watch.c on samples built here, for a watch
 * of a real child (the renderers read its PID, comm and first sample):
 * the JSON line parsed back with jansson (every number and address put
 * in comes out, each event with its own keys, a hostile name intact as a
 * string), the log lines (one per event, sizes and addresses, the name
 * escaped: no control byte reaches the terminal), the one-line view's
 * sums per group of kinds, and the screen cut to the rows given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ml-private.h"

#define EVIL "/tmp/x\n\033[2Jevil\xe2\x80\xae name"

static pid_t child;
static struct ml_watch *watch;

static int setup(void **state)
{
	const struct ml_watch_sample *s;

	(void)state;
	child = fork();
	if (child == 0) {
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	if (ml_watch_new(child, 0, &watch) || ml_watch_sample(watch, 1000, &s))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	int st;

	(void)state;
	ml_watch_free(watch);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	return 0;
}

static struct ml_watch_event events[4];
static struct ml_watch_object objects[2];

static struct ml_watch_sample sample(void)
{
	struct ml_watch_sample s = {
		.t_ns = 2500000000ull, .index = 3, .vsize = 0x1234000, .rss = 0x567000,
		.pss = 0x400000, .anon = 0x300000, .swap = 0x2000,
		.start_brk = 0x555555560000, .brk = 0x555555581000,
		.stack_start = 0x7ffd00000000, .stack_end = 0x7ffd00021000,
		.stack_lowest = 0x7ffcfffff000, .minflt = 1234, .majflt = 5,
		.nregions = 42, .nthreads = 3,
	};
	s.kinds[ML_KIND_TEXT] = (struct ml_watch_kind){ 2, 0x200000, 0 };
	s.kinds[ML_KIND_RODATA] = (struct ml_watch_kind){ 1, 0x10000, 0 };
	s.kinds[ML_KIND_BSS] = (struct ml_watch_kind){ 1, 0x3000, 0 };
	s.kinds[ML_KIND_HEAP] = (struct ml_watch_kind){ 1, 0x21000, 0 };
	s.kinds[ML_KIND_ANON] = (struct ml_watch_kind){ 5, 0x500000, 0 };
	s.kinds[ML_KIND_SHM] = (struct ml_watch_kind){ 1, 0x7000, 0 };
	events[0] = (struct ml_watch_event){ ML_EV_APPEARED, ML_KIND_FILE, 0x7f0000000000,
		0x7f0000004000, 0, 0x4000, EVIL, 0, true };
	events[1] = (struct ml_watch_event){ ML_EV_GREW, ML_KIND_ANON, 0x7f0000100000,
		0x7f0000300000, 0x100000, 0x200000, NULL, 0, false };
	events[2] = (struct ml_watch_event){ ML_EV_BRK, ML_KIND_HEAP, 0x555555560000,
		0x555555581000, 0x555555570000, 0x555555581000, "[heap]", 0, false };
	events[3] = (struct ml_watch_event){ ML_EV_PERMS, ML_KIND_TEXT, 0x7f0000400000,
		0x7f0000401000, ML_PERM_READ | ML_PERM_WRITE, ML_PERM_READ | ML_PERM_EXEC,
		"/lib/x.so", 0, false };
	s.events = events;
	s.nevents = 4;
	objects[0] = (struct ml_watch_object){ .name = EVIL, .vsize = 0x213000,
		.vsize_last = 0x13000 };
	objects[0].kinds[ML_KIND_TEXT].vsize = 0x200000;
	objects[0].kinds[ML_KIND_RODATA].vsize = 0x10000;
	objects[0].kinds[ML_KIND_BSS].vsize = 0x3000;
	objects[1] = (struct ml_watch_object){ .name = "/gone.so", .vsize = 0 };
	s.objects = objects;
	s.nobjects = 2;
	return s;
}

static char *render(int (*fn)(const struct ml_watch_sample *s, FILE *f), const struct ml_watch_sample *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(fn(s, f), 0);
	fclose(f);
	return out;
}

static int r_json(const struct ml_watch_sample *s, FILE *f) { return ml_render_watch_json(watch, s, f); }
static int r_events(const struct ml_watch_sample *s, FILE *f) { return ml_render_watch_events(watch, s, f, ML_OUT_BYTES); }
static int r_line(const struct ml_watch_sample *s, FILE *f) { return ml_render_watch_line(watch, s, f, ML_OUT_BYTES); }

static uint64_t hex(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || strncmp(s, "0x", 2))
		fail_msg("%s: not a hex string", key);
	return strtoull(s + 2, NULL, 16);
}

static uint64_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("%s: not an integer", key);
	return (uint64_t)json_integer_value(v);
}

static void test_json(void **state)
{
	(void)state;
	struct ml_watch_sample s = sample();
	char *out = render(r_json, &s);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);

	if (!j)
		fail_msg("not JSON (%s): %s", err.text, out);
	assert_non_null(strchr(out, '\n'));
	assert_true(strchr(out, '\n') == out + strlen(out) - 1);     /* one line */
	assert_true(num(j, "pid") == (uint64_t)child);
	assert_true(num(j, "sample") == 3);
	assert_true(json_real_value(json_object_get(j, "t")) == 2.5);
	assert_true(num(j, "vsize") == s.vsize && num(j, "rss") == s.rss &&
		    num(j, "pss") == s.pss && num(j, "anon") == s.anon && num(j, "swap") == s.swap);
	assert_true(hex(j, "start_brk") == s.start_brk && hex(j, "brk") == s.brk);
	assert_true(hex(j, "stack_start") == s.stack_start && hex(j, "stack_end") == s.stack_end &&
		    hex(j, "stack_lowest") == s.stack_lowest);
	assert_true(num(j, "minflt") == 1234 && num(j, "majflt") == 5);
	assert_true(num(j, "threads") == 3 && num(j, "regions") == 42);

	json_t *kinds = json_object_get(j, "kinds");
	assert_int_equal(json_object_size(kinds), 6);     /* the kinds with mappings */
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		json_t *kk = json_object_get(kinds, ml_kind_name(k));
		if (!s.kinds[k].count) {
			assert_null(kk);
			continue;
		}
		assert_non_null(kk);
		assert_true(num(kk, "count") == s.kinds[k].count && num(kk, "vsize") == s.kinds[k].vsize);
		assert_null(json_object_get(kk, "rss"));         /* no detail */
	}

	json_t *objs = json_object_get(j, "objects");
	assert_int_equal(json_array_size(objs), 1);       /* the unmapped one left out */
	json_t *o = json_array_get(objs, 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), EVIL);
	assert_true(num(o, "vsize") == 0x213000);
	assert_true(num(o, ml_kind_name(ML_KIND_TEXT)) == 0x200000);
	assert_true(num(o, ml_kind_name(ML_KIND_DATA)) == 0);

	json_t *evs = json_object_get(j, "events");
	assert_int_equal(json_array_size(evs), 4);
	for (size_t i = 0; i < 4; i++) {
		json_t *e = json_array_get(evs, i);
		const struct ml_watch_event *x = &events[i];
		assert_string_equal(json_string_value(json_object_get(e, "event")),
				    ml_watch_event_name(x->type));
		assert_string_equal(json_string_value(json_object_get(e, "kind")),
				    ml_kind_name(x->kind));
		assert_true(hex(e, "start") == x->start && hex(e, "end") == x->end);
		assert_true(json_is_boolean(json_object_get(e, "deleted")));
		assert_true(json_is_true(json_object_get(e, "deleted")) == x->deleted);
		if (x->name)
			assert_string_equal(json_string_value(json_object_get(e, "name")), x->name);
		else
			assert_true(json_is_null(json_object_get(e, "name")));
		assert_true(json_is_null(json_object_get(e, "tid")));
	}
	assert_true(num(json_array_get(evs, 1), "before") == 0x100000 &&
		    num(json_array_get(evs, 1), "after") == 0x200000);
	assert_true(hex(json_array_get(evs, 2), "brk_before") == 0x555555570000);
	assert_null(json_object_get(json_array_get(evs, 2), "before"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 3), "perms_before")), "rw-p");
	assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 3), "perms_after")), "r-xp");
	json_decref(j);
	free(out);
}

static void no_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("control byte 0x%02x in:\n%s", *p, s);
	assert_null(strstr(s, "\xe2\x80\xae"));
}

static void test_log_lines(void **state)
{
	(void)state;
	struct ml_watch_sample s = sample();
	char *out = render(r_events, &s), want[128];
	size_t lines = 0;

	no_controls(out);
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	/* four events and one object whose code and data changed */
	assert_int_equal(lines, 5);
	assert_non_null(strstr(out, "/tmp/x\\x0a\\x1b[2Jevil"));
	assert_non_null(strstr(out, "(deleted)"));
	assert_non_null(strstr(out, " 1048576 -> 2097152 (+1048576)"));
	assert_non_null(strstr(out, " 0x555555570000 -> 0x555555581000 (+69632)"));
	assert_non_null(strstr(out, " rw-p -> r-xp"));
	char *l = out;
	for (size_t i = 0; i < 4; i++) {
		char *nl = strchr(l, '\n');
		*nl = 0;
		assert_non_null(strstr(l, ml_watch_event_name(events[i].type)));
		assert_true(!strncmp(l, "    2.500 ", 10));
		snprintf(want, sizeof(want), " 0x%" PRIx64 "-0x%" PRIx64, events[i].start, events[i].end);
		assert_non_null(strstr(l, want));
		l = nl + 1;
	}
	assert_non_null(strstr(l, "object"));
	assert_non_null(strstr(l, " 77824 -> 2174976 (+2097152)"));
	free(out);
}

static void test_line(void **state)
{
	(void)state;
	struct ml_watch_sample s = sample();
	char *out = render(r_line, &s), want[128];
	uint64_t code = 0x200000 + 0x10000, data = 0x3000, file = 0x7000;

	no_controls(out);
	snprintf(want, sizeof(want), " code %" PRIu64 " data %" PRIu64 " heap %" PRIu64
		 " stack 0 tstacks 0 anon %" PRIu64 " file %" PRIu64 " threads 3 ",
		 code, data, (uint64_t)0x21000, (uint64_t)0x500000, file);
	if (!strstr(out, want))
		fail_msg("want \"%s\" in:\n%s", want, out);
	snprintf(want, sizeof(want), "vsz %" PRIu64 " (", s.vsize);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "faults %" PRIu64 "+", s.minflt - ml_watch_first(watch)->minflt);
	assert_non_null(strstr(out, want));
	free(out);
}

static void test_screen_rows(void **state)
{
	(void)state;
	struct ml_watch_sample s = sample();

	for (unsigned int rows = 0; rows <= 30; rows += 6) {
		char *out = NULL;
		size_t len = 0, lines = 0;
		FILE *f = open_memstream(&out, &len);
		int n = ml_render_watch_screen(watch, &s, f, ML_OUT_ASCII, rows);
		fclose(f);
		assert_true(n > 0);
		no_controls(out);
		for (char *p = out; *p; p++)
			lines += *p == '\n';
		assert_int_equal((size_t)n, lines);
		if (rows >= 12)
			assert_true(lines <= rows);
		char want[64];
		snprintf(want, sizeof(want), "PID %d (sleep)", (int)child);
		assert_true(!strncmp(out, want, strlen(want)));
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_screen_rows),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
