/* SPDX-License-Identifier: MIT */
/*
 * test-render-table.c - the cells of the region table are formatted
 * without printf; they must read exactly as printf wrote them: human sizes
 * (including "%.1f" ties, which printf rounds half to even), hex addresses,
 * device numbers, byte counts; and the column table is constant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

/* The printf formatting render-table.c used to have. */
static void human_ref(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	uint64_t div = 1;

	while (u < 6 && bytes >= div * 1024) {
		div *= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 "B", bytes);
	else if (bytes % div == 0)
		snprintf(buf, len, "%" PRIu64 "%c", bytes / div, units[u]);
	else
		snprintf(buf, len, "%.1f%c", (double)bytes / (double)div, units[u]);
}

static void check_human(uint64_t v)
{
	char got[32], want[32];

	ml_size_human(v, got, sizeof(got));
	human_ref(v, want, sizeof(want));
	if (strcmp(got, want))
		fail_msg("%" PRIu64 ": got %s, printf says %s", v, got, want);
}

static void test_size_human(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (uint64_t v = 0; v < 300000; v++)        /* B and K, every tie */
		check_human(v);
	for (int sh = 10; sh < 64; sh++)             /* around every power */
		for (int64_t d = -3000; d <= 3000; d++)
			check_human((1ull << sh) + (uint64_t)d);
	for (int u = 1; u <= 6; u++) {               /* exact ties of each unit */
		uint64_t div = 1ull << (10 * u);
		/* bytes / div = t.t5 exactly: (2t + 1) * div / 20 for t = 2 mod 5 */
		for (uint64_t t = 12; t < 10240; t += 5) {
			if (2 * t + 1 > UINT64_MAX / (div / 4))
				break;
			uint64_t v = (2 * t + 1) * (div / 4) / 5;
			if (v / div >= 1024)
				break;
			assert_true(v * 10 % div == div / 2 || v >= 1ull << 53);
			check_human(v);
		}
	}
	char buf[16];
	assert_string_equal(ml_size_human(1280, buf, sizeof(buf)), "1.2K");   /* 1.25: to even */
	assert_string_equal(ml_size_human(1792, buf, sizeof(buf)), "1.8K");   /* 1.75: to even */
	assert_string_equal(ml_size_human(1023, buf, sizeof(buf)), "1023B");
	assert_string_equal(ml_size_human(8ull << 20, buf, sizeof(buf)), "8M");
	for (int i = 0; i < 200000; i++) {           /* anything */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		check_human(x >> (x & 63));
	}
	check_human(UINT64_MAX);
}

static void test_size_human_short_buffer(void **state)
{
	char buf[4];

	(void)state;
	assert_string_equal(ml_size_human(1536, buf, sizeof(buf)), "1.5");
	assert_string_equal(ml_size_human(4096, buf, 3), "4K");
}

/* A one-region snapshot rendered with the given columns into a string. */
static char *render(const char *maps, const char *cols, unsigned int flags)
{
	struct ml_snapshot *s = calloc(1, sizeof(*s));
	int ids[32];
	size_t n;
	const char *bad;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(s);
	assert_non_null(f);
	assert_int_equal(ml__maps_parse_buffer(s, maps, strlen(maps), false), 0);
	assert_int_equal(ml_columns_parse(cols, ids, 32, &n, &bad), 0);
	struct ml_table_opts o = { ids, n, flags };
	assert_int_equal(ml_render_regions(s, f, &o), 0);
	fclose(f);
	ml_snapshot_free(s);
	return out;
}

static void test_cells(void **state)
{
	static const char maps[] =
		"7f958bcbc000-7f958bcbd000 r-xs 0001f000 fe:1a 4294967301  /tmp/x\n"
		"ffffffffff600000-ffffffffff601000 --xp 00000000 103:00 0  [vsyscall]\n";
	char *out;

	(void)state;
	out = render(maps, "START,END,SIZE,PERMS,OFFSET,DEV,INODE,NAME", ML_OUT_RAW | ML_OUT_NOHEADINGS);
	assert_string_equal(out,
		"0x7f958bcbc000 0x7f958bcbd000 4K r-xs 0x1f000 fe:1a 4294967301 /tmp/x\n"
		"0xffffffffff600000 0xffffffffff601000 4K --xp 0x0 103:00 0 [vsyscall]\n");
	free(out);
	out = render(maps, "SIZE,INODE", ML_OUT_JSON | ML_OUT_BYTES);
	assert_non_null(strstr(out, "\"size\": 4096,"));
	assert_non_null(strstr(out, "\"inode\": 4294967301"));
	free(out);
}

/* Addresses and offsets of every length, 1 to 16 hex digits, with every
 * digit value in every position: as printf's "0x%" PRIx64 (START, END and
 * OFFSET are built without it), through the bulk writer (raw, to a memory
 * stream) and through libsmartcols (JSON). */
static void test_hex_cells(void **state)
{
	char *maps = NULL, *want = NULL, *out;
	size_t mlen = 0, wlen = 0;
	FILE *m = open_memstream(&maps, &mlen), *w = open_memstream(&want, &wlen);
	uint64_t prev_end = 0;

	(void)state;
	assert_non_null(m);
	assert_non_null(w);
	for (int digits = 4; digits <= 16; digits++)
		for (int d = 0; d < 16; d++) {
			/* digits long, digit d in every place but the top one (1..f) */
			uint64_t v = (uint64_t)(d ? d : 1) << (4 * (digits - 1));
			for (int k = 3; k < digits - 1; k++)
				v |= (uint64_t)((d + k) & 15) << (4 * k);
			v &= ~(uint64_t)0xfff;
			if (v <= prev_end)
				continue;
			uint64_t end = v + 0x1000, off = (v >> 12) >> (4 * ((16 - digits) % 8));
			fprintf(m, "%" PRIx64 "-%" PRIx64 " r--p %08" PRIx64 " 08:01 1 /x\n", v, end, off);
			fprintf(w, "0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 "\n", v, end, off);
			prev_end = end;
		}
	fclose(m);
	fclose(w);
	out = render(maps, "START,END,OFFSET", ML_OUT_RAW | ML_OUT_NOHEADINGS);
	assert_string_equal(out, want);
	free(out);
	out = render(maps, "START", ML_OUT_JSON);
	assert_non_null(strstr(out, "\"start\": \"0x1000\""));
	free(out);
	free(maps);
	free(want);
}

static void test_columns_const(void **state)
{
	size_t n1, n2;
	const struct ml_column_info *a = ml_columns(&n1), *b = ml_columns(&n2);

	(void)state;
	assert_ptr_equal(a, b);
	assert_int_equal(n1, n2);
	assert_string_equal(a[0].name, "START");
	for (size_t i = 0; i < n1; i++)
		assert_true(a[i].name && a[i].help && a[i].whint > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_human),
		cmocka_unit_test(test_size_human_short_buffer),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_hex_cells),
		cmocka_unit_test(test_columns_const),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
