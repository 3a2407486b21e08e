/* SPDX-License-Identifier: MIT */
/*
 * memlayout.c - the memlayout command: global options and the verb table
 * that dispatches to one file per subcommand (cmd-*.c); `help [CMD]`; and,
 * once a command has succeeded, the check that stdout was really written
 * (util-linux's close_stdout: a full disk is an error, exit 1).
 */
#include "cli.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{ "show", cli_cmd_show, "the memory layout of a process, region by region" },
	{ "where", cli_cmd_where, "what an address of a process is: region, symbol, line, page" },
	{ "pages", cli_cmd_pages, "which pages of each region are in RAM, huge, zero, swapped or untouched" },
	{ "run",  cli_cmd_run,  "run a program; if it crashes, explain the fault in terms of its memory" },
	{ "heap", cli_cmd_heap, "the heap of a process: glibc malloc or mlalloc, free lists, map" },
	{ "watch", cli_cmd_watch, "sample a process over time: sizes per kind, events, faults" },
	{ "aslr", cli_cmd_aslr, "run a command many times: how far ASLR moves each region" },
	{ "plot", cli_cmd_plot, "draw a record of watch over time as a web page" },
	{ "demo", cli_cmd_demo, "run a small program and show where its code, data, heap and stacks are" },
	{ "explain", cli_cmd_explain, "explain the crash a core dump records, as run does live" },
	{ "save", cli_cmd_save, "save the /proc files of a process into a tree --proc-root reads" },
};

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      " memlayout <command> [options] [PID | --self | -- COMMAND [ARGS]]\n\n"
	      "Make the memory of a Linux process visible and explain it.\n\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, " %-6s %s\n", verbs[i].name, verbs[i].help);
	fputs(" help   this help, or a command's: memlayout help COMMAND\n"
	      "\nOptions:\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display version\n\n"
	      "Examples:\n"
	      " memlayout demo                 see a small program's layout, addresses marked\n"
	      " memlayout show $$              the regions of your shell\n"
	      " memlayout show -d $$           its address space drawn top-down\n"
	      " memlayout show -s -- ls        per-kind totals of ls, just before it exits\n"
	      " memlayout show -J -b --self    memlayout itself, as JSON with byte counts\n"
	      " memlayout pages $$ heap        which pages of your shell's heap are in RAM\n\n"
	      "Run 'memlayout <command> --help' for a command's options; see memlayout(1).\n", out);
}

/* Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[32], cur[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(name, verbs[i].name))
			return &verbs[i];
	return NULL;
}

static int unknown_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (distance(name, verbs[i].name) <= 2)
			return cli_usage_error(name, "unknown command; did you mean '%s'?",
						  verbs[i].name);
	return cli_usage_error(name, "unknown command");
}

/* memlayout help [CMD]: the same as memlayout --help or memlayout CMD --help
 * (help --help is the first). */
static int help(int argc, char **argv)
{
	const struct verb *v;
	char *hargv[] = { NULL, (char *)"--help", NULL };

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error(argv[2], "unexpected argument (help takes one command)");
	if (!(v = find_verb(argv[1])))
		return unknown_verb(argv[1]);
	cli_set_verb(v->name);
	hargv[0] = argv[1];
	return v->fn(2, hargv);
}

static int dispatch(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2)
		return cli_usage_error(NULL, "no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		cli_version();
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (!(v = find_verb(argv[1])))
		return unknown_verb(argv[1]);
	cli_set_verb(v->name);
	return v->fn(argc - 1, argv + 1);
}

/* Flush and close stdout: 0, or the errno of a write that failed (a
 * broken pipe is not reported, as util-linux does not). */
static int close_stdout(void)
{
	int r = 0;

	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		r = errno ? errno : EIO;
	if (fclose(stdout) != 0 && !r)
		r = errno ? errno : EIO;
	return r == EPIPE ? 0 : r;
}

int main(int argc, char **argv)
{
	int code, err;

	/* The user's character type, so libsmartcols and our escaping know
	 * which multibyte characters are printable.  Only that category:
	 * messages stay English and numbers C (parsable), and loading the
	 * other eleven categories cost ~0.2 ms of every start (memlayout(1)). */
	setlocale(LC_CTYPE, "");
	code = dispatch(argc, argv);
	/* A command that succeeded must have written all of its output. */
	if (code == CLI_EXIT_OK && (err = close_stdout()))
		return cli_error("stdout", "write error: %s", strerror(err));
	return code;
}
