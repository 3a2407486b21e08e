/* SPDX-License-Identifier: MIT */
/*
 * test-demangle.c - mangled names in their language's words (demangle.c):
 * Rust v0 names (_R...) against the test vectors of rustc-demangle, the
 * Rust project's own demangler (github.com/rust-lang/rustc-demangle,
 * src/v0.rs, tests demangle_crate_with_leading_digit, demangle_utf8_idents,
 * demangle_closure, demangle_dyn_trait: its non-alternate "{}" form, which
 * leaves out the crate hashes); names that are not v0, broken or too long
 * stay as they are; C++ and Rust legacy names as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ml-private.h"

static const struct { const char *mangled, *want; } v0[] = {
	{ "_RNvC6_123foo3bar", "123foo::bar" },
	{ "_RNqCs4fqI2P2rA04_11utf8_identsu30____7hkackfecea1cbdathfdh9hlq6y",
	  "utf8_idents::\xe1\x83\xa1\xe1\x83\x90\xe1\x83\xad\xe1\x83\x9b\xe1\x83\x94"
	  "\xe1\x83\x9a\xe1\x83\x90\xe1\x83\x93_\xe1\x83\x92\xe1\x83\x94\xe1\x83\x9b"
	  "\xe1\x83\xa0\xe1\x83\x98\xe1\x83\x94\xe1\x83\x9a\xe1\x83\x98_\xe1\x83\xa1"
	  "\xe1\x83\x90\xe1\x83\x93\xe1\x83\x98\xe1\x83\x9a\xe1\x83\x98" },
	{ "_RNCNCNgCs6DXkGYLi8lr_2cc5spawn00B5_", "cc::spawn::{closure#0}::{closure#0}" },
	{ "_RNCINkXs25_NgCsbmNqQUJIY6D_4core5sliceINyB9_4IterhENuNgNoBb_4iter8iterator"
	  "8Iterator9rpositionNCNgNpB9_6memchr7memrchrs_0E0Bb_",
	  "<core::slice::Iter<u8> as core::iter::iterator::Iterator>::rposition::"
	  "<core::slice::memchr::memrchr::{closure#1}>::{closure#0}" },
	{ "_RINbNbCskIICzLVDPPb_5alloc5alloc8box_freeDINbNiB4_5boxed5FnBoxuEp6OutputuEL_"
	  "ECs1iopQbuBiw2_3std",
	  "alloc::alloc::box_free::<dyn alloc::boxed::FnBox<(), Output = ()>>" },
};

static void test_rust_v0(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(v0) / sizeof(v0[0]); i++) {
		char *out = NULL;
		int r = ml__demangle(v0[i].mangled, &out);
		if (r == -ENOTSUP)
			skip();   /* built without libiberty */
		assert_int_equal(r, 0);
		assert_string_equal(out, v0[i].want);
		free(out);
	}
}

static void test_not_v0(void **state)
{
	static const char *const bad[] = {
		"_R", "_RNvC", "_RNvC6_123foo3ba", "_RNvC6_123foo3bar\x01", "_RX", "main",
	};
	char *out = (char *)"untouched", *big;
	size_t n = 8192;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = ml__demangle(bad[i], &out);
		assert_true(r == -ENOENT || r == -ENOTSUP);
		assert_string_equal(out, "untouched");
	}
	/* too long to be read: kept as it is */
	assert_non_null(big = malloc(n + 1));
	memcpy(big, "_RNvC6_123foo3bar", 17);
	memset(big + 17, 'x', n - 17);
	big[n] = '\0';
	assert_int_equal(ml__demangle(big, &out), -ENOENT);
	free(big);
	/* 4,000 nested paths with one name for them: refused, not read past */
	assert_non_null(big = malloc(4096));
	memcpy(big, "_R", 2);
	memset(big + 2, 'N', 4000);
	strcpy(big + 4002, "vC3foo3bar");
	assert_int_equal(ml__demangle(big, &out), -ENOENT);
	assert_string_equal(out, "untouched");
	free(big);
}

static void test_cxx_and_legacy(void **state)
{
	char *out = NULL;
	int r;

	(void)state;
	if ((r = ml__demangle("_ZN2ns4readEPKc", &out)) == -ENOTSUP)
		skip();   /* no libstdc++.so.6 */
	assert_int_equal(r, 0);
	assert_string_equal(out, "ns::read(char const*)");
	free(out);
	assert_int_equal(ml__demangle("_ZN7mycrate6module5crash17h0123456789abcdefE", &out), 0);
	assert_string_equal(out, "mycrate::module::crash");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rust_v0),
		cmocka_unit_test(test_not_v0),
		cmocka_unit_test(test_cxx_and_legacy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
