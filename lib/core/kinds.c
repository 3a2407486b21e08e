/* SPDX-License-Identifier: MIT */
/*
 * kinds.c - the table of region kinds: short name, what it is in the terms
 * of the process memory model, and its colour in the diagram.  Everything
 * that names or colours a kind reads this table; so do the allocators
 * (owners) of heap memory and the words for how each was told.
 */
#include "ml-core.h"

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
	[ML_KIND_HEAP]         = { "heap",         "dynamically allocated memory: the brk heap, allocator arenas and chunks" },
	[ML_KIND_STACK]        = { "stack",        "the main thread's stack, grows down to RLIMIT_STACK" },
	[ML_KIND_THREAD_STACK] = { "thread-stack", "a thread's stack (mmap'ed by the thread library)" },
	[ML_KIND_GUARD]        = { "guard",        "guard page below a thread stack (PROT_NONE)" },
	[ML_KIND_RESERVED]     = { "reserved",     "address space reserved with no access (PROT_NONE)" },
	[ML_KIND_ANON]         = { "anon",         "anonymous mmap no allocator was seen to own: JIT, caches, ..." },
	[ML_KIND_FILE]         = { "file",         "a file mapped with mmap" },
	[ML_KIND_SHM]          = { "shm",          "shared memory: SysV, POSIX, memfd, shared anonymous" },
	[ML_KIND_VDSO]         = { "vdso",         "kernel code mapped into the process (fast syscalls)" },
	[ML_KIND_VVAR]         = { "vvar",         "kernel data read by the vDSO" },
	[ML_KIND_VSYSCALL]     = { "vsyscall",     "legacy fixed-address syscall page" },
	[ML_KIND_GPU]          = { "gpu",          "GPU memory: driver mappings, CUDA's unified address space, pinned host buffers" },
	[ML_KIND_DEVICE]       = { "device",       "a device's memory mapped into the process (DAX, frame buffer, ...)" },
	[ML_KIND_RING]         = { "ring",         "a ring buffer shared with the kernel: io_uring, perf, BPF" },
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
	[ML_KIND_GPU] = "95", [ML_KIND_DEVICE] = "95;2", [ML_KIND_RING] = "96",
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

/* ---- owners of heap memory ---- */

static const struct { const char *name, *description; } allocators[ML_ALLOC__COUNT] = {
	[ML_ALLOC_GLIBC]    = { "glibc",    "glibc malloc" },
	[ML_ALLOC_MLALLOC]  = { "mlalloc",  "mlalloc" },
	[ML_ALLOC_JEMALLOC] = { "jemalloc", "jemalloc" },
	[ML_ALLOC_TCMALLOC] = { "tcmalloc", "tcmalloc" },
	[ML_ALLOC_MIMALLOC] = { "mimalloc", "mimalloc" },
	[ML_ALLOC_OBMALLOC] = { "obmalloc", "CPython obmalloc" },
	[ML_ALLOC_GO]       = { "go",       "the Go runtime" },
	[ML_ALLOC_V8]       = { "v8",       "V8's heap" },
	[ML_ALLOC_JVM]      = { "jvm",      "the JVM" },
	[ML_ALLOC_NAMED]    = { "named",    "an allocator that named the mapping" },
};

/* Kind of a code object's mapping by its permissions: the first row
 * whose bits are all present wins (elf.c refines it with the object's
 * headers; classify.c's fallback for an object it could not read keeps
 * it).  A mapping with no permission is the object's reservation. */
static const struct {
	unsigned int perms;
	enum ml_kind kind;
} perm_kinds[] = {
	{ ML_PERM_EXEC,  ML_KIND_TEXT },
	{ ML_PERM_WRITE, ML_KIND_DATA },
	{ ML_PERM_READ,  ML_KIND_RODATA },
	{ 0,             ML_KIND_RESERVED },
};

enum ml_kind ml__kind_by_perms(unsigned int perms)
{
	size_t i = 0;

	while ((perms & perm_kinds[i].perms) != perm_kinds[i].perms)
		i++;
	return perm_kinds[i].kind;
}

/* "probably NAME" for each allocator: a guess says so. */
static const char *const guesses[ML_ALLOC__COUNT] = {
	[ML_ALLOC_GLIBC] = "probably glibc", [ML_ALLOC_MLALLOC] = "probably mlalloc",
	[ML_ALLOC_JEMALLOC] = "probably jemalloc", [ML_ALLOC_TCMALLOC] = "probably tcmalloc",
	[ML_ALLOC_MIMALLOC] = "probably mimalloc", [ML_ALLOC_OBMALLOC] = "probably obmalloc",
	[ML_ALLOC_GO] = "probably go", [ML_ALLOC_V8] = "probably v8",
	[ML_ALLOC_JVM] = "probably jvm", [ML_ALLOC_NAMED] = "probably named",
};

/* What told the owner: the first row matching (allocator, basis), an
 * allocator of ML_ALLOC_NONE matching any. */
static const struct {
	enum ml_allocator alloc;
	enum ml_owner_basis basis;
	const char *words;
} evidence[] = {
	{ ML_ALLOC_GLIBC,    ML_OWNER_NAME,   "the brk heap, glibc's main arena" },
	{ ML_ALLOC_GLIBC,    ML_OWNER_LAYOUT, "a malloc arena: aligned to its 64 MiB (32-bit: 1 MiB) reservation" },
	{ ML_ALLOC_GLIBC,    ML_OWNER_HEADER, "malloc chunk headers read from its memory" },
	{ ML_ALLOC_GLIBC,    ML_OWNER_SHAPE,  "the brk heap (no chunk header read)" },
	{ ML_ALLOC_OBMALLOC, ML_OWNER_HEADER, "arenas with CPython pool headers read from its memory" },
	{ ML_ALLOC_OBMALLOC, ML_OWNER_SHAPE,  "1 MiB arena in a CPython process (no pool header read)" },
	{ ML_ALLOC_GO,       ML_OWNER_LAYOUT, "Go binary, mapping at the runtime's heap arena hints (0xc000000000)" },
	{ ML_ALLOC_GO,       ML_OWNER_SHAPE,  "a mapping at the Go runtime's first heap arena hint, 0xc000000000 (binary not read)" },
	{ ML_ALLOC_MLALLOC,  ML_OWNER_NAME,   "mlalloc's [anon:mlalloc] name" },
	{ ML_ALLOC_NONE,     ML_OWNER_NAME,   "the [anon:NAME] the process gave it" },
	{ ML_ALLOC_NONE,     ML_OWNER_HEADER, "its allocator's headers read from its memory" },
	{ ML_ALLOC_NONE,     ML_OWNER_LAYOUT, "a layout only that allocator makes" },
	{ ML_ALLOC_NONE,     ML_OWNER_SHAPE,  "anonymous mapping in a process that loaded that allocator (size and place only)" },
};

const char *ml_allocator_description(enum ml_allocator a)
{
	return (unsigned int)a < ML_ALLOC__COUNT ? allocators[a].description : NULL;
}

const char *ml_region_allocator(const struct ml_region *r)
{
	if (r->allocator == ML_ALLOC_NONE || r->allocator >= ML_ALLOC__COUNT)
		return NULL;
	return r->owner_basis == ML_OWNER_SHAPE ? guesses[r->allocator]
						: allocators[r->allocator].name;
}

const char *ml_region_owner_evidence(const struct ml_region *r)
{
	if (r->allocator == ML_ALLOC_NONE)
		return NULL;
	for (size_t i = 0; i < ML_ARRAY_SIZE(evidence); i++)
		if ((evidence[i].alloc == r->allocator || evidence[i].alloc == ML_ALLOC_NONE) &&
		    evidence[i].basis == r->owner_basis)
			return evidence[i].words;
	return NULL;
}
