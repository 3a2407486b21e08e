/* SPDX-License-Identifier: MIT */
/*
 * kinds.c - the table of region kinds: short name, what it is in the terms
 * of the process memory model, and its colour in the diagram.  Everything
 * that names or colours a kind reads this table.
 */
#include "ml-private.h"

#include <errno.h>
#include <string.h>

struct kind_info {
	const char *name;
	const char *description;
};

static const struct kind_info kinds[ML_KIND__COUNT] = {
	[ML_KIND_TEXT]         = { "text",         "program code (an ELF object's executable segment)" },
	[ML_KIND_RODATA]       = { "rodata",       "read-only data: constants, ELF headers, symbol tables" },
	[ML_KIND_RELRO]        = { "relro",        ".data.rel.ro/.got: written by the loader, then read-only" },
	[ML_KIND_DATA]         = { "data",         "initialised static variables (.data)" },
	[ML_KIND_BSS]          = { "bss",          "zero-initialised static variables (.bss)" },
	[ML_KIND_HEAP]         = { "heap",         "the brk heap: malloc's small blocks, grows up" },
	[ML_KIND_STACK]        = { "stack",        "the main thread's stack, grows down to RLIMIT_STACK" },
	[ML_KIND_THREAD_STACK] = { "thread-stack", "a thread's stack (mmap'ed by the thread library)" },
	[ML_KIND_GUARD]        = { "guard",        "guard page below a thread stack (PROT_NONE)" },
	[ML_KIND_RESERVED]     = { "reserved",     "address space reserved with no access (PROT_NONE)" },
	[ML_KIND_ANON]         = { "anon",         "anonymous mmap: large mallocs, arenas, JIT, ..." },
	[ML_KIND_FILE]         = { "file",         "a file mapped with mmap" },
	[ML_KIND_SHM]          = { "shm",          "shared memory: SysV, POSIX, memfd, shared anonymous" },
	[ML_KIND_VDSO]         = { "vdso",         "kernel code mapped into the process (fast syscalls)" },
	[ML_KIND_VVAR]         = { "vvar",         "kernel data read by the vDSO" },
	[ML_KIND_VSYSCALL]     = { "vsyscall",     "legacy fixed-address syscall page" },
	[ML_KIND_OTHER]        = { "other",        "a special mapping memlayout does not know" },
};

/* ANSI colour per kind (SGR parameters), NULL for none: the diagram's
 * and watch's. */
static const char *const kind_color[ML_KIND__COUNT] = {
	[ML_KIND_TEXT] = "31", [ML_KIND_RODATA] = "35", [ML_KIND_RELRO] = "35;2",
	[ML_KIND_DATA] = "34", [ML_KIND_BSS] = "36", [ML_KIND_HEAP] = "32;1",
	[ML_KIND_STACK] = "33;1", [ML_KIND_THREAD_STACK] = "33",
	[ML_KIND_GUARD] = "2", [ML_KIND_RESERVED] = "2", [ML_KIND_ANON] = "32",
	[ML_KIND_FILE] = "34;2", [ML_KIND_SHM] = "36;1", [ML_KIND_VDSO] = "35;1",
	[ML_KIND_VVAR] = "35;1", [ML_KIND_VSYSCALL] = "35;1",
};

const char *ml__kind_color(enum ml_kind kind)
{
	return (unsigned int)kind < ML_KIND__COUNT ? kind_color[kind] : NULL;
}

const char *ml_kind_name(enum ml_kind kind)
{
	return (unsigned int)kind < ML_KIND__COUNT ? kinds[kind].name : "?";
}

const char *ml_kind_description(enum ml_kind kind)
{
	return (unsigned int)kind < ML_KIND__COUNT ? kinds[kind].description : "?";
}

int ml_kind_from_name(const char *name)
{
	for (int i = 0; i < ML_KIND__COUNT; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return i;
	return -EINVAL;
}
