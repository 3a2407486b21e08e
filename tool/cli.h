/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the subcommands of the memlayout tool share: exit codes,
 * error reporting ("memlayout: <input>: <reason>"), the target of a command
 * (PID, --self, -- COMMAND, --proc-root) and turning it into a snapshot.
 */
#ifndef CLI_H
#define CLI_H

#include "memlayout.h"

#include <stdbool.h>
#include <stddef.h>

/* Exit codes, documented in memlayout(1) EXIT STATUS. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,   /* the target could not be read */
	CLI_EXIT_USAGE = 2,     /* bad command line */
};

/* Print "memlayout: <input>: <reason>" to stderr; returns CLI_EXIT_FAILURE. */
int cli_error(const char *input, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, then "Try 'memlayout VERB --help'." (the verb set by
 * cli_set_verb, or "Try 'memlayout --help'." before one is); returns
 * CLI_EXIT_USAGE.  A NULL input prints "memlayout: <reason>". */
int cli_usage_error(const char *input, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The subcommand being run (main sets it before dispatching), for the
 * Try line of usage errors; NULL for the top level. */
void cli_set_verb(const char *verb);
/* Print "memlayout VERSION" on stdout (-V, --version of every command). */
void cli_version(void);
/* Words for a library error about a target (errno value, positive). */
const char *cli_strerror(int err);
/* The same for a function that loads the shared library soname
 * (ML_LIBDW_SONAME, ML_JANSSON_SONAME) on first use: ENOTSUP says that
 * library is missing. */
const char *cli_strerror_lib(int err, const char *soname);

/* The target of a command. */
struct cli_target {
	pid_t pid;                 /* 0 until resolved */
	bool self;
	char **argv;               /* -- COMMAND [ARGS], or NULL */
	const char *pid_arg;       /* the PID as typed, for messages */
	const char *proc_root;
	enum ml_stop_at at;
	unsigned int snap_flags;   /* ML_SNAP_* */
	const char *core;          /* a core file given instead of a PID, or NULL */
	const char *sysroot;       /* where a core's mapped files are (NULL: /) */
	const char *exe;           /* a core's executable, if not found from it */
};

/* A target word: a PID, or else the path of an existing file (a core
 * dump).  0, or the usage error's exit code. */
int cli_target_word(struct cli_target *t, char *word);
/* Open a core file (cmd-explain, and show/where CORE): on failure print
 * "memlayout: CORE: reason" and return the exit code (> 0). */
int cli_core_open(const char *path, const char *sysroot, const char *exe,
		     struct ml_core **ret);
/* The gaps of a core met so far, one line each on stderr. */
void cli_core_gaps(const char *path, const struct ml_core *c);

/* Parse a PID argument; 0 or -EINVAL. */
int cli_parse_pid(const char *s, pid_t *ret);
/* Parse an address: hexadecimal, with or without 0x; decimal only after
 * "0d"; 0 or -EINVAL. */
int cli_parse_addr(const char *s, uint64_t *ret);
/* Take the snapshot of the target; on failure print the error and return
 * the exit code (> 0).  *ret_traced holds a stopped child for -- COMMAND,
 * to be finished with ml_trace_finish by the caller. */
int cli_snapshot(struct cli_target *t, struct ml_snapshot **ret,
		    struct ml_traced **ret_traced);
/* A file memlayout ships with (the demo program, libmlalloc.so): the
 * first of rel (paths from memlayout's own directory, NULL-ended: the
 * build tree's, then an installed tree's that may have moved, a DESTDIR
 * staging root) and abs (the path configured) that access(mode) allows,
 * into buf.  0 or -ENOENT. */
int cli_find_shipped(const char *const *rel, const char *abs, int mode, char *buf, size_t len);
/* A command run to a stop point that failed (ml_trace_start's -errno r,
 * the wait status of one that ended first: -ECHILD): said, exit code. */
int cli_run_error(const char *cmd, int r, int status);
/* Colour on stdout? (a terminal and no NO_COLOR) */
bool cli_color(int fd);
/* The width of the terminal stdout is (its window size, else $COLUMNS,
 * else 80), or 0 when stdout is not a terminal. */
unsigned int cli_term_width(void);
/* The same for the terminal on fd (stderr, where run's report goes). */
unsigned int cli_fd_width(int fd);
/* stdout, or on a terminal a stream folding its lines at the terminal's
 * width (ml_fold_stream: indent, keep); cli_fold_close() closes it
 * (0, or -EIO after a write error). */
FILE *cli_fold_open(unsigned int indent, const char *keep);
int cli_fold_close(FILE *f);

/* ---- options (getopt.c) ----
 * One parser and one --help for every subcommand: a spec's option table
 * names the command's own options and the shared ones it opts into
 * (CLI_*) with their help lines; the spec adds the pairs that cannot go
 * together, what the words after the options are (the target) and the
 * text of its --help.  It splits argv at "--", runs getopt_long with the
 * usual error words, handles the shared options and flags itself and hands
 * the command's other options to spec->option. */

/* Shared options a spec opts into. */
enum {
	CLI_COLUMNS    = 1 << 0,   /* -o, --output LIST; --list-columns */
	CLI_JSON       = 1 << 1,   /* -J, --json */
	CLI_RAW        = 1 << 2,   /* -r, --raw */
	CLI_NOHEADINGS = 1 << 3,   /* -n, --noheadings */
	CLI_BYTES      = 1 << 4,   /* -b, --bytes */
	CLI_SELF       = 1 << 5,   /* --self */
	CLI_PROC_ROOT  = 1 << 6,   /* --proc-root DIR */
	CLI_PTRACE     = 1 << 7,   /* --ptrace */
	CLI_AT         = 1 << 8,   /* --at start|exit */
	CLI_NO_ELF     = 1 << 9,   /* --no-elf */
	CLI_CORE       = 1 << 10,  /* --sysroot DIR, --exe FILE (a CORE target) */
	CLI_OUTPUT     = CLI_COLUMNS | CLI_JSON | CLI_RAW |
			    CLI_NOHEADINGS | CLI_BYTES,
};

/* getopt values of the shared long-only options (for exclusion tables);
 * a command's own long-only options start at CLI_OPT_CMD. */
enum {
	CLI_OPT_LIST_COLUMNS = 0x100, CLI_OPT_SELF, CLI_OPT_PROC_ROOT, CLI_OPT_PTRACE,
	CLI_OPT_AT, CLI_OPT_NO_ELF, CLI_OPT_SYSROOT, CLI_OPT_EXE,
	CLI_OPT_CMD = 0x140,
};

/* What the words after the options are. */
enum cli_words {
	CLI_WORDS_FREE,       /* the command's (run: COMMAND [ARGS]); the
				  * words after "--" in cli_opts.command */
	CLI_WORDS_TARGET,     /* exactly one of PID, --self, -- COMMAND */
	CLI_WORDS_OPERAND,    /* PID, --self or -- COMMAND, and at most one
				  * more word, the operand (pages' REGION) */
	CLI_WORDS_OPERANDS,   /* the same and any number of operands (where's
				  * ADDR...) */
};

/* Two options that cannot be used together (getopt values); a table of
 * them ends with {0}. */
struct cli_excl {
	int a, b;
};

/* A row of a command's option table, which makes both its getopt_long
 * options and the option lines of its --help, in the table's order:
 *  - an option of its own: val (the short letter, or CLI_OPT_CMD + n for a
 *    long-only one), the long name, the argument's name ("<file>"; NULL:
 *    it takes none) and the help text;
 *    CLI_FLAG(..., type, field) one that sets the bool field of the
 *    command's options (type, the ctx of cli_getopt) and nothing else;
 *  - CLI_SHARED(bits): the shared options of bits (CLI_*), here;
 *  - CLI_SAYS(val, text): a shared option's help in this command's words.
 * A '\n' in a help text starts a line indented under the first. */
struct cli_opt {
	int val;
	const char *name, *arg, *help;
	unsigned int shared;
	size_t flag;                 /* CLI_FLAG: 1 + the offset of its bool in ctx */
};
#define CLI_FLAG(v, name, help, type, field) \
	{ (v), (name), NULL, (help), 0, offsetof(type, field) + 1 }
#define CLI_SHARED(bits) { .shared = (bits) }
#define CLI_SAYS(v, text) { .val = (v), .help = (text) }

#define CLI_MAX_COLUMNS 64
#define CLI_DONE (-1)   /* --help or --list-columns printed: exit 0 */

/* A command: its options and the text of its --help ("Usage:", synopsis,
 * about, "Options:", the table's lines, -h and -V, notes, "Examples:",
 * examples, "See memlayout-VERB(1)."). */
struct cli_spec {
	const char *verb;                  /* "show": the input of its usage errors */
	const char *synopsis;              /* " memlayout show [options] PID\n"... */
	const char *about;                 /* what it does, a paragraph */
	const struct cli_opt *opts;        /* {0}-ended */
	const char *notes;                 /* a paragraph after the options, or NULL */
	const char *examples;              /* " memlayout ...\n" lines */
	const struct cli_excl *excl;       /* {0}-ended, or NULL */
	/* Its own option c (argument arg) but a CLI_FLAG: 0 or an exit code. */
	int (*option)(void *ctx, int c, char *arg);
	/* CLI_COLUMNS: the column table, the most -o may list (0:
	 * CLI_MAX_COLUMNS), the width of names in --list-columns. */
	const struct ml_column_info *(*columns)(size_t *ret_n);
	size_t max_columns;
	int list_width;
	/* NULL columns: -o is kept (cli_opts.columns_arg) for the command to
	 * parse once it knows the table, and --list-columns calls this. */
	void (*list_columns)(void);
	enum cli_words words;
	const char *operand;               /* CLI_WORDS_OPERAND: "REGION or START-END" */
	bool pid_only;                     /* the target word is a PID, not a core file */
	bool posix;                        /* the first word not an option ends
					    * them ("--" is getopt's): run */
};

/* What cli_getopt fills: the shared options and the words. */
struct cli_opts {
	struct cli_target target;
	unsigned int out_flags;            /* ML_OUT_* of -J -r -n -b */
	int columns[CLI_MAX_COLUMNS];   /* -o */
	size_t ncolumns;
	bool have_columns;
	const char *columns_arg;           /* -o's argument as given */
	bool list_columns;                 /* --list-columns (printed by cli_getopt) */
	char **words;                      /* the operand (at most one) or, for
					    * CLI_WORDS_FREE, every word left */
	int nwords;
	char **command;                    /* CLI_WORDS_FREE: the words after
					    * "--" (NULL without "--") */
};

/* --list-columns' lines: n columns, names right-aligned in width. */
void cli_list_columns(const struct ml_column_info *c, size_t n, int width);
/* -o's list arg against a column table into ids (at most max), *ret_n:
 * 0, or a usage error's exit code ("unknown column", "too many"). */
int cli_parse_columns(const struct ml_column_info *cols, size_t n, const char *arg,
			 int *ids, size_t max, size_t *ret_n);

/* Parse argv (argv[0] is the verb) by spec into *cli (zeroed by the
 * caller, defaults set), calling spec->option(ctx, ...) for the command's
 * own options.  Returns 0, CLI_DONE, or an exit code after printing the
 * usage error. */
int cli_getopt(const struct cli_spec *spec, int argc, char **argv,
		  struct cli_opts *cli, void *ctx);

/* Subcommands. */
int cli_cmd_show(int argc, char **argv);
int cli_cmd_demo(int argc, char **argv);
int cli_cmd_heap(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_where(int argc, char **argv);
int cli_cmd_pages(int argc, char **argv);
int cli_cmd_aslr(int argc, char **argv);
int cli_cmd_watch(int argc, char **argv);
int cli_cmd_plot(int argc, char **argv);
int cli_cmd_explain(int argc, char **argv);
int cli_cmd_save(int argc, char **argv);

#endif
