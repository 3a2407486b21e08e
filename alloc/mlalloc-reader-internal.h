/* mlalloc-reader-internal.h: the reader's validation and decoding on a
 * memory buffer, for tests and the fuzzer (tests/fuzz/fuzz-heap.c).  Not
 * part of the reader's API (mlalloc-reader.h). */
#ifndef MLALLOC_READER_INTERNAL_H
#define MLALLOC_READER_INTERNAL_H

#include "mlalloc-reader.h"

/* Validate and decode len bytes laid out as a published region (offset 0 =
 * struct mlalloc_pub_header), exactly as ml_alloc_snapshot_read() does with
 * the bytes it copies from a process, into *ret_snap (region_addr 0,
 * found_by "buffer"; free it with ml_alloc_snapshot_free()).  Returns 0, or
 * -ENOENT (no magic, or no bytes), -EPROTO (unknown version or a geometry
 * outside the buffer), -EFAULT (shorter than the header), -EAGAIN (a seq
 * left odd: a torn copy), -ENOMEM. */
int ml__alloc_snapshot_parse(const void *buf, size_t len, struct ml_alloc_snapshot **ret_snap);

#endif
