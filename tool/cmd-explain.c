/* SPDX-License-Identifier: MIT */
/*
 * cmd-explain.c - `memlayout explain CORE`: the report `memlayout run`
 * prints at a crash, from a core dump after the fact.  The core gives the
 * facts run reads from the stopped process (the snapshot, the fault of
 * the thread that dumped it, its instruction bytes, its backtrace); the
 * analysis and the report are run's own (ml_crash_explain,
 * ml_render_crash_width).  What the core lacks is said on stderr, one line per
 * gap (a file rebuilt since: its build-id mismatch).
 *
 * --coredump PID|COMM: the latest matching entry of systemd-coredump,
 * written by `coredumpctl dump -o FILE MATCH` (coredumpctl found in PATH)
 * into a private temporary directory, explained, then removed.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAMES 64

enum { OPT_COREDUMP = CLI_OPT_CMD };


/* Its options, --exe and --sysroot the shared ones of a CORE, as --help
 * lists them. */
static const struct cli_opt opts[] = {
	CLI_SHARED(CLI_CORE),
	CLI_SAYS(CLI_OPT_SYSROOT, "look for the mapped files under <dir>"),
	CLI_SAYS(CLI_OPT_EXE, "the executable, if the core does not lead to it"),
	{ OPT_COREDUMP, "coredump", "<match>", "the latest systemd-coredump entry of a PID or command\n"
	  "name (through coredumpctl dump)" },
	CLI_SHARED(CLI_JSON),
	CLI_SAYS('J', "the report as JSON (as memlayout run -J)"),
	{ 0 },
};

/* --coredump MATCH (ctx: where it goes). */
static int parse_option(void *ctx, int c, char *arg)
{
	if (c != OPT_COREDUMP)
		return cli_usage_error("explain", "unknown option");
	*(const char **)ctx = arg;
	return 0;
}

static const struct cli_spec spec = {
	.verb = "explain",
	.synopsis = " memlayout explain [options] CORE\n"
		    " memlayout explain [options] --coredump PID|COMM\n",
	.about = "Explain the crash a core dump records, as 'memlayout run' explains one live:\n"
		 "what kind, read/write/fetch, which region and section, the faulting thread,\n"
		 "the backtrace and the address space around the fault.\n",
	.opts = opts,
	.examples = " memlayout explain core              explain ./core\n"
		    " memlayout explain -J core.1234      the same as JSON\n"
		    " memlayout explain --coredump myprog the last crash of myprog, from systemd\n",
	.option = parse_option,
	.words = CLI_WORDS_FREE,
};

/* The report of the core at path. */
static int explain(const char *path, const struct cli_target *t, unsigned int flags)
{
	struct ml_core *core;
	struct ml_snapshot *snap = NULL;
	struct ml_backtrace *bt = NULL;
	struct ml_fault f;
	struct ml_crash c;
	char *msg = NULL;
	int e, code = 0;

	if ((code = cli_core_open(path, t->sysroot, t->exe, &core)))
		return code;
	if ((e = ml_core_snapshot(core, 0, &snap)) < 0 || (e = ml_core_fault(core, &f)) < 0) {
		code = cli_error(path, "%s", strerror(-e));
		goto out;
	}
	if (f.signo == SIGABRT && ml_core_abort_message(core, snap, &msg) == 0)
		f.abort_msg = msg;
	e = ml_core_backtrace(core, snap, f.tid, MAX_FRAMES, &bt);
	if (e == 0)
		f.bt = bt;
	else
		cli_error(path, "no backtrace: %s", cli_strerror_lib(-e, ML_LIBDW_SONAME));
	if ((e = ml_crash_explain(snap, &f, &c)) < 0) {
		code = cli_error(path, "%s", strerror(-e));
		goto out;
	}
	if (!(flags & ML_OUT_JSON) && cli_color(STDOUT_FILENO))
		flags |= ML_OUT_COLOR;
	/* On a terminal folded at its width, the diagram slice fitted (as run's). */
	unsigned int w = flags & ML_OUT_JSON ? 0 : cli_term_width();
	FILE *fo = w ? ml_fold_stream(stdout, w, 4, NULL) : NULL;
	e = ml_render_crash_width(snap, &c, bt, fo ? fo : stdout, flags, w);
	if (fo && fclose(fo) && e == 0)
		e = -EIO;
	if (e < 0)
		code = cli_error(e == -EIO ? "stdout" : path, "%s",
				 e == -EIO ? "write error" : cli_strerror(-e));
	cli_core_gaps(path, core);
out:
	free(msg);
	ml_backtrace_free(bt);
	ml_snapshot_free(snap);
	ml_core_free(core);
	return code;
}

/* coredumpctl dump -o FILE MATCH, its output to stderr; 0 or an exit code. */
static int coredumpctl(const char *match, const char *file)
{
	char *argv[] = { "coredumpctl", "--no-pager", "-q", "dump", "-o", (char *)file,
			 "--", (char *)match, NULL };
	struct ml_spawn sp = { .pid = -1 };
	int st, e = ml_spawn_start(argv, ML_SPAWN_OUT_TO_ERR, &sp);

	if (e == 0) {
		e = ml_spawn_wait_exec(&sp);
		ml_spawn_close(&sp);
	}
	while (sp.pid > 0 && waitpid(sp.pid, &st, 0) < 0)
		if (errno != EINTR)
			return cli_error("coredumpctl", "%s", strerror(errno));
	if (e < 0)
		return cli_error("coredumpctl", "%s", e == -ENOENT ?
				    "not found (systemd-coredump's coredumpctl is not installed)" : strerror(-e));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return cli_error(match, "coredumpctl found no core dump of it (exit status %d)",
				    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

static int explain_coredump(const char *match, const struct cli_target *t, unsigned int flags)
{
	char dir[] = "/tmp/memlayout-core.XXXXXX", file[sizeof(dir) + 8];
	int code;

	if (!mkdtemp(dir))
		return cli_error("/tmp", "%s", strerror(errno));
	snprintf(file, sizeof(file), "%s/core", dir);
	code = coredumpctl(match, file);
	if (code == 0)
		code = explain(file, t, flags);
	unlink(file);
	rmdir(dir);
	return code;
}

int cli_cmd_explain(int argc, char **argv)
{
	const char *coredump = NULL;
	struct cli_opts cli = { 0 };
	int code;

	if ((code = cli_getopt(&spec, argc, argv, &cli, &coredump)))
		return code == CLI_DONE ? CLI_EXIT_OK : code;
	if (cli.command)
		return cli_usage_error("explain", "no command: explain reads a core file");
	if (coredump && cli.nwords)
		return cli_usage_error("explain", "give one of CORE or --coredump");
	if (coredump)
		return explain_coredump(coredump, &cli.target, cli.out_flags);
	if (cli.nwords != 1)
		return cli_usage_error("explain", cli.nwords ? "one core file only"
					  : "no core file given (CORE or --coredump PID|COMM)");
	return explain(cli.words[0], &cli.target, cli.out_flags);
}
