/* SPDX-License-Identifier: MIT */
/*
 * watch-lib.c - a shared library target-watch dlopens, with code and data
 * of known sizes: 64 KiB of .data and 1 MiB of .bss (so its bss is an
 * anonymous mapping of its own after the file's last page), for the
 * per-object sizes of `memlayout watch`.
 */
char watch_lib_data[64 << 10] = { 1 };
char watch_lib_bss[1 << 20];

int watch_lib_touch(void)
{
	return watch_lib_data[0] + watch_lib_bss[0];
}
