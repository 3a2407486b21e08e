/* SPDX-License-Identifier: MIT */
/*
 * where-engine.c - the library side of bench/where-batch: how many
 * addresses per second ml_where_explain() answers once the snapshot, the
 * symbolizer and the pagemap are set up, and how many the block renderer
 * then writes (to /dev/null).
 *
 * Usage: where-engine PID ADDRFILE   (ADDRFILE: one address a line, hex)
 * Prints "snapshot_ms=", "explain_per_s=" (first pass: symbol tables and
 * DWARF load as addresses need them), "explain_warm_per_s=" (second pass
 * over the same addresses), "explain_block_per_s=" and counts of
 * what the addresses were (mapped, with a symbol, with a source line,
 * present pages).  Each rate is given by the wall clock and, as
 * "..._cpu_per_s=", by this process's CPU time (user + system), which a
 * machine shared with other work disturbs much less.  Exits 1 if the
 * process cannot be read.
 */
#include "memlayout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A moment by the wall clock and by this process's CPU time. */
struct stamp {
	double wall, cpu;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct stamp now(void)
{
	return (struct stamp){ clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID) };
}

/* "name=<wall rate>\nname_cpu=<CPU rate>" for n addresses from a to b;
 * name ends in "_per_s", the CPU one is name with "_cpu" before it. */
static void rate(const char *name, size_t n, struct stamp a, struct stamp b)
{
	int stem = (int)(strlen(name) - strlen("_per_s"));

	printf("%s=%.0f\n", name, (double)n / (b.wall - a.wall));
	printf("%.*s_cpu_per_s=%.0f\n", stem, name, (double)n / (b.cpu - a.cpu));
}

static uint64_t *read_addrs(const char *path, size_t *ret_n)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 1 << 20;
	uint64_t *a = malloc(cap * sizeof(*a));
	unsigned long long v;

	if (!f || !a)
		return NULL;
	while (fscanf(f, "%llx", &v) == 1) {
		if (n == cap && !(a = realloc(a, (cap *= 2) * sizeof(*a))))
			return NULL;
		a[n++] = v;
	}
	fclose(f);
	*ret_n = n;
	return a;
}

int main(int argc, char **argv)
{
	struct ml_snapshot *snap;
	struct ml_symbolizer *sym;
	struct ml_pagemap *pm = NULL;
	struct ml_where_ctx *ctx;
	struct ml_where w;
	size_t n = 0, mapped = 0, named = 0, lines = 0, present = 0;
	uint64_t *addrs;
	struct stamp t0, t1, t2, t3, t4;
	FILE *null = fopen("/dev/null", "w");

	if (argc != 3 || !null || !(addrs = read_addrs(argv[2], &n))) {
		fprintf(stderr, "usage: where-engine PID ADDRFILE\n");
		return 2;
	}
	t0 = now();
	if (ml_snapshot_take((pid_t)atoi(argv[1]), NULL, &snap) < 0 ||
	    ml_symbolizer_new(snap, &sym) < 0)
		return 1;
	ml_pagemap_open((pid_t)atoi(argv[1]), NULL, &pm);
	if (ml_where_ctx_new(snap, sym, pm, &ctx) < 0)
		return 1;
	t1 = now();
	for (size_t i = 0; i < n; i++) {
		if (ml_where_explain(ctx, addrs[i], &w) < 0)
			return 1;
		mapped += w.region != NULL;
		named += w.has_object && w.sym.name;
		lines += w.has_object && w.sym.file;
		present += w.pagemap_status == 0 && (w.page.flags & ML_PAGE_PRESENT);
	}
	t2 = now();
	for (size_t i = 0; i < n; i++)   /* again, every cache warm */
		if (ml_where_explain(ctx, addrs[i], &w) < 0)
			return 1;
	t3 = now();
	for (size_t i = 0; i < n; i++)
		if (ml_where_explain(ctx, addrs[i], &w) < 0 ||
		    ml_render_where_block(&w, null, 0) < 0)
			return 1;
	t4 = now();
	printf("addresses=%zu mapped=%zu symbol=%zu source_line=%zu present=%zu pagemap=%s\n",
	       n, mapped, named, lines, present, pm ? "yes" : "no");
	printf("snapshot_ms=%.1f\n", (t1.wall - t0.wall) * 1e3);
	rate("explain_per_s", n, t1, t2);
	rate("explain_warm_per_s", n, t2, t3);
	rate("explain_block_per_s", n, t3, t4);
	ml_where_ctx_free(ctx);
	ml_pagemap_close(pm);
	ml_symbolizer_free(sym);
	ml_snapshot_free(snap);
	free(addrs);
	return 0;
}
