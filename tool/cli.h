/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the subcommands of the memlayout tool share: exit codes,
 * error reporting ("memlayout: <input>: <reason>"), the target of a command
 * (PID, --self, -- COMMAND, --proc-root) and turning it into a snapshot.
 */
#ifndef ML_CLI_H
#define ML_CLI_H

#include "memlayout.h"

#include <stdbool.h>

/* Exit codes, documented in memlayout(1) EXIT STATUS. */
enum {
	ML_EXIT_OK = 0,
	ML_EXIT_FAILURE = 1,   /* the target could not be read */
	ML_EXIT_USAGE = 2,     /* bad command line */
};

/* Print "memlayout: <input>: <reason>" to stderr; returns ML_EXIT_FAILURE. */
int ml_cli_error(const char *input, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same, then "Try 'memlayout VERB --help'." (the verb set by
 * ml_cli_set_verb, or "Try 'memlayout --help'." before one is); returns
 * ML_EXIT_USAGE.  A NULL input prints "memlayout: <reason>". */
int ml_cli_usage_error(const char *input, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The subcommand being run (main sets it before dispatching), for the
 * Try line of usage errors; NULL for the top level. */
void ml_cli_set_verb(const char *verb);
/* Print "memlayout VERSION" on stdout (-V, --version of every command). */
void ml_cli_version(void);
/* Words for a library error about a target (errno value, positive). */
const char *ml_cli_strerror(int err);
/* The same for a function that loads the shared library soname
 * (ML_LIBDW_SONAME, ML_JANSSON_SONAME) on first use: ENOTSUP says that
 * library is missing. */
const char *ml_cli_strerror_lib(int err, const char *soname);

/* The target of a command. */
struct ml_target {
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
int ml_cli_target_word(struct ml_target *t, char *word);
/* Open a core file (cmd-explain, and show/where CORE): on failure print
 * "memlayout: CORE: reason" and return the exit code (> 0). */
int ml_cli_core_open(const char *path, const char *sysroot, const char *exe,
		     struct ml_core **ret);
/* The gaps of a core met so far, one line each on stderr. */
void ml_cli_core_gaps(const char *path, const struct ml_core *c);

/* Parse a PID argument; 0 or -EINVAL. */
int ml_cli_parse_pid(const char *s, pid_t *ret);
/* Parse an address: hexadecimal, with or without 0x; decimal only after
 * "0d"; 0 or -EINVAL. */
int ml_cli_parse_addr(const char *s, uint64_t *ret);
/* Take the snapshot of the target; on failure print the error and return
 * the exit code (> 0).  *ret_traced holds a stopped child for -- COMMAND,
 * to be finished with ml_trace_finish by the caller. */
int ml_cli_snapshot(struct ml_target *t, struct ml_snapshot **ret,
		    struct ml_traced **ret_traced);
/* Colour on stdout? (a terminal and no NO_COLOR) */
bool ml_cli_color(int fd);
/* The width of the terminal stdout is (its window size, else $COLUMNS,
 * else 80), or 0 when stdout is not a terminal. */
unsigned int ml_cli_term_width(void);
/* The same for the terminal on fd (stderr, where run's report goes). */
unsigned int ml_cli_fd_width(int fd);
/* stdout, or on a terminal a stream folding its lines at the terminal's
 * width (ml_fold_stream: indent, keep); ml_cli_fold_close() closes it
 * (0, or -EIO after a write error). */
FILE *ml_cli_fold_open(unsigned int indent, const char *keep);
int ml_cli_fold_close(FILE *f);

/* ---- options (getopt.c) ----
 * One parser for every subcommand: a spec names the command's own options
 * and the shared ones it opts into (ML_CLI_*), the pairs that cannot go
 * together, and what the words after the options are (the target).  It
 * splits argv at "--", runs getopt_long with the usual error words, handles
 * the shared options itself and hands the command's own to spec->option. */

/* Shared options a spec opts into. */
enum {
	ML_CLI_COLUMNS    = 1 << 0,   /* -o, --output LIST; --list-columns */
	ML_CLI_JSON       = 1 << 1,   /* -J, --json */
	ML_CLI_RAW        = 1 << 2,   /* -r, --raw */
	ML_CLI_NOHEADINGS = 1 << 3,   /* -n, --noheadings */
	ML_CLI_BYTES      = 1 << 4,   /* -b, --bytes */
	ML_CLI_SELF       = 1 << 5,   /* --self */
	ML_CLI_PROC_ROOT  = 1 << 6,   /* --proc-root DIR */
	ML_CLI_PTRACE     = 1 << 7,   /* --ptrace */
	ML_CLI_AT         = 1 << 8,   /* --at start|exit */
	ML_CLI_NO_ELF     = 1 << 9,   /* --no-elf */
	ML_CLI_CORE       = 1 << 10,  /* --sysroot DIR, --exe FILE (a CORE target) */
	ML_CLI_OUTPUT     = ML_CLI_COLUMNS | ML_CLI_JSON | ML_CLI_RAW |
			    ML_CLI_NOHEADINGS | ML_CLI_BYTES,
};

/* getopt values of the shared long-only options (for exclusion tables);
 * a command's own long-only options start at ML_OPT_CMD. */
enum {
	ML_OPT_LIST_COLUMNS = 0x100, ML_OPT_SELF, ML_OPT_PROC_ROOT, ML_OPT_PTRACE,
	ML_OPT_AT, ML_OPT_NO_ELF, ML_OPT_SYSROOT, ML_OPT_EXE,
	ML_OPT_CMD = 0x140,
};

/* What the words after the options are. */
enum ml_cli_words {
	ML_CLI_WORDS_FREE,       /* the command's (run: COMMAND [ARGS]); the
				  * words after "--" in ml_cli.command */
	ML_CLI_WORDS_TARGET,     /* exactly one of PID, --self, -- COMMAND */
	ML_CLI_WORDS_OPERAND,    /* PID, --self or -- COMMAND, and at most one
				  * more word, the operand (pages' REGION) */
};

/* Two options that cannot be used together (getopt values). */
struct ml_cli_excl {
	int a, b;
};

#define ML_CLI_MAX_COLUMNS 64
#define ML_CLI_DONE (-1)   /* --help or --list-columns printed: exit 0 */

struct option;
struct ml_cli_spec {
	const char *verb;                  /* "show": the input of its usage errors */
	unsigned int shared;               /* ML_CLI_* */
	const struct option *longopts;     /* its own options, {0}-ended, or NULL
					    * (a val below 0x100 is the short one) */
	const char *shortopts;             /* its short options without a long name */
	const struct ml_cli_excl *excl;
	size_t nexcl;
	/* Its own option c (argument arg): 0 or an exit code. */
	int (*option)(void *ctx, int c, char *arg);
	void (*usage)(void);               /* --help, -h */
	/* ML_CLI_COLUMNS: the column table, the most -o may list (0:
	 * ML_CLI_MAX_COLUMNS), the width of names in --list-columns. */
	const struct ml_column_info *(*columns)(size_t *ret_n);
	size_t max_columns;
	int list_width;
	/* NULL columns: -o is kept (ml_cli.columns_arg) for the command to
	 * parse once it knows the table, and --list-columns calls this. */
	void (*list_columns)(void);
	enum ml_cli_words words;
	const char *operand;               /* ML_CLI_WORDS_OPERAND: "REGION or START-END" */
	bool posix;                        /* the first word not an option ends
					    * them ("--" is getopt's): run */
};

/* What ml_cli_getopt fills: the shared options and the words. */
struct ml_cli {
	struct ml_target target;
	unsigned int out_flags;            /* ML_OUT_* of -J -r -n -b */
	int columns[ML_CLI_MAX_COLUMNS];   /* -o */
	size_t ncolumns;
	bool have_columns;
	const char *columns_arg;           /* -o's argument as given */
	bool list_columns;                 /* --list-columns (printed by ml_cli_getopt) */
	char **words;                      /* the operand (at most one) or, for
					    * ML_CLI_WORDS_FREE, every word left */
	int nwords;
	char **command;                    /* ML_CLI_WORDS_FREE: the words after
					    * "--" (NULL without "--") */
};

/* --help's lines of the shared options of spec among which (ML_CLI_*),
 * in the table's order, with a command's own words for some of them (own:
 * {val, text}, {0}-ended, or NULL); then -h and -V's lines (help_end). */
struct ml_cli_help {
	int val;
	const char *text;
};
void ml_cli_help_options(const struct ml_cli_spec *spec, unsigned int which,
			 const struct ml_cli_help *own);
void ml_cli_help_end(void);

/* --list-columns' lines: n columns, names right-aligned in width. */
void ml_cli_list_columns(const struct ml_column_info *c, size_t n, int width);
/* -o's list arg against a column table into ids (at most max), *ret_n:
 * 0, or a usage error's exit code ("unknown column", "too many"). */
int ml_cli_parse_columns(const struct ml_column_info *cols, size_t n, const char *arg,
			 int *ids, size_t max, size_t *ret_n);

/* Parse argv (argv[0] is the verb) by spec into *cli (zeroed by the
 * caller, defaults set), calling spec->option(ctx, ...) for the command's
 * own options.  Returns 0, ML_CLI_DONE, or an exit code after printing the
 * usage error. */
int ml_cli_getopt(const struct ml_cli_spec *spec, int argc, char **argv,
		  struct ml_cli *cli, void *ctx);

/* Subcommands. */
int ml_cmd_show(int argc, char **argv);
int ml_cmd_demo(int argc, char **argv);
int ml_cmd_heap(int argc, char **argv);
int ml_cmd_run(int argc, char **argv);
int ml_cmd_where(int argc, char **argv);
int ml_cmd_pages(int argc, char **argv);
int ml_cmd_aslr(int argc, char **argv);
int ml_cmd_watch(int argc, char **argv);
int ml_cmd_plot(int argc, char **argv);
int ml_cmd_explain(int argc, char **argv);
int ml_cmd_save(int argc, char **argv);

#endif
