/* SPDX-License-Identifier: MIT */
/*
 * ml-out.h - the output engine (lib/out/) as the feature folders use it:
 * formatted cells, the bulk table writer, terminal widths, object labels,
 * column sets and libsmartcols/JSON printing, escaping, the pictures'
 * colours and escapes.  Depends on lib/core/ only.
 */
#ifndef ML_OUT_H
#define ML_OUT_H

#include "ml-core.h"

/* asprintf.c: a formatted string on the heap (free() it), or NULL on
 * ENOMEM: for the cells renderers hand to libsmartcols. */
char *ml__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* table-text.c: libsmartcols' non-terminal output of a plain ASCII table,
 * written in bulk.  row() gives the cells of a row: s[c], the text of
 * column c (NULL if empty), built in bufs[c] (the column's own) if it
 * likes, valid until the next call; n[c] its length, or SIZE_MAX if not
 * known (strlen then).  -EILSEQ when a byte would need encoding: then
 * nothing was written, and libsmartcols must print the table. */
#define ML__TEXT_CELL_BUF 64
struct ml__text_col {
	const char *header;
	double whint;             /* libsmartcols width hint */
	bool right;               /* SCOLS_FL_RIGHT */
	bool ascii;               /* its cells are plain by construction: not
	                             checked (only text a target controls is) */
};
typedef void (*ml__text_row_fn)(void *ctx, size_t row, const char **s, size_t *n,
				char (*bufs)[ML__TEXT_CELL_BUF]);
int ml__text_table_print(FILE *out, unsigned int flags, const struct ml__text_col *cols,
			 size_t ncols, size_t nrows, ml__text_row_fn row, void *ctx);

/* fold.c: the columns n bytes of s take on a terminal (escape sequences
 * none, multibyte characters their wcwidth). */
unsigned int ml__text_width(const char *s, size_t n);

/* labels.c: *ret (malloc'ed, free() it) gets per region the shortest
 * suffix of its object's path no other object of snap ends with ("libc.so.6"),
 * NULL where it has no object; pointers into the snapshot's strings.
 * 0 or -ENOMEM. */
int ml__object_labels(const struct ml_snapshot *snap, const char ***ret);
/* The same for any n paths (NULL entries stay NULL), pointers into them. */
int ml__path_labels(const char *const *paths, size_t n, const char ***ret);
/* The cells of column col of a libsmartcols table with its lines added
 * replaced by their labels among that column's cells.  0 or -ENOMEM. */
struct libscols_table;
int ml__scols_label_column(struct libscols_table *tb, size_t col);

/* -- column sets and libsmartcols printing (columns.c) -- */
/* A libsmartcols table writing to out, set up from ML_OUT_* flags (JSON,
 * raw, no headings, colour) and named name (the JSON key); NULL on ENOMEM.
 * The caller adds columns and lines and unrefs it. */
struct libscols_table *ml_scols_table_new(FILE *out, unsigned int flags, const char *name);
/* On a terminal, a table's columns hidden (SCOLS_FL_HIDDEN) by struct
 * ml_fit, until the columns left fit libsmartcols' terminal width; a
 * truncated (SCOLS_FL_TRUNC) column is counted at min columns at most
 * (0: its widest cell) and, when all its cells fit min, is no longer cut;
 * libsmartcols cuts the others to what is left.  Call it with the lines
 * added.  0, -EINVAL (more than ML_FIT_MAX columns), -ENOMEM. */
int ml_scols_fit(struct libscols_table *tb, const struct ml_fit *fit, size_t ncols);
/* A column of this type is right-aligned (numbers, addresses); holds
 * text the target controls (escaped by the table printer). */
bool ml__col_right(enum ml_col_type t);
bool ml__col_target_text(enum ml_col_type t);
/* The default set of a column table: its ids into ret_ids (at most max);
 * returns how many. */
size_t ml_columns_default(const struct ml_column_info *cols, size_t ncols,
			  int *ret_ids, size_t max);
/* If the n bytes at s start with DEL or an invisible character, write it
 * to out as a JSON \u escape (a surrogate pair past U+FFFF) and return
 * its length; else 0 and nothing written. */
int ml__json_u(FILE *out, const char *s, size_t n);

/* format.c: the last component of path ("a/b" -> "b"); path itself if it
 * has no '/' or ends with one. */
const char *ml__base_name(const char *path);
/* Is cp an invisible format character (Unicode Cf: bidi controls,
 * zero-width characters, BOM; U+2028-2029)?  Escaped like controls. */
bool ml__invisible(uint32_t cp);
/* Text the target controls as a libsmartcols cell for output flags
 * (ML_OUT_*): JSON-safe for JSON, as is for raw (libsmartcols writes every
 * byte >= 0x80 as \xHH there), else with the invisible characters and "\x"
 * as \xHH, for a table whose columns ml__scols_safe() set.  Malloc'ed;
 * NULL on ENOMEM. */
char *ml__escape_cell(const char *s, unsigned int flags);
/* Every column of tb takes '\\' as safe (ml__escape_cell() wrote each
 * backslash that must be one as \x5c already).  0 or -ENOMEM. */
int ml__scols_safe(struct libscols_table *tb);
/* s as a JSON string (valid UTF-8 by ml_escape(ML_ESC_JSON_SAFE), quotes,
 * backslashes and controls escaped), null for NULL or on ENOMEM. */
void ml__json_string(FILE *out, const char *s);

/* render-html.c, for the pictures (render-html.c, render-plot.c): kind k's
 * colour as CSS "#rrggbb" (the terminal's, from its SGR codes); s (target
 * text) as the terminal shows it, written as pure ASCII for XML text or
 * attributes (character references) or the inside of a JSON string in a
 * <script> (\uXXXX: no '<', '&' or quote), bidi controls as \uXXXX text. */
void ml__kind_css(enum ml_kind k, char buf[8]);
enum ml__esc_to { ML__ESC_XML, ML__ESC_JSON };
void ml__html_escaped(FILE *out, const char *s, enum ml__esc_to to);

#endif
