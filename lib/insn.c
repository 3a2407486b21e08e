/* SPDX-License-Identifier: MIT */
/*
 * insn.c - decode the faulting instruction with capstone: its text, the
 * memory operand it reads or writes (explicit, or implicit on the stack
 * for push/call/pop/ret), that operand's effective address computed from
 * the registers, and the alignment the instruction demands.
 *
 * x86-64 and i386 (the tracee's view, from the size of its registers).
 * Effective address = segment base (fs/gs on x86-64) + base + index *
 * scale + displacement, cut to the address size, with rip-relative
 * operands counted from the next instruction.  A register we cannot read
 * (i386 segment bases, vector registers in a VSIB address) leaves the
 * address unknown.
 *
 * capstone is dlopen()ed by each decode (one per crash), not linked: its
 * ~77,000 relocations would cost every start of memlayout, whatever the
 * verb, about 1.2 ms.  The library opened is the one of the header we
 * were built with (libcapstone.so.CS_API_MAJOR, its soname), so the
 * structures agree; nothing is kept between calls.
 */
#include "ml-private.h"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
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

#define R64(f) offsetof(struct user_regs_struct, f)
/* capstone register -> where it is in the x86-64 layout (off64, bytes
 * width, 0 = not there) and in the i386 layout (word index, -1 = not
 * there).  Sub-registers read the low bytes. */
static const struct reg_map {
	x86_reg reg;
	size_t off64;
	unsigned int width;
	int i386;
} regs_map[] = {
	{ X86_REG_RAX, R64(rax), 8, -1 }, { X86_REG_EAX, R64(rax), 4, 6 },
	{ X86_REG_RBX, R64(rbx), 8, -1 }, { X86_REG_EBX, R64(rbx), 4, 0 },
	{ X86_REG_RCX, R64(rcx), 8, -1 }, { X86_REG_ECX, R64(rcx), 4, 1 },
	{ X86_REG_RDX, R64(rdx), 8, -1 }, { X86_REG_EDX, R64(rdx), 4, 2 },
	{ X86_REG_RSI, R64(rsi), 8, -1 }, { X86_REG_ESI, R64(rsi), 4, 3 },
	{ X86_REG_RDI, R64(rdi), 8, -1 }, { X86_REG_EDI, R64(rdi), 4, 4 },
	{ X86_REG_RBP, R64(rbp), 8, -1 }, { X86_REG_EBP, R64(rbp), 4, 5 },
	{ X86_REG_RSP, R64(rsp), 8, -1 }, { X86_REG_ESP, R64(rsp), 4, 15 },
	{ X86_REG_RIP, R64(rip), 8, -1 }, { X86_REG_EIP, R64(rip), 4, 12 },
	{ X86_REG_R8, R64(r8), 8, -1 },   { X86_REG_R8D, R64(r8), 4, -1 },
	{ X86_REG_R9, R64(r9), 8, -1 },   { X86_REG_R9D, R64(r9), 4, -1 },
	{ X86_REG_R10, R64(r10), 8, -1 }, { X86_REG_R10D, R64(r10), 4, -1 },
	{ X86_REG_R11, R64(r11), 8, -1 }, { X86_REG_R11D, R64(r11), 4, -1 },
	{ X86_REG_R12, R64(r12), 8, -1 }, { X86_REG_R12D, R64(r12), 4, -1 },
	{ X86_REG_R13, R64(r13), 8, -1 }, { X86_REG_R13D, R64(r13), 4, -1 },
	{ X86_REG_R14, R64(r14), 8, -1 }, { X86_REG_R14D, R64(r14), 4, -1 },
	{ X86_REG_R15, R64(r15), 8, -1 }, { X86_REG_R15D, R64(r15), 4, -1 },
	{ X86_REG_FS, R64(fs_base), 8, -1 }, { X86_REG_GS, R64(gs_base), 8, -1 },
};

/* Instructions that touch the stack without a memory operand. */
static const struct implicit {
	unsigned int id;
	enum ml_access access;
	int sp_delta;            /* in words: -1 below sp, 0 at sp */
} implicits[] = {
	{ X86_INS_PUSH, ML_ACCESS_WRITE, -1 },  { X86_INS_CALL, ML_ACCESS_WRITE, -1 },
	{ X86_INS_PUSHFQ, ML_ACCESS_WRITE, -1 }, { X86_INS_PUSHFD, ML_ACCESS_WRITE, -1 },
	{ X86_INS_PUSHAL, ML_ACCESS_WRITE, -1 }, { X86_INS_ENTER, ML_ACCESS_WRITE, -1 },
	{ X86_INS_POP, ML_ACCESS_READ, 0 },     { X86_INS_RET, ML_ACCESS_READ, 0 },
	{ X86_INS_POPFQ, ML_ACCESS_READ, 0 },   { X86_INS_POPFD, ML_ACCESS_READ, 0 },
};

/* Instructions whose memory operand must be aligned (a #GP otherwise). */
static const struct aligned {
	unsigned int id;
	unsigned int align;
} aligned_insns[] = {
	{ X86_INS_MOVAPS, 16 }, { X86_INS_MOVAPD, 16 }, { X86_INS_MOVDQA, 16 },
	{ X86_INS_MOVNTPS, 16 }, { X86_INS_MOVNTPD, 16 }, { X86_INS_MOVNTDQ, 16 },
	{ X86_INS_MOVNTDQA, 16 }, { X86_INS_FXSAVE, 16 }, { X86_INS_FXRSTOR, 16 },
	{ X86_INS_FXSAVE64, 16 }, { X86_INS_FXRSTOR64, 16 }, { X86_INS_CMPXCHG16B, 16 },
	{ X86_INS_XSAVE, 64 }, { X86_INS_XRSTOR, 64 }, { X86_INS_XSAVEOPT, 64 },
	{ X86_INS_VMOVAPS, 0 }, { X86_INS_VMOVAPD, 0 }, { X86_INS_VMOVDQA, 0 },
	{ X86_INS_VMOVDQA32, 0 }, { X86_INS_VMOVDQA64, 0 }, { X86_INS_VMOVNTPS, 0 },
	{ X86_INS_VMOVNTPD, 0 }, { X86_INS_VMOVNTDQ, 0 }, { X86_INS_VMOVNTDQA, 0 },
};

static bool reg_value(const struct ml_regs *r, x86_reg reg, uint64_t *ret)
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
static bool effective_address(const cs_insn *in, const x86_op_mem *m,
			      const struct ml_regs *r, uint64_t *ret)
{
	uint64_t ea = (uint64_t)m->disp, v;

	if (m->base == X86_REG_RIP || m->base == X86_REG_EIP)
		ea += in->address + in->size;
	else if (m->base != X86_REG_INVALID) {
		if (!reg_value(r, m->base, &v))
			return false;
		ea += v;
	}
	if (m->index != X86_REG_INVALID) {
		if (!reg_value(r, m->index, &v))
			return false;
		ea += v * (uint64_t)m->scale;
	}
	/* An address-size prefix (0x67) computes the address in 32 bits on
	 * x86-64 (16 on i386), wrapping there, before the segment base is
	 * added: mov eax, [eax - 0x10] with eax = 8 reads 0xfffffff8, not
	 * 0xfffffffffffffff8. */
	if (in->detail->x86.addr_size < 8)
		ea &= (UINT64_C(1) << (in->detail->x86.addr_size * 8)) - 1;
	if (m->segment == X86_REG_FS || m->segment == X86_REG_GS) {
		if (!reg_value(r, m->segment, &v))
			return false;
		ea += v;
	}
	*ret = r->is_32bit ? (uint32_t)ea : ea;
	return true;
}

static void fill_memory(const cs_insn *in, const struct ml_regs *r, struct ml_insn *o)
{
	const cs_x86 *x = &in->detail->x86;
	uint64_t width = r->is_32bit ? 4 : 8;

	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM || in->id == X86_INS_LEA ||
		    in->id == X86_INS_NOP)
			continue;
		o->has_mem = true;
		o->access = (op->access & CS_AC_WRITE) ? ML_ACCESS_WRITE :
			    (op->access & CS_AC_READ) ? ML_ACCESS_READ : ML_ACCESS_UNKNOWN;
		o->ea_known = effective_address(in, &op->mem, r, &o->ea);
		for (size_t k = 0; k < ML_ARRAY_SIZE(aligned_insns); k++)
			if (aligned_insns[k].id == in->id)
				o->align = aligned_insns[k].align ? aligned_insns[k].align : op->size;
		return;
	}
	for (size_t k = 0; k < ML_ARRAY_SIZE(implicits); k++) {
		if (implicits[k].id != in->id)
			continue;
		o->has_mem = true;
		o->access = implicits[k].access;
		/* A stack slot is a word, but push and pop with the operand-
		 * size prefix move two bytes (66 50, push ax: sp - 2). */
		uint64_t slot = in->detail->x86.prefix[2] == 0x66 &&
				(in->id == X86_INS_PUSH || in->id == X86_INS_POP) ? 2 : width;
		o->ea = r->sp + (uint64_t)((int64_t)implicits[k].sp_delta * (int64_t)slot);
		if (r->is_32bit)
			o->ea = (uint32_t)o->ea;
		o->ea_known = true;
		return;
	}
}

/* call, ret, jmp through a value; a register operand's value is the
 * target (a memory operand's or ret's is in the tracee's memory). */
static void fill_branch(const cs_insn *in, const struct ml_regs *r, struct ml_insn *o)
{
	const cs_x86 *x = &in->detail->x86;
	static const struct { unsigned int id; enum ml_branch b; } kinds[] = {
		{ X86_INS_CALL, ML_BRANCH_CALL }, { X86_INS_RET, ML_BRANCH_RET },
		{ X86_INS_JMP, ML_BRANCH_JMP },
	};

	for (size_t k = 0; k < ML_ARRAY_SIZE(kinds); k++)
		if (kinds[k].id == in->id)
			o->branch = kinds[k].b;
	if (o->branch == ML_BRANCH_NONE || o->branch == ML_BRANCH_RET || x->op_count < 1)
		return;
	if (x->operands[0].type == X86_OP_REG)
		o->target_known = reg_value(r, x->operands[0].reg, &o->target);
	else if (x->operands[0].type == X86_OP_IMM) {
		o->target = (uint64_t)x->operands[0].imm;
		o->target_known = true;
	}
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define CS_SONAME "libcapstone.so." STR(CS_API_MAJOR)

/* The capstone functions we call, from the library opened for one decode. */
struct cs_api {
	void *lib;
	__typeof__(&cs_open) open;
	__typeof__(&cs_option) option;
	__typeof__(&cs_disasm) disasm;
	__typeof__(&cs_free) free;
	__typeof__(&cs_close) close;
};

static const struct {
	const char *name;
	size_t off;
} cs_syms[] = {
	{ "cs_open", offsetof(struct cs_api, open) },
	{ "cs_option", offsetof(struct cs_api, option) },
	{ "cs_disasm", offsetof(struct cs_api, disasm) },
	{ "cs_free", offsetof(struct cs_api, free) },
	{ "cs_close", offsetof(struct cs_api, close) },
};

/* 0, or -ENOTSUP: no capstone of our ABI to load. */
static int cs_load(struct cs_api *api)
{
	api->lib = dlopen(CS_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!api->lib)
		return -ENOTSUP;
	for (size_t i = 0; i < ML_ARRAY_SIZE(cs_syms); i++) {
		void *f = dlsym(api->lib, cs_syms[i].name);
		if (!f) {
			dlclose(api->lib);
			return -ENOTSUP;
		}
		memcpy((char *)api + cs_syms[i].off, &f, sizeof(f));
	}
	return 0;
}

int ml_insn_decode(const unsigned char *code, size_t len,
		   const struct ml_regs *regs, struct ml_insn *ret)
{
	struct ml_insn o = { 0 };
	struct cs_api cs;
	cs_insn *in = NULL;
	csh h;
	int r = 0;

	if (!code || !regs || !ret)
		return -EINVAL;
	if ((r = cs_load(&cs)) < 0)
		return r;
	if (cs.open(CS_ARCH_X86, regs->is_32bit ? CS_MODE_32 : CS_MODE_64, &h) != CS_ERR_OK) {
		dlclose(cs.lib);
		return -ENOMEM;
	}
	cs.option(h, CS_OPT_DETAIL, CS_OPT_ON);
	if (cs.disasm(h, code, len, regs->pc, 1, &in) != 1) {
		r = -ENOEXEC;
		goto out;
	}
	snprintf(o.text, sizeof(o.text), "%.31s%s%.90s", in->mnemonic,
		 in->op_str[0] ? " " : "", in->op_str);
	o.size = in->size;
	fill_memory(in, regs, &o);
	fill_branch(in, regs, &o);
	*ret = o;
	cs.free(in, 1);
out:
	cs.close(&h);
	dlclose(cs.lib);
	return r;
}

#else

int ml_insn_decode(const unsigned char *code, size_t len,
		   const struct ml_regs *regs, struct ml_insn *ret)
{
	(void)code; (void)len; (void)regs; (void)ret;
	return -ENOTSUP;
}

#endif
