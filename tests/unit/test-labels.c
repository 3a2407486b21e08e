/* SPDX-License-Identifier: MIT */
/*
 * test-labels.c - the shortest unambiguous names of objects (labels.c)
 * and lines folded at a terminal's width (fold.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

#include <libsmartcols/libsmartcols.h>

static void labels_of(const char *const *paths, size_t n, const char *const *want)
{
	const char **got = NULL;

	assert_int_equal(ml__path_labels(paths, n, &got), 0);
	for (size_t i = 0; i < n; i++) {
		if (!want[i]) {
			assert_null(got[i]);
			continue;
		}
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
		/* a suffix of the object's own string */
		assert_true(got[i] >= paths[i] && got[i] <= paths[i] + strlen(paths[i]));
	}
	free(got);
}

static void test_labels(void **state)
{
	(void)state;
	const char *const p[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "[heap]", NULL,
		"/opt/app/lib/libfoo.so", "/usr/lib/libfoo.so", "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/srv/a/lib/libbar.so", "/srv/b/lib/libbar.so", "/libbar.so", "memfd:x",
	};
	const char *const want[] = {
		"libc.so.6", "[heap]", NULL,
		"app/lib/libfoo.so", "usr/lib/libfoo.so", "libc.so.6",
		"a/lib/libbar.so", "b/lib/libbar.so", "/libbar.so", "memfd:x",
	};
	labels_of(p, sizeof(p) / sizeof(p[0]), want);
	labels_of(NULL, 0, NULL);
}

/* What a fold stream of width w and indent makes of text. */
static char *fold(const char *text, unsigned int w, unsigned int indent, const char *keep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	FILE *f = ml_fold_stream(mem, w, indent, keep);

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	fclose(mem);
	return buf;
}

static void check_fold(const char *text, unsigned int w, unsigned int indent,
		       const char *keep, const char *want)
{
	char *got = fold(text, w, indent, keep);
	assert_string_equal(got, want);
	free(got);
}

static void test_fold(void **state)
{
	(void)state;
	check_fold("short line\n", 20, 2, NULL, "short line\n");
	check_fold("one two three four five\n", 10, 2, NULL, "one two\n  three\n  four\n  five\n");
	check_fold("x | a bb ccc dddd\n", 10, 4, "|", "x | a bb\n  | ccc\n  | dddd\n");
	check_fold("abcdefghijkl\n", 5, 0, NULL, "abcde\nfghij\nkl\n");
	/* escape sequences take no column, a multibyte character one */
	check_fold("\033[31mred\033[0m \xe2\x86\x92 ok\n", 8, 0, NULL,
		   "\033[31mred\033[0m \xe2\x86\x92 ok\n");
	check_fold("no newline at the end", 10, 0, NULL, "no newline\nat the end\n");
}

/* A filled table's column relabelled: equal paths in several rows (a
 * label may point into another row's cell), empty cells left empty. */
static void test_label_column(void **state)
{
	static const char *const cells[] = { "/usr/lib/libc.so.6", "/a/lib/x.so", NULL,
					     "/usr/lib/libc.so.6", "/b/lib/x.so", "[heap]" };
	static const char *const want[] = { "libc.so.6", "a/lib/x.so", NULL, "libc.so.6",
					    "b/lib/x.so", "[heap]" };
	struct libscols_table *tb = scols_new_table();
	struct libscols_line *ln;
	(void)state;

	assert_non_null(scols_table_new_column(tb, "OBJECT", 1, 0));
	assert_non_null(scols_table_new_column(tb, "N", 1, 0));
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		assert_non_null(ln = scols_table_new_line(tb, NULL));
		if (cells[i])
			assert_int_equal(scols_line_refer_data(ln, 0, strdup(cells[i])), 0);
		assert_int_equal(scols_line_set_data(ln, 1, "1"), 0);
	}
	assert_int_equal(ml__scols_label_column(tb, 0), 0);
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const char *d = scols_cell_get_data(scols_line_get_cell(scols_table_get_line(tb, i), 0));
		if (want[i])
			assert_string_equal(d, want[i]);
		else
			assert_null(d);
	}
	scols_unref_table(tb);
}

int main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_label_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
