/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `memlayout run -- COMMAND`: run a program as the shell
 * would, under ptrace, and when it (or any thread, fork or exec of it)
 * dies of SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT or SIGTRAP, explain the
 * crash in the terms of the process memory model, then let the signal do
 * what it would have done (kill, dump core).  Otherwise say nothing.
 *
 * The tracer is the library's (run.c: ml_run_start, ml_run_next): it
 * follows every thread, fork and exec, hands signals on, and gives an event
 * at a crash signal that will kill (once per process: one report per
 * death), at a process's exit stop (--check=leaks), when the program stops
 * (job control: memlayout stops too) and at its end; ml_run_crash gathers a
 * crash's facts (snapshot, backtrace, the fault its own handler caught).
 * Here: options, the report, the exit status (the program's, or its death
 * by the same signal after the report, without a core; memlayout's own
 * failures are 125, 126 not executable, 127 not found).
 *
 * A program that traces (strace, gdb, LeakSanitizer) cannot while we
 * trace it: the tracer's ML_RUN_PTRACE event says when it tries, and one
 * line on stderr says why it fails (once a run); the call goes on and
 * fails as it would.
 *
 * Signals sent to memlayout itself (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGTSTP, SIGCONT) by kill(1) are passed to the program; those from the terminal already
 * reach it, as it shares memlayout's process group and terminal.
 */
#include "cli.h"
#include "run-check.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAMES 64

enum { OPT_REPORT = CLI_OPT_CMD, OPT_CHECK, OPT_SAMPLE_RATE };

/* Its own exit codes, apart from the program's (as env(1), timeout(1)). */
enum {
	RUN_EXIT_FAILED = 125,       /* memlayout itself failed */
	RUN_EXIT_CANNOT_EXEC = 126,  /* found, but not executable */
	RUN_EXIT_NOT_FOUND = 127,    /* no such command */
};

struct run_opts {
	const char *report;       /* --report=FILE, NULL = stderr */
	struct cli_run_check check;   /* --check, --sample-rate (run-check.c) */
	unsigned int out_flags;
	char **argv;
};

struct run {
	struct run_opts o;
	struct ml_run *tracer;
	FILE *report;
	int death_signo;          /* the program died of it: so do we, after */
	bool said_ptrace;         /* the ptrace line was said (once a run) */
};

/* kill(1) to memlayout goes on to the program; SIGTSTP stops it (and
 * then memlayout, as it stops), SIGCONT resumes it. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT };
static const int job_control[] = { SIGTTIN, SIGTTOU };

static volatile sig_atomic_t main_pid;

/* Its options, -J the shared one, as --help lists them. */
static const struct cli_opt opts[] = {
	{ OPT_REPORT, "report", "<file>", "write the report to <file> instead of stderr" },
	{ OPT_CHECK, "check", "heap[,leaks]", "run it with mlalloc's checking mode preloaded: explain\n"
	  "use-after-free, overflows, double and invalid frees\n(and leaks at exit)" },
	{ OPT_SAMPLE_RATE, "sample-rate", "<n>", "with --check: check one allocation in <n> (default: all)" },
	CLI_SHARED(CLI_JSON),
	CLI_SAYS('J', "the report as JSON (one object per crash)"),
	{ 0 },
};

/* ---- signals to memlayout ---- */

static void on_forwarded(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* From the terminal (SI_KERNEL) the program got it already. */
	if (si->si_code == SI_KERNEL || main_pid <= 0 || si->si_pid == main_pid)
		return;
	kill(main_pid, sig);
}

static void on_job_control(int sig)
{
	(void)sig;   /* we stop when the program stops, not before */
}

static void install_handlers(void)
{
	struct sigaction sa = { 0 };

	sa.sa_sigaction = on_forwarded;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		struct sigaction old;
		/* A signal the caller made us ignore stays ignored (nohup). */
		if (sigaction(forwarded[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(forwarded[i], &sa, NULL);
	}
	sa.sa_flags = 0;
	sa.sa_handler = on_job_control;
	for (size_t i = 0; i < sizeof(job_control) / sizeof(job_control[0]); i++)
		sigaction(job_control[i], &sa, NULL);
}


/* A set-user-ID or set-group-ID program runs without its privileges
 * under ptrace (unless we may trace it anyway: root): say so, once,
 * before it starts. */
static void note_setid(struct run *r)
{
	char path[PATH_MAX];
	struct statvfs vfs;
	struct stat st;
	bool uid, gid;

	if (ml_path_find(r->o.argv[0], X_OK, path, sizeof(path)) < 0 || stat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)))
		return;
	uid = (st.st_mode & S_ISUID) && st.st_uid != geteuid();
	gid = (st.st_mode & S_ISGID) && st.st_gid != getegid();
	if ((uid || gid) && geteuid() != 0)
		cli_error(r->o.argv[0], "note: a set-%s-ID program runs without its "
			     "privileges under ptrace", uid ? "user" : "group");
}

/* Start the program under the tracer.  Returns the exit code on
 * failure (> 0): ptrace refused (saying by whom, when /proc tells: ours
 * is traced already, under another memlayout run or a debugger), or the
 * pipe or fork failed. */
static int spawn(struct run *r)
{
	pid_t tracer = 0;
	int e = ml_run_start(r->o.argv, ML_RUN_WATCH_PTRACE |
			     (r->o.check.leaks ? ML_RUN_EXIT_STOP : 0), &r->tracer, &tracer);

	if (e == 0) {
		main_pid = ml_run_pid(r->tracer);
		install_handlers();
		return 0;
	}
	if (tracer > 0)
		cli_error(r->o.argv[0], "cannot trace it: ptrace refused: it is "
			     "already traced by process %d", (int)tracer);
	else if (e == -EPERM)
		cli_error(r->o.argv[0], "cannot trace it: ptrace refused (already traced, "
			     "or kernel.yama.ptrace_scope, seccomp or a missing CAP_SYS_PTRACE "
			     "forbid it)");
	else
		cli_error(r->o.argv[0], "cannot run it: %s", strerror(-e));
	return RUN_EXIT_FAILED;
}

/* ---- the crash ---- */

static FILE *report_stream(struct run *r)
{
	if (!r->report) {
		r->report = r->o.report ? fopen(r->o.report, "we") : stderr;
		if (!r->report) {
			cli_error(r->o.report, "cannot write the report: %s", strerror(errno));
			r->report = stderr;
		}
	}
	return r->report;
}

/* Push the report out; 0, or -errno of the write that failed (a full
 * disk shows only here: the report sat in the stream's buffer). */
static int report_flush(FILE *out)
{
	errno = 0;
	if (fflush(out) == 0 && !ferror(out))
		return 0;
	return errno ? -errno : -EIO;
}

/* A report lost (-EIO from the renderer: its stream failed): said on
 * stderr as "memlayout: FILE: reason", the stream's error cleared so the
 * next crash tries again.  The exit status stays the program's. */
static void report_error(struct run *r, int err)
{
	if (err == -EIO && (err = report_flush(r->report)) == 0)
		err = -EIO;
	cli_error(r->o.report ? r->o.report : "stderr", "%s", strerror(-err));
	clearerr(r->report);
}

/* The report's flags and, on a terminal (stderr's), its width: the
 * report folded at it, its diagram slice fitted to it (as show -d is). */
static unsigned int report_flags(const struct run *r, unsigned int *ret_width)
{
	unsigned int flags = r->o.out_flags;
	bool tty = !r->o.report && !(flags & ML_OUT_JSON);

	if (tty && cli_color(STDERR_FILENO))
		flags |= ML_OUT_COLOR;
	*ret_width = tty ? cli_fd_width(STDERR_FILENO) : 0;
	return flags;
}

/* Close the folding stream over the report (NULL: none); e stays the
 * first error. */
static int fold_close(FILE *fo, int e)
{
	if (fo && fclose(fo) && e == 0)
		e = -EIO;
	return e;
}

/* A report written (e: 0, pushed out next) or not: a lost one said on
 * stderr ("memlayout: NAME: cannot write the WHAT report: ..."). */
static void report_done(struct run *r, const char *name, const char *what, int e)
{
	if (e == -EIO || (e == 0 && (e = report_flush(r->report)) < 0))
		report_error(r, e);
	else if (e < 0)
		cli_error(name, "cannot write the %s report: %s", what, cli_strerror(-e));
}

/* A crash that will kill: the heap report (--check=heap, when mlalloc
 * found a bug), else the crash report, to the report stream. */

static void explain(struct run *r, const struct ml_run_event *ev)
{
	struct ml_run_crash rc;
	struct ml_crash c;
	char name[32];
	FILE *out = report_stream(r), *fo;
	unsigned int w, flags = report_flags(r, &w);
	int e;

	snprintf(name, sizeof(name), "%d", (int)ev->pid);
	if ((e = ml_run_crash(r->tracer, ev, MAX_FRAMES, &rc)) < 0) {
		cli_error(name, "cannot explain its crash: %s", cli_strerror(-e));
		return;
	}
	if (rc.bt_error == -ENOTSUP)     /* the report goes on without one */
		cli_error(name, "no backtrace: %s", cli_strerror_lib(-rc.bt_error, ML_LIBDW_SONAME));
	fo = w ? ml_fold_stream(out, w, 4, NULL) : NULL;
	if (r->o.check.heap && (e = cli_run_check_explain(ev->pid, rc.fault.signo, rc.snap, rc.bt,
							fo ? fo : out, flags, w)) != -ENOENT)
		report_done(r, name, "heap", fold_close(fo, e));
	else if (ml_crash_explain(rc.snap, &rc.fault, &c) == 0)
		report_done(r, name, "crash", fold_close(fo,
			    ml_render_crash_width(rc.snap, &c, rc.bt, fo ? fo : out, flags, w)));
	else
		fold_close(fo, 0);
	ml_run_crash_free(&rc);
}

/* A process at its exit stop (--check=leaks): its leak report. */
static void leaks(struct run *r, pid_t tid)
{
	FILE *out = report_stream(r), *fo;
	unsigned int w, flags = report_flags(r, &w);

	fo = w ? ml_fold_stream(out, w, 4, NULL) : NULL;
	report_done(r, r->o.argv[0], "leak",
		    fold_close(fo, cli_run_check_at_exit(tid, fo ? fo : out, flags)));
}

/* ---- a program that traces ---- */

static const struct {
	long request;
	const char *name;
} ptrace_requests[] = {
	{ PTRACE_TRACEME, "PTRACE_TRACEME" },
	{ PTRACE_ATTACH, "PTRACE_ATTACH" },
	{ PTRACE_SEIZE, "PTRACE_SEIZE" },
};

/* A process of the program called ptrace(2) in a way that fails because
 * we trace it: one line on stderr, the first time in a run. */
static void note_ptrace(struct run *r, const struct ml_run_event *ev)
{
	const char *req = "?";
	char *name;

	if (r->said_ptrace)
		return;
	r->said_ptrace = true;
	for (size_t i = 0; i < sizeof(ptrace_requests) / sizeof(ptrace_requests[0]); i++)
		if (ptrace_requests[i].request == ev->ptrace_request)
			req = ptrace_requests[i].name;
	name = ml_escape(ev->comm[0] ? ev->comm : r->o.argv[0], ML_ESC_TERM);
	cli_error(name ? name : "?", "process %d calls ptrace(%s), which fails under "
		     "memlayout run: a process has one tracer, and memlayout is it",
		     (int)ev->pid, req);
	free(name);
}

/* ---- the loop ---- */

/* The program ended: its exit code, or 127 not found and 126 not
 * executable when its exec failed (as the shell says). */
static int ended(struct run *r, const struct ml_run_event *ev)
{
	int e = ev->exec_errno;

	if (e) {
		cli_error(r->o.argv[0], "cannot run it: %s", strerror(e));
		return e == ENOENT || e == ENOTDIR ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_EXEC;
	}
	if (WIFSIGNALED(ev->status)) {
		r->death_signo = WTERMSIG(ev->status);
		return 128 + WTERMSIG(ev->status);
	}
	return WEXITSTATUS(ev->status);
}

static int trace_loop(struct run *r)
{
	struct ml_run_event ev;
	int e;

	while ((e = ml_run_next(r->tracer, &ev)) == 0) {
		if (ev.kind == ML_RUN_CRASH)
			explain(r, &ev);
		else if (ev.kind == ML_RUN_EXITING)
			leaks(r, ev.tid);
		else if (ev.kind == ML_RUN_PTRACE)
			note_ptrace(r, &ev);
		else if (ev.kind == ML_RUN_STOPPED)
			raise(SIGSTOP);      /* job control: stop with it */
		else
			return ended(r, &ev);
	}
	cli_error(r->o.argv[0], "lost the program: %s", strerror(-e));
	return RUN_EXIT_FAILED;
}

static int parse_option(void *ctx, int c, char *arg)
{
	struct run_opts *o = ctx;

	if (c == OPT_CHECK)
		return cli_run_check_parse(arg, &o->check);
	if (c == OPT_SAMPLE_RATE)
		return cli_run_check_rate(arg, &o->check);
	if (c != OPT_REPORT)
		return cli_usage_error("run", "unknown option");
	o->report = arg;
	return 0;
}

static const struct cli_spec spec = {
	.verb = "run",
	.synopsis = " memlayout run [options] [--] COMMAND [ARGS]\n",
	.about = "Run a program as the shell would.  If it dies of SIGSEGV, SIGBUS, SIGILL,\n"
		 "SIGFPE, SIGABRT or SIGTRAP, explain the crash in terms of its address\n"
		 "space (what kind, read/write/fetch, which region and section, backtrace),\n"
		 "then let the signal end it, and end by the same signal; else exit with its\n"
		 "status.  memlayout's own: 125 it failed or a bad command line, 126 not\n"
		 "executable, 127 not found.\n",
	.opts = opts,
	.examples = " memlayout run -- ./a.out arg        explain a crash of ./a.out, if any\n"
		    " memlayout run -J --report=crash.json -- make check\n"
		    " memlayout run --check=heap -- ./a.out   explain its heap bugs\n",
	.option = parse_option,
	.words = CLI_WORDS_FREE,
	.posix = true,   /* the first word that is not an option starts the command */
};

/* The program died of sig: end by it too, so a shell sees a death by a
 * signal (a Ctrl-C stops its loop), without a core of our own (the
 * program's was dumped already).  Returns only if sig did not end us. */
static void die_like(int sig)
{
	struct rlimit no_core = { 0, 0 };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	if (fflush(stdout) != 0 || ferror(stdout))
		return;    /* a write error is ours to say: exit 1 */
	fflush(stderr);
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0);
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

/* Before the program starts, memlayout's own failures (a bad command
 * line: 2 elsewhere; a setup that failed: 1) are 125, so that no status of
 * memlayout's can be read as the program's (env(1), timeout(1)). */
static int own_status(int code)
{
	return code == CLI_EXIT_USAGE || code == CLI_EXIT_FAILURE ? RUN_EXIT_FAILED : code;
}

int cli_cmd_run(int argc, char **argv)
{
	struct run r = { 0 };
	struct cli_opts cli = { 0 };
	int code;

	if ((code = cli_getopt(&spec, argc, argv, &cli, &r.o)))
		return code == CLI_DONE ? CLI_EXIT_OK : own_status(code);
	if (!cli.nwords)
		return own_status(cli_usage_error("run", "no command given (memlayout run -- COMMAND)"));
	r.o.out_flags = cli.out_flags;
	r.o.argv = cli.words;
	if (r.o.check.rate && !r.o.check.heap)
		return own_status(cli_usage_error("--sample-rate", "needs --check=heap"));
	if ((code = cli_run_check_env(&r.o.check)))
		return own_status(code);
	note_setid(&r);
	if ((code = spawn(&r)))
		return code;
	code = trace_loop(&r);
	ml_run_free(r.tracer);
	if (r.report && r.report != stderr && fclose(r.report))
		cli_error(r.o.report, "%s", strerror(errno));
	if (r.death_signo && code == 128 + r.death_signo)
		die_like(r.death_signo);
	return code;
}
