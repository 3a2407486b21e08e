/* SPDX-License-Identifier: MIT */
/*
 * fold.c - a stream that folds lines at a terminal's width, for the views
 * written as lines rather than as libsmartcols tables (the diagram,
 * where's blocks, watch's log, the prose above a table).
 *
 * Each line written is held until its '\n' (or fclose) and then written
 * to the underlying stream as it is when it fits, else in pieces of at
 * most `width` columns: broken at the last blank that fits (a word longer
 * than the room is cut), each piece after the first led by the line's
 * first `indent` columns (two thirds of the width at most) with every
 * byte that is not in `keep` (the bar of the diagram: "|:#") made a
 * blank.  Columns are counted as a terminal does: ANSI escape sequences
 * take none, a multibyte character its wcwidth (an invalid byte one).  A line is held whole, so its memory
 * grows with the longest line (bounded by what the caller writes).
 */
#include "ml-out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

struct fold {
	FILE *out;
	unsigned int width, indent;
	const char *keep;
	char *line;
	size_t len, cap;
	int err;
};

/* The columns taken by the byte sequence at s (n bytes left), and its
 * length in *ret_len. */
static unsigned int glyph(const char *s, size_t n, size_t *ret_len)
{
	unsigned char b = (unsigned char)s[0];

	if (b == '\033' && n > 1 && s[1] == '[') {   /* CSI: ESC [ ... final */
		size_t k = 2;
		while (k < n && !((unsigned char)s[k] >= 0x40 && (unsigned char)s[k] <= 0x7e))
			k++;
		*ret_len = k < n ? k + 1 : n;
		return 0;
	}
	if (b < 0x80) {
		*ret_len = 1;
		return 1;
	}
	mbstate_t st = { 0 };
	wchar_t wc;
	size_t k = mbrtowc(&wc, s, n, &st);
	if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
		*ret_len = 1;
		return 1;
	}
	int w = wcwidth(wc);
	*ret_len = k;
	return w < 0 ? 1 : (unsigned int)w;
}

unsigned int ml__text_width(const char *s, size_t n)
{
	unsigned int w = 0;
	size_t k;

	for (size_t i = 0; i < n; i += k)
		w += glyph(s + i, n - i, &k);
	return w;
}

/* Where to cut s (n bytes) so the piece takes at most room columns:
 * after the last blank that fits (past byte `min`), else as many whole
 * characters as fit (at least one).  *ret_next: where the rest starts
 * (blanks skipped). */
static size_t cut(const char *s, size_t n, unsigned int room, size_t min, size_t *ret_next)
{
	size_t i = 0, k = 0, blank = 0, fit = 0;
	unsigned int col = 0;

	while (i < n) {
		unsigned int w = glyph(s + i, n - i, &k);
		if (col + w > room)
			break;
		if (s[i] == ' ' && i > min)
			blank = i;
		col += w;
		i += k;
		fit = i;
	}
	if (i >= n) {           /* all of it fits */
		*ret_next = n;
		return n;
	}
	if (s[i] == ' ' && i > min)
		blank = i;              /* what fits ends at a blank */
	if (!fit)
		fit = i + k <= n ? k : n;   /* a character wider than the room */
	size_t end = blank ? blank : fit, next = end;
	while (end > 0 && s[end - 1] == ' ')
		end--;
	while (next < n && s[next] == ' ')
		next++;
	*ret_next = next;
	return end ? end : fit;
}

static void put(struct fold *f, const char *s, size_t n)
{
	if (n && fwrite(s, 1, n, f->out) != n)
		f->err = -EIO;
}

/* The held line (without its '\n'), folded. */
static void emit(struct fold *f)
{
	const char *s = f->line;
	size_t n = f->len, next, k, pre = 0;
	unsigned int indent = f->indent > f->width * 2 / 3 ? f->width * 2 / 3 : f->indent;
	char lead[256];

	if (ml__text_width(s, n) <= f->width) {
		put(f, s, n);
		put(f, "\n", 1);
		return;
	}
	/* The lead of the pieces after the first: the first columns with
	 * only the kept bytes (the bar) left. */
	for (unsigned int col = 0; pre < n && col < indent && pre < sizeof(lead) - 1; pre += k)
		col += glyph(s + pre, n - pre, &k);
	for (size_t i = 0; i < pre; i++)
		lead[i] = f->keep && s[i] && strchr(f->keep, s[i]) ? s[i] : ' ';
	unsigned int leadw = ml__text_width(lead, pre);
	size_t end = cut(s, n, f->width, pre, &next);
	put(f, s, end);
	put(f, "\n", 1);
	while (next < n) {
		s += next;
		n -= next;
		put(f, lead, pre);
		end = cut(s, n, f->width - leadw, 0, &next);
		put(f, s, end);
		put(f, "\n", 1);
	}
}

static ssize_t fold_write(void *cookie, const char *buf, size_t size)
{
	struct fold *f = cookie;

	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			emit(f);
			f->len = 0;
			continue;
		}
		if (ML__RESERVE(f->line, f->cap, f->len + 1) < 0) {
			errno = ENOMEM;
			return i ? (ssize_t)i : -1;
		}
		f->line[f->len++] = buf[i];
	}
	return f->err ? (errno = EIO, -1) : (ssize_t)size;
}

static int fold_close(void *cookie)
{
	struct fold *f = cookie;
	int err;

	if (f->len)
		emit(f);
	err = f->err;
	free(f->line);
	free(f);
	return err ? (errno = EIO, -1) : 0;
}

FILE *ml_fold_stream(FILE *out, unsigned int width, unsigned int indent, const char *keep)
{
	struct fold *f = calloc(1, sizeof(*f));
	cookie_io_functions_t io = { NULL, fold_write, NULL, fold_close };
	FILE *s;

	if (!f)
		return NULL;
	*f = (struct fold){ out, width ? width : 1, indent, keep, NULL, 0, 0, 0 };
	if (!(s = fopencookie(f, "w", io))) {
		free(f);
		return NULL;
	}
	return s;
}
