/* SPDX-License-Identifier: MIT */
/* no-guard-markers.c: no-guard-markers PROG [ARGS]: run PROG as on a
 * kernel before Linux 6.13, where madvise(MADV_GUARD_INSTALL/REMOVE)
 * fails with EINVAL: a seccomp filter answers those two advices so, every
 * other system call runs.  For test_sample.py: sampled mode's pool must
 * fall back to mprotect.  Exits 77 where seccomp filters are refused. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
#if !defined(__x86_64__)
	printf("the filter is written for x86-64\n");
	return 77;
#endif
	if (argc < 2) {
		fprintf(stderr, "usage: no-guard-markers PROG [ARGS]\n");
		return 2;
	}
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 102, 1, 0),   /* MADV_GUARD_INSTALL */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 103, 0, 1),   /* MADV_GUARD_REMOVE */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		printf("seccomp filter refused: %s\n", strerror(errno));
		return 77;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-guard-markers: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
