/* SPDX-License-Identifier: MIT */
/*
 * ml-private.h - the tests' view of libmemlayout: every folder's private
 * header (core/, out/, sym/, where/, pages/, crash/, time/), for the unit
 * tests, fuzzers and benchmarks that call the ml__ internals.  No library
 * source includes it: each folder sees only its own header and those of
 * the folders below it (ARCHITECTURE.md), which its include path enforces.
 */
#ifndef ML_PRIVATE_H
#define ML_PRIVATE_H

#include "ml-core.h"
#include "ml-out.h"
#include "ml-sym.h"
#include "ml-where.h"
#include "ml-pages.h"
#include "ml-crash.h"
#include "ml-time.h"

#endif
