/* SPDX-License-Identifier: MIT */
/*
 * getopt.c - the option parser and --help of every subcommand (see cli.h):
 * split argv at "--" (everything after it is the command, untouched),
 * getopt_long over the command's option table (its own options and the
 * shared ones it lists), the usage errors in one wording, the exclusion
 * table, and the target (PID, --self, -- COMMAND, with an operand for
 * pages) into struct cli_target; --help made from the same table and the
 * spec's text, in one shape for every command.
 *
 * The shared options are a table; each sets an output flag, a snapshot
 * flag, or is one of the five with an argument or an action (-o,
 * --list-columns, --self, --proc-root, --at).  Every command takes -h,
 * --help and -V, --version.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPTS 40
#define MAX_SEEN 32

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct shared_opt {
	unsigned int bit;          /* CLI_* */
	struct option opt;
	unsigned int out_flag;     /* ML_OUT_* it sets */
	unsigned int snap_flag;    /* ML_SNAP_* it sets */
	const char *arg, *help;    /* --help's line (a command may say more) */
} shared_opts[] = {
	{ CLI_COLUMNS,    { "output",       required_argument, NULL, 'o' }, 0, 0, "<list>", "columns to print (\"+COL,...\" adds to the default)" },
	{ CLI_COLUMNS,    { "list-columns", no_argument, NULL, CLI_OPT_LIST_COLUMNS }, 0, 0, NULL, "list the columns and exit" },
	{ CLI_JSON,       { "json",         no_argument, NULL, 'J' }, ML_OUT_JSON, 0, NULL, "JSON output" },
	{ CLI_RAW,        { "raw",          no_argument, NULL, 'r' }, ML_OUT_RAW, 0, NULL, "raw output (no alignment)" },
	{ CLI_NOHEADINGS, { "noheadings",   no_argument, NULL, 'n' }, ML_OUT_NOHEADINGS, 0, NULL, "no headings" },
	{ CLI_BYTES,      { "bytes",        no_argument, NULL, 'b' }, ML_OUT_BYTES, 0, NULL, "sizes in bytes" },
	{ CLI_SELF,       { "self",         no_argument, NULL, CLI_OPT_SELF }, 0, 0, NULL, "look at memlayout itself" },
	{ CLI_PROC_ROOT,  { "proc-root",    required_argument, NULL, CLI_OPT_PROC_ROOT }, 0, 0, "<dir>", "read a saved /proc tree instead of /proc" },
	{ CLI_CORE,       { "sysroot",      required_argument, NULL, CLI_OPT_SYSROOT }, 0, 0, "<dir>", "CORE: look for the mapped files under <dir>" },
	{ CLI_CORE,       { "exe",          required_argument, NULL, CLI_OPT_EXE }, 0, 0, "<file>", "CORE: the executable, if the core does not lead to it" },
	{ CLI_PTRACE,     { "ptrace",       no_argument, NULL, CLI_OPT_PTRACE }, 0, ML_SNAP_PTRACE, NULL, "interrupt running threads to find their stacks" },
	{ CLI_AT,         { "at",           required_argument, NULL, CLI_OPT_AT }, 0, 0, "<start|exit>", "with -- COMMAND: at the entry point (then kill it)\n"
	  "or just before it exits (default)" },
	{ CLI_NO_ELF,     { "no-elf",       no_argument, NULL, CLI_OPT_NO_ELF }, 0, ML_SNAP_NOELF, NULL, "skip ELF attribution (kinds from permissions)" },
};

/* One line of --help: " -J, --json             text"; a left part too
 * long for its column puts the text on the next line, and each '\n' of
 * the text starts a line indented as the first. */
static void help_line(int val, const char *name, const char *arg, const char *text)
{
	char left[48];
	const char *nl;

	if (val > 0 && val < 0x100)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", val, name, arg ? " " : "", arg ? arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", name, arg ? " " : "", arg ? arg : "");
	printf(strlen(left) > 22 ? " %s\n%24s" : " %-22s ", left, "");
	for (;; text = nl + 1) {
		nl = strchrnul(text, '\n');
		printf("%.*s\n", (int)(nl - text), text);
		if (!*nl)
			return;
		printf("%24s", "");
	}
}

/* The shared options a spec's table lists (CLI_*). */
static unsigned int shared_bits(const struct cli_spec *spec)
{
	unsigned int bits = 0;

	for (const struct cli_opt *o = spec->opts; o->val || o->shared; o++)
		bits |= o->shared;
	return bits;
}

/* The lines of the shared options of bits, in the words spec says for
 * them (CLI_SAYS) or else their own. */
static void help_shared(const struct cli_spec *spec, unsigned int bits)
{
	for (size_t i = 0; i < ARRAY_SIZE(shared_opts); i++) {
		const struct shared_opt *so = &shared_opts[i];
		const char *text = so->help;
		if (!(bits & so->bit))
			continue;
		for (const struct cli_opt *o = spec->opts; o->val || o->shared; o++)
			if (!o->name && o->val == so->opt.val)
				text = o->help;
		help_line(so->opt.val, so->opt.name, so->arg, text);
	}
}

/* --help, from the spec. */
static void usage(const struct cli_spec *spec)
{
	printf("Usage:\n%s\n%s\nOptions:\n", spec->synopsis, spec->about);
	for (const struct cli_opt *o = spec->opts; o->val || o->shared; o++)
		if (o->shared)
			help_shared(spec, o->shared);
		else if (o->name)
			help_line(o->val, o->name, o->arg, o->help);
	help_line('h', "help", NULL, "display this help");
	help_line('V', "version", NULL, "display version");
	printf("\n%s%sExamples:\n%s\nSee memlayout-%s(1).\n", spec->notes ? spec->notes : "",
	       spec->notes ? "\n" : "", spec->examples, spec->verb);
}

static const struct option help_opt = { "help", no_argument, NULL, 'h' };
static const struct option version_opt = { "version", no_argument, NULL, 'V' };

static const struct { const char *word; enum ml_stop_at at; } stop_points[] = {
	{ "start", ML_STOP_AT_START },
	{ "exit",  ML_STOP_AT_EXIT },
};

/* The options of spec: the shared ones it opts into, its own, --help,
 * --version. */
struct optset {
	struct option longopts[MAX_OPTS + 1];
	char shortopts[2 * MAX_OPTS + 3];
	size_t n;
	unsigned int shared;      /* CLI_* */
};

static void add_opt(struct optset *s, const struct option *o)
{
	size_t len = strlen(s->shortopts);

	if (s->n == MAX_OPTS)
		return;   /* assert-worthy: no command has that many */
	s->longopts[s->n++] = *o;
	if (o->val > 0 && o->val < 0x100) {
		s->shortopts[len++] = (char)o->val;
		if (o->has_arg == required_argument)
			s->shortopts[len++] = ':';
		s->shortopts[len] = '\0';
	}
}

static void build(const struct cli_spec *spec, struct optset *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->shortopts, spec->posix ? "+:" : ":");
	s->shared = shared_bits(spec);
	for (size_t i = 0; i < ARRAY_SIZE(shared_opts); i++)
		if (s->shared & shared_opts[i].bit)
			add_opt(s, &shared_opts[i].opt);
	for (const struct cli_opt *o = spec->opts; o->val || o->shared; o++)
		if (o->name)
			add_opt(s, &(struct option){ o->name, o->arg ? required_argument : no_argument,
						     NULL, o->val });
	add_opt(s, &help_opt);
	add_opt(s, &version_opt);
}

static const char *long_name(const struct optset *s, int val)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->longopts[i].val == val)
			return s->longopts[i].name;
	return "?";
}

static int check_excl(const struct cli_spec *spec, const struct optset *s,
		      const int *seen, size_t nseen)
{
	for (size_t i = 0; spec->excl && spec->excl[i].a; i++) {
		bool a = false, b = false;
		for (size_t k = 0; k < nseen; k++) {
			a |= seen[k] == spec->excl[i].a;
			b |= seen[k] == spec->excl[i].b;
		}
		if (a && b)
			return cli_usage_error(spec->verb, "--%s and --%s cannot be used together",
						  long_name(s, spec->excl[i].a),
						  long_name(s, spec->excl[i].b));
	}
	return 0;
}

void cli_list_columns(const struct ml_column_info *c, size_t n, int width)
{
	for (size_t i = 0; i < n; i++)
		printf("%*s  %s%s\n", width, c[i].name, c[i].help,
		       c[i].needs_smaps ? " (smaps)" : "");
}

static void list_columns(const struct cli_spec *spec)
{
	size_t n;
	const struct ml_column_info *c;

	if (spec->list_columns) {
		spec->list_columns();
		return;
	}
	c = spec->columns(&n);
	cli_list_columns(c, n, spec->list_width);
}

int cli_parse_columns(const struct ml_column_info *cols, size_t n, const char *arg,
			 int *ids, size_t max, size_t *ret_n)
{
	const char *bad = NULL;
	int r = ml_columns_parse_in(cols, n, arg, ids, max, ret_n, &bad);

	if (r == -EINVAL)
		return cli_usage_error(bad, "unknown column");
	if (r < 0)
		return cli_usage_error(arg, "too many columns");
	return 0;
}

/* -o LIST: parsed against the spec's table, or (spec->columns NULL: the
 * table depends on the target) kept for the command to parse. */
static int parse_columns(const struct cli_spec *spec, struct cli_opts *cli, const char *arg)
{
	size_t n, max = spec->max_columns ? spec->max_columns : CLI_MAX_COLUMNS;
	int r = 0;

	cli->columns_arg = arg;
	if (spec->columns) {
		const struct ml_column_info *cols = spec->columns(&n);
		r = cli_parse_columns(cols, n, arg, cli->columns, max, &cli->ncolumns);
	}
	cli->have_columns = r == 0;
	return r;
}

static int parse_at(struct cli_target *t, const char *arg)
{
	for (size_t i = 0; i < sizeof(stop_points) / sizeof(stop_points[0]); i++)
		if (!strcmp(arg, stop_points[i].word)) {
			t->at = stop_points[i].at;
			return 0;
		}
	return cli_usage_error(arg, "--at takes 'start' or 'exit'");
}

/* A shared option (*handled = true), or leave it to the command. */
static int shared_option(const struct cli_spec *spec, const struct optset *s,
			 struct cli_opts *cli, int c, char *arg, bool *handled)
{
	for (size_t i = 0; i < ARRAY_SIZE(shared_opts); i++) {
		const struct shared_opt *so = &shared_opts[i];
		if (!(s->shared & so->bit) || so->opt.val != c)
			continue;
		*handled = true;
		cli->out_flags |= so->out_flag;
		cli->target.snap_flags |= so->snap_flag;
		switch (c) {
		case 'o':              return parse_columns(spec, cli, arg);
		case CLI_OPT_SELF:      cli->target.self = true; return 0;
		case CLI_OPT_PROC_ROOT: cli->target.proc_root = arg; return 0;
		case CLI_OPT_SYSROOT:   cli->target.sysroot = arg; return 0;
		case CLI_OPT_EXE:       cli->target.exe = arg; return 0;
		case CLI_OPT_AT:        return parse_at(&cli->target, arg);
		case CLI_OPT_LIST_COLUMNS: cli->list_columns = true; return 0;
		default:               return 0;   /* a flag */
		}
	}
	*handled = false;
	return 0;
}

/* PID, --self or -- COMMAND: exactly one, then for CLI_WORDS_OPERAND at
 * most one more word, the operand (PID [OPERAND], --self [OPERAND] or
 * [OPERAND] -- COMMAND), for CLI_WORDS_OPERANDS any number.  w[0..nw) are
 * the words before "--"; cmd the words after it (NULL if there was no
 * "--").  A command without --self is not offered it in the errors. */
static int target(const struct cli_spec *spec, const struct optset *s, struct cli_opts *cli,
		  char **w, int nw, char **cmd)
{
	struct cli_target *t = &cli->target;
	int most = spec->words == CLI_WORDS_OPERANDS ? INT_MAX : spec->words == CLI_WORDS_OPERAND;
	const char *one = s->shared & CLI_SELF ? "PID, --self or -- COMMAND" : "PID or -- COMMAND";
	int r;

	if (cmd && !*cmd)
		return cli_usage_error(spec->verb, "no command after --");
	if (t->self + (cmd != NULL) + (!most && nw > 0) > 1)
		return cli_usage_error(spec->verb, "give one of %s", one);
	if (cmd && t->proc_root)
		return cli_usage_error(spec->verb, "--proc-root does not go with -- COMMAND");
	if (!t->self && !cmd) {
		if (nw == 0)
			return cli_usage_error(spec->verb, "no process given (%s)", one);
		t->pid_arg = w[0];
		if (spec->pid_only && cli_parse_pid(w[0], &t->pid) < 0)
			return cli_usage_error(w[0], "not a process ID");
		if (!spec->pid_only && (r = cli_target_word(t, w[0])))
			return r;
		w++;
		nw--;
	}
	t->argv = cmd;
	if (nw > most)
		return cli_usage_error(w[most], "unexpected argument (one %s)",
				       most ? spec->operand : "PID only");
	cli->words = w;
	cli->nwords = nw;
	return 0;
}

static int words(const struct cli_spec *spec, const struct optset *s, struct cli_opts *cli,
		 char **w, int nw, char **cmd)
{
	if (spec->words != CLI_WORDS_FREE)
		return target(spec, s, cli, w, nw, cmd);
	cli->words = w;
	cli->nwords = nw;
	cli->command = cmd;
	return 0;
}

/* The command's own option c: the flag its table row sets, or
 * spec->option's. */
static int own_option(const struct cli_spec *spec, void *ctx, int c, char *arg)
{
	for (const struct cli_opt *o = spec->opts; o->val || o->shared; o++)
		if (o->name && o->val == c && o->flag) {
			*(bool *)((char *)ctx + o->flag - 1) = true;
			return 0;
		}
	return spec->option(ctx, c, arg);
}

/* getopt_long's '?': an unknown option, or a long one given an argument it
 * does not take ("--help=x": getopt sets optopt to its value, as for an
 * unknown short one, so the word itself tells them apart). */
static int bad_option(const struct cli_spec *spec, const struct optset *s,
		      char **argv)
{
	const char *word = argv[optind - 1], *eq = strchr(word, '=');
	const char *name = optopt ? long_name(s, optopt) : NULL;

	if (name && !strncmp(word, "--", 2) && eq && eq - word > 2 &&
	    !strncmp(name, word + 2, (size_t)(eq - word - 2)))
		return cli_usage_error(spec->verb, "option '--%s' doesn't allow an argument",
					  name);
	if (optopt)
		return cli_usage_error(spec->verb, "invalid option -- '%c'", optopt);
	return cli_usage_error(word, "unrecognized option");
}

/* The getopt loop: 0, CLI_DONE after --help or --version, or an exit
 * code. */
static int loop(const struct cli_spec *spec, const struct optset *s, int argc,
		char **argv, struct cli_opts *cli, void *ctx, int *seen, size_t *nseen)
{
	bool handled;
	int c, r;

	optind = 1;
	opterr = 0;   /* we say it ourselves, in our format */
	while ((c = getopt_long(argc, argv, s->shortopts, s->longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(spec);
			return CLI_DONE;
		}
		if (c == 'V') {
			cli_version();
			return CLI_DONE;
		}
		if (c == '?')
			return bad_option(spec, s, argv);
		if (c == ':')
			return cli_usage_error(argv[optind - 1], "option requires an argument");
		if ((r = shared_option(spec, s, cli, c, optarg, &handled)))
			return r;
		if (!handled && (r = own_option(spec, ctx, c, optarg)))
			return r;
		if (*nseen < MAX_SEEN)
			seen[(*nseen)++] = c;
	}
	return 0;
}

int cli_getopt(const struct cli_spec *spec, int argc, char **argv,
		  struct cli_opts *cli, void *ctx)
{
	struct optset s;
	int seen[MAX_SEEN], r;
	size_t nseen = 0;
	char **cmd = NULL;

	/* Everything after "--" is the command, untouched by getopt. */
	for (int i = 1; i < argc && !spec->posix; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			argc = i;
			break;
		}
	build(spec, &s);
	if ((r = loop(spec, &s, argc, argv, cli, ctx, seen, &nseen)))
		return r;
	/* MEMLAYOUT_TABLE=libsmartcols: no bulk writer (memlayout(1)). */
	const char *tw = getenv("MEMLAYOUT_TABLE");
	if (tw && !strcmp(tw, "libsmartcols"))
		cli->out_flags |= ML_OUT_SCOLS_ONLY;
	/* A terminal: views fitted to its width (not JSON, not raw). */
	if (isatty(STDOUT_FILENO) && !(cli->out_flags & (ML_OUT_JSON | ML_OUT_RAW)))
		cli->out_flags |= ML_OUT_TERM;
	if (cli->list_columns) {
		list_columns(spec);
		return CLI_DONE;
	}
	if ((r = check_excl(spec, &s, seen, nseen)))
		return r;
	return words(spec, &s, cli, argv + optind, argc - optind, cmd);
}
