/*
 * columns.c - parse a util-linux column list ("START,SIZE", "+RSS" to add
 * to the default set) against any table of struct ml_column_info, so every
 * table of memlayout (regions, aslr, watch) reads -o the same way.
 */
#include "ml-private.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static int by_name(const struct ml_column_info *cols, size_t ncols,
		   const char *name, size_t len)
{
	for (size_t i = 0; i < ncols; i++)
		if (strlen(cols[i].name) == len && !strncasecmp(cols[i].name, name, len))
			return (int)i;
	return -1;
}

int ml_columns_parse_in(const struct ml_column_info *cols, size_t ncols,
			const char *list, int *ret_ids, size_t max, size_t *ret_n,
			const char **ret_bad)
{
	const char *p = list;
	size_t n = 0;

	if (*p == '+') {
		for (size_t i = 0; i < ncols; i++) {
			if (!cols[i].is_default)
				continue;
			if (n == max)
				return -E2BIG;
			ret_ids[n++] = (int)i;
		}
		p++;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		int id = by_name(cols, ncols, p, len);
		if (id < 0) {
			*ret_bad = p;
			return -EINVAL;
		}
		if (n == max)
			return -E2BIG;
		ret_ids[n++] = id;
		p += len;
		if (*p == ',')
			p++;
	}
	*ret_n = n;
	return 0;
}
