/*
 * memlayout.c - the memlayout command: global options and the verb table
 * that dispatches to one file per subcommand (cmd-*.c).
 */
#include "cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{ "show", ml_cmd_show, "the memory layout of a process, region by region" },
	{ "where", ml_cmd_where, "what an address of a process is: region, symbol, line, page" },
	{ "pages", ml_cmd_pages, "which pages of each region are in RAM, huge, zero, swapped or untouched" },
	{ "run",  ml_cmd_run,  "run a program; if it crashes, explain the fault in terms of its memory" },
	{ "heap", ml_cmd_heap, "the heap of a process running mlalloc: classes, blocks, map, brk" },
	{ "watch", ml_cmd_watch, "sample a process over time: sizes per kind, events, faults" },
	{ "aslr", ml_cmd_aslr, "run a command many times: how far ASLR moves each region" },
	{ "demo", ml_cmd_demo, "run a small program and show where its code, data, heap and stacks are" },
};

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      " memlayout <command> [options] [PID | --self | -- COMMAND [ARGS]]\n\n"
	      "Make the memory of a Linux process visible and explain it.\n\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, " %-6s %s\n", verbs[i].name, verbs[i].help);
	fputs("\nOptions:\n"
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

int main(int argc, char **argv)
{
	/* The user's character type, so libsmartcols and our escaping know
	 * which multibyte characters are printable.  Only that category:
	 * messages stay English and numbers C (parsable), and loading the
	 * other eleven categories cost ~0.2 ms of every start (memlayout(1)). */
	setlocale(LC_CTYPE, "");
	if (argc < 2)
		return ml_cli_usage_error("memlayout", "no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return ML_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("memlayout %s\n", MEMLAYOUT_VERSION);
		return ML_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (distance(argv[1], verbs[i].name) <= 2)
			return ml_cli_usage_error(argv[1], "unknown command; did you mean '%s'?",
						  verbs[i].name);
	return ml_cli_usage_error(argv[1], "unknown command");
}
