/* SPDX-License-Identifier: MIT */
/*
 * watch.c - sample a process over time: per-kind virtual (and, with
 * ML_WATCH_DETAIL, resident) sizes, brk, main stack extent, page faults,
 * threads; the events between samples (watch-diff.c); the history for
 * sparklines and the peaks for the summary.
 *
 * A sample is cheap by construction: stat, maps (smaps with DETAIL),
 * smaps_rollup (not with DETAIL: smaps has it all), a listing of task/,
 * and task/TID/syscall only for a thread whose stack pointer is not known
 * yet (a thread's stack does not move).  stat, maps, smaps_rollup and
 * task/ stay open for the whole watch and are read again from offset 0
 * into one reused buffer: no path lookup, open or allocation per sample,
 * and the files keep naming the process we started with even if its PID
 * were reused.  maps and smaps_rollup hold the address space they were
 * opened on: after an exec maps reads empty and smaps_rollup fails with
 * ESRCH, so either reopens them once before the process counts as gone
 * (smaps_rollup's totals, the resident size, would read 0 from then on).
 *
 * smaps_rollup walks the page tables of the whole process (about a fifth
 * of a sample's cost on 1,000 mappings), so it is read again only when
 * something that moves resident memory moved: the fault counts, stat's
 * rss (field 24), the mappings (their count or total size), or
 * ROLLUP_MAX_AGE passed (what no counter of this process shows: PSS as
 * other processes share or drop pages, reclaim hidden by the kernel's
 * approximate rss counter).  Otherwise the sample repeats the last totals,
 * at most ROLLUP_MAX_AGE old.  No ELF parsing: kinds come from
 * names and permissions (classify.c) and the ELF kind cache (watch-kinds.c),
 * which a full snapshot refills only when a file not seen before is mapped.
 * The facts that do not change (32-bit, page size) come from the first full
 * snapshot.
 *
 * A maps read while the process maps and unmaps may come out overlapping
 * (the kernel resumes each read() by address): it is read again, as a
 * snapshot's is, and -EAGAIN only if it never settles.
 *
 * smaps_rollup gives process totals only (Rss, Pss, Anonymous, Swap): the
 * resident size per kind needs --detail (full smaps, costly on big
 * processes).
 *
 * Objects: the text, rodata, relro, data and bss of each ELF object are
 * summed per object into a table of every object seen so far (in the
 * order first seen, never shrinking, so an index is an object for the
 * whole watch).  The mappings of one object are adjacent in maps, so a
 * one-entry cache of the last object found makes the lookup a string
 * comparison per mapping and a linear search per object: O(mappings +
 * objects^2) per sample, small next to reading maps.
 *
 * Ownership: the watch owns the previous and current samples' snapshots
 * and the object table (names copied); a sample and its events stay valid
 * until the next ml_watch_sample(), object names until ml_watch_free().
 */
#include "watch-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROLLUP_MAX_AGE 1000000000ull   /* ns */

enum { F_STAT, F_MAPS, F_ROLLUP, F__COUNT };

struct ml_watch {
	pid_t pid;
	unsigned int flags;
	char proc_dir[64];
	struct ml_proc facts;                 /* from the first full snapshot */
	char comm[64];
	struct ml__kind_cache *kinds;
	struct ml_snapshot *prev, *cur;
	struct ml__events events;
	struct ml_watch_sample sample, first;
	uint64_t t0;
	/* ring of the last ML_WATCH_HISTORY samples: per kind, then total */
	uint64_t hist[ML_WATCH_HISTORY][ML_KIND__COUNT + 1];
	size_t hist_n, hist_head;
	struct ml_watch_summary sum;
	struct ml_watch_object *objs;         /* every object seen, names owned */
	size_t nobjs, objs_cap;
	/* files held open (F_*), -1 (NULL) until first needed; buf reused by reads */
	int fd[F__COUNT];
	DIR *task;
	char *buf;
	size_t buf_cap;
	uint64_t stat_rss;                    /* stat field 24 of this sample */
	uint64_t rollup_t_ns, rollup_stat_rss; /* when smaps_rollup was last read */
	bool execed;                          /* maps reopened since the last sample: an exec */
};


static const char *const event_names[ML_EV__COUNT] = {
	[ML_EV_APPEARED]    = "appeared",
	[ML_EV_VANISHED]    = "vanished",
	[ML_EV_GREW]        = "grew",
	[ML_EV_SHRANK]      = "shrank",
	[ML_EV_PERMS]       = "perms",
	[ML_EV_BRK]         = "brk",
	[ML_EV_THREAD_NEW]  = "thread-new",
	[ML_EV_THREAD_GONE] = "thread-gone",
	[ML_EV_EXEC]        = "exec",
};

const char *ml_watch_event_name(enum ml_watch_event_type t)
{
	return (unsigned)t < ML_EV__COUNT ? event_names[t] : "?";
}

pid_t ml_watch_pid(const struct ml_watch *w) { return w->pid; }
const char *ml_watch_comm(const struct ml_watch *w) { return w->comm; }

const struct ml_watch_sample *ml_watch_first(const struct ml_watch *w)
{
	return w->sum.samples ? &w->first : NULL;
}

const struct ml_watch_sample *ml_watch_last(const struct ml_watch *w)
{
	return w->sum.samples ? &w->sample : NULL;
}

/* Take a full snapshot (ELF attribution) and learn the kinds it gives. */
static int refresh_kinds(struct ml_watch *w, const struct ml_snapshot *snap)
{
	struct ml_snap_opts opts = { NULL, 0 };
	struct ml_snapshot *full;
	int r = ml_snapshot_take(w->pid, &opts, &full);

	if (r < 0)
		return r;
	if (!snap) {
		w->facts = full->proc;
		w->facts.exe = NULL;          /* lives in full's pool */
		snprintf(w->comm, sizeof(w->comm), "%s", full->proc.comm);
	}
	r = ml__kind_cache_learn(w->kinds, full, snap ? snap : full);
	ml_snapshot_free(full);
	return r;
}

int ml_watch_new(pid_t pid, unsigned int flags, struct ml_watch **ret)
{
	struct ml_watch *w;
	int r;

	if (pid <= 0 || !ret)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->pid = pid;
	w->flags = flags;
	for (int f = 0; f < F__COUNT; f++)
		w->fd[f] = -1;
	snprintf(w->proc_dir, sizeof(w->proc_dir), "/proc/%d", (int)pid);
	w->kinds = ml__kind_cache_new();
	r = w->kinds ? refresh_kinds(w, NULL) : -ENOMEM;
	if (r < 0) {
		ml_watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void ml_watch_free(struct ml_watch *w)
{
	if (!w)
		return;
	ml_snapshot_free(w->prev);
	ml_snapshot_free(w->cur);
	ml__kind_cache_free(w->kinds);
	ml__events_free(&w->events);
	for (int f = 0; f < F__COUNT; f++)
		if (w->fd[f] >= 0)
			close(w->fd[f]);
	if (w->task)
		closedir(w->task);
	free(w->buf);
	for (size_t i = 0; i < w->nobjs; i++)
		free((char *)w->objs[i].name);
	free(w->objs);
	free(w);
}

/* The held file f, opened (again, with reopen) if need be; -errno. */
static int held_fd(struct ml_watch *w, int f, bool reopen)
{
	static const char *const names[] = { [F_STAT] = "stat", [F_MAPS] = "maps",
					     [F_ROLLUP] = "smaps_rollup" };
	int *fd = &w->fd[f];
	const char *name = f == F_MAPS && (w->flags & ML_WATCH_DETAIL) ? "smaps" : names[f];
	char path[128];

	if (*fd >= 0 && !reopen)
		return *fd;
	if (*fd >= 0)
		close(*fd);
	snprintf(path, sizeof(path), "%s/%s", w->proc_dir, name);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return *fd;
}

/* Read the held file f whole into w->buf (NUL-terminated), from offset 0;
 * an empty read (maps) or ESRCH (smaps_rollup) reopens it once: an exec
 * replaced the address space the file was opened on.
 * Its length or -errno. */
static ssize_t read_held(struct ml_watch *w, int f)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = held_fd(w, f, attempt > 0);
		size_t len = 0;
		if (fd < 0)
			return fd;
		for (;;) {
			if (ML__RESERVE(w->buf, w->buf_cap, len + (w->buf_cap ? 4096 : 64 * 1024)) < 0)
				return -ENOMEM;
			ssize_t n = pread(fd, w->buf + len, w->buf_cap - len - 1, (off_t)len);
			if (n < 0 && errno == EINTR)
				continue;
			/* smaps_rollup of an address space an exec replaced */
			if (n < 0 && errno == ESRCH && attempt == 0 && len == 0)
				break;
			if (n < 0)
				return errno == ENOENT ? -ESRCH : -errno;
			if (n == 0)
				break;
			len += (size_t)n;
		}
		w->buf[len] = '\0';
		if (len && attempt > 0 && f == F_MAPS)
			w->execed = true;      /* a new address space: its maps */
		if (len)
			return (ssize_t)len;
	}
	return 0;
}

/* The sample's source for ml__snapshot_build (snapshot.c), which reads
 * and classifies in the one order a snapshot has: stat, maps and task/
 * from the files held open, the facts that do not change from the first
 * full snapshot, ELF kinds from the kind cache (a full snapshot only for
 * a file newly mapped); names settled as a live snapshot's (a few at
 * most: " (deleted)", "\012").  ctx is the watch. */

/* stat: faults, start_brk; a zombie or a missing process is -ESRCH. */
static int sample_stat(void *ctx, struct ml_snapshot *snap)
{
	struct ml_watch *w = ctx;
	ssize_t n = read_held(w, F_STAT);
	int r;

	if (n <= 0)
		return n == 0 ? -ESRCH : (int)n;
	r = ml__parse_stat(w->buf, &snap->proc);
	if ((r >= 0 || r == -ESRCH) && ml__stat_dead(w->buf))
		r = -ESRCH;   /* a zombie: gone, for watch */
	const char *rp = strrchr(w->buf, ')');
	w->stat_rss = 0;
	for (int field = 3; rp && (rp = strchr(rp + 1, ' ')); field++)
		if (field == 24) {
			w->stat_rss = strtoull(rp + 1, NULL, 10);
			break;
		}
	return r < 0 ? r : 0;
}

/* maps (smaps with DETAIL), read again while it comes out overlapping
 * (the address space changed between two reads: maps.c's -EAGAIN), at
 * most ML_SNAP_TRIES times, as a snapshot does.  Where the maps had to be
 * reopened (an exec since stat was read), stat is read again first, so
 * start_brk and the maps are of one program. */
static int sample_maps(void *ctx, struct ml_snapshot *snap)
{
	struct ml_watch *w = ctx;
	bool execed = w->execed;
	int r = -EAGAIN;

	for (int try = 0; try < ML_SNAP_TRIES && r == -EAGAIN; try++) {
		ssize_t n = read_held(w, F_MAPS);

		if (n <= 0)
			return n == 0 ? -ESRCH : (int)n;   /* empty: its mm is gone */
		if (w->execed && !execed) {
			execed = true;
			if ((r = sample_stat(w, snap)) < 0)
				return r;
			n = read_held(w, F_MAPS);       /* w->buf held stat */
			if (n <= 0)
				return n == 0 ? -ESRCH : (int)n;
		}
		snap->nregions = 0;
		r = ml__maps_parse_text(snap, w->buf, (size_t)n, w->flags & ML_WATCH_DETAIL);
	}
	return r;
}

/* smaps_rollup's totals, in bytes. */
static void read_rollup(struct ml_watch *w, struct ml_watch_sample *s)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "\nRss:",       offsetof(struct ml_watch_sample, rss) },
		{ "\nPss:",       offsetof(struct ml_watch_sample, pss) },
		{ "\nAnonymous:", offsetof(struct ml_watch_sample, anon) },
		{ "\nSwap:",      offsetof(struct ml_watch_sample, swap) },
	};

	if (read_held(w, F_ROLLUP) <= 0)
		return;
	for (size_t i = 0; i < ML_ARRAY_SIZE(keys); i++) {
		const char *p = strstr(w->buf, keys[i].key);
		if (p)
			*(uint64_t *)((char *)s + keys[i].off) =
				strtoull(p + strlen(keys[i].key), NULL, 10) * 1024;
	}
}

/* A thread seen for the first time is usually on its way into its first
 * blocking call: while task/TID/syscall says "running" it is read again,
 * up to NEW_THREAD_TRIES times NEW_THREAD_WAIT_NS, from a budget of
 * NEW_THREAD_BUDGET reads a sample, so its thread-new event can name its
 * stack; a thread that stays running keeps sp unknown. */
#define NEW_THREAD_TRIES   8
#define NEW_THREAD_WAIT_NS 250000L
#define NEW_THREAD_BUDGET  16

/* The stack pointer of a thread, known from the previous sample or read
 * from task/TID/syscall (blocked threads only); *budget: the re-reads
 * left to this sample for new threads. */
static void thread_sp(const struct ml_watch *w, struct ml_thread *t, unsigned int *budget)
{
	char path[128], *buf;
	bool seen = false;

	if (w->cur) {
		for (size_t i = 0; i < w->cur->nthreads; i++) {
			if (w->cur->threads[i].tid != t->tid)
				continue;
			if (w->cur->threads[i].sp_known) {
				*t = w->cur->threads[i];
				return;
			}
			seen = true;
		}
	}
	snprintf(path, sizeof(path), "%s/task/%d/syscall", w->proc_dir, (int)t->tid);
	for (int try = 0; ; try++) {
		if (ml__read_file(path, &buf, NULL) == 0) {
			ml__parse_syscall(buf, t);
			free(buf);
		}
		if (t->sp_known || t->syscall_nr != -2 || seen || !w->cur ||
		    try == NEW_THREAD_TRIES || *budget == 0)
			return;
		(*budget)--;
		nanosleep(&(struct timespec){ 0, NEW_THREAD_WAIT_NS }, NULL);
	}
}

static int thread_cmp(const void *a, const void *b)
{
	const struct ml_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* task/, held open and rewound each sample. */
static int sample_threads(void *ctx, struct ml_snapshot *snap)
{
	struct ml_watch *w = ctx;
	char path[128];
	struct dirent *de;
	size_t cap = 0;
	unsigned int budget = NEW_THREAD_BUDGET;

	if (!w->task) {
		snprintf(path, sizeof(path), "%s/task", w->proc_dir);
		if (!(w->task = opendir(path)))
			return errno == ENOENT ? -ESRCH : -errno;
	} else {
		rewinddir(w->task);
	}
	while ((de = readdir(w->task))) {
		long tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0)
			continue;
		if (ML__RESERVE(snap->threads, cap, snap->nthreads + 1) < 0)
			return -ENOMEM;
		struct ml_thread *t = &snap->threads[snap->nthreads++];
		memset(t, 0, sizeof(*t));
		t->tid = (pid_t)tid;
		thread_sp(w, t, &budget);
	}
	if (snap->nthreads == 0)
		return -ESRCH;                /* reaped: task/ lists nothing */
	ml__sort(snap->threads, snap->nthreads, sizeof(*snap->threads), thread_cmp);
	return 0;
}

/* The facts that do not change were set from the first full snapshot
 * before stat (take()); stat gave this sample's own. */
static int sample_facts(void *ctx, struct ml_snapshot *snap)
{
	(void)ctx;
	(void)snap;
	return 0;
}

static int sample_kinds(void *ctx, struct ml_snapshot *snap)
{
	struct ml_watch *w = ctx;
	int r = 0;

	if (ml__kind_cache_stale(w->kinds, snap))
		r = refresh_kinds(w, snap);
	return r < 0 ? r : ml__kind_cache_apply(w->kinds, snap);
}

/* Read and classify one sample into a new snapshot. */
static int take(struct ml_watch *w, struct ml_snapshot **ret)
{
	const struct ml__snap_source src = {
		sample_stat, sample_maps, sample_facts, sample_kinds, sample_threads,
		w, true, false,
	};
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));
	int r;

	if (!snap)
		return -ENOMEM;
	snprintf(snap->proc_dir, sizeof(snap->proc_dir), "%s", w->proc_dir);
	snprintf(snap->proc_root, sizeof(snap->proc_root), "/proc");
	snap->proc = w->facts;
	snap->proc.brk = snap->proc.start_brk = 0;   /* from this sample */
	r = ml__snapshot_build(snap, &src);
	if (r < 0) {
		ml_snapshot_free(snap);
		return r;
	}
	snap->proc.nthreads = snap->nthreads;
	*ret = snap;
	return 0;
}

/* The index of object name in the table, added if new; -ENOMEM. */
static ssize_t object_index(struct ml_watch *w, const char *name, ssize_t hint)
{
	if (hint >= 0 && !strcmp(w->objs[hint].name, name))
		return hint;
	for (size_t i = 0; i < w->nobjs; i++)
		if (!strcmp(w->objs[i].name, name))
			return (ssize_t)i;
	if (ML__RESERVE(w->objs, w->objs_cap, w->nobjs + 1) < 0)
		return -ENOMEM;
	struct ml_watch_object *o = &w->objs[w->nobjs];
	memset(o, 0, sizeof(*o));
	if (!(o->name = strdup(name)))
		return -ENOMEM;
	return (ssize_t)w->nobjs++;
}

static bool object_kind(const struct ml_region *r)
{
	return (unsigned)r->kind < ML_WATCH_OBJ_KINDS && r->object;
}

/* Per-object sums of snap into the table, with last, first and peaks. */
static int fill_objects(struct ml_watch *w, const struct ml_snapshot *snap, uint64_t t_ns)
{
	ssize_t hint = -1;

	for (size_t i = 0; i < w->nobjs; i++) {
		struct ml_watch_object *o = &w->objs[i];
		o->vsize_last = o->vsize;
		o->vsize = o->rss = 0;
		memset(o->kinds, 0, sizeof(o->kinds));
	}
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		if (!object_kind(r))
			continue;
		if ((hint = object_index(w, r->object, hint)) < 0)
			return (int)hint;
		struct ml_watch_object *o = &w->objs[hint];
		o->kinds[r->kind].count++;
		o->kinds[r->kind].vsize += r->end - r->start;
		o->kinds[r->kind].rss += r->smaps->rss;
		o->vsize += r->end - r->start;
		o->rss += r->smaps->rss;
	}
	for (size_t i = 0; i < w->nobjs; i++) {
		struct ml_watch_object *o = &w->objs[i];
		if (w->sum.samples == 0)
			o->vsize_first = o->vsize;
		for (size_t k = 0; k < ML_WATCH_OBJ_KINDS; k++)
			if (o->kinds[k].vsize > o->peak_kind[k])
				o->peak_kind[k] = o->kinds[k].vsize;
		if (o->vsize > o->peak_vsize) {
			o->peak_vsize = o->vsize;
			o->peak_t_ns = t_ns;
		}
	}
	return 0;
}

/* smaps_rollup's totals into s, read again only if resident memory may
 * have moved since the last read (see the top of this file). */
static void rollup(struct ml_watch *w, struct ml_watch_sample *s)
{
	const struct ml_watch_sample *p = &w->sample;

	if (w->sum.samples && s->minflt == p->minflt && s->majflt == p->majflt &&
	    w->stat_rss == w->rollup_stat_rss && s->vsize == p->vsize &&
	    s->nregions == p->nregions && s->t_ns - w->rollup_t_ns < ROLLUP_MAX_AGE) {
		s->rss = p->rss;
		s->pss = p->pss;
		s->anon = p->anon;
		s->swap = p->swap;
		return;
	}
	read_rollup(w, s);
	w->rollup_t_ns = s->t_ns;
	w->rollup_stat_rss = w->stat_rss;
}

static void fill_sample(struct ml_watch *w, const struct ml_snapshot *snap,
			struct ml_watch_sample *s)
{
	bool detail = w->flags & ML_WATCH_DETAIL;

	s->kind_rss = detail;
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		struct ml_watch_kind *k = &s->kinds[r->kind];
		k->count++;
		k->vsize += r->end - r->start;
		s->vsize += r->end - r->start;
		if (detail) {
			k->rss += r->smaps->rss;
			s->rss += r->smaps->rss;
			s->pss += r->smaps->pss;
			s->anon += r->smaps->anonymous;
			s->swap += r->smaps->swap;
		}
		if (r->kind == ML_KIND_STACK) {
			s->stack_start = r->start;
			s->stack_end = r->end;
		}
	}
	s->start_brk = snap->proc.start_brk;
	s->brk = snap->proc.brk;
	s->stack_lowest = s->stack_start;
	if (w->sum.samples && w->sample.stack_lowest &&
	    (!s->stack_start || w->sample.stack_lowest < s->stack_start))
		s->stack_lowest = w->sample.stack_lowest;
	s->minflt = snap->proc.minflt;
	s->majflt = snap->proc.majflt;
	s->nregions = snap->nregions;
	s->nthreads = snap->nthreads;
	if (!detail)
		rollup(w, s);
}

static void peak(struct ml_watch_peak *p, uint64_t vsize, uint64_t rss, uint64_t t)
{
	if (vsize > p->vsize) {
		p->vsize = vsize;
		p->vsize_t_ns = t;
	}
	if (rss > p->rss) {
		p->rss = rss;
		p->rss_t_ns = t;
	}
}

static void account(struct ml_watch *w, const struct ml_watch_sample *s)
{
	struct ml_watch_summary *sum = &w->sum;
	uint64_t *h = w->hist[w->hist_head];

	if (sum->samples == 0) {
		w->first = *s;
		w->first.events = NULL;
		w->first.nevents = 0;
		w->first.objects = NULL;      /* see objects[].vsize_first */
		w->first.nobjects = 0;
	}
	sum->samples++;
	sum->duration_ns = s->t_ns;
	sum->kind_rss = s->kind_rss;
	for (size_t k = 0; k < ML_KIND__COUNT; k++) {
		peak(&sum->kinds[k], s->kinds[k].vsize, s->kinds[k].rss, s->t_ns);
		h[k] = s->kinds[k].vsize;
	}
	h[ML_KIND__COUNT] = s->vsize;
	peak(&sum->total, s->vsize, s->rss, s->t_ns);
	sum->minflt = s->minflt - w->first.minflt;
	sum->majflt = s->majflt - w->first.majflt;
	if (s->nthreads > sum->max_threads)
		sum->max_threads = s->nthreads;
	for (size_t i = 0; i < s->nevents; i++)
		sum->events[s->events[i].type]++;
	sum->objects = s->objects;
	sum->nobjects = s->nobjects;
	w->hist_head = (w->hist_head + 1) % ML_WATCH_HISTORY;
	if (w->hist_n < ML_WATCH_HISTORY)
		w->hist_n++;
}

int ml_watch_sample(struct ml_watch *w, uint64_t t_ns, const struct ml_watch_sample **ret)
{
	struct ml_snapshot *snap = NULL;
	struct ml_watch_sample s = { 0 };
	int r;

	if (!w || !ret)
		return -EINVAL;
	r = take(w, &snap);
	if (r < 0)
		return r;
	if (w->sum.samples == 0)
		w->t0 = t_ns;
	s.t_ns = t_ns - w->t0;
	s.index = w->sum.samples;
	fill_sample(w, snap, &s);
	if ((r = fill_objects(w, snap, s.t_ns)) < 0) {
		ml_snapshot_free(snap);
		return r;
	}
	s.objects = w->objs;
	s.nobjects = w->nobjs;
	w->events.n = 0;
	w->events.exec = w->execed;
	w->execed = false;
	if (w->cur && (r = ml__watch_diff(&w->events, w->cur, snap)) < 0) {
		ml_snapshot_free(snap);
		return r;
	}
	s.events = w->events.ev;
	s.nevents = w->events.n;
	ml_snapshot_free(w->prev);
	w->prev = w->cur;
	w->cur = snap;
	w->sample = s;
	account(w, &w->sample);
	*ret = &w->sample;
	return 0;
}

size_t ml_watch_history(const struct ml_watch *w, enum ml_kind k, uint64_t *ret, size_t max)
{
	size_t n = w->hist_n < max ? w->hist_n : max;

	if ((unsigned)k > ML_KIND__COUNT)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t slot = (w->hist_head + ML_WATCH_HISTORY - n + i) % ML_WATCH_HISTORY;
		ret[i] = w->hist[slot][k];
	}
	return n;
}

void ml_watch_summary(const struct ml_watch *w, struct ml_watch_summary *ret)
{
	*ret = w->sum;
}
