/* SPDX-License-Identifier: MIT */
/*
 * cmd-heap.c - `memlayout heap`: the heap of a process running mlalloc, read
 * from the state mlalloc publishes (alloc/FORMAT.md) without stopping it:
 * size classes, segments and large blocks with a page map, the brk, the
 * totals; else glibc malloc's, read from outside (heap-glibc.c, glibc/).
 * For a process with neither, why, and what its maps tell (exit status 3).
 *
 * Order: the maps snapshot first (it says whether the process exists, may
 * be read, is 32-bit, where its brk is), then the copy of mlalloc's state.
 * Options are parsed into one struct; conflicts are in the exclusion table.
 * A bound the reader hit on the target's data (time, table sizes, the
 * symbol search: alloc/mlalloc-reader.h) is exit 1 with the bound named.
 */
#include "heap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COLUMNS 32

enum { OPT_HTML = CLI_OPT_CMD, OPT_NO_STOP };

struct heap_opts {
	struct cli_opts cli;        /* target, -o, -J -r -n -b */
	struct cli_heap_out out;
	bool no_stop;             /* glibc: read without stopping the threads */
	bool traced;              /* -- COMMAND: stopped under memlayout's own trace */
};

/* Its options, shared ones included, as --help lists them. */
static const struct cli_opt opts[] = {
	CLI_SHARED(CLI_OUTPUT),
	CLI_SAYS('o', "columns of the region (heap) table, with -c alone of\n"
		 "the class (arena) table (\"+COL,...\" adds to the default)"),
	CLI_SAYS(CLI_OPT_LIST_COLUMNS, "list the columns of every heap table and exit"),
	CLI_SAYS('J', "one JSON document: heap, classes, regions"),
	CLI_SAYS('r', "raw tables (no alignment)"),
	CLI_SAYS('n', "no headings, no prose lines"),
	{ 's', "summary", NULL, "the totals only" },
	{ 'c', "classes", NULL, "the size-class table only" },
	{ 'm', "map", NULL, "the region table (with its page map) only" },
	CLI_FLAG(OPT_NO_STOP, "no-stop", "glibc: read without stopping the process (racy, and said so)",
		 struct heap_opts, no_stop),
	CLI_FLAG(OPT_HTML, "html", "one self-contained web page: totals, the map of pages,\n"
		 "the size classes as bars", struct heap_opts, out.html),
	CLI_SHARED(CLI_SELF | CLI_AT),
	CLI_SAYS(CLI_OPT_SELF, "look at memlayout itself (run under LD_PRELOAD=libmlalloc.so)"),
	CLI_SAYS(CLI_OPT_AT, "with -- COMMAND: at the entry point or just before it exits"),
	{ 0 },
};

/* Options that cannot go together (util-linux's exclusive groups). */
static const struct cli_excl excl[] = {
	{ 'J', 'r' },
	{ OPT_HTML, 'J' }, { OPT_HTML, 'r' }, { OPT_HTML, 'o' }, { OPT_HTML, 's' },
	{ OPT_HTML, 'c' }, { OPT_HTML, 'm' }, { OPT_HTML, 'n' }, { 0 },
};

/* Words for the errors of reading mlalloc's state (the reader's -errno). */
static const struct { int err; const char *words; } read_errors[] = {
	{ EPERM,   "permission denied reading its memory (process_vm_readv needs ptrace access: same user, root or CAP_SYS_PTRACE)" },
	{ EACCES,  "permission denied reading its memory (process_vm_readv needs ptrace access: same user, root or CAP_SYS_PTRACE)" },
	{ EPROTO,  "its published heap state is malformed or in a format version this memlayout does not know" },
	{ EFAULT,  "its published heap state could not be read whole (unmapped while being read?)" },
};

static int parse_option(void *ctx, int c, char *arg)
{
	struct heap_opts *o = ctx;

	(void)arg;
	switch (c) {
	case 's': o->out.parts |= CLI_HEAP_SUMMARY; return 0;
	case 'c': o->out.parts |= CLI_HEAP_CLASSES; return 0;
	case 'm': o->out.parts |= CLI_HEAP_MAP; return 0;
	default:
		return cli_usage_error("heap", "unknown option");
	}
}

/* --list-columns: each table -o may choose from. */
static void list_columns(void)
{
	static const struct { const char *title; bool glibc, classes; } tables[] = {
		{ "mlalloc: segments and large blocks (-m; -o's table by default)", false, false },
		{ "mlalloc: size classes (-o with -c alone)", false, true },
		{ "glibc malloc: heaps and mmap'd chunks (-m; -o's table by default)", true, false },
		{ "glibc malloc: arenas (-o with -c alone)", true, true },
	};
	size_t n;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		const struct ml_column_info *c = tables[i].glibc ? cli_heap_glibc_columns(tables[i].classes, &n)
								 : cli_heap_mlalloc_columns(tables[i].classes, &n);
		printf("%s%s:\n", i ? "\n" : "", tables[i].title);
		cli_list_columns(c, n, 16);
	}
}

/* -o's list against the table it chooses from (the allocator's, -c alone:
 * its class/arena table); 0 or a usage error's exit code. */
static int heap_columns(struct heap_opts *o, bool glibc, bool check)
{
	bool classes = o->out.parts == CLI_HEAP_CLASSES;
	size_t n;
	const struct ml_column_info *c = glibc ? cli_heap_glibc_columns(classes, &n)
					       : cli_heap_mlalloc_columns(classes, &n);
	int r;

	if (!o->cli.columns_arg)
		return 0;
	if (check) {   /* before the target is read: a name no table has */
		static const int any[][2] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } };
		for (size_t i = 0; i < 4; i++) {
			c = any[i][0] ? cli_heap_glibc_columns(any[i][1], &n) : cli_heap_mlalloc_columns(any[i][1], &n);
			const char *bad;
			if (ml_columns_parse_in(c, n, o->cli.columns_arg, o->cli.columns, MAX_COLUMNS,
						&o->cli.ncolumns, &bad) == 0)
				return 0;
		}
		c = cli_heap_mlalloc_columns(false, &n);
	}
	if ((r = cli_parse_columns(c, n, o->cli.columns_arg, o->cli.columns, MAX_COLUMNS,
				      &o->cli.ncolumns)))
		return r;
	*(classes ? &o->out.class_columns : &o->out.columns) = o->cli.columns;
	*(classes ? &o->out.nclass_columns : &o->out.ncolumns) = o->cli.ncolumns;
	return 0;
}

static const struct cli_spec spec = {
	.verb = "heap",
	.synopsis = " memlayout heap [options] PID\n"
		    " memlayout heap [options] --self\n"
		    " memlayout heap [options] -- COMMAND [ARGS]\n",
	.about = "Show the heap of a process.  glibc malloc (any process mapping libc.so.6, read\n"
		 "with its threads stopped): every arena and heap, bytes in use and free, the\n"
		 "tcache, fastbins, unsorted, small and large bins, mmap'd chunks, a map of each\n"
		 "heap, mallinfo2()'s figures.  mlalloc (read while it runs): live and free\n"
		 "blocks per size class, its segments and large blocks with a map of used and\n"
		 "free pages, bytes live, committed and reserved, fragmentation, the largest\n"
		 "free run and the brk.  For another allocator, say so and show what the maps\n"
		 "tell (exit status 3).\n",
	.opts = opts,
	.examples = " LD_PRELOAD=libmlalloc.so ./server &  memlayout heap $!\n"
		    " memlayout heap -c 1234               live and free blocks per size class\n"
		    " memlayout heap $(pgrep -n bash)      glibc malloc: arenas, bins, tcache, heap map\n"
		    " memlayout heap -J -b 1234            everything as JSON, sizes in bytes\n"
		    " memlayout heap -- env LD_PRELOAD=libmlalloc.so ls   the heap of ls as it exits\n",
	.excl = excl,
	.option = parse_option,
	.list_columns = list_columns,
	.max_columns = MAX_COLUMNS,
	.list_width = 8,
	.words = CLI_WORDS_TARGET,
};

/* Is libmlalloc mapped (loaded, but nothing published yet)? */
static bool has_mlalloc_lib(const struct ml_snapshot *snap)
{
	size_t n;
	const struct ml_region *r = ml_snapshot_regions(snap, &n);

	for (size_t i = 0; i < n; i++) {
		const char *base = r[i].name ? strrchr(r[i].name, '/') : NULL;
		if (base && !strncmp(base + 1, "libmlalloc", 10))
			return true;
	}
	return false;
}

/* The error of a bound the reader hit (alloc/mlalloc-reader.h): which
 * bound, the value met and the limit; exit 1. */
static int bound_error(const char *input, int err, const struct mla_alloc_bound *b)
{
	unsigned long long v = b->value, lim = b->limit;
	double secs = (double)b->limit / 1000.0;

	if (err == -EAGAIN && !strcmp(b->what, "ms torn"))
		return cli_error(input, "its published heap state stayed torn (a sequence number left odd: "
				    "a writer stopped mid-update?) for %g s, the limit: no consistent copy", secs);
	if (err == -EAGAIN)
		return cli_error(input, "its published heap state kept changing for %g s, the limit: "
				    "no consistent copy, try again", secs);
	if (err == -ETIME)
		return cli_error(input, "searching its mapped files for mlalloc_introspect_root took "
				    "%g s, the limit", secs);
	if (!strncmp(b->what, "symbol", 6))
		return cli_error(input, "searching its mapped files for mlalloc_introspect_root: %llu %s "
				    "exceeds the limit of %llu", v, b->what, lim);
	return cli_error(input, "its published heap state has %llu %s, over the limit of %llu", v,
			    b->what, lim);
}

/* Words for the errors of reading glibc malloc's heap (the reader's -errno). */
static const struct { int err; const char *words; } glibc_errors[] = {
	{ EPERM,   "permission denied stopping or reading it (ptrace access: same user, root or CAP_SYS_PTRACE; see /proc/sys/kernel/yama/ptrace_scope), or it is already being traced (then --no-stop reads it without stopping)" },
	{ EACCES,  "permission denied reading its memory (process_vm_readv needs ptrace access)" },
	{ ETIME,   "stopping every thread took longer than the limit of 2 s (try --no-stop)" },
	{ ESRCH,   "no such process (it exited while being read)" },
	{ ENODATA, "glibc's main_arena was not found: no libc debug symbols, and no malloc_state in libc's data passed the checks" },
	{ ENOTSUP, "its glibc is older than 2.26 (no tcache), which this memlayout does not read" },
	{ EFAULT,  "its memory could not be read (unmapped while being read?)" },
};

/* glibc malloc's heap, found in snap (gr: cli_heap_glibc_find's, the
 * caller's to free): the exit code. */
static int glibc_heap(struct heap_opts *o, const struct ml_snapshot *snap,
		      struct cli_heap_glibc *gr, const char *input)
{
	char words[512];
	int r = cli_heap_glibc_read(snap, o->no_stop || o->traced, gr);

	if (o->traced)
		gr->stopped = true;   /* every thread is in a ptrace stop of ours */

	if (r == -EUCLEAN || r == -E2BIG) {
		cli_heap_glibc_problem_words(&gr->bad, words, sizeof(words));
		return cli_error(input, "%s glibc heap: %s", r == -E2BIG ? "a bound hit reading its" :
				    "corrupt", words);
	}
	for (size_t i = 0; r < 0 && i < sizeof(glibc_errors) / sizeof(glibc_errors[0]); i++)
		if (glibc_errors[i].err == -r)
			return cli_error(input, "%s", glibc_errors[i].words);
	if (r < 0)
		return cli_error(input, "%s", cli_strerror(-r));
	r = (o->out.html ? cli_heap_glibc_render_html : cli_heap_glibc_render)(snap, gr->g, gr->stopped,
									       stdout, &o->out);
	return r < 0 ? cli_error("stdout", "write error") : CLI_EXIT_OK;
}

/* The heap of the process in snap, or why there is none; the exit code. */
static int heap_of(struct heap_opts *o, const struct ml_snapshot *snap, const char *input)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	struct mla_alloc_snapshot *as = NULL;
	struct ml_heap *h = NULL;
	struct mla_alloc_bound bound = { NULL, 0, 0 };
	const char *why = NULL;
	struct cli_heap_glibc gr;
	int r;

	if (p->is_32bit) {
		why = "it is a 32-bit process, and mlalloc is built for x86-64 only";
	} else if ((r = mla_alloc_snapshot_read_bounded(p->pid, &as, &bound)) == -ENOENT) {
		why = has_mlalloc_lib(snap) ?
			"libmlalloc is loaded but has published no heap state yet (no allocation so far)" :
			"it publishes no mlalloc heap state (no [anon:mlalloc] or /memfd:mlalloc mapping, "
			"no mlalloc_introspect_root symbol)";
	} else if (r < 0 && bound.what) {
		return bound_error(input, r, &bound);
	} else if (r < 0) {
		for (size_t i = 0; i < sizeof(read_errors) / sizeof(read_errors[0]); i++)
			if (read_errors[i].err == -r)
				return cli_error(input, "%s", read_errors[i].words);
		return cli_error(input, "%s", cli_strerror(-r));
	}
	if (why && cli_heap_glibc_find(snap, &gr) == 0) {
		if (!(r = heap_columns(o, true, false)))
			r = glibc_heap(o, snap, &gr, input);
		cli_heap_glibc_done(&gr);
		return r;
	}
	if (why) {
		r = cli_heap_render_plain(snap, why, stdout, &o->out);
		return r < 0 ? cli_error("stdout", "write error") : CLI_EXIT_NOT_MLALLOC;
	}
	if ((r = heap_columns(o, false, false))) {
		mla_alloc_snapshot_free(as);
		return r;
	}
	if ((r = ml_heap_build(as, &h)) < 0) {
		mla_alloc_snapshot_free(as);
		return cli_error(input, "%s", r == -EPROTO ? read_errors[2].words : strerror(-r));
	}
	r = (o->out.html ? cli_heap_render_html : cli_heap_render)(snap, h, stdout, &o->out);
	ml_heap_free(h);
	mla_alloc_snapshot_free(as);
	return r < 0 ? cli_error("stdout", "write error") : CLI_EXIT_OK;
}

int cli_cmd_heap(int argc, char **argv)
{
	struct heap_opts o = { 0 };
	struct ml_snapshot *snap;
	struct ml_traced *tr;
	int r;

	if ((r = cli_getopt(&spec, argc, argv, &o.cli, &o)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	if ((r = heap_columns(&o, false, true)))
		return r;
	o.out.flags = o.cli.out_flags;
	o.out.width = cli_term_width();
	if (cli_color(STDOUT_FILENO) && !(o.out.flags & ML_OUT_JSON))
		o.out.flags |= ML_OUT_COLOR;
	o.cli.target.snap_flags = ML_SNAP_NOELF;   /* kinds from names and permissions suffice */
	if ((r = cli_snapshot(&o.cli.target, &snap, &tr)))
		return r;
	o.traced = tr != NULL;
	r = heap_of(&o, snap, o.cli.target.argv ? o.cli.target.argv[0] : o.cli.target.pid_arg);
	ml_snapshot_free(snap);
	if (tr)
		ml_trace_finish(tr, o.cli.target.at == ML_STOP_AT_START);
	if (fflush(stdout) && r != CLI_EXIT_FAILURE)
		return cli_error("stdout", "write error");
	return r;
}
