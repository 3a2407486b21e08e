/* SPDX-License-Identifier: MIT */
/* mlalloc.h: public interface of mlalloc, memlayout's general-purpose
 * allocator (libmlalloc.so).  It provides the standard allocation functions
 * (malloc, free, calloc, realloc, reallocarray, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size) under their
 * usual names, declared by <stdlib.h> and <malloc.h>; this header adds the
 * few calls specific to mlalloc.  See alloc/README.md for the design and
 * alloc/FORMAT.md for the introspection format read by mlalloc-reader.h.
 *
 * Environment: MLALLOC_DECAY_MS (idle time before free memory is given back,
 * default 1000), MLALLOC_NO_BRK=1 (take every segment from mmap),
 * MLALLOC_CHECK=full|sample:N[,underflow] (the checking mode: heap bugs
 * reported with the block and its allocation and free backtraces). */
#ifndef MLALLOC_H
#define MLALLOC_H

#ifdef __cplusplus
extern "C" {
#endif

/* Give back to the OS, now, every free page and cached large block, of the
 * calling thread's heap and of the shared pools.  Returns 0. */
int mlalloc_purge(void);

/* Walk the calling thread's heap and check every invariant stated in
 * alloc/types.h (expensive: for tests and debugging).  Returns 0 if all
 * hold, -EFAULT at the first that does not. */
int mlalloc_check(void);

/* Version of the published introspection format (MLALLOC_PUB_VERSION). */
unsigned mlalloc_format_version(void);

#ifdef __cplusplus
}
#endif

#endif
