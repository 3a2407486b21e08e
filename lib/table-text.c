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
 * first byte it cannot; the caller then prints through libsmartcols.
 *
 * The rules copied (libsmartcols/src/calculate.c and print.c, non-terminal):
 * a column is as wide as its widest cell, at least as wide as its header
 * (minimum 1), else, if narrower than an absolute width hint (>= 1) that
 * the header is also narrower than, as wide as the hint; cells are padded
 * with spaces, right-aligned ones on the left; nothing follows the last
 * cell of a line but "\n" (a right-aligned one is still padded on its
 * left); one space between columns.  Raw format: no padding, and blanks written as "\x20".
 * tests/unit/test-table-text.c prints the same tables both ways and
 * compares the bytes.
 */
#include "ml-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ml__text_table {
	size_t ncols;
	struct text_col {
		const char *header;
		size_t hlen, width;
		double whint;
		bool right;
	} *cols;
	char *text;               /* every cell's bytes, one after another */
	size_t tlen, tcap;
	uint32_t *ends;           /* end of cell i in text */
	size_t ncells, ccap;
	bool refused;
};

/* Bytes printed as they are in both formats: printable ASCII except '\'
 * (libsmartcols encodes "\x" in human format and every '\' in raw). */
static bool plain_byte(unsigned char b)
{
	return b >= 0x20 && b <= 0x7e && b != '\\';
}

struct ml__text_table *ml__text_table_new(size_t ncols)
{
	struct ml__text_table *t = calloc(1, sizeof(*t));

	if (t && !(t->cols = calloc(ncols ? ncols : 1, sizeof(*t->cols)))) {
		free(t);
		return NULL;
	}
	if (t)
		t->ncols = ncols;
	return t;
}

void ml__text_table_free(struct ml__text_table *t)
{
	if (!t)
		return;
	free(t->cols);
	free(t->text);
	free(t->ends);
	free(t);
}

int ml__text_table_column(struct ml__text_table *t, size_t i, const char *header,
			  double whint, bool right)
{
	size_t n = strlen(header);

	for (size_t k = 0; k < n; k++)
		if (!plain_byte((unsigned char)header[k]))
			return t->refused = true, -EILSEQ;
	t->cols[i] = (struct text_col){ header, n, 0, whint, right };
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *np;

	while (ncap < need)
		ncap *= 2;
	if (ncap > UINT32_MAX || !(np = realloc(*p, ncap * elem)))
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* The next cell, row by row; s NULL is an empty cell. */
int ml__text_table_cell(struct ml__text_table *t, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	struct text_col *col = &t->cols[t->ncells % t->ncols];

	if (t->refused)
		return -EILSEQ;
	for (size_t k = 0; k < n; k++)
		if (!plain_byte((unsigned char)s[k]))
			return t->refused = true, -EILSEQ;
	if ((t->tlen + n > t->tcap && grow((void **)&t->text, &t->tcap, t->tlen + n, 1, 1 << 16)) ||
	    (t->ncells == t->ccap && grow((void **)&t->ends, &t->ccap, t->ncells + 1,
					  sizeof(*t->ends), 1024)))
		return -ENOMEM;
	if (n)
		memcpy(t->text + t->tlen, s, n);
	t->tlen += n;
	t->ends[t->ncells++] = (uint32_t)t->tlen;
	if (n > col->width)
		col->width = n;
	return 0;
}

/* An output buffer in front of the stream: lines are built here. */
struct out {
	FILE *f;
	char buf[1 << 16];
	size_t len;
	int err;
};

static void flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = -EIO;
	o->len = 0;
}

static void put(struct out *o, const char *s, size_t n)
{
	while (n) {
		if (o->len == sizeof(o->buf))
			flush(o);
		size_t k = sizeof(o->buf) - o->len < n ? sizeof(o->buf) - o->len : n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void pad(struct out *o, size_t n)
{
	static const char spaces[64] = "                                                                ";

	while (n) {
		size_t k = n < sizeof(spaces) ? n : sizeof(spaces);
		put(o, spaces, k);
		n -= k;
	}
}

/* Raw format: blanks as "\x20" (nothing else in a plain cell needs it). */
static void put_raw(struct out *o, const char *s, size_t n)
{
	const char *sp;

	while (n && (sp = memchr(s, ' ', n))) {
		put(o, s, (size_t)(sp - s));
		put(o, "\\x20", 4);
		n -= (size_t)(sp - s) + 1;
		s = sp + 1;
	}
	put(o, s, n);
}

static void put_cell(struct out *o, const struct ml__text_table *t, size_t c,
		     const char *s, size_t n, bool raw)
{
	const struct text_col *col = &t->cols[c];
	bool last = c + 1 == t->ncols;

	if (raw) {
		put_raw(o, s, n);
		if (!last)
			put(o, " ", 1);
		return;
	}
	if (n && col->right)
		pad(o, col->width - n);
	put(o, s, n);
	if (!last) {
		if (!(n && col->right))
			pad(o, col->width - n);
		put(o, " ", 1);
	}
}

/* libsmartcols' width of a column (count_column_width, not a terminal). */
static void final_width(struct text_col *col)
{
	size_t min = col->hlen ? col->hlen : 1;

	if (col->width < min)
		col->width = min;
	else if (col->whint >= 1 && col->width < (size_t)col->whint && min < (size_t)col->whint)
		col->width = (size_t)col->whint;
}

int ml__text_table_print(struct ml__text_table *t, FILE *out, unsigned int flags)
{
	bool raw = flags & ML_OUT_RAW;
	size_t nlines = t->ncols ? t->ncells / t->ncols : 0;
	struct out *o;

	if (t->refused || !nlines || t->ncells % t->ncols || (flags & ML_OUT_JSON))
		return -EILSEQ;
	if (!(o = malloc(sizeof(*o))))
		return -ENOMEM;
	o->f = out;
	o->len = 0;
	o->err = 0;
	for (size_t c = 0; c < t->ncols; c++)
		final_width(&t->cols[c]);
	if (!(flags & ML_OUT_NOHEADINGS)) {
		for (size_t c = 0; c < t->ncols; c++)
			put_cell(o, t, c, t->cols[c].header, t->cols[c].hlen, raw);
		put(o, "\n", 1);
	}
	for (size_t i = 0, start = 0; i < t->ncells; i++) {
		put_cell(o, t, i % t->ncols, t->text + start, t->ends[i] - start, raw);
		if ((i + 1) % t->ncols == 0)
			put(o, "\n", 1);
		start = t->ends[i];
	}
	flush(o);
	int r = o->err;
	free(o);
	return r;
}
