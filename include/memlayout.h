/* SPDX-License-Identifier: MIT */
/*
 * memlayout.h - public API of libmemlayout.
 *
 * libmemlayout reads a process's address space (/proc/PID/maps, smaps,
 * status, stat, limits, auxv, task/TID/syscall, and the ELF files mapped
 * into it) and builds a snapshot: the ordered regions, each named in the
 * terms of the process memory model (text, rodata, data, bss, heap, stack,
 * thread stack, guard, anonymous mmap, ...), plus the process facts.
 *
 * Conventions: functions return 0 (or a count) on success and -errno on
 * failure; ret_* outputs are untouched on failure; the library never prints,
 * logs or exits; destructors accept NULL.  Structures marked "read-only" are
 * owned by the snapshot and stay valid until ml_snapshot_free().
 *
 * Installed as <memlayout/memlayout.h>, with libmemlayout.so.0 and
 * memlayout.pc (pkg-config --cflags --libs memlayout).  Every function
 * declared here is exported (lib/libmemlayout.map lists them); nothing
 * else is.
 */
#ifndef MEMLAYOUT_H
#define MEMLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a region is, in the terms of the process memory model.  The order is
 * the order of the per-kind summary.  ml_kind_name() gives the short name
 * used in tables and JSON. */
enum ml_kind {
	ML_KIND_TEXT,         /* executable code of an ELF object          */
	ML_KIND_RODATA,       /* read-only data of an ELF object           */
	ML_KIND_RELRO,        /* .data.rel.ro/.got, read-only after start  */
	ML_KIND_DATA,         /* initialised writable data (.data)         */
	ML_KIND_BSS,          /* zero-initialised data (.bss)              */
	ML_KIND_HEAP,         /* memory an allocator manages: the brk heap
	                         and its mmap'ed arenas, segments, chunks  */
	ML_KIND_STACK,        /* the main thread's stack                   */
	ML_KIND_THREAD_STACK, /* another thread's stack                    */
	ML_KIND_GUARD,        /* PROT_NONE page below a thread stack       */
	ML_KIND_RESERVED,     /* other PROT_NONE reservation               */
	ML_KIND_ANON,         /* anonymous mmap                            */
	ML_KIND_FILE,         /* file mmap that is not an ELF segment      */
	ML_KIND_SHM,          /* shared memory: SysV, memfd, /dev/shm, ... */
	ML_KIND_VDSO,
	ML_KIND_VVAR,
	ML_KIND_VSYSCALL,
	ML_KIND_GPU,          /* GPU driver mappings, CUDA's unified address
	                         space, pinned host buffers               */
	ML_KIND_DEVICE,       /* another device's memory (/dev/dax*, ...)  */
	ML_KIND_RING,         /* a ring shared with the kernel: io_uring,
	                         perf events, BPF ring buffers             */
	ML_KIND_OTHER,        /* a special mapping we do not know          */
	ML_KIND__COUNT
};

/* Permission bits of a region (the rwxp/s column). */
enum {
	ML_PERM_READ    = 1 << 0,
	ML_PERM_WRITE   = 1 << 1,
	ML_PERM_EXEC    = 1 << 2,
	ML_PERM_SHARED  = 1 << 3,
};

/* smaps figures of one region, in bytes (the kernel's kB times 1024).
 * have_smaps in ml_region says whether they were read; if not, its smaps
 * points at figures that are all zero. */
struct ml_smaps {
	uint64_t rss, pss, pss_dirty;
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, swap, swap_pss, locked;
	uint64_t anon_huge, shmem_pmd, file_pmd;
	uint64_t kernel_page_size, mmu_page_size;
	uint64_t vmflags;        /* bit i set <=> ml_vmflag_name(i) present */
	char vmflags_str[96];    /* the VmFlags line as the kernel wrote it  */
};

/* One ELF section (or, for files without section headers, one program
 * header, named like "[LOAD#1]") clipped to the region holding it. */
struct ml_section {
	const char *name;        /* read-only, owned by the snapshot */
	uint64_t start, end;     /* absolute addresses, end exclusive */
	bool nobits;             /* SHT_NOBITS (.bss, .tbss) */
};

/* Who manages a region's memory: the allocator or language runtime that
 * mapped it (kind heap), as far as memlayout can tell.  ml_region_allocator()
 * gives the short name used in tables and JSON. */
enum ml_allocator {
	ML_ALLOC_NONE,
	ML_ALLOC_GLIBC,       /* glibc malloc: brk heap, arenas, mmap'ed chunks */
	ML_ALLOC_MLALLOC,     /* this project's allocator (alloc/)           */
	ML_ALLOC_JEMALLOC,
	ML_ALLOC_TCMALLOC,
	ML_ALLOC_MIMALLOC,
	ML_ALLOC_OBMALLOC,    /* CPython's small-object allocator            */
	ML_ALLOC_GO,          /* the Go runtime's heap arenas                */
	ML_ALLOC_V8,          /* V8's heap (node, chromium)                  */
	ML_ALLOC_JVM,         /* the Java heap                               */
	ML_ALLOC_NAMED,       /* an allocator that named it ([anon:NAME])    */
	ML_ALLOC__COUNT
};

/* How the owner of a region was told; the last one is a guess. */
enum ml_owner_basis {
	ML_OWNER_NONE,
	ML_OWNER_NAME,        /* the kernel's name: [heap], [anon:NAME]      */
	ML_OWNER_LAYOUT,      /* a layout only that allocator makes (glibc's
	                         aligned arena reservations, Go's arena hints) */
	ML_OWNER_HEADER,      /* its own structures read from the target's
	                         memory and checked (chunk or pool headers) */
	ML_OWNER_SHAPE,       /* a guess: size, alignment, the library loaded */
	ML_OWNER__COUNT
};

/* One mapping (a line of /proc/PID/maps), read-only. */
struct ml_region {
	uint64_t start, end;     /* [start, end) */
	uint64_t offset;         /* file offset */
	uint64_t inode;
	const char *name;        /* decoded pathname or [special], "" if none;
	                            may hold any byte but NUL */
	const char *object;      /* owning object (ELF path, "[stack]", ...),
	                            NULL if none */
	struct ml_section *sections;
	size_t nsections;
	const struct ml_smaps *smaps;   /* never NULL; apart, so that a region
	                                   read without smaps stays small */
	unsigned int perms;      /* ML_PERM_* */
	unsigned int dev_major, dev_minor;
	enum ml_kind kind;
	pid_t tid;               /* thread whose stack (or guard) this is, 0 */
	bool deleted;            /* the name ended in " (deleted)" */
	bool have_smaps;
	uint8_t allocator;       /* enum ml_allocator: whose memory this is */
	uint8_t owner_basis;     /* enum ml_owner_basis: how that was told */
	/* (In this order, 96 bytes: 20,000 regions fit one 2 MiB page.) */
};

/* Facts of the process as a whole, read-only. */
struct ml_proc {
	pid_t pid;
	char comm[64];
	const char *exe;          /* target of /proc/PID/exe or NULL */
	bool is_32bit;
	uint64_t start_brk;       /* stat field 47: where the heap starts */
	uint64_t brk;             /* end of [heap] (page-rounded brk), or start_brk */
	uint64_t start_stack;     /* stat field 28 */
	uint64_t stack_rlimit;    /* RLIMIT_STACK soft limit, UINT64_MAX = unlimited */
	uint64_t mmap_min_addr;   /* /proc/sys/vm/mmap_min_addr */
	uint64_t user_top;        /* first address above user space */
	uint64_t kernel_start;    /* first kernel address (may be > user_top) */
	unsigned int paging_levels; /* 4 or 5 on x86-64 (32-bit tasks too), 0 unknown */
	uint64_t page_size;
	uint64_t entry;           /* AT_ENTRY from auxv, 0 if unknown */
	uint64_t vdso;            /* AT_SYSINFO_EHDR, 0 if unknown */
	uint64_t minflt, majflt;
	size_t nthreads;
	uint64_t arg_start, env_start;  /* stat fields 48, 50: argv and environment strings, 0 if unknown */
	uint64_t start_time;      /* stat field 22 (clock ticks after boot): kept across exec, new for a reused PID */
};

/* One thread of the process, read-only. */
struct ml_thread {
	pid_t tid;
	char comm[64];
	bool sp_known;            /* false if "running" and not interrupted */
	uint64_t sp, pc;
	long syscall_nr;          /* -1 if not in a syscall, -2 if running */
};

struct ml_snapshot;

/* Options for taking a snapshot. */
enum {
	ML_SNAP_SMAPS  = 1 << 0,  /* read smaps (RSS/PSS/...), not just maps */
	ML_SNAP_NOELF  = 1 << 1,  /* skip ELF attribution */
	ML_SNAP_PTRACE = 1 << 2,  /* interrupt running threads to read sp */
};

struct ml_snap_opts {
	const char *proc_root;    /* NULL means "/proc" */
	unsigned int flags;       /* ML_SNAP_* */
};

/* Take a snapshot of process pid.  Returns 0 or -errno: -ESRCH no such
 * process (or it exited mid-read), -EOWNERDEAD a zombie (exited, not yet
 * reaped by its parent: no address space), -EACCES/-EPERM permission denied,
 * -ENODATA a kernel thread (no user address space), -EBADMSG unparsable
 * input; of a live process, read again up to ML_SNAP_TRIES times before
 * -EAGAIN (its maps came out overlapping on every read: the address space
 * kept changing) or -ESTALE (it exec'd during every read).  On success
 * *ret owns the snapshot. */
#define ML_SNAP_TRIES 8
int ml_snapshot_take(pid_t pid, const struct ml_snap_opts *opts,
		     struct ml_snapshot **ret);
void ml_snapshot_free(struct ml_snapshot *snap);

/* Accessors; the returned pointers are valid until ml_snapshot_free(). */
const struct ml_proc *ml_snapshot_proc(const struct ml_snapshot *snap);
const struct ml_region *ml_snapshot_regions(const struct ml_snapshot *snap,
					    size_t *ret_n);
const struct ml_thread *ml_snapshot_threads(const struct ml_snapshot *snap,
					    size_t *ret_n);
/* The region containing addr, or NULL.  O(log n). */
const struct ml_region *ml_snapshot_find(const struct ml_snapshot *snap,
					 uint64_t addr);

/* Name the mapping holding addr as thread tid's stack (and the PROT_NONE
 * mapping directly below it as its guard), from an address known to lie
 * in that stack whatever the thread's sp is now (its first sp, recorded
 * when it was created).  0, -EINVAL, or -ENOENT (addr is in no anonymous
 * writable mapping: nothing changed). */
int ml_snapshot_mark_stack(struct ml_snapshot *snap, pid_t tid, uint64_t addr);

/* The section of region r holding addr, or NULL (none, or not in r). */
const struct ml_section *ml_region_section(const struct ml_region *r, uint64_t addr);

/* Names: static strings, never NULL ("?" for out-of-range values). */
const char *ml_kind_name(enum ml_kind kind);
const char *ml_kind_description(enum ml_kind kind);
/* Parse a kind name; returns the kind or -EINVAL. */
int ml_kind_from_name(const char *name);
/* "CPython obmalloc", ...: the allocator in a few words; NULL as above. */
const char *ml_allocator_description(enum ml_allocator a);
/* A region's owner as one phrase: "glibc", or for a guess "probably
 * jemalloc"; NULL when it has none.  Static strings. */
const char *ml_region_allocator(const struct ml_region *r);
/* What told the owner, in words ("chunk header with IS_MMAPPED and the
 * mapping's size", "1 MiB arena with pool headers", ...); NULL if none. */
const char *ml_region_owner_evidence(const struct ml_region *r);
const char *ml_vmflag_name(unsigned int bit);     /* "rd", "wr", ... */
/* perms as maps writes them ("r-xp", "rw-s") into buf; returns buf. */
char *ml_perms_str(unsigned int perms, char buf[5]);


/* Running a command under ptrace and snapshotting it (see ml_trace.c). */
enum ml_stop_at {
	ML_STOP_AT_EXIT,          /* PTRACE_EVENT_EXIT: address space whole */
	ML_STOP_AT_START,         /* entry point, after the dynamic loader  */
};

/* A command started in a child process (ml_spawn_start): its PID, and the
 * descriptors that release it (go_fd, -1 unless ML_SPAWN_HOLD), that
 * tell whether its exec failed (err_fd), that write its stdin (in_fd, -1
 * unless ML_SPAWN_PIPE_IN) and read its stdout (out_fd, -1 unless
 * ML_SPAWN_PIPE_OUT).  The caller waits for the child and closes the
 * descriptors with ml_spawn_close() (one it took over set to -1 first). */
struct ml_spawn {
	pid_t pid;
	int go_fd, err_fd;
	int in_fd, out_fd;
};
enum {
	ML_SPAWN_HOLD    = 1 << 0,  /* the child waits for ml_spawn_release() */
	ML_SPAWN_TRACEME = 1 << 1,  /* PTRACE_TRACEME and SIGSTOP before exec */
	ML_SPAWN_WATCH_PTRACE = 1 << 2, /* a seccomp filter (if the kernel takes
	                               it) stops its ptrace(2) calls at
	                               PTRACE_EVENT_SECCOMP for a tracer with
	                               PTRACE_O_TRACESECCOMP; untraced: ENOSYS */
	ML_SPAWN_PIPE_IN  = 1 << 3,  /* its stdin a pipe we write (in_fd) */
	ML_SPAWN_PIPE_OUT = 1 << 4,  /* its stdout a pipe we read (out_fd) */
	ML_SPAWN_OUT_TO_ERR = 1 << 5, /* its stdout our stderr */
};
/* Fork and, in the child, execvp(argv[0], argv) (after the flags' steps).
 * 0 or -errno (pipe, fork; -EINVAL for bad arguments). */
int ml_spawn_start(char *const argv[], unsigned int flags, struct ml_spawn *ret);
/* Let a held child go on to its exec; closes go_fd.  0 or -errno. */
int ml_spawn_release(struct ml_spawn *s);
/* The exec's error if the child has sent one: -errno (-ENOENT for a
 * command not found), else 0.  Never blocks: for a child known to have
 * ended, or to ask in passing. */
int ml_spawn_exec_error(const struct ml_spawn *s);
/* Wait until the child has exec'd (0) or failed to (-errno). */
int ml_spawn_wait_exec(const struct ml_spawn *s);
/* Close the descriptors (NULL is fine); the child is not touched. */
void ml_spawn_close(struct ml_spawn *s);
/* The file called name in the first directory of PATH (execvp's search,
 * its default "/bin:/usr/bin" when PATH is unset; an empty entry is the
 * current directory) that faccessat(mode, AT_EACCESS) allows, into buf;
 * a name with a '/' is checked as it is.  0, -ENOENT (none), -EINVAL
 * (len 0) or -ENAMETOOLONG. */
int ml_path_find(const char *name, int mode, char *buf, size_t len);

struct ml_traced;
/* Fork and exec argv[0] (searched in PATH) under ptrace, run it until the
 * stop point, and return the stopped child in *ret.  -ENOENT/-EACCES if it
 * cannot be executed, -ECHILD if it ended before the stop point (its wait
 * status is then in *ret_status if non-NULL). */
int ml_trace_start(char *const argv[], enum ml_stop_at at,
		   struct ml_traced **ret, int *ret_status);
pid_t ml_traced_pid(const struct ml_traced *t);
/* Let the child go on (at exit: let it exit) and reap it.  Returns the wait
 * status (>= 0) or -errno.  With kill, SIGKILL it first.  Frees t. */
int ml_trace_finish(struct ml_traced *t, bool kill);

/* Escaping of text the target controls.  ML_ESC_TERM: control bytes,
 * backslash, invalid UTF-8 and invisible format characters (Unicode Cf:
 * bidi controls, zero-width characters, BOM) as \xHH / \\; ML_ESC_JSON_SAFE: the same
 * for bytes that are not valid UTF-8 only (the JSON writer escapes the
 * rest).  Returns a malloc'ed string or NULL on ENOMEM. */
enum ml_escape { ML_ESC_TERM, ML_ESC_JSON_SAFE };
char *ml_escape(const char *s, enum ml_escape mode);


/* ---- Renderers (render-table.c, render-diagram.c) ----
 * They write to the FILE the caller gives and nothing else. */
#include <stdio.h>

/* A stream that passes the JSON text written to it on to out, with DEL
 * and the invisible format characters (Unicode Cf: the bidirectional-text
 * controls U+061C, U+200E-200F, U+202A-202E, U+2066-2069, zero-width
 * characters, BOM, tags) as \u escapes: libsmartcols' JSON writer leaves
 * them raw.  fclose() it to flush it (out stays open): 0, or EOF if
 * a write to out failed.  NULL on ENOMEM. */
FILE *ml_json_stream(FILE *out);

/* A stream that writes each line to out as it is when it takes at most
 * width terminal columns, else folded at blanks into pieces that do, each
 * after the first led by the line's first indent columns (two thirds of
 * width at most) with only the bytes in keep (NULL: none) left and the
 * rest blanked; escape sequences take no column.  fclose() writes a last unended line and leaves out
 * open; it returns EOF if a write to out failed.  NULL on ENOMEM. */
FILE *ml_fold_stream(FILE *out, unsigned int width, unsigned int indent, const char *keep);

/* A stream into a growing heap buffer, as open_memstream(), except that a
 * failure to grow is an error of the stream (ferror(), and fclose()
 * returns EOF), where glibc's drops the write silently.  fclose() sets
 * *ret (malloc'ed, NUL-terminated; NULL if nothing was written, free() it
 * either way) and *ret_len; check ferror() before fclose().  NULL on
 * ENOMEM. */
FILE *ml_memstream_open(char **ret, size_t *ret_len);

enum {
	ML_OUT_JSON       = 1 << 0,
	ML_OUT_RAW        = 1 << 1,
	ML_OUT_NOHEADINGS = 1 << 2,
	ML_OUT_BYTES      = 1 << 3,   /* sizes as plain byte counts */
	ML_OUT_COLOR      = 1 << 4,   /* ANSI colour (caller decides: tty, NO_COLOR) */
	ML_OUT_SCOLS_ONLY = 1 << 5,   /* every table through libsmartcols: never
	                                 the bulk writer for plain ASCII tables
	                                 off a terminal (same bytes, faster) */
	ML_OUT_TERM       = 1 << 6,   /* stdout is a terminal (caller decides):
	                                 the default columns fitted to its width,
	                                 objects by their shortest unambiguous
	                                 names; never with JSON or raw */
};

/* On a terminal, how a default column gives way (ml_table_print): the
 * highest rank is hidden first (0: never; ML_FIT_OFF: always) until the
 * row fits; a truncated column counted at min columns at most (0: its
 * widest cell). */
#define ML_FIT_MAX 64
#define ML_FIT_OFF 255          /* a rank: hidden on every terminal */
struct ml_fit {
	unsigned char rank;
	unsigned char min;
};

/* How a column's cells go into JSON, and whose text they are: ML_COL_TEXT
 * and ML_COL_ARRAY hold text the target controls (escaped by the table
 * printer, for the terminal and for JSON); the others text made by
 * memlayout.  Numbers (SIZE with -b, NUM, FLOAT) are JSON numbers, BOOL a
 * JSON boolean (false: "0" or "false"), ARRAY a cell of lines an array of strings, an
 * empty cell null ([] for an array).  Numeric types are right-aligned. */
enum ml_col_type {
	ML_COL_STR, ML_COL_TEXT, ML_COL_HEX, ML_COL_SIZE, ML_COL_NUM, ML_COL_BOOL,
	ML_COL_FLOAT, ML_COL_ARRAY,
};

/* A cell: its text written into buf (ML_CELL_BUF bytes) and buf returned,
 * or a malloc'ed string the caller then frees, or NULL for an empty cell
 * (errno ENOMEM: the table failed).  row: the table's row; ctx: its
 * ml_table.ctx; flags: ML_OUT_*. */
#define ML_CELL_BUF 64
typedef char *(*ml_cell_fn)(const void *row, const void *ctx, unsigned int flags, char *buf);

/* One output column of any table: the one column description of every
 * view (-o, --list-columns, the default set, tables, raw and JSON). */
struct ml_column_info {
	const char *name;         /* "START", ... ; JSON key is the lower case */
	double whint;             /* libsmartcols width hint */
	bool is_size;             /* a size: human or -b bytes, JSON number */
	bool needs_smaps;         /* needs /proc/PID/smaps */
	bool is_default;          /* in the default set */
	const char *help;
	/* For ml_table_print (tables printed by their cells): */
	enum ml_col_type type;
	ml_cell_fn cell;
	struct ml_fit fit;        /* on a terminal */
	/* A cell's colour with ML_OUT_COLOR (not JSON, not raw), or NULL. */
	const char *(*color)(const void *row, const void *ctx);
	bool left;                /* a numeric type left-aligned all the same */
	bool label;               /* objects: on a fitted terminal by their
	                             shortest unambiguous names (labels.c) */
};

/* A table of rows printed through its column descriptions. */
struct ml_table {
	const char *name;                      /* its JSON key */
	const struct ml_column_info *cols;
	size_t ncols;
	const int *ids;                        /* the columns; NULL: the default set */
	size_t nids;
	const void *rows;                      /* nrows rows, stride bytes apart */
	size_t stride, nrows;
	const bool *skip;                      /* NULL, or per row: leave it out */
	const void *ctx;                       /* handed to every cell */
	bool json_every;                       /* JSON without ids: every column */
	const char *const *colors;             /* NULL, or per column of cols its colour
	                                          (header too; ML_OUT_COLOR, not JSON, raw) */
};
/* t as a table (libsmartcols: aligned, raw, no headings, colour; on a
 * terminal its default columns fitted to the width), or with ML_OUT_JSON
 * as the document {"name": [...]}.  0 or -errno (nothing printed on
 * ENOMEM before the first line). */
int ml_table_print(FILE *out, unsigned int flags, const struct ml_table *t);

/* The one JSON writer (json.c): a document of members, objects and arrays
 * nested, in libsmartcols' layout, through ml_json_stream().  A key is
 * NULL for an array's element.  Errors are kept; ml_json_end() closes what
 * is open, ends the document, frees j and returns 0 or -errno. */
struct ml_json;
int ml_json_begin(FILE *out, struct ml_json **ret);
/* The same document on one line, no blanks (JSON Lines: watch's). */
int ml_json_begin_line(FILE *out, struct ml_json **ret);
void ml_json_open(struct ml_json *j, const char *key, bool array);
void ml_json_close(struct ml_json *j);
void ml_json_str(struct ml_json *j, const char *key, const char *s);   /* NULL: null */
void ml_json_u64(struct ml_json *j, const char *key, uint64_t v);
void ml_json_i64(struct ml_json *j, const char *key, int64_t v);
void ml_json_hex(struct ml_json *j, const char *key, uint64_t v);     /* "0x..." */
void ml_json_bool(struct ml_json *j, const char *key, bool v);
void ml_json_null(struct ml_json *j, const char *key);
void ml_json_double(struct ml_json *j, const char *key, double v);   /* %.4f */
void ml_json_number(struct ml_json *j, const char *key, const char *text);
int ml_json_end(struct ml_json *j);
/* t as the member "name": [...] of an open document. */
int ml_json_table(struct ml_json *j, unsigned int flags, const struct ml_table *t);

/* The formatting module (format.c): into buf (ML_CELL_BUF bytes), which
 * is returned.  A size human ("4.0K") or, with ML_OUT_BYTES, in bytes; an
 * address "0x..."; a count; a ratio with four decimals. */
char *ml_fmt_size(char *buf, uint64_t v, unsigned int flags);
char *ml_fmt_hex(char *buf, uint64_t v);
char *ml_fmt_u64(char *buf, uint64_t v);
char *ml_fmt_ratio(char *buf, double v);
/* The column table; *ret_n gets its length. */
const struct ml_column_info *ml_columns(size_t *ret_n);
/* Parse "START,END,+RSS" style lists (a leading '+' appends to the default
 * set).  Fills ret_ids (column indexes) and *ret_n.  Returns 0, -EINVAL with
 * *ret_bad pointing at the unknown name (in list), -E2BIG if over max. */
int ml_columns_parse(const char *list, int *ret_ids, size_t max, size_t *ret_n,
		     const char **ret_bad);

struct ml_table_opts {
	const int *columns;       /* column ids; NULL = the default set */
	size_t ncolumns;
	unsigned int flags;       /* ML_OUT_* */
};
/* The region table.  Returns 0 or -errno. */
int ml_render_regions(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_table_opts *opts);
/* Per-kind totals: KIND COUNT VIRTUAL RSS PSS DIRTY SWAP. */
int ml_render_summary(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_table_opts *opts);

/* An address to point at in the diagram. */
struct ml_mark {
	uint64_t addr;
	const char *label;
};
struct ml_diagram_opts {
	unsigned int flags;       /* ML_OUT_COLOR, ML_OUT_BYTES */
	const struct ml_mark *marks;
	size_t nmarks;
	unsigned int width;       /* a terminal's columns: every line fitted
	                             to them; 0: lines as long as they are */
	unsigned int context;     /* >0: only this many regions either side
	                             of the one at `around` (a slice) */
	uint64_t around;
};
/* The address space top-down: kernel half, regions (gaps compressed and
 * labelled with their size), the stack's reach to RLIMIT_STACK, the brk,
 * the NULL guard zone.  Returns 0 or -errno. */
int ml_render_diagram(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_diagram_opts *opts);

/* The same address space as a picture (render-html.c): one band per region
 * coloured by kind, its height growing with log2 of its size (gaps too,
 * with their size on them), the marks, the stack pointers and the brk.
 * ml_render_svg() writes an SVG document; ml_render_html() one
 * self-contained HTML page (the SVG, the regions as JSON, a script for
 * details and zoom; nothing loaded from anywhere).  Text the target
 * controls is escaped.  opts: flags (ML_OUT_BYTES) and marks.  Returns 0
 * or -errno. */
int ml_render_svg(const struct ml_snapshot *snap, FILE *out,
		  const struct ml_diagram_opts *opts);
int ml_render_html(const struct ml_snapshot *snap, FILE *out,
		   const struct ml_diagram_opts *opts);

/* Human size: "4K", "1.5M", "8G" (binary units) into buf; returns buf. */
char *ml_size_human(uint64_t bytes, char *buf, size_t len);

/* --- Pages: /proc/PID/pagemap, /proc/kpageflags, /proc/kpagecount --- */

/* What the kernel says of one virtual page (Documentation/admin-guide/mm/
 * pagemap.rst).  A guard-region marker (bit 58) is tested before "swapped"
 * (bit 62), which the kernel may also set for it. */
enum {
	ML_PAGE_PRESENT     = 1u << 0,  /* bit 63: in RAM */
	ML_PAGE_SWAPPED     = 1u << 1,  /* bit 62, not a guard */
	ML_PAGE_FILE_SHARED = 1u << 2,  /* bit 61: file page or shared anonymous */
	ML_PAGE_EXCLUSIVE   = 1u << 3,  /* bit 56: mapped by this process only */
	ML_PAGE_GUARD       = 1u << 4,  /* bit 58: MADV_GUARD_INSTALL region */
	ML_PAGE_SOFT_DIRTY  = 1u << 5,  /* bit 55 */
	ML_PAGE_UFFD_WP     = 1u << 6,  /* bit 57 */
	ML_PAGE_PFN_HIDDEN  = 1u << 7,  /* present, but PFN reads as 0: needs CAP_SYS_ADMIN */
	ML_PAGE_KFLAGS      = 1u << 8,  /* kflags below is valid */
	ML_PAGE_MAPCOUNT    = 1u << 9,  /* mapcount below is valid */
};
struct ml_page {
	uint64_t entry;           /* the raw pagemap entry */
	unsigned int flags;       /* ML_PAGE_* */
	uint64_t pfn;             /* frame number when present and visible, else 0 */
	unsigned int swap_type;   /* when swapped */
	uint64_t swap_offset;
	uint64_t kflags;          /* /proc/kpageflags bits (KPF_*), with ML_PAGE_KFLAGS */
	uint64_t mapcount;        /* /proc/kpagecount, with ML_PAGE_MAPCOUNT */
};

/* The name of /proc/kpageflags bit (KPF_*), e.g. "thp", "zero_page"; NULL if
 * the bit has none. */
const char *ml_kpageflag_name(unsigned int bit);

struct ml_pagemap;
/* Open the pagemap of PID under proc_root (NULL: "/proc"), and the frame
 * files (kpageflags, kpagecount) when they can be read (root).  Returns 0,
 * -ESRCH, -EACCES, -ENOMEM. */
int ml_pagemap_open(pid_t pid, const char *proc_root, struct ml_pagemap **ret);
void ml_pagemap_close(struct ml_pagemap *pm);
/* ---- Crashes: memlayout run (tracee.c, insn.c, unwind.c, abortmsg.c,
 * crash.c, render-crash.c) ----
 * A thread stopped under ptrace at the delivery of a fatal signal is read
 * (registers, the faulting instruction, a backtrace, the C library's abort
 * message), then explained against a snapshot of its process. */

/* Registers of a thread stopped under ptrace, as the kernel gave them
 * (NT_PRSTATUS, in the tracee's own view: i386 layout for a 32-bit one). */
struct ml_regs {
	unsigned char raw[512];
	size_t len;
	bool is_32bit;
	uint64_t pc, sp;
};
/* Read them.  0 or -errno (-ESRCH: not a stopped tracee of ours). */
int ml_regs_get(pid_t tid, struct ml_regs *ret);
/* Copy len bytes at addr of process pid into buf; returns the count read
 * (may be short at the end of a mapping) or -errno. */
ssize_t ml_tracee_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* What /proc/TID/status says of a thread and its signal dispositions. */
struct ml_task_status {
	pid_t tgid;
	pid_t tracer;            /* TracerPid: 0 if not traced */
	uint64_t sig_blocked, sig_ignored, sig_caught;   /* bit (signo - 1) */
};
int ml_task_status(pid_t tid, struct ml_task_status *ret);

/* The kind of memory access of an instruction. */
enum ml_access {
	ML_ACCESS_UNKNOWN,
	ML_ACCESS_READ,
	ML_ACCESS_WRITE,
	ML_ACCESS_EXEC,
};
const char *ml_access_name(enum ml_access a);   /* "read", ... */

/* One decoded instruction (Zydis). */
struct ml_insn {
	char text[128];          /* "mov eax, dword ptr [rax + 0x18]" */
	unsigned int size;       /* bytes */
	bool has_mem;            /* an explicit or implicit (push, call, ret)
	                            memory operand */
	enum ml_access access;   /* of that operand: read or write */
	bool ea_known;           /* ea computed from the registers */
	uint64_t ea;             /* its effective address */
	unsigned int align;      /* alignment it requires (movaps: 16), 0 */
	enum ml_branch {
		ML_BRANCH_NONE, ML_BRANCH_CALL, ML_BRANCH_RET, ML_BRANCH_JMP,
	} branch;                /* a transfer of control through a value */
	bool target_known;       /* a call or jmp through a register: target */
	uint64_t target;
};

/* Shared libraries loaded on first use (dlopen), not linked, so that they
 * cost nothing to the commands that do not need them: a function that
 * needs one that cannot be loaded (absent, or lacking a function) returns
 * -ENOTSUP.  libdw: backtraces, the abort message, symbolizers; jansson:
 * reading a watch record; Zydis: the faulting instruction. */
#define ML_LIBDW_SONAME "libdw.so.1"          /* elfutils: no header macro names it */
#define ML_JANSSON_SONAME "libjansson.so.4"   /* jansson 2.x: nor here */
#define ML_ZYDIS_SONAME "libZydis.so.4.0"     /* Zydis 4.0 (major.minor), the instruction decoder */

/* A backtrace of a stopped thread (elfutils libdwfl). */
struct ml_frame {
	uint64_t pc;             /* return addresses already moved back */
	uint64_t sp;             /* 0 if unknown */
	char *function;          /* NULL if no symbol */
	uint64_t offset;         /* pc - function start */
	char *file;              /* source file, NULL if no debug info */
	int line;                /* 0 if none */
	char *object;            /* module path, NULL if none */
	uint64_t return_address; /* a caller's frame: the return address (as
	                            gdb shows it; pc is moved back into the
	                            call, where its line is looked up); 0 for
	                            the innermost or a signal-interrupted frame */
	bool inlined;            /* a function inlined into the next frame (same
	                            pc and sp; as gdb shows it, its caller's line
	                            is the inlined call's, DW_AT_call_line) */
};
struct ml_backtrace {
	struct ml_frame *frames;
	size_t n;
	bool truncated;          /* stopped at the cap: there are more */
	size_t period;           /* >0: the frames from period_start on
	                            repeat every `period` frames (recursion) */
	uint64_t period_bytes;   /* stack bytes one cycle of it takes */
	size_t period_start;     /* the first frame of the repeating ones (1:
	                            the fault's caller; more: the fault is in
	                            a callee of the recursion) */
};
/* Unwind thread tid of process pid, stopped under ptrace by us, at most
 * max frames.  Returns 0 (even with no frames) or -errno (-ENOTSUP: no
 * ML_LIBDW_SONAME). */
int ml_backtrace_take(pid_t pid, pid_t tid, size_t max, struct ml_backtrace **ret);
/* Drop the frames inner to the first frame after #0 whose pc is pc (the
 * frame a signal interrupted: the handler's frames and the signal frame
 * stood on it), so the backtrace starts at the fault; the period is found
 * again.  Returns the count dropped, -ENOENT (no such frame: nothing
 * changed) or -EINVAL. */
int ml_backtrace_from(struct ml_backtrace *bt, uint64_t pc);
void ml_backtrace_free(struct ml_backtrace *bt);

/* The message the C library stored before it called abort() (glibc's
 * __abort_msg: "double free or corruption (fasttop)"), malloc'ed, as the
 * target wrote it (escape it).  -ENOENT if none, -ENOTSUP if no
 * ML_LIBDW_SONAME. */
int ml_abort_message(pid_t pid, bool is_32bit, char **ret);

/* --- Symbols: addresses to object, symbol and source line (symbols.c) ---
 * A symbolizer reports every ELF object of a snapshot (text, rodata, relro,
 * data or bss regions of a mapped file) to elfutils' libdwfl at its load
 * bias, and loads each object's symbols (.symtab, else .dynsym) and DWARF
 * (in the file, or a separate debug file found by build-id under
 * /usr/lib/debug/.build-id/ or by .gnu_debuglink) the first time an address
 * falls in it.  Symbols are then looked up by binary search.  It keeps no
 * pointer to the snapshot once created. */
struct ml_symbolizer;

/* What a symbolizer knows of an address.  Strings are owned by the
 * symbolizer, valid until ml_symbolizer_free(); NULL when unknown. */
struct ml_symbol {
	const char *module;       /* the ELF object's path as mapped */
	uint64_t bias;            /* its load bias */
	const char *build_id;     /* hex, or NULL if it has none */
	const char *section;      /* ELF section holding addr, or NULL */
	uint64_t section_offset;  /* addr - the section's start (whole section) */
	const char *name;         /* symbol, NULL if none holds addr */
	const char *table;        /* ".symtab" or ".dynsym" */
	uint64_t sym_addr, sym_size, offset;  /* offset = addr - sym_addr */
	bool sym_sized;           /* false: nearest preceding symbol without size */
	bool has_dwarf;           /* DWARF found (has_dwarf false: source unknown) */
	const char *debug_file;   /* where the DWARF came from (may be the module) */
	const char *file;         /* source file, NULL if no line for addr */
	int line, column;         /* column 0 if unknown */
};


/* Create a symbolizer for the ELF objects of snap (files opened through
 * map_files, the target's root, or the path); snap must outlive it (it
 * uses the sections ELF attribution kept there).  Returns 0, -ENOMEM,
 * -ENOTSUP (no ML_LIBDW_SONAME). */
int ml_symbolizer_new(const struct ml_snapshot *snap, struct ml_symbolizer **ret);
void ml_symbolizer_free(struct ml_symbolizer *sz);

/* --- Where: what an address is, in the terms of the model (where.c) ---
 * ml_where_explain() answers from the snapshot (region, kind, offsets,
 * stack and heap facts, the hole an unmapped address lies in, the page and
 * its page-table indices), plus, when given, a symbolizer (section,
 * symbol, source line) and a pagemap (what the kernel says of the page,
 * read at the time of the call). */

/* What an unmapped address is. */
enum ml_hole {
	ML_HOLE_NONE,             /* mapped */
	ML_HOLE_NULL_ZONE,        /* below mmap_min_addr: never mappable */
	ML_HOLE_BELOW_FIRST,      /* between mmap_min_addr and the first mapping */
	ML_HOLE_PRE_HEAP,         /* between the program and the heap (brk randomisation) */
	ML_HOLE_HEAP_MMAP,        /* above the brk, below the mmap area: room for heap and mmaps */
	ML_HOLE_STACK_GUARD,      /* the stack guard gap below [stack] */
	ML_HOLE_STACK_REACH,      /* below [stack], where it may still grow (RLIMIT_STACK) */
	ML_HOLE_BETWEEN,          /* between two mappings */
	ML_HOLE_ABOVE_LAST,       /* above the last mapping, below the top of user space */
	ML_HOLE_USER_TOP,         /* the top of the address space the process cannot map */
	ML_HOLE_NONCANONICAL,     /* the non-canonical hole of x86-64 / aarch64 */
	ML_HOLE_KERNEL,           /* the kernel half */
	ML_HOLE__COUNT
};
/* Short name ("null-zone", ...) and sentence; "?" if out of range. */
const char *ml_hole_name(enum ml_hole h);
const char *ml_hole_description(enum ml_hole h);

/* One level of the page-table walk. */
struct ml_pt_level {
	const char *name;         /* "PGD", "P4D", "PUD", "PMD", "PTE" */
	unsigned int index;       /* entry index at this level */
	unsigned int shift;       /* address bits [shift, shift + bits) */
};

/* Page-size verdicts. */
enum ml_page_size_known {
	ML_PGSZ_UNKNOWN,          /* no frame information (not root, not present) */
	ML_PGSZ_BASE,             /* a base page (4 KiB on x86-64) */
	ML_PGSZ_HUGE,             /* part of a huge page / large folio of huge_size */
};

struct ml_where {
	uint64_t addr;
	/* The region, NULL if unmapped.  Points into the snapshot. */
	const struct ml_region *region;
	uint64_t map_offset;      /* addr - region->start */
	bool has_file_offset;     /* the address is backed by a file page */
	uint64_t file_offset;
	/* ELF: from the symbolizer (has_symbol false if none or no object);
	 * sym.section is the snapshot's, ml_region_section() of the region. */
	bool has_object;
	struct ml_symbol sym;
	/* Stacks (kind stack or thread-stack). */
	bool is_stack;
	pid_t stack_tid;          /* main thread: the PID */
	uint64_t below_top;       /* region end - addr */
	bool sp_known;
	uint64_t sp;
	uint64_t room;            /* how much further it may grow (see room_limit) */
	const char *room_limit;   /* "RLIMIT_STACK", "the stack guard gap", "the guard page", "unlimited" */
	/* Heap (kind heap). */
	bool is_heap;
	uint64_t heap_offset;     /* addr - start_brk */
	uint64_t to_brk;          /* brk - addr */
	/* Unmapped: the hole and its neighbours (NULL if none). */
	enum ml_hole hole;
	const struct ml_region *below, *above;
	uint64_t dist_below;      /* addr - below->end: bytes past its end */
	uint64_t dist_above;      /* above->start - addr */
	/* The stretch of addresses around addr of the same hole kind: within
	 * [below->end, above->start), hole_end UINT64_MAX meaning to the top. */
	uint64_t hole_start, hole_end;
	/* The page and the walk to it. */
	uint64_t page_size, vpn, page_offset;
	unsigned int nlevels;     /* 0 if the geometry is unknown; a huge page
				   * mapped by a PMD (PUD) entry ends the walk
				   * there: the levels below stay in levels[]
				   * past nlevels, named, for the depth */
	struct ml_pt_level levels[5];
	/* pagemap (pagemap_status 0 if read, -errno: -ENOENT not asked,
	 * -ERANGE outside what pagemap covers, -ESRCH the process is gone). */
	int pagemap_status;
	struct ml_page page;
	bool has_phys;
	uint64_t phys;            /* physical address, with root */
	enum ml_page_size_known pgsz_known;
	uint64_t huge_size;       /* bytes of the huge page / folio */
	uint64_t huge_head_pfn;
};

struct ml_where_ctx;
/* A context for explaining addresses of snap; sym and pm are optional
 * (NULL) and stay owned by the caller, as snap does; all three must live
 * as long as the context.  Returns 0, -ENOMEM. */
int ml_where_ctx_new(const struct ml_snapshot *snap, struct ml_symbolizer *sym,
		     struct ml_pagemap *pm, struct ml_where_ctx **ret);
void ml_where_ctx_free(struct ml_where_ctx *ctx);
/* What a context may leave out (a caller that shows less asks less). */
enum {
	ML_WHERE_NO_LINES = 1 << 0,   /* no source lines: sym.file, line, has_dwarf, debug_file stay unset */
};
/* Set ML_WHERE_* flags for the next explanations (default 0: everything). */
void ml_where_ctx_set_flags(struct ml_where_ctx *ctx, unsigned int flags);
/* Explain addr into *ret.  Returns 0, -ESRCH if the process vanished
 * while its pagemap was read, -ENOMEM. */
int ml_where_explain(struct ml_where_ctx *ctx, uint64_t addr, struct ml_where *ret);
/* A hint for a batch: the next ml_where_explain() on ctx will likely be
 * for addr; start loading what it reads, so that the wait overlaps the
 * work on the current address.  No effect on any answer. */
void ml_where_prefetch(struct ml_where_ctx *ctx, uint64_t addr);

/* The where renderers (render-where.c). */
/* A readable block per address: each line a label padded to
 * ML_WHERE_LABEL_LEN columns ("  region     "), then its value. */
#define ML_WHERE_LABEL_LEN 13
int ml_render_where_block(const struct ml_where *w, FILE *out, unsigned int flags);
/* The column table of where (-o, --list-columns), as ml_columns(). */
const struct ml_column_info *ml_where_columns(size_t *ret_n);
/* A table or JSON ("addresses"), one line per answer, built as answers
 * come: new, add each, then finish (prints, frees; 0 or -errno) or free.
 * opts->columns NULL: the default set (with ML_OUT_JSON: every column).
 * With ML_OUT_RAW (not JSON) lines are printed every few thousand, so a
 * batch of any length takes bounded memory. */
struct ml_where_table;
int ml_where_table_new(FILE *out, const struct ml_table_opts *opts,
		       struct ml_where_table **ret);
int ml_where_table_add(struct ml_where_table *t, const struct ml_where *w);
int ml_where_table_finish(struct ml_where_table *t);
void ml_where_table_free(struct ml_where_table *t);


/* --- Residency: the state of every page of a range (residency.c) ---
 *
 * A scanner walks the page tables of a process through its pagemap: with
 * the PAGEMAP_SCAN ioctl (Linux 6.7+), which returns only the ranges of
 * pages that are in RAM, swapped or guards, or with pread() of the raw
 * entries in large chunks (every kernel; also forced for comparison). */

/* The state of one virtual page.  Exclusive: a page that is two things is
 * counted once, as the later state in this list except that guard and
 * swapped come first (a huge zero page counts as zero). */
enum ml_pstate {
	ML_PST_UNTOUCHED,   /* no page-table entry: never touched by this process
	                       (a file page may still be in the page cache) */
	ML_PST_PRESENT,     /* in RAM, a normal page */
	ML_PST_HUGE,        /* in RAM, part of a PMD-mapped huge page (THP, hugetlb) */
	ML_PST_ZERO,        /* maps the shared zero page: read, never written */
	ML_PST_SWAPPED,     /* in swap */
	ML_PST_GUARD,       /* an MADV_GUARD_INSTALL marker: touching it faults */
	ML_PST__COUNT
};

enum ml_scan_method {
	ML_SCAN_AUTO,       /* PAGEMAP_SCAN, or pread where the kernel lacks it */
	ML_SCAN_IOCTL,      /* PAGEMAP_SCAN only (-EOPNOTSUPP without it) */
	ML_SCAN_PREAD,      /* pread of /proc/PID/pagemap */
};
/* Parse one of those names; the method or -EINVAL. */
int ml_scan_method_from_name(const char *name);

struct ml_scanner;
/* A scanner over an open pagemap (which must outlive it).  Returns 0,
 * -EINVAL, -ENOMEM. */
int ml_scanner_new(struct ml_pagemap *pm, enum ml_scan_method method,
		   struct ml_scanner **ret);
void ml_scanner_free(struct ml_scanner *sc);
/* The method in use: ML_SCAN_IOCTL or ML_SCAN_PREAD (AUTO until the first
 * run decides). */
enum ml_scan_method ml_scanner_method(const struct ml_scanner *sc);
/* States the scans so far could not tell apart (bit 1 << ML_PST_*): with
 * pread and without CAP_SYS_ADMIN the kernel hides frame numbers, so zero
 * and huge pages cannot be told from present ones (they count as
 * PRESENT); guard markers where the kernel does not report them. */
unsigned int ml_scanner_unknown(const struct ml_scanner *sc);

/* Is the process still there?  PAGEMAP_SCAN of an exited process finds an
 * empty address space rather than failing: call this after the scans; a
 * process alive now was alive during them.  0 or -ESRCH. */
int ml_scanner_check_alive(struct ml_scanner *sc);

#define ML_BAR_MAX 256
/* The residency of one range: counts per state and a one-line bar of
 * min(width, pages) cells.  Each cell shows the state holding most of its
 * touched pages: upper case if the cell has no untouched page, lower case
 * if it has some, '.' if all are untouched (ml_pstate_bar_char). */
struct ml_residency {
	uint64_t start, end;
	uint64_t pages[ML_PST__COUNT];
	unsigned int unknown;          /* ml_scanner_unknown() after the scan */
	char bar[ML_BAR_MAX + 1];
};
/* The bar character of a state (upper or lower case). */
char ml_pstate_bar_char(enum ml_pstate st, bool full);
/* Scan [start, end) into *ret with a bar of at most width cells (1 to
 * ML_BAR_MAX).  Returns 0, -ESRCH (the process is gone), -EOPNOTSUPP
 * (ML_SCAN_IOCTL on a kernel without PAGEMAP_SCAN), -EIO, -ENOMEM. */
int ml_residency_scan(struct ml_scanner *sc, uint64_t start, uint64_t end,
		      unsigned int width, struct ml_residency *ret);
/* The same for [start, end), a part of region r.  With pread, a ---p
 * region whose smaps (r->have_smaps) counts no Rss and no Swap is reported
 * untouched without reading its entries (PAGEMAP_SCAN skips it the same
 * way; pread would read 8 bytes a page, 40 GB for a 20 TiB reservation);
 * zero-page entries or guard markers made before an mprotect(PROT_NONE)
 * are then not seen.  Without smaps every page is read.  -EINVAL if
 * [start, end) is not inside r; else as ml_residency_scan. */
int ml_residency_scan_region(struct ml_scanner *sc, const struct ml_region *r,
			     uint64_t start, uint64_t end, unsigned int width,
			     struct ml_residency *ret);


/* --- Frames shared by two processes (shared.c) ---
 * Each process has its own page tables; two of them may still map the same
 * physical frames (the text of a library both map, the zero page).  Frame
 * numbers need CAP_SYS_ADMIN: without it the kernel shows them as 0. */
struct ml_frames;                 /* the frames of some ranges of one process */
/* Collect the frame of every resident page of ranges[i] = { start, end }
 * (i < n).  Returns 0, -EPERM (frame numbers hidden: needs
 * CAP_SYS_ADMIN), -ESRCH, -ENOMEM, or the errors of ml_residency_scan. */
int ml_frames_collect(struct ml_scanner *sc, struct ml_pagemap *pm,
		      const uint64_t (*ranges)[2], size_t n,
		      struct ml_frames **ret);
void ml_frames_free(struct ml_frames *f);

/* Per range, in pages: resident = shared + private. */
struct ml_share_count {
	uint64_t resident;
	uint64_t shared;          /* its frame is mapped by the other process too */
	uint64_t private_pages;   /* the other process does not map its frame */
};
/* Distinct frames: in both, only in a, only in b. */
struct ml_share_totals {
	uint64_t shared, only_a, only_b;
};
/* Compare the frame sets: ret_a gets one count per range of a, ret_b per
 * range of b (either may be NULL).  Returns 0. */
int ml_frames_compare(const struct ml_frames *a, const struct ml_frames *b,
		      struct ml_share_count *ret_a, struct ml_share_count *ret_b,
		      struct ml_share_totals *ret);

/* --- The tables of `memlayout pages` (render-pages.c) --- */
/* One row: a region (or the part of it that was asked for). */
struct ml_pages_row {
	pid_t pid;
	const struct ml_region *region;   /* owned by its snapshot */
	struct ml_residency res;          /* res.start, res.end: the part scanned */
	bool have_share;                  /* share below is filled */
	struct ml_share_count share;
};
/* The columns of the pages table; *ret_n gets its length. */
const struct ml_column_info *ml_pages_columns(size_t *ret_n);
/* As ml_columns_parse, for the pages table. */
int ml_pages_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad);
/* The rows as a table (libsmartcols: -o columns, JSON, raw).  Counts the
 * method could not know are "?" (JSON null).  Returns 0 or -errno. */
int ml_render_pages(const struct ml_pages_row *rows, size_t n, FILE *out,
		    const struct ml_table_opts *opts);

/* ---- ASLR across runs (aslr.c, aslr-sample.c, render-aslr.c) ----
 * Named bases observed once per run; their randomisation in bits and the
 * groups that move together (see aslr.c for the estimator). */
struct ml_aslr;
enum {
	ML_ASLR_RELATIVE = 1 << 0,   /* an offset between two addresses: not grouped */
};
struct ml_aslr_row {
	const char *name;            /* owned by the estimator */
	unsigned int flags;          /* ML_ASLR_* */
	size_t samples;              /* runs that showed it */
	size_t distinct;             /* distinct values among them */
	uint64_t min, max;
	uint64_t align;              /* step of the observed values (>= unit) */
	double bits;                 /* estimated randomisation, 0 if fixed */
	double ceiling;              /* log2(samples): observed, not extrapolated */
	size_t group;                /* 1.. ; 0 for offsets (not grouped) */
	const char *leader;          /* first point of its group */
	int64_t offset;              /* from the leader, the same in every run */
};
int ml_aslr_new(struct ml_aslr **ret);
void ml_aslr_free(struct ml_aslr *a);
size_t ml_aslr_runs(const struct ml_aslr *a);
/* One run: start argv under ptrace, stop at `at`, record, kill.  Errors as
 * ml_trace_start(); ret_status as there. */
int ml_aslr_sample(struct ml_aslr *a, char *const argv[], enum ml_stop_at at,
		   int *ret_status);
/* Estimate; returns the number of rows in *ret (valid until the estimator
 * changes or is freed) or -errno. */
int ml_aslr_result(struct ml_aslr *a, const struct ml_aslr_row **ret);

/* Parse a column list ("A,B", "+C" adds to the defaults) against any
 * column table (columns.c).  As ml_columns_parse(). */
int ml_columns_parse_in(const struct ml_column_info *cols, size_t ncols,
			const char *list, int *ret_ids, size_t max, size_t *ret_n,
			const char **ret_bad);
/* The ASLR table (render-aslr.c): columns, --list-columns, JSON. */
struct ml_aslr_info {
	int randomize_va_space;      /* /proc/sys/kernel/randomize_va_space, -1 unknown */
	bool no_randomize;           /* runs under personality(ADDR_NO_RANDOMIZE) */
};
/* The host's: randomize_va_space (-1 when unreadable), and whether this
 * process's persona, which the runs inherit, has ADDR_NO_RANDOMIZE
 * (aslr-sample.c).  Never fails. */
void ml_aslr_host_info(struct ml_aslr_info *ret);
const struct ml_column_info *ml_aslr_columns(size_t *ret_n);
int ml_render_aslr(const struct ml_aslr_row *rows, size_t nrows,
		   const struct ml_aslr_info *info, FILE *out,
		   const struct ml_table_opts *opts);


/* ---- Watching a process over time (watch.c, render-watch.c) ----
 * Each sample reads maps, stat and smaps_rollup (full smaps with
 * ML_WATCH_DETAIL), the task list, and the syscall file of threads not
 * seen before; kinds come from names and permissions, refined by the ELF
 * kinds of each file cached by (dev, inode, offset) across samples. */
enum {
	ML_WATCH_DETAIL = 1 << 0,    /* full smaps: resident size per kind */
};
enum ml_watch_event_type {
	ML_EV_APPEARED,              /* a mapping appeared */
	ML_EV_VANISHED,              /* a mapping was unmapped */
	ML_EV_GREW,                  /* it grew (before/after: sizes) */
	ML_EV_SHRANK,                /* part of it was unmapped (sizes) */
	ML_EV_PERMS,                 /* permissions changed (ML_PERM_*) */
	ML_EV_BRK,                   /* the brk moved (before/after: brk) */
	ML_EV_THREAD_NEW,            /* a thread came (tid) */
	ML_EV_THREAD_GONE,           /* a thread went (tid) */
	ML_EV_EXEC,                  /* it exec'd: a new address space (name: its
	                                comm; before/after: total sizes) */
	ML_EV__COUNT
};
struct ml_watch_event {
	enum ml_watch_event_type type;
	enum ml_kind kind;
	uint64_t start, end;         /* the mapping now (before, if it vanished or shrank) */
	uint64_t before, after;      /* sizes, brk values or permissions */
	const char *name;            /* object or name, NULL if none; valid until the next sample */
	pid_t tid;                   /* thread events, thread stacks; 0 else */
	bool deleted;                /* the mapped file was unlinked (name without " (deleted)") */
};
struct ml_watch_kind {
	size_t count;
	uint64_t vsize;
	uint64_t rss;                /* with ML_WATCH_DETAIL only */
};
/* Code and data of one ELF object: the kinds text, rodata, relro, data
 * and bss (ML_KIND_TEXT .. ML_KIND_BSS) of the mappings it owns. */
#define ML_WATCH_OBJ_KINDS (ML_KIND_BSS + 1)
struct ml_watch_object {
	const char *name;            /* its path; owned by the watch */
	struct ml_watch_kind kinds[ML_WATCH_OBJ_KINDS];   /* now */
	uint64_t vsize, rss;         /* their sums now (rss: ML_WATCH_DETAIL) */
	uint64_t vsize_last;         /* the sum at the previous sample, 0 if unmapped */
	uint64_t vsize_first;        /* at the first sample, 0 if not mapped then */
	uint64_t peak_kind[ML_WATCH_OBJ_KINDS];   /* highest vsize of each kind */
	uint64_t peak_vsize, peak_t_ns;           /* highest sum and when */
};
struct ml_watch_sample {
	uint64_t t_ns;               /* since the first sample */
	size_t index;                /* 0, 1, ... */
	struct ml_watch_kind kinds[ML_KIND__COUNT];
	bool kind_rss;               /* kinds[].rss known (ML_WATCH_DETAIL) */
	uint64_t vsize;              /* sum over all mappings */
	uint64_t rss, pss, anon, swap;   /* process totals (smaps_rollup) */
	uint64_t start_brk, brk;
	uint64_t stack_start, stack_end; /* the main stack now */
	uint64_t stack_lowest;       /* lowest start it has had */
	uint64_t minflt, majflt;     /* since the process started */
	size_t nregions, nthreads;
	const struct ml_watch_event *events;
	size_t nevents;
	/* every object mapped at some sample so far, in the order first
	 * seen (an index names the same object in every later sample) */
	const struct ml_watch_object *objects;
	size_t nobjects;
};
struct ml_watch;
/* Start watching pid (its first full snapshot fills the ELF kind cache).
 * Errors as ml_snapshot_take(). */
int ml_watch_new(pid_t pid, unsigned int flags, struct ml_watch **ret);
void ml_watch_free(struct ml_watch *w);
/* Take a sample at t_ns (monotonic, any origin); events are the changes
 * since the previous sample.  -ESRCH once the process is gone. *ret is
 * valid until the next call. */
int ml_watch_sample(struct ml_watch *w, uint64_t t_ns,
		    const struct ml_watch_sample **ret);
pid_t ml_watch_pid(const struct ml_watch *w);
const char *ml_watch_event_name(enum ml_watch_event_type type);
/* The latest sample, NULL before any. */
const struct ml_watch_sample *ml_watch_last(const struct ml_watch *w);


/* Renderers of watch (render-watch.c), to the FILE given.  Flags are
 * ML_OUT_* and ML_OUT_ASCII (sparklines without UTF-8 blocks). */
enum { ML_OUT_ASCII = 1 << 12 };
/* One JSON object on one line: a sample with its events. */
int ml_render_watch_json(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out);
/* Log lines: one per event of s and one per object whose code and data
 * size changed since the previous sample; one line for the sample itself. */
int ml_render_watch_events(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags);
int ml_render_watch_line(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out, unsigned int flags);
/* The screen of the terminal view (the caller clears and homes); rows is
 * the height available, 0 for no limit (the objects table is cut to fit,
 * then the kinds table).  With ML_OUT_COLOR each kind has its colour.
 * Returns the number of lines printed or -errno. */
int ml_render_watch_screen(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags, unsigned int rows);
/* The summary: a per-kind table (or, with ML_OUT_JSON, one JSON line). */
int ml_render_watch_summary(const struct ml_watch *w, FILE *out, unsigned int flags);

/* A record of watch (--record FILE: one JSON object a line, a sample with
 * its events) read back as facts, for `memlayout plot` (watch-record.c,
 * render-plot.c). */
struct ml_record_sample {
	double t;                 /* seconds since the first sample */
	uint64_t vsize, rss, minflt, majflt, threads;
	uint64_t kind_vsize[ML_KIND__COUNT];
};
struct ml_record_event {
	double t;
	enum ml_watch_event_type type;
	enum ml_kind kind;
	uint64_t start, end;
	const char *name;         /* "" if none; owned by the record */
};
/* An ELF object of the record (a sample's "objects"; a record written
 * before they were recorded has none), and its sizes in one sample: the
 * entries are in sample order, an object absent from a sample has none. */
struct ml_record_object {
	const char *name;         /* owned by the record */
};
struct ml_record_objsize {
	size_t sample;            /* index in samples */
	size_t object;            /* index in objects */
	uint64_t kind_vsize[ML_WATCH_OBJ_KINDS];   /* text, rodata, relro, data, bss */
};
struct ml_watch_record {
	int pid;
	struct ml_record_sample *samples;
	size_t nsamples;
	struct ml_record_event *events;
	size_t nevents;
	struct ml_record_object *objects;
	size_t nobjects;
	struct ml_record_objsize *objsizes;
	size_t nobjsizes;
};
/* Read a record from in.  Returns 0 (*ret owns the record), -EBADMSG (a
 * line that is not a watch sample, or samples out of time order: its
 * number in *ret_line), -E2BIG (a bound hit: ML_RECORD_MAX_* ; the line
 * in *ret_line), -ENODATA (no sample), -ENOTSUP (no jansson), -ENOMEM,
 * -EIO. */
#define ML_RECORD_MAX_SAMPLES 1000000
#define ML_RECORD_MAX_EVENTS 1000000
#define ML_RECORD_MAX_LINE (64u << 20)
#define ML_RECORD_MAX_OBJECTS 1024       /* distinct object names */
#define ML_RECORD_MAX_OBJSIZES 1000000   /* object entries of all samples */
int ml_watch_record_read(FILE *in, struct ml_watch_record **ret, size_t *ret_line);
void ml_watch_record_free(struct ml_watch_record *r);
/* The record as one self-contained HTML page: virtual size per kind over
 * time (stacked), resident and virtual size, page faults, threads, the
 * events on the time axis.  flags: ML_OUT_BYTES.  0 or -errno. */
int ml_render_plot(const struct ml_watch_record *r, FILE *out, unsigned int flags);
/* ---- Crashes, continued: the explanation (crash.c, render-crash.c).
 * It names holes with where's kinds (enum ml_hole, above). ---- */

/* What a crash is: the fixed vocabulary of the JSON "kind". */
enum ml_crash_kind {
	ML_CRASH_NULL_POINTER,
	ML_CRASH_STACK_OVERFLOW,
	ML_CRASH_THREAD_STACK_OVERFLOW,
	ML_CRASH_WRITE_READ_ONLY,
	ML_CRASH_EXEC_NON_EXECUTABLE,
	ML_CRASH_JUMP_UNMAPPED,
	ML_CRASH_KERNEL_SPACE,
	ML_CRASH_NON_CANONICAL,
	ML_CRASH_UNMAPPED,
	ML_CRASH_PAST_HEAP_END,
	ML_CRASH_NO_ACCESS,
	ML_CRASH_FILE_TRUNCATED,
	ML_CRASH_MISALIGNED,
	ML_CRASH_DIVIDE_BY_ZERO,
	ML_CRASH_ILLEGAL_INSTRUCTION,
	ML_CRASH_BREAKPOINT,
	ML_CRASH_HEAP_CORRUPTION,
	ML_CRASH_STACK_SMASHING,
	ML_CRASH_ABORT,
	ML_CRASH_SENT,           /* a fatal signal sent by kill(), not a fault */
	ML_CRASH__COUNT
};
const char *ml_crash_kind_name(enum ml_crash_kind k);   /* "null-pointer" */

/* What the tracer saw at the fatal signal-delivery-stop. */
struct ml_fault {
	pid_t pid, tid;
	int signo, code;         /* siginfo si_signo, si_code */
	uint64_t addr;           /* si_addr */
	pid_t sender;            /* si_pid for a signal sent by a process */
	bool have_regs;
	struct ml_regs regs;
	unsigned char code_bytes[16];   /* at code_addr, or regs.pc if 0 */
	size_t ncode;            /* 0 if unreadable */
	const char *abort_msg;   /* ml_abort_message(), or NULL */
	const struct ml_backtrace *bt;  /* or NULL */
	bool have_stack_words;
	uint64_t stack_words[2]; /* the words at sp - word and at sp (a return
	                            address just popped, or the next to pop) */
	uint64_t code_addr;      /* where code_bytes were read when not at
	                            regs.pc (an x86 int3 trap: pc - 1, the
	                            int3 itself); 0: regs.pc */
	int then_signo;          /* 0: this fault ended the process; else the
	                            program's own handler caught it and then
	                            ended the process with this signal
	                            (re-raised it, or abort()) */
};

/* The explanation.  Pointers are into the snapshot and the fault. */
struct ml_crash {
	enum ml_crash_kind kind;
	enum ml_access access;
	int signo, code;
	bool addr_known;         /* false: SI_KERNEL with no decodable operand */
	uint64_t addr;           /* the address explained (si_addr, or the
	                            decoded operand's for SI_KERNEL) */
	bool have_insn;
	struct ml_insn insn;
	uint64_t pc, sp;
	const struct ml_region *region;     /* holding addr, or NULL */
	const struct ml_section *section;   /* in region, or NULL */
	bool guard_page;         /* the page at addr is a guard marker
	                            (MADV_GUARD_INSTALL, pagemap bit 58) */
	enum ml_hole hole;                  /* where.c's kind of hole (ML_HOLE_NONE: mapped) */
	uint64_t hole_start, hole_end;      /* its bounds, when hole != NONE */
	pid_t pid, tid;
	const struct ml_region *thread_stack;  /* the stack of tid, or NULL */
	size_t recursion_depth;  /* >0: frames of the repeating cycle */
	const char *abort_msg;
	int then_signo;          /* ml_fault.then_signo */
	uint64_t insn_pc;        /* the address of insn (pc, or the int3 at pc - 1) */
	enum ml_jump_via {
		ML_JUMP_NONE, ML_JUMP_RETURN, ML_JUMP_CALL_REG, ML_JUMP_CALL,
	} jump_via;              /* where a bad jump target came from: a
	                            return slot (jump_slot), a call or jmp's
	                            register operand, a call (its return
	                            address is jump_slot's word) */
	uint64_t jump_slot;      /* the stack slot of the return address */
	const struct ml_region *thread_guard;  /* the guard right below
	                            thread_stack, or NULL (none, or main) */
	uint64_t jump_return;    /* ML_JUMP_CALL: the return address at jump_slot */
	pid_t sender;            /* ml_fault.sender: who sent a signal, 0 unknown */
	int64_t file_size;       /* file-truncated: the mapped file's size, -1 unknown */
	bool recursion_frame;    /* recursion_depth > 0 and the backtrace names
	                            the frame the cycle runs through: */
	const char *recursion_function;   /* its function (raw), or NULL */
	bool recursion_about;    /* the backtrace was cut: depth estimated */
};
/* The facts carry no words: the sentence is the renderer's
 * (ml_render_crash_width: text, or JSON "explanation"). */
/* Explain fault f of the process in snap (taken at the stop); the hole
 * is classified by ml_where_explain().  0, -EINVAL or -ENOMEM. */
/* Where the faulting instruction's bytes are to be read from f's
 * registers: regs.pc, or pc - 1 for an x86 int3 trap (SIGTRAP with
 * SI_KERNEL leaves pc after the one-byte int3).  The one rule for a live
 * thread (memlayout run) and a core (ml_core_fault). */
uint64_t ml_fault_code_addr(const struct ml_fault *f);
int ml_crash_explain(const struct ml_snapshot *snap, const struct ml_fault *f,
		     struct ml_crash *ret);

/* The report: plain words, then the facts, the backtrace and a slice of
 * the diagram around the fault (text), the slice fitted to a terminal of
 * width columns (ml_diagram_opts.width; 0: lines as long as they are);
 * or the same as one JSON object (ML_OUT_JSON).  bt may be NULL.  The
 * words and the backtrace are the caller's to fold (ml_fold_stream).
 * 0 or -errno. */
int ml_render_crash_width(const struct ml_snapshot *snap, const struct ml_crash *c,
			  const struct ml_backtrace *bt, FILE *out, unsigned int flags,
			  unsigned int width);

/* ---- Running a program under the tracer (run.c): memlayout run's.
 * ml_run_start() forks and seizes it (following its threads, forks and
 * execs) and lets it exec; ml_run_next() runs it to its next event.  The
 * library prints nothing and installs no signal handler: forward signals
 * sent to you to ml_run_pid(), and stop yourself on ML_RUN_STOPPED. ---- */
struct ml_run;
#define ML_RUN_EXIT_STOP 0x1     /* ML_RUN_EXITING at each process's exit */
#define ML_RUN_WATCH_PTRACE 0x2  /* ML_RUN_PTRACE (seccomp, ML_SPAWN_WATCH_PTRACE) */
enum ml_run_event_kind {
	ML_RUN_CRASH,            /* a thread stopped at a crash signal (SIGSEGV,
	                            SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) it
	                            neither catches nor ignores: fatal; once per
	                            process; the signal goes on at the next call */
	ML_RUN_EXITING,          /* tid, a thread at its exit stop (PTRACE_EVENT_EXIT,
	                            its address space still whole); pid = tid */
	ML_RUN_STOPPED,          /* the program stopped (SIGTSTP, SIGSTOP, ...) */
	ML_RUN_EXITED,           /* the program ended: status; the rest detached */
	ML_RUN_PTRACE,           /* ML_RUN_WATCH_PTRACE: a process called ptrace(2) in a
	                            way that fails because the tracer traces it:
	                            PTRACE_TRACEME, or PTRACE_ATTACH/PTRACE_SEIZE of a
	                            thread the tracer traces; once per process; the
	                            call runs (and fails) at the next call */
};
struct ml_run_event {
	enum ml_run_event_kind kind;
	pid_t pid, tid;          /* the process and the thread */
	int status;              /* ML_RUN_EXITED: its wait status */
	int exec_errno;          /* ML_RUN_EXITED: its exec failed with this (0: it ran) */
	struct ml_fault fault;   /* ML_RUN_CRASH: what the stop showed (siginfo,
	                            registers, instruction bytes, stack words) */
	long ptrace_request;     /* ML_RUN_PTRACE: its request (PTRACE_TRACEME, ...) */
	pid_t ptrace_target;     /* ML_RUN_PTRACE: the thread it named (0: TRACEME) */
	char comm[64];           /* ML_RUN_PTRACE: the process's name (its comm:
	                            the target's text, unescaped) */
};
/* Run argv (PATH searched) under the tracer; flags ML_RUN_*.  0, or -errno:
 * pipe, fork; ptrace refused (-EPERM: *ret_tracer, if not NULL, is set to
 * the process already tracing it when /proc says). */
int ml_run_start(char *const argv[], unsigned int flags, struct ml_run **ret,
		 pid_t *ret_tracer);
/* Resume the stop the last event left, run to the next event.  0, or
 * -errno of waitpid (-ECHILD: the program is lost). */
int ml_run_next(struct ml_run *r, struct ml_run_event *ret);
pid_t ml_run_pid(const struct ml_run *r);   /* the program's process */
void ml_run_free(struct ml_run *r);         /* NULL ok */
/* What a crash event's report needs, taken at the stop. */
struct ml_run_crash {
	struct ml_snapshot *snap;      /* its thread stacks named from each
	                                  thread's first sp (ml_snapshot_mark_stack) */
	struct ml_backtrace *bt;       /* of the thread, or NULL */
	int bt_error;                  /* why not: -errno (-ENOTSUP: no libdw) */
	struct ml_fault fault;         /* the event's, or the fault the program's
	                                  own handler caught if it dies in it
	                                  (then_signo set); bt, abort_msg filled */
	char *abort_msg;               /* glibc's __abort_msg for SIGABRT */
};
/* The facts of crash event ev (max_frames of backtrace).  0, or -errno of
 * the snapshot (-ESRCH, -EACCES, ...); free with ml_run_crash_free(). */
int ml_run_crash(struct ml_run *r, const struct ml_run_event *ev, size_t max_frames,
		 struct ml_run_crash *ret);
void ml_run_crash_free(struct ml_run_crash *c);

/* ---- Heap bugs: mlalloc's checking mode under memlayout run --check=heap
 * (heapcheck.c, render-heapcheck.c).  The facts mlalloc published in the
 * stopped process (alloc/mlalloc-format.h, mlalloc_check_report). ---- */
enum ml_heapcheck_kind {
	ML_HEAPCHECK_USE_AFTER_FREE,
	ML_HEAPCHECK_OVERFLOW,
	ML_HEAPCHECK_UNDERFLOW,
	ML_HEAPCHECK_DOUBLE_FREE,
	ML_HEAPCHECK_INVALID_FREE,
	ML_HEAPCHECK__COUNT
};
const char *ml_heapcheck_kind_name(enum ml_heapcheck_kind k);   /* "heap-use-after-free" */
enum ml_heapcheck_access {
	ML_HEAPCHECK_ACCESS_UNKNOWN,
	ML_HEAPCHECK_ACCESS_READ,
	ML_HEAPCHECK_ACCESS_WRITE,
	ML_HEAPCHECK_ACCESS_FREE,   /* found by free/realloc or when the block left the quarantine */
};
const char *ml_heapcheck_access_name(enum ml_heapcheck_access a);   /* "read", ... */
#define ML_HEAPCHECK_DEPTH 10
struct ml_heapcheck {
	enum ml_heapcheck_kind kind;
	enum ml_heapcheck_access access;
	uint64_t address;        /* the faulting address, or the pointer freed */
	uint64_t block, size;    /* the block (user address, 0: none) and its requested size */
	int64_t offset;          /* address - block */
	pid_t tid;               /* the thread that found it */
	int signo;               /* the signal at the stop: set by the caller, 0 if none */
	size_t n_alloc, n_free;  /* entries of alloc_pc, free_pc */
	uint64_t alloc_pc[ML_HEAPCHECK_DEPTH];   /* return addresses, innermost first */
	uint64_t free_pc[ML_HEAPCHECK_DEPTH];
};
/* Read the report of the stopped tracee pid.  0; -ENOENT when mlalloc is
 * not loaded or found no bug; -EBADMSG when the record is not one it
 * writes; -ENOTSUP (no ML_LIBDW_SONAME); -ESRCH, -EFAULT. */
int ml_heapcheck_read(pid_t pid, struct ml_heapcheck *ret);
/* Leaks at exit (--check=heap,leaks): groups of unreferenced blocks by
 * allocation backtrace, largest first (at most ML_HEAPCHECK_LEAK_GROUPS;
 * the totals count all). */
#define ML_HEAPCHECK_LEAK_GROUPS 16
struct ml_heapleaks {
	uint64_t bytes, blocks;  /* totals */
	size_t ngroups, ngroups_total;
	struct {
		uint64_t bytes, blocks;
		size_t n;
		uint64_t pc[ML_HEAPCHECK_DEPTH];
	} groups[ML_HEAPCHECK_LEAK_GROUPS];
};
/* Read the leak report of the tracee pid stopped at its exit (after
 * mlalloc's scan).  0 (also when it found none: bytes 0); -ENOENT when
 * there is none yet; -EBADMSG, -ENOTSUP, -ESRCH, -EFAULT. */
int ml_heapleaks_read(pid_t pid, struct ml_heapleaks *ret);
/* The leaks as words and symbolized backtraces, or one JSON object
 * (ML_OUT_JSON, kind "leaks").  0 or -errno. */
int ml_render_heapleaks(const struct ml_snapshot *snap, const struct ml_heapleaks *l,
			FILE *out, unsigned int flags);
/* The report, as the crash report: plain words, the facts, the allocation
 * and free backtraces symbolized (function, file:line), the backtrace of
 * the thread at the stop (bt, may be NULL) and the diagram slice with the
 * block marked, fitted to a terminal of width columns (0: not a terminal),
 * as ml_render_crash_width (the words are the caller's to fold); or one
 * JSON object (ML_OUT_JSON).  0 or -errno. */
int ml_render_heapcheck_width(const struct ml_snapshot *snap, const struct ml_heapcheck *h,
			      const struct ml_backtrace *bt, FILE *out, unsigned int flags,
			      unsigned int width);

/* ---- Core files: a crash that already happened (core.c) ----
 * An ELF core (ET_CORE) read into the same facts a live process gives: a
 * snapshot (regions, kinds, objects, sections, threads), the fault of the
 * thread that dumped it, its memory, its backtrace.  File pages the core
 * left out are read from the file on disk (under the sysroot) only if its
 * build-id is the one the core's copy of the file's header names. */
struct ml_core;

/* One thread of the core (NT_PRSTATUS). */
struct ml_core_thread {
	pid_t tid;
	int cursig;              /* the signal it was stopped by, 0 */
	struct ml_regs regs;
};
/* The process and the signal (NT_PRPSINFO, NT_SIGINFO). */
struct ml_core_info {
	pid_t pid;
	char comm[17];
	char args[81];           /* the start of its arguments, as the target wrote them */
	unsigned int machine;    /* e_machine */
	bool is_32bit;
	bool have_siginfo;       /* else signo from the thread's cursig, code 0 */
	int signo, code;
	uint64_t addr;           /* si_addr */
	pid_t sender;            /* si_pid of a signal a process sent (code <= 0) */
	pid_t tid;               /* the thread that dumped it */
	size_t nthreads;
	/* A core cut short after its notes: it stops at byte size of the
	 * full_size its segments need; memory from cut_addr on is missing
	 * (size == full_size: whole). */
	uint64_t size, full_size, cut_addr;
};
/* What the core does not hold and could not be made up for. */
enum ml_core_gap_kind {
	ML_CORE_GAP_NOT_DUMPED,  /* anonymous memory left out of the core */
	ML_CORE_GAP_NO_FILE,     /* a mapped file not found (under the sysroot) */
	ML_CORE_GAP_BUILD_ID,    /* the file on disk is not the one mapped (rebuilt) */
	ML_CORE_GAP_UNVERIFIED,  /* the core keeps no header to check the file by */
};
struct ml_core_gap {
	enum ml_core_gap_kind kind;
	const char *object;      /* the file's path (owned by the core), NULL */
	uint64_t addr;           /* the first address it cost */
};

/* Open and check a core; sysroot (NULL: /) is where its mapped files are
 * looked for; exe (NULL: none) the file to read as its main executable
 * (the object mapped at AT_ENTRY) instead of its path there; both must
 * outlive c.  0 or -errno: -ENOEXEC not an ELF file, -EMEDIUMTYPE an ELF
 * file that is not a core, -EPROTONOSUPPORT a core of another
 * architecture, -ENODATA truncated (headers, notes or contents past its
 * end), -EBADMSG malformed notes or segments, -E2BIG past a bound,
 * -ENOMEM, or open(2)'s error. */
int ml_core_open(const char *path, const char *sysroot, const char *exe,
		 struct ml_core **ret);
void ml_core_free(struct ml_core *c);
const struct ml_core_info *ml_core_info(const struct ml_core *c);
const struct ml_core_thread *ml_core_threads(const struct ml_core *c, size_t *ret_n);
/* The gaps met so far (by ml_core_snapshot, reads, backtraces). */
const struct ml_core_gap *ml_core_gaps(const struct ml_core *c, size_t *ret_n);
/* Copy len bytes at addr of the dead process: the count read (short at
 * the end of what is known) or -EFAULT (nothing there). */
ssize_t ml_core_read(struct ml_core *c, uint64_t addr, void *buf, size_t len);
/* The snapshot of the dead process (flags: ML_SNAP_NOELF); freed with
 * ml_snapshot_free, independent of c.  0 or -ENOMEM. */
int ml_core_snapshot(struct ml_core *c, unsigned int flags, struct ml_snapshot **ret);
/* The fault of the dumping thread, as ml_crash_explain takes it. */
int ml_core_fault(struct ml_core *c, struct ml_fault *ret);
/* Unwind thread tid of the core (libdwfl: the modules of snap, taken
 * from c, at their load biases; registers and memory from the core), at
 * most max frames.  As ml_backtrace_take. */
int ml_core_backtrace(struct ml_core *c, const struct ml_snapshot *snap, pid_t tid,
		      size_t max, struct ml_backtrace **ret);
/* The C library's abort message, as ml_abort_message. */
int ml_core_abort_message(struct ml_core *c, const struct ml_snapshot *snap, char **ret);

#ifdef __cplusplus
}
#endif
#endif /* MEMLAYOUT_H */
