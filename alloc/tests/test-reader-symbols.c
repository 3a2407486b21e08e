/* SPDX-License-Identifier: MIT */
/*
 * test-reader-symbols.c - the reader's search of a mapped ELF file for
 * mlalloc_introspect_root (mla__alloc_elf_symbol) on hostile files built
 * here in a memfd: a .dynsym of 200,000 data objects whose names are
 * decoys and the real one last (found: the search reads the string table
 * in blocks and compares no name one read at a time); the same with no
 * real one (not found); a string table that holds the name more than 64
 * times (-E2BIG naming "copies of the symbol's name"); a string table
 * whose size runs past the file and far past the bound (-E2BIG naming
 * "string table bytes", or not found: never a read past the file taken
 * for names); a symbol whose st_name points past the string table (not
 * found).  Also counts the file's reads: a table of 200,000 symbols costs
 * a few dozen preads, not one per symbol.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mlalloc-reader-internal.h"

#define NAME "mlalloc_introspect_root"
#define NSYMS 200000u

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* An ELF64 ET_DYN file: header, one PT_LOAD, sections null, .dynsym,
 * .dynstr.  strtab (strsize bytes, strsize_claimed in its header) and
 * syms are the caller's; returns a memfd. */
static int make_elf(const char *strtab, size_t strsize, uint64_t strsize_claimed,
		    const Elf64_Sym *syms, size_t nsyms)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	Elf64_Shdr sh[3] = { { 0 } };
	size_t off_ph = sizeof(eh), off_sh = off_ph + sizeof(ph);
	size_t off_str = off_sh + sizeof(sh), off_sym = off_str + strsize;
	int fd = memfd_create("reader-symbols", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = off_ph;
	eh.e_shoff = off_sh;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R;
	ph.p_memsz = ph.p_filesz = 4096;
	sh[1] = (Elf64_Shdr){ .sh_type = SHT_DYNSYM, .sh_offset = off_sym, .sh_link = 2,
		.sh_size = nsyms * sizeof(Elf64_Sym), .sh_entsize = sizeof(Elf64_Sym) };
	sh[2] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = off_str,
		.sh_size = strsize_claimed };
	if (pwrite(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    pwrite(fd, &ph, sizeof(ph), (off_t)off_ph) != sizeof(ph) ||
	    pwrite(fd, sh, sizeof(sh), (off_t)off_sh) != sizeof(sh) ||
	    pwrite(fd, strtab, strsize, (off_t)off_str) != (ssize_t)strsize ||
	    pwrite(fd, syms, nsyms * sizeof(*syms), (off_t)off_sym) != (ssize_t)(nsyms * sizeof(*syms))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* NSYMS data objects named decoy names (the real name with its last
 * letter changed, one string each), and, if real, the real name last. */
static int decoys(bool real)
{
	size_t dlen = sizeof(NAME), strsize = 1 + NSYMS * dlen + dlen;
	char *str = calloc(1, strsize);
	Elf64_Sym *syms = calloc(NSYMS + 1, sizeof(*syms));
	int fd = -1;

	if (!str || !syms)
		goto out;
	for (size_t i = 0; i < NSYMS; i++) {
		char *p = str + 1 + i * dlen;
		memcpy(p, NAME, dlen);
		p[dlen - 2] = (char)('a' + i % 16);   /* ...roo[a-p]: never "root" */
		syms[i] = (Elf64_Sym){ .st_name = (uint32_t)(1 + i * dlen),
			.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_shndx = 1,
			.st_value = 0x1000 + i };
	}
	memcpy(str + 1 + NSYMS * dlen, real ? NAME : "mlalloc_introspect_rooz", dlen);
	syms[NSYMS] = (Elf64_Sym){ .st_name = (uint32_t)(1 + NSYMS * dlen),
		.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_shndx = 1,
		.st_value = 0x424242 };
	fd = make_elf(str, strsize, strsize, syms, NSYMS + 1);
out:
	free(str);
	free(syms);
	return fd;
}

static long reads_of(pid_t pid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "syscr: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void test_decoys(void)
{
	struct mla_alloc_bound b = { NULL, 0, 0 };
	uint64_t value = 0, vaddr0 = 1;
	int fd = decoys(true);

	CHECK(fd >= 0, "memfd");
	long before = reads_of(getpid());
	int r = mla__alloc_elf_symbol(fd, NAME, &value, &vaddr0, &b);
	long after = reads_of(getpid());
	CHECK(r == 0, "the real name after %u decoys: %d (%s %llu > %llu)", NSYMS, r,
	      b.what ? b.what : "-", (unsigned long long)b.value, (unsigned long long)b.limit);
	CHECK(value == 0x424242, "its value: %#llx", (unsigned long long)value);
	CHECK(vaddr0 == 0, "lowest PT_LOAD of ET_DYN: %#llx", (unsigned long long)vaddr0);
	if (before >= 0 && after >= 0)   /* (/proc/PID/io needs ptrace access) */
		CHECK(after - before < 200, "%ld reads for %u symbols", after - before, NSYMS + 1);
	close(fd);

	fd = decoys(false);
	r = mla__alloc_elf_symbol(fd, NAME, &value, &vaddr0, &b);
	CHECK(r == -ENOENT, "decoys only: %d, want -ENOENT", r);
	close(fd);
}

static void test_many_copies(void)
{
	char str[1 + 100 * sizeof(NAME)];
	Elf64_Sym sym = { .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_shndx = 1 };
	struct mla_alloc_bound b = { NULL, 0, 0 };
	uint64_t value, vaddr0;

	str[0] = '\0';
	for (size_t i = 0; i < 100; i++)
		memcpy(str + 1 + i * sizeof(NAME), NAME, sizeof(NAME));
	int fd = make_elf(str, sizeof(str), sizeof(str), &sym, 1);
	CHECK(fd >= 0, "memfd");
	int r = mla__alloc_elf_symbol(fd, NAME, &value, &vaddr0, &b);
	CHECK(r == -E2BIG && b.what && !strcmp(b.what, "copies of the symbol's name") &&
	      b.value > b.limit, "100 copies of the name: %d %s", r, b.what ? b.what : "-");
	close(fd);
}

static void test_strtab_past_file(void)
{
	char str[1 + sizeof(NAME)] = "";
	Elf64_Sym sym = { .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_shndx = 1 };
	struct mla_alloc_bound b = { NULL, 0, 0 };
	uint64_t value, vaddr0;

	memcpy(str + 1, NAME, sizeof(NAME));
	/* A string table that claims 2^40 bytes, the file ending after the
	 * name: the names the file holds, read once. */
	int fd = make_elf(str, sizeof(str), 1ull << 40, &sym, 1);
	CHECK(fd >= 0, "memfd");
	int r = mla__alloc_elf_symbol(fd, NAME, &value, &vaddr0, &b);
	CHECK(r == 0, "a 1 TiB string table in a small file: %d %s", r, b.what ? b.what : "-");
	close(fd);

	/* 100 MiB of string table (a sparse file) without the name: the
	 * bound on string bytes, named. */
	str[1] = 'x';
	fd = make_elf(str, sizeof(str), 100u << 20, &sym, 1);
	CHECK(fd >= 0 && ftruncate(fd, 101 << 20) == 0, "memfd");
	r = mla__alloc_elf_symbol(fd, NAME, &value, &vaddr0, &b);
	CHECK(r == -E2BIG && b.what && !strcmp(b.what, "string table bytes") && b.value > b.limit,
	      "a 100 MiB string table: %d %s", r, b.what ? b.what : "-");
	close(fd);
	str[1] = NAME[0];

	/* A symbol named past the string table's end. */
	sym.st_name = 4096;
	fd = make_elf(str, sizeof(str), sizeof(str), &sym, 1);
	r = mla__alloc_elf_symbol(fd, NAME, &value, &vaddr0, &b);
	CHECK(r == -ENOENT, "st_name past the strings: %d", r);
	close(fd);
}

int main(void)
{
	test_decoys();
	test_many_copies();
	test_strtab_past_file();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("reader symbol search: all checks passed\n");
	return 0;
}
