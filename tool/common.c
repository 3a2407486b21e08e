/* SPDX-License-Identifier: MIT */
/*
 * common.c - error reporting, argument parsing and target resolution shared
 * by the subcommands.  Only this layer turns -errno into words.  The one
 * piece of state is the verb being run (set by main), so a usage error
 * points to that subcommand's --help.
 */
#include "cli.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The subcommand being run, for the Try line; NULL at the top level. */
static const char *cli_verb;

void cli_set_verb(const char *verb)
{
	cli_verb = verb;
}

void cli_version(void)
{
	printf("memlayout %s\n", MEMLAYOUT_VERSION);
}

/* "memlayout: <input>: <reason>", or "memlayout: <reason>" without input. */
static void verror(const char *input, const char *fmt, va_list ap)
{
	if (input) {
		char *e = ml_escape(input, ML_ESC_TERM);
		fprintf(stderr, "memlayout: %s: ", e ? e : "?");
		free(e);
	} else {
		fputs("memlayout: ", stderr);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *input, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(input, fmt, ap);
	va_end(ap);
	return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *input, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(input, fmt, ap);
	va_end(ap);
	if (cli_verb)
		fprintf(stderr, "Try 'memlayout %s --help'.\n", cli_verb);
	else
		fputs("Try 'memlayout --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

static const struct { int err; const char *words; } errwords[] = {
	{ ESRCH,   "no such process (or it exited while being read)" },
	{ EACCES,  "permission denied (another user's process needs root or CAP_SYS_PTRACE)" },
	{ EPERM,   "operation not permitted (ptrace refused: root, CAP_SYS_PTRACE or kernel.yama.ptrace_scope)" },
	{ ENODATA, "a kernel thread: it has no user address space" },
	{ EBADMSG, "malformed data in its /proc files" },
	{ EAGAIN,  "the address space kept changing while it was read (" CLI_STR(ML_SNAP_TRIES) " tries)" },
	{ ESTALE,  "the process exec'd while being read (" CLI_STR(ML_SNAP_TRIES) " tries)" },
	{ ENOENT,  "no such file or command" },
	{ ECHILD,  "the command ended before the snapshot point" },
	{ ENOMEM,  "out of memory" },
	{ EOWNERDEAD, "a zombie: it exited and its parent has not reaped it; it has no "
		      "address space left" },
};

const char *cli_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errwords) / sizeof(errwords[0]); i++)
		if (errwords[i].err == err)
			return errwords[i].words;
	return strerror(err);
}

static const struct { const char *soname, *words; } missing_libs[] = {
	{ ML_LIBDW_SONAME,   ML_LIBDW_SONAME " (elfutils' libdw) is not installed" },
	{ ML_JANSSON_SONAME, ML_JANSSON_SONAME " (jansson) is not installed" },
};

const char *cli_strerror_lib(int err, const char *soname)
{
	for (size_t i = 0; err == ENOTSUP && i < sizeof(missing_libs) / sizeof(missing_libs[0]); i++)
		if (!strcmp(missing_libs[i].soname, soname))
			return missing_libs[i].words;
	return cli_strerror(err);
}

int cli_parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

/* Addresses are hexadecimal everywhere in this field (maps, pmap, gdb's x,
 * addr2line), with or without 0x: "0000555555554000" is the address pmap
 * printed, not a decimal number.  Decimal only with the explicit marker
 * "0d" ("0d4096").  -EINVAL for anything else (a sign, a space, an empty
 * digit string, trailing junk, a value over 64 bits). */
int cli_parse_addr(const char *s, uint64_t *ret)
{
	int base = 16;
	char *end;
	unsigned long long v;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		s += 2;
	} else if (!strncmp(s, "0d", 2) || !strncmp(s, "0D", 2)) {
		s += 2;
		base = 10;
	}
	/* strtoull would take a sign, blanks or a second 0x here. */
	if (!isxdigit((unsigned char)s[0]) ||
	    (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cli_find_shipped(const char *const *rel, const char *abs, int mode, char *buf, size_t len)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int k;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		for (; *rel; rel++)
			if ((k = snprintf(buf, len, "%s/%s", self, *rel)) > 0 && (size_t)k < len &&
			    access(buf, mode) == 0)
				return 0;
	}
	k = snprintf(buf, len, "%s", abs);
	return k > 0 && (size_t)k < len && access(buf, mode) == 0 ? 0 : -ENOENT;
}

bool cli_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return false;
	return isatty(fd);
}

unsigned int cli_term_width(void)
{
	return cli_fd_width(STDOUT_FILENO);
}

unsigned int cli_fd_width(int fd)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (!isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	if (cols && atoi(cols) > 0)
		return (unsigned int)atoi(cols);
	return 80;
}

FILE *cli_fold_open(unsigned int indent, const char *keep)
{
	unsigned int w = cli_term_width();
	FILE *f = w ? ml_fold_stream(stdout, w, indent, keep) : NULL;

	return f ? f : stdout;
}

int cli_fold_close(FILE *f)
{
	return f == stdout ? 0 : fclose(f) ? -EIO : 0;
}

int cli_run_error(const char *cmd, int r, int status)
{
	if (r == -ECHILD)
		return cli_error(cmd, "it ended before the snapshot point (%s %d)",
				    WIFSIGNALED(status) ? "signal" : "exit status",
				    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return cli_error(cmd, "cannot run it: %s", strerror(-r));
}

static int snapshot_traced(struct cli_target *t, struct ml_snapshot **ret,
			   struct ml_traced **ret_traced)
{
	int status = 0, r;
	struct ml_traced *tr;
	struct ml_snap_opts opts = { NULL, t->snap_flags };

	if ((r = ml_trace_start(t->argv, t->at, &tr, &status)) < 0)
		return cli_run_error(t->argv[0], r, status);
	r = ml_snapshot_take(ml_traced_pid(tr), &opts, ret);
	if (r < 0) {
		ml_trace_finish(tr, true);
		return cli_error(t->argv[0], "%s", cli_strerror(-r));
	}
	*ret_traced = tr;
	return 0;
}

/* The parent of a zombie, from field 4 of its stat, or 0 if unknown (it
 * may have been reaped since). */
static pid_t parent_of(const struct cli_target *t)
{
	char path[PATH_MAX], buf[512];
	const char *rp;
	FILE *f;
	int ppid = 0;
	size_t n;

	snprintf(path, sizeof(path), "%s/%d/stat", t->proc_root ? t->proc_root : "/proc",
		 (int)t->pid);
	if (!(f = fopen(path, "re")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "PID (comm) S PPID ...": comm may hold ") " itself, so the last ')'. */
	if ((rp = strrchr(buf, ')')) && sscanf(rp + 1, " %*c %d", &ppid) != 1)
		ppid = 0;
	return ppid > 0 ? (pid_t)ppid : 0;
}

static int snapshot_error(const struct cli_target *t, int r)
{
	pid_t ppid;

	if (r == -EBADMSG || r == -ENOENT)   /* name the file */
		return cli_error(t->pid_arg, "%s %s/%d/%s",
				    r == -ENOENT ? "no file" : "malformed line in",
				    t->proc_root ? t->proc_root : "/proc", (int)t->pid,
				    (t->snap_flags & ML_SNAP_SMAPS) ? "smaps" : "maps");
	if (r == -EOWNERDEAD && (ppid = parent_of(t)))
		return cli_error(t->pid_arg, "a zombie: it exited and its parent (PID %d) "
				    "has not reaped it; it has no address space left", (int)ppid);
	return cli_error(t->pid_arg, "%s", cli_strerror(-r));
}

int cli_target_word(struct cli_target *t, char *word)
{
	struct stat st;

	t->pid_arg = word;
	if (cli_parse_pid(word, &t->pid) == 0)
		return 0;
	if (stat(word, &st) == 0 && !S_ISDIR(st.st_mode)) {
		t->core = word;
		return 0;
	}
	return cli_usage_error(word, "not a process ID, nor a core file");
}

/* The words of ml_core_open's errors. */
static const struct {
	int err;
	const char *words;
} core_errors[] = {
	{ ENOEXEC, "not an ELF file (a core dump is one)" },
	{ EMEDIUMTYPE, "an ELF file, but not a core dump (e_type is not ET_CORE)" },
	{ EPROTONOSUPPORT, "a core dump of another architecture (e_machine not this machine's)" },
	{ ENODATA, "truncated: its headers or notes run past the end of the file" },
	{ EBADMSG, "a malformed core dump (its notes or segments do not parse)" },
	{ E2BIG, "a core dump past memlayout's bounds (segments, threads or notes)" },
};

int cli_core_open(const char *path, const char *sysroot, const char *exe,
		     struct ml_core **ret)
{
	int r = ml_core_open(path, sysroot, exe, ret);
	const struct ml_core_info *info;

	if (r == 0) {
		info = ml_core_info(*ret);
		if (info->size < info->full_size)
			cli_error(path, "truncated: the core stops at byte %" PRIu64 " of %" PRIu64
				     ": memory from 0x%" PRIx64 " on is missing", info->size,
				     info->full_size, info->cut_addr);
		return 0;
	}
	for (size_t i = 0; i < sizeof(core_errors) / sizeof(core_errors[0]); i++)
		if (core_errors[i].err == -r)
			return cli_error(path, "%s", core_errors[i].words);
	return cli_error(path, "%s", strerror(-r));
}

/* What a gap of a core means, per kind (ml_core_gap_kind). */
static const char *const gap_words[] = {
	[ML_CORE_GAP_NOT_DUMPED] = "memory the core does not hold (filtered out by coredump_filter)",
	[ML_CORE_GAP_NO_FILE] = "not in the core, and the file is not on this machine",
	[ML_CORE_GAP_BUILD_ID] = "build-id mismatch: the file on disk is not the one the process mapped "
				 "(rebuilt since?); its pages the core left out are not read from it",
	[ML_CORE_GAP_UNVERIFIED] = "the core keeps no copy of its ELF header to check the file's build-id "
				   "by; its pages the core left out are not read from it",
};

void cli_core_gaps(const char *path, const struct ml_core *c)
{
	size_t n;
	const struct ml_core_gap *g = ml_core_gaps(c, &n);

	for (size_t i = 0; i < n; i++) {
		char *obj = g[i].object ? ml_escape(g[i].object, ML_ESC_TERM) : NULL;
		cli_error(path, "%s%s%s", obj ? obj : "", obj ? ": " : "",
			     (unsigned)g[i].kind < sizeof(gap_words) / sizeof(gap_words[0])
			     ? gap_words[g[i].kind] : "?");
		free(obj);
	}
}

static int snapshot_core(struct cli_target *t, struct ml_snapshot **ret)
{
	struct ml_core *c;
	int r;

	if ((r = cli_core_open(t->core, t->sysroot, t->exe, &c)))
		return r;
	r = ml_core_snapshot(c, t->snap_flags & ML_SNAP_NOELF, ret);
	if (r < 0)
		r = cli_error(t->core, "%s", strerror(-r));
	else
		cli_core_gaps(t->core, c);
	ml_core_free(c);
	return r;
}

int cli_snapshot(struct cli_target *t, struct ml_snapshot **ret,
		    struct ml_traced **ret_traced)
{
	struct ml_snap_opts opts = { t->proc_root, t->snap_flags };
	char buf[32];
	int r;

	*ret_traced = NULL;
	if (!t->core && (t->sysroot || t->exe))
		return cli_usage_error(t->sysroot ? "--sysroot" : "--exe",
					  "goes with a core file only");
	if (t->argv)
		return snapshot_traced(t, ret, ret_traced);
	if (t->core)
		return snapshot_core(t, ret);
	if (t->self) {
		t->pid = getpid();
		snprintf(buf, sizeof(buf), "%d", (int)t->pid);
		t->pid_arg = "self";
	}
	r = ml_snapshot_take(t->pid, &opts, ret);
	return r < 0 ? snapshot_error(t, r) : 0;
}
