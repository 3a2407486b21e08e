/*
 * cmd-heap.c - `memlayout heap`: the heap of a process running mlalloc, read
 * from the state mlalloc publishes (alloc/FORMAT.md) without stopping it:
 * size classes, segments and large blocks with a page map, the brk, the
 * totals.  For a process without mlalloc, why, and what its maps tell
 * (exit status 3).
 *
 * Order: the maps snapshot first (it says whether the process exists, may
 * be read, is 32-bit, where its brk is), then the copy of mlalloc's state.
 * Options are parsed into one struct; conflicts are in the exclusion table.
 */
#include "heap.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COLUMNS 32

enum { OPT_LIST_COLUMNS = 0x100, OPT_SELF, OPT_AT };

struct heap_opts {
	struct ml_target target;
	struct ml_heap_out out;
	int columns[MAX_COLUMNS];
	bool list_columns;
};

static const struct option longopts[] = {
	{ "output",       required_argument, NULL, 'o' },
	{ "list-columns", no_argument,       NULL, OPT_LIST_COLUMNS },
	{ "json",         no_argument,       NULL, 'J' },
	{ "raw",          no_argument,       NULL, 'r' },
	{ "noheadings",   no_argument,       NULL, 'n' },
	{ "bytes",        no_argument,       NULL, 'b' },
	{ "summary",      no_argument,       NULL, 's' },
	{ "classes",      no_argument,       NULL, 'c' },
	{ "map",          no_argument,       NULL, 'm' },
	{ "self",         no_argument,       NULL, OPT_SELF },
	{ "at",           required_argument, NULL, OPT_AT },
	{ "help",         no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Options that cannot go together (util-linux's exclusive groups). */
static const struct { int a, b; } excl[] = {
	{ 'J', 'r' },
};

/* Words for the errors of reading mlalloc's state (the reader's -errno). */
static const struct { int err; const char *words; } read_errors[] = {
	{ EPERM,   "permission denied reading its memory (process_vm_readv needs ptrace access: same user, root or CAP_SYS_PTRACE)" },
	{ EACCES,  "permission denied reading its memory (process_vm_readv needs ptrace access: same user, root or CAP_SYS_PTRACE)" },
	{ EAGAIN,  "its published heap state stayed torn or kept changing through every try (200 over about 2 s): no consistent copy, try again" },
	{ EPROTO,  "its published heap state is malformed or in a format version this memlayout does not know" },
	{ EFAULT,  "its published heap state could not be read whole (unmapped while being read?)" },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " memlayout heap [options] PID\n"
	      " memlayout heap [options] --self\n"
	      " memlayout heap [options] -- COMMAND [ARGS]\n\n"
	      "Show the heap of a process running the mlalloc allocator, read while it runs:\n"
	      "live and free blocks per size class, its segments and large blocks with a map\n"
	      "of used and free pages, bytes live, committed and reserved, fragmentation, the\n"
	      "largest free run and the brk.  For another allocator, say so and show what the\n"
	      "maps tell (exit status 3).\n\n"
	      "Options:\n"
	      " -o, --output <list>    region columns to print (\"+COL,...\" adds to the default)\n"
	      "     --list-columns     list the region columns and exit\n"
	      " -J, --json             one JSON document: heap, classes, regions\n"
	      " -r, --raw              raw tables (no alignment)\n"
	      " -n, --noheadings       no headings, no prose lines\n"
	      " -b, --bytes            sizes in bytes\n"
	      " -s, --summary          the totals only\n"
	      " -c, --classes          the size-class table only\n"
	      " -m, --map              the region table (with its page map) only\n"
	      "     --self             look at memlayout itself (run under LD_PRELOAD=libmlalloc.so)\n"
	      "     --at <start|exit>  with -- COMMAND: at the entry point or just before it exits\n"
	      " -h, --help             display this help\n\n"
	      "Examples:\n"
	      " LD_PRELOAD=libmlalloc.so ./server &  memlayout heap $!\n"
	      " memlayout heap -c 1234               live and free blocks per size class\n"
	      " memlayout heap -J -b 1234            everything as JSON, sizes in bytes\n"
	      " memlayout heap -- env LD_PRELOAD=libmlalloc.so ls   the heap of ls as it exits\n\n"
	      "See memlayout-heap(1).\n", stdout);
}

static void list_columns(void)
{
	size_t n;
	const struct ml_column_info *c = ml_heap_columns(&n);

	for (size_t i = 0; i < n; i++)
		printf("%8s  %s\n", c[i].name, c[i].help);
}

static int check_excl(const int *seen, size_t nseen)
{
	for (size_t i = 0; i < sizeof(excl) / sizeof(excl[0]); i++) {
		bool a = false, b = false;
		for (size_t k = 0; k < nseen; k++) {
			a |= seen[k] == excl[i].a;
			b |= seen[k] == excl[i].b;
		}
		if (a && b) {
			const char *na = "?", *nb = "?";
			for (const struct option *o = longopts; o->name; o++) {
				if (o->val == excl[i].a)
					na = o->name;
				if (o->val == excl[i].b)
					nb = o->name;
			}
			return ml_cli_usage_error("heap", "--%s and --%s cannot be used together", na, nb);
		}
	}
	return 0;
}

static int parse_option(struct heap_opts *o, int c, char *arg)
{
	const char *bad = NULL;
	int r;

	switch (c) {
	case 'o':
		r = ml_heap_columns_parse(arg, o->columns, MAX_COLUMNS, &o->out.ncolumns, &bad);
		if (r == -EINVAL)
			return ml_cli_usage_error(bad, "unknown column");
		if (r < 0)
			return ml_cli_usage_error(arg, "too many columns");
		o->out.columns = o->columns;
		return 0;
	case 'J': o->out.flags |= ML_OUT_JSON; return 0;
	case 'r': o->out.flags |= ML_OUT_RAW; return 0;
	case 'n': o->out.flags |= ML_OUT_NOHEADINGS; return 0;
	case 'b': o->out.flags |= ML_OUT_BYTES; return 0;
	case 's': o->out.parts |= ML_HEAP_SUMMARY; return 0;
	case 'c': o->out.parts |= ML_HEAP_CLASSES; return 0;
	case 'm': o->out.parts |= ML_HEAP_MAP; return 0;
	case OPT_LIST_COLUMNS: o->list_columns = true; return 0;
	case OPT_SELF: o->target.self = true; return 0;
	case OPT_AT:
		if (!strcmp(arg, "start"))
			o->target.at = ML_STOP_AT_START;
		else if (!strcmp(arg, "exit"))
			o->target.at = ML_STOP_AT_EXIT;
		else
			return ml_cli_usage_error(arg, "--at takes 'start' or 'exit'");
		return 0;
	default:
		return ml_cli_usage_error("heap", "unknown option");
	}
}

/* PID, --self or -- COMMAND: exactly one (as in cmd-show.c). */
static int parse_target(struct ml_target *t, int argc, char **argv, char **cmd)
{
	int given = t->self + (cmd && *cmd) + (optind < argc);

	if (given == 0)
		return ml_cli_usage_error("heap", "no process given (PID, --self or -- COMMAND)");
	if (given > 1)
		return ml_cli_usage_error("heap", "give one of PID, --self or -- COMMAND");
	if (cmd) {
		t->argv = cmd;
		return 0;
	}
	if (t->self)
		return 0;
	if (optind + 1 < argc)
		return ml_cli_usage_error(argv[optind + 1], "unexpected argument (one PID only)");
	t->pid_arg = argv[optind];
	if (ml_cli_parse_pid(argv[optind], &t->pid) < 0)
		return ml_cli_usage_error(argv[optind], "not a process ID");
	return 0;
}

static int parse_args(struct heap_opts *o, int argc, char **argv)
{
	int seen[32], nseen = 0, c, r;
	char **cmd = NULL;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			argc = i;
			break;
		}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:Jrnbscmh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return -1;
		}
		if (c == '?') {
			if (optopt)
				return ml_cli_usage_error("heap", "invalid option -- '%c'", optopt);
			return ml_cli_usage_error(argv[optind - 1], "unrecognized option");
		}
		if (c == ':')
			return ml_cli_usage_error(argv[optind - 1], "option requires an argument");
		if ((r = parse_option(o, c, optarg)))
			return r;
		if (nseen < 32)
			seen[nseen++] = c;
	}
	if (o->list_columns) {
		list_columns();
		return -1;
	}
	if ((r = check_excl(seen, (size_t)nseen)))
		return r;
	return parse_target(&o->target, argc, argv, cmd);
}

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

/* The heap of the process in snap, or why there is none; the exit code. */
static int heap_of(struct heap_opts *o, const struct ml_snapshot *snap, const char *input)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	struct ml_alloc_snapshot *as = NULL;
	struct ml_heap *h = NULL;
	const char *why = NULL;
	int r;

	if (p->is_32bit) {
		why = "it is a 32-bit process, and mlalloc is built for x86-64 only";
	} else if ((r = ml_alloc_snapshot_read(p->pid, &as)) == -ENOENT) {
		why = has_mlalloc_lib(snap) ?
			"libmlalloc is loaded but has published no heap state yet (no allocation so far)" :
			"it publishes no mlalloc heap state (no [anon:mlalloc] or /memfd:mlalloc mapping, "
			"no mlalloc_introspect_root symbol)";
	} else if (r < 0) {
		for (size_t i = 0; i < sizeof(read_errors) / sizeof(read_errors[0]); i++)
			if (read_errors[i].err == -r)
				return ml_cli_error(input, "%s", read_errors[i].words);
		return ml_cli_error(input, "%s", ml_cli_strerror(-r));
	}
	if (why) {
		r = ml_heap_render_plain(snap, why, stdout, &o->out);
		return r < 0 ? ml_cli_error("stdout", "write error") : ML_EXIT_NOT_MLALLOC;
	}
	if ((r = ml_heap_build(as, &h)) < 0) {
		ml_alloc_snapshot_free(as);
		return ml_cli_error(input, "%s", r == -EPROTO ? read_errors[3].words : strerror(-r));
	}
	r = ml_heap_render(snap, h, stdout, &o->out);
	ml_heap_free(h);
	ml_alloc_snapshot_free(as);
	return r < 0 ? ml_cli_error("stdout", "write error") : ML_EXIT_OK;
}

int ml_cmd_heap(int argc, char **argv)
{
	struct heap_opts o = { 0 };
	struct ml_snapshot *snap;
	struct ml_traced *tr;
	int r;

	if ((r = parse_args(&o, argc, argv)))
		return r < 0 ? ML_EXIT_OK : r;
	if (ml_cli_color(STDOUT_FILENO) && !(o.out.flags & ML_OUT_JSON))
		o.out.flags |= ML_OUT_COLOR;
	o.target.snap_flags = ML_SNAP_NOELF;   /* kinds from names and permissions suffice */
	if ((r = ml_cli_snapshot(&o.target, &snap, &tr)))
		return r;
	r = heap_of(&o, snap, o.target.argv ? o.target.argv[0] : o.target.pid_arg);
	ml_snapshot_free(snap);
	if (tr)
		ml_trace_finish(tr, o.target.at == ML_STOP_AT_START);
	if (fflush(stdout) && r != ML_EXIT_FAILURE)
		return ml_cli_error("stdout", "write error");
	return r;
}
