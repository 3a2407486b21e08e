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
 * present pages).  Exits 1 if the process cannot be read.
 */
#include "memlayout.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	double t0, t1, t2, t3;
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
	double warm = (double)n / (t3 - t2);
	t2 = now();
	for (size_t i = 0; i < n; i++)
		if (ml_where_explain(ctx, addrs[i], &w) < 0 ||
		    ml_render_where_block(&w, null, 0) < 0)
			return 1;
	t3 = now();
	printf("addresses=%zu mapped=%zu symbol=%zu source_line=%zu present=%zu pagemap=%s\n",
	       n, mapped, named, lines, present, pm ? "yes" : "no");
	printf("snapshot_ms=%.1f\n", (t1 - t0) * 1e3);
	printf("explain_per_s=%.0f\n", (double)n / (t2 - t1));
	printf("explain_warm_per_s=%.0f\n", warm);
	printf("explain_block_per_s=%.0f\n", (double)n / (t3 - t2));
	ml_where_ctx_free(ctx);
	ml_pagemap_close(pm);
	ml_symbolizer_free(sym);
	ml_snapshot_free(snap);
	free(addrs);
	return 0;
}
