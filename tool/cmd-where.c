/* SPDX-License-Identifier: MIT */
/*
 * cmd-where.c - `memlayout where`: what each given address of a process
 * is: region, object, section, symbol, source line, stack or heap facts,
 * the hole an unmapped address lies in, the page and what pagemap says.
 *
 * Addresses come from the command line (checked before the process is
 * read: a malformed one is a usage error) or, with "-", one per line from
 * stdin (batch mode: a malformed line is reported and skipped, and the
 * exit status is 2 at the end).  Answers are a block per address, or a
 * table / JSON.  Addresses from the command line (as many as fit in
 * ARG_MAX) are answered into memory and written only when all are
 * answered, so a failure midway (the process exits) leaves nothing on
 * stdout; a batch from stdin streams its answers as they are computed,
 * and a failure leaves the answers before it on stdout.
 */
#include "cli.h"
#include "heap-where.h"

#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_NO_PAGEMAP = CLI_OPT_CMD, OPT_NO_SYMBOLS };

struct where_opts {
	struct cli_opts cli;         /* the shared options, the target, the ADDR words */
	bool table, no_pagemap, no_symbols;
};

/* The state of one run: what answers are rendered with. */
struct where_run {
	const struct where_opts *o;
	const struct ml_snapshot *snap;
	struct ml_where_ctx *ctx;
	struct ml_where_table *table;   /* NULL: blocks */
	FILE *out;                      /* stdout, or the memory of a buffered run */
	unsigned int block_flags;
	size_t count;
	bool bad_input;
	struct cli_heap_glibc *glibc;    /* glibc malloc's heap, read at the first heap address */
};

/* Its options, shared ones included, as --help lists them. */
static const struct cli_opt opts[] = {
	CLI_FLAG('t', "table", "a table, one line per address", struct where_opts, table),
	CLI_SHARED(CLI_OUTPUT | CLI_SELF | CLI_PROC_ROOT | CLI_CORE | CLI_PTRACE | CLI_AT),
	CLI_SAYS('o', "table columns (\"+COL,...\" adds to the default)"),
	CLI_SAYS('J', "JSON output (every column unless -o)"),
	CLI_SAYS('r', "raw table output"),
	CLI_SAYS('n', "table without headings"),
	CLI_SAYS('b', "sizes and distances in bytes"),
	CLI_SAYS(CLI_OPT_SELF, "addresses of memlayout itself"),
	CLI_SAYS(CLI_OPT_AT, "with -- COMMAND: when to look (default exit)"),
	CLI_FLAG(OPT_NO_PAGEMAP, "no-pagemap", "do not read /proc/PID/pagemap", struct where_opts,
		 no_pagemap),
	CLI_FLAG(OPT_NO_SYMBOLS, "no-symbols", "no sections, symbols or source lines",
		 struct where_opts, no_symbols),
	{ 0 },
};
/* Columns that need source lines looked up (DWARF line tables). */
static const char *const line_columns[] = { "SOURCE", "DEBUGINFO" };

static const struct cli_excl excl[] = {
	{ 'J', 'r' }, { CLI_OPT_SELF, CLI_OPT_PROC_ROOT }, { 0 },
};
/* The addresses after the target (cli_getopt's words): at least one, each
 * "-" or an address. */
static int parse_addrs(struct where_opts *o)
{
	uint64_t a;

	if (o->cli.nwords == 0)
		return cli_usage_error("where", "no address given (ADDR..., or - for stdin)");
	for (int i = 0; i < o->cli.nwords; i++)
		if (strcmp(o->cli.words[i], "-") && cli_parse_addr(o->cli.words[i], &a) < 0)
			return cli_usage_error(o->cli.words[i], "not an address (hex like 0x7ffd1234 or 7ffd1234, or decimal like 0d4096)");
	return 0;
}

static const struct cli_spec spec = {
	.verb = "where",
	.synopsis = " memlayout where [options] PID ADDR...\n"
		    " memlayout where [options] --self ADDR...\n"
		    " memlayout where [options] ADDR... -- COMMAND [ARGS]\n"
		    " memlayout where [options] PID -      (addresses from stdin, one a line)\n"
		    " memlayout where [options] CORE ADDR... (a core dump: the dead process)\n",
	.about = "Tell what each address is in the process's memory: its region (kind,\n"
		 "object, permissions, offsets), ELF section, symbol and source line;\n"
		 "whose stack or how far into the heap; for an unmapped address the kind\n"
		 "of hole and the nearest regions; the page, its page-table walk, and\n"
		 "what /proc/PID/pagemap says of it (frame numbers need root).\n"
		 "ADDR is hexadecimal, with or without 0x (as maps and pmap print it);\n"
		 "decimal only after 0d (0d4096).\n",
	.opts = opts,
	.examples = " memlayout where $$ 0x55d0c3a1f010           one address of your shell\n"
		    " memlayout where -t 1234 0x7ffd5c3b0000 0    a table: a stack, the NULL zone\n"
		    " memlayout where -J 1234 0x401136            JSON, every field\n"
		    " seq 4096 4096 65536 | memlayout where -t -r 1234 -   batch from stdin\n",
	.excl = excl,
	.columns = ml_where_columns,
	.list_width = 12,
	.words = CLI_WORDS_OPERANDS,
};

static int parse_args(struct where_opts *o, int argc, char **argv)
{
	int r = cli_getopt(&spec, argc, argv, &o->cli, o);

	if (r)
		return r;
	/* Any table option asks for the table. */
	if (o->cli.have_columns || (o->cli.out_flags & (ML_OUT_JSON | ML_OUT_RAW | ML_OUT_NOHEADINGS)))
		o->table = true;
	return parse_addrs(o);
}

/* The input of a message about the process: the PID as typed, else the
 * verb (--self, -- COMMAND). */
static const char *who(const struct where_opts *o)
{
	return o->cli.target.pid_arg ? o->cli.target.pid_arg : "where";
}

/* run_where()'s "the process exec'd before anything was written: take a
 * new snapshot and start again" (not an exit code). */
#define WHERE_AGAIN (-1)

/* After -ESRCH midway: is the process still there, the same one (start
 * time), with a new image?  Then it exec'd rather than exited. */
static bool execd(const struct ml_snapshot *snap)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	struct ml_snap_opts opts = { NULL, ML_SNAP_NOELF };
	struct ml_snapshot *now;
	bool same;

	if (ml_snapshot_take(p->pid, &opts, &now) < 0)
		return false;
	same = ml_snapshot_proc(now)->start_time == p->start_time;
	ml_snapshot_free(now);
	return same;
}

/* Explain and render one address; 0, or an exit code. */
static int answer(struct where_run *run, uint64_t addr)
{
	struct ml_where w;
	int r = ml_where_explain(run->ctx, addr, &w);

	if (r == -ESRCH) {
		bool exec = execd(run->snap);
		if (exec && run->out != stdout)   /* buffered: nothing written yet */
			return WHERE_AGAIN;
		return cli_error(who(run->o), "the process %s while being read",
				 exec ? "exec'd" : "exited");
	}
	if (r < 0)
		return cli_error("where", "%s", strerror(-r));
	if (!run->table && run->count)
		putc('\n', run->out);      /* a blank line between blocks */
	r = run->table ? ml_where_table_add(run->table, &w)
		       : ml_render_where_block(&w, run->out, run->block_flags);
	if (r >= 0 && !run->table)
		r = cli_heap_glibc_where_line(run->snap, &run->glibc, addr, run->out);
	run->count++;
	return r < 0 ? cli_error("stdout", "write error") : 0;
}

/* Hex digit values + 1, 0 for any other byte: one load a digit, no
 * branches on which range the byte is in. */
static const unsigned char hex_value[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* An address of a batch line: "0x" and 1 to 16 hex digits, the usual
 * form, parsed here (strtoull was a few percent of a batch); anything
 * else by cli_parse_addr, which gives the same answer for these. */
static int parse_line_addr(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t n = 0;
	unsigned int d;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return cli_parse_addr(s, ret);
	for (const char *p = s + 2; *p; p++, n++) {
		if (n == 16 || !(d = hex_value[(unsigned char)*p]))
			return cli_parse_addr(s, ret);
		v = v << 4 | (d - 1);
	}
	if (n == 0)
		return cli_parse_addr(s, ret);
	*ret = v;
	return 0;
}

/* Look ahead one line only where nothing can be waiting for an answer
 * before writing the next line: a regular file, not a pipe or terminal. */
static bool stdin_is_file(void)
{
	struct stat st;

	return fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
}

/* Batch mode: one address a line; blank lines and #-comments skipped.
 * Reading a file, an address is answered once the next one is read, and
 * the next one's region is prefetched meanwhile (a big process's region
 * structs are not in cache). */
static int answer_stdin(struct where_run *run)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int r = 0;
	bool ahead = stdin_is_file(), pending = false;
	uint64_t pending_addr = 0;

	while (r == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
		char *s = line, *e = line + n;
		uint64_t a;

		lineno++;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (s == e || *s == '#')
			continue;
		if (parse_line_addr(s, &a) < 0) {
			if (pending && (r = answer(run, pending_addr)))
				break;
			pending = false;
			cli_error(s, "not an address (stdin line %zu)", lineno);
			run->bad_input = true;
			continue;
		}
		if (!ahead) {
			r = answer(run, a);
			continue;
		}
		ml_where_prefetch(run->ctx, a);
		if (pending)
			r = answer(run, pending_addr);
		pending = true;
		pending_addr = a;
	}
	if (r == 0 && pending)
		r = answer(run, pending_addr);
	free(line);
	return r;
}

static int answer_all(struct where_run *run)
{
	const struct where_opts *o = run->o;
	int r = 0;

	for (int i = 0; i < o->cli.nwords && r == 0; i++) {
		uint64_t a;

		if (!strcmp(o->cli.words[i], "-")) {
			r = answer_stdin(run);
			continue;
		}
		cli_parse_addr(o->cli.words[i], &a);   /* checked in parse_addrs */
		r = answer(run, a);
	}
	return r;
}

/* Blocks, the default columns and JSON show source lines; a table of
 * chosen columns needs them only if it has one of line_columns[]. */
static bool wants_lines(const struct where_opts *o)
{
	size_t n;
	const struct ml_column_info *c = ml_where_columns(&n);

	if (!o->table || !o->cli.have_columns)
		return true;
	for (size_t i = 0; i < o->cli.ncolumns; i++)
		for (size_t k = 0; k < sizeof(line_columns) / sizeof(line_columns[0]); k++)
			if (!strcmp(c[o->cli.columns[i]].name, line_columns[k]))
				return true;
	return false;
}

/* Symbolizer and pagemap are optional: without them fewer fields. */
static int open_helpers(const struct where_opts *o, const struct ml_snapshot *snap,
			struct ml_symbolizer **ret_sym, struct ml_pagemap **ret_pm)
{
	const struct ml_proc *p = ml_snapshot_proc(snap);
	int r;

	*ret_sym = NULL;
	*ret_pm = NULL;
	if (!o->no_symbols && (r = ml_symbolizer_new(snap, ret_sym)) < 0)
		return cli_error("where", "%s%s", cli_strerror_lib(-r, ML_LIBDW_SONAME),
				    r == -ENOTSUP ? " (--no-symbols does without it)" : "");
	if (o->no_pagemap || o->cli.target.core)   /* a core has no page tables */
		return 0;
	r = ml_pagemap_open(p->pid, o->cli.target.proc_root, ret_pm);
	if (r == -ESRCH && !o->cli.target.proc_root) {
		ml_symbolizer_free(*ret_sym);   /* the caller frees nothing on error */
		*ret_sym = NULL;
		if (!o->cli.target.argv && execd(snap))
			return WHERE_AGAIN;
		return cli_error(who(o), "%s", cli_strerror(ESRCH));
	}
	return 0;   /* a saved tree without pagemap, or no access: no page facts */
}

/* Does the run read addresses from stdin (a batch, streamed)? */
static bool batch(const struct where_opts *o)
{
	for (int i = 0; i < o->cli.nwords; i++)
		if (!strcmp(o->cli.words[i], "-"))
			return true;
	return false;
}

/* The answers of a buffered run to dest, once all were given (e == 0);
 * the memory freed either way.  e, or an exit code. */
static int flush_buffered(FILE *mem, char **buf, size_t *len, FILE *dest, int e)
{
	if (!mem)
		return e;
	if ((ferror(mem) | fclose(mem)) && e == 0)
		e = cli_error("where", "%s", strerror(ENOMEM));
	if (e == 0 && *len && fwrite(*buf, 1, *len, dest) != *len)
		e = cli_error("stdout", "write error");
	free(*buf);
	return e;
}

static int run_where(const struct where_opts *o, const struct ml_snapshot *snap)
{
	struct where_run run = { .o = o, .snap = snap, .out = stdout };
	struct ml_symbolizer *sym;
	struct ml_pagemap *pm;
	FILE *mem = NULL;
	char *membuf = NULL;
	size_t memlen = 0;
	int r, e;

	if ((r = open_helpers(o, snap, &sym, &pm)))
		return r;
	/* On a terminal the blocks' lines are folded at its width, the rest
	 * of a line under the values. */
	FILE *dest = o->table ? stdout : cli_fold_open(ML_WHERE_LABEL_LEN, NULL);
	run.out = dest;
	if (!batch(o) && !(run.out = mem = ml_memstream_open(&membuf, &memlen))) {
		cli_fold_close(dest);
		ml_pagemap_close(pm);
		ml_symbolizer_free(sym);
		return cli_error("where", "%s", strerror(ENOMEM));
	}
	if (!isatty(STDOUT_FILENO))   /* a batch writes fewer, larger chunks */
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* One thread writes stdout: no lock per call (libsmartcols writes
	 * raw cells a character at a time). */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	r = ml_where_ctx_new(snap, sym, pm, &run.ctx);
	if (r == 0 && !wants_lines(o))
		ml_where_ctx_set_flags(run.ctx, ML_WHERE_NO_LINES);
	if (r == 0 && o->table) {
		struct ml_table_opts to = { o->cli.have_columns ? o->cli.columns : NULL,
					    o->cli.ncolumns, o->cli.out_flags };
		r = ml_where_table_new(run.out, &to, &run.table);
	}
	if (r < 0) {
		e = cli_error("where", "%s", strerror(-r));
	} else {
		run.block_flags = o->cli.out_flags | (cli_color(STDOUT_FILENO) ? ML_OUT_COLOR : 0);
		e = answer_all(&run);
		if (run.table) {
			r = ml_where_table_finish(run.table);
			if (e == 0 && r < 0)
				e = cli_error("stdout", "write error");
		}
		if (e == 0 && run.bad_input)
			e = CLI_EXIT_USAGE;
	}
	ml_where_ctx_free(run.ctx);
	cli_heap_glibc_where_done(run.glibc);
	ml_pagemap_close(pm);
	ml_symbolizer_free(sym);
	e = flush_buffered(mem, &membuf, &memlen, dest, e);
	if (cli_fold_close(dest) < 0 && e == 0)
		e = cli_error("stdout", "write error");
	return e;
}

int cli_cmd_where(int argc, char **argv)
{
	struct where_opts o = { 0 };
	struct ml_snapshot *snap;
	struct ml_traced *tr;
	int r;

	if ((r = parse_args(&o, argc, argv)))
		return r < 0 ? CLI_EXIT_OK : r;
	/* A process that exec'd under us is read again (WHERE_AGAIN). */
	for (int try = 1; ; try++) {
		if ((r = cli_snapshot(&o.cli.target, &snap, &tr)))
			return r;
		r = run_where(&o, snap);
		ml_snapshot_free(snap);
		if (tr)
			ml_trace_finish(tr, o.cli.target.at == ML_STOP_AT_START);
		if (r != WHERE_AGAIN)
			break;
		if (try == ML_SNAP_TRIES) {
			r = cli_error(who(&o), "%s", cli_strerror(ESTALE));
			break;
		}
	}
	if (fflush(stdout) && r == 0)
		return cli_error("stdout", "write error");
	return r;
}
