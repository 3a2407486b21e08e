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
 * both ways and compares the bytes.
 *
 * How: every cell is made once, a row at a time, checked, measured and
 * kept; then the lines are built in place and written.  A table of 4,096
 * rows or more is made, and then formatted, in two halves by two threads.
 */
#include "ml-private.h"

#include <errno.h>
#include <pthread.h>
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

/* The output, built a row at a time in a buffer with room for the row:
 * flushed to f as it fills, or, without f, grown to keep everything (the
 * second half of a big table, made while the first is written). */
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
		if (o->f)
			flush(o);
		if (o->len + need > o->cap &&
		    ml__grow(&p, &o->cap, &o->huge, o->len, o->len + need) < 0)
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

/* One cell at p (room for max(width, 4n) + 1 bytes); returns the end. */
static char *put_cell(char *p, const struct ml__text_col *col, size_t width,
		      bool last, const char *s, size_t n, bool raw)
{
	if (raw) {
		p = put_raw(p, s, n);
	} else {
		if (n && col->right) {
			memset(p, ' ', width - n);
			p += width - n;
		}
		memcpy(p, s, n);
		p += n;
		if (!last && !(n && col->right)) {
			memset(p, ' ', width - n);
			p += width - n;
		}
	}
	if (!last)
		*p++ = ' ';
	return p;
}

/* A whole line: cells s[], n[] bytes long, and "\n". */
static int put_line(struct out *o, const struct ml__text_col *cols, const size_t *width,
		    size_t ncols, const char *const *s, const size_t *n, bool raw)
{
	size_t need = 1;
	char *p;

	for (size_t c = 0; c < ncols; c++)
		need += (raw ? 4 * n[c] : width[c] > n[c] ? width[c] : n[c]) + 1;
	if (!(p = room(o, need)))
		return -ENOMEM;
	for (size_t c = 0; c < ncols; c++)
		p = put_cell(p, &cols[c], width[c], c + 1 == ncols, s[c], n[c], raw);
	*p++ = '\n';
	o->len = (size_t)(p - o->buf);
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

/* The cells of row i, made one after another before any is read: a cell
 * written byte by byte and read back at once with wide loads stalls on
 * store forwarding. */
static void make_row(const char **s, size_t *n, char (*bufs)[ML__TEXT_CELL_BUF],
		     size_t ncols, size_t i, ml__text_cell_fn cell, void *ctx)
{
	for (size_t c = 0; c < ncols; c++)
		if (!(s[c] = cell(ctx, i, c, bufs[c])))
			s[c] = "";
	for (size_t c = 0; c < ncols; c++)
		n[c] = strlen(s[c]);
}

/* The cells of rows [from, to): every cell's bytes one after another and
 * each cell's length, made once, checked and measured, printed after.
 * (Making the cells twice instead costs more than the memory.)  Big tables
 * are made in two parts by two threads. */
struct part {
	const struct ml__text_col *cols;
	size_t ncols, from, to;
	ml__text_cell_fn cell;
	void *ctx;
	char *text;               /* grown by ml__grow() */
	size_t len, cap;
	bool huge;
	uint16_t *lens;           /* longer cells go to libsmartcols */
	size_t *width;            /* the widest cell of each column */
	int r;
};

#define PARALLEL_ROWS 4096        /* fewer: not worth a thread */

static int keep(struct part *k, size_t i, const char *s, size_t n)
{
	if (k->len + n > k->cap) {
		void *p = k->text;
		if (ml__grow(&p, &k->cap, &k->huge, k->len, k->len + n) < 0)
			return -ENOMEM;
		k->text = p;
	}
	memcpy(k->text + k->len, s, n);
	k->len += n;
	k->lens[i] = (uint16_t)n;
	return 0;
}

static void *make_part(void *arg)
{
	struct part *k = arg;
	size_t nc = k->ncols;
	char (*bufs)[ML__TEXT_CELL_BUF] = calloc(nc, sizeof(*bufs));
	const char **s = calloc(nc, sizeof(*s));
	size_t *n = calloc(nc, sizeof(*n));
	void *text = NULL;

	k->r = -ENOMEM;
	/* Room for cells of 8 bytes on average: one allocation, mostly. */
	if (!bufs || !s || !n || !(k->width = calloc(nc, sizeof(*k->width))) ||
	    ml__grow(&text, &k->cap, &k->huge, 0, (k->to - k->from) * nc * 8) < 0)
		goto out;
	k->text = text;
	if (!(k->lens = malloc((k->to - k->from) * nc * sizeof(*k->lens))))
		goto out;
	k->r = 0;
	for (size_t i = k->from; i < k->to && k->r == 0; i++) {
		make_row(s, n, bufs, nc, i, k->cell, k->ctx);
		for (size_t c = 0; c < nc && k->r == 0; c++) {
			if (n[c] > UINT16_MAX || (!k->cols[c].ascii && !plain(s[c], n[c])))
				k->r = -EILSEQ;
			else if (n[c] > k->width[c])
				k->width[c] = n[c];
			if (k->r == 0)
				k->r = keep(k, (i - k->from) * nc + c, s[c], n[c]);
		}
	}
out:
	free(bufs);
	free(s);
	free(n);
	return NULL;
}

/* Lines of the rows of part k into o; 0 or -errno. */
struct fmt {
	const struct part *k;
	const size_t *width;
	bool raw;
	struct out *o;
	int r;
};

static void *format_part(void *arg)
{
	struct fmt *f = arg;
	const struct part *k = f->k;
	size_t nc = k->ncols;
	const char **s = calloc(nc, sizeof(*s));
	size_t *n = calloc(nc, sizeof(*n));
	const char *t = k->text;
	const uint16_t *len = k->lens;

	f->r = s && n ? 0 : -ENOMEM;
	for (size_t i = k->from; i < k->to && f->r == 0; i++) {
		for (size_t c = 0; c < nc; c++) {
			s[c] = t;
			t += n[c] = *len++;
		}
		f->r = put_line(f->o, k->cols, f->width, nc, s, n, f->raw);
	}
	free(s);
	free(n);
	return NULL;
}

/* Run fn on arg[0] here and on arg[1] (if there are two) in a thread of its
 * own, or here after arg[0] if no thread can be had. */
static void run_parts(void *(*fn)(void *), void *arg0, void *arg1)
{
	pthread_t th;
	bool threaded = arg1 && pthread_create(&th, NULL, fn, arg1) == 0;

	fn(arg0);
	if (threaded)
		pthread_join(th, NULL);
	else if (arg1)
		fn(arg1);
}

int ml__text_table_print(FILE *out, unsigned int flags, const struct ml__text_col *cols,
			 size_t ncols, size_t nrows, ml__text_cell_fn cell, void *ctx, void *ctx2)
{
	bool raw = flags & ML_OUT_RAW;
	struct part parts[2] = { { cols, ncols, 0, nrows, cell, ctx }, { 0 } };
	size_t nparts = 1, *width = NULL;
	struct out o = { out, NULL, 0, 0, false, 0 }, o2 = { NULL, NULL, 0, 0, false, 0 };
	struct fmt fmt[2];
	int r = -ENOMEM;

	if (!nrows || !ncols || (flags & ML_OUT_JSON) || nrows > SIZE_MAX / 2 / ncols)
		return -EILSEQ;
	for (size_t c = 0; c < ncols; c++)
		if (!plain(cols[c].header, strlen(cols[c].header)))
			return -EILSEQ;
	if (ctx2 && nrows >= PARALLEL_ROWS) {
		parts[1] = parts[0];
		parts[1].ctx = ctx2;
		parts[0].to = parts[1].from = nrows / 2;
		nparts = 2;
	}
	run_parts(make_part, &parts[0], nparts == 2 ? &parts[1] : NULL);
	for (size_t p = 0; p < nparts; p++)
		if (parts[p].r < 0) {
			r = parts[p].r;
			goto out;
		}
	if (!(width = calloc(ncols, sizeof(*width))))
		goto out;
	for (size_t c = 0; c < ncols; c++) {
		for (size_t p = 0; p < nparts; p++)
			if (parts[p].width[c] > width[c])
				width[c] = parts[p].width[c];
		width[c] = final_width(&cols[c], width[c]);
	}
	void *ob = NULL;
	if (ml__grow(&ob, &o.cap, &o.huge, 0, 1 << 16) < 0)
		goto out;
	o.buf = ob;
	if (!(flags & ML_OUT_NOHEADINGS)) {
		const char **hs = calloc(ncols, sizeof(*hs));
		size_t *hn = calloc(ncols, sizeof(*hn));
		for (size_t c = 0; hs && hn && c < ncols; c++)
			hn[c] = strlen(hs[c] = cols[c].header);
		r = hs && hn ? put_line(&o, cols, width, ncols, hs, hn, raw) : -ENOMEM;
		free(hs);
		free(hn);
		if (r < 0)
			goto out;
	}
	/* The first half is written while the second is made into o2. */
	for (size_t p = 0; p < nparts; p++)
		fmt[p] = (struct fmt){ &parts[p], width, raw, p ? &o2 : &o, 0 };
	run_parts(format_part, &fmt[0], nparts == 2 ? &fmt[1] : NULL);
	r = fmt[0].r < 0 ? fmt[0].r : nparts == 2 ? fmt[1].r : 0;
	if (r == 0) {
		flush(&o);
		if (o2.len && fwrite(o2.buf, 1, o2.len, out) != o2.len)
			o.err = -EIO;
		r = o.err;
	}
out:
	for (size_t p = 0; p < nparts; p++) {
		ml__grow_free(parts[p].text, parts[p].cap, parts[p].huge);
		free(parts[p].lens);
		free(parts[p].width);
	}
	ml__grow_free(o.buf, o.cap, o.huge);
	ml__grow_free(o2.buf, o2.cap, o2.huge);
	free(width);
	return r;
}
