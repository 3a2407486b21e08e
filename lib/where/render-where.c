/* SPDX-License-Identifier: MIT */
/*
 * render-where.c - the answers of ml_where_explain() as text: a readable
 * block per address, or a table / JSON through libsmartcols.
 *
 * Both read the same field texts: block_lines[] says which lines a block
 * has (a line whose function writes nothing is left out), columns[] which
 * columns the table may have (-o, --list-columns, JSON types).  Text the
 * target controls (paths, symbol, section and source file names) is
 * escaped: ml_escape(ML_ESC_TERM) in blocks, libsmartcols' own encoding on
 * a terminal table, ML_ESC_JSON_SAFE in JSON.
 */
#include "ml-where.h"
#include "format.h"

#include <errno.h>
#include <inttypes.h>
#include <libsmartcols/libsmartcols.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLUSH_LINES 4096   /* raw tables are printed this many lines at a time */

struct wctx {
	unsigned int flags;     /* ML_OUT_* */
};

/* A growing text buffer: fields are appended, never truncated, and it is
 * always NUL-terminated.  It may start on the caller's storage (heap
 * false) and moves to the heap only when that is too small.  Numbers are
 * formatted here, not by printf: a batch formats millions of them. */
struct buf {
	char *s;
	size_t len, cap;
	bool heap;              /* s is malloc'ed (ours to free) */
	bool oom;               /* an append failed: the text is short */
};

static __attribute__((noinline)) bool bgrow_slow(struct buf *b, size_t n)
{
	size_t cap = (b->cap ? b->cap : 64) * 2 + n;
	char *s = b->heap ? realloc(b->s, cap) : malloc(cap);

	if (!s) {
		b->oom = true;
		return false;
	}
	if (!b->heap && b->len)
		memcpy(s, b->s, b->len);
	b->s = s;
	b->cap = cap;
	b->heap = true;
	return true;
}

/* Room for n more bytes and the NUL. */
static inline bool bgrow(struct buf *b, size_t n)
{
	return b->len + n < b->cap || bgrow_slow(b, n);
}

static inline void bmem(struct buf *b, const char *p, size_t n)
{
	if (!bgrow(b, n))
		return;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static inline void bstr(struct buf *b, const char *s)
{
	bmem(b, s, strlen(s));
}

/* A string literal: its length known when compiling. */
#define blit(b, lit) bmem((b), "" lit, sizeof(lit) - 1)

static inline void bch(struct buf *b, char c)
{
	bmem(b, &c, 1);
}

/* The text ml__put_* wrote at the end of b, up to e: kept, NUL-ended. */
static inline void bend(struct buf *b, char *e)
{
	b->len = (size_t)(e - b->s);
	b->s[b->len] = '\0';
}

/* v written in place by the formatting module (format.c): no copy, a
 * block has a dozen numbers and a batch a million blocks.  32 bytes of
 * room: the longest text is 24, and ml__put_hex copies 18. */
static void bhex(struct buf *b, uint64_t v) { if (bgrow(b, 32)) bend(b, ml__put_hex(b->s + b->len, v)); }
static void bdec(struct buf *b, uint64_t v) { if (bgrow(b, 32)) bend(b, ml__put_dec(b->s + b->len, v)); }
static void bhuman(struct buf *b, uint64_t v) { if (bgrow(b, 32)) bend(b, ml__put_size_human(b->s + b->len, v)); }

static void bint(struct buf *b, int v)
{
	if (v < 0)
		bch(b, '-');
	bdec(b, v < 0 ? -(uint64_t)(int64_t)v : (uint64_t)v);
}

/* Printable ASCII without a backslash reads the same escaped or not, in
 * both escaping modes: the common case, copied as it is.  Its length, or
 * SIZE_MAX if s needs escaping. */
static size_t plain_len(const char *s)
{
	const char *p = s;

	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
			return SIZE_MAX;
	return (size_t)(p - s);
}

/* Target-controlled text, escaped for where it goes. */
static void btext(struct buf *b, const char *s, const struct wctx *c, bool table)
{
	size_t n;
	char *e;

	if ((n = plain_len(s)) != SIZE_MAX) {
		bmem(b, s, n);
		return;
	}
	/* A table cell: libsmartcols escapes the rest (ml__escape_cell). */
	if (table)
		e = ml__escape_cell(s, c->flags);
	else
		e = ml_escape(s, (c->flags & ML_OUT_JSON) ? ML_ESC_JSON_SAFE : ML_ESC_TERM);
	bstr(b, e ? e : "?");
	free(e);
}

static void bsize(struct buf *b, uint64_t v, const struct wctx *c)
{
	if (c->flags & ML_OUT_BYTES)
		bdec(b, v);
	else
		bhuman(b, v);
}

/* ---- field texts, shared by blocks and tables ----
 * Each appends to b and returns whether it had something to say.  table:
 * the text is for a cell (short) rather than a block line. */
typedef bool (*field_fn)(struct buf *b, const struct ml_where *w, const struct wctx *c, bool table);

static bool f_addr(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	bhex(b, w->addr);
	return true;
}

static bool f_kind(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	bstr(b, w->region ? ml_kind_name(w->region->kind) : "unmapped");
	return true;
}

static bool f_allocator(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	const char *a = w->region ? ml_region_allocator(w->region) : NULL;

	(void)c; (void)t;
	if (!a)
		return false;
	bstr(b, a);
	return true;
}

/* The owner in a sentence: "heap of glibc malloc: ..." or, for a guess,
 * "anon, probably jemalloc: ...". */
static bool f_owner(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	const struct ml_region *r = w->region;
	const char *ev = r ? ml_region_owner_evidence(r) : NULL;

	(void)c; (void)t;
	if (!r || !ml_region_allocator(r))
		return false;
	if (r->owner_basis == ML_OWNER_SHAPE) {
		blit(b, "anon, probably ");
		bstr(b, ml_allocator_description(r->allocator));
	} else {
		bstr(b, r->kind == ML_KIND_HEAP ? "heap of " : "reserved by ");
		bstr(b, ml_allocator_description(r->allocator));
	}
	if (ev) {
		blit(b, ": ");
		bstr(b, ev);
	}
	return true;
}

/* Device and special mappings in words, by the label classify.c gave. */
static const struct { enum ml_kind kind; const char *object, *words; } device_words[] = {
	{ ML_KIND_GPU,  "[cuda uva]", "GPU memory in CUDA's unified address space "
				      "(reserved on the host side: the GPU's allocations get their addresses here)" },
	{ ML_KIND_GPU,  "[cuda pinned host]", "host memory pinned for the GPU (cudaHostAlloc), "
					      "in CUDA's unified address space" },
	{ ML_KIND_GPU,  NULL, "a GPU driver's mapping (its control and memory windows)" },
	{ ML_KIND_RING, "[io_uring]", "io_uring's rings (submission and completion queues), shared with the kernel" },
	{ ML_KIND_RING, "[perf_event]", "a perf event's ring buffer, shared with the kernel" },
	{ ML_KIND_RING, NULL, "a BPF map or ring buffer mapped from the kernel" },
	{ ML_KIND_DEVICE, NULL, "a device's memory mapped into the process" },
	{ ML_KIND_ANON, "[hugetlb]", "hugetlbfs pages (MAP_HUGETLB)" },
	{ ML_KIND_SHM,  "[hugetlb]", "hugetlbfs pages (MAP_HUGETLB), shared" },
};

static bool f_device(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	const struct ml_region *r = w->region;

	(void)c; (void)t;
	if (!r)
		return false;
	for (size_t i = 0; i < ML_ARRAY_SIZE(device_words); i++)
		if (device_words[i].kind == r->kind &&
		    (!device_words[i].object || (r->object && !strcmp(r->object, device_words[i].object)))) {
			bstr(b, device_words[i].words);
			return true;
		}
	return false;
}

static bool f_perms(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	char p[5];

	(void)c; (void)t;
	if (!w->region)
		return false;
	bstr(b, ml_perms_str(w->region->perms, p));
	return true;
}

static const char *object_of(const struct ml_region *r)
{
	return r->object ? r->object : r->name && r->name[0] ? r->name : NULL;
}

static bool f_object(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	const char *o = w->region ? object_of(w->region) : NULL;

	if (!o)
		return false;
	btext(b, o, c, t);
	if (w->region->deleted)
		blit(b, " (deleted)");
	return true;
}

static bool f_start(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->region)
		return false;
	bhex(b, w->region->start);
	return true;
}

static bool f_end(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->region)
		return false;
	bhex(b, w->region->end);
	return true;
}

static bool f_region(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	char p[5];

	if (!w->region)
		return false;
	bstr(b, ml_kind_name(w->region->kind));
	bch(b, ' ');
	bmem(b, ml_perms_str(w->region->perms, p), 4);
	bch(b, ' ');
	if (f_object(b, w, c, t))
		blit(b, " ");
	bhex(b, w->region->start);
	bch(b, '-');
	bhex(b, w->region->end);
	blit(b, " (");
	bsize(b, w->region->end - w->region->start, c);
	blit(b, ")");
	if (w->region->tid && w->region->kind == ML_KIND_GUARD) {
		blit(b, " below the stack of thread ");
		bint(b, (int)w->region->tid);
	}
	return true;
}

static bool f_mapoff(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->region)
		return false;
	bhex(b, w->map_offset);
	return true;
}

static bool f_fileoff(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->has_file_offset)
		return false;
	bhex(b, w->file_offset);
	return true;
}

static bool f_offsets(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (!w->region)
		return false;
	bhex(b, w->map_offset);
	blit(b, " into the mapping");
	if (w->has_file_offset) {
		blit(b, ", ");
		bhex(b, w->file_offset);
		blit(b, " into the file");
	}
	else if (w->region->kind == ML_KIND_BSS)
		blit(b, "; no file behind it (zero-filled)");
	(void)c;
	return true;
}

static bool f_section(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (!w->has_object || !w->sym.section)
		return false;
	btext(b, w->sym.section, c, t);
	if (!t) {
		blit(b, " +");
		bhex(b, w->sym.section_offset);
	}
	return true;
}

static bool f_secoff(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->has_object || !w->sym.section)
		return false;
	bhex(b, w->sym.section_offset);
	return true;
}

static bool f_symbol(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (!w->has_object || !w->sym.name) {
		if (t || !w->has_object)
			return false;
		blit(b, "none holds this address");
		return true;
	}
	btext(b, w->sym.name, c, t);
	if (t)
		return true;
	bch(b, '+');
	bhex(b, w->sym.offset);
	blit(b, " (");
	bstr(b, w->sym.table);
	if (w->sym.sym_sized) {
		blit(b, ", ");
		bdec(b, w->sym.sym_size);
		blit(b, " bytes at ");
		bhex(b, w->sym.sym_addr);
		bch(b, ')');
	} else
		blit(b, "; no size: the nearest symbol below)");
	return true;
}

static bool f_symoff(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->has_object || !w->sym.name)
		return false;
	bhex(b, w->sym.offset);
	return true;
}

static bool f_symtab(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->has_object || !w->sym.name)
		return false;
	bstr(b, w->sym.table);
	return true;
}

/* Source lines are looked up for code only. */
static bool code(const struct ml_where *w)
{
	return w->has_object && (w->region->perms & ML_PERM_EXEC);
}

static bool f_source(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (!code(w))
		return false;
	if (w->sym.file) {
		btext(b, w->sym.file, c, t);
		bch(b, ':');
		bint(b, w->sym.line);
		if (w->sym.column) {
			bch(b, ':');
			bint(b, w->sym.column);
		}
		return true;
	}
	if (t)
		return false;
	if (w->sym.has_dwarf)
		blit(b, "unknown (no line for this address in the DWARF)");
	else if (w->sym.build_id) {
		blit(b, "unknown (no DWARF: no debug file for build-id ");
		bstr(b, w->sym.build_id);
		bch(b, ')');
	}
	else
		blit(b, "unknown (no DWARF and no build-id)");
	return true;
}

static bool f_debugfile(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (!code(w) || !w->sym.debug_file || !w->sym.has_dwarf)
		return false;
	btext(b, w->sym.debug_file, c, t);
	return true;
}

static bool f_buildid(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->has_object || !w->sym.build_id)
		return false;
	bstr(b, w->sym.build_id);
	return true;
}

static bool f_stack(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (!w->is_stack)
		return false;
	if (t) {
		bint(b, (int)w->stack_tid);
		return true;
	}
	if (w->region->kind == ML_KIND_STACK) {
		blit(b, "the main thread's (TID ");
		bint(b, (int)w->stack_tid);
		blit(b, "); ");
	} else if (w->stack_tid) {
		blit(b, "thread ");
		bint(b, (int)w->stack_tid);
		blit(b, "'s; ");
	} else
		blit(b, "a thread's (TID unknown); ");
	bsize(b, w->below_top, c);
	blit(b, " below its top");
	if (w->sp_known) {
		bstr(b, w->addr >= w->sp ? ", above its sp " : ", below its sp ");
		bhex(b, w->sp);
		bstr(b, w->addr >= w->sp ? " (in a live frame)" : " (free: not in use now)");
	}
	blit(b, "; may grow ");
	bsize(b, w->room, c);
	blit(b, " further before ");
	bstr(b, w->room_limit);
	return true;
}

static bool f_belowtop(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (!w->is_stack)
		return false;
	bsize(b, w->below_top, c);
	return true;
}

static bool f_sp(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->sp_known)
		return false;
	bhex(b, w->sp);
	return true;
}

static bool f_room(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (!w->is_stack)
		return false;
	bsize(b, w->room, c);
	return true;
}

static bool f_roomlimit(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (!w->is_stack)
		return false;
	bstr(b, w->room_limit);
	return true;
}

static bool f_heap(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (!w->is_heap)
		return false;
	bsize(b, w->heap_offset, c);
	blit(b, " from the heap's start, ");
	bsize(b, w->to_brk, c);
	blit(b, " below the brk (end of [heap])");
	return true;
}

static bool f_heapoff(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (!w->is_heap)
		return false;
	bsize(b, w->heap_offset, c);
	return true;
}

static bool f_tobrk(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (!w->is_heap)
		return false;
	bsize(b, w->to_brk, c);
	return true;
}

static bool f_hole(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c;
	if (w->region)
		return false;
	bstr(b, ml_hole_name(w->hole));
	if (!t) {
		blit(b, ": ");
		bstr(b, ml_hole_description(w->hole));
	}
	return true;
}

/* "kind object start-end, its end 12K below" (side: "end below" or
 * "start above"). */
static void neighbour(struct buf *b, const struct ml_region *r, uint64_t dist,
		      const char *edge, const char *dir, const struct wctx *c, bool t)
{
	const char *o = object_of(r);

	bstr(b, ml_kind_name(r->kind));
	if (o) {
		blit(b, " ");
		btext(b, o, c, t);
	}
	if (t)
		return;
	bch(b, ' ');
	bhex(b, r->start);
	bch(b, '-');
	bhex(b, r->end);
	blit(b, ", its ");
	bstr(b, edge);
	bch(b, ' ');
	bsize(b, dist, c);
	bch(b, ' ');
	bstr(b, dir);
}

static bool f_below(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (w->region || !w->below)
		return false;
	neighbour(b, w->below, w->dist_below, "end", "below", c, t);
	return true;
}

static bool f_above(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	if (w->region || !w->above)
		return false;
	neighbour(b, w->above, w->dist_above, "start", "above", c, t);
	return true;
}

static bool f_belowdist(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (w->region || !w->below)
		return false;
	bsize(b, w->dist_below, c);
	return true;
}

static bool f_abovedist(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)t;
	if (w->region || !w->above)
		return false;
	bsize(b, w->dist_above, c);
	return true;
}

static bool f_vpn(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	bhex(b, w->vpn);
	return true;
}

static bool f_pgoff(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	bhex(b, w->page_offset);
	return true;
}

static bool f_walk(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c;
	if (!w->nlevels)
		return false;
	for (unsigned int i = 0; i < w->nlevels; i++) {
		if (i)
			bch(b, ' ');
		bstr(b, w->levels[i].name);
		bch(b, ' ');
		bdec(b, w->levels[i].index);
	}
	if (!t) {
		unsigned int depth = w->nlevels;

		while (depth < ML_ARRAY_SIZE(w->levels) && w->levels[depth].name)
			depth++;   /* levels a huge page made unused */
		blit(b, " (");
		bdec(b, depth);
		bstr(b, depth > w->nlevels ? "-level page tables; a huge page ends the walk at the "
			: "-level page tables)");
		if (depth > w->nlevels) {
			bstr(b, w->levels[w->nlevels - 1].name);
			bch(b, ')');
		}
	}
	return true;
}

static bool f_page(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	blit(b, "VPN ");
	bhex(b, w->vpn);
	blit(b, ", offset ");
	bhex(b, w->page_offset);
	blit(b, "; walk ");
	if (!f_walk(b, w, c, t))
		blit(b, "unknown (paging geometry not known for this process)");
	return true;
}

static bool f_pagesize(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	bool present = w->pagemap_status == 0 && (w->page.flags & ML_PAGE_PRESENT);

	if (w->pagemap_status != 0 && t)
		return false;
	if (w->pagemap_status != 0 || !present) {
		if (!w->region || w->pagemap_status != 0)
			return false;
		bstr(b, t ? "none" : "none: no page is mapped here yet");
		return true;
	}
	switch (w->pgsz_known) {
	case ML_PGSZ_BASE:
		bsize(b, w->page_size, c);
		if (!t)
			blit(b, " (a base page)");
		return true;
	case ML_PGSZ_HUGE:
		if (w->huge_size) {
			bsize(b, w->huge_size, c);
			if (t) {
				blit(b, " huge");
			} else if (w->nlevels) {
				blit(b, " huge page (mapped by one ");
				bstr(b, w->levels[w->nlevels - 1].name);
				blit(b, " entry: the walk ends there; offset ");
				bhex(b, w->addr & (w->huge_size - 1));
				blit(b, " in it)");
			} else {
				blit(b, " huge page");
			}
		} else {
			bstr(b, t ? "huge" : "part of a transparent huge page / large folio of unknown size");
		}
		return true;
	default:
		bstr(b, t ? "unknown" : "unknown: a base page or a THP (frame flags need root)");
		return true;
	}
}

static const struct {
	unsigned int flag;
	const char *name;
} page_flags[] = {
	{ ML_PAGE_PRESENT, "present" }, { ML_PAGE_SWAPPED, "swapped" },
	{ ML_PAGE_FILE_SHARED, "file-or-shared-anon" }, { ML_PAGE_EXCLUSIVE, "exclusive" },
	{ ML_PAGE_GUARD, "guard" }, { ML_PAGE_SOFT_DIRTY, "soft-dirty" },
	{ ML_PAGE_UFFD_WP, "uffd-wp" },
};

static bool f_pagemap(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	size_t n = 0;

	(void)c; (void)t;
	if (w->pagemap_status == -ERANGE) {
		blit(b, "not covered: pagemap ends at the top of user space");
		return true;
	}
	if (w->pagemap_status != 0 && w->pagemap_status != -ENOENT && w->region) {
		blit(b, "unreadable (");
		bstr(b, strerror(-w->pagemap_status));
		bch(b, ')');
		return true;
	}
	if (w->pagemap_status != 0)
		return false;
	for (size_t i = 0; i < ML_ARRAY_SIZE(page_flags); i++)
		if (w->page.flags & page_flags[i].flag) {
			if (n++)
				bch(b, ' ');
			bstr(b, page_flags[i].name);
		}
	if (!n)
		blit(b, "not present (never touched, or reclaimed)");
	if (w->page.flags & ML_PAGE_SWAPPED) {
		blit(b, "; swap type ");
		bdec(b, w->page.swap_type);
		blit(b, " offset ");
		bhex(b, w->page.swap_offset);
	}
	if (w->page.flags & ML_PAGE_PFN_HIDDEN)
		blit(b, "; frame number hidden: it needs root (CAP_SYS_ADMIN)");
	else if (w->has_phys) {
		blit(b, "; PFN ");
		bhex(b, w->page.pfn);
		blit(b, ", physical address ");
		bhex(b, w->phys);
	}
	return true;
}

static bool f_frame(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	size_t n = 0;

	(void)c; (void)t;
	if (w->pagemap_status != 0 || !(w->page.flags & (ML_PAGE_KFLAGS | ML_PAGE_MAPCOUNT)))
		return false;
	if (w->page.flags & ML_PAGE_KFLAGS) {
		blit(b, "flags");
		for (unsigned int i = 0; i < 64; i++)
			if ((w->page.kflags >> i & 1) && ml_kpageflag_name(i)) {
				bch(b, n++ ? ',' : ' ');
				bstr(b, ml_kpageflag_name(i));
			}
	}
	if (w->page.flags & ML_PAGE_MAPCOUNT) {
		bstr(b, n || (w->page.flags & ML_PAGE_KFLAGS) ? "; mapped " : "mapped ");
		bdec(b, w->page.mapcount);
		bstr(b, w->page.mapcount == 1 ? " time" : " times");
	}
	return true;
}

/* Per-flag cells: 1 or 0, as lsblk's RO (JSON booleans); empty, and
 * null in JSON, when pagemap was not read (unmapped, --no-pagemap). */
#define FLAG_CELL(fn, flag)                                                              \
	static bool fn(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t) \
	{                                                                                \
		(void)c; (void)t;                                                        \
		if (w->pagemap_status != 0)                                              \
			return false;                                                    \
		bstr(b, (w->page.flags & (flag)) ? "1" : "0");                  \
		return true;                                                             \
	}
FLAG_CELL(f_present, ML_PAGE_PRESENT)
FLAG_CELL(f_swapped, ML_PAGE_SWAPPED)
FLAG_CELL(f_fileshared, ML_PAGE_FILE_SHARED)
FLAG_CELL(f_exclusive, ML_PAGE_EXCLUSIVE)
FLAG_CELL(f_guardpg, ML_PAGE_GUARD)
FLAG_CELL(f_softdirty, ML_PAGE_SOFT_DIRTY)
#undef FLAG_CELL

static bool f_pfn(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (w->pagemap_status != 0 || !w->has_phys)
		return false;
	bhex(b, w->page.pfn);
	return true;
}

static bool f_phys(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (w->pagemap_status != 0 || !w->has_phys)
		return false;
	bhex(b, w->phys);
	return true;
}

static bool f_kflags(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	size_t n = 0;
	char sep = (c->flags & ML_OUT_JSON) ? '\n' : ',';

	(void)t;
	if (w->pagemap_status != 0 || !(w->page.flags & ML_PAGE_KFLAGS))
		return false;
	for (unsigned int i = 0; i < 64; i++)
		if ((w->page.kflags >> i & 1) && ml_kpageflag_name(i)) {
			if (n++)
				bch(b, sep);
			bstr(b, ml_kpageflag_name(i));
		}
	return n > 0;
}

static bool f_mapcount(struct buf *b, const struct ml_where *w, const struct wctx *c, bool t)
{
	(void)c; (void)t;
	if (w->pagemap_status != 0 || !(w->page.flags & ML_PAGE_MAPCOUNT))
		return false;
	bdec(b, w->page.mapcount);
	return true;
}

/* ---- the block ---- */

/* Labels come padded: two spaces, the label in 10 columns, a space. */
#define LABEL_LEN 13
static const struct {
	const char label[LABEL_LEN + 1];
	field_fn fn;
} block_lines[] = {
	{ "  region     ", f_region },
	{ "  offset     ", f_offsets },
	{ "  section    ", f_section },
	{ "  symbol     ", f_symbol },
	{ "  source     ", f_source },
	{ "  debuginfo  ", f_debugfile },
	{ "  stack      ", f_stack },
	{ "  heap       ", f_heap },
	{ "  owner      ", f_owner },
	{ "  memory     ", f_device },
	{ "  hole       ", f_hole },
	{ "  below      ", f_below },
	{ "  above      ", f_above },
	{ "  page       ", f_page },
	{ "  page size  ", f_pagesize },
	{ "  pagemap    ", f_pagemap },
	{ "  frame      ", f_frame },
};

/* The block is built in one buffer (on the stack unless it is long) and
 * written with one fwrite. */
int ml_render_where_block(const struct ml_where *w, FILE *out, unsigned int flags)
{
	struct wctx c = { flags & ~ML_OUT_JSON };
	char store[2048];
	struct buf b = { store, 0, sizeof(store), false, false };
	bool color = flags & ML_OUT_COLOR;
	int r = 0;

	store[0] = '\0';
	if (color)
		bstr(&b, "\033[1m");
	bhex(&b, w->addr);
	bstr(&b, color ? "\033[0m\n" : "\n");
	for (size_t i = 0; i < ML_ARRAY_SIZE(block_lines); i++) {
		size_t mark = b.len;

		bmem(&b, block_lines[i].label, LABEL_LEN);
		if (block_lines[i].fn(&b, w, &c, false))
			bch(&b, '\n');
		else
			b.len = mark;
	}
	if (b.oom)
		r = -ENOMEM;
	else if (fwrite(b.s, 1, b.len, out) != b.len || ferror(out))
		r = -EIO;
	if (b.heap)
		free(b.s);
	return r;
}

/* ---- the table ---- */

enum jtype { J_STR, J_SIZE, J_NUM, J_BOOL, J_ARRAY };

static const struct column {
	struct ml_column_info info;
	field_fn fn;
	enum jtype json;
	bool right;
	struct ml_fit fit;   /* on a terminal (ml_scols_fit): the default
	                        columns hidden from the highest rank; a min
	                        cuts the column's text to what is left */
} columns[] = {
	/* name, whint, is_size, needs_smaps, default, help */
	{ { "ADDR",      0.10, false, false, true,  "the address" }, f_addr, J_STR, true },
	{ { "KIND",      0.06, false, false, true,  "kind of region, or unmapped" }, f_kind, J_STR, false },
	{ { "PERMS",     5,    false, false, true,  "permissions of the region" }, f_perms, J_STR, false, { 5, 0 } },
	{ { "ALLOCATOR", 0.06, false, false, false, "whose heap memory it is (\"probably\" for a guess)" }, f_allocator, J_STR, false },
	{ { "OBJECT",    0.20, false, false, true,  "the object the region belongs to" }, f_object, J_STR, false, { 0, 20 } },
	{ { "START",     0.10, false, false, false, "start of the region" }, f_start, J_STR, true },
	{ { "END",       0.10, false, false, false, "end of the region (exclusive)" }, f_end, J_STR, true },
	{ { "MAPOFF",    0.08, false, false, false, "offset in the mapping" }, f_mapoff, J_STR, true },
	{ { "FILEOFF",   0.08, false, false, false, "offset in the mapped file" }, f_fileoff, J_STR, true },
	{ { "SECTION",   0.08, false, false, true,  "ELF section holding the address" }, f_section, J_STR, false, { 4, 0 } },
	{ { "SECOFF",    0.08, false, false, false, "offset in the section" }, f_secoff, J_STR, true },
	{ { "SYMBOL",    0.15, false, false, true,  "symbol holding the address" }, f_symbol, J_STR, false, { 0, 24 } },
	{ { "SYMOFF",    0.06, false, false, true,  "offset in the symbol" }, f_symoff, J_STR, true, { 2, 0 } },
	{ { "SYMTAB",    5,    false, false, false, "table the symbol came from (.symtab, .dynsym)" }, f_symtab, J_STR, false },
	{ { "SOURCE",    0.15, false, false, true,  "source file:line (code with DWARF)" }, f_source, J_STR, false, { 6, 16 } },
	{ { "DEBUGINFO", 0.15, false, false, false, "file the DWARF came from" }, f_debugfile, J_STR, false },
	{ { "BUILDID",   0.10, false, false, false, "build-id of the object" }, f_buildid, J_STR, false },
	{ { "STACK",     5,    false, false, false, "thread whose stack holds the address" }, f_stack, J_NUM, true },
	{ { "BELOWTOP",  5,    true,  false, false, "distance below the top of the stack" }, f_belowtop, J_SIZE, true },
	{ { "SP",        0.10, false, false, false, "that thread's stack pointer" }, f_sp, J_STR, true },
	{ { "ROOM",      5,    true,  false, false, "how much further the stack may grow" }, f_room, J_SIZE, true },
	{ { "ROOMLIMIT", 0.08, false, false, false, "what stops it (RLIMIT_STACK, guard gap, guard page)" }, f_roomlimit, J_STR, false },
	{ { "HEAPOFF",   5,    true,  false, false, "offset from the start of the heap" }, f_heapoff, J_SIZE, true },
	{ { "TOBRK",     5,    true,  false, false, "distance to the brk" }, f_tobrk, J_SIZE, true },
	{ { "HOLE",      0.08, false, false, true,  "kind of hole an unmapped address is in" }, f_hole, J_STR, false, { 3, 0 } },
	{ { "BELOW",     0.10, false, false, false, "nearest region below (unmapped)" }, f_below, J_STR, false },
	{ { "BELOWDIST", 5,    true,  false, false, "bytes past its end" }, f_belowdist, J_SIZE, true },
	{ { "ABOVE",     0.10, false, false, false, "nearest region above (unmapped)" }, f_above, J_STR, false },
	{ { "ABOVEDIST", 5,    true,  false, false, "bytes to its start" }, f_abovedist, J_SIZE, true },
	{ { "VPN",       0.08, false, false, false, "virtual page number" }, f_vpn, J_STR, true },
	{ { "PGOFF",     5,    false, false, false, "offset in the page" }, f_pgoff, J_STR, true },
	{ { "WALK",      0.12, false, false, false, "page-table index at each level" }, f_walk, J_STR, false },
	{ { "PAGESIZE",  5,    false, false, false, "size of the page that maps it" }, f_pagesize, J_STR, false },
	{ { "PRESENT",   5,    false, false, true,  "the page is in RAM" }, f_present, J_BOOL, false, { 7, 0 } },
	{ { "SWAPPED",   5,    false, false, false, "the page is in swap" }, f_swapped, J_BOOL, false },
	{ { "FILESHARED", 5,   false, false, false, "a file page or shared anonymous" }, f_fileshared, J_BOOL, false },
	{ { "EXCLUSIVE", 5,    false, false, false, "mapped by this process only" }, f_exclusive, J_BOOL, false },
	{ { "GUARDPG",   5,    false, false, false, "a guard-region marker (MADV_GUARD_INSTALL)" }, f_guardpg, J_BOOL, false },
	{ { "SOFTDIRTY", 5,    false, false, false, "soft-dirty" }, f_softdirty, J_BOOL, false },
	{ { "PFN",       0.08, false, false, false, "physical frame number (root)" }, f_pfn, J_STR, true },
	{ { "PHYS",      0.10, false, false, false, "physical address (root)" }, f_phys, J_STR, true },
	{ { "KFLAGS",    0.15, false, false, false, "flags of the frame (/proc/kpageflags, root)" }, f_kflags, J_ARRAY, false },
	{ { "MAPCOUNT",  5,    false, false, false, "times the frame is mapped (/proc/kpagecount, root)" }, f_mapcount, J_NUM, true },
};

const struct ml_column_info *ml_where_columns(size_t *ret_n)
{
	static struct ml_column_info infos[ML_ARRAY_SIZE(columns)];

	for (size_t i = 0; i < ML_ARRAY_SIZE(columns); i++)
		infos[i] = columns[i].info;
	*ret_n = ML_ARRAY_SIZE(columns);
	return infos;
}

int ml_where_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad)
{
	size_t n;
	const struct ml_column_info *cols = ml_where_columns(&n);

	return ml_columns_parse_in(cols, n, list, ret_ids, max, ret_n, ret_bad);
}

/* A streamed raw table keeps its FLUSH_LINES lines (one reference ours)
 * and refills them after each flush; a cell keeps the malloc'ed text it
 * was given (scols_line_refer_data) and is rewritten in place when the new
 * text fits, cap[line * nids + column] bytes, so a steady batch allocates
 * nothing per address.  Other modes build the table once: new lines. */
struct ml_where_table {
	struct libscols_table *tb;
	int ids[ML_ARRAY_SIZE(columns)];
	size_t nids, pending;
	bool stream;                      /* raw, not JSON: flushed, lines reused */
	bool fitted;                      /* a terminal's default columns:
	                                     fitted to its width */
	struct libscols_line **lines;     /* FLUSH_LINES, with stream */
	uint32_t *cap;                    /* FLUSH_LINES * nids, with stream */
	struct wctx c;
	struct buf b;
};

static int json_type(enum jtype j, unsigned int flags)
{
	static const int types[] = {
		[J_STR] = SCOLS_JSON_STRING, [J_SIZE] = SCOLS_JSON_STRING,
		[J_NUM] = SCOLS_JSON_NUMBER,
		/* an empty cell (unmapped, no pagemap) is null, not false */
		[J_BOOL] = SCOLS_JSON_BOOLEAN_OPTIONAL,
		[J_ARRAY] = SCOLS_JSON_ARRAY_STRING,
	};
	if (j == J_SIZE && (flags & ML_OUT_BYTES))
		return SCOLS_JSON_NUMBER;
	return types[j];
}

static int add_columns(struct ml_where_table *t)
{
	for (size_t i = 0; i < t->nids; i++) {
		const struct column *col = &columns[t->ids[i]];
		int fl = col->right ? SCOLS_FL_RIGHT : t->fitted && col->fit.min ? SCOLS_FL_TRUNC : 0;
		struct libscols_column *cl = scols_table_new_column(t->tb, col->info.name,
			col->info.whint, fl);

		if (!cl)
			return -ENOMEM;
		scols_column_set_json_type(cl, json_type(col->json, t->c.flags));
		if (col->json == J_ARRAY && (t->c.flags & ML_OUT_JSON)) {
			scols_column_set_flags(cl, SCOLS_FL_WRAP);
			scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize,
						  scols_wrapnl_nextchunk, NULL);
		}
	}
	return 0;
}

int ml_where_table_new(FILE *out, const struct ml_table_opts *opts,
		       struct ml_where_table **ret)
{
	struct ml_where_table *t = calloc(1, sizeof(*t));
	bool json = opts->flags & ML_OUT_JSON;

	if (!t || !(t->tb = scols_new_table())) {
		free(t);
		return -ENOMEM;
	}
	t->c.flags = opts->flags;
	t->b.heap = true;   /* grows on the heap from nothing */
	if (opts->columns) {
		t->nids = opts->ncolumns < ML_ARRAY_SIZE(t->ids) ? opts->ncolumns : ML_ARRAY_SIZE(t->ids);
		memcpy(t->ids, opts->columns, t->nids * sizeof(int));
	} else {
		for (size_t i = 0; i < ML_ARRAY_SIZE(columns); i++)
			if (json || columns[i].info.is_default)
				t->ids[t->nids++] = (int)i;
	}
	scols_table_set_stream(t->tb, out);
	scols_table_enable_json(t->tb, json);
	scols_table_enable_raw(t->tb, !!(opts->flags & ML_OUT_RAW));
	scols_table_enable_noheadings(t->tb, !!(opts->flags & ML_OUT_NOHEADINGS));
	scols_table_set_name(t->tb, "addresses");
	t->fitted = (opts->flags & ML_OUT_TERM) && !opts->columns &&
		    !(opts->flags & (ML_OUT_JSON | ML_OUT_RAW));
	if (t->fitted)
		scols_table_set_termforce(t->tb, SCOLS_TERMFORCE_ALWAYS);
	t->stream = (opts->flags & (ML_OUT_RAW | ML_OUT_JSON)) == ML_OUT_RAW;
	if (t->stream && (!(t->lines = calloc(FLUSH_LINES, sizeof(*t->lines))) ||
			  !(t->cap = calloc(FLUSH_LINES * (t->nids ? t->nids : 1), sizeof(*t->cap))))) {
		ml_where_table_free(t);
		return -ENOMEM;
	}
	if (add_columns(t) < 0) {
		ml_where_table_free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void ml_where_table_free(struct ml_where_table *t)
{
	if (!t)
		return;
	scols_unref_table(t->tb);
	for (size_t i = 0; t->lines && i < FLUSH_LINES; i++)
		scols_unref_line(t->lines[i]);
	free(t->lines);
	free(t->cap);
	free(t->b.s);
	free(t);
}

/* Print the lines so far and drop them (raw output only). */
static int flush(struct ml_where_table *t)
{
	int r = ml_scols_print(t->tb);

	scols_table_remove_lines(t->tb);
	scols_table_enable_noheadings(t->tb, 1);
	t->pending = 0;
	return r;
}

/* The line for the next answer: a kept one when streaming. */
static struct libscols_line *next_line(struct ml_where_table *t)
{
	struct libscols_line **kept = t->stream ? &t->lines[t->pending] : NULL;

	if (kept && *kept)
		return scols_table_add_line(t->tb, *kept) < 0 ? NULL : *kept;
	struct libscols_line *ln = scols_table_new_line(t->tb, NULL);
	if (ln && kept) {
		scols_ref_line(ln);
		*kept = ln;
	}
	return ln;
}

/* Cell k of ln gets the text in t->b ("" if none). */
static int set_cell(struct ml_where_table *t, struct libscols_line *ln, size_t k)
{
	uint32_t *cap = t->stream ? &t->cap[t->pending * t->nids + k] : NULL;
	size_t need = t->b.len + 1, size;
	char *d;

	if (t->b.oom)
		return -ENOMEM;
	if (cap && need <= *cap) {   /* our own buffer, handed over earlier */
		d = (char *)scols_cell_get_data(scols_line_get_cell(ln, k));
		memcpy(d, t->b.len ? t->b.s : "", need);
		return 0;
	}
	if (t->b.len == 0)
		return 0;                /* a fresh cell is empty already */
	size = need < 32 ? 32 : need;
	if (!(d = malloc(size)))
		return -ENOMEM;
	memcpy(d, t->b.s, need);
	if (scols_line_refer_data(ln, k, d) < 0) {
		free(d);
		return -ENOMEM;
	}
	if (cap)
		*cap = (uint32_t)size;
	return 0;
}

int ml_where_table_add(struct ml_where_table *t, const struct ml_where *w)
{
	struct libscols_line *ln = next_line(t);
	int r;

	if (!ln)
		return -ENOMEM;
	for (size_t k = 0; k < t->nids; k++) {
		t->b.len = 0;
		if (!columns[t->ids[k]].fn(&t->b, w, &t->c, true))
			t->b.len = 0;
		if ((r = set_cell(t, ln, k)) < 0)
			return r;
	}
	if (t->stream && ++t->pending == FLUSH_LINES)
		return flush(t);
	return 0;
}

/* On a terminal: objects by their shortest unambiguous names among the
 * answers, the columns fitted to its width. */
static int fit_term(struct ml_where_table *t)
{
	struct ml_fit fit[ML_ARRAY_SIZE(columns)];
	int r = 0;

	for (size_t i = 0; i < t->nids; i++) {
		fit[i] = columns[t->ids[i]].fit;
		if (columns[t->ids[i]].fn == f_object && r == 0)
			r = ml__scols_label_column(t->tb, i);
	}
	return r ? r : ml_scols_fit(t->tb, fit, t->nids);
}

int ml_where_table_finish(struct ml_where_table *t)
{
	int r = t->fitted ? fit_term(t) : 0;

	if (r == 0 && (t->pending || !(t->c.flags & ML_OUT_RAW) || (t->c.flags & ML_OUT_JSON)))
		r = ml_scols_print(t->tb);

	ml_where_table_free(t);
	return r;
}
