/* SPDX-License-Identifier: MIT */
/*
 * heapcheck.c - the heap bug mlalloc's checking mode found in a stopped
 * process (memlayout run --check=heap).  mlalloc fills its exported record
 * `mlalloc_check_report` (alloc/mlalloc-format.h) before it aborts or lets
 * a fault on its guard pages kill; we find the symbol in the tracee's
 * modules, read the record with one bounded read, and take it only when
 * its magic, version, kind and depths are in range: the record is in the
 * target's memory, so it is untrusted like everything there.
 */
#include "ml-crash.h"
#include "../../alloc/mlalloc-format.h"

#include <errno.h>
#include <string.h>

#define CHECK_SYMBOL "mlalloc_check_report"

/* enum ml_heapcheck_kind, in the order of mlalloc's enum. */
static const char *const kind_names[] = {
	[ML_HEAPCHECK_USE_AFTER_FREE] = "heap-use-after-free",
	[ML_HEAPCHECK_OVERFLOW] = "heap-buffer-overflow",
	[ML_HEAPCHECK_UNDERFLOW] = "heap-buffer-underflow",
	[ML_HEAPCHECK_DOUBLE_FREE] = "double-free",
	[ML_HEAPCHECK_INVALID_FREE] = "invalid-free",
};
_Static_assert(ML_ARRAY_SIZE(kind_names) == ML_HEAPCHECK__COUNT, "one name per kind");

const char *ml_heapcheck_kind_name(enum ml_heapcheck_kind k)
{
	return (unsigned)k < ML_HEAPCHECK__COUNT && kind_names[k] ? kind_names[k] : "?";
}

static const enum ml_heapcheck_access access_of[] = {
	[MLALLOC_ACCESS_UNKNOWN] = ML_HEAPCHECK_ACCESS_UNKNOWN,
	[MLALLOC_ACCESS_READ] = ML_HEAPCHECK_ACCESS_READ,
	[MLALLOC_ACCESS_WRITE] = ML_HEAPCHECK_ACCESS_WRITE,
	[MLALLOC_ACCESS_FREE] = ML_HEAPCHECK_ACCESS_FREE,
};

static const char *const access_names[] = {
	[ML_HEAPCHECK_ACCESS_UNKNOWN] = "unknown",
	[ML_HEAPCHECK_ACCESS_READ] = "read",
	[ML_HEAPCHECK_ACCESS_WRITE] = "write",
	[ML_HEAPCHECK_ACCESS_FREE] = "free",
};

const char *ml_heapcheck_access_name(enum ml_heapcheck_access a)
{
	return (unsigned)a < ML_ARRAY_SIZE(access_names) ? access_names[a] : "?";
}

/* The record's fields, checked, into ret. */
static int take(const struct mlalloc_check_report *r, struct ml_heapcheck *ret)
{
	if (r->magic != MLALLOC_CHECK_MAGIC)
		return -ENOENT;   /* no bug found (or not written yet) */
	if (r->version != MLALLOC_CHECK_VERSION || r->kind < MLALLOC_CHECK_USE_AFTER_FREE ||
	    r->kind > MLALLOC_CHECK_INVALID_FREE || r->access >= ML_ARRAY_SIZE(access_of) ||
	    r->depth_alloc > MLALLOC_CHECK_DEPTH || r->depth_free > MLALLOC_CHECK_DEPTH)
		return -EBADMSG;
	_Static_assert(ML_HEAPCHECK_DEPTH == MLALLOC_CHECK_DEPTH, "same depth");
	memset(ret, 0, sizeof(*ret));
	ret->kind = (enum ml_heapcheck_kind)(r->kind - MLALLOC_CHECK_USE_AFTER_FREE);
	ret->access = access_of[r->access];
	ret->address = r->address;
	ret->block = r->block;
	ret->size = r->size;
	ret->offset = r->offset;
	ret->tid = (pid_t)r->tid;
	ret->n_alloc = r->depth_alloc;
	ret->n_free = r->depth_free;
	memcpy(ret->alloc_pc, r->alloc_bt, sizeof(ret->alloc_pc));
	memcpy(ret->free_pc, r->free_bt, sizeof(ret->free_pc));
	return 0;
}

int ml_heapcheck_read(pid_t pid, struct ml_heapcheck *ret)
{
	struct mlalloc_check_report r;
	uint64_t sym;
	int e;

	if (pid <= 0 || !ret)
		return -EINVAL;
	if ((e = ml__tracee_symbol(pid, CHECK_SYMBOL, &sym)) < 0)
		return e;
	if (ml_tracee_read(pid, sym, &r, sizeof(r)) != (ssize_t)sizeof(r))
		return -EFAULT;
	return take(&r, ret);
}

#define LEAK_SYMBOL "mlalloc_leak_report"

int ml_heapleaks_read(pid_t pid, struct ml_heapleaks *ret)
{
	struct mlalloc_leak_report r;
	uint64_t sym;
	int e;

	_Static_assert(ML_HEAPCHECK_LEAK_GROUPS == MLALLOC_LEAK_GROUPS, "same groups");
	if (pid <= 0 || !ret)
		return -EINVAL;
	if ((e = ml__tracee_symbol(pid, LEAK_SYMBOL, &sym)) < 0)
		return e;
	if (ml_tracee_read(pid, sym, &r, sizeof(r)) != (ssize_t)sizeof(r))
		return -EFAULT;
	if (r.magic != MLALLOC_LEAK_MAGIC)
		return -ENOENT;
	if (r.version != MLALLOC_CHECK_VERSION || r.ngroups > MLALLOC_LEAK_GROUPS ||
	    r.ngroups > r.ngroups_total)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	ret->bytes = r.bytes;
	ret->blocks = r.blocks;
	ret->ngroups = r.ngroups;
	ret->ngroups_total = r.ngroups_total;
	for (size_t i = 0; i < r.ngroups; i++) {
		if (r.groups[i].depth > MLALLOC_CHECK_DEPTH)
			return -EBADMSG;
		ret->groups[i].bytes = r.groups[i].bytes;
		ret->groups[i].blocks = r.groups[i].blocks;
		ret->groups[i].n = r.groups[i].depth;
		memcpy(ret->groups[i].pc, r.groups[i].bt, sizeof(ret->groups[i].pc));
	}
	return 0;
}
