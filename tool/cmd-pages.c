/* SPDX-License-Identifier: MIT */
/*
 * cmd-pages.c - `memlayout pages`: residency page by page.  For each region
 * of a process (or those a REGION or START-END argument selects) the pages
 * in RAM, huge, zero page, swapped, guard and never touched, with a
 * one-line bar; with --shared-with, the physical frames two processes
 * share against those private to each.
 *
 * Order: options and the selector are checked first (usage errors, exit
 * 2); then the snapshot (kinds and objects; with pread, smaps too: an
 * empty ---p reservation is not read page by page), the pagemap scans, a last
 * check that the process was alive through them (PAGEMAP_SCAN of an exited
 * process reads as an empty address space), the table made whole in
 * memory, and only then output: a failure leaves nothing on stdout.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COLUMNS 64
#define DEFAULT_WIDTH 32
#define METHOD_ENV "MEMLAYOUT_PAGEMAP_METHOD"
#define SHARED_COLUMNS "PID,START,END,KIND,OBJECT,RESIDENT,SHARED,PRIVATE,BAR"

enum { OPT_METHOD = CLI_OPT_CMD, OPT_SHARED_WITH };

/* What the REGION argument selects. */
enum sel_type { SEL_ALL, SEL_KIND, SEL_RANGE, SEL_ADDR, SEL_OBJECT };
struct selector {
	enum sel_type type;
	const char *arg;
	int kind;
	uint64_t lo, hi;          /* SEL_RANGE [lo, hi); SEL_ADDR lo */
};

struct pages_opts {
	struct cli_opts cli;        /* target, -o, -J -r -n -b */
	unsigned int width;
	enum ml_scan_method method;
	const char *other_arg;    /* --shared-with PID2 */
	pid_t other;
	struct selector sel;
};

/* Its options, shared ones included, as --help lists them. */
static const struct cli_opt opts[] = {
	CLI_SHARED(CLI_OUTPUT),
	CLI_SAYS('n', "no headings, no process line, no legend"),
	{ 'w', "width", "<cells>", "cells of the bar (1-256, default 32)" },
	{ OPT_METHOD, "method", "<m>", "auto, scan (PAGEMAP_SCAN) or pread (of pagemap)" },
	{ OPT_SHARED_WITH, "shared-with", "<pid>", "frames shared with another process (root)" },
	CLI_SHARED(CLI_SELF),
	{ 0 },
};

static const struct cli_excl excl[] = {
	{ 'J', 'r' }, { 0 },
};

/* REGION or START-END, decided by its shape; malformed ranges are usage
 * errors.  An argument that is none of kind, range or address names an
 * object. */
static int parse_selector(struct selector *s, const char *arg)
{
	const char *dash = strchr(arg, '-');
	char left[64];
	int k;

	s->arg = arg;
	if ((k = ml_kind_from_name(arg)) >= 0) {
		s->type = SEL_KIND;
		s->kind = k;
		return 0;
	}
	if (dash && (size_t)(dash - arg) < sizeof(left)) {
		memcpy(left, arg, (size_t)(dash - arg));
		left[dash - arg] = '\0';
		if (cli_parse_addr(left, &s->lo) == 0) {
			if (cli_parse_addr(dash + 1, &s->hi) < 0)
				return cli_usage_error(arg, "not an address range (START-END)");
			if (s->hi <= s->lo)
				return cli_usage_error(arg, "empty range: END must be above START");
			s->type = SEL_RANGE;
			return 0;
		}
	}
	s->type = cli_parse_addr(arg, &s->lo) == 0 ? SEL_ADDR : SEL_OBJECT;
	return 0;
}

static int parse_option(void *ctx, int c, char *arg)
{
	struct pages_opts *o = ctx;
	char *end;
	long w;
	int r;

	switch (c) {
	case 'w':
		errno = 0;
		w = strtol(arg, &end, 10);
		if (errno || end == arg || *end || w < 1 || w > ML_BAR_MAX)
			return cli_usage_error(arg, "--width takes a number from 1 to %d", ML_BAR_MAX);
		o->width = (unsigned int)w;
		return 0;
	case OPT_METHOD:
		if ((r = ml_scan_method_from_name(arg)) < 0)
			return cli_usage_error(arg, "--method takes auto, scan or pread");
		o->method = (enum ml_scan_method)r;
		return 0;
	case OPT_SHARED_WITH:
		o->other_arg = arg;
		if (cli_parse_pid(arg, &o->other) < 0)
			return cli_usage_error(arg, "not a process ID");
		return 0;
	default:
		return cli_usage_error("pages", "unknown option");
	}
}

static const struct cli_spec spec = {
	.verb = "pages",
	.synopsis = " memlayout pages [options] PID [REGION | START-END]\n"
		    " memlayout pages [options] --self [REGION | START-END]\n"
		    " memlayout pages [options] [REGION | START-END] -- COMMAND [ARGS]\n",
	.about = "Show which pages of each region are in RAM, part of a huge page, the\n"
		 "shared zero page, swapped, guard markers, or never touched, with a bar\n"
		 "per region.  REGION is a kind (heap, stack, text, ...), an object (a path\n"
		 "or its file name) or an address inside a region.\n",
	.opts = opts,
	.notes = "Bar: O present  H huge page  Z zero page  S swapped  G guard  . untouched;\n"
		 "lower case when part of the cell is untouched.\n",
	.examples = " memlayout pages $$                     every region of your shell\n"
		    " memlayout pages $$ heap                its heap only\n"
		    " memlayout pages 1234 libc.so.6         the regions of libc\n"
		    " memlayout pages 1234 0x7f0000000000-0x7f0000400000\n"
		    " sudo memlayout pages --shared-with 1235 1234 text\n",
	.excl = excl,
	.option = parse_option,
	.columns = ml_pages_columns,
	.list_width = 10,
	.words = CLI_WORDS_OPERAND,   /* PID [REGION], --self [REGION] or [REGION] -- COMMAND */
	.operand = "REGION or START-END",
};

/* The method from the environment, before options override it. */
static int method_from_env(struct pages_opts *o)
{
	const char *e = getenv(METHOD_ENV);
	int r;

	if (!e || !*e)
		return 0;
	if ((r = ml_scan_method_from_name(e)) < 0)
		return cli_usage_error(METHOD_ENV, "'%s' is not auto, scan or pread", e);
	o->method = (enum ml_scan_method)r;
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Does region r match the selector; [*lo, *hi) is the part to scan. */
static bool selects(const struct selector *s, const struct ml_region *r,
		    bool whole, uint64_t *lo, uint64_t *hi)
{
	*lo = r->start;
	*hi = r->end;
	switch (whole ? SEL_ALL : s->type) {
	case SEL_KIND:   return (int)r->kind == s->kind;
	case SEL_ADDR:   return r->start <= s->lo && s->lo < r->end;
	case SEL_OBJECT: return r->object && (!strcmp(r->object, s->arg) ||
					      !strcmp(base_name(r->object), s->arg));
	case SEL_RANGE:
		if (r->end <= s->lo || r->start >= s->hi)
			return false;
		*lo = r->start > s->lo ? r->start : s->lo;
		*hi = r->end < s->hi ? r->end : s->hi;
		return true;
	default:         return true;
	}
}

/* One process: its snapshot, pagemap, scanner and selected rows. */
struct side {
	pid_t pid;
	const char *arg;
	struct ml_snapshot *snap;
	struct ml_pagemap *pm;
	struct ml_scanner *sc;
	struct ml_pages_row *rows;
	size_t nrows;
};

static void side_free(struct side *s)
{
	ml_scanner_free(s->sc);
	ml_pagemap_close(s->pm);
	free(s->rows);
	ml_snapshot_free(s->snap);
}

static int target_error(const char *arg, int err)
{
	return cli_error(arg, "%s", cli_strerror(err));
}

static int scan_error(const char *arg, int err)
{
	if (err == EOPNOTSUPP)
		return cli_error(arg, "this kernel has no PAGEMAP_SCAN (Linux 6.7+): use --method=pread");
	return target_error(arg, err);
}

/* Select the rows of s (whole: every region) and scan them. */
static int scan_side(struct side *s, const struct pages_opts *o, bool whole)
{
	size_t n;
	const struct ml_region *reg = ml_snapshot_regions(s->snap, &n);
	uint64_t top = ml_snapshot_proc(s->snap)->user_top;
	int r;

	if ((r = ml_pagemap_open(s->pid, NULL, &s->pm)) < 0)
		return target_error(s->arg, -r);
	if ((r = ml_scanner_new(s->pm, o->method, &s->sc)) < 0)
		return target_error(s->arg, -r);
	if (!(s->rows = calloc(n ? n : 1, sizeof(*s->rows))))
		return cli_error(s->arg, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uint64_t lo, hi;
		/* [vsyscall] lies above user space, in the kernel's page
		 * tables: pagemap neither reads nor scans it. */
		if ((top && reg[i].start >= top) || !selects(&o->sel, &reg[i], whole, &lo, &hi))
			continue;
		struct ml_pages_row *row = &s->rows[s->nrows++];
		row->pid = s->pid;
		row->region = &reg[i];
		if ((r = ml_residency_scan_region(s->sc, &reg[i], lo, hi, o->width, &row->res)) < 0)
			return scan_error(s->arg, -r);
	}
	if ((r = ml_scanner_check_alive(s->sc)) < 0)
		return target_error(s->arg, -r);
	return 0;
}

static int no_match(const struct pages_opts *o, pid_t pid)
{
	static const char *const what[] = {
		[SEL_KIND] = "no region of this kind", [SEL_RANGE] = "nothing is mapped in this range",
		[SEL_ADDR] = "no region holds this address", [SEL_OBJECT] =
		"not a kind, an address or the object of any region",
	};
	return cli_error(o->sel.arg, "%s in process %d", what[o->sel.type], (int)pid);
}

static void header(const struct side *s)
{
	const struct ml_proc *p = ml_snapshot_proc(s->snap);
	char *comm = ml_escape(p->comm, ML_ESC_TERM);
	char ps[32];

	printf("PID %d (%s): %zu region%s, pages of %s, read with %s\n", (int)p->pid,
	       comm ? comm : "", s->nrows, s->nrows == 1 ? "" : "s",
	       ml_size_human(p->page_size, ps, sizeof(ps)),
	       ml_scanner_method(s->sc) == ML_SCAN_PREAD ? "pread of pagemap" : "PAGEMAP_SCAN");
	free(comm);
}

/* Is the BAR column printed (the default sets have it)? */
static bool shows_bar(const struct pages_opts *o)
{
	size_t n;
	const struct ml_column_info *c = ml_pages_columns(&n);

	for (size_t i = 0; o->cli.have_columns && i < o->cli.ncolumns; i++)
		if (!strcmp(c[o->cli.columns[i]].name, "BAR"))
			return true;
	return !o->cli.have_columns;
}

/* The legend under the table (to f: on a terminal folded at its width). */
static void legend(const struct pages_opts *o, const struct side *s, FILE *f)
{
	unsigned int unk = ml_scanner_unknown(s->sc);

	if (shows_bar(o))
		fputs("Bar: O present  H huge page  Z zero page  S swapped  G guard  . untouched"
		      " (lower case: part of the cell)\n", f);
	if (unk & (1u << ML_PST_ZERO | 1u << ML_PST_HUGE))
		fputs("ZERO and HUGE are unknown (?): pagemap read with pread hides frame numbers"
		      " without root (CAP_SYS_ADMIN); such pages count as RESIDENT.\n", f);
	if (unk & 1u << ML_PST_GUARD)
		fputs("GUARD is unknown (?): this kernel's PAGEMAP_SCAN does not report guard markers.\n",
		      f);
}

/* The frames of the rows of s, into *ret. */
static int side_frames(struct side *s, struct ml_frames **ret)
{
	uint64_t (*ranges)[2] = calloc(s->nrows ? s->nrows : 1, sizeof(*ranges));
	int r;

	if (!ranges)
		return cli_error(s->arg, "out of memory");
	for (size_t k = 0; k < s->nrows; k++) {
		ranges[k][0] = s->rows[k].res.start;
		ranges[k][1] = s->rows[k].res.end;
	}
	r = ml_frames_collect(s->sc, s->pm, (const uint64_t (*)[2])ranges, s->nrows, ret);
	free(ranges);
	if (r == -EPERM)
		return cli_error("--shared-with", "physical frame numbers need root "
				    "(CAP_SYS_ADMIN): without it /proc/%d/pagemap shows them as 0",
				    (int)s->pid);
	return r < 0 ? target_error(s->arg, -r) : 0;
}

static void set_share(struct side *s, const struct ml_share_count *c)
{
	for (size_t k = 0; k < s->nrows; k++) {
		s->rows[k].share = c[k];
		s->rows[k].have_share = true;
	}
}

/* --shared-with: collect the frames of both sides and count them. */
static int compare_frames(struct side *a, struct side *b, struct ml_share_totals *ret)
{
	struct ml_frames *fa = NULL, *fb = NULL;
	struct ml_share_count *ca = calloc(a->nrows + 1, sizeof(*ca));
	struct ml_share_count *cb = calloc(b->nrows + 1, sizeof(*cb));
	int r;

	if (!ca || !cb)
		r = cli_error("--shared-with", "out of memory");
	else if ((r = side_frames(a, &fa)) == 0 && (r = side_frames(b, &fb)) == 0) {
		ml_frames_compare(fa, fb, ca, cb, ret);
		set_share(a, ca);
		set_share(b, cb);
	}
	free(ca);
	free(cb);
	ml_frames_free(fa);
	ml_frames_free(fb);
	return r;
}

/* The table made whole in memory (*ret_text, *ret_len, malloc'ed) before
 * anything is printed: an allocation failing halfway (a small ulimit -v)
 * leaves nothing on stdout, not the process line and half a table.  0 or
 * -ENOMEM. */
static int table_text(const struct ml_pages_row *rows, size_t n,
		      const struct ml_table_opts *to, char **ret_text, size_t *ret_len)
{
	char *text;
	size_t len;
	FILE *mem = ml_memstream_open(&text, &len);
	int r;

	if (!mem)
		return -ENOMEM;
	r = ml_render_pages(rows, n, mem, to);
	if ((ferror(mem) | fclose(mem)) && r == 0)
		r = -ENOMEM;       /* it fails only to grow */
	if (r < 0) {
		free(text);
		return r == -EIO ? -ENOMEM : r;
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}

static int render(const struct pages_opts *o, struct side *a, struct side *b,
		  const struct ml_share_totals *t)
{
	bool plain = !(o->cli.out_flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS));
	struct ml_table_opts to = { o->cli.columns, o->cli.ncolumns, o->cli.out_flags };
	int shared_ids[MAX_COLUMNS];
	struct ml_pages_row *rows = a->rows;
	size_t n = a->nrows, len;
	const char *bad;
	char *table;
	int r;

	if (cli_color(STDOUT_FILENO))
		to.flags |= ML_OUT_COLOR;
	if (!o->cli.have_columns && b) {
		ml_pages_columns_parse(SHARED_COLUMNS, shared_ids, MAX_COLUMNS, &to.ncolumns, &bad);
		to.columns = shared_ids;
	} else if (!o->cli.have_columns)
		to.columns = NULL;
	if (b) {   /* both sides in one table, the PID column tells them apart */
		if (!(rows = malloc((a->nrows + b->nrows) * sizeof(*rows))))
			return -ENOMEM;
		memcpy(rows, a->rows, a->nrows * sizeof(*rows));
		memcpy(rows + a->nrows, b->rows, b->nrows * sizeof(*rows));
		n += b->nrows;
	}
	r = table_text(rows, n, &to, &table, &len);
	if (rows != a->rows)
		free(rows);
	if (r < 0)
		return r;
	if (plain) {
		header(a);
		if (b)
			header(b);
	}
	fwrite(table, 1, len, stdout);
	free(table);
	FILE *f = plain ? cli_fold_open(2, NULL) : stdout;
	if (plain) {
		legend(o, a, f);
		if (b)
			fprintf(f, "Frames: %" PRIu64 " mapped by both %d and %d, %" PRIu64
			       " only by %d, %" PRIu64 " only by %d.  Each process has its own"
			       " page tables; SHARED pages map a frame the other maps too.\n",
			       t->shared, (int)a->pid, (int)b->pid, t->only_a, (int)a->pid,
			       t->only_b, (int)b->pid);
	}
	if (cli_fold_close(f) < 0 && r == 0)
		r = -EIO;
	return r;
}

static int parse_args(struct pages_opts *o, int argc, char **argv)
{
	int r;

	if ((r = method_from_env(o)))
		return r;
	if ((r = cli_getopt(&spec, argc, argv, &o->cli, o)))
		return r;
	return o->cli.nwords ? parse_selector(&o->sel, o->cli.words[0]) : 0;
}

/* Will the scans read pagemap with pread: asked for, or auto on a kernel
 * without PAGEMAP_SCAN (asked of memlayout's own pagemap: the ioctl is the
 * kernel's).  Then the snapshots read smaps too, whose Rss and Swap let
 * the scanner skip empty ---p reservations (ml_residency_scan_region). */
static bool will_pread(enum ml_scan_method m)
{
	struct ml_pagemap *pm = NULL;
	struct ml_scanner *sc = NULL;
	struct ml_residency res;
	bool pread = m == ML_SCAN_PREAD;

	if (m == ML_SCAN_AUTO && ml_pagemap_open(getpid(), NULL, &pm) == 0 &&
	    ml_scanner_new(pm, m, &sc) == 0 &&
	    ml_residency_scan(sc, (uintptr_t)&res, (uintptr_t)&res + 1, 1, &res) == 0)
		pread = ml_scanner_method(sc) == ML_SCAN_PREAD;
	ml_scanner_free(sc);
	ml_pagemap_close(pm);
	return pread;
}

/* Snapshot (maps, and smaps with pread: kinds, objects) of another PID. */
static int snapshot_pid(struct side *s, unsigned int flags)
{
	struct ml_snap_opts so = { NULL, flags };
	int r = ml_snapshot_take(s->pid, &so, &s->snap);

	return r < 0 ? target_error(s->arg, -r) : 0;
}

/* The bar's cells without -w: DEFAULT_WIDTH, or on a terminal (default
 * columns) what its width leaves beside START, KIND, OBJECT and RESIDENT
 * (about 58 columns), from 8 to DEFAULT_WIDTH. */
static unsigned int bar_width(const struct cli_opts *cli)
{
	unsigned int w = cli_term_width();

	if (!(cli->out_flags & ML_OUT_TERM) || cli->have_columns || !w)
		return DEFAULT_WIDTH;
	return w < 58 + 8 ? 8 : w - 58 > DEFAULT_WIDTH ? DEFAULT_WIDTH : w - 58;
}

int cli_cmd_pages(int argc, char **argv)
{
	struct pages_opts o = { .width = 0 };
	struct side a = { 0 }, b = { 0 };
	struct ml_share_totals t = { 0 };
	struct ml_traced *tr = NULL;
	int r;

	if ((r = parse_args(&o, argc, argv)))
		return r == CLI_DONE ? CLI_EXIT_OK : r;
	if (!o.width)
		o.width = bar_width(&o.cli);
	if (will_pread(o.method))
		o.cli.target.snap_flags |= ML_SNAP_SMAPS;
	if ((r = cli_snapshot(&o.cli.target, &a.snap, &tr)))
		return r;
	a.pid = tr ? ml_traced_pid(tr) : o.cli.target.pid;
	a.arg = o.cli.target.argv ? o.cli.target.argv[0] : o.cli.target.pid_arg;
	if ((r = scan_side(&a, &o, false)))
		goto out;
	if (!a.nrows && o.sel.type != SEL_ALL) {
		r = no_match(&o, a.pid);
		goto out;
	}
	if (o.other_arg) {
		b.pid = o.other;
		b.arg = o.other_arg;
		bool whole = o.sel.type == SEL_RANGE || o.sel.type == SEL_ADDR;
		if ((r = snapshot_pid(&b, o.cli.target.snap_flags & ML_SNAP_SMAPS)) ||
		    (r = scan_side(&b, &o, whole)) || (r = compare_frames(&a, &b, &t)))
			goto out;
	}
	r = render(&o, &a, o.other_arg ? &b : NULL, &t);
	if (r == -ENOMEM)
		r = cli_error(a.arg ? a.arg : "pages", "out of memory");
	else if (r < 0 || fflush(stdout) || ferror(stdout))
		r = cli_error("stdout", "write error");
out:
	side_free(&a);
	side_free(&b);
	if (tr)
		ml_trace_finish(tr, false);
	return r;
}
