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

#include <string.h>
#include <unistd.h>

#define TCB_FIELDS 2048u   /* bytes of struct pthread searched for tid */
#define TCB_BUDGET 4096u   /* reads a snapshot */

int ml__tcb_open(const struct ml_snapshot *snap, struct ml__tcb *t)
{
	return ml__probe_open(snap, TCB_BUDGET, &t->p);
}

static bool points_at(struct ml__probe *p, uint64_t where, uint64_t want)
{
	unsigned char b[8];

	return ml__probe_read(p, where, b, p->word) && ml__probe_word(p, b, 0) == want;
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
static pid_t tid_of(struct ml__probe *p, const struct ml_snapshot *snap, uint64_t pd,
		    const unsigned char *b, size_t n)
{
	for (size_t o = 3 * p->word; o + 4 <= n && o < TCB_FIELDS; o += 4) {
		uint32_t tid;
		uint64_t list = pd + o - 2 * p->word;

		memcpy(&tid, b + o, 4);
		if (tid == 0 || !is_task(snap, tid) || (o - 2 * p->word) % p->word)
			continue;
		uint64_t next = ml__probe_word(p, b + o - 2 * p->word, 0);
		uint64_t prev = ml__probe_word(p, b + o - p->word, 0);
		if (next && prev && points_at(p, next + p->word, list) && points_at(p, prev, list))
			return (pid_t)tid;
	}
	return 0;
}

pid_t ml__tcb_tid(struct ml__tcb *t, const struct ml_snapshot *snap, const struct ml_region *r)
{
	struct ml__probe *p = &t->p;
	unsigned char *b = t->buf;
	uint64_t max = r->end - r->start < ML__TCB_SCAN ? r->end - r->start : ML__TCB_SCAN;
	uint64_t len = 0, base;

	if (p->mem < 0)
		return 0;
	/* the present pages at its top (the descriptor's is: glibc wrote it) */
	while (len + p->page <= max && p->budget && p->budget-- &&
	       ml__probe_present(p, r->end - len - p->page))
		len += p->page;
	base = r->end - len;
	if (len == 0 || p->budget == 0 || pread(p->mem, b, len, (off_t)base) != (ssize_t)len)
		return 0;
	p->budget--;
	for (uint64_t o = 0; o + 3 * p->word <= len; o += p->word) {
		uint64_t pd = base + o;
		pid_t tid;

		if (ml__probe_word(p, b + o, 0) != pd || ml__probe_word(p, b + o, 2) != pd)
			continue;
		if ((tid = tid_of(p, snap, pd, b + o, len - o)) > 0)
			return tid;
	}
	return 0;
}
