/* SPDX-License-Identifier: MIT */
/*
 * pagemap.c - what the kernel tells of a process's pages: the 64-bit
 * entries of /proc/PID/pagemap, decoded, and for a present page the flags
 * and map count of its physical frame (/proc/kpageflags, /proc/kpagecount,
 * root only).  Without CAP_SYS_ADMIN the kernel reads PFNs as 0: such pages
 * are flagged ML_PAGE_PFN_HIDDEN, never reported as frame 0.
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PM_PFN_MASK       ((1ULL << 55) - 1)
#define PM_SWAP_TYPE_MASK 0x1fULL
#define PM_SWAP_OFF_SHIFT 5

struct ml_pagemap {
	int fd;                   /* /proc/PID/pagemap */
	int kflags_fd;            /* /proc/kpageflags or -1 */
	int kcount_fd;            /* /proc/kpagecount or -1 */
	uint64_t page_size;
};

/* The flag bits of an entry that map one to one onto ML_PAGE_*. */
static const struct {
	unsigned int bit;
	unsigned int flag;
} entry_bits[] = {
	{ 63, ML_PAGE_PRESENT },
	{ 61, ML_PAGE_FILE_SHARED },
	{ 56, ML_PAGE_EXCLUSIVE },
	{ 58, ML_PAGE_GUARD },
	{ 55, ML_PAGE_SOFT_DIRTY },
	{ 57, ML_PAGE_UFFD_WP },
};

void ml_page_decode(uint64_t entry, struct ml_page *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->entry = entry;
	for (size_t i = 0; i < ML_ARRAY_SIZE(entry_bits); i++)
		if (entry >> entry_bits[i].bit & 1)
			ret->flags |= entry_bits[i].flag;
	if (ret->flags & ML_PAGE_GUARD)
		return;           /* a marker, not a swap entry: bit 62 says nothing */
	if (ret->flags & ML_PAGE_PRESENT) {
		ret->pfn = entry & PM_PFN_MASK;
		if (!ret->pfn)
			ret->flags |= ML_PAGE_PFN_HIDDEN;
	} else if (entry >> 62 & 1) {
		ret->flags |= ML_PAGE_SWAPPED;
		ret->swap_type = entry & PM_SWAP_TYPE_MASK;
		ret->swap_offset = (entry & PM_PFN_MASK) >> PM_SWAP_OFF_SHIFT;
	}
}

/* include/uapi/linux/kernel-page-flags.h */
static const char *const kpf_names[] = {
	[0] = "locked", [1] = "error", [2] = "referenced", [3] = "uptodate",
	[4] = "dirty", [5] = "lru", [6] = "active", [7] = "slab",
	[8] = "writeback", [9] = "reclaim", [10] = "buddy", [11] = "mmap",
	[12] = "anon", [13] = "swapcache", [14] = "swapbacked",
	[15] = "compound_head", [16] = "compound_tail", [17] = "huge",
	[18] = "unevictable", [19] = "hwpoison", [20] = "nopage", [21] = "ksm",
	[22] = "thp", [23] = "offline", [24] = "zero_page", [25] = "idle",
	[26] = "pgtable",
};

const char *ml_kpageflag_name(unsigned int bit)
{
	return bit < ML_ARRAY_SIZE(kpf_names) ? kpf_names[bit] : NULL;
}

int ml_pagemap_open(pid_t pid, const char *proc_root, struct ml_pagemap **ret)
{
	char dir[64], path[4096];
	struct ml_pagemap *pm;
	long ps;

	if (!proc_root)
		proc_root = "/proc";
	snprintf(dir, sizeof(dir), "%d", (int)pid);
	if (snprintf(path, sizeof(path), "%s/%s/pagemap", proc_root, dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm->fd < 0) {
		int err = errno == ENOENT ? -ESRCH : -errno;
		free(pm);
		return err;
	}
	snprintf(path, sizeof(path), "%s/kpageflags", proc_root);
	pm->kflags_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/kpagecount", proc_root);
	pm->kcount_fd = open(path, O_RDONLY | O_CLOEXEC);
	ps = sysconf(_SC_PAGESIZE);
	pm->page_size = ps > 0 ? (uint64_t)ps : 4096;
	*ret = pm;
	return 0;
}

void ml_pagemap_close(struct ml_pagemap *pm)
{
	if (!pm)
		return;
	close(pm->fd);
	if (pm->kflags_fd >= 0)
		close(pm->kflags_fd);
	if (pm->kcount_fd >= 0)
		close(pm->kcount_fd);
	free(pm);
}

/* pread of exactly len bytes at off; 0 or -errno (-EIO on a short file). */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int ml_pagemap_read(struct ml_pagemap *pm, uint64_t addr, size_t npages,
		    uint64_t *ret_entries)
{
	uint64_t vpn = addr / pm->page_size;
	int r;

	if (npages > (SIZE_MAX / 8) || vpn > UINT64_MAX / 8 - npages)
		return -EINVAL;
	r = pread_full(pm->fd, ret_entries, npages * 8, vpn * 8);
	/* A pagemap whose process is gone reads as end of file or ESRCH. */
	return r == -EIO || r == -ESRCH ? -ESRCH : r;
}

int ml_pagemap_frame(struct ml_pagemap *pm, struct ml_page *page)
{
	uint64_t v;
	int r;

	if (!(page->flags & ML_PAGE_PRESENT) || !page->pfn)
		return -ENODATA;
	if (pm->kflags_fd >= 0) {
		r = pread_full(pm->kflags_fd, &v, 8, page->pfn * 8);
		if (r < 0)
			return r;
		page->kflags = v;
		page->flags |= ML_PAGE_KFLAGS;
	}
	if (pm->kcount_fd >= 0) {
		r = pread_full(pm->kcount_fd, &v, 8, page->pfn * 8);
		if (r < 0)
			return r;
		page->mapcount = v;
		page->flags |= ML_PAGE_MAPCOUNT;
	}
	return 0;
}

bool ml_pagemap_frames_readable(const struct ml_pagemap *pm)
{
	return pm->kflags_fd >= 0 && pm->kcount_fd >= 0;
}

uint64_t ml_pagemap_page_size(const struct ml_pagemap *pm)
{
	return pm->page_size;
}

int ml_pagemap_fd(const struct ml_pagemap *pm)
{
	return pm->fd;
}
