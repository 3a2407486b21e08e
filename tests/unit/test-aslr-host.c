/* SPDX-License-Identifier: MIT */
/*
 * test-aslr-host.c - ml_aslr_host_info (aslr-sample.c), the host's side of
 * `memlayout aslr` that the library reads for the CLI: randomize_va_space
 * as the kernel gives it (read here by a different route, strtol on the
 * whole file), and this process's ADDR_NO_RANDOMIZE persona, seen before
 * and after the test sets it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <unistd.h>

#include "memlayout.h"

static int va_space_by_read(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/randomize_va_space", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *end;
	long v;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	v = strtol(buf, &end, 10);
	return end == buf ? -1 : (int)v;
}

static void test_va_space(void **state)
{
	struct ml_aslr_info info = { .randomize_va_space = 1234 };

	(void)state;
	ml_aslr_host_info(&info);
	assert_int_equal(info.randomize_va_space, va_space_by_read());
	assert_true(info.randomize_va_space >= -1 && info.randomize_va_space <= 2);
}

static void test_persona(void **state)
{
	struct ml_aslr_info info;
	int persona = personality(0xffffffff);

	(void)state;
	assert_true(persona >= 0);
	ml_aslr_host_info(&info);
	assert_int_equal(info.no_randomize, (persona & ADDR_NO_RANDOMIZE) != 0);
	assert_true(personality(persona | ADDR_NO_RANDOMIZE) >= 0);
	ml_aslr_host_info(&info);
	assert_true(info.no_randomize);
	assert_true(personality(persona & ~ADDR_NO_RANDOMIZE) >= 0);
	ml_aslr_host_info(&info);
	assert_false(info.no_randomize);
	personality(persona);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_va_space),
		cmocka_unit_test(test_persona),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
