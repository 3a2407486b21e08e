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
 * A failed check calls abort(), which libFuzzer reports as a crash.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-maps' on corpus/.
 */
#include "ml-private.h"
#include "fuzz-common.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	fuzz_parser(text, len, data[0]);
	fuzz_decode(text, len);
	fuzz_escape(text, len);
	return 0;
}
