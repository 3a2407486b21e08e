/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c - take a snapshot of a process: the order of reading and the
 * errors the caller sees.
 *
 * Order: stat (is it there? a kernel thread?), maps or smaps (one pass),
 * the small files, basic kinds, ELF attribution, threads, thread stacks;
 * then stat again, so a process that exited while we read is reported as
 * gone (-ESRCH; -EOWNERDEAD while it is a zombie its parent has not
 * reaped) rather than as a half-empty layout.
 *
 * A live process races us, and two races are told from real failures:
 * - maps read while the address space changes between two read() calls
 *   comes out with well-formed lines overlapping or out of order
 *   (maps.c's -EAGAIN): the file is read again from the start, at most
 *   ML_SNAP_TRIES times, then -EAGAIN.  A saved tree's is -EBADMSG.
 * - a process that exec'd while we read looks gone (its old mm reads
 *   empty, stat shows PF_EXITING while de_thread() runs): if after
 *   -ESRCH the PID still names a live process with the same start time
 *   (kept across exec, new for a reused PID), the whole snapshot is taken
 *   again, at most ML_SNAP_TRIES times, then -ESTALE.
 * - names a live mapping gives ambiguously in maps (" (deleted)" at the
 *   end, "\012" inside: a file may be called that) are settled from
 *   /proc/PID/map_files: its link text is the path unescaped, and the
 *   file's link count (or, unprivileged, whether the literal path is that
 *   inode) says whether it was unlinked.  Only those few names cost a
 *   look; a saved tree keeps maps' textual rule.
 * Memory of a discarded read stays in the pool until the snapshot is
 * freed (at most ML_SNAP_TRIES reads).
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ml__region_split(struct ml_snapshot *snap, size_t i, uint64_t at)
{
	struct ml_region *r;

	if (i >= snap->nregions || at <= snap->regions[i].start ||
	    at >= snap->regions[i].end)
		return -EINVAL;
	if (!ml__region_append(snap))
		return -ENOMEM;
	r = &snap->regions[i];
	memmove(r + 2, r + 1, (snap->nregions - 2 - i) * sizeof(*r));
	r[1] = r[0];
	r[1].start = at;
	if (r[1].inode)
		r[1].offset += at - r->start;
	r->end = at;
	assert(r[0].start < r[0].end && r[0].end == r[1].start && r[1].start < r[1].end);
	assert(i + 2 >= snap->nregions || r[1].end <= r[2].start);
	return ml__smaps_split(snap, i);
}

void ml_snapshot_free(struct ml_snapshot *snap)
{
	if (!snap)
		return;
	ml__grow_free(snap->regions, snap->cap * sizeof(*snap->regions), snap->regions_huge);
	free(snap->threads);
	free(snap->loads);
	ml__pool_free(snap);
	free(snap);
}

int ml__stat_dead(const char *stat)
{
	const char *rp = strrchr(stat, ')');
	unsigned long threads = 0;
	char state = 0;

	if (!rp || sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
			  "%*u %*d %*d %*d %*d %lu", &state, &threads) != 2)
		return 0;
	if (state != 'Z' && state != 'X')
		return 0;
	return threads <= 1 ? -EOWNERDEAD : -ESRCH;
}

/* Read stat: 0, 1 for a kernel thread, or -errno (-ESRCH if gone,
 * -EOWNERDEAD a zombie: exited, not yet reaped, no address space). */
static int read_stat(struct ml_snapshot *snap)
{
	char path[PATH_MAX], *buf;
	int r;

	r = ml__path(path, sizeof(path), snap->proc_dir, "stat");
	if (r == 0)
		r = ml__read_file(path, &buf, NULL);
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	r = ml__parse_stat(buf, &snap->proc);
	/* A zombie has no address space left (its PF_EXITING already made
	 * r -ESRCH): say which kind of dead. */
	if (r >= 0 || r == -ESRCH) {
		int dead = ml__stat_dead(buf);
		if (dead)
			r = dead;
	}
	free(buf);
	return r;
}

static int read_maps_once(struct ml_snapshot *snap, const char *path, bool smaps)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Gone if its directory is gone; else (a saved tree without this
	 * file) say the file is missing. */
	if (fd < 0)
		return errno == ENOENT && access(snap->proc_dir, F_OK) < 0 ? -ESRCH : -errno;
	r = ml__maps_parse_fd(snap, fd, smaps);
	close(fd);
	return r;
}

/* maps or smaps, read again while it comes out out of order (live). */
static int read_maps(struct ml_snapshot *snap, bool smaps, bool live)
{
	char path[PATH_MAX];
	int r = -EAGAIN;

	if (ml__path(path, sizeof(path), snap->proc_dir, smaps ? "smaps" : "maps") < 0)
		return -ENAMETOOLONG;
	for (int try = 0; try < ML_SNAP_TRIES && r == -EAGAIN; try++) {
		snap->nregions = 0;
		r = read_maps_once(snap, path, smaps);
		if (r == -EAGAIN && !live)
			return -EBADMSG;   /* a saved file does not race */
	}
	return r;
}

/* " (deleted)" at the end of s (length n)? */
static bool deleted_suffix(const char *s, size_t n)
{
	static const char del[] = " (deleted)";

	return n >= sizeof(del) - 1 && !memcmp(s + n - (sizeof(del) - 1), del, sizeof(del) - 1);
}

/* The name of a live file mapping whose maps text was ambiguous, from its
 * map_files link; r is kept as maps said if the link cannot be read.
 * 0, or -ENOMEM (the settled name found no room: r kept). */
static int settle_name(struct ml_snapshot *snap, struct ml_region *r)
{
	char entry[64], path[PATH_MAX], link[PATH_MAX], *name;
	struct stat st;
	bool deleted;
	ssize_t n;

	snprintf(entry, sizeof(entry), "map_files/%" PRIx64 "-%" PRIx64, r->start, r->end);
	if (ml__path(path, sizeof(path), snap->proc_dir, entry) < 0)
		return 0;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0 || n >= (ssize_t)sizeof(link) - 1)
		return 0;
	link[n] = '\0';
	/* stat() through map_files needs CAP_CHECKPOINT_RESTORE; without it,
	 * a file still linked under the literal name is that name. */
	if (stat(path, &st) == 0 && st.st_ino == r->inode)
		deleted = st.st_nlink == 0;
	else
		deleted = deleted_suffix(link, (size_t)n) &&
			  !(lstat(link, &st) == 0 && st.st_ino == r->inode && st.st_nlink > 0);
	if (deleted && deleted_suffix(link, (size_t)n))
		n -= (ssize_t)strlen(" (deleted)");
	if (!(name = ml__strndup(snap, link, (size_t)n)))
		return -ENOMEM;
	r->name = name;
	r->deleted = deleted;
	return 0;
}

/* The mappings of one file give the same maps text and the same answer:
 * the last file settled (its text as maps gave it, and what it became) is
 * reused, so 5,000 mappings of one unlinked file cost one look, not
 * 5,000 (~8 us each: readlink and stat).  0 or -ENOMEM. */
int ml__settle_names(struct ml_snapshot *snap)
{
	const struct ml_region *last = NULL;
	const char *last_text = NULL;

	for (size_t i = 0; i < snap->nregions; i++) {
		struct ml_region *r = &snap->regions[i];

		if (!r->inode || !(r->deleted || strchr(r->name, '\n')))
			continue;
		if (last && last->inode == r->inode && last->dev_major == r->dev_major &&
		    last->dev_minor == r->dev_minor && !strcmp(last_text, r->name)) {
			r->name = last->name;
			r->deleted = last->deleted;
			continue;
		}
		last_text = r->name;
		int e = settle_name(snap, r);
		if (e < 0)
			return e;
		last = r;
	}
	return 0;
}

static int init(struct ml_snapshot *snap, pid_t pid, const struct ml_snap_opts *opts)
{
	const char *root = opts && opts->proc_root ? opts->proc_root : "/proc";

	if (pid <= 0)
		return -EINVAL;
	if (strlen(root) > sizeof(snap->proc_root) - 32)
		return -ENAMETOOLONG;
	snprintf(snap->proc_root, sizeof(snap->proc_root), "%s", root);
	snprintf(snap->proc_dir, sizeof(snap->proc_dir), "%s/%d", root, (int)pid);
	snap->proc.pid = pid;
	return 0;
}

bool ml__regions_sorted(const struct ml_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];

		if (r->start >= r->end || (i && r[-1].end > r->start))
			return false;
		for (size_t k = 0; k < r->nsections; k++)
			if (r->sections[k].start < r->start || r->sections[k].end > r->end)
				return false;
	}
	return true;
}

int ml__snapshot_build(struct ml_snapshot *snap, const struct ml__snap_source *src)
{
	int kthread, r;

	kthread = src->stat(src->ctx, snap);
	if (kthread < 0)
		return kthread;
	if ((r = src->maps(src->ctx, snap)) < 0)
		return r;
	if (snap->nregions == 0)
		return kthread ? -ENODATA : -ESRCH;
	assert(ml__regions_sorted(snap));   /* maps.c rejects any other order */
	if (src->live && (r = ml__settle_names(snap)) < 0)
		return r;
	if ((r = src->facts(src->ctx, snap)) < 0)
		return r;
	ml__classify_basic(snap);
	if ((r = src->kinds(src->ctx, snap)) < 0)
		return r;
	ml__classify_fallback(snap);
	ml__classify_owners(snap);
	if ((r = src->threads(src->ctx, snap)) < 0)
		return r;
	if ((r = ml__classify_threads(snap)) < 0)
		return r;
	ml__classify_devices(snap);
	ml__classify_owners_late(snap);
	assert(ml__regions_sorted(snap));   /* splits (the .bss tail) keep it */
	/* Still there?  (stat refreshes the fault counters too.) */
	if (src->recheck && (r = src->stat(src->ctx, snap)) < 0)
		return r;
	return 0;
}

/* ml_snapshot_take's source: the files of snap->proc_dir, by path. */
struct take_ctx {
	unsigned int flags;
	bool live;
};

static int take_stat(void *ctx, struct ml_snapshot *snap)
{
	(void)ctx;
	return read_stat(snap);
}

static int take_maps(void *ctx, struct ml_snapshot *snap)
{
	const struct take_ctx *t = ctx;

	return read_maps(snap, t->flags & ML_SNAP_SMAPS, t->live);
}

static int take_facts(void *ctx, struct ml_snapshot *snap)
{
	(void)ctx;
	return ml__read_proc_facts(snap);
}

static int take_kinds(void *ctx, struct ml_snapshot *snap)
{
	const struct take_ctx *t = ctx;

	return t->flags & ML_SNAP_NOELF ? 0 : ml__elf_attribute(snap);
}

/* No task/ (a saved tree without it, a process going) leaves the threads
 * unknown; no memory for them is an error. */
static int take_threads(void *ctx, struct ml_snapshot *snap)
{
	const struct take_ctx *t = ctx;
	int r = ml__read_threads(snap, t->live && (t->flags & ML_SNAP_PTRACE));

	return r == -ENOMEM ? r : 0;
}

static int take(struct ml_snapshot *snap, unsigned int flags, bool live)
{
	struct take_ctx t = { flags, live };
	const struct ml__snap_source src = {
		take_stat, take_maps, take_facts, take_kinds, take_threads, &t, live, live,
	};

	return ml__snapshot_build(snap, &src);
}

/* After -ESRCH: is pid still the live process that had start_time?  Then
 * it exec'd while we read.  An exec by a thread other than the leader
 * shows the leader exiting (PF_EXITING) and then a zombie until
 * de_thread() puts the thread in its place, so both are waited out for
 * up to 20 ms: a process really exiting stays so (a zombie until reaped). */
static bool still_there(const char *proc_dir, uint64_t start_time)
{
	struct ml_proc p;
	char path[PATH_MAX], *buf;

	if (ml__path(path, sizeof(path), proc_dir, "stat") < 0)
		return false;
	for (int i = 0; i < 20; i++) {
		if (ml__read_file(path, &buf, NULL) < 0)
			return false;
		memset(&p, 0, sizeof(p));
		int r = ml__parse_stat(buf, &p);
		const char *rp = strrchr(buf, ')');
		bool zombie = rp && (rp[2] == 'Z' || rp[2] == 'X');
		free(buf);
		if (p.start_time != start_time || r == -EBADMSG)
			return false;
		if (r >= 0 && !zombie)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

int ml_snapshot_take(pid_t pid, const struct ml_snap_opts *opts,
		     struct ml_snapshot **ret)
{
	unsigned int flags = opts ? opts->flags : 0;
	bool live = !(opts && opts->proc_root);
	int r;

	for (int try = 1; ; try++) {
		struct ml_snapshot *snap = calloc(1, sizeof(*snap));

		if (!snap)
			return -ENOMEM;
		r = init(snap, pid, opts);
		if (r == 0)
			r = take(snap, flags, live);
		if (r == 0) {
			*ret = snap;
			return 0;
		}
		/* Gone, or exec'd (the same process, a new image): again.  An
		 * exec by a non-leader thread shows the leader as a zombie
		 * for a moment, so -EOWNERDEAD is checked the same way. */
		bool again = (r == -ESRCH || r == -EOWNERDEAD) && live && snap->proc.start_time &&
			     still_there(snap->proc_dir, snap->proc.start_time);
		ml_snapshot_free(snap);
		if (!again)
			return r;
		if (try == ML_SNAP_TRIES)
			return -ESTALE;
	}
}

const struct ml_proc *ml_snapshot_proc(const struct ml_snapshot *snap)
{
	return &snap->proc;
}

const struct ml_region *ml_snapshot_regions(const struct ml_snapshot *snap, size_t *ret_n)
{
	*ret_n = snap->nregions;
	return snap->regions;
}

const struct ml_thread *ml_snapshot_threads(const struct ml_snapshot *snap, size_t *ret_n)
{
	*ret_n = snap->nthreads;
	return snap->threads;
}

const void *ml__span_find(const void *base, size_t n, size_t stride, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint64_t *span = (const void *)((const char *)base + mid * stride);
		if (addr < span[0])
			hi = mid;
		else if (addr >= span[1])
			lo = mid + 1;
		else
			return span;
	}
	return NULL;
}

ML__SPAN_HEAD(struct ml_region, start, end);
const struct ml_region *ml_snapshot_find(const struct ml_snapshot *snap, uint64_t addr)
{
	assert(snap);
	return ml__span_find(snap->regions, snap->nregions, sizeof(*snap->regions), addr);
}

const struct ml_section *ml_region_section(const struct ml_region *r, uint64_t addr)
{
	/* Sections may overlap (.tdata/.init_array); the last one starting
	 * at or below addr is the most specific. */
	const struct ml_section *best = NULL;

	for (size_t i = 0; i < r->nsections; i++)
		if (addr >= r->sections[i].start && addr < r->sections[i].end)
			best = &r->sections[i];
	return best;
}

void ml_snapshot_totals(const struct ml_snapshot *snap,
			struct ml_kind_total totals[ML_KIND__COUNT])
{
	memset(totals, 0, sizeof(*totals) * ML_KIND__COUNT);
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		struct ml_kind_total *t = &totals[r->kind];
		t->count++;
		t->vsize += r->end - r->start;
		t->rss += r->smaps->rss;
		t->pss += r->smaps->pss;
		t->dirty += r->smaps->shared_dirty + r->smaps->private_dirty;
		t->swap += r->smaps->swap;
	}
}
