/* SPDX-License-Identifier: MIT */
/*
 * procfs.c - readers of the small per-process files: stat, status, limits,
 * auxv, task/TID/syscall, exe, and the system files mmap_min_addr and
 * cpuinfo (for the paging depth).  Each parser takes the file's text and
 * fills part of the model; ml__read_proc_facts() and ml__read_threads()
 * tie them to a proc tree (/proc or a saved --proc-root copy).
 */
#include "ml-core.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PF_EXITING_FLAG 0x00000004u
#define PF_KTHREAD_FLAG 0x00200000u

int ml__path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ml__read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	for (;;) {
		if (!buf) {
			close(fd);
			return -ENOMEM;
		}
		if (cap - len < 2 && (cap > (64u << 20) || ML__RESERVE(buf, cap, len + 2) < 0)) {
			free(buf);
			close(fd);
			return -ENOMEM;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* Field n (1-based, as in proc(5)) of a stat line, after the comm. */
static int stat_fields(const char *buf, const char *fields[], size_t nfields)
{
	const char *rp = strrchr(buf, ')');
	size_t i = 3;

	if (!rp || rp[1] != ' ')
		return -EBADMSG;
	const char *p = rp + 2;
	while (*p && i < nfields) {
		fields[i++] = p;
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	return (int)i;
}

int ml__parse_stat(const char *buf, struct ml_proc *proc)
{
	const char *f[60] = { 0 };
	int n = stat_fields(buf, f, ML_ARRAY_SIZE(f));
	const char *lp = strchr(buf, '(');
	const char *rp = strrchr(buf, ')');

	if (n < 30 || !lp || rp < lp)
		return -EBADMSG;
	size_t clen = (size_t)(rp - lp - 1);
	if (clen >= sizeof(proc->comm))
		clen = sizeof(proc->comm) - 1;
	memcpy(proc->comm, lp + 1, clen);
	proc->comm[clen] = '\0';
	proc->minflt = strtoull(f[10], NULL, 10);
	proc->majflt = strtoull(f[12], NULL, 10);
	proc->start_stack = strtoull(f[28], NULL, 10);
	proc->start_time = strtoull(f[22], NULL, 10);
	if (n > 47)
		proc->start_brk = strtoull(f[47], NULL, 10);
	if (n > 50) {
		proc->arg_start = strtoull(f[48], NULL, 10);
		proc->env_start = strtoull(f[50], NULL, 10);
	}
	/* Exiting: its address space is being torn down, and maps read now
	 * may have stopped short (at SIGKILL the kernel sets PF_EXITING before
	 * it unmaps anything; the task is a zombie only after). */
	unsigned long flags = strtoul(f[9], NULL, 10);
	if (flags & PF_EXITING_FLAG)
		return -ESRCH;
	return (flags & PF_KTHREAD_FLAG) ? 1 : 0;
}

int ml__parse_status(const char *buf, struct ml_proc *proc)
{
	const char *p = strstr(buf, "\nThreads:");

	if (p)
		proc->nthreads = strtoul(p + 9, NULL, 10);
	return 0;
}

int ml__parse_limits(const char *buf, uint64_t *ret_stack_soft)
{
	const char *p = strstr(buf, "\nMax stack size");

	if (!p)
		return -EBADMSG;
	p += 15;
	while (*p == ' ')
		p++;
	if (strncmp(p, "unlimited", 9) == 0) {
		*ret_stack_soft = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (end == p || errno)
		return -EBADMSG;
	*ret_stack_soft = v;
	return 0;
}

/* auxv entries are two words of the target's width: 16 bytes for a 64-bit
 * process, 8 for a 32-bit one.  Read as 64-bit, a 32-bit auxv's first type
 * has the first value in its high half, so it is not a small number. */
int ml__parse_auxv(const void *buf, size_t len, struct ml_proc *proc)
{
	const unsigned char *b = buf;
	uint64_t first = 0;
	bool wide;

	if (len < 8)
		return -EBADMSG;
	memcpy(&first, b, len >= 8 ? 8 : len);
	wide = len >= 16 && first < 64;
	size_t w = wide ? 8 : 4;
	for (size_t i = 0; i + 2 * w <= len; i += 2 * w) {
		uint64_t type = 0, val = 0;
		memcpy(&type, b + i, w);
		memcpy(&val, b + i + w, w);
		if (type == AT_NULL)
			break;
		if (type == AT_ENTRY)
			proc->entry = val;
		else if (type == AT_SYSINFO_EHDR)
			proc->vdso = val;
		else if (type == AT_PAGESZ)
			proc->page_size = val;
	}
	return wide ? 64 : 32;
}

int ml__parse_syscall(const char *buf, struct ml_thread *t)
{
	const char *p = buf;
	char *end;

	if (strncmp(buf, "running", 7) == 0) {
		t->syscall_nr = -2;
		t->sp_known = false;
		return 0;
	}
	long nr = strtol(p, &end, 10);
	if (end == p)
		return -EBADMSG;
	/* "-1 sp pc" or "nr a1 a2 a3 a4 a5 a6 sp pc": sp and pc are last. */
	uint64_t w[9];
	int n = 0;
	p = end;
	while (n < 9) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		w[n++] = strtoull(p, &end, 0);
		if (end == p)
			return -EBADMSG;
		p = end;
	}
	if (n < 2)
		return -EBADMSG;
	t->syscall_nr = nr;
	t->sp = w[n - 2];
	t->pc = w[n - 1];
	t->sp_known = true;
	return 0;
}

static int read_at(const char *dir, const char *name, char **ret_buf,
		   size_t *ret_len)
{
	char path[PATH_MAX];

	if (ml__path(path, sizeof(path), dir, name) < 0)
		return -ENAMETOOLONG;
	return ml__read_file(path, ret_buf, ret_len);
}

/* A file that may be missing or unreadable (a saved tree without it, a
 * kernel that hides it): 1 read, 0 not there, or -ENOMEM, which is never
 * taken for "not there". */
static int read_opt(const char *dir, const char *name, char **ret_buf, size_t *ret_len)
{
	int r = read_at(dir, name, ret_buf, ret_len);

	return r == 0 ? 1 : r == -ENOMEM ? r : 0;
}

/* The ELF class of the executable: 32, 64, or 0 if unknown. */
static int exe_class(const struct ml_snapshot *snap)
{
	char path[PATH_MAX];
	unsigned char ident[EI_NIDENT];
	int fd, cls = 0;

	if (ml__path(path, sizeof(path), snap->proc_dir, "exe") < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, ident, sizeof(ident)) == (ssize_t)sizeof(ident) &&
	    memcmp(ident, ELFMAG, SELFMAG) == 0)
		cls = ident[EI_CLASS] == ELFCLASS32 ? 32 :
		      ident[EI_CLASS] == ELFCLASS64 ? 64 : 0;
	close(fd);
	return cls;
}

/* Geometry of the user/kernel split, by architecture and paging depth. */
struct geometry {
	unsigned int levels;
	uint64_t user_top, kernel_start;
};

/* A compat (32-bit) task on a 64-bit kernel runs in the compatibility
 * sub-mode of long mode (x86-64) or at AArch32 EL0 (arm64): its addresses
 * are still translated by the kernel's 4- or 5-level tables, the same as
 * any task's (2-level and PAE paging belong to 32-bit kernels), with the
 * upper indices 0.  Only its user space differs: all but the top pages of
 * the low 4 GiB. */
static int geometry_of(const struct ml_snapshot *snap, bool is32, struct geometry *ret)
{
	struct geometry g;
#if defined(__aarch64__)
	(void)snap;
	g = (struct geometry){ 4, 1ull << 48, 0xffff000000000000ull };
#else
	char *cpu = NULL;
	bool la57 = false;
	int r = read_opt(snap->proc_root, "cpuinfo", &cpu, NULL);
	if (r < 0)
		return r;
	if (r) {
		la57 = strstr(cpu, " la57") != NULL;
		free(cpu);
	}
	g = la57 ? (struct geometry){ 5, (1ull << 56) - 4096, 0xff00000000000000ull }
		 : (struct geometry){ 4, (1ull << 47) - 4096, 0xffff800000000000ull };
#endif
	if (is32) {
		g.user_top = 0xffffe000ull;
		g.kernel_start = 0x100000000ull;
	}
	*ret = g;
	return 0;
}

static int read_exe(struct ml_snapshot *snap)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if (ml__path(path, sizeof(path), snap->proc_dir, "exe") < 0)
		return 0;
	n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		if (!(snap->proc.exe = ml__strdup(snap, target)))
			return -ENOMEM;
	}
	return 0;
}

int ml__read_host_facts(struct ml_snapshot *snap, bool is_32bit)
{
	struct ml_proc *proc = &snap->proc;
	struct geometry g;
	char *buf = NULL;
	int r;

	if (!proc->page_size)
		proc->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	if ((r = read_opt(snap->proc_root, "sys/vm/mmap_min_addr", &buf, NULL)) < 0)
		return r;
	if (r) {
		proc->mmap_min_addr = strtoull(buf, NULL, 10);
		free(buf);
	}
	if ((r = geometry_of(snap, is_32bit, &g)) < 0)
		return r;
	proc->paging_levels = g.levels;
	proc->user_top = g.user_top;
	proc->kernel_start = g.kernel_start;
	return 0;
}

int ml__read_proc_facts(struct ml_snapshot *snap)
{
	struct ml_proc *proc = &snap->proc;
	char *buf = NULL;
	size_t len;
	int cls, r;

	if ((r = read_opt(snap->proc_dir, "status", &buf, NULL)) < 0)
		return r;
	if (r) {
		ml__parse_status(buf, proc);
		free(buf);
	}
	proc->stack_rlimit = 8u << 20;
	if ((r = read_opt(snap->proc_dir, "limits", &buf, NULL)) < 0)
		return r;
	if (r) {
		ml__parse_limits(buf, &proc->stack_rlimit);
		free(buf);
	}
	cls = exe_class(snap);
	if ((r = read_opt(snap->proc_dir, "auxv", &buf, &len)) < 0)
		return r;
	if (r) {
		int acls = ml__parse_auxv(buf, len, proc);
		if (!cls && acls > 0)
			cls = acls;
		free(buf);
	}
	if (!cls && snap->nregions)   /* last resort: nothing above 4 GiB */
		cls = snap->regions[snap->nregions - 1].end <= 0x100000000ull ? 32 : 64;
	proc->is_32bit = cls == 32;
	if ((r = ml__read_host_facts(snap, proc->is_32bit)) < 0)
		return r;
	return read_exe(snap);
}

static int thread_cmp(const void *a, const void *b)
{
	const struct ml_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* One thread's comm and syscall (its sp when blocked).  A thread gone or
 * hidden leaves them unknown; 0, or -ENOMEM, which is never dropped. */
static int read_one_thread(const char *taskdir,
			   struct ml_thread *t, bool use_ptrace)
{
	char dir[PATH_MAX], *buf;
	int r;

	char tid[16];
	snprintf(tid, sizeof(tid), "%d", (int)t->tid);
	if (ml__path(dir, sizeof(dir), taskdir, tid) < 0)
		return 0;
	t->syscall_nr = -2;
	if ((r = read_at(dir, "comm", &buf, NULL)) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(t->comm, sizeof(t->comm), "%s", buf);
		free(buf);
	} else if (r == -ENOMEM) {
		return r;
	}
	if ((r = read_at(dir, "syscall", &buf, NULL)) == 0) {
		ml__parse_syscall(buf, t);
		free(buf);
	} else if (r == -ENOMEM) {
		return r;
	}
	if (!t->sp_known && use_ptrace &&
	    ml__ptrace_regs(t->tid, &t->sp, &t->pc) == 0)
		t->sp_known = true;
	return 0;
}

int ml__read_threads(struct ml_snapshot *snap, bool use_ptrace)
{
	char taskdir[PATH_MAX];
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d;

	if (ml__path(taskdir, sizeof(taskdir), snap->proc_dir, "task") < 0)
		return -ENAMETOOLONG;
	d = opendir(taskdir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0)
			continue;
		if (ML__RESERVE(snap->threads, cap, n + 1) < 0) {
			closedir(d);
			return -ENOMEM;
		}
		memset(&snap->threads[n], 0, sizeof(snap->threads[n]));
		snap->threads[n].tid = (pid_t)tid;
		int r = read_one_thread(taskdir, &snap->threads[n], use_ptrace);
		if (r < 0) {
			closedir(d);
			return r;
		}
		n++;
	}
	closedir(d);
	snap->nthreads = n;
	ml__sort(snap->threads, n, sizeof(*snap->threads), thread_cmp);
	return 0;
}
