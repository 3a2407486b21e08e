/*
 * escape.c - make text the target controls (mapping names, paths) safe to
 * print.  For a terminal: control bytes, DEL, backslash and bytes that are
 * not valid UTF-8 become \xHH or \\, so no escape sequence reaches the
 * terminal and the output stays one line per region.  For JSON: only bytes
 * that are not valid UTF-8 become \xHH text (the JSON writer escapes
 * control characters itself), so the document is valid UTF-8.
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
