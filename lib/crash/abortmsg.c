/* SPDX-License-Identifier: MIT */
/*
 * abortmsg.c - the message the C library left before it called abort().
 *
 * glibc's fatal checks (malloc's "double free or corruption", the stack
 * protector's "*** stack smashing detected ***", assert, fortify) format
 * their message into a fresh mapping and store its address in
 * __abort_msg (a GLIBC_PRIVATE symbol of libc.so, or of a static
 * executable), so that it lands in core dumps:
 *     struct abort_msg_s { unsigned int size; char msg[]; };
 * We find the symbol with libdwfl in the modules of the stopped tracee,
 * read the pointer, then the text.  The text is the target's: escape it.
 */
#include "ml-crash.h"
#include "dynlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ABORT_SYMBOL "__abort_msg"
#define MAX_MSG 4096

struct find {
	const char *name;
	GElf_Addr addr;
	bool found;
};

static int module_cb(Dwfl_Module *mod, void **userdata, const char *name,
		     Dwarf_Addr start, void *arg)
{
	struct find *f = arg;
	int n = dwfl_module_getsymtab(mod);

	(void)userdata; (void)name; (void)start;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr,
							NULL, NULL, NULL);
		if (s && sym.st_shndx != SHN_UNDEF && !strcmp(s, f->name)) {
			f->addr = addr;
			f->found = true;
			return DWARF_CB_ABORT;
		}
	}
	return DWARF_CB_OK;
}

/* The address of the defined symbol name among dwfl's modules: 0 or
 * -ENOENT. */
static int find_in(Dwfl *dwfl, const char *name, GElf_Addr *ret)
{
	struct find f = { .name = name };

	dwfl_getmodules(dwfl, module_cb, &f, 0);
	if (!f.found)
		return -ENOENT;
	*ret = f.addr;
	return 0;
}

/* The address of the defined symbol name in the modules of the stopped
 * tracee pid: 0, -ENOENT, -ESRCH, -ENOMEM, -ENOTSUP (no libdw). */
int ml__tracee_symbol(pid_t pid, const char *name, uint64_t *ret)
{
	GElf_Addr addr = 0;
	Dwfl *dwfl;
	int r;

	if ((r = ml__dw_load()) < 0)
		return r;
	if (!(dwfl = dwfl_begin(&ml__dw_proc_callbacks)))
		return -ENOMEM;
	dwfl_report_begin(dwfl);
	r = dwfl_linux_proc_report(dwfl, pid);
	dwfl_report_end(dwfl, NULL, NULL);
	r = r == 0 ? find_in(dwfl, name, &addr) : r > 0 ? -r : -ESRCH;
	dwfl_end(dwfl);
	if (r == 0)
		*ret = addr;
	return r;
}

/* The message at sym (the pointer __abort_msg), read through read(). */
static int message_at(GElf_Addr sym, bool is_32bit, ml__mem_read_fn read, void *ctx,
		      char **ret)
{
	uint64_t ptr = 0;
	size_t width = is_32bit ? 4 : 8;
	char *buf;
	ssize_t n;

	if (read(ctx, sym, &ptr, width) != (ssize_t)width)
		return -EFAULT;
	if (ptr == 0)
		return -ENOENT;
	buf = calloc(1, MAX_MSG + 1);
	if (!buf)
		return -ENOMEM;
	/* Skip the size word; the text is NUL-terminated within the page. */
	n = read(ctx, ptr + sizeof(unsigned int), buf, MAX_MSG);
	if (n <= 0) {
		free(buf);
		return n < 0 ? (int)n : -ENOENT;
	}
	buf[n] = '\0';
	n = (ssize_t)strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	*ret = buf;
	return 0;
}

static ssize_t tracee_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return ml_tracee_read((pid_t)(intptr_t)ctx, addr, buf, len);
}

int ml_abort_message(pid_t pid, bool is_32bit, char **ret)
{
	uint64_t sym;
	int r;

	if (pid <= 0 || !ret)
		return -EINVAL;
	r = ml__tracee_symbol(pid, ABORT_SYMBOL, &sym);
	if (r < 0)
		return r;
	return message_at(sym, is_32bit, tracee_read, (void *)(intptr_t)pid, ret);
}

int ml__abort_message_dwfl(struct Dwfl *dwfl, bool is_32bit, ml__mem_read_fn read,
			   void *ctx, char **ret)
{
	GElf_Addr sym;
	int r = find_in((Dwfl *)dwfl, ABORT_SYMBOL, &sym);

	return r < 0 ? r : message_at(sym, is_32bit, read, ctx, ret);
}
