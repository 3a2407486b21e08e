/* SPDX-License-Identifier: MIT */
/* test-faults: the always-on checks.  Each case runs in a child process that
 * commits one error; the child must die of SIGABRT after printing one line
 * that names the call, the address and what it points into.  A case may
 * note() the address the line must name (known only in the child), and may
 * itself catch what the checks exist to prevent (malloc handing out a global
 * or a block twice): it then says so and exits 3 instead of aborting. */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcheck.h"

static int a_global = 42;
static void *volatile keep;

static int note_fd = -1;
/* The address the overflows plant: big enough that a malloc handing it out
 * (and clearing its second word) damages nothing else. */
static void *planted[4];

static void *free_in_thread(void *p) { free(p); return NULL; }

/* Tell the parent the address the message must name. */
static void note(const void *p)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%p", p);
	if (write(note_fd, s, (size_t)n) != n)
		_exit(4);
}

static _Noreturn void escaped(const char *what, const void *p)
{
	fprintf(stderr, "no abort: malloc returned %s %p\n", what, p);
	_exit(3);
}

/* p, hidden from the compiler: the overflows below are the bugs under test,
 * not undefined behaviour for it to optimise away. */
static char *hide(char *p)
{
	__asm__ volatile("" : "+r"(p) : : "memory");
	keep = p;
	return p;
}

/* Two neighbours a, b of 48 bytes, both live; b is the block after a. */
static void neighbours(char **ret_a, char **ret_b)
{
	for (int tries = 0; tries < 100; tries++) {
		char *a = malloc(48), *b = malloc(48);
		if (b == a + 48) {
			*ret_a = hide(a);
			*ret_b = b;
			return;
		}
	}
	fprintf(stderr, "no two neighbouring blocks in 100 tries\n");
	_exit(5);
}

/* 1000 mallocs of 48 bytes must not hand out the global, a misaligned
 * block, nor a block twice while it is live: they end in the check's abort. */
static void malloc_many(void)
{
	static char *seen[1000];
	for (int i = 0; i < 1000; i++) {
		char *p = hide(malloc(48));   /* malloc's result may not alias a global, says its attribute */
		if (p == (char *)planted)
			escaped("the planted global", p);
		if ((uintptr_t)p % 16)
			escaped("a misaligned block", p);
		for (int k = 0; k < i; k++)
			if (seen[k] == p)
				escaped("a live block again:", p);
		seen[i] = p;
	}
}

/* The case: 8 bytes past a, into its freed neighbour b's link. */
static void overflow8_into_free(void)
{
	char *a, *b, *c;
	neighbours(&a, &b);
	c = malloc(48);
	free(c);
	free(b);   /* b links to c */
	note(b);
	void *g = planted;
	memcpy(a + 48, &g, sizeof(g));
	malloc_many();
}

/* An off-by-one: the first byte of b changes. */
static void overflow1_into_free(void)
{
	char *a, *b, *c;
	neighbours(&a, &b);
	c = malloc(48);
	free(c);
	free(b);
	note(b);
	a[48] = (char)~a[48];
	malloc_many();
}

/* 16 bytes past a: b's link and its canary. */
static void overflow16_into_free(void)
{
	char *a, *b;
	neighbours(&a, &b);
	free(b);
	note(b);
	memset(a + 48, 0x41, 16);
	malloc_many();
}

/* The same through the remote-free stack: b freed by another thread. */
static void overflow8_into_remote_free(void)
{
	char *a, *b;
	neighbours(&a, &b);
	pthread_t t;
	pthread_create(&t, NULL, free_in_thread, b);
	pthread_join(t, NULL);
	note(b);
	void *g = planted;
	memcpy(a + 48, &g, sizeof(g));
	malloc_many();
}

static uintptr_t rotl(uintptr_t x, unsigned k) { return (x << k) | (x >> (64 - k)); }

/* What a use-after-free read of the free block a1 of size bytes, linking
 * to a2, tells: with both addresses its link word gives the link secret
 * (returned), its canary word the canary secret of a1's span (*canary). */
static uintptr_t learn_link_key(size_t size, uintptr_t *canary)
{
	char *a1 = malloc(size), *a2 = malloc(size);
	free(a2);
	free(a1);   /* a1 links to a2 */
	uintptr_t *w = (uintptr_t *)hide(a1);
	if (canary)
		*canary = w[1] ^ (uintptr_t)a1;
	return rotl(w[0], 48) ^ (uintptr_t)a1 ^ (uintptr_t)a2;
}

/* What a use-after-free read of one free block tells: its two words, which
 * with its address and its successor's give the canary secret and the link
 * secret of a scheme with one secret each per process.  With them, forge a
 * free block in a span of another class: make the live block y look free
 * and link the free block x to it (a use-after-free write).  Each span has
 * its own canary key, so y's pop must abort, not hand y out while live. */
static void forged_with_other_span_key(void)
{
	uintptr_t canary, linkkey = learn_link_key(48, &canary);
	char *x = malloc(96), *y = malloc(96);
	keep = y;
	free(x);
	uintptr_t *yw = (uintptr_t *)hide(y), *xw = (uintptr_t *)hide(x);
	yw[0] = rotl((uintptr_t)y ^ linkkey, 16);   /* y's next: NULL */
	yw[1] = canary ^ (uintptr_t)y;
	xw[0] = rotl((uintptr_t)y ^ (uintptr_t)x ^ linkkey, 16);
	note(y);
	for (int i = 0; i < 1000; i++) {
		char *p = hide(malloc(96));
		if (p == y)
			escaped("a live block again:", p);
	}
}

/* A link redirected into the middle of a live block of the same span, with
 * the link secret a use-after-free read learns: malloc follows a link that
 * stays inside the span's carved part without more checks, so the block
 * it leads to must fail its own canary when popped, not be handed out. */
static void link_into_block_middle(void)
{
	uintptr_t linkkey = learn_link_key(64, NULL);
	char *p = malloc(64), *q = malloc(64);
	memset(hide(q), 0, 64);
	free(p);
	char *mid = q + 16;
	note(q);
	((uintptr_t *)hide(p))[0] = rotl((uintptr_t)mid ^ (uintptr_t)p ^ linkkey, 16);
	for (int i = 0; i < 1000; i++) {
		char *r = hide(malloc(64));
		if (r == mid)
			escaped("the middle of a live block:", r);
	}
}

/* A pointer stored into a freed block (its link), then the block freed
 * again. */
static void double_free_after_link_write(void)
{
	char *p = malloc(48), *q = malloc(48);
	keep = q;
	free(p);
	note(p);
	*(void **)hide(p) = planted;
	free(p);
}

/* The whole freed block overwritten, then freed again: free cannot tell it
 * from a live block, so it goes on the list twice; malloc must not hand it
 * out twice. */
static void double_free_after_block_write(void)
{
	char *p = malloc(48), *q = malloc(48);
	keep = q;
	free(p);
	note(p);
	memset(hide(p), 0x41, 48);
	free(p);
	malloc_many();
}

/* A double free behind other frees (the block is not the list's head). */
static void double_free_deep(void)
{
	char *p = malloc(48), *q = malloc(48), *r = malloc(48);
	free(p);
	free(q);
	free(r);
	note(p);
	free(p);
}

static void double_free_small(void) { char *p = malloc(40); keep = p; free(p); free(p); }
static void double_free_remote(void)
{
	char *p = malloc(40);
	pthread_t t;
	pthread_create(&t, NULL, free_in_thread, p);
	pthread_join(t, NULL);
	free(p);
}
static void double_free_large(void) { char *p = malloc(3 << 20); free(p); free(p); }
static void free_stack(void) { int x = 1; keep = &x; free((void *)keep); }
static void free_global(void) { free(&a_global); }
static void free_interior(void) { char *p = malloc(64); free(p + 8); }
static void free_interior_large(void) { char *p = malloc(2 << 20); free(p + 4096); }
/* free's fast path leaves these to its checked path through the span
 * bound alone (a free span and the header page have limit 0). */
static char *seg_of(void *p) { return (char *)((uintptr_t)p & ~(((uintptr_t)4 << 20) - 1)); }
/* Above the 47 address bits, at a block's place in a segment of ours: free's
 * fast path masks the address into its segment map. */
static void free_high_alias(void) { char *p = malloc(16); keep = p; free(p + ((uintptr_t)1 << 47)); }
static void free_seg_header(void) { char *p = malloc(16); keep = p; free(seg_of(p)); }
static void free_free_pages(void) { char *p = malloc(16); keep = p; free(seg_of(p) + ((size_t)63 << 16)); }
/* A link redirected to a live block of another span of the same segment,
 * with the link secret a use-after-free read learns: malloc follows a link
 * that stays in the segment (mla__page_pop), so the pop of the block it
 * leads to must abort, naming it as outside the span, not hand it out. */
static void link_into_other_span(void)
{
	uintptr_t linkkey = learn_link_key(64, NULL);
	char *z = malloc(96), *p = malloc(64);   /* z: a span of another class */
	keep = z;
	if (seg_of(z) != seg_of(p))
		_exit(3);   /* the case needs both in one segment */
	memset(hide(z), 0, 96);
	free(p);
	note(z);
	((uintptr_t *)hide(p))[0] = rotl((uintptr_t)z ^ (uintptr_t)p ^ linkkey, 16);
	for (int i = 0; i < 1000; i++) {
		char *r = hide(malloc(64));
		if (r == z)
			escaped("a block of another span:", r);
	}
}
static void realloc_freed(void) { char *p = malloc(100); free(p); keep = realloc(p, 200); }
static void usable_interior(void) { char *p = malloc(64); keep = (void *)malloc_usable_size(p + 16); }

static const struct fault_case {
	const char *name;
	void (*run)(void);
	const char *expect[3];
} cases[] = {
	{ "double free", double_free_small, { "free(): double free of 0x", "block of 48 bytes is already free" } },
	{ "double free, second in another thread", double_free_remote, { "free(): double free of 0x" } },
	{ "double free of a large block", double_free_large, { "free(): double free of 0x", "large block" } },
	{ "free of a stack address", free_stack, { "free(): invalid pointer 0x", "not allocated by mlalloc", "[stack]" } },
	{ "free of a global", free_global, { "not allocated by mlalloc; it points into the mapping", "test-alloc-faults" } },
	{ "free inside a block", free_interior, { "invalid pointer 0x", "inside the block 0x", "of 64 bytes, at offset 8" } },
	{ "free inside a large block", free_interior_large, { "inside the block", "at offset 4096" } },
	{ "free of a block's address with bit 47 set", free_high_alias, { "free(): invalid pointer 0x", "not allocated by mlalloc", "no mapping" } },
	{ "free of a segment's header", free_seg_header, { "free(): heap metadata damaged near 0x" } },
	{ "free into free pages of a segment", free_free_pages, { "free(): invalid pointer 0x", "points into free pages of the mlalloc segment 0x" } },
	{ "realloc of a freed block", realloc_freed, { "realloc(): double free of 0x" } },
	{ "malloc_usable_size inside a block", usable_interior, { "malloc_usable_size(): invalid pointer", "at offset 16" } },
	{ "8-byte overflow into a free block", overflow8_into_free, { "malloc(): corrupted free list", "the free block 0x", "of 48 bytes" } },
	{ "1-byte overflow into a free block", overflow1_into_free, { "malloc(): corrupted free list", "the free block 0x" } },
	{ "16-byte overflow into a free block", overflow16_into_free, { "malloc(): corrupted free block 0x", "of 48 bytes" } },
	{ "8-byte overflow into a remotely freed block", overflow8_into_remote_free, { "malloc(): corrupted free list" } },
	{ "double free after a write of its link", double_free_after_link_write, { "free(): double free of 0x", "written after it was freed" } },
	{ "double free after a write of the whole block", double_free_after_block_write, { "malloc(): corrupted free block 0x" } },
	{ "double free behind other frees", double_free_deep, { "free(): double free of 0x", "already free" } },
	{ "link redirected into the middle of a live block", link_into_block_middle, { "malloc(): corrupted free list", "of 64 bytes" } },
	{ "link redirected to a live block of another span", link_into_other_span, { "malloc(): corrupted free list", "outside its span of 64-byte blocks" } },
	{ "free block forged with a key learned in another span", forged_with_other_span_key, { "malloc(): corrupted free block 0x", "of 96 bytes" } },
};

int main(void)
{
	int failed = 0, passed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fds[2], notes[2];
		CHECK(pipe(fds) == 0);
		CHECK(pipe(notes) == 0);
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			dup2(fds[1], 2);
			note_fd = notes[1];
			cases[i].run();
			_exit(0);
		}
		close(fds[1]);
		close(notes[1]);
		char want[32];
		ssize_t wl = read(notes[0], want, sizeof(want) - 1);
		want[wl > 0 ? wl : 0] = 0;
		close(notes[0]);
		char buf[2048];
		size_t len = 0;
		ssize_t n;
		while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = 0;
		close(fds[0]);
		int st;
		waitpid(pid, &st, 0);
		bool ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strncmp(buf, "mlalloc: ", 9) == 0;
		for (int k = 0; k < 3 && cases[i].expect[k]; k++)
			ok = ok && strstr(buf, cases[i].expect[k]);
		ok = ok && (!want[0] || strstr(buf, want));
		printf("%s: %s\n  %s", ok ? "ok  " : "FAIL", cases[i].name, len ? buf : "(no message)\n");
		if (!ok)
			printf("  child %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited with", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		ok ? passed++ : failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
