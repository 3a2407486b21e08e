/* SPDX-License-Identifier: MIT */
/*
 * heap-table.h - the column-table machinery of `memlayout heap`'s output
 * (heap-render.c), shared by its two allocators' renderers: mlalloc's
 * (heap-render.c) and glibc malloc's (heap-glibc-render.c).  A table is an
 * array of struct col {name, width hint, JSON type, default, help, cell};
 * ml__heap_print_table prints it through libsmartcols, or appends its JSON
 * to the document ml__heap_finish_json writes.
 */
#ifndef ML_HEAP_TABLE_H
#define ML_HEAP_TABLE_H

#include "heap.h"
#include "glibc-heap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum jtype { J_STR, J_HEX, J_SIZE, J_NUM, J_BOOL, J_FLOAT };

struct ctx {
	unsigned int flags;                 /* ML_OUT_* */
	const struct ml_snapshot *snap;
	const struct ml_heap *h;            /* NULL for a process without mlalloc */
	const char *why;                    /* why not mlalloc */
	const struct ml_glibc_heap *g;      /* glibc malloc's heap, or NULL */
	bool stopped;                       /* g read with every thread stopped */
	bool fitted;                        /* a terminal's default columns:
	                                       fitted to its width */
};

typedef char *(*cell_fn)(const void *row, const struct ctx *c);

struct col {
	const char *name;
	double whint;
	enum jtype json;
	bool def;                           /* in the default set */
	const char *help;
	cell_fn fn;
	struct ml_fit fit;                  /* on a terminal (ml_scols_fit) */
};

struct rows {
	const void *base;
	size_t stride, n;
	const bool *skip;          /* optional: rows to leave out */
};

char *ml__heap_size_cell(uint64_t v, const struct ctx *c);
char *ml__heap_hex_cell(uint64_t v);
char *ml__heap_num_cell(uint64_t v);
char *ml__heap_text_cell(const char *s, const struct ctx *c);
/* Print (or, for JSON, append to *json the inside of) one table: 0 or -errno. */
int ml__heap_print_table(FILE *out, const char *name, const struct col *cols,
			 const int *ids, size_t nids, const struct rows *rows,
			 const struct ctx *c, char **json);
/* The ids of every column (only_def: the default ones); their count. */
int ml__heap_all_ids(const struct col *cols, size_t n, bool only_def, int *ids);
/* Write {json} through ml_json_stream when r is 0; frees json; r or -errno. */
int ml__heap_finish_json(FILE *out, char *json, int r);

#define size_cell ml__heap_size_cell
#define hex_cell ml__heap_hex_cell
#define num_cell ml__heap_num_cell
#define text_cell ml__heap_text_cell
#define print_table ml__heap_print_table
#define all_ids ml__heap_all_ids
#define finish_json ml__heap_finish_json

#endif
