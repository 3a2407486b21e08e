/* SPDX-License-Identifier: MIT */
/*
 * ptrace.c - read the stack pointer and program counter of one thread of
 * another process by interrupting it for a moment.
 *
 * Sequence: PTRACE_SEIZE (no stop yet), PTRACE_INTERRUPT, wait for the
 * resulting stop, PTRACE_GETREGSET(NT_PRSTATUS), PTRACE_DETACH.  Every path
 * after a successful seize detaches, so the thread is never left stopped by
 * us (a thread that was already in group-stop stays in it, as it was).  A
 * signal-delivery-stop that wins the race with the interrupt is fine too:
 * the registers are read there and the signal is handed back on detach.
 *
 * The registers are read by tracee.c's ml_regs_get, which knows the
 * layouts (a 32-bit tracee of a 64-bit tracer gets the i386 one).
 */
#include "ml-core.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

/* Wait for the stop caused by PTRACE_INTERRUPT (or anything else that
 * stops the thread first).  Returns the signal to hand back on detach
 * (>= 0) or -errno; -ESRCH if the thread ended. */
static int wait_stop(pid_t tid)
{
	int st, sig;

	for (;;) {
		if (waitpid(tid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!WIFSTOPPED(st))
			return -ESRCH;
		sig = WSTOPSIG(st);
		/* Event and group stops carry no signal to forward; a
		 * signal-delivery-stop does. */
		if ((st >> 16) != 0)
			return 0;
		return sig;
	}
}

int ml__ptrace_regs(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc)
{
	struct ml_regs regs;
	int sig, r;

	if (tid <= 0 || !ret_sp || !ret_pc)
		return -EINVAL;
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		r = -errno;
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return r;
	}
	sig = wait_stop(tid);
	if (sig < 0) {
		ptrace(PTRACE_DETACH, tid, NULL, NULL);   /* ESRCH if gone */
		return sig;
	}
	r = ml_regs_get(tid, &regs);
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
	if (r < 0)
		return r;
	*ret_sp = regs.sp;
	*ret_pc = regs.pc;
	return 0;
}
