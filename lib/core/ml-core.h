/* SPDX-License-Identifier: MIT */
/*
 * ml-core.h - what the readers and the model (lib/core/) give the folders
 * above them: the snapshot and its pool, the maps parser, the small /proc
 * files, classification, owners and ELF attribution (the steps that build
 * the model), ptrace and tracee registers, pagemap, huge-page blocks.
 *
 * The snapshot owns everything it points to: the region and thread arrays
 * and a string/object pool (ml__alloc, ml__strdup) freed in one go by
 * ml_snapshot_free().  Internal non-static names start with ml__.  The ml_
 * functions here are called only by the library and its tests: kept out of
 * the public header and of libmemlayout.so's exports.  This folder includes
 * no header of another folder (the build gives it none).
 */
#ifndef ML_CORE_H
#define ML_CORE_H

#include "memlayout.h"

#include <assert.h>
#include <stddef.h>
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
struct ml__elf_load;

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
	struct ml__elf_load *loads;  /* elf.c: sorted by start, disjoint */
	size_t nloads, loadcap;
};

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
int ml__settle_names(struct ml_snapshot *snap);

/* snapshot.c: the one builder of a snapshot.  A source says where the
 * facts come from (ml_snapshot_take: /proc/PID's files by path; watch.c:
 * the files it holds open, the facts that do not change and its ELF kind
 * cache); ml__snapshot_build() reads and classifies in the one order:
 * stat (0, 1 for a kernel thread, or -errno), maps (an empty one: -ESRCH,
 * -ENODATA for a kernel thread), ambiguous names settled (live), facts,
 * basic kinds, ELF kinds, fallback labels, owners, threads, thread
 * stacks, devices, late owners, and stat again (recheck).  0 or -errno. */
struct ml__snap_source {
	int (*stat)(void *ctx, struct ml_snapshot *snap);
	int (*maps)(void *ctx, struct ml_snapshot *snap);
	int (*facts)(void *ctx, struct ml_snapshot *snap);
	int (*kinds)(void *ctx, struct ml_snapshot *snap);
	int (*threads)(void *ctx, struct ml_snapshot *snap);
	void *ctx;
	bool live;      /* a live process: names settled from map_files */
	bool recheck;   /* stat read again at the end: gone is -ESRCH */
};
int ml__snapshot_build(struct ml_snapshot *snap, const struct ml__snap_source *src);
/* The invariant of every snapshot, for assert(): regions non-empty,
 * sorted by start and disjoint, their sections inside them. */
bool ml__regions_sorted(const struct ml_snapshot *snap);
/* What a stat line's state says: 0 alive; -EOWNERDEAD a zombie (Z, or X
 * being reaped), no address space left; -ESRCH a thread-group leader
 * that exited while other threads run (Z too, but num_threads, field 20,
 * > 1: its maps read empty, as if gone). */
int ml__stat_dead(const char *stat);

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
/* kinds.c: the kind of a code object's mapping by its permissions alone
 * (text, data, rodata; reserved with none): the one rule of elf.c and of
 * classify.c's fallback. */
enum ml_kind ml__kind_by_perms(unsigned int perms);
void ml__classify_fallback(struct ml_snapshot *snap);
int ml__classify_threads(struct ml_snapshot *snap);

/* probe.c: a running process's memory, read only where pagemap says the
 * pages are in RAM, at most budget reads (see probe.c). */
struct ml__probe {
	int mem, pagemap;         /* /proc/PID/mem and pagemap, -1 if closed */
	unsigned int budget;      /* reads left */
	unsigned int word;        /* 8 or 4 */
	uint64_t page;
};
/* 0 or -errno (-ENOTSUP for a core); p is usable (reads nothing) either
 * way, closed by ml__probe_close. */
int ml__probe_open(const struct ml_snapshot *snap, unsigned int budget, struct ml__probe *p);
void ml__probe_close(struct ml__probe *p);
/* Is the page at addr in RAM (no budget spent)? */
bool ml__probe_present(struct ml__probe *p, uint64_t addr);
/* len bytes at addr into buf, all of them on present pages, one read of
 * the budget; false if not. */
bool ml__probe_read(struct ml__probe *p, uint64_t addr, void *buf, size_t len);
/* Word i of b, in the target's word size. */
uint64_t ml__probe_word(const struct ml__probe *p, const unsigned char *b, size_t i);

/* tcb.c: glibc's thread descriptor at the top of a thread's stack, read
 * from /proc/PID/mem (see tcb.c for the rule and its bounds). */
#define ML__TCB_SCAN 8192u        /* bytes read at the top of a candidate */
struct ml__tcb {
	struct ml__probe p;
	unsigned char buf[ML__TCB_SCAN];
};
/* Open the process's memory for ml__tcb_tid (ml__probe_open, closed by
 * ml__probe_close(&t->p)). */
int ml__tcb_open(const struct ml_snapshot *snap, struct ml__tcb *t);
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
/* What elf.c learnt of a mapped ELF object, kept in the snapshot (pool) so
 * that the symbolizer neither reads the file's headers nor parses its
 * sections again.  An image: its allocated sections (ml__sec_in_image) at
 * link-time addresses, sorted by start, then end descending, then header
 * index; maxend[i] = max(end of secs[0..i]).  phdr_secs: the file has no
 * usable section headers and secs are pseudo-sections made from its
 * program headers ("[LOAD#n]", ...; index 0).  A load: a run of adjacent
 * mappings of one image at one load bias. */
struct ml__elf_sec {
	const char *name;                   /* pooled, or static */
	uint64_t start, end;                /* start < end */
	unsigned int index;                 /* section header index */
	bool nobits;
};
struct ml__elf_image {
	const struct ml__elf_sec *secs;
	const uint64_t *maxend;
	size_t nsecs;
	bool phdr_secs;
};
struct ml__elf_load {
	uint64_t start, end, bias;          /* [start, end) in memory */
	const struct ml__elf_image *image;
};
/* The load holding addr, or NULL; the index of the image's first section
 * that may end after the link-time address lo (nsecs: none); secs[n]
 * sorted as an image's, maxend[n] made (also symbols.c's, for the vDSO,
 * which has no file and which elf.c never reads). */
const struct ml__elf_load *ml__elf_load_at(const struct ml_snapshot *snap, uint64_t addr);
size_t ml__elf_secs_first(const struct ml__elf_image *img, uint64_t lo);
void ml__elf_secs_index(struct ml__elf_sec *secs, uint64_t *maxend, size_t n);
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
/* elf.c: a program header's p_flags (PF_R, PF_W, PF_X) as ML_PERM_* bits. */
unsigned int ml__phdr_perms(uint32_t flags);

/* snapshot.c: the element of base[n] (stride bytes each, sorted, disjoint,
 * each starting with its span: uint64_t start, end, [start, end), as
 * ML__SPAN_HEAD checks) that holds addr, or NULL; a binary search. */
const void *ml__span_find(const void *base, size_t n, size_t stride, uint64_t addr);
#define ML__SPAN_HEAD(type, lo, hi)                                                  \
	_Static_assert(offsetof(type, lo) == 0 && offsetof(type, hi) == sizeof(uint64_t), \
		       #type " starts with its span")

/* tracee.c: an NT_PRSTATUS register block (pr_reg) of len bytes in one of
 * the layouts it knows (64-bit, or i386 for a 32-bit task); 0 or -EBADMSG. */
int ml__regs_decode(const void *raw, size_t len, struct ml_regs *ret);

/* procfs.c: the facts of the machine reading, not of the process: page
 * size (when unset), mmap_min_addr and the user/kernel split for a task
 * of the given width, from snap->proc_root ("/proc"). */
int ml__read_host_facts(struct ml_snapshot *snap, bool is_32bit);

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
 * kernel gives for the whole mapping, apportioned (ml__smaps_split).
 * Pointers into snap->regions are stale after it.  0, -EINVAL or -ENOMEM. */
int ml__region_split(struct ml_snapshot *snap, size_t i, uint64_t at);
/* smaps-split.c: the smaps figures of regions i and i + 1, one mapping
 * just split, apportioned between them by the pages each has resident and
 * swapped (pagemap); where those cannot be read the second keeps them and
 * the first has none.  0 or -ENOMEM. */
int ml__smaps_split(struct ml_snapshot *snap, size_t i);

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

/* grow.c: the growable array.  *arrp (a T **, passed as void *) has *cap
 * elements of size bytes; make it hold at least need, the capacity
 * doubled (from 16).  0, or -ENOMEM with the array and *cap as they were
 * (also when the bytes would overflow size_t).  ML__RESERVE(arr, cap,
 * need) is the call with its fast path inline: 0 when there is room. */
int ml__array_grow(void *arrp, size_t *cap, size_t need, size_t size);
#define ML__RESERVE(arr, cap, need) \
	((need) <= (cap) ? 0 : ml__array_grow(&(arr), &(cap), (need), sizeof(*(arr))))

/* Does a section header (sh_flags, sh_type, sh_size) describe memory in
 * the process image: SHF_ALLOC, not empty, and not .tbss (SHT_NOBITS with
 * SHF_TLS, which has no address)?  elf.c's rule for a region's sections,
 * symbols.c's for the section of an address. */
bool ml__sec_in_image(uint64_t flags, uint32_t type, uint64_t size);

/* The SECCOMP_RET_DATA of ML_SPAWN_WATCH_PTRACE's filter (spawn.c) at a
 * PTRACE_EVENT_SECCOMP stop: which call stopped (run.c reads it). */
enum {
	ML__SECCOMP_PTRACE = 1,          /* ptrace(2) */
	ML__SECCOMP_CLONE_UNTRACED = 2,  /* clone(2) with CLONE_UNTRACED */
};
/* Was a PTRACE_EVENT_SECCOMP stop (its arch, call number and RET_DATA)
 * made by that filter, not by one the program installed itself? */
bool ml__seccomp_ours(uint32_t arch, uint64_t nr, uint16_t data);

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

#endif
