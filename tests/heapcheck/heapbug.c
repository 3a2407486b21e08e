/* SPDX-License-Identifier: MIT */
/* heapbug.c: one heap bug per case, chosen by argv[1]; "clean" has none.
 * Each allocation and free that a report must name carries a tag comment
 * (@alloc:CASE, @free:CASE): the test finds the expected file:line there.
 * The "-thread" cases run the same bug in a second thread. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile char sink;
typedef void (*bug_fn)(void);

static void uaf_read_large(void)
{
	char *p = malloc(8192); /* @alloc:uaf-read-large */
	memset(p, 1, 8192);
	free(p); /* @free:uaf-read-large */
	sink = p[100];
}

static void uaf_write_small(void)
{
	char *p = malloc(40); /* @alloc:uaf-write-small */
	free(p); /* @free:uaf-write-small */
	p[3] = 7;
}

/* Caught at the access by page blocks only (sampled mode): in full mode
 * a small block's read after free is not detected. */
static void uaf_read_small(void)
{
	char *p = malloc(40); /* @alloc:uaf-read-small */
	memset(p, 1, 40);
	free(p); /* @free:uaf-read-small */
	sink = p[5];
}

static void overflow_large(void)
{
	char *p = malloc(8000); /* @alloc:overflow-large */
	p[8000] = 1;
	free(p);
}

static void overflow_small(void)
{
	char *p = malloc(24); /* @alloc:overflow-small */
	p[24] = 1;
	free(p);
}

static void underflow_small(void)
{
	char *p = malloc(24); /* @alloc:underflow-small */
	p[-1] = 1;
	free(p);
}

static void double_free_small(void)
{
	char *p = malloc(64); /* @alloc:double-free-small */
	free(p); /* @free:double-free-small */
	free(p);
}

static void double_free_large(void)
{
	char *p = malloc(100000); /* @alloc:double-free-large */
	free(p); /* @free:double-free-large */
	free(p);
}

static void invalid_free_small(void)
{
	char *p = malloc(48); /* @alloc:invalid-free-small */
	free(p + 8);
}

static void calloc_overflow(void)
{
	char *p = calloc(10, 10); /* @alloc:calloc-overflow */
	p[100] = 1;
	free(p);
}

static void realloc_uaf(void)
{
	char *p = malloc(5000); /* @alloc:realloc-uaf */
	memset(p, 2, 5000);
	char *q = realloc(p, 20000); /* @free:realloc-uaf */
	sink = p[16];
	free(q);
}

static void memalign_overflow(void)
{
	void *v;
	if (posix_memalign(&v, 64, 4096)) /* @alloc:memalign-overflow */
		exit(2);
	char *p = v;
	p[4096] = 1;
	free(p);
}

static void underflow_large(void)
{
	char *p = malloc(8192); /* @alloc:underflow-large */
	p[-8] = 1;
	free(p);
}

/* Leaks: three 100-byte blocks lost at one site, one of 5000 bytes at
 * another; a block kept by a global and a block kept only by that one
 * are not leaks. */
struct node { struct node *next; char pad[56]; };
static struct node *kept;

static __attribute__((noinline)) void *lose_small(void)
{
	return malloc(100); /* @alloc:leak-small */
}

static __attribute__((noinline)) void *lose_large(void)
{
	return malloc(5000); /* @alloc:leak-large */
}

static void leaks(void)
{
	for (int i = 0; i < 3; i++)
		memset(lose_small(), 0, 100);
	memset(lose_large(), 0, 5000);
	kept = malloc(sizeof(*kept));
	kept->next = malloc(sizeof(*kept));
	kept->next->next = NULL;
	volatile char scrub[4096];   /* no stale copy of a lost pointer below */
	memset((char *)scrub, 0, sizeof(scrub));
	puts("leaks");
}

static void clean(void)
{
	char *keep[64];
	for (int i = 0; i < 64; i++) {
		keep[i] = malloc((size_t)(i * 97 % 9000) + 1);
		memset(keep[i], i, (size_t)(i * 97 % 9000) + 1);
	}
	for (int i = 0; i < 64; i++)
		keep[i] = realloc(keep[i], (size_t)(i * 31 % 20000) + 1);
	void *a;
	if (posix_memalign(&a, 256, 300) == 0)
		free(a);
	char *c = calloc(100, 3);
	for (int i = 0; i < 300; i++)
		sink = c[i];
	free(c);
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	puts("clean");
}

static const struct { const char *name; bug_fn fn; } cases[] = {
	{ "uaf-read-large", uaf_read_large },
	{ "uaf-write-small", uaf_write_small },
	{ "uaf-read-small", uaf_read_small },
	{ "overflow-large", overflow_large },
	{ "overflow-small", overflow_small },
	{ "underflow-small", underflow_small },
	{ "double-free-small", double_free_small },
	{ "double-free-large", double_free_large },
	{ "invalid-free-small", invalid_free_small },
	{ "calloc-overflow", calloc_overflow },
	{ "realloc-uaf", realloc_uaf },
	{ "memalign-overflow", memalign_overflow },
	{ "underflow-large", underflow_large },
	{ "leaks", leaks },
	{ "clean", clean },
};

static void *thread_main(void *arg)
{
	((bug_fn)arg)();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: heapbug CASE[-thread]\n");
		return 2;
	}
	char name[64];
	snprintf(name, sizeof(name), "%s", argv[1]);
	size_t n = strlen(name);
	bool thread = n > 7 && !strcmp(name + n - 7, "-thread");
	if (thread)
		name[n - 7] = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(cases[i].name, name))
			continue;
		if (!thread) {
			cases[i].fn();
			return 0;
		}
		pthread_t t;
		union { bug_fn f; void *p; } u = { .f = cases[i].fn };
		if (pthread_create(&t, NULL, thread_main, u.p))
			return 2;
		pthread_join(t, NULL);
		return 0;
	}
	fprintf(stderr, "heapbug: %s: no such case\n", argv[1]);
	return 2;
}
