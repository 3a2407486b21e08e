/* SPDX-License-Identifier: MIT */
/*
 * core.c - an ELF core file (ET_CORE, as the kernel writes it) read into
 * the facts a live process gives: the snapshot model (regions with kinds,
 * objects and sections, threads with sp and pc), the fault of the thread
 * that dumped it, its memory, and its backtrace (libdwfl over the snapshot's
 * objects, the core's threads attached through dwfl_attach_state).
 *
 * What a core holds, read with libelf:
 *  - PT_LOAD: one per mapping, in address order: address, size,
 *    permissions; its contents where p_filesz says so (a filtered core
 *    keeps only the first page of a mapped ELF file, or nothing);
 *  - PT_NOTE "CORE": NT_PRSTATUS per thread (the dumping thread first:
 *    tid, signal, registers in tracee.c's layouts), NT_PRPSINFO (pid,
 *    comm, arguments), NT_SIGINFO (signal, si_code, address), NT_AUXV,
 *    NT_FILE (which file is mapped where, at which offset).
 * What it does not hold, and how it is made up for:
 *  - the kernel's names [heap], [stack], [vdso]: the vDSO is at
 *    AT_SYSINFO_EHDR, the stack holds AT_EXECFN's string, the heap is the
 *    first anonymous writable mapping above the executable's image (its
 *    PT_LOADs' end, from its program headers at AT_PHDR) that is not its
 *    .bss (where brk puts it, adjacent without ASLR; a core records no brk);
 *  - RLIMIT_STACK: the reader's own limit is assumed;
 *  - the contents of file pages it left out: read from the file on disk
 *    (under the sysroot) if the build-id in the core's copy of its ELF
 *    header is the file's; else the gap is recorded (ml_core_gaps), never
 *    filled with something else;
 *  - a file mapping with no PT_LOAD (gdb's gcore writes none for what it
 *    does not dump; NT_FILE lists it): a segment without contents, its
 *    permissions from its file's program headers (add_file_loads);
 *  - a core cut short after its notes: each segment keeps the bytes that
 *    are there, no file page stands in for the rest (it may have been
 *    written), and where it stops is in ml_core_info (cut_load).
 *
 * Untrusted: every offset, size and count read from the file is checked
 * against the file's size and the note's size before use; segments must
 * be sorted and disjoint.  Bounds: CORE_MAX_* below.  The core and the
 * files it names are opened read-only; a name is opened symlink-free
 * under the sysroot, as a regular file only (elf.c's steps).
 *
 * Ownership: struct ml_core owns its fd, its Elf, the arrays and the
 * names; a snapshot made from it copies what it keeps into its pool and
 * does not point into the core.
 */
#include "ml-crash.h"
#include "dynlib.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CORE_MAX_LOADS    (1u << 20)   /* mappings (vm.max_map_count is 65530 by default) */
#define CORE_MAX_THREADS  (1u << 16)
#define CORE_MAX_NOTES    ((size_t)64 << 20)   /* bytes of notes */
#define CORE_HDR_BYTES    65536        /* of an object's header read for its build-id */
#define CORE_BUILD_ID_MAX 64

/* The layouts of a core's notes, per machine and class. */
struct arch {
	uint16_t machine;
	unsigned char cls;
	size_t prstatus_size, pid_off, cursig_off, reg_off, reg_size;
	size_t si_addr_off;                 /* siginfo: si_addr, si_pid */
	size_t psinfo_size, ps_pid_off, fname_off, psargs_off;
};

static const struct arch arches[] = {
#if defined(__x86_64__)
	{ EM_X86_64, ELFCLASS64, 336, 32, 12, 112, 216, 16, 136, 24, 40, 56 },
	{ EM_386, ELFCLASS32, 144, 24, 12, 72, 68, 12, 124, 12, 28, 44 },
#elif defined(__aarch64__)
	{ EM_AARCH64, ELFCLASS64, 392, 32, 12, 112, 272, 16, 136, 24, 40, 56 },
	{ EM_ARM, ELFCLASS32, 148, 24, 12, 72, 72, 12, 124, 12, 28, 44 },
#endif
};

struct core_load {
	uint64_t start, end, offset, filesz;
	unsigned int perms;
	bool cut;           /* the core ends in its contents: filesz is what is left */
};
ML__SPAN_HEAD(struct core_load, start, end);

enum obj_state { OBJ_UNCHECKED, OBJ_OK, OBJ_MISSING, OBJ_MISMATCH, OBJ_UNVERIFIED };

/* A file named by NT_FILE, opened when first needed. */
struct core_obj {
	const char *name;
	enum obj_state state;
	int fd;
	struct stat st;
};

struct core_file {
	uint64_t start, end, offset;
	struct core_obj *obj;
};
ML__SPAN_HEAD(struct core_file, start, end);

struct ml_core {
	int fd;
	Elf *elf;
	uint64_t fsize;
	const struct arch *arch;
	struct core_load *loads;
	size_t nloads;
	struct core_file *files;
	size_t nfiles;
	struct core_obj *objs;
	size_t nobjs;
	char *names;                /* NT_FILE's strings, copied */
	struct ml_core_thread *threads;
	size_t nthreads;
	unsigned char *auxv;
	size_t auxv_len;
	struct ml_core_info info;
	struct ml_core_gap *gaps;
	size_t ngaps, gcap;
	bool gap_lost;              /* a gap went unrecorded (ENOMEM) */
	int rootfd;                 /* the sysroot, O_PATH */
	char sysroot[PATH_MAX];
	const char *exe;            /* --exe: the main executable's file, or NULL */
	struct core_obj *exe_obj;   /* the object mapped at AT_ENTRY */
};

/* ---- small readers of untrusted bytes ---- */

static uint64_t rd(const unsigned char *p, size_t width)
{
	uint64_t v = 0;

	memcpy(&v, p, width);   /* little-endian targets only (arches[]) */
	return v;
}

static size_t word_size(const struct ml_core *c)
{
	return c->arch->cls == ELFCLASS64 ? 8 : 4;
}

/* ---- gaps ---- */

/* Record a gap; 0, or -ENOMEM (c->gap_lost set: the read that found it
 * fails, so no gap is silently left out of ml_core_gaps()). */
static int gap_add(struct ml_core *c, enum ml_core_gap_kind kind, const char *object,
		   uint64_t addr)
{
	for (size_t i = 0; i < c->ngaps; i++)
		if (c->gaps[i].kind == kind && c->gaps[i].object == object)
			return 0;
	if (ML__RESERVE(c->gaps, c->gcap, c->ngaps + 1) < 0) {
		c->gap_lost = true;
		return -ENOMEM;
	}
	c->gaps[c->ngaps++] = (struct ml_core_gap){ kind, object, addr };
	return 0;
}

/* ---- notes ---- */

static int note_prstatus(struct ml_core *c, const unsigned char *d, size_t n)
{
	const struct arch *a = c->arch;
	struct ml_core_thread *t;

	if (n != a->prstatus_size)
		return -EBADMSG;
	if (c->nthreads == CORE_MAX_THREADS)
		return -E2BIG;
	t = realloc(c->threads, (c->nthreads + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	c->threads = t;
	t = &c->threads[c->nthreads];
	memset(t, 0, sizeof(*t));
	t->tid = (pid_t)rd(d + a->pid_off, 4);
	t->cursig = (int)(int16_t)rd(d + a->cursig_off, 2);
	if (t->tid <= 0 || ml__regs_decode(d + a->reg_off, a->reg_size, &t->regs) < 0)
		return -EBADMSG;
	c->nthreads++;
	return 0;
}

static void copy_str(char *dst, size_t size, const unsigned char *src, size_t n)
{
	size_t k = strnlen((const char *)src, n < size - 1 ? n : size - 1);

	memcpy(dst, src, k);
	dst[k] = '\0';
}

static int note_prpsinfo(struct ml_core *c, const unsigned char *d, size_t n)
{
	const struct arch *a = c->arch;

	if (n != a->psinfo_size)
		return -EBADMSG;
	c->info.pid = (pid_t)rd(d + a->ps_pid_off, 4);
	copy_str(c->info.comm, sizeof(c->info.comm), d + a->fname_off, 16);
	copy_str(c->info.args, sizeof(c->info.args), d + a->psargs_off, 80);
	return 0;
}

static int note_siginfo(struct ml_core *c, const unsigned char *d, size_t n)
{
	if (n < c->arch->si_addr_off + word_size(c) || c->info.have_siginfo)
		return n < c->arch->si_addr_off + word_size(c) ? -EBADMSG : 0;
	c->info.have_siginfo = true;
	c->info.signo = (int)rd(d, 4);
	c->info.code = (int)rd(d + 8, 4);
	c->info.addr = rd(d + c->arch->si_addr_off, word_size(c));
	if (c->info.code <= 0)   /* sent by a process: si_pid where si_addr is */
		c->info.sender = (pid_t)rd(d + c->arch->si_addr_off, 4);
	return 0;
}

static int note_auxv(struct ml_core *c, const unsigned char *d, size_t n)
{
	free(c->auxv);
	if (!(c->auxv = malloc(n ? n : 1)))
		return -ENOMEM;
	memcpy(c->auxv, d, n);
	c->auxv_len = n;
	return 0;
}

/* The object of name (names are in c->names: one per distinct string). */
static struct core_obj *obj_of(struct ml_core *c, const char *name)
{
	for (size_t i = c->nobjs; i-- > 0;)
		if (!strcmp(c->objs[i].name, name))
			return &c->objs[i];
	c->objs[c->nobjs] = (struct core_obj){ .name = name, .fd = -1 };
	return &c->objs[c->nobjs++];
}

/* NT_FILE: count, page size, count x (start, end, page offset), then
 * count NUL-terminated names. */
static int note_file(struct ml_core *c, const unsigned char *d, size_t n)
{
	size_t w = word_size(c), count, pgsz, off;
	const char *s, *end;

	if (c->files || n < 2 * w)
		return c->files ? 0 : -EBADMSG;
	count = rd(d, w);
	pgsz = rd(d + w, w);
	if (count > (n - 2 * w) / (3 * w) || count > CORE_MAX_LOADS || !pgsz ||
	    (pgsz & (pgsz - 1)))
		return -EBADMSG;
	off = 2 * w + count * 3 * w;
	c->files = calloc(count ? count : 1, sizeof(*c->files));
	c->objs = calloc(count ? count : 1, sizeof(*c->objs));
	c->names = malloc(n - off + 1);
	if (!c->files || !c->objs || !c->names)
		return -ENOMEM;
	memcpy(c->names, d + off, n - off);
	c->names[n - off] = '\0';
	s = c->names;
	end = c->names + (n - off);
	for (size_t i = 0; i < count; i++) {
		const unsigned char *e = d + 2 * w + i * 3 * w;
		struct core_file *f = &c->files[i];
		uint64_t pg = rd(e + 2 * w, w);

		if (s >= end)
			return -EBADMSG;
		f->start = rd(e, w);
		f->end = rd(e + w, w);
		if (f->end <= f->start || pg > UINT64_MAX / pgsz ||
		    (i && f->start < c->files[i - 1].end))
			return -EBADMSG;
		f->offset = pg * pgsz;
		f->obj = obj_of(c, s);
		s += strlen(s) + 1;
	}
	c->nfiles = count;
	return 0;
}

static const struct {
	uint32_t type;
	int (*fn)(struct ml_core *c, const unsigned char *d, size_t n);
} note_fns[] = {
	{ NT_PRSTATUS, note_prstatus },
	{ NT_PRPSINFO, note_prpsinfo },
	{ NT_SIGINFO, note_siginfo },
	{ NT_AUXV, note_auxv },
	{ NT_FILE, note_file },
};

static int read_notes(struct ml_core *c, const GElf_Phdr *ph, size_t *budget)
{
	Elf_Data *data;
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, next;
	int r;

	if (ph->p_filesz > *budget)
		return -E2BIG;
	*budget -= ph->p_filesz;
	data = elf_getdata_rawchunk(c->elf, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
	if (!data)
		return -EBADMSG;
	while (off < data->d_size && (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;

		off = next;
		if (nh.n_namesz != 5 || memcmp((char *)data->d_buf + name_off, "CORE", 5))
			continue;
		for (size_t i = 0; i < ML_ARRAY_SIZE(note_fns); i++)
			if (note_fns[i].type == nh.n_type &&
			    (r = note_fns[i].fn(c, d, nh.n_descsz)) < 0)
				return r;
	}
	return 0;
}

/* ---- segments ---- */

/* The file ends inside l's contents (a core cut short): keep what is
 * there; the first address lost and the size the core should have are
 * recorded once, the size for every segment. */
static void cut_load(struct ml_core *c, struct core_load *l)
{
	uint64_t left = l->offset < c->fsize ? c->fsize - l->offset : 0;

	if (c->info.full_size == c->info.size)
		c->info.cut_addr = l->start + left;
	if (l->offset + l->filesz > c->info.full_size)
		c->info.full_size = l->offset + l->filesz;
	l->filesz = left;
	l->cut = true;
}

static int add_load(struct ml_core *c, const GElf_Phdr *ph)
{
	struct core_load *l = &c->loads[c->nloads];

	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_filesz > ph->p_memsz || ph->p_vaddr + ph->p_memsz < ph->p_vaddr)
		return -EBADMSG;
	if (ph->p_offset > UINT64_MAX - ph->p_filesz)
		return -EBADMSG;
	if (c->nloads && ph->p_vaddr < c->loads[c->nloads - 1].end)
		return -EBADMSG;   /* not sorted, or overlapping */
	*l = (struct core_load){ ph->p_vaddr, ph->p_vaddr + ph->p_memsz, ph->p_offset, ph->p_filesz,
				 ml__phdr_perms(ph->p_flags), false };
	if (ph->p_filesz && ph->p_offset + ph->p_filesz > c->fsize)
		cut_load(c, l);
	c->nloads++;
	return 0;
}

static int read_phdrs(struct ml_core *c)
{
	size_t n, budget = CORE_MAX_NOTES;
	int r = 0;

	GElf_Ehdr eh;

	/* libelf counts no headers when their table is cut short: the
	 * header's own count (or, past PN_XNUM, libelf's) is checked. */
	if (!gelf_getehdr(c->elf, &eh) || elf_getphdrnum(c->elf, &n) < 0)
		return -ENODATA;
	if (eh.e_phnum != PN_XNUM)
		n = eh.e_phnum;
	if (eh.e_phoff > c->fsize || (uint64_t)n * eh.e_phentsize > c->fsize - eh.e_phoff)
		return -ENODATA;   /* the header table is past the end */
	if (n > CORE_MAX_LOADS + 16)
		return -E2BIG;
	if (!(c->loads = calloc(n ? n : 1, sizeof(*c->loads))))
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(c->elf, (int)i, &ph))
			return -ENODATA;
		if (ph.p_type == PT_LOAD)
			r = add_load(c, &ph);
		else if (ph.p_type == PT_NOTE)
			r = ph.p_offset > c->fsize || ph.p_filesz > c->fsize - ph.p_offset
				? -ENODATA : read_notes(c, &ph, &budget);
	}
	if (r == 0 && (c->nthreads == 0 || c->nloads == 0))
		r = -EBADMSG;   /* a core without a thread or a mapping */
	return r;
}

static int check_header(struct ml_core *c)
{
	GElf_Ehdr eh;

	if (elf_kind(c->elf) != ELF_K_ELF)
		return -ENOEXEC;
	if (!gelf_getehdr(c->elf, &eh))
		return -ENODATA;
	if (eh.e_type != ET_CORE)
		return -EMEDIUMTYPE;
	for (size_t i = 0; i < ML_ARRAY_SIZE(arches); i++)
		if (arches[i].machine == eh.e_machine &&
		    arches[i].cls == eh.e_ident[EI_CLASS] && eh.e_ident[EI_DATA] == ELFDATA2LSB) {
			c->arch = &arches[i];
			c->info.machine = eh.e_machine;
			c->info.is_32bit = arches[i].cls == ELFCLASS32;
			return 0;
		}
	c->info.machine = eh.e_machine;
	return -EPROTONOSUPPORT;
}

/* The dumping thread: the first with a signal (the kernel writes it
 * first), else the first. */
static void pick_thread(struct ml_core *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].cursig) {
			k = i;
			break;
		}
	c->info.tid = c->threads[k].tid;
	c->info.nthreads = c->nthreads;
	if (!c->info.pid)
		c->info.pid = c->threads[0].tid;
	if (!c->info.have_siginfo)
		c->info.signo = c->threads[k].cursig;
}

static const struct core_file *file_of(const struct ml_core *c, uint64_t addr);
static uint64_t auxv_get(const struct ml_core *c, uint64_t type);
static void obj_check(struct ml_core *c, struct core_obj *obj);

/* ---- mappings with no segment ----
 * The kernel writes a PT_LOAD for every mapping; gdb's gcore writes none
 * for a file mapping it does not dump (unwritten private file pages),
 * which NT_FILE still lists.  Such a mapping gets a segment with no
 * contents, its permissions from the program header of its file (opened
 * as for its pages: under the sysroot, the build-id checked) that loads
 * its offset; r-- if that file is not there to say. */

static unsigned int file_perms(struct ml_core *c, const struct core_file *f)
{
	unsigned int perms = ML_PERM_READ;
	Elf *e;
	size_t n;

	obj_check(c, f->obj);
	if ((f->obj->state != OBJ_OK && f->obj->state != OBJ_UNVERIFIED) || f->obj->fd < 0 ||
	    !(e = elf_begin(f->obj->fd, ELF_C_READ_MMAP, NULL)))
		return perms;
	if (elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &n) == 0)
		for (size_t i = 0; i < n && i < 256; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    (ph.p_offset & ~(uint64_t)4095) == f->offset) {
				perms = ml__phdr_perms(ph.p_flags);
				break;
			}
		}
	elf_end(e);
	return perms;
}

static int cmp_load(const void *a, const void *b)
{
	const struct core_load *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* A segment for each stretch of an NT_FILE mapping no PT_LOAD covers. */
static int add_file_loads(struct ml_core *c)
{
	size_t j = 0, n = c->nloads, cap = 2 * c->nloads + c->nfiles;
	struct core_load *l;

	if (cap > CORE_MAX_LOADS || !(l = realloc(c->loads, (cap ? cap : 1) * sizeof(*l))))
		return cap > CORE_MAX_LOADS ? -E2BIG : -ENOMEM;
	c->loads = l;
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct core_file *f = &c->files[i];
		uint64_t cur = f->start, end;

		while (cur < f->end && n < cap) {
			while (j < c->nloads && l[j].end <= cur)
				j++;
			if (j < c->nloads && l[j].start <= cur) {
				cur = l[j].end;
				continue;
			}
			end = j < c->nloads && l[j].start < f->end ? l[j].start : f->end;
			l[n++] = (struct core_load){ cur, end, 0, 0, file_perms(c, f), false };
			cur = end;
		}
	}
	if (n > c->nloads) {
		c->nloads = n;
		qsort(c->loads, n, sizeof(*l), cmp_load);
	}
	return 0;
}

static int read_core(struct ml_core *c, const char *path)
{
	struct stat st;
	int r;

	c->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (c->fd < 0)
		return -errno;
	if (fstat(c->fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	c->fsize = (uint64_t)st.st_size;
	c->info.size = c->info.full_size = c->fsize;
	elf_version(EV_CURRENT);
	if (!(c->elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL)))
		return -ENOEXEC;
	if ((r = check_header(c)) < 0 || (r = read_phdrs(c)) < 0)
		return r;
	pick_thread(c);
	const struct core_file *f = file_of(c, auxv_get(c, AT_ENTRY));
	c->exe_obj = f ? f->obj : NULL;
	return add_file_loads(c);
}

int ml_core_open(const char *path, const char *sysroot, const char *exe,
		 struct ml_core **ret)
{
	struct ml_core *c;
	int r;

	if (!path || !ret || (sysroot && strlen(sysroot) >= PATH_MAX) ||
	    (exe && strlen(exe) >= PATH_MAX))
		return -EINVAL;
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->fd = c->rootfd = -1;
	c->exe = exe;
	snprintf(c->sysroot, sizeof(c->sysroot), "%s", sysroot ? sysroot : "");
	if (sysroot && (c->rootfd = open(sysroot, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		ml_core_free(c);
		return r;
	}
	r = read_core(c, path);
	if (r < 0) {
		ml_core_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ml_core_free(struct ml_core *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nobjs; i++)
		if (c->objs[i].fd >= 0)
			close(c->objs[i].fd);
	if (c->elf)
		elf_end(c->elf);
	if (c->fd >= 0)
		close(c->fd);
	if (c->rootfd >= 0)
		close(c->rootfd);
	free(c->loads);
	free(c->files);
	free(c->objs);
	free(c->names);
	free(c->threads);
	free(c->auxv);
	free(c->gaps);
	free(c);
}

const struct ml_core_info *ml_core_info(const struct ml_core *c)
{
	return &c->info;
}

const struct ml_core_thread *ml_core_threads(const struct ml_core *c, size_t *ret_n)
{
	*ret_n = c->nthreads;
	return c->threads;
}

const struct ml_core_gap *ml_core_gaps(const struct ml_core *c, size_t *ret_n)
{
	*ret_n = c->ngaps;
	return c->gaps;
}

/* ---- memory ---- */

static const struct core_load *load_of(const struct ml_core *c, uint64_t addr)
{
	return ml__span_find(c->loads, c->nloads, sizeof(*c->loads), addr);
}

static const struct core_file *file_of(const struct ml_core *c, uint64_t addr)
{
	return ml__span_find(c->files, c->nfiles, sizeof(*c->files), addr);
}

/* Bytes the core itself holds at addr (no file); count or 0. */
static size_t read_dumped(const struct ml_core *c, uint64_t addr, void *buf, size_t len)
{
	const struct core_load *l = load_of(c, addr);
	uint64_t in;
	ssize_t n;

	if (!l || (in = addr - l->start) >= l->filesz)
		return 0;
	if (len > l->filesz - in)
		len = (size_t)(l->filesz - in);
	n = pread(c->fd, buf, len, (off_t)(l->offset + in));
	return n > 0 ? (size_t)n : 0;
}

/* The GNU build-id of an ELF image, into out (at most max bytes); its
 * length, 0 if none. */
static size_t build_id_of(Elf *e, unsigned char *out, size_t max)
{
	size_t n, len = 0;

	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && i < 256 && !len; i++) {
		GElf_Phdr ph;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, no, dof, next;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE ||
		    !(d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR)))
			continue;
		while (!len && off < d->d_size && (next = gelf_getnote(d, off, &nh, &no, &dof)) > 0) {
			off = next;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + no, "GNU", 4) && nh.n_descsz <= max) {
				memcpy(out, (char *)d->d_buf + dof, nh.n_descsz);
				len = nh.n_descsz;
			}
		}
	}
	return len;
}

/* The build-id of obj as the core's copy of its first page says. */
static size_t core_build_id(const struct ml_core *c, const struct core_obj *obj,
			    unsigned char *out, size_t max)
{
	unsigned char *hdr;
	size_t n = 0, len = 0;

	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].obj == obj && c->files[i].offset == 0) {
			if (!(hdr = malloc(CORE_HDR_BYTES)))
				return 0;
			n = read_dumped(c, c->files[i].start, hdr, CORE_HDR_BYTES);
			Elf *e = n ? elf_memory((char *)hdr, n) : NULL;
			len = build_id_of(e, out, max);
			if (e)
				elf_end(e);
			free(hdr);
			break;
		}
	return len;
}

/* Open obj's file under the sysroot and compare build-ids, once. */
static void obj_check(struct ml_core *c, struct core_obj *obj)
{
	unsigned char a[CORE_BUILD_ID_MAX], b[CORE_BUILD_ID_MAX];
	size_t na, nb;
	int root = c->rootfd >= 0 ? c->rootfd : AT_FDCWD;
	Elf *e;

	if (obj->state != OBJ_UNCHECKED)
		return;
	obj->state = OBJ_MISSING;
	if (obj->name[0] != '/' && !(obj == c->exe_obj && c->exe))
		return;
	if (obj == c->exe_obj && c->exe)   /* the user's choice, opened as given */
		obj->fd = ml__reopen_regular(open(c->exe, O_PATH | O_CLOEXEC), NULL);
	else
		obj->fd = ml__reopen_regular(ml__open_nofollow(root, obj->name, c->rootfd >= 0),
					     NULL);
	if (obj->fd < 0 || fstat(obj->fd, &obj->st) < 0)
		return;
	na = core_build_id(c, obj, a, sizeof(a));
	e = elf_begin(obj->fd, ELF_C_READ_MMAP, NULL);
	nb = build_id_of(e, b, sizeof(b));
	if (e)
		elf_end(e);
	if (!na)
		obj->state = nb ? OBJ_UNVERIFIED : OBJ_OK;   /* not an ELF file: data */
	else
		obj->state = na == nb && !memcmp(a, b, na) ? OBJ_OK : OBJ_MISMATCH;
}

static const enum ml_core_gap_kind gap_of_state[] = {
	[OBJ_MISSING] = ML_CORE_GAP_NO_FILE,
	[OBJ_MISMATCH] = ML_CORE_GAP_BUILD_ID,
	[OBJ_UNVERIFIED] = ML_CORE_GAP_UNVERIFIED,
};

/* Bytes of a file page the core left out, from the file if it is the
 * one the process mapped; count or 0 (the gap recorded). */
static size_t read_file_page(struct ml_core *c, uint64_t addr, void *buf, size_t len)
{
	const struct core_file *f = file_of(c, addr);
	ssize_t n;

	if (!f) {
		gap_add(c, ML_CORE_GAP_NOT_DUMPED, NULL, addr);
		return 0;
	}
	obj_check(c, f->obj);
	if (f->obj->state != OBJ_OK) {
		gap_add(c, gap_of_state[f->obj->state], f->obj->name, addr);
		return 0;
	}
	if (len > f->end - addr)
		len = (size_t)(f->end - addr);
	n = pread(f->obj->fd, buf, len, (off_t)(f->offset + (addr - f->start)));
	return n > 0 ? (size_t)n : 0;
}

ssize_t ml_core_read(struct ml_core *c, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	if (!c || (!buf && len))
		return -EINVAL;
	while (done < len) {
		const struct core_load *l = load_of(c, addr + done);
		size_t n, want = len - done;

		if (!l)
			break;
		if (want > l->end - (addr + done))
			want = (size_t)(l->end - (addr + done));
		n = read_dumped(c, addr + done, (char *)buf + done, want);
		if (!n && !l->cut)   /* a cut segment's file pages may have been written */
			n = read_file_page(c, addr + done, (char *)buf + done, want);
		if (!n)
			break;
		done += n;
	}
	if (c->gap_lost)
		return -ENOMEM;
	return done ? (ssize_t)done : -EFAULT;
}

/* ---- the snapshot ---- */

static uint64_t auxv_get(const struct ml_core *c, uint64_t type)
{
	size_t w = word_size(c);

	for (size_t i = 0; c->auxv && i + 2 * w <= c->auxv_len; i += 2 * w)
		if (rd(c->auxv + i, w) == type)
			return rd(c->auxv + i + w, w);
	return 0;
}

static int add_region(struct ml_core *c, struct ml_snapshot *snap, const struct core_load *l,
		      size_t idx)
{
	const struct core_file *f = file_of(c, l->start);
	struct ml_region *r = ml__region_append(snap);

	if (!r)
		return -ENOMEM;
	*r = (struct ml_region){ .start = l->start, .end = l->end,
				 .perms = l->perms, .smaps = &ml__no_smaps, .name = "" };
	if (!f || f->start != l->start)
		return 0;
	r->offset = f->offset;
	if (!(r->name = ml__strdup(snap, f->obj->name)))
		return -ENOMEM;
	obj_check(c, f->obj);
	if (f->obj->state == OBJ_OK) {
		r->inode = (uint64_t)f->obj->st.st_ino;
		r->dev_major = major(f->obj->st.st_dev);
		r->dev_minor = minor(f->obj->st.st_dev);
	} else {
		/* An inode no file has: elf.c opens nothing for it. */
		r->inode = (1ull << 63) | idx;
		return gap_add(c, gap_of_state[f->obj->state], f->obj->name, l->start);
	}
	return 0;
}

static void name_region(struct ml_snapshot *snap, uint64_t addr, const char *name)
{
	struct ml_region *r = (struct ml_region *)ml_snapshot_find(snap, addr);

	if (addr && r && !r->inode && r->name[0] == '\0')
		r->name = name;
}

#define CORE_MAX_PHDRS 256          /* an executable's program headers read */

/* The end of the executable's image in memory: its highest PT_LOAD's
 * p_vaddr + p_memsz, page-rounded, plus the load bias (AT_PHDR less
 * PT_PHDR's p_vaddr), read from its program headers at AT_PHDR (AT_PHNUM
 * of them, at most CORE_MAX_PHDRS).  UINT64_MAX when unknown (no PT_PHDR,
 * headers not in the core nor in the file). */
static uint64_t exe_image_end(struct ml_core *c, const struct ml_snapshot *snap)
{
	bool is64 = c->arch->cls == ELFCLASS64;
	size_t esz = is64 ? 56 : 32, w = word_size(c);
	size_t vaddr_at = is64 ? 16 : 8, memsz_at = is64 ? 40 : 20;
	uint64_t at = auxv_get(c, AT_PHDR), n = auxv_get(c, AT_PHNUM), page = snap->proc.page_size;
	uint64_t bias = 0, end = 0;
	bool have_bias = false;
	unsigned char ph[56];

	if (!at || !n || n > CORE_MAX_PHDRS || !page || (page & (page - 1)))
		return UINT64_MAX;
	for (uint64_t i = 0; i < n; i++) {
		if (ml_core_read(c, at + i * esz, ph, esz) != (ssize_t)esz)
			return UINT64_MAX;
		uint32_t type = (uint32_t)rd(ph, 4);
		uint64_t vaddr = rd(ph + vaddr_at, w), memsz = rd(ph + memsz_at, w);
		if (type == PT_PHDR) {
			bias = at - vaddr;
			have_bias = true;
		} else if (type == PT_LOAD && vaddr + memsz > end && vaddr + memsz >= vaddr) {
			end = vaddr + memsz;
		}
	}
	if (!have_bias || !end || end + page - 1 < end)
		return UINT64_MAX;
	end = ((end + page - 1) & ~(page - 1)) + bias;
	return end < bias ? UINT64_MAX : end;
}

/* The heap: the first anonymous writable mapping above the executable's
 * last one, not adjacent to it (that is its .bss), within the range the
 * kernel randomises the brk in (32 MiB, 1 GiB for a 64-bit task since
 * Linux 6.9; the larger bound is taken).  The executable ends at its
 * image's end (exe_image_end): without ASLR (setarch -R, gdb) the brk
 * starts right there, the heap adjacent to the .bss. */
static void name_heap(struct ml_core *c, struct ml_snapshot *snap)
{
	const struct ml_region *exe = snap->proc.entry ? ml_snapshot_find(snap, snap->proc.entry) : NULL;
	uint64_t reach = snap->proc.is_32bit ? 32ull << 20 : 1ull << 30, end, image_end;
	size_t i = 0;

	if (!exe || !exe->inode)
		return;
	image_end = exe_image_end(c, snap);
	while (i < snap->nregions && snap->regions[i].start < exe->start)
		i++;
	while (i < snap->nregions && (snap->regions[i].inode == exe->inode ||
	       (!snap->regions[i].inode && snap->regions[i].start == snap->regions[i - 1].end &&
		snap->regions[i].start < image_end)))
		i++;
	end = i ? snap->regions[i - 1].end : 0;
	if (i < snap->nregions && !snap->regions[i].inode &&
	    snap->regions[i].start - end <= reach &&
	    (snap->regions[i].perms & ML_PERM_WRITE) && snap->regions[i].name[0] == '\0')
		snap->regions[i].name = "[heap]";
}

/* [vvar] (and, since Linux 6.13, [vvar_vclock] above it): the read-only
 * anonymous mappings right below the vDSO. */
static void name_vvar(struct ml_snapshot *snap)
{
	const struct ml_region *v = snap->proc.vdso ? ml_snapshot_find(snap, snap->proc.vdso) : NULL;
	struct ml_region *below[2] = { NULL, NULL };
	size_t i, n = 0;

	if (!v)
		return;
	for (i = (size_t)(v - snap->regions); i > 0 && n < 2; i--) {
		struct ml_region *r = &snap->regions[i - 1];
		if (r->end != snap->regions[i].start || r->inode || r->name[0] ||
		    r->perms != ML_PERM_READ)
			break;
		below[n++] = r;
	}
	for (i = 0; i < n; i++)   /* from the vDSO down: [vvar_vclock] if there are two */
		below[i]->name = i + 1 == n ? "[vvar]" : "[vvar_vclock]";
}

/* The vDSO's image, for the symbolizer (it has no file). */
#define CORE_VDSO_MAX (1u << 20)
static void keep_vdso(struct ml_core *c, struct ml_snapshot *snap)
{
	const struct ml_region *r = snap->proc.vdso ? ml_snapshot_find(snap, snap->proc.vdso) : NULL;
	unsigned char *buf;
	ssize_t n;

	if (!r || r->start != snap->proc.vdso || r->end - r->start > CORE_VDSO_MAX ||
	    !(buf = ml__alloc(snap, r->end - r->start)))
		return;
	n = ml_core_read(c, r->start, buf, r->end - r->start);
	if (n == (ssize_t)(r->end - r->start)) {
		snap->vdso_image = buf;
		snap->vdso_len = (size_t)n;
	}
}

static int core_proc(struct ml_core *c, struct ml_snapshot *snap)
{
	struct ml_proc *p = &snap->proc;
	struct rlimit rl;

	p->pid = c->info.pid;
	snprintf(p->comm, sizeof(p->comm), "%s", c->info.comm);
	if (c->auxv)
		ml__parse_auxv(c->auxv, c->auxv_len, p);
	p->is_32bit = c->info.is_32bit;
	p->nthreads = c->nthreads;
	p->stack_rlimit = getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
			  ? (uint64_t)rl.rlim_cur : UINT64_MAX;
	return ml__read_host_facts(snap, p->is_32bit);
}

static int core_threads(struct ml_core *c, struct ml_snapshot *snap)
{
	if (!(snap->threads = calloc(c->nthreads, sizeof(*snap->threads))))
		return -ENOMEM;
	for (size_t i = 0; i < c->nthreads; i++) {
		struct ml_thread *t = &snap->threads[i];
		t->tid = c->threads[i].tid;
		snprintf(t->comm, sizeof(t->comm), "%s", c->info.comm);
		t->sp_known = true;
		t->sp = c->threads[i].regs.sp;
		t->pc = c->threads[i].regs.pc;
		t->syscall_nr = -1;
	}
	snap->nthreads = c->nthreads;
	return 0;
}

static int build(struct ml_core *c, unsigned int flags, struct ml_snapshot *snap)
{
	const struct ml_region *exe;
	uint64_t on_stack;
	int r;

	snap->core = true;
	snprintf(snap->sysroot, sizeof(snap->sysroot), "%s", c->sysroot);
	snprintf(snap->core_exe, sizeof(snap->core_exe), "%s", c->exe ? c->exe : "");
	snprintf(snap->proc_root, sizeof(snap->proc_root), "/proc");
	if ((r = core_proc(c, snap)) < 0)
		return r;
	for (size_t i = 0; i < c->nloads; i++)
		if ((r = add_region(c, snap, &c->loads[i], i)) < 0)
			return r;
	name_region(snap, snap->proc.vdso, "[vdso]");
	keep_vdso(c, snap);
	on_stack = auxv_get(c, AT_EXECFN);
	name_region(snap, on_stack ? on_stack : auxv_get(c, AT_RANDOM), "[stack]");
	name_heap(c, snap);
	name_vvar(snap);
#if defined(__x86_64__)
	if (!snap->proc.is_32bit)
		name_region(snap, 0xffffffffff600000ull, "[vsyscall]");
#endif
	if ((exe = snap->proc.entry ? ml_snapshot_find(snap, snap->proc.entry) : NULL) &&
	    exe->name[0])
		snap->proc.exe = exe->name;
	ml__classify_basic(snap);
	if (!(flags & ML_SNAP_NOELF) && (r = ml__elf_attribute(snap)) < 0)
		return r;
	ml__classify_fallback(snap);
	if ((r = core_threads(c, snap)) < 0)
		return r;
	return ml__classify_threads(snap);
}

int ml_core_snapshot(struct ml_core *c, unsigned int flags, struct ml_snapshot **ret)
{
	struct ml_snapshot *snap;
	int r;

	if (!c || !ret)
		return -EINVAL;
	if (!(snap = calloc(1, sizeof(*snap))))
		return -ENOMEM;
	r = build(c, flags, snap);
	if (r < 0) {
		ml_snapshot_free(snap);
		return r;
	}
	*ret = snap;
	return 0;
}

/* ---- the fault and the backtrace ---- */

int ml_core_fault(struct ml_core *c, struct ml_fault *ret)
{
	struct ml_fault f = { 0 };
	ssize_t n;

	if (!c || !ret)
		return -EINVAL;
	f.pid = c->info.pid;
	f.tid = c->info.tid;
	f.signo = c->info.signo;
	f.code = c->info.code;
	f.addr = c->info.addr;
	f.sender = c->info.sender;
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].tid == f.tid) {
			f.have_regs = true;
			f.regs = c->threads[i].regs;
		}
	if (f.have_regs) {
		f.code_addr = ml_fault_code_addr(&f);
		n = ml_core_read(c, f.code_addr, f.code_bytes, sizeof(f.code_bytes));
		f.ncode = n > 0 ? (size_t)n : 0;
	}
	*ret = f;
	return 0;
}

static ssize_t core_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return ml_core_read(ctx, addr, buf, len);
}

/* ---- libdwfl's view of the core's threads ----
 * The modules are the snapshot's ELF objects, reported by a symbolizer at
 * their load biases (opened as the snapshot opens them: under the
 * sysroot, build-ids checked); the threads, their registers and memory
 * come from the core through these callbacks (dwfl_attach_state), so a
 * memory read is a binary search over the segments, not libdwfl's core
 * support's scan of every program header. */

/* DWARF register n (of pc_reg + 1 in order) is word map[n] of pr_reg;
 * the last is the pc. */
struct dwarf_map {
	uint16_t machine;
	size_t width, n;
	unsigned char map[33];
};

static const struct dwarf_map dwarf_maps[] = {
#if defined(__x86_64__)
	/* rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip, from user_regs_struct */
	{ EM_X86_64, 8, 17, { 10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16 } },
	/* eax ecx edx ebx esp ebp esi edi eip, from the i386 layout */
	{ EM_386, 4, 9, { 6, 1, 2, 0, 15, 5, 3, 4, 12 } },
#elif defined(__aarch64__)
	/* x0-x30 sp (DWARF 0-31), then pc */
	{ EM_AARCH64, 8, 33, { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
			       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 } },
#endif
};

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct ml_core *c = arg;
	uint64_t v = 0;
	size_t w = word_size(c);

	(void)dwfl;
	if (ml_core_read(c, addr, &v, w) != (ssize_t)w)
		return false;
	*result = v;
	return true;
}

/* thread_arg: the ml_core_thread. */
static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct ml_core_thread *t = thread_arg;
	const struct dwarf_map *m = NULL;
	Dwarf_Word regs[33];

	for (size_t i = 0; i < ML_ARRAY_SIZE(dwarf_maps) && !m; i++)
		if (dwarf_maps[i].width == (t->regs.is_32bit ? 4u : 8u))
			m = &dwarf_maps[i];
	if (!m)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		if ((m->map[i] + 1u) * m->width > t->regs.len)
			return false;
		regs[i] = rd(t->regs.raw + m->map[i] * m->width, m->width);
	}
	if (!dwfl_thread_state_registers(thread, 0, (unsigned)m->n - 1, regs))
		return false;
	dwfl_thread_state_register_pc(thread, regs[m->n - 1]);
	return true;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct ml_core *c = arg;

	(void)dwfl;
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].tid == tid) {
			*thread_argp = &c->threads[i];
			return true;
		}
	return false;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct ml_core *c = arg;
	size_t i = *thread_argp ? (size_t)((struct ml_core_thread *)*thread_argp - c->threads) + 1 : 0;

	(void)dwfl;
	if (i >= c->nthreads)
		return 0;
	*thread_argp = &c->threads[i];
	return c->threads[i].tid;
}

static const Dwfl_Thread_Callbacks core_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* A symbolizer of snap with the core's threads attached; 0 or -errno. */
static int core_session(struct ml_core *c, const struct ml_snapshot *snap,
			struct ml_symbolizer **ret)
{
	struct ml_symbolizer *sz;
	int r;

	if ((r = ml_symbolizer_new(snap, &sz)) < 0)
		return r;
	if (!dwfl_attach_state((Dwfl *)ml__symbolizer_dwfl(sz), c->elf, c->info.pid,
			       &core_callbacks, c)) {
		ml_symbolizer_free(sz);
		return -EBADMSG;
	}
	*ret = sz;
	return 0;
}

int ml_core_backtrace(struct ml_core *c, const struct ml_snapshot *snap, pid_t tid,
		      size_t max, struct ml_backtrace **ret)
{
	struct ml_symbolizer *sz;
	int r;

	if (!c || !snap || tid <= 0 || max == 0 || !ret)
		return -EINVAL;
	if ((r = core_session(c, snap, &sz)) < 0)
		return r;
	r = ml__backtrace_dwfl(ml__symbolizer_dwfl(sz), tid, c->info.is_32bit, max,
			       core_mem, c, ret);
	ml_symbolizer_free(sz);
	return r;
}

int ml_core_abort_message(struct ml_core *c, const struct ml_snapshot *snap, char **ret)
{
	struct ml_symbolizer *sz;
	int r;

	if (!c || !snap || !ret)
		return -EINVAL;
	if ((r = ml_symbolizer_new(snap, &sz)) < 0)
		return r;
	r = ml__abort_message_dwfl(ml__symbolizer_dwfl(sz), c->info.is_32bit, core_mem, c, ret);
	ml_symbolizer_free(sz);
	return r;
}
