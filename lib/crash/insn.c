/* SPDX-License-Identifier: MIT */
/*
 * insn.c - decode the faulting instruction with Zydis: its text (Intel
 * syntax), the memory operand it reads or writes (explicit, or implicit
 * on the stack for push/call/pop/ret), that operand's effective address
 * computed from the registers, and the alignment the instruction demands.
 *
 * x86-64 and i386 (the tracee's view, from the size of its registers),
 * every encoding Zydis 4 knows: legacy, VEX, EVEX (AVX-512, the masked
 * loads and stores of glibc's string functions), XOP, 3DNow!.  Read or
 * write is Zydis's operand action: a masked store ({k1}) is a
 * conditional write, still a write.  Effective address = segment base
 * (fs/gs on x86-64) + base + index * scale + displacement, cut to the
 * address size, with rip-relative operands counted from the next
 * instruction.  A register we cannot read (i386 segment bases, 16-bit
 * address registers, vector registers in a VSIB address) leaves the
 * address unknown.
 *
 * Zydis is dlopen()ed at the first decode (ML_ZYDIS_SONAME, the ABI of
 * the header we are built with, checked below), not linked, so the
 * commands that never decode do not pay its loading; its functions go
 * into one table of pointers typed from its header, filled once
 * (pthread_once, as dynlib.c does for libdw and jansson) and never
 * dlclose()d.  Without it a decode returns -ENOTSUP and the crash report
 * goes on without the instruction.
 */
#include "ml-crash.h"

#include <Zydis/Zydis.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/user.h>

static const char *const access_names[] = {
	[ML_ACCESS_UNKNOWN] = "unknown", [ML_ACCESS_READ] = "read",
	[ML_ACCESS_WRITE] = "write", [ML_ACCESS_EXEC] = "exec",
};

const char *ml_access_name(enum ml_access a)
{
	return (size_t)a < ML_ARRAY_SIZE(access_names) ? access_names[a] : "?";
}

#if defined(__x86_64__)

/* The soname carries Zydis's major and minor version (its CMake sets
 * SOVERSION major.minor): the structures we hand it are those of 4.0. */
_Static_assert((ZYDIS_VERSION >> 32) == 0x00040000,
	       "lib/insn.c: Zydis 4.0 headers expected (ML_ZYDIS_SONAME)");

#ifndef ML__ZYDIS_DLOPEN_NAME
#define ML__ZYDIS_DLOPEN_NAME ML_ZYDIS_SONAME   /* a test names a missing one */
#endif

/* The Zydis functions we call, from the library opened once. */
static struct zy_api {
	int status;              /* 0 or -ENOTSUP, set once */
	__typeof__(&ZydisDecoderInit) decoder_init;
	__typeof__(&ZydisDecoderDecodeFull) decode_full;
	__typeof__(&ZydisFormatterInit) formatter_init;
	__typeof__(&ZydisFormatterSetProperty) formatter_set;
	__typeof__(&ZydisFormatterFormatInstruction) format;
} zy;

static const struct {
	const char *name;
	size_t off;
} zy_syms[] = {
	{ "ZydisDecoderInit", offsetof(struct zy_api, decoder_init) },
	{ "ZydisDecoderDecodeFull", offsetof(struct zy_api, decode_full) },
	{ "ZydisFormatterInit", offsetof(struct zy_api, formatter_init) },
	{ "ZydisFormatterSetProperty", offsetof(struct zy_api, formatter_set) },
	{ "ZydisFormatterFormatInstruction", offsetof(struct zy_api, format) },
};

static pthread_once_t zy_once = PTHREAD_ONCE_INIT;

static void zy_open(void)
{
	void *lib = dlopen(ML__ZYDIS_DLOPEN_NAME, RTLD_NOW | RTLD_LOCAL);
	struct zy_api t = { 0 };

	zy.status = -ENOTSUP;
	if (!lib)
		return;
	for (size_t i = 0; i < ML_ARRAY_SIZE(zy_syms); i++) {
		void *f = dlsym(lib, zy_syms[i].name);
		if (!f) {
			dlclose(lib);
			return;
		}
		memcpy((char *)&t + zy_syms[i].off, &f, sizeof(f));
	}
	zy = t;
	zy.status = 0;
}

#define R64(f) offsetof(struct user_regs_struct, f)
/* Zydis register -> where it is in the x86-64 layout (off64, bytes
 * width) and in the i386 layout (word index, -1 = not there).
 * Sub-registers read the low bytes. */
static const struct reg_map {
	ZydisRegister reg;
	size_t off64;
	unsigned int width;
	int i386;
} regs_map[] = {
	{ ZYDIS_REGISTER_RAX, R64(rax), 8, -1 }, { ZYDIS_REGISTER_EAX, R64(rax), 4, 6 },
	{ ZYDIS_REGISTER_RBX, R64(rbx), 8, -1 }, { ZYDIS_REGISTER_EBX, R64(rbx), 4, 0 },
	{ ZYDIS_REGISTER_RCX, R64(rcx), 8, -1 }, { ZYDIS_REGISTER_ECX, R64(rcx), 4, 1 },
	{ ZYDIS_REGISTER_RDX, R64(rdx), 8, -1 }, { ZYDIS_REGISTER_EDX, R64(rdx), 4, 2 },
	{ ZYDIS_REGISTER_RSI, R64(rsi), 8, -1 }, { ZYDIS_REGISTER_ESI, R64(rsi), 4, 3 },
	{ ZYDIS_REGISTER_RDI, R64(rdi), 8, -1 }, { ZYDIS_REGISTER_EDI, R64(rdi), 4, 4 },
	{ ZYDIS_REGISTER_RBP, R64(rbp), 8, -1 }, { ZYDIS_REGISTER_EBP, R64(rbp), 4, 5 },
	{ ZYDIS_REGISTER_RSP, R64(rsp), 8, -1 }, { ZYDIS_REGISTER_ESP, R64(rsp), 4, 15 },
	{ ZYDIS_REGISTER_RIP, R64(rip), 8, -1 }, { ZYDIS_REGISTER_EIP, R64(rip), 4, 12 },
	{ ZYDIS_REGISTER_R8, R64(r8), 8, -1 },   { ZYDIS_REGISTER_R8D, R64(r8), 4, -1 },
	{ ZYDIS_REGISTER_R9, R64(r9), 8, -1 },   { ZYDIS_REGISTER_R9D, R64(r9), 4, -1 },
	{ ZYDIS_REGISTER_R10, R64(r10), 8, -1 }, { ZYDIS_REGISTER_R10D, R64(r10), 4, -1 },
	{ ZYDIS_REGISTER_R11, R64(r11), 8, -1 }, { ZYDIS_REGISTER_R11D, R64(r11), 4, -1 },
	{ ZYDIS_REGISTER_R12, R64(r12), 8, -1 }, { ZYDIS_REGISTER_R12D, R64(r12), 4, -1 },
	{ ZYDIS_REGISTER_R13, R64(r13), 8, -1 }, { ZYDIS_REGISTER_R13D, R64(r13), 4, -1 },
	{ ZYDIS_REGISTER_R14, R64(r14), 8, -1 }, { ZYDIS_REGISTER_R14D, R64(r14), 4, -1 },
	{ ZYDIS_REGISTER_R15, R64(r15), 8, -1 }, { ZYDIS_REGISTER_R15D, R64(r15), 4, -1 },
	{ ZYDIS_REGISTER_FS, R64(fs_base), 8, -1 }, { ZYDIS_REGISTER_GS, R64(gs_base), 8, -1 },
};

/* Instructions that touch the stack without an explicit memory operand. */
static const struct implicit {
	ZydisMnemonic id;
	enum ml_access access;
	int sp_delta;            /* in words: -1 below sp, 0 at sp */
} implicits[] = {
	{ ZYDIS_MNEMONIC_PUSH, ML_ACCESS_WRITE, -1 },  { ZYDIS_MNEMONIC_CALL, ML_ACCESS_WRITE, -1 },
	{ ZYDIS_MNEMONIC_PUSHF, ML_ACCESS_WRITE, -1 }, { ZYDIS_MNEMONIC_PUSHFQ, ML_ACCESS_WRITE, -1 },
	{ ZYDIS_MNEMONIC_PUSHFD, ML_ACCESS_WRITE, -1 }, { ZYDIS_MNEMONIC_PUSHA, ML_ACCESS_WRITE, -1 },
	{ ZYDIS_MNEMONIC_PUSHAD, ML_ACCESS_WRITE, -1 }, { ZYDIS_MNEMONIC_ENTER, ML_ACCESS_WRITE, -1 },
	{ ZYDIS_MNEMONIC_POP, ML_ACCESS_READ, 0 },     { ZYDIS_MNEMONIC_RET, ML_ACCESS_READ, 0 },
	{ ZYDIS_MNEMONIC_POPF, ML_ACCESS_READ, 0 },    { ZYDIS_MNEMONIC_POPFQ, ML_ACCESS_READ, 0 },
	{ ZYDIS_MNEMONIC_POPFD, ML_ACCESS_READ, 0 },
};

/* Instructions whose memory operand must be aligned (a #GP otherwise);
 * 0: to the operand's size. */
static const struct aligned {
	ZydisMnemonic id;
	unsigned int align;
} aligned_insns[] = {
	{ ZYDIS_MNEMONIC_MOVAPS, 16 }, { ZYDIS_MNEMONIC_MOVAPD, 16 }, { ZYDIS_MNEMONIC_MOVDQA, 16 },
	{ ZYDIS_MNEMONIC_MOVNTPS, 16 }, { ZYDIS_MNEMONIC_MOVNTPD, 16 }, { ZYDIS_MNEMONIC_MOVNTDQ, 16 },
	{ ZYDIS_MNEMONIC_MOVNTDQA, 16 }, { ZYDIS_MNEMONIC_FXSAVE, 16 }, { ZYDIS_MNEMONIC_FXRSTOR, 16 },
	{ ZYDIS_MNEMONIC_FXSAVE64, 16 }, { ZYDIS_MNEMONIC_FXRSTOR64, 16 },
	{ ZYDIS_MNEMONIC_CMPXCHG16B, 16 },
	{ ZYDIS_MNEMONIC_XSAVE, 64 }, { ZYDIS_MNEMONIC_XRSTOR, 64 }, { ZYDIS_MNEMONIC_XSAVEOPT, 64 },
	{ ZYDIS_MNEMONIC_VMOVAPS, 0 }, { ZYDIS_MNEMONIC_VMOVAPD, 0 }, { ZYDIS_MNEMONIC_VMOVDQA, 0 },
	{ ZYDIS_MNEMONIC_VMOVDQA32, 0 }, { ZYDIS_MNEMONIC_VMOVDQA64, 0 },
	{ ZYDIS_MNEMONIC_VMOVNTPS, 0 }, { ZYDIS_MNEMONIC_VMOVNTPD, 0 },
	{ ZYDIS_MNEMONIC_VMOVNTDQ, 0 }, { ZYDIS_MNEMONIC_VMOVNTDQA, 0 },
};

/* One decoded instruction and where it was. */
struct decoded {
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t pc;
};

static bool reg_value(const struct ml_regs *r, ZydisRegister reg, uint64_t *ret)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(regs_map); i++) {
		const struct reg_map *m = &regs_map[i];
		uint64_t v = 0;

		if (m->reg != reg)
			continue;
		if (r->is_32bit) {
			if (m->i386 < 0)
				return false;
			memcpy(&v, r->raw + (size_t)m->i386 * 4, 4);
		} else {
			memcpy(&v, r->raw + m->off64, m->width);
		}
		*ret = v;
		return true;
	}
	return false;
}

/* The effective address of a memory operand; false if unknown. */
static bool effective_address(const struct decoded *d, const ZydisDecodedOperandMem *m,
			      const struct ml_regs *r, uint64_t *ret)
{
	uint64_t ea = (uint64_t)m->disp.value, v;
	unsigned int asize = d->in.address_width;

	if (m->base == ZYDIS_REGISTER_RIP || m->base == ZYDIS_REGISTER_EIP)
		ea += d->pc + d->in.length;
	else if (m->base != ZYDIS_REGISTER_NONE) {
		if (!reg_value(r, m->base, &v))
			return false;
		ea += v;
	}
	if (m->index != ZYDIS_REGISTER_NONE) {
		if (!reg_value(r, m->index, &v))
			return false;
		ea += v * (uint64_t)m->scale;
	}
	/* An address-size prefix (0x67) computes the address in 32 bits on
	 * x86-64 (16 on i386), wrapping there, before the segment base is
	 * added: mov eax, [eax - 0x10] with eax = 8 reads 0xfffffff8, not
	 * 0xfffffffffffffff8. */
	if (asize < 64)
		ea &= (UINT64_C(1) << asize) - 1;
	if (m->segment == ZYDIS_REGISTER_FS || m->segment == ZYDIS_REGISTER_GS) {
		if (!reg_value(r, m->segment, &v))
			return false;
		ea += v;
	}
	*ret = r->is_32bit ? (uint32_t)ea : ea;
	return true;
}

static enum ml_access op_access(const ZydisDecodedOperand *op)
{
	return (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) ? ML_ACCESS_WRITE :
	       (op->actions & ZYDIS_OPERAND_ACTION_MASK_READ) ? ML_ACCESS_READ :
	       ML_ACCESS_UNKNOWN;
}

/* The memory operand accessed: the first explicit one, else the first
 * implicit or hidden one (movs, stos, ... on [rdi]/[rsi]) that is not
 * the stack slot of push/pop/call/ret (implicit_stack's); NULL if none.
 * lea computes an address (AGEN) and nop's is not accessed. */
static const ZydisDecodedOperand *memory_operand(const struct decoded *d, bool stack_insn)
{
	const ZydisDecodedOperand *hidden = NULL;

	if (d->in.mnemonic == ZYDIS_MNEMONIC_NOP)
		return NULL;
	for (uint8_t i = 0; i < d->in.operand_count && i < ZYDIS_MAX_OPERAND_COUNT; i++) {
		const ZydisDecodedOperand *op = &d->ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    (op->mem.type != ZYDIS_MEMOP_TYPE_MEM && op->mem.type != ZYDIS_MEMOP_TYPE_VSIB &&
		     op->mem.type != ZYDIS_MEMOP_TYPE_MIB))
			continue;
		if (op->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			return op;
		if (!hidden && !stack_insn)
			hidden = op;
	}
	return hidden;
}

static const struct implicit *implicit_stack(ZydisMnemonic id)
{
	for (size_t k = 0; k < ML_ARRAY_SIZE(implicits); k++)
		if (implicits[k].id == id)
			return &implicits[k];
	return NULL;
}

static void fill_memory(const struct decoded *d, const struct ml_regs *r, struct ml_insn *o)
{
	const struct implicit *imp = implicit_stack(d->in.mnemonic);
	const ZydisDecodedOperand *op = memory_operand(d, imp != NULL);
	uint64_t width = r->is_32bit ? 4 : 8;

	if (op) {
		o->has_mem = true;
		o->access = op_access(op);
		o->ea_known = effective_address(d, &op->mem, r, &o->ea);
		for (size_t k = 0; k < ML_ARRAY_SIZE(aligned_insns); k++)
			if (aligned_insns[k].id == d->in.mnemonic)
				o->align = aligned_insns[k].align ? aligned_insns[k].align :
					   op->size / 8;
		return;
	}
	if (!imp)
		return;
	o->has_mem = true;
	o->access = imp->access;
	/* A stack slot is a word, but push and pop with the operand-size
	 * prefix move two bytes (66 50, push ax: sp - 2). */
	uint64_t slot = d->in.operand_width == 16 && (d->in.mnemonic == ZYDIS_MNEMONIC_PUSH ||
						     d->in.mnemonic == ZYDIS_MNEMONIC_POP) ? 2 : width;
	o->ea = r->sp + (uint64_t)((int64_t)imp->sp_delta * (int64_t)slot);
	if (r->is_32bit)
		o->ea = (uint32_t)o->ea;
	o->ea_known = true;
}

/* call, ret, jmp through a value; a register operand's value is the
 * target, a relative one's is counted from the next instruction (a
 * memory operand's or ret's is in the tracee's memory). */
static void fill_branch(const struct decoded *d, const struct ml_regs *r, struct ml_insn *o)
{
	static const struct { ZydisMnemonic id; enum ml_branch b; } kinds[] = {
		{ ZYDIS_MNEMONIC_CALL, ML_BRANCH_CALL }, { ZYDIS_MNEMONIC_RET, ML_BRANCH_RET },
		{ ZYDIS_MNEMONIC_JMP, ML_BRANCH_JMP },
	};
	const ZydisDecodedOperand *op = &d->ops[0];

	for (size_t k = 0; k < ML_ARRAY_SIZE(kinds); k++)
		if (kinds[k].id == d->in.mnemonic)
			o->branch = kinds[k].b;
	if (o->branch == ML_BRANCH_NONE || o->branch == ML_BRANCH_RET ||
	    d->in.operand_count_visible < 1)
		return;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		o->target_known = reg_value(r, op->reg.value, &o->target);
	} else if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		o->target = (uint64_t)op->imm.value.s;
		if (op->imm.is_relative)
			o->target += d->pc + d->in.length;
		if (d->in.operand_width < 64)
			o->target &= (UINT64_C(1) << d->in.operand_width) - 1;
		o->target_known = true;
	}
}

/* The formatter's settings: sizes always said ("dword ptr"), numbers in
 * lower case and not padded (0x401017, not 0x0000000000401017; on i386
 * the absolute addresses keep their padding, the one setting that cuts
 * them to 32 bits: call 0x88049005, not 0xFFFFFFFF88049005). */
static const struct {
	ZydisFormatterProperty prop;
	ZyanUPointer value;
} fmt_props[] = {
	{ ZYDIS_FORMATTER_PROP_FORCE_SIZE, ZYAN_TRUE },
	{ ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE },
	{ ZYDIS_FORMATTER_PROP_ADDR_PADDING_RELATIVE, (ZyanUPointer)ZYDIS_PADDING_DISABLED },
	{ ZYDIS_FORMATTER_PROP_DISP_PADDING, (ZyanUPointer)ZYDIS_PADDING_DISABLED },
	{ ZYDIS_FORMATTER_PROP_IMM_PADDING, (ZyanUPointer)ZYDIS_PADDING_DISABLED },
};

/* The Intel-syntax text ("mov eax, dword ptr [rax+0x18]"), addresses of
 * branches and rip-relative operands absolute. */
static void format(const struct decoded *d, struct ml_insn *o)
{
	ZydisFormatter f;
	bool ok = ZYAN_SUCCESS(zy.formatter_init(&f, ZYDIS_FORMATTER_STYLE_INTEL));

	for (size_t i = 0; ok && i < ML_ARRAY_SIZE(fmt_props); i++)
		ok = ZYAN_SUCCESS(zy.formatter_set(&f, fmt_props[i].prop, fmt_props[i].value));
	if (ok && d->in.machine_mode == ZYDIS_MACHINE_MODE_LONG_64)
		ok = ZYAN_SUCCESS(zy.formatter_set(&f, ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE,
						   (ZyanUPointer)ZYDIS_PADDING_DISABLED));
	if (!ok || !ZYAN_SUCCESS(zy.format(&f, &d->in, d->ops, d->in.operand_count_visible,
					   o->text, sizeof(o->text), d->pc, NULL)))
		snprintf(o->text, sizeof(o->text), "(%u bytes)", d->in.length);
	o->text[sizeof(o->text) - 1] = '\0';
}

int ml_insn_decode(const unsigned char *code, size_t len,
		   const struct ml_regs *regs, struct ml_insn *ret)
{
	struct ml_insn o = { 0 };
	struct decoded d;
	ZydisDecoder dec;

	if (!code || !regs || !ret)
		return -EINVAL;
	pthread_once(&zy_once, zy_open);
	if (zy.status < 0)
		return zy.status;
	if (!ZYAN_SUCCESS(zy.decoder_init(&dec, regs->is_32bit ? ZYDIS_MACHINE_MODE_LONG_COMPAT_32 :
					  ZYDIS_MACHINE_MODE_LONG_64,
					  regs->is_32bit ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_64)))
		return -ENOMEM;
	memset(&d, 0, sizeof(d));
	d.pc = regs->is_32bit ? (uint32_t)regs->pc : regs->pc;
	if (!ZYAN_SUCCESS(zy.decode_full(&dec, code, len, &d.in, d.ops)))
		return -ENOEXEC;
	format(&d, &o);
	o.size = d.in.length;
	fill_memory(&d, regs, &o);
	fill_branch(&d, regs, &o);
	*ret = o;
	return 0;
}

#else

int ml_insn_decode(const unsigned char *code, size_t len,
		   const struct ml_regs *regs, struct ml_insn *ret)
{
	(void)code; (void)len; (void)regs; (void)ret;
	return -ENOTSUP;
}

#endif
