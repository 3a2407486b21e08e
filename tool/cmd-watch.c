/* SPDX-License-Identifier: MIT */
/*
 * cmd-watch.c - `memlayout watch PID | -- COMMAND`: sample a process at an
 * interval and show how its memory changes: per-kind sizes, brk, stack,
 * faults, and events (mappings appearing, growing, vanishing, changing
 * permissions; the brk moving; threads coming and going).
 *
 * Output: on a terminal a screen redrawn in place (like top) with the
 * recent events below, fitted to the terminal's height (TIOCGWINSZ at
 * each redraw, so a resize takes effect at the next sample) and coloured
 * per kind unless NO_COLOR is set; otherwise (or with --log) one line per
 * event and per sample; with -J JSON lines.  --record FILE writes JSON
 * lines too.  --html keeps the same lines in a temporary file and, when
 * the watch ends, writes plot's page of them (render-plot.c) to stdout
 * instead of the screen, the log and the summary.
 * The watch ends when the target exits, on Ctrl-C (SIGINT/SIGTERM) or
 * after -c samples, and always ends with the summary.
 *
 * Waiting: ppoll() on a pidfd of the target (readable when it exits) with
 * the time to the next sample as timeout, so an exit ends the watch at
 * once; the signal handler only sets a flag (ppoll returns EINTR).
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <langinfo.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RECENT 8
#define NS_PER_S 1000000000ull

enum { OPT_UNTIL_EXIT = CLI_OPT_CMD, OPT_RECORD, OPT_DETAIL, OPT_LOG, OPT_HTML };

struct watch_opts {
	double interval;
	long count;                /* 0: no limit */
	bool until_exit, detail, log, html;
	unsigned int out_flags;
	const char *record;
	pid_t pid;
	const char *pid_arg;
	char **argv;
};

/* The state of one watch: outputs and the recent events of the screen. */
struct watch_run {
	const struct watch_opts *o;
	struct ml_watch *w;
	FILE *record;
	FILE *html;                /* --html: the record kept for the page */
	bool screen;
	char *recent[RECENT];
	size_t nrecent;
	pid_t child;               /* -- COMMAND, else 0 */
	int status;                /* its wait status, -1 if not reaped */
};

static volatile sig_atomic_t stop_signal;

/* Its options, -J and -b the shared ones, as --help lists them. */
static const struct cli_opt opts[] = {
	{ 'i', "interval", "<secs>", "time between samples (default 0.2; fractions allowed)" },
	{ 'c', "count", "<n>", "stop after n samples" },
	{ OPT_UNTIL_EXIT, "until-exit", NULL, "watch until the target exits (the default without -c;\n"
	  "implied with -- COMMAND)" },
	{ OPT_RECORD, "record", "<file>", "write every sample as a JSON line to file" },
	{ OPT_DETAIL, "detail", NULL, "read full smaps each sample: resident size per kind\n"
	  "(costly on big processes; without it only totals)" },
	{ OPT_LOG, "log", NULL, "one line per event and sample even on a terminal" },
	{ OPT_HTML, "html", NULL, "when the watch ends, write plot's page of it to stdout\n"
	  "(the charts of memlayout plot), nothing else" },
	CLI_SHARED(CLI_JSON | CLI_BYTES),
	CLI_SAYS('J', "JSON lines on stdout (samples, then the summary)"),
	CLI_SAYS('b', "sizes in bytes"),
	{ 0 },
};

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int parse_option(void *ctx, int c, char *arg)
{
	struct watch_opts *o = ctx;
	char *end;

	switch (c) {
	case 'i':
		errno = 0;
		o->interval = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(o->interval) ||
		    o->interval < 0.01 || o->interval > 86400)
			return cli_usage_error(arg, "--interval takes seconds from 0.01 to 86400");
		return 0;
	case 'c':
		errno = 0;
		o->count = strtol(arg, &end, 10);
		if (errno || end == arg || *end || o->count < 1)
			return cli_usage_error(arg, "--count takes a positive number");
		return 0;
	case OPT_UNTIL_EXIT: o->until_exit = true; return 0;
	case OPT_RECORD: o->record = arg; return 0;
	case OPT_DETAIL: o->detail = true; return 0;
	case OPT_LOG: o->log = true; return 0;
	case OPT_HTML: o->html = true; return 0;
	default:
		return cli_usage_error("watch", "unknown option");
	}
}

/* Options that cannot go together: --html owns stdout. */
static const struct cli_excl excl[] = {
	{ OPT_HTML, 'J' }, { OPT_HTML, OPT_LOG }, { 0 },
};

static const struct cli_spec spec = {
	.verb = "watch",
	.synopsis = " memlayout watch [options] PID\n"
		    " memlayout watch [options] -- COMMAND [ARGS]\n",
	.about = "Sample a process at an interval and show how its memory changes: virtual\n"
		 "size per kind (heap, stack, thread stacks, anonymous and file mmaps, code\n"
		 "and data), resident size, the brk, the main stack, page faults, threads;\n"
		 "and every mapping that appears, vanishes, grows, shrinks or changes\n"
		 "permissions as it happens.  Ends with a summary: peak sizes, time to peak,\n"
		 "faults.\n",
	.opts = opts,
	.examples = " memlayout watch $$                        your shell, redrawn in place\n"
		    " memlayout watch -i 0.05 -- ./a.out        a program from its start\n"
		    " memlayout watch --record run.jsonl 1234   keep every sample\n"
		    " memlayout watch --log 1234 | grep grew    what grew, as it happens\n"
		    " memlayout watch --html -- ./a.out > run.html   its growth, drawn\n",
	.excl = excl,
	.option = parse_option,
	.words = CLI_WORDS_TARGET,
	.pid_only = true,
};

/* 0, a usage exit code (> 0), or CLI_DONE after --help.  The target is
 * PID or -- COMMAND (no --self, no core file); -c and --until-exit are
 * checked here, not in an exclusion table, so that target errors are
 * reported first. */
static int parse_args(struct watch_opts *o, int argc, char **argv)
{
	struct cli_opts cli = { 0 };
	int r;

	if ((r = cli_getopt(&spec, argc, argv, &cli, o)))
		return r;
	if (o->count && o->until_exit)
		return cli_usage_error("watch", "--count and --until-exit cannot be used together");
	o->out_flags = cli.out_flags;
	o->pid = cli.target.pid;
	o->pid_arg = cli.target.pid_arg;
	o->argv = cli.target.argv;
	o->until_exit |= o->argv != NULL;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Fork and exec argv; returns once the exec happened (or failed). */
static int spawn(char **argv, pid_t *ret)
{
	struct ml_spawn sp;
	int r = ml_spawn_start(argv, 0, &sp);

	if (r < 0)
		return r;
	r = ml_spawn_wait_exec(&sp);
	ml_spawn_close(&sp);
	if (r < 0) {
		waitpid(sp.pid, NULL, 0);
		return r;
	}
	*ret = sp.pid;
	return 0;
}

static void remember(struct watch_run *run, const struct ml_watch_sample *s)
{
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *m = ml_memstream_open(&buf, &len);

	if (!m)
		return;
	ml_render_watch_events(run->w, s, m, run->o->out_flags);
	fclose(m);
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *copy = strdup(line);
		if (!copy)
			break;        /* out of memory: the screen shows fewer events */
		if (run->nrecent == RECENT) {
			free(run->recent[0]);
			memmove(run->recent, run->recent + 1, (RECENT - 1) * sizeof(char *));
			run->nrecent--;
		}
		run->recent[run->nrecent++] = copy;
	}
	free(buf);
}

/* The terminal's rows, 0 if unknown (no limit). */
static unsigned int term_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return 0;
	return ws.ws_row;
}

#define LOG_INDENT 22

/* A stream into *ret, folded at width (0: not) with the rest of a line
 * under column indent; *mem the memory stream under it.  NULL when out
 * of memory (text_close() closes *mem all the same). */
static FILE *text_open(char **ret, size_t *len, unsigned int width, unsigned int indent,
		       FILE **mem)
{
	*mem = ml_memstream_open(ret, len);
	return *mem && width ? ml_fold_stream(*mem, width, indent, NULL) : *mem;
}

/* Close text_open()'s streams once r (the writer's 0, or -errno) is known:
 * the lines of the text in *ret (malloc'ed), or -errno with *ret freed. */
static int text_close(FILE *f, FILE *mem, int r, char **ret, const size_t *len)
{
	int lines = 0;

	if (f && f != mem && fclose(f) && r >= 0)
		r = -EIO;
	if (mem && (ferror(mem) | fclose(mem)) && r >= 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*ret);
		*ret = NULL;
		return r;
	}
	for (size_t i = 0; i < *len; i++)
		lines += (*ret)[i] == '\n';
	return lines;
}

/* The screen in rows lines at most (0: no limit), folded at the width
 * (0: not), into *ret (malloc'ed); its lines, or -errno. */
static int screen_text(struct watch_run *run, const struct ml_watch_sample *s,
		       unsigned int rows, unsigned int width, char **ret, size_t *ret_len)
{
	FILE *mem, *f = text_open(ret, ret_len, width, 2, &mem);
	int r = f ? ml_render_watch_screen(run->w, s, f, run->o->out_flags, rows) : -ENOMEM;

	return text_close(f, mem, r, ret, ret_len);
}

/* The newest n recent events folded at the width (0: not) into *ret
 * (malloc'ed); their rows (UINT_MAX when out of memory: nothing fits). */
static unsigned int recent_text(struct watch_run *run, size_t n, unsigned int width,
				char **ret, size_t *ret_len)
{
	FILE *mem, *f = text_open(ret, ret_len, width, LOG_INDENT, &mem);

	for (size_t i = run->nrecent - n; f && i < run->nrecent; i++)
		fprintf(f, "%s\n", run->recent[i]);
	int lines = text_close(f, mem, f ? 0 : -ENOMEM, ret, ret_len);
	return lines < 0 ? UINT_MAX : (unsigned int)lines;
}

/* The screen, then as many recent events as fit (the newest); the screen
 * leaves room for up to 3 of them and the last line stays free.  On a
 * terminal its lines are folded at its width, and a screen that takes more
 * rows folded is drawn again with fewer. */
static int redraw(struct watch_run *run, const struct ml_watch_sample *s)
{
	unsigned int rows = term_rows(), keep = run->nrecent < 3 ? (unsigned)run->nrecent : 3;
	unsigned int avail = rows ? rows - 1 : 0, room = 0, width = cli_term_width();
	char *text = NULL;
	size_t len = 0;
	int used;

	if (avail && avail <= keep + 2 + 4)
		avail = keep + 2 + 5;              /* too small: let it scroll */
	unsigned int want = avail ? avail - keep - 2 : 0, budget = want;
	for (int tries = 0;; tries++) {
		used = screen_text(run, s, budget, width, &text, &len);
		if (used < 0)
			return used;
		if (!want || (unsigned)used <= want || tries == 3 || budget <= (unsigned)used - want)
			break;
		budget -= (unsigned)used - want;
		free(text);
		text = NULL;
	}
	fputs("\033[H\033[J", stdout);
	if (len)
		fwrite(text, 1, len, stdout);
	free(text);
	text = NULL;
	len = 0;
	if (avail)
		room = avail > (unsigned)used + 2 ? avail - (unsigned)used - 2 : 0;
	size_t n = avail && room < run->nrecent ? room : run->nrecent;
	/* folded at the width, the rest under the figures: the newest that
	 * fit in room rows */
	while (n && recent_text(run, n, width, &text, &len) > (avail ? room : UINT_MAX)) {
		free(text);
		text = NULL;
		n--;
	}
	if (n)
		fputs("\nRecent events:\n", stdout);
	if (n && len)
		fwrite(text, 1, len, stdout);
	free(text);
	return 0;
}

static int output(struct watch_run *run, const struct ml_watch_sample *s)
{
	unsigned int fl = run->o->out_flags;
	int r = 0;

	if (run->record && ml_render_watch_json(run->w, s, run->record) < 0)
		return cli_error(run->o->record, "write error");
	if (run->html)
		return ml_render_watch_json(run->w, s, run->html) < 0 ?
			cli_error("--html", "write error (its temporary file)") : 0;
	if (fl & ML_OUT_JSON) {
		r = ml_render_watch_json(run->w, s, stdout);
	} else if (run->screen) {
		remember(run, s);
		r = redraw(run, s);
	} else {
		/* The log; on a terminal each line folded at its width, the rest
		 * under the figures ("    0.000 sample      "). */
		FILE *f = cli_fold_open(LOG_INDENT, NULL);
		r = ml_render_watch_events(run->w, s, f, fl);
		if (r == 0)
			r = ml_render_watch_line(run->w, s, f, fl);
		if (cli_fold_close(f) < 0)
			r = -EIO;
	}
	if (fflush(stdout) || r < 0)
		return cli_error("stdout", "write error");
	return 0;
}

/* Wait until deadline; false if the target exited or a signal came. */
static bool wait_until(int pidfd, uint64_t deadline)
{
	uint64_t now = now_ns();
	struct pollfd pfd = { pidfd, POLLIN, 0 };
	struct timespec ts;

	if (now >= deadline)
		return !stop_signal;
	ts.tv_sec = (time_t)((deadline - now) / NS_PER_S);
	ts.tv_nsec = (long)((deadline - now) % NS_PER_S);
	int n = ppoll(pidfd >= 0 ? &pfd : NULL, pidfd >= 0 ? 1 : 0, &ts, NULL);
	if (stop_signal)
		return false;
	return !(n > 0 && (pfd.revents & (POLLIN | POLLHUP)));
}

static int loop(struct watch_run *run)
{
	const struct watch_opts *o = run->o;
	uint64_t step = (uint64_t)llround(o->interval * 1e9), next = now_ns();
	int pidfd = (int)syscall(SYS_pidfd_open, ml_watch_pid(run->w), 0);
	const struct ml_watch_sample *s;
	int r = 0;

	for (;;) {
		int e = ml_watch_sample(run->w, now_ns(), &s);
		if (e == -ESRCH || e == -EOWNERDEAD)
			break;                 /* it exited: the summary follows */
		if (e < 0) {
			r = cli_error(o->pid_arg, "%s", cli_strerror(-e));
			break;
		}
		if ((r = output(run, s)))
			break;
		if (o->count && (long)s->index + 1 >= o->count)
			break;
		next += step;
		if (next < now_ns())
			next = now_ns() + step;   /* fell behind: skip, do not burst */
		if (!wait_until(pidfd, next))
			break;
	}
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

/* --html: the record kept in run->html, read back and drawn as plot draws
 * a file; the exit code. */
static int html_page(struct watch_run *run)
{
	struct ml_watch_record *rec;
	size_t line = 0;
	int r;

	if (fflush(run->html) || fseek(run->html, 0, SEEK_SET))
		return cli_error("--html", "%s (its temporary file)", strerror(errno));
	if ((r = ml_watch_record_read(run->html, &rec, &line)) < 0)
		return cli_error("--html", "reading back its record: %s",
				    cli_strerror_lib(-r, ML_JANSSON_SONAME));
	r = ml_render_plot(rec, stdout, run->o->out_flags);
	ml_watch_record_free(rec);
	if (fflush(stdout) || r < 0)
		return cli_error("stdout", "write error");
	return 0;
}

static int finish(struct watch_run *run, int r)
{
	if (run->child && waitpid(run->child, &run->status, WNOHANG) <= 0)
		run->status = -1;
	if (r == 0 && run->html && ml_watch_last(run->w)) {
		r = html_page(run);
	} else if (r == 0 && ml_watch_last(run->w)) {
		/* On a terminal its sentences folded at the width (its tables
		 * fitted to it: they pass unchanged). */
		FILE *f = run->o->out_flags & ML_OUT_TERM ? cli_fold_open(2, NULL) : stdout;
		ml_render_watch_summary(run->w, f, run->o->out_flags);
		if (run->child && run->status >= 0 && !(run->o->out_flags & ML_OUT_JSON)) {
			char *cmd = ml_escape(run->o->argv[0], ML_ESC_TERM);
			fprintf(f, "%s %s %d.\n", cmd ? cmd : "?",
				WIFSIGNALED(run->status) ? "was killed by signal" : "exited with status",
				WIFSIGNALED(run->status) ? WTERMSIG(run->status) : WEXITSTATUS(run->status));
			free(cmd);
		}
		if (cli_fold_close(f) < 0 || fflush(stdout))
			r = cli_error("stdout", "write error");
	}
	if (run->record && fclose(run->record) && !r)
		r = cli_error(run->o->record, "write error");
	if (run->html)
		fclose(run->html);
	for (size_t i = 0; i < run->nrecent; i++)
		free(run->recent[i]);
	ml_watch_free(run->w);
	return r;
}

/* The target, the watch and its files; on an error the caller ends the
 * run with finish(), which releases what was set up. */
static int start(struct watch_run *run, struct watch_opts *o)
{
	int r;

	if (o->argv) {
		if ((r = spawn(o->argv, &run->child)) < 0)
			return cli_error(o->argv[0], "cannot run it: %s", strerror(-r));
		o->pid = run->child;
		o->pid_arg = o->argv[0];
	}
	r = ml_watch_new(o->pid, o->detail ? ML_WATCH_DETAIL : 0, &run->w);
	if (r < 0)
		return cli_error(o->pid_arg, "%s", cli_strerror(-r));
	if (o->record && !(run->record = fopen(o->record, "we")))
		return cli_error(o->record, "%s", strerror(errno));
	if (o->html && !(run->html = tmpfile()))
		return cli_error("--html", "a temporary file: %s", strerror(errno));
	return 0;
}

int cli_cmd_watch(int argc, char **argv)
{
	struct watch_opts o = { .interval = 0.2 };
	struct watch_run run = { .o = &o, .status = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	int r;

	if ((r = parse_args(&o, argc, argv)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	if ((r = start(&run, &o)))
		return finish(&run, r);
	run.screen = !o.html && !o.log && !(o.out_flags & ML_OUT_JSON) && isatty(STDOUT_FILENO);
	if (run.screen && cli_color(STDOUT_FILENO))
		o.out_flags |= ML_OUT_COLOR;
	if (strcmp(nl_langinfo(CODESET), "UTF-8"))
		o.out_flags |= ML_OUT_ASCII;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = loop(&run);
	return finish(&run, r);
}
