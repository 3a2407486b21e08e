/* SPDX-License-Identifier: MIT */
/*
 * fuzz-insn.c - libFuzzer target for the decoding of the faulting
 * instruction (lib/insn.c's ml_insn_decode(), Zydis), whose bytes and
 * registers the crashed process controls, for x86-64 and i386 targets.
 *
 * Input: byte 0 holds flags (FZ_32BIT: an i386 target); byte 1 the number
 * of code bytes n (cut to what follows); then the n code bytes; then the
 * registers, 8 bytes little-endian each, in the order of enum fz_reg
 * (missing bytes are 0; an i386 target keeps the low 32 bits).  They are
 * laid out as the kernel's NT_PRSTATUS would give them (x86-64 or i386
 * user_regs_struct), pc and sp copied to struct ml_regs as ml_regs_get()
 * does.
 *
 * The oracle is independent of the decoder: a table of known encodings
 * (checked with objdump -D -b binary -mi386:x86-64 -M intel), whose
 * length, access and address (from the input's registers) every input
 * that begins with one must give, and the properties any x86 decoding
 * has.  Each input is decoded by ml_insn_decode() from an exact-size copy
 * and checked:
 *  - it returns 0, -ENOEXEC or -ENOMEM; -ENOTSUP (no Zydis) aborts at
 *    once with a message: bootstrap installs libzydis-dev, so a missing
 *    Zydis is a broken test environment, not a pass;
 *  - on 0: text is NUL-terminated in its array; size is 1..15 and no more
 *    than n; access is unknown, read or write (exec is not an operand's);
 *    without has_mem, access, ea_known, ea and align are all zero; align
 *    is 0 or a power of two up to 64 (crash.c divides by it); an i386
 *    address fits 32 bits; a branch target is known only for a call or
 *    jmp;
 *  - x86 encodings are prefix-free: the same bytes cut to the size decode
 *    to the very same result, and one byte shorter do not decode;
 *  - an input that begins with a known encoding decodes to its length,
 *    access and address (bytes after it change nothing).
 * A failed check calls abort(), which libFuzzer reports as a crash.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-insn' on corpus-insn/.
 */
#include "ml-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

enum {
	FZ_32BIT = 1 << 0,   /* an i386 target */
};

/* The registers of the input, in its order. */
enum fz_reg {
	F_PC, F_SP, F_AX, F_BX, F_CX, F_DX, F_SI, F_DI, F_BP,
	F_R8, F_R9, F_R10, F_R11, F_R12, F_R13, F_R14, F_R15,
	F_FS_BASE, F_GS_BASE, F_NREGS
};

/* The kernel's i386 user_regs_struct (NT_PRSTATUS of a 32-bit tracee);
 * <sys/user.h> on x86-64 has only the 64-bit one. */
struct i386_regs {
	uint32_t ebx, ecx, edx, esi, edi, ebp, eax, xds, xes, xfs, xgs;
	uint32_t orig_eax, eip, xcs, eflags, esp, xss;
};

static void make_regs(const uint64_t *v, bool is_32bit, struct ml_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->is_32bit = is_32bit;
	r->pc = v[F_PC];
	r->sp = v[F_SP];
	if (is_32bit) {
		struct i386_regs u = {
			.ebx = (uint32_t)v[F_BX], .ecx = (uint32_t)v[F_CX],
			.edx = (uint32_t)v[F_DX], .esi = (uint32_t)v[F_SI],
			.edi = (uint32_t)v[F_DI], .ebp = (uint32_t)v[F_BP],
			.eax = (uint32_t)v[F_AX], .eip = (uint32_t)v[F_PC],
			.esp = (uint32_t)v[F_SP], .xcs = 0x23, .xss = 0x2b,
			.xds = 0x2b, .xes = 0x2b, .xgs = 0x63,
		};
		memcpy(r->raw, &u, sizeof(u));
		r->len = sizeof(u);
	} else {
		struct user_regs_struct u = {
			.rip = v[F_PC], .rsp = v[F_SP], .rax = v[F_AX],
			.rbx = v[F_BX], .rcx = v[F_CX], .rdx = v[F_DX],
			.rsi = v[F_SI], .rdi = v[F_DI], .rbp = v[F_BP],
			.r8 = v[F_R8], .r9 = v[F_R9], .r10 = v[F_R10],
			.r11 = v[F_R11], .r12 = v[F_R12], .r13 = v[F_R13],
			.r14 = v[F_R14], .r15 = v[F_R15],
			.fs_base = v[F_FS_BASE], .gs_base = v[F_GS_BASE],
			.cs = 0x33, .ss = 0x2b,
		};
		memcpy(r->raw, &u, sizeof(u));
		r->len = sizeof(u);
	}
}

static const char no_zydis[] =
	"fuzz-insn: Zydis (" ML_ZYDIS_SONAME ") cannot be loaded: the decoder "
	"is not tested; install libzydis-dev (bootstrap does)\n";

/* A known encoding: the address is reg + disp (reg F_NREGS: none; the
 * stack ones at sp + disp). */
static const struct known {
	bool is_32bit;
	unsigned char code[15];
	unsigned int size;
	bool has_mem;
	enum ml_access access;
	enum fz_reg reg;
	int64_t disp;
} knowns[] = {
	/* vmovdqu8 zmmword ptr [rax]{k1}, zmm0: a masked store writes */
	{ false, { 0x62, 0xf1, 0x7f, 0x49, 0x7f, 0x00 }, 6, true, ML_ACCESS_WRITE, F_AX, 0 },
	/* vpcmpb k0, zmm16, zmmword ptr [rdi], 0 (glibc's strlen-evex) */
	{ false, { 0x62, 0xb3, 0x7d, 0x40, 0x3f, 0x07, 0x00 }, 7, true, ML_ACCESS_READ, F_DI, 0 },
	/* vmovdqu64 zmm16, zmmword ptr [rdi] */
	{ false, { 0x62, 0xe1, 0xfe, 0x48, 0x6f, 0x07 }, 6, true, ML_ACCESS_READ, F_DI, 0 },
	/* vmovdqu64 zmmword ptr [rdi], zmm16 */
	{ false, { 0x62, 0xe1, 0xfe, 0x48, 0x7f, 0x07 }, 6, true, ML_ACCESS_WRITE, F_DI, 0 },
	/* mov rax, qword ptr [rax] */
	{ false, { 0x48, 0x8b, 0x00 }, 3, true, ML_ACCESS_READ, F_AX, 0 },
	/* mov dword ptr [rsp+8], eax */
	{ false, { 0x89, 0x44, 0x24, 0x08 }, 4, true, ML_ACCESS_WRITE, F_SP, 8 },
	/* movaps xmmword ptr [rax], xmm0 */
	{ false, { 0x0f, 0x29, 0x00 }, 3, true, ML_ACCESS_WRITE, F_AX, 0 },
	/* rep stosb */
	{ false, { 0xf3, 0xaa }, 2, true, ML_ACCESS_WRITE, F_DI, 0 },
	/* push rax; pop rbx; ret */
	{ false, { 0x50 }, 1, true, ML_ACCESS_WRITE, F_SP, -8 },
	{ false, { 0x5b }, 1, true, ML_ACCESS_READ, F_SP, 0 },
	{ false, { 0xc3 }, 1, true, ML_ACCESS_READ, F_SP, 0 },
	/* lea rax, [rax+rcx]: no access */
	{ false, { 0x48, 0x8d, 0x04, 0x08 }, 4, false, ML_ACCESS_UNKNOWN, F_NREGS, 0 },
	/* i386: mov eax, dword ptr [eax]; push eax; the masked store */
	{ true, { 0x8b, 0x00 }, 2, true, ML_ACCESS_READ, F_AX, 0 },
	{ true, { 0x50 }, 1, true, ML_ACCESS_WRITE, F_SP, -4 },
	{ true, { 0x62, 0xf1, 0x7f, 0x49, 0x7f, 0x00 }, 6, true, ML_ACCESS_WRITE, F_AX, 0 },
};

static void check_known(const unsigned char *code, size_t n, const uint64_t *v,
			bool is_32bit, int r, const struct ml_insn *o)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(knowns); i++) {
		const struct known *k = &knowns[i];
		if (k->is_32bit != is_32bit || n < k->size || memcmp(code, k->code, k->size))
			continue;
		if (r != 0 || o->size != k->size || o->has_mem != k->has_mem ||
		    o->access != k->access)
			abort();
		if (k->reg == F_NREGS)
			return;
		uint64_t ea = v[k->reg] + (uint64_t)k->disp;
		if (is_32bit)
			ea = (uint32_t)ea;
		if (!o->ea_known || o->ea != ea)
			abort();
		return;
	}
}

static void check_result(const uint64_t *v, bool is_32bit, size_t n, const struct ml_insn *o)
{
	if (!memchr(o->text, '\0', sizeof(o->text)))
		abort();
	if (o->size < 1 || o->size > 15 || o->size > n)
		abort();
	if (o->access != ML_ACCESS_UNKNOWN && o->access != ML_ACCESS_READ &&
	    o->access != ML_ACCESS_WRITE)
		abort();
	if (!o->has_mem && (o->access || o->ea_known || o->ea || o->align))
		abort();
	if (o->align & (o->align - 1) || o->align > 64)
		abort();
	if (is_32bit && (o->ea > UINT32_MAX || o->target > UINT32_MAX))
		abort();
	if (o->target_known && o->branch != ML_BRANCH_CALL && o->branch != ML_BRANCH_JMP)
		abort();
	(void)v;
}

static bool same(const struct ml_insn *a, const struct ml_insn *b)
{
	return !strcmp(a->text, b->text) && a->size == b->size && a->has_mem == b->has_mem &&
	       a->access == b->access && a->ea_known == b->ea_known && a->ea == b->ea &&
	       a->align == b->align && a->branch == b->branch &&
	       a->target_known == b->target_known && a->target == b->target;
}

/* Prefix-free: the bytes cut to the size give the same decoding, one
 * byte fewer none. */
static void check_length(const unsigned char *code, const struct ml_regs *regs,
			 const struct ml_insn *o)
{
	unsigned char *cut = malloc(o->size);
	struct ml_insn again;

	if (!cut)
		return;
	memcpy(cut, code, o->size);
	memset(&again, 0x5a, sizeof(again));
	if (ml_insn_decode(cut, o->size, regs, &again) != 0 || !same(&again, o))
		abort();
	if (ml_insn_decode(cut, o->size - 1, regs, &again) != -ENOEXEC)
		abort();
	free(cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t v[F_NREGS] = { 0 };
	struct ml_regs regs;
	struct ml_insn o;

	if (size < 2)
		return 0;
	bool is_32bit = data[0] & FZ_32BIT;
	size_t n = data[1] < size - 2 ? data[1] : size - 2;
	const uint8_t *rest = data + 2 + n;
	size_t nrest = size - 2 - n;

	for (size_t i = 0; i < F_NREGS; i++) {
		unsigned char b[8] = { 0 };
		if (nrest > i * 8)
			memcpy(b, rest + i * 8, nrest - i * 8 < 8 ? nrest - i * 8 : 8);
		for (int k = 7; k >= 0; k--)
			v[i] = v[i] << 8 | b[k];
		if (is_32bit)
			v[i] = (uint32_t)v[i];
	}
	make_regs(v, is_32bit, &regs);

	/* Exact size, so ASan sees a read past it (by insn.c; Zydis is not
	 * instrumented).  malloc(0) may return NULL: one spare byte. */
	unsigned char *code = malloc(n ? n : 1);
	if (!code)
		return 0;
	memcpy(code, data + 2, n);
	memset(&o, 0xa5, sizeof(o));
	int r = ml_insn_decode(code, n, &regs, &o);
	if (r == -ENOTSUP) {
		fputs(no_zydis, stderr);
		abort();
	}
	if (r != 0 && r != -ENOEXEC && r != -ENOMEM)
		abort();
	check_known(code, n, v, is_32bit, r, &o);
	if (r == 0) {
		check_result(v, is_32bit, n, &o);
		check_length(code, &regs, &o);
	}
	free(code);
	return 0;
}
