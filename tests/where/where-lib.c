/* SPDX-License-Identifier: MIT */
/*
 * where-lib.c - a small shared object for the where tests: a global and a
 * static function.  The suite builds it with DWARF, then a copy stripped
 * of everything but .dynsym that links (.gnu_debuglink) to a separate
 * debug file, and a stripped copy with no debug file at all.
 */
int where_lib_global(int x);

static int __attribute__((noinline)) where_lib_static(int x)
{ /* LINE:lib_static */
	return x * 7 + 1;
}

int where_lib_global(int x)
{
	return where_lib_static(x) + 2;
}

/* The address of the static function, for the test to ask about. */
void *where_lib_static_addr(void)
{
	return (void *)where_lib_static;
}
