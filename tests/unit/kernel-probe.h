/* SPDX-License-Identifier: MIT */
/*
 * kernel-probe.h - what the running kernel offers, asked of the kernel
 * itself (never read from its version), for the cmocka tests whose cases
 * need a feature: a case that cannot run here says why and skips.
 *
 *   skip_because(fmt, ...)  prints "skip: CASE: REASON" on stdout (bootstrap
 *                           lists each skipped case with it), then skip()
 *   probe_pagemap_scan()    0 if PAGEMAP_SCAN (Linux 6.7+) works on
 *                           /proc/self/pagemap, else -errno (-ENOTTY: the
 *                           ioctl does not exist; -EINVAL: not this layout)
 *
 * Include after <cmocka.h>.
 */
#ifndef ML_TESTS_KERNEL_PROBE_H
#define ML_TESTS_KERNEL_PROBE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define skip_because(...) do {						\
		print_message("skip: %s: ", __func__);			\
		print_message(__VA_ARGS__);				\
		print_message("\n");					\
		skip();							\
	} while (0)

/* PAGEMAP_SCAN's argument (uapi of Linux 6.7), for older headers. */
struct probe_pm_scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct probe_page_region {
	__u64 start, end, categories;
};
#define PROBE_PAGEMAP_SCAN  _IOWR('f', 16, struct probe_pm_scan_arg)

/* One PAGEMAP_SCAN of this function's own stack page: 0, or -errno. */
static inline int probe_pagemap_scan(void)
{
	struct probe_page_region vec[1];
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t here = (uintptr_t)&vec & ~(uintptr_t)(page - 1);
	struct probe_pm_scan_arg arg = {
		.size = sizeof(arg), .start = here, .end = here + (uintptr_t)page,
		.vec = (uintptr_t)vec, .vec_len = 1,
		.category_anyof_mask = 1u << 3,        /* PAGE_IS_PRESENT */
		.return_mask = 1u << 3,
	};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, PROBE_PAGEMAP_SCAN, &arg) < 0 ? -errno : 0;
	close(fd);
	return r;
}

#endif
