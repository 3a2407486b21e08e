/* SPDX-License-Identifier: MIT */
/*
 * pool.c - an arena for everything a snapshot points to (names, sections).
 *
 * Allocations are carved from chunks of at least 64 KiB -- past 256 KiB in
 * all, of whole huge pages (hugemem.c) -- and freed together by
 * ml__pool_free(); none is freed alone.  Invariant: chunk->used <= size.
 */
#include "ml-core.h"

#include <stdlib.h>
#include <string.h>

#define POOL_CHUNK_MIN (64 * 1024)
#define POOL_ALIGN 16

struct ml__pool_chunk {
	struct ml__pool_chunk *next;
	size_t size, used;
	size_t total;             /* sizes of this chunk and all before it */
	bool huge;                /* from ml__huge_alloc */
	max_align_t data[];
};

void *ml__alloc(struct ml_snapshot *snap, size_t size)
{
	struct ml__pool_chunk *c = snap->pool;

	size = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (!c || c->size - c->used < size) {
		size_t csize = size > POOL_CHUNK_MIN ? size : POOL_CHUNK_MIN;
		size_t total = c ? c->total : 0;

		/* Past ML__HUGE_MIN in all, chunks of huge pages (hugemem.c). */
		c = total + csize >= ML__HUGE_MIN ? ml__huge_alloc(sizeof(*c) + csize) : NULL;
		bool huge = c != NULL;
		if (huge)
			csize = ml__huge_size(sizeof(*c) + csize) - sizeof(*c);
		else if (!(c = malloc(sizeof(*c) + csize)))
			return NULL;
		c->huge = huge;
		c->total = total + csize;
		c->size = csize;
		c->used = 0;
		c->next = snap->pool;
		snap->pool = c;
	}
	assert(c->used <= c->size && c->size - c->used >= size);
	void *p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *ml__strndup(struct ml_snapshot *snap, const char *s, size_t n)
{
	char *p = ml__alloc(snap, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *ml__strdup(struct ml_snapshot *snap, const char *s)
{
	return ml__strndup(snap, s, strlen(s));
}

void ml__pool_free(struct ml_snapshot *snap)
{
	struct ml__pool_chunk *c = snap->pool, *next;

	for (; c; c = next) {
		next = c->next;
		ml__grow_free(c, sizeof(*c) + c->size, c->huge);
	}
	snap->pool = NULL;
}
