/* SPDX-License-Identifier: MIT */
/*
 * heap-glibc.c - `memlayout heap` on a process using glibc malloc: its maps
 * handed to the reader (glibc/), every thread stopped for the read unless
 * --no-stop (SIGINT, SIGTERM, SIGHUP and SIGQUIT held back meanwhile, so
 * memlayout cannot die between the stop and the detach; the kernel detaches
 * on SIGKILL), then the figures: a few prose lines, the arena table (glibc's
 * malloc_info() figures per arena, and each free list), the heap table with
 * its map, the tcaches, the size histogram; or one JSON document with
 * "allocator": "glibc", "totals" (mallinfo2's figures under its own names)
 * and those tables.  A corrupt heap is exit 1, named in glibc's words.
 */
#include "heap-table.h"
#include "heap-where.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *const list_names[ML_GLIBC_NLISTS] = {
	"heap walk", "tcache", "fastbin", "unsorted bin", "smallbin", "largebin", "top", "mmap'd chunk",
};
static const char *const list_json[ML_GLIBC_NLISTS] = {
	"in_use", "tcache", "fastbin", "unsorted", "smallbin", "largebin", "top", "mmapped",
};

const char *cli_heap_glibc_list_name(enum ml_glibc_list l) { return list_names[l]; }

/* ---- the maps, as the reader takes them ---- */

static struct ml_glibc_map *maps_of(const struct ml_snapshot *snap, size_t *ret_n)
{
	size_t n;
	const struct ml_region *r = ml_snapshot_regions(snap, &n);
	struct ml_glibc_map *m = calloc(n + 1, sizeof(*m));

	if (!m)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool heap = r[i].name && !strcmp(r[i].name, "[heap]");
		m[i] = (struct ml_glibc_map){ r[i].start, r[i].end, r[i].offset,
			r[i].perms & ML_PERM_READ, r[i].perms & ML_PERM_WRITE, r[i].perms & ML_PERM_EXEC,
			heap || !r[i].name || !r[i].name[0] || (!r[i].inode && r[i].name[0] == '[' &&
			strncmp(r[i].name, "[stack", 6) && strcmp(r[i].name, "[vvar]") && strcmp(r[i].name, "[vdso]")),
			heap, r[i].name };
		if (r[i].perms & ML_PERM_SHARED)
			m[i].anon = false;
	}
	*ret_n = n;
	return m;
}

/* ---- the read ---- */

static int stop_signals(sigset_t *old, int how)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	return sigprocmask(how, how == SIG_BLOCK ? &s : old, how == SIG_BLOCK ? old : NULL);
}

int cli_heap_glibc_find(const struct ml_snapshot *snap, struct cli_heap_glibc *gr)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	size_t n;
	int r;

	memset(gr, 0, sizeof(*gr));
	if (!(gr->maps = maps_of(snap, &n)))
		return -ENOMEM;
	if ((r = ml_glibc_detect(gr->maps, n)) < 0) {
		free(gr->maps);
		gr->maps = NULL;
		return r;
	}
	gr->pid.pid = p->pid;
	gr->src = (struct ml_glibc_src){ ml_glibc_pid_read, &gr->pid, gr->maps, n, p->is_32bit ? 4 : 8 };
	return 0;
}

int cli_heap_glibc_read(const struct ml_snapshot *snap, bool no_stop, struct cli_heap_glibc *gr)
{
	struct ml_glibc_stopped *st = NULL;
	sigset_t old;
	int r;

	if (!gr->maps && (r = cli_heap_glibc_find(snap, gr)) < 0)
		return r;            /* no glibc: nothing to stop */
	stop_signals(&old, SIG_BLOCK);
	if (!no_stop && (r = ml_glibc_stop_all(gr->pid.pid, &st)) < 0) {
		stop_signals(&old, SIG_SETMASK);
		return r;
	}
	gr->stopped = !no_stop;
	r = ml_glibc_heap_read(&gr->src, getenv("MEMLAYOUT_DEBUG_DIR"), &gr->g, &gr->bad);
	ml_glibc_stop_release(st);
	stop_signals(&old, SIG_SETMASK);
	return r;
}

void cli_heap_glibc_done(struct cli_heap_glibc *gr)
{
	ml_glibc_heap_free(gr->g);
	free(gr->maps);
}

/* ---- words ---- */

static void where_words(const struct ml_glibc_problem *b, char *buf, size_t len)
{
	if (b->bin >= 0 && b->list != ML_GLIBC_INUSE && b->list != ML_GLIBC_TOP)
		snprintf(buf, len, "arena %u, %s %d", b->arena, list_names[b->list], b->bin);
	else
		snprintf(buf, len, "arena %u, %s", b->arena, list_names[b->list]);
}

/* One sentence per finding, in glibc's terms: {kind, format of (where,
 * chunk, value, expect)}. */
static const struct { enum ml_glibc_bad bad; const char *fmt; } bad_words[] = {
	{ ML_GLIBC_BAD_SIZE, "%s: chunk 0x%" PRIx64 ": invalid size field 0x%" PRIx64 " (below MINSIZE or misaligned)" },
	{ ML_GLIBC_BAD_OUTSIDE, "%s: chunk 0x%" PRIx64 ": size field 0x%" PRIx64 " reaches past the end of its heap (0x%" PRIx64 ")" },
	{ ML_GLIBC_BAD_BIN_SIZE, "%s: chunk 0x%" PRIx64 ": size field 0x%" PRIx64 " does not match the bin" },
	{ ML_GLIBC_BAD_LINK, "%s: chunk 0x%" PRIx64 ": bk->fd != chunk (fd 0x%" PRIx64 ", expected 0x%" PRIx64 ")" },
	{ ML_GLIBC_BAD_TCACHE, "%s: tcache_perthread_struct at 0x%" PRIx64 ": its counts and entry lists disagree" },
	{ ML_GLIBC_BAD_CYCLE, "%s: cyclic or runaway list at chunk 0x%" PRIx64 " (%" PRIu64 " entries, more than the %" PRIu64 " chunks of the heaps)" },
	{ ML_GLIBC_BAD_NOT_CHUNK, "%s: chunk 0x%" PRIx64 " is not a chunk of any heap (no chunk starts there)" },
	{ ML_GLIBC_BAD_TWICE, "%s: chunk 0x%" PRIx64 " is also on another free list (double free)" },
	{ ML_GLIBC_BAD_ALIGN, "%s: misaligned chunk pointer 0x%" PRIx64 },
	{ ML_GLIBC_BAD_TOP, "%s: top chunk 0x%" PRIx64 " is not where the heap ends (0x%" PRIx64 ", 0x%" PRIx64 ")" },
	{ ML_GLIBC_BAD_ARENA_LIST, "%s: main_arena's next list does not come back (at 0x%" PRIx64 ": next 0x%" PRIx64 ", main_arena 0x%" PRIx64 ")" },
	{ ML_GLIBC_BAD_HEAP_INFO, "%s: heap_info at 0x%" PRIx64 " is corrupt (read 0x%" PRIx64 ", expected 0x%" PRIx64 ")" },
	{ ML_GLIBC_BAD_UNREADABLE, "%s: pointer 0x%" PRIx64 " leads to unmapped memory" },
	{ ML_GLIBC_BAD_TOO_MANY, "%s: at 0x%" PRIx64 ": %" PRIu64 " is over the limit of %" PRIu64 },
};

int cli_heap_glibc_problem_words(const struct ml_glibc_problem *b, char *buf, size_t len)
{
	char where[96];

	where_words(b, where, sizeof(where));
	for (size_t i = 0; i < ARRAY_SIZE(bad_words); i++)
		if (bad_words[i].bad == b->bad) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(buf, len, bad_words[i].fmt, where, b->chunk, b->value, b->expect);
#pragma GCC diagnostic pop
			return 0;
		}
	snprintf(buf, len, "%s: inconsistent", where);
	return 0;
}

/* ---- tables ---- */

#define A(x) ((const struct ml_glibc_arena *)(x))
static uint64_t a_in_use(const struct ml_glibc_arena *a) { return a->system_mem - a->fast_bytes - a->rest_bytes; }
CELLFN(a_index, ml_fmt_u64(buf, (uint64_t)(A(x) - c->g->arenas)))
CELLFN(a_addr, ml_fmt_hex(buf, A(x)->addr))
CELLFN(a_main, word_cell(buf, A(x)->main ? "true" : "false"))
CELLFN(a_threads, ml_fmt_u64(buf, A(x)->attached_threads))
CELLFN(a_system, ml_fmt_size(buf, A(x)->system_mem, fl))
CELLFN(a_max_system, ml_fmt_size(buf, A(x)->max_system_mem, fl))
CELLFN(a_inuse, ml_fmt_size(buf, a_in_use(A(x)), fl))
CELLFN(a_free, ml_fmt_size(buf, A(x)->fast_bytes + A(x)->rest_bytes, fl))
CELLFN(a_top, ml_fmt_size(buf, A(x)->top_size, fl))
CELLFN(a_fast_n, ml_fmt_u64(buf, A(x)->fast_chunks))
CELLFN(a_fast_b, ml_fmt_size(buf, A(x)->fast_bytes, fl))
CELLFN(a_rest_n, ml_fmt_u64(buf, A(x)->rest_chunks))
CELLFN(a_rest_b, ml_fmt_size(buf, A(x)->rest_bytes, fl))
#define LIST_CELLS(L, name) \
	CELLFN(a_##name##_n, ml_fmt_u64(buf, A(x)->list[L].chunks)) \
	CELLFN(a_##name##_b, ml_fmt_size(buf, A(x)->list[L].bytes, fl))
LIST_CELLS(ML_GLIBC_INUSE, used)
LIST_CELLS(ML_GLIBC_TCACHE, tcache)
LIST_CELLS(ML_GLIBC_UNSORTED, unsorted)
LIST_CELLS(ML_GLIBC_SMALL, small)
LIST_CELLS(ML_GLIBC_LARGE, large)
CELLFN(a_chunks, ml_fmt_u64(buf, A(x)->chunks))
CELLFN(a_largest, ml_fmt_size(buf, A(x)->largest_free, fl))
#undef A

static const struct ml_column_info arena_cols[] = {
	COL("ARENA", 3, ML_COL_NUM, true, "index: 0 is main_arena", a_index),
	COL("ADDR", 0.10, ML_COL_HEX, true, "address of its malloc_state", a_addr, { 3, 0 }),
	COL("MAIN", 4, ML_COL_BOOL, false, "main_arena (the brk heap)", a_main),
	COL("THREADS", 3, ML_COL_NUM, false, "threads attached (attached_threads)", a_threads),
	COL("SYSTEM", 5, ML_COL_SIZE, true, "bytes from the system (system_mem: malloc_info's system current)", a_system),
	COL("MAX-SYSTEM", 5, ML_COL_SIZE, false, "most bytes ever from the system (max_system_mem)", a_max_system),
	COL("IN-USE", 5, ML_COL_SIZE, true, "system minus fastbins, bins and top (mallinfo2's uordblks; tcache counts as in use)", a_inuse),
	COL("FREE", 5, ML_COL_SIZE, true, "fastbins, bins and top (fordblks)", a_free),
	COL("TOP", 5, ML_COL_SIZE, true, "the top chunk", a_top, { 4, 0 }),
	COL("FAST-CHUNKS", 4, ML_COL_NUM, false, "chunks in fastbins (malloc_info's total type=fast count)", a_fast_n),
	COL("FAST-BYTES", 5, ML_COL_SIZE, false, "bytes in fastbins (total type=fast size)", a_fast_b),
	COL("REST-CHUNKS", 4, ML_COL_NUM, false, "chunks in the bins plus top (total type=rest count)", a_rest_n),
	COL("REST-BYTES", 5, ML_COL_SIZE, false, "bytes in the bins plus top (total type=rest size)", a_rest_b),
	COL("USED-CHUNKS", 4, ML_COL_NUM, false, "chunks in use by the program (the heap walk; not tcache)", a_used_n),
	COL("USED-BYTES", 5, ML_COL_SIZE, false, "their bytes", a_used_b),
	COL("TCACHE-CHUNKS", 4, ML_COL_NUM, true, "chunks of its heaps in a tcache", a_tcache_n, { 2, 0 }),
	COL("TCACHE-BYTES", 5, ML_COL_SIZE, false, "their bytes", a_tcache_b),
	COL("UNSORTED-CHUNKS", 4, ML_COL_NUM, false, "chunks in the unsorted bin", a_unsorted_n),
	COL("UNSORTED-BYTES", 5, ML_COL_SIZE, false, "their bytes", a_unsorted_b),
	COL("SMALL-CHUNKS", 4, ML_COL_NUM, false, "chunks in the small bins", a_small_n),
	COL("SMALL-BYTES", 5, ML_COL_SIZE, false, "their bytes", a_small_b),
	COL("LARGE-CHUNKS", 4, ML_COL_NUM, false, "chunks in the large bins", a_large_n),
	COL("LARGE-BYTES", 5, ML_COL_SIZE, false, "their bytes", a_large_b),
	COL("CHUNKS", 5, ML_COL_NUM, true, "chunks walked (without top)", a_chunks),
	COL("LARGEST-FREE", 5, ML_COL_SIZE, true, "largest free chunk outside top", a_largest, { 5, 0 }),
};

/* A row of the heap table: one heap or one mmap'd chunk. */
struct hrow {
	uint64_t start, end, in_use, free;
	long arena;                 /* -1: mmap'd chunk */
	const char *type;
	const char *map;
};

#define H(x) ((const struct hrow *)(x))
CELLFN(h_start, ml_fmt_hex(buf, H(x)->start))
CELLFN(h_end, ml_fmt_hex(buf, H(x)->end))
CELLFN(h_size, ml_fmt_size(buf, H(x)->end - H(x)->start, fl))
CELLFN(h_type, word_cell(buf, H(x)->type))
CELLFN(h_arena, H(x)->arena < 0 ? NULL : ml_fmt_u64(buf, (uint64_t)H(x)->arena))
CELLFN(h_inuse, ml_fmt_size(buf, H(x)->in_use, fl))
CELLFN(h_free, ml_fmt_size(buf, H(x)->free, fl))
CELLFN(h_map, text_cell(H(x)->map))
#undef H

static const struct ml_column_info heap_cols[] = {
	COL("START", 0.10, ML_COL_HEX, true, "start address", h_start),
	COL("END", 0.10, ML_COL_HEX, false, "end address (exclusive)", h_end, { ML_FIT_OFF, 0 }),
	COL("SIZE", 5, ML_COL_SIZE, true, "size", h_size),
	COL("TYPE", 4, ML_COL_STR, true, "brk (main_arena), heap (a thread arena's heap_info heap), mmap (one mmap'd chunk)", h_type, { 0, 0 }),
	COL("ARENA", 3, ML_COL_NUM, true, "the arena it belongs to", h_arena, { 2, 0 }),
	COL("IN-USE", 5, ML_COL_SIZE, true, "bytes of chunks in use (tcache chunks are free here)", h_inuse),
	COL("FREE", 5, ML_COL_SIZE, true, "bytes of free chunks: tcache, fastbins, bins, top", h_free),
	COL("MAP", ML_GLIBC_MAP_CELLS, ML_COL_STR, true, "1/64 of the heap a cell: # in use, : tcache or fastbin, . bins or top, blank no chunk", h_map, { 0, 8 }),
};

#define T(x) ((const struct ml_glibc_tcache *)(x))
CELLFN(t_addr, ml_fmt_hex(buf, T(x)->addr))
CELLFN(t_arena, ml_fmt_u64(buf, T(x)->arena))
CELLFN(t_chunks, ml_fmt_u64(buf, T(x)->chunks))
CELLFN(t_bytes, ml_fmt_size(buf, T(x)->bytes, fl))
#undef T

static const struct ml_column_info tcache_cols[] = {
	COL("ADDR", 0.10, ML_COL_HEX, true, "the tcache_perthread_struct", t_addr),
	COL("ARENA", 3, ML_COL_NUM, true, "the arena whose heap holds it", t_arena),
	COL("CHUNKS", 4, ML_COL_NUM, true, "chunks in its lists", t_chunks),
	COL("BYTES", 5, ML_COL_SIZE, true, "their bytes", t_bytes),
};

struct hist { uint64_t from, to; struct ml_glibc_count used, free; };
#define S(x) ((const struct hist *)(x))
CELLFN(s_from, ml_fmt_size(buf, S(x)->from, fl))
CELLFN(s_to, S(x)->to ? ml_fmt_size(buf, S(x)->to, fl) : NULL)
CELLFN(s_used_n, ml_fmt_u64(buf, S(x)->used.chunks))
CELLFN(s_used_b, ml_fmt_size(buf, S(x)->used.bytes, fl))
CELLFN(s_free_n, ml_fmt_u64(buf, S(x)->free.chunks))
CELLFN(s_free_b, ml_fmt_size(buf, S(x)->free.bytes, fl))
#undef S

static const struct ml_column_info hist_cols[] = {
	COL("FROM", 5, ML_COL_SIZE, true, "chunk sizes from", s_from),
	COL("TO", 5, ML_COL_SIZE, true, "to (exclusive; none for the last)", s_to),
	COL("USED-CHUNKS", 4, ML_COL_NUM, true, "chunks in use (mmap'd ones too)", s_used_n),
	COL("USED-BYTES", 5, ML_COL_SIZE, true, "their bytes", s_used_b),
	COL("FREE-CHUNKS", 4, ML_COL_NUM, true, "free chunks: tcache, fastbins, bins (not top)", s_free_n),
	COL("FREE-BYTES", 5, ML_COL_SIZE, true, "their bytes", s_free_b),
};

/* ---- the report ---- */

static const char *found_words(const struct ml_glibc_heap *g)
{
	return g->found == ML_GLIBC_BY_SYMBOLS ? "libc's debug symbols (libc6-dbg)"
					       : "a scan of libc's data, validated against the heap";
}

static void prose(FILE *out, const struct ctx *c)
{
	const struct ml_glibc_heap *g = c->g;
	const struct ml_proc *p = ml_snapshot_proc(c->snap);
	uint64_t n[ML_GLIBC_NLISTS] = { 0 }, b[ML_GLIBC_NLISTS] = { 0 };
	char s[8][32];
	char *comm = ml_escape(p->comm, ML_ESC_TERM);

	for (size_t i = 0; i < g->narenas; i++)
		for (int l = 0; l < ML_GLIBC_NLISTS; l++) {
			n[l] += g->arenas[i].list[l].chunks;
			b[l] += g->arenas[i].list[l].bytes;
		}
	fprintf(out, "PID %d (%s) uses glibc 2.%u malloc: main_arena at 0x%" PRIx64 ", found by %s; %s\n",
		(int)p->pid, comm ? comm : "?", g->version_minor, g->main_arena, found_words(g),
		c->stopped ? "read with every thread stopped" :
		"read while it ran (--no-stop): the figures may not agree with each other");
	free(comm);
	if (!g->arena_bytes)
		fputs("glibc malloc holds no memory: no arena was ever used (another allocator, or no "
		      "allocation yet)\n", out);
	fprintf(out, "%zu arena%s, %zu heap%s, %" PRIu64 " chunks; from the system %s, in use %s, free %s "
		"(top of main_arena %s); mmap'd: %" PRIu64 " chunks, %s\n",
		g->narenas, g->narenas == 1 ? "" : "s", g->nsegs, g->nsegs == 1 ? "" : "s", g->chunks,
		ml_size_human(g->arena_bytes, s[0], 32), ml_size_human(g->in_use_bytes, s[1], 32),
		ml_size_human(g->free_bytes, s[2], 32), ml_size_human(g->top_bytes, s[3], 32),
		g->mmap_chunks, ml_size_human(g->mmap_bytes, s[4], 32));
	fprintf(out, "free lists: tcache %" PRIu64 " (%s), fastbins %" PRIu64 " (%s), unsorted %" PRIu64
		", small %" PRIu64 ", large %" PRIu64 " (%s); largest free chunk %s; fragmentation %.1f%% "
		"(free bytes outside top / heap bytes outside top)\n",
		g->tcache_chunks, ml_size_human(g->tcache_bytes, s[5], 32), g->fastbin_chunks,
		ml_size_human(g->fastbin_bytes, s[6], 32), n[ML_GLIBC_UNSORTED], n[ML_GLIBC_SMALL],
		n[ML_GLIBC_LARGE], ml_size_human(b[ML_GLIBC_UNSORTED] + b[ML_GLIBC_SMALL] + b[ML_GLIBC_LARGE], s[7], 32),
		ml_size_human(g->largest_free, s[0], 32), 100.0 * g->fragmentation);
}

/* The head of the document: "allocator", "found_by", "stopped", "totals"
 * (mallinfo2's figures under its own names), ... */
static void json_head(struct ml_json *j, const struct ctx *c)
{
	const struct ml_glibc_heap *g = c->g;
	char v[16];

	snprintf(v, sizeof(v), "2.%u", g->version_minor);
	ml_json_str(j, "allocator", "glibc");
	ml_json_i64(j, "pid", ml_snapshot_proc(c->snap)->pid);
	ml_json_u64(j, "word_size", g->word * 8);
	ml_json_str(j, "glibc_version", v);
	ml_json_str(j, "found_by", g->found == ML_GLIBC_BY_SYMBOLS ? "symbols" : "scan");
	ml_json_bool(j, "stopped", c->stopped);
	ml_json_hex(j, "main_arena", g->main_arena);
	ml_json_bool(j, "safe_linking", g->safe_linking);
	ml_json_open(j, "totals", false);
	const struct { const char *key; uint64_t v; } totals[] = {
		{ "arena_bytes", g->arena_bytes }, { "free_chunks", g->free_chunks },
		{ "fastbin_chunks", g->fastbin_chunks }, { "mmap_chunks", g->mmap_chunks },
		{ "mmap_bytes", g->mmap_bytes }, { "fastbin_bytes", g->fastbin_bytes },
		{ "in_use_bytes", g->in_use_bytes }, { "free_bytes", g->free_bytes },
		{ "top_bytes", g->top_bytes }, { "tcache_chunks", g->tcache_chunks },
		{ "tcache_bytes", g->tcache_bytes }, { "chunks", g->chunks },
		{ "largest_free", g->largest_free },
	};
	for (size_t i = 0; i < ARRAY_SIZE(totals); i++)
		ml_json_u64(j, totals[i].key, totals[i].v);
	ml_json_double(j, "fragmentation", g->fragmentation);
	ml_json_close(j);
}

static struct hrow *heap_rows(const struct ml_glibc_heap *g, size_t *ret_n)
{
	struct hrow *r = calloc(g->nsegs + g->nmmapped + 1, sizeof(*r));
	size_t n = 0;

	if (!r)
		return NULL;
	for (size_t i = 0; i < g->nsegs; i++) {
		const struct ml_glibc_heapseg *s = &g->segs[i];
		r[n++] = (struct hrow){ s->start, s->end, s->in_use, s->free, (long)s->arena,
			g->arenas[s->arena].main ? "brk" : "heap", s->map };
	}
	for (size_t i = 0; i < g->nmmapped; i++)
		r[n++] = (struct hrow){ g->mmapped[i].start, g->mmapped[i].start + g->mmapped[i].size,
			g->mmapped[i].size, 0, -1, "mmap", NULL };
	*ret_n = n;
	return r;
}

const struct ml_column_info *cli_heap_glibc_columns(bool arenas, size_t *ret_n)
{
	*ret_n = arenas ? ARRAY_SIZE(arena_cols) : ARRAY_SIZE(heap_cols);
	return arenas ? arena_cols : heap_cols;
}

/* Table t's columns: those -o gave, else the default set (JSON: all). */
static int put(FILE *out, const struct ctx *c, struct ml_table t, const int *oids, size_t noids)
{
	t.ids = oids;
	t.nids = noids;
	t.json_every = true;
	return put_table(out, c, &t);
}

/* The size histogram's rows: the sizes that have a chunk. */
static size_t hist_rows(const struct ml_glibc_heap *g, struct hist *hs)
{
	size_t nh = 0;

	for (unsigned i = 0; i < ML_GLIBC_HIST; i++)
		if (g->hist_used[i].chunks || g->hist_free[i].chunks)
			hs[nh++] = (struct hist){ i ? (uint64_t)16 << i : 0, i + 1 < ML_GLIBC_HIST ? (uint64_t)32 << i : 0,
						  g->hist_used[i], g->hist_free[i] };
	return nh;
}

static int tables(FILE *out, const struct ctx *c, const struct cli_heap_out *o, unsigned parts)
{
	const struct ml_glibc_heap *g = c->g;
	bool plain = !(c->flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	struct hist hs[ML_GLIBC_HIST];
	size_t nrows = 0;
	struct hrow *hr;
	int r = 0;

	if (parts & CLI_HEAP_CLASSES) {
		r = put(out, c, (struct ml_table){ "arenas", arena_cols, ARRAY_SIZE(arena_cols), NULL, 0,
			g->arenas, sizeof(*g->arenas), g->narenas, NULL, c }, o->class_columns, o->nclass_columns);
		if (r == 0 && plain)
			fputc('\n', out);
		if (r == 0)
			r = put(out, c, (struct ml_table){ "histogram", hist_cols, ARRAY_SIZE(hist_cols), NULL, 0,
				hs, sizeof(*hs), hist_rows(g, hs), NULL, c }, NULL, 0);
		if (r == 0 && plain && g->ntcaches)
			fputc('\n', out);
		if (r == 0 && (c->json || g->ntcaches))
			r = put(out, c, (struct ml_table){ "tcaches", tcache_cols, ARRAY_SIZE(tcache_cols), NULL, 0,
				g->tcaches, sizeof(*g->tcaches), g->ntcaches, NULL, c }, NULL, 0);
	}
	if (r == 0 && (parts & CLI_HEAP_MAP)) {
		if (!(hr = heap_rows(g, &nrows)))
			return -ENOMEM;
		if (plain)
			fputc('\n', out);
		r = put(out, c, (struct ml_table){ "heaps", heap_cols, ARRAY_SIZE(heap_cols), NULL, 0,
			hr, sizeof(*hr), nrows, NULL, c }, o->columns, o->ncolumns);
		free(hr);
	}
	return r;
}

int cli_heap_glibc_render(const struct ml_snapshot *snap, const struct ml_glibc_heap *g, bool stopped,
			 FILE *out, const struct cli_heap_out *o)
{
	struct ctx c = { .flags = o->flags, .snap = snap, .g = g, .stopped = stopped };
	bool fitted = (o->flags & ML_OUT_TERM) && !(o->flags & (ML_OUT_JSON | ML_OUT_RAW));
	unsigned parts = o->parts ? o->parts : CLI_HEAP_SUMMARY | CLI_HEAP_CLASSES | CLI_HEAP_MAP;
	/* On a terminal the prose folded at its width, the tables fitted. */
	FILE *text = fitted && o->width ? ml_fold_stream(out, o->width, 2, NULL) : NULL;
	int r = heap_json_begin(out, &c);

	if (c.json) {
		json_head(c.json, &c);
	} else if ((parts & CLI_HEAP_SUMMARY) && !(o->flags & (ML_OUT_RAW | ML_OUT_NOHEADINGS))) {
		prose(text ? text : out, &c);
		if (parts & (CLI_HEAP_CLASSES | CLI_HEAP_MAP))
			fputc('\n', text ? text : out);
	}
	if (text)
		fflush(text);
	if (r == 0)
		r = tables(out, &c, o, parts);
	if (r == 0 && (parts & CLI_HEAP_MAP) && !(o->flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS)))
		fprintf(text ? text : out, "MAP: 1/64 of the heap a cell%s: # in use, : tcache or fastbin, "
			". free in bins or top, blank: no chunk (heap_info, reserve)\n",
			fitted && !o->columns ? " (on this terminal, as many cells as fit)" : "");
	if (text && fclose(text) && r == 0)
		r = -EIO;
	return heap_json_end(&c, r);
}

/* One chunk, for where: "in chunk 0x... of 4.0K (mem 0x...), free in
 * tcache bin 3 of arena 0, 16 bytes into the chunk". */
int cli_heap_glibc_chunk_words(const struct ml_glibc_chunk *k, uint64_t addr, char *buf, size_t len)
{
	char sz[32], bin[32] = "";

	if (k->bin >= 0)
		snprintf(bin, sizeof(bin), " %d", k->bin);
	snprintf(buf, len, "glibc chunk 0x%" PRIx64 " of %s (user pointer 0x%" PRIx64 "), %s%s%s%s, "
		 "%" PRIu64 " bytes into the chunk%s", k->chunk, ml_size_human(k->size, sz, sizeof(sz)),
		 k->mem, k->list == ML_GLIBC_INUSE || k->list == ML_GLIBC_MMAPPED ? "in use" : "free",
		 k->list == ML_GLIBC_INUSE ? "" : k->list == ML_GLIBC_MMAPPED ? " (mmap'd)" : " in ",
		 k->list == ML_GLIBC_INUSE || k->list == ML_GLIBC_MMAPPED ? "" : list_names[k->list], bin,
		 addr - k->chunk, addr < k->mem ? " (its header)" : "");
	return 0;
}

const char *cli_heap_glibc_list_json(enum ml_glibc_list l) { return list_json[l]; }

/* ---- where's hook ---- */

static bool heap_region(const struct ml_snapshot *snap, uint64_t addr)
{
	const struct ml_region *r = ml_snapshot_find(snap, addr);

	return r && (r->kind == ML_KIND_HEAP || (r->kind == ML_KIND_ANON && (r->perms & ML_PERM_WRITE)) ||
		     (r->object && !strcmp(r->object, "[malloc arena]")));
}

int cli_heap_glibc_where_line(const struct ml_snapshot *snap, struct cli_heap_glibc **cache,
			     uint64_t addr, FILE *out)
{
	struct ml_glibc_chunk k;
	char buf[512];
	int r;

	if (!heap_region(snap, addr))
		return 0;
	if (!*cache) {
		/* once per snapshot: the maps table built, glibc looked for
		 * in it and its heap read (-ENOENT: not glibc); a cache with
		 * no heap (g NULL) answers every later address at once */
		if (!(*cache = calloc(1, sizeof(**cache))))
			return -ENOMEM;
		r = cli_heap_glibc_read(snap, false, *cache);
		if (r == -EUCLEAN || r == -E2BIG) {
			cli_heap_glibc_problem_words(&(*cache)->bad, buf, sizeof(buf));
			fprintf(out, "  malloc     glibc heap corrupt: %s\n", buf);
		}
		if (r < 0) {
			cli_heap_glibc_done(*cache);
			(*cache)->g = NULL;
			(*cache)->maps = NULL;
			return 0;
		}
	}
	if (!(*cache)->g || ml_glibc_where(&(*cache)->src, (*cache)->g, addr, &k) < 0)
		return 0;
	cli_heap_glibc_chunk_words(&k, addr, buf, sizeof(buf));
	return fprintf(out, "  malloc     %s\n", buf) < 0 ? -EIO : 0;
}

void cli_heap_glibc_where_done(struct cli_heap_glibc *cache)
{
	if (cache)
		cli_heap_glibc_done(cache);
	free(cache);
}
