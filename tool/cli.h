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
/* The same, then "Try 'memlayout --help'."; returns ML_EXIT_USAGE. */
int ml_cli_usage_error(const char *input, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Words for a library error about a target (errno value, positive). */
const char *ml_cli_strerror(int err);

/* The target of a command. */
struct ml_target {
	pid_t pid;                 /* 0 until resolved */
	bool self;
	char **argv;               /* -- COMMAND [ARGS], or NULL */
	const char *pid_arg;       /* the PID as typed, for messages */
	const char *proc_root;
	enum ml_stop_at at;
	unsigned int snap_flags;   /* ML_SNAP_* */
};

/* Parse a PID argument; 0 or -EINVAL. */
int ml_cli_parse_pid(const char *s, pid_t *ret);
/* Parse an address (hex with 0x, or decimal; "0x" optional for hex with
 * a-f digits); 0 or -EINVAL. */
int ml_cli_parse_addr(const char *s, uint64_t *ret);
/* Take the snapshot of the target; on failure print the error and return
 * the exit code (> 0).  *ret_traced holds a stopped child for -- COMMAND,
 * to be finished with ml_trace_finish by the caller. */
int ml_cli_snapshot(struct ml_target *t, struct ml_snapshot **ret,
		    struct ml_traced **ret_traced);
/* Colour on stdout? (a terminal and no NO_COLOR) */
bool ml_cli_color(int fd);

/* Subcommands. */
int ml_cmd_show(int argc, char **argv);
int ml_cmd_demo(int argc, char **argv);
int ml_cmd_heap(int argc, char **argv);
int ml_cmd_run(int argc, char **argv);
int ml_cmd_where(int argc, char **argv);
int ml_cmd_pages(int argc, char **argv);
int ml_cmd_aslr(int argc, char **argv);
int ml_cmd_watch(int argc, char **argv);

#endif
