/* SPDX-License-Identifier: MIT */
/*
 * cmd-plot.c - `memlayout plot FILE`: a record of `memlayout watch
 * --record FILE` (or of watch -J) drawn over time as one self-contained
 * HTML page on stdout (render-plot.c).  The file is read whole before
 * anything is written, so a bad record leaves nothing on stdout.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt opts[] = {
	CLI_SHARED(CLI_BYTES),
	CLI_SAYS('b', "sizes in bytes on the axes"),
	{ 0 },
};

static const struct cli_spec spec = {
	.verb = "plot",
	.synopsis = " memlayout plot [options] FILE\n",
	.about = "Draw a record of 'memlayout watch --record FILE' (JSON lines) as one\n"
		 "self-contained HTML page: virtual size per kind over time (stacked),\n"
		 "resident and virtual size, page faults per second, threads, and the\n"
		 "events (mapped, unmapped, grew, shrank, perms, brk, threads) on the\n"
		 "time axis.  FILE - reads standard input.\n",
	.opts = opts,
	.examples = " memlayout watch -c 100 --record run.jsonl 1234 > /dev/null\n"
		    " memlayout plot run.jsonl > growth.html\n",
	.words = CLI_WORDS_FREE,
};

static int read_error(const char *file, int r, size_t line)
{
	switch (r) {
	case -ENODATA:
		return cli_error(file, "no watch sample in it");
	case -E2BIG:
		return cli_error(file, "line %zu: over a bound of the record (%u MiB a line, "
				    "%d samples, %d events)", line, ML_RECORD_MAX_LINE >> 20,
				    ML_RECORD_MAX_SAMPLES, ML_RECORD_MAX_EVENTS);
	case -EBADMSG:
		return cli_error(file, "line %zu: not a sample of memlayout watch "
				    "(see doc/schema/watch.json)", line);
	default:   /* -ENOTSUP: no jansson, which reads the record */
		return cli_error(file, "%s", r == -ENOTSUP ? cli_strerror_lib(-r, ML_JANSSON_SONAME) :
				    strerror(-r));
	}
}

int cli_cmd_plot(int argc, char **argv)
{
	struct cli_opts cli = { 0 };
	struct ml_watch_record *rec;
	size_t line = 0;
	FILE *in;
	int r;

	if ((r = cli_getopt(&spec, argc, argv, &cli, NULL)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	if (cli.nwords != 1 || cli.command)
		return cli_usage_error("plot", "give one FILE (a record of watch --record)");
	const char *file = cli.words[0];
	in = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!in)
		return cli_error(file, "%s", strerror(errno));
	r = ml_watch_record_read(in, &rec, &line);
	if (in != stdin)
		fclose(in);
	if (r)
		return read_error(file, r, line);
	r = ml_render_plot(rec, stdout, cli.out_flags);
	ml_watch_record_free(rec);
	if (fflush(stdout) || r < 0)
		return cli_error("stdout", "write error");
	return CLI_EXIT_OK;
}
