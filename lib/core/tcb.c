/* SPDX-License-Identifier: MIT */
/*
 * tcb.c - a thread's stack named by glibc's thread descriptor found at its
 * top, whatever the thread's sp is now (a signal handler on a sigaltstack,
 * an sp already run into its guard), read from /proc/PID/mem without
 * stopping the process.
 *
 * glibc puts each thread's descriptor (struct pthread) at the top of the
 * stack block it maps for it, the guard at the block's bottom: the kernel
 * shows the block as a PROT_NONE mapping with an rw one directly above.
 * The rule, checked on the top ML__TCB_SCAN bytes of such an rw mapping:
 *   - a word-aligned address pd in it with *(pd) == pd and
 *     *(pd + 2 words) == pd (tcbhead_t's tcb and self pointers, x86-64
 *     and i386 alike);
 *   - in the first TCB_FIELDS bytes after pd, a 32-bit value that is the
 *     TID of one of the process's threads (task/), preceded by a list_t
 *     (next, prev) that is really linked: next->prev and prev->next both
 *     point back to it (struct pthread's `list; tid;`, in glibc's stack
 *     lists since 2.3).
 * No offset of glibc's is assumed beyond that order, so the versions that
 * moved tid (its header grew) are read alike.
 *
 * Bounds: only mappings with an anonymous PROT_NONE mapping directly below
 * (thread stacks with a guard; a guard of 0 falls back to the sp), at most
 * TCB_BUDGET reads a snapshot, only pages pagemap says are present (a read
 * would fault in the others: from the top down, up to ML__TCB_SCAN bytes), every pointer read is data: compared, never
 * followed further than one word.
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define TCB_FIELDS 2048u   /* bytes of struct pthread searched for tid */
#define TCB_BUDGET 4096u   /* reads a snapshot */

static int open_proc(const struct ml_snapshot *snap, const char *name)
{
	char path[4200];

	if (ml__path(path, sizeof(path), snap->proc_dir, name) < 0)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int ml__tcb_open(const struct ml_snapshot *snap, struct ml__tcb *t)
{
	*t = (struct ml__tcb){ .mem = -1, .pagemap = -1, .budget = TCB_BUDGET,
		.word = snap->proc.is_32bit ? 4 : 8,
		.page = snap->proc.page_size ? snap->proc.page_size : 4096 };
	if (snap->core)
		return -ENOTSUP;
	if ((t->mem = open_proc(snap, "mem")) < 0 ||
	    (t->pagemap = open_proc(snap, "pagemap")) < 0) {
		int e = errno;
		ml__tcb_close(t);
		return -e;
	}
	return 0;
}

void ml__tcb_close(struct ml__tcb *t)
{
	if (t->mem >= 0)
		close(t->mem);
	if (t->pagemap >= 0)
		close(t->pagemap);
	t->mem = t->pagemap = -1;
}

static bool present(struct ml__tcb *t, uint64_t addr)
{
	uint64_t e;

	if (pread(t->pagemap, &e, sizeof(e), (off_t)(addr / t->page * sizeof(e))) != sizeof(e))
		return false;
	return e >> 63 & 1;
}

/* len bytes at addr (within one or two present pages), one read. */
static bool peek(struct ml__tcb *t, uint64_t addr, void *buf, size_t len)
{
	if (t->budget == 0 || addr + len < addr)
		return false;
	t->budget--;
	for (uint64_t p = addr / t->page; p <= (addr + len - 1) / t->page; p++)
		if (!present(t, p * t->page))
			return false;
	return pread(t->mem, buf, len, (off_t)addr) == (ssize_t)len;
}

static uint64_t word(const struct ml__tcb *t, const unsigned char *b)
{
	uint64_t v = 0;
	uint32_t w;

	if (t->word == 8)
		memcpy(&v, b, 8);
	else
		memcpy(&w, b, 4), v = w;
	return v;
}

static bool points_at(struct ml__tcb *t, uint64_t where, uint64_t want)
{
	unsigned char b[8];

	return peek(t, where, b, t->word) && word(t, b) == want;
}

static bool is_task(const struct ml_snapshot *snap, uint32_t tid)
{
	for (size_t i = 0; i < snap->nthreads; i++)
		if ((uint32_t)snap->threads[i].tid == tid)
			return true;
	return false;
}

/* The TID in the descriptor at pd (its bytes from b on, n of them), 0 if
 * none passes the linked-list check. */
static pid_t tid_of(struct ml__tcb *t, const struct ml_snapshot *snap, uint64_t pd,
		    const unsigned char *b, size_t n)
{
	for (size_t o = 3 * t->word; o + 4 <= n && o < TCB_FIELDS; o += 4) {
		uint32_t tid;
		uint64_t list = pd + o - 2 * t->word;

		memcpy(&tid, b + o, 4);
		if (tid == 0 || !is_task(snap, tid) || (o - 2 * t->word) % t->word)
			continue;
		uint64_t next = word(t, b + o - 2 * t->word), prev = word(t, b + o - t->word);
		if (next && prev && points_at(t, next + t->word, list) && points_at(t, prev, list))
			return (pid_t)tid;
	}
	return 0;
}

pid_t ml__tcb_tid(struct ml__tcb *t, const struct ml_snapshot *snap, const struct ml_region *r)
{
	unsigned char *b = t->buf;
	uint64_t max = r->end - r->start < ML__TCB_SCAN ? r->end - r->start : ML__TCB_SCAN;
	uint64_t len = 0, base;

	if (t->mem < 0)
		return 0;
	/* the present pages at its top (the descriptor's is: glibc wrote it) */
	while (len + t->page <= max && t->budget && t->budget-- &&
	       present(t, r->end - len - t->page))
		len += t->page;
	base = r->end - len;
	if (len == 0 || t->budget == 0 || pread(t->mem, b, len, (off_t)base) != (ssize_t)len)
		return 0;
	t->budget--;
	for (uint64_t o = 0; o + 3 * t->word <= len; o += t->word) {
		uint64_t pd = base + o;
		pid_t tid;

		if (word(t, b + o) != pd || word(t, b + o + 2 * t->word) != pd)
			continue;
		if ((tid = tid_of(t, snap, pd, b + o, len - o)) > 0)
			return tid;
	}
	return 0;
}
