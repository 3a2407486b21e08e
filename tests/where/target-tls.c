/* SPDX-License-Identifier: MIT */
/*
 * target-tls.c - a program with thread-local storage (.tdata, .tbss) for
 * test_where_sections.py: prints ready=0x1 and waits until its stdin
 * closes.
 */
#include <stdio.h>

__thread int tls_data[64] = { 1, 2, 3 };   /* .tdata */
__thread char tls_bss[8192];               /* .tbss */
int data_var[256] = { 4 };                  /* .data */
char bss_var[16384];                        /* .bss */

int main(void)
{
	char buf[16];

	tls_bss[0] = (char)tls_data[1];
	bss_var[0] = (char)data_var[0];
	printf("tls=%p\nready=0x1\n", (void *)tls_data);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin))
		;
	return tls_bss[0] + bss_var[0] == 0;
}
