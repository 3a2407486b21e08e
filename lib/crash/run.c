/* SPDX-License-Identifier: MIT */
/*
 * run.c - run a program as the shell would, under ptrace, and hand the
 * caller what happens to it as events (memlayout run): a thread stopped
 * at a crash signal that will end its process, a process at its exit
 * stop, the program stopped by job control, the program's end.
 *
 * Protocol: ml_spawn (spawn.c) forks a child held on a pipe until it is seized
 * (PTRACE_SEIZE with TRACECLONE/FORK/VFORK/EXEC and EXITKILL, so nothing
 * outlives the tracer untraced-and-stopped or orphaned), then execvp()s;
 * an exec failure comes back as its errno on a close-on-exec pipe.  One
 * waitpid loop over every tracee: event stops are resumed; group-stops are
 * left stopped with PTRACE_LISTEN (the main program's is an event: the
 * caller stops too, so job control works); signal-delivery-stops get
 * their signal back unchanged, except that a crash signal the thread does
 * not catch or ignore (SigCgt/SigIgn, read at the stop) is first an event,
 * once per process.  A fault the program's own handler takes is kept (its
 * siginfo, registers, instruction bytes: cheap), and given as the fault if
 * the thread dies while that handler runs.  When the main program ends,
 * tracees still running (its background children) are interrupted and
 * detached.
 *
 * ML_RUN_WATCH_PTRACE: the child installs a seccomp filter before its
 * exec (spawn.c, ML_SPAWN_WATCH_PTRACE) that stops each ptrace(2) call at
 * PTRACE_EVENT_SECCOMP; a call that cannot work because we trace (the
 * caller's PTRACE_TRACEME, an ATTACH or SEIZE of one of our tracees) is an
 * event, once per process, and every call is then resumed to run
 * unchanged (and fail as it would).  A clone(2) with CLONE_UNTRACED
 * stops too, and runs without that flag: we follow that thread as every
 * other (LeakSanitizer's tracer thread, whose PTRACE_ATTACH is then seen
 * and fails with EPERM, not with the filter's ENOSYS for an untraced
 * caller).  Other system calls never stop.
 *
 * Each tracee's sp at its first stop (a new thread's: inside the stack
 * clone() gave it, before it ran) is kept, so that at a crash every
 * thread's stack is named whatever its sp is by then
 * (ml_snapshot_mark_stack).
 *
 * Ownership: the struct ml_run is the caller's from ml_run_start() to
 * ml_run_free(); an event's fault, and ml_run_crash's snapshot, backtrace
 * and message, are the caller's until ml_run_crash_free().  No signal
 * handler is installed here, nothing printed: the caller forwards the
 * signals sent to it (ml_run_pid) and stops itself on ML_RUN_STOPPED.
 */
#include "ml-crash.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLONE_UNTRACED_FLAG 0x00800000L   /* <sched.h>'s CLONE_UNTRACED */

enum { TRACE_OPTIONS = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		       PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL };

/* A tracee: its first sp (its stack), and the last fault its own
 * handler took. */
struct tracee {
	pid_t tid;
	bool stopped_once;       /* its first stop was seen */
	uint64_t stack;          /* first sp, 0 unknown */
	struct ml_fault *caught; /* or NULL */
};

struct ml_run {
	pid_t main;
	int err_fd;              /* the child's exec errno, EOF after exec */
	unsigned int flags;      /* ML_RUN_* */
	bool exec_seen;          /* the main program exec'd */
	struct tracee *t;
	size_t n, cap;
	pid_t *reported;         /* processes whose death was an event: once each */
	size_t nreported, capreported;
	pid_t *ptraced;          /* processes whose ptrace(2) was an event: once each */
	size_t nptraced, capptraced;
	pid_t resume;            /* a stop left for the caller: resume it next */
	int resume_sig;          /* with this signal */
};

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };

/* ---- the tracee set ---- */

static struct tracee *tracee_find(struct ml_run *r, pid_t tid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->t[i].tid == tid)
			return &r->t[i];
	return NULL;
}

static struct tracee *tracee_add(struct ml_run *r, pid_t tid)
{
	struct tracee *e = tracee_find(r, tid);

	if (e)
		return e;
	if (ML__RESERVE(r->t, r->cap, r->n + 1) < 0)
		return NULL;   /* only the final detach would miss it */
	r->t[r->n] = (struct tracee){ .tid = tid };
	return &r->t[r->n++];
}

static void tracee_del(struct ml_run *r, pid_t tid)
{
	struct tracee *e = tracee_find(r, tid);

	if (e) {
		free(e->caught);
		*e = r->t[--r->n];
	}
}

/* A tracee stopped: at its first stop, record its sp as its stack. */
static void tracee_stopped(struct ml_run *r, pid_t tid)
{
	struct tracee *e = tracee_add(r, tid);
	struct ml_regs regs;

	if (!e || e->stopped_once)
		return;
	e->stopped_once = true;
	if (ml_regs_get(tid, &regs) == 0)
		e->stack = regs.sp;
}

/* Was pid in the set (v, *n, *cap) already?  If not, it is now. */
static bool once(pid_t **v, size_t *n, size_t *cap, pid_t pid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return true;
	if (ML__RESERVE(*v, *cap, *n + 1) < 0)
		return false;
	(*v)[(*n)++] = pid;
	return false;
}

/* Take pid out of the set (v, *n). */
static void forget(pid_t *v, size_t *n, pid_t pid)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == pid) {
			v[i] = v[--*n];
			return;
		}
}

/* Was the death of process pid an event already (another of its threads
 * faulted at the same time)?  If not, it is now. */
static bool reported_once(struct ml_run *r, pid_t pid)
{
	return once(&r->reported, &r->nreported, &r->capreported, pid);
}

/* Process pid is gone: its pid may come back as another process. */
static void reported_forget(struct ml_run *r, pid_t pid)
{
	forget(r->reported, &r->nreported, pid);
	forget(r->ptraced, &r->nptraced, pid);
}

/* ---- starting the program ---- */

/* Seizing our child failed with e: who traces it already, if /proc says. */
static int seize_failed(pid_t pid, int e, pid_t *ret_tracer)
{
	struct ml_task_status ts;

	if (ret_tracer && e == EPERM && ml_task_status(pid, &ts) == 0 && ts.tracer > 0)
		*ret_tracer = ts.tracer;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -e;
}

/* The child from ml_spawn (held until seized), seized, then released to
 * exec; its exec's errno comes through r->err_fd (spawn.c's pipe). */
static int start(struct ml_run *r, char *const argv[], pid_t *ret_tracer)
{
	struct ml_spawn sp;
	int e;

	bool watch = r->flags & ML_RUN_WATCH_PTRACE;

	if ((e = ml_spawn_start(argv, ML_SPAWN_HOLD | (watch ? ML_SPAWN_WATCH_PTRACE : 0),
				&sp)) < 0)
		return e;
	r->err_fd = sp.err_fd;
	sp.err_fd = -1;
	if (ptrace(PTRACE_SEIZE, sp.pid, NULL, (void *)(long)(TRACE_OPTIONS |
		   (r->flags & ML_RUN_EXIT_STOP ? PTRACE_O_TRACEEXIT : 0) |
		   (watch ? PTRACE_O_TRACESECCOMP : 0))) < 0) {
		e = seize_failed(sp.pid, errno, ret_tracer);
		ml_spawn_close(&sp);
		return e;
	}
	r->main = sp.pid;
	tracee_add(r, sp.pid);
	if ((e = ml_spawn_release(&sp)) < 0) {
		kill(sp.pid, SIGKILL);
		waitpid(sp.pid, NULL, __WALL);
	}
	ml_spawn_close(&sp);
	return e;
}

int ml_run_start(char *const argv[], unsigned int flags, struct ml_run **ret,
		 pid_t *ret_tracer)
{
	struct ml_run *r;
	int e;

	if (!argv || !argv[0] || !ret || (flags & ~(ML_RUN_EXIT_STOP | ML_RUN_WATCH_PTRACE)))
		return -EINVAL;
	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	r->flags = flags;
	r->err_fd = -1;
	if ((e = start(r, argv, ret_tracer)) < 0) {
		ml_run_free(r);
		return e;
	}
	*ret = r;
	return 0;
}

pid_t ml_run_pid(const struct ml_run *r)
{
	return r ? r->main : 0;
}

void ml_run_free(struct ml_run *r)
{
	if (!r)
		return;
	if (r->err_fd >= 0)
		close(r->err_fd);
	for (size_t i = 0; i < r->n; i++)
		free(r->t[i].caught);
	free(r->t);
	free(r->reported);
	free(r->ptraced);
	free(r);
}

/* ---- the faults ---- */

static bool is_crash_signal(int sig)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(crash_signals); i++)
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

/* What the signal-delivery-stop of tid shows: siginfo, registers, the
 * instruction's bytes, the words around sp. */
static void gather(struct ml_fault *f, pid_t tid, pid_t tgid, const siginfo_t *si)
{
	ssize_t n;

	*f = (struct ml_fault){ 0 };
	f->pid = tgid;
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

/* A fault the thread's own handler will take: keep what the stop shows,
 * in case the handler then ends the process (Rust's and Python's do). */
static void record_caught(struct ml_run *r, pid_t tid, pid_t tgid, const siginfo_t *si)
{
	struct tracee *e = tracee_find(r, tid);

	if (!e || si->si_code <= 0 || tgid <= 0)
		return;       /* only faults, not signals sent */
	if (!e->caught && !(e->caught = malloc(sizeof(*e->caught))))
		return;
	gather(e->caught, tid, tgid, si);
}

/* A signal-delivery-stop: a fatal crash signal is an event (true, the
 * stop kept for the caller); else the signal is delivered. */
static bool on_signal(struct ml_run *r, pid_t tid, int sig, struct ml_run_event *ev)
{
	struct ml_task_status ts = { 0 };
	siginfo_t si;

	if (is_crash_signal(sig) && ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0) {
		if (!is_fatal(tid, sig, &ts)) {
			record_caught(r, tid, ts.tgid, &si);
		} else if (!reported_once(r, ts.tgid)) {
			*ev = (struct ml_run_event){ ML_RUN_CRASH, ts.tgid, tid, 0, 0 };
			gather(&ev->fault, tid, ts.tgid, &si);
			r->resume = tid;
			r->resume_sig = sig;
			return true;
		}
	}
	ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig);
	return false;
}

/* ---- the events ---- */

/* The name of process pid (its comm), "" when it cannot be read. */
static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? (size_t)n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Will this ptrace(2) call fail because we trace: the caller's TRACEME
 * (it has a tracer: us), or an ATTACH or SEIZE of one of our tracees? */
static bool ptrace_refused(struct ml_run *r, long req, pid_t target)
{
	if (req == PTRACE_TRACEME)
		return true;
	return (req == PTRACE_ATTACH || req == PTRACE_SEIZE) &&
	       tracee_find(r, target);
}

/* A clone(2) with CLONE_UNTRACED stopped (args[0] its flags): take the
 * flag out of the register that holds it, so that the thread is followed.
 * x86-64 only (the filter asks it nowhere else): rdi for 64-bit and x32,
 * ebx (rbx in our view of a 32-bit tracee's registers) for i386. */
static void clone_traced(pid_t tid, const struct __ptrace_syscall_info *si)
{
#if defined(__x86_64__)
	size_t off = si->arch == AUDIT_ARCH_I386 ? offsetof(struct user_regs_struct, rbx) :
						   offsetof(struct user_regs_struct, rdi);
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, tid, (void *)off, NULL);
	if (errno == 0 && (v & CLONE_UNTRACED_FLAG))
		ptrace(PTRACE_POKEUSER, tid, (void *)off, (void *)(v & ~CLONE_UNTRACED_FLAG));
#else
	(void)tid;
	(void)si;
#endif
}

/* A stop of a filter the program installed itself (SECCOMP_RET_TRACE for
 * its own tracer): the call fails with ENOSYS without running, as the
 * kernel makes it fail under a tracer that did not ask for these stops
 * (or none).  x86-64: a call number of -1 skips the call, whose result
 * is already -ENOSYS; elsewhere the call runs. */
static void seccomp_not_ours(pid_t tid)
{
#if defined(__x86_64__)
	ptrace(PTRACE_POKEUSER, tid, (void *)offsetof(struct user_regs_struct, orig_rax),
	       (void *)-1L);
#else
	(void)tid;
#endif
}

/* A PTRACE_EVENT_SECCOMP stop (our filter: a ptrace(2) or untraced
 * clone(2) call).  True: an event for the caller (the first such call of
 * its process), resumed at the next ml_run_next; else resumed now.
 * Either way the call runs. */
static bool on_seccomp(struct ml_run *r, pid_t tid, struct ml_run_event *ev)
{
	struct __ptrace_syscall_info si;
	struct ml_task_status ts;
	long req;
	pid_t target;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP)
		goto resume;
	if (!ml__seccomp_ours(si.arch, si.seccomp.nr, (uint16_t)si.seccomp.ret_data)) {
		seccomp_not_ours(tid);
		goto resume;
	}
	if (si.seccomp.ret_data == ML__SECCOMP_CLONE_UNTRACED) {
		clone_traced(tid, &si);
		goto resume;
	}
	req = (long)(int)si.seccomp.args[0];   /* an int in every ABI */
	target = (pid_t)si.seccomp.args[1];
	if (!ptrace_refused(r, req, target) || ml_task_status(tid, &ts) < 0 ||
	    once(&r->ptraced, &r->nptraced, &r->capptraced, ts.tgid))
		goto resume;
	*ev = (struct ml_run_event){ ML_RUN_PTRACE, ts.tgid, tid, 0, 0 };
	ev->ptrace_request = req;
	ev->ptrace_target = req == PTRACE_TRACEME ? 0 : target;
	read_comm(ts.tgid, ev->comm, sizeof(ev->comm));
	r->resume = tid;
	r->resume_sig = 0;
	return true;
resume:
	ptrace(PTRACE_CONT, tid, NULL, NULL);
	return false;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* An event stop: new tracees, exec, exit, group-stop.  True: an event
 * for the caller (ev filled). */
static bool on_event(struct ml_run *r, pid_t tid, int sig, int evt, struct ml_run_event *ev)
{
	unsigned long msg = 0;
	struct tracee *e;

	if (evt == PTRACE_EVENT_STOP && is_stop_signal(sig)) {
		ptrace(PTRACE_LISTEN, tid, NULL, NULL);
		if (tid != r->main)
			return false;
		*ev = (struct ml_run_event){ ML_RUN_STOPPED, tid, tid, 0, 0 };
		return true;     /* job control: the caller stops with it */
	}
	if (evt == PTRACE_EVENT_SECCOMP)
		return on_seccomp(r, tid, ev);
	if (evt == PTRACE_EVENT_FORK || evt == PTRACE_EVENT_VFORK || evt == PTRACE_EVENT_CLONE) {
		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0)
			tracee_add(r, (pid_t)msg);
	} else if (evt == PTRACE_EVENT_EXIT && (r->flags & ML_RUN_EXIT_STOP)) {
		*ev = (struct ml_run_event){ ML_RUN_EXITING, tid, tid, 0, 0 };
		r->resume = tid;
		r->resume_sig = 0;
		return true;
	} else if (evt == PTRACE_EVENT_EXEC) {
		r->exec_seen |= tid == r->main;
		/* A thread that exec'd took the leader's pid: the old tid is gone. */
		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0 && (pid_t)msg != tid)
			tracee_del(r, (pid_t)msg);
		if ((e = tracee_find(r, tid))) {
			e->stack = 0;    /* a new program, a new stack */
			free(e->caught);
			e->caught = NULL;
		}
	}
	ptrace(PTRACE_CONT, tid, NULL, NULL);
	return false;
}

/* After the program ended: let go of what it left running. */
static void detach_all(struct ml_run *r)
{
	int st;

	for (size_t i = 0; i < r->n; i++)
		ptrace(PTRACE_INTERRUPT, r->t[i].tid, NULL, NULL);
	while (r->n) {
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFSTOPPED(st)) {
			int evt = st >> 16, sig = WSTOPSIG(st);
			/* Hand back a pending signal; a stop event carries none. */
			ptrace(PTRACE_DETACH, w, NULL,
			       (void *)(long)(evt || sig == SIGTRAP ? 0 : sig));
		}
		tracee_del(r, w);
	}
}

/* The main program ended with wait status st. */
static void ended(struct ml_run *r, int st, struct ml_run_event *ev)
{
	int e = 0;

	*ev = (struct ml_run_event){ ML_RUN_EXITED, r->main, r->main, st, 0 };
	if (!r->exec_seen && read(r->err_fd, &e, sizeof(e)) == (ssize_t)sizeof(e))
		ev->exec_errno = e;
	detach_all(r);
}

int ml_run_next(struct ml_run *r, struct ml_run_event *ret)
{
	struct ml_run_event ev;
	int st;

	if (!r || !ret)
		return -EINVAL;
	if (r->resume) {
		ptrace(PTRACE_CONT, r->resume, NULL, (void *)(long)r->resume_sig);
		r->resume = 0;
	}
	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!WIFSTOPPED(st)) {
			tracee_del(r, w);
			reported_forget(r, w);
			if (w != r->main)
				continue;
			ended(r, st, ret);
			return 0;
		}
		tracee_stopped(r, w);
		if ((st >> 16) ? on_event(r, w, WSTOPSIG(st), st >> 16, &ev) :
				 on_signal(r, w, WSTOPSIG(st), &ev)) {
			*ret = ev;
			return 0;
		}
	}
}

/* ---- a crash's facts ---- */

/* Name every known thread stack of process pid in snap from the sp its
 * thread started with, whatever its sp is now. */
static void mark_stacks(const struct ml_run *r, struct ml_snapshot *snap, pid_t pid)
{
	char path[64];

	for (size_t i = 0; i < r->n; i++) {
		const struct tracee *e = &r->t[i];
		if (!e->stack || e->tid == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)e->tid);
		if (access(path, F_OK) == 0)
			ml_snapshot_mark_stack(snap, e->tid, e->stack);
	}
}

/* The fault its own handler caught, when the thread dies of a signal
 * while that handler still runs: the backtrace at the death passes
 * through the signal frame to the frame at the fault's pc (the frames of
 * the handler are dropped).  Else NULL: the death is the fault. */
static const struct ml_fault *caught_fault(struct ml_run *r, pid_t tid, int sig,
					   struct ml_backtrace *bt)
{
	const struct tracee *e = tracee_find(r, tid);

	if (!e || !e->caught || !bt || !e->caught->have_regs)
		return NULL;
	if (ml_backtrace_from(bt, e->caught->regs.pc) < 0)
		return NULL;
	e->caught->then_signo = sig;
	return e->caught;
}

int ml_run_crash(struct ml_run *r, const struct ml_run_event *ev, size_t max_frames,
		 struct ml_run_crash *ret)
{
	struct ml_snap_opts so = { NULL, 0 };
	struct ml_run_crash c = { 0 };
	const struct ml_fault *caught;
	int e;

	if (!r || !ev || !ret || ev->kind != ML_RUN_CRASH)
		return -EINVAL;
	if ((e = ml_snapshot_take(ev->pid, &so, &c.snap)) < 0)
		return e;
	mark_stacks(r, c.snap, ev->pid);
	c.fault = ev->fault;
	c.bt_error = ml_backtrace_take(ev->pid, ev->tid, max_frames, &c.bt);
	if (c.bt_error > 0)
		c.bt_error = 0;
	if ((caught = caught_fault(r, ev->tid, ev->fault.signo, c.bt)))
		c.fault = *caught;
	else if (c.fault.signo == SIGABRT &&
		 ml_abort_message(ev->pid, ml_snapshot_proc(c.snap)->is_32bit, &c.abort_msg) == 0)
		c.fault.abort_msg = c.abort_msg;
	c.fault.bt = c.bt;
	*ret = c;
	return 0;
}

void ml_run_crash_free(struct ml_run_crash *c)
{
	if (!c)
		return;
	ml_backtrace_free(c->bt);
	free(c->abort_msg);
	ml_snapshot_free(c->snap);
	*c = (struct ml_run_crash){ 0 };
}
