/* SPDX-License-Identifier: MIT */
/*
 * heap.h - `memlayout heap`: the figures computed from a copy of mlalloc's
 * published heap state (heap-model.c) and their rendering as text,
 * libsmartcols tables or one JSON document (heap-render.c).  The command
 * itself (options, target, errors) is cmd-heap.c.  Definitions of every
 * figure: doc/memlayout-heap.1.
 */
#ifndef CLI_HEAP_H
#define CLI_HEAP_H

#include "cli.h"
#include "mlalloc-reader.h"
#include "glibc-heap.h"

#include <stdio.h>

/* Exit status of `memlayout heap` for a process without mlalloc state (its
 * maps were shown); documented in memlayout-heap(1). */
#define CLI_EXIT_NOT_MLALLOC 3

#include "ml-heap.h"   /* the model: lib/heap/ */

/* What to print: any of these (none means all). */
enum {
	CLI_HEAP_SUMMARY = 1 << 0,
	CLI_HEAP_CLASSES = 1 << 1,
	CLI_HEAP_MAP     = 1 << 2,
};

struct cli_heap_out {
	unsigned int parts;       /* CLI_HEAP_* */
	unsigned int flags;       /* ML_OUT_* */
	const int *columns;       /* -o: the region (heap) table's columns, NULL = default */
	size_t ncolumns;
	const int *class_columns; /* -o with -c alone: the class (arena) table's */
	size_t nclass_columns;
	bool html;                /* --html: the page of heap-html.c */
	unsigned int width;       /* with ML_OUT_TERM: the terminal's columns
	                             (the prose folded at them), 0: not folded */
};

/* The columns -o picks from: mlalloc's region or class table, glibc
 * malloc's heap or arena table; *ret_n gets its length. */
const struct ml_column_info *cli_heap_mlalloc_columns(bool classes, size_t *ret_n);
const struct ml_column_info *cli_heap_glibc_columns(bool arenas, size_t *ret_n);

/* The heap of an mlalloc process; 0 or -errno (write error, ENOMEM). */
int cli_heap_render(const struct ml_snapshot *snap, const struct ml_heap *h,
		   FILE *out, const struct cli_heap_out *o);
/* The same figures as one self-contained HTML page (heap-html.c): totals,
 * the map of pages, the classes as bars.  0 or -errno. */
int cli_heap_render_html(const struct ml_snapshot *snap, const struct ml_heap *h,
			FILE *out, const struct cli_heap_out *o);
/* A process without mlalloc state: why, and what its maps tell ([heap],
 * brk, glibc arenas).  0 or -errno. */
int cli_heap_render_plain(const struct ml_snapshot *snap, const char *why,
			 FILE *out, const struct cli_heap_out *o);

/* glibc malloc (heap-glibc.c): a process whose maps hold libc.so.6 is read
 * by glibc/'s reader, its threads stopped unless no_stop. */
struct cli_heap_glibc {
	struct ml_glibc_map *maps;
	struct ml_glibc_pid pid;
	struct ml_glibc_src src;
	struct ml_glibc_heap *g;
	struct ml_glibc_problem bad;   /* for -EUCLEAN and -E2BIG */
	bool stopped;
};
/* Build snap's maps table into *gr (zeroed first) and look for glibc in
 * it: 0, or -ENOMEM / -ENOENT (none mapped) with nothing left to free. */
int cli_heap_glibc_find(const struct ml_snapshot *snap, struct cli_heap_glibc *gr);
/* Read the heap (found first unless gr->maps is set; else gr is zeroed):
 * 0, or the find's, the stop's (-EPERM, -ETIME, -ESRCH) or the reader's
 * -errno (gr->bad for -EUCLEAN, -E2BIG). */
int cli_heap_glibc_read(const struct ml_snapshot *snap, bool no_stop, struct cli_heap_glibc *gr);
void cli_heap_glibc_done(struct cli_heap_glibc *gr);
/* A finding of a corrupt heap in glibc's words. */
int cli_heap_glibc_problem_words(const struct ml_glibc_problem *b, char *buf, size_t len);
int cli_heap_glibc_render(const struct ml_snapshot *snap, const struct ml_glibc_heap *g, bool stopped,
			 FILE *out, const struct cli_heap_out *o);
/* The same figures as one self-contained HTML page (heap-html.c):
 * totals, fragmentation, a map per heap, the size histogram.  0 or -errno. */
int cli_heap_glibc_render_html(const struct ml_snapshot *snap, const struct ml_glibc_heap *g,
			      bool stopped, FILE *out, const struct cli_heap_out *o);
/* where's sentence for the chunk addr is in. */
int cli_heap_glibc_chunk_words(const struct ml_glibc_chunk *k, uint64_t addr, char *buf, size_t len);
const char *cli_heap_glibc_list_name(enum ml_glibc_list l);
const char *cli_heap_glibc_list_json(enum ml_glibc_list l);

#endif
