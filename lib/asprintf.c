/* SPDX-License-Identifier: MIT */
/*
 * asprintf.c - a formatted string on the heap, for the renderers that build
 * libsmartcols cells (render-aslr.c, render-watch.c, render-pages.c).
 */
#include "ml-private.h"

#include <stdarg.h>
#include <stdio.h>

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
