/*
 * snapshot.c - take a snapshot of a process: the order of reading and the
 * errors the caller sees.
 *
 * Order: stat (is it there? a kernel thread?), maps or smaps (one pass),
 * the small files, basic kinds, ELF attribution, threads, thread stacks;
 * then stat again, so a process that exited while we read is reported as
 * gone (-ESRCH) rather than as a half-empty layout.
 */
#include "ml-private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ml_snapshot_free(struct ml_snapshot *snap)
{
	if (!snap)
		return;
	ml__grow_free(snap->regions, snap->cap * sizeof(*snap->regions), snap->regions_huge);
	free(snap->threads);
	ml__pool_free(snap);
	free(snap);
}

/* Read stat: 0, 1 for a kernel thread, or -errno (-ESRCH if gone). */
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
	/* A zombie has no address space left. */
	const char *rp = strrchr(buf, ')');
	if (r >= 0 && rp && (rp[2] == 'Z' || rp[2] == 'X'))
		r = -ESRCH;
	free(buf);
	return r;
}

static int read_maps(struct ml_snapshot *snap, bool smaps)
{
	char path[PATH_MAX];
	int fd, r;

	if (ml__path(path, sizeof(path), snap->proc_dir, smaps ? "smaps" : "maps") < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Gone if its directory is gone; else (a saved tree without this
	 * file) say the file is missing. */
	if (fd < 0)
		return errno == ENOENT && access(snap->proc_dir, F_OK) < 0 ? -ESRCH : -errno;
	r = ml__maps_parse_fd(snap, fd, smaps);
	close(fd);
	return r;
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

static int take(struct ml_snapshot *snap, unsigned int flags, bool live)
{
	int kthread, r;

	kthread = read_stat(snap);
	if (kthread < 0)
		return kthread;
	r = read_maps(snap, flags & ML_SNAP_SMAPS);
	if (r < 0)
		return r;
	if (snap->nregions == 0)
		return kthread ? -ENODATA : -ESRCH;
	r = ml__read_proc_facts(snap);
	if (r < 0)
		return r;
	ml__classify_basic(snap);
	if (!(flags & ML_SNAP_NOELF)) {
		r = ml__elf_attribute(snap);
		if (r < 0)
			return r;
	}
	ml__classify_fallback(snap);
	ml__read_threads(snap, live && (flags & ML_SNAP_PTRACE));
	ml__classify_threads(snap);
	/* Still there?  (read_stat refreshes the fault counters too.) */
	if (live) {
		r = read_stat(snap);
		if (r < 0)
			return r;
	}
	return 0;
}

int ml_snapshot_take(pid_t pid, const struct ml_snap_opts *opts,
		     struct ml_snapshot **ret)
{
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));
	unsigned int flags = opts ? opts->flags : 0;
	int r;

	if (!snap)
		return -ENOMEM;
	r = init(snap, pid, opts);
	if (r == 0)
		r = take(snap, flags, !(opts && opts->proc_root));
	if (r < 0) {
		ml_snapshot_free(snap);
		return r;
	}
	*ret = snap;
	return 0;
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

const struct ml_region *ml_snapshot_find(const struct ml_snapshot *snap, uint64_t addr)
{
	size_t lo = 0, hi = snap->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ml_region *r = &snap->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
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
