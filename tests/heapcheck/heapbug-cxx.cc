// SPDX-License-Identifier: MIT
// heapbug-cxx.cc: heap bugs through new[] and delete[], chosen by argv[1];
// tags as in heapbug.c.
#include <cstdio>
#include <cstring>

static volatile int sink;

static void new_overflow()
{
	int *a = new int[10]; // @alloc:new-overflow
	a[10] = 1;
	delete[] a;
}

static void new_uaf_large()
{
	int *a = new int[4096]; // @alloc:new-uaf-large
	a[5] = 3;
	delete[] a; // @free:new-uaf-large
	sink = a[5];
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "new-overflow"))
		new_overflow();
	else if (argc == 2 && !strcmp(argv[1], "new-uaf-large"))
		new_uaf_large();
	else if (argc == 2 && !strcmp(argv[1], "clean"))
		delete[] new char[100], std::puts("clean");
	else
		return 2;
	return 0;
}
