/* SPDX-License-Identifier: MIT */
/* run-check.h: memlayout run --check (run-check.c): mlalloc's checking mode
 * preloaded into the program, and its report read at the crash. */
#ifndef CLI_RUN_CHECK_H
#define CLI_RUN_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <memlayout.h>

struct cli_run_check {
	bool heap;               /* --check=heap */
	bool leaks;              /* --check=heap,leaks: also leaks at exit */
	unsigned long rate;      /* --sample-rate N: one allocation in N; 0 = all (full mode) */
};

/* Parse the --check list (names separated by commas).  0, or the exit
 * code of a usage error already printed. */
int cli_run_check_parse(const char *list, struct cli_run_check *ret);
/* Parse --sample-rate.  0, or the exit code of a usage error. */
int cli_run_check_rate(const char *arg, struct cli_run_check *ret);
/* Set LD_PRELOAD and MLALLOC_CHECK for the program.  0, or the exit code
 * of an error already printed (no libmlalloc.so found). */
int cli_run_check_env(const struct cli_run_check *c);
/* If mlalloc reported a heap bug in the stopped process, write its report
 * (render-heapcheck.c) to out, its diagram slice fitted to width (0: not),
 * and return 0; -ENOENT if it reported none;
 * other -errno when the report could not be read or written. */
int cli_run_check_explain(pid_t pid, int signo, const struct ml_snapshot *snap,
			 const struct ml_backtrace *bt, FILE *out, unsigned int flags,
			 unsigned int width);

/* At a PTRACE_EVENT_EXIT stop of tid: if it is its process's leader and
 * mlalloc found leaks, write the leak report to out.  0 (also when there
 * is nothing to say), or -errno of a report that could not be written. */
int cli_run_check_at_exit(pid_t tid, FILE *out, unsigned int flags);

#endif
