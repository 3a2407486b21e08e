/* SPDX-License-Identifier: MIT */
/*
 * render-watch.c - what `memlayout watch` prints: JSON lines (--record,
 * -J), log lines (one per event, one per sample), the terminal screen (a
 * per-kind table with sparklines, through libsmartcols) and the summary.
 *
 * Objects (the text, rodata, relro, data and bss of each ELF object) are
 * in the JSON record (those mapped now), in a log line whenever an
 * object's size changed (a dlopen, a dlclose), in a table of the screen
 * and of the summary (peaks).  The screen fits in the rows it is given:
 * the objects table is cut first, then the kinds table; with ML_OUT_COLOR
 * kinds take their colour (kinds.c).
 *
 * JSON lines are written here because libsmartcols writes one document
 * per table, over many lines; strings the target controls (mapping names)
 * are made valid UTF-8 by ml_escape(ML_ESC_JSON_SAFE) and then JSON-escaped
 * (ml__json_string).  Each key has one JSON type (doc/schema/watch-*.json).
 * Log and screen text the target controls goes through ml_escape
 * (ML_ESC_TERM) or libsmartcols' own escaping.
 */
#include "ml-time.h"

#include <errno.h>
#include <inttypes.h>
#include <libsmartcols/libsmartcols.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NS 1e9

static const char *size_str(uint64_t v, unsigned int flags, char *buf, size_t len)
{
	if (flags & ML_OUT_BYTES) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	return ml_size_human(v, buf, len);
}

/* "+4K", "-64K", "0" */
static const char *delta_str(uint64_t now, uint64_t then, unsigned int flags,
			     char *buf, size_t len)
{
	char tmp[24];

	if (now == then)
		return strcpy(buf, "0");
	size_str(now > then ? now - then : then - now, flags, tmp, sizeof(tmp));
	snprintf(buf, len, "%c%s", now > then ? '+' : '-', tmp);
	return buf;
}

/* ---- JSON lines ---- */

static void json_event(FILE *out, const struct ml_watch_event *e)
{
	fprintf(out, "{\"event\":\"%s\",\"kind\":\"%s\",\"start\":\"0x%" PRIx64
		"\",\"end\":\"0x%" PRIx64 "\",", ml_watch_event_name(e->type),
		ml_kind_name(e->kind), e->start, e->end);
	/* One type per key (doc/schema/watch-sample.json): sizes are
	 * integers, permissions and addresses strings, each under its own
	 * key, so a perms or brk event has no before/after. */
	if (e->type == ML_EV_PERMS) {
		char a[5], b[5];
		fprintf(out, "\"perms_before\":\"%s\",\"perms_after\":\"%s\",",
			ml_perms_str(e->before, a), ml_perms_str(e->after, b));
	} else if (e->type == ML_EV_BRK) {
		fprintf(out, "\"brk_before\":\"0x%" PRIx64 "\",\"brk_after\":\"0x%" PRIx64 "\",",
			e->before, e->after);
	} else {
		fprintf(out, "\"before\":%" PRIu64 ",\"after\":%" PRIu64 ",", e->before, e->after);
	}
	fputs("\"name\":", out);
	ml__json_string(out, e->name);
	fprintf(out, ",\"deleted\":%s", e->deleted ? "true" : "false");
	if (e->tid)
		fprintf(out, ",\"tid\":%d}", (int)e->tid);
	else
		fputs(",\"tid\":null}", out);
}

/* The objects mapped now: name, sum and each kind's size. */
static void json_objects(FILE *out, const struct ml_watch_sample *s)
{
	bool first = true;

	for (size_t i = 0; i < s->nobjects; i++) {
		const struct ml_watch_object *o = &s->objects[i];
		if (!o->vsize)
			continue;
		fputs(first ? "{\"name\":" : ",{\"name\":", out);
		ml__json_string(out, o->name);
		fprintf(out, ",\"vsize\":%" PRIu64, o->vsize);
		for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
			fprintf(out, ",\"%s\":%" PRIu64, ml_kind_name(k), o->kinds[k].vsize);
		if (s->kind_rss)
			fprintf(out, ",\"rss\":%" PRIu64, o->rss);
		fputc('}', out);
		first = false;
	}
}

int ml_render_watch_json(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out)
{
	fprintf(out, "{\"t\":%.3f,\"sample\":%zu,\"pid\":%d,\"vsize\":%" PRIu64
		",\"rss\":%" PRIu64 ",\"pss\":%" PRIu64 ",\"anon\":%" PRIu64
		",\"swap\":%" PRIu64 ",\"start_brk\":\"0x%" PRIx64 "\",\"brk\":\"0x%" PRIx64
		"\",\"stack_start\":\"0x%" PRIx64 "\",\"stack_end\":\"0x%" PRIx64
		"\",\"stack_lowest\":\"0x%" PRIx64 "\",\"minflt\":%" PRIu64 ",\"majflt\":%"
		PRIu64 ",\"threads\":%zu,\"regions\":%zu,\"kinds\":{",
		(double)s->t_ns / NS, s->index, (int)ml_watch_pid(w), s->vsize, s->rss,
		s->pss, s->anon, s->swap, s->start_brk, s->brk, s->stack_start,
		s->stack_end, s->stack_lowest, s->minflt, s->majflt, s->nthreads,
		s->nregions);
	bool first = true;
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		const struct ml_watch_kind *kk = &s->kinds[k];
		if (!kk->count)
			continue;
		fprintf(out, "%s\"%s\":{\"count\":%zu,\"vsize\":%" PRIu64, first ? "" : ",",
			ml_kind_name(k), kk->count, kk->vsize);
		if (s->kind_rss)
			fprintf(out, ",\"rss\":%" PRIu64, kk->rss);
		fputc('}', out);
		first = false;
	}
	fputs("},\"objects\":[", out);
	json_objects(out, s);
	fputs("],\"events\":[", out);
	for (size_t i = 0; i < s->nevents; i++) {
		if (i)
			fputc(',', out);
		json_event(out, &s->events[i]);
	}
	fputs("]}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* ---- log lines ---- */

static void event_detail(FILE *out, const struct ml_watch_event *e, unsigned int flags)
{
	char a[32], b[32], d[32];

	switch (e->type) {
	case ML_EV_APPEARED:
	case ML_EV_VANISHED:
		fprintf(out, " %s", size_str(e->end - e->start, flags, a, sizeof(a)));
		break;
	case ML_EV_GREW:
	case ML_EV_SHRANK:
	case ML_EV_EXEC:
		fprintf(out, " %s -> %s (%s)", size_str(e->before, flags, a, sizeof(a)),
			size_str(e->after, flags, b, sizeof(b)),
			delta_str(e->after, e->before, flags, d, sizeof(d)));
		break;
	case ML_EV_PERMS:
		fprintf(out, " %s -> %s", ml_perms_str(e->before, a), ml_perms_str(e->after, b));
		break;
	case ML_EV_BRK:
		fprintf(out, " 0x%" PRIx64 " -> 0x%" PRIx64 " (%s)", e->before, e->after,
			delta_str(e->after, e->before, flags, d, sizeof(d)));
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
	char a[32], b[32], d[32];

	fprintf(out, "%9.3f %-11s %-12s %s -> %s (%s)", (double)s->t_ns / NS, "object",
		"code+data", size_str(o->vsize_last, flags, a, sizeof(a)),
		size_str(o->vsize, flags, b, sizeof(b)),
		delta_str(o->vsize, o->vsize_last, flags, d, sizeof(d)));
	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
		fprintf(out, " %s %s", ml_kind_name(k),
			size_str(o->kinds[k].vsize, flags, a, sizeof(a)));
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
	char a[32], b[32];

	fprintf(out, "%9.3f %-11s vsz %s (%s)", (double)s->t_ns / NS, "sample",
		size_str(s->vsize, flags, a, sizeof(a)),
		delta_str(s->vsize, first ? first->vsize : s->vsize, flags, b, sizeof(b)));
	fprintf(out, " rss %s", size_str(s->rss, flags, a, sizeof(a)));
	for (size_t g = 0; g < ML_ARRAY_SIZE(line_groups); g++) {
		uint64_t v = 0;
		for (int k = 0; k < ML_KIND__COUNT; k++)
			if (line_groups[g].kinds & (1u << k))
				v += s->kinds[k].vsize;
		fprintf(out, " %s %s", line_groups[g].label, size_str(v, flags, a, sizeof(a)));
	}
	fprintf(out, " threads %zu faults %" PRIu64 "+%" PRIu64 "\n", s->nthreads,
		s->minflt - (first ? first->minflt : s->minflt),
		s->majflt - (first ? first->majflt : s->majflt));
	return ferror(out) ? -EIO : 0;
}

/* ---- the terminal screen ---- */


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

static int add_cols(struct libscols_table *tb, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!scols_table_new_column(tb, names[i], 1, i == 0 || i + 1 == n ? 0 : SCOLS_FL_RIGHT))
			return -ENOMEM;
	return 0;
}

/* A kind's colour as the escape sequence libsmartcols takes, or NULL. */
static const char *kind_seq(enum ml_kind k, unsigned int flags, char buf[24])
{
	const char *sgr = flags & ML_OUT_COLOR ? ml__kind_color(k) : NULL;

	if (!sgr)
		return NULL;
	snprintf(buf, 24, "\033[%sm", sgr);
	return buf;
}

static struct libscols_table *new_table(FILE *out, unsigned int flags)
{
	struct libscols_table *tb = scols_new_table();

	if (tb) {
		scols_table_set_stream(tb, out);
		scols_table_enable_colors(tb, !!(flags & ML_OUT_COLOR));
		if (flags & ML_OUT_TERM)
			scols_table_set_termforce(tb, SCOLS_TERMFORCE_ALWAYS);
	}
	return tb;
}

static bool kind_shown(const struct ml_watch_sample *s, const struct ml_watch_sample *first,
		       int k)
{
	return s->kinds[k].count || (first && first->kinds[k].count);
}

static int kind_row(struct libscols_table *tb, const struct ml_watch *w,
		    const struct ml_watch_sample *s, int k, unsigned int flags)
{
	const struct ml_watch_sample *first = ml_watch_first(w);
	uint64_t prev[ML_WATCH_HISTORY];
	size_t n = ml_watch_history(w, k, prev, ML_WATCH_HISTORY);
	uint64_t v = s->kinds[k].vsize, before = n >= 2 ? prev[n - 2] : v;
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char a[32], b[32], c[32], d[32], seq[24];

	if (!ln)
		return -ENOMEM;
	scols_line_set_data(ln, 0, ml_kind_name(k));
	if (kind_seq(k, flags, seq))
		scols_cell_set_color(scols_line_get_cell(ln, 0), seq);
	scols_line_refer_data(ln, 1, ml__asprintf("%zu", s->kinds[k].count));
	scols_line_set_data(ln, 2, size_str(v, flags, a, sizeof(a)));
	scols_line_set_data(ln, 3, delta_str(v, before, flags, b, sizeof(b)));
	scols_line_set_data(ln, 4, delta_str(v, first ? first->kinds[k].vsize : v,
					     flags, c, sizeof(c)));
	scols_line_set_data(ln, 5, s->kind_rss ? size_str(s->kinds[k].rss, flags, d, sizeof(d)) : "-");
	scols_line_refer_data(ln, 6, sparkline(w, k, flags));
	return 0;
}

/* The kinds table, at most max rows; the lines printed or -errno. */
static int screen_kinds(const struct ml_watch *w, const struct ml_watch_sample *s,
			FILE *out, unsigned int flags, size_t max)
{
	static const char *const heads[] = { "KIND", "COUNT", "VIRTUAL", "LAST", "START", "RSS", "HISTORY" };
	const struct ml_watch_sample *first = ml_watch_first(w);
	struct libscols_table *tb;
	size_t shown = 0;
	int r;

	if (max == 0)
		return 0;
	if (!(tb = new_table(out, flags)))
		return -ENOMEM;
	r = add_cols(tb, heads, ML_ARRAY_SIZE(heads));
	for (int k = 0; r == 0 && k < ML_KIND__COUNT && shown < max; k++)
		if (kind_shown(s, first, k) && (r = kind_row(tb, w, s, k, flags)) == 0)
			shown++;
	if (r == 0)
		r = scols_print_table(tb);
	scols_unref_table(tb);
	return r < 0 ? r : (int)shown + 1;
}

static int object_row(struct libscols_table *tb, const struct ml_watch_object *o,
		      unsigned int flags)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char a[32];

	if (!ln || scols_line_refer_data(ln, 0, ml__escape_cell(o->name, 0)))
		return -ENOMEM;
	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
		scols_line_set_data(ln, 1 + k, size_str(o->kinds[k].vsize, flags, a, sizeof(a)));
	scols_line_set_data(ln, 6, delta_str(o->vsize, o->vsize_last, flags, a, sizeof(a)));
	scols_line_set_data(ln, 7, delta_str(o->vsize, o->vsize_first, flags, a, sizeof(a)));
	return 0;
}

/* The objects mapped now, at most max rows (the last says how many more
 * when they do not fit); the lines printed or -errno. */
static int screen_objects(const struct ml_watch_sample *s, FILE *out, unsigned int flags,
			  size_t max)
{
	static const char *const heads[] = { "OBJECT", "TEXT", "RODATA", "RELRO", "DATA", "BSS", "LAST", "START" };
	size_t mapped = 0, shown = 0;
	struct libscols_table *tb;
	char seq[24];
	int r = 0;

	for (size_t i = 0; i < s->nobjects; i++)
		mapped += s->objects[i].vsize != 0;
	if (max == 0 || mapped == 0)
		return 0;
	if (!(tb = new_table(out, flags)))
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < ML_ARRAY_SIZE(heads); i++) {
		struct libscols_column *cl = scols_table_new_column(tb, heads[i], i ? 1 : 0.5,
								    i ? SCOLS_FL_RIGHT : SCOLS_FL_TRUNC);
		if (!cl)
			r = -ENOMEM;
		else if (i >= 1 && i <= ML_WATCH_OBJ_KINDS && kind_seq(i - 1, flags, seq))
			scols_column_set_color(cl, seq);
	}
	for (size_t i = 0; r == 0 && i < s->nobjects; i++) {
		if (!s->objects[i].vsize)
			continue;
		if (shown + 1 == max && mapped > max) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			if (!ln || scols_line_refer_data(ln, 0, ml__asprintf("(%zu more)", mapped - shown)))
				r = -ENOMEM;
			shown++;
			break;
		}
		if ((r = object_row(tb, &s->objects[i], flags)) == 0)
			shown++;
	}
	fputc('\n', out);
	if (r == 0)
		r = ml__scols_safe(tb);
	if (r == 0)
		r = scols_print_table(tb);
	scols_unref_table(tb);
	return r < 0 ? r : (int)shown + 2;
}

int ml_render_watch_screen(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags, unsigned int rows)
{
	const struct ml_watch_sample *first = ml_watch_first(w);
	char *comm = ml_escape(ml_watch_comm(w), ML_ESC_TERM);
	char a[32], b[32], c[32], d[32], e[32];
	size_t used = 4, room = rows ? rows : SIZE_MAX;
	int r;

	fprintf(out, "PID %d (%s)  %.1fs  sample %zu  threads %zu  mappings %zu\n",
		(int)ml_watch_pid(w), comm ? comm : "?", (double)s->t_ns / NS, s->index + 1,
		s->nthreads, s->nregions);
	free(comm);
	fprintf(out, "virtual %s (%s since start)  resident %s  anon %s  swap %s\n",
		size_str(s->vsize, flags, a, sizeof(a)),
		delta_str(s->vsize, first ? first->vsize : s->vsize, flags, b, sizeof(b)),
		size_str(s->rss, flags, c, sizeof(c)), size_str(s->anon, flags, d, sizeof(d)),
		size_str(s->swap, flags, e, sizeof(e)));
	fprintf(out, "brk 0x%" PRIx64 " (heap %s)  stack 0x%" PRIx64 "-0x%" PRIx64
		" (lowest 0x%" PRIx64 ")  faults %" PRIu64 " minor, %" PRIu64 " major\n\n",
		s->brk, size_str(s->brk - s->start_brk, flags, a, sizeof(a)), s->stack_start,
		s->stack_end, s->stack_lowest, s->minflt, s->majflt);
	r = screen_kinds(w, s, out, flags, room > used + 1 ? room - used - 1 : 0);
	if (r < 0)
		return r;
	used += (size_t)r;
	r = screen_objects(s, out, flags, room > used + 2 ? room - used - 2 : 0);
	if (r < 0)
		return r;
	used += (size_t)r;
	return ferror(out) ? -EIO : (int)used;
}

/* ---- the summary ---- */

static int summary_json(const struct ml_watch *w, const struct ml_watch_summary *sum,
			FILE *out)
{
	fprintf(out, "{\"summary\":{\"pid\":%d,\"samples\":%zu,\"duration\":%.3f,"
		"\"minflt\":%" PRIu64 ",\"majflt\":%" PRIu64 ",\"max_threads\":%zu,"
		"\"peak_vsize\":%" PRIu64 ",\"peak_vsize_t\":%.3f,\"peak_rss\":%" PRIu64
		",\"peak_rss_t\":%.3f,\"events\":{", (int)ml_watch_pid(w), sum->samples,
		(double)sum->duration_ns / NS, sum->minflt, sum->majflt, sum->max_threads,
		sum->total.vsize, (double)sum->total.vsize_t_ns / NS, sum->total.rss,
		(double)sum->total.rss_t_ns / NS);
	for (int t = 0; t < ML_EV__COUNT; t++)
		fprintf(out, "%s\"%s\":%zu", t ? "," : "", ml_watch_event_name(t), sum->events[t]);
	fputs("},\"kinds\":{", out);
	bool firstk = true;
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		if (!sum->kinds[k].vsize)
			continue;
		fprintf(out, "%s\"%s\":{\"peak_vsize\":%" PRIu64 ",\"peak_vsize_t\":%.3f",
			firstk ? "" : ",", ml_kind_name(k), sum->kinds[k].vsize,
			(double)sum->kinds[k].vsize_t_ns / NS);
		if (sum->kind_rss)
			fprintf(out, ",\"peak_rss\":%" PRIu64 ",\"peak_rss_t\":%.3f",
				sum->kinds[k].rss, (double)sum->kinds[k].rss_t_ns / NS);
		fputc('}', out);
		firstk = false;
	}
	fputs("},\"objects\":[", out);
	for (size_t i = 0; i < sum->nobjects; i++) {
		const struct ml_watch_object *o = &sum->objects[i];
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		ml__json_string(out, o->name);
		fprintf(out, ",\"start\":%" PRIu64 ",\"end\":%" PRIu64 ",\"peak_vsize\":%"
			PRIu64 ",\"peak_vsize_t\":%.3f", o->vsize_first, o->vsize,
			o->peak_vsize, (double)o->peak_t_ns / NS);
		for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
			fprintf(out, ",\"peak_%s\":%" PRIu64, ml_kind_name(k), o->peak_kind[k]);
		fputc('}', out);
	}
	fputs("]}}\n", out);
	return ferror(out) ? -EIO : 0;
}

/* On a terminal (ml_scols_fit), the summaries' columns hidden from the
 * highest rank; the objects by their shortest unambiguous names, cut to
 * 16 columns at most when that is not enough. */
static const struct ml_fit summary_fit[] = { { 0, 0 }, { 0, 0 }, { 3, 0 }, { 0, 0 }, { 2, 0 },
					     { 4, 0 }, { 5, 0 } };
static const struct ml_fit objects_fit[] = { { 0, 16 }, { 0, 0 }, { 4, 0 }, { 5, 0 }, { 0, 0 },
					     { 0, 0 }, { 3, 0 }, { 0, 0 }, { 2, 0 }, { 6, 0 } };

/* The table fitted to the terminal: a table of ncols columns, whose
 * column objcol (-1: none) holds objects. */
static int summary_fit_term(struct libscols_table *tb, const struct ml_fit *fit, size_t ncols,
			    int objcol, unsigned int flags)
{
	int r = 0;

	if (!(flags & ML_OUT_TERM))
		return 0;
	if (objcol >= 0) {
		struct libscols_column *cl = scols_table_get_column(tb, (size_t)objcol);
		r = ml__scols_label_column(tb, (size_t)objcol);
		if (r == 0 && scols_column_set_flags(cl, scols_column_get_flags(cl) | SCOLS_FL_TRUNC) < 0)
			r = -ENOMEM;
	}
	return r ? r : ml_scols_fit(tb, fit, ncols);
}

/* Each object: the peak of each of its kinds, START, END, the peak of
 * their sum and when. */
static int summary_objects(const struct ml_watch_summary *sum, FILE *out, unsigned int flags)
{
	static const char *const heads[] = { "OBJECT", "TEXT", "RODATA", "RELRO", "DATA", "BSS",
					     "START", "END", "PEAK", "AT" };
	struct libscols_table *tb;
	char a[32];
	int r;

	if (!sum->nobjects)
		return 0;
	if (!(tb = new_table(out, flags & ML_OUT_TERM)))
		return -ENOMEM;
	r = add_cols(tb, heads, ML_ARRAY_SIZE(heads));
	for (size_t i = 0; r == 0 && i < sum->nobjects; i++) {
		const struct ml_watch_object *o = &sum->objects[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln) {
			r = -ENOMEM;
			break;
		}
		scols_line_refer_data(ln, 0, ml__escape_cell(o->name, 0));
		for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
			scols_line_set_data(ln, 1 + k, size_str(o->peak_kind[k], flags, a, sizeof(a)));
		scols_line_set_data(ln, 6, size_str(o->vsize_first, flags, a, sizeof(a)));
		scols_line_set_data(ln, 7, size_str(o->vsize, flags, a, sizeof(a)));
		scols_line_set_data(ln, 8, size_str(o->peak_vsize, flags, a, sizeof(a)));
		scols_line_refer_data(ln, 9, ml__asprintf("%.3fs", (double)o->peak_t_ns / NS));
	}
	fputs("\nCode and data per object (each kind at its peak):\n", out);
	if (r == 0)
		r = summary_fit_term(tb, objects_fit, ML_ARRAY_SIZE(heads), 0, flags);
	if (r == 0)
		r = ml__scols_safe(tb);
	if (r == 0)
		r = scols_print_table(tb);
	scols_unref_table(tb);
	return r;
}

static void summary_row(struct libscols_table *tb, const char *name,
			const struct ml_watch_peak *p, uint64_t start, uint64_t end,
			bool rss, unsigned int flags)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char a[32];

	if (!ln)
		return;
	scols_line_set_data(ln, 0, name);
	scols_line_set_data(ln, 1, size_str(start, flags, a, sizeof(a)));
	scols_line_set_data(ln, 2, size_str(end, flags, a, sizeof(a)));
	scols_line_set_data(ln, 3, size_str(p->vsize, flags, a, sizeof(a)));
	scols_line_refer_data(ln, 4, ml__asprintf("%.3fs", (double)p->vsize_t_ns / NS));
	if (rss) {
		scols_line_set_data(ln, 5, size_str(p->rss, flags, a, sizeof(a)));
		scols_line_refer_data(ln, 6, ml__asprintf("%.3fs", (double)p->rss_t_ns / NS));
	}
}

int ml_render_watch_summary(const struct ml_watch *w, FILE *out, unsigned int flags)
{
	static const char *const heads[] = { "KIND", "START", "END", "PEAK", "AT", "PEAK_RSS", "RSS_AT" };
	struct ml_watch_summary sum;
	const struct ml_watch_sample *first = ml_watch_first(w), *last;
	struct libscols_table *tb;
	int r;

	ml_watch_summary(w, &sum);
	if (flags & ML_OUT_JSON)
		return summary_json(w, &sum, out);
	if (!first)
		return 0;
	last = ml_watch_last(w);
	fprintf(out, "\nSummary of PID %d: %zu samples over %.3fs; %" PRIu64 " minor and %"
		PRIu64 " major page faults; up to %zu threads.\n", (int)ml_watch_pid(w),
		sum.samples, (double)sum.duration_ns / NS, sum.minflt, sum.majflt,
		sum.max_threads);
	if (!(tb = new_table(out, flags & ML_OUT_TERM)))
		return -ENOMEM;
	r = add_cols(tb, heads, sum.kind_rss ? 7 : 5);
	for (int k = 0; r == 0 && k < ML_KIND__COUNT; k++)
		if (sum.kinds[k].vsize)
			summary_row(tb, ml_kind_name(k), &sum.kinds[k], first->kinds[k].vsize,
				    last->kinds[k].vsize, sum.kind_rss, flags);
	if (r == 0) {
		summary_row(tb, "total", &sum.total, first->vsize, last->vsize, sum.kind_rss, flags);
		r = summary_fit_term(tb, summary_fit, sum.kind_rss ? 7 : 5, -1, flags);
	}
	if (r == 0) {
		r = scols_print_table(tb);
	}
	scols_unref_table(tb);
	if (r == 0 && !sum.kind_rss)
		fprintf(out, "Peak resident (smaps_rollup): %s at %.3fs.\n",
			size_str(sum.total.rss, flags, (char[32]){ 0 }, 32),
			(double)sum.total.rss_t_ns / NS);
	if (r == 0)
		r = summary_objects(&sum, out, flags);
	return r;
}
