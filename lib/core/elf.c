/* SPDX-License-Identifier: MIT */
/*
 * elf.c - ELF attribution: which object, kind and sections each mapping holds.
 *
 * One pass over the regions (sorted by start).  A private file-backed region
 * is looked up by (dev, inode) in a hash table that caches the parsed object
 * -- or the fact that the file is not a usable ELF file -- so a file is
 * opened and parsed at most once per snapshot however often it is mapped;
 * an anonymous region costs one test.  The file is opened through
 * <proc_dir>/map_files/<start>-<end> (works for deleted files; root only),
 * else through <proc_dir>/root/<path>, else (live /proc only) through the
 * path itself, else through <proc_dir>/exe (the main executable, deleted
 * or not, for a user who may read the process but not its map_files);
 * it must be a regular file whose inode (and, for real device numbers, the
 * device) is the one in maps.  A name from maps is the target's to change:
 * it is resolved with no symlink followed (openat2 RESOLVE_NO_SYMLINKS,
 * inside the target's root for <proc_dir>/root; O_NOFOLLOW before Linux
 * 5.6), and every place is opened first as O_PATH, which opens nothing (a
 * FIFO cannot block us, no device driver runs), then reopened for reading
 * through /proc/self/fd only once fstat says it is the mapped file.
 * libelf reads it with ELF_C_READ: headers are pread() on demand and nothing
 * is mmap()ed, so a file the target truncates under us is a read error, not
 * a SIGBUS.
 *
 * A mapping's file offset places it in a PT_LOAD, which gives the load bias:
 *   bias = start - (pagedown(p_vaddr) + off - pagedown(p_offset)).
 * Mappings of one object that follow each other keep one bias (a load
 * instance); PROT_NONE holes between segments inherit it.  A new instance
 * counts only if every segment's first page is mapped from the file where
 * the bias puts it, so a plain mmap of an ELF file stays a file mapping.
 * The kind comes from the permissions (kinds.c's ml__kind_by_perms), refined by
 * PT_GNU_RELRO and by whether only SHT_NOBITS sections lie in the mapping.
 * The anonymous mapping that starts where a segment's file pages end and
 * stays inside its page-rounded p_memsz is that segment's .bss tail; one
 * that goes on past it is the tail merged by the kernel with an anonymous
 * mapping made right after it, and is split there (ml__region_split).  Files
 * without usable section headers get pseudo-sections from the program
 * headers ("[LOAD#n]", "[PT_GNU_RELRO]", ...; see phdr_names[]).
 *
 * Bounds (the file and the maps are untrusted): at most ELF_MAX_PHDRS
 * program headers, ELF_MAX_LOADS of them PT_LOAD; ELF_MAX_SHDRS section
 * headers, ELF_MAX_SECS allocated sections (more: program headers are
 * used); ELF_MAX_NAME bytes of section name; ELF_MAX_REGION_SECS sections
 * listed per region (the first ones in address order).  Sections with file
 * contents must lie inside the file; headers whose address arithmetic
 * would wrap are dropped.  Cost: O(regions + per ELF mapping (loads^2 +
 * loads log regions + log sections + listed sections) + one parse per
 * distinct file).
 *
 * Each object's sorted sections (its image) and the loads found (address
 * ranges with their bias, in snap->loads) stay in the snapshot: the
 * symbolizer reports modules at those biases and finds sections there, so
 * a file's headers are read and its sections parsed once, here.
 *
 * Ownership: the cache and the parsed objects are malloc'ed and freed before
 * ml__elf_attribute() returns; what regions point to (object paths, section
 * arrays, section names) and the images live in the snapshot pool.
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ELF_MAX_PHDRS       1024
#define ELF_MAX_LOADS       64
#define ELF_MAX_SHDRS       65535
#define ELF_MAX_SECS        4096
#define ELF_MAX_NAME        256
#define ELF_MAX_REGION_SECS 256

#define PERM_RWX (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)

/* A PT_LOAD; vaddr + memsz and offset + filesz do not wrap. */
struct elf_seg {
	uint64_t vaddr, memsz, offset, filesz;
	unsigned int perms;                 /* ML_PERM_* from p_flags */
};

ML__SPAN_HEAD(struct ml__elf_load, start, end);

/* A parsed object plus its current load instance. */
struct elf_obj {
	struct elf_seg *loads;
	size_t nloads;
	uint64_t relro_start, relro_end;    /* made read-only by the loader */
	uint64_t span_lo, span_hi;          /* page-rounded hull of the loads */
	struct ml__elf_sec *secs;           /* while parsing (malloc'ed) */
	size_t nsecs;
	const struct ml__elf_image *image;  /* then sorted, in the pool */
	const char *object;                 /* pooled path of the first mapping */
	bool have_bias;
	uint64_t bias;                      /* of the last attributed mapping */
};

/* Cache slot; obj == NULL once looked up means "not a usable ELF file". */
struct elf_slot {
	uint64_t inode;
	unsigned int major, minor;
	bool used;
	struct elf_obj *obj;
};

struct elf_pass {
	struct ml_snapshot *snap;
	uint64_t pgsz;                      /* power of two */
	struct elf_slot *slots;             /* open addressing, cap power of 2 */
	size_t cap, used;
};

/* Kinds a private file-backed region may have before we relabel it. */
static const bool candidate_kind[ML_KIND__COUNT] = {
	[ML_KIND_FILE] = true, [ML_KIND_RESERVED] = true,
	[ML_KIND_SHM] = true,  [ML_KIND_OTHER] = true,
	[ML_KIND_TEXT] = true, [ML_KIND_RODATA] = true, [ML_KIND_RELRO] = true,
	[ML_KIND_DATA] = true, [ML_KIND_BSS] = true,
};

/* Program headers shown as pseudo-sections when there are no section
 * headers (PT_LOAD is named "[LOAD#n]" separately).  use_filesz: the part
 * in memory is p_filesz long (the TLS template's .tbss has no address). */
static const struct {
	uint32_t type;
	const char *name;
	bool use_filesz;
} phdr_names[] = {
	{ PT_INTERP,       "[PT_INTERP]",       false },
	{ PT_NOTE,         "[PT_NOTE]",         false },
	{ PT_PHDR,         "[PT_PHDR]",         false },
	{ PT_DYNAMIC,      "[PT_DYNAMIC]",      false },
	{ PT_TLS,          "[PT_TLS]",          true  },
	{ PT_GNU_EH_FRAME, "[PT_GNU_EH_FRAME]", false },
	{ PT_GNU_RELRO,    "[PT_GNU_RELRO]",    false },
};

static uint64_t pg_down(const struct elf_pass *p, uint64_t x)
{
	return x & ~(p->pgsz - 1);
}

static uint64_t pg_up(const struct elf_pass *p, uint64_t x)
{
	return (x + p->pgsz - 1) & ~(p->pgsz - 1);
}

static const char *region_name(const struct ml_region *r)
{
	return r->name ? r->name : "";
}

static uint64_t page_size(const struct ml_snapshot *snap)
{
	uint64_t ps = snap->proc.page_size;
	long sys;

	if (ps >= 1024 && (ps & (ps - 1)) == 0)
		return ps;
	sys = sysconf(_SC_PAGESIZE);
	return sys >= 1024 && (sys & (sys - 1)) == 0 ? (uint64_t)sys : 4096;
}

/* ---- cache of objects by (dev, inode) ---- */

static size_t slot_hash(uint64_t inode, unsigned int major, unsigned int minor)
{
	uint64_t h = inode * 0x9e3779b97f4a7c15ULL;

	h ^= (((uint64_t)major << 32) | minor) * 0xff51afd7ed558ccdULL;
	return (size_t)(h ^ (h >> 31));
}

/* The slot of (inode, major, minor) in slots[cap]: its own or a free one. */
static struct elf_slot *slot_find(struct elf_slot *slots, size_t cap,
				  uint64_t inode, unsigned int major,
				  unsigned int minor)
{
	size_t i = slot_hash(inode, major, minor) & (cap - 1);

	while (slots[i].used && (slots[i].inode != inode ||
	       slots[i].major != major || slots[i].minor != minor))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int cache_grow(struct elf_pass *p)
{
	size_t cap = p->cap ? p->cap * 2 : 64;
	struct elf_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		const struct elf_slot *o = &p->slots[i];

		if (o->used)
			*slot_find(slots, cap, o->inode, o->major, o->minor) = *o;
	}
	free(p->slots);
	p->slots = slots;
	p->cap = cap;
	return 0;
}

/* The slot for r's file; *ret_fresh says it was just created (empty). */
static struct elf_slot *cache_slot(struct elf_pass *p, const struct ml_region *r,
				   bool *ret_fresh)
{
	struct elf_slot *s;

	if (2 * (p->used + 1) > p->cap && cache_grow(p) < 0)
		return NULL;
	s = slot_find(p->slots, p->cap, r->inode, r->dev_major, r->dev_minor);
	*ret_fresh = !s->used;
	if (!s->used) {
		*s = (struct elf_slot){ .inode = r->inode, .major = r->dev_major,
					.minor = r->dev_minor, .used = true };
		p->used++;
	}
	return s;
}

static void obj_free(struct elf_obj *obj)
{
	if (!obj)
		return;
	free(obj->loads);
	free(obj->secs);
	free(obj);
}

static void pass_free(struct elf_pass *p)
{
	for (size_t i = 0; i < p->cap; i++)
		obj_free(p->slots[i].obj);
	free(p->slots);
}

/* ---- opening the mapped file ---- */

/* maps and stat agree on the device, or one of them is an anonymous device
 * number (major 0: btrfs subvolumes, overlayfs report a different one). */
static bool dev_matches(const struct stat *st, const struct ml_region *r)
{
	if (r->dev_major == 0 || major(st->st_dev) == 0)
		return true;
	return major(st->st_dev) == r->dev_major &&
	       minor(st->st_dev) == r->dev_minor;
}

/* A regular file, and (r given) the one r maps. */
static bool is_r_file(const struct stat *st, const struct ml_region *r)
{
	return S_ISREG(st->st_mode) &&
	       (!r || ((uint64_t)st->st_ino == r->inode && dev_matches(st, r)));
}

/* An O_PATH descriptor of name under dirfd with no symlink followed
 * (openat2; in_root: name resolved inside dirfd, as the target's root).
 * Before Linux 5.6 (ENOSYS) or under a seccomp filter (EPERM), O_NOFOLLOW:
 * the last component only. */
int ml__open_nofollow(int dirfd, const char *name, bool in_root)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
					   (in_root ? RESOLVE_IN_ROOT : 0) };
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(dirfd, in_root && name[0] == '/' ? name + 1 : name,
			    O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* The O_PATH descriptor pfd (closed here; -1 passes through) reopened
 * read-only if it is a regular file and (r given) the one r maps; -1 if
 * not.  Nothing is opened for reading before fstat has said so. */
int ml__reopen_regular(int pfd, const struct ml_region *r)
{
	struct stat st;
	char self[48];
	int fd = -1;

	if (pfd < 0)
		return -1;
	if (fstat(pfd, &st) == 0 && is_r_file(&st, r)) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !is_r_file(&st, r))) {
			close(fd);
			fd = -1;
		}
	}
	close(pfd);
	return fd;
}

/* Live /proc: the mapped paths are (probably) ours too. */
static bool proc_is_live(const struct ml_snapshot *snap)
{
	return snap->proc_root[0] == '\0' || strcmp(snap->proc_root, "/proc") == 0;
}

/* The how-th place to open r's file from: its map_files entry (root; also
 * deleted files), its path under the target's own root (another mount
 * namespace, chroot), its path as we see it (live /proc only), the
 * process's exe link (whoever may read the process: the main executable's
 * mappings, deleted or not, for a user without map_files).  false if that
 * place does not apply. */
static bool region_path(const struct ml_snapshot *snap,
			const struct ml_region *r, int how, char *buf,
			size_t size)
{
	const char *name = region_name(r);
	bool by_name = !r->deleted && name[0] == '/';
	int n = -1;

	if (snap->core && how == 0)   /* --exe, for the main executable */
		return snap->core_exe[0] && snap->proc.exe && !strcmp(name, snap->proc.exe) &&
		       (n = snprintf(buf, size, "%s", snap->core_exe)) > 0 && (size_t)n < size;
	if (snap->core)   /* only its name, under the sysroot (open_at) */
		return how == 1 && by_name && (n = snprintf(buf, size, "%s", name)) > 0 &&
		       (size_t)n < size;
	if (how == 0)
		n = snprintf(buf, size, "%s/map_files/%" PRIx64 "-%" PRIx64,
			     snap->proc_dir, r->start, r->end);
	else if (how == 1 && by_name)
		n = snprintf(buf, size, "%s/root%s", snap->proc_dir, name);
	else if (how == 2 && by_name && proc_is_live(snap))
		n = snprintf(buf, size, "%s", name);
	else if (how == 3)
		n = snprintf(buf, size, "%s/exe", snap->proc_dir);
	return n > 0 && (size_t)n < size;
}

/* Open r's file from the how-th place (path, from region_path): map_files
 * and exe are magic links, followed (exe is checked against r's dev/inode
 * as any place is); a name is resolved without symlinks, the root one
 * inside <proc_dir>/root. */
static int open_at(const struct ml_snapshot *snap, const struct ml_region *r,
		   int how, const char *path)
{
	char root[sizeof(snap->proc_dir) + 8];
	int dirfd, pfd;

	if (how == 0 || how == 3)
		return ml__reopen_regular(open(path, O_PATH | O_CLOEXEC), r);
	if (how == 2)
		return ml__reopen_regular(ml__open_nofollow(AT_FDCWD, path, false), r);
	if (snap->core)
		snprintf(root, sizeof(root), "%s", snap->sysroot[0] ? snap->sysroot : "/");
	else
		snprintf(root, sizeof(root), "%s/root", snap->proc_dir);
	if ((dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	pfd = ml__open_nofollow(dirfd, region_name(r), true);
	close(dirfd);
	return ml__reopen_regular(pfd, r);
}

int ml__region_open(const struct ml_snapshot *snap, const struct ml_region *r,
		    bool name_first, char *path, size_t size)
{
	int fd = -1;

	for (int i = 0; i < 4 && fd < 0; i++) {
		int how = name_first && i < 3 ? 2 - i : i;
		if (region_path(snap, r, how, path, size))
			fd = open_at(snap, r, how, path);
	}
	return fd;
}

/* ---- parsing ---- */

unsigned int ml__phdr_perms(uint32_t flags)
{
	return (flags & PF_R ? ML_PERM_READ : 0) |
	       (flags & PF_W ? ML_PERM_WRITE : 0) |
	       (flags & PF_X ? ML_PERM_EXEC : 0);
}

/* Whether a PT_LOAD can be mapped at all: no wrap-around, file pages and
 * addresses congruent modulo the page size. */
static bool load_ok(const struct elf_pass *p, const GElf_Phdr *ph)
{
	return ph->p_memsz > 0 && ph->p_filesz <= ph->p_memsz &&
	       ph->p_vaddr + ph->p_memsz > ph->p_vaddr &&
	       ph->p_vaddr + ph->p_memsz < UINT64_MAX - p->pgsz &&
	       ph->p_offset + ph->p_filesz >= ph->p_offset &&
	       ((ph->p_vaddr - ph->p_offset) & (p->pgsz - 1)) == 0;
}

static void obj_add_load(const struct elf_pass *p, struct elf_obj *obj,
			 const GElf_Phdr *ph)
{
	struct elf_seg *s = &obj->loads[obj->nloads++];
	uint64_t lo = pg_down(p, ph->p_vaddr);
	uint64_t hi = pg_up(p, ph->p_vaddr + ph->p_memsz);

	*s = (struct elf_seg){ .vaddr = ph->p_vaddr, .memsz = ph->p_memsz,
			       .offset = ph->p_offset, .filesz = ph->p_filesz,
			       .perms = ml__phdr_perms(ph->p_flags) };
	if (obj->nloads == 1 || lo < obj->span_lo)
		obj->span_lo = lo;
	if (obj->nloads == 1 || hi > obj->span_hi)
		obj->span_hi = hi;
}

/* PT_LOADs and PT_GNU_RELRO.  -EINVAL if there is nothing loadable. */
static int obj_phdrs(const struct elf_pass *p, Elf *e, struct elf_obj *obj)
{
	size_t n;
	bool relro = false;

	if (elf_getphdrnum(e, &n) < 0 || n == 0 || n > ELF_MAX_PHDRS)
		return -EINVAL;
	obj->loads = calloc(n < ELF_MAX_LOADS ? n : ELF_MAX_LOADS,
			    sizeof(*obj->loads));
	if (!obj->loads)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph))
			return -EINVAL;
		if (ph.p_type == PT_LOAD && obj->nloads == ELF_MAX_LOADS)
			return -EINVAL;
		if (ph.p_type == PT_LOAD && load_ok(p, &ph))
			obj_add_load(p, obj, &ph);
		if (ph.p_type == PT_GNU_RELRO && !relro &&
		    ph.p_vaddr + ph.p_memsz >= ph.p_vaddr) {
			relro = true;
			obj->relro_start = pg_down(p, ph.p_vaddr);
			obj->relro_end = pg_down(p, ph.p_vaddr + ph.p_memsz);
		}
	}
	return obj->nloads ? 0 : -EINVAL;
}

/* A pooled copy of a section name (NULL on ENOMEM); hostile names are
 * bounded. */
static const char *sec_name(struct ml_snapshot *snap, const char *name)
{
	if (!name)
		return "?";
	if (strnlen(name, ELF_MAX_NAME + 1) > ELF_MAX_NAME)
		return "[long name]";
	return ml__strdup(snap, name);
}

/* Append a section (the caller sized secs[]); empty or wrapping ones are
 * dropped. */
static void obj_add_sec(struct elf_obj *obj, const char *name, uint64_t start,
			uint64_t size, bool nobits, size_t index)
{
	if (size == 0 || start + size < start)
		return;
	obj->secs[obj->nsecs++] = (struct ml__elf_sec){
		.name = name, .start = start, .end = start + size,
		.index = (unsigned int)index, .nobits = nobits };
}

bool ml__sec_in_image(uint64_t flags, uint32_t type, uint64_t size)
{
	if (!(flags & SHF_ALLOC) || size == 0)
		return false;
	/* .tbss: the TLS template's zeroes, which each thread's TLS block
	 * holds; its sh_addr only names an offset in that template and
	 * overlaps the sections after .tdata (readelf and gdb give it no
	 * memory in the image). */
	return !(type == SHT_NOBITS && (flags & SHF_TLS));
}

/* Whether a section header describes something in the process image
 * whose contents, if it has any, lie inside the file. */
static bool shdr_wanted(const GElf_Shdr *sh, uint64_t fsize)
{
	if (!ml__sec_in_image(sh->sh_flags, sh->sh_type, sh->sh_size))
		return false;
	return sh->sh_type == SHT_NOBITS ||
	       (sh->sh_offset <= fsize && sh->sh_size <= fsize - sh->sh_offset);
}

/* SHF_ALLOC sections.  -ENOENT if the section headers are missing,
 * unreadable or list nothing usable (use the program headers then). */
static int obj_shdrs(struct ml_snapshot *snap, Elf *e, struct elf_obj *obj,
		     uint64_t fsize)
{
	size_t shnum, strndx, seen = 0;
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(e, &shnum) < 0 || shnum < 2 ||
	    shnum > ELF_MAX_SHDRS || elf_getshdrstrndx(e, &strndx) < 0)
		return -ENOENT;
	obj->secs = calloc(shnum < ELF_MAX_SECS ? shnum : ELF_MAX_SECS,
			   sizeof(*obj->secs));
	if (!obj->secs)
		return -ENOMEM;
	while ((scn = elf_nextscn(e, scn)) && seen++ < shnum) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return -ENOENT;
		if (!shdr_wanted(&sh, fsize))
			continue;
		if (obj->nsecs == ELF_MAX_SECS)
			return -ENOENT;
		name = sec_name(snap, elf_strptr(e, strndx, sh.sh_name));
		if (!name)
			return -ENOMEM;
		obj_add_sec(obj, name, sh.sh_addr, sh.sh_size,
			    sh.sh_type == SHT_NOBITS, elf_ndxscn(scn));
	}
	return obj->nsecs ? 0 : -ENOENT;
}

static const char *phdr_name(uint32_t type, bool *ret_filesz)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(phdr_names); i++)
		if (phdr_names[i].type == type) {
			*ret_filesz = phdr_names[i].use_filesz;
			return phdr_names[i].name;
		}
	return NULL;
}

/* "[LOAD#n]" for the n-th PT_LOAD: its file part, plus a nobits part past
 * p_filesz (what the loader zero-fills). */
static int obj_add_load_secs(struct ml_snapshot *snap, struct elf_obj *obj,
			     const struct elf_seg *s, size_t n)
{
	char buf[32];
	const char *name;

	snprintf(buf, sizeof(buf), "[LOAD#%zu]", n);
	name = ml__strdup(snap, buf);
	if (!name)
		return -ENOMEM;
	obj_add_sec(obj, name, s->vaddr, s->filesz, false, 0);
	obj_add_sec(obj, name, s->vaddr + s->filesz, s->memsz - s->filesz, true, 0);
	return 0;
}

/* Pseudo-sections from the program headers, for files without usable
 * section headers.  A phdr yields at most two entries. */
static int obj_phdr_secs(struct ml_snapshot *snap, Elf *e, struct elf_obj *obj)
{
	size_t n;
	int r = 0;

	free(obj->secs);
	obj->nsecs = 0;
	if (elf_getphdrnum(e, &n) < 0)
		return -EINVAL;
	obj->secs = calloc(2 * n + 1, sizeof(*obj->secs));
	if (!obj->secs)
		return -ENOMEM;
	for (size_t i = 0; i < obj->nloads && r == 0; i++)
		r = obj_add_load_secs(snap, obj, &obj->loads[i], i);
	for (size_t i = 0; i < n && r == 0; i++) {
		GElf_Phdr ph;
		bool filesz = false;
		const char *name;

		if (!gelf_getphdr(e, (int)i, &ph))
			break;
		name = phdr_name(ph.p_type, &filesz);
		if (name)
			obj_add_sec(obj, name, ph.p_vaddr,
				    filesz ? ph.p_filesz : ph.p_memsz, false, 0);
	}
	return r;
}

static int sec_cmp(const void *a, const void *b)
{
	const struct ml__elf_sec *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

void ml__elf_secs_index(struct ml__elf_sec *secs, uint64_t *maxend, size_t n)
{
	uint64_t m = 0;

	ml__sort(secs, n, sizeof(*secs), sec_cmp);
	for (size_t i = 0; i < n; i++) {
		if (secs[i].end > m)
			m = secs[i].end;
		maxend[i] = m;
	}
}

/* The sections, indexed, copied into the snapshot's pool as the object's
 * image. */
static int obj_index_secs(struct ml_snapshot *snap, struct elf_obj *obj, bool phdr_secs)
{
	struct ml__elf_image *img = ml__alloc(snap, sizeof(*img));
	struct ml__elf_sec *secs = ml__alloc(snap, obj->nsecs * sizeof(*secs) + 1);
	uint64_t *maxend = ml__alloc(snap, obj->nsecs * sizeof(*maxend) + 1);

	if (!img || !secs || !maxend)
		return -ENOMEM;
	if (obj->nsecs)
		memcpy(secs, obj->secs, obj->nsecs * sizeof(*secs));
	ml__elf_secs_index(secs, maxend, obj->nsecs);
	*img = (struct ml__elf_image){ .secs = secs, .maxend = maxend,
				       .nsecs = obj->nsecs, .phdr_secs = phdr_secs };
	obj->image = img;
	return 0;
}

static int obj_parse_elf(struct elf_pass *p, Elf *e, uint64_t fsize,
			 struct elf_obj *obj)
{
	GElf_Ehdr eh;
	bool phdr_secs;
	int r;

	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return -EINVAL;
	r = obj_phdrs(p, e, obj);
	if (r == 0)
		r = obj_shdrs(p->snap, e, obj, fsize);
	if ((phdr_secs = r == -ENOENT))
		r = obj_phdr_secs(p->snap, e, obj);
	if (r == 0)
		r = obj_index_secs(p->snap, obj, phdr_secs);
	return r;
}

/* Parse the open ELF file fd into *obj; -EINVAL if unusable. */
static int obj_read(struct elf_pass *p, int fd, struct elf_obj *obj)
{
	struct stat st;
	Elf *e;
	int r;

	if (fstat(fd, &st) < 0)
		return -EINVAL;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -EINVAL;
	r = obj_parse_elf(p, e, (uint64_t)st.st_size, obj);
	elf_end(e);
	return r;
}

/* Open and parse the file r maps.  0 with *ret_obj NULL if it is not a
 * usable ELF file; -ENOMEM. */
static int obj_load(struct elf_pass *p, const struct ml_region *r,
		    struct elf_obj **ret_obj)
{
	char path[2 * sizeof(p->snap->proc_dir) + 64];
	struct elf_obj *obj;
	int fd, k;

	*ret_obj = NULL;
	fd = ml__region_open(p->snap, r, false, path, sizeof(path));
	if (fd < 0)
		return 0;
	obj = calloc(1, sizeof(*obj));
	k = obj ? obj_read(p, fd, obj) : -ENOMEM;
	close(fd);
	if (k == 0) {
		obj->object = ml__strdup(p->snap, region_name(r));
		k = obj->object ? 0 : -ENOMEM;
	}
	if (k < 0) {
		obj_free(obj);
		return k == -ENOMEM ? k : 0;
	}
	*ret_obj = obj;
	return 0;
}

/* The cached object of r's file (NULL if none); -ENOMEM. */
static int cache_lookup(struct elf_pass *p, const struct ml_region *r,
			struct elf_obj **ret_obj)
{
	bool fresh;
	struct elf_slot *s = cache_slot(p, r, &fresh);
	int k;

	if (!s)
		return -ENOMEM;
	if (fresh) {
		k = obj_load(p, r, &s->obj);
		if (k < 0)
			return k;
	}
	*ret_obj = s->obj;
	return 0;
}

/* ---- attribution ---- */

/* r mapped with bias b lies inside the object's page-rounded hull. */
static bool in_span(const struct elf_obj *obj, const struct ml_region *r,
		    uint64_t b)
{
	uint64_t lo = r->start - b, hi = r->end - b;

	return lo < hi && lo >= obj->span_lo && hi <= obj->span_hi;
}

/* r at bias b maps the file pages of every segment it overlaps where the
 * loader puts them (a plain mmap of the whole file does not). */
static bool map_consistent(const struct elf_pass *p, const struct elf_obj *obj,
			   const struct ml_region *r, uint64_t b)
{
	uint64_t lo = r->start - b, hi = r->end - b;

	for (size_t i = 0; i < obj->nloads; i++) {
		const struct elf_seg *s = &obj->loads[i];

		if (s->filesz == 0 || hi <= pg_down(p, s->vaddr) ||
		    lo >= pg_up(p, s->vaddr + s->filesz))
			continue;
		if (r->offset - lo != pg_down(p, s->offset) - pg_down(p, s->vaddr))
			return false;
	}
	return true;
}

/* A load of r's object at bias b is all there: the first file page of
 * every segment is mapped from r's file at its offset.  (A plain mmap of
 * an ELF file's first page looks like a load otherwise.) */
static bool load_complete(const struct elf_pass *p, const struct elf_obj *obj,
			  const struct ml_region *r, uint64_t b)
{
	for (size_t i = 0; i < obj->nloads; i++) {
		const struct elf_seg *s = &obj->loads[i];
		uint64_t addr = b + pg_down(p, s->vaddr);
		const struct ml_region *m;

		if (s->filesz == 0)
			continue;
		m = ml_snapshot_find(p->snap, addr);
		if (!m || m->inode != r->inode || m->dev_major != r->dev_major ||
		    m->dev_minor != r->dev_minor ||
		    m->offset + (addr - m->start) != pg_down(p, s->offset))
			return false;
	}
	return true;
}

/* Number of rwx bits in which a mapping and a segment disagree. */
static int perm_mismatch(unsigned int a, unsigned int b)
{
	return __builtin_popcount((a ^ b) & PERM_RWX);
}

/* The load bias of mapping r: the current instance's if r continues it,
 * else from the PT_LOAD whose file pages hold r's offset (fewest permission
 * mismatches wins), if r then lies where the loader would map the file and
 * the other segments are mapped too.  false if r is not a mapping of a
 * segment. */
static bool obj_bias(const struct elf_pass *p, const struct elf_obj *obj,
		     const struct ml_region *r, uint64_t *ret_bias)
{
	bool inst = obj->have_bias && in_span(obj, r, obj->bias);
	int best = 99;

	if (!(r->perms & PERM_RWX)) {
		*ret_bias = obj->bias;
		return inst;
	}
	for (size_t i = 0; i < obj->nloads; i++) {
		const struct elf_seg *s = &obj->loads[i];
		uint64_t fo = pg_down(p, s->offset), b;
		int score;

		if (r->offset < fo || r->offset >= s->offset + s->filesz)
			continue;
		b = r->start - (pg_down(p, s->vaddr) + (r->offset - fo));
		score = inst && b == obj->bias ? -1 :
			perm_mismatch(s->perms, r->perms);
		if (score >= best || !in_span(obj, r, b) ||
		    !map_consistent(p, obj, r, b) ||
		    (score >= 0 && !load_complete(p, obj, r, b)))
			continue;
		*ret_bias = b;
		best = score;
		if (score < 0)
			return true;
	}
	return best != 99;
}

size_t ml__elf_secs_first(const struct ml__elf_image *img, uint64_t lo)
{
	size_t a = 0, b = img->nsecs;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (img->maxend[m] > lo)
			b = m;
		else
			a = m + 1;
	}
	return a;
}

const struct ml__elf_load *ml__elf_load_at(const struct ml_snapshot *snap, uint64_t addr)
{
	return ml__span_find(snap->loads, snap->nloads, sizeof(*snap->loads), addr);
}

/* Set r->sections to the sections overlapping [lo, hi) (link-time
 * addresses), clipped, relocated by bias; only SHT_NOBITS ones if asked. */
static int secs_fill(struct ml_snapshot *snap, const struct ml__elf_image *img,
		     struct ml_region *r, uint64_t lo, uint64_t hi,
		     uint64_t bias, bool nobits_only)
{
	size_t first = ml__elf_secs_first(img, lo), n = 0;
	struct ml_section *out;

	for (size_t i = first; i < img->nsecs && img->secs[i].start < hi; i++)
		n += img->secs[i].end > lo && (!nobits_only || img->secs[i].nobits);
	if (n > ELF_MAX_REGION_SECS)
		n = ELF_MAX_REGION_SECS;
	r->sections = NULL;
	r->nsections = 0;
	if (n == 0)
		return 0;
	out = ml__alloc(snap, n * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = first, k = 0; k < n; i++) {
		assert(i < img->nsecs);   /* n of them were counted from first */
		const struct ml__elf_sec *s = &img->secs[i];

		if (s->end <= lo || (nobits_only && !s->nobits))
			continue;
		out[k++] = (struct ml_section){
			.name = s->name, .nobits = s->nobits,
			.start = (s->start > lo ? s->start : lo) + bias,
			.end = (s->end < hi ? s->end : hi) + bias };
	}
	r->sections = out;
	r->nsections = n;
	return 0;
}

/* Record that [start, end) maps obj's image at bias b: the last load goes
 * on if it is the same image at the same bias and ends at start. */
static int load_note(struct ml_snapshot *snap, const struct elf_obj *obj,
		     uint64_t start, uint64_t end, uint64_t b)
{
	struct ml__elf_load *l = snap->nloads ? &snap->loads[snap->nloads - 1] : NULL;

	if (l && l->image == obj->image && l->bias == b && l->end == start) {
		l->end = end;
		return 0;
	}
	if (ML__RESERVE(snap->loads, snap->loadcap, snap->nloads + 1) < 0)
		return -ENOMEM;
	snap->loads[snap->nloads++] = (struct ml__elf_load){ start, end, b, obj->image };
	return 0;
}

static bool all_nobits(const struct ml_region *r)
{
	for (size_t i = 0; i < r->nsections; i++)
		if (!r->sections[i].nobits)
			return false;
	return r->nsections > 0;
}

/* The object name for r: shared with the object unless r names it
 * differently (a hard link). */
static const char *object_name(struct ml_snapshot *snap,
			       const struct elf_obj *obj,
			       const struct ml_region *r)
{
	if (strcmp(obj->object, region_name(r)) == 0)
		return obj->object;
	return ml__strdup(snap, region_name(r));
}

/* The anonymous mapping right after file mapping ri (bias b) is the .bss
 * tail of a segment if it starts where the segment's file pages end (or,
 * for a segment without file contents, where it starts).  If it ends past
 * the segment's page-rounded p_memsz, the kernel merged the tail with an
 * anonymous mapping made after it (same permissions, adjacent: one vma):
 * a writable one is split there, the tail .bss and the rest anonymous.
 * [heap] and named mappings are never taken. */
static int bss_tail(struct elf_pass *p, const struct elf_obj *obj, size_t ri, uint64_t b)
{
	struct ml_snapshot *snap = p->snap;
	struct ml_region *r = &snap->regions[ri];
	struct ml_region *next = ri + 1 < snap->nregions ? r + 1 : NULL;
	uint64_t lo, hi;

	if (!next || next->start != r->end || next->inode != 0 ||
	    next->kind != ML_KIND_ANON || region_name(next)[0] != '\0')
		return 0;
	lo = r->end - b;
	hi = next->end - b;
	for (size_t i = 0; i < obj->nloads; i++) {
		const struct elf_seg *s = &obj->loads[i];
		uint64_t zlo = s->filesz ? pg_up(p, s->vaddr + s->filesz)
					 : pg_down(p, s->vaddr);
		uint64_t zhi = pg_up(p, s->vaddr + s->memsz);
		int k;

		if (lo != zlo || zhi <= lo ||
		    (hi > zhi && (!(next->perms & ML_PERM_WRITE) ||
				  zhi + b <= next->start || zhi + b >= next->end)))
			continue;
		if (hi > zhi) {
			if ((k = ml__region_split(snap, ri + 1, zhi + b)) < 0)
				return k;
			r = &snap->regions[ri];
			next = r + 1;
			hi = zhi;
		}
		next->kind = ML_KIND_BSS;
		next->object = r->object;
		if ((k = load_note(snap, obj, next->start, next->end, b)) < 0)
			return k;
		return secs_fill(snap, obj->image, next, lo, hi, b, true);
	}
	return 0;
}

/* Label region ri (and the .bss tail after it) if it maps a segment of
 * obj.  May split the region after it (pointers into regions stale). */
static int region_attribute(struct elf_pass *p, struct elf_obj *obj, size_t ri)
{
	struct ml_region *r = &p->snap->regions[ri];
	uint64_t b, lo, hi;
	enum ml_kind kind;
	int k;

	if (!obj_bias(p, obj, r, &b))
		return 0;
	obj->have_bias = true;
	obj->bias = b;
	lo = r->start - b;
	hi = r->end - b;
	k = load_note(p->snap, obj, r->start, r->end, b);
	if (k == 0)
		k = secs_fill(p->snap, obj->image, r, lo, hi, b, false);
	if (k < 0)
		return k;
	r->object = object_name(p->snap, obj, r);
	if (!r->object)
		return -ENOMEM;
	/* RODATA becomes RELRO inside PT_GNU_RELRO, DATA becomes BSS when
	 * only SHT_NOBITS sections lie in the mapping. */
	kind = ml__kind_by_perms(r->perms);
	if (kind == ML_KIND_DATA && all_nobits(r))
		kind = ML_KIND_BSS;
	if (kind == ML_KIND_RODATA && lo < obj->relro_end &&
	    hi > obj->relro_start)
		kind = ML_KIND_RELRO;
	r->kind = kind;
	return kind == ML_KIND_RESERVED ? 0 : bss_tail(p, obj, ri, b);
}

int ml__elf_attribute(struct ml_snapshot *snap)
{
	struct elf_pass p = { .snap = snap, .pgsz = page_size(snap) };
	int r = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	for (size_t i = 0; i < snap->nregions && r == 0; i++) {
		struct ml_region *reg = &snap->regions[i];
		struct elf_obj *obj;

		if (reg->inode == 0 || (reg->perms & ML_PERM_SHARED) ||
		    (unsigned int)reg->kind >= ML_KIND__COUNT ||
		    !candidate_kind[reg->kind])
			continue;
		r = cache_lookup(&p, reg, &obj);
		if (r == 0 && obj)
			r = region_attribute(&p, obj, i);
	}
	pass_free(&p);
	return r;
}
