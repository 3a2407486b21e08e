/* SPDX-License-Identifier: MIT */
/*
 * render-where.c - the answers of ml_where_explain() as text: a readable
 * block per address, or a table / JSON through the column engine
 * (columns.c: ml_table_print).
 *
 * Both read the same field texts: block_lines[] says which lines a block
 * has (a line whose function writes nothing is left out), columns[] which
 * columns the table may have (-o, --list-columns, JSON types), each cell a
 * field text or a value.  Text the target controls (paths, symbol, section
 * and source file names) is escaped: ml_escape(ML_ESC_TERM) in blocks; in
 * a table its columns are ML_COL_TEXT, escaped by the engine.
 */
#include "ml-where.h"
#include "format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLUSH_LINES 4096   /* raw tables are printed this many lines at a time */

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

/* Target-controlled text: escaped for the terminal in a block; as it is
 * in a table cell (ML_COL_TEXT: the engine escapes it). */
static void btext(struct buf *b, const char *s, bool table)
{
	size_t n = table ? strlen(s) : plain_len(s);
	char *e;

	if (n != SIZE_MAX) {
		bmem(b, s, n);
		return;
	}
	e = ml_escape(s, ML_ESC_TERM);
	bstr(b, e ? e : "?");
	free(e);
}

/* A size: human ("4.0K"), or in bytes with ML_OUT_BYTES. */
static void bsize(struct buf *b, uint64_t v, unsigned int fl)
{
	if (bgrow(b, 32))
		bend(b, ml__put_size(b->s + b->len, v, fl));
}

/* ---- field texts, shared by blocks and tables ----
 * Each appends to b and returns whether it had something to say; fl:
 * ML_OUT_*; t (table): the text is for a cell (short, target text as it
 * is) rather than a block line. */
typedef bool (*field_fn)(struct buf *b, const struct ml_where *w, unsigned int fl, bool table);
#define FIELD(fn) static bool fn(struct buf *b, const struct ml_where *w, \
				 __attribute__((unused)) unsigned int fl, __attribute__((unused)) bool t)

/* The owner in a sentence: "heap of glibc malloc: ..." or, for a guess,
 * "anon, probably jemalloc: ...". */
FIELD(f_owner)
{
	const struct ml_region *r = w->region;
	const char *ev = r ? ml_region_owner_evidence(r) : NULL;

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

FIELD(f_device)
{
	const struct ml_region *r = w->region;

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

static const char *object_of(const struct ml_region *r)
{
	return r->object ? r->object : r->name && r->name[0] ? r->name : NULL;
}

FIELD(f_object)
{
	const char *o = w->region ? object_of(w->region) : NULL;

	if (!o)
		return false;
	btext(b, o, t);
	if (w->region->deleted)
		blit(b, " (deleted)");
	return true;
}

FIELD(f_region)
{
	char p[5];

	if (!w->region)
		return false;
	bstr(b, ml_kind_name(w->region->kind));
	bch(b, ' ');
	bmem(b, ml_perms_str(w->region->perms, p), 4);
	bch(b, ' ');
	if (f_object(b, w, fl, t))
		blit(b, " ");
	bhex(b, w->region->start);
	bch(b, '-');
	bhex(b, w->region->end);
	blit(b, " (");
	bsize(b, w->region->end - w->region->start, fl);
	blit(b, ")");
	if (w->region->tid && w->region->kind == ML_KIND_GUARD) {
		blit(b, " below the stack of thread ");
		bint(b, (int)w->region->tid);
	}
	return true;
}

FIELD(f_offsets)
{
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
	return true;
}

FIELD(f_section)
{
	if (!w->has_object || !w->sym.section)
		return false;
	btext(b, w->sym.section, t);
	if (!t) {
		blit(b, " +");
		bhex(b, w->sym.section_offset);
	}
	return true;
}

FIELD(f_symbol)
{
	if (!w->has_object || !w->sym.name) {
		if (t || !w->has_object)
			return false;
		blit(b, "none holds this address");
		return true;
	}
	btext(b, w->sym.name, t);
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

/* Source lines are looked up for code only. */
static bool code(const struct ml_where *w)
{
	return w->has_object && (w->region->perms & ML_PERM_EXEC);
}

FIELD(f_source)
{
	if (!code(w))
		return false;
	if (w->sym.file) {
		btext(b, w->sym.file, t);
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

FIELD(f_debugfile)
{
	if (!code(w) || !w->sym.debug_file || !w->sym.has_dwarf)
		return false;
	btext(b, w->sym.debug_file, t);
	return true;
}

FIELD(f_stack)
{
	if (!w->is_stack)
		return false;
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
	bsize(b, w->below_top, fl);
	blit(b, " below its top");
	if (w->sp_known) {
		bstr(b, w->addr >= w->sp ? ", above its sp " : ", below its sp ");
		bhex(b, w->sp);
		bstr(b, w->addr >= w->sp ? " (in a live frame)" : " (free: not in use now)");
	}
	blit(b, "; may grow ");
	bsize(b, w->room, fl);
	blit(b, " further before ");
	bstr(b, w->room_limit);
	return true;
}

FIELD(f_heap)
{
	if (!w->is_heap)
		return false;
	bsize(b, w->heap_offset, fl);
	blit(b, " from the heap's start, ");
	bsize(b, w->to_brk, fl);
	blit(b, " below the brk (end of [heap])");
	return true;
}

FIELD(f_hole)
{
	if (w->region)
		return false;
	bstr(b, ml_hole_name(w->hole));
	blit(b, ": ");
	bstr(b, ml_hole_description(w->hole));
	return true;
}

/* "kind object start-end, its end 12K below" (side: "end below" or
 * "start above"). */
static void neighbour(struct buf *b, const struct ml_region *r, uint64_t dist,
		      const char *edge, const char *dir, unsigned int fl, bool t)
{
	const char *o = object_of(r);

	bstr(b, ml_kind_name(r->kind));
	if (o) {
		blit(b, " ");
		btext(b, o, t);
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
	bsize(b, dist, fl);
	bch(b, ' ');
	bstr(b, dir);
}

FIELD(f_below)
{
	if (w->region || !w->below)
		return false;
	neighbour(b, w->below, w->dist_below, "end", "below", fl, t);
	return true;
}

FIELD(f_above)
{
	if (w->region || !w->above)
		return false;
	neighbour(b, w->above, w->dist_above, "start", "above", fl, t);
	return true;
}

FIELD(f_walk)
{
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

FIELD(f_page)
{
	blit(b, "VPN ");
	bhex(b, w->vpn);
	blit(b, ", offset ");
	bhex(b, w->page_offset);
	blit(b, "; walk ");
	if (!f_walk(b, w, fl, t))
		blit(b, "unknown (paging geometry not known for this process)");
	return true;
}

FIELD(f_pagesize)
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
		bsize(b, w->page_size, fl);
		if (!t)
			blit(b, " (a base page)");
		return true;
	case ML_PGSZ_HUGE:
		if (w->huge_size) {
			bsize(b, w->huge_size, fl);
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

FIELD(f_pagemap)
{
	size_t n = 0;

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

/* The frame's flags by name: a ',' between them, '\n' in JSON (an array). */
FIELD(f_kflags)
{
	size_t n = 0;
	char sep = (fl & ML_OUT_JSON) ? '\n' : ',';

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

FIELD(f_frame)
{
	if (w->pagemap_status != 0 || !(w->page.flags & (ML_PAGE_KFLAGS | ML_PAGE_MAPCOUNT)))
		return false;
	if (w->page.flags & ML_PAGE_KFLAGS) {
		blit(b, "flags ");
		if (!f_kflags(b, w, fl, t))
			bend(b, b->s + b->len - 1);   /* no flag has a name */
	}
	if (w->page.flags & ML_PAGE_MAPCOUNT) {
		bstr(b, (w->page.flags & ML_PAGE_KFLAGS) ? "; mapped " : "mapped ");
		bdec(b, w->page.mapcount);
		bstr(b, w->page.mapcount == 1 ? " time" : " times");
	}
	return true;
}

/* ---- the block ---- */

/* Labels come padded: two spaces, the label in 10 columns, a space. */
static const struct {
	const char label[ML_WHERE_LABEL_LEN + 1];
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

		bmem(&b, block_lines[i].label, ML_WHERE_LABEL_LEN);
		if (block_lines[i].fn(&b, w, flags & ~ML_OUT_JSON, false))
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

/* A cell from a field text (its table form), built in buf while it fits. */
static char *field_cell(field_fn fn, const void *row, unsigned int fl, char *buf)
{
	struct buf b = { buf, 0, ML_CELL_BUF, false, false };

	buf[0] = '\0';
	if (fn(&b, row, fl, true) && !b.oom)
		return b.s;
	if (b.heap)
		free(b.s);
	errno = b.oom ? ENOMEM : 0;
	return NULL;
}

/* A string of ours as a cell: in buf, or a copy when longer. */
static char *str_cell(char *buf, const char *s)
{
	size_t n = strlen(s);

	return n < ML_CELL_BUF ? memcpy(buf, s, n + 1) : strdup(s);
}

/* Cell fn: the table form of field f, or text (a ml_fmt_* into buf, or
 * str_cell) where has holds, else empty. */
#define FIELD_CELL(fn, f)                                                              \
	static char *fn(const void *row, const void *ctx, unsigned int fl, char *buf) \
	{                                                                              \
		(void)ctx;                                                             \
		return field_cell(f, row, fl, buf);                                    \
	}
#define VALUE_CELL(fn, has, text)                                                      \
	static char *fn(const void *row, const void *ctx, unsigned int fl, char *buf) \
	{                                                                              \
		const struct ml_where *w = row;                                        \
		(void)ctx; (void)fl;                                                   \
		return (has) ? (text) : NULL;                                          \
	}
#define PAGE (w->pagemap_status == 0)
#define SYM (w->has_object && w->sym.name)
#define FLAG(f) str_cell(buf, (w->page.flags & (f)) ? "1" : "0")

VALUE_CELL(c_addr, true, ml_fmt_hex(buf, w->addr))
VALUE_CELL(c_kind, true, str_cell(buf, w->region ? ml_kind_name(w->region->kind) : "unmapped"))
VALUE_CELL(c_perms, w->region, ml_perms_str(w->region->perms, buf))
VALUE_CELL(c_allocator, w->region && ml_region_allocator(w->region),
	   str_cell(buf, ml_region_allocator(w->region)))
FIELD_CELL(c_object, f_object)
VALUE_CELL(c_start, w->region, ml_fmt_hex(buf, w->region->start))
VALUE_CELL(c_end, w->region, ml_fmt_hex(buf, w->region->end))
VALUE_CELL(c_mapoff, w->region, ml_fmt_hex(buf, w->map_offset))
VALUE_CELL(c_fileoff, w->has_file_offset, ml_fmt_hex(buf, w->file_offset))
FIELD_CELL(c_section, f_section)
VALUE_CELL(c_secoff, w->has_object && w->sym.section, ml_fmt_hex(buf, w->sym.section_offset))
FIELD_CELL(c_symbol, f_symbol)
VALUE_CELL(c_symoff, SYM, ml_fmt_hex(buf, w->sym.offset))
VALUE_CELL(c_symtab, SYM, str_cell(buf, w->sym.table))
FIELD_CELL(c_source, f_source)
FIELD_CELL(c_debugfile, f_debugfile)
VALUE_CELL(c_buildid, w->has_object && w->sym.build_id, str_cell(buf, w->sym.build_id))
VALUE_CELL(c_stack, w->is_stack, ml_fmt_u64(buf, (uint64_t)w->stack_tid))
VALUE_CELL(c_belowtop, w->is_stack, ml_fmt_size(buf, w->below_top, fl))
VALUE_CELL(c_sp, w->sp_known, ml_fmt_hex(buf, w->sp))
VALUE_CELL(c_room, w->is_stack, ml_fmt_size(buf, w->room, fl))
VALUE_CELL(c_roomlimit, w->is_stack, str_cell(buf, w->room_limit))
VALUE_CELL(c_heapoff, w->is_heap, ml_fmt_size(buf, w->heap_offset, fl))
VALUE_CELL(c_tobrk, w->is_heap, ml_fmt_size(buf, w->to_brk, fl))
VALUE_CELL(c_hole, !w->region, str_cell(buf, ml_hole_name(w->hole)))
FIELD_CELL(c_below, f_below)
VALUE_CELL(c_belowdist, !w->region && w->below, ml_fmt_size(buf, w->dist_below, fl))
FIELD_CELL(c_above, f_above)
VALUE_CELL(c_abovedist, !w->region && w->above, ml_fmt_size(buf, w->dist_above, fl))
VALUE_CELL(c_vpn, true, ml_fmt_hex(buf, w->vpn))
VALUE_CELL(c_pgoff, true, ml_fmt_hex(buf, w->page_offset))
FIELD_CELL(c_walk, f_walk)
FIELD_CELL(c_pagesize, f_pagesize)
/* Per-flag cells: 1 or 0, as lsblk's RO (JSON booleans); empty, and
 * null in JSON, when pagemap was not read (unmapped, --no-pagemap). */
VALUE_CELL(c_present, PAGE, FLAG(ML_PAGE_PRESENT))
VALUE_CELL(c_swapped, PAGE, FLAG(ML_PAGE_SWAPPED))
VALUE_CELL(c_fileshared, PAGE, FLAG(ML_PAGE_FILE_SHARED))
VALUE_CELL(c_exclusive, PAGE, FLAG(ML_PAGE_EXCLUSIVE))
VALUE_CELL(c_guardpg, PAGE, FLAG(ML_PAGE_GUARD))
VALUE_CELL(c_softdirty, PAGE, FLAG(ML_PAGE_SOFT_DIRTY))
VALUE_CELL(c_pfn, PAGE && w->has_phys, ml_fmt_hex(buf, w->page.pfn))
VALUE_CELL(c_phys, PAGE && w->has_phys, ml_fmt_hex(buf, w->phys))
FIELD_CELL(c_kflags, f_kflags)
VALUE_CELL(c_mapcount, PAGE && (w->page.flags & ML_PAGE_MAPCOUNT), ml_fmt_u64(buf, w->page.mapcount))
#undef FLAG
#undef SYM
#undef PAGE

/* name, width hint, default, help, type, cell, terminal fit; HEX, SIZE
 * and NUM right-aligned, the flag cells (BOOL) left as lsblk's RO. */
#define COL(name, whint, def, help, type, fn, ...) \
	{ name, whint, type == ML_COL_SIZE, false, def, help, type, fn, __VA_ARGS__ }
#define FLAGCOL(name, def, help, fn, ...) \
	{ name, 5, false, false, def, help, ML_COL_BOOL, fn, __VA_ARGS__, NULL, .left = true }
static const struct ml_column_info columns[] = {
	COL("ADDR",      0.10, true,  "the address", ML_COL_HEX, c_addr),
	COL("KIND",      0.06, true,  "kind of region, or unmapped", ML_COL_STR, c_kind),
	COL("PERMS",     5,    true,  "permissions of the region", ML_COL_STR, c_perms, { 5, 0 }),
	COL("ALLOCATOR", 0.06, false, "whose heap memory it is (\"probably\" for a guess)", ML_COL_STR, c_allocator),
	COL("OBJECT",    0.20, true,  "the object the region belongs to", ML_COL_TEXT, c_object, { 0, 20 },
	    NULL, .label = true),
	COL("START",     0.10, false, "start of the region", ML_COL_HEX, c_start),
	COL("END",       0.10, false, "end of the region (exclusive)", ML_COL_HEX, c_end),
	COL("MAPOFF",    0.08, false, "offset in the mapping", ML_COL_HEX, c_mapoff),
	COL("FILEOFF",   0.08, false, "offset in the mapped file", ML_COL_HEX, c_fileoff),
	COL("SECTION",   0.08, true,  "ELF section holding the address", ML_COL_TEXT, c_section, { 4, 0 }),
	COL("SECOFF",    0.08, false, "offset in the section", ML_COL_HEX, c_secoff),
	COL("SYMBOL",    0.15, true,  "symbol holding the address", ML_COL_TEXT, c_symbol, { 0, 24 }),
	COL("SYMOFF",    0.06, true,  "offset in the symbol", ML_COL_HEX, c_symoff, { 2, 0 }),
	COL("SYMTAB",    5,    false, "table the symbol came from (.symtab, .dynsym)", ML_COL_STR, c_symtab),
	COL("SOURCE",    0.15, true,  "source file:line (code with DWARF)", ML_COL_TEXT, c_source, { 6, 16 }),
	COL("DEBUGINFO", 0.15, false, "file the DWARF came from", ML_COL_TEXT, c_debugfile),
	COL("BUILDID",   0.10, false, "build-id of the object", ML_COL_STR, c_buildid),
	COL("STACK",     5,    false, "thread whose stack holds the address", ML_COL_NUM, c_stack),
	COL("BELOWTOP",  5,    false, "distance below the top of the stack", ML_COL_SIZE, c_belowtop),
	COL("SP",        0.10, false, "that thread's stack pointer", ML_COL_HEX, c_sp),
	COL("ROOM",      5,    false, "how much further the stack may grow", ML_COL_SIZE, c_room),
	COL("ROOMLIMIT", 0.08, false, "what stops it (RLIMIT_STACK, guard gap, guard page)", ML_COL_STR, c_roomlimit),
	COL("HEAPOFF",   5,    false, "offset from the start of the heap", ML_COL_SIZE, c_heapoff),
	COL("TOBRK",     5,    false, "distance to the brk", ML_COL_SIZE, c_tobrk),
	COL("HOLE",      0.08, true,  "kind of hole an unmapped address is in", ML_COL_STR, c_hole, { 3, 0 }),
	COL("BELOW",     0.10, false, "nearest region below (unmapped)", ML_COL_TEXT, c_below),
	COL("BELOWDIST", 5,    false, "bytes past its end", ML_COL_SIZE, c_belowdist),
	COL("ABOVE",     0.10, false, "nearest region above (unmapped)", ML_COL_TEXT, c_above),
	COL("ABOVEDIST", 5,    false, "bytes to its start", ML_COL_SIZE, c_abovedist),
	COL("VPN",       0.08, false, "virtual page number", ML_COL_HEX, c_vpn),
	COL("PGOFF",     5,    false, "offset in the page", ML_COL_HEX, c_pgoff),
	COL("WALK",      0.12, false, "page-table index at each level", ML_COL_STR, c_walk),
	COL("PAGESIZE",  5,    false, "size of the page that maps it", ML_COL_STR, c_pagesize),
	FLAGCOL("PRESENT",    true,  "the page is in RAM", c_present, { 7, 0 }),
	FLAGCOL("SWAPPED",    false, "the page is in swap", c_swapped, { 0, 0 }),
	FLAGCOL("FILESHARED", false, "a file page or shared anonymous", c_fileshared, { 0, 0 }),
	FLAGCOL("EXCLUSIVE",  false, "mapped by this process only", c_exclusive, { 0, 0 }),
	FLAGCOL("GUARDPG",    false, "a guard-region marker (MADV_GUARD_INSTALL)", c_guardpg, { 0, 0 }),
	FLAGCOL("SOFTDIRTY",  false, "soft-dirty", c_softdirty, { 0, 0 }),
	COL("PFN",       0.08, false, "physical frame number (root)", ML_COL_HEX, c_pfn),
	COL("PHYS",      0.10, false, "physical address (root)", ML_COL_HEX, c_phys),
	COL("KFLAGS",    0.15, false, "flags of the frame (/proc/kpageflags, root)", ML_COL_ARRAY, c_kflags),
	COL("MAPCOUNT",  5,    false, "times the frame is mapped (/proc/kpagecount, root)", ML_COL_NUM, c_mapcount),
};
#undef FLAGCOL
#undef COL

const struct ml_column_info *ml_where_columns(size_t *ret_n)
{
	*ret_n = ML_ARRAY_SIZE(columns);
	return columns;
}

int ml_where_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad)
{
	return ml_columns_parse_in(columns, ML_ARRAY_SIZE(columns), list, ret_ids, max, ret_n, ret_bad);
}

/* The answers so far, printed by the engine at the end; a raw table (not
 * JSON) is printed every FLUSH_LINES answers instead, its headings once,
 * so a batch of any length takes bounded memory.  The answers' pointers
 * (snapshot, symbolizer) outlive the table. */
struct ml_where_table {
	FILE *out;
	unsigned int flags;               /* ML_OUT_*; NOHEADINGS after a flush */
	int ids[ML_ARRAY_SIZE(columns)];
	size_t nids;                      /* 0: the default set (JSON: every column) */
	bool stream;                      /* raw, not JSON */
	struct ml_where *rows;
	size_t nrows, cap;
};

int ml_where_table_new(FILE *out, const struct ml_table_opts *opts,
		       struct ml_where_table **ret)
{
	struct ml_where_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->out = out;
	t->flags = opts->flags;
	t->stream = (opts->flags & (ML_OUT_RAW | ML_OUT_JSON)) == ML_OUT_RAW;
	if (opts->columns) {
		t->nids = opts->ncolumns < ML_ARRAY_SIZE(t->ids) ? opts->ncolumns : ML_ARRAY_SIZE(t->ids);
		memcpy(t->ids, opts->columns, t->nids * sizeof(int));
	}
	*ret = t;
	return 0;
}

void ml_where_table_free(struct ml_where_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

/* Print the answers held and drop them. */
static int print_rows(struct ml_where_table *t)
{
	struct ml_table tb = { "addresses", columns, ML_ARRAY_SIZE(columns),
			       t->nids ? t->ids : NULL, t->nids, t->rows, sizeof(*t->rows),
			       t->nrows, NULL, NULL, true };
	int r = ml_table_print(t->out, t->flags, &tb);

	t->flags |= ML_OUT_NOHEADINGS;
	t->nrows = 0;
	return r;
}

int ml_where_table_add(struct ml_where_table *t, const struct ml_where *w)
{
	if (ML__RESERVE(t->rows, t->cap, t->nrows + 1) < 0)
		return -ENOMEM;
	t->rows[t->nrows++] = *w;
	if (t->stream && t->nrows == FLUSH_LINES)
		return print_rows(t);
	return 0;
}

int ml_where_table_finish(struct ml_where_table *t)
{
	int r = t->nrows || !t->stream ? print_rows(t) : 0;

	ml_where_table_free(t);
	return r;
}
