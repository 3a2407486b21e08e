/* SPDX-License-Identifier: MIT */
/*
 * heap-glibc-html.c - `memlayout heap --html` on glibc malloc: the figures
 * of glibc/'s reader as one self-contained page, the mlalloc page's kind
 * (heap-html.c's head): the totals (system, in use, free, top, mmap'd,
 * tcache, fastbins, bins; fragmentation as a bar), a map row per heap (the
 * reader's 64 cells, each coloured by what most of its 1/64 holds: in use,
 * tcache or fastbin, bins or top, no chunk) and the chunk sizes (per size
 * bucket a bar of the bytes in use beside the free bytes, to one scale).
 * No script, nothing loaded; every figure is also a number in a tooltip.
 * Nothing here is the target's text but the process's name (escaped by
 * the head); the cells are the reader's characters, checked against the
 * table.
 */
#include "heap.h"
#include "heap-table.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define CELL 12                 /* px of one map cell */
#define BAR_W 600               /* px of the longest histogram bar */

/* What a map cell is (glibc-walk.c's characters) and its colour. */
static const struct { char c; const char *what, *fill; } cells[] = {
	{ '#', "in use", "#cf222e" },
	{ ':', "free in a tcache or fastbin", "#f5c26b" },
	{ '.', "free in the bins or top", "#d8f0d8" },
	{ ' ', "no chunk (heap_info, reserve)", "#eeeeee" },
};

static const char *cell_fill(char c, const char **what)
{
	for (size_t i = 0; i < ARRAY_SIZE(cells); i++)
		if (cells[i].c == c)
			return *what = cells[i].what, cells[i].fill;
	return *what = "?", "#ffffff";
}

/* The totals: {label, figure, what it is}, one table row each. */
static void totals(FILE *out, const struct ml_glibc_heap *g, const struct cli_heap_out *o)
{
	uint64_t bins = 0, binned = 0;
	double f = g->fragmentation < 0 ? 0 : g->fragmentation > 1 ? 1 : g->fragmentation;
	char a[32], b[32];

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
			rows[i].id, rows[i].bytes, rows[i].label,
			cli_heap_html_size(o, rows[i].bytes, a, sizeof(a)));
		if (rows[i].what)
			fprintf(out, " (%" PRIu64 " %s)", rows[i].chunks, rows[i].what);
		fputs("</td></tr>", out);
	}
	fprintf(out, "<tr><th>fragmentation</th><td>%.1f%% (free bytes outside top / heap "
		"bytes outside top)</td></tr></table>\n", f * 100);
	snprintf(b, sizeof(b), "%.1f", BAR_W * (1 - f));
	fprintf(out, "<svg id=\"ml-frag\" width=\"%d\" height=\"22\" data-fragmentation=\"%.4f\">"
		"<rect width=\"%d\" height=\"20\" fill=\"#cf222e\"><title>in use</title></rect>"
		"<rect x=\"%s\" width=\"%.1f\" height=\"20\" fill=\"#f5c26b\"><title>free outside "
		"top</title></rect></svg>\n", BAR_W, f, BAR_W, b, BAR_W * f);
}

static void map_rows(FILE *out, const struct ml_glibc_heap *g, const struct cli_heap_out *o)
{
	char a[32], b[32];
	int y = 0;

	fprintf(out, "<h2>Map: one row per heap, 1/64 of it a cell</h2>\n<p>");
	for (size_t i = 0; i < ARRAY_SIZE(cells); i++)
		fprintf(out, "<span style=\"background:%s\">&#160;%c&#160;</span> %s &#160; ",
			cells[i].fill, cells[i].c == ' ' ? '_' : cells[i].c, cells[i].what);
	fprintf(out, "</p>\n<svg id=\"ml-map\" width=\"%d\" height=\"%zu\">\n",
		130 + ML_GLIBC_MAP_CELLS * CELL + 320, g->nsegs * (CELL + 6) + 4);
	for (size_t i = 0; i < g->nsegs; i++, y += CELL + 6) {
		const struct ml_glibc_heapseg *s = &g->segs[i];
		const char *type = s->arena < g->narenas && g->arenas[s->arena].main ? "brk" : "heap";
		size_t n = strnlen(s->map, ML_GLIBC_MAP_CELLS);
		fprintf(out, "<g class=\"hregion\" data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64
			"\" data-type=\"%s\" data-arena=\"%u\" data-cells=\"%zu\"><title>0x%" PRIx64 "-0x%"
			PRIx64 " %s of arena %u, in use %s, free %s</title><text x=\"0\" y=\"%d\" "
			"class=\"a\">0x%012" PRIx64 "</text>\n", s->start, s->end, type, s->arena, n,
			s->start, s->end, type, s->arena, cli_heap_html_size(o, s->in_use, a, sizeof(a)),
			cli_heap_html_size(o, s->free, b, sizeof(b)), y + CELL, s->start);
		for (size_t c = 0; c < n; c++) {
			const char *what, *fill = cell_fill(s->map[c], &what);
			fprintf(out, "<rect class=\"cell\" data-c=\"%s\" x=\"%zu\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" fill=\"%s\"><title>%s</title></rect>", s->map[c] == ' ' ? "_" :
				*what == '?' ? "?" : (char[2]){ s->map[c], 0 }, 130 + c * CELL, y + 2,
				CELL - 1, CELL, fill, what);
		}
		fprintf(out, "\n<text x=\"%d\" y=\"%d\">%s, arena %u</text></g>\n",
			140 + ML_GLIBC_MAP_CELLS * CELL, y + CELL, type, s->arena);
	}
	fputs("</svg>\n", out);
}

/* The histogram's buckets, as heap -J's "histogram": [16 << i, 32 << i),
 * the first from 0, the last open. */
static void hist_bars(FILE *out, const struct ml_glibc_heap *g, const struct cli_heap_out *o)
{
	uint64_t top = 1;
	char a[32], b[32], f[32], t[32];
	int y = 0;

	for (unsigned i = 0; i < ML_GLIBC_HIST; i++)
		if (g->hist_used[i].bytes + g->hist_free[i].bytes > top)
			top = g->hist_used[i].bytes + g->hist_free[i].bytes;
	fprintf(out, "<h2>Chunks by size: bytes in use (red) and free (green)</h2>\n"
		"<svg id=\"ml-hist\" width=\"%d\" height=\"%d\" data-top=\"%" PRIu64 "\">\n",
		BAR_W + 440, ML_GLIBC_HIST * 20 + 4, top);
	for (unsigned i = 0; i < ML_GLIBC_HIST; i++, y += 20) {
		const struct ml_glibc_count *u = &g->hist_used[i], *fr = &g->hist_free[i];
		uint64_t from = i ? (uint64_t)16 << i : 0, to = i + 1 < ML_GLIBC_HIST ? (uint64_t)32 << i : 0;
		double uw = (double)u->bytes / (double)top * BAR_W, fw = (double)fr->bytes / (double)top * BAR_W;

		if (!u->chunks && !fr->chunks) {
			y -= 20;
			continue;
		}
		ml_size_human(from, f, sizeof(f));
		if (to)
			ml_size_human(to, t, sizeof(t));
		fprintf(out, "<g class=\"hbucket\" data-from=\"%" PRIu64 "\" data-used-chunks=\"%" PRIu64
			"\" data-used-bytes=\"%" PRIu64 "\" data-free-chunks=\"%" PRIu64 "\" data-free-bytes=\"%"
			PRIu64 "\"><title>chunks of %s%s%s: %" PRIu64 " in use (%s), %" PRIu64 " free (%s)"
			"</title><text x=\"0\" y=\"%d\" class=\"a\">%s%s%s</text><rect class=\"used\" x=\"110\" "
			"y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"#cf222e\"/><rect class=\"free\" x=\"%.1f\" "
			"y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"#2da44e\"/><text x=\"%.1f\" y=\"%d\">%"
			PRIu64 " in use, %" PRIu64 " free</text></g>\n", from, u->chunks, u->bytes, fr->chunks,
			fr->bytes, f, to ? "-" : " and more", to ? t : "", u->chunks,
			cli_heap_html_size(o, u->bytes, a, sizeof(a)), fr->chunks,
			cli_heap_html_size(o, fr->bytes, b, sizeof(b)), y + 14, f, to ? "-" : "+",
			to ? t : "", y + 2, uw, 110 + uw, y + 2, fw, 116 + uw + fw, y + 14, u->chunks,
			fr->chunks);
	}
	fputs("</svg>\n", out);
}

int cli_heap_glibc_render_html(const struct ml_snapshot *snap, const struct ml_glibc_heap *g,
			      bool stopped, FILE *out, const struct cli_heap_out *o)
{
	char v[32];

	snprintf(v, sizeof(v), "glibc 2.%u malloc", g->version_minor);
	cli_heap_html_head(out, snap, v);
	fprintf(out, "<p id=\"ml-read\">%s</p>\n", stopped ? "Read with every thread stopped." :
		"Read while it ran (--no-stop): the figures may not agree with each other.");
	totals(out, g, o);
	map_rows(out, g, o);
	hist_bars(out, g, o);
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}
