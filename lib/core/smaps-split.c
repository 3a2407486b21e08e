/* SPDX-License-Identifier: MIT */
/*
 * smaps-split.c - the smaps figures of a mapping split in two (a .bss tail
 * the kernel merged with an anonymous mapping after it: elf.c, watch's
 * kinds) apportioned between the two parts, so that each row shows its
 * own resident memory and the rows still sum to the kernel's figures.
 *
 * The smaller part's pages are read from /proc/PID/pagemap: its resident
 * size is its present pages (at most the mapping's Rss), its swap its
 * swapped pages (at most Swap); the other part has the rest.  The figures
 * that are parts of the resident memory (Pss, dirty, clean, referenced,
 * anonymous, locked, huge) are split in the ratio of the resident sizes,
 * SwapPss in that of the swap; VmFlags and page sizes are the mapping's.
 * Every figure of the two parts sums to the mapping's exactly.
 *
 * Where the pages cannot be read (a core, a saved tree without pagemap,
 * no permission, the process gone, a part over SPLIT_MAX_PAGES) the
 * upper part keeps the mapping's figures and the lower part has none, as
 * a row without smaps: nothing is counted twice, nothing made up.
 */
#include "ml-core.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#define SPLIT_MAX_PAGES (1u << 24)   /* 64 GiB of 4K pages read at most */
#define SPLIT_CHUNK 512              /* pagemap entries per read */
#define PM_PRESENT (1ull << 63)
#define PM_SWAP    (1ull << 62)

/* The smaps fields that are parts of the resident memory. */
static const size_t resident_fields[] = {
	offsetof(struct ml_smaps, pss), offsetof(struct ml_smaps, pss_dirty),
	offsetof(struct ml_smaps, shared_clean), offsetof(struct ml_smaps, shared_dirty),
	offsetof(struct ml_smaps, private_clean), offsetof(struct ml_smaps, private_dirty),
	offsetof(struct ml_smaps, referenced), offsetof(struct ml_smaps, anonymous),
	offsetof(struct ml_smaps, locked), offsetof(struct ml_smaps, anon_huge),
	offsetof(struct ml_smaps, shmem_pmd), offsetof(struct ml_smaps, file_pmd),
};

/* Present and swapped pages of [start, end) in the pagemap fd: 0 or -errno. */
static int count_pages(int fd, uint64_t page, uint64_t start, uint64_t end,
		       uint64_t *ret_present, uint64_t *ret_swapped)
{
	uint64_t e[SPLIT_CHUNK], present = 0, swapped = 0;

	for (uint64_t vpn = start / page; vpn < end / page;) {
		size_t n = end / page - vpn < SPLIT_CHUNK ? (size_t)(end / page - vpn) : SPLIT_CHUNK;
		ssize_t got = pread(fd, e, n * 8, (off_t)(vpn * 8));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % 8)
			return got < 0 ? -errno : -EIO;
		for (size_t i = 0; i < (size_t)got / 8; i++) {
			present += !!(e[i] & PM_PRESENT);
			swapped += (e[i] & (PM_PRESENT | PM_SWAP)) == PM_SWAP;
		}
		vpn += (uint64_t)got / 8;
	}
	*ret_present = present;
	*ret_swapped = swapped;
	return 0;
}

/* part of whole in the ratio num/den (num <= den), never above whole */
static uint64_t share(uint64_t whole, uint64_t num, uint64_t den)
{
	if (!den || num >= den)
		return den ? whole : 0;
	return (uint64_t)((long double)whole * num / den);
}

/* Into part, the figures of the part of whole with rss and swap given;
 * into rest, whole less part. */
static void apportion(const struct ml_smaps *whole, uint64_t rss, uint64_t swap,
		      struct ml_smaps *part, struct ml_smaps *rest)
{
	*part = *whole;
	*rest = *whole;
	part->rss = rss < whole->rss ? rss : whole->rss;
	part->swap = swap < whole->swap ? swap : whole->swap;
	part->swap_pss = share(whole->swap_pss, part->swap, whole->swap);
	for (size_t i = 0; i < ML_ARRAY_SIZE(resident_fields); i++) {
		const uint64_t *w = (const uint64_t *)((const char *)whole + resident_fields[i]);
		uint64_t *p = (uint64_t *)((char *)part + resident_fields[i]);
		*p = share(*w, part->rss, whole->rss);
	}
	rest->rss = whole->rss - part->rss;
	rest->swap = whole->swap - part->swap;
	rest->swap_pss = whole->swap_pss - part->swap_pss;
	for (size_t i = 0; i < ML_ARRAY_SIZE(resident_fields); i++) {
		const uint64_t *w = (const uint64_t *)((const char *)whole + resident_fields[i]);
		const uint64_t *p = (const uint64_t *)((const char *)part + resident_fields[i]);
		*(uint64_t *)((char *)rest + resident_fields[i]) = *w - *p;
	}
}

/* Count the smaller part of lo|hi's pages: 0 or -errno. */
static int measure(const struct ml_snapshot *snap, const struct ml_region *lo,
		   const struct ml_region *hi, bool *ret_lo, uint64_t *ret_rss,
		   uint64_t *ret_swap)
{
	uint64_t page = snap->proc.page_size, present = 0, swapped = 0;
	bool small_lo = lo->end - lo->start <= hi->end - hi->start;
	const struct ml_region *m = small_lo ? lo : hi;
	char path[sizeof(snap->proc_dir) + 16];
	int fd, r;

	if (snap->core || !snap->proc_dir[0] || !page || (page & (page - 1)) ||
	    (m->end - m->start) / page > SPLIT_MAX_PAGES)
		return -ENOTSUP;
	snprintf(path, sizeof(path), "%s/pagemap", snap->proc_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	r = count_pages(fd, page, m->start, m->end, &present, &swapped);
	close(fd);
	if (r < 0)
		return r;
	*ret_lo = small_lo;
	*ret_rss = present * page;
	*ret_swap = swapped * page;
	return 0;
}

int ml__smaps_split(struct ml_snapshot *snap, size_t i)
{
	struct ml_region *lo = &snap->regions[i], *hi = lo + 1;
	struct ml_smaps *a, *b;
	uint64_t rss, swap;
	bool small_lo;

	if (!lo->have_smaps || measure(snap, lo, hi, &small_lo, &rss, &swap) < 0) {
		lo->smaps = &ml__no_smaps;   /* the figures stay with the upper part */
		lo->have_smaps = false;
		return 0;
	}
	if (!(a = ml__alloc(snap, sizeof(*a))) || !(b = ml__alloc(snap, sizeof(*b))))
		return -ENOMEM;
	apportion(lo->smaps, rss, swap, a, b);
	lo->smaps = small_lo ? a : b;
	hi->smaps = small_lo ? b : a;
	return 0;
}
