/* SPDX-License-Identifier: MIT */
/*
 * snapshot-self.c - a user of the installed libmemlayout (tests/install):
 * built against <memlayout/memlayout.h> with the flags pkg-config gives
 * for memlayout.pc, it takes a snapshot of itself and prints the number
 * of its regions and the file libmemlayout was mapped from.
 */
#include <memlayout/memlayout.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	struct ml_snapshot *snap;
	int r = ml_snapshot_take(getpid(), NULL, &snap);

	if (r < 0) {
		fprintf(stderr, "snapshot-self: ml_snapshot_take: %s\n", strerror(-r));
		return 1;
	}
	size_t n;
	const struct ml_region *regs = ml_snapshot_regions(snap, &n);
	printf("regions %zu\n", n);
	for (size_t i = 0; i < n; i++)
		if (strstr(regs[i].name, "/libmemlayout.so") && regs[i].kind == ML_KIND_TEXT)
			printf("library %s\n", regs[i].name);
	ml_snapshot_free(snap);
	return 0;
}
