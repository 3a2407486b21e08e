/* SPDX-License-Identifier: MIT */
/*
 * ml-where.h - what lib/where/ shares beyond the public header (where's
 * column list).  Depends on core/, out/, sym/.
 */
#ifndef ML_WHERE_H
#define ML_WHERE_H

#include "ml-out.h"
#include "ml-sym.h"

/* -- where's column list (render-where.c) -- */
int ml_where_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad);

#endif
