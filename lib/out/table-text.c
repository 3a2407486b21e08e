/* SPDX-License-Identifier: MIT */
/*
 * table-text.c - a bulk writer for tables of plain ASCII text that are not
 * going to a terminal: the same bytes libsmartcols (2.38) prints for them,
 * at a tenth of the cost.
 *
 * libsmartcols is the table engine of memlayout: it defines the columns,
 * fits tables to the terminal, writes JSON and encodes whatever a target
 * controls.  For a 20,000-region table sent to a pipe or a file it spends
 * most of its time on work that plain ASCII does not need: three passes of
 * mbrtowc/iswprint/wcwidth over every byte, and a strdup and an fputs per
 * cell.  This writer takes only what it can print exactly as libsmartcols
 * would -- cells of bytes 0x20..0x7e other than '\', human or raw format,
 * stdout not a terminal, at least one line -- and refuses (-EILSEQ) at the
 * first byte it cannot, before it writes anything; the caller then prints
 * through libsmartcols.
 *
 * The rules copied (libsmartcols/src/calculate.c and print.c, non-terminal):
 * a column is as wide as its widest cell, at least as wide as its header
 * (minimum 1), else, if narrower than an absolute width hint (>= 1) that
 * the header is also narrower than, as wide as the hint; cells are padded
 * with spaces, right-aligned ones on the left; nothing follows the last
 * cell of a line but "\n" (a right-aligned one is still padded on its
 * left); one space between columns.  Raw format: no padding, and blanks
 * written as "\x20".  tests/unit/test-table-text.c prints the same tables
 * both ways and compares the bytes, golden-terminal the views' tables,
 * against the libsmartcols installed.
 *
 * How: every cell is made once, a row at a time, checked, measured and
 * kept (its length, then its bytes); then each line is laid out at fixed
 * column offsets in the output buffer and written.  One thread: a second
 * one for half the rows gained nothing on average on a 2-CPU VM, where the
 * new thread often waited on its creator's CPU until the creator was done
 * (bench/README.md, session 4).
 */
#include "ml-out.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Some byte of v is zero (the classic bit trick: the bits it sets may be
 * off, but whether it sets any is exact). */
static inline uint64_t has_zero(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

/* Bytes printed as they are in both formats: printable ASCII except '\'
 * (libsmartcols encodes "\x" in human format and every '\' in raw).
 * Eight bytes at a time: none >= 0x80, none < 0x20, no 0x7f, no '\'. */
static bool plain(const char *s, size_t n)
{
	size_t k = 0;

	for (; k + 8 <= n; k += 8) {
		uint64_t w;
		memcpy(&w, s + k, 8);
		if ((w & HIGHS) || ((w - 0x20 * ONES) & ~w & HIGHS) ||
		    has_zero(w ^ (0x7f * ONES)) || has_zero(w ^ ('\\' * ONES)))
			return false;
	}
	for (; k < n; k++) {
		unsigned char b = (unsigned char)s[k];
		if (b < 0x20 || b > 0x7e || b == '\\')
			return false;
	}
	return true;
}

/* n bytes from s to d, short copies inline (most cells are 1 to 16
 * bytes): two overlapping loads and stores instead of a call; reads and
 * writes nothing outside [s, s + n) and [d, d + n). */
static inline void copy(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n < 4) {
		for (size_t k = 0; k < n; k++)
			d[k] = s[k];
	} else {
		memcpy(d, s, n);
	}
}

/* The output, built a line at a time in a buffer with room for the line,
 * flushed to f as it fills. */
struct out {
	FILE *f;
	char *buf;
	size_t len, cap;
	bool huge;
	int err;
};

static void flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = -EIO;
	o->len = 0;
}

/* Room for need more bytes; the write position, or NULL on ENOMEM. */
static char *room(struct out *o, size_t need)
{
	if (o->len + need > o->cap) {
		void *p = o->buf;
		flush(o);
		if (need > o->cap && ml__grow(&p, &o->cap, &o->huge, 0, need) < 0)
			return NULL;
		o->buf = p;
	}
	return o->buf + o->len;
}

/* Raw format: blanks as "\x20" (nothing else in a plain cell needs it). */
static char *put_raw(char *p, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (s[k] == ' ') {
			memcpy(p, "\\x20", 4);
			p += 4;
		} else {
			*p++ = s[k];
		}
	}
	return p;
}

/* The columns once the widest cells are known: their widths and where
 * each one's cells start in a line. */
struct layout {
	const struct ml__text_col *cols;
	size_t ncols;
	size_t *width, *off;
	bool raw;
};

/* A whole line: cells s[], n[] bytes long, and "\n".  Human format: the
 * line is blanks up to the last column with the cells copied over them
 * (right-aligned ones against their column's right edge); nothing follows
 * the last cell, but a right-aligned one is still padded on its left. */
static int put_line(struct out *o, const struct layout *l, const char *const *s,
		    const size_t *n)
{
	size_t nc = l->ncols, last = nc - 1, need = 1;
	char *p;

	if (l->raw) {
		for (size_t c = 0; c < nc; c++)
			need += 4 * n[c] + 1;
		if (!(p = room(o, need)))
			return -ENOMEM;
		for (size_t c = 0; c < nc; c++) {
			p = put_raw(p, s[c], n[c]);
			*p++ = c == last ? '\n' : ' ';
		}
		o->len = (size_t)(p - o->buf);
		return 0;
	}
	bool pad = n[last] && l->cols[last].right;
	size_t len = l->off[last] + (pad ? l->width[last] : n[last]);
	if (!(p = room(o, len + 1)))
		return -ENOMEM;
	memset(p, ' ', l->off[last]);
	for (size_t c = 0; c < nc; c++) {
		size_t at = l->off[c];
		if (n[c] && l->cols[c].right)
			at += l->width[c] - n[c];
		copy(p + at, s[c], n[c]);
	}
	if (pad)
		memset(p + l->off[last], ' ', l->width[last] - n[last]);
	p[len] = '\n';
	o->len += len + 1;
	return 0;
}

/* libsmartcols' width of a column (count_column_width, not a terminal),
 * from the widest cell. */
static size_t final_width(const struct ml__text_col *col, size_t widest)
{
	size_t hlen = strlen(col->header), min = hlen ? hlen : 1;

	if (widest < min)
		return min;
	if (col->whint >= 1 && widest < (size_t)col->whint && min < (size_t)col->whint)
		return (size_t)col->whint;
	return widest;
}

/* The cells of row i, all made before any is measured (a cell written
 * byte by byte and read back at once with wide loads stalls on store
 * forwarding); most come with their length. */
static void make_row(const char **s, size_t *n, char (*bufs)[ML__TEXT_CELL_BUF],
		     size_t ncols, size_t i, ml__text_row_fn row, void *ctx)
{
	row(ctx, i, s, n, bufs);
	for (size_t c = 0; c < ncols; c++) {
		if (!s[c]) {
			s[c] = "";
			n[c] = 0;
		} else if (n[c] == SIZE_MAX) {
			n[c] = strlen(s[c]);
		}
	}
}

/* Every cell of the table, checked, measured and kept in text one after
 * another, each as its length (two bytes) and its bytes: made once, they
 * are printed once the widths are known.  (Making the cells twice instead
 * costs more than the memory.) */
struct cells {
	char *text;               /* grown by ml__grow() */
	size_t len, cap;
	bool huge;
};

static int make_cells(struct cells *k, const struct ml__text_col *cols, size_t nc,
		      size_t nrows, ml__text_row_fn row, void *ctx, size_t *widest,
		      const char **s, size_t *n, char (*bufs)[ML__TEXT_CELL_BUF])
{
	void *text = NULL;

	/* Room for cells of 8 bytes on average: one allocation, mostly. */
	if (ml__grow(&text, &k->cap, &k->huge, 0, nrows * nc * 10) < 0)
		return -ENOMEM;
	k->text = text;
	for (size_t i = 0; i < nrows; i++) {
		size_t need = 0;
		make_row(s, n, bufs, nc, i, row, ctx);
		for (size_t c = 0; c < nc; c++) {
			if (n[c] > UINT16_MAX || (!cols[c].ascii && !plain(s[c], n[c])))
				return -EILSEQ;
			if (n[c] > widest[c])
				widest[c] = n[c];
			need += 2 + n[c];
		}
		if (k->len + need > k->cap) {
			text = k->text;
			if (ml__grow(&text, &k->cap, &k->huge, k->len, k->len + need) < 0)
				return -ENOMEM;
			k->text = text;
		}
		char *p = k->text + k->len;
		for (size_t c = 0; c < nc; c++) {
			uint16_t len = (uint16_t)n[c];
			memcpy(p, &len, 2);
			copy(p + 2, s[c], n[c]);
			p += 2 + n[c];
		}
		k->len = (size_t)(p - k->text);
	}
	return 0;
}

/* The lines of the kept cells into o; 0 or -errno. */
static int put_cells(struct out *o, const struct layout *l, const struct cells *k,
		     size_t nrows, const char **s, size_t *n)
{
	const char *t = k->text;
	int r = 0;

	for (size_t i = 0; i < nrows && r == 0; i++) {
		for (size_t c = 0; c < l->ncols; c++) {
			uint16_t len;
			memcpy(&len, t, 2);
			s[c] = t + 2;
			n[c] = len;
			t += 2 + len;
		}
		r = put_line(o, l, s, n);
	}
	return r;
}

int ml__text_table_print(FILE *out, unsigned int flags, const struct ml__text_col *cols,
			 size_t ncols, size_t nrows, ml__text_row_fn row, void *ctx)
{
	struct cells k = { NULL, 0, 0, false };
	struct out o = { out, NULL, 0, 0, false, 0 };
	struct layout lay = { cols, ncols, NULL, NULL, flags & ML_OUT_RAW };
	char (*bufs)[ML__TEXT_CELL_BUF] = NULL;
	const char **s = NULL;
	size_t *n = NULL;
	int r = -ENOMEM;

	if (!nrows || !ncols || (flags & ML_OUT_JSON) || nrows > SIZE_MAX / 16 / ncols)
		return -EILSEQ;
	for (size_t c = 0; c < ncols; c++)
		if (!plain(cols[c].header, strlen(cols[c].header)))
			return -EILSEQ;
	if (!(bufs = calloc(ncols, sizeof(*bufs))) || !(s = calloc(ncols, sizeof(*s))) ||
	    !(n = calloc(ncols, sizeof(*n))) || !(lay.width = calloc(ncols, sizeof(*lay.width))) ||
	    !(lay.off = calloc(ncols, sizeof(*lay.off))))
		goto out;
	if ((r = make_cells(&k, cols, ncols, nrows, row, ctx, lay.width, s, n, bufs)) < 0)
		goto out;
	for (size_t c = 0; c < ncols; c++) {
		lay.width[c] = final_width(&cols[c], lay.width[c]);
		if (c)
			lay.off[c] = lay.off[c - 1] + lay.width[c - 1] + 1;
	}
	void *ob = NULL;
	r = -ENOMEM;
	if (ml__grow(&ob, &o.cap, &o.huge, 0, 1 << 16) < 0)
		goto out;
	o.buf = ob;
	if (!(flags & ML_OUT_NOHEADINGS)) {
		for (size_t c = 0; c < ncols; c++)
			n[c] = strlen(s[c] = cols[c].header);
		if ((r = put_line(&o, &lay, s, n)) < 0)
			goto out;
	}
	r = put_cells(&o, &lay, &k, nrows, s, n);
	if (r == 0) {
		flush(&o);
		r = o.err;
	}
out:
	ml__grow_free(k.text, k.cap, k.huge);
	ml__grow_free(o.buf, o.cap, o.huge);
	free(bufs);
	free(s);
	free(n);
	free(lay.width);
	free(lay.off);
	return r;
}
