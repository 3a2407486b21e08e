/*
 * cmd-show.c - `memlayout show`: the regions of a process as a table (or
 * JSON), its per-kind totals, or its address space as a diagram.
 *
 * Options are parsed into one struct; conflicting options are declared in
 * the exclusion table; the columns decide whether smaps must be read.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COLUMNS 64
#define MAX_MARKS 64

enum { OPT_LIST_COLUMNS = 0x100, OPT_PROC_ROOT, OPT_PTRACE, OPT_AT, OPT_MARK,
       OPT_SELF, OPT_NO_ELF };

struct show_opts {
	struct ml_target target;
	int columns[MAX_COLUMNS];
	size_t ncolumns;
	bool have_columns;
	unsigned int out_flags;
	bool summary, diagram, list_columns;
	struct ml_mark marks[MAX_MARKS];
	size_t nmarks;
};

static const struct option longopts[] = {
	{ "output",       required_argument, NULL, 'o' },
	{ "list-columns", no_argument,       NULL, OPT_LIST_COLUMNS },
	{ "json",         no_argument,       NULL, 'J' },
	{ "raw",          no_argument,       NULL, 'r' },
	{ "noheadings",   no_argument,       NULL, 'n' },
	{ "bytes",        no_argument,       NULL, 'b' },
	{ "summary",      no_argument,       NULL, 's' },
	{ "diagram",      no_argument,       NULL, 'd' },
	{ "proc-root",    required_argument, NULL, OPT_PROC_ROOT },
	{ "ptrace",       no_argument,       NULL, OPT_PTRACE },
	{ "at",           required_argument, NULL, OPT_AT },
	{ "mark",         required_argument, NULL, OPT_MARK },
	{ "self",         no_argument,       NULL, OPT_SELF },
	{ "no-elf",       no_argument,       NULL, OPT_NO_ELF },
	{ "help",         no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Options that cannot go together (util-linux's exclusive groups). */
static const struct { int a, b; } excl[] = {
	{ 'J', 'r' }, { 'J', 'd' }, { 'd', 's' }, { 'd', 'o' },
	{ OPT_SELF, OPT_PROC_ROOT },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " memlayout show [options] PID\n"
	      " memlayout show [options] --self\n"
	      " memlayout show [options] -- COMMAND [ARGS]\n\n"
	      "Show every region of a process's address space, named as text, rodata,\n"
	      "relro, data, bss, heap, stack, thread-stack, guard, anon, file, shm, vdso,\n"
	      "vvar or vsyscall, with its ELF object and sections, size and residency.\n\n"
	      "Options:\n"
	      " -o, --output <list>    columns to print (\"+COL,...\" adds to the default)\n"
	      "     --list-columns     list the columns and exit\n"
	      " -J, --json             JSON output\n"
	      " -r, --raw              raw output (no alignment)\n"
	      " -n, --noheadings       no headings, no process line\n"
	      " -b, --bytes            sizes in bytes\n"
	      " -s, --summary          per-kind totals only\n"
	      " -d, --diagram          draw the address space top-down\n"
	      "     --mark <addr>[=<label>]  point at an address in the diagram\n"
	      "     --self             show memlayout itself\n"
	      "     --proc-root <dir>  read a saved /proc tree instead of /proc\n"
	      "     --ptrace           interrupt running threads to find their stacks\n"
	      "     --at <start|exit>  with -- COMMAND: snapshot at the entry point\n"
	      "                        (then kill it) or just before it exits (default)\n"
	      "     --no-elf           skip ELF attribution (kinds from permissions)\n"
	      " -h, --help             display this help\n\n"
	      "Examples:\n"
	      " memlayout show $$                    your shell, region by region\n"
	      " memlayout show -d $$                 its address space drawn\n"
	      " memlayout show -o START,SIZE,KIND,SECTIONS -- /bin/true\n"
	      " memlayout show -s -J -b 1234         per-kind totals as JSON, in bytes\n\n"
	      "See memlayout-show(1).\n", stdout);
}

static void list_columns(void)
{
	size_t n;
	const struct ml_column_info *c = ml_columns(&n);

	for (size_t i = 0; i < n; i++)
		printf("%14s  %s%s\n", c[i].name, c[i].help,
		       c[i].needs_smaps ? " (smaps)" : "");
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
			return ml_cli_usage_error("show", "--%s and --%s cannot be used together", na, nb);
		}
	}
	return 0;
}

static int add_mark(struct show_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (o->nmarks == MAX_MARKS)
		return ml_cli_usage_error(arg, "too many marks (at most %d)", MAX_MARKS);
	if (eq)
		*eq = '\0';
	if (ml_cli_parse_addr(arg, &o->marks[o->nmarks].addr) < 0)
		return ml_cli_usage_error(arg, "not an address");
	o->marks[o->nmarks++].label = eq ? eq + 1 : arg;
	return 0;
}

static int parse_option(struct show_opts *o, int c, char *arg)
{
	const char *bad = NULL;
	int r;

	switch (c) {
	case 'o':
		r = ml_columns_parse(arg, o->columns, MAX_COLUMNS, &o->ncolumns, &bad);
		if (r == -EINVAL)
			return ml_cli_usage_error(bad, "unknown column");
		if (r < 0)
			return ml_cli_usage_error(arg, "too many columns");
		o->have_columns = true;
		return 0;
	case 'J': o->out_flags |= ML_OUT_JSON; return 0;
	case 'r': o->out_flags |= ML_OUT_RAW; return 0;
	case 'n': o->out_flags |= ML_OUT_NOHEADINGS; return 0;
	case 'b': o->out_flags |= ML_OUT_BYTES; return 0;
	case 's': o->summary = true; return 0;
	case 'd': o->diagram = true; return 0;
	case OPT_LIST_COLUMNS: o->list_columns = true; return 0;
	case OPT_PROC_ROOT: o->target.proc_root = arg; return 0;
	case OPT_PTRACE: o->target.snap_flags |= ML_SNAP_PTRACE; return 0;
	case OPT_NO_ELF: o->target.snap_flags |= ML_SNAP_NOELF; return 0;
	case OPT_SELF: o->target.self = true; return 0;
	case OPT_MARK: return add_mark(o, arg);
	case OPT_AT:
		if (!strcmp(arg, "start"))
			o->target.at = ML_STOP_AT_START;
		else if (!strcmp(arg, "exit"))
			o->target.at = ML_STOP_AT_EXIT;
		else
			return ml_cli_usage_error(arg, "--at takes 'start' or 'exit'");
		return 0;
	default:
		return ml_cli_usage_error("show", "unknown option");
	}
}

/* PID, --self or -- COMMAND: exactly one.  argv[0..argc) are the words
 * before "--"; cmd the words after it (NULL if there was no "--"). */
static int parse_target(struct show_opts *o, int argc, char **argv, char **cmd)
{
	struct ml_target *t = &o->target;
	bool dashdash = cmd != NULL;
	int given = t->self + (dashdash && *cmd) + (optind < argc);

	if (given == 0)
		return ml_cli_usage_error("show", "no process given (PID, --self or -- COMMAND)");
	if (given > 1)
		return ml_cli_usage_error("show", "give one of PID, --self or -- COMMAND");
	if (dashdash) {
		if (t->proc_root)
			return ml_cli_usage_error("show", "--proc-root does not go with -- COMMAND");
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

static bool wants_smaps(const struct show_opts *o)
{
	size_t n;
	const struct ml_column_info *info = ml_columns(&n);

	if (o->diagram)
		return false;
	if (o->summary)
		return true;
	if (!o->have_columns) {
		for (size_t i = 0; i < n; i++)
			if (info[i].is_default && info[i].needs_smaps)
				return true;
		return false;
	}
	for (size_t i = 0; i < o->ncolumns; i++)
		if (info[o->columns[i]].needs_smaps)
			return true;
	return false;
}

static void process_line(const struct ml_snapshot *snap)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	char lim[32], hs[32];
	char *exe = ml_escape(p->exe ? p->exe : "?", ML_ESC_TERM);
	char *comm = ml_escape(p->comm, ML_ESC_TERM);

	if (p->stack_rlimit == UINT64_MAX)
		snprintf(lim, sizeof(lim), "unlimited");
	else
		ml_size_human(p->stack_rlimit, lim, sizeof(lim));
	printf("PID %d (%s) %s, %d-bit; heap %s, brk 0x%" PRIx64 "; stack limit %s; "
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
		printf("%zu of %zu threads running in user space: their stacks are not "
		       "labelled (--ptrace interrupts them to find out)\n", unknown, nt);
}

static int render(const struct show_opts *o, const struct ml_snapshot *snap)
{
	struct ml_table_opts to = { o->have_columns ? o->columns : NULL,
				    o->ncolumns, o->out_flags };
	bool plain = !(o->out_flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	int r;

	if (o->diagram) {
		struct ml_diagram_opts d = { o->out_flags, o->marks, o->nmarks, 0 };
		if (ml_cli_color(STDOUT_FILENO))
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

int ml_cmd_show(int argc, char **argv)
{
	struct show_opts o = { 0 };
	int seen[32], nseen = 0, c, r;
	char **cmd = NULL;

	/* Everything after "--" is the command, untouched by getopt. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			argc = i;
			break;
		}
	optind = 1;
	opterr = 0;   /* we say it ourselves, in our format */
	while ((c = getopt_long(argc, argv, ":o:JrnbsdhV", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return ML_EXIT_OK;
		}
		if (c == '?') {
			if (optopt)
				return ml_cli_usage_error("show", "invalid option -- '%c'", optopt);
			return ml_cli_usage_error(argv[optind - 1], "unrecognized option");
		}
		if (c == ':')
			return ml_cli_usage_error(argv[optind - 1], "option requires an argument");
		if ((r = parse_option(&o, c, optarg)))
			return r;
		if (nseen < 32)
			seen[nseen++] = c;
	}
	if (o.list_columns) {
		list_columns();
		return ML_EXIT_OK;
	}
	if ((r = check_excl(seen, (size_t)nseen)))
		return r;
	if ((r = parse_target(&o, argc, argv, cmd)))
		return r;
	if (wants_smaps(&o))
		o.target.snap_flags |= ML_SNAP_SMAPS;

	struct ml_snapshot *snap;
	struct ml_traced *tr;
	if ((r = ml_cli_snapshot(&o.target, &snap, &tr)))
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
		ml_trace_finish(tr, o.target.at == ML_STOP_AT_START);
	if (fflush(stdout) || r < 0)
		return ml_cli_error("stdout", "write error");
	return ML_EXIT_OK;
}
