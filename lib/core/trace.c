/* SPDX-License-Identifier: MIT */
/*
 * trace.c - run a command under ptrace and stop it where a snapshot is
 * worth taking: at the exit of its main thread (PTRACE_EVENT_EXIT, the
 * address space is still whole) or at its entry point (after the dynamic
 * loader, before main and its constructors' successors run).
 *
 * Protocol: ml_spawn_start (spawn.c) with ML_SPAWN_TRACEME: the child does
 * PTRACE_TRACEME, raise(SIGSTOP), execvp, and an exec failure comes back
 * as its errno (-ENOENT for a command not found).  The parent sets PTRACE_O_TRACEEXEC |
 * TRACEEXIT | EXITKILL and resumes the child until the exec event, then
 * until the chosen stop.  Signals the child receives on the way are handed
 * to it unchanged (signal-delivery-stops); group-stops are resumed, since a
 * TRACEME tracee cannot stay stopped without hanging us.
 *
 * The entry stop plants a breakpoint at AT_ENTRY (read from
 * /proc/PID/auxv), waits for its SIGTRAP, restores the word and moves pc
 * back.  The tracee's word size (auxv layout, register layout) comes from
 * the size of its NT_PRSTATUS register set, which the kernel gives in the
 * tracee's own view (i386 layout for a 32-bit process).
 *
 * Ownership: struct ml_traced is the caller's from ml_trace_start() until
 * ml_trace_finish(), which reaps the child and frees it.  Only the main
 * thread is traced (no PTRACE_O_TRACECLONE).
 */
#include "ml-core.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct ml_traced {
	pid_t pid;
	bool gone;                /* reaped: pid is no longer ours */
};

/* One NT_PRSTATUS layout (told apart by size) and the breakpoint for
 * code of that word size.  pc_after_trap: how far pc has moved past the
 * breakpoint when the SIGTRAP is reported. */
struct arch_layout {
	size_t size;
	size_t pc_off;
	size_t width;             /* 4 or 8: registers and auxv entries */
	uint64_t bp_insn, bp_mask;
	uint64_t pc_after_trap;
};

#if defined(__x86_64__)
/* i386 user_regs_struct: 17 32-bit words, eip is #12.  int3 = 0xCC. */
static const struct arch_layout arch_layouts[] = {
	{ sizeof(struct user_regs_struct),
	  offsetof(struct user_regs_struct, rip), 8, 0xcc, 0xff, 1 },
	{ 17 * 4, 12 * 4, 4, 0xcc, 0xff, 1 },
};
#elif defined(__aarch64__)
/* BRK #0; an aarch32 tracee (pc = r15) gets the ARM-mode UDF breakpoint. */
static const struct arch_layout arch_layouts[] = {
	{ sizeof(struct user_regs_struct),
	  offsetof(struct user_regs_struct, pc), 8,
	  0xd4200000, 0xffffffff, 0 },
	{ 18 * 4, 15 * 4, 4, 0xe7f001f0, 0xffffffff, 0 },
};
#else
#error "trace.c: no register layout or breakpoint for this architecture"
#endif

/* A register set of the tracee and the layout it came in. */
struct regs {
	union {
		struct user_regs_struct native;
		unsigned char bytes[sizeof(struct user_regs_struct) + 64];
	} buf;
	const struct arch_layout *layout;
};

/* What run_to() runs until: a ptrace event, or a breakpoint trap at pc. */
struct goal {
	int event;                /* PTRACE_EVENT_*, 0 for none */
	uint64_t trap_pc;         /* 0 for none */
	const struct arch_layout *layout;
};

enum { TRACE_OPTIONS = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
		       PTRACE_O_EXITKILL };

static int regs_get(pid_t pid, struct regs *r)
{
	struct iovec iov = { .iov_base = &r->buf, .iov_len = sizeof(r->buf) };
	size_t i;

	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
		return -errno;
	for (i = 0; i < ML_ARRAY_SIZE(arch_layouts); i++) {
		if (iov.iov_len == arch_layouts[i].size) {
			r->layout = &arch_layouts[i];
			return 0;
		}
	}
	return -EBADMSG;
}

static int regs_put(pid_t pid, struct regs *r)
{
	struct iovec iov = { .iov_base = &r->buf, .iov_len = r->layout->size };

	if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
		return -errno;
	return 0;
}

/* Little-endian word of 4 or 8 bytes. */
static uint64_t word_get(const unsigned char *p, size_t width)
{
	uint64_t v = 0;

	memcpy(&v, p, width);
	return v;
}

static uint64_t regs_pc(const struct regs *r)
{
	return word_get(r->buf.bytes + r->layout->pc_off, r->layout->width);
}

static void regs_set_pc(struct regs *r, uint64_t pc)
{
	memcpy(r->buf.bytes + r->layout->pc_off, &pc, r->layout->width);
}

/* Wait for the next stop of t.  0 with the status in *st; -ECHILD with
 * the final status in *st if it ended (t->gone is then set); -errno. */
static int wait_stop(struct ml_traced *t, int *st)
{
	while (waitpid(t->pid, st, __WALL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFSTOPPED(*st))
		return 0;
	t->gone = true;
	return -ECHILD;
}

/* Resume t with sig (0 = none) and wait for its next stop.  ESRCH from
 * PTRACE_CONT means it is dying: its end is then in the wait. */
static int resume_wait(struct ml_traced *t, int sig, int *st)
{
	if (ptrace(PTRACE_CONT, t->pid, NULL, (void *)(long)sig) < 0 &&
	    errno != ESRCH)
		return -errno;
	return wait_stop(t, st);
}

/* The signal to deliver when resuming from stop st: the pending signal of
 * a signal-delivery-stop, 0 for event stops and group-stops (for which
 * PTRACE_GETSIGINFO fails). */
static int signal_to_forward(pid_t pid, int st)
{
	siginfo_t si;

	if ((st >> 16) != 0)
		return 0;
	if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0)
		return 0;
	return WSTOPSIG(st);
}

static bool reached(pid_t pid, const struct goal *g, int st)
{
	struct regs r;

	if (g->event && (st >> 16) == g->event)
		return true;
	if (!g->trap_pc || (st >> 8) != SIGTRAP)
		return false;
	if (regs_get(pid, &r) < 0)
		return false;
	return regs_pc(&r) - g->layout->pc_after_trap == g->trap_pc;
}

/* Resume t until the goal's stop, forwarding signals on the way. */
static int run_to(struct ml_traced *t, const struct goal *g, int *st)
{
	int sig = 0, r;

	for (;;) {
		r = resume_wait(t, sig, st);
		if (r < 0 || reached(t->pid, g, *st))
			return r;
		sig = signal_to_forward(t->pid, *st);
	}
}

/* The child ended before its exec event: the errno it sent, if any. */
static int exec_error(const struct ml_spawn *sp)
{
	int r = ml_spawn_exec_error(sp);

	return r < 0 ? r : -ECHILD;
}

/* From fork to the exec event. */
static int run_to_exec(struct ml_traced *t, const struct ml_spawn *sp, int *st)
{
	static const struct goal exec_goal = { .event = PTRACE_EVENT_EXEC };
	int r;

	r = wait_stop(t, st);                /* the child's SIGSTOP */
	if (r == 0 && ptrace(PTRACE_SETOPTIONS, t->pid, NULL,
			     (void *)(long)TRACE_OPTIONS) < 0)
		r = -errno;
	if (r == 0)
		r = run_to(t, &exec_goal, st);
	if (r == -ECHILD)
		r = exec_error(sp);
	return r;
}

static int stop_at_exit(struct ml_traced *t, int *st)
{
	static const struct goal exit_goal = { .event = PTRACE_EVENT_EXIT };

	return run_to(t, &exit_goal, st);
}

/* AT_ENTRY from the auxv of pid, entries of width bytes per field. */
static int read_entry(pid_t pid, size_t width, uint64_t *ret_entry)
{
	char path[64], *buf;
	size_t len, i;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	r = ml__read_file(path, &buf, &len);
	if (r < 0)
		return r;
	r = -EBADMSG;
	for (i = 0; i + 2 * width <= len; i += 2 * width) {
		uint64_t type = word_get((unsigned char *)buf + i, width);

		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY) {
			*ret_entry = word_get((unsigned char *)buf + i + width,
					      width);
			r = 0;
			break;
		}
	}
	free(buf);
	return r;
}

/* Breakpoint at entry, run to it, undo it, pc back on entry. */
static int stop_at_entry(struct ml_traced *t, int *st)
{
	struct regs regs;
	struct goal g = { 0 };
	long orig, bp;
	int r;

	r = regs_get(t->pid, &regs);
	if (r == 0)
		r = read_entry(t->pid, regs.layout->width, &g.trap_pc);
	if (r < 0)
		return r;
	g.layout = regs.layout;
	errno = 0;
	orig = ptrace(PTRACE_PEEKDATA, t->pid, (void *)g.trap_pc, NULL);
	if (errno)
		return -errno;
	bp = (long)(((uint64_t)orig & ~g.layout->bp_mask) | g.layout->bp_insn);
	if (ptrace(PTRACE_POKEDATA, t->pid, (void *)g.trap_pc, (void *)bp) < 0)
		return -errno;
	r = run_to(t, &g, st);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_POKEDATA, t->pid, (void *)g.trap_pc, (void *)orig) < 0)
		return -errno;
	r = regs_get(t->pid, &regs);
	if (r < 0)
		return r;
	regs_set_pc(&regs, g.trap_pc);
	return regs_put(t->pid, &regs);
}

static int (*const stop_fns[])(struct ml_traced *t, int *st) = {
	[ML_STOP_AT_EXIT]  = stop_at_exit,
	[ML_STOP_AT_START] = stop_at_entry,
};

/* Kill (or detach from) t's child and wait for its end; its status. */
static int reap(struct ml_traced *t, bool kill_it)
{
	int st;

	if (t->gone)
		return -ECHILD;
	if (kill_it) {
		kill(t->pid, SIGKILL);
		/* A child held at PTRACE_EVENT_EXIT is not woken by SIGKILL on
		 * every kernel (6.18 keeps it stopped, and waitpid would wait
		 * for ever): let it go on out. */
		ptrace(PTRACE_CONT, t->pid, NULL, NULL);
	} else
		ptrace(PTRACE_DETACH, t->pid, NULL, NULL);
	for (;;) {
		if (waitpid(t->pid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!WIFSTOPPED(st))
			break;
		ptrace(PTRACE_CONT, t->pid, NULL, NULL);   /* on its way out */
	}
	t->gone = true;
	return st;
}

int ml_trace_start(char *const argv[], enum ml_stop_at at,
		   struct ml_traced **ret, int *ret_status)
{
	struct ml_traced *t;
	struct ml_spawn sp;
	int st = 0, r;

	if (!argv || !argv[0] || !ret || (size_t)at >= ML_ARRAY_SIZE(stop_fns))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = ml_spawn_start(argv, ML_SPAWN_TRACEME, &sp);
	if (r < 0) {
		free(t);
		return r;
	}
	t->pid = sp.pid;
	r = run_to_exec(t, &sp, &st);
	ml_spawn_close(&sp);
	if (r == 0)
		r = stop_fns[at](t, &st);
	if (r < 0) {
		if (r == -ECHILD && ret_status)
			*ret_status = st;
		reap(t, true);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

pid_t ml_traced_pid(const struct ml_traced *t)
{
	return t ? t->pid : 0;
}

int ml_trace_finish(struct ml_traced *t, bool kill)
{
	int r;

	if (!t)
		return -EINVAL;
	r = reap(t, kill);
	free(t);
	return r;
}
