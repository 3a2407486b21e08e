/* SPDX-License-Identifier: MIT */
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
 * mla__alloc_snapshot_parse(), which the fuzzer drives.
 *
 * Never is a path taken from the target's maps opened as such: a mapped
 * file is reached through /proc/PID/map_files/START-END (the mapping
 * itself; root or CAP_CHECKPOINT_RESTORE), else by its name with no
 * symlink followed (openat2 RESOLVE_NO_SYMLINKS, or O_NOFOLLOW), never for
 * a " (deleted)" name; first as O_PATH (which opens nothing: no FIFO
 * waits, no device driver runs), then reopened for reading only if fstat
 * shows the regular file maps names (device and inode).
 *
 * Bounds (mlalloc-reader.h, memlayout-heap(1)): the retries of a torn or
 * moving state share one deadline (MLA_ALLOC_READ_MS, monotonic clock); the
 * tables' capacities are capped (MLA_ALLOC_MAX_HEAPS/SEGS/LARGE), which
 * bounds every allocation and every loop over them; the symbol search
 * reads a string table 1 MiB a pread for the places that hold the name
 * (at most 64), then the symbols 4096 a pread for one named there: at
 * most MLA_ALLOC_MAX_STRTAB string bytes and MLA_ALLOC_MAX_SYMS symbols
 * over all files, within MLA_ALLOC_FIND_MS.  A bound hit is an error that says which
 * (struct mla_alloc_bound), never a silent truncation. */
#include <elf.h>
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mlalloc-reader-internal.h"

#define REGION_MAX ((uint64_t)64 << 20)
#define SYM_CHUNK 4096          /* symbols per pread: 96 KiB */
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

/* ---- bounds ---- */

static struct timespec deadline_in(unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Has the deadline d passed?  (NULL: there is none.) */
static bool past(const struct timespec *d)
{
	struct timespec now;
	if (!d)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* Record which bound was hit in *b (if any); returns err. */
static int hit(struct mla_alloc_bound *b, int err, const char *what, uint64_t value, uint64_t limit)
{
	if (b)
		*b = (struct mla_alloc_bound){ what, value, limit };
	return err;
}

/* What the symbol search may still do: one deadline and two counters for
 * all the files of one search. */
struct budget {
	const struct timespec *deadline;   /* NULL: none (the fuzzer) */
	uint64_t syms, strbytes;           /* symbols scanned, string bytes read */
	struct mla_alloc_bound *bound;
};

/* Where the published bytes come from: the memory of process pid at addr,
 * or (pid 0) the len bytes at buf, for mla__alloc_snapshot_parse().  Reads
 * are by offset from the region start.  deadline bounds the retries (NULL
 * for a buffer, which never changes); moved records whether any seq was
 * seen to change (a state kept changing) or not (it stayed torn). */
struct source {
	pid_t pid;
	uint64_t addr;
	const uint8_t *buf;
	size_t len;
	const struct timespec *deadline;
	bool moved;
	uint64_t last_seq;
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

/* ---- the ELF symbol search ---- */

static bool pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	return off <= INT64_MAX && pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* The places the string table str holds name (its bytes and the NUL: a
 * linker may share a longer name's tail, so anywhere, not only after a
 * NUL), read STR_BLOCK bytes a pread, consecutive blocks overlapping by
 * the name's length.  At most MAX_NAME_AT of them, sorted.  Their count,
 * or -E2BIG/-ETIME/-ENOMEM (a bound named in b). */
#define STR_BLOCK ((size_t)1 << 20)
#define MAX_NAME_AT 64
static int name_places(int fd, const Elf64_Shdr *str, const char *name, struct budget *b,
		       uint64_t at[MAX_NAME_AT])
{
	size_t nlen = strlen(name) + 1, n = 0;
	char *buf;
	int r = 0;

	if (nlen > STR_BLOCK / 2 || str->sh_size < nlen)
		return 0;
	if (!(buf = malloc(STR_BLOCK)))
		return -ENOMEM;
	for (uint64_t off = 0; off + nlen <= str->sh_size && r == 0; off += STR_BLOCK - (nlen - 1)) {
		size_t want = str->sh_size - off < STR_BLOCK ? (size_t)(str->sh_size - off) : STR_BLOCK;
		if (b->strbytes + want > MLA_ALLOC_MAX_STRTAB) {
			r = hit(b->bound, -E2BIG, "string table bytes", b->strbytes + want, MLA_ALLOC_MAX_STRTAB);
			break;
		}
		if (past(b->deadline)) {
			r = hit(b->bound, -ETIME, "ms searching", MLA_ALLOC_FIND_MS, MLA_ALLOC_FIND_MS);
			break;
		}
		ssize_t got = str->sh_offset > INT64_MAX - off ? -1 :
			      pread(fd, buf, want, (off_t)(str->sh_offset + off));
		if (got <= 0)
			break;   /* past the file's end: no more names */
		b->strbytes += want;
		if ((size_t)got < want)
			want = (size_t)got;   /* the table runs past the file: its last names */
		for (const char *p = buf; (p = memmem(p, want - (size_t)(p - buf), name, nlen)); p++) {
			uint64_t o = off + (uint64_t)(p - buf);
			if (n && at[n - 1] >= o)
				continue;   /* seen at the end of the previous block */
			if (n == MAX_NAME_AT) {
				r = hit(b->bound, -E2BIG, "copies of the symbol's name", n + 1, MAX_NAME_AT);
				break;
			}
			at[n++] = o;
		}
		if (want < STR_BLOCK)
			break;
	}
	free(buf);
	return r < 0 ? r : (int)n;
}

/* Is sym a defined data object whose name starts at one of at[0..n)? */
static bool sym_named(const Elf64_Sym *sym, const uint64_t *at, size_t n)
{
	if (sym->st_name == 0 || sym->st_shndx == SHN_UNDEF ||
	    ELF64_ST_TYPE(sym->st_info) != STT_OBJECT)
		return false;
	for (size_t i = 0; i < n; i++)
		if (at[i] == sym->st_name)
			return true;
	return false;
}

/* Search one symbol table (section symtab, strings str): the places of
 * name in str first (name_places: no read per symbol), then the symbols
 * SYM_CHUNK per pread for one that starts at such a place; a table whose
 * strings never hold name is not read at all.  1 found (*ret_value), 0
 * not, -E2BIG/-ETIME/-ENOMEM. */
static int table_search(int fd, const Elf64_Shdr *symtab, const Elf64_Shdr *str, const char *name,
			struct budget *b, uint64_t *ret_value)
{
	uint64_t n = symtab->sh_size / sizeof(Elf64_Sym), at[MAX_NAME_AT];
	int nat = name_places(fd, str, name, b, at);
	Elf64_Sym *chunk;
	int r = 0;

	if (nat <= 0)
		return nat;
	if (!(chunk = malloc(SYM_CHUNK * sizeof(*chunk))))
		return -ENOMEM;
	for (uint64_t k = 0; k < n && r == 0;) {
		size_t want = n - k < SYM_CHUNK ? (size_t)(n - k) : SYM_CHUNK;
		if (b->syms + want > MLA_ALLOC_MAX_SYMS) {
			r = hit(b->bound, -E2BIG, "symbols scanned", b->syms + want, MLA_ALLOC_MAX_SYMS);
			break;
		}
		if (past(b->deadline)) {
			r = hit(b->bound, -ETIME, "ms searching", MLA_ALLOC_FIND_MS, MLA_ALLOC_FIND_MS);
			break;
		}
		if (!pread_all(fd, chunk, want * sizeof(*chunk), symtab->sh_offset + k * sizeof(*chunk)))
			break;
		b->syms += want;
		for (size_t i = 0; i < want && r == 0; i++)
			if (sym_named(&chunk[i], at, (size_t)nat)) {
				*ret_value = chunk[i].st_value;
				r = 1;
			}
		k += want;
	}
	free(chunk);
	return r;
}

/* The lowest PT_LOAD page of the file (UINT64_MAX if none); false if the
 * program headers cannot be read. */
static bool lowest_load(int fd, const Elf64_Ehdr *eh, uint64_t *ret_vaddr0)
{
	unsigned n = eh->e_phnum < 256 ? eh->e_phnum : 256;
	Elf64_Phdr ph[256];

	if (!pread_all(fd, ph, n * sizeof(ph[0]), eh->e_phoff))
		return false;
	*ret_vaddr0 = UINT64_MAX;
	for (unsigned i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < *ret_vaddr0)
			*ret_vaddr0 = ph[i].p_vaddr & ~(uint64_t)4095;
	return true;
}

/* Symbol value of name in the ELF file open at fd (.dynsym, then .symtab),
 * and the lowest PT_LOAD vaddr; 0, -ENOENT, or a bound's error. */
static int elf_symbol(int fd, const char *name, struct budget *b, uint64_t *ret_value, uint64_t *ret_vaddr0)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	uint64_t vaddr0, value = 0;
	int r = -ENOENT;

	if (!pread_all(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shnum == 0 || eh.e_shnum > 4096 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !lowest_load(fd, &eh, &vaddr0))
		return -ENOENT;
	if (!(sh = calloc(eh.e_shnum, sizeof(*sh))))
		return -ENOMEM;
	if (!pread_all(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff))
		goto out;
	for (int pass = 0; pass < 2 && r == -ENOENT; pass++) {
		uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
		for (unsigned i = 0; i < eh.e_shnum && r == -ENOENT; i++) {
			if (sh[i].sh_type != want || sh[i].sh_link >= eh.e_shnum ||
			    sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[sh[i].sh_link].sh_type != SHT_STRTAB)
				continue;
			int k = table_search(fd, &sh[i], &sh[sh[i].sh_link], name, b, &value);
			r = k == 1 ? 0 : k < 0 ? k : -ENOENT;
		}
	}
	if (r == 0) {
		*ret_value = value;
		*ret_vaddr0 = eh.e_type == ET_DYN ? vaddr0 : 0;
	}
out:
	free(sh);
	return r;
}

int mla__alloc_elf_symbol(int fd, const char *name, uint64_t *ret_value, uint64_t *ret_vaddr0,
			 struct mla_alloc_bound *ret_bound)
{
	struct budget b = { NULL, 0, 0, ret_bound };
	return elf_symbol(fd, name, &b, ret_value, ret_vaddr0);
}

/* ---- the target's maps, and opening what they name ---- */

struct maps_line {
	uint64_t lo, hi, off, inode;
	unsigned dev_major, dev_minor;
	char perms[5];
	char path[4096];
};

static int parse_line(const char *line, struct maps_line *m)
{
	unsigned long long lo, hi, off, ino;
	int pos = 0;
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &lo, &hi, m->perms, &off,
		   &m->dev_major, &m->dev_minor, &ino, &pos) != 7)
		return -1;
	const char *p = line + pos;
	while (*p == ' ')
		p++;
	snprintf(m->path, sizeof(m->path), "%s", p);
	m->path[strcspn(m->path, "\n")] = 0;
	m->lo = lo;
	m->hi = hi;
	m->off = off;
	m->inode = ino;
	return 0;
}

/* Is st the regular file maps line m names?  The device must match unless
 * one side is an anonymous device number (major 0: overlayfs and btrfs
 * report another one), as in lib/elf.c. */
static bool same_file(const struct stat *st, const struct maps_line *m)
{
	bool dev_ok = m->dev_major == 0 || major(st->st_dev) == 0 ||
		      (major(st->st_dev) == m->dev_major && minor(st->st_dev) == m->dev_minor);
	return S_ISREG(st->st_mode) && (uint64_t)st->st_ino == m->inode && dev_ok;
}

/* An O_PATH descriptor of path, following no symlink anywhere in it
 * (openat2 RESOLVE_NO_SYMLINKS; before Linux 5.6, O_NOFOLLOW: the last
 * component only). */
static int open_path_nofollow(const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))   /* EPERM: a seccomp filter */
		fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* A read-only descriptor of the file maps line m maps, reached through
 * path (follow: through a magic link, map_files), or -1.  The O_PATH open
 * has no side effect; the file is opened for reading only once fstat says
 * it is the one mapped, and checked again after. */
static int open_checked(const char *path, bool follow, const struct maps_line *m)
{
	int pfd = follow ? open(path, O_PATH | O_CLOEXEC) : open_path_nofollow(path);
	int fd = -1;
	struct stat st;
	char self[64];

	if (pfd < 0)
		return -1;
	if (fstat(pfd, &st) == 0 && same_file(&st, m)) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !same_file(&st, m))) {
			close(fd);
			fd = -1;
		}
	}
	close(pfd);
	return fd;
}

static bool is_deleted(const char *path)
{
	size_t n = strlen(path), k = strlen(" (deleted)");
	return n >= k && !strcmp(path + n - k, " (deleted)");
}

/* The file mapped by m in process pid: through map_files, else (refused:
 * an ordinary user) by name, never a deleted one's; -1 if neither. */
static int open_mapped(pid_t pid, const struct maps_line *m)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->lo, (unsigned long long)m->hi);
	if ((fd = open_checked(path, true, m)) >= 0 || m->path[0] != '/' || is_deleted(m->path))
		return fd;
	return open_checked(m->path, false, m);
}

static int locate_by_symbol(pid_t pid, FILE *f, uint64_t *ret_addr, uint64_t *ret_size,
			    struct mla_alloc_bound *bound)
{
	struct timespec deadline = deadline_in(MLA_ALLOC_FIND_MS);
	struct budget b = { &deadline, 0, 0, bound };
	uint64_t last_dev = 0, last_ino = 0;
	char *line = NULL;
	size_t cap = 0;
	struct maps_line m;
	int r = -ENOENT;

	rewind(f);
	while (r == -ENOENT && getline(&line, &cap, f) > 0) {
		if (parse_line(line, &m) < 0 || m.off != 0 || m.path[0] != '/' || m.inode == 0)
			continue;
		if (past(&deadline)) {
			r = hit(bound, -ETIME, "ms searching", MLA_ALLOC_FIND_MS, MLA_ALLOC_FIND_MS);
			break;
		}
		uint64_t dev = (uint64_t)m.dev_major << 32 | m.dev_minor;
		if (dev == last_dev && m.inode == last_ino)   /* the same file again */
			continue;
		last_dev = dev;
		last_ino = m.inode;
		int fd = open_mapped(pid, &m);
		if (fd < 0)
			continue;
		uint64_t value = 0, vaddr0 = 0;
		int k = elf_symbol(fd, ROOT_SYMBOL, &b, &value, &vaddr0);
		close(fd);
		if (k == -ENOENT)
			continue;
		if (k < 0) {
			r = k;
			break;
		}
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

static int locate(pid_t pid, uint64_t *ret_addr, uint64_t *ret_size, const char **ret_how,
		  struct mla_alloc_bound *bound)
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
	if (r == -ENOENT && (r = locate_by_symbol(pid, f, ret_addr, ret_size, bound)) == 0)
		*ret_how = "symbol";
	fclose(f);
	return r;
}

/* ---- copying ---- */

/* Does a table of n elements of stride bytes at off lie inside [0, size)?
 * (Written so that no sum or product can wrap.) */
static bool fits(uint64_t off, uint64_t n, uint64_t stride, uint64_t size)
{
	return off <= size && (stride == 0 || n <= (size - off) / stride);
}

/* The capacities against their caps: 0 or -E2BIG (*b says which). */
static int check_caps(const struct mlalloc_pub_header *h, struct mla_alloc_bound *b)
{
	if (h->heaps_max > MLA_ALLOC_MAX_HEAPS)
		return hit(b, -E2BIG, "heap slots", h->heaps_max, MLA_ALLOC_MAX_HEAPS);
	if (h->segs_max > MLA_ALLOC_MAX_SEGS)
		return hit(b, -E2BIG, "segment records", h->segs_max, MLA_ALLOC_MAX_SEGS);
	if (h->large_max > MLA_ALLOC_MAX_LARGE)
		return hit(b, -E2BIG, "large-block records", h->large_max, MLA_ALLOC_MAX_LARGE);
	return 0;
}

static int check_header(struct mlalloc_pub_header *h, uint64_t size, struct mla_alloc_bound *b)
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
	    h->heaps_used > h->heaps_max || h->segs_used > h->segs_max || h->large_used > h->large_max)
		return -EPROTO;
	int r = check_caps(h, b);
	if (r < 0)
		return r;
	if (!fits(h->classes_off, h->nclasses, 4, h->region_size) ||
	    !fits(h->heaps_off, h->heaps_max, h->heap_stride, h->region_size) ||
	    !fits(h->segs_off, h->segs_max, h->seg_stride, h->region_size) ||
	    !fits(h->large_off, h->large_max, h->large_stride, h->region_size) ||
	    !fits(h->class_pages_off, h->nclasses, 1, h->region_size))
		return -EPROTO;
	return 0;
}

/* Bytes of the tables a snapshot of header h holds, at most (the caps
 * keep it under 4 MiB). */
static size_t tables_size(const struct mlalloc_pub_header *h)
{
	return h->nclasses * 4 + h->heaps_max * sizeof(struct mlalloc_pub_heap) +
	       h->segs_max * sizeof(struct mlalloc_pub_segment) + h->large_max * sizeof(struct mlalloc_pub_large) +
	       h->nclasses;
}

/* Each segment record: seq even, and the same when read again (a buffer
 * does not change: an odd seq there is final); an unstable record is read
 * again alone until the deadline.  0 or -EAGAIN, -errno. */
static int settle_segments(struct source *src, const struct mlalloc_pub_header *h,
			   struct mlalloc_pub_segment *segs, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		uint64_t at = h->segs_off + i * sizeof(*segs), seq2;
		for (;;) {
			if ((r = src_read(src, at, &seq2, sizeof(seq2))) < 0)
				return r;
			if (!(segs[i].seq & 1) && seq2 == segs[i].seq)
				break;
			src->moved |= seq2 != segs[i].seq;
			if (!src->pid || past(src->deadline))
				return -EAGAIN;
			sched_yield();
			if ((r = src_read(src, at, &segs[i], sizeof(segs[i]))) < 0)
				return r;
		}
	}
	return 0;
}

/* One try: fills snap's tables (cap bytes at tables); -EAGAIN if the
 * writer moved meanwhile. */
static int copy_once(struct source *src, struct mla_alloc_snapshot *s, uint8_t *tables, size_t cap,
		     struct mla_alloc_bound *b)
{
	struct mlalloc_pub_header h, h2;
	int r = src_read(src, 0, &h, sizeof(h));
	if (r < 0)
		return r;
	if ((r = check_header(&h, src->len, b)) < 0)
		return r;
	if (src->last_seq != h.seq)
		src->moved |= src->last_seq != UINT64_MAX;
	src->last_seq = h.seq;
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
	if (h2.seq != h.seq) {
		src->moved = true;
		return -EAGAIN;
	}
	s->header = h;
	s->class_size = (const uint32_t *)tables;
	s->heaps = (const void *)(tables + lc);
	s->nheaps = h.heaps_used;
	s->segs = (const void *)(tables + lc + lh);
	s->nsegs = h.segs_used;
	s->large = (const void *)(tables + lc + lh + ls);
	s->nlarge = h.large_used;
	s->class_pages = lp ? pages : NULL;
	return settle_segments(src, &h, (struct mlalloc_pub_segment *)(tables + lc + lh), s->nsegs);
}

/* A snapshot with room for the tables of header h, or NULL. */
static struct mla_alloc_snapshot *snapshot_new(const struct source *src, size_t *ret_cap, int *ret_err,
					      struct mla_alloc_bound *b)
{
	struct mlalloc_pub_header h;
	int r = src_read(src, 0, &h, sizeof(h));
	if (r == 0)
		r = check_header(&h, src->len, b);
	if (r < 0) {
		*ret_err = r;
		return NULL;
	}
	*ret_cap = tables_size(&h);
	struct mla_alloc_snapshot *s = calloc(1, sizeof(*s) + *ret_cap);
	if (!s)
		*ret_err = -ENOMEM;
	return s;
}

/* Wait before try t+1: yield at first, then sleep 50 us doubling to 10 ms,
 * so the copy lands between the updates of a writer that churns. */
static void back_off(unsigned t)
{
	if (t < 20) {
		sched_yield();
		return;
	}
	long us = 50L << (t - 20 < 8 ? t - 20 : 8);
	struct timespec ts = { 0, (us > 10000 ? 10000 : us) * 1000 };
	nanosleep(&ts, NULL);
}

int mla_alloc_snapshot_read_bounded(pid_t pid, struct mla_alloc_snapshot **ret_snap,
				   struct mla_alloc_bound *ret_bound)
{
	uint64_t addr, size;
	const char *how;
	int r = locate(pid, &addr, &size, &how, ret_bound);
	if (r < 0)
		return r;
	struct timespec deadline = deadline_in(MLA_ALLOC_READ_MS);
	struct source src = { pid, addr, NULL, size, &deadline, false, UINT64_MAX };
	size_t cap;
	struct mla_alloc_snapshot *s = snapshot_new(&src, &cap, &r, ret_bound);
	if (!s)
		return r;
	/* All tries share one deadline, the re-reads of segments too. */
	for (unsigned t = 0;; t++) {
		r = copy_once(&src, s, (uint8_t *)(s + 1), cap, ret_bound);
		if (r != -EAGAIN || past(&deadline))
			break;
		back_off(t);
	}
	if (r == -EAGAIN)
		hit(ret_bound, r, src.moved ? "ms changing" : "ms torn", MLA_ALLOC_READ_MS, MLA_ALLOC_READ_MS);
	if (r < 0) {
		free(s);
		return r;
	}
	s->region_addr = addr;
	s->found_by = how;
	*ret_snap = s;
	return 0;
}

int mla_alloc_snapshot_read(pid_t pid, struct mla_alloc_snapshot **ret_snap)
{
	return mla_alloc_snapshot_read_bounded(pid, ret_snap, NULL);
}

int mla__alloc_snapshot_parse(const void *buf, size_t len, struct mla_alloc_snapshot **ret_snap,
			     struct mla_alloc_bound *ret_bound)
{
	struct source src = { 0, 0, buf, len, NULL, false, UINT64_MAX };
	size_t cap;
	int r;

	if (!buf || !len)
		return -ENOENT;
	struct mla_alloc_snapshot *s = snapshot_new(&src, &cap, &r, ret_bound);
	if (!s)
		return r;
	if ((r = copy_once(&src, s, (uint8_t *)(s + 1), cap, ret_bound)) < 0) {
		free(s);
		return r;
	}
	s->found_by = "buffer";
	*ret_snap = s;
	return 0;
}

void mla_alloc_snapshot_free(struct mla_alloc_snapshot *snap) { free(snap); }

uint64_t mla_alloc_snapshot_live(const struct mla_alloc_snapshot *snap, unsigned cls)
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

uint64_t mla_alloc_snapshot_live_bytes(const struct mla_alloc_snapshot *snap)
{
	uint64_t total = 0;
	for (unsigned c = 0; c < snap->header.nclasses; c++)
		total += mla_alloc_snapshot_live(snap, c) * snap->class_size[c];
	return total;
}
