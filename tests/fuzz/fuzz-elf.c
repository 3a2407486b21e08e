/* SPDX-License-Identifier: MIT */
/*
 * fuzz-elf.c - libFuzzer target for the ELF files a process maps, which the
 * process controls (a malicious binary or library): the ELF attribution of
 * lib/elf.c (load bias, kinds, sections from the section headers or, without
 * them, from the program headers; ELF32 and ELF64) and the renderers fed by
 * it.
 *
 * Input: a header of FZ_HDR bytes (below), then the ELF file.  Each input is
 *  1. written to a fresh memfd (a new inode per input: elf.c caches parsed
 *     files by device and inode, only within one pass, but a fresh file
 *     leaves no doubt), named in the maps text by /proc/self/fd/N; the
 *     snapshot's proc_root is "/proc" and its proc_dir does not exist, so
 *     elf.c opens the file by that path (its third place), as it would a
 *     live process's file seen from the same mount namespace;
 *  2. mapped in a made-up maps text: either as the loader would map it (each
 *     PT_LOAD, read here with libelf, at a bias from the header, with
 *     PROT_NONE file holes between segments, an anonymous .bss tail and
 *     PT_GNU_RELRO made read-only), or
 *     in a fixed layout (r--p at offset 0, r-xp, r--p, rw-p, anonymous rw-p,
 *     sizes from the header) that ignores the file; optionally a second load
 *     instance, a [heap] right after, a plain mmap of the whole file; then
 *     two perturbations chosen by the header (an offset or an address off
 *     by a page or by an odd amount, a mapping dropped, its permissions or
 *     its inode changed), so that the inconsistent cases are reached too;
 *  3. parsed with ml__maps_parse_buffer(), labelled as lib/snapshot.c's
 *     take() does (ml__classify_basic, ml__elf_attribute,
 *     ml__classify_fallback, ml__classify_threads) and checked: the
 *     attribution returns 0 or -ENOMEM; the regions keep their addresses;
 *     every region's sections lie inside it (start < end), in order of
 *     start, at most ELF_MAX_REGION_SECS (256) of them, each with a
 *     NUL-terminated name of at most ELF_MAX_NAME (256) bytes; a region
 *     with sections has an object; an anonymous region elf.c made a .bss
 *     tail lists only SHT_NOBITS sections; ml_region_section() finds a
 *     section that holds the address asked for;
 *  4. rendered: the region table with every column (OBJECT and SECTIONS
 *     among them), as a table and as JSON, and the diagram, to /dev/null.
 * Sections may overlap (.tdata and .init_array do; a pseudo-section
 * "[PT_INTERP]" lies in "[LOAD#0]"), so overlap is not checked.
 * A failed check calls abort(), which libFuzzer reports as a crash.
 *
 * Seeds (corpus-elf/): a 5-byte header (flags 00 = loader layout, 4 KiB
 * pages, or 08 for a 32-bit file; bias selector 01; no perturbation) and a
 * small ELF file built with gcc 12 (x86-64 Debian) from p.c:
 *   int x = 1; static char big[70000]; int f(int a) { return a + x; }
 *   int main(int c, char **v) { big[c] = 1; return f(c) + big[c + 1]; }
 * exe64: gcc -Os -Wl,-z,noseparate-code p.c; exe64-stripped: the same,
 * strip -s; exe64-sepcode: gcc -Os p.c, strip -s (R, RX, R, RW segments);
 * exe32: -m32; exe64-noshdrs, exe32-noshdrs: exe64, exe32 with e_shoff,
 * e_shnum and e_shstrndx zeroed (the program-header fallback); lib64.so:
 * gcc -Os -shared -fPIC -Wl,-z,noseparate-code l.c:
 *   int x = 1; static char big[70000];
 *   int f(int a) { big[a] = 1; return a + x + big[a + 1]; }
 * exe64-nostdlib (ET_EXEC, bias selector 00): gcc -Os -static -nostdlib
 * -fno-pie -no-pie -Wl,-z,noseparate-code s.c:
 *   static char big[70000]; int x = 1;
 *   void _start(void) { big[x] = 1; __asm__ volatile("syscall" ::
 *     "a"(60), "D"(big[2])); for (;;); }
 * exe64-longname: exe64 after objcopy --rename-section .data=.ddd...
 * (300 d: longer than elf.c's ELF_MAX_NAME); many-loads: an ELF64 header
 * and 64 PT_LOADs (R, RX, RW in turn, 0x2000 apart, the RW ones with .bss;
 * elf.c's ELF_MAX_LOADS), no sections, written with Python's struct;
 * fixed-exe64: exe64 with flags 04 (the fixed layout).  Inputs that
 * crashed it are kept there as crash-*.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-elf' on corpus-elf/.
 */
#include "ml-private.h"
#include "fuzz-common.h"

#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Header: flags, bias selector, two perturbations, fixed-layout sizes. */
enum { FZ_HDR = 5 };

enum {
	FZ_PAGE   = 3 << 0,   /* page size: 4, 16, 64 or 1 KiB */
	FZ_FIXED  = 1 << 2,   /* fixed layout instead of the loader's */
	FZ_32BIT  = 1 << 3,   /* a 32-bit process */
	FZ_TWICE  = 1 << 4,   /* a second load instance after the first */
	FZ_PLAIN  = 1 << 5,   /* a plain mmap of the whole file after all */
	FZ_HEAP   = 1 << 6,   /* [heap] right after the instances */
	FZ_BYTES  = 1 << 7,   /* ML_OUT_BYTES */
};

/* Perturbation byte: low nibble what, high nibble which mapping. */
enum {
	PT_NONE, PT_OFF_UP, PT_OFF_DOWN, PT_DROP, PT_EXEC, PT_WRITE,
	PT_START_UP, PT_END_DOWN, PT_INODE, PT_ANON, PT_ODD, PT_NOREAD,
};

#define FZ_MAX_MAPS 160       /* mappings in the made-up maps */
#define FZ_MAX_LOADS 64       /* PT_LOADs the loader layout maps */
#define FZ_MAX_SECS 256       /* elf.c's ELF_MAX_REGION_SECS */
#define FZ_MAX_NAME 256       /* elf.c's ELF_MAX_NAME */

struct fz_map {
	uint64_t start, end, offset;
	unsigned int perms;       /* ML_PERM_READ | WRITE | EXEC */
	enum { M_FILE, M_ANON, M_OTHER, M_HEAP } what;
};

struct fz_layout {
	struct fz_map maps[FZ_MAX_MAPS];
	size_t n;
	uint64_t pgsz;
};

static uint64_t pg_down(uint64_t x, uint64_t pgsz)
{
	return x & ~(pgsz - 1);
}

static uint64_t pg_up(uint64_t x, uint64_t pgsz)
{
	return (x + pgsz - 1) & ~(pgsz - 1);
}

/* Append a mapping if it keeps the layout sorted, non-empty and unwrapped
 * (the parser would reject the whole text otherwise). */
static void add_map(struct fz_layout *l, uint64_t start, uint64_t end,
		    uint64_t offset, unsigned int perms, int what)
{
	if (l->n == FZ_MAX_MAPS || start >= end ||
	    (l->n && start < l->maps[l->n - 1].end))
		return;
	l->maps[l->n++] = (struct fz_map){ start, end, offset, perms, what };
}

static unsigned int phdr_perms(uint32_t flags)
{
	return (flags & PF_R ? ML_PERM_READ : 0) |
	       (flags & PF_W ? ML_PERM_WRITE : 0) |
	       (flags & PF_X ? ML_PERM_EXEC : 0);
}

/* Make [lo, hi) read-only, as ld.so does to PT_GNU_RELRO after
 * relocating: the file mappings it overlaps are split. */
static void relro_split(struct fz_layout *l, uint64_t lo, uint64_t hi)
{
	static struct fz_map old[FZ_MAX_MAPS];
	size_t n = l->n;

	if (lo >= hi)
		return;
	memcpy(old, l->maps, n * sizeof(*old));
	l->n = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fz_map *m = &old[i];
		uint64_t a = m->start > lo ? m->start : lo;
		uint64_t b = m->end < hi ? m->end : hi;

		if (m->what != M_FILE || a >= b) {
			add_map(l, m->start, m->end, m->offset, m->perms, m->what);
			continue;
		}
		add_map(l, m->start, a, m->offset, m->perms, m->what);
		add_map(l, a, b, m->offset + (a - m->start), ML_PERM_READ, M_FILE);
		add_map(l, b, m->end, m->offset + (b - m->start), m->perms, m->what);
	}
}

/* The PT_LOADs of the file as ld.so maps them at bias: the file pages of
 * each, the PROT_NONE rest of the reservation between them, the anonymous
 * pages past the file pages up to p_memsz; then PT_GNU_RELRO made
 * read-only.  Unmappable ones are skipped. */
static void loader_layout(struct fz_layout *l, int fd, uint64_t bias)
{
	uint64_t pgsz = l->pgsz, prev_end = 0, prev_off = 0;
	uint64_t relro_lo = 0, relro_hi = 0;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	size_t n, nloads = 0;

	if (!e)
		return;
	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n && i < 1024 && nloads < FZ_MAX_LOADS; i++) {
		GElf_Phdr ph;
		uint64_t lo, fhi, mhi, off;

		if (!gelf_getphdr(e, (int)i, &ph))
			break;
		if (ph.p_type == PT_GNU_RELRO &&
		    !__builtin_add_overflow(pg_down(ph.p_vaddr, pgsz), bias, &lo) &&
		    !__builtin_add_overflow(pg_down(ph.p_vaddr + ph.p_memsz, pgsz),
					    bias, &mhi)) {
			relro_lo = lo;
			relro_hi = mhi;
		}
		if (ph.p_type != PT_LOAD || ph.p_filesz > ph.p_memsz ||
		    __builtin_add_overflow(pg_down(ph.p_vaddr, pgsz), bias, &lo) ||
		    __builtin_add_overflow(ph.p_vaddr, ph.p_filesz, &fhi) ||
		    __builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &mhi) ||
		    fhi > UINT64_MAX - 2 * pgsz || mhi > UINT64_MAX - 2 * pgsz)
			continue;
		fhi = pg_up(fhi, pgsz);
		mhi = pg_up(mhi, pgsz);
		if (__builtin_add_overflow(fhi, bias, &fhi) ||
		    __builtin_add_overflow(mhi, bias, &mhi))
			continue;
		nloads++;
		off = pg_down(ph.p_offset, pgsz);
		if (prev_end && lo > prev_end)
			add_map(l, prev_end, lo, prev_off, 0, M_FILE);
		if (fhi > lo)
			add_map(l, lo, fhi, off, phdr_perms(ph.p_flags), M_FILE);
		add_map(l, fhi > lo ? fhi : lo, mhi, 0, phdr_perms(ph.p_flags),
			M_ANON);
		prev_end = mhi;
		prev_off = off + (fhi > lo ? fhi - lo : 0);
	}
	elf_end(e);
	relro_split(l, relro_lo, relro_hi);
}

/* r--p at offset 0, r-xp, r--p, rw-p, anonymous rw-p, whatever the file
 * says: sizes in pages from the header byte. */
static void fixed_layout(struct fz_layout *l, uint64_t bias, unsigned int sz)
{
	static const unsigned int perms[] = {
		ML_PERM_READ, ML_PERM_READ | ML_PERM_EXEC, ML_PERM_READ,
		ML_PERM_READ | ML_PERM_WRITE,
	};
	unsigned int pages[] = { 1 + (sz & 3), 1 + (sz >> 2 & 3),
				 1 + (sz >> 4 & 1), 1 + (sz >> 5 & 1) };
	uint64_t a = bias, off = 0;

	for (size_t i = 0; i < ML_ARRAY_SIZE(perms); i++) {
		add_map(l, a, a + pages[i] * l->pgsz, off, perms[i], M_FILE);
		a += pages[i] * l->pgsz;
		off += pages[i] * l->pgsz;
	}
	add_map(l, a, a + (1 + (sz >> 6)) * l->pgsz, 0,
		ML_PERM_READ | ML_PERM_WRITE, M_ANON);
}

/* The mappings [from, l->n) again, moved up past the last one. */
static void repeat(struct fz_layout *l, size_t from)
{
	size_t n = l->n;

	if (n == from)
		return;
	uint64_t delta = pg_up(l->maps[n - 1].end - l->maps[from].start, l->pgsz) +
			 16 * l->pgsz;
	for (size_t i = from; i < n; i++) {
		const struct fz_map *m = &l->maps[i];
		uint64_t s, e;

		if (__builtin_add_overflow(m->start, delta, &s) ||
		    __builtin_add_overflow(m->end, delta, &e))
			return;
		add_map(l, s, e, m->offset, m->perms, m->what);
	}
}

static void perturb(struct fz_layout *l, unsigned int how)
{
	struct fz_map *m;

	if (!l->n || (how & 15) == PT_NONE)
		return;
	m = &l->maps[(how >> 4) % l->n];
	switch (how & 15) {
	case PT_OFF_UP:
		m->offset += l->pgsz;
		break;
	case PT_OFF_DOWN:
		m->offset -= m->offset >= l->pgsz ? l->pgsz : 0;
		break;
	case PT_DROP:
		memmove(m, m + 1, (size_t)(&l->maps[l->n] - (m + 1)) * sizeof(*m));
		l->n--;
		break;
	case PT_EXEC:
		m->perms ^= ML_PERM_EXEC;
		break;
	case PT_WRITE:
		m->perms ^= ML_PERM_WRITE;
		break;
	case PT_START_UP:
		if (m->end - m->start > l->pgsz)
			m->start += l->pgsz;
		break;
	case PT_END_DOWN:
		if (m->end - m->start > l->pgsz)
			m->end -= l->pgsz;
		break;
	case PT_INODE:
		m->what = M_OTHER;
		break;
	case PT_ANON:
		m->what = M_ANON;
		break;
	case PT_ODD:
		if (m->end - m->start > 0x200)
			m->start += 0x200;
		break;
	case PT_NOREAD:
		m->perms &= ~(unsigned int)ML_PERM_READ;
		break;
	}
}

/* The maps text of the layout into buf (NUL-terminated); its length. */
static size_t maps_text(const struct fz_layout *l, const char *path,
			const struct stat *st, char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct fz_map *m = &l->maps[i];
		const char *name = m->what == M_FILE ? path :
				   m->what == M_OTHER ? "/fuzz-elf/other" :
				   m->what == M_HEAP ? "[heap]" : "";
		uint64_t ino = m->what == M_FILE ? (uint64_t)st->st_ino :
			       m->what == M_OTHER ? (uint64_t)st->st_ino + 1 : 0;
		bool file = m->what == M_FILE || m->what == M_OTHER;
		int k = snprintf(buf + len, size - len,
				 "%" PRIx64 "-%" PRIx64 " %c%c%cp %08" PRIx64
				 " %02x:%02x %" PRIu64 " %s\n",
				 m->start, m->end,
				 m->perms & ML_PERM_READ ? 'r' : '-',
				 m->perms & ML_PERM_WRITE ? 'w' : '-',
				 m->perms & ML_PERM_EXEC ? 'x' : '-',
				 file ? m->offset : 0,
				 file ? major(st->st_dev) : 0,
				 file ? minor(st->st_dev) : 0, ino, name);

		if (k < 0 || (size_t)k >= size - len)
			break;
		len += (size_t)k;
	}
	return len;
}

static void set_facts(struct ml_snapshot *snap, unsigned int fl, uint64_t pgsz)
{
	struct ml_proc *p = &snap->proc;

	p->pid = 4242;
	snprintf(p->comm, sizeof(p->comm), "fuzz");
	p->is_32bit = fl & FZ_32BIT;
	p->page_size = pgsz;
	p->mmap_min_addr = 0x10000;
	p->stack_rlimit = 8u << 20;
	p->paging_levels = 4;
	p->user_top = p->is_32bit ? 0xffffe000u : 0x7ffffffff000u;
	p->kernel_start = p->is_32bit ? 0x100000000u : 0xffff800000000000u;
	/* Live /proc, so elf.c may open a mapped file by its path; proc_dir
	 * names nothing, so its map_files/ and root/ are not found and the
	 * path is what is opened. */
	snprintf(snap->proc_root, sizeof(snap->proc_root), "/proc");
	snprintf(snap->proc_dir, sizeof(snap->proc_dir), "/nonexistent/fuzz-elf");
}

static void check_region(const struct ml_region *r)
{
	if ((unsigned int)r->kind >= ML_KIND__COUNT ||
	    r->nsections > FZ_MAX_SECS || (r->nsections && !r->sections) ||
	    (r->nsections && !r->object))
		abort();
	for (size_t i = 0; i < r->nsections; i++) {
		const struct ml_section *s = &r->sections[i];

		if (!s->name || strnlen(s->name, FZ_MAX_NAME + 1) > FZ_MAX_NAME ||
		    s->start >= s->end || s->start < r->start || s->end > r->end ||
		    (i && s->start < r->sections[i - 1].start))
			abort();
		/* elf.c's .bss tail of an anonymous mapping: NOBITS only. */
		if (r->inode == 0 && r->kind == ML_KIND_BSS && !s->nobits)
			abort();
	}
	if (r->object)
		(void)strlen(r->object);
	/* The section holding an address holds it. */
	uint64_t probes[] = { r->start, r->start + (r->end - r->start) / 2, r->end - 1 };
	for (size_t i = 0; i < ML_ARRAY_SIZE(probes); i++) {
		const struct ml_section *s = ml_region_section(r, probes[i]);
		if (s && (probes[i] < s->start || probes[i] >= s->end))
			abort();
	}
}

static void render(const struct ml_snapshot *snap, unsigned int fl)
{
	int all[64];
	size_t ncols;
	unsigned int out = (fl & FZ_BYTES) ? ML_OUT_BYTES : 0;

	ml_columns(&ncols);
	if (ncols > ML_ARRAY_SIZE(all))
		abort();
	for (size_t i = 0; i < ncols; i++)
		all[i] = (int)i;
	const struct ml_table_opts tables[] = {
		{ all, ncols, out },
		{ all, ncols, out | ML_OUT_JSON },
	};
	for (size_t i = 0; i < ML_ARRAY_SIZE(tables); i++)
		ml_render_regions(snap, devnull(), &tables[i]);
	struct ml_diagram_opts d = { .flags = out };
	ml_render_diagram(snap, devnull(), &d);
}

static void fuzz_attribute(const char *text, size_t len, unsigned int fl,
			   uint64_t pgsz)
{
	struct ml_snapshot *snap = calloc(1, sizeof(*snap));
	struct ml_region *before = NULL;
	size_t n;

	if (!snap)
		return;
	set_facts(snap, fl, pgsz);
	if (ml__maps_parse_buffer(snap, text, len, false) < 0)
		abort();   /* fuzz-elf wrote a text the parser refuses */
	n = snap->nregions;
	before = malloc(n * sizeof(*before) + 1);
	if (!before)
		abort();
	memcpy(before, snap->regions, n * sizeof(*before));
	ml__classify_basic(snap);
	int r = ml__elf_attribute(snap);
	if (r != 0 && r != -ENOMEM)
		abort();
	ml__classify_fallback(snap);
	ml__classify_threads(snap);
	if (snap->nregions != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct ml_region *g = &snap->regions[i];

		if (g->start != before[i].start || g->end != before[i].end ||
		    g->offset != before[i].offset || g->inode != before[i].inode ||
		    g->perms != before[i].perms)
			abort();
		check_region(g);
	}
	free(before);
	render(snap, fl);
	ml_snapshot_free(snap);
}

/* The bias the header asks for: 0 (for ET_EXEC) or a page multiple in the
 * range a 32- or 64-bit process's libraries get. */
static uint64_t pick_bias(unsigned int sel, unsigned int fl, uint64_t pgsz)
{
	if (sel == 0)
		return 0;
	if (fl & FZ_32BIT)
		return 0xf7000000u - ((uint64_t)sel << 20) + (sel & 7) * pgsz;
	return 0x7f0000000000u + ((uint64_t)sel << 24) + (sel & 7) * pgsz;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t pgszs[] = { 4096, 16384, 65536, 1024 };
	static struct fz_layout l;
	static char text[FZ_MAX_MAPS * 128];
	char path[64];
	struct stat st;
	int fd;

	if (size < FZ_HDR)
		return 0;
	unsigned int fl = data[0];
	uint64_t pgsz = pgszs[fl & FZ_PAGE];
	uint64_t bias = pick_bias(data[1], fl, pgsz);

	if (elf_version(EV_CURRENT) == EV_NONE)
		abort();
	fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (size_t done = FZ_HDR; done < size; ) {
		ssize_t k = write(fd, data + done, size - done);
		if (k <= 0)
			abort();
		done += (size_t)k;
	}
	if (fstat(fd, &st) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	memset(&l, 0, sizeof(l));
	l.pgsz = pgsz;
	if (fl & FZ_FIXED)
		fixed_layout(&l, bias ? bias : 0x400000, data[4]);
	else
		loader_layout(&l, fd, bias);
	if (fl & FZ_TWICE)
		repeat(&l, 0);
	if (fl & FZ_HEAP && l.n)
		add_map(&l, l.maps[l.n - 1].end, l.maps[l.n - 1].end + 33 * pgsz,
			0, ML_PERM_READ | ML_PERM_WRITE, M_HEAP);
	if (fl & FZ_PLAIN && l.n && l.maps[l.n - 1].end < UINT64_MAX / 2)
		add_map(&l, l.maps[l.n - 1].end + pgsz,
			l.maps[l.n - 1].end + pgsz + pg_up((uint64_t)st.st_size + 1, pgsz),
			0, ML_PERM_READ, M_FILE);
	perturb(&l, data[2]);
	perturb(&l, data[3]);

	size_t len = maps_text(&l, path, &st, text, sizeof(text));
	if (len)
		fuzz_attribute(text, len, fl, pgsz);
	close(fd);
	return 0;
}
