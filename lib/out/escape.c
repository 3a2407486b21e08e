/* SPDX-License-Identifier: MIT */
/*
 * escape.c - make text the target controls (mapping names, paths) safe to
 * print.  For a terminal: control bytes, DEL, backslash, bytes that are
 * not valid UTF-8 and the invisible format characters (invisible[]: the
 * bidirectional controls, zero-width characters, BOM -- Unicode category
 * Cf, which glibc's iswprint() and so libsmartcols call printable) become
 * \xHH (each byte of the character) or \\, so no escape sequence reaches
 * the terminal, the output stays one line per region and text cannot be
 * reordered or hidden ("evil\u202egnp.exe" showing as "evilexe.png").
 * For JSON: only bytes that are not valid UTF-8 become \xHH text (the JSON
 * writer escapes control characters itself), so the document is valid
 * UTF-8.  ml__escape_cell() prepares a libsmartcols cell: libsmartcols
 * encodes controls itself, so a terminal cell gets only what it misses.
 *
 * The JSON writers (libsmartcols, jansson) escape only what RFC 8259
 * requires (below 0x20, '"', '\\') and leave DEL and the bidirectional-
 * text controls (all of invisible[]) raw, which a terminal showing the
 * document acts on; a cell cannot carry "\u007f" through them (its
 * backslash would be escaped).  So their output goes through
 * ml_json_stream(), a stdio cookie stream that rewrites those characters
 * as \uXXXX (a surrogate pair past U+FFFF) on the way out.  In a JSON
 * document a byte >= 0x7f can only be inside a string, so the rewrite is
 * exact; a sequence cut between two writes is held (at most 3 bytes)
 * until the next.
 */
#include "ml-out.h"

#include <stdlib.h>
#include <string.h>

/* Characters that change how the text around them is shown while showing
 * nothing themselves: Unicode's format characters (category Cf, Unicode
 * 15, unassigned code points of their blocks included) and the line and
 * paragraph separators U+2028-2029.  Sorted, disjoint. */
static const struct { uint32_t lo, hi; } invisible[] = {
	{ 0xad, 0xad }, { 0x600, 0x605 }, { 0x61c, 0x61c }, { 0x6dd, 0x6dd },
	{ 0x70f, 0x70f }, { 0x890, 0x891 }, { 0x8e2, 0x8e2 },
	{ 0x180e, 0x180e }, { 0x200b, 0x200f }, { 0x2028, 0x202e },
	{ 0x2060, 0x206f }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
	{ 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
	{ 0xe0020, 0xe007f },
};

bool ml__invisible(uint32_t cp)
{
	if (cp < 0xad)
		return false;
	for (size_t i = 0; i < ML_ARRAY_SIZE(invisible) && invisible[i].lo <= cp; i++)
		if (cp <= invisible[i].hi)
			return true;
	return false;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid; its
 * code point in *ret_cp. */
static size_t utf8_len(const unsigned char *s, uint32_t *ret_cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	*ret_cp = c;
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
	*ret_cp = cp;
	return n;
}

static char *put_hex(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	*o++ = 'x';
	*o++ = hex[c >> 4];
	*o++ = hex[c & 15];
	return o;
}

char *ml_escape(const char *s, enum ml_escape mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	char *out = malloc(len * 4 + 1), *o = out;

	if (!out)
		return NULL;
	while (*p) {
		uint32_t cp;
		size_t n = utf8_len(p, &cp);
		bool term = mode == ML_ESC_TERM;
		bool ctl = *p < 0x20 || *p == 0x7f || *p == '\\';

		if (n && !(term && (ctl || ml__invisible(cp)))) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else if (term && *p == '\\') {
			*o++ = '\\';
			*o++ = '\\';
			p++;
		} else {                          /* n bytes, or 1 if invalid */
			for (size_t i = 0; i < (n ? n : 1); i++)
				o = put_hex(o, *p++);
		}
	}
	*o = '\0';
	return out;
}

/* For a terminal table, libsmartcols (its column's safechars "\\", see
 * ml__scols_safe()) writes controls, DEL and invalid UTF-8 as \xHH but
 * the invisible characters raw: those become \xHH here, and a backslash
 * before 'x' \x5c, as libsmartcols writes it, so every \xHH on the
 * screen is an escape.  Raw output: libsmartcols writes every byte >= 0x80,
 * blank and backslash as \xHH itself. */
char *ml__escape_cell(const char *s, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;

	if (flags & ML_OUT_JSON)
		return ml_escape(s, ML_ESC_JSON_SAFE);
	if ((flags & ML_OUT_RAW) || !(out = malloc(strlen(s) * 4 + 1)))
		return (flags & ML_OUT_RAW) ? strdup(s) : NULL;
	for (o = out; *p; ) {
		uint32_t cp;
		size_t n = utf8_len(p, &cp);

		if (*p == '\\' && p[1] == 'x')
			o = put_hex(o, *p++);
		else if (n > 1 && ml__invisible(cp))
			for (size_t i = 0; i < n; i++)
				o = put_hex(o, *p++);
		else
			*o++ = (char)*p++;
	}
	*o = '\0';
	return out;
}

/* ---- JSON: DEL and the invisible characters as \u escapes ---- */

struct jstream {
	FILE *out;
	unsigned char held[3];    /* the start of a sequence cut by a write */
	size_t nheld;
};

/* Does the text at p (n bytes) start with a character JSON gets as a \u
 * escape: DEL or an invisible character (invisible[])?  Its length (code
 * point in *ret_cp); 0 if not; -1 if the n bytes end inside what may be
 * one. */
static int json_special(const unsigned char *p, size_t n, unsigned int *ret_cp)
{
	size_t need;
	uint32_t cp;

	if (p[0] == 0x7f) {
		*ret_cp = 0x7f;
		return 1;
	}
	if (p[0] < 0xc2)
		return 0;
	need = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < need)
		return -1;
	if (utf8_len(p, &cp) != need || !ml__invisible(cp))
		return 0;
	*ret_cp = cp;
	return (int)need;
}

/* cp as \uXXXX, past U+FFFF as its UTF-16 surrogate pair. */
static bool put_u(FILE *out, unsigned int cp)
{
	if (cp > 0xffff)
		return fprintf(out, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
			       0xdc00 + ((cp - 0x10000) & 0x3ff)) == 12;
	return fprintf(out, "\\u%04x", cp) == 6;
}

int ml__json_u(FILE *out, const char *s, size_t n)
{
	unsigned int cp;
	int k = json_special((const unsigned char *)s, n, &cp);

	if (k <= 0)
		return 0;
	put_u(out, cp);
	return k;
}

/* The held bytes completed from p: how many of p's size bytes it took
 * (the rest is written as usual), or -1 on a write error. */
static ssize_t finish_held(struct jstream *j, const unsigned char *p, size_t size)
{
	unsigned char t[4];
	size_t take = size < 4 - j->nheld ? size : 4 - j->nheld, n = j->nheld + take;
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
