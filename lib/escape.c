/* SPDX-License-Identifier: MIT */
/*
 * escape.c - make text the target controls (mapping names, paths) safe to
 * print.  For a terminal: control bytes, DEL, backslash and bytes that are
 * not valid UTF-8 become \xHH or \\, so no escape sequence reaches the
 * terminal and the output stays one line per region.  For JSON: only bytes
 * that are not valid UTF-8 become \xHH text (the JSON writer escapes
 * control characters itself), so the document is valid UTF-8.
 *
 * The JSON writers (libsmartcols, jansson) escape only what RFC 8259
 * requires (below 0x20, '"', '\\') and leave DEL and the bidirectional-
 * text controls raw, which a terminal showing the document acts on; a cell
 * cannot carry "\u007f" through them (its backslash would be escaped).  So
 * their output goes through ml_json_stream(), a stdio cookie stream that
 * rewrites those characters as \uXXXX on the way out.  In a JSON document
 * a byte >= 0x7f can only be inside a string, so the rewrite is exact; a
 * sequence cut between two writes is held (at most 2 bytes) until the next.
 */
#include "ml-private.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

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
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	/* C1 controls (U+0080..U+009F) act as escapes on some terminals. */
	if (n == 2 && cp < 0xa0)
		return 0;
	return n;
}

char *ml_escape(const char *s, enum ml_escape mode)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	char *out = malloc(len * 4 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = utf8_len(p);
		bool ctl = *p < 0x20 || *p == 0x7f || *p == '\\';

		if (n && !(mode == ML_ESC_TERM && ctl)) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else if (mode == ML_ESC_TERM && *p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
			p++;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
			p++;
		}
	}
	*o = '\0';
	return out;
}

/* ---- JSON: DEL and bidi controls as \u escapes ---- */

struct jstream {
	FILE *out;
	unsigned char held[2];    /* the start of a sequence cut by a write */
	size_t nheld;
};

/* Does the text at p (n bytes) start with a character JSON gets as a \u
 * escape: DEL, U+061C, U+200E-200F, U+202A-202E, U+2066-2069?  Its length
 * (code point in *ret_cp); 0 if not; -1 if the n bytes end inside what
 * may be one. */
static int json_special(const unsigned char *p, size_t n, unsigned int *ret_cp)
{
	unsigned int c;

	if (p[0] == 0x7f) {
		*ret_cp = 0x7f;
		return 1;
	}
	if (p[0] != 0xd8 && p[0] != 0xe2)
		return 0;
	if (n < 2)
		return -1;
	if (p[0] == 0xd8) {
		*ret_cp = 0x61c;
		return p[1] == 0x9c ? 2 : 0;
	}
	if (p[1] != 0x80 && p[1] != 0x81)
		return 0;
	if (n < 3)
		return -1;
	c = 0x2000 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	if ((p[2] & 0xc0) != 0x80 || !(c == 0x200e || c == 0x200f ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)))
		return 0;
	*ret_cp = c;
	return 3;
}

static bool put_u(FILE *out, unsigned int cp)
{
	return fprintf(out, "\\u%04x", cp) == 6;
}

/* The held bytes completed from p: how many of p's size bytes it took
 * (the rest is written as usual), or -1 on a write error. */
static ssize_t finish_held(struct jstream *j, const unsigned char *p, size_t size)
{
	unsigned char t[3];
	size_t take = size < 3 - j->nheld ? size : 3 - j->nheld, n = j->nheld + take;
	unsigned int cp;
	int k;

	memcpy(t, j->held, j->nheld);
	memcpy(t + j->nheld, p, take);
	k = json_special(t, n, &cp);
	if (k < 0) {                      /* still cut: hold it all */
		memcpy(j->held, t, n);
		j->nheld = n;
		return (ssize_t)take;
	}
	take = k > 0 ? (size_t)k - j->nheld : 0;
	if (k > 0 ? !put_u(j->out, cp) : fwrite(j->held, 1, j->nheld, j->out) != j->nheld)
		return -1;
	j->nheld = 0;
	return (ssize_t)take;
}

static ssize_t jstream_write(void *cookie, const char *buf, size_t size)
{
	struct jstream *j = cookie;
	const unsigned char *p = (const unsigned char *)buf;
	size_t i = 0, run = 0;

	if (j->nheld) {
		ssize_t t = finish_held(j, p, size);
		if (t < 0)
			return -1;
		i = run = (size_t)t;
	}
	while (i < size) {
		unsigned int cp;
		int k = json_special(p + i, size - i, &cp);
		if (k == 0) {
			i++;
			continue;
		}
		if (fwrite(p + run, 1, i - run, j->out) != i - run)
			return -1;
		if (k < 0) {                  /* cut: held for the next write */
			memcpy(j->held, p + i, size - i);
			j->nheld = size - i;
			return (ssize_t)size;
		}
		if (!put_u(j->out, cp))
			return -1;
		i += (size_t)k;
		run = i;
	}
	if (fwrite(p + run, 1, i - run, j->out) != i - run)
		return -1;
	return (ssize_t)size;
}

static int jstream_close(void *cookie)
{
	struct jstream *j = cookie;
	int r = fwrite(j->held, 1, j->nheld, j->out) == j->nheld ? 0 : EOF;

	if (ferror(j->out))
		r = EOF;
	free(j);
	return r;
}

FILE *ml_json_stream(FILE *out)
{
	cookie_io_functions_t io = { .write = jstream_write, .close = jstream_close };
	struct jstream *j = calloc(1, sizeof(*j));
	FILE *f;

	if (!j)
		return NULL;
	j->out = out;
	if (!(f = fopencookie(j, "w", io)))
		free(j);
	return f;
}
