/* SPDX-License-Identifier: MIT */
/*
 * symbols.c - a symbolizer: address -> ELF object, section, symbol and
 * source line, through elfutils' libdwfl.
 *
 * Creation walks the snapshot's regions once (O(regions)): every file
 * mapping in a load of an ELF object that ELF attribution found and that
 * no module reported so far covers starts a module.  Its file
 * is opened as elf.c opens it (ml__region_open), path first so libdwfl
 * finds debug links beside it, and reported with dwfl_report_elf() at the
 * load bias elf.c found for the mapping (snap->loads); libdwfl then owns
 * the descriptor.  Modules are kept sorted by start address.
 *
 * Lookups are lazy per module.  The first address in a module loads its
 * symbols through dwfl_module_getsym_info() (libdwfl takes .symtab from the
 * file or its debug file, else .dynsym) into an array sorted by address,
 * aliases folded (sized before unsized, global before weak before local,
 * fewer leading underscores first),
 * with maxend[i] = max(end of syms[0..i]) so the symbol holding an address
 * is found by binary search plus a walk back that stops as soon as no
 * earlier symbol can reach the address.  DWARF is loaded on the first
 * ML_SYM_LINES lookup (dwfl_standard_find_debuginfo: the file itself,
 * /usr/lib/debug/.build-id/xx/yyyy.debug, .gnu_debuglink).  Cost per
 * lookup after that: O(log modules + log symbols) plus libdw's line search.
 * libdwfl's own finders open names the target controls (its maps' paths,
 * a debuglink such as "../../etc/shadow") with a blocking open() that
 * follows symlinks, so every Dwfl here uses the checked finders below
 * (also for unwind.c and abortmsg.c, through ml__dw_proc_callbacks):
 * build-id debug files from the system's debug directories as libdwfl
 * finds them; a debuglink only as a plain file name, in the main file's
 * directory, its .debug/ and /usr/lib/debug/<dir>, its CRC checked; each
 * name resolved with no symlink, opened as O_PATH, and reopened
 * (O_NONBLOCK) only if it is a regular file.
 * A line's file name is shown joined with its unit's DW_AT_comp_dir when
 * relative (libdw gives "../src/x.c" as the compiler saw it) and that
 * directory is absolute, and normalised lexically; the joined names are made once per name and kept
 * in a small hash table keyed by libdw's pointer.
 *
 * The vDSO, which has no file, is read from <proc_dir>/mem (ptrace
 * access, as gdb needs; at most 1 MiB) into a memfd reported the same way.
 * PLT entries, which have no symbol, get synthetic ones named NAME@plt
 * from the relocation of the GOT slot their jump reads (x86-64; objdump's
 * and gdb's names; see add_plt_syms).  A symbol only reaches addresses of
 * the section it starts in: a sizeless _init does not stretch over .plt,
 * and an address in no section (padding after .fini) has no symbol.
 *
 * Sections are those elf.c read from the main file's section headers (its
 * image in the snapshot), found by binary search, chosen as
 * dwfl_module_address_section() would, which is not called: it loads the
 * module's DWARF first (most of the time of a one-address lookup in a
 * library whose debug file is compressed).
 *
 * Ownership: names and file names point into libdwfl's data and the module
 * table, valid until ml_symbolizer_free(); section names and the images
 * into the snapshot, which must outlive the symbolizer.
 */
#include "ml-sym.h"
#include "dynlib.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Walk back at most this far for a symbol holding an address. */
#define SYM_MAX_WALK 64

struct sym {
	uint64_t addr, end;       /* end == addr: no size */
	const char *name;         /* libdwfl's string table */
	unsigned char rank;       /* lower is preferred among aliases */
	unsigned char table;      /* index into tables[] */
};

struct module {
	uint64_t lo, hi;          /* [lo, hi) as libdwfl placed it */
	uint64_t bias;
	Dwfl_Module *mod;
	char *path;               /* the object as the snapshot names it */
	char *build_id;           /* hex or NULL */
	bool syms_loaded, dwarf_tried, has_dwarf;
	struct sym *syms;
	uint64_t *maxend;
	size_t nsyms;
	const char *debug_file;
	char *plt_names;          /* "NAME@plt" strings of the synthetic symbols */
	const struct ml__elf_image *image;  /* elf.c's sections; NULL: none */
	struct ml__elf_image *vdso;         /* the vDSO's own, malloc'ed */
};
ML__SPAN_HEAD(struct module, lo, hi);

/* A source file name as libdw's line table gives it (a stable pointer into
 * one compilation unit's file table), and the path shown for it. */
struct srcpath {
	const char *raw;          /* NULL: empty slot */
	char *path;               /* joined with DW_AT_comp_dir, normalised */
};

struct ml_symbolizer {
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debuginfo_path;     /* NULL: libdwfl's default path */
	struct module *mods;      /* sorted by lo, disjoint */
	size_t nmods, cap;
	size_t last;              /* module of the previous lookup */
	struct srcpath *paths;    /* open addressing by raw pointer; npaths <= pathcap / 2 */
	size_t npaths, pathcap;   /* pathcap: 0 or a power of two */
	struct ml_snapshot *own_snap;   /* ml_symbolizer_new_pid's, or NULL */
};

/* Symbol types that name an address in the image. */
static const bool sym_type_wanted[STT_NUM + 16] = {
	[STT_NOTYPE] = true, [STT_OBJECT] = true, [STT_FUNC] = true,
	[STT_COMMON] = true, [STT_GNU_IFUNC] = true,
};

/* Preference among aliases by binding. */
static unsigned char bind_rank(unsigned int bind)
{
	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

/* ---- libdwfl's finders, checked ---- */

/* A read-only descriptor of the regular file at path (absolute), reached
 * with no symlink, or -1 (elf.c's steps: a FIFO or a device is never
 * opened). */
static int open_regular(const char *path)
{
	return ml__reopen_regular(ml__open_nofollow(AT_FDCWD, path, false), NULL);
}

/* The CRC-32 of .gnu_debuglink (zlib's polynomial) of the file at fd. */
static uint32_t file_crc(int fd)
{
	uint32_t table[256], crc = 0xffffffffu;
	unsigned char buf[65536];
	ssize_t n;
	off_t off = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
		off += n;
	}
	return crc ^ 0xffffffffu;
}

/* A debuglink is a file name, nothing more. */
static bool plain_name(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

int ml__dw_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  GElf_Addr base, const char *file_name, const char *debuglink,
			  GElf_Word crc, char **ret_name)
{
	static const char *const where[] = { "%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s" };
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
					      debuglink, crc, ret_name);
	const char *slash = file_name ? strrchr(file_name, '/') : NULL;
	char path[4096];

	if (fd >= 0 || !debuglink || !plain_name(debuglink) || !slash || file_name[0] != '/')
		return fd;
	for (size_t i = 0; i < ML_ARRAY_SIZE(where); i++) {
		int n = snprintf(path, sizeof(path), where[i], (int)(slash - file_name), file_name, debuglink);
		if (n <= 0 || (size_t)n >= sizeof(path) || (fd = open_regular(path)) < 0)
			continue;
		if (file_crc(fd) == crc && (*ret_name = strdup(path)))
			return fd;
		close(fd);
	}
	return -1;
}

int ml__dw_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **ret_file, Elf **ret_elf)
{
	size_t n = strlen(name), k = strlen(" (deleted)");
	int fd;

	/* [vdso] and the like: libdwfl reads them from memory.  A deleted
	 * file too, given a name that is certainly absent (libdwfl opens the
	 * name if it is a regular file, else reads the image from memory):
	 * the target may have put anything at "x (deleted)". */
	if (name[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, ret_file, ret_elf);
	if (n >= k && !strcmp(name + n - k, " (deleted)"))
		return dwfl_linux_proc_find_elf(mod, userdata, "/ (deleted)", base, ret_file, ret_elf);
	if ((fd = open_regular(name)) >= 0 && !(*ret_file = strdup(name))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* ---- the mapped file (opened by elf.c's ml__region_open) ---- */

/* The load bias of mapping r of the ELF image at fd (the vDSO's, which
 * elf.c never sees: it has no file); -EINVAL if r maps no PT_LOAD of it. */
static int load_bias(int fd, const struct ml_region *r, uint64_t pgsz,
		     uint64_t *ret_bias)
{
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	size_t n;
	int res = -EINVAL;

	if (!e)
		return -EINVAL;
	if (elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) &&
	    (eh.e_type == ET_DYN || eh.e_type == ET_EXEC) &&
	    elf_getphdrnum(e, &n) == 0) {
		for (size_t i = 0; i < n && res < 0; i++) {
			GElf_Phdr ph;
			uint64_t fo;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			fo = ph.p_offset & ~(pgsz - 1);
			if (r->offset < fo || r->offset >= ph.p_offset + ph.p_filesz)
				continue;
			*ret_bias = r->start - ((ph.p_vaddr & ~(pgsz - 1)) + (r->offset - fo));
			if (eh.e_type == ET_EXEC && *ret_bias)
				continue;
			res = 0;
		}
	}
	elf_end(e);
	return res;
}

static char *build_id_hex(Dwfl_Module *mod)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);
	char *s;

	if (n <= 0 || !(s = malloc((size_t)n * 2 + 1)))
		return NULL;
	for (int i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", bits[i]);
	return s;
}

/* libdwfl's end is that of the last segment's p_memsz; the mapping (and
 * its .bss tail) goes on to the page boundary. */
static int add_module(struct ml_symbolizer *sz, Dwfl_Module *mod, const char *object,
		      uint64_t bias, uint64_t pgsz, const struct ml__elf_image *image)
{
	Dwarf_Addr lo, hi;
	struct module *m;

	if (ML__RESERVE(sz->mods, sz->cap, sz->nmods + 1) < 0)
		return -ENOMEM;
	dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	m = &sz->mods[sz->nmods];
	*m = (struct module){ .lo = lo, .hi = (hi + pgsz - 1) & ~(pgsz - 1),
			      .bias = bias, .mod = mod, .path = strdup(object),
			      .build_id = build_id_hex(mod),
			      .image = image && !image->phdr_secs ? image : NULL };
	if (!m->path)
		return -ENOMEM;
	sz->nmods++;
	return 0;
}

/* Does r start inside a module already reported?  (Reporting the same
 * module twice makes libdwfl drop the first at dwfl_report_end.) */
static bool covered(const struct ml_symbolizer *sz, const struct ml_region *r)
{
	for (size_t i = sz->nmods; i-- > 0;) {
		const struct module *m = &sz->mods[i];

		if (r->start >= m->lo && r->start < m->hi)
			return true;
		if (m->hi <= r->start)   /* modules come in address order */
			break;
	}
	return false;
}

/* The ELF image at fd (consumed), reported to libdwfl as name (path: its
 * file) at load bias bias; 0 if it is not one (nothing reported), or
 * -ENOMEM. */
static int report_fd(struct ml_symbolizer *sz, const struct ml_snapshot *snap, int fd,
		     uint64_t bias, const struct ml__elf_image *image,
		     const char *object, const char *path)
{
	uint64_t pgsz = snap->proc.page_size ? snap->proc.page_size : 4096;
	const char *base = strrchr(object, '/');
	Dwfl_Module *mod;

	if (fd < 0)
		return 0;
	if (!(mod = dwfl_report_elf(sz->dwfl, base ? base + 1 : object, path, fd, bias, false))) {
		close(fd);   /* not consumed on failure */
		return 0;
	}
	return add_module(sz, mod, object, bias, pgsz, image);
}

static int report_region(struct ml_symbolizer *sz, const struct ml_snapshot *snap,
			 const struct ml_region *r)
{
	const struct ml__elf_load *l = ml__elf_load_at(snap, r->start);
	char path[2 * sizeof(snap->proc_dir) + 64];

	if (!l || !r->inode)   /* no ELF object, or its .bss tail */
		return 0;
	return report_fd(sz, snap, ml__region_open(snap, r, true, path, sizeof(path)),
			 l->bias, l->image, r->object ? r->object : r->name, path);
}

/* The vDSO has no file: its image is read from the process's memory
 * (<proc_dir>/mem, which needs ptrace access, as gdb does; a saved copy
 * has no mem file and gets no vDSO symbols), bounded by VDSO_MAX, copied
 * into a memfd and reported like a file.  Its bias is its mapping's start
 * less its first PT_LOAD's page. */
#define VDSO_MAX (1u << 20)

/* An image of len bytes in a memfd, or -1 (not an ELF image). */
static int image_fd(const unsigned char *buf, size_t len)
{
	int mfd = -1;

	if (len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0 &&
	    (mfd = memfd_create("memlayout-vdso", MFD_CLOEXEC)) >= 0 &&
	    write(mfd, buf, len) != (ssize_t)len) {
		close(mfd);
		mfd = -1;
	}
	return mfd;
}

static int read_vdso(const struct ml_snapshot *snap, const struct ml_region *r)
{
	char path[sizeof(snap->proc_dir) + 8];
	size_t len = r->end - r->start;
	unsigned char *buf;
	int fd, mfd = -1;
	ssize_t got = -1;

	if (snap->core)   /* no mem file: the core's copy */
		return snap->vdso_image ? image_fd(snap->vdso_image, snap->vdso_len) : -1;
	if (len > VDSO_MAX || r->start > (uint64_t)INT64_MAX - len ||
	    snprintf(path, sizeof(path), "%s/mem", snap->proc_dir) >= (int)sizeof(path) ||
	    (fd = open_regular(path)) < 0)
		return -1;
	if ((buf = malloc(len)))
		got = pread(fd, buf, len, (off_t)r->start);
	close(fd);
	if (got == (ssize_t)len)
		mfd = image_fd(buf, len);
	free(buf);
	return mfd;
}

/* The vDSO's sections as elf.c would list them (ml__sec_in_image), from
 * the image libdwfl read, in an image of the module's own. */
static int vdso_sections(struct module *m)
{
	GElf_Addr bias;
	Elf *e = dwfl_module_getelf(m->mod, &bias);
	struct ml__elf_image *img = calloc(1, sizeof(*img));
	struct ml__elf_sec *secs;
	uint64_t *maxend;
	Elf_Scn *scn = NULL;
	size_t strndx, n = 0, cap = 0;

	if (!(m->vdso = img))
		return -ENOMEM;
	if (!e || elf_getshdrstrndx(e, &strndx) < 0 || elf_getshdrnum(e, &cap) < 0 || !cap)
		return 0;
	if (!(img->secs = secs = malloc(cap * sizeof(*secs))) ||
	    !(img->maxend = maxend = malloc(cap * sizeof(*maxend))))
		return -ENOMEM;
	while ((scn = elf_nextscn(e, scn)) && n < cap) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && ml__sec_in_image(sh.sh_flags, sh.sh_type, sh.sh_size))
			secs[n++] = (struct ml__elf_sec){ elf_strptr(e, strndx, sh.sh_name), sh.sh_addr,
							  sh.sh_addr + sh.sh_size, (unsigned int)elf_ndxscn(scn),
							  sh.sh_type == SHT_NOBITS };
	}
	ml__elf_secs_index(secs, maxend, n);
	img->nsecs = n;
	m->image = img;
	return 0;
}

static int report_vdso(struct ml_symbolizer *sz, const struct ml_snapshot *snap,
		       const struct ml_region *r)
{
	uint64_t pgsz = snap->proc.page_size ? snap->proc.page_size : 4096, bias = 0;
	int fd = read_vdso(snap, r);

	size_t n = sz->nmods;
	int k;

	if (fd >= 0 && load_bias(fd, r, pgsz, &bias) < 0) {
		close(fd);
		return 0;
	}
	if ((k = report_fd(sz, snap, fd, bias, NULL, "[vdso]", "[vdso]")) < 0 || sz->nmods == n)
		return k;
	return vdso_sections(&sz->mods[n]);
}

static int module_cmp(const void *a, const void *b)
{
	const struct module *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

int ml_symbolizer_new(const struct ml_snapshot *snap, struct ml_symbolizer **ret)
{
	struct ml_symbolizer *sz;
	int r = ml__dw_load();

	if (r < 0)
		return r;
	if (!(sz = calloc(1, sizeof(*sz))))
		return -ENOMEM;
	sz->cb = (Dwfl_Callbacks){ .find_elf = dwfl_build_id_find_elf,
				   .find_debuginfo = ml__dw_find_debuginfo,
				   .debuginfo_path = &sz->debuginfo_path };
	sz->dwfl = dwfl_begin(&sz->cb);
	if (!sz->dwfl) {
		free(sz);
		return -ENOMEM;
	}
	dwfl_report_begin(sz->dwfl);
	for (size_t i = 0; i < snap->nregions && r == 0; i++) {
		const struct ml_region *reg = &snap->regions[i];

		if (covered(sz, reg))
			continue;
		if (reg->kind == ML_KIND_VDSO)
			r = report_vdso(sz, snap, reg);
		else
			r = report_region(sz, snap, reg);
	}
	if (r == 0 && dwfl_report_end(sz->dwfl, NULL, NULL) != 0)
		r = -ENOMEM;
	if (r < 0) {
		ml_symbolizer_free(sz);
		return r;
	}
	ml__sort(sz->mods, sz->nmods, sizeof(*sz->mods), module_cmp);
	*ret = sz;
	return 0;
}

struct Dwfl *ml__symbolizer_dwfl(struct ml_symbolizer *sz)
{
	return (struct Dwfl *)sz->dwfl;
}

int ml_symbolizer_new_pid(pid_t pid, struct ml_symbolizer **ret)
{
	struct ml_snapshot *snap;
	int r = ml_snapshot_take(pid, NULL, &snap);

	if (r < 0)
		return r;
	if ((r = ml_symbolizer_new(snap, ret)) < 0)
		ml_snapshot_free(snap);
	else
		(*ret)->own_snap = snap;   /* its images outlive the symbolizer */
	return r;
}

void ml_symbolizer_free(struct ml_symbolizer *sz)
{
	if (!sz)
		return;
	for (size_t i = 0; i < sz->nmods; i++) {
		free(sz->mods[i].path);
		free(sz->mods[i].build_id);
		free(sz->mods[i].syms);
		free(sz->mods[i].plt_names);
		free(sz->mods[i].maxend);
		if (sz->mods[i].vdso) {
			free((void *)sz->mods[i].vdso->secs);
			free((void *)sz->mods[i].vdso->maxend);
			free(sz->mods[i].vdso);
		}
	}
	free(sz->mods);
	for (size_t i = 0; i < sz->pathcap; i++)
		free(sz->paths[i].path);
	free(sz->paths);
	dwfl_end(sz->dwfl);
	ml_snapshot_free(sz->own_snap);
	free(sz);
}

/* ---- symbols ---- */

/* Where a name came from: a symbol table, or a relocation that names a
 * PLT entry (TABLE_REL + the index in rel_names[]). */
static const char *const table_names[] = { ".symtab", ".dynsym", ".rela.plt",
					   ".rela.dyn", ".rel.plt", ".rel.dyn" };
#define TABLE_REL 2

/* 0 (.symtab) if e has a SHT_SYMTAB section, else 1 (.dynsym). */
static unsigned char table_of(Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while (e && (scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			return 0;
	return 1;
}

static size_t underscores(const char *s)
{
	return strspn(s, "_");
}

/* By address; among aliases the preferred first: rank, then the public
 * name (malloc before __libc_malloc), then by name so the order is
 * stable. */
static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	size_t ux, uy;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	ux = underscores(x->name);
	uy = underscores(y->name);
	if (ux != uy)
		return ux < uy ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* One symbol of the module's table into *ret; false if it names no
 * address of the image. */
static bool read_sym(Dwfl_Module *mod, int i, Elf **elfs, unsigned char *tables,
		     struct sym *ret)
{
	GElf_Sym s;
	GElf_Addr addr;
	GElf_Word shndx;
	Elf *e = NULL;
	const char *name = dwfl_module_getsym_info(mod, i, &s, &addr, &shndx, &e, NULL);
	unsigned int type = GELF_ST_TYPE(s.st_info);

	if (!name || !name[0] || name[0] == '$' || shndx == SHN_UNDEF ||
	    shndx == (GElf_Word)-1 || s.st_shndx == SHN_ABS ||
	    type >= ML_ARRAY_SIZE(sym_type_wanted) || !sym_type_wanted[type])
		return false;
	/* Which table: cache the verdict for the (at most 3) files libdwfl
	 * takes symbols from. */
	size_t k = 0;
	while (k < 3 && elfs[k] && elfs[k] != e)
		k++;
	if (k < 3 && !elfs[k]) {
		elfs[k] = e;
		tables[k] = table_of(e);
	}
	*ret = (struct sym){ .addr = addr, .end = addr + s.st_size, .name = name,
			     .table = k < 3 ? tables[k] : 1,
			     .rank = (unsigned char)((s.st_size == 0) * 8 +
				     (type == STT_NOTYPE) * 4 + bind_rank(GELF_ST_BIND(s.st_info))) };
	return ret->end >= ret->addr;
}

/* ---- PLT entries, named from the relocations (as objdump names them) ----
 * A PLT entry has no symbol; objdump and gdb call it NAME@plt after the
 * relocation of the GOT slot its indirect jump reads.  x86-64 and i386:
 * each entry of .plt, .plt.sec, .plt.got and .plt.bnd (sh_entsize bytes,
 * 8 or 16) that starts with an indirect jmp, possibly after endbr64/32 and
 * a bnd prefix, reads a GOT slot: x86-64 `jmp *disp32(%rip)` the end of
 * that instruction + disp32; i386 `jmp *abs32` (non-PIC) the address
 * abs32, `jmp *disp32(%ebx)` (PIC: %ebx holds _GLOBAL_OFFSET_TABLE_, the
 * start of .got.plt) that + disp32; the JUMP_SLOT, GLOB_DAT or IRELATIVE
 * relocation of that slot gives the name (the .plt header and lazy IBT
 * stubs jump elsewhere: no name).  Other machines (aarch64: adrp/ldr/br
 * sequences) get no PLT names.
 * Bounded by the sections' sizes; O(relocations log relocations). */

#define R_X86_64_GLOB_DAT_ 6
#define R_X86_64_JUMP_SLOT_ 7
#define R_X86_64_IRELATIVE_ 37
#define R_386_GLOB_DAT_ 6
#define R_386_JMP_SLOT_ 7
#define R_386_IRELATIVE_ 42

/* What decoding a PLT entry needs: the machine, and on i386 the address
 * %ebx holds in PIC code (.got.plt's, else .got's). */
struct plt_ctx {
	unsigned int machine;     /* EM_X86_64 or EM_386 */
	uint64_t got;
};

struct plt_rel {
	uint64_t slot;            /* r_offset: the GOT slot, link-time address */
	const char *name;         /* NULL: none (IRELATIVE) */
	int64_t addend;
	unsigned char table;      /* index into table_names[] */
};

struct plt_rels {
	struct plt_rel *v;
	size_t n, cap;
};

static int plt_rel_cmp(const void *a, const void *b)
{
	const struct plt_rel *x = a, *y = b;

	return (x->slot > y->slot) - (x->slot < y->slot);
}

static unsigned char rel_table(const char *secname)
{
	for (unsigned char i = TABLE_REL; i < ML_ARRAY_SIZE(table_names); i++)
		if (secname && !strcmp(secname, table_names[i]))
			return i;
	return TABLE_REL;
}

/* The relocations of one SHT_REL(A) section that can name a PLT entry. */
static bool plt_rel_type(unsigned int machine, uint64_t type)
{
	if (machine == EM_386)
		return type == R_386_JMP_SLOT_ || type == R_386_GLOB_DAT_ ||
		       type == R_386_IRELATIVE_;
	return type == R_X86_64_JUMP_SLOT_ || type == R_X86_64_GLOB_DAT_ ||
	       type == R_X86_64_IRELATIVE_;
}

static int plt_rels_add(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t strndx,
			unsigned int machine, struct plt_rels *out)
{
	Elf_Scn *symscn = elf_getscn(e, sh->sh_link);
	Elf_Data *d = elf_getdata(scn, NULL), *symd = symscn ? elf_getdata(symscn, NULL) : NULL;
	GElf_Shdr symsh;
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	unsigned char table = rel_table(elf_strptr(e, strndx, sh->sh_name));

	if (!d || !symd || !gelf_getshdr(symscn, &symsh))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Rela ra;
		GElf_Rel rl;
		GElf_Sym sym;
		struct plt_rel r = { .table = table };
		uint64_t type, symi;

		if (sh->sh_type == SHT_RELA ? !gelf_getrela(d, (int)i, &ra) : !gelf_getrel(d, (int)i, &rl))
			break;
		if (sh->sh_type == SHT_REL)
			ra = (GElf_Rela){ rl.r_offset, rl.r_info, 0 };
		type = GELF_R_TYPE(ra.r_info);
		symi = GELF_R_SYM(ra.r_info);
		if (!plt_rel_type(machine, type))
			continue;
		r.slot = ra.r_offset;
		r.addend = ra.r_addend;
		if (symi && gelf_getsym(symd, (int)symi, &sym))
			r.name = elf_strptr(e, symsh.sh_link, sym.st_name);
		if (symi && (!r.name || !r.name[0]))
			continue;
		if (ML__RESERVE(out->v, out->cap, out->n + 1) < 0)
			return -ENOMEM;
		out->v[out->n++] = r;
	}
	return 0;
}

/* The GOT slot the entry at bytes p (n of them, at link-time address a)
 * jumps through, or 0. */
static uint64_t plt_slot(const struct plt_ctx *x, const unsigned char *p, size_t n, uint64_t a)
{
	static const struct { unsigned char len; unsigned char bytes[5]; } lead[] = {
		{ 0, { 0 } }, { 1, { 0xf2 } }, { 4, { 0xf3, 0x0f, 0x1e, 0xfa } },
		{ 5, { 0xf3, 0x0f, 0x1e, 0xfa, 0xf2 } },
		{ 4, { 0xf3, 0x0f, 0x1e, 0xfb } }, { 5, { 0xf3, 0x0f, 0x1e, 0xfb, 0xf2 } },
	};

	for (size_t i = 0; i < ML_ARRAY_SIZE(lead); i++) {
		size_t o = lead[i].len;
		int32_t disp;

		if (o + 6 > n || memcmp(p, lead[i].bytes, o) || p[o] != 0xff)
			continue;
		memcpy(&disp, p + o + 2, 4);   /* little-endian: x86 */
		if (x->machine == EM_X86_64 && p[o + 1] == 0x25)
			return a + o + 6 + (uint64_t)(int64_t)disp;
		if (x->machine == EM_386 && p[o + 1] == 0x25)      /* jmp *abs32 */
			return (uint32_t)disp;
		if (x->machine == EM_386 && p[o + 1] == 0xa3 && x->got) /* jmp *d(%ebx) */
			return (uint32_t)(x->got + (uint64_t)(int64_t)disp);
	}
	return 0;
}

/* "NAME@plt", "NAME+0xA@plt" or "*ABS*+0xA@plt" into buf (size n). */
static int plt_name(char *buf, size_t n, const struct plt_rel *r)
{
	if (r->name && !r->addend)
		return snprintf(buf, n, "%s@plt", r->name);
	return snprintf(buf, n, "%s+0x%" PRIx64 "@plt", r->name ? r->name : "*ABS*",
			(uint64_t)r->addend);
}

static const struct plt_rel *plt_rel_find(const struct plt_rels *rels, uint64_t slot)
{
	struct plt_rel key = { .slot = slot };

	return slot ? bsearch(&key, rels->v, rels->n, sizeof(*rels->v), plt_rel_cmp) : NULL;
}

static bool is_plt_section(const char *name)
{
	static const char *const names[] = { ".plt", ".plt.sec", ".plt.got", ".plt.bnd" };

	for (size_t i = 0; name && i < ML_ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* Walk the PLT sections of e; for each named entry call back with its
 * link-time address, size and relocation.  pass 0 counts name bytes into
 * *ret_bytes and entries into *ret_n; pass 1 fills syms and names. */
static void plt_walk(Elf *e, size_t strndx, const struct plt_ctx *x,
		     const struct plt_rels *rels, uint64_t bias,
		     struct sym *syms, char *names, size_t *ret_n, size_t *ret_bytes)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		uint64_t es;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) ||
		    !is_plt_section(elf_strptr(e, strndx, sh.sh_name)) ||
		    !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		es = sh.sh_entsize == 8 || sh.sh_entsize == 16 ? sh.sh_entsize : 16;
		for (uint64_t k = 0; k + es <= d->d_size && k + es <= sh.sh_size; k += es) {
			const struct plt_rel *r = plt_rel_find(rels,
				plt_slot(x, (const unsigned char *)d->d_buf + k, es, sh.sh_addr + k));
			int len;

			if (!r || (len = plt_name(NULL, 0, r)) < 0)
				continue;
			if (syms) {
				plt_name(names + *ret_bytes, (size_t)len + 1, r);
				syms[*ret_n] = (struct sym){ .addr = sh.sh_addr + k + bias,
					.end = sh.sh_addr + k + es + bias, .name = names + *ret_bytes,
					.rank = 3, .table = r->table };
			}
			*ret_bytes += (size_t)len + 1;
			(*ret_n)++;
		}
	}
}

/* Append the module's synthetic NAME@plt symbols to m->syms (k of them
 * so far, room for k only): returns the new count, or -ENOMEM. */
static ssize_t add_plt_syms(struct module *m, size_t k)
{
	GElf_Addr bias;
	Elf *e = dwfl_module_getelf(m->mod, &bias);
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	size_t strndx, n = 0, bytes = 0;
	struct plt_rels rels = { 0 };
	struct plt_ctx x = { 0 };
	struct sym *grown;
	int r = 0;

	if (!e || !gelf_getehdr(e, &eh) || (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386) ||
	    elf_getshdrstrndx(e, &strndx) < 0)
		return (ssize_t)k;
	x.machine = eh.e_machine;
	while (r == 0 && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, strndx, sh.sh_name);
		if (name && (!strcmp(name, ".got.plt") || (!x.got && !strcmp(name, ".got"))))
			x.got = sh.sh_addr;
		if ((sh.sh_type == SHT_RELA || sh.sh_type == SHT_REL) && (sh.sh_flags & SHF_ALLOC))
			r = plt_rels_add(e, scn, &sh, strndx, x.machine, &rels);
	}
	if (r == 0 && rels.n) {
		ml__sort(rels.v, rels.n, sizeof(*rels.v), plt_rel_cmp);
		plt_walk(e, strndx, &x, &rels, bias, NULL, NULL, &n, &bytes);
	}
	if (r == 0 && n) {
		if (!(m->plt_names = malloc(bytes)) ||
		    !(grown = realloc(m->syms, (k + n) * sizeof(*grown)))) {
			r = -ENOMEM;
		} else {
			m->syms = grown;
			n = bytes = 0;
			plt_walk(e, strndx, &x, &rels, bias, m->syms + k, m->plt_names, &n, &bytes);
		}
	}
	free(rels.v);
	return r < 0 ? r : (ssize_t)(k + n);
}

static int load_syms(struct module *m)
{
	int n = dwfl_module_getsymtab(m->mod);
	Elf *elfs[3] = { NULL };
	unsigned char tables[3] = { 1, 1, 1 };
	size_t k = 0, out = 0;
	ssize_t plt;
	uint64_t mx = 0;

	m->syms_loaded = true;
	if (n <= 0)
		return 0;
	m->syms = malloc((size_t)n * sizeof(*m->syms));
	if (!m->syms)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		k += read_sym(m->mod, i, elfs, tables, &m->syms[k]);
	if ((plt = add_plt_syms(m, k)) < 0)
		return (int)plt;
	k = (size_t)plt;
	ml__sort(m->syms, k, sizeof(*m->syms), sym_cmp);
	for (size_t i = 0; i < k; i++)      /* keep the best of each address */
		if (out == 0 || m->syms[out - 1].addr != m->syms[i].addr)
			m->syms[out++] = m->syms[i];
	m->maxend = malloc((out ? out : 1) * sizeof(*m->maxend));
	if (!m->maxend)
		return -ENOMEM;
	for (size_t i = 0; i < out; i++) {
		if (m->syms[i].end > mx)
			mx = m->syms[i].end;
		m->maxend[i] = mx;
	}
	m->nsyms = out;
	return 0;
}

/* The symbol holding addr, or the nearest sizeless one before it; NULL.
 * Only a symbol starting at or above lo (the start of addr's section)
 * counts: a symbol's reach ends with its section, so a sizeless _init
 * does not stretch over .plt and .text. */
static const struct sym *find_sym(const struct module *m, uint64_t addr, uint64_t lo)
{
	size_t a = 0, b = m->nsyms;

	while (a < b) {                     /* first symbol starting after addr */
		size_t mid = a + (b - a) / 2;
		if (m->syms[mid].addr <= addr)
			a = mid + 1;
		else
			b = mid;
	}
	if (a == 0)
		return NULL;
	for (size_t j = a, steps = 0; j-- > 0 && steps < SYM_MAX_WALK; steps++) {
		if (m->maxend[j] <= addr || m->syms[j].addr < lo)
			break;
		if (m->syms[j].end > addr)
			return &m->syms[j];
	}
	return m->syms[a - 1].end == m->syms[a - 1].addr && m->syms[a - 1].addr >= lo ?
	       &m->syms[a - 1] : NULL;
}

/* ---- sections and lines ---- */

/* libdwfl's rule: in (start, end, index) order, the first section ending
 * above addr holds it if it starts at or below addr; that is, of the
 * sections holding addr, the first in that order.  elf.c's order is by
 * start, then end descending, then index: the first section whose prefix
 * maximum of ends exceeds addr (a binary search) has the smallest start,
 * and a shorter one of the same start may follow.  Returns whether one
 * holds addr (its start in *ret_start). */
static bool find_section(const struct module *m, uint64_t addr, struct ml_symbol *ret,
			 uint64_t *ret_start)
{
	const struct ml__elf_image *img = m->image;
	uint64_t a = addr - m->bias;
	size_t i = img ? ml__elf_secs_first(img, a) : 0;
	const struct ml__elf_sec *s;

	if (!img || i == img->nsecs || img->secs[i].start > a)
		return false;
	s = &img->secs[i];
	while (++i < img->nsecs && img->secs[i].start == s->start && img->secs[i].end > a)
		if (img->secs[i].end < s->end)
			s = &img->secs[i];
	ret->section = s->name;
	ret->section_offset = a - s->start;
	*ret_start = s->start + m->bias;
	return true;
}

/* Lexically, in place: "a//b" and "a/./b" -> "a/b", "a/x/../b" -> "a/b",
 * "/.." -> "/"; a relative path keeps its leading "..".  Symbolic links
 * are not followed (the file may not exist here). */
static void normalise(char *path)
{
	char *r = path, *w = path;
	bool abs = *r == '/';
	size_t root = abs, fixed;  /* fixed: output bytes a ".." cannot remove */

	if (abs)
		*w++ = *r++;
	fixed = root;
	/* Invariant: w <= r, so the output never overtakes the input; a
	 * segment is written after a '/' separator, which the input has too. */
	while (*r) {
		char *seg = r;
		size_t n;
		bool up;

		while (*r && *r != '/')
			r++;
		n = (size_t)(r - seg);
		while (*r == '/')
			r++;
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		up = n == 2 && seg[0] == '.' && seg[1] == '.';
		if (up && (size_t)(w - path) > fixed) {       /* drop the last segment */
			while ((size_t)(w - path) > fixed && w[-1] != '/')
				w--;
			if ((size_t)(w - path) > fixed)
				w--;                             /* and its separator */
			continue;
		}
		if (up && abs)
			continue;                                /* "/.." is "/" */
		if ((size_t)(w - path) > root)
			*w++ = '/';
		memmove(w, seg, n);
		w += n;
		if (up)
			fixed = (size_t)(w - path);              /* a leading ".." stays */
	}
	if (w == path)
		*w++ = '.';
	*w = '\0';
}

/* file joined with dir and normalised; as it is when it stays relative
 * (no directory, or a relative one such as the "." that
 * -fdebug-prefix-map leaves): then nothing is known to resolve it against.
 * NULL if no memory. */
static char *join_path(const char *dir, const char *file)
{
	bool join = file[0] != '/' && dir && dir[0] == '/';
	size_t dl = join ? strlen(dir) : 0, fl = strlen(file);
	char *p = malloc(dl + 1 + fl + 1);

	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + (join ? dl + 1 : 0), file, fl + 1);
	if (join || file[0] == '/')
		normalise(p);
	return p;
}

static size_t path_slot(const struct ml_symbolizer *sz, const char *raw)
{
	uint64_t h = (uint64_t)(uintptr_t)raw * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (sz->pathcap - 1);
}

static bool paths_grow(struct ml_symbolizer *sz)
{
	size_t cap = sz->pathcap ? sz->pathcap * 2 : 64;
	struct srcpath *old = sz->paths, *p = calloc(cap, sizeof(*p));
	size_t oldcap = sz->pathcap;

	if (!p)
		return false;
	sz->paths = p;
	sz->pathcap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		size_t k = path_slot(sz, old[i].raw);

		if (!old[i].raw)
			continue;
		while (p[k].raw)
			k = (k + 1) & (cap - 1);
		p[k] = old[i];
	}
	free(old);
	return true;
}

/* The path shown for the line table's name raw: joined with the
 * compilation directory when relative, normalised, made once per name.
 * raw itself if memory runs out. */
static const char *source_path(struct ml_symbolizer *sz, Dwfl_Line *line, const char *raw)
{
	size_t k;
	char *p;

	if (sz->pathcap) {
		for (k = path_slot(sz, raw); sz->paths[k].raw; k = (k + 1) & (sz->pathcap - 1))
			if (sz->paths[k].raw == raw)
				return sz->paths[k].path;
	}
	if ((sz->npaths + 1) * 2 > sz->pathcap && !paths_grow(sz))
		return raw;
	if (!(p = join_path(dwfl_line_comp_dir(line), raw)))
		return raw;
	for (k = path_slot(sz, raw); sz->paths[k].raw; k = (k + 1) & (sz->pathcap - 1))
		;
	sz->paths[k] = (struct srcpath){ raw, p };
	sz->npaths++;
	return p;
}

static void find_line(struct ml_symbolizer *sz, struct module *m, uint64_t addr,
		      struct ml_symbol *ret)
{
	Dwarf_Addr bias, laddr;
	Dwfl_Line *line;
	const char *main_file, *debug_file;
	int lineno = 0, col = 0;

	if (!m->dwarf_tried) {
		m->dwarf_tried = true;
		m->has_dwarf = dwfl_module_getdwarf(m->mod, &bias) != NULL;
		dwfl_module_info(m->mod, NULL, NULL, NULL, NULL, NULL, &main_file, &debug_file);
		m->debug_file = m->has_dwarf ? (debug_file ? debug_file : main_file) : NULL;
	}
	ret->has_dwarf = m->has_dwarf;
	ret->debug_file = m->debug_file;
	if (!m->has_dwarf || !(line = dwfl_module_getsrc(m->mod, addr)))
		return;
	ret->file = dwfl_lineinfo(line, &laddr, &lineno, &col, NULL, NULL);
	if (ret->file)
		ret->file = source_path(sz, line, ret->file);
	ret->line = lineno;
	ret->column = col;
}

static struct module *find_module(struct ml_symbolizer *sz, uint64_t addr)
{
	struct module *m;

	if (sz->last < sz->nmods && addr >= sz->mods[sz->last].lo && addr < sz->mods[sz->last].hi)
		return &sz->mods[sz->last];
	if ((m = (struct module *)ml__span_find(sz->mods, sz->nmods, sizeof(*m), addr)))
		sz->last = (size_t)(m - sz->mods);
	return m;
}

int ml_symbolize(struct ml_symbolizer *sz, uint64_t addr, unsigned int flags,
		 struct ml_symbol *ret)
{
	struct module *m = find_module(sz, addr);
	const struct sym *s;
	uint64_t lo = 0;
	int r;

	if (!m)
		return -ENOENT;
	if (!m->syms_loaded && (r = load_syms(m)) < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->module = m->path;
	ret->bias = m->bias;
	ret->build_id = m->build_id;
	/* An address in no section of a file that has sections (padding
	 * after .fini, the page's tail) is in no symbol, as gdb says. */
	if (!find_section(m, addr, ret, &lo) && m->image && m->image->nsecs)
		s = NULL;
	else
		s = find_sym(m, addr, lo);
	if (s) {
		ret->name = s->name;
		ret->table = table_names[s->table];
		ret->sym_addr = s->addr;
		ret->sym_size = s->end - s->addr;
		ret->offset = addr - s->addr;
		ret->sym_sized = s->end > s->addr;
	}
	if (flags & ML_SYM_LINES)
		find_line(sz, m, addr, ret);
	return 0;
}
