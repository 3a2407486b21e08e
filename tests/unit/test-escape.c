/*
 * test-escape.c - text the target controls never reaches a terminal raw,
 * and JSON always gets valid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "memlayout.h"

static void check(const char *in, enum ml_escape mode, const char *want)
{
	char *out = ml_escape(in, mode);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_term(void **state)
{
	(void)state;
	check("/tmp/plain name", ML_ESC_TERM, "/tmp/plain name");
	check("a\033[31mred", ML_ESC_TERM, "a\\x1b[31mred");
	check("new\nline\ttab\r", ML_ESC_TERM, "new\\x0aline\\x09tab\\x0d");
	check("back\\slash", ML_ESC_TERM, "back\\\\slash");
	check("del\x7f", ML_ESC_TERM, "del\\x7f");
	check("caf\xc3\xa9 \xe2\x86\x92", ML_ESC_TERM, "caf\xc3\xa9 \xe2\x86\x92");  /* UTF-8 kept */
	check("bad\xff\xc3", ML_ESC_TERM, "bad\\xff\\xc3");
	check("c1\xc2\x9b" "31m", ML_ESC_TERM, "c1\\xc2\\x9b31m");            /* C1 CSI */
	check("over\xc0\xaf", ML_ESC_TERM, "over\\xc0\\xaf");                 /* overlong */
	check("surr\xed\xa0\x80", ML_ESC_TERM, "surr\\xed\\xa0\\x80");
}

static void test_json(void **state)
{
	(void)state;
	/* Control bytes are left to the JSON writer; invalid UTF-8 is not. */
	check("a\033b\n", ML_ESC_JSON_SAFE, "a\033b\n");
	check("x\xff", ML_ESC_JSON_SAFE, "x\\xff");
	check("caf\xc3\xa9", ML_ESC_JSON_SAFE, "caf\xc3\xa9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_term),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
