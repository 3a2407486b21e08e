/*
 * pool.c - an arena for everything a snapshot points to (names, sections).
 *
 * Allocations are carved from chunks of at least 64 KiB and freed together
 * by ml__pool_free(); none is freed alone.  Invariant: chunk->used <= size.
 */
#include "ml-private.h"

#include <stdlib.h>
#include <string.h>

#define POOL_CHUNK_MIN (64 * 1024)
#define POOL_ALIGN 16

struct ml__pool_chunk {
	struct ml__pool_chunk *next;
	size_t size, used;
	max_align_t data[];
};

void *ml__alloc(struct ml_snapshot *snap, size_t size)
{
	struct ml__pool_chunk *c = snap->pool;

	size = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (!c || c->size - c->used < size) {
		size_t csize = size > POOL_CHUNK_MIN ? size : POOL_CHUNK_MIN;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = snap->pool;
		snap->pool = c;
	}
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
		free(c);
	}
	snap->pool = NULL;
}
