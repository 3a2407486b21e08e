/* SPDX-License-Identifier: MIT */
/*
 * heap-where.h - where's hook into glibc malloc's heap (heap-glibc.c): for an
 * address in the brk heap or an anonymous mapping of a glibc process, one
 * more line of its block naming the chunk it lies in.  The heap is read
 * (every thread stopped) at the first such address and kept for the rest.
 */
#ifndef CLI_HEAP_WHERE_H
#define CLI_HEAP_WHERE_H

#include <memlayout.h>
#include <stdint.h>
#include <stdio.h>

struct cli_heap_glibc;

/* The "malloc" line for addr, or nothing where it is in no glibc heap;
 * 0 or -errno (a write error).  *cache: NULL first, then the heap read. */
int cli_heap_glibc_where_line(const struct ml_snapshot *snap, struct cli_heap_glibc **cache,
			     uint64_t addr, FILE *out);
void cli_heap_glibc_where_done(struct cli_heap_glibc *cache);

#endif
