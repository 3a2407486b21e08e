/* SPDX-License-Identifier: MIT */
/*
 * run-check.c - memlayout run --check=heap: the program runs with
 * libmlalloc.so preloaded in its checking mode (MLALLOC_CHECK=full, or
 * sample:N with --sample-rate N; alloc/README.md); when it dies, the facts
 * mlalloc published (heapcheck.c) become the report instead of the plain
 * crash explanation; with leaks, the leak report of a process that exits
 * (read at its PTRACE_EVENT_EXIT stop, after mlalloc's scan at exit).
 * The library is the one next to memlayout in a build tree
 * (../alloc/libmlalloc.so), else the installed one (MEMLAYOUT_LIBDIR, first
 * relative to memlayout's own directory: cli_find_shipped).
 */
#include "cli.h"
#include "run-check.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The checks --check names, and the bool each sets. */
static const struct check_name {
	const char *name;
	size_t field;            /* offsetof the bool it sets */
} check_names[] = {
	{ "heap", offsetof(struct cli_run_check, heap) },
	{ "leaks", offsetof(struct cli_run_check, leaks) },
};

static int check_one(const char *name, size_t len, struct cli_run_check *ret)
{
	for (size_t i = 0; i < sizeof(check_names) / sizeof(check_names[0]); i++) {
		const struct check_name *c = &check_names[i];
		if (strlen(c->name) != len || strncmp(c->name, name, len))
			continue;
		*(bool *)((char *)ret + c->field) = true;
		return 0;
	}
	return cli_usage_error("--check", "%.*s: unknown check (known: heap, leaks)", (int)len, name);
}

int cli_run_check_parse(const char *list, struct cli_run_check *ret)
{
	const char *s = list;
	int code;

	do {
		size_t len = strcspn(s, ",");
		if ((code = check_one(s, len, ret)))
			return code;
		s += len;
	} while (*s++ == ',');
	return 0;
}

int cli_run_check_rate(const char *arg, struct cli_run_check *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v == 0 || v > UINT32_MAX || arg[0] == '-')
		return cli_usage_error(arg, "--sample-rate: not a number from 1 to %u", UINT32_MAX);
	ret->rate = v;
	return 0;
}

int cli_run_check_env(const struct cli_run_check *c)
{
	char lib[PATH_MAX], mode[48];
	const char *old = getenv("LD_PRELOAD");
	const char *rel[] = { "../alloc/libmlalloc.so", MEMLAYOUT_LIBDIR_REL[0] ?
			      MEMLAYOUT_LIBDIR_REL "/libmlalloc.so.0" : NULL, NULL };

	if (c->leaks && !c->heap)
		return cli_usage_error("--check", "leaks: needs heap (--check=heap,leaks)");
	if (!c->heap)
		return 0;
	if (cli_find_shipped(rel, MEMLAYOUT_LIBDIR "/libmlalloc.so.0", R_OK, lib, sizeof(lib)) < 0)
		return cli_error("libmlalloc.so.0", "not found next to memlayout nor in %s: "
				    "--check=heap needs it", MEMLAYOUT_LIBDIR);
	if (old && *old) {
		size_t len = strlen(lib) + strlen(old) + 2;
		char *both = malloc(len);
		if (!both)
			return cli_error("LD_PRELOAD", "%s", strerror(ENOMEM));
		snprintf(both, len, "%s:%s", lib, old);
		setenv("LD_PRELOAD", both, 1);
		free(both);
	} else {
		setenv("LD_PRELOAD", lib, 1);
	}
	if (c->rate)
		snprintf(mode, sizeof(mode), "sample:%lu%s", c->rate, c->leaks ? ",leaks" : "");
	else
		snprintf(mode, sizeof(mode), "full%s", c->leaks ? ",leaks" : "");
	setenv("MLALLOC_CHECK", mode, 1);
	return 0;
}

int cli_run_check_explain(pid_t pid, int signo, const struct ml_snapshot *snap,
			 const struct ml_backtrace *bt, FILE *out, unsigned int flags,
			 unsigned int width)
{
	struct ml_heapcheck h;
	int e = ml_heapcheck_read(pid, &h);

	if (e < 0)
		return e;
	h.signo = signo;
	return ml_render_heapcheck_width(snap, &h, bt, out, flags, width);
}

int cli_run_check_at_exit(pid_t tid, FILE *out, unsigned int flags)
{
	struct ml_snap_opts so = { NULL, 0 };
	struct ml_task_status ts;
	struct ml_snapshot *snap;
	struct ml_heapleaks l;
	int e;

	if (ml_task_status(tid, &ts) < 0 || ts.tgid != tid)
		return 0;   /* a thread: the leader's exit says it */
	if (ml_heapleaks_read(tid, &l) < 0 || l.blocks == 0)
		return 0;
	if ((e = ml_snapshot_take(tid, &so, &snap)) < 0)
		return e;
	e = ml_render_heapleaks(snap, &l, out, flags);
	ml_snapshot_free(snap);
	return e;
}
