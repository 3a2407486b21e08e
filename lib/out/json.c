/* SPDX-License-Identifier: MIT */
/*
 * json.c - the one JSON writer of the tables and their documents: objects
 * and arrays nested to ML_JSON_DEPTH, members and elements written as they
 * come (no tree in memory), in libsmartcols' layout (three spaces a level,
 * "},{" between the objects of an array, an array's strings four columns
 * in from its key), so a document of several tables and members of its own
 * reads as one libsmartcols table's does (an array's values on one line);
 * or, begun by ml_json_begin_line, on one line with no blanks (watch's
 * JSON lines).  Strings go through ml__json_string (valid UTF-8, controls,
 * DEL and the invisible characters escaped); a document of lines also
 * through ml_json_stream() (the same characters as \u escapes), one line
 * straight to its stream.
 *
 * Invariant: depth counts the open containers, the document's own object
 * (depth 1) included; first[d] says the container at depth d has no
 * member yet; a member at depth d is indented 3 * d.  An error (a write that failed,
 * a container too deep, a close with none open) is kept and returned by
 * ml_json_end(), which closes what is left open.
 */
#include "ml-out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define ML_JSON_DEPTH 16

struct ml_json {
	FILE *out;                     /* ml_json_stream() of the caller's */
	unsigned int depth;
	bool first[ML_JSON_DEPTH];
	bool array[ML_JSON_DEPTH];
	bool line;                     /* ml_json_begin_line: one line, no blanks */
	int err;
};

static void indent(struct ml_json *j, unsigned int n)
{
	fprintf(j->out, "%*s", (int)n, "");
}

/* Before a member or an element: the separator and the key. */
static void lead(struct ml_json *j, const char *key)
{
	unsigned int d = j->depth;
	bool first = j->first[d];

	j->first[d] = false;
	if (j->line) {
		fputs(first ? "" : ",", j->out);
		if (key && !j->array[d]) {
			ml__json_string(j->out, key);
			fputc(':', j->out);
		}
		return;
	}
	if (j->array[d]) {   /* elements: on one line, 4 in from the key */
		if (first) {
			fputc('\n', j->out);
			indent(j, 3 * d + 1);
		} else {
			fputs(", ", j->out);
		}
		return;
	}
	fputs(first ? "\n" : ",\n", j->out);
	indent(j, 3 * d);
	if (key) {
		ml__json_string(j->out, key);
		fputs(": ", j->out);
	}
}

static int begin(FILE *out, bool line, struct ml_json **ret)
{
	struct ml_json *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	/* One line (watch's, many a second) goes straight to out: every
	 * string is written by ml__json_string, which escapes what the stream
	 * would. */
	j->line = line;
	if (!(j->out = line ? out : ml_json_stream(out))) {
		free(j);
		return -ENOMEM;
	}
	j->depth = 1;          /* the document's own object */
	j->first[1] = true;
	fputc('{', j->out);
	*ret = j;
	return 0;
}

int ml_json_begin(FILE *out, struct ml_json **ret)
{
	return begin(out, false, ret);
}

int ml_json_begin_line(FILE *out, struct ml_json **ret)
{
	return begin(out, true, ret);
}

void ml_json_open(struct ml_json *j, const char *key, bool array)
{
	unsigned int d = j->depth;

	if (d + 1 >= ML_JSON_DEPTH) {
		j->err = -E2BIG;
		return;
	}
	/* An object in an array: "{" on its own line, then "},{". */
	if (j->array[d] && !array && !j->line) {
		if (j->first[d]) {
			fputc('\n', j->out);
			indent(j, 3 * d);
		} else {
			fputc(',', j->out);
		}
		j->first[d] = false;
		fputc('{', j->out);
	} else {
		lead(j, key);
		fputc(array ? '[' : '{', j->out);
	}
	j->depth = ++d;
	j->first[d] = true;
	j->array[d] = array;
}

void ml_json_close(struct ml_json *j)
{
	unsigned int d = j->depth;

	if (d <= 1) {          /* the document is closed by ml_json_end */
		j->err = -EINVAL;
		return;
	}
	/* The bracket at its key's column (an array's strings sit 4 in);
	 * an empty one as [] or {}. */
	if (!j->first[d] && !j->line) {
		fputc('\n', j->out);
		indent(j, 3 * (d - 1));
	}
	fputc(j->array[d] ? ']' : '}', j->out);
	j->depth = d - 1;
}

void ml_json_str(struct ml_json *j, const char *key, const char *s)
{
	lead(j, key);
	ml__json_string(j->out, s);
}

void ml_json_u64(struct ml_json *j, const char *key, uint64_t v)
{
	lead(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void ml_json_i64(struct ml_json *j, const char *key, int64_t v)
{
	lead(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void ml_json_hex(struct ml_json *j, const char *key, uint64_t v)
{
	lead(j, key);
	fprintf(j->out, "\"0x%" PRIx64 "\"", v);
}

void ml_json_bool(struct ml_json *j, const char *key, bool v)
{
	lead(j, key);
	fputs(v ? "true" : "false", j->out);
}

void ml_json_null(struct ml_json *j, const char *key)
{
	lead(j, key);
	fputs("null", j->out);
}

void ml_json_double(struct ml_json *j, const char *key, double v)
{
	lead(j, key);
	fprintf(j->out, "%.4f", v);
}

void ml_json_number(struct ml_json *j, const char *key, const char *text)
{
	lead(j, key);
	fputs(text, j->out);
}

int ml_json_end(struct ml_json *j)
{
	int r;

	if (!j)
		return -EINVAL;
	while (j->depth > 1)
		ml_json_close(j);
	fputs(j->line ? "}\n" : "\n}\n", j->out);
	r = j->err;
	if (ferror(j->out) && r == 0)
		r = -EIO;
	if (!j->line && fclose(j->out) && r == 0)
		r = -EIO;
	free(j);
	return r;
}
