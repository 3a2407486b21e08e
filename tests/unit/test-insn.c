/* SPDX-License-Identifier: MIT */
/*
 * test-insn.c - the decoder of the faulting instruction (insn.c) on a
 * table of known encodings, each checked against objdump -D -b binary
 * -mi386:x86-64 (or -mi386) -M intel: its length, read or write, the
 * effective address from fixed registers, alignment, branch target and
 * text.  The EVEX (AVX-512) rows are what glibc's string functions run on
 * a current CPU: masked stores are writes, compares against memory are
 * reads at the right address.  Built twice: once as the library is, once
 * with insn.c told to load a Zydis that does not exist (-ENOTSUP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/user.h>

#include "ml-private.h"

#if defined(__x86_64__)

/* The kernel's i386 user_regs_struct (NT_PRSTATUS of a 32-bit tracee). */
struct i386_regs {
	uint32_t ebx, ecx, edx, esi, edi, ebp, eax, xds, xes, xfs, xgs;
	uint32_t orig_eax, eip, xcs, eflags, esp, xss;
};

#define PC 0x401000ull
#define PC32 0x8049000ull

static struct ml_regs regs64(void)
{
	struct user_regs_struct u = {
		.rip = PC, .rsp = 0x7ffc0000, .rax = 0x1000, .rcx = 0x10,
		.rdi = 0x7000, .rsi = 0x6000, .rbx = 0xdead0000,
		.fs_base = 0x7f0000000000, .gs_base = 0x7e0000000000,
	};
	struct ml_regs r = { .pc = u.rip, .sp = u.rsp, .len = sizeof(u) };

	memcpy(r.raw, &u, sizeof(u));
	return r;
}

static inline struct ml_regs regs32(void)
{
	struct i386_regs u = {
		.eip = PC32, .esp = 0xffd00000, .eax = 0x1000, .ecx = 0x10,
		.edi = 0x7000, .esi = 0x6000, .ebx = 0xdead0000,
	};
	struct ml_regs r = { .pc = u.eip, .sp = u.esp, .len = sizeof(u), .is_32bit = true };

	memcpy(r.raw, &u, sizeof(u));
	return r;
}

static const struct row {
	const char *what;
	bool is_32bit;
	unsigned char code[15];
	size_t n;                /* bytes given to the decoder */
	unsigned int size;       /* 0: not an instruction (-ENOEXEC) */
	bool has_mem;
	enum ml_access access;
	bool ea_known;
	uint64_t ea;
	unsigned int align;
	enum ml_branch branch;
	bool target_known;
	uint64_t target;
	const char *text;        /* a part of the text */
} rows[] = {
	/* AVX-512, as glibc's strlen-evex, memset-evex, memmove-evex. */
	{ "vmovdqu8 zmmword ptr [rax]{k1}, zmm0 (masked store)", false,
	  { 0x62, 0xf1, 0x7f, 0x49, 0x7f, 0x00 }, 6, 6, true, ML_ACCESS_WRITE, true, 0x1000,
	  .text = "vmovdqu8" },
	{ "vmovdqu64 zmmword ptr [rdi]{k1}, zmm0 (masked store)", false,
	  { 0x62, 0xf1, 0xfe, 0x49, 0x7f, 0x07 }, 6, 6, true, ML_ACCESS_WRITE, true, 0x7000,
	  .text = "{k1}" },
	{ "vmovdqu64 zmmword ptr [rdi], zmm16", false,
	  { 0x62, 0xe1, 0xfe, 0x48, 0x7f, 0x07 }, 6, 6, true, ML_ACCESS_WRITE, true, 0x7000,
	  .text = "zmm16" },
	{ "vmovdqu64 zmm16, zmmword ptr [rdi]", false,
	  { 0x62, 0xe1, 0xfe, 0x48, 0x6f, 0x07 }, 6, 6, true, ML_ACCESS_READ, true, 0x7000,
	  .text = "vmovdqu64" },
	{ "vpcmpb k0, zmm16, zmmword ptr [rdi], 0 (objdump: vpcmpeqb)", false,
	  { 0x62, 0xb3, 0x7d, 0x40, 0x3f, 0x07, 0x00 }, 7, 7, true, ML_ACCESS_READ, true, 0x7000,
	  .text = "[rdi]" },
	{ "vpcmpeqb k0, zmm0, zmmword ptr [rdi]", false,
	  { 0x62, 0xf1, 0x7d, 0x48, 0x74, 0x07 }, 6, 6, true, ML_ACCESS_READ, true, 0x7000,
	  .text = "vpcmpeqb" },
	{ "vmovdqu32 ymmword ptr [rdi], ymm16 (EVEX.256)", false,
	  { 0x62, 0xe1, 0x7e, 0x28, 0x7f, 0x07 }, 6, 6, true, ML_ACCESS_WRITE, true, 0x7000 },
	{ "vpgatherdd zmm0{k1}, [rax+zmm2*4] (VSIB: address unknown)", false,
	  { 0x62, 0xf2, 0x7d, 0x49, 0x90, 0x04, 0x90 }, 7, 7, true, ML_ACCESS_READ, false, 0 },
	{ "vpgatherdd ymm0, [rax+ymm2*4], ymm1 (VEX VSIB)", false,
	  { 0xc4, 0xe2, 0x75, 0x90, 0x04, 0x90 }, 6, 6, true, ML_ACCESS_READ, false, 0 },
	/* Legacy encodings: what capstone gave, Zydis gives. */
	{ "mov rax, qword ptr [rax]", false, { 0x48, 0x8b, 0x00 }, 3, 3, true, ML_ACCESS_READ,
	  true, 0x1000, .text = "mov rax, qword ptr [rax]" },
	{ "mov dword ptr [rax+0x18], 1", false, { 0xc7, 0x40, 0x18, 1, 0, 0, 0 }, 7, 7, true,
	  ML_ACCESS_WRITE, true, 0x1018, .text = "mov dword ptr [rax+0x18], 0x1" },
	{ "mov dword ptr [rsp+8], eax", false, { 0x89, 0x44, 0x24, 0x08 }, 4, 4, true,
	  ML_ACCESS_WRITE, true, 0x7ffc0008 },
	{ "mov rax, qword ptr fs:[0x28]", false,
	  { 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00 }, 9, 9, true, ML_ACCESS_READ,
	  true, 0x7f0000000028, .text = "fs:" },
	{ "mov rax, qword ptr [rip+0x10]", false, { 0x48, 0x8b, 0x05, 0x10, 0, 0, 0 }, 7, 7,
	  true, ML_ACCESS_READ, true, PC + 7 + 0x10, .text = "[0x401017]" },
	{ "mov eax, dword ptr [eax-0x10] (0x67: 32-bit address)", false,
	  { 0x67, 0x8b, 0x40, 0xf0 }, 4, 4, true, ML_ACCESS_READ, true, 0x1000 - 0x10 },
	{ "mov rax, [rbx+rcx*8+0x20]", false, { 0x48, 0x8b, 0x44, 0xcb, 0x20 }, 5, 5, true,
	  ML_ACCESS_READ, true, 0xdead0000 + 0x10 * 8 + 0x20 },
	{ "rep stosb byte ptr [rdi], al (a hidden operand)", false, { 0xf3, 0xaa }, 2, 2, true,
	  ML_ACCESS_WRITE, true, 0x7000, .text = "stos" },
	{ "movsb: the first operand, [rdi], written", false, { 0xa4 }, 1, 1, true,
	  ML_ACCESS_WRITE, true, 0x7000 },
	{ "movaps xmmword ptr [rax], xmm0 (16-byte aligned)", false, { 0x0f, 0x29, 0x00 }, 3, 3,
	  true, ML_ACCESS_WRITE, true, 0x1000, 16 },
	{ "vmovdqa64 zmmword ptr [rdi], zmm16 (64-byte aligned)", false,
	  { 0x62, 0xe1, 0xfd, 0x48, 0x7f, 0x07 }, 6, 6, true, ML_ACCESS_WRITE, true, 0x7000, 64 },
	{ "push rax", false, { 0x50 }, 1, 1, true, ML_ACCESS_WRITE, true, 0x7ffc0000 - 8 },
	{ "push ax (0x66: 2 bytes)", false, { 0x66, 0x50 }, 2, 2, true, ML_ACCESS_WRITE, true,
	  0x7ffc0000 - 2 },
	{ "pop rbx", false, { 0x5b }, 1, 1, true, ML_ACCESS_READ, true, 0x7ffc0000 },
	{ "ret", false, { 0xc3 }, 1, 1, true, ML_ACCESS_READ, true, 0x7ffc0000,
	  .branch = ML_BRANCH_RET },
	{ "call rax", false, { 0xff, 0xd0 }, 2, 2, true, ML_ACCESS_WRITE, true, 0x7ffc0000 - 8,
	  .branch = ML_BRANCH_CALL, .target_known = true, .target = 0x1000 },
	{ "call rel32", false, { 0xe8, 0x10, 0, 0, 0 }, 5, 5, true, ML_ACCESS_WRITE, true,
	  0x7ffc0000 - 8, .branch = ML_BRANCH_CALL, .target_known = true, .target = PC + 0x15 },
	{ "call qword ptr [rax+8] (the operand read)", false, { 0xff, 0x50, 0x08 }, 3, 3, true,
	  ML_ACCESS_READ, true, 0x1008, .branch = ML_BRANCH_CALL },
	{ "jmp rcx", false, { 0xff, 0xe1 }, 2, 2, .branch = ML_BRANCH_JMP, .target_known = true,
	  .target = 0x10 },
	{ "lea rax, [rax+rcx]: no access", false, { 0x48, 0x8d, 0x04, 0x08 }, 4, 4 },
	{ "nop dword ptr [rax]: no access", false, { 0x0f, 0x1f, 0x00 }, 3, 3 },
	{ "mov rax, [rax] cut short", false, { 0x48, 0x8b }, 2, 0 },
	{ "EVEX cut short", false, { 0x62, 0xf1, 0x7f, 0x49, 0x7f }, 5, 0 },
	{ "ud-like garbage: 0f 0b is ud2 (decodes, no memory)", false, { 0x0f, 0x0b }, 2, 2 },
	/* i386 */
	{ "i386 mov eax, dword ptr [eax]", true, { 0x8b, 0x00 }, 2, 2, true, ML_ACCESS_READ,
	  true, 0x1000 },
	{ "i386 push eax", true, { 0x50 }, 1, 1, true, ML_ACCESS_WRITE, true, 0xffd00000 - 4 },
	{ "i386 vmovdqu8 zmmword ptr [eax]{k1}, zmm0", true,
	  { 0x62, 0xf1, 0x7f, 0x49, 0x7f, 0x00 }, 6, 6, true, ML_ACCESS_WRITE, true, 0x1000 },
	{ "i386 mov eax, gs:[0x14] (segment base unknown)", true,
	  { 0x65, 0xa1, 0x14, 0, 0, 0 }, 6, 6, true, ML_ACCESS_READ, false, 0 },
	{ "i386 call rel32 wraps at 4 GiB", true, { 0xe8, 0x00, 0x00, 0x00, 0x80 }, 5, 5, true,
	  ML_ACCESS_WRITE, true, 0xffd00000 - 4, .branch = ML_BRANCH_CALL, .target_known = true,
	  .target = (PC32 + 5 + 0x80000000) & 0xffffffff, .text = "call 0x88049005" },
};

#ifndef ML__ZYDIS_DLOPEN_NAME
static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *t = &rows[i];
		struct ml_regs r = t->is_32bit ? regs32() : regs64();
		struct ml_insn o;

		print_message("%s\n", t->what);
		memset(&o, 0xa5, sizeof(o));
		int rc = ml_insn_decode(t->code, t->n, &r, &o);
		if (!t->size) {
			assert_int_equal(rc, -ENOEXEC);
			continue;
		}
		assert_int_equal(rc, 0);
		print_message("  -> %s\n", o.text);
		assert_int_equal(o.size, t->size);
		assert_int_equal(o.has_mem, t->has_mem);
		assert_int_equal(o.access, t->access);
		assert_int_equal(o.ea_known, t->ea_known);
		if (t->ea_known)
			assert_int_equal(o.ea, t->ea);
		assert_int_equal(o.align, t->align);
		assert_int_equal(o.branch, t->branch);
		assert_int_equal(o.target_known, t->target_known);
		if (t->target_known)
			assert_int_equal(o.target, t->target);
		assert_non_null(memchr(o.text, '\0', sizeof(o.text)));
		if (t->text)
			assert_non_null(strstr(o.text, t->text));
	}
}

/* Bytes after the instruction change nothing; fewer than its length do
 * not decode. */
static void test_lengths(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *t = &rows[i];
		struct ml_regs r = t->is_32bit ? regs32() : regs64();
		unsigned char buf[15];
		struct ml_insn a, b;

		if (!t->size)
			continue;
		memset(buf, 0x90, sizeof(buf));
		memcpy(buf, t->code, t->size);
		assert_int_equal(ml_insn_decode(t->code, t->size, &r, &a), 0);
		assert_int_equal(ml_insn_decode(buf, sizeof(buf), &r, &b), 0);
		assert_string_equal(a.text, b.text);
		assert_int_equal(a.ea, b.ea);
		assert_int_equal(b.size, t->size);
		assert_int_equal(ml_insn_decode(t->code, t->size - 1, &r, &a), -ENOEXEC);
	}
}

static void test_arguments(void **state)
{
	struct ml_regs r = regs64();
	struct ml_insn o;
	static const unsigned char c3 = 0xc3;

	(void)state;
	assert_int_equal(ml_insn_decode(NULL, 1, &r, &o), -EINVAL);
	assert_int_equal(ml_insn_decode(&c3, 1, NULL, &o), -EINVAL);
	assert_int_equal(ml_insn_decode(&c3, 1, &r, NULL), -EINVAL);
	assert_int_equal(ml_insn_decode(&c3, 0, &r, &o), -ENOEXEC);
}

#else
/* No Zydis: -ENOTSUP every time, *ret untouched. */
static void test_missing(void **state)
{
	struct ml_regs r = regs64();
	struct ml_insn o = { .size = 77 };

	(void)state;
	assert_int_equal(ml_insn_decode(rows[0].code, rows[0].n, &r, &o), -ENOTSUP);
	assert_int_equal(ml_insn_decode(rows[0].code, rows[0].n, &r, &o), -ENOTSUP);
	assert_int_equal(o.size, 77);
}
#endif /* ML__ZYDIS_DLOPEN_NAME */

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef ML__ZYDIS_DLOPEN_NAME
		cmocka_unit_test(test_missing),
#else
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_arguments),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
	return 77;   /* an x86 decoder */
}

#endif
