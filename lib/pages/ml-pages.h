/* SPDX-License-Identifier: MIT */
/*
 * ml-pages.h - lib/pages/ (residency scanner, frames shared, the pages
 * table): the scanner's runs, which shared.c walks.  Depends on core/, out/.
 */
#ifndef ML_PAGES_H
#define ML_PAGES_H

#include "ml-out.h"

/* -- the scanner's runs (residency.c, for shared.c) -- */
/* Called for consecutive runs of pages in one state, in address order,
 * together covering the scanned range exactly.  A non-zero return stops
 * the scan and is returned by ml_scanner_run. */
typedef int (*ml_run_fn)(uint64_t start, uint64_t end, enum ml_pstate st,
			 void *arg);
/* Scan the pages of [start, end) (rounded out to pages).  Returns 0, the
 * callback's non-zero value, -ESRCH (the process is gone), -EOPNOTSUPP
 * (ML_SCAN_IOCTL on a kernel without it), -EIO, -ENOMEM. */
int ml_scanner_run(struct ml_scanner *sc, uint64_t start, uint64_t end,
		   ml_run_fn fn, void *arg);

#endif
