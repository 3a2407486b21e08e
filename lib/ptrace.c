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
 * The register layout depends on the tracee's view, which the kernel picks
 * per task: a 32-bit (ia32) tracee of a 64-bit tracer gets the i386 layout.
 * The regs_layouts table maps the size the kernel returned to the offsets
 * of sp and pc.
 */
#include "ml-private.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

/* Where sp and pc sit in one NT_PRSTATUS layout of a given size. */
struct regs_layout {
	size_t size;
	size_t sp_off, pc_off;
	size_t width;             /* 4 or 8 bytes */
};

#if defined(__x86_64__)
/* i386 struct user_regs_struct: 17 32-bit words, eip #12, esp #15. */
static const struct regs_layout regs_layouts[] = {
	{ sizeof(struct user_regs_struct),
	  offsetof(struct user_regs_struct, rsp),
	  offsetof(struct user_regs_struct, rip), 8 },
	{ 17 * 4, 15 * 4, 12 * 4, 4 },
};
#elif defined(__aarch64__)
/* struct user_pt_regs; an aarch32 tracee has r13 = sp, r15 = pc. */
static const struct regs_layout regs_layouts[] = {
	{ sizeof(struct user_regs_struct),
	  offsetof(struct user_regs_struct, sp),
	  offsetof(struct user_regs_struct, pc), 8 },
	{ 18 * 4, 13 * 4, 15 * 4, 4 },
};
#else
#error "ptrace.c: no register layout for this architecture"
#endif

/* Room for the largest layout. */
union regs_buf {
	struct user_regs_struct native;
	unsigned char bytes[sizeof(struct user_regs_struct) + 64];
};

static uint64_t read_word(const unsigned char *p, size_t width)
{
	uint32_t w32;
	uint64_t w64;

	if (width == 4) {
		memcpy(&w32, p, sizeof(w32));
		return w32;
	}
	memcpy(&w64, p, sizeof(w64));
	return w64;
}

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

/* Read sp and pc of a stopped tracee. */
static int get_sp_pc(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc)
{
	union regs_buf regs;
	struct iovec iov = { .iov_base = &regs, .iov_len = sizeof(regs) };
	size_t i;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
		return -errno;
	for (i = 0; i < ML_ARRAY_SIZE(regs_layouts); i++) {
		const struct regs_layout *l = &regs_layouts[i];

		if (iov.iov_len != l->size)
			continue;
		*ret_sp = read_word(regs.bytes + l->sp_off, l->width);
		*ret_pc = read_word(regs.bytes + l->pc_off, l->width);
		return 0;
	}
	return -EBADMSG;
}

int ml__ptrace_regs(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc)
{
	uint64_t sp = 0, pc = 0;
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
	r = get_sp_pc(tid, &sp, &pc);
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
	if (r < 0)
		return r;
	*ret_sp = sp;
	*ret_pc = pc;
	return 0;
}
