/* SPDX-License-Identifier: MIT */
/*
 * heap-capture.c - write the heap state a running mlalloc process publishes
 * to a file, for the seeds of fuzz-heap (tests/fuzz/corpus-heap/).
 *
 * Usage: heap-capture PID FILE
 *
 * The state is copied with the reader (mla_alloc_snapshot_read) and written
 * back as a compact published region: byte 0 is fuzz-heap's flags byte (0),
 * then the header with each table's capacity cut to its used part and the
 * tables packed after it, region_size their total.  What is written is thus
 * a valid region that the reader accepts, a few KiB instead of the
 * writer's whole mapping.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlalloc-reader.h"

struct out {
	unsigned char *buf;
	size_t len;
};

/* Append n bytes at the next 8-byte boundary; their offset in the region. */
static uint64_t put(struct out *o, const void *p, size_t n)
{
	size_t at = (o->len + 7) & ~(size_t)7;

	memset(o->buf + o->len, 0, at - o->len);
	if (n)
		memcpy(o->buf + at, p, n);
	o->len = at + n;
	return at;
}

int main(int argc, char **argv)
{
	struct mla_alloc_snapshot *s;
	int r;

	if (argc != 3) {
		fprintf(stderr, "Usage: heap-capture PID FILE\n");
		return 2;
	}
	if ((r = mla_alloc_snapshot_read((pid_t)atoi(argv[1]), &s)) < 0) {
		fprintf(stderr, "heap-capture: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	struct mlalloc_pub_header h = s->header;
	size_t cap = sizeof(h) + 64 + h.nclasses * 5 + s->nheaps * sizeof(*s->heaps) +
		     s->nsegs * sizeof(*s->segs) + s->nlarge * sizeof(*s->large);
	struct out o = { calloc(1, cap), sizeof(h) };
	if (!o.buf)
		return 1;
	h.header_size = sizeof(h);
	h.classes_off = put(&o, s->class_size, h.nclasses * 4);
	h.heaps_off = put(&o, s->heaps, s->nheaps * sizeof(*s->heaps));
	h.segs_off = put(&o, s->segs, s->nsegs * sizeof(*s->segs));
	h.large_off = put(&o, s->large, s->nlarge * sizeof(*s->large));
	h.class_pages_off = s->class_pages ? put(&o, s->class_pages, h.nclasses) : 0;
	h.heaps_max = (uint32_t)s->nheaps;
	h.segs_max = (uint32_t)s->nsegs;
	h.large_max = (uint32_t)s->nlarge;
	h.region_size = o.len;
	memcpy(o.buf, &h, sizeof(h));

	FILE *f = fopen(argv[2], "wb");
	if (!f || fputc(0, f) == EOF || fwrite(o.buf, 1, o.len, f) != o.len || fclose(f)) {
		fprintf(stderr, "heap-capture: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	free(o.buf);
	mla_alloc_snapshot_free(s);
	return 0;
}
