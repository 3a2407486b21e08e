/* SPDX-License-Identifier: MIT */
/* fullcost.c: what full check mode's cheaper paths must keep exact, run by
 * test_fullcost.py under MLALLOC_CHECK=full (alloc/guard.c, backtrace.c):
 *
 *   fullcost sites N   N rounds of a block from site_a and one from site_b,
 *                      both through take() at the same stack depth (the
 *                      same start for the walk memo, different callers),
 *                      each freed at once; then a site_b block freed twice:
 *                      the report must name site_b (not with FULLCOST_CLEAN,
 *                      for the ",stats" line)
 *   fullcost reuse     12,000 page blocks of 8000 bytes filled with 0xaa and
 *                      freed (94 MiB: past the FIFO of freed runs), then
 *                      4,000 callocs of 8000 bytes: prints how many took an
 *                      address seen before and how many had a byte not 0
 *   fullcost uaf-late  a page block freed, then 2,000 more freed (16 MiB,
 *                      within the FIFO), then read: a use after free
 *   fullcost pxor N    N blocks allocated and freed through pxor_frame, whose
 *                      prologue zeroes an SSE register between its pushes and
 *                      saves the caller's rbp 8 words below its CFA (git's
 *                      compiler makes such prologues): its shape must be
 *                      learned from the prologue, not walked by DWARF each time
 *
 * Built -O2 -fomit-frame-pointer: the callers keep other values in rbp.
 * Sites are tagged @fc:NAME. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink;

__attribute__((noinline)) static void *take(size_t n)
{
	void *p = malloc(n);   /* @fc:take */
	sink = p;
	return p;
}

__attribute__((noinline)) static void *site_a(size_t n)
{
	void *p = take(n);   /* @fc:a */
	sink = p;
	return p;
}

__attribute__((noinline)) static void *site_b(size_t n)
{
	void *p = take(n + 1);   /* @fc:b */
	sink = (char *)p + 1;    /* not folded into site_a */
	return p;
}

static int sites(long n)
{
	for (long i = 0; i < n; i++) {
		free(site_a(24 + (size_t)(i & 7)));
		free(site_b(40 + (size_t)(i & 7)));
	}
	void *p = site_b(40);
	free(p);
	if (!getenv("FULLCOST_CLEAN"))
		free(p);   /* the double free: the report */
	return 0;
}

enum { OLD = 12000, NEW = 4000, SIZE = 8000 };

static int cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static int reuse(void)
{
	static uintptr_t seen[OLD];
	for (int i = 0; i < OLD; i++) {
		char *p = malloc(SIZE);
		memset(p, 0xaa, SIZE);
		seen[i] = (uintptr_t)p;
		free(p);
	}
	qsort(seen, OLD, sizeof(seen[0]), cmp);
	int again = 0, dirty = 0;
	for (int i = 0; i < NEW; i++) {
		unsigned char *p = calloc(1, SIZE);
		uintptr_t key = (uintptr_t)p;
		again += bsearch(&key, seen, OLD, sizeof(seen[0]), cmp) != NULL;
		for (int k = 0; k < SIZE; k++)
			if (p[k]) {
				dirty++;
				break;
			}
		free(p);
	}
	printf("reused %d of %d, not zero %d\n", again, NEW, dirty);
	return 0;
}

/* pxor_frame(n): pxor_leaf(n) from a frame that keeps a value of its own
 * in rbp and the caller's rbp past the six slots under its return address
 * (x86-64; elsewhere a plain call). */
void *pxor_leaf(size_t n);
void *pxor_frame(size_t n);
__attribute__((noinline, used)) void *pxor_leaf(size_t n)
{
	void *p = malloc(n);
	sink = p;
	return p;
}
#if defined(__x86_64__)
__asm__(".text\n"
	".type pxor_frame, @function\n"
	"pxor_frame:\n"
	".cfi_startproc\n"
	"pushq %r15\n.cfi_def_cfa_offset 16\n.cfi_offset %r15, -16\n"
	"pushq %r14\n.cfi_def_cfa_offset 24\n.cfi_offset %r14, -24\n"
	"pushq %r13\n.cfi_def_cfa_offset 32\n.cfi_offset %r13, -32\n"
	"pushq %r12\n.cfi_def_cfa_offset 40\n.cfi_offset %r12, -40\n"
	"pxor %xmm0, %xmm0\n"
	"pushq %rbx\n.cfi_def_cfa_offset 48\n.cfi_offset %rbx, -48\n"
	"leaq 1(%rbp), %rax\n"   /* no other slot holds the caller's rbp */
	"pushq %rax\n.cfi_def_cfa_offset 56\n"
	"pushq %rbp\n.cfi_def_cfa_offset 64\n.cfi_offset %rbp, -64\n"
	"movq %rbp, %rbx\nnotq %rbx\nmovq %rbx, %rbp\n"   /* rbp: not the caller's */
	"call pxor_leaf\n"
	"popq %rbp\n.cfi_def_cfa_offset 56\n"
	"popq %rbx\n.cfi_def_cfa_offset 48\n"
	"popq %rbx\n.cfi_def_cfa_offset 40\n"
	"popq %r12\n.cfi_def_cfa_offset 32\n"
	"popq %r13\n.cfi_def_cfa_offset 24\n"
	"popq %r14\n.cfi_def_cfa_offset 16\n"
	"popq %r15\n.cfi_def_cfa_offset 8\n"
	"ret\n"
	".cfi_endproc\n"
	".size pxor_frame, .-pxor_frame\n");
#else
void *pxor_frame(size_t n) { return pxor_leaf(n); }
#endif

static int pxor(long n)
{
	for (long i = 0; i < n; i++)
		free(pxor_frame(32));
	return 0;
}

static int uaf_late(void)
{
	char *x = malloc(SIZE);   /* @fc:late */
	memset(x, 1, SIZE);
	free(x);
	for (int i = 0; i < 2000; i++)
		free(malloc(SIZE));
	return ((volatile char *)x)[100];
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sites"))
		return sites(argc > 2 ? atol(argv[2]) : 1000);
	if (argc > 1 && !strcmp(argv[1], "reuse"))
		return reuse();
	if (argc > 1 && !strcmp(argv[1], "uaf-late"))
		return uaf_late();
	if (argc > 1 && !strcmp(argv[1], "pxor"))
		return pxor(argc > 2 ? atol(argv[2]) : 1000);
	fprintf(stderr, "usage: fullcost sites N | reuse | uaf-late | pxor N\n");
	return 2;
}
