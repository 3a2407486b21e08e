/* SPDX-License-Identifier: MIT */
/*
 * fuzz-insn.c - libFuzzer target for the decoding of the faulting
 * instruction (lib/insn.c's ml_insn_decode()), whose bytes and registers
 * the crashed process controls, for x86-64 and i386 targets.
 *
 * Input: byte 0 holds flags (FZ_32BIT: an i386 target); byte 1 the number
 * of code bytes n (cut to what follows); then the n code bytes; then the
 * registers, 8 bytes little-endian each, in the order of enum fz_reg
 * (missing bytes are 0; an i386 target keeps the low 32 bits).  They are
 * laid out as the kernel's NT_PRSTATUS would give them (x86-64 or i386
 * user_regs_struct), pc and sp copied to struct ml_regs as ml_regs_get()
 * does.
 *
 * Each input is decoded by ml_insn_decode() from an exact-size copy and
 * checked:
 *  - it returns 0, -ENOEXEC or -ENOMEM; -ENOTSUP (no capstone) aborts at
 *    once with a message: bootstrap installs libcapstone-dev, so a missing
 *    capstone is a broken test environment, not a pass;
 *  - it decodes iff capstone itself (the oracle below) decodes one
 *    instruction of the same bytes, and then to the same size;
 *  - on 0: text is NUL-terminated in its array; size is 1..15 and no more
 *    than n; access is unknown, read or write (exec is not an operand's);
 *    without has_mem, access, ea_known, ea and align are all zero; align
 *    is 0 or a power of two up to 64 (crash.c divides by it);
 *  - an explicit memory operand (the first, as insn.c picks it; lea and
 *    nop have none that is accessed) gives has_mem, and write access if
 *    capstone says it is written.  Its address, computed here from the
 *    operand's parts and the registers by name (independently of insn.c's
 *    table), is: base (rip/eip: the next instruction) + index * scale +
 *    disp, cut to the address size (a 0x67 prefix: 32 bits on x86-64, 16
 *    on i386), plus the fs/gs base on x86-64 (i386 segment bases are
 *    unknown; others are 0), cut to 32 bits on i386.  If insn.c says the
 *    address is known, it must be that one; if every part is a register
 *    insn.c reads (general-purpose, rip, fs/gs on x86-64), it must say
 *    known;
 *  - no explicit memory operand: push and call (write below sp), pop and
 *    ret (read at sp) have an implicit one; an implicit one is known, at
 *    sp or one slot below it (a word, 8 or 4 bytes; 2 for push/pop with
 *    the operand-size prefix 0x66), cut to 32 bits on i386.
 * A failed check calls abort(), which libFuzzer reports as a crash.
 *
 * The oracle is capstone, dlopen()ed here once for the process (insn.c
 * dlopen()s it at each call; keeping it open also makes those cheap).
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/
 * meson.build and run there as the test 'fuzz-insn' on corpus-insn/.
 */
#include "ml-private.h"

#include <capstone/capstone.h>
#include <dlfcn.h>
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

#define STR_(x) #x
#define STR(x) STR_(x)
#define CS_SONAME "libcapstone.so." STR(CS_API_MAJOR)

static const char no_capstone[] =
	"fuzz-insn: capstone (" CS_SONAME ") cannot be loaded: the decoder "
	"is not tested; install libcapstone-dev (bootstrap does)\n";

/* The oracle: capstone, opened once. */
static struct {
	bool ready;
	__typeof__(&cs_open) open;
	__typeof__(&cs_option) option;
	__typeof__(&cs_disasm) disasm;
	__typeof__(&cs_free) free;
	csh h64, h32;
} cs;

static void oracle_init(void)
{
	void *lib, *f[4];
	static const char *const names[] = { "cs_open", "cs_option", "cs_disasm", "cs_free" };

	if (cs.ready)
		return;
	lib = dlopen(CS_SONAME, RTLD_NOW | RTLD_LOCAL);
	for (size_t i = 0; i < ML_ARRAY_SIZE(names); i++)
		if (!lib || !(f[i] = dlsym(lib, names[i]))) {
			fputs(no_capstone, stderr);
			abort();
		}
	memcpy(&cs.open, &f[0], sizeof(f[0]));
	memcpy(&cs.option, &f[1], sizeof(f[1]));
	memcpy(&cs.disasm, &f[2], sizeof(f[2]));
	memcpy(&cs.free, &f[3], sizeof(f[3]));
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &cs.h64) != CS_ERR_OK ||
	    cs.open(CS_ARCH_X86, CS_MODE_32, &cs.h32) != CS_ERR_OK)
		abort();
	cs.option(cs.h64, CS_OPT_DETAIL, CS_OPT_ON);
	cs.option(cs.h32, CS_OPT_DETAIL, CS_OPT_ON);
	cs.ready = true;
}

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

/* The value of an address register by its name; false for one insn.c
 * does not read (16-bit, vector, i386's r8..r15 which do not exist). */
static bool gpr(x86_reg reg, const uint64_t *v, bool is_32bit, uint64_t *ret)
{
	static const struct {
		x86_reg r64, r32;
		enum fz_reg f;
	} names[] = {
		{ X86_REG_RAX, X86_REG_EAX, F_AX }, { X86_REG_RBX, X86_REG_EBX, F_BX },
		{ X86_REG_RCX, X86_REG_ECX, F_CX }, { X86_REG_RDX, X86_REG_EDX, F_DX },
		{ X86_REG_RSI, X86_REG_ESI, F_SI }, { X86_REG_RDI, X86_REG_EDI, F_DI },
		{ X86_REG_RBP, X86_REG_EBP, F_BP }, { X86_REG_RSP, X86_REG_ESP, F_SP },
		{ X86_REG_R8, X86_REG_R8D, F_R8 },  { X86_REG_R9, X86_REG_R9D, F_R9 },
		{ X86_REG_R10, X86_REG_R10D, F_R10 }, { X86_REG_R11, X86_REG_R11D, F_R11 },
		{ X86_REG_R12, X86_REG_R12D, F_R12 }, { X86_REG_R13, X86_REG_R13D, F_R13 },
		{ X86_REG_R14, X86_REG_R14D, F_R14 }, { X86_REG_R15, X86_REG_R15D, F_R15 },
	};

	for (size_t i = 0; i < ML_ARRAY_SIZE(names); i++) {
		if (is_32bit && names[i].f >= F_R8)
			break;
		if (reg == names[i].r32) {
			*ret = (uint32_t)v[names[i].f];
			return true;
		}
		if (reg == names[i].r64 && !is_32bit) {
			*ret = v[names[i].f];
			return true;
		}
	}
	return false;
}

/* The effective address of memory operand m; false if a part is a
 * register insn.c does not read. */
static bool oracle_ea(const cs_insn *in, const x86_op_mem *m, const uint64_t *v,
		      bool is_32bit, uint64_t *ret)
{
	uint64_t ea = (uint64_t)m->disp, x;
	unsigned int asize = in->detail->x86.addr_size;

	if (m->base == X86_REG_RIP || m->base == X86_REG_EIP)
		ea += in->address + in->size;
	else if (m->base != X86_REG_INVALID) {
		if (!gpr(m->base, v, is_32bit, &x))
			return false;
		ea += x;
	}
	if (m->index != X86_REG_INVALID) {
		if (!gpr(m->index, v, is_32bit, &x))
			return false;
		ea += x * (uint64_t)(int64_t)m->scale;
	}
	if (asize < 8)
		ea &= (UINT64_C(1) << (asize * 8)) - 1;
	if (m->segment == X86_REG_FS || m->segment == X86_REG_GS) {
		if (is_32bit)
			return false;
		ea += v[m->segment == X86_REG_FS ? F_FS_BASE : F_GS_BASE];
	}
	*ret = is_32bit ? (uint32_t)ea : ea;
	return true;
}

static void check_memory(const cs_insn *in, const uint64_t *v, bool is_32bit,
			 const struct ml_insn *o)
{
	const cs_x86 *x = &in->detail->x86;
	uint64_t ea, word = is_32bit ? 4 : 8;

	if (o->access != ML_ACCESS_UNKNOWN && o->access != ML_ACCESS_READ &&
	    o->access != ML_ACCESS_WRITE)
		abort();
	if (!o->has_mem && (o->access || o->ea_known || o->ea || o->align))
		abort();
	if (o->align & (o->align - 1) || o->align > 64)
		abort();
	if (is_32bit && o->ea > UINT32_MAX)
		abort();

	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM || in->id == X86_INS_LEA || in->id == X86_INS_NOP)
			continue;
		if (!o->has_mem)
			abort();
		if ((op->access & CS_AC_WRITE) && o->access != ML_ACCESS_WRITE)
			abort();
		bool known = oracle_ea(in, &op->mem, v, is_32bit, &ea);
		if (o->ea_known != known || (known && o->ea != ea))
			abort();
		return;
	}

	switch (in->id) {
	case X86_INS_PUSH: case X86_INS_CALL: case X86_INS_POP: case X86_INS_RET:
		if (!o->has_mem)
			abort();
		break;
	}
	if (o->has_mem) {
		uint64_t sp = v[F_SP];
		if (in->detail->x86.prefix[2] == 0x66 &&
		    (in->id == X86_INS_PUSH || in->id == X86_INS_POP))
			word = 2;
		uint64_t below = is_32bit ? (uint32_t)(sp - word) : sp - word;
		if (is_32bit)
			sp = (uint32_t)sp;
		if (!o->ea_known || (o->ea != sp && o->ea != below))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool checked;
	uint64_t v[F_NREGS] = { 0 };
	struct ml_regs regs;
	struct ml_insn o;
	cs_insn *in = NULL;

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

	/* Exact size, so ASan sees a read past it (by insn.c; capstone is
	 * not instrumented).  malloc(0) may return NULL: one spare byte. */
	unsigned char *code = malloc(n ? n : 1);
	if (!code)
		return 0;
	memcpy(code, data + 2, n);
	memset(&o, 0xa5, sizeof(o));
	int r = ml_insn_decode(code, n, &regs, &o);
	if (r == -ENOTSUP) {
		fputs(no_capstone, stderr);
		abort();
	}
	if (!checked) {
		oracle_init();
		checked = true;
	}
	if (r != 0 && r != -ENOEXEC && r != -ENOMEM)
		abort();

	size_t count = cs.disasm(is_32bit ? cs.h32 : cs.h64, code, n, regs.pc, 1, &in);
	if (r != -ENOMEM && (r == 0) != (count == 1))
		abort();
	if (r == 0) {
		if (!memchr(o.text, '\0', sizeof(o.text)))
			abort();
		if (o.size < 1 || o.size > 15 || o.size > n || o.size != in->size)
			abort();
		check_memory(in, v, is_32bit, &o);
	}
	if (in)
		cs.free(in, count);
	free(code);
	return 0;
}
