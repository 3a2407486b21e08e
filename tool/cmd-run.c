/* SPDX-License-Identifier: MIT */
/*
 * cmd-run.c - `memlayout run -- COMMAND`: run a program as the shell
 * would, under ptrace, and when it (or any thread, fork or exec of it)
 * dies of SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT or SIGTRAP, explain the
 * crash in the terms of the process memory model, then let the signal do
 * what it would have done (kill, dump core).  Otherwise say nothing.
 *
 * Tracer protocol: fork; the child waits on a pipe until it is seized
 * (PTRACE_SEIZE with TRACECLONE/FORK/VFORK/EXEC and EXITKILL, so nothing
 * outlives us untraced-and-stopped or orphaned), then execvp()s; an exec
 * failure comes back as its errno on a close-on-exec pipe.  One waitpid
 * loop over every tracee: event stops are resumed; group-stops are left
 * stopped with PTRACE_LISTEN (and if the program stops, memlayout stops
 * too, so job control works); signal-delivery-stops get their signal back
 * unchanged, except that a crash signal the thread does not catch or
 * ignore (SigCgt/SigIgn, read at the stop) is first explained.  When the
 * main program ends, tracees still running (its background children) are
 * interrupted and detached, and memlayout exits with the program's status,
 * or ends by the signal that ended it (after its report, without a core);
 * its own failures are 125 (126 not executable, 127 not found).  A fault
 * the program's handler takes is kept (no snapshot: cheap), and explained
 * if the thread dies while that handler runs; one report per death.
 *
 * Each tracee's sp at its first stop (a new thread's: inside the stack
 * clone() gave it, before it ran) is kept, so that at a crash every
 * thread's stack and guard are named whatever its sp is by then
 * (ml_snapshot_mark_stack): a thread whose sp ran into its guard or
 * below it still has its stack.
 *
 * Signals sent to memlayout itself (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGTSTP, SIGCONT) by kill(1) are passed to the program; those from the terminal already
 * reach it, as it shares memlayout's process group and terminal.
 */
#include "cli.h"
#include "run-check.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

enum { OPT_REPORT = ML_OPT_CMD, OPT_CHECK, OPT_SAMPLE_RATE };

/* Its own exit codes, apart from the program's (as env(1), timeout(1)). */
enum {
	RUN_EXIT_FAILED = 125,       /* memlayout itself failed */
	RUN_EXIT_CANNOT_EXEC = 126,  /* found, but not executable */
	RUN_EXIT_NOT_FOUND = 127,    /* no such command */
};

enum { TRACE_OPTIONS = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		       PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL };

struct run_opts {
	const char *report;       /* --report=FILE, NULL = stderr */
	struct ml_run_check check;   /* --check, --sample-rate (run-check.c) */
	unsigned int out_flags;
	char **argv;
};

/* The tracees we know of, to detach from at the end, and where each
 * one's stack is: its sp at its first stop, before it ran any code (a
 * new thread's sp is then inside the stack clone() gave it), so its
 * stack is known after its sp has run off it. */
struct tracee {
	pid_t tid;
	bool stopped_once;       /* its first stop was seen */
	uint64_t stack;          /* first sp, 0 unknown */
	struct ml_fault *caught; /* its last fault its own handler took, or NULL */
};

struct tracees {
	struct tracee *v;
	size_t n, cap;
};

struct run {
	struct run_opts o;
	pid_t main;
	struct tracees t;
	FILE *report;
	int crashes;
	int death_signo;          /* the program died of it: so do we, after */
	pid_t *reported;          /* processes whose death was explained: one */
	size_t nreported, capreported;   /* report each, however many threads fault */
};

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
/* kill(1) to memlayout goes on to the program; SIGTSTP stops it (and
 * then memlayout, as it stops), SIGCONT resumes it. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT };
static const int job_control[] = { SIGTTIN, SIGTTOU };

static volatile sig_atomic_t main_pid;

/* Its own options; -J is the shared one (cli.h). */
static const struct option longopts[] = {
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs("Usage:\n"
	      " memlayout run [options] [--] COMMAND [ARGS]\n\n"
	      "Run a program as the shell would.  If it dies of SIGSEGV, SIGBUS, SIGILL,\n"
	      "SIGFPE, SIGABRT or SIGTRAP, explain the crash in terms of its address\n"
	      "space (what kind, read/write/fetch, which region and section, backtrace),\n"
	      "then let the signal end it, and end by the same signal; else exit with its\n"
	      "status.  memlayout's own: 125 it failed or a bad command line, 126 not\n"
	      "executable, 127 not found.\n\n"
	      "Options:\n"
	      "     --report <file>    write the report to <file> instead of stderr\n"
	      "     --check heap[,leaks]  run it with mlalloc's checking mode preloaded: explain\n"
	      "                          use-after-free, overflows, double and invalid frees\n"
	      "                          (and leaks at exit)\n"
	      "     --sample-rate <n>  with --check: check one allocation in <n> (default: all)\n"
	      " -J, --json             the report as JSON (one object per crash)\n"
	      " -h, --help             display this help\n"
	      " -V, --version          display version\n\n"
	      "Examples:\n"
	      " memlayout run -- ./a.out arg        explain a crash of ./a.out, if any\n"
	      " memlayout run -J --report=crash.json -- make check\n"
	      " memlayout run --check=heap -- ./a.out   explain its heap bugs\n\n"
	      "See memlayout-run(1).\n", stdout);
}

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

/* ---- tracee set ---- */

static struct tracee *tracee_find(struct tracees *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].tid == tid)
			return &t->v[i];
	return NULL;
}

static struct tracee *tracee_add(struct tracees *t, pid_t tid)
{
	struct tracee *e = tracee_find(t, tid);

	if (e)
		return e;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct tracee *p = realloc(t->v, cap * sizeof(*p));
		if (!p)
			return NULL;   /* only the final detach would miss it */
		t->v = p;
		t->cap = cap;
	}
	t->v[t->n] = (struct tracee){ .tid = tid };
	return &t->v[t->n++];
}

static void tracee_del(struct tracees *t, pid_t tid)
{
	struct tracee *e = tracee_find(t, tid);

	if (e) {
		free(e->caught);
		*e = t->v[--t->n];
	}
}

/* A tracee stopped: at its first stop, record its sp as its stack. */
static void tracee_stopped(struct tracees *t, pid_t tid)
{
	struct tracee *e = tracee_add(t, tid);
	struct ml_regs regs;

	if (!e || e->stopped_once)
		return;
	e->stopped_once = true;
	if (ml_regs_get(tid, &regs) == 0)
		e->stack = regs.sp;
}

/* Name every known thread stack of process pid in snap from the sp its
 * thread started with, whatever its sp is now. */
static void mark_stacks(struct run *r, struct ml_snapshot *snap, pid_t pid)
{
	char path[64];

	for (size_t i = 0; i < r->t.n; i++) {
		const struct tracee *e = &r->t.v[i];
		if (!e->stack || e->tid == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)e->tid);
		if (access(path, F_OK) == 0)
			ml_snapshot_mark_stack(snap, e->tid, e->stack);
	}
}

/* ---- starting the program ---- */

/* PTRACE_SEIZE of our child failed with e: say why, as precisely as
 * /proc tells (a tracer already attached to it: ours was, under another
 * memlayout run or a debugger), and end the child.  Returns the exit code. */
static int seize_failed(struct run *r, pid_t pid, int e, int go_fd, int err_fd)
{
	struct ml_task_status ts;
	int code;

	if (e == EPERM && ml_task_status(pid, &ts) == 0 && ts.tracer > 0)
		code = ml_cli_error(r->o.argv[0], "cannot trace it: ptrace refused: it is "
				    "already traced by process %d", (int)ts.tracer);
	else
		code = ml_cli_error(r->o.argv[0], "cannot trace it: %s", e == EPERM ?
			"ptrace refused (already traced, or kernel.yama.ptrace_scope, "
			"seccomp or a missing CAP_SYS_PTRACE forbid it)" : strerror(e));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(go_fd);
	close(err_fd);
	return code == ML_EXIT_FAILURE ? RUN_EXIT_FAILED : code;
}

/* memlayout could not start it (pipe, fork): 125. */
static int run_failed(struct run *r, int e)
{
	ml_cli_error(r->o.argv[0], "cannot run it: %s", strerror(e));
	return RUN_EXIT_FAILED;
}

/* Its exec failed with e: 127 not found, 126 found but not executable,
 * as the shell says. */
static int exec_failed(struct run *r, int e)
{
	ml_cli_error(r->o.argv[0], "cannot run it: %s", strerror(e));
	return e == ENOENT || e == ENOTDIR ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_EXEC;
}

/* The file execvp() would run for name, in path (PATH_MAX); false if
 * none is found. */
static bool resolve(const char *name, char *path, size_t len)
{
	const char *dirs = getenv("PATH"), *p, *end;

	if (strchr(name, '/')) {
		snprintf(path, len, "%s", name);
		return true;
	}
	for (p = dirs ? dirs : "/usr/local/bin:/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if ((size_t)snprintf(path, len, "%.*s/%s", (int)(end - p) ? (int)(end - p) : 1,
				     end > p ? p : ".", name) >= len)
			continue;
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
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

	if (!resolve(r->o.argv[0], path, sizeof(path)) || stat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)))
		return;
	uid = (st.st_mode & S_ISUID) && st.st_uid != geteuid();
	gid = (st.st_mode & S_ISGID) && st.st_gid != getegid();
	if ((uid || gid) && geteuid() != 0)
		ml_cli_error(r->o.argv[0], "note: a set-%s-ID program runs without its "
			     "privileges under ptrace", uid ? "user" : "group");
}

/* Fork, seize, let it exec.  Returns the exit code on failure (> 0). */
static int spawn(struct run *r, int *ret_err_fd)
{
	struct ml_spawn sp;
	pid_t pid;
	int e;

	fflush(NULL);
	if ((e = ml_spawn_start(r->o.argv, ML_SPAWN_HOLD, &sp)) < 0)
		return run_failed(r, -e);
	pid = sp.pid;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)(TRACE_OPTIONS |
		   (r->o.check.leaks ? PTRACE_O_TRACEEXIT : 0))) < 0)
		return seize_failed(r, pid, errno, sp.go_fd, sp.err_fd);
	r->main = main_pid = pid;
	tracee_add(&r->t, pid);
	install_handlers();
	if ((e = ml_spawn_release(&sp)) < 0) {
		kill(pid, SIGKILL);
		ml_spawn_close(&sp);
		return run_failed(r, -e);
	}
	*ret_err_fd = sp.err_fd;
	return 0;
}

/* ---- the crash ---- */

static bool is_crash_signal(int sig)
{
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		if (crash_signals[i] == sig)
			return true;
	return false;
}

/* Will delivering sig kill the thread's process?  Not if it catches or
 * ignores it (a fault's signal the program ignored or blocked has been
 * reset to the default by the kernel already). */
static bool is_fatal(pid_t tid, int sig, struct ml_task_status *ts)
{
	uint64_t bit = 1ull << (sig - 1);

	if (ml_task_status(tid, ts) < 0)
		return false;
	return !(ts->sig_caught & bit) && !(ts->sig_ignored & bit);
}

static FILE *report_stream(struct run *r)
{
	if (!r->report) {
		r->report = r->o.report ? fopen(r->o.report, "we") : stderr;
		if (!r->report) {
			ml_cli_error(r->o.report, "cannot write the report: %s", strerror(errno));
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
	ml_cli_error(r->o.report ? r->o.report : "stderr", "%s", strerror(-err));
	clearerr(r->report);
}

/* The words at sp - word and at sp: where a bad jump target came from
 * (the return address a ret just popped, or the one a ret would pop). */
static void read_stack_words(pid_t tid, struct ml_fault *f)
{
	size_t w = f->regs.is_32bit ? 4 : 8;
	unsigned char b[16];

	if (f->regs.sp < w || ml_tracee_read(tid, f->regs.sp - w, b, 2 * w) != (ssize_t)(2 * w))
		return;
	for (size_t i = 0; i < 2; i++) {
		uint64_t v = 0;
		memcpy(&v, b + i * w, w);    /* little-endian x86 */
		f->stack_words[i] = v;
	}
	f->have_stack_words = true;
}

static void gather(struct ml_fault *f, pid_t tid, const struct ml_task_status *ts,
		   const siginfo_t *si)
{
	ssize_t n;

	f->pid = ts->tgid;
	f->tid = tid;
	f->signo = si->si_signo;
	f->code = si->si_code;
	f->addr = (uint64_t)(uintptr_t)si->si_addr;
	f->sender = si->si_code <= 0 ? si->si_pid : 0;
	if (ml_regs_get(tid, &f->regs) == 0) {
		f->have_regs = true;
		f->code_addr = ml_fault_code_addr(f);
		n = ml_tracee_read(tid, f->code_addr, f->code_bytes, sizeof(f->code_bytes));
		f->ncode = n > 0 ? (size_t)n : 0;
		read_stack_words(tid, f);
	}
}

/* The fault its own handler caught, when the thread dies of a signal
 * while that handler still runs: the backtrace at the death passes
 * through the signal frame to the frame at the fault's pc (the frames of
 * the handler are dropped).  Else the death is the fault. */
static const struct ml_fault *caught_fault(struct run *r, pid_t tid, int sig,
					   struct ml_backtrace *bt)
{
	const struct tracee *e = tracee_find(&r->t, tid);

	if (!e || !e->caught || !bt || !e->caught->have_regs)
		return NULL;
	if (ml_backtrace_from(bt, e->caught->regs.pc) < 0)
		return NULL;
	e->caught->then_signo = sig;
	return e->caught;
}

static void explain(struct run *r, pid_t tid, const struct ml_task_status *ts,
		    const siginfo_t *si)
{
	struct ml_snap_opts so = { NULL, 0 };
	struct ml_snapshot *snap = NULL;
	struct ml_backtrace *bt = NULL;
	struct ml_fault f = { 0 };
	const struct ml_fault *caught;
	struct ml_crash c;
	char *msg = NULL, name[32];
	FILE *out = report_stream(r);
	int e;

	gather(&f, tid, ts, si);
	snprintf(name, sizeof(name), "%d", (int)f.pid);
	e = ml_snapshot_take(f.pid, &so, &snap);
	if (e < 0) {
		ml_cli_error(name, "cannot explain its crash: %s", ml_cli_strerror(-e));
		return;
	}
	mark_stacks(r, snap, f.pid);
	e = ml_backtrace_take(f.pid, tid, MAX_FRAMES, &bt);
	if (e == -ENOTSUP)     /* the report goes on without one */
		ml_cli_error(name, "no backtrace: %s", ml_cli_strerror_lib(-e, ML_LIBDW_SONAME));
	if ((caught = caught_fault(r, tid, f.signo, bt)))
		f = *caught;
	else if (f.signo == SIGABRT &&
		 ml_abort_message(f.pid, ml_snapshot_proc(snap)->is_32bit, &msg) == 0)
		f.abort_msg = msg;
	f.bt = bt;
	if (r->o.check.heap && (e = ml_run_check_explain(f.pid, f.signo, snap, bt, out,
	    r->o.out_flags | (!r->o.report && !(r->o.out_flags & ML_OUT_JSON) &&
	    ml_cli_color(STDERR_FILENO) ? ML_OUT_COLOR : 0))) != -ENOENT) {
		if (e == 0 && (e = report_flush(out)) < 0)
			report_error(r, e);
		else if (e < 0)
			ml_cli_error(name, "cannot write the heap report: %s", ml_cli_strerror(-e));
		r->crashes++;
	} else if (ml_crash_explain(snap, &f, &c) == 0) {
		unsigned int flags = r->o.out_flags;
		if (!r->o.report && !(flags & ML_OUT_JSON) && ml_cli_color(STDERR_FILENO))
			flags |= ML_OUT_COLOR;
		/* On a terminal (stderr's) the report folded at its width, its
		 * diagram slice fitted to it (as show -d is). */
		unsigned int w = !r->o.report && !(flags & ML_OUT_JSON) ? ml_cli_fd_width(STDERR_FILENO) : 0;
		FILE *fo = w ? ml_fold_stream(out, w, 4, NULL) : NULL;
		e = ml_render_crash_width(snap, &c, bt, fo ? fo : out, flags, w);
		if (fo && fclose(fo) && e == 0)
			e = -EIO;
		if (e == -EIO || (e == 0 && (e = report_flush(out)) < 0))
			report_error(r, e);
		else if (e < 0)
			ml_cli_error(name, "cannot write the crash report: %s",
				     ml_cli_strerror_lib(-e, ML_JANSSON_SONAME));
		r->crashes++;
	}
	ml_backtrace_free(bt);
	free(msg);
	ml_snapshot_free(snap);
}

/* A fault the thread's own handler will take: keep what the stop shows
 * (siginfo, registers, the instruction's bytes), cheaply, in case the
 * handler then ends the process (Rust's and Python's do). */
static void record_caught(struct run *r, pid_t tid, const struct ml_task_status *ts,
			  const siginfo_t *si)
{
	struct tracee *e = tracee_find(&r->t, tid);

	if (!e || si->si_code <= 0 || ts->tgid <= 0)
		return;       /* only faults, not signals sent */
	if (!e->caught && !(e->caught = malloc(sizeof(*e->caught))))
		return;
	*e->caught = (struct ml_fault){ 0 };
	gather(e->caught, tid, ts, si);
}

/* Was the death of process pid explained already (another of its
 * threads faulted at the same time)?  If not, it is now. */
static bool reported_once(struct run *r, pid_t pid)
{
	for (size_t i = 0; i < r->nreported; i++)
		if (r->reported[i] == pid)
			return true;
	if (r->nreported == r->capreported) {
		size_t cap = r->capreported ? 2 * r->capreported : 8;
		pid_t *p = realloc(r->reported, cap * sizeof(*p));
		if (!p)
			return false;
		r->reported = p;
		r->capreported = cap;
	}
	r->reported[r->nreported++] = pid;
	return false;
}

/* Process pid is gone: its pid may come back as another process. */
static void reported_forget(struct run *r, pid_t pid)
{
	for (size_t i = 0; i < r->nreported; i++)
		if (r->reported[i] == pid) {
			r->reported[i] = r->reported[--r->nreported];
			return;
		}
}

/* ---- the loop ---- */

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* An event stop: new tracees, exec, group-stop, our interrupt. */
static void on_event(struct run *r, pid_t tid, int sig, int ev)
{
	unsigned long msg = 0;

	if (ev == PTRACE_EVENT_STOP && is_stop_signal(sig)) {
		ptrace(PTRACE_LISTEN, tid, NULL, NULL);
		if (tid == r->main)      /* job control: stop with it */
			raise(SIGSTOP);
		return;
	}
	if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE) {
		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0)
			tracee_add(&r->t, (pid_t)msg);
	} else if (ev == PTRACE_EVENT_EXIT && r->o.check.leaks) {
		FILE *out = report_stream(r);
		int e = ml_run_check_at_exit(tid, out, r->o.out_flags);
		if (e == 0 && (e = report_flush(out)) < 0)
			report_error(r, e);
		else if (e < 0)
			ml_cli_error(r->o.argv[0], "cannot write the leak report: %s", ml_cli_strerror(-e));
	} else if (ev == PTRACE_EVENT_EXEC) {
		/* A thread that exec'd took the leader's pid: the old tid is gone. */
		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0 && (pid_t)msg != tid)
			tracee_del(&r->t, (pid_t)msg);
		struct tracee *e = tracee_find(&r->t, tid);
		if (e) {
			e->stack = 0;    /* a new program, a new stack */
			free(e->caught);
			e->caught = NULL;
		}
	}
	ptrace(PTRACE_CONT, tid, NULL, NULL);
}

/* A signal-delivery-stop: explain a fatal crash signal, then deliver. */
static void on_signal(struct run *r, pid_t tid, int sig)
{
	struct ml_task_status ts = { 0 };
	siginfo_t si;

	if (is_crash_signal(sig) && ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0) {
		if (!is_fatal(tid, sig, &ts))
			record_caught(r, tid, &ts, &si);
		else if (!reported_once(r, ts.tgid))
			explain(r, tid, &ts, &si);
	}
	ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig);
}

/* After the program ended: let go of what it left running. */
static void detach_all(struct run *r)
{
	int st;

	for (size_t i = 0; i < r->t.n; i++)
		ptrace(PTRACE_INTERRUPT, r->t.v[i].tid, NULL, NULL);
	while (r->t.n) {
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFSTOPPED(st)) {
			int ev = st >> 16, sig = WSTOPSIG(st);
			/* Hand back a pending signal; a stop event carries none. */
			ptrace(PTRACE_DETACH, w, NULL,
			       (void *)(long)(ev || sig == SIGTRAP ? 0 : sig));
		}
		tracee_del(&r->t, w);
	}
}

static int exit_code(int st)
{
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int trace_loop(struct run *r, int err_fd)
{
	bool exec_seen = false;
	int st, e;

	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ml_cli_error(r->o.argv[0], "lost the program: %s", strerror(errno));
			return RUN_EXIT_FAILED;
		}
		if (!WIFSTOPPED(st)) {
			tracee_del(&r->t, w);
			reported_forget(r, w);
			if (w != r->main)
				continue;
			if (!exec_seen && read(err_fd, &e, sizeof(e)) == (ssize_t)sizeof(e))
				return exec_failed(r, e);
			detach_all(r);
			if (WIFSIGNALED(st))
				r->death_signo = WTERMSIG(st);
			return exit_code(st);
		}
		tracee_stopped(&r->t, w);
		if (st >> 16) {
			exec_seen |= w == r->main && (st >> 16) == PTRACE_EVENT_EXEC;
			on_event(r, w, WSTOPSIG(st), st >> 16);
		} else {
			on_signal(r, w, WSTOPSIG(st));
		}
	}
}

static int parse_option(void *ctx, int c, char *arg)
{
	struct run_opts *o = ctx;

	if (c == OPT_CHECK)
		return ml_run_check_parse(arg, &o->check);
	if (c == OPT_SAMPLE_RATE)
		return ml_run_check_rate(arg, &o->check);
	if (c != OPT_REPORT)
		return ml_cli_usage_error("run", "unknown option");
	o->report = arg;
	return 0;
}

static const struct ml_cli_spec spec = {
	.verb = "run",
	.shared = ML_CLI_JSON,
	.longopts = longopts,
	.option = parse_option,
	.usage = usage,
	.words = ML_CLI_WORDS_FREE,
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
	return code == ML_EXIT_USAGE || code == ML_EXIT_FAILURE ? RUN_EXIT_FAILED : code;
}

int ml_cmd_run(int argc, char **argv)
{
	struct run r = { 0 };
	struct ml_cli cli = { 0 };
	int err_fd = -1, code;

	if ((code = ml_cli_getopt(&spec, argc, argv, &cli, &r.o)))
		return code == ML_CLI_DONE ? ML_EXIT_OK : own_status(code);
	if (!cli.nwords)
		return own_status(ml_cli_usage_error("run", "no command given (memlayout run -- COMMAND)"));
	r.o.out_flags = cli.out_flags;
	r.o.argv = cli.words;
	if (r.o.check.rate && !r.o.check.heap)
		return own_status(ml_cli_usage_error("--sample-rate", "needs --check=heap"));
	if ((code = ml_run_check_env(&r.o.check)))
		return own_status(code);
	note_setid(&r);
	if ((code = spawn(&r, &err_fd)))
		return code;
	code = trace_loop(&r, err_fd);
	close(err_fd);
	if (r.report && r.report != stderr && fclose(r.report))
		ml_cli_error(r.o.report, "%s", strerror(errno));
	free(r.t.v);
	free(r.reported);
	if (r.death_signo && code == 128 + r.death_signo)
		die_like(r.death_signo);
	return code;
}
