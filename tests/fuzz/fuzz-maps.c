/* SPDX-License-Identifier: MIT */
/*
 * fuzz-maps.c - libFuzzer target for what a target process controls: the
 * maps/smaps parser, the classifier and renderers fed by it, name decoding
 * and escaping.
 *
 * Input: byte 0 holds flags (below); the rest is the text of a maps or
 * smaps file.  Each input is
 *  1. parsed with ml__maps_parse_buffer() into a calloc'ed snapshot with
 *     plausible process facts; if it parses, classified (basic kinds, then
 *     thread stacks for one made-up thread) and rendered: the region table
 *     with the default and with every column, as a table and as JSON, the
 *     per-kind summary and the diagram, all to /dev/null;
 *  2. decoded with ml__decode_name() (exact-size copy, so ASan sees any
 *     write past it) and checked: the result is no longer than the input,
 *     NUL-terminated, and " (deleted)" was taken off iff it was there;
 *  3. escaped with ml_escape() in both modes and checked: the result is
 *     valid UTF-8, and in terminal mode holds no C0/C1 control or DEL.
 * With FZ_GEN set in byte 0 the rest is not maps text but the choices of
 * a generator (generate_and_check): it writes up to 64 well-formed maps
 * lines from fields it picked (gaps, sizes, permissions, offset, device,
 * inode, a name of any byte but NUL and backslash, written as the kernel
 * does: newline as \012, " (deleted)" after an unlinked file's name) and
 * checks each parsed region against the fields it wrote.  The expected
 * values are known by construction, not computed by a second parser.
 * A failed check calls abort(), which libFuzzer reports as a crash.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-maps' on corpus/.
 */
#include "ml-private.h"
#include "fuzz-common.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	FZ_SMAPS  = 1 << 0,   /* parse as smaps */
	FZ_32BIT  = 1 << 1,   /* a 32-bit process */
	FZ_BYTES  = 1 << 2,   /* ML_OUT_BYTES */
	FZ_COLOR  = 1 << 3,   /* ML_OUT_COLOR (diagram) */
	FZ_RAW    = 1 << 4,   /* ML_OUT_RAW | ML_OUT_NOHEADINGS for the table */
	FZ_THREAD = 1 << 5,   /* one thread whose sp is in the middle region */
	FZ_NOLIM  = 1 << 6,   /* RLIMIT_STACK unlimited */
	FZ_GEN    = 1 << 7,   /* the rest drives the maps generator */
};

static void set_facts(struct ml_snapshot *snap, unsigned int fl)
{
	struct ml_proc *p = &snap->proc;

	p->pid = 4242;
	snprintf(p->comm, sizeof(p->comm), "fuzz");
	p->is_32bit = fl & FZ_32BIT;
	p->page_size = 4096;
	p->mmap_min_addr = 0x10000;
	p->stack_rlimit = (fl & FZ_NOLIM) ? UINT64_MAX : 8u << 20;
	p->paging_levels = 4;
	p->user_top = p->is_32bit ? 0xffffe000u : 0x7ffffffff000u;
	p->kernel_start = p->is_32bit ? 0x100000000u : 0xffff800000000000u;
}

/* One thread whose stack pointer lies in the middle region. */
static void add_thread(struct ml_snapshot *snap)
{
	const struct ml_region *r;

	if (!snap->nregions)
		return;
	snap->threads = calloc(1, sizeof(*snap->threads));
	if (!snap->threads)
		return;
	r = &snap->regions[snap->nregions / 2];
	snap->threads[0].tid = 4243;
	snap->threads[0].sp_known = true;
	snap->threads[0].sp = r->start + (r->end - r->start) / 2;
	snap->threads[0].syscall_nr = -1;
	snap->nthreads = 1;
}

static void render_all(const struct ml_snapshot *snap, unsigned int fl)
{
	int all[64];
	size_t ncols;
	unsigned int out = (fl & FZ_BYTES) ? ML_OUT_BYTES : 0;
	struct ml_mark marks[2] = { { 0, "first" }, { 0, "x\033[2J" } };

	ml_columns(&ncols);
	if (ncols > ML_ARRAY_SIZE(all))
		abort();
	for (size_t i = 0; i < ncols; i++)
		all[i] = (int)i;
	if (fl & FZ_RAW)
		out |= ML_OUT_RAW | ML_OUT_NOHEADINGS;

	const struct ml_table_opts tables[] = {
		{ NULL, 0, out },
		{ all, ncols, out },
		{ NULL, 0, (out & ~ML_OUT_RAW) | ML_OUT_JSON },
		{ all, ncols, (out & ~ML_OUT_RAW) | ML_OUT_JSON },
	};
	for (size_t i = 0; i < ML_ARRAY_SIZE(tables); i++)
		ml_render_regions(snap, devnull(), &tables[i]);
	ml_render_summary(snap, devnull(), &tables[0]);
	ml_render_summary(snap, devnull(), &tables[2]);

	if (snap->nregions) {
		marks[0].addr = snap->regions[0].start;
		marks[1].addr = snap->regions[snap->nregions - 1].end - 1;
	}
	struct ml_diagram_opts d = { out | ((fl & FZ_COLOR) ? ML_OUT_COLOR : 0),
				     marks, ML_ARRAY_SIZE(marks), 0 };
	ml_render_diagram(snap, devnull(), &d);
}

static void fuzz_parser(const char *text, size_t len, unsigned int fl)
{
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));

	if (!snap)
		return;
	set_facts(snap, fl);
	if (ml__maps_parse_buffer(snap, text, len, fl & FZ_SMAPS) == 0) {
		/* The invariant the model relies on. */
		for (size_t i = 0; i < snap->nregions; i++)
			if (snap->regions[i].start >= snap->regions[i].end ||
			    (i && snap->regions[i].start < snap->regions[i - 1].end))
				abort();
		ml__classify_basic(snap);
		if (fl & FZ_THREAD)
			add_thread(snap);
		ml__classify_threads(snap);
		render_all(snap, fl);
	}
	ml_snapshot_free(snap);
}

static void fuzz_decode(const char *text, size_t len)
{
	static const char del[] = " (deleted)";
	size_t dl = sizeof(del) - 1;
	char *s = malloc(len + 1);
	bool deleted = false;

	if (!s)
		return;
	memcpy(s, text, len);
	s[len] = 'Z';   /* must be overwritten by the terminating NUL */
	size_t n = ml__decode_name(s, len, &deleted);
	if (n > len || s[n] != '\0' ||
	    deleted != (len > dl && memcmp(text + len - dl, del, dl) == 0))
		abort();
	free(s);
}

/* Length of the valid UTF-8 sequence at p, or 0 (RFC 3629). */
static size_t utf8_ok(const unsigned char *p)
{
	unsigned int c = p[0], n, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (unsigned int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static void check_escaped(const char *e, enum ml_escape mode)
{
	const unsigned char *p = (const unsigned char *)e;

	while (*p) {
		size_t n = utf8_ok(p);
		if (!n)
			abort();
		if (mode == ML_ESC_TERM && (*p < 0x20 || *p == 0x7f ||
					    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)))
			abort();   /* C0, DEL or C1 control reached the terminal */
		p += n;
	}
}

static void fuzz_escape(const char *text, size_t len)
{
	static const enum ml_escape modes[] = { ML_ESC_TERM, ML_ESC_JSON_SAFE };
	char *s = malloc(len + 1);

	if (!s)
		return;
	memcpy(s, text, len);
	s[len] = '\0';
	for (size_t i = 0; i < ML_ARRAY_SIZE(modes); i++) {
		char *e = ml_escape(s, modes[i]);
		if (e)
			check_escaped(e, modes[i]);
		free(e);
	}
	free(s);
}


/* ---- the generator: maps lines from known fields ---- */

struct gen_in { const uint8_t *p; size_t n; };

static unsigned int take(struct gen_in *g)
{
	if (!g->n)
		return 0;
	g->n--;
	return *g->p++;
}

static uint64_t take_bits(struct gen_in *g, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | take(g);
	return v;
}

struct gen_region {
	uint64_t start, end, offset, inode;
	unsigned int perms, major, minor;
	bool deleted;
	char name[80];
	size_t nlen;
};

/* A name byte: anything but NUL and backslash (the kernel escapes only
 * newline, as \012, which this generator writes). */
static char name_byte(unsigned int b)
{
	return (b == 0 || b == '\\') ? 'n' : (char)b;
}

static void gen_one(struct gen_in *g, uint64_t *addr, struct gen_region *r)
{
	unsigned int pf = take(g), nl = take(g) % 48;

	*addr += ((uint64_t)take(g) + (pf & 0x10 ? 0 : 1)) << 12;    /* gap, 0 allowed */
	r->start = *addr;
	r->end = r->start + (((uint64_t)take(g) + 1) << 12);
	*addr = r->end;
	r->perms = (pf & 1 ? ML_PERM_READ : 0) | (pf & 2 ? ML_PERM_WRITE : 0) |
		   (pf & 4 ? ML_PERM_EXEC : 0) | (pf & 8 ? ML_PERM_SHARED : 0);
	r->offset = take_bits(g, 3) << 12;
	r->major = take(g);
	r->minor = take(g);
	r->inode = take_bits(g, 5);
	r->nlen = 0;
	for (size_t i = 0; i < nl; i++)
		r->name[r->nlen++] = name_byte(take(g));
	/* no blank first (maps pads names with blanks) or last (" (deleted)") */
	if (r->nlen && r->name[0] == ' ')
		r->name[0] = '/';
	if (r->nlen && (r->name[r->nlen - 1] == ' ' || r->name[r->nlen - 1] == ')'))
		r->name[r->nlen - 1] = '_';   /* nor a " (deleted)" of its own */
	r->name[r->nlen] = '\0';
	r->deleted = r->nlen && (pf & 0x20);
}

/* The line as the kernel writes it (show_map_vma: fields, then blanks
 * to column 73, then the name). */
static void gen_line(FILE *f, const struct gen_region *r)
{
	int n = fprintf(f, "%" PRIx64 "-%" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
			r->start, r->end, r->perms & ML_PERM_READ ? 'r' : '-',
			r->perms & ML_PERM_WRITE ? 'w' : '-', r->perms & ML_PERM_EXEC ? 'x' : '-',
			r->perms & ML_PERM_SHARED ? 's' : 'p', r->offset, r->major, r->minor, r->inode);
	if (r->nlen) {
		for (; n < 73; n++)
			fputc(' ', f);
		for (size_t i = 0; i < r->nlen; i++)
			if (r->name[i] == '\n')
				fputs("\\012", f);
			else
				fputc(r->name[i], f);
		if (r->deleted)
			fputs(" (deleted)", f);
	}
	fputc('\n', f);
}

static void generate_and_check(const uint8_t *data, size_t size, unsigned int fl)
{
	struct gen_in g = { data, size };
	struct gen_region want[64];
	size_t n = take(&g) % 64 + 1, len = 0;
	uint64_t addr = 0x10000;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));

	if (!f || !snap)
		abort();
	for (size_t i = 0; i < n; i++) {
		gen_one(&g, &addr, &want[i]);
		gen_line(f, &want[i]);
	}
	fclose(f);
	set_facts(snap, fl);
	if (ml__maps_parse_buffer(snap, text, len, false) != 0 || snap->nregions != n)
		abort();   /* well-formed lines, sorted and disjoint, must parse whole */
	for (size_t i = 0; i < n; i++) {
		const struct ml_region *r = &snap->regions[i];
		const struct gen_region *w = &want[i];
		if (r->start != w->start || r->end != w->end || r->offset != w->offset ||
		    r->inode != w->inode || r->perms != w->perms || r->dev_major != w->major ||
		    r->dev_minor != w->minor || r->deleted != w->deleted ||
		    strlen(r->name) != w->nlen || memcmp(r->name, w->name, w->nlen))
			abort();
	}
	ml_snapshot_free(snap);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	if (data[0] & FZ_GEN) {
		generate_and_check(data + 1, size - 1, data[0]);
		return 0;
	}

	fuzz_parser(text, len, data[0]);
	fuzz_decode(text, len);
	fuzz_escape(text, len);
	return 0;
}
