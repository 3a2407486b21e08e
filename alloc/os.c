/* SPDX-License-Identifier: MIT */
/* os.c: the only file that talks to the kernel about memory (brk, mmap,
 * munmap, mremap, madvise, memfd, prctl).  Segments come from brk first: the
 * break is moved up to the next segment-aligned address plus MLA_BRK_AHEAD
 * segments, so the heap grows just after .bss, and the segments after the
 * first are handed out from that reserve without a syscall.  The reserve is
 * there for threads: moving the break expands the heap's VMA, which must
 * wait for every page fault in progress in it and makes later faults in it
 * wait (the mmap lock), so a thread taking its first segment stalled the
 * threads already running in theirs, and the sleep and wake-up put both on
 * one CPU until the next load balance (cache-scratch ran 1.04x glibc's
 * wall time at equal CPU time).  Reserved pages are never touched, so they
 * cost address space, not memory.  When brk is refused (RLIMIT_DATA, or a
 * mapping sits right above the break; a refused reserve is retried as one
 * segment), every later segment comes from mmap and brk is not tried
 * again.  All calls here are raw syscalls or libc wrappers that never
 * allocate. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define MLA_BRK_AHEAD 8   /* segments the break moves by at once */

static mla_lock brk_lock = MLA_LOCK_INIT;
/* Our part of the break is [brk_start, brk_end); segments [brk_start,
 * brk_next) were handed out, [brk_next, brk_end) is the untouched reserve. */
static uintptr_t brk_start, brk_next, brk_end;
static bool brk_failed;
bool mla__os_no_brk;

static uintptr_t sys_brk(uintptr_t to) { return (uintptr_t)syscall(SYS_brk, to); }

/* Move the break up so that [base, base + size) is ours, base aligned to
 * size, with the reserve after it if the kernel allows; under brk_lock.
 * (A reserve left below a break somebody else moved is given up.) */
static void *brk_grow(size_t size)
{
	uintptr_t cur = sys_brk(0);
	uintptr_t base = mla_align_up(cur, size);
	for (size_t n = MLA_BRK_AHEAD; ; n = 1) {
		uintptr_t want = base + n * size;
		if (base && want > base && sys_brk(want) == want) {
			if (!brk_start)
				brk_start = base;
			brk_next = base + size;
			brk_end = want;
			return (void *)base;
		}
		sys_brk(cur);   /* undo a partial move, if any */
		if (n == 1)
			return NULL;
	}
}

void *mla__os_brk_segment(size_t size, int *ret_from)
{
	void *p = NULL;
	mla_lock_take(&brk_lock);
	if (!brk_failed && !mla__os_no_brk) {
		if (brk_end && brk_end - brk_next >= size) {
			p = (void *)brk_next;   /* from the reserve: no syscall */
			brk_next += size;
		} else if (!(p = brk_grow(size))) {
			brk_failed = true;
		}
		if (p)
			*ret_from = MLALLOC_SEG_BRK;
	}
	mla_lock_drop(&brk_lock);
	if (!p) {
		p = mla__os_map_aligned(size, size);
		*ret_from = MLALLOC_SEG_MMAP;
	}
	return p;
}

/* The end of the segments handed out from our part of the break, 0 if
 * none.  No system call: brk(0) takes the process's mmap lock for writing
 * and would stall the page faults of every other thread at each decay
 * tick; whether the break is still ours (nobody called sbrk since) is
 * checked when a segment is given back. */
uintptr_t mla__os_brk_top(void)
{
	mla_lock_take(&brk_lock);
	uintptr_t top = brk_next > brk_start ? brk_next : 0;
	mla_lock_drop(&brk_lock);
	return top;
}

/* Lower the break to seg when [seg, seg + size) is the top segment handed
 * out (the reserve above it goes too); false (nothing changed) otherwise. */
bool mla__os_brk_release(void *seg, size_t size)
{
	bool done = false;
	mla_lock_take(&brk_lock);
	uintptr_t s = (uintptr_t)seg;
	if (s >= brk_start && s + size == brk_next && sys_brk(0) == brk_end && sys_brk(s) == s) {
		brk_next = brk_end = s;
		done = true;
	}
	mla_lock_drop(&brk_lock);
	return done;
}

void mla__os_info(struct mla_os_info *ret)
{
	ret->brk_start = brk_start;
	ret->brk_end = brk_end;
	ret->brk_failed = brk_failed;
}

void *mla__os_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* size bytes aligned to align (a power of two >= the OS page): map more,
 * then trim both ends. */
void *mla__os_map_aligned(size_t size, size_t align)
{
	size_t over = size + align;
	if (over < size)
		return NULL;
	uint8_t *raw = mla__os_map(over);
	if (!raw)
		return NULL;
	uint8_t *p = (uint8_t *)mla_align_up((uintptr_t)raw, align);
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	size_t tail = (size_t)(raw + over - (p + size));
	if (tail)
		munmap(p + size, tail);
	return p;
}

void mla__os_unmap(void *p, size_t size) { munmap(p, size); }

void mla__os_purge(void *p, size_t size) { madvise(p, size, MADV_DONTNEED); }

/* The introspection region: an anonymous mapping named "mlalloc" where the
 * kernel can name them, else a private mapping of a memfd named "mlalloc"
 * (shows as /memfd:mlalloc), else (or when !name) a plain anonymous
 * mapping, which readers find through the exported symbol. */
void *mla__os_map_named(size_t size, bool name)
{
	void *p = mla__os_map(size);
	if (!name)
		return p;
	if (p && prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, size, (unsigned long)"mlalloc") == 0)
		return p;
	int fd = (int)syscall(SYS_memfd_create, "mlalloc", 1u /* MFD_CLOEXEC */);
	if (fd >= 0) {
		void *q = MAP_FAILED;
		if (ftruncate(fd, (off_t)size) == 0)
			q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
		if (q != MAP_FAILED) {
			if (p)
				munmap(p, size);
			return q;
		}
	}
	return p;
}

/* CLOCK_MONOTONIC_COARSE in ms, by a raw syscall: the libc wrapper sits
 * on code pages a small program would not otherwise touch (see heap.c env). */
uint64_t mla__now_ms(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mla__os_atfork(int phase)
{
	mla_lock_atfork(&brk_lock, phase);
}

/* Move a mapping to a new place aligned to align, growing it to new_size,
 * without copying its pages (mremap).  Returns the new base or NULL (the old
 * mapping is then untouched). */
void *mla__os_move(void *p, size_t old_size, size_t new_size, size_t align)
{
	uint8_t *to = mla__os_map_aligned(new_size, align);
	if (!to)
		return NULL;
	void *r = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (r == MAP_FAILED) {
		munmap(to, new_size);
		return NULL;
	}
	return r;
}

/* ---- the checking mode (guard.c) ---- */

/* An address range of len bytes (NORESERVE), inaccessible (guard pages)
 * or read-write (tables touched as used), named "[anon:NAME]" where the
 * kernel names anonymous mappings.  NULL on failure. */
void *mla__os_reserve(size_t len, bool rw, const char *name)
{
	void *p = mmap(NULL, len, rw ? PROT_READ | PROT_WRITE : PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, len, (unsigned long)name);
	return p;
}

/* Make [p, p + len) read-write or inaccessible; 0 or -errno. */
int mla__os_protect(void *p, size_t len, bool rw)
{
	return mprotect(p, len, rw ? PROT_READ | PROT_WRITE : PROT_NONE) == 0 ? 0 : -errno;
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102   /* Linux 6.13 */
#define MADV_GUARD_REMOVE 103
#endif

/* Put guard markers on [p, p + len) (any access faults; the pages are
 * dropped) or take them off; the VMA is not split.  0, or -errno
 * (-EINVAL before Linux 6.13). */
int mla__os_guard(void *p, size_t len, bool install)
{
	return madvise(p, len, install ? MADV_GUARD_INSTALL : MADV_GUARD_REMOVE) == 0 ? 0 : -errno;
}
