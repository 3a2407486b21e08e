/* SPDX-License-Identifier: MIT */
/*
 * ml-private.h - what the modules of libmemlayout share and users do not.
 *
 * The snapshot owns everything it points to: the region and thread arrays
 * and a string/object pool (ml__alloc, ml__strdup) freed in one go by
 * ml_snapshot_free().  Internal non-static names start with ml__.  At the
 * end, the ml_ functions that only the library and its tests call: kept
 * out of the public header and of libmemlayout.so's exports.
 */
#ifndef ML_PRIVATE_H
#define ML_PRIVATE_H

#include "memlayout.h"

#include <stdio.h>
#include <stdlib.h>

#define ML_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* qsort for arrays that may be empty: an empty array's base is often NULL,
 * which qsort's contract forbids even with a count of 0 (a target that
 * exited between opendir and readdir leaves no threads). */
static inline void ml__sort(void *base, size_t n, size_t size,
			    int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

struct ml__pool_chunk;

struct ml_snapshot {
	struct ml_proc proc;
	struct ml_region *regions;   /* sorted by start, non-overlapping */
	size_t nregions, cap;
	bool regions_huge;           /* regions grown into huge pages (ml__grow) */
	struct ml_thread *threads;
	size_t nthreads;
	struct ml__pool_chunk *pool; /* arena for names, sections, ... */
	char proc_dir[4096];         /* "<proc_root>/<pid>" */
	char proc_root[4096];        /* "/proc" or --proc-root */
	bool mem_unread;             /* owners.c could not read its memory */
	/* A snapshot of a core file (core.c): nothing is read from proc_dir
	 * (no map_files, exe, pagemap); mapped files are opened by their
	 * NT_FILE names under sysroot ("" for /), the main executable's from
	 * core_exe first when the user named one (--exe; "" if not). */
	bool core;
	char sysroot[4096];
	char core_exe[4096];
	const unsigned char *vdso_image;   /* a core's copy of the vDSO (pool), or NULL */
	size_t vdso_len;
};

/* asprintf.c: a formatted string on the heap (free() it), or NULL on
 * ENOMEM: for the cells renderers hand to libsmartcols. */
char *ml__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pool.c: allocations that live as long as the snapshot. */
void *ml__alloc(struct ml_snapshot *snap, size_t size);      /* zeroed; NULL on ENOMEM */
char *ml__strdup(struct ml_snapshot *snap, const char *s);
char *ml__strndup(struct ml_snapshot *snap, const char *s, size_t n);
void ml__pool_free(struct ml_snapshot *snap);

/* maps.c: the /proc/PID/maps and smaps parser.  Streaming: feed it chunks
 * of any size; it keeps at most one partial line.  Linear in input size.
 * Regions are appended to snap->regions with kind ML_KIND_OTHER (classify
 * later).  Returns 0 or -EBADMSG (malformed line), -ENOMEM, and (feed,
 * finish, parse_fd) -EAGAIN for well-formed lines out of order or
 * overlapping: a live file read while the address space changed. */
struct ml__maps_parser;
struct ml__maps_parser *ml__maps_parser_new(struct ml_snapshot *snap, bool smaps);
int ml__maps_parser_feed(struct ml__maps_parser *p, const char *buf, size_t len);
int ml__maps_parser_finish(struct ml__maps_parser *p);  /* also frees p */
/* Parse a whole buffer read from a live process: lines out of order are
 * -EAGAIN (read it again). */
int ml__maps_parse_text(struct ml_snapshot *snap, const char *buf,
			size_t len, bool smaps);
/* Parse a whole saved buffer (tests, fuzzer): lines out of order are
 * -EBADMSG. */
int ml__maps_parse_buffer(struct ml_snapshot *snap, const char *buf,
			  size_t len, bool smaps);
/* Read the file at fd to the end through the parser. */
int ml__maps_parse_fd(struct ml_snapshot *snap, int fd, bool smaps);

/* Decode a maps name field in place: "\012" -> '\n', trailing " (deleted)"
 * removed (returned in *ret_deleted).  Returns the new length. */
size_t ml__decode_name(char *s, size_t len, bool *ret_deleted);

/* snapshot.c: the names of a live process's file mappings that maps
 * leaves ambiguous (" (deleted)" at the end, "\012" inside) settled from
 * snap->proc_dir's map_files: unescaped, and deleted only if unlinked. */
void ml__settle_names(struct ml_snapshot *snap);

/* procfs.c: the small per-process files.  All return 0 or -errno. */
/* "dir/name" into buf; -ENAMETOOLONG if it does not fit. */
int ml__path(char *buf, size_t len, const char *dir, const char *name);
int ml__read_file(const char *path, char **ret_buf, size_t *ret_len); /* NUL-terminated */
/* Returns 1 for a kernel thread, 0, -ESRCH for a process exiting, or
 * -EBADMSG. */
int ml__parse_stat(const char *buf, struct ml_proc *proc);
int ml__parse_status(const char *buf, struct ml_proc *proc);
int ml__parse_limits(const char *buf, uint64_t *ret_stack_soft);
int ml__parse_auxv(const void *buf, size_t len, struct ml_proc *proc);
int ml__parse_syscall(const char *buf, struct ml_thread *t);
int ml__read_proc_facts(struct ml_snapshot *snap);
int ml__read_threads(struct ml_snapshot *snap, bool use_ptrace);

/* kinds.c: a kind's ANSI colour (SGR parameters, "31"), NULL for none. */
const char *ml__kind_color(enum ml_kind kind);

/* classify.c: kinds from names and permissions, then heap/stack/threads. */
void ml__classify_basic(struct ml_snapshot *snap);
void ml__classify_fallback(struct ml_snapshot *snap);
void ml__classify_threads(struct ml_snapshot *snap);

/* tcb.c: glibc's thread descriptor at the top of a thread's stack, read
 * from /proc/PID/mem (see tcb.c for the rule and its bounds). */
#define ML__TCB_SCAN 8192u        /* bytes read at the top of a candidate */
struct ml__tcb {
	int mem, pagemap;         /* /proc/PID/mem and pagemap, -1 if closed */
	unsigned int budget;      /* reads left */
	unsigned int word;        /* 8 or 4 */
	uint64_t page;
	unsigned char buf[ML__TCB_SCAN];
};
/* Open the process's memory for ml__tcb_tid: 0 or -errno (-ENOTSUP for a
 * core); t is usable (reads nothing) either way, closed by ml__tcb_close. */
int ml__tcb_open(const struct ml_snapshot *snap, struct ml__tcb *t);
void ml__tcb_close(struct ml__tcb *t);
/* The TID of the thread whose glibc descriptor lies at the top of r, 0 if
 * none is found there. */
pid_t ml__tcb_tid(struct ml__tcb *t, const struct ml_snapshot *snap, const struct ml_region *r);
void ml__classify_devices(struct ml_snapshot *snap);
/* Is region i (PROT_NONE) a glibc arena's reservation (its unused tail)? */
bool ml__is_arena_reservation(const struct ml_snapshot *snap, size_t i);
/* owners.c: the allocator of each anonymous mapping; before the thread
 * stacks (names, layouts, headers read from /proc/PID/mem) and after them
 * (guesses from the libraries loaded). */
void ml__classify_owners(struct ml_snapshot *snap);
void ml__classify_owners_late(struct ml_snapshot *snap);

/* elf.c: ELF attribution.  For each mapped ELF object, finds the load bias
 * and fills kind, object and sections of its mappings and of the anonymous
 * .bss mapping after its last PT_LOAD.  Never fails on a bad or missing
 * file (those regions keep their basic labels); returns 0 or -ENOMEM. */
int ml__elf_attribute(struct ml_snapshot *snap);
/* The file r maps, opened read-only if it is that file (inode, device):
 * from its map_files entry, its path under the target's root, or its path
 * as we see it (live /proc only), in that order, or the reverse with
 * name_first (a real path lets libdwfl find debug links beside it); then
 * the process's exe link (the main executable without map_files).  The
 * path it was opened by goes to path; -1 if none works. */
int ml__region_open(const struct ml_snapshot *snap, const struct ml_region *r,
		    bool name_first, char *path, size_t size);
/* The steps of every open of a name the target controls (elf.c, and
 * symbols.c's finders): an O_PATH descriptor of name under dirfd with no
 * symlink followed (openat2 RESOLVE_NO_SYMLINKS, in_root: inside dirfd as
 * the target's root; O_NOFOLLOW before 5.6), or -1; then that descriptor
 * (closed) reopened read-only, non-blocking, if fstat says it is a regular
 * file and (r given) the one r maps, or -1.  A FIFO or a device is never
 * opened. */
int ml__open_nofollow(int dirfd, const char *name, bool in_root);
int ml__reopen_regular(int pfd, const struct ml_region *r);

/* tracee.c: an NT_PRSTATUS register block (pr_reg) of len bytes in one of
 * the layouts it knows (64-bit, or i386 for a 32-bit task); 0 or -EBADMSG. */
int ml__regs_decode(const void *raw, size_t len, struct ml_regs *ret);

/* procfs.c: the facts of the machine reading, not of the process: page
 * size (when unset), mmap_min_addr and the user/kernel split for a task
 * of the given width, from snap->proc_root ("/proc"). */
void ml__read_host_facts(struct ml_snapshot *snap, bool is_32bit);

/* unwind.c: unwind thread tid of what dwfl holds (reported and attached
 * by the caller: a live process, or a core), at most max frames; read()
 * reads the target's memory (for a wild call's return address).  As
 * ml_backtrace_take. */
typedef ssize_t (*ml__mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
struct Dwfl;
int ml__backtrace_dwfl(struct Dwfl *dwfl, pid_t tid, bool is_32bit, size_t max,
		       ml__mem_read_fn read, void *ctx, struct ml_backtrace **ret);

/* symbols.c: the libdwfl session of a symbolizer, its modules the
 * snapshot's ELF objects at their load biases (for a core's unwinder:
 * core.c attaches its threads to it). */
struct Dwfl *ml__symbolizer_dwfl(struct ml_symbolizer *sz);

/* abortmsg.c: the C library's abort message found among dwfl's modules
 * (reported by the caller), read through read().  As ml_abort_message. */
int ml__abort_message_dwfl(struct Dwfl *dwfl, bool is_32bit, ml__mem_read_fn read,
			   void *ctx, char **ret);

/* ptrace.c: interrupt a running thread to read its registers. */
int ml__ptrace_regs(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc);

/* vmflags table and smaps figures (maps.c). */
int ml__vmflag_bit(const char two[2]);   /* bit index or -1 */
extern const struct ml_smaps ml__no_smaps;   /* all zero */
/* A new zeroed region at the end of snap->regions (grown as need be;
 * pointers into the array are stale after it); NULL on ENOMEM. */
struct ml_region *ml__region_append(struct ml_snapshot *snap);
/* Split region i at address at (start < at < end) into two regions, the
 * regions kept sorted and disjoint: [start, at) keeps i, [at, end) is
 * i + 1, a copy with its file offset moved on; smaps figures, which the
 * kernel gives for the whole mapping, stay with the second part and the
 * first has none (have_smaps false).  Pointers into snap->regions are
 * stale after it.  0, -EINVAL or -ENOMEM. */
int ml__region_split(struct ml_snapshot *snap, size_t i, uint64_t at);

/* hugemem.c: zeroed blocks of whole 2 MiB pages, transparent huge pages
 * where the kernel gives them (NULL on ENOMEM); free with the same size. */
#define ML__HUGE_MIN ((size_t)256 << 10)   /* smaller: malloc is as good */
size_t ml__huge_size(size_t size);      /* size rounded up to 2 MiB */
void *ml__huge_alloc(size_t size);
void ml__huge_free(void *p, size_t size);
/* A growing block: *cap bytes at *p, used of them in use, made to hold
 * need (the capacity doubles); malloc'ed while small, huge pages past
 * ML__HUGE_MIN (*huge then set).  0 or -ENOMEM, the old block kept. */
int ml__grow(void **p, size_t *cap, bool *huge, size_t used, size_t need);
void ml__grow_free(void *p, size_t cap, bool huge);

/* table-text.c: libsmartcols' non-terminal output of a plain ASCII table,
 * written in bulk.  row() gives the cells of a row: s[c], the text of
 * column c (NULL if empty), built in bufs[c] (the column's own) if it
 * likes, valid until the next call; n[c] its length, or SIZE_MAX if not
 * known (strlen then).  -EILSEQ when a byte would need encoding: then
 * nothing was written, and libsmartcols must print the table. */
#define ML__TEXT_CELL_BUF 64
struct ml__text_col {
	const char *header;
	double whint;             /* libsmartcols width hint */
	bool right;               /* SCOLS_FL_RIGHT */
	bool ascii;               /* its cells are plain by construction: not
	                             checked (only text a target controls is) */
};
typedef void (*ml__text_row_fn)(void *ctx, size_t row, const char **s, size_t *n,
				char (*bufs)[ML__TEXT_CELL_BUF]);
int ml__text_table_print(FILE *out, unsigned int flags, const struct ml__text_col *cols,
			 size_t ncols, size_t nrows, ml__text_row_fn row, void *ctx);

/* fold.c: the columns n bytes of s take on a terminal (escape sequences
 * none, multibyte characters their wcwidth). */
unsigned int ml__text_width(const char *s, size_t n);

/* labels.c: *ret (malloc'ed, free() it) gets per region the shortest
 * suffix of its object's path no other object of snap ends with ("libc.so.6"),
 * NULL where it has no object; pointers into the snapshot's strings.
 * 0 or -ENOMEM. */
int ml__object_labels(const struct ml_snapshot *snap, const char ***ret);
/* The same for any n paths (NULL entries stay NULL), pointers into them. */
int ml__path_labels(const char *const *paths, size_t n, const char ***ret);
/* The cells of column col of a libsmartcols table with its lines added
 * replaced by their labels among that column's cells.  0 or -ENOMEM. */
struct libscols_table;
int ml__scols_label_column(struct libscols_table *tb, size_t col);

/* ---- Functions with public-style names (ml_) that only the library and
 * its tests call: not in memlayout.h, not exported by libmemlayout.so
 * (libmemlayout.map).  Their contracts are as public functions' are. ---- */

/* -- the per-kind totals (snapshot.c; render-table.c's summary) -- */
/* Per-kind totals. */
struct ml_kind_total {
	size_t count;
	uint64_t vsize, rss, pss, dirty, swap;
};
/* Fills totals[ML_KIND__COUNT]. */
void ml_snapshot_totals(const struct ml_snapshot *snap,
			struct ml_kind_total totals[ML_KIND__COUNT]);

/* -- pagemap (pagemap.c): entries, frames, the fd for residency.c -- */
/* Decode one raw pagemap entry (no I/O). */
void ml_page_decode(uint64_t entry, struct ml_page *ret);
/* The raw entries of npages pages from the page containing addr, with as
 * few preads as it takes.  Returns 0, -ESRCH (the process is gone), -EIO. */
int ml_pagemap_read(struct ml_pagemap *pm, uint64_t addr, size_t npages,
		    uint64_t *ret_entries);
/* Fill kflags and mapcount of a present page with a known PFN, when the
 * frame files could be opened; 0 (flags say what was filled) or -errno. */
int ml_pagemap_frame(struct ml_pagemap *pm, struct ml_page *page);
/* Could the frame files be opened (are PFNs and frame flags visible)? */
bool ml_pagemap_frames_readable(const struct ml_pagemap *pm);
/* The page size of the target's mappings (the system page size). */
uint64_t ml_pagemap_page_size(const struct ml_pagemap *pm);
/* The fd of the pagemap file, for ioctls (PAGEMAP_SCAN) of other modules. */
int ml_pagemap_fd(const struct ml_pagemap *pm);

/* -- the instruction decoder (insn.c, for crash.c) -- */
/* Decode the instruction in code[0..len) found at regs->pc (x86-64 or
 * i386 by regs->is_32bit).  0, -ENOEXEC not an instruction, -ENOTSUP no
 * decoder for this architecture or no Zydis library (ML_ZYDIS_SONAME,
 * loaded at the first call), -ENOMEM. */
int ml_insn_decode(const unsigned char *code, size_t len,
		   const struct ml_regs *regs, struct ml_insn *ret);

/* -- symbolizer lookups (symbols.c, for where.c) -- */
enum {
	ML_SYM_LINES = 1 << 0,    /* also look up the source line (code addresses) */
};
/* The same for a live process: takes its snapshot first (-ESRCH, ...). */
int ml_symbolizer_new_pid(pid_t pid, struct ml_symbolizer **ret);
/* Symbolize addr (flags ML_SYM_*).  Returns 0 with *ret filled (name,
 * file... NULL when unknown), -ENOENT if no ELF object holds addr. */
int ml_symbolize(struct ml_symbolizer *sz, uint64_t addr, unsigned int flags,
		 struct ml_symbol *ret);

/* -- a symbol of a stopped tracee (abortmsg.c, for heapcheck.c) -- */
/* The address of the defined symbol name in the modules of pid: 0,
 * -ENOENT, -ESRCH, -ENOMEM, -ENOTSUP (no libdw). */
int ml__tracee_symbol(pid_t pid, const char *name, uint64_t *ret);

/* -- where's column list (render-where.c) -- */
int ml_where_columns_parse(const char *list, int *ret_ids, size_t max,
			   size_t *ret_n, const char **ret_bad);

/* -- the scanner's runs (residency.c, for shared.c) -- */
/* Called for consecutive runs of pages in one state, in address order,
 * together covering the scanned range exactly.  A non-zero return stops
 * the scan and is returned by ml_scanner_run. */
typedef int (*ml_run_fn)(uint64_t start, uint64_t end, enum ml_pstate st,
			 void *arg);
/* Scan the pages of [start, end) (rounded out to pages).  Returns 0, the
 * callback's non-zero value, -ESRCH (the process is gone), -EOPNOTSUPP
 * (ML_SCAN_IOCTL on a kernel without it), -EIO, -ENOMEM. */
int ml_scanner_run(struct ml_scanner *sc, uint64_t start, uint64_t end,
		   ml_run_fn fn, void *arg);

/* -- the ASLR estimator's points (aslr.c, aslr-sample.c) -- */
/* Begin a run; returns its index (0, 1, ...). */
int ml_aslr_begin_run(struct ml_aslr *a);
/* Record a point in the current run (the first value of a name in a run
 * counts).  unit: the alignment expected (page, 16).  0 or -errno. */
int ml_aslr_add(struct ml_aslr *a, const char *name, uint64_t value,
		uint64_t unit, unsigned int flags);
/* Begin a run and record the points of snap (see aslr-sample.c). */
int ml_aslr_add_snapshot(struct ml_aslr *a, const struct ml_snapshot *snap);

/* -- column sets and libsmartcols printing (columns.c) -- */
/* A libsmartcols table writing to out, set up from ML_OUT_* flags (JSON,
 * raw, no headings, colour) and named name (the JSON key); NULL on ENOMEM.
 * The caller adds columns and lines and unrefs it. */
struct libscols_table *ml_scols_table_new(FILE *out, unsigned int flags, const char *name);
/* On a terminal, a table's columns hidden (SCOLS_FL_HIDDEN) by struct
 * ml_fit, until the columns left fit libsmartcols' terminal width; a
 * truncated (SCOLS_FL_TRUNC) column is counted at min columns at most
 * (0: its widest cell) and, when all its cells fit min, is no longer cut;
 * libsmartcols cuts the others to what is left.  Call it with the lines
 * added.  0, -EINVAL (more than ML_FIT_MAX columns), -ENOMEM. */
int ml_scols_fit(struct libscols_table *tb, const struct ml_fit *fit, size_t ncols);
/* A column of this type is right-aligned (numbers, addresses); holds
 * text the target controls (escaped by the table printer). */
bool ml__col_right(enum ml_col_type t);
bool ml__col_target_text(enum ml_col_type t);
/* The default set of a column table: its ids into ret_ids (at most max);
 * returns how many. */
size_t ml_columns_default(const struct ml_column_info *cols, size_t ncols,
			  int *ret_ids, size_t max);
/* scols_print_table(tb), a JSON table through ml_json_stream() with an
 * empty array cell as [] (not libsmartcols' [null]).  0, -ENOMEM, or -EIO
 * if writing to the table's stream failed. */
int ml_scols_print(struct libscols_table *tb);
/* If the n bytes at s start with DEL or an invisible character, write it
 * to out as a JSON \u escape (a surrogate pair past U+FFFF) and return
 * its length; else 0 and nothing written. */
int ml__json_u(FILE *out, const char *s, size_t n);
/* Does a section header (sh_flags, sh_type, sh_size) describe memory in
 * the process image: SHF_ALLOC, not empty, and not .tbss (SHT_NOBITS with
 * SHF_TLS, which has no address)?  elf.c's rule for a region's sections,
 * symbols.c's for the section of an address. */
bool ml__sec_in_image(uint64_t flags, uint32_t type, uint64_t size);
/* Is cp an invisible format character (Unicode Cf: bidi controls,
 * zero-width characters, BOM; U+2028-2029)?  Escaped like controls. */
bool ml__invisible(uint32_t cp);
/* Text the target controls as a libsmartcols cell for output flags
 * (ML_OUT_*): JSON-safe for JSON, as is for raw (libsmartcols writes every
 * byte >= 0x80 as \xHH there), else with the invisible characters and "\x"
 * as \xHH, for a table whose columns ml__scols_safe() set.  Malloc'ed;
 * NULL on ENOMEM. */
char *ml__escape_cell(const char *s, unsigned int flags);
/* Every column of tb takes '\\' as safe (ml__escape_cell() wrote each
 * backslash that must be one as \x5c already).  0 or -ENOMEM. */
int ml__scols_safe(struct libscols_table *tb);
/* s as a JSON string (valid UTF-8 by ml_escape(ML_ESC_JSON_SAFE), quotes,
 * backslashes and controls escaped), null for NULL or on ENOMEM. */
void ml__json_string(FILE *out, const char *s);

/* render-html.c, for the pictures (render-html.c, render-plot.c): kind k's
 * colour as CSS "#rrggbb" (the terminal's, from its SGR codes); s (target
 * text) as the terminal shows it, written as pure ASCII for XML text or
 * attributes (character references) or the inside of a JSON string in a
 * <script> (\uXXXX: no '<', '&' or quote), bidi controls as \uXXXX text. */
void ml__kind_css(enum ml_kind k, char buf[8]);
enum ml__esc_to { ML__ESC_XML, ML__ESC_JSON };
void ml__html_escaped(FILE *out, const char *s, enum ml__esc_to to);

/* -- watch's state for its renderers (watch.c, render-watch.c) -- */
const char *ml_watch_comm(const struct ml_watch *w);
/* The first sample (events excluded), NULL before any. */
const struct ml_watch_sample *ml_watch_first(const struct ml_watch *w);
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
	const struct ml_watch_object *objects;   /* as in the last sample */
	size_t nobjects;
};
void ml_watch_summary(const struct ml_watch *w, struct ml_watch_summary *ret);

/* name demangled (C++, Rust legacy) into *ret (malloc'd): 0, -ENOENT not
 * a mangled name it knows, -ENOTSUP no libstdc++.so.6, -ENOMEM. */
int ml__demangle(const char *name, char **ret);

#endif
