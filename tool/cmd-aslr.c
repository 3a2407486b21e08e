/* SPDX-License-Identifier: MIT */
/*
 * cmd-aslr.c - `memlayout aslr -- COMMAND`: run a command many times, stop
 * each run at its entry point (or exit), record where its regions were,
 * and print how many bits of randomisation each region showed and which
 * regions moved together.
 *
 * The runs' stdin, stdout and stderr are /dev/null (our own are kept for
 * the table and the progress bar).  --no-randomize sets
 * personality(ADDR_NO_RANDOMIZE) on memlayout before the runs; a persona is
 * inherited by the children it forks and kept across their exec, so one
 * memlayout itself inherited (setarch -R) holds for the runs too: the
 * header says so rather than quote randomize_va_space alone.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

#define MAX_COLUMNS 32
#define MAX_RUNS 1000000
#define BAR_WIDTH 30

enum { OPT_NO_RANDOMIZE = CLI_OPT_CMD };

struct aslr_opts {
	struct cli_opts cli;         /* --at, -o, -J -r -n -b */
	long runs;
	bool no_randomize;
	char **argv;               /* -- COMMAND [ARGS] */
};

/* Its options, shared ones included, as --help lists them (-n is
 * --noheadings, as in every command; the runs are counted with -c). */
static const struct cli_opt opts[] = {
	{ 'c', "runs", "<n>", "number of runs (default 200)" },
	CLI_SHARED(CLI_AT),
	CLI_SAYS(CLI_OPT_AT, "stop at the entry point (default) or at exit,\n"
		 "which includes the heap as the program left it"),
	CLI_FLAG(OPT_NO_RANDOMIZE, "no-randomize", "run with personality(ADDR_NO_RANDOMIZE)",
		 struct aslr_opts, no_randomize),
	CLI_SHARED(CLI_OUTPUT),
	CLI_SAYS('n', "no headings, no summary line"),
	CLI_SAYS('b', "sizes and offsets in bytes"),
	{ 0 },
};

static const struct cli_excl excl[] = {
	{ 'J', 'r' }, { 0 },
};

/* What each value of randomize_va_space means (Documentation/admin-guide/sysctl/kernel.rst). */
static const char *const va_space_words[] = {
	"no randomisation",
	"stack, mmap base and vdso randomised; brk heap not",
	"stack, mmap base, vdso and brk heap randomised",
};

static int parse_option(void *ctx, int c, char *arg)
{
	struct aslr_opts *o = ctx;
	char *end;

	switch (c) {
	case 'c':
		errno = 0;
		o->runs = strtol(arg, &end, 10);
		if (errno || end == arg || *end || o->runs < 1 || o->runs > MAX_RUNS)
			return cli_usage_error(arg, "--runs takes a number from 1 to %d", MAX_RUNS);
		return 0;
	default:
		return cli_usage_error("aslr", "unknown option");
	}
}

static const struct cli_spec spec = {
	.verb = "aslr",
	.synopsis = " memlayout aslr [options] -- COMMAND [ARGS]\n",
	.about = "Run COMMAND many times, stopping each run at its entry point (after the\n"
		 "dynamic loader), and measure how far address-space layout randomisation\n"
		 "moves each region: text, data, bss, heap, each library, vdso, anonymous\n"
		 "mmaps, the stack and the stack pointer; and which regions move together.\n",
	.opts = opts,
	.notes = "BITS is estimated from the range of the bases seen; with n runs at most\n"
		 "log2 n bits (CEILING) are observed, the rest is extrapolated.\n"
		 "The runs' input and output are /dev/null.\n",
	.examples = " memlayout aslr -- /bin/true                 200 runs of true\n"
		    " memlayout aslr -c 2000 -- /bin/true         more runs, tighter estimates\n"
		    " memlayout aslr --no-randomize -- /bin/true  everything fixed: 0 bits\n"
		    " memlayout aslr --at=exit -J -- ./a.out      with the heap, as JSON\n",
	.excl = excl,
	.option = parse_option,
	.columns = ml_aslr_columns,
	.max_columns = MAX_COLUMNS,
	.list_width = 12,
	.words = CLI_WORDS_FREE,   /* none before --: aslr runs a command */
};

/* 0, a usage exit code (> 0), or CLI_DONE after --help or --list-columns. */
static int parse_args(struct aslr_opts *o, int argc, char **argv)
{
	int r;

	if ((r = cli_getopt(&spec, argc, argv, &o->cli, o)))
		return r;
	if (o->cli.nwords > 0)
		return cli_usage_error(o->cli.words[0], "unexpected argument (aslr runs a "
					  "command: memlayout aslr -- COMMAND)");
	if (!o->cli.command || !*o->cli.command)
		return cli_usage_error("aslr", "no command given (-- COMMAND [ARGS])");
	o->argv = o->cli.command;
	return 0;
}

/* The runs' stdin/stdout/stderr go to /dev/null; saved[] keeps ours. */
static int silence(int saved[3])
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return -errno;
	for (int fd = 0; fd < 3; fd++) {
		saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		dup2(null, fd);
	}
	close(null);
	return 0;
}

static void unsilence(int saved[3])
{
	for (int fd = 0; fd < 3; fd++) {
		if (saved[fd] >= 0) {
			dup2(saved[fd], fd);
			close(saved[fd]);
			saved[fd] = -1;
		}
	}
}

static void progress(int fd, long done, long total)
{
	char bar[BAR_WIDTH + 1];
	long fill = done * BAR_WIDTH / total;

	for (long i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	dprintf(fd, "\rmemlayout aslr: [%s] %ld/%ld", bar, done, total);
	if (done == total)
		dprintf(fd, "\r\033[K");
}

static int run_error(const struct aslr_opts *o, int r, int status)
{
	if (r == -ECHILD || r == -ENOENT || r == -EACCES || r == -ENOEXEC)
		return cli_run_error(o->argv[0], r, status);
	return cli_error(o->argv[0], "%s", cli_strerror(-r));
}

static int measure(const struct aslr_opts *o, struct ml_aslr *a)
{
	int saved[3] = { -1, -1, -1 }, status = 0, r;
	bool bar;

	if ((r = silence(saved)) < 0)
		return cli_error("/dev/null", "%s", strerror(-r));
	bar = saved[2] >= 0 && isatty(saved[2]);
	for (long i = 0; i < o->runs; i++) {
		r = ml_aslr_sample(a, o->argv, o->cli.target.at, &status);
		if (r < 0) {
			if (bar)
				dprintf(saved[2], "\r\033[K");
			unsilence(saved);
			return run_error(o, r, status);
		}
		if (bar && ((i + 1) % 4 == 0 || i + 1 == o->runs))
			progress(saved[2], i + 1, o->runs);
	}
	unsilence(saved);
	return 0;
}

static void header(const struct aslr_opts *o, const struct ml_aslr_info *info, size_t runs)
{
	char *cmd = ml_escape(o->argv[0], ML_ESC_TERM);
	int v = info->randomize_va_space;
	FILE *f = cli_fold_open(0, NULL);   /* on a terminal, folded */

	fprintf(f, "%zu runs of %s, stopped %s; kernel.randomize_va_space = %d (%s).\n",
	       runs, cmd ? cmd : "?",
	       o->cli.target.at == ML_STOP_AT_START ? "at the entry point" : "at exit", v,
	       v >= 0 && v < (int)(sizeof(va_space_words) / sizeof(va_space_words[0]))
		       ? va_space_words[v] : "unknown");
	/* The personality overrides the sysctl: say so, and who set it. */
	if (info->no_randomize)
		fprintf(f, "This run was not randomised: ADDR_NO_RANDOMIZE is set (%s).\n",
		       o->no_randomize ? "--no-randomize" : "setarch -R");
	fprintf(f, "BITS comes from the range of the values seen; %zu runs observe at most "
	       "CEILING = log2 %zu bits, the rest is extrapolated.\n\n", runs, runs);
	free(cmd);
	cli_fold_close(f);
}

int cli_cmd_aslr(int argc, char **argv)
{
	struct aslr_opts o = { .cli.target.at = ML_STOP_AT_START, .runs = 200 };
	struct ml_aslr_info info = { 0 };
	const struct ml_aslr_row *rows;
	struct ml_aslr *a;
	int r, n;

	if ((r = parse_args(&o, argc, argv)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	ml_aslr_host_info(&info);   /* ours (setarch -R, or a parent's) is the runs' too */
	if (o.no_randomize) {
		int persona = personality(0xffffffff);

		if (personality((persona < 0 ? 0 : persona) | ADDR_NO_RANDOMIZE) < 0)
			return cli_error("personality", "%s", strerror(errno));
		info.no_randomize = true;
	}
	if (ml_aslr_new(&a) < 0)
		return cli_error("aslr", "%s", strerror(ENOMEM));
	r = measure(&o, a);
	if (r) {
		ml_aslr_free(a);
		return r;
	}
	n = ml_aslr_result(a, &rows);
	if (n >= 0) {
		struct ml_table_opts to = { o.cli.have_columns ? o.cli.columns : NULL,
					    o.cli.ncolumns, o.cli.out_flags };
		if (!(o.cli.out_flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS)))
			header(&o, &info, ml_aslr_runs(a));
		n = ml_render_aslr(rows, (size_t)n, &info, stdout, &to);
	}
	ml_aslr_free(a);
	if (fflush(stdout) || n < 0)
		return cli_error("stdout", "write error");
	return CLI_EXIT_OK;
}
