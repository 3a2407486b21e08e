/* SPDX-License-Identifier: MIT */
/*
 * scols-spec.c - golden-terminal's oracle: the terminal tables of memlayout
 * as the libsmartcols installed here prints them, so that no test pins the
 * bytes one libsmartcols version printed.
 *
 * Built twice (tests/golden/meson.build):
 *  - scols-record.so (-DSCOLS_RECORD), preloaded into memlayout: every
 *    scols_print_table() prints the table it is given with the real
 *    function, then appends it, as memlayout built it (terminal width and
 *    modes; each column's header, width hint, flags and safe characters;
 *    each line's cells), to the file named by $MEMLAYOUT_SCOLS_SPEC;
 *  - scols-replay: reads such a file on stdin and prints its tables, one
 *    after another, with libsmartcols itself, on a terminal of the width
 *    recorded.
 * run-terminal.py pins the recorded tables (what memlayout decides: cells,
 * columns shown, their flags) and the prose around them, and checks that
 * memlayout's terminal bytes are the prose with each table as scols-replay
 * prints it: libsmartcols' layout is whatever the installed one does.
 *
 * The format, one record a line, fields separated by tabs, text with '\',
 * tab, newline, other controls and bytes >= 0x7f written as \xHH, no
 * text (NULL, not "") as \N:
 *   table  TERMWIDTH TERMFORCE RAW NOHEADINGS
 *   col    WHINT FLAGS SAFECHARS HEADER
 *   line   CELL...
 */
#include <dlfcn.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SCOLS_RECORD

static void put_text(FILE *f, const char *s)
{
	fputs(s ? "\t" : "\t\\N", f);
	for (; s && *s; s++) {
		unsigned char b = (unsigned char)*s;
		if (b < 0x20 || b >= 0x7f || b == '\\')
			fprintf(f, "\\x%02x", b);
		else
			fputc(b, f);
	}
}

static void record(struct libscols_table *tb, FILE *f)
{
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_column *cl;
	struct libscols_line *ln;

	fprintf(f, "table\t%zu\t%d\t%d\t%d\n", scols_table_get_termwidth(tb),
		scols_table_get_termforce(tb), scols_table_is_raw(tb), scols_table_is_noheadings(tb));
	while (it && scols_table_next_column(tb, it, &cl) == 0) {
		struct libscols_cell *h = scols_column_get_header(cl);
		fprintf(f, "col\t%.17g\t%d", scols_column_get_whint(cl), scols_column_get_flags(cl));
		put_text(f, scols_column_get_safechars(cl));
		put_text(f, h ? scols_cell_get_data(h) : NULL);
		fputc('\n', f);
	}
	scols_reset_iter(it, SCOLS_ITER_FORWARD);
	while (it && scols_table_next_line(tb, it, &ln) == 0) {
		fputs("line", f);
		for (size_t i = 0; i < scols_line_get_ncells(ln); i++)
			put_text(f, scols_cell_get_data(scols_line_get_cell(ln, i)));
		fputc('\n', f);
	}
	scols_free_iter(it);
}

int scols_print_table(struct libscols_table *tb)
{
	int (*real)(struct libscols_table *) =
		(int (*)(struct libscols_table *))dlsym(RTLD_NEXT, "scols_print_table");
	const char *path = getenv("MEMLAYOUT_SCOLS_SPEC");
	int r = real ? real(tb) : -1;   /* first: the width is known once it printed */
	FILE *f = path && !scols_table_is_json(tb) ? fopen(path, "a") : NULL;

	if (f) {
		record(tb, f);
		fclose(f);
	}
	return r;
}

#else

/* The fields of line (tabs become NULs), text decoded in place; their count. */
static size_t split(char *line, char **field, size_t max)
{
	size_t n = 0;

	for (char *p = line; p && n < max; n++) {
		char *tab = strchr(p, '\t'), *o = p;
		if (tab)
			*tab = '\0';
		field[n] = p;
		for (char *s = p; *s; s++) {
			unsigned int b;
			if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &b) == 1) {
				*o++ = (char)b;
				s += 3;
			} else {
				*o++ = *s;
			}
		}
		*o = '\0';
		p = tab ? tab + 1 : NULL;
	}
	return n;
}

/* A field's text: NULL for \N. */
static const char *text(const char *field)
{
	return strcmp(field, "\\N") ? field : NULL;
}

static int print(struct libscols_table *tb)
{
	int r = tb ? scols_print_table(tb) : 0;

	scols_unref_table(tb);
	return r;
}

int main(void)
{
	struct libscols_table *tb = NULL;
	char *line = NULL, *f[256];
	size_t cap = 0;
	ssize_t len;
	int r = 0;

	while (r == 0 && (len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		size_t n = split(line, f, 256);
		if (!strcmp(f[0], "table") && n == 5) {
			r = print(tb);
			if (!(tb = scols_new_table()))
				return 1;
			scols_table_set_termwidth(tb, strtoul(f[1], NULL, 10));
			scols_table_set_termforce(tb, atoi(f[2]));
			scols_table_enable_raw(tb, atoi(f[3]));
			scols_table_enable_noheadings(tb, atoi(f[4]));
		} else if (!strcmp(f[0], "col") && n == 5 && tb) {
			struct libscols_column *cl = scols_table_new_column(tb, text(f[4]), strtod(f[1], NULL),
									    atoi(f[2]));
			if (!cl || scols_column_set_safechars(cl, text(f[3])))
				return 1;
		} else if (!strcmp(f[0], "line") && tb) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			for (size_t i = 1; ln && i < n; i++)
				if (text(f[i]) && scols_line_set_data(ln, i - 1, f[i]))
					return 1;
			if (!ln)
				return 1;
		} else {
			fprintf(stderr, "scols-replay: a record it does not know: %s\n", f[0]);
			return 2;
		}
	}
	free(line);
	r = r ? r : print(tb);
	return r ? 1 : 0;
}

#endif
