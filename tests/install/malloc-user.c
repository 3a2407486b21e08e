/* SPDX-License-Identifier: MIT */
/*
 * malloc-user.c - a program linked against the installed libmlalloc
 * through mlalloc.pc (tests/install): malloc and free come from it; it
 * prints the introspection format version and the file mlalloc was mapped
 * from.
 */
#include <mlalloc/mlalloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char line[4096];
	void *p = malloc(1000);
	FILE *maps = fopen("/proc/self/maps", "r");

	if (!p || !maps)
		return 1;
	free(p);
	printf("format %u\n", mlalloc_format_version());
	while (fgets(line, sizeof(line), maps)) {
		char *path = strchr(line, '/');
		if (path && strstr(path, "/libmlalloc.so") && strstr(line, " r-xp ")) {
			printf("library %s", path);
			break;
		}
	}
	fclose(maps);
	return mlalloc_purge();
}
