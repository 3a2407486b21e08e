/* SPDX-License-Identifier: MIT */
/*
 * test-snapshot-oom.c - no allocation failure is dropped by the snapshot:
 * a snapshot of a real process (a child with a second thread, blocked)
 * is taken with the Nth malloc/calloc/realloc failing, for N = 1, 2, ...
 * until a snapshot makes fewer than N calls.  Each take must either fail
 * with -ENOMEM or succeed with the very snapshot an undisturbed take gives
 * (regions, kinds, objects, thread stacks, threads): a success that lost
 * something is an error dropped.
 *
 * The allocator is interposed here (malloc, calloc, realloc defined by the
 * test, forwarding to glibc's __libc_* entry points), so the shared
 * libraries the snapshot calls fail the same way.  ML_SNAP_NOELF keeps
 * libelf, whose own failures say "not an ELF file", out of the count.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ml-private.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan owns malloc: an allocator of our own would hand it blocks it never
 * made.  The plain build runs this test. */
int main(void)
{
	printf("skip: snapshot-oom: malloc interposition under AddressSanitizer\n");
	return 77;
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static long calls;       /* allocations since armed */
static long fail_at;     /* the call that fails (1-based); 0: none */

static bool should_fail(void)
{
	return fail_at && ++calls == fail_at;
}

void *malloc(size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

static void *block(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* A child with two threads, both blocked in pause(); its PID. */
static pid_t start_child(int ready[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		pthread_t t;
		close(ready[0]);
		if (pthread_create(&t, NULL, block, NULL) == 0)
			(void)!write(ready[1], "x", 1);
		block(NULL);
	}
	close(ready[1]);
	return pid;
}

/* The facts compared: everything a view shows of a region and the
 * threads, as one line each. */
static char *describe(const struct ml_snapshot *s, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	fail_at = 0;
	if (!(f = open_memstream(&text, &len)))
		return NULL;
	const struct ml_proc *p = &s->proc;
	fprintf(f, "proc %s exe %s 32 %d brk %#" PRIx64 " %#" PRIx64 " stack %#" PRIx64
		" rlimit %#" PRIx64 " min %#" PRIx64 " top %#" PRIx64 " kernel %#" PRIx64
		" levels %u page %" PRIu64 " entry %#" PRIx64 " vdso %#" PRIx64 "\n",
		p->comm, p->exe ? p->exe : "-", p->is_32bit, p->start_brk, p->brk,
		p->start_stack, p->stack_rlimit, p->mmap_min_addr, p->user_top,
		p->kernel_start, p->paging_levels, p->page_size, p->entry, p->vdso);
	fprintf(f, "threads %zu\n", s->nthreads);
	for (size_t i = 0; i < s->nthreads; i++)
		fprintf(f, "tid %d %s sp %d %#" PRIx64 " syscall %ld\n", (int)s->threads[i].tid,
			s->threads[i].comm, s->threads[i].sp_known, s->threads[i].sp,
			s->threads[i].syscall_nr);
	for (size_t i = 0; i < s->nregions; i++) {
		const struct ml_region *r = &s->regions[i];
		fprintf(f, "%" PRIx64 "-%" PRIx64 " %x %s kind %d obj %s tid %d owner %d/%d\n",
			r->start, r->end, r->perms, r->name ? r->name : "",
			(int)r->kind, r->object ? r->object : "", (int)r->tid,
			(int)r->allocator, (int)r->owner_basis);
	}
	fclose(f);
	*ret_len = len;
	return text;
}

int main(void)
{
	struct ml_snap_opts opts = { .flags = ML_SNAP_NOELF };
	struct ml_snapshot *s;
	int ready[2], bad = 0, failed = 0, r;
	size_t reflen, len;
	char *ref, c;
	pid_t pid;

	if (pipe(ready) < 0)
		return 99;
	pid = start_child(ready);
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		return 99;
	usleep(20000);   /* both threads into pause() */
	if ((r = ml_snapshot_take(pid, &opts, &s)) < 0) {
		fprintf(stderr, "snapshot of %d: %s\n", (int)pid, strerror(-r));
		kill(pid, SIGKILL);
		return r == -EACCES || r == -EPERM ? 77 : 1;
	}
	ref = describe(s, &reflen);
	ml_snapshot_free(s);
	if (!ref)
		return 99;

	long n;
	for (n = 1; n < 100000; n++) {
		calls = 0;
		fail_at = n;
		r = ml_snapshot_take(pid, &opts, &s);
		long made = calls;
		fail_at = 0;
		if (r == 0) {
			char *got = describe(s, &len);
			ml_snapshot_free(s);
			if (!got)
				return 99;
			if (made >= n && (len != reflen || memcmp(got, ref, len))) {
				fprintf(stderr, "allocation %ld failed, snapshot taken anyway "
					"but not the same:\n--- expected\n%s--- got\n%s", n, ref, got);
				bad++;
			}
			free(got);
			if (made < n)
				break;   /* the Nth call never came: all were tried */
		} else if (r == -ENOMEM) {
			failed++;
		} else {
			fprintf(stderr, "allocation %ld failed: %s, not ENOMEM\n", n, strerror(-r));
			bad++;
		}
		if (bad > 3)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(ref);
	printf("%ld allocations tried: %d -ENOMEM, %d dropped or misreported\n",
	       n - 1, failed, bad);
	return bad ? 1 : 0;
}
#endif
