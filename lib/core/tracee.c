/* SPDX-License-Identifier: MIT */
/*
 * tracee.c - read a thread that is stopped under ptrace by us: its
 * registers (NT_PRSTATUS), its process's memory, and what /proc/TID/status
 * says of its thread group and signal dispositions.
 *
 * Registers come in the tracee's own view: the kernel gives a 32-bit
 * (ia32, aarch32) tracee the 32-bit layout, told apart here by its size.
 * The raw bytes are kept so insn.c can read any register; pc and sp are
 * pulled out through the layout table.
 */
#include "ml-core.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

/* Where pc and sp sit in one NT_PRSTATUS layout of a given size. */
struct layout {
	size_t size;
	size_t pc_off, sp_off;
	size_t width;
	bool is_32bit;
};

#if defined(__x86_64__)
/* i386 user_regs_struct: 17 32-bit words, eip #12, esp #15. */
static const struct layout layouts[] = {
	{ sizeof(struct user_regs_struct), offsetof(struct user_regs_struct, rip),
	  offsetof(struct user_regs_struct, rsp), 8, false },
	{ 17 * 4, 12 * 4, 15 * 4, 4, true },
};
#elif defined(__aarch64__)
static const struct layout layouts[] = {
	{ sizeof(struct user_regs_struct), offsetof(struct user_regs_struct, pc),
	  offsetof(struct user_regs_struct, sp), 8, false },
	{ 18 * 4, 15 * 4, 13 * 4, 4, true },
};
#else
#error "tracee.c: no register layout for this architecture"
#endif

static uint64_t word(const unsigned char *p, size_t width)
{
	uint64_t v = 0;

	memcpy(&v, p, width);   /* little-endian */
	return v;
}

int ml__regs_decode(const void *raw, size_t len, struct ml_regs *ret)
{
	struct ml_regs r = { 0 };

	if (len > sizeof(r.raw))
		return -EBADMSG;
	for (size_t i = 0; i < ML_ARRAY_SIZE(layouts); i++) {
		const struct layout *l = &layouts[i];
		if (len != l->size)
			continue;
		memcpy(r.raw, raw, len);
		r.len = len;
		r.is_32bit = l->is_32bit;
		r.pc = word(r.raw + l->pc_off, l->width);
		r.sp = word(r.raw + l->sp_off, l->width);
		*ret = r;
		return 0;
	}
	return -EBADMSG;
}

int ml_regs_get(pid_t tid, struct ml_regs *ret)
{
	unsigned char raw[sizeof(ret->raw)];
	struct iovec iov = { .iov_base = raw, .iov_len = sizeof(raw) };

	if (tid <= 0 || !ret)
		return -EINVAL;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
		return -errno;
	return ml__regs_decode(raw, iov.iov_len, ret);
}

ssize_t ml_tracee_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (pid <= 0 || !buf)
		return -EINVAL;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	return n < 0 ? -errno : n;
}

/* "Name:\tvalue" fields of status we want, parsed by strtoull in base. */
static const struct {
	const char *name;
	int base;
	size_t off;
} fields[] = {
	{ "SigBlk:", 16, offsetof(struct ml_task_status, sig_blocked) },
	{ "SigIgn:", 16, offsetof(struct ml_task_status, sig_ignored) },
	{ "SigCgt:", 16, offsetof(struct ml_task_status, sig_caught) },
};

int ml_task_status(pid_t tid, struct ml_task_status *ret)
{
	struct ml_task_status st = { 0 };
	char path[64], *buf, *line;
	int r, found = 0;

	if (tid <= 0 || !ret)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	r = ml__read_file(path, &buf, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	for (line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (!strncmp(line, "Tgid:", 5)) {
			st.tgid = (pid_t)strtol(line + 5, NULL, 10);
			found++;
		}
		if (!strncmp(line, "TracerPid:", 10))
			st.tracer = (pid_t)strtol(line + 10, NULL, 10);
		for (size_t i = 0; i < ML_ARRAY_SIZE(fields); i++) {
			size_t n = strlen(fields[i].name);
			if (strncmp(line, fields[i].name, n))
				continue;
			*(uint64_t *)((char *)&st + fields[i].off) =
				strtoull(line + n, NULL, fields[i].base);
			found++;
		}
	}
	free(buf);
	if (found != 1 + (int)ML_ARRAY_SIZE(fields) || st.tgid <= 0)
		return -EBADMSG;
	*ret = st;
	return 0;
}
