/* SPDX-License-Identifier: MIT */
/* test-shadow: a long random sequence of malloc-family calls checked against
 * a shadow model (slot -> size, alignment, seed of its contents).  After each
 * call the model's claims are checked: contents kept (also across realloc),
 * calloc memory zero, alignment, usable size >= request; every 4096 calls no
 * two live blocks overlap and the heap invariants hold; at the end the
 * published per-class counters agree with the model's live counts. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "mlalloc.h"
#include "tcheck.h"

#define NSLOTS 1500
#define OPS 300000

struct slot { uint8_t *p; size_t size, align; uint8_t seed; };
static struct slot slots[NSLOTS];

static size_t pick_size(unsigned long long *r)
{
	unsigned long long x = trand(r);
	switch (x % 64) {
	case 0: return x % 4 ? x % 200000 : 500000 + x % (1 << 20);
	case 1 ... 4: return x % 70000;
	default: return x % 400;
	}
}

static void fill(struct slot *s, size_t from)
{
	for (size_t i = from; i < s->size; i++)
		s->p[i] = (uint8_t)(s->seed + i * 13);
}

static void verify(const struct slot *s, size_t upto)
{
	for (size_t i = 0; i < upto && i < s->size; i++)
		if (s->p[i] != (uint8_t)(s->seed + i * 13)) {
			fprintf(stderr, "block %p size %zu byte %zu changed\n", (void *)s->p, s->size, i);
			exit(1);
		}
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct slot *)a)->p, y = (uintptr_t)((const struct slot *)b)->p;
	return x < y ? -1 : x > y;
}

static void check_no_overlap(void)
{
	static struct slot live[NSLOTS];
	size_t n = 0;
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].p)
			live[n++] = slots[i];
	qsort(live, n, sizeof(live[0]), cmp_ptr);
	for (size_t i = 1; i < n; i++)
		CHECK(live[i - 1].p + malloc_usable_size(live[i - 1].p) <= live[i].p);
}

static void live_by_class(uint64_t out[MLA_NCLASSES], uint64_t *large)
{
	struct mlalloc_pub_header *h = mla__pub();
	CHECK(h != NULL);
	for (unsigned c = 0; c < MLA_NCLASSES; c++) {
		out[c] = 0;
		for (uint64_t i = 0; i < h->heaps_used; i++) {
			struct mlalloc_pub_heap *hp = (void *)((uint8_t *)h + h->heaps_off + i * h->heap_stride);
			out[c] += hp->nmalloc[c] - hp->nfree[c];
		}
	}
	*large = h->large_live;
}

int main(void)
{
	unsigned long long r = 12345;
	uint64_t base[MLA_NCLASSES], base_large, now[MLA_NCLASSES], now_large;
	live_by_class(base, &base_large);
	for (int op = 0; op < OPS; op++) {
		struct slot *s = &slots[trand(&r) % NSLOTS];
		unsigned kind = (unsigned)(trand(&r) % 10);
		if (s->p) {
			verify(s, s->size);
			CHECK(malloc_usable_size(s->p) >= s->size);
			if (kind < 3) {   /* realloc keeps the prefix */
				size_t size = pick_size(&r);
				uint8_t *q = realloc(s->p, size ? size : 1);
				CHECK(q != NULL);
				size_t keep = s->size < size ? s->size : size;
				s->p = q;
				s->size = size ? size : 1;
				s->align = 16;
				verify(s, keep);
				fill(s, keep);
			} else {
				free(s->p);
				s->p = NULL;
			}
			continue;
		}
		s->size = pick_size(&r);
		s->seed = (uint8_t)trand(&r);
		s->align = 16;
		if (kind < 5) {
			s->p = malloc(s->size);
		} else if (kind < 7) {
			s->p = calloc(1, s->size);
			CHECK(s->p != NULL);
			for (size_t i = 0; i < s->size; i++)
				CHECK(s->p[i] == 0);
		} else {
			s->align = (size_t)1 << (4 + trand(&r) % (kind == 9 ? 18 : 9));
			void *q = NULL;
			CHECK(posix_memalign(&q, s->align, s->size) == 0);
			s->p = q;
		}
		CHECK(s->p != NULL);
		CHECK((uintptr_t)s->p % s->align == 0);
		fill(s, 0);
		if (op % 4096 == 0) {
			check_no_overlap();
			CHECK_EQ(mlalloc_check(), 0);
		}
	}
	/* The published counters see exactly the model's live blocks. */
	uint64_t model[MLA_NCLASSES] = { 0 }, model_large = 0;
	for (int i = 0; i < NSLOTS; i++) {
		if (!slots[i].p)
			continue;
		const uint32_t *hdr = mla__hdr_of(slots[i].p);
		if (*hdr == MLA_MAGIC_LARGE)
			model_large++;
		else
			model[mla_size_class(malloc_usable_size(slots[i].p))]++;
	}
	live_by_class(now, &now_large);
	for (unsigned c = 0; c < MLA_NCLASSES; c++)
		CHECK_EQ(now[c] - base[c], model[c]);
	CHECK_EQ(now_large - base_large, model_large);
	for (int i = 0; i < NSLOTS; i++)
		free(slots[i].p);
	CHECK_EQ(mlalloc_check(), 0);
	printf("shadow: %d operations match the model\n", OPS);
	return 0;
}
