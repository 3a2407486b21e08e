/* SPDX-License-Identifier: MIT */
/*
 * test-symbols.c - symbols.c on a real process: sym-target (built -O0 -g
 * by the suite) runs as a child, its snapshot gives a symbolizer, and
 * each answer is checked against ground truth this test gets elsewhere:
 * symbol addresses and sizes from binutils' `nm -S`, source lines from
 * `addr2line`, section bounds and the first PT_LOAD from the ELF headers
 * read here with <elf.h>, the load bias from the child's maps.  Names,
 * offsets in the symbol and the section, the table, file:line, and an
 * address no object holds.
 *
 * usage: test-symbols SYM-TARGET
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ml-private.h"
#include "kernel-probe.h"

static const char *target;
static char target_real[4096];
static pid_t child;
static FILE *child_in;
static struct ml_snapshot *snap;
static struct ml_symbolizer *sz;
static uint64_t bias;

struct nm_sym { char name[128]; uint64_t value, size; char type; };
static struct nm_sym syms[4096];
static size_t nsyms;

/* `nm -S --defined-only` of the target: "VALUE SIZE TYPE NAME". */
static void read_nm(void)
{
	char cmd[4200], buf[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s'", target);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (nsyms < 4096 && fgets(buf, sizeof(buf), p)) {
		struct nm_sym *s = &syms[nsyms];
		if (sscanf(buf, "%" SCNx64 " %" SCNx64 " %c %127s", &s->value, &s->size,
			   &s->type, s->name) == 4)
			nsyms++;
	}
	assert_int_equal(pclose(p), 0);
}

static const struct nm_sym *nm(const char *name)
{
	for (size_t i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, name))
			return &syms[i];
	fail_msg("nm does not list %s", name);
	return NULL;
}

/* The ELF headers of the target, read here. */
static unsigned char *elf;
static size_t elf_len;

static void read_elf(void)
{
	FILE *f = fopen(target, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	elf_len = (size_t)ftell(f);
	rewind(f);
	elf = malloc(elf_len);
	assert_non_null(elf);
	assert_int_equal(fread(elf, 1, elf_len, f), elf_len);
	fclose(f);
	assert_true(elf_len > sizeof(Elf64_Ehdr) && elf[EI_CLASS] == ELFCLASS64);
}

static const Elf64_Shdr *section(const char *name)
{
	const Elf64_Ehdr *eh = (const void *)elf;
	const Elf64_Shdr *sh = (const void *)(elf + eh->e_shoff);
	const char *names = (const char *)elf + sh[eh->e_shstrndx].sh_offset;

	for (unsigned int i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, name))
			return &sh[i];
	fail_msg("no section %s", name);
	return NULL;
}

static uint64_t first_load_vaddr(void)
{
	const Elf64_Ehdr *eh = (const void *)elf;
	const Elf64_Phdr *ph = (const void *)(elf + eh->e_phoff);

	for (unsigned int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			return ph[i].p_vaddr & ~(uint64_t)0xfff;
	fail_msg("no PT_LOAD");
	return 0;
}

/* The load bias: the start of the mapping of file offset 0, less the
 * first PT_LOAD's page. */
static uint64_t maps_bias(void)
{
	char path[64], buf[4600], name[4200];
	uint64_t start, end, off, found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)child);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %4199s",
			   &start, &end, &off, name) == 4 &&
		    !strcmp(name, target_real) && off == 0 && !found)
			found = start;
	fclose(f);
	assert_true(found != 0);
	return found - first_load_vaddr();
}

static int setup(void **state)
{
	int in[2], out[2];
	char buf[64];

	(void)state;
	if (!realpath(target, target_real))
		return -1;
	read_nm();
	read_elf();
	if (pipe(in) || pipe(out))
		return -1;
	child = fork();
	if (child == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(target, target, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	child_in = fdopen(in[1], "w");
	ssize_t n = read(out[0], buf, sizeof(buf) - 1);
	close(out[0]);
	if (n <= 0 || strncmp(buf, "ready", 5))
		return -1;
	if (ml_snapshot_take(child, NULL, &snap))
		return -1;
	bias = maps_bias();
	return 0;
}

static int teardown(void **state)
{
	int st;

	(void)state;
	ml_symbolizer_free(sz);
	ml_snapshot_free(snap);
	fclose(child_in);
	waitpid(child, &st, 0);
	free(elf);
	return 0;
}

static struct ml_symbolizer *symbolizer(void)
{
	if (!sz) {
		int err = ml_symbolizer_new(snap, &sz);
		if (err == -ENOTSUP)
			skip_because("libdw is not installed");
		assert_int_equal(err, 0);
	}
	return sz;
}

/* addr through the symbolizer, against nm's symbol name holding it. */
static void check_symbol(const char *name, uint64_t off, const char *sec)
{
	const struct nm_sym *s = nm(name);
	const Elf64_Shdr *sh = section(sec);
	uint64_t addr = bias + s->value + off;
	struct ml_symbol got;

	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(ml_symbolize(symbolizer(), addr, 0, &got), 0);
	if (!got.name || strcmp(got.name, name))
		fail_msg("0x%" PRIx64 " (%s+0x%" PRIx64 "): symbol %s", addr, name, off,
			 got.name ? got.name : "(none)");
	assert_true(got.sym_addr == bias + s->value);
	assert_true(got.sym_size == s->size);
	assert_true(got.offset == off);
	assert_true(got.sym_sized);
	assert_string_equal(got.table, ".symtab");
	assert_true(got.bias == bias);
	assert_string_equal(got.module, target_real);
	assert_non_null(got.section);
	assert_string_equal(got.section, sec);
	assert_true(got.section_offset == s->value + off - sh->sh_addr);
}

static void test_symbols(void **state)
{
	(void)state;
	const struct nm_sym *a = nm("ml_sym_alpha");

	check_symbol("ml_sym_alpha", 0, ".text");
	check_symbol("ml_sym_alpha", a->size / 2, ".text");
	check_symbol("ml_sym_alpha", a->size - 1, ".text");
	check_symbol("ml_sym_beta", 1, ".text");
	check_symbol("main", 4, ".text");
	check_symbol("ml_sym_data", 0, ".data");
	check_symbol("ml_sym_data", 4 * 63, ".data");
	check_symbol("ml_sym_bss", 100, ".bss");
	check_symbol("ml_sym_rodata", 47, ".rodata");
}

/* Every symbol nm lists with a size in .text, at its first and last byte. */
static void test_every_function(void **state)
{
	(void)state;
	const Elf64_Shdr *text = section(".text");
	size_t checked = 0;

	for (size_t i = 0; i < nsyms; i++) {
		const struct nm_sym *s = &syms[i];
		struct ml_symbol got;
		if ((s->type != 'T' && s->type != 't') || !s->size ||
		    s->value < text->sh_addr || s->value >= text->sh_addr + text->sh_size)
			continue;
		for (uint64_t off = 0; off < s->size; off += s->size - 1 ? s->size - 1 : 1) {
			assert_int_equal(ml_symbolize(symbolizer(), bias + s->value + off, 0, &got), 0);
			assert_non_null(got.name);
			/* an alias at the same address and size is the same symbol */
			const struct nm_sym *g = nm(got.name);
			if (g->value != s->value || g->size != s->size)
				fail_msg("%s+0x%" PRIx64 ": symbolized as %s", s->name, off, got.name);
			assert_true(got.offset == off);
			checked++;
		}
	}
	assert_true(checked >= 6);
}

/* `addr2line -e TARGET VADDR`: "FILE:LINE" (" (discriminator N)" cut). */
static int addr2line(uint64_t vaddr, char *file, size_t len)
{
	char cmd[4300], buf[4200];
	FILE *p;
	int line = 0;

	snprintf(cmd, sizeof(cmd), "addr2line -e '%s' 0x%" PRIx64, target, vaddr);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(buf, sizeof(buf), p));
	pclose(p);
	char *colon = strrchr(buf, ':');
	assert_non_null(colon);
	*colon = 0;
	line = atoi(colon + 1);
	snprintf(file, len, "%s", buf);
	return line;
}

static void test_lines(void **state)
{
	(void)state;
	const struct nm_sym *a = nm("ml_sym_alpha"), *b = nm("ml_sym_beta");
	const struct nm_sym *fn[] = { a, b };
	size_t checked = 0, lines_seen = 0;
	int last = -1;

	for (size_t k = 0; k < 2; k++)
		for (uint64_t off = 0; off < fn[k]->size; off += 3) {
			char want_file[4200];
			int want = addr2line(fn[k]->value + off, want_file, sizeof(want_file));
			struct ml_symbol got;

			assert_int_equal(ml_symbolize(symbolizer(), bias + fn[k]->value + off,
						      ML_SYM_LINES, &got), 0);
			assert_true(got.has_dwarf);
			assert_non_null(got.file);
			const char *base = strrchr(want_file, '/');
			base = base ? base + 1 : want_file;
			assert_string_equal(base, "sym-target.c");
			if (strlen(got.file) < strlen(base) ||
			    strcmp(got.file + strlen(got.file) - strlen(base), base))
				fail_msg("%s+0x%" PRIx64 ": file %s", fn[k]->name, off, got.file);
			assert_true(got.file[0] == '/');
			if (got.line != want)
				fail_msg("%s+0x%" PRIx64 ": line %d, addr2line says %d",
					 fn[k]->name, off, got.line, want);
			if (want != last)
				lines_seen++;
			last = want;
			checked++;
		}
	assert_true(checked > 10 && lines_seen >= 4);
}

static void test_no_object(void **state)
{
	(void)state;
	struct ml_symbol got;
	const struct ml_region *r = NULL;
	size_t n;
	const struct ml_region *regs = ml_snapshot_regions(snap, &n);

	for (size_t i = 0; i < n && !r; i++)
		if (!strcmp(regs[i].name, "[stack]"))
			r = &regs[i];
	assert_non_null(r);
	memset(&got, 0x11, sizeof(got));
	assert_int_equal(ml_symbolize(symbolizer(), r->start + 8, 0, &got), -ENOENT);
	assert_int_equal(ml_symbolize(symbolizer(), 0x10, ML_SYM_LINES, &got), -ENOENT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_every_function),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_no_object),
	};
	if (argc != 2) {
		fprintf(stderr, "usage: test-symbols SYM-TARGET\n");
		return 2;
	}
	target = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
