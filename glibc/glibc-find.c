/* SPDX-License-Identifier: MIT */
/*
 * glibc-find.c - where glibc malloc's state is in a process: libc.so.6 in
 * its maps, its version (the "release version 2.N" string of its rodata,
 * read from the process), then main_arena and mp_:
 *  - by symbols: the build-id note of the libc mapped in the process names
 *    its debug file (DEBUG_DIR/.build-id/xx/yyyy.debug, libc6-dbg), whose
 *    .symtab gives main_arena and mp_ (local objects), relocated by libc's
 *    load address; the arena found is validated as the scan validates;
 *  - else by a scan of libc's writable data (its rw mapping and the .bss
 *    after it): the malloc_state whose 127 bins are each empty (fd == bk ==
 *    the bin itself) or both linked elsewhere, at least 32 of them empty,
 *    with an aligned next and top, top inside [heap]; and the malloc_par
 *    whose sbrk_base is [heap]'s start followed by sane tcache settings.
 * The path opened is built from the build-id's hex digits only, opened
 * O_NOFOLLOW and checked to be a regular file; the ELF is bounded (its
 * size, the section table inside it, ML_GLIBC_MAX_SYMS symbols).
 */

#include "glibc-layout.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_SYMS (1u << 20)
#define MAX_SCAN ((uint64_t)8 << 20)     /* bytes of libc data scanned */
#define MIN_EMPTY_BINS 32

struct libc_maps { uint64_t base; size_t first, last; };

static bool is_libc(const char *name)
{
	const char *b = name ? strrchr(name, '/') : NULL;

	b = b ? b + 1 : name;
	return b && (!strcmp(b, "libc.so.6") || (!strncmp(b, "libc-2.", 7) && strstr(b, ".so")));
}

static int find_libc(const struct ml_glibc_map *maps, size_t n, struct libc_maps *ret)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		if (!is_libc(maps[i].name))
			continue;
		if (!found) {
			ret->first = i;
			ret->base = maps[i].start - maps[i].offset;
		}
		ret->last = i;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

int ml_glibc_detect(const struct ml_glibc_map *maps, size_t nmaps)
{
	struct libc_maps lm;

	return find_libc(maps, nmaps, &lm);
}

/* ---- version ---- */

static int version_of(struct gl_mem *m, const struct ml_glibc_map *maps, const struct libc_maps *lm,
		      unsigned *ret)
{
	static const char key[] = "release version 2.";
	char *buf = malloc(GL_CACHE_BLOCK + 64);
	uint64_t scanned = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = lm->first; i <= lm->last; i++) {
		const struct ml_glibc_map *mp = &maps[i];
		if (!is_libc(mp->name) || mp->w || mp->x)
			continue;
		for (uint64_t a = mp->start; a < mp->end && scanned < MAX_SCAN; a += GL_CACHE_BLOCK) {
			size_t len = mp->end - a < GL_CACHE_BLOCK + 32 ? mp->end - a : GL_CACHE_BLOCK + 32;
			char *hit;
			scanned += len;
			if (gl_read(m, a, buf, len) < 0)
				break;
			if ((hit = memmem(buf, len, key, sizeof(key) - 1)) &&
			    hit + sizeof(key) + 2 <= buf + len) {
				unsigned v = 0;
				for (char *d = hit + sizeof(key) - 1; d < buf + len && *d >= '0' && *d <= '9'; d++)
					v = v * 10 + (unsigned)(*d - '0');
				free(buf);
				*ret = v;
				return v ? 0 : -ENODATA;
			}
		}
	}
	free(buf);
	return -ENODATA;
}

/* ---- validation shared by both ways ---- */

static bool arena_ok(struct gl_mem *m, const struct gl_layout *L, uint64_t a,
		     const struct ml_glibc_map *heap)
{
	unsigned empty = 0;
	uint64_t top, next, v;

	for (int i = 1; i < GL_NBINS; i++) {
		uint64_t b = gl_bin_at(L, a, i), fd, bk;
		if (gl_word(m, L->W, b + 2 * L->W, &fd) < 0 || gl_word(m, L->W, b + 3 * L->W, &bk) < 0)
			return false;
		if (fd == b && bk == b)
			empty++;
		else if (fd == b || bk == b || !fd || !bk || (fd & (L->W - 1)) || (bk & (L->W - 1)))
			return false;
	}
	if (empty < MIN_EMPTY_BINS || gl_word(m, L->W, a + L->top_off, &top) < 0 ||
	    gl_word(m, L->W, a + L->next_off, &next) < 0 || !next || (next & (L->W - 1)))
		return false;
	if (gl_word(m, L->W, a, &v) < 0 || (v & 0xffffffffu) > 2)   /* mutex */
		return false;
	if (top == gl_bin_at(L, a, 1))
		return true;                     /* malloc never called */
	return heap && top >= heap->start && top < heap->end && !((top + 2 * L->W) & (L->align - 1));
}

static const struct ml_glibc_map *heap_map(const struct ml_glibc_src *src)
{
	for (size_t i = 0; i < src->nmaps; i++)
		if (src->maps[i].heap)
			return &src->maps[i];
	return NULL;
}

/* The 4-int block of malloc_par (n_mmaps, n_mmaps_max, max_n_mmaps,
 * no_dyn_threshold) ends before mmapped_mem, after 4 bytes of padding on
 * 64-bit from 2.35 (hp_flags before it). */
static unsigned nmmaps_back(const struct gl_layout *L)
{
	return L->W == 8 && L->version >= 35 ? 20 : 16;
}

/* mp_ read from its end: sbrk_base at end - 5W. */
static int read_mp(struct gl_mem *m, const struct gl_layout *L, uint64_t end, struct ml_glibc_heap *h)
{
	uint64_t sbrk, bins, count, mm, nm;
	uint64_t mm_off = end - 7 * L->W;

	if (gl_word(m, L->W, end - 5 * L->W, &sbrk) || gl_word(m, L->W, end - 4 * L->W, &bins) ||
	    gl_word(m, L->W, end - 2 * L->W, &count) || gl_word(m, L->W, mm_off, &mm) ||
	    gl_word(m, 4, mm_off - nmmaps_back(L), &nm))
		return -EFAULT;
	h->sbrk_base = sbrk;
	h->tcache_bins = (unsigned)bins;
	h->tcache_count = (unsigned)count;
	h->mmapped_mem = mm;
	h->n_mmaps = nm;
	h->have_mp = true;
	return 0;
}

static bool mp_ok(struct gl_mem *m, const struct gl_layout *L, uint64_t end, uint64_t heap_start)
{
	struct ml_glibc_heap t = { 0 };

	if (read_mp(m, L, end, &t) < 0 || t.sbrk_base != heap_start || !heap_start)
		return false;
	return t.tcache_bins >= 1 && t.tcache_bins <= 128 && t.tcache_count <= 65535 &&
	       t.n_mmaps <= 0x7fffffff && t.mmapped_mem < ((uint64_t)1 << 47);
}

/* ---- by symbols ---- */

struct elfsyms { const unsigned char *p; size_t size; bool is64; };

static bool in_file(const struct elfsyms *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

/* main_arena and mp_ (value, size) from the file's .symtab. */
static int syms_lookup(const struct elfsyms *e, uint64_t *ret_arena, uint64_t *ret_mp, uint64_t *ret_mp_size)
{
	const unsigned char *p = e->p;
	uint64_t shoff, shnum, shentsize;
	unsigned found = 0;

	if (e->is64) {
		const Elf64_Ehdr *eh = (const void *)p;
		shoff = eh->e_shoff; shnum = eh->e_shnum; shentsize = eh->e_shentsize;
		if (shentsize != sizeof(Elf64_Shdr)) return -ENOEXEC;
	} else {
		const Elf32_Ehdr *eh = (const void *)p;
		shoff = eh->e_shoff; shnum = eh->e_shnum; shentsize = eh->e_shentsize;
		if (shentsize != sizeof(Elf32_Shdr)) return -ENOEXEC;
	}
	if (!in_file(e, shoff, shnum * shentsize))
		return -ENOEXEC;
	for (uint64_t i = 0; i < shnum; i++) {
		uint64_t type, off, size, link, entsize, stroff, strsize;
#define SH(T) const T *sh = (const void *)(p + shoff + i * shentsize); \
		type = sh->sh_type; off = sh->sh_offset; size = sh->sh_size; link = sh->sh_link; entsize = sh->sh_entsize
		if (e->is64) { SH(Elf64_Shdr); } else { SH(Elf32_Shdr); }
#undef SH
		if (type != SHT_SYMTAB || link >= shnum || !entsize || !in_file(e, off, size))
			continue;
		if (e->is64) {
			const Elf64_Shdr *ss = (const void *)(p + shoff + link * shentsize);
			stroff = ss->sh_offset; strsize = ss->sh_size;
		} else {
			const Elf32_Shdr *ss = (const void *)(p + shoff + link * shentsize);
			stroff = ss->sh_offset; strsize = ss->sh_size;
		}
		if (!in_file(e, stroff, strsize) || size / entsize > MAX_SYMS)
			return -E2BIG;
		for (uint64_t k = 0; k < size / entsize; k++) {
			uint64_t name, value, ssize;
			const char *s;
			if (e->is64) {
				const Elf64_Sym *sym = (const void *)(p + off + k * entsize);
				name = sym->st_name; value = sym->st_value; ssize = sym->st_size;
			} else {
				const Elf32_Sym *sym = (const void *)(p + off + k * entsize);
				name = sym->st_name; value = sym->st_value; ssize = sym->st_size;
			}
			if (name >= strsize || !memchr(p + stroff + name, 0, strsize - name))
				continue;
			s = (const char *)p + stroff + name;
			if (!strcmp(s, "main_arena")) { *ret_arena = value; found |= 1; }
			if (!strcmp(s, "mp_")) { *ret_mp = value; *ret_mp_size = ssize; found |= 2; }
		}
	}
	return found == 3 ? 0 : -ENOENT;
}

/* The GNU build-id of the ELF mapped at base, read from the process. */
static int build_id(struct gl_mem *m, unsigned W, uint64_t base, unsigned char *id, size_t *ret_len)
{
	unsigned char eh[64];
	uint64_t phoff, phnum, phentsize;

	if (gl_read(m, base, eh, sizeof(eh)) < 0 || memcmp(eh, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (W == 8) {
		const Elf64_Ehdr *e = (const void *)eh;
		phoff = e->e_phoff; phnum = e->e_phnum; phentsize = sizeof(Elf64_Phdr);
	} else {
		const Elf32_Ehdr *e = (const void *)eh;
		phoff = e->e_phoff; phnum = e->e_phnum; phentsize = sizeof(Elf32_Phdr);
	}
	for (uint64_t i = 0; i < phnum && i < 64; i++) {
		unsigned char ph[56], note[512];
		uint64_t type, off, size;
		if (gl_read(m, base + phoff + i * phentsize, ph, phentsize) < 0)
			return -EFAULT;
		if (W == 8) { const Elf64_Phdr *p = (const void *)ph; type = p->p_type; off = p->p_vaddr; size = p->p_filesz; }
		else { const Elf32_Phdr *p = (const void *)ph; type = p->p_type; off = p->p_vaddr; size = p->p_filesz; }
		if (type != PT_NOTE || size > sizeof(note) || gl_read(m, base + off, note, size) < 0)
			continue;
		for (uint64_t o = 0; o + 12 <= size; ) {
			uint32_t nsz, dsz, nt;
			memcpy(&nsz, note + o, 4); memcpy(&dsz, note + o + 4, 4); memcpy(&nt, note + o + 8, 4);
			uint64_t d = o + 12 + ((nsz + 3) & ~3u);
			if (d + dsz > size)
				break;
			if (nt == NT_GNU_BUILD_ID && nsz == 4 && !memcmp(note + o + 12, "GNU", 4) &&
			    dsz >= 2 && dsz <= 64) {
				memcpy(id, note + d, dsz);
				*ret_len = dsz;
				return 0;
			}
			o = d + ((dsz + 3) & ~3u);
		}
	}
	return -ENOENT;
}

static int by_symbols(struct gl_mem *m, const struct gl_layout *L, uint64_t base, const char *dir,
		      uint64_t *ret_arena, uint64_t *ret_mp_end)
{
	unsigned char id[64];
	size_t n;
	char path[4096];
	int fd, r, len;
	struct stat st;
	struct elfsyms e;
	void *p;
	uint64_t arena, mp, mpsize;

	if ((r = build_id(m, L->W, base, id, &n)))
		return r;
	len = snprintf(path, sizeof(path), "%s/.build-id/%02x/", dir ? dir : "/usr/lib/debug", id[0]);
	for (size_t i = 1; i < n && len > 0 && (size_t)len + 8 < sizeof(path); i++)
		len += snprintf(path + len, sizeof(path) - (size_t)len, "%02x", id[i]);
	if (len <= 0 || (size_t)len + 8 >= sizeof(path))
		return -ENAMETOOLONG;
	strcat(path, ".debug");
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 64 ||
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		return -ENOEXEC;
	}
	close(fd);
	e = (struct elfsyms){ p, (size_t)st.st_size, ((unsigned char *)p)[EI_CLASS] == ELFCLASS64 };
	r = memcmp(p, ELFMAG, SELFMAG) || e.is64 != (L->W == 8) ? -ENOEXEC
		: syms_lookup(&e, &arena, &mp, &mpsize);
	munmap(p, (size_t)st.st_size);
	if (r)
		return r;
	*ret_arena = base + arena;
	*ret_mp_end = base + mp + mpsize;
	return 0;
}

/* ---- by scan ---- */

static int by_scan(struct gl_mem *m, const struct gl_layout *L, const struct ml_glibc_src *src,
		   const struct libc_maps *lm, uint64_t *ret_arena, uint64_t *ret_mp_end)
{
	const struct ml_glibc_map *heap = heap_map(src);
	uint64_t scanned = 0, arena = 0, mp_end = 0;
	size_t last = lm->last;

	/* libc's .bss: the anonymous rw mapping right after its last mapping */
	if (last + 1 < src->nmaps && src->maps[last + 1].anon && !src->maps[last + 1].heap &&
	    src->maps[last + 1].start == src->maps[last].end)
		last++;
	for (size_t i = lm->first; i <= last && !(arena && mp_end); i++) {
		const struct ml_glibc_map *mp = &src->maps[i];
		if (!mp->w || !mp->r)
			continue;
		for (uint64_t a = mp->start; a + L->state_size <= mp->end && scanned < MAX_SCAN; a += L->W) {
			scanned += L->W;
			if (!arena && arena_ok(m, L, a, heap))
				arena = a;
			if (!mp_end && heap && mp_ok(m, L, a + 9 * L->W, heap->start))
				mp_end = a + 9 * L->W;
		}
	}
	if (!arena)
		return -ENODATA;
	*ret_arena = arena;
	*ret_mp_end = mp_end;
	return 0;
}

int ml_glibc_heap_read(const struct ml_glibc_src *src, const char *debug_dir,
		       struct ml_glibc_heap **ret, struct ml_glibc_problem *ret_bad)
{
	struct libc_maps lm;
	struct gl_layout L;
	struct gl_mem m;
	struct ml_glibc_heap tmp = { 0 };
	uint64_t arena = 0, mp_end = 0;
	enum ml_glibc_found how = ML_GLIBC_BY_SYMBOLS;
	unsigned v = 0;
	int r;

	if ((r = find_libc(src->maps, src->nmaps, &lm)))
		return r;
	if ((r = gl_mem_init(&m, src)))
		return r;
	if ((r = version_of(&m, src->maps, &lm, &v)))
		goto out;
	if (v < 26) {
		r = -ENOTSUP;
		goto out;
	}
	gl_layout_init(&L, src->word, v);
	if (by_symbols(&m, &L, lm.base, debug_dir, &arena, &mp_end) < 0 ||
	    !arena_ok(&m, &L, arena, heap_map(src))) {
		how = ML_GLIBC_BY_SCAN;
		if ((r = by_scan(&m, &L, src, &lm, &arena, &mp_end)))
			goto out;
	}
	if (mp_end && read_mp(&m, &L, mp_end, &tmp) < 0)
		mp_end = 0;
	gl_mem_done(&m);
	if ((r = ml_glibc_heap_walk(src, v, arena, mp_end, tmp.sbrk_base, ret, ret_bad)))
		return r;
	(*ret)->found = how;
	(*ret)->have_mp = tmp.have_mp;
	(*ret)->tcache_bins = tmp.tcache_bins;
	(*ret)->tcache_count = tmp.tcache_count;
	(*ret)->n_mmaps = tmp.n_mmaps;
	(*ret)->mmapped_mem = tmp.mmapped_mem;
	if (tmp.have_mp) {
		(*ret)->mmap_chunks = tmp.n_mmaps;
		(*ret)->mmap_bytes = tmp.mmapped_mem;
	}
	return 0;
out:
	gl_mem_done(&m);
	return r;
}
