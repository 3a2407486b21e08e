/* mlalloc-reader.c: find and copy the published heap state of another
 * process.  Finding: the maps line named "[anon:mlalloc]" or
 * "/memfd:mlalloc"; failing that, the symbol `mlalloc_introspect_root` in the
 * .dynsym or .symtab of an ELF file mapped by the target (libmlalloc.so, or
 * a program linked with it), relocated by the file's load address.
 * Copying: process_vm_readv of the header and the used part of each table,
 * then the header again and the segment table again: the copy stands when
 * the header's seqlock did not move and each segment record's own seq is
 * even and unchanged; unstable records are read again alone.  Everything
 * read from the target is validated before use (it is untrusted), with
 * bounds written so that no sum or product can wrap.  The same copying
 * and validation run on a memory buffer (struct source with pid 0) for
 * ml__alloc_snapshot_parse(), which the fuzzer drives. */
#include <elf.h>
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mlalloc-reader-internal.h"

#define REGION_MAX ((uint64_t)64 << 20)
#define TRIES 200
#define ROOT_SYMBOL "mlalloc_introspect_root"
/* Header fields up to here are in every version-1 writer; later ones are
 * read only when header_size covers them. */
#define HEADER_MIN offsetof(struct mlalloc_pub_header, class_pages_off)
#define HAS_FIELD(h, f) ((h)->header_size >= offsetof(struct mlalloc_pub_header, f) + sizeof((h)->f))

struct root { char magic[8]; uint64_t version, region, region_size; };

static int peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Where the published bytes come from: the memory of process pid at addr,
 * or (pid 0) the len bytes at buf, for ml__alloc_snapshot_parse().  Reads
 * are by offset from the region start. */
struct source {
	pid_t pid;
	uint64_t addr;
	const uint8_t *buf;
	size_t len;
};

/* Copy n pieces (local[i] <- offset off[i]); 0, -errno, or -EFAULT if not
 * all of it could be read. */
static int src_readv(const struct source *src, const struct iovec *local, const uint64_t *off, unsigned n)
{
	if (src->pid) {
		struct iovec remote[8];
		size_t want = 0;
		for (unsigned i = 0; i < n; i++) {
			remote[i].iov_base = (void *)(uintptr_t)(src->addr + off[i]);
			remote[i].iov_len = local[i].iov_len;
			want += local[i].iov_len;
		}
		ssize_t got = process_vm_readv(src->pid, local, n, remote, n, 0);
		if (got < 0)
			return -errno;
		return (size_t)got == want ? 0 : -EFAULT;
	}
	for (unsigned i = 0; i < n; i++)
		if (off[i] > src->len || local[i].iov_len > src->len - off[i])
			return -EFAULT;
	for (unsigned i = 0; i < n; i++)
		if (local[i].iov_len)
			memcpy(local[i].iov_base, src->buf + off[i], local[i].iov_len);
	return 0;
}

static int src_read(const struct source *src, uint64_t off, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	return src_readv(src, &local, &off, 1);
}

/* Symbol value of name in the ELF file at path (.dynsym, then .symtab), and
 * the lowest PT_LOAD vaddr; 0 or -errno. */
static int elf_symbol(const char *path, const char *name, uint64_t *ret_value, uint64_t *ret_vaddr0)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = -ENOENT;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shnum == 0 || eh.e_shnum > 4096 || eh.e_phentsize != sizeof(Elf64_Phdr))
		goto out;
	uint64_t vaddr0 = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum && i < 256; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			goto out;
		if (ph.p_type == PT_LOAD && ph.p_vaddr < vaddr0)
			vaddr0 = ph.p_vaddr & ~(uint64_t)4095;
	}
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff) != (ssize_t)(eh.e_shnum * sizeof(*sh)))
		goto out;
	size_t nlen = strlen(name);
	for (int pass = 0; pass < 2 && r == -ENOENT; pass++) {
		uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
		for (unsigned i = 0; i < eh.e_shnum && r == -ENOENT; i++) {
			if (sh[i].sh_type != want || sh[i].sh_link >= eh.e_shnum || sh[i].sh_entsize != sizeof(Elf64_Sym))
				continue;
			const Elf64_Shdr *str = &sh[sh[i].sh_link];
			size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
			for (size_t k = 0; k < n && k < 1000000; k++) {
				Elf64_Sym sym;
				char buf[64];
				if (pread(fd, &sym, sizeof(sym), (off_t)(sh[i].sh_offset + k * sizeof(sym))) != sizeof(sym))
					break;
				if (sym.st_name == 0 || sym.st_name >= str->sh_size || sym.st_shndx == SHN_UNDEF)
					continue;
				ssize_t got = pread(fd, buf, nlen + 1, (off_t)(str->sh_offset + sym.st_name));
				if (got == (ssize_t)nlen + 1 && !memcmp(buf, name, nlen) && buf[nlen] == 0) {
					*ret_value = sym.st_value;
					*ret_vaddr0 = eh.e_type == ET_DYN ? vaddr0 : 0;
					r = 0;
					break;
				}
			}
		}
	}
out:
	free(sh);
	close(fd);
	return r;
}

struct maps_line { uint64_t lo, hi, off; char perms[5]; char path[4096]; };

static int parse_line(const char *line, struct maps_line *m)
{
	unsigned long long lo, hi, off;
	int pos = 0;
	if (sscanf(line, "%llx-%llx %4s %llx %*s %*s%n", &lo, &hi, m->perms, &off, &pos) != 4)
		return -1;
	const char *p = line + pos;
	while (*p == ' ')
		p++;
	snprintf(m->path, sizeof(m->path), "%s", p);
	m->path[strcspn(m->path, "\n")] = 0;
	m->lo = lo;
	m->hi = hi;
	m->off = off;
	return 0;
}

static int locate_by_symbol(pid_t pid, FILE *f, uint64_t *ret_addr, uint64_t *ret_size)
{
	char *line = NULL;
	size_t cap = 0;
	struct maps_line m;
	int r = -ENOENT;
	rewind(f);
	while (r == -ENOENT && getline(&line, &cap, f) > 0) {
		if (parse_line(line, &m) < 0 || m.off != 0 || m.path[0] != '/')
			continue;
		uint64_t value = 0, vaddr0 = 0;
		if (elf_symbol(m.path, ROOT_SYMBOL, &value, &vaddr0) < 0)
			continue;
		struct root root;
		if (peek(pid, m.lo - vaddr0 + value, &root, sizeof(root)) < 0)
			continue;
		if (memcmp(root.magic, MLALLOC_PUB_MAGIC, 8) || root.region == 0)
			continue;
		*ret_addr = root.region;
		*ret_size = root.region_size;
		r = 0;
	}
	free(line);
	return r;
}

static int locate(pid_t pid, uint64_t *ret_addr, uint64_t *ret_size, const char **ret_how)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	char *line = NULL;
	size_t cap = 0;
	struct maps_line m;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		if (parse_line(line, &m) < 0)
			continue;
		if (strcmp(m.path, "[anon:mlalloc]") && strncmp(m.path, "/memfd:mlalloc ", 15) && strcmp(m.path, "/memfd:mlalloc"))
			continue;
		char magic[8];
		if (peek(pid, m.lo, magic, 8) == 0 && !memcmp(magic, MLALLOC_PUB_MAGIC, 8)) {
			*ret_addr = m.lo;
			*ret_size = m.hi - m.lo;
			*ret_how = "maps";
			r = 0;
			break;
		}
	}
	free(line);
	if (r == -ENOENT && (r = locate_by_symbol(pid, f, ret_addr, ret_size)) == 0)
		*ret_how = "symbol";
	fclose(f);
	return r;
}

int ml_alloc_locate(pid_t pid, uint64_t *ret_addr, uint64_t *ret_size)
{
	const char *how;
	return locate(pid, ret_addr, ret_size, &how);
}

/* Does a table of n elements of stride bytes at off lie inside [0, size)?
 * (Written so that no sum or product can wrap.) */
static bool fits(uint64_t off, uint64_t n, uint64_t stride, uint64_t size)
{
	return off <= size && (stride == 0 || n <= (size - off) / stride);
}

static int check_header(struct mlalloc_pub_header *h, uint64_t size)
{
	if (memcmp(h->magic, MLALLOC_PUB_MAGIC, 8))
		return -ENOENT;
	if (!HAS_FIELD(h, class_pages_off))
		h->class_pages_off = 0;
	if (h->version != MLALLOC_PUB_VERSION || h->header_size < HEADER_MIN ||
	    h->heap_stride != sizeof(struct mlalloc_pub_heap) || h->seg_stride != sizeof(struct mlalloc_pub_segment) ||
	    h->large_stride != sizeof(struct mlalloc_pub_large) || h->nclasses != MLALLOC_PUB_NCLASSES)
		return -EPROTO;
	if (h->region_size > REGION_MAX || (size && h->region_size > size) ||
	    h->heaps_used > h->heaps_max || h->segs_used > h->segs_max || h->large_used > h->large_max ||
	    !fits(h->classes_off, h->nclasses, 4, h->region_size) ||
	    !fits(h->heaps_off, h->heaps_max, h->heap_stride, h->region_size) ||
	    !fits(h->segs_off, h->segs_max, h->seg_stride, h->region_size) ||
	    !fits(h->large_off, h->large_max, h->large_stride, h->region_size) ||
	    !fits(h->class_pages_off, h->nclasses, 1, h->region_size))
		return -EPROTO;
	return 0;
}

/* Bytes of the tables a snapshot of header h holds, at most. */
static size_t tables_size(const struct mlalloc_pub_header *h)
{
	return h->nclasses * 4 + h->heaps_max * sizeof(struct mlalloc_pub_heap) +
	       h->segs_max * sizeof(struct mlalloc_pub_segment) + h->large_max * sizeof(struct mlalloc_pub_large) +
	       h->nclasses;
}

/* One try: fills snap's tables (cap bytes at tables); -EAGAIN if the
 * writer moved meanwhile. */
static int copy_once(const struct source *src, struct ml_alloc_snapshot *s, uint8_t *tables, size_t cap)
{
	struct mlalloc_pub_header h, h2;
	int r = src_read(src, 0, &h, sizeof(h));
	if (r < 0)
		return r;
	if ((r = check_header(&h, src->len)) < 0)
		return r;
	if (h.seq & 1)
		return -EAGAIN;
	/* The writer may have grown its tables since the first look: the
	 * copy must still fit the room allocated for it. */
	if (tables_size(&h) > cap)
		return -EPROTO;
	size_t lc = h.nclasses * 4, lh = h.heaps_used * sizeof(struct mlalloc_pub_heap);
	size_t ls = h.segs_used * sizeof(struct mlalloc_pub_segment), ll = h.large_used * sizeof(struct mlalloc_pub_large);
	size_t lp = h.class_pages_off ? h.nclasses : 0;
	uint8_t *pages = tables + lc + lh + ls + ll;
	struct iovec local[5] = { { tables, lc }, { tables + lc, lh }, { tables + lc + lh, ls }, { tables + lc + lh + ls, ll },
	                          { pages, lp } };
	uint64_t off[5] = { h.classes_off, h.heaps_off, h.segs_off, h.large_off, h.class_pages_off };
	if ((r = src_readv(src, local, off, 5)) < 0)
		return r;
	if ((r = src_read(src, 0, &h2, sizeof(h2))) < 0)
		return r;
	if (h2.seq != h.seq)
		return -EAGAIN;
	s->header = h;
	s->class_size = (const uint32_t *)tables;
	s->heaps = (const void *)(tables + lc);
	s->nheaps = h.heaps_used;
	s->segs = (const void *)(tables + lc + lh);
	s->nsegs = h.segs_used;
	s->large = (const void *)(tables + lc + lh + ls);
	s->nlarge = h.large_used;
	s->class_pages = lp ? pages : NULL;
	/* Each segment record: seq even, and the same when read again (a
	 * buffer does not change: an odd seq there is final). */
	struct mlalloc_pub_segment *segs = (struct mlalloc_pub_segment *)(tables + lc + lh);
	for (size_t i = 0; i < s->nsegs; i++) {
		uint64_t at = h.segs_off + i * sizeof(*segs), seq2;
		for (int t = 0;; t++) {
			if ((r = src_read(src, at, &seq2, sizeof(seq2))) < 0)
				return r;
			if (!(segs[i].seq & 1) && seq2 == segs[i].seq)
				break;
			if (t == TRIES || !src->pid)
				return -EAGAIN;
			sched_yield();
			if ((r = src_read(src, at, &segs[i], sizeof(segs[i]))) < 0)
				return r;
		}
	}
	return 0;
}

/* A snapshot with room for the tables of header h, or NULL. */
static struct ml_alloc_snapshot *snapshot_new(const struct source *src, size_t *ret_cap, int *ret_err)
{
	struct mlalloc_pub_header h;
	int r = src_read(src, 0, &h, sizeof(h));
	if (r == 0)
		r = check_header(&h, src->len);
	if (r < 0) {
		*ret_err = r;
		return NULL;
	}
	*ret_cap = tables_size(&h);
	struct ml_alloc_snapshot *s = calloc(1, sizeof(*s) + *ret_cap);
	if (!s)
		*ret_err = -ENOMEM;
	return s;
}

int ml_alloc_snapshot_read(pid_t pid, struct ml_alloc_snapshot **ret_snap)
{
	uint64_t addr, size;
	const char *how;
	int r = locate(pid, &addr, &size, &how);
	if (r < 0)
		return r;
	struct source src = { pid, addr, NULL, size };
	size_t cap;
	struct ml_alloc_snapshot *s = snapshot_new(&src, &cap, &r);
	if (!s)
		return r;
	/* A writer that churns without pause can keep moving the seqlock:
	 * yield at first, then back off (50 us doubling to 10 ms, about 2 s in
	 * all) so the copy lands between its updates. */
	for (int t = 0; t < TRIES; t++) {
		r = copy_once(&src, s, (uint8_t *)(s + 1), cap);
		if (r != -EAGAIN)
			break;
		if (t < 20) {
			sched_yield();
		} else {
			long us = 50L << (t - 20 < 8 ? t - 20 : 8);
			struct timespec ts = { 0, (us > 10000 ? 10000 : us) * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (r < 0) {
		free(s);
		return r;
	}
	s->region_addr = addr;
	s->found_by = how;
	*ret_snap = s;
	return 0;
}

int ml__alloc_snapshot_parse(const void *buf, size_t len, struct ml_alloc_snapshot **ret_snap)
{
	struct source src = { 0, 0, buf, len };
	size_t cap;
	int r;

	if (!buf || !len)
		return -ENOENT;
	struct ml_alloc_snapshot *s = snapshot_new(&src, &cap, &r);
	if (!s)
		return r;
	if ((r = copy_once(&src, s, (uint8_t *)(s + 1), cap)) < 0) {
		free(s);
		return r;
	}
	s->found_by = "buffer";
	*ret_snap = s;
	return 0;
}

void ml_alloc_snapshot_free(struct ml_alloc_snapshot *snap) { free(snap); }

uint64_t ml_alloc_snapshot_live(const struct ml_alloc_snapshot *snap, unsigned cls)
{
	if (cls >= snap->header.nclasses)
		return 0;
	uint64_t m = 0, f = 0;
	for (size_t i = 0; i < snap->nheaps; i++) {
		m += snap->heaps[i].nmalloc[cls];
		f += snap->heaps[i].nfree[cls];
	}
	return m - f;
}

uint64_t ml_alloc_snapshot_live_bytes(const struct ml_alloc_snapshot *snap)
{
	uint64_t total = 0;
	for (unsigned c = 0; c < snap->header.nclasses; c++)
		total += ml_alloc_snapshot_live(snap, c) * snap->class_size[c];
	return total;
}
