/* SPDX-License-Identifier: MIT */
/*
 * demangle.c - a mangled symbol name in the words of its language, for
 * backtraces: C++ names (_Z...) by libstdc++'s __cxa_demangle, and Rust's
 * legacy names, which are C++-mangled with a last "h<16 hex digits>" hash
 * component that rustc-demangle leaves out, so we do too.  libstdc++ is
 * dlopen()ed the first time a mangled name is seen (a C program's
 * backtrace never loads it) and never closed.  Rust v0 names (_R...),
 * which Debian 12's libstdc++ (GCC 12) does not know, by libiberty's
 * rust_demangle (its static, PIC libiberty.a, built in where present:
 * HAVE_LIBIBERTY), without the crate hashes, as rustc-demangle's
 * non-alternate form; without libiberty they are kept as they are.  Its
 * recursion is bounded (RUST_MAX_RECURSION_COUNT) and it allocates with
 * malloc only, returning NULL on failure (no xmalloc, no exit).
 * The result is target-controlled text like the name: callers escape it.
 */
#include "ml-crash.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_LIBIBERTY
#include <libiberty/demangle.h>
#endif

#define STDCXX_SONAME "libstdc++.so.6"
#define MAX_MANGLED 4096          /* longer names stay as they are */

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static cxa_demangle_fn cxa_demangle;   /* set once, then only read */

static void load(void)
{
	void *h = dlopen(STDCXX_SONAME, RTLD_NOW | RTLD_LOCAL);
	void *f = h ? dlsym(h, "__cxa_demangle") : NULL;

	memcpy(&cxa_demangle, &f, sizeof(f));
}

/* A Rust legacy name ends in "::h" and 16 hex digits: drop them. */
static void drop_rust_hash(char *s)
{
	size_t n = strlen(s);

	if (n < 19 || memcmp(s + n - 19, "::h", 3) != 0)
		return;
	for (size_t i = n - 16; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return;
	s[n - 19] = '\0';
}

/* A Rust v0 name (_R...): 0, -ENOENT not one, -ENOTSUP no libiberty. */
static int demangle_rust_v0(const char *name, char **ret)
{
#ifdef HAVE_LIBIBERTY
	char *out = rust_demangle(name, 0);

	if (!out)
		return -ENOENT;
	*ret = out;
	return 0;
#else
	(void)name;
	(void)ret;
	return -ENOTSUP;
#endif
}

int ml__demangle(const char *name, char **ret)
{
	char *out;
	int status = 0;

	if (!name || !ret)
		return -EINVAL;
	if (strnlen(name, MAX_MANGLED) == MAX_MANGLED)
		return -ENOENT;
	if (strncmp(name, "_R", 2) == 0)
		return demangle_rust_v0(name, ret);
	if (strncmp(name, "_Z", 2) != 0)
		return -ENOENT;
	pthread_once(&once, load);
	if (!cxa_demangle)
		return -ENOTSUP;
	out = cxa_demangle(name, NULL, NULL, &status);
	if (!out || status != 0) {
		free(out);
		return status == -1 ? -ENOMEM : -ENOENT;
	}
	if (strncmp(name, "_ZN", 3) == 0)
		drop_rust_hash(out);
	*ret = out;
	return 0;
}
