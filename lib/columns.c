/*
 * columns.c - what every column table of memlayout shares: parsing a
 * util-linux column list ("START,SIZE", "+RSS" to add to the default set)
 * against any table of struct ml_column_info, its default set, and the
 * libsmartcols table set up from the ML_OUT_* flags (stream, JSON, raw,
 * headings, colour, name), so -o and the output modes read the same way
 * in every table (regions, pages, heap, aslr, watch), and its printing:
 * JSON through ml_json_stream() (DEL and bidi controls as \u escapes,
 * which libsmartcols leaves raw).
 */
#include "ml-private.h"

#include <errno.h>
#include <libsmartcols/libsmartcols.h>
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

size_t ml_columns_default(const struct ml_column_info *cols, size_t ncols,
			  int *ret_ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ncols && n < max; i++)
		if (cols[i].is_default)
			ret_ids[n++] = (int)i;
	return n;
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

struct libscols_table *ml_scols_table_new(FILE *out, unsigned int flags, const char *name)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_set_stream(tb, out);
	scols_table_enable_json(tb, !!(flags & ML_OUT_JSON));
	scols_table_enable_raw(tb, !!(flags & ML_OUT_RAW));
	scols_table_enable_noheadings(tb, !!(flags & ML_OUT_NOHEADINGS));
	scols_table_enable_colors(tb, !!(flags & ML_OUT_COLOR));
	scols_table_set_name(tb, name);
	return tb;
}

int ml_scols_print(struct libscols_table *tb)
{
	FILE *out = scols_table_get_stream(tb), *j;
	int r;

	if (!scols_table_is_json(tb))
		return scols_print_table(tb);
	if (!(j = ml_json_stream(out)))
		return -ENOMEM;
	scols_table_set_stream(tb, j);
	r = scols_print_table(tb);
	scols_table_set_stream(tb, out);
	if (fclose(j) && r == 0)
		r = -EIO;
	return r;
}
