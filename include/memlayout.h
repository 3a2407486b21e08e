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
	ML_KIND_HEAP,         /* the brk heap                              */
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
 * have_smaps in ml_region says whether they were read. */
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

/* One mapping (a line of /proc/PID/maps), read-only. */
struct ml_region {
	uint64_t start, end;     /* [start, end) */
	uint64_t offset;         /* file offset */
	unsigned int perms;      /* ML_PERM_* */
	unsigned int dev_major, dev_minor;
	uint64_t inode;
	const char *name;        /* decoded pathname or [special], "" if none;
	                            may hold any byte but NUL */
	bool deleted;            /* the name ended in " (deleted)" */
	enum ml_kind kind;
	const char *object;      /* owning object (ELF path, "[stack]", ...),
	                            NULL if none */
	pid_t tid;               /* thread whose stack (or guard) this is, 0 */
	struct ml_section *sections;
	size_t nsections;
	bool have_smaps;
	struct ml_smaps smaps;
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
	unsigned int paging_levels; /* 4 or 5 on x86-64, 0 unknown */
	uint64_t page_size;
	uint64_t entry;           /* AT_ENTRY from auxv, 0 if unknown */
	uint64_t vdso;            /* AT_SYSINFO_EHDR, 0 if unknown */
	uint64_t minflt, majflt;
	size_t nthreads;
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
 * process (or it exited mid-read), -EACCES/-EPERM permission denied,
 * -ENODATA a kernel thread (no user address space), -EBADMSG unparsable
 * input.  On success *ret owns the snapshot. */
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

/* The section of region r holding addr, or NULL (none, or not in r). */
const struct ml_section *ml_region_section(const struct ml_region *r, uint64_t addr);

/* Names: static strings, never NULL ("?" for out-of-range values). */
const char *ml_kind_name(enum ml_kind kind);
const char *ml_kind_description(enum ml_kind kind);
/* Parse a kind name; returns the kind or -EINVAL. */
int ml_kind_from_name(const char *name);
const char *ml_vmflag_name(unsigned int bit);     /* "rd", "wr", ... */
size_t ml_vmflag_count(void);

/* Per-kind totals. */
struct ml_kind_total {
	size_t count;
	uint64_t vsize, rss, pss, dirty, swap;
};
/* Fills totals[ML_KIND__COUNT]. */
void ml_snapshot_totals(const struct ml_snapshot *snap,
			struct ml_kind_total totals[ML_KIND__COUNT]);

/* Running a command under ptrace and snapshotting it (see ml_trace.c). */
enum ml_stop_at {
	ML_STOP_AT_EXIT,          /* PTRACE_EVENT_EXIT: address space whole */
	ML_STOP_AT_START,         /* entry point, after the dynamic loader  */
};

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
 * backslash and invalid UTF-8 as \xHH / \\; ML_ESC_JSON_SAFE: the same
 * for bytes that are not valid UTF-8 only (the JSON writer escapes the
 * rest).  Returns a malloc'ed string or NULL on ENOMEM. */
enum ml_escape { ML_ESC_TERM, ML_ESC_JSON_SAFE };
char *ml_escape(const char *s, enum ml_escape mode);


/* ---- Renderers (render-table.c, render-diagram.c) ----
 * They write to the FILE the caller gives and nothing else. */
#include <stdio.h>

enum {
	ML_OUT_JSON       = 1 << 0,
	ML_OUT_RAW        = 1 << 1,
	ML_OUT_NOHEADINGS = 1 << 2,
	ML_OUT_BYTES      = 1 << 3,   /* sizes as plain byte counts */
	ML_OUT_COLOR      = 1 << 4,   /* ANSI colour (caller decides: tty, NO_COLOR) */
};

/* One output column of the region table. */
struct ml_column_info {
	const char *name;         /* "START", ... ; JSON key is the lower case */
	double whint;             /* libsmartcols width hint */
	bool is_size;             /* a size: human or -b bytes, JSON number */
	bool needs_smaps;         /* needs /proc/PID/smaps */
	bool is_default;          /* in the default set */
	const char *help;
};
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
	unsigned int width;       /* columns of the drawing, 0 = 78 */
};
/* The address space top-down: kernel half, regions (gaps compressed and
 * labelled with their size), the stack's reach to RLIMIT_STACK, the brk,
 * the NULL guard zone.  Returns 0 or -errno. */
int ml_render_diagram(const struct ml_snapshot *snap, FILE *out,
		      const struct ml_diagram_opts *opts);

/* Human size: "4K", "1.5M", "8G" (binary units) into buf; returns buf. */
char *ml_size_human(uint64_t bytes, char *buf, size_t len);


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
/* Begin a run; returns its index (0, 1, ...). */
int ml_aslr_begin_run(struct ml_aslr *a);
size_t ml_aslr_runs(const struct ml_aslr *a);
/* Record a point in the current run (the first value of a name in a run
 * counts).  unit: the alignment expected (page, 16).  0 or -errno. */
int ml_aslr_add(struct ml_aslr *a, const char *name, uint64_t value,
		uint64_t unit, unsigned int flags);
/* Begin a run and record the points of snap (see aslr-sample.c). */
int ml_aslr_add_snapshot(struct ml_aslr *a, const struct ml_snapshot *snap);
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
	ML_EV__COUNT
};
struct ml_watch_event {
	enum ml_watch_event_type type;
	enum ml_kind kind;
	uint64_t start, end;         /* the mapping now (before, if it vanished or shrank) */
	uint64_t before, after;      /* sizes, brk values or permissions */
	const char *name;            /* object or name, NULL if none; valid until the next sample */
	pid_t tid;                   /* thread events, thread stacks; 0 else */
};
struct ml_watch_kind {
	size_t count;
	uint64_t vsize;
	uint64_t rss;                /* with ML_WATCH_DETAIL only */
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
const char *ml_watch_comm(const struct ml_watch *w);
const char *ml_watch_event_name(enum ml_watch_event_type type);
/* The first sample (events excluded), NULL before any. */
const struct ml_watch_sample *ml_watch_first(const struct ml_watch *w);
/* The latest sample, NULL before any. */
const struct ml_watch_sample *ml_watch_last(const struct ml_watch *w);
/* The last n (<= ML_WATCH_HISTORY) virtual sizes of kind k (or, with
 * k == ML_KIND__COUNT, of the whole process), oldest first; returns n. */
#define ML_WATCH_HISTORY 32
size_t ml_watch_history(const struct ml_watch *w, enum ml_kind k,
			uint64_t *ret, size_t max);

struct ml_watch_peak {
	uint64_t vsize, vsize_t_ns;  /* highest virtual size and when (since start) */
	uint64_t rss, rss_t_ns;      /* highest resident size (detail, or total) */
};
struct ml_watch_summary {
	size_t samples;
	uint64_t duration_ns;
	struct ml_watch_peak kinds[ML_KIND__COUNT];
	bool kind_rss;
	struct ml_watch_peak total;  /* total.rss from smaps_rollup */
	uint64_t minflt, majflt;     /* during the watch */
	size_t max_threads;
	size_t events[ML_EV__COUNT];
};
void ml_watch_summary(const struct ml_watch *w, struct ml_watch_summary *ret);

/* Renderers of watch (render-watch.c), to the FILE given.  Flags are
 * ML_OUT_* and ML_OUT_ASCII (sparklines without UTF-8 blocks). */
enum { ML_OUT_ASCII = 1 << 12 };
/* One JSON object on one line: a sample with its events. */
int ml_render_watch_json(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out);
/* Log lines: one per event of s; one line for the sample itself. */
int ml_render_watch_events(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags);
int ml_render_watch_line(const struct ml_watch *w, const struct ml_watch_sample *s,
			 FILE *out, unsigned int flags);
/* The screen of the terminal view (the caller clears and homes); rows is
 * the height available, 0 for no limit. */
int ml_render_watch_screen(const struct ml_watch *w, const struct ml_watch_sample *s,
			   FILE *out, unsigned int flags, unsigned int rows);
/* The summary: a per-kind table (or, with ML_OUT_JSON, one JSON line). */
int ml_render_watch_summary(const struct ml_watch *w, FILE *out, unsigned int flags);

#ifdef __cplusplus
}
#endif
#endif /* MEMLAYOUT_H */
