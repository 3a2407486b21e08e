/* SPDX-License-Identifier: MIT */
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
	/* Invisible format characters (Cf): each byte as \xHH. */
	check("evil\xe2\x80\xaegnp.exe", ML_ESC_TERM, "evil\\xe2\\x80\\xaegnp.exe");  /* RLO */
	check("z\xe2\x80\x8bw\xef\xbb\xbf", ML_ESC_TERM, "z\\xe2\\x80\\x8bw\\xef\\xbb\\xbf");
	check("i\xe2\x81\xa6\xe2\x81\xa9", ML_ESC_TERM, "i\\xe2\\x81\\xa6\\xe2\\x81\\xa9");
	check("alm\xd8\x9c shy\xc2\xad", ML_ESC_TERM, "alm\\xd8\\x9c shy\\xc2\\xad");
	check("tag\xf3\xa0\x81\x81", ML_ESC_TERM, "tag\\xf3\\xa0\\x81\\x81");  /* U+E0041 */
	/* Neighbours that show: em dash, U+2070, U+FEFE, U+0628. */
	check("\xe2\x80\x94\xe2\x81\xb0\xef\xbb\xbe\xd8\xa8", ML_ESC_TERM,
	      "\xe2\x80\x94\xe2\x81\xb0\xef\xbb\xbe\xd8\xa8");
	/* JSON-safe mode leaves them to the JSON stream. */
	check("evil\xe2\x80\xae", ML_ESC_JSON_SAFE, "evil\xe2\x80\xae");
}

static void test_json(void **state)
{
	(void)state;
	/* Control bytes are left to the JSON writer; invalid UTF-8 is not. */
	check("a\033b\n", ML_ESC_JSON_SAFE, "a\033b\n");
	check("x\xff", ML_ESC_JSON_SAFE, "x\\xff");
	check("caf\xc3\xa9", ML_ESC_JSON_SAFE, "caf\xc3\xa9");
}

/* in written to ml_json_stream() in writes of step bytes (0: at once). */
static void check_stream(const char *in, size_t step, const char *want)
{
	char *buf = NULL;
	size_t len = 0, n = strlen(in);
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	FILE *j = ml_json_stream(mem);
	assert_non_null(j);
	for (size_t i = 0; i < n; i += step ? step : n) {
		size_t k = step && n - i > step ? step : n - i;
		assert_int_equal(fwrite(in + i, 1, k, j), k);
		assert_int_equal(fflush(j), 0);   /* each piece a write of its own */
	}
	assert_int_equal(fclose(j), 0);
	assert_int_equal(fclose(mem), 0);
	assert_string_equal(buf, want);
	free(buf);
}

static void test_json_stream(void **state)
{
	static const char in[] =
		"{\"name\": \"del\x7f \xe2\x80\xae" "evil \xd8\x9c \xe2\x81\xa6"
		"caf\xc3\xa9 \xe2\x80\x94 \xe2\x81\xb0 \xd8\xa8 \xe2\x80\x8f\"}\n";
	static const char want[] =
		"{\"name\": \"del\\u007f \\u202eevil \\u061c \\u2066"
		"caf\xc3\xa9 \xe2\x80\x94 \xe2\x81\xb0 \xd8\xa8 \\u200f\"}\n";
	static const char in2[] =
		"[\"z\xe2\x80\x8bw \xef\xbb\xbf \xe2\x81\xaa tag\xf3\xa0\x81\x81 \xf0\x9f\x98\x80\"]";
	static const char want2[] =
		"[\"z\\u200bw \\ufeff \\u206a tag\\udb40\\udc41 \xf0\x9f\x98\x80\"]";

	(void)state;
	/* DEL and the bidi controls (RLO, ALM, LRI, RLM) become \u escapes;
	 * other text, neighbours of theirs included (em dash U+2014, U+2070,
	 * U+0628), passes as it is, however the writes cut the sequences. */
	for (size_t step = 0; step <= 4; step++)
		check_stream(in, step, want);
	/* Every invisible character (ZWSP, BOM, U+206A, a tag character past
	 * U+FFFF: a surrogate pair); an emoji (4 bytes) passes. */
	for (size_t step = 0; step <= 5; step++)
		check_stream(in2, step, want2);
	check_stream("cut \xf3\xa0\x81", 1, "cut \xf3\xa0\x81");
	check_stream("end cut \xe2\x80", 1, "end cut \xe2\x80");
	check_stream("\x7f\x7f", 0, "\\u007f\\u007f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_term),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
