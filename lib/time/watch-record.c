/* SPDX-License-Identifier: MIT */
/*
 * watch-record.c - a record of `memlayout watch --record FILE` read back:
 * one JSON object a line (doc/schema/watch.json's sample, or its summary,
 * which is skipped), each parsed by jansson (loaded on first use) into the
 * facts `memlayout plot` draws: per sample the time, sizes, faults,
 * threads and virtual size per kind; per event its time, type, kind,
 * range and name; per ELF object of a sample ("objects", absent from
 * records older than them: none then) its text, rodata, relro, data and
 * bss, against the record's table of object names.
 *
 * The file is untrusted: a line is at most ML_RECORD_MAX_LINE bytes, the
 * record at most ML_RECORD_MAX_SAMPLES samples, ML_RECORD_MAX_EVENTS
 * events, ML_RECORD_MAX_OBJECTS object names and ML_RECORD_MAX_OBJSIZES
 * object entries (-E2BIG names the line; a name is found by the previous
 * sample's entry at the same position, else by a search of at most
 * ML_RECORD_MAX_OBJECTS names); a member of the wrong type, an unknown
 * kind or event, a time that is not finite, negative or going back is
 * -EBADMSG with its line.  Names are copied (any bytes but NUL; the
 * renderer escapes them).
 */
#include "ml-time.h"
#include "dynlib.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	struct ml_watch_record *r;
	size_t cap_s, cap_e, cap_o, cap_z;
	size_t prev, nprev;       /* the previous sample's entries: objsizes[prev, +nprev) */
};

/* An unsigned integer member; false if missing or not one. */
static bool get_u64(json_t *o, const char *key, uint64_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*ret = (uint64_t)json_integer_value(v);
	return true;
}

/* A "0x..." member. */
static bool get_hex(json_t *o, const char *key, uint64_t *ret)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	char *end;

	if (!s || strncmp(s, "0x", 2) || !s[2] || strlen(s) > 18)
		return false;
	errno = 0;
	*ret = strtoull(s + 2, &end, 16);
	return !*end && !errno;
}

/* The event type named s, -1 if none. */
static int event_type(const char *s)
{
	for (int i = 0; s && i < ML_EV__COUNT; i++)
		if (!strcmp(s, ml_watch_event_name(i)))
			return i;
	return -1;
}

static int event(struct rd *d, json_t *e, double t)
{
	struct ml_watch_record *r = d->r;
	json_t *n = json_object_get(e, "name");
	const char *k = json_string_value(json_object_get(e, "kind"));
	int type, kind;

	type = event_type(json_string_value(json_object_get(e, "event")));
	kind = k ? ml_kind_from_name(k) : -1;
	if (!json_is_string(json_object_get(e, "event")) || type < 0 || kind < 0 ||
	    (n && !json_is_string(n) && !json_is_null(n)))
		return -EBADMSG;
	if (r->nevents == ML_RECORD_MAX_EVENTS)
		return -E2BIG;
	if (ML__RESERVE(r->events, d->cap_e, r->nevents + 1))
		return -ENOMEM;
	struct ml_record_event *ev = &r->events[r->nevents];
	*ev = (struct ml_record_event){ t, type, kind, 0, 0, NULL };
	if (!get_hex(e, "start", &ev->start) || !get_hex(e, "end", &ev->end))
		return -EBADMSG;
	ev->name = strdup(json_is_string(n) ? json_string_value(n) : "");
	if (!ev->name)
		return -ENOMEM;
	r->nevents++;
	return 0;
}

/* The index of the object named name (added if new); -E2BIG, -ENOMEM. */
static ssize_t object_index(struct rd *d, const char *name, size_t pos)
{
	struct ml_watch_record *r = d->r;

	if (pos < d->nprev) {
		size_t k = r->objsizes[d->prev + pos].object;
		if (!strcmp(r->objects[k].name, name))
			return (ssize_t)k;
	}
	for (size_t k = 0; k < r->nobjects; k++)
		if (!strcmp(r->objects[k].name, name))
			return (ssize_t)k;
	if (r->nobjects == ML_RECORD_MAX_OBJECTS)
		return -E2BIG;
	if (ML__RESERVE(r->objects, d->cap_o, r->nobjects + 1))
		return -ENOMEM;
	if (!(r->objects[r->nobjects].name = strdup(name)))
		return -ENOMEM;
	return (ssize_t)r->nobjects++;
}

/* The sample's "objects" (an array of {name, text, rodata, ...}), as
 * entries of sample number r->nsamples. */
static int objects(struct rd *d, json_t *objs)
{
	struct ml_watch_record *r = d->r;
	size_t first = r->nobjsizes;

	if (!objs)
		return 0;
	if (!json_is_array(objs))
		return -EBADMSG;
	for (size_t i = 0; i < json_array_size(objs); i++) {
		json_t *o = json_array_get(objs, i), *n = json_object_get(o, "name");
		struct ml_record_objsize z = { r->nsamples, 0, { 0 } };
		ssize_t k;

		if (!json_is_string(n))
			return -EBADMSG;
		for (int j = 0; j < ML_WATCH_OBJ_KINDS; j++)
			if (!get_u64(o, ml_kind_name(j), &z.kind_vsize[j]))
				return -EBADMSG;
		if (r->nobjsizes == ML_RECORD_MAX_OBJSIZES)
			return -E2BIG;
		if ((k = object_index(d, json_string_value(n), i)) < 0)
			return (int)k;
		if (ML__RESERVE(r->objsizes, d->cap_z, r->nobjsizes + 1))
			return -ENOMEM;
		z.object = (size_t)k;
		r->objsizes[r->nobjsizes++] = z;
	}
	d->prev = first;
	d->nprev = r->nobjsizes - first;
	return 0;
}

static int sample(struct rd *d, json_t *o)
{
	struct ml_watch_record *r = d->r;
	json_t *t = json_object_get(o, "t"), *kinds = json_object_get(o, "kinds"),
	       *evs = json_object_get(o, "events");
	struct ml_record_sample s = { 0 };
	int ret;

	if (!json_is_number(t) || !json_is_object(kinds) || !json_is_array(evs))
		return -EBADMSG;
	s.t = json_number_value(t);
	if (!isfinite(s.t) || s.t < 0 || (r->nsamples && s.t < r->samples[r->nsamples - 1].t) ||
	    !get_u64(o, "vsize", &s.vsize) || !get_u64(o, "rss", &s.rss) ||
	    !get_u64(o, "minflt", &s.minflt) || !get_u64(o, "majflt", &s.majflt) ||
	    !get_u64(o, "threads", &s.threads))
		return -EBADMSG;
	for (int k = 0; k < ML_KIND__COUNT; k++) {
		json_t *ko = json_object_get(kinds, ml_kind_name(k));
		if (ko && !get_u64(ko, "vsize", &s.kind_vsize[k]))
			return -EBADMSG;
	}
	for (size_t i = 0; i < json_array_size(evs); i++)
		if ((ret = event(d, json_array_get(evs, i), s.t)))
			return ret;
	if (r->nsamples == ML_RECORD_MAX_SAMPLES)
		return -E2BIG;
	if (ML__RESERVE(r->samples, d->cap_s, r->nsamples + 1))
		return -ENOMEM;
	if ((ret = objects(d, json_object_get(o, "objects"))))
		return ret;
	if (!r->nsamples) {
		uint64_t pid;
		r->pid = get_u64(o, "pid", &pid) && pid < 1u << 30 ? (int)pid : 0;
	}
	r->samples[r->nsamples++] = s;
	return 0;
}

static int line(struct rd *d, const char *buf, size_t len)
{
	json_error_t err;
	json_t *o;
	int r;

	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(o))
		r = -EBADMSG;
	else if (json_object_get(o, "summary"))
		r = 0;
	else
		r = sample(d, o);
	json_decref(o);
	return r;
}

/* One line of in into *buf (without reading past ML_RECORD_MAX_LINE + 1
 * bytes of it): its length, -1 at the end, -E2BIG over the bound, -ENOMEM. */
static ssize_t bounded_line(FILE *in, char **buf, size_t *cap)
{
	size_t len = 0;

	for (;;) {
		if (len > ML_RECORD_MAX_LINE)
			return -E2BIG;
		if (*cap - len < 4096) {
			size_t c = *cap ? *cap * 2 : 65536;
			char *q;
			if (c > ML_RECORD_MAX_LINE + 8192)
				c = ML_RECORD_MAX_LINE + 8192;
			if (!(q = realloc(*buf, c)))
				return -ENOMEM;
			*buf = q;
			*cap = c;
		}
		if (!fgets(*buf + len, (int)(*cap - len), in))
			return len ? (ssize_t)len : -1;
		len += strlen(*buf + len);
		if (len && (*buf)[len - 1] == '\n')
			return (ssize_t)len;
	}
}

void ml_watch_record_free(struct ml_watch_record *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nevents; i++)
		free((char *)r->events[i].name);
	for (size_t i = 0; i < r->nobjects; i++)
		free((char *)r->objects[i].name);
	free(r->objects);
	free(r->objsizes);
	free(r->events);
	free(r->samples);
	free(r);
}

int ml_watch_record_read(FILE *in, struct ml_watch_record **ret, size_t *ret_line)
{
	struct rd d = { calloc(1, sizeof(*d.r)), 0, 0 };
	char *buf = NULL;
	size_t cap = 0, no = 0;
	ssize_t n;
	int r = ml__json_load();

	if (!d.r)
		return -ENOMEM;
	while (!r && (n = bounded_line(in, &buf, &cap)) != -1) {
		no++;
		if (n < 0)
			r = (int)n;
		else
			r = line(&d, buf, (size_t)n);
	}
	free(buf);
	if (!r && ferror(in))
		r = -EIO;
	if (!r && !d.r->nsamples)
		r = -ENODATA;
	if (r) {
		if (ret_line)
			*ret_line = no;
		ml_watch_record_free(d.r);
		return r;
	}
	*ret = d.r;
	return 0;
}
