// SPDX-License-Identifier: MIT
// cxx-crash.cc - C++ (built -fexceptions) crashing in a template in a
// namespace, and in a function whose symbol is a Rust legacy mangled name
// (set with an asm label: no Rust compiler needed), for the demangled
// backtrace of `memlayout run`.  `cxx-crash template|rust`.
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ns {
struct Widget {
	int pad[5];
	int v;
};

template <class T> __attribute__((noinline)) int read(const T *w)
{
	return w->v;    // LINE:template
}
}  // namespace ns

extern "C" __attribute__((noinline)) int rust_crash(const volatile int *p)
	__asm__("_ZN7mycrate6module5crash17h0123456789abcdefE");
extern "C" __attribute__((noinline)) int rust_crash(const volatile int *p)
{
	return p[3];    // LINE:rust
}

static int run(const char *mode)
{
	try {
		if (!std::strcmp(mode, "template"))
			return ns::read<ns::Widget>(nullptr);
		if (!std::strcmp(mode, "rust"))
			return rust_crash(nullptr);
		throw std::invalid_argument(mode);
	} catch (const std::invalid_argument &e) {
		std::fprintf(stderr, "cxx-crash: unknown mode '%s'\n", e.what());
		return 2;
	}
}

int main(int argc, char **argv)
{
	return run(argc > 1 ? argv[1] : "");
}
