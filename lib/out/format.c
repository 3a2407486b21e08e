/* SPDX-License-Identifier: MIT */
/*
 * format.c - the one formatting module of every view: sizes (human "4.0K"
 * or -b's bytes), addresses ("0x..."), counts, percentages, written without
 * printf (a 20,000-region table has a quarter of a million cells) at a
 * pointer that returns the end (ml__put_*), or into a cell buffer of
 * ML_CELL_BUF bytes that is returned NUL-terminated (ml_fmt_*).
 *
 * The writers at a pointer are inline (format.h): where's batch renders a
 * dozen numbers per address, a million addresses a second.
 *
 * Human sizes: the largest binary unit the size reaches (B K M G T P E),
 * whole when exact, else one decimal rounded as printf's "%.1f" rounds.
 */
#include "format.h"

#include <string.h>

char *ml_size_human(uint64_t bytes, char *buf, size_t len)
{
	char tmp[32];
	size_t n = (size_t)(ml__put_size_human(tmp, bytes) - tmp);

	if (len) {
		if (n >= len)
			n = len - 1;
		memcpy(buf, tmp, n);
		buf[n] = '\0';
	}
	return buf;
}

char *ml_fmt_size(char *buf, uint64_t v, unsigned int flags)
{
	*ml__put_size(buf, v, flags) = '\0';
	return buf;
}

char *ml_fmt_hex(char *buf, uint64_t v)
{
	*ml__put_hex(buf, v) = '\0';
	return buf;
}

char *ml_fmt_u64(char *buf, uint64_t v)
{
	*ml__put_dec(buf, v) = '\0';
	return buf;
}

char *ml_fmt_ratio(char *buf, double v)
{
	snprintf(buf, ML_CELL_BUF, "%.4f", v);
	return buf;
}

const char *ml__base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}
