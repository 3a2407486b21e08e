/* SPDX-License-Identifier: MIT */
/*
 * render-plot.c - a record of watch drawn over time, as one self-contained
 * HTML page of four SVG charts sharing the time axis: virtual size per
 * kind (stacked areas, the kinds' terminal colours), resident and virtual
 * size (lines), page faults per second (minor, major), threads; the
 * events (mapped, unmapped, grew, shrank, perms, brk, threads) as ticks
 * on the time axis of the first chart, each with its tooltip; and, when
 * the record has them, the ELF objects' code and data: a line per object
 * (its text + rodata + relro + data + bss over time, the PLOT_OBJECTS
 * biggest at their peak) and a table of every object's kinds at their
 * peaks, first and last time seen.
 *
 * Past PLOT_POINTS samples every n-th is drawn (the last always); past
 * PLOT_TICKS events, the first PLOT_TICKS are ticked and the page says how
 * many more there were.  Names in events are escaped (ml__html_escaped).
 * The page loads nothing (CSP default-src 'none') and has no script.
 */
#include "ml-time.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ML__XSTR(x) #x
#define ML__STR(x) ML__XSTR(x)

#define PLOT_POINTS 2000
#define PLOT_TICKS 5000
#define PLOT_OBJECTS 16      /* object lines drawn: the biggest */
#define CW 900               /* chart width, height, margins */
#define CH 220
#define ML 90
#define MR 20
#define MT 24
#define MB 28

struct chart {
	FILE *out;
	const struct ml_watch_record *r;
	size_t step;             /* draw every step-th sample */
	double t1, ymax;         /* last time, top of the y axis */
	unsigned int flags;
};

/* Event colours: mapped and grew, unmapped and shrank, perms, brk, threads. */
static const char *const ev_colour[ML_EV__COUNT] = {
	[ML_EV_APPEARED] = "#1a7f37", [ML_EV_GREW] = "#1a7f37",
	[ML_EV_VANISHED] = "#cf222e", [ML_EV_SHRANK] = "#cf222e",
	[ML_EV_PERMS] = "#8250df", [ML_EV_BRK] = "#bf8700",
	[ML_EV_THREAD_NEW] = "#0969da", [ML_EV_THREAD_GONE] = "#0969da",
	[ML_EV_EXEC] = "#57606a",
};

static double x_of(const struct chart *c, double t)
{
	return ML + (c->t1 > 0 ? t / c->t1 : 0) * (CW - ML - MR);
}

static double y_of(const struct chart *c, double v)
{
	return MT + (CH - MT - MB) * (1.0 - (c->ymax > 0 ? v / c->ymax : 0));
}

/* Iterate the drawn samples: i = 0, step, 2 step, ..., and the last. */
#define FOR_DRAWN(c, i) \
	for (size_t i = 0; i < (c)->r->nsamples; \
	     i = i + 1 == (c)->r->nsamples ? i + 1 : \
		 i + (c)->step < (c)->r->nsamples ? i + (c)->step : (c)->r->nsamples - 1)

static void frame(struct chart *c, const char *id, const char *title, double ymax,
		  bool sizes)
{
	char lab[ML_CELL_BUF];

	c->ymax = ymax > 0 ? ymax * 1.05 : 1;
	fprintf(c->out, "<h2>%s</h2>\n<svg id=\"%s\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" data-ymax=\"%.0f\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" "
		"height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n", title, id, CW, CH, CW, CH,
		c->ymax, ML, MT, CW - ML - MR, CH - MT - MB);
	for (int k = 0; k <= 4; k++) {
		double v = c->ymax * k / 4;
		if (sizes)   /* with -b rounded as "%.0f" rounds */
			ml_fmt_size(lab, (uint64_t)(c->flags & ML_OUT_BYTES ? nearbyint(v) : v),
				    c->flags);
		else
			snprintf(lab, sizeof(lab), "%.4g", v);
		fprintf(c->out, "<text class=\"ax\" x=\"%d\" y=\"%.1f\">%s</text>\n",
			ML - 6, y_of(c, v) + 4, lab);
	}
	for (int k = 0; k <= 4; k++)
		fprintf(c->out, "<text class=\"at\" x=\"%.1f\" y=\"%d\">%.3gs</text>\n",
			x_of(c, c->t1 * k / 4), CH - 8, c->t1 * k / 4);
}

/* One line through the drawn samples; val gives sample i's value. */
static void line(const struct chart *c, const char *cls, const char *colour,
		 double (*val)(const struct ml_watch_record *, size_t))
{
	size_t n = 0;

	fprintf(c->out, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
		"points=\"", cls, colour);
	FOR_DRAWN(c, i) {
		fprintf(c->out, "%s%.1f,%.1f", n++ ? " " : "", x_of(c, c->r->samples[i].t),
			y_of(c, val(c->r, i)));
	}
	fprintf(c->out, "\" data-points=\"%zu\"/>\n", n);
}

static double v_rss(const struct ml_watch_record *r, size_t i) { return (double)r->samples[i].rss; }
static double v_vsize(const struct ml_watch_record *r, size_t i) { return (double)r->samples[i].vsize; }
static double v_threads(const struct ml_watch_record *r, size_t i) { return (double)r->samples[i].threads; }

/* Faults per second between sample i and the one before it. */
static double rate(const struct ml_watch_record *r, size_t i, bool major)
{
	const struct ml_record_sample *a = &r->samples[i ? i - 1 : 0], *b = &r->samples[i];
	uint64_t fa = major ? a->majflt : a->minflt, fb = major ? b->majflt : b->minflt;

	return b->t > a->t && fb > fa ? (double)(fb - fa) / (b->t - a->t) : 0;
}
static double v_minflt(const struct ml_watch_record *r, size_t i) { return rate(r, i, false); }
static double v_majflt(const struct ml_watch_record *r, size_t i) { return rate(r, i, true); }

static double v_max(const struct ml_watch_record *r,
		    double (*val)(const struct ml_watch_record *, size_t))
{
	double m = 0;

	for (size_t i = 0; i < r->nsamples; i++)
		m = fmax(m, val(r, i));
	return m;
}

/* Does kind k have a size in some sample? */
static bool kind_seen(const struct ml_watch_record *r, int k)
{
	for (size_t i = 0; i < r->nsamples; i++)
		if (r->samples[i].kind_vsize[k])
			return true;
	return false;
}

/* Stacked areas: kind k's band lies between the sum of kinds below it and
 * that sum plus its own size. */
static void stacked(struct chart *c)
{
	const struct ml_watch_record *r = c->r;
	double top = 0;
	char fill[8];

	for (size_t i = 0; i < r->nsamples; i++) {
		double sum = 0;
		for (int k = 0; k < ML_KIND__COUNT; k++)
			sum += (double)r->samples[i].kind_vsize[k];
		top = fmax(top, sum);
	}
	frame(c, "ml-kinds", "Virtual size per kind (stacked)", top, true);
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		if (!kind_seen(r, k))
			continue;
		ml__kind_css(k, fill);
		/* points: the upper edge left to right, the lower right to left */
		fprintf(c->out, "<polygon class=\"layer\" data-kind=\"%s\" fill=\"%s\" "
			"stroke=\"#fff\" stroke-width=\"0.5\" points=\"", ml_kind_name(k), fill);
		size_t n = 0;
		FOR_DRAWN(c, i) {
			double below = 0;
			for (int j = 0; j < k; j++)
				below += (double)r->samples[i].kind_vsize[j];
			fprintf(c->out, "%s%.1f,%.1f", n++ ? " " : "", x_of(c, r->samples[i].t),
				y_of(c, below + (double)r->samples[i].kind_vsize[k]));
		}
		size_t drawn = n;
		for (size_t i = r->nsamples; i-- > 0;) {
			double below = 0;
			if (i + 1 != r->nsamples && i % c->step)
				continue;
			for (int j = 0; j < k; j++)
				below += (double)r->samples[i].kind_vsize[j];
			fprintf(c->out, " %.1f,%.1f", x_of(c, r->samples[i].t), y_of(c, below));
		}
		fprintf(c->out, "\" data-points=\"%zu\"><title>%s</title></polygon>\n", drawn,
			ml_kind_name(k));
	}
}

static void ticks(const struct chart *c)
{
	const struct ml_watch_record *r = c->r;
	size_t n = r->nevents < PLOT_TICKS ? r->nevents : PLOT_TICKS;

	for (size_t i = 0; i < n; i++) {
		const struct ml_record_event *e = &r->events[i];
		double x = x_of(c, e->t);
		fprintf(c->out, "<g class=\"event\" data-event=\"%s\" data-t=\"%.3f\"><title>%.3fs %s %s "
			"0x%" PRIx64 "-0x%" PRIx64 " ", ml_watch_event_name(e->type), e->t, e->t,
			ml_watch_event_name(e->type), ml_kind_name(e->kind), e->start, e->end);
		ml__html_escaped(c->out, e->name, ML__ESC_XML);
		fprintf(c->out, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"%s\" stroke-width=\"2\"/></g>\n", x, MT - 14, x, MT - 2,
			ev_colour[e->type]);
	}
}

static void legend(FILE *out, const struct ml_watch_record *r)
{
	char fill[8];

	fputs("<p class=\"legend\">", out);
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		if (kind_seen(r, k)) {
			ml__kind_css(k, fill);
			fprintf(out, "<span style=\"background:%s\">%s</span> ", fill, ml_kind_name(k));
		}
	}
	fputs("&#160; events (ticks on top): <b style=\"color:#1a7f37\">mapped/grew</b> "
	      "<b style=\"color:#cf222e\">unmapped/shrank</b> <b style=\"color:#8250df\">perms</b> "
	      "<b style=\"color:#bf8700\">brk</b> <b style=\"color:#0969da\">threads</b></p>\n", out);
}

/* Per object of the record: peaks per kind and of the sum, first and last
 * sample seen. */
struct objstat {
	uint64_t peak[ML_WATCH_OBJ_KINDS], peak_sum;
	size_t first, last;
	size_t rank;             /* by peak_sum, biggest 0 (ties: record order) */
};

static uint64_t objsum(const struct ml_record_objsize *z)
{
	uint64_t s = 0;

	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
		s += z->kind_vsize[k];
	return s;
}

static struct objstat *objstats(const struct ml_watch_record *r)
{
	struct objstat *st = calloc(r->nobjects, sizeof(*st));

	if (!st)
		return NULL;
	for (size_t i = 0; i < r->nobjects; i++)
		st[i].first = SIZE_MAX;
	for (size_t i = 0; i < r->nobjsizes; i++) {
		const struct ml_record_objsize *z = &r->objsizes[i];
		struct objstat *o = &st[z->object];
		for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
			if (z->kind_vsize[k] > o->peak[k])
				o->peak[k] = z->kind_vsize[k];
		if (objsum(z) > o->peak_sum)
			o->peak_sum = objsum(z);
		if (z->sample < o->first)
			o->first = z->sample;
		o->last = z->sample;
	}
	for (size_t i = 0; i < r->nobjects; i++)   /* rank: O(n^2), n <= ML_RECORD_MAX_OBJECTS */
		for (size_t j = 0; j < r->nobjects; j++)
			st[i].rank += st[j].peak_sum > st[i].peak_sum ||
				      (st[j].peak_sum == st[i].peak_sum && j < i);
	return st;
}

/* The line of object o: its sum in each drawn sample (0 where unmapped). */
static void object_line(struct chart *c, const struct objstat *st, size_t o)
{
	const struct ml_watch_record *r = c->r;
	size_t n = 0, z = 0;
	char fill[8];

	snprintf(fill, sizeof(fill), "#%06x", (unsigned)((o * 0x9e3779u) & 0xbfbfbf));
	fprintf(c->out, "<polyline class=\"object\" data-rank=\"%zu\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"2\" points=\"", st[o].rank, fill);
	FOR_DRAWN(c, i) {
		uint64_t v = 0;
		while (z < r->nobjsizes && r->objsizes[z].sample < i)
			z++;
		for (size_t y = z; y < r->nobjsizes && r->objsizes[y].sample == i; y++)
			if (r->objsizes[y].object == o)
				v = objsum(&r->objsizes[y]);
		fprintf(c->out, "%s%.1f,%.1f", n++ ? " " : "", x_of(c, r->samples[i].t),
			y_of(c, (double)v));
	}
	fprintf(c->out, "\" data-points=\"%zu\"><title>", n);
	ml__html_escaped(c->out, r->objects[o].name, ML__ESC_XML);
	fputs("</title></polyline>\n", c->out);
}

static void object_row(const struct chart *c, const struct objstat *st, size_t o)
{
	const struct ml_watch_record *r = c->r;
	char lab[ML_CELL_BUF];

	fprintf(c->out, "<tr class=\"object\" data-rank=\"%zu\" data-drawn=\"%d\"><td>",
		st[o].rank, st[o].rank < PLOT_OBJECTS);
	ml__html_escaped(c->out, r->objects[o].name, ML__ESC_XML);
	fputs("</td>", c->out);
	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++) {
		ml_fmt_size(lab, st[o].peak[k], c->flags);
		fprintf(c->out, "<td data-kind=\"%s\" data-bytes=\"%" PRIu64 "\">%s</td>",
			ml_kind_name(k), st[o].peak[k], lab);
	}
	fprintf(c->out, "<td>%.3fs</td><td>%.3fs</td></tr>\n", r->samples[st[o].first].t,
		r->samples[st[o].last].t);
}

/* The objects' chart and table; 0 or -ENOMEM. */
static int objects(struct chart *c)
{
	const struct ml_watch_record *r = c->r;
	struct objstat *st;
	uint64_t top = 0;

	if (!r->nobjects)
		return 0;
	if (!(st = objstats(r)))
		return -ENOMEM;
	for (size_t o = 0; o < r->nobjects; o++)
		if (st[o].rank < PLOT_OBJECTS && st[o].peak_sum > top)
			top = st[o].peak_sum;
	frame(c, "ml-objects", "Code and data per object (text + rodata + relro + data + bss; "
	      "the biggest " ML__STR(PLOT_OBJECTS) ")", (double)top, true);
	for (size_t o = 0; o < r->nobjects; o++)
		if (st[o].rank < PLOT_OBJECTS)
			object_line(c, st, o);
	fputs("</svg>\n<table id=\"ml-objects-table\"><tr><th>object</th>", c->out);
	for (int k = 0; k < ML_WATCH_OBJ_KINDS; k++)
		fprintf(c->out, "<th>%s (peak)</th>", ml_kind_name(k));
	fputs("<th>first seen</th><th>last seen</th></tr>\n", c->out);
	for (size_t o = 0; o < r->nobjects; o++)
		object_row(c, st, o);
	fputs("</table>\n", c->out);
	free(st);
	return 0;
}

int ml_render_plot(const struct ml_watch_record *r, FILE *out, unsigned int flags)
{
	struct chart c = { out, r, 1, 0, 0, flags };

	if (!r || !r->nsamples)
		return -EINVAL;
	c.step = (r->nsamples + PLOT_POINTS - 1) / PLOT_POINTS;
	c.t1 = r->samples[r->nsamples - 1].t;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'\">\n<title>memlayout plot: PID %d</title>\n<style>"
		"body{font:14px sans-serif;margin:12px}h2{font-size:15px;margin:14px 0 2px}"
		".ax{font:11px monospace;text-anchor:end}.at{font:11px monospace;text-anchor:middle}"
		".legend span{padding:1px 6px}</style></head>\n<body>\n<h1>PID %d over %.3g s: "
		"%zu samples, %zu events</h1>\n", r->pid, r->pid, c.t1, r->nsamples, r->nevents);
	legend(out, r);
	if (r->nevents > PLOT_TICKS)
		fprintf(out, "<p id=\"ml-more\">The first %d events are ticked; %zu more are not.</p>\n",
			PLOT_TICKS, r->nevents - PLOT_TICKS);
	stacked(&c);
	ticks(&c);
	fputs("</svg>\n", out);
	frame(&c, "ml-rss", "Resident (green) and virtual (grey) size",
	      fmax(v_max(r, v_rss), v_max(r, v_vsize)), true);
	line(&c, "vsize", "#888", v_vsize);
	line(&c, "rss", "#1a7f37", v_rss);
	fputs("</svg>\n", out);
	frame(&c, "ml-faults", "Page faults per second (minor blue, major red)",
	      fmax(v_max(r, v_minflt), v_max(r, v_majflt)), false);
	line(&c, "minflt", "#0969da", v_minflt);
	line(&c, "majflt", "#cf222e", v_majflt);
	fputs("</svg>\n", out);
	frame(&c, "ml-threads", "Threads", v_max(r, v_threads), false);
	line(&c, "threads", "#8250df", v_threads);
	fputs("</svg>\n", out);
	if (objects(&c) < 0)
		return -ENOMEM;
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}
