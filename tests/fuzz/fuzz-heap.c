/* SPDX-License-Identifier: MIT */
/*
 * fuzz-heap.c - libFuzzer target for the heap state an mlalloc process
 * publishes (alloc/FORMAT.md), which `memlayout heap PID` reads and the
 * target process controls: the reader's validation and decoding, the model
 * of `memlayout heap` and its renderers.
 *
 * Input: byte 0 holds flags (below); the rest is a published region, from
 * its header at offset 0 (heap-capture writes seeds in this form).  Each
 * input is
 *  1. parsed with mla__alloc_snapshot_parse(), the code that
 *     mla_alloc_snapshot_read() runs on what it copies from a process;
 *     A refusal for a bound (-E2BIG) must name it, with a value over its
 *     limit; an accepted snapshot must hold no table over its cap
 *     (MLA_ALLOC_MAX_HEAPS/SEGS/LARGE), which bounds everything after;
 *  2. if accepted, checked (every table the snapshot points to lies within
 *     it, as the header says), turned into classes, regions and totals by
 *     ml_heap_build(), checked again (regions in address order, counts
 *     bounded by the tables), and rendered with every part to /dev/null,
 *     as text or as JSON, beside a made-up maps snapshot.
 *  3. if the region bytes start with an ELF magic, also searched as an ELF
 *     file (in a memfd) for mlalloc_introspect_root by
 *     mla__alloc_elf_symbol(), the reader's bounded symbol search: found,
 *     not found, or a bound named with a value over its limit.
 * A failed check calls abort(), which libFuzzer reports as a crash.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-heap' on corpus-heap/.
 */
#include "ml-private.h"
#include "fuzz-common.h"
#include "heap.h"
#include "mlalloc-reader-internal.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

enum {
	FZ_JSON   = 1 << 0,   /* ML_OUT_JSON */
	FZ_RAW    = 1 << 1,   /* ML_OUT_RAW */
	FZ_BYTES  = 1 << 2,   /* ML_OUT_BYTES */
	FZ_COLOR  = 1 << 3,   /* ML_OUT_COLOR */
	FZ_NOHEAD = 1 << 4,   /* ML_OUT_NOHEADINGS */
	FZ_COLS   = 1 << 5,   /* every region column, chosen with -o */
	FZ_PARTS  = 1 << 6,   /* one part (by bit 7) instead of all */
	FZ_PART2  = 1 << 7,
};

/* The snapshot's tables as the header describes them. */
static void check_snapshot(const struct mla_alloc_snapshot *s)
{
	const struct mlalloc_pub_header *h = &s->header;

	if (h->heaps_max > MLA_ALLOC_MAX_HEAPS || h->segs_max > MLA_ALLOC_MAX_SEGS ||
	    h->large_max > MLA_ALLOC_MAX_LARGE)
		abort();
	if (h->nclasses != MLALLOC_PUB_NCLASSES || !s->class_size ||
	    s->nheaps != h->heaps_used || s->nheaps > h->heaps_max ||
	    s->nsegs != h->segs_used || s->nsegs > h->segs_max ||
	    s->nlarge != h->large_used || s->nlarge > h->large_max ||
	    (s->class_pages != NULL) != (h->class_pages_off != 0))
		abort();
	/* Touch every byte, so ASan sees a table that runs past the copy. */
	volatile uint64_t sum = 0;
	for (unsigned c = 0; c < h->nclasses; c++)
		sum += s->class_size[c] + (s->class_pages ? s->class_pages[c] : 0);
	for (size_t i = 0; i < s->nheaps; i++)
		sum += s->heaps[i].nfree[MLALLOC_PUB_NCLASSES - 1];
	for (size_t i = 0; i < s->nsegs; i++)
		sum += s->segs[i].page_class[63];
	for (size_t i = 0; i < s->nlarge; i++)
		sum += s->large[i].reserved;
	(void)sum;
	(void)mla_alloc_snapshot_live_bytes(s);
}

static void check_heap(const struct mla_alloc_snapshot *s, const struct ml_heap *h)
{
	if (h->nclasses > s->header.nclasses || h->nregions > s->nsegs + s->nlarge ||
	    h->live_large_blocks + h->cached_large_blocks > s->nlarge ||
	    h->fragmentation < 0.0 || h->fragmentation > 1.0)
		abort();
	for (size_t i = 1; i < h->nregions; i++)
		if (h->regions[i].start < h->regions[i - 1].start)
			abort();
	for (size_t i = 0; i < h->nregions; i++)
		if (strlen(h->regions[i].map) > ML_HEAP_MAP_CELLS)
			abort();
}

static void render(const struct ml_heap *h, unsigned int fl)
{
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));
	static const unsigned int one[] = { CLI_HEAP_CLASSES, CLI_HEAP_MAP };
	int all[64];
	size_t ncols;
	struct cli_heap_out o = { 0, 0, NULL, 0 };

	if (!snap)
		return;
	snap->proc.pid = 4242;
	snprintf(snap->proc.comm, sizeof(snap->proc.comm), "fuzz\033[2J");
	snap->proc.page_size = 4096;
	snap->proc.start_brk = 0x555555559000;
	snap->proc.brk = 0x55555557a000;
	o.flags = ((fl & FZ_JSON) ? ML_OUT_JSON : (fl & FZ_RAW) ? ML_OUT_RAW : 0) |
		  ((fl & FZ_BYTES) ? ML_OUT_BYTES : 0) | ((fl & FZ_COLOR) ? ML_OUT_COLOR : 0) |
		  ((fl & FZ_NOHEAD) ? ML_OUT_NOHEADINGS : 0);
	o.parts = (fl & FZ_PARTS) ? one[!!(fl & FZ_PART2)] : 0;
	if (fl & FZ_COLS) {
		cli_heap_mlalloc_columns(false, &ncols);
		if (ncols > ML_ARRAY_SIZE(all))
			abort();
		for (size_t i = 0; i < ncols; i++)
			all[i] = (int)i;
		o.columns = all;
		o.ncolumns = ncols;
	}
	if (!o.parts)
		o.parts = CLI_HEAP_SUMMARY | CLI_HEAP_CLASSES | CLI_HEAP_MAP;
	cli_heap_render(snap, h, devnull(), &o);
	ml_snapshot_free(snap);
}

/* A bound reported on -E2BIG: named, its value over its limit. */
static void check_bound(int r, const struct mla_alloc_bound *b)
{
	if (r == -E2BIG && (!b->what || b->value <= b->limit))
		abort();
	if (r != -E2BIG && b->what)
		abort();
}

/* The region bytes as an ELF file, through the reader's symbol search. */
static void search_elf(const uint8_t *buf, size_t len)
{
	static int fd = -1;
	struct mla_alloc_bound b = { NULL, 0, 0 };
	uint64_t value, vaddr0;

	if (len < SELFMAG || memcmp(buf, ELFMAG, SELFMAG))
		return;
	if (fd < 0 && (fd = memfd_create("fuzz-heap-elf", MFD_CLOEXEC)) < 0)
		return;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, len, 0) != (ssize_t)len)
		return;
	int r = mla__alloc_elf_symbol(fd, "mlalloc_introspect_root", &value, &vaddr0, &b);
	if (r != 0 && r != -ENOENT && r != -E2BIG && r != -ENOMEM)
		abort();
	check_bound(r, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mla_alloc_snapshot *s = NULL;
	struct ml_heap *h = NULL;

	if (size == 0)
		return 0;
	/* An exact-size copy, so ASan sees any read past the region. */
	size_t len = size - 1;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	search_elf(buf, len);
	struct mla_alloc_bound b = { NULL, 0, 0 };
	int r = mla__alloc_snapshot_parse(buf, len, &s, &b);
	check_bound(r, &b);
	if (r == 0) {
		free(buf);   /* the snapshot must hold its own copy */
		buf = NULL;
		check_snapshot(s);
		if (ml_heap_build(s, &h) == 0) {
			check_heap(s, h);
			render(h, data[0]);
		}
		ml_heap_free(h);
		mla_alloc_snapshot_free(s);
	}
	free(buf);
	return 0;
}
