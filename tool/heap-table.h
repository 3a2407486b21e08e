/* SPDX-License-Identifier: MIT */
/*
 * heap-table.h - what `memlayout heap`'s two renderers share, mlalloc's
 * (heap-render.c) and glibc malloc's (heap-glibc.c): the context every
 * cell gets, CELLFN() for a cell of one expression, and put_table(), which
 * prints a table of struct ml_column_info rows through the library's one
 * table printer (ml_table_print), or adds it to the JSON document being
 * written (ml_json_table).
 */
#ifndef CLI_HEAP_TABLE_H
#define CLI_HEAP_TABLE_H

#include "heap.h"
#include "glibc-heap.h"

#include <stdio.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
	unsigned int flags;                 /* ML_OUT_* */
	const struct ml_snapshot *snap;
	const struct ml_heap *h;            /* NULL for a process without mlalloc */
	const char *why;                    /* why not mlalloc */
	const struct ml_glibc_heap *g;      /* glibc malloc's heap, or NULL */
	bool stopped;                       /* g read with every thread stopped */
	struct ml_json *json;               /* with ML_OUT_JSON: the document */
};

/* A cell of one expression: x the row, c the ctx, fl the ML_OUT_* flags,
 * buf the cell's ML_CELL_BUF bytes (ml_cell_fn). */
#define CELLFN(fn, expr)                                                          \
	static char *fn(const void *x, const void *cv, unsigned int fl, char *buf) \
	{                                                                       \
		const struct ctx *c = cv;                                       \
		(void)x, (void)c, (void)fl, (void)buf;                          \
		return (expr);                                                  \
	}

/* A column row: {name, width hint, type, in the default set, help, cell,
 * fit on a terminal}. */
#define COL(name, whint, type, def, help, ...) \
	{ name, whint, (type) == ML_COL_SIZE, false, def, help, type, __VA_ARGS__ }

/* A static word as a cell. */
static inline char *word_cell(char *buf, const char *w)
{
	snprintf(buf, ML_CELL_BUF, "%s", w);
	return buf;
}

/* Text as a cell (malloc'ed; escaped by the table printer when its
 * column is ML_COL_TEXT), NULL for none. */
static inline char *text_cell(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Table t (its ctx c) printed, or added to c's JSON document. */
static inline int put_table(FILE *out, const struct ctx *c, const struct ml_table *t)
{
	return c->json ? ml_json_table(c->json, c->flags, t) : ml_table_print(out, c->flags, t);
}

/* With ML_OUT_JSON, c's document begun: 0 or -ENOMEM. */
static inline int heap_json_begin(FILE *out, struct ctx *c)
{
	return (c->flags & ML_OUT_JSON) ? ml_json_begin(out, &c->json) : 0;
}

/* c's document ended, after r (the printing's result): r or -errno. */
static inline int heap_json_end(const struct ctx *c, int r)
{
	int e = c->json ? ml_json_end(c->json) : 0;

	return r < 0 ? r : e;
}

#endif
