/* SPDX-License-Identifier: MIT */
/*
 * heap-html.c - `memlayout heap --html`: the figures of an allocator as one
 * self-contained HTML page, mlalloc's (heap-model.c) or glibc malloc's
 * (glibc/'s reader), in one shape: the totals (fragmentation as a bar),
 * the heap's map (mlalloc: a row per segment or large block in address
 * order, a cell per page: metadata, span, free dirty, free clean, live or
 * cached large, "+" more; glibc: a row per heap, the reader's 64 cells,
 * each coloured by what most of its 1/64 holds: in use, tcache or
 * fastbin, bins or top, no chunk) and bars to one scale (mlalloc: per size
 * class its live bytes beside the free room in its spans; glibc: per size
 * bucket the bytes in use beside the free bytes).  No script, nothing
 * loaded (CSP default-src 'none'); every figure is also a number in a
 * tooltip.  Nothing here comes from the target as text but the process's
 * name, escaped (the map cells are our own or the reader's characters,
 * checked against the tables; another is drawn as '?').
 */
#include "heap-table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CELL 12                 /* px of one map cell */
#define BAR_W 600               /* px of the longest bar */

/* What a map cell is and its colour, a table ending with {0}: mlalloc's
 * (heap-model.c's characters), glibc malloc's (glibc-walk.c's). */
static const struct cell { char c; const char *what, *fill; } ml_cells[] = {
	{ 'M', "metadata",   "#8250df" },
	{ '#', "in use (span or live block)", "#cf222e" },
	{ ':', "free, dirty (not given back)", "#f5c26b" },
	{ '.', "free, clean", "#d8f0d8" },
	{ '+', "more pages than cells", "#888888" },
	{ 0 },
};
static const struct cell glibc_cells[] = {
	{ '#', "in use", "#cf222e" },
	{ ':', "free in a tcache or fastbin", "#f5c26b" },
	{ '.', "free in the bins or top", "#d8f0d8" },
	{ ' ', "no chunk (heap_info, reserve)", "#eeeeee" },
	{ 0 },
};

static const struct cell unknown_cell = { '?', "?", "#ffffff" };

static const struct cell *cell_of(const struct cell *cells, char c)
{
	for (; cells->c; cells++)
		if (cells->c == c)
			return cells;
	return &unknown_cell;
}

/* A cell's data-c: '_' for the blank one, '?' for one not in the table. */
static char cell_name(const struct cell *k)
{
	return k->c == ' ' ? '_' : k->c;
}

/* A size as -b asks. */
static const char *size(const struct cli_heap_out *o, uint64_t v, char *buf, size_t len)
{
	if (o->flags & ML_OUT_BYTES)
		snprintf(buf, len, "%" PRIu64, v);
	else
		ml_size_human(v, buf, len);
	return buf;
}

/* The page's head, up to and including its <h1> naming the allocator
 * and the process (its name escaped: ASCII, references for the rest). */
static void head(FILE *out, const struct ml_snapshot *snap, const char *allocator)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	char *comm = ml_escape(p->comm, ML_ESC_TERM);

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>memlayout heap</title>\n<style>"
	      "body{font:14px sans-serif;margin:12px}th{text-align:left;padding-right:10px}"
	      "h2{font-size:15px}text{font:12px sans-serif}text.a{font:11px monospace}"
	      "</style></head>\n<body>\n<h1 id=\"ml-title\">The ", out);
	fprintf(out, "%s heap of PID %d (", allocator, (int)p->pid);
	for (const char *s = comm ? comm : "?"; *s; s++)
		if (strchr("<>&\"'", *s) || (unsigned char)*s >= 0x7f)
			fprintf(out, "&#%u;", (unsigned char)*s);
		else
			fputc(*s, out);
	free(comm);
	fputs(")</h1>\n", out);
}

static double clamp01(double f)
{
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* The fragmentation bar: f of it the second part, the rest the first. */
static void frag_bar(FILE *out, double f, const char *first, const char *second)
{
	fprintf(out, "<svg id=\"ml-frag\" width=\"%d\" height=\"22\" data-fragmentation=\"%.4f\">"
		"<rect width=\"%d\" height=\"20\" fill=\"#cf222e\"><title>%s</title></rect>"
		"<rect x=\"%.1f\" width=\"%.1f\" height=\"20\" fill=\"#f5c26b\"><title>%s"
		"</title></rect></svg>\n", BAR_W, f, BAR_W, first, BAR_W * (1 - f), BAR_W * f, second);
}

/* The map's heading, its legend and the <svg> of n rows, width px. */
static void map_open(FILE *out, const char *title, const struct cell *cells, int width, size_t n)
{
	fprintf(out, "<h2>Map: %s</h2>\n<p>", title);
	for (; cells->c; cells++)
		fprintf(out, "<span style=\"background:%s\">&#160;%c&#160;</span> %s &#160; ",
			cells->fill, cell_name(cells), cells->what);
	fprintf(out, "</p>\n<svg id=\"ml-map\" width=\"%d\" height=\"%zu\">\n", width, n * (CELL + 6) + 4);
}

/* The rest of a map row at y after its tooltip: the start address, n
 * cells of map (titled: each with what it is as its tooltip), and the
 * opening of the words after them (ncells cells on). */
static void map_cells(FILE *out, int y, uint64_t start, const char *map, size_t n,
		      const struct cell *cells, bool titled, int ncells)
{
	fprintf(out, "</title><text x=\"0\" y=\"%d\" class=\"a\">0x%012" PRIx64 "</text>\n",
		y + CELL, start);
	for (size_t c = 0; c < n; c++) {
		const struct cell *k = cell_of(cells, map[c]);
		fprintf(out, "<rect class=\"cell\" data-c=\"%c\" x=\"%zu\" y=\"%d\" width=\"%d\" "
			"height=\"%d\" fill=\"%s\"", cell_name(k), 130 + c * CELL, y + 2, CELL - 1,
			CELL, k->fill);
		fprintf(out, titled ? "><title>%s</title></rect>" : "/>", k->what);
	}
	fprintf(out, "\n<text x=\"%d\" y=\"%d\">", 140 + ncells * CELL, y + CELL);
}

/* The bars' heading and <svg> (id, width px, rows of 20 px, the scale). */
static void bars_open(FILE *out, const char *heading, const char *id, int width, size_t rows,
		      uint64_t top)
{
	fprintf(out, "<h2>%s</h2>\n<svg id=\"%s\" width=\"%d\" height=\"%zu\" data-top=\"%" PRIu64
		"\">\n", heading, id, width, rows * 20 + 4, top);
}

/* A row's two bars at y from x0, a (red, class first) and b (green)
 * bytes to the scale top, and the opening of the words after them. */
static void bar_pair(FILE *out, int y, int x0, const char *first, uint64_t a, uint64_t b,
		     uint64_t top)
{
	double aw = (double)a / (double)top * BAR_W, bw = (double)b / (double)top * BAR_W;

	fprintf(out, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"16\" "
		"fill=\"#cf222e\"/><rect class=\"free\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		"height=\"16\" fill=\"#2da44e\"/><text x=\"%.1f\" y=\"%d\">", first, x0, y + 2, aw,
		x0 + aw, y + 2, bw, x0 + 6 + aw + bw, y + 14);
}

/* ---- mlalloc ---- */

static void mlalloc_page_totals(FILE *out, const struct ml_heap *h, const struct cli_heap_out *o)
{
	char a[32], b[32], c[32], d[32];
	double f = clamp01(h->fragmentation);

	fprintf(out, "<table id=\"ml-totals\"><tr><th>live</th><td>%s in %" PRIu64 " small and %"
		PRIu64 " large blocks</td></tr><tr><th>committed</th><td>%s</td></tr><tr><th>"
		"reserved</th><td>%s</td></tr><tr><th>largest free run</th><td>%s</td></tr>"
		"<tr><th>fragmentation</th><td>%.1f%% (1 - live / committed)</td></tr></table>\n",
		size(o, h->live_small + h->live_large, a, sizeof(a)), h->live_small_blocks,
		h->live_large_blocks, size(o, h->committed, b, sizeof(b)),
		size(o, h->reserved, c, sizeof(c)), size(o, h->largest_run, d, sizeof(d)), f * 100);
	frag_bar(out, f, "live", "committed, not live");
}

static void mlalloc_page_map(FILE *out, const struct ml_heap *h, const struct cli_heap_out *o)
{
	char a[32], b[32];

	map_open(out, "one cell per page", ml_cells, 200 + ML_HEAP_MAP_CELLS * CELL + 320, h->nregions);
	for (size_t i = 0; i < h->nregions; i++) {
		const struct ml_heap_region *r = &h->regions[i];
		bool seg = r->type == ML_HEAP_SEGMENT;
		size_t n = strnlen(r->map, ML_HEAP_MAP_CELLS);
		fprintf(out, "<g class=\"hregion\" data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64
			"\" data-type=\"%s\" data-cells=\"%zu\"><title>0x%" PRIx64 "-0x%" PRIx64 " %s %s "
			"%s, used %s, free %s", r->start, r->end, seg ? "segment" : "large", n, r->start,
			r->end, seg ? "segment" : "large block", r->from, r->state,
			size(o, r->used, a, sizeof(a)), size(o, r->free, b, sizeof(b)));
		if (r->tid)
			fprintf(out, ", thread %" PRIu64, r->tid);
		map_cells(out, (int)i * (CELL + 6), r->start, r->map, n, ml_cells, false, ML_HEAP_MAP_CELLS);
		fprintf(out, "%s %s %s</text></g>\n", seg ? "segment" : "large", r->from, r->state);
	}
	fputs("</svg>\n", out);
}

static void mlalloc_page_classes(FILE *out, const struct ml_heap *h, const struct cli_heap_out *o)
{
	uint64_t top = 1;
	char a[32], b[32];

	for (size_t i = 0; i < h->nclasses; i++)
		if ((h->classes[i].live + h->classes[i].free) * h->classes[i].size > top)
			top = (h->classes[i].live + h->classes[i].free) * h->classes[i].size;
	bars_open(out, "Size classes: live (red) and free room in their spans (green)", "ml-classes",
		  BAR_W + 400, h->nclasses, top);
	for (size_t i = 0; i < h->nclasses; i++) {
		const struct ml_heap_class *c = &h->classes[i];
		int y = (int)i * 20;
		fprintf(out, "<g class=\"hclass\" data-size=\"%" PRIu64 "\" data-live=\"%" PRIu64 "\" "
			"data-free=\"%" PRIu64 "\"><title>class %u: %" PRIu64 "-byte blocks, %" PRIu64
			" live (%s), %" PRIu64 " free (%s)</title><text x=\"0\" y=\"%d\" class=\"a\">%"
			PRIu64 " B</text>", c->size, c->live, c->free, c->cls, c->size, c->live,
			size(o, c->live * c->size, a, sizeof(a)), c->free,
			size(o, c->free * c->size, b, sizeof(b)), y + 14, c->size);
		bar_pair(out, y, 90, "live", c->live * c->size, c->free * c->size, top);
		fprintf(out, "%" PRIu64 " live, %" PRIu64 " free</text></g>\n", c->live, c->free);
	}
	fputs("</svg>\n", out);
}

int cli_heap_render_html(const struct ml_snapshot *snap, const struct ml_heap *h,
			FILE *out, const struct cli_heap_out *o)
{
	head(out, snap, "mlalloc");
	mlalloc_page_totals(out, h, o);
	mlalloc_page_map(out, h, o);
	mlalloc_page_classes(out, h, o);
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}

/* ---- glibc malloc ---- */

/* The totals: {label, figure, what it is}, one table row each. */
static void glibc_totals(FILE *out, const struct ml_glibc_heap *g, const struct cli_heap_out *o)
{
	uint64_t bins = 0, binned = 0;
	double f = clamp01(g->fragmentation);
	char a[32];

	for (size_t i = 0; i < g->narenas; i++)
		for (int l = ML_GLIBC_UNSORTED; l <= ML_GLIBC_LARGE; l++) {
			bins += g->arenas[i].list[l].chunks;
			binned += g->arenas[i].list[l].bytes;
		}
	const struct { const char *id, *label; uint64_t bytes, chunks; const char *what; } rows[] = {
		{ "system", "from the system", g->arena_bytes, g->narenas, "arenas" },
		{ "in_use", "in use", g->in_use_bytes, g->chunks, "chunks walked" },
		{ "free", "free", g->free_bytes, g->free_chunks, "free chunks" },
		{ "top", "top", g->top_bytes, g->narenas, "top chunks" },
		{ "mmapped", "mmap'd", g->mmap_bytes, g->mmap_chunks, "chunks" },
		{ "tcache", "tcache", g->tcache_bytes, g->tcache_chunks, "chunks" },
		{ "fastbin", "fastbins", g->fastbin_bytes, g->fastbin_chunks, "chunks" },
		{ "bins", "bins", binned, bins, "chunks (unsorted, small, large)" },
		{ "largest_free", "largest free chunk", g->largest_free, 0, NULL },
	};

	fputs("<table id=\"ml-totals\">", out);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		fprintf(out, "<tr data-name=\"%s\" data-bytes=\"%" PRIu64 "\"><th>%s</th><td>%s",
			rows[i].id, rows[i].bytes, rows[i].label, size(o, rows[i].bytes, a, sizeof(a)));
		if (rows[i].what)
			fprintf(out, " (%" PRIu64 " %s)", rows[i].chunks, rows[i].what);
		fputs("</td></tr>", out);
	}
	fprintf(out, "<tr><th>fragmentation</th><td>%.1f%% (free bytes outside top / heap "
		"bytes outside top)</td></tr></table>\n", f * 100);
	frag_bar(out, f, "in use", "free outside top");
}

static void glibc_map(FILE *out, const struct ml_glibc_heap *g, const struct cli_heap_out *o)
{
	char a[32], b[32];

	map_open(out, "one row per heap, 1/64 of it a cell", glibc_cells,
		 130 + ML_GLIBC_MAP_CELLS * CELL + 320, g->nsegs);
	for (size_t i = 0; i < g->nsegs; i++) {
		const struct ml_glibc_heapseg *s = &g->segs[i];
		const char *type = s->arena < g->narenas && g->arenas[s->arena].main ? "brk" : "heap";
		size_t n = strnlen(s->map, ML_GLIBC_MAP_CELLS);
		fprintf(out, "<g class=\"hregion\" data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64
			"\" data-type=\"%s\" data-arena=\"%u\" data-cells=\"%zu\"><title>0x%" PRIx64 "-0x%"
			PRIx64 " %s of arena %u, in use %s, free %s", s->start, s->end, type, s->arena, n,
			s->start, s->end, type, s->arena, size(o, s->in_use, a, sizeof(a)),
			size(o, s->free, b, sizeof(b)));
		map_cells(out, (int)i * (CELL + 6), s->start, s->map, n, glibc_cells, true, ML_GLIBC_MAP_CELLS);
		fprintf(out, "%s, arena %u</text></g>\n", type, s->arena);
	}
	fputs("</svg>\n", out);
}

/* The histogram's buckets, as heap -J's "histogram": [16 << i, 32 << i),
 * the first from 0, the last open; those without a chunk left out. */
static void glibc_hist(FILE *out, const struct ml_glibc_heap *g, const struct cli_heap_out *o)
{
	uint64_t top = 1;
	char a[32], b[32], f[32], t[32];
	int y = 0;

	for (unsigned i = 0; i < ML_GLIBC_HIST; i++)
		if (g->hist_used[i].bytes + g->hist_free[i].bytes > top)
			top = g->hist_used[i].bytes + g->hist_free[i].bytes;
	bars_open(out, "Chunks by size: bytes in use (red) and free (green)", "ml-hist",
		  BAR_W + 440, ML_GLIBC_HIST, top);
	for (unsigned i = 0; i < ML_GLIBC_HIST; i++) {
		const struct ml_glibc_count *u = &g->hist_used[i], *fr = &g->hist_free[i];
		uint64_t from = i ? (uint64_t)16 << i : 0, to = i + 1 < ML_GLIBC_HIST ? (uint64_t)32 << i : 0;

		if (!u->chunks && !fr->chunks)
			continue;
		ml_size_human(from, f, sizeof(f));
		if (to)
			ml_size_human(to, t, sizeof(t));
		fprintf(out, "<g class=\"hbucket\" data-from=\"%" PRIu64 "\" data-used-chunks=\"%" PRIu64
			"\" data-used-bytes=\"%" PRIu64 "\" data-free-chunks=\"%" PRIu64 "\" data-free-bytes=\"%"
			PRIu64 "\"><title>chunks of %s%s%s: %" PRIu64 " in use (%s), %" PRIu64 " free (%s)"
			"</title><text x=\"0\" y=\"%d\" class=\"a\">%s%s%s</text>", from, u->chunks, u->bytes,
			fr->chunks, fr->bytes, f, to ? "-" : " and more", to ? t : "", u->chunks,
			size(o, u->bytes, a, sizeof(a)), fr->chunks, size(o, fr->bytes, b, sizeof(b)),
			y + 14, f, to ? "-" : "+", to ? t : "");
		bar_pair(out, y, 110, "used", u->bytes, fr->bytes, top);
		fprintf(out, "%" PRIu64 " in use, %" PRIu64 " free</text></g>\n", u->chunks, fr->chunks);
		y += 20;
	}
	fputs("</svg>\n", out);
}

int cli_heap_glibc_render_html(const struct ml_snapshot *snap, const struct ml_glibc_heap *g,
			      bool stopped, FILE *out, const struct cli_heap_out *o)
{
	char v[32];

	snprintf(v, sizeof(v), "glibc 2.%u malloc", g->version_minor);
	head(out, snap, v);
	fprintf(out, "<p id=\"ml-read\">%s</p>\n", stopped ? "Read with every thread stopped." :
		"Read while it ran (--no-stop): the figures may not agree with each other.");
	glibc_totals(out, g, o);
	glibc_map(out, g, o);
	glibc_hist(out, g, o);
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}
