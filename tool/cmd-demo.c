/* SPDX-License-Identifier: MIT */
/*
 * cmd-demo.c - `memlayout demo`: start the bundled demo program, read the
 * addresses it prints, and show its layout (table and diagram) with those
 * addresses marked, then let it go.  With --html, the picture of
 * show --html with the same marks instead (render-html.c).
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MARKS 16
#define DEMO_COLUMNS "START,END,SIZE,PERMS,KIND,OBJECT,RSS,TID"

struct demo {
	bool html;                 /* --html */
	struct ml_spawn sp;        /* its stdin (closing it ends it) and stdout on pipes */
	FILE *out;                 /* its stdout */
	struct ml_mark marks[MAX_MARKS];
	char labels[MAX_MARKS][64];
	size_t nmarks;
};

static int start(struct demo *d, char *path)
{
	char *argv[] = { path, NULL };
	int r = ml_spawn_start(argv, ML_SPAWN_PIPE_IN | ML_SPAWN_PIPE_OUT, &d->sp);

	if (r < 0)
		return r;
	if ((r = ml_spawn_wait_exec(&d->sp)) < 0)
		return r;
	if (!(d->out = fdopen(d->sp.out_fd, "r")))
		return -errno;
	d->sp.out_fd = -1;   /* d->out's */
	return 0;
}

/* Read "label=0xADDR" lines up to "ready". */
static int read_marks(struct demo *d)
{
	char line[256];

	while (fgets(line, sizeof(line), d->out)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "ready"))
			return 0;
		char *eq = strrchr(line, '=');
		if (!eq || d->nmarks == MAX_MARKS)
			continue;
		*eq = '\0';
		struct ml_mark *m = &d->marks[d->nmarks];
		if (cli_parse_addr(eq + 1, &m->addr) < 0)
			continue;
		snprintf(d->labels[d->nmarks], sizeof(d->labels[0]), "%.63s", line);
		m->label = d->labels[d->nmarks++];
	}
	return -EPIPE;
}

static void stop(struct demo *d)
{
	ml_spawn_close(&d->sp);
	if (d->out)
		fclose(d->out);
	if (d->sp.pid > 0)
		waitpid(d->sp.pid, NULL, 0);
}

/* Where each thing landed: the point of the demo, printed last so that a
 * terminal leaves it in view under the diagram. */
static void landed(const struct demo *d, const struct ml_snapshot *snap, FILE *f)
{
	fprintf(f, "\nWhere each thing the program made landed (PID %d):\n\n", (int)d->sp.pid);
	for (size_t i = 0; i < d->nmarks; i++) {
		const struct ml_region *reg = ml_snapshot_find(snap, d->marks[i].addr);
		const struct ml_section *sec = reg ? ml_region_section(reg, d->marks[i].addr) : NULL;
		fprintf(f, "  %-20s 0x%-14" PRIx64 " %-13s %s\n", d->marks[i].label, d->marks[i].addr,
			reg ? ml_kind_name(reg->kind) : "unmapped", sec ? sec->name : "");
	}
}

static int show(struct demo *d)
{
	struct ml_snap_opts so = { NULL, ML_SNAP_SMAPS };
	struct ml_snapshot *snap;
	int r = ml_snapshot_take(d->sp.pid, &so, &snap);
	unsigned int width = cli_term_width();
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)d->sp.pid);
	if (r < 0)
		return cli_error(pid, "%s", cli_strerror(-r));
	if (d->html) {
		struct ml_diagram_opts hopt = { 0, d->marks, d->nmarks, 0 };
		r = ml_render_html(snap, stdout, &hopt);
		ml_snapshot_free(snap);
		return r < 0 || fflush(stdout) ? cli_error("stdout", "write error") : CLI_EXIT_OK;
	}
	FILE *f = cli_fold_open(0, NULL);
	fprintf(f, "memlayout demo: a program (PID %d) put one thing in each part of its "
		"address space (code, constants, globals, heap, stacks) and printed where; "
		"here are its regions, its address space drawn, and last, where each "
		"thing landed.\n", (int)d->sp.pid);
	/* On a terminal the default columns, fitted to its width; else the
	 * demo's own set. */
	int ids[16];
	size_t nids = 0;
	const char *bad;
	if (ml_columns_parse(DEMO_COLUMNS, ids, 16, &nids, &bad) < 0)
		abort();   /* our own constant: a bug */
	struct ml_table_opts to = { width ? NULL : ids, nids, width ? ML_OUT_TERM : 0 };
	if (width)
		fprintf(f, "\nIts regions (memlayout show %d):\n\n", (int)d->sp.pid);
	else
		fprintf(f, "\nIts regions (memlayout show -o %s %d):\n\n", DEMO_COLUMNS, (int)d->sp.pid);
	cli_fold_close(f);
	r = ml_render_regions(snap, stdout, &to);
	printf("\nIts address space, high addresses on top (memlayout show -d %d):\n\n", (int)d->sp.pid);
	struct ml_diagram_opts dopt = { cli_color(STDOUT_FILENO) ? ML_OUT_COLOR : 0,
					d->marks, d->nmarks, width };
	if (r == 0)
		r = ml_render_diagram(snap, stdout, &dopt);
	if (r == 0)
		landed(d, snap, stdout);
	ml_snapshot_free(snap);
	return r < 0 ? cli_error("stdout", "write error") : CLI_EXIT_OK;
}

enum { OPT_HTML = CLI_OPT_CMD };

static const struct cli_opt opts[] = {
	CLI_FLAG(OPT_HTML, "html", "its address space drawn as one web page, each thing\n"
		 "it placed marked (as memlayout show --html)", struct demo, html),
	{ 0 },
};

static const struct cli_spec spec = {
	.verb = "demo",
	.synopsis = " memlayout demo [--html]\n",
	.about = "Run a small bundled program that puts a global in\n"
		 ".data and one in .bss, a constant in .rodata, a small and a large malloc,\n"
		 "a local and a thread; show its layout with those addresses marked.\n",
	.opts = opts,
	.examples = " memlayout demo\n"
		    " memlayout demo --html > demo.html\n",
	.words = CLI_WORDS_FREE,
};

int cli_cmd_demo(int argc, char **argv)
{
	struct demo d = { .sp = { -1, -1, -1, -1, -1 } };
	struct cli_opts cli = { 0 };
	char path[PATH_MAX];
	int r;

	if ((r = cli_getopt(&spec, argc, argv, &cli, &d)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	if (cli.nwords || cli.command)
		return cli_usage_error(cli.nwords ? cli.words[0] : "--",
				       "demo takes no arguments but --html");
	/* Next to memlayout in the build tree; once installed, in LIBEXECDIR
	 * (first relative to memlayout: cli_find_shipped). */
	const char *rel[] = { "memlayout-demo", MEMLAYOUT_LIBEXECDIR_REL[0] ?
			      MEMLAYOUT_LIBEXECDIR_REL "/memlayout-demo" : NULL, NULL };
	if (cli_find_shipped(rel, MEMLAYOUT_LIBEXECDIR "/memlayout-demo", X_OK, path, sizeof(path)) < 0)
		return cli_error("memlayout-demo", "not found next to memlayout nor in %s",
				    MEMLAYOUT_LIBEXECDIR);
	signal(SIGPIPE, SIG_IGN);
	r = start(&d, path);
	if (r == 0)
		r = read_marks(&d);
	if (r < 0) {
		stop(&d);
		return cli_error(path, "could not start it: %s", strerror(-r));
	}
	r = show(&d);
	stop(&d);
	return r;
}
