/* SPDX-License-Identifier: MIT */
/*
 * test-render-table.c - the cells of the region table are formatted
 * without printf; they must read as the values put in, known by
 * construction: human sizes (a value built as i units and d tenths reads
 * "i.d", ties rounded half to even as "%.1f" does), hex addresses, device
 * numbers, byte counts; and the column table is constant.
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

static const char units[] = "BKMGTPE";

static void check_human(uint64_t v, const char *want)
{
	char got[32];

	ml_size_human(v, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("%" PRIu64 ": got %s, want %s", v, got, want);
}

/* Expected strings by construction, not by a second formatter: in unit u
 * (1024^u bytes), v = i units + d tenths + e, where 0 <= e stays clear of
 * the next half tenth, reads "i.d" (or "i" when v is whole units); an exact
 * half tenth (i.25, i.75: the only ones a power of two gives) rounds to
 * the even digit, as printf's "%.1f" does. */
static void test_size_human(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char want[32];

	(void)state;
	for (uint64_t v = 0; v < 1024; v++) {
		snprintf(want, sizeof(want), "%" PRIu64 "B", v);
		check_human(v, want);
	}
	for (int u = 1; u <= 6; u++) {
		uint64_t div = 1ull << (10 * u), room = div / 20 - div / 200;
		uint64_t imax = u == 6 ? 15 : 1023;
		for (uint64_t i = 1; i <= imax; i += (i < 40 || i > imax - 40) ? 1 : 37)
			for (unsigned int d = 0; d < 10; d++) {
				uint64_t base = i * div + d * div / 10 + (d * div % 10 ? 1 : 0);
				for (int k = 0; k < 12; k++) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					uint64_t e = k == 0 ? 0 : k == 1 ? room : x % room;
					uint64_t v = base + e;
					if (d == 0 && v == i * div)
						snprintf(want, sizeof(want), "%" PRIu64 "%c", i, units[u]);
					else
						snprintf(want, sizeof(want), "%" PRIu64 ".%u%c", i, d, units[u]);
					check_human(v, want);
				}
			}
		/* the ties: i.25 -> i.2 and i.75 -> i.8 */
		for (uint64_t i = 1; i <= imax; i += i < 64 ? 1 : 61) {
			snprintf(want, sizeof(want), "%" PRIu64 ".2%c", i, units[u]);
			check_human(i * div + div / 4, want);
			snprintf(want, sizeof(want), "%" PRIu64 ".8%c", i, units[u]);
			check_human(i * div + 3 * (div / 4), want);
		}
	}
	check_human(1280, "1.2K");                  /* 1.25: to even */
	check_human(1792, "1.8K");                  /* 1.75: to even */
	check_human(1023, "1023B");
	check_human(8ull << 20, "8M");
	check_human(1024 * 1024 - 1, "1024.0K");    /* the unit is chosen before rounding */
	check_human(UINT64_MAX, "16.0E");
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
