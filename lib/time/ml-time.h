/* SPDX-License-Identifier: MIT */
/*
 * ml-time.h - lib/time/ (memory over time: watch, its record and plot,
 * ASLR over runs): the ASLR estimator's points and watch's state for its
 * renderers.  Depends on core/, out/, sym/.
 */
#ifndef ML_TIME_H
#define ML_TIME_H

#include "ml-out.h"
#include "ml-sym.h"

/* -- the ASLR estimator's points (aslr.c, aslr-sample.c) -- */
/* Begin a run; returns its index (0, 1, ...). */
int ml_aslr_begin_run(struct ml_aslr *a);
/* Record a point in the current run (the first value of a name in a run
 * counts).  unit: the alignment expected (page, 16).  0 or -errno. */
int ml_aslr_add(struct ml_aslr *a, const char *name, uint64_t value,
		uint64_t unit, unsigned int flags);
/* Begin a run and record the points of snap (see aslr-sample.c). */
int ml_aslr_add_snapshot(struct ml_aslr *a, const struct ml_snapshot *snap);

/* -- watch's state for its renderers (watch.c, render-watch.c) -- */
const char *ml_watch_comm(const struct ml_watch *w);
/* The first sample (events excluded), NULL before any. */
const struct ml_watch_sample *ml_watch_first(const struct ml_watch *w);
/* The last n (<= ML_WATCH_HISTORY) virtual sizes of kind k (or, with
 * k == ML_KIND__COUNT, of the whole process), oldest first; returns n. */
#define ML_WATCH_HISTORY 32
size_t ml_watch_history(const struct ml_watch *w, enum ml_kind k,
			uint64_t *ret, size_t max);
struct ml_watch_peak {
	uint64_t vsize, vsize_t_ns;  /* highest virtual size and when (since start) */
	uint64_t rss, rss_t_ns;      /* highest resident size (detail, or total) */
};
struct ml_watch_summary {
	size_t samples;
	uint64_t duration_ns;
	struct ml_watch_peak kinds[ML_KIND__COUNT];
	bool kind_rss;
	struct ml_watch_peak total;  /* total.rss from smaps_rollup */
	uint64_t minflt, majflt;     /* during the watch */
	size_t max_threads;
	size_t events[ML_EV__COUNT];
	const struct ml_watch_object *objects;   /* as in the last sample */
	size_t nobjects;
};
void ml_watch_summary(const struct ml_watch *w, struct ml_watch_summary *ret);

#endif
