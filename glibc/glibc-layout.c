/* SPDX-License-Identifier: MIT */
/*
 * glibc-layout.c - glibc malloc's structure offsets and chunk arithmetic for
 * a word size and version (see glibc-layout.h), and the block cache every
 * read of the target goes through: GL_CACHE_SLOTS blocks of 64 KiB, direct
 * mapped, so a heap walk costs one read per 64 KiB and a list walk one per
 * block it touches; memory is bounded by the cache (1 MiB).
 */
#include "glibc-layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gl_layout_init(struct gl_layout *l, unsigned W, unsigned v)
{
	memset(l, 0, sizeof(*l));
	l->W = W;
	l->version = v;
	l->align = 16;                          /* x86-64, and i386 since 2.26 */
	l->minsize = (4 * W + l->align - 1) & ~(l->align - 1);
	l->nfast = W == 8 ? 10 : 11;            /* fastbin_index(request2size(80 * W / 4)) + 1 */
	/* mutex, flags, have_fastchunks (2.27+): 3 ints, then pointers */
	l->fast_off = v >= 27 ? (W == 8 ? 16 : 12) : 8;
	l->top_off = l->fast_off + l->nfast * W;
	l->bins_off = l->top_off + 2 * W;       /* top, last_remainder */
	l->next_off = l->bins_off + (GL_NBINS * 2 - 2) * W + 16;  /* bins, binmap */
	l->attached_off = l->next_off + 2 * W;  /* next, next_free */
	l->sysmem_off = l->attached_off + W;
	l->state_size = l->sysmem_off + 2 * W;  /* system_mem, max_system_mem */
	l->tc_count_size = v >= 30 ? 2 : 1;
	l->tc_chunk = (unsigned)gl_request2size(l, GL_TCACHE_BINS * (l->tc_count_size + W));
	l->heap_max = W == 8 ? (uint64_t)64 << 20 : (uint64_t)1 << 20;
	l->safe = v >= 32;
}

uint64_t gl_request2size(const struct gl_layout *l, uint64_t req)
{
	uint64_t mask = l->align - 1;

	if (req + l->W + mask < l->minsize)
		return l->minsize;
	return (req + l->W + mask) & ~mask;
}

int gl_fastbin_index(const struct gl_layout *l, uint64_t sz)
{
	return (int)(sz >> (l->W == 8 ? 4 : 3)) - 2;
}

int gl_tcache_index(const struct gl_layout *l, uint64_t sz)
{
	if (sz < l->minsize)
		return -1;
	return (int)((sz - l->minsize + l->align - 1) / l->align);
}

/* largebin_index_64 and largebin_index_32_big: {shift, limit, base} rows */
static const struct { unsigned shift, limit; int base64, base32; } large_rows[] = {
	{ 6, 48, 48, 49 },   /* 32-bit: limit 45 */
	{ 9, 20, 91, 91 },
	{ 12, 10, 110, 110 },
	{ 15, 4, 119, 119 },
	{ 18, 2, 124, 124 },
};

int gl_bin_index(const struct gl_layout *l, uint64_t sz)
{
	bool corr = l->align > 2 * l->W;        /* SMALLBIN_CORRECTION */
	uint64_t min_large = (64 - corr) * (uint64_t)l->align;

	if (sz < min_large)
		return (int)(sz >> 4) + corr;
	for (size_t i = 0; i < sizeof(large_rows) / sizeof(large_rows[0]); i++) {
		unsigned limit = i == 0 && l->W == 4 ? 45 : large_rows[i].limit;
		if ((sz >> large_rows[i].shift) <= limit)
			return (l->W == 8 ? large_rows[i].base64 : large_rows[i].base32) +
			       (int)(sz >> large_rows[i].shift);
	}
	return 126;
}

uint64_t gl_bin_at(const struct gl_layout *l, uint64_t arena, int i)
{
	return arena + l->bins_off + (uint64_t)(i - 1) * 2 * l->W - 2 * l->W;
}

int gl_mem_init(struct gl_mem *m, const struct ml_glibc_src *src)
{
	memset(m, 0, sizeof(*m));
	m->src = src;
	m->buf = malloc((size_t)GL_CACHE_SLOTS * GL_CACHE_BLOCK);
	return m->buf ? 0 : -ENOMEM;
}

void gl_mem_done(struct gl_mem *m)
{
	free(m->buf);
	m->buf = NULL;
}

/* The block at base (read on a miss: whole, else page by page, a bit per
 * page that could be read). */
static unsigned char *block(struct gl_mem *m, uint64_t base, uint16_t *ret_pages)
{
	unsigned slot = (unsigned)((base / GL_CACHE_BLOCK) % GL_CACHE_SLOTS);
	unsigned char *b = m->buf + (size_t)slot * GL_CACHE_BLOCK;

	if (!m->valid[slot] || m->tag[slot] != base) {
		uint16_t pages = 0;
		if (m->src->read(m->src->ctx, base, b, GL_CACHE_BLOCK) == 0) {
			pages = 0xffff;
		} else {
			for (unsigned i = 0; i < GL_CACHE_BLOCK / 4096; i++)
				if (m->src->read(m->src->ctx, base + i * 4096, b + i * 4096, 4096) == 0)
					pages |= (uint16_t)(1u << i);
		}
		m->tag[slot] = base;
		m->pages[slot] = pages;
		m->valid[slot] = true;
	}
	*ret_pages = m->pages[slot];
	return b;
}

int gl_read(struct gl_mem *m, uint64_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;

	if (addr + len < addr)
		return -EFAULT;
	while (len) {
		uint64_t base = addr & ~(uint64_t)(GL_CACHE_BLOCK - 1);
		uint32_t off = (uint32_t)(addr - base), pend = (off & ~4095u) + 4096;
		uint16_t pages;
		unsigned char *b = block(m, base, &pages);
		size_t n = pend - off < len ? pend - off : len;

		if (!(pages >> (off / 4096) & 1))
			return -EFAULT;
		memcpy(out, b + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int gl_word(struct gl_mem *m, unsigned W, uint64_t addr, uint64_t *ret)
{
	if (W == 8) {
		uint64_t v;
		int r = gl_read(m, addr, &v, 8);
		if (!r)
			*ret = v;
		return r;
	} else {
		uint32_t v;
		int r = gl_read(m, addr, &v, 4);
		if (!r)
			*ret = v;
		return r;
	}
}
