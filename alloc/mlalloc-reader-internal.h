/* SPDX-License-Identifier: MIT */
/* mlalloc-reader-internal.h: the reader's validation and decoding on a
 * memory buffer, for tests and the fuzzer (tests/fuzz/fuzz-heap.c).  Not
 * part of the reader's API (mlalloc-reader.h). */
#ifndef MLALLOC_READER_INTERNAL_H
#define MLALLOC_READER_INTERNAL_H

#include "mlalloc-reader.h"

/* Validate and decode len bytes laid out as a published region (offset 0 =
 * struct mlalloc_pub_header), exactly as mla_alloc_snapshot_read() does with
 * the bytes it copies from a process, into *ret_snap (region_addr 0,
 * found_by "buffer"; free it with mla_alloc_snapshot_free()).  Returns 0, or
 * -ENOENT (no magic, or no bytes), -EPROTO (unknown version or a geometry
 * outside the buffer), -EFAULT (shorter than the header), -EAGAIN (a seq
 * left odd: a torn copy), -E2BIG (a table over its MLA_ALLOC_MAX_* cap;
 * *ret_bound, if not NULL, says which), -ENOMEM. */
int mla__alloc_snapshot_parse(const void *buf, size_t len, struct mla_alloc_snapshot **ret_snap,
			     struct mla_alloc_bound *ret_bound);

/* Find the symbol name in the ELF file open at fd (.dynsym, then .symtab)
 * as the reader's symbol search does, within the bounds it uses: symbols
 * read in chunks, at most MLA_ALLOC_MAX_SYMS scanned and MLA_ALLOC_MAX_STRTAB
 * string table bytes read.  0 with *ret_value (st_value) and *ret_vaddr0 (the
 * lowest PT_LOAD page of an ET_DYN file, else 0); -ENOENT; -E2BIG (a bound
 * hit: *ret_bound, if not NULL, says which); -ENOMEM.  For the fuzzer. */
int mla__alloc_elf_symbol(int fd, const char *name, uint64_t *ret_value, uint64_t *ret_vaddr0,
			 struct mla_alloc_bound *ret_bound);

#endif
