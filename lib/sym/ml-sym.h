/* SPDX-License-Identifier: MIT */
/*
 * ml-sym.h - symbols (lib/sym/): the libdwfl symbolizer over a snapshot's
 * ELF objects, for where/ and crash/.  dynlib.h (libdw and jansson loaded
 * on first use) is this folder's other header.  Depends on lib/core/ only.
 */
#ifndef ML_SYM_H
#define ML_SYM_H

#include "ml-core.h"

struct Dwfl;

/* symbols.c: the libdwfl session of a symbolizer, its modules the
 * snapshot's ELF objects at their load biases (for a core's unwinder:
 * core.c attaches its threads to it). */
struct Dwfl *ml__symbolizer_dwfl(struct ml_symbolizer *sz);

/* -- symbolizer lookups (symbols.c, for where.c) -- */
enum {
	ML_SYM_LINES = 1 << 0,    /* also look up the source line (code addresses) */
};
/* The same for a live process: takes its snapshot first (-ESRCH, ...). */
int ml_symbolizer_new_pid(pid_t pid, struct ml_symbolizer **ret);
/* Symbolize addr (flags ML_SYM_*).  Returns 0 with *ret filled (name,
 * file... NULL when unknown), -ENOENT if no ELF object holds addr. */
int ml_symbolize(struct ml_symbolizer *sz, uint64_t addr, unsigned int flags,
		 struct ml_symbol *ret);

#endif
