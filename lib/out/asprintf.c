/* SPDX-License-Identifier: MIT */
/*
 * asprintf.c - text on the heap: a formatted string, for the renderers
 * that build libsmartcols cells (render-aslr.c, render-watch.c,
 * render-pages.c), and ml_memstream_open(), a stream into a growing
 * buffer for output made whole before any of it is printed (JSON tables
 * in columns.c, pages' table in the tool).  Not open_memstream(): glibc's
 * leaves its error flag clear when growing fails (the write is dropped),
 * so running out of memory gave text cut short instead of an error; a
 * cookie write that fails does set the flag.
 */
#include "ml-out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memstream {
	char *p, **ret;
	size_t len, cap, *ret_len;
};

static ssize_t memstream_write(void *cookie, const char *buf, size_t size)
{
	struct memstream *m = cookie;

	if (ML__RESERVE(m->p, m->cap, m->len + size + 1) < 0)
		return -1;   /* sets the stream's error flag */
	memcpy(m->p + m->len, buf, size);
	m->len += size;
	m->p[m->len] = '\0';
	return (ssize_t)size;
}

static int memstream_close(void *cookie)
{
	struct memstream *m = cookie;

	*m->ret = m->p;
	*m->ret_len = m->len;
	free(m);
	return 0;
}

FILE *ml_memstream_open(char **ret, size_t *ret_len)
{
	cookie_io_functions_t io = { .write = memstream_write, .close = memstream_close };
	struct memstream *m = calloc(1, sizeof(*m));
	FILE *f;

	if (!m)
		return NULL;
	m->ret = ret;
	m->ret_len = ret_len;
	*ret = NULL;
	*ret_len = 0;
	if (!(f = fopencookie(m, "w", io)))
		free(m);
	return f;
}

char *ml__asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}
