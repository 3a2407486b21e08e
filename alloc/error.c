/* SPDX-License-Identifier: MIT */
/* error.c: the fatal path of the always-on checks.  Writes one line to
 * stderr naming the call, the address and what it points into, then aborts.
 * Uses only write/open/read (no stdio, no allocation): the heap may be
 * damaged, and we may be inside malloc.  For memory that is not ours, the
 * line of /proc/self/maps holding the address says what it is. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct msg { char buf[4096]; size_t len; };

static void put(struct msg *m, const char *s)
{
	while (*s && m->len < sizeof(m->buf) - 1)
		m->buf[m->len++] = *s++;
}

static void put_hex(struct msg *m, uintptr_t v)
{
	char tmp[19] = "0x";
	int n = 0;
	char digits[16];
	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	for (int i = 0; i < n; i++)
		tmp[2 + i] = digits[n - 1 - i];
	tmp[2 + n] = 0;
	put(m, tmp);
}

static void put_dec(struct msg *m, uint64_t v)
{
	char tmp[21];
	int i = 20;
	tmp[i] = 0;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(m, tmp + i);
}

static uintptr_t parse_hex(const char **s)
{
	uintptr_t v = 0;
	for (;; (*s)++) {
		char c = **s;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return v;
		v = v * 16 + (uintptr_t)d;
	}
}

/* The /proc/self/maps line covering a, read a page at a time into line
 * (NUL-terminated, cut at len - 1): its range in *lo, *hi and the rest of
 * the line (from the perms field) in *rest.  0; -1 when no line covers
 * a; -2 when maps cannot be opened.  No allocation: it runs in an abort
 * path. */
static int maps_line(uintptr_t a, char *line, size_t len, uintptr_t *lo, uintptr_t *hi,
		     const char **rest)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	char buf[4096];
	size_t ll = 0;
	ssize_t n;

	if (fd < 0)
		return -2;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < len - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = 0;
			ll = 0;
			const char *s = line;
			*lo = parse_hex(&s);
			s++;
			*hi = parse_hex(&s);
			if (a < *lo || a >= *hi)
				continue;
			close(fd);
			while (*s == ' ')
				s++;
			*rest = s;
			return 0;
		}
	}
	close(fd);
	return -1;
}

/* Skip n blank-separated fields of s, and the blanks after them. */
static const char *skip_fields(const char *s, int n)
{
	for (int f = 0; f < n && *s; f++) {
		while (*s == ' ')
			s++;
		while (*s && *s != ' ')
			s++;
	}
	while (*s == ' ')
		s++;
	return s;
}

/* Append the maps line covering a, or "no mapping". */
static void put_mapping(struct msg *m, uintptr_t a)
{
	char line[512];
	uintptr_t lo, hi;
	const char *rest;

	int r = maps_line(a, line, sizeof(line), &lo, &hi, &rest);

	if (r < 0) {
		put(m, r == -2 ? "an address /proc/self/maps does not show" : "no mapping at all");
		return;
	}
	const char *name = skip_fields(rest, 4);   /* perms, offset, dev, inode */
	put(m, "the mapping ");
	put_hex(m, lo);
	put(m, "-");
	put_hex(m, hi);
	put(m, " ");
	put(m, *name ? name : "(anonymous)");
}

_Noreturn void mla__fatal(enum mla_fault fault, const char *func, const void *p,
                         const void *block, size_t block_size)
{
	struct msg m = { .len = 0 };
	put(&m, "mlalloc: ");
	put(&m, func);
	put(&m, "(): ");
	switch (fault) {
	case MLA_FAULT_FOREIGN:
		put(&m, "invalid pointer ");
		put_hex(&m, (uintptr_t)p);
		put(&m, ": not allocated by mlalloc; it points into ");
		put_mapping(&m, (uintptr_t)p);
		break;
	case MLA_FAULT_INTERIOR:
		put(&m, "invalid pointer ");
		put_hex(&m, (uintptr_t)p);
		put(&m, ": it points inside the block ");
		put_hex(&m, (uintptr_t)block);
		put(&m, " of ");
		put_dec(&m, block_size);
		put(&m, " bytes, at offset ");
		put_dec(&m, (uint64_t)((const uint8_t *)p - (const uint8_t *)block));
		break;
	case MLA_FAULT_FREE_SPAN:
		put(&m, "invalid pointer ");
		put_hex(&m, (uintptr_t)p);
		put(&m, ": it points into free pages of the mlalloc segment ");
		put_hex(&m, (uintptr_t)block);
		break;
	case MLA_FAULT_DOUBLE:
	case MLA_FAULT_LARGE_DOUBLE:
		put(&m, "double free of ");
		put_hex(&m, (uintptr_t)p);
		put(&m, fault == MLA_FAULT_DOUBLE ? ": the block of " : ": the large block of ");
		put_dec(&m, block_size);
		put(&m, " bytes is already free");
		break;
	case MLA_FAULT_FREE_LIST:
	case MLA_FAULT_FREE_BLOCK:
		put(&m, fault == MLA_FAULT_FREE_LIST ? "corrupted free list: the free block " : "corrupted free block ");
		put_hex(&m, (uintptr_t)p);
		put(&m, " of ");
		put_dec(&m, block_size);
		put(&m, fault == MLA_FAULT_FREE_LIST ? " bytes links to an address that is not a block of its span"
		                                    : " bytes has its canary overwritten");
		put(&m, " (written after it was freed, or by an overflow of the block before it)");
		break;
	case MLA_FAULT_FREE_LINK_INSIDE:
		put(&m, "corrupted free list: a free block links to ");
		put_hex(&m, (uintptr_t)p);
		put(&m, ", inside the block ");
		put_hex(&m, (uintptr_t)block);
		put(&m, " of ");
		put_dec(&m, block_size);
		put(&m, " bytes, not a block start (a link written after it was freed)");
		break;
	case MLA_FAULT_FREE_LINK_OUTSIDE:
		put(&m, "corrupted free list: a free block links to ");
		put_hex(&m, (uintptr_t)p);
		put(&m, ", outside its span of ");
		put_dec(&m, block_size);
		put(&m, "-byte blocks at ");
		put_hex(&m, (uintptr_t)block);
		put(&m, " (a link written after it was freed)");
		break;
	case MLA_FAULT_DOUBLE_WRITTEN:
		put(&m, "double free of ");
		put_hex(&m, (uintptr_t)p);
		put(&m, ": the block of ");
		put_dec(&m, block_size);
		put(&m, " bytes is already free, and was written after it was freed (corrupted free block)");
		break;
	case MLA_FAULT_CORRUPT:
		put(&m, "heap metadata damaged near ");
		put_hex(&m, (uintptr_t)p);
		put(&m, " (header ");
		put_hex(&m, (uintptr_t)block);
		put(&m, ")");
		break;
	}
	put(&m, "\n");
	ssize_t r = write(2, m.buf, m.len);
	(void)r;
	abort();
}

/* ---- the checking mode's reports (guard.c) ---- */

/* Read by a tracer from the stopped process: mlalloc-format.h. */
MLA_API struct mlalloc_check_report mlalloc_check_report;

static const char *const check_kind_name[] = {
	[MLALLOC_CHECK_NONE] = "heap-error",
	[MLALLOC_CHECK_USE_AFTER_FREE] = "heap-use-after-free",
	[MLALLOC_CHECK_OVERFLOW] = "heap-buffer-overflow",
	[MLALLOC_CHECK_UNDERFLOW] = "heap-buffer-underflow",
	[MLALLOC_CHECK_DOUBLE_FREE] = "double-free",
	[MLALLOC_CHECK_INVALID_FREE] = "invalid-free",
};

static const char *const check_access_name[] = {
	[MLALLOC_ACCESS_UNKNOWN] = "an access to",
	[MLALLOC_ACCESS_READ] = "a read of",
	[MLALLOC_ACCESS_WRITE] = "a write to",
	[MLALLOC_ACCESS_FREE] = "",
};

/* Append " module+0xoff" for the code address a (its maps line). */
static void put_module_offset(struct msg *m, uintptr_t a)
{
	char line[512];
	uintptr_t lo, hi;
	const char *rest;

	if (maps_line(a, line, sizeof(line), &lo, &hi, &rest) < 0)
		return;
	const char *s = skip_fields(rest, 1);      /* perms */
	uintptr_t off = parse_hex(&s);
	const char *name = skip_fields(s, 2);      /* dev, inode */
	put(m, " (");
	put(m, *name ? name : "(anonymous)");
	put(m, "+");
	put_hex(m, a - lo + off);
	put(m, ")");
}

static void put_trace(struct msg *m, const char *what, const uintptr_t *bt, unsigned depth)
{
	put(m, what);
	for (unsigned i = 0; i < depth; i++) {
		put(m, "\n    #");
		put_dec(m, i);
		put(m, " ");
		put_hex(m, bt[i]);
		put_module_offset(m, bt[i]);
	}
	if (!depth)
		put(m, " (no backtrace)");
}

static void put_check_block(struct msg *m, const struct mla_check_fault *f)
{
	int64_t off = (int64_t)(f->addr - f->block);
	put(m, " the block ");
	put_hex(m, f->block);
	put(m, " of ");
	put_dec(m, f->size);
	put(m, " bytes, at offset ");
	if (off < 0)
		put(m, "-");
	put_dec(m, (uint64_t)(off < 0 ? -off : off));
	if (off < 0) {
		put(m, " (");
		put_dec(m, (uint64_t)-off);
		put(m, " bytes before it)");
	} else if ((uint64_t)off >= f->size) {
		put(m, " (");
		put_dec(m, (uint64_t)off - f->size);
		put(m, " bytes after its end)");
	}
}

static void publish(const struct mla_check_fault *f)
{
	struct mlalloc_check_report *r = &mlalloc_check_report;
	r->version = MLALLOC_CHECK_VERSION;
	r->kind = f->kind;
	r->access = f->access;
	r->address = f->addr;
	r->block = f->block;
	r->size = f->size;
	r->offset = (int64_t)(f->addr - f->block);
	r->tid = (uint32_t)gettid();
	r->depth_alloc = f->depth_alloc;
	r->depth_free = f->depth_free;
	for (unsigned i = 0; i < MLALLOC_CHECK_DEPTH; i++) {
		r->alloc_bt[i] = i < f->depth_alloc ? f->bt_alloc[i] : 0;
		r->free_bt[i] = i < f->depth_free ? f->bt_free[i] : 0;
	}
	__atomic_store_n(&r->magic, MLALLOC_CHECK_MAGIC, __ATOMIC_RELEASE);
}

/* One paragraph: the bug, the address, the block and offset, the thread,
 * then the allocation and free backtraces as raw addresses with the
 * module and offset of each (the allocator cannot symbolize). */
void mla__check_report(const struct mla_check_fault *f)
{
	struct msg m = { .len = 0 };
	put(&m, "mlalloc: ");
	put(&m, check_kind_name[f->kind]);
	put(&m, ": ");
	if (f->func) {
		put(&m, f->func);
		put(&m, "(");
		put_hex(&m, f->addr);
		put(&m, ")");
	} else {
		put(&m, check_access_name[f->access]);
		put(&m, " ");
		put_hex(&m, f->addr);
	}
	if (f->block) {
		put(&m, f->kind == MLALLOC_CHECK_DOUBLE_FREE ? ": already freed," : ",");
		put_check_block(&m, f);
	} else {
		put(&m, ", in mlalloc's guarded pages but in no block");
	}
	if (f->how) {
		put(&m, " (");
		put(&m, f->how);
		put(&m, ")");
	}
	put(&m, ", in thread ");
	put_dec(&m, (uint64_t)gettid());
	put(&m, ".\n");
	if (f->block) {
		put_trace(&m, "  allocated at:", f->bt_alloc, f->depth_alloc);
		if (f->depth_free)
			put_trace(&m, "\n  freed at:", f->bt_free, f->depth_free);
		put(&m, "\n");
	}
	publish(f);
	ssize_t r = write(2, m.buf, m.len);
	(void)r;
}

/* ---- leaks at exit (leaks.c) ---- */

MLA_API struct mlalloc_leak_report mlalloc_leak_report;

uintptr_t mla__maps_end_of(uintptr_t a)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return a;
	char buf[4096], line[512];
	size_t ll = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = 0;
			ll = 0;
			const char *s = line;
			uintptr_t lo = parse_hex(&s);
			s++;
			uintptr_t hi = parse_hex(&s);
			if (a >= lo && a < hi) {
				close(fd);
				return hi;
			}
		}
	}
	close(fd);
	return a;
}

/* Publish r (mlalloc_leak_report), then, if it found leaks, print them:
 * the totals, then each group with its backtrace. */
void mla__leaks_print(struct mlalloc_leak_report *r)
{
	r->version = MLALLOC_CHECK_VERSION;
	memcpy(&mlalloc_leak_report, r, sizeof(*r));
	__atomic_store_n(&mlalloc_leak_report.magic, MLALLOC_LEAK_MAGIC, __ATOMIC_RELEASE);
	if (!r->blocks)
		return;
	struct msg m = { .len = 0 };
	put(&m, "mlalloc: leaks: ");
	put_dec(&m, r->bytes);
	put(&m, " bytes in ");
	put_dec(&m, r->blocks);
	put(&m, " blocks never freed and not referenced at exit, from ");
	put_dec(&m, r->ngroups_total);
	put(&m, " allocation sites (the largest first):\n");
	ssize_t w = write(2, m.buf, m.len);
	for (uint32_t i = 0; i < r->ngroups; i++) {
		m.len = 0;
		put(&m, "  ");
		put_dec(&m, r->groups[i].bytes);
		put(&m, " bytes in ");
		put_dec(&m, r->groups[i].blocks);
		put(&m, r->groups[i].blocks == 1 ? " block" : " blocks");
		uintptr_t bt[MLALLOC_CHECK_DEPTH];
		for (unsigned k = 0; k < MLALLOC_CHECK_DEPTH; k++)
			bt[k] = (uintptr_t)r->groups[i].bt[k];
		put_trace(&m, ", allocated at:", bt, r->groups[i].depth);
		put(&m, "\n");
		w = write(2, m.buf, m.len);
	}
	(void)w;
}
