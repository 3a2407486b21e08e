/* SPDX-License-Identifier: MIT */
/*
 * owners.c - name the allocator or runtime that owns each anonymous
 * mapping, and make the memory it manages of kind heap.
 *
 * Two passes around the thread-stack pass (classify.c):
 *  - ml__classify_owners, before it: the kernel's names ([heap], the
 *    [anon:NAME]s allocators give, table below), Go's heap arenas (a Go
 *    binary's mappings at the runtime's arena hints, 0xc000000000 and up),
 *    glibc's arena reservations (aligned to HEAP_MAX_SIZE), then the
 *    structures an allocator writes at the start of its mappings, read
 *    from /proc/PID/mem and checked: glibc's mmap'ed chunk header
 *    (IS_MMAPPED, a size that fits the mapping) and CPython obmalloc's
 *    pool header (szidx and maxnextoffset agree with the pool size).
 *    A mapping the kernel merged from several (arenas next to chunks) is
 *    walked from its start, one recognised block after another; it is
 *    the majority owner's if they cover at least half of it.
 *  - ml__classify_owners_late, after it: what is still plain anon in a
 *    process that loaded jemalloc, tcmalloc, mimalloc or the JVM, is
 *    CPython or node, gets that owner as a guess (ML_OWNER_SHAPE), which
 *    the renderers say in words ("probably jemalloc"); where the memory
 *    could not be read, a big one in a glibc process is probably glibc's.
 * Bounds: at most PROBE_STEPS blocks walked per mapping and PROBE_BUDGET
 * reads per snapshot, each of at most 64 bytes, and only of pages
 * pagemap says are in RAM (a read would fault in the others: the zero
 * page, a swap-in); every size read is checked against the mapping
 * before it moves the walk.  No memory access (no
 * permission, a saved tree) falls back to the shape guesses.
 */
#include "ml-core.h"

#include <string.h>

#define PROBE_STEPS  256u
#define PROBE_BUDGET 16384u
/* Smaller mappings are not read: glibc maps chunks from its mmap
 * threshold (128 KiB unless lowered), CPython arenas are 256 KiB or more;
 * a process of 20,000 small mappings costs no reads. */
#define PROBE_MIN    (64u << 10)

static bool is_plain_anon(const struct ml_region *r)
{
	return r->inode == 0 && r->name[0] == '\0';
}

static void own(struct ml_region *r, enum ml_allocator a, enum ml_owner_basis b,
		const char *object)
{
	r->allocator = (uint8_t)a;
	r->owner_basis = (uint8_t)b;
	if (r->perms & (ML_PERM_READ | ML_PERM_WRITE))
		r->kind = ML_KIND_HEAP;
	if (object)
		r->object = object;
}

/* ---- the kernel's names ---- */

/* [anon:NAME]s that allocators give their mappings (prefix of NAME). */
static const struct {
	const char *prefix;
	enum ml_allocator alloc;
	const char *object;
} anon_names[] = {
	{ " glibc: malloc arena", ML_ALLOC_GLIBC,    "[malloc arena]" },
	{ " glibc: malloc",       ML_ALLOC_GLIBC,    "[malloc mmap chunk]" },
	{ "mlalloc",              ML_ALLOC_MLALLOC,  NULL },
	{ "jemalloc",             ML_ALLOC_JEMALLOC, NULL },
	{ "mimalloc",             ML_ALLOC_MIMALLOC, NULL },
	{ "tcmalloc",             ML_ALLOC_TCMALLOC, NULL },
	{ "scudo:",               ML_ALLOC_NAMED,    NULL },
	{ "libc_malloc",          ML_ALLOC_NAMED,    NULL },
	{ "Go: heap",             ML_ALLOC_GO,       NULL },
};

static bool by_anon_name(struct ml_region *r)
{
	if (r->inode != 0 || strncmp(r->name, "[anon:", 6) != 0)
		return false;
	for (size_t i = 0; i < ML_ARRAY_SIZE(anon_names); i++)
		if (!strncmp(r->name + 6, anon_names[i].prefix, strlen(anon_names[i].prefix))) {
			own(r, anon_names[i].alloc, ML_OWNER_NAME, anon_names[i].object);
			return true;
		}
	return false;
}

/* ---- glibc: the brk heap and mmap'ed chunks ---- */

#define IS_MMAPPED     2u
#define NON_MAIN_ARENA 4u
#define SIZE_BITS      7u

/* The brk heap starts with glibc's first chunk (prev_size 0, PREV_INUSE,
 * aligned size): up to 8 chunks must walk inside it. */
static bool glibc_brk_chunks(struct ml__probe *p, const struct ml_region *r)
{
	uint64_t pos = r->start, align = 2 * p->word;
	unsigned char b[16];

	for (int i = 0; i < 8 && pos + 2 * p->word <= r->end; i++) {
		if (!ml__probe_read(p, pos, b, 2 * p->word))
			return false;
		uint64_t size = ml__probe_word(p, b, 1);
		uint64_t len = size & ~(uint64_t)SIZE_BITS;
		if ((i == 0 && (ml__probe_word(p, b, 0) != 0 || !(size & 1))) ||
		    (size & (IS_MMAPPED | NON_MAIN_ARENA)) || len < 2 * align ||
		    len % align || len > r->end - pos)
			return false;
		pos += len;
		if (pos == r->end)
			return true;
	}
	return true;
}

/* An mmap'ed chunk at pos: glibc puts its header at pos + correction
 * (0, or what aligns the user pointer: 8 bytes on i386, where
 * MALLOC_ALIGNMENT is 16 and a header 8), with prev_size = the
 * correction, IS_MMAPPED set, NON_MAIN_ARENA clear, and correction + size
 * a whole number of pages inside the mapping.  Returns the bytes it
 * spans, 0 if it is not one. */
static uint64_t glibc_mmap_chunk(struct ml__probe *p, uint64_t pos, uint64_t end)
{
	unsigned char b[64];
	uint64_t room = end - pos;

	if (room < p->page || !ml__probe_read(p, pos, b, sizeof(b)))
		return 0;
	for (uint64_t corr = 0; corr < 16; corr += p->word) {
		uint64_t size = ml__probe_word(p, b, corr / p->word + 1);
		uint64_t span = corr + (size & ~(uint64_t)SIZE_BITS);
		if (ml__probe_word(p, b, corr / p->word) == corr &&
		    (size & (IS_MMAPPED | NON_MAIN_ARENA)) == IS_MMAPPED &&
		    span % p->page == 0 && span != 0 && span <= room)
			return span;
	}
	return 0;
}

/* ---- CPython obmalloc ---- */

/* Arena and pool sizes: 3.10+ (radix tree: 1 MiB / 16 KiB), older 256 KiB / 4 KiB. */
static const struct { uint64_t arena, pool; } obm_geom[] = {
	{ 1u << 20, 1u << 14 }, { 256u << 10, 4u << 10 },
};

/* struct pool_header: ref, freeblock, nextpool, prevpool (pointers), then
 * arenaindex, szidx, nextoffset, maxnextoffset (uint).  A pool of class
 * szidx holds blocks of (szidx + 1) * ALIGNMENT bytes and maxnextoffset
 * is the pool size less one block.  Returns the arena size, 0 if none. */
static uint64_t obmalloc_arena(struct ml__probe *p, uint64_t pos, uint64_t end)
{
	unsigned char b[48];
	uint64_t align = p->word == 8 ? 16 : 8;

	for (size_t g = 0; g < ML_ARRAY_SIZE(obm_geom); g++) {
		uint64_t arena = obm_geom[g].arena, pool = obm_geom[g].pool;
		uint64_t first = (pos + pool - 1) & ~(pool - 1);
		if (end - pos < arena || !ml__probe_read(p, first, b, 4 * p->word + 16))
			continue;
		uint32_t u[4];
		memcpy(u, b + 4 * p->word, sizeof(u));
		uint64_t bsize = ((uint64_t)u[1] + 1) * align;
		if (u[1] < 64 && u[3] == pool - bsize && u[2] <= pool && u[2] >= 4 * p->word + 16)
			return arena;
	}
	return 0;
}

/* Walk an anonymous rw mapping from its start, block by block. */
static void by_headers(struct ml__probe *p, struct ml_region *r)
{
	uint64_t pos = r->start, bytes[ML_ALLOC__COUNT] = { 0 };

	for (unsigned int step = 0; step < PROBE_STEPS && pos < r->end; step++) {
		uint64_t n;
		if ((n = glibc_mmap_chunk(p, pos, r->end)))
			bytes[ML_ALLOC_GLIBC] += n;
		else if ((n = obmalloc_arena(p, pos, r->end)))
			bytes[ML_ALLOC_OBMALLOC] += n;
		else
			break;
		pos += n;
	}
	/* Most of it recognised, or the kernel merged it with mappings of
	 * someone else's that outweigh it. */
	if (2 * (bytes[ML_ALLOC_GLIBC] + bytes[ML_ALLOC_OBMALLOC]) < r->end - r->start)
		return;
	if (bytes[ML_ALLOC_OBMALLOC] > bytes[ML_ALLOC_GLIBC])
		own(r, ML_ALLOC_OBMALLOC, ML_OWNER_HEADER, "[obmalloc arena]");
	else
		own(r, ML_ALLOC_GLIBC, ML_OWNER_HEADER, "[malloc mmap chunk]");
}

/* ---- Go ---- */

/* A Go binary carries .gopclntab (kept by strip) or .go.buildinfo. */
static bool is_go(const struct ml_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		for (size_t s = 0; s < r->nsections; s++)
			if (!strcmp(r->sections[s].name, ".gopclntab") ||
			    !strcmp(r->sections[s].name, ".go.buildinfo"))
				return true;
	}
	return false;
}

/* The runtime's arena hints on 64-bit: i << 40 | 0x00c0 << 32; its heap
 * grows up from each. */
static bool at_go_hint(const struct ml_snapshot *snap, const struct ml_region *r)
{
	uint64_t low = r->start & ((1ull << 40) - 1);

	return !snap->proc.is_32bit && low >= 0xc000000000ull && r->start < (0x7full << 40);
}

/* Without sections (watch's samples, --no-elf): a mapping at exactly the
 * first hint, 0xc000000000, is the shape of a Go heap, a guess. */
static bool first_go_hint(const struct ml_snapshot *snap)
{
	const struct ml_region *r = ml_snapshot_find(snap, 0xc000000000ull);

	return !snap->proc.is_32bit && r && r->start == 0xc000000000ull && is_plain_anon(r);
}

/* ---- the passes ---- */

void ml__classify_owners(struct ml_snapshot *snap)
{
	struct ml__probe p;
	bool go = is_go(snap), go_hint = !go && first_go_hint(snap);

	snap->mem_unread = ml__probe_open(snap, PROBE_BUDGET, &p) < 0;
	for (size_t i = 0; i < snap->nregions; i++) {
		struct ml_region *r = &snap->regions[i];
		if (r->kind == ML_KIND_HEAP && !strcmp(r->name, "[heap]")) {
			/* glibc's main arena when its chunks say so; else a
			 * guess, settled by the late pass's libraries */
			bool hdr = glibc_brk_chunks(&p, r);
			r->allocator = ML_ALLOC_GLIBC;
			r->owner_basis = hdr ? ML_OWNER_HEADER : ML_OWNER_SHAPE;
			continue;
		}
		if (by_anon_name(r) || !is_plain_anon(r))
			continue;
		if ((go || go_hint) && at_go_hint(snap, r)) {
			own(r, ML_ALLOC_GO, go ? ML_OWNER_LAYOUT : ML_OWNER_SHAPE, "[go heap arena]");
			continue;
		}
		/* glibc makes an arena's head rw-p as it creates it: a whole
		 * aligned reservation with no head is someone else's. */
		struct ml_region *h = i > 0 ? &snap->regions[i - 1] : NULL;
		if (r->kind == ML_KIND_RESERVED && ml__is_arena_reservation(snap, i) &&
		    h && h->end == r->start && is_plain_anon(h) && h->kind == ML_KIND_ANON) {
			own(r, ML_ALLOC_GLIBC, ML_OWNER_LAYOUT, "[malloc arena]");
			own(h, ML_ALLOC_GLIBC, ML_OWNER_LAYOUT, "[malloc arena]");
			continue;
		}
		if (r->kind == ML_KIND_ANON && (r->perms & ML_PERM_READ) &&
		    (r->perms & ML_PERM_WRITE) && r->end - r->start >= PROBE_MIN)
			by_headers(&p, r);
	}
	ml__probe_close(&p);
}

/* Libraries whose presence makes a plain anonymous mapping probably
 * theirs (basename prefix): the smallest such mapping, with multiple a
 * size it must be a multiple of (CPython's arenas, 256 KiB or 1 MiB,
 * which the kernel merges when they are adjacent), and whether the brk
 * heap is theirs (tcmalloc takes memory with sbrk).  The last row, glibc
 * over its mmap threshold, is taken only when the memory could not be
 * read (with it, a chunk header said no), after the first row that
 * matches a loaded library. */
static const struct guess {
	const char *lib;
	enum ml_allocator alloc;
	uint64_t min_size, multiple;
	bool brk;
} loaded[] = {
	{ "libjemalloc.so",        ML_ALLOC_JEMALLOC, 1u << 20,   0,          false },
	{ "libtcmalloc",           ML_ALLOC_TCMALLOC, 1u << 20,   0,          true },
	{ "libmimalloc",           ML_ALLOC_MIMALLOC, 1u << 20,   0,          false },
	{ "libmlalloc.so",         ML_ALLOC_MLALLOC,  1u << 20,   0,          false },
	{ "libjvm.so",             ML_ALLOC_JVM,      1u << 20,   0,          false },
	{ "libpython3",            ML_ALLOC_OBMALLOC, 256u << 10, 256u << 10, false },
	{ "python3",               ML_ALLOC_OBMALLOC, 256u << 10, 256u << 10, false },
	{ "node",                  ML_ALLOC_V8,       256u << 10, 0,          false },
};
static const struct guess unread_glibc = { "libc.so.6", ML_ALLOC_GLIBC, 128u << 10, 0, false };

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The first row of loaded[] a mapped executable names, or NULL; and
 * whether glibc is mapped. */
static const struct guess *loaded_owner(const struct ml_snapshot *snap, bool *ret_libc)
{
	const struct guess *g = NULL;

	*ret_libc = false;
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		if (r->inode == 0 || !(r->perms & ML_PERM_EXEC) || r->name[0] != '/')
			continue;
		if (!strncmp(base(r->name), unread_glibc.lib, strlen(unread_glibc.lib)))
			*ret_libc = true;
		for (size_t l = 0; l < ML_ARRAY_SIZE(loaded) && !g; l++)
			if (!strncmp(base(r->name), loaded[l].lib, strlen(loaded[l].lib)))
				g = &loaded[l];
	}
	return g;
}

/* Region i sits on a small PROT_NONE mapping: the shape of a thread's
 * stack whose stack pointer was not read (a running thread), never
 * guessed to be an allocator's. */
static bool above_guard(const struct ml_snapshot *snap, size_t i)
{
	const struct ml_region *g = i > 0 ? &snap->regions[i - 1] : NULL;

	return g && g->end == snap->regions[i].start && is_plain_anon(g) &&
	       !(g->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)) &&
	       g->end - g->start <= PROBE_MIN;
}

static bool guess_fits(const struct guess *g, const struct ml_region *r)
{
	uint64_t size = r->end - r->start;

	return g && size >= g->min_size && (!g->multiple || size % g->multiple == 0);
}

void ml__classify_owners_late(struct ml_snapshot *snap)
{
	bool libc;
	const struct guess *g = loaded_owner(snap, &libc);
	const struct guess *fallback = libc && snap->mem_unread ? &unread_glibc : NULL;

	if (!g && !fallback)
		return;
	for (size_t i = 0; i < snap->nregions; i++) {
		struct ml_region *r = &snap->regions[i];
		if (g && r->kind == ML_KIND_HEAP && r->owner_basis == ML_OWNER_SHAPE &&
		    !strcmp(r->name, "[heap]") && g->brk) {
			r->allocator = (uint8_t)g->alloc;
			continue;
		}
		if (r->kind != ML_KIND_ANON || !is_plain_anon(r) || r->tid ||
		    !(r->perms & ML_PERM_WRITE) || (r->perms & ML_PERM_EXEC) ||   /* JIT code */
		    above_guard(snap, i))
			continue;
		if (guess_fits(g, r))
			own(r, g->alloc, ML_OWNER_SHAPE, NULL);
		else if (guess_fits(fallback, r))
			own(r, fallback->alloc, ML_OWNER_SHAPE, NULL);
	}
}
