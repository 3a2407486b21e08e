/*
 * ml-private.h - what the modules of libmemlayout share and users do not.
 *
 * The snapshot owns everything it points to: the region and thread arrays
 * and a string/object pool (ml__alloc, ml__strdup) freed in one go by
 * ml_snapshot_free().  Internal non-static names start with ml__.
 */
#ifndef ML_PRIVATE_H
#define ML_PRIVATE_H

#include "memlayout.h"

#include <stdio.h>

#define ML_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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
/* Parse a whole buffer (tests, fuzzer): lines out of order are -EBADMSG. */
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

/* elf.c: ELF attribution.  For each mapped ELF object, finds the load bias
 * and fills kind, object and sections of its mappings and of the anonymous
 * .bss mapping after its last PT_LOAD.  Never fails on a bad or missing
 * file (those regions keep their basic labels); returns 0 or -ENOMEM. */
int ml__elf_attribute(struct ml_snapshot *snap);
/* The file r maps, opened read-only if it is that file (inode, device):
 * from its map_files entry, its path under the target's root, or its path
 * as we see it (live /proc only), in that order, or the reverse with
 * name_first (a real path lets libdwfl find debug links beside it).  The
 * path it was opened by goes to path; -1 if none works. */
int ml__region_open(const struct ml_snapshot *snap, const struct ml_region *r,
		    bool name_first, char *path, size_t size);

/* ptrace.c: interrupt a running thread to read its registers. */
int ml__ptrace_regs(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc);

/* vmflags table and smaps figures (maps.c). */
int ml__vmflag_bit(const char two[2]);   /* bit index or -1 */
extern const struct ml_smaps ml__no_smaps;   /* all zero */

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

#endif
