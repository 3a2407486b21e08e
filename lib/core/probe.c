/* SPDX-License-Identifier: MIT */
/*
 * probe.c - a running process's memory read without changing it, for the
 * steps of a snapshot that look inside its mappings (owners.c's allocator
 * headers, tcb.c's thread descriptors), without stopping it.
 *
 * /proc/PID/mem is read only where /proc/PID/pagemap says every page
 * read is in RAM: reading one that is not would fault it in (the zero
 * page, a swap-in), and the observer would change what `where` and
 * `pages` then report.  At most a budget of reads (ml__probe_read's, each
 * of a few bytes; a caller that reads pagemap itself counts its own);
 * words in the target's size.  Nothing for a core
 * or a saved tree with no mem file: every read then fails.
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int open_proc(const struct ml_snapshot *snap, const char *name)
{
	char path[4200];

	if (ml__path(path, sizeof(path), snap->proc_dir, name) < 0)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int ml__probe_open(const struct ml_snapshot *snap, unsigned int budget, struct ml__probe *p)
{
	*p = (struct ml__probe){ .mem = -1, .pagemap = -1, .budget = budget,
		.word = snap->proc.is_32bit ? 4 : 8,
		.page = snap->proc.page_size ? snap->proc.page_size : 4096 };
	if (snap->core)
		return -ENOTSUP;
	if ((p->mem = open_proc(snap, "mem")) < 0 ||
	    (p->pagemap = open_proc(snap, "pagemap")) < 0) {
		int e = errno;
		ml__probe_close(p);
		return -e;
	}
	return 0;
}

void ml__probe_close(struct ml__probe *p)
{
	if (p->mem >= 0)
		close(p->mem);
	if (p->pagemap >= 0)
		close(p->pagemap);
	p->mem = p->pagemap = -1;
}

bool ml__probe_present(struct ml__probe *p, uint64_t addr)
{
	uint64_t e;

	if (pread(p->pagemap, &e, sizeof(e), (off_t)(addr / p->page * sizeof(e))) != sizeof(e))
		return false;
	return e >> 63 & 1;
}

bool ml__probe_read(struct ml__probe *p, uint64_t addr, void *buf, size_t len)
{
	if (p->mem < 0 || p->budget == 0 || len == 0 || addr + len < addr)
		return false;
	p->budget--;
	for (uint64_t pg = addr / p->page; pg <= (addr + len - 1) / p->page; pg++)
		if (!ml__probe_present(p, pg * p->page))
			return false;
	return pread(p->mem, buf, len, (off_t)addr) == (ssize_t)len;
}

uint64_t ml__probe_word(const struct ml__probe *p, const unsigned char *b, size_t i)
{
	uint64_t v = 0;
	uint32_t w;

	if (p->word == 8) {
		memcpy(&v, b + 8 * i, 8);
	} else {
		memcpy(&w, b + 4 * i, 4);
		v = w;
	}
	return v;
}
