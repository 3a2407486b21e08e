/* SPDX-License-Identifier: MIT */
/*
 * test-table-text.c - the bulk table writer (lib/table-text.c) prints the
 * bytes libsmartcols prints: random tables of every shape, both ways, in
 * human and raw format, with and without headings; tables bigger than
 * the writer's buffers; the region table of a real snapshot (this
 * process, with 6,000 more mappings), both ways, for several column sets;
 * and it refuses, having written nothing, every cell libsmartcols would
 * encode, early or late in a big table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ml-private.h"

#define MAXC 7
#define MAXL 40

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

static void mem_close(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
}

static void assert_same(const struct mem *a, const struct mem *b, const char *what)
{
	if (a->len != b->len || memcmp(a->buf, b->buf, a->len) != 0) {
		fprintf(stderr, "%s differ:\n--- libsmartcols (%zu bytes)\n%.*s--- bulk (%zu bytes)\n%.*s",
			what, a->len, (int)(a->len > 2000 ? 2000 : a->len), a->buf,
			b->len, (int)(b->len > 2000 ? 2000 : b->len), b->buf);
		fail();
	}
}

static unsigned int seed = 12345;
static unsigned int rnd(unsigned int n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % n;
}


/* The bulk writer's cells from a grid; NULL for a cell with no data. */
struct grid {
	size_t ncols;
	const char *cells;        /* [row][MAXC][24] */
	bool (*empty)[MAXC];
};

/* The tables here are given a cell at a time; the writer takes rows.
 * Every other row tells the cells' lengths, the others leave them to the
 * writer (SIZE_MAX), as render-table.c does for text it did not build. */
typedef const char *(*cell_fn)(void *ctx, size_t row, size_t col, char *buf);
struct by_cell {
	cell_fn cell;
	void *ctx;
	size_t ncols;
};

static void row_of_cells(void *ctx, size_t row, const char **s, size_t *n,
			 char (*bufs)[ML__TEXT_CELL_BUF])
{
	const struct by_cell *b = ctx;

	for (size_t c = 0; c < b->ncols; c++) {
		s[c] = b->cell(b->ctx, row, c, bufs[c]);
		n[c] = s[c] && row % 2 ? strlen(s[c]) : SIZE_MAX;
	}
}

static int print_cells(FILE *f, unsigned int flags, const struct ml__text_col *cols,
		       size_t nc, size_t nl, cell_fn cell, void *ctx)
{
	struct by_cell a = { cell, ctx, nc };

	return ml__text_table_print(f, flags, cols, nc, nl, row_of_cells, &a);
}

static const char *grid_cell(void *ctx, size_t row, size_t col, char *buf)
{
	const struct grid *g = ctx;

	(void)buf;
	if (g->empty[row][col])
		return NULL;
	return g->cells + (row * MAXC + col) * 24;
}

/* A random table printed by libsmartcols and by the bulk writer. */
static void one_random_table(unsigned int flags)
{
	static const char alphabet[] = "abcXYZ0129.-_/[]:+ #~";
	static const double hints[] = { 0.06, 0.1, 0.25, 1, 3, 5, 8, 12 };
	static const char *const heads[] = { "A", "START", "SIZE", "TID", "LONGHEADER", "X Y", "K" };
	size_t nc = 1 + rnd(MAXC), nl = 1 + rnd(MAXL);
	char cells[MAXL][MAXC][24];
	bool empty[MAXL][MAXC];
	double wh[MAXC];
	bool right[MAXC];
	struct mem a, b;

	for (size_t c = 0; c < nc; c++) {
		wh[c] = hints[rnd(8)];
		right[c] = rnd(2);
	}
	for (size_t l = 0; l < nl; l++)
		for (size_t c = 0; c < nc; c++) {
			size_t n = rnd(4) == 0 ? 0 : rnd(16);
			for (size_t i = 0; i < n; i++)
				cells[l][c][i] = alphabet[rnd(sizeof(alphabet) - 1)];
			cells[l][c][n] = '\0';
		}

	mem_open(&a);
	struct libscols_table *tb = ml_scols_table_new(a.f, flags, "t");
	assert_non_null(tb);
	scols_table_set_termforce(tb, SCOLS_TERMFORCE_NEVER);
	for (size_t c = 0; c < nc; c++)
		assert_non_null(scols_table_new_column(tb, heads[c], wh[c],
						       right[c] ? SCOLS_FL_RIGHT : 0));
	for (size_t l = 0; l < nl; l++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		assert_non_null(ln);
		for (size_t c = 0; c < nc; c++) {
			empty[l][c] = !cells[l][c][0] && rnd(2);   /* no data, or "" */
			if (!empty[l][c])
				assert_int_equal(scols_line_set_data(ln, c, cells[l][c]), 0);
		}
	}
	assert_int_equal(scols_print_table(tb), 0);
	scols_unref_table(tb);
	mem_close(&a);

	mem_open(&b);
	struct ml__text_col cols[MAXC];
	struct grid g = { nc, &cells[0][0][0], empty };
	for (size_t c = 0; c < nc; c++)
		cols[c] = (struct ml__text_col){ heads[c], wh[c], right[c] };
	assert_int_equal(print_cells(b.f, flags, cols, nc, nl, grid_cell, &g), 0);
	mem_close(&b);

	assert_same(&a, &b, "random table");
	free(a.buf);
	free(b.buf);
}

static void test_random_tables(void **state)
{
	static const unsigned int flagsets[] = {
		0, ML_OUT_RAW, ML_OUT_NOHEADINGS, ML_OUT_RAW | ML_OUT_NOHEADINGS,
	};

	(void)state;
	for (size_t f = 0; f < ML_ARRAY_SIZE(flagsets); f++)
		for (int i = 0; i < 500; i++)
			one_random_table(flagsets[f]);
}

/* What libsmartcols would encode is refused, and nothing is written. */
static const char *one_bad_cell(void *ctx, size_t row, size_t col, char *buf)
{
	(void)buf;
	return row == 1 && col == 1 ? ctx : "fine";
}

static void test_refuses(void **state)
{
	static const char *const bad[] = {
		"back\\slash", "\\x41", "tab\there", "new\nline", "esc\033[31m",
		"caf\xc3\xa9", "\x7f", "\xff",
	};
	const struct ml__text_col cols[] = { { "A", 1, false }, { "B", 1, true } };
	struct mem m;

	(void)state;
	for (size_t i = 0; i < ML_ARRAY_SIZE(bad); i++) {
		mem_open(&m);
		assert_int_equal(print_cells(m.f, 0, cols, 2, 3, one_bad_cell,
						      (void *)bad[i]), -EILSEQ);
		assert_int_equal(print_cells(m.f, ML_OUT_RAW, cols, 2, 3,
						      one_bad_cell, (void *)bad[i]), -EILSEQ);
		mem_close(&m);
		assert_int_equal(m.len, 0);
		free(m.buf);
	}
	/* a header too; JSON is never this writer's; nor is an empty table */
	const struct ml__text_col badhead[] = { { "A\x01", 1, false } };
	mem_open(&m);
	assert_int_equal(print_cells(m.f, 0, badhead, 1, 3, one_bad_cell, "x"), -EILSEQ);
	assert_int_equal(print_cells(m.f, 0, cols, 2, 0, one_bad_cell, "x"), -EILSEQ);
	assert_int_equal(print_cells(m.f, ML_OUT_JSON, cols, 2, 3, one_bad_cell, "x"), -EILSEQ);
	mem_close(&m);
	assert_int_equal(m.len, 0);
	free(m.buf);
	/* and the same table with a plain cell is printed */
	mem_open(&m);
	assert_int_equal(print_cells(m.f, 0, cols, 2, 3, one_bad_cell, "ok"), 0);
	mem_close(&m);
	assert_string_equal(m.buf, "A       B\nfine fine\nfine   ok\nfine fine\n");
	free(m.buf);
}

/* Big tables (more than one output buffer, more than one huge page of
 * cells): the same bytes as libsmartcols, and a bad cell early or late
 * refused. */
struct big {
	size_t bad_row;           /* SIZE_MAX: none */
};

static const char *big_cell(void *ctx, size_t row, size_t col, char *buf)
{
	const struct big *b = ctx;

	if (row == b->bad_row && col == 2)
		return "bad\\cell";
	if ((row + col) % 7 == 0)
		return NULL;
	/* the widest cells in the second half */
	snprintf(buf, ML__TEXT_CELL_BUF, "%zx%.*s", row * 2654435761u % 100003,
		 (int)(row > 8000 ? 20 : (row * 31 + col) % 9), "                    ");
	return buf;
}

static void test_big_tables(void **state)
{
	const struct ml__text_col cols[] = {
		{ "ROW", 0.1, true, false }, { "B", 5, false, false },
		{ "C D", 12, true, false }, { "LAST", 0.2, false, false },
	};
	const size_t nrows = 9001;
	struct big b = { SIZE_MAX };
	struct mem a, m;

	(void)state;
	for (unsigned int flags = 0; flags <= ML_OUT_RAW; flags += ML_OUT_RAW) {
		mem_open(&a);
		struct libscols_table *tb = ml_scols_table_new(a.f, flags, "t");
		assert_non_null(tb);
		scols_table_set_termforce(tb, SCOLS_TERMFORCE_NEVER);
		for (size_t c = 0; c < 4; c++)
			assert_non_null(scols_table_new_column(tb, cols[c].header, cols[c].whint,
							       cols[c].right ? SCOLS_FL_RIGHT : 0));
		for (size_t i = 0; i < nrows; i++) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			char buf[ML__TEXT_CELL_BUF];
			assert_non_null(ln);
			for (size_t c = 0; c < 4; c++) {
				const char *t = big_cell(&b, i, c, buf);
				if (t)
					assert_int_equal(scols_line_set_data(ln, c, t), 0);
			}
		}
		assert_int_equal(scols_print_table(tb), 0);
		scols_unref_table(tb);
		mem_close(&a);

		mem_open(&m);
		assert_int_equal(print_cells(m.f, flags, cols, 4, nrows, big_cell, &b), 0);
		mem_close(&m);
		assert_same(&a, &m, "big table");
		free(a.buf);
		free(m.buf);
	}
	/* a bad cell early, then late: nothing written */
	size_t bad[] = { 10, nrows - 1 };
	for (size_t k = 0; k < 2; k++) {
		b.bad_row = bad[k];
		mem_open(&m);
		assert_int_equal(print_cells(m.f, 0, cols, 4, nrows, big_cell, &b),
				 -EILSEQ);
		mem_close(&m);
		assert_int_equal(m.len, 0);
		free(m.buf);
	}
}

/* The region table of a snapshot, rendered with and without the bulk
 * writer: the same bytes. */
static void regions_both_ways(const struct ml_snapshot *snap, const char *cols,
			      unsigned int flags)
{
	int ids[64];
	size_t n = 0;
	const char *badcol = NULL;
	struct ml_table_opts to = { NULL, 0, flags };
	struct mem a, b;

	if (cols) {
		assert_int_equal(ml_columns_parse(cols, ids, 64, &n, &badcol), 0);
		to.columns = ids;
		to.ncolumns = n;
	}
	mem_open(&b);
	assert_int_equal(ml_render_regions(snap, b.f, &to), 0);
	mem_close(&b);
	to.flags |= ML_OUT_SCOLS_ONLY;
	mem_open(&a);
	assert_int_equal(ml_render_regions(snap, a.f, &to), 0);
	mem_close(&a);
	assert_true(a.len > 0);
	assert_same(&a, &b, cols ? cols : "default columns");
	free(a.buf);
	free(b.buf);
}

/* A page of a new memfd called name, mapped shared (the fd is closed:
 * the mapping keeps the file and its name in maps). */
static void *map_memfd(const char *name)
{
	int fd = memfd_create(name, 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	return p;
}

static void test_regions(void **state)
{
	static const char *const colsets[] = {
		NULL, "START,END,PERMS,OFFSET,KIND,OBJECT",
		"+NAME,VMFLAGS,DEV,INODE,SWAP_PSS,LOCKED", "TID", "SECTIONS,SIZE",
	};
	static const unsigned int flagsets[] = {
		0, ML_OUT_RAW, ML_OUT_NOHEADINGS, ML_OUT_BYTES, ML_OUT_RAW | ML_OUT_BYTES,
	};
	struct ml_snap_opts o = { .flags = ML_SNAP_SMAPS };
	struct ml_snapshot *snap;

	(void)state;
	/* 6,000 more regions (every other page read-only, so none merge):
	 * a table bigger than the writer's output buffer. */
	long pg = sysconf(_SC_PAGESIZE);
	char *many = mmap(NULL, 12000 * (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(many != MAP_FAILED);
	for (size_t i = 0; i < 12000; i += 2)
		assert_int_equal(mprotect(many + i * (size_t)pg, (size_t)pg, PROT_READ), 0);
	/* A region named with spaces (plain), and then one the writer must
	 * refuse: both tables still come out the same. */
	void *p = map_memfd("bulk writer test");
	assert_int_equal(ml_snapshot_take(getpid(), &o, &snap), 0);
	for (size_t c = 0; c < ML_ARRAY_SIZE(colsets); c++)
		for (size_t f = 0; f < ML_ARRAY_SIZE(flagsets); f++)
			regions_both_ways(snap, colsets[c], flagsets[f]);
	ml_snapshot_free(snap);

	void *p2 = map_memfd("evil\\x1b[31m \xc3\xa9");
	assert_int_equal(ml_snapshot_take(getpid(), &o, &snap), 0);
	regions_both_ways(snap, "+NAME", 0);
	regions_both_ways(snap, "+NAME", ML_OUT_RAW);
	ml_snapshot_free(snap);
	munmap(p, 4096);
	munmap(p2, 4096);
	munmap(many, 12000 * (size_t)pg);
}

int main(void)
{
	/* libsmartcols and the renderer ask isatty(STDOUT_FILENO): make the
	 * answer "no" however the test is run, so the bulk path is taken
	 * (cmocka's report then goes to /dev/null; meson gives a pipe). */
	if (isatty(STDOUT_FILENO)) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
			return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_tables),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_big_tables),
		cmocka_unit_test(test_regions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
