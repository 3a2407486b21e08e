/* SPDX-License-Identifier: MIT */
/*
 * pages-scan.c - the peers of `memlayout pages` in bench/pages-scan.
 *
 *   pages-scan target GIB STRIDE   map GIB GiB anonymous (no THP), write one
 *                                  page in STRIDE, print "pid=N", wait for
 *                                  end of stdin
 *   pages-scan scan PID            bare PAGEMAP_SCAN loop over every mapping
 *                                  of PID (from /proc/PID/maps)
 *   pages-scan pread PID           pread of PID's pagemap over every mapping,
 *                                  512 KiB (64 Ki entries) a call
 *
 * Both readers print the number of present pages, so the script can check
 * they agree with memlayout.  The ioctl's uapi is declared here for
 * headers older than Linux 6.7.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>

struct scan_arg {
	__u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct page_region { __u64 start, end, categories; };
#define PAGEMAP_SCAN_IOC _IOWR('f', 16, struct scan_arg)
#define IS_PRESENT (1u << 3)
#define IS_SWAPPED (1u << 4)
#define VEC 1024
#define CHUNK (64 * 1024)

static int target(long gib, long stride)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)gib << 30;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char c;

	if (p == MAP_FAILED || stride < 1)
		return 1;
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += (size_t)stride * page)
		p[off] = 1;
	printf("pid=%d\n", (int)getpid());
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

/* Each mapping of /proc/PID/maps below the vsyscall page: fn(start, end). */
static int each_mapping(int pid, int fd, uint64_t *count,
			int (*fn)(int fd, uint64_t lo, uint64_t hi, uint64_t *count))
{
	char path[64], line[4096];
	FILE *f;
	uint64_t lo, hi;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(f = fopen(path, "r")))
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 &&
		    lo < 0x800000000000ULL && fn(fd, lo, hi, count) < 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

static int scan_range(int fd, uint64_t lo, uint64_t hi, uint64_t *count)
{
	static struct page_region vec[VEC];
	uint64_t hw = lo;

	while (lo < hi) {
		struct scan_arg a = { sizeof(a), 0, lo, hi, 0, (uintptr_t)vec, VEC, 0,
				      0, 0, IS_PRESENT | IS_SWAPPED, IS_PRESENT | IS_SWAPPED };
		int n = ioctl(fd, PAGEMAP_SCAN_IOC, &a);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			uint64_t s = vec[i].start > hw ? vec[i].start : hw;
			if (vec[i].end > s && (vec[i].categories & IS_PRESENT))
				*count += (vec[i].end - s) / 4096;
			if (vec[i].end > hw)
				hw = vec[i].end;
		}
		if (n < VEC)
			break;
		lo = a.walk_end > hw ? a.walk_end : hw;
	}
	return 0;
}

static int pread_range(int fd, uint64_t lo, uint64_t hi, uint64_t *count)
{
	static uint64_t buf[CHUNK];

	for (uint64_t vpn = lo / 4096; vpn < hi / 4096; ) {
		size_t n = hi / 4096 - vpn > CHUNK ? CHUNK : hi / 4096 - vpn;
		ssize_t got = pread(fd, buf, n * 8, (off_t)(vpn * 8));
		if (got <= 0)
			return -1;
		n = (size_t)got / 8;
		for (size_t i = 0; i < n; i++)
			*count += buf[i] >> 63;
		vpn += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path[64];
	uint64_t count = 0;
	int fd, pid;

	if (argc == 4 && !strcmp(argv[1], "target"))
		return target(atol(argv[2]), atol(argv[3]));
	if (argc != 3 || (strcmp(argv[1], "scan") && strcmp(argv[1], "pread"))) {
		fputs("usage: pages-scan target GIB STRIDE | scan PID | pread PID\n", stderr);
		return 2;
	}
	pid = atoi(argv[2]);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	if ((fd = open(path, O_RDONLY)) < 0 ||
	    each_mapping(pid, fd, &count, argv[1][0] == 's' ? scan_range : pread_range) < 0) {
		perror(path);
		return 1;
	}
	printf("%" PRIu64 "\n", count);
	return 0;
}
