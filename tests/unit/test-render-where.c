/* SPDX-License-Identifier: MIT */
/*
 * test-render-where.c - render-where.c on answers built here (struct
 * ml_where filled by hand, as where.c would): the block (its lines, the
 * numbers in them, hostile names escaped), the raw table (one line per
 * answer, each cell the value put in, formatted here with printf) and the
 * JSON document (its keys and values, target text escaped, no control
 * byte), the column list (-o parsing, unknown names refused), and the
 * table as the column engine prints it (ml_table_print, every mode).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

static const struct ml_smaps no_smaps;

#define EVIL "/tmp/evil\nname \033[31mred\033[0m \xe2\x80\xae.so"

static struct ml_region text = {
	.start = 0x7f1234560000, .end = 0x7f1234570000, .offset = 0x3000, .inode = 77,
	.name = EVIL, .object = EVIL, .smaps = &no_smaps,
	.perms = ML_PERM_READ | ML_PERM_EXEC, .kind = ML_KIND_TEXT,
};
static struct ml_region stack = {
	.start = 0x7ffd00000000, .end = 0x7ffd00021000, .name = "[stack]",
	.object = "[stack]", .smaps = &no_smaps, .perms = ML_PERM_READ | ML_PERM_WRITE,
	.kind = ML_KIND_STACK,
};
static struct ml_region below_r = {
	.start = 0x555555554000, .end = 0x555555556000, .name = "/bin/prog",
	.object = "/bin/prog", .smaps = &no_smaps, .perms = ML_PERM_READ,
	.kind = ML_KIND_RODATA, .inode = 5,
};

/* 4-level walk indices of addr, from its bits. */
static void walk(struct ml_where *w)
{
	static const char *names[] = { "PGD", "PUD", "PMD", "PTE" };

	w->page_size = 4096;
	w->vpn = w->addr >> 12;
	w->page_offset = w->addr & 0xfff;
	w->nlevels = 4;
	for (unsigned int i = 0; i < 4; i++)
		w->levels[i] = (struct ml_pt_level){ names[i],
			(unsigned int)(w->addr >> (39 - 9 * i)) & 511, 39 - 9 * i };
	w->pagemap_status = -ENOENT;
}

static struct ml_where mapped(void)
{
	struct ml_where w = { .addr = 0x7f1234561234, .region = &text };

	w.map_offset = w.addr - text.start;
	w.has_file_offset = true;
	w.file_offset = text.offset + w.map_offset;
	w.has_object = true;
	w.sym = (struct ml_symbol){ .module = EVIL, .section = ".text",
		.section_offset = 0x1111, .name = "evil\033]0;title\007fn", .table = ".symtab",
		.sym_addr = 0x7f1234561200, .sym_size = 0x80, .offset = 0x34, .sym_sized = true,
		.has_dwarf = true, .debug_file = EVIL, .file = "/src/a\nb.c", .line = 42 };
	walk(&w);
	return w;
}

static struct ml_where on_stack(void)
{
	struct ml_where w = { .addr = 0x7ffd00020010, .region = &stack };

	w.map_offset = w.addr - stack.start;
	w.is_stack = true;
	w.stack_tid = 4242;
	w.below_top = stack.end - w.addr;
	w.sp_known = true;
	w.sp = 0x7ffd00020000;
	w.room = 0x7e0000;
	w.room_limit = "RLIMIT_STACK";
	walk(&w);
	return w;
}

static struct ml_where unmapped(void)
{
	struct ml_where w = { .addr = 0x555555560010, .hole = ML_HOLE_HEAP_MMAP,
			      .below = &below_r, .above = &stack };

	w.dist_below = w.addr - below_r.end;
	w.dist_above = stack.start - w.addr;
	w.hole_start = below_r.end;
	w.hole_end = stack.start;
	walk(&w);
	return w;
}

static char *block(const struct ml_where *w)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	assert_non_null(f);
	assert_int_equal(ml_render_where_block(w, f, 0), 0);
	fclose(f);
	return s;
}

static void no_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("control byte 0x%02x at %zu in:\n%s", *p, (size_t)(p - (const unsigned char *)s), s);
	assert_null(strstr(s, "\xe2\x80\xae"));      /* the bidi override */
}

static char *line_starting(char *s, const char *label)
{
	char *p = strstr(s, label);

	if (!p)
		fail_msg("no line \"%s\" in:\n%s", label, s);
	return p;
}

static void test_block_mapped(void **state)
{
	(void)state;
	struct ml_where w = mapped();
	char *s = block(&w), want[128];

	no_controls(s);
	snprintf(want, sizeof(want), "0x%" PRIx64 "\n", w.addr);
	assert_true(!strncmp(s, want, strlen(want)));
	line_starting(s, "\n  region     text r-xp ");
	assert_non_null(strstr(s, "/tmp/evil\\x0aname \\x1b[31mred"));
	snprintf(want, sizeof(want), "0x%" PRIx64 "-0x%" PRIx64, text.start, text.end);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "  offset     0x%" PRIx64 " into the mapping, 0x%" PRIx64
		 " into the file\n", w.map_offset, w.file_offset);
	assert_non_null(strstr(s, want));
	line_starting(s, "\n  section    .text");
	line_starting(s, "\n  symbol     evil\\x1b]0;title\\x07fn");
	assert_non_null(strstr(s, "+0x34"));
	line_starting(s, "\n  source     /src/a\\x0ab.c:42");
	snprintf(want, sizeof(want), "  page       VPN 0x%" PRIx64 ", offset 0x%" PRIx64
		 "; walk PGD %u PUD %u PMD %u PTE %u", w.vpn, w.page_offset, w.levels[0].index,
		 w.levels[1].index, w.levels[2].index, w.levels[3].index);
	assert_non_null(strstr(s, want));
	assert_null(strstr(s, "  hole "));
	assert_null(strstr(s, "  stack "));
	free(s);
}

static void test_block_stack_and_hole(void **state)
{
	(void)state;
	struct ml_where w = on_stack();
	char *s = block(&w), want[128];

	no_controls(s);
	line_starting(s, "\n  region     stack rw-p [stack]");
	line_starting(s, "\n  stack      ");
	assert_non_null(strstr(s, "4242"));
	assert_non_null(strstr(s, "RLIMIT_STACK"));
	snprintf(want, sizeof(want), "0x%" PRIx64, w.sp);
	assert_non_null(strstr(s, want));
	assert_null(strstr(s, "  hole "));
	free(s);

	w = unmapped();
	s = block(&w);
	no_controls(s);
	snprintf(want, sizeof(want), "  hole       %s: %s\n", ml_hole_name(w.hole),
		 ml_hole_description(w.hole));
	assert_non_null(strstr(s, want));
	line_starting(s, "\n  below      rodata /bin/prog");
	line_starting(s, "\n  above      stack [stack]");
	assert_null(strstr(s, "  region "));
	/* one line per field: address, hole, below, above, page */
	size_t lines = 0;
	for (char *p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
	free(s);
}

static char *table(const struct ml_where *ws, size_t n, const char *cols, unsigned int flags)
{
	int ids[64];
	size_t nids = 0;
	const char *bad = NULL;
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	struct ml_where_table *t;

	assert_non_null(f);
	if (cols)
		assert_int_equal(ml_where_columns_parse(cols, ids, 64, &nids, &bad), 0);
	struct ml_table_opts o = { cols ? ids : NULL, nids, flags };
	assert_int_equal(ml_where_table_new(f, &o, &t), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ml_where_table_add(t, &ws[i]), 0);
	assert_int_equal(ml_where_table_finish(t), 0);
	fclose(f);
	return s;
}

static void test_raw_table(void **state)
{
	(void)state;
	struct ml_where ws[3] = { mapped(), on_stack(), unmapped() };
	char *s = table(ws, 3, "ADDR,START,END,MAPOFF,FILEOFF,VPN,STACK,HOLE",
			ML_OUT_RAW | ML_OUT_NOHEADINGS);
	char *save = NULL, *line;
	size_t i = 0;

	no_controls(s);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		char *f[8] = { 0 };
		size_t nf = 0;
		/* raw: one blank between cells, an empty cell empty */
		for (char *c = line; c && nf < 8; nf++) {
			f[nf] = c;
			c = strchr(c, ' ');
			if (c)
				*c++ = '\0';
		}
		assert_int_equal(nf, 8);
		const struct ml_where *w = &ws[i];
		char want[32];
		snprintf(want, sizeof(want), "0x%" PRIx64, w->addr);
		assert_string_equal(f[0], want);
		if (w->region) {
			snprintf(want, sizeof(want), "0x%" PRIx64, w->region->start);
			assert_string_equal(f[1], want);
			snprintf(want, sizeof(want), "0x%" PRIx64, w->region->end);
			assert_string_equal(f[2], want);
			snprintf(want, sizeof(want), "0x%" PRIx64, w->map_offset);
			assert_string_equal(f[3], want);
		}
		snprintf(want, sizeof(want), "0x%" PRIx64, w->vpn);
		assert_string_equal(f[5], want);
		if (w->has_file_offset) {
			snprintf(want, sizeof(want), "0x%" PRIx64, w->file_offset);
			assert_string_equal(f[4], want);
		}
		if (w->is_stack)
			assert_string_equal(f[6], "4242");
		if (!w->region)
			assert_string_equal(f[7], ml_hole_name(w->hole));
		else
			assert_string_equal(f[7], "");
		if (!w->region)
			assert_string_equal(f[1], "");
		if (!w->is_stack)
			assert_string_equal(f[6], "");
	}
	assert_int_equal(i, 3);
	free(s);
}

static void test_json(void **state)
{
	(void)state;
	struct ml_where ws[3] = { mapped(), on_stack(), unmapped() };
	char *s = table(ws, 3, NULL, ML_OUT_JSON | ML_OUT_BYTES), want[64];

	no_controls(s);
	assert_non_null(strstr(s, "\"addresses\": ["));
	for (int i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "\"addr\": \"0x%" PRIx64 "\"", ws[i].addr);
		assert_non_null(strstr(s, want));
	}
	/* the hostile path as JSON: newline and ESC as \u escapes, bidi too */
	assert_non_null(strstr(s, "/tmp/evil\\nname \\u001b[31mred\\u001b[0m \\u202e.so"));
	assert_non_null(strstr(s, "\"stack\": 4242"));
	snprintf(want, sizeof(want), "\"belowtop\": %" PRIu64, ws[1].below_top);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "\"room\": %" PRIu64, ws[1].room);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "\"hole\": \"%s\"", ml_hole_name(ML_HOLE_HEAP_MMAP));
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "\"belowdist\": %" PRIu64, ws[2].dist_below);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "\"walk\": \"PGD "));
	snprintf(want, sizeof(want), "\"abovedist\": %" PRIu64, ws[2].dist_above);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "\"symoff\": \"0x34\""));
	free(s);
}

static void test_columns(void **state)
{
	(void)state;
	int ids[64];
	size_t n = 0, ncols;
	const char *bad = NULL;
	const struct ml_column_info *c = ml_where_columns(&ncols);

	assert_true(ncols >= 30);
	assert_int_equal(ml_where_columns_parse("ADDR,HOLE", ids, 64, &n, &bad), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[ids[0]].name, "ADDR");
	assert_string_equal(c[ids[1]].name, "HOLE");
	assert_true(ml_where_columns_parse("ADDR,NOPE", ids, 64, &n, &bad) < 0);
	assert_non_null(bad);
	assert_true(!strncmp(bad, "NOPE", 4));
	for (size_t i = 0; i < ncols; i++)
		assert_true(c[i].name && c[i].help && c[i].whint > 0);
}

/* The engine (ml_table_print) on ws with where's own columns: what
 * ml_where_table must print, whatever the mode. */
static char *engine(const struct ml_where *ws, size_t n, const int *ids, size_t nids,
		    unsigned int flags)
{
	size_t ncols, len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);
	struct ml_table t = { "addresses", ml_where_columns(&ncols), ncols, ids, nids,
			      ws, sizeof(*ws), n, NULL, NULL, true };

	assert_non_null(f);
	assert_int_equal(ml_table_print(f, flags, &t), 0);
	fclose(f);
	return s;
}

/* where's table is the column engine's: every column has a cell, and the
 * table (aligned, raw, JSON, -b, chosen columns) is ml_table_print's bytes;
 * a raw batch longer than a flush (4096 answers) too, its headings once. */
static void test_engine(void **state)
{
	(void)state;
	static const unsigned int modes[] = { 0, ML_OUT_RAW, ML_OUT_NOHEADINGS, ML_OUT_JSON,
					      ML_OUT_JSON | ML_OUT_BYTES, ML_OUT_BYTES };
	enum { N = 10000 };
	struct ml_where *ws = calloc(N, sizeof(*ws));
	int ids[64];
	size_t nids, ncols;
	const char *bad = NULL;
	const struct ml_column_info *c = ml_where_columns(&ncols);

	for (size_t i = 0; i < ncols; i++)
		assert_non_null(c[i].cell);
	assert_non_null(ws);
	for (size_t i = 0; i < N; i++)
		ws[i] = i % 3 == 0 ? mapped() : i % 3 == 1 ? on_stack() : unmapped();
	assert_int_equal(ml_where_columns_parse("ADDR,OBJECT,STACK,ROOM,HOLE,WALK,PRESENT,KFLAGS",
						ids, 64, &nids, &bad), 0);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (int chosen = 0; chosen < 2; chosen++) {
			char *got = table(ws, 3, chosen ? "ADDR,OBJECT,STACK,ROOM,HOLE,WALK,PRESENT,KFLAGS" : NULL,
					  modes[m]);
			char *want = engine(ws, 3, chosen ? ids : NULL, chosen ? nids : 0, modes[m]);
			assert_string_equal(got, want);
			free(got);
			free(want);
		}
	}
	assert_int_equal(ml_where_columns_parse("ADDR,OBJECT,STACK,HOLE", ids, 64, &nids, &bad), 0);
	char *got = table(ws, N, "ADDR,OBJECT,STACK,HOLE", ML_OUT_RAW);
	char *want = engine(ws, N, ids, nids, ML_OUT_RAW);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_mapped),
		cmocka_unit_test(test_block_stack_and_hole),
		cmocka_unit_test(test_raw_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
