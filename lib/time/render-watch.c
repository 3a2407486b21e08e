/* SPDX-License-Identifier: MIT */
/*
 * render-watch.c - what `memlayout watch` prints: JSON lines (--record,
 * -J), log lines (one per event, one per sample), the terminal screen (a
 * per-kind table with sparklines) and the summary.
 *
 * Objects (the text, rodata, relro, data and bss of each ELF object) are
 * in the JSON record (those mapped now), in a log line whenever an
 * object's size changed (a dlopen, a dlclose), in a table of the screen
 * and of the summary (peaks).  The screen fits in the rows it is given:
 * the objects table is cut first, then the kinds table; with ML_OUT_COLOR
 * kinds take their colour (kinds.c).
 *
 * The tables are column descriptions printed by the one table printer
 * (columns.c: on a terminal the summary's columns fitted to its width,
 * objects by their shortest unambiguous names); the JSON lines are
 * written by the one JSON writer on one line each (json.c's
 * ml_json_begin_line), strings the target controls (mapping names) made
 * valid UTF-8 and escaped there.  Each key has one JSON type
 * (doc/schema/watch.json).  Log text the target controls goes through
 * ml_escape (ML_ESC_TERM), table cells through the table printer.
 */
#include "ml-time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NS 1e9

/* "+4K", "-64K", "0" into buf (ML_CELL_BUF bytes). */
static char *delta_str(char *buf, uint64_t now, uint64_t then, unsigned int flags)
{
	if (now == then)
		return strcpy(buf, "0");
	buf[0] = now > then ? '+' : '-';
	ml_fmt_size(buf + 1, now > then ? now - then : then - now, flags);
	return buf;
}

/* "1.250s" into buf (ML_CELL_BUF bytes). */
static char *secs(char *buf, uint64_t ns)
{
	snprintf(buf, ML_CELL_BUF, "%.3fs", (double)ns / NS);
	return buf;
}

/* ---- JSON lines ---- */

static void json_secs(struct ml_json *j, const char *key, uint64_t ns)
{
	char buf[ML_CELL_BUF];

	snprintf(buf, sizeof(buf), "%.3f", (double)ns / NS);
	ml_json_number(j, key, buf);
}

static void json_event(struct ml_json *j, const struct ml_watch_event *e)
{
	char a[5], b[5];

	ml_json_open(j, NULL, false);
	ml_json_str(j, "event", ml_watch_event_name(e->type));
	ml_json_str(j, "kind", ml_kind_name(e->kind));
	ml_json_hex(j, "start", e->start);
	ml_json_hex(j, "end", e->end);
	/* One type per key: sizes are integers, permissions and addresses
	 * strings, each under its own key, so a perms or brk event has no
	 * before/after. */
	if (e->type == ML_EV_PERMS) {
		ml_json_str(j, "perms_before", ml_perms_str(e->before, a));
		ml_json_str(j, "perms_after", ml_perms_str(e->after, b));
	} else if (e->type == ML_EV_BRK) {
		ml_json_hex(j, "brk_before", e->before);
		ml_json_hex(j, "brk_after", e->after);
	} else {
		ml_json_u64(j, "before", e->before);
		ml_json_u64(j, "after", e->after);
	}
	ml_json_str(j, "name", e->name);
	ml_json_bool(j, "deleted", e->deleted);
	if (e->tid)
		ml_json_i64(j, "tid", e->tid);
	else
		ml_json_null(j, "tid");
	ml_json_close(j);
}

/* The objects mapped now: name, sum and each kind's size. */
static void json_objects(struct ml_json *j, const struct ml_watch_sample *s)
{
	ml_json_open(j, "objects", true);
	for (size_t i = 0; i < s->nobjects; i++) {
		const struct ml_watch_object *o = &s->objects[i];
		if (!o->vsize)
			continue;
		ml_json_open(j, NULL, false);
		ml_json_str(j, "name", o->name);
		ml_json_u64(j, "vsize", o->vsize);
		for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
			ml_json_u64(j, ml_kind_name(k), o->kinds[k].vsize);
		if (s->kind_rss)
			ml_json_u64(j, "rss", o->rss);
		ml_json_close(j);
	}
	ml_json_close(j);
}

int ml_render_watch_json(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out)
{
	struct ml_json *j;
	int r = ml_json_begin_line(out, &j);

	if (r < 0)
		return r;
	json_secs(j, "t", s->t_ns);
	ml_json_u64(j, "sample", s->index);
	ml_json_i64(j, "pid", ml_watch_pid(w));
	ml_json_u64(j, "vsize", s->vsize);
	ml_json_u64(j, "rss", s->rss);
	ml_json_u64(j, "pss", s->pss);
	ml_json_u64(j, "anon", s->anon);
	ml_json_u64(j, "swap", s->swap);
	ml_json_hex(j, "start_brk", s->start_brk);
	ml_json_hex(j, "brk", s->brk);
	ml_json_hex(j, "stack_start", s->stack_start);
	ml_json_hex(j, "stack_end", s->stack_end);
	ml_json_hex(j, "stack_lowest", s->stack_lowest);
	ml_json_u64(j, "minflt", s->minflt);
	ml_json_u64(j, "majflt", s->majflt);
	ml_json_u64(j, "threads", s->nthreads);
	ml_json_u64(j, "regions", s->nregions);
	ml_json_open(j, "kinds", false);
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		if (!s->kinds[k].count)
			continue;
		ml_json_open(j, ml_kind_name(k), false);
		ml_json_u64(j, "count", s->kinds[k].count);
		ml_json_u64(j, "vsize", s->kinds[k].vsize);
		if (s->kind_rss)
			ml_json_u64(j, "rss", s->kinds[k].rss);
		ml_json_close(j);
	}
	ml_json_close(j);
	json_objects(j, s);
	ml_json_open(j, "events", true);
	for (size_t i = 0; i < s->nevents; i++)
		json_event(j, &s->events[i]);
	return ml_json_end(j);
}

/* ---- log lines ---- */

static void event_detail(FILE *out, const struct ml_watch_event *e, unsigned int flags)
{
	char a[ML_CELL_BUF], b[ML_CELL_BUF], d[ML_CELL_BUF];

	switch (e->type) {
	case ML_EV_APPEARED:
	case ML_EV_VANISHED:
		fprintf(out, " %s", ml_fmt_size(a, e->end - e->start, flags));
		break;
	case ML_EV_GREW:
	case ML_EV_SHRANK:
	case ML_EV_EXEC:
		fprintf(out, " %s -> %s (%s)", ml_fmt_size(a, e->before, flags),
			ml_fmt_size(b, e->after, flags), delta_str(d, e->after, e->before, flags));
		break;
	case ML_EV_PERMS:
		fprintf(out, " %s -> %s", ml_perms_str(e->before, a), ml_perms_str(e->after, b));
		break;
	case ML_EV_BRK:
		fprintf(out, " 0x%" PRIx64 " -> 0x%" PRIx64 " (%s)", e->before, e->after,
			delta_str(d, e->after, e->before, flags));
		break;
	default:
		break;
	}
}

/* "object code+data 0 -> 2.1M (+2.1M) text 1M rodata ... bss 1M NAME" */
static void object_line(FILE *out, const struct ml_watch_sample *s,
			const struct ml_watch_object *o, unsigned int flags)
{
	char *name = ml_escape(o->name, ML_ESC_TERM);
	char a[ML_CELL_BUF], b[ML_CELL_BUF], d[ML_CELL_BUF];

	fprintf(out, "%9.3f %-11s %-12s %s -> %s (%s)", (double)s->t_ns / NS, "object",
		"code+data", ml_fmt_size(a, o->vsize_last, flags), ml_fmt_size(b, o->vsize, flags),
		delta_str(d, o->vsize, o->vsize_last, flags));
	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
		fprintf(out, " %s %s", ml_kind_name(k), ml_fmt_size(a, o->kinds[k].vsize, flags));
	fprintf(out, " %s\n", name ? name : "?");
	free(name);
}

int ml_render_watch_events(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags)
{
	(void)w;
	for (size_t i = 0; i < s->nevents; i++) {
		const struct ml_watch_event *e = &s->events[i];
		char *name = e->name ? ml_escape(e->name, ML_ESC_TERM) : NULL;

		fprintf(out, "%9.3f %-11s %-12s", (double)s->t_ns / NS,
			ml_watch_event_name(e->type), ml_kind_name(e->kind));
		if (e->start != e->end)
			fprintf(out, " 0x%" PRIx64 "-0x%" PRIx64, e->start, e->end);
		event_detail(out, e, flags);
		if (e->tid)
			fprintf(out, " tid %d", (int)e->tid);
		if (name && e->type != ML_EV_BRK)
			fprintf(out, " %s%s", name, e->deleted ? " (deleted)" : "");
		fputc('\n', out);
		free(name);
	}
	for (size_t i = 0; s->index && i < s->nobjects; i++)
		if (s->objects[i].vsize != s->objects[i].vsize_last)
			object_line(out, s, &s->objects[i], flags);
	return ferror(out) ? -EIO : 0;
}

/* Kinds summed for the one-line view. */
static const struct { const char *label; unsigned int kinds; } line_groups[] = {
	{ "code",   1u << ML_KIND_TEXT | 1u << ML_KIND_RODATA | 1u << ML_KIND_RELRO },
	{ "data",   1u << ML_KIND_DATA | 1u << ML_KIND_BSS },
	{ "heap",   1u << ML_KIND_HEAP },
	{ "stack",  1u << ML_KIND_STACK },
	{ "tstacks", 1u << ML_KIND_THREAD_STACK },
	{ "anon",   1u << ML_KIND_ANON },
	{ "file",   1u << ML_KIND_FILE | 1u << ML_KIND_SHM },
};

int ml_render_watch_line(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out, unsigned int flags)
{
	const struct ml_watch_sample *first = ml_watch_first(w);
	char a[ML_CELL_BUF], b[ML_CELL_BUF];

	fprintf(out, "%9.3f %-11s vsz %s (%s)", (double)s->t_ns / NS, "sample",
		ml_fmt_size(a, s->vsize, flags),
		delta_str(b, s->vsize, first ? first->vsize : s->vsize, flags));
	fprintf(out, " rss %s", ml_fmt_size(a, s->rss, flags));
	for (size_t g = 0; g < ML_ARRAY_SIZE(line_groups); g++) {
		uint64_t v = 0;
		for (int k = 0; k < ML_KIND__COUNT; k++)
			if (line_groups[g].kinds & (1u << k))
				v += s->kinds[k].vsize;
		fprintf(out, " %s %s", line_groups[g].label, ml_fmt_size(a, v, flags));
	}
	fprintf(out, " threads %zu faults %" PRIu64 "+%" PRIu64 "\n", s->nthreads,
		s->minflt - (first ? first->minflt : s->minflt),
		s->majflt - (first ? first->majflt : s->majflt));
	return ferror(out) ? -EIO : 0;
}

/* ---- the tables: their cells ---- */

/* What the cells read besides their row. */
struct cells {
	const struct ml_watch *w;
	const struct ml_watch_sample *s, *first;
	char seq[ML_KIND__COUNT][24];            /* kind colours, as libsmartcols takes them */
	size_t more;                             /* objects left out of the screen */
	const struct ml_watch_object *objs;      /* the summary's, and their labels */
	const char **labels;                     /* (on a terminal), or NULL */
};

#define CELL(name) static char *name(const void *x, const void *c, unsigned int fl, char *buf)
#define CTX ((const struct cells *)c)
#define KIND (*(const int *)x)
#define OBJ (*(const struct ml_watch_object *const *)x)
#define NOT_USED (void)x, (void)c, (void)fl, (void)buf

/* The screen's kinds: a row is a kind (int). */
static const char *k_color(const void *x, const void *c)
{
	return CTX->seq[KIND][0] ? CTX->seq[KIND] : NULL;
}

static char *sparkline(const struct ml_watch *w, enum ml_kind k, unsigned int flags)
{
	static const char *const utf8[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[] = "_.-~=+*#";
	uint64_t h[ML_WATCH_HISTORY], lo = UINT64_MAX, hi = 0;
	size_t n = ml_watch_history(w, k, h, ML_WATCH_HISTORY);
	char *s = calloc(n * 4 + 1, 1), *p = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		lo = h[i] < lo ? h[i] : lo;
		hi = h[i] > hi ? h[i] : hi;
	}
	for (size_t i = 0; i < n; i++) {
		size_t level = hi > lo ? (size_t)((h[i] - lo) * 7 / (hi - lo)) : (h[i] ? 3 : 0);
		if (flags & ML_OUT_ASCII)
			*p++ = ascii[level];
		else
			p = stpcpy(p, utf8[level]);
	}
	return s;
}

CELL(k_name) { NOT_USED; return strcpy(buf, ml_kind_name(KIND)); }
CELL(k_count) { NOT_USED; return ml_fmt_u64(buf, CTX->s->kinds[KIND].count); }
CELL(k_vsize) { NOT_USED; return ml_fmt_size(buf, CTX->s->kinds[KIND].vsize, fl); }
CELL(k_history) { NOT_USED; return sparkline(CTX->w, KIND, fl); }

CELL(k_rss)
{
	NOT_USED;
	return CTX->s->kind_rss ? ml_fmt_size(buf, CTX->s->kinds[KIND].rss, fl) : strcpy(buf, "-");
}

/* Since the previous sample. */
CELL(k_last)
{
	uint64_t prev[ML_WATCH_HISTORY], v = CTX->s->kinds[KIND].vsize;
	size_t n = ml_watch_history(CTX->w, KIND, prev, ML_WATCH_HISTORY);

	return delta_str(buf, v, n >= 2 ? prev[n - 2] : v, fl);
}

CELL(k_start)
{
	uint64_t v = CTX->s->kinds[KIND].vsize;

	return delta_str(buf, v, CTX->first ? CTX->first->kinds[KIND].vsize : v, fl);
}

/* The objects mapped now (a row points to an object; the last, NULL, may
 * say how many did not fit) and the summary's (each kind at its peak). */
CELL(o_name)
{
	NOT_USED;
	if (!OBJ) {
		snprintf(buf, ML_CELL_BUF, "(%zu more)", CTX->more);
		return buf;
	}
	if (CTX->labels)
		return strdup(CTX->labels[OBJ - CTX->objs]);
	return strdup(OBJ->name);
}

#define O_KIND(name, k)                                                         \
	CELL(o_##name) { NOT_USED; return OBJ ? ml_fmt_size(buf, OBJ->kinds[k].vsize, fl) : NULL; } \
	CELL(p_##name) { NOT_USED; return ml_fmt_size(buf, OBJ->peak_kind[k], fl); }
O_KIND(text, ML_KIND_TEXT)
O_KIND(rodata, ML_KIND_RODATA)
O_KIND(relro, ML_KIND_RELRO)
O_KIND(data, ML_KIND_DATA)
O_KIND(bss, ML_KIND_BSS)

CELL(o_last) { NOT_USED; return OBJ ? delta_str(buf, OBJ->vsize, OBJ->vsize_last, fl) : NULL; }
CELL(o_start) { NOT_USED; return OBJ ? delta_str(buf, OBJ->vsize, OBJ->vsize_first, fl) : NULL; }
CELL(p_start) { NOT_USED; return ml_fmt_size(buf, OBJ->vsize_first, fl); }
CELL(p_end) { NOT_USED; return ml_fmt_size(buf, OBJ->vsize, fl); }
CELL(p_peak) { NOT_USED; return ml_fmt_size(buf, OBJ->peak_vsize, fl); }
CELL(p_at) { NOT_USED; return secs(buf, OBJ->peak_t_ns); }

/* The summary's kinds: a row is a kind, or the total. */
struct peak_row {
	const char *name;
	const struct ml_watch_peak *p;
	uint64_t start, end;
};
#define PEAK ((const struct peak_row *)x)

CELL(s_name) { NOT_USED; return strcpy(buf, PEAK->name); }
CELL(s_start) { NOT_USED; return ml_fmt_size(buf, PEAK->start, fl); }
CELL(s_end) { NOT_USED; return ml_fmt_size(buf, PEAK->end, fl); }
CELL(s_peak) { NOT_USED; return ml_fmt_size(buf, PEAK->p->vsize, fl); }
CELL(s_at) { NOT_USED; return secs(buf, PEAK->p->vsize_t_ns); }
CELL(s_rss) { NOT_USED; return ml_fmt_size(buf, PEAK->p->rss, fl); }
CELL(s_rss_at) { NOT_USED; return secs(buf, PEAK->p->rss_t_ns); }

/* Numbers right-aligned (SIZE), the last column left (STR).  On a
 * terminal the summary's columns are hidden from the highest rank, its
 * objects cut to 16 columns at most when that is not enough. */
static const struct ml_column_info screen_kinds[] = {
	{ "KIND",    0, false, false, true, NULL, ML_COL_STR,  k_name,    { 0, 0 }, k_color },
	{ "COUNT",   0, false, false, true, NULL, ML_COL_NUM,  k_count,   { 0, 0 }, NULL },
	{ "VIRTUAL", 0, true,  false, true, NULL, ML_COL_SIZE, k_vsize,   { 0, 0 }, NULL },
	{ "LAST",    0, true,  false, true, NULL, ML_COL_SIZE, k_last,    { 0, 0 }, NULL },
	{ "START",   0, true,  false, true, NULL, ML_COL_SIZE, k_start,   { 0, 0 }, NULL },
	{ "RSS",     0, true,  false, true, NULL, ML_COL_SIZE, k_rss,     { 0, 0 }, NULL },
	{ "HISTORY", 0, false, false, true, NULL, ML_COL_STR,  k_history, { 0, 0 }, NULL },
};

#define OBJ_KINDS(p) \
	{ "TEXT",   0, true, false, true, NULL, ML_COL_SIZE, p##_text,   { 0, 0 }, NULL }, \
	{ "RODATA", 0, true, false, true, NULL, ML_COL_SIZE, p##_rodata, { 4, 0 }, NULL }, \
	{ "RELRO",  0, true, false, true, NULL, ML_COL_SIZE, p##_relro,  { 5, 0 }, NULL }, \
	{ "DATA",   0, true, false, true, NULL, ML_COL_SIZE, p##_data,   { 0, 0 }, NULL }, \
	{ "BSS",    0, true, false, true, NULL, ML_COL_SIZE, p##_bss,    { 0, 0 }, NULL }

static const struct ml_column_info screen_objects[] = {
	{ "OBJECT", 0.5, false, false, true, NULL, ML_COL_TEXT, o_name, { 0, 0 }, NULL },
	OBJ_KINDS(o),
	{ "LAST",   0, true, false, true, NULL, ML_COL_SIZE, o_last,  { 0, 0 }, NULL },
	{ "START",  0, true, false, true, NULL, ML_COL_SIZE, o_start, { 0, 0 }, NULL },
};

static const struct ml_column_info summary_objects[] = {
	{ "OBJECT", 0, false, false, true, NULL, ML_COL_TEXT, o_name, { 0, 16 }, NULL },
	OBJ_KINDS(p),
	{ "START",  0, true,  false, true, NULL, ML_COL_SIZE, p_start, { 3, 0 }, NULL },
	{ "END",    0, true,  false, true, NULL, ML_COL_SIZE, p_end,   { 0, 0 }, NULL },
	{ "PEAK",   0, true,  false, true, NULL, ML_COL_SIZE, p_peak,  { 2, 0 }, NULL },
	{ "AT",     0, false, false, true, NULL, ML_COL_STR,  p_at,    { 6, 0 }, NULL },
};

/* Without resident sizes AT is the last column: left-aligned (STR). */
static const struct ml_column_info summary_kinds[] = {
	{ "KIND",     0, false, false, true, NULL, ML_COL_STR,   s_name,   { 0, 0 }, NULL },
	{ "START",    0, true,  false, true, NULL, ML_COL_SIZE,  s_start,  { 0, 0 }, NULL },
	{ "END",      0, true,  false, true, NULL, ML_COL_SIZE,  s_end,    { 3, 0 }, NULL },
	{ "PEAK",     0, true,  false, true, NULL, ML_COL_SIZE,  s_peak,   { 0, 0 }, NULL },
	{ "AT",       0, false, false, true, NULL, ML_COL_FLOAT, s_at,     { 2, 0 }, NULL },
	{ "PEAK_RSS", 0, true,  false, true, NULL, ML_COL_SIZE,  s_rss,    { 4, 0 }, NULL },
	{ "RSS_AT",   0, false, false, true, NULL, ML_COL_STR,   s_rss_at, { 5, 0 }, NULL },
};

/* ---- the terminal screen ---- */

static int print(FILE *out, unsigned int flags, const struct ml_column_info *cols,
		 size_t ncols, const void *rows, size_t stride, size_t nrows,
		 const struct cells *c, const char *const *colors)
{
	struct ml_table t = { "watch", cols, ncols, NULL, 0, rows, stride, nrows, NULL, c, false,
			      colors };

	return ml_table_print(out, flags, &t);
}

/* The kinds table, at most max rows; the lines printed or -errno. */
static int screen_kinds_table(const struct cells *c, FILE *out, unsigned int flags, size_t max)
{
	int rows[ML_KIND__COUNT];
	size_t n = 0;
	int r;

	if (max == 0)
		return 0;
	for (int k = 0; k < ML_KIND__COUNT && n < max; k++)
		if (c->s->kinds[k].count || (c->first && c->first->kinds[k].count))
			rows[n++] = k;
	r = print(out, flags, screen_kinds, ML_ARRAY_SIZE(screen_kinds), rows, sizeof(*rows), n,
		  c, NULL);
	return r < 0 ? r : (int)n + 1;
}

/* The objects mapped now, at most max rows (the last says how many more
 * when they do not fit); the lines printed or -errno. */
static int screen_objects_table(struct cells *c, FILE *out, unsigned int flags, size_t max)
{
	const struct ml_watch_sample *s = c->s;
	const struct ml_watch_object **rows;
	const char *colors[ML_ARRAY_SIZE(screen_objects)] = { NULL };
	size_t mapped = 0, n = 0;
	int r;

	for (size_t i = 0; i < s->nobjects; i++)
		mapped += s->objects[i].vsize != 0;
	if (max == 0 || mapped == 0)
		return 0;
	if (!(rows = calloc(mapped, sizeof(*rows))))
		return -ENOMEM;
	for (size_t i = 0; i < s->nobjects && n < max; i++)
		if (s->objects[i].vsize)
			rows[n++] = &s->objects[i];
	if (mapped > max) {
		rows[n - 1] = NULL;       /* "(N more)" */
		c->more = mapped - (n - 1);
	}
	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)   /* the kinds' columns */
		colors[1 + k] = c->seq[k][0] ? c->seq[k] : NULL;
	fputc('\n', out);
	r = print(out, flags, screen_objects, ML_ARRAY_SIZE(screen_objects), rows,
		  sizeof(*rows), n, c, colors);
	free(rows);
	return r < 0 ? r : (int)n + 2;
}

int ml_render_watch_screen(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags, unsigned int rows)
{
	const struct ml_watch_sample *first = ml_watch_first(w);
	struct cells c = { w, s, first, { { 0 } }, 0, NULL, NULL };
	char *comm = ml_escape(ml_watch_comm(w), ML_ESC_TERM);
	char a[ML_CELL_BUF], b[ML_CELL_BUF], d[ML_CELL_BUF], e[ML_CELL_BUF], f[ML_CELL_BUF];
	size_t used = 4, room = rows ? rows : SIZE_MAX;
	int r;

	flags &= ML_OUT_COLOR | ML_OUT_TERM | ML_OUT_BYTES | ML_OUT_ASCII;   /* a screen */
	for (int k = 0; k < ML_KIND__COUNT && (flags & ML_OUT_COLOR); k++)
		if (ml__kind_color(k))
			snprintf(c.seq[k], sizeof(c.seq[k]), "\033[%sm", ml__kind_color(k));
	fprintf(out, "PID %d (%s)  %.1fs  sample %zu  threads %zu  mappings %zu\n",
		(int)ml_watch_pid(w), comm ? comm : "?", (double)s->t_ns / NS, s->index + 1,
		s->nthreads, s->nregions);
	free(comm);
	fprintf(out, "virtual %s (%s since start)  resident %s  anon %s  swap %s\n",
		ml_fmt_size(a, s->vsize, flags),
		delta_str(b, s->vsize, first ? first->vsize : s->vsize, flags),
		ml_fmt_size(d, s->rss, flags), ml_fmt_size(e, s->anon, flags),
		ml_fmt_size(f, s->swap, flags));
	fprintf(out, "brk 0x%" PRIx64 " (heap %s)  stack 0x%" PRIx64 "-0x%" PRIx64
		" (lowest 0x%" PRIx64 ")  faults %" PRIu64 " minor, %" PRIu64 " major\n\n",
		s->brk, ml_fmt_size(a, s->brk - s->start_brk, flags), s->stack_start,
		s->stack_end, s->stack_lowest, s->minflt, s->majflt);
	r = screen_kinds_table(&c, out, flags, room > used + 1 ? room - used - 1 : 0);
	if (r < 0)
		return r;
	used += (size_t)r;
	r = screen_objects_table(&c, out, flags, room > used + 2 ? room - used - 2 : 0);
	if (r < 0)
		return r;
	used += (size_t)r;
	return ferror(out) ? -EIO : (int)used;
}

/* ---- the summary ---- */

static void json_peak(struct ml_json *j, const char *vkey, const char *tkey,
		      uint64_t v, uint64_t t_ns)
{
	ml_json_u64(j, vkey, v);
	json_secs(j, tkey, t_ns);
}

static int summary_json(const struct ml_watch *w, const struct ml_watch_summary *sum,
			FILE *out)
{
	struct ml_json *j;
	int r = ml_json_begin_line(out, &j);

	if (r < 0)
		return r;
	ml_json_open(j, "summary", false);
	ml_json_i64(j, "pid", ml_watch_pid(w));
	ml_json_u64(j, "samples", sum->samples);
	json_secs(j, "duration", sum->duration_ns);
	ml_json_u64(j, "minflt", sum->minflt);
	ml_json_u64(j, "majflt", sum->majflt);
	ml_json_u64(j, "max_threads", sum->max_threads);
	json_peak(j, "peak_vsize", "peak_vsize_t", sum->total.vsize, sum->total.vsize_t_ns);
	json_peak(j, "peak_rss", "peak_rss_t", sum->total.rss, sum->total.rss_t_ns);
	ml_json_open(j, "events", false);
	for (int t = 0; t < ML_EV__COUNT; t++)
		ml_json_u64(j, ml_watch_event_name(t), sum->events[t]);
	ml_json_close(j);
	ml_json_open(j, "kinds", false);
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		const struct ml_watch_peak *p = &sum->kinds[k];
		if (!p->vsize)
			continue;
		ml_json_open(j, ml_kind_name(k), false);
		json_peak(j, "peak_vsize", "peak_vsize_t", p->vsize, p->vsize_t_ns);
		if (sum->kind_rss)
			json_peak(j, "peak_rss", "peak_rss_t", p->rss, p->rss_t_ns);
		ml_json_close(j);
	}
	ml_json_close(j);
	ml_json_open(j, "objects", true);
	for (size_t i = 0; i < sum->nobjects; i++) {
		const struct ml_watch_object *o = &sum->objects[i];
		ml_json_open(j, NULL, false);
		ml_json_str(j, "name", o->name);
		ml_json_u64(j, "start", o->vsize_first);
		ml_json_u64(j, "end", o->vsize);
		json_peak(j, "peak_vsize", "peak_vsize_t", o->peak_vsize, o->peak_t_ns);
		for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++) {
			char key[32];
			snprintf(key, sizeof(key), "peak_%s", ml_kind_name(k));
			ml_json_u64(j, key, o->peak_kind[k]);
		}
		ml_json_close(j);
	}
	return ml_json_end(j);
}

/* Each object: the peak of each of its kinds, START, END, the peak of
 * their sum and when; on a terminal by their shortest unambiguous names. */
static int summary_objects_table(const struct ml_watch_summary *sum, FILE *out,
				 unsigned int flags)
{
	struct cells c = { .objs = sum->objects };
	const struct ml_watch_object **rows = calloc(sum->nobjects + 1, sizeof(*rows));
	const char **paths = calloc(sum->nobjects + 1, sizeof(*paths));
	int r = rows && paths ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sum->nobjects; i++) {
		rows[i] = &sum->objects[i];
		paths[i] = sum->objects[i].name;
	}
	if (r == 0 && (flags & ML_OUT_TERM))
		r = ml__path_labels(paths, sum->nobjects, &c.labels);
	if (r == 0 && sum->nobjects) {
		fputs("\nCode and data per object (each kind at its peak):\n", out);
		r = print(out, flags, summary_objects, ML_ARRAY_SIZE(summary_objects),
			  rows, sizeof(*rows), sum->nobjects, &c, NULL);
	}
	free(c.labels);
	free(paths);
	free(rows);
	return r;
}

int ml_render_watch_summary(const struct ml_watch *w, FILE *out, unsigned int flags)
{
	const struct ml_watch_sample *first = ml_watch_first(w), *last = ml_watch_last(w);
	struct peak_row rows[ML_KIND__COUNT + 1];
	struct ml_column_info cols[ML_ARRAY_SIZE(summary_kinds)];
	struct ml_watch_summary sum;
	size_t n = 0;
	int r;

	ml_watch_summary(w, &sum);
	if (flags & ML_OUT_JSON)
		return summary_json(w, &sum, out);
	if (!first)
		return 0;
	flags &= ML_OUT_TERM | ML_OUT_BYTES;
	fprintf(out, "\nSummary of PID %d: %zu samples over %.3fs; %" PRIu64 " minor and %"
		PRIu64 " major page faults; up to %zu threads.\n", (int)ml_watch_pid(w),
		sum.samples, (double)sum.duration_ns / NS, sum.minflt, sum.majflt,
		sum.max_threads);
	for (int k = 0; k < ML_KIND__COUNT; k++)
		if (sum.kinds[k].vsize)
			rows[n++] = (struct peak_row){ ml_kind_name(k), &sum.kinds[k],
						       first->kinds[k].vsize, last->kinds[k].vsize };
	rows[n++] = (struct peak_row){ "total", &sum.total, first->vsize, last->vsize };
	memcpy(cols, summary_kinds, sizeof(cols));
	cols[4].type = sum.kind_rss ? ML_COL_FLOAT : ML_COL_STR;
	r = print(out, flags, cols, sum.kind_rss ? 7 : 5, rows, sizeof(*rows), n, NULL, NULL);
	if (r == 0 && !sum.kind_rss)
		fprintf(out, "Peak resident (smaps_rollup): %s at %s.\n",
			ml_fmt_size((char[ML_CELL_BUF]){ 0 }, sum.total.rss, flags),
			secs((char[ML_CELL_BUF]){ 0 }, sum.total.rss_t_ns));
	if (r == 0)
		r = summary_objects_table(&sum, out, flags);
	return r;
}
