/* SPDX-License-Identifier: MIT */
/*
 * cmd-show.c - `memlayout show`: the regions of a process as a table (or
 * JSON), its per-kind totals, or its address space as a diagram.
 *
 * Options are parsed into one struct; conflicting options are declared in
 * the exclusion table; the columns decide whether smaps must be read.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MARKS 64

enum { OPT_MARK = CLI_OPT_CMD, OPT_HTML, OPT_SVG };

/* --html, --svg: the picture instead of the table (render-html.c). */
enum picture { PICTURE_NONE, PICTURE_HTML, PICTURE_SVG };

struct show_opts {
	struct cli_opts cli;        /* target, -o, -J -r -n -b */
	bool summary, diagram;
	enum picture picture;
	struct ml_mark marks[MAX_MARKS];
	size_t nmarks;
};

/* Its options, shared ones included, as --help lists them. */
static const struct cli_opt opts[] = {
	CLI_SHARED(CLI_OUTPUT),
	CLI_SAYS('n', "no headings, no process line"),
	CLI_FLAG('s', "summary", "per-kind totals only", struct show_opts, summary),
	CLI_FLAG('d', "diagram", "draw the address space top-down", struct show_opts, diagram),
	{ OPT_HTML, "html", NULL, "the address space drawn, as one self-contained\n"
	  "HTML page (details and zoom on click)" },
	{ OPT_SVG, "svg", NULL, "the same drawing as an SVG image" },
	{ OPT_MARK, "mark", "<addr>[=<label>]", "point at an address in the diagram" },
	CLI_SHARED(CLI_SELF | CLI_PROC_ROOT | CLI_CORE | CLI_PTRACE | CLI_AT | CLI_NO_ELF),
	CLI_SAYS(CLI_OPT_SELF, "show memlayout itself"),
	CLI_SAYS(CLI_OPT_AT, "with -- COMMAND: snapshot at the entry point\n"
		 "(then kill it) or just before it exits (default)"),
	{ 0 },
};

/* Options that cannot go together (util-linux's exclusive groups). */
static const struct cli_excl excl[] = {
	{ 'J', 'r' }, { 'J', 'd' }, { 'd', 's' }, { 'd', 'o' },
	{ 's', 'o' }, { 'd', 'r' },   /* the totals have fixed columns; the diagram no raw form */
	{ CLI_OPT_SELF, CLI_OPT_PROC_ROOT },
	{ OPT_HTML, OPT_SVG }, { OPT_HTML, 'J' }, { OPT_HTML, 'd' }, { OPT_HTML, 's' },
	{ OPT_HTML, 'o' }, { OPT_HTML, 'r' }, { OPT_SVG, 'J' }, { OPT_SVG, 'd' },
	{ OPT_SVG, 's' }, { OPT_SVG, 'o' }, { OPT_SVG, 'r' }, { 0 },
};

static int add_mark(struct show_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (o->nmarks == MAX_MARKS)
		return cli_usage_error(arg, "too many marks (at most %d)", MAX_MARKS);
	if (eq)
		*eq = '\0';
	if (cli_parse_addr(arg, &o->marks[o->nmarks].addr) < 0)
		return cli_usage_error(arg, "not an address");
	o->marks[o->nmarks++].label = eq ? eq + 1 : arg;
	return 0;
}

static int parse_option(void *ctx, int c, char *arg)
{
	struct show_opts *o = ctx;

	switch (c) {
	case OPT_MARK: return add_mark(o, arg);
	case OPT_HTML: o->picture = PICTURE_HTML; return 0;
	case OPT_SVG: o->picture = PICTURE_SVG; return 0;
	default:
		return cli_usage_error("show", "unknown option");
	}
}

static const struct cli_spec spec = {
	.verb = "show",
	.synopsis = " memlayout show [options] PID\n"
		    " memlayout show [options] --self\n"
		    " memlayout show [options] -- COMMAND [ARGS]\n"
		    " memlayout show [options] CORE       (a core dump: the dead process)\n",
	.about = "Show every region of a process's address space, named as text, rodata,\n"
		 "relro, data, bss, heap, stack, thread-stack, guard, anon, file, shm, vdso,\n"
		 "vvar or vsyscall, with its ELF object and sections, size and residency.\n",
	.opts = opts,
	.examples = " memlayout show $$                    your shell, region by region\n"
		    " memlayout show -d $$                 its address space drawn\n"
		    " memlayout show -o START,SIZE,KIND,SECTIONS -- /bin/true\n"
		    " memlayout show -s -J -b 1234         per-kind totals as JSON, in bytes\n"
		    " memlayout show --html $$ > space.html  its address space as a web page\n",
	.excl = excl,
	.option = parse_option,
	.columns = ml_columns,
	.list_width = 14,
	.words = CLI_WORDS_TARGET,
};

static bool wants_smaps(const struct show_opts *o)
{
	size_t n;
	const struct ml_column_info *info = ml_columns(&n);

	if (o->diagram || o->picture == PICTURE_SVG)
		return false;
	if (o->summary || o->picture == PICTURE_HTML)   /* RSS, PSS in its details */
		return true;
	if (!o->cli.have_columns) {
		for (size_t i = 0; i < n; i++)
			if (info[i].is_default && info[i].needs_smaps)
				return true;
		return false;
	}
	for (size_t i = 0; i < o->cli.ncolumns; i++)
		if (info[o->cli.columns[i]].needs_smaps)
			return true;
	return false;
}

/* The process line (on a terminal folded at its width, the rest of a line
 * indented). */
static void process_line(const struct ml_snapshot *snap)
{
	FILE *f = cli_fold_open(2, NULL);
	const struct ml_proc *p = ml_snapshot_proc(snap);
	char lim[32], hs[32];
	char *exe = ml_escape(p->exe ? p->exe : "?", ML_ESC_TERM);
	char *comm = ml_escape(p->comm, ML_ESC_TERM);

	if (p->stack_rlimit == UINT64_MAX)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		ml_size_human(p->stack_rlimit, lim, sizeof(lim));
	fprintf(f, "PID %d (%s) %s, %d-bit; heap %s, brk 0x%" PRIx64 "; stack limit %s; "
	       "mmap_min_addr 0x%" PRIx64 "\n", (int)p->pid, comm ? comm : "",
	       exe ? exe : "", p->is_32bit ? 32 : 64,
	       ml_size_human(p->brk - p->start_brk, hs, sizeof(hs)), p->brk, lim,
	       p->mmap_min_addr);
	free(exe);
	free(comm);
	size_t nt, unknown = 0;
	const struct ml_thread *th = ml_snapshot_threads(snap, &nt);
	for (size_t i = 0; i < nt; i++)
		unknown += !th[i].sp_known && th[i].tid != p->pid;   /* [stack] is named anyway */
	if (unknown)
		fprintf(f, "%zu of %zu threads running in user space: their stacks are not "
		       "labelled (--ptrace interrupts them to find out)\n", unknown, nt);
	cli_fold_close(f);
}

static int render(const struct show_opts *o, const struct ml_snapshot *snap)
{
	struct ml_table_opts to = { o->cli.have_columns ? o->cli.columns : NULL,
				    o->cli.ncolumns, o->cli.out_flags };
	bool plain = !(o->cli.out_flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	int r;

	if (o->picture) {
		struct ml_diagram_opts d = { o->cli.out_flags, o->marks, o->nmarks, 0 };
		return (o->picture == PICTURE_HTML ? ml_render_html : ml_render_svg)(snap, stdout, &d);
	}
	if (o->diagram) {
		struct ml_diagram_opts d = { o->cli.out_flags, o->marks, o->nmarks,
					     cli_term_width() };
		if (cli_color(STDOUT_FILENO))
			d.flags |= ML_OUT_COLOR;
		if (plain)
			process_line(snap);
		return ml_render_diagram(snap, stdout, &d);
	}
	if (o->summary)
		return ml_render_summary(snap, stdout, &to);
	if (plain)
		process_line(snap);
	r = ml_render_regions(snap, stdout, &to);
	if (r == 0 && plain) {
		putchar('\n');
		r = ml_render_summary(snap, stdout, &to);
	}
	return r;
}

int cli_cmd_show(int argc, char **argv)
{
	struct show_opts o = { 0 };
	int r;

	if ((r = cli_getopt(&spec, argc, argv, &o.cli, &o)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	if (wants_smaps(&o))
		o.cli.target.snap_flags |= ML_SNAP_SMAPS;

	struct ml_snapshot *snap;
	struct ml_traced *tr;
	if ((r = cli_snapshot(&o.cli.target, &snap, &tr)))
		return r;
	/* A table of 20,000 regions is megabytes: not in 4 KiB writes to a
	 * pipe or file (glibc ignores the size unless given the buffer).  A
	 * terminal keeps its line buffering. */
	static char outbuf[1 << 16];
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	r = render(&o, snap);
	ml_snapshot_free(snap);
	if (tr)
		ml_trace_finish(tr, o.cli.target.at == ML_STOP_AT_START);
	if (r == -ENOMEM)
		return cli_error(o.cli.target.argv ? o.cli.target.argv[0] :
				    o.cli.target.pid_arg ? o.cli.target.pid_arg : "show",
				    "out of memory");
	if (fflush(stdout) || r < 0)
		return cli_error("stdout", "write error");
	return CLI_EXIT_OK;
}
