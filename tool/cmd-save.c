/* SPDX-License-Identifier: MIT */
/*
 * cmd-save.c - `memlayout save PID DIR`: copy the /proc files memlayout
 * reads into DIR, as a tree `--proc-root DIR` reads (the layout of
 * tests/golden/trees: DIR/PID/{stat,status,limits,auxv,maps,smaps,...},
 * DIR/PID/task/TID/{comm,syscall,stat}, DIR/cpuinfo,
 * DIR/sys/vm/mmap_min_addr).  The links exe and root are saved as links
 * to what they name, so on the same machine ELF attribution opens the
 * same files (each checked against the maps line's device and inode);
 * elsewhere nothing matches and the regions keep their basic labels.
 *
 * The files are read one after the other, not atomically: a process that
 * changes meanwhile is saved as it was at each read.  Nothing is written
 * over: DIR/PID must not exist.  A file the kernel refuses (smaps of
 * another user's process) is left out, as a saved tree may.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files of a process, and whether it is needed (else left out when
 * it cannot be read). */
static const struct {
	const char *name;
	bool needed;
} proc_files[] = {
	{ "stat", true }, { "maps", true }, { "status", false }, { "limits", false },
	{ "auxv", false }, { "smaps", false }, { "smaps_rollup", false },
	{ "comm", false }, { "cmdline", false },
};
static const char *const task_files[] = { "comm", "syscall", "stat" };
static const char *const proc_links[] = { "exe", "root" };
/* Files of /proc itself, and of /proc/sys. */
static const char *const root_files[] = { "cpuinfo", "sys/vm/mmap_min_addr" };

/* Copy the file src to dst (created, not overwritten); 0 or -errno. */
static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, r = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
	}
	if (close(out) < 0 && r == 0)
		r = -errno;
	close(in);
	if (r < 0)
		unlink(dst);
	return r;
}

/* "a/b" into buf; -ENAMETOOLONG if it does not fit. */
static int path2(char *buf, size_t size, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + 1 + lb >= size)
		return -ENAMETOOLONG;
	memmove(buf, a, la);
	buf[la] = '/';
	memcpy(buf + la + 1, b, lb + 1);
	return 0;
}

/* The link src saved as a link with the same text; a link that cannot
 * be read is left out. */
static int copy_link(const char *src, const char *dst)
{
	char text[PATH_MAX];
	ssize_t n = readlink(src, text, sizeof(text) - 1);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return symlink(text, dst) < 0 ? -errno : 0;
}

static int save_tasks(const char *from, const char *to)
{
	char src[PATH_MAX], dst[PATH_MAX], f[PATH_MAX], t[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (path2(src, sizeof(src), from, "task") || path2(dst, sizeof(dst), to, "task"))
		return -ENAMETOOLONG;
	if (!(d = opendir(src)))
		return -errno;
	if (mkdir(dst, 0755) < 0)
		r = -errno;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (path2(f, sizeof(f), src, de->d_name) || path2(t, sizeof(t), dst, de->d_name))
			r = -ENAMETOOLONG;
		else if (mkdir(t, 0755) < 0)
			r = -errno;
		for (size_t i = 0; r == 0 && i < sizeof(task_files) / sizeof(task_files[0]); i++) {
			char a[PATH_MAX], b[PATH_MAX];
			if (path2(a, sizeof(a), f, task_files[i]) || path2(b, sizeof(b), t, task_files[i]))
				r = -ENAMETOOLONG;
			else if ((r = copy_file(a, b)) == -ENOENT || r == -ESRCH || r == -EACCES)
				r = 0;   /* a thread that ended meanwhile, or a file refused */
		}
	}
	closedir(d);
	return r;
}

/* mkdir -p of the directory part of path (under an existing root). */
static int make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
		*p = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

static int save_root(const char *dir)
{
	char src[PATH_MAX], dst[PATH_MAX];

	for (size_t i = 0; i < sizeof(root_files) / sizeof(root_files[0]); i++) {
		int r;
		if (path2(src, sizeof(src), "/proc", root_files[i]) ||
		    path2(dst, sizeof(dst), dir, root_files[i]))
			return -ENAMETOOLONG;
		if (access(dst, F_OK) == 0)
			continue;   /* saved with another process */
		if ((r = make_parents(dst)) < 0 || ((r = copy_file(src, dst)) < 0 && r != -ENOENT))
			return r;
	}
	return 0;
}

/* Save process pid into dir/pid; 0 or -errno, *ret_file the file it was
 * about. */
static int save(pid_t pid, const char *dir, const char **ret_file)
{
	char from[64], to[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	int r;

	snprintf(from, sizeof(from), "/proc/%d", (int)pid);
	if (snprintf(to, sizeof(to), "%s/%d", dir, (int)pid) >= (int)sizeof(to))
		return -ENAMETOOLONG;
	*ret_file = to;
	if (access(from, F_OK) < 0)
		return -ESRCH;
	if (mkdir(to, 0755) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(proc_files) / sizeof(proc_files[0]); i++) {
		path2(src, sizeof(src), from, proc_files[i].name);
		path2(dst, sizeof(dst), to, proc_files[i].name);
		r = copy_file(src, dst);
		if (r < 0 && (proc_files[i].needed || (r != -EACCES && r != -EPERM && r != -ENOENT))) {
			*ret_file = proc_files[i].name;
			return r == -ENOENT ? -ESRCH : r;
		}
	}
	for (size_t i = 0; i < sizeof(proc_links) / sizeof(proc_links[0]); i++) {
		path2(src, sizeof(src), from, proc_links[i]);
		path2(dst, sizeof(dst), to, proc_links[i]);
		if ((r = copy_link(src, dst)) < 0)
			return r;
	}
	if ((r = save_tasks(from, to)) < 0 || (r = save_root(dir)) < 0)
		return r;
	return 0;
}

static const struct cli_opt opts[] = {
	CLI_SHARED(CLI_SELF),
	CLI_SAYS(CLI_OPT_SELF, "memlayout itself"),
	{ 0 },
};

static const struct cli_spec spec = {
	.verb = "save",
	.synopsis = " memlayout save [options] PID DIR\n"
		    " memlayout save [options] --self DIR\n",
	.about = "Save the /proc files memlayout reads of a process into DIR, as a tree that\n"
		 "'--proc-root DIR' reads: study the process later, or on another machine.\n",
	.opts = opts,
	.examples = " memlayout save 1234 /tmp/cap        write /tmp/cap/1234/...\n"
		    " memlayout show --proc-root /tmp/cap 1234\n",
	.words = CLI_WORDS_OPERAND,   /* PID DIR or --self DIR */
	.operand = "DIR",
};

int cli_cmd_save(int argc, char **argv)
{
	struct cli_opts cli = { 0 };
	const char *file = NULL;
	struct stat st;
	int code, r;

	if ((code = cli_getopt(&spec, argc, argv, &cli, NULL)))
		return code == CLI_DONE ? CLI_EXIT_OK : code;
	if (cli.target.argv || cli.target.core)
		return cli_usage_error(cli.target.core ? cli.target.core : "save",
					  "save reads a running process: give its PID or --self");
	if (cli.nwords != 1)
		return cli_usage_error("save", "no directory given (memlayout save PID DIR)");
	if (cli.target.self)
		cli.target.pid = getpid();
	if (stat(cli.words[0], &st) < 0 && mkdir(cli.words[0], 0755) < 0)
		return cli_error(cli.words[0], "%s", strerror(errno));
	r = save(cli.target.pid, cli.words[0], &file);
	if (r < 0)
		return cli_error(r == -ESRCH ? cli.target.pid_arg ? cli.target.pid_arg : "self"
				    : file, "%s", r == -ESRCH ? cli_strerror(ESRCH) : strerror(-r));
	return CLI_EXIT_OK;
}
