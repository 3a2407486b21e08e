/* SPDX-License-Identifier: MIT */
/* test-fork: fork while other threads allocate.  The atfork handlers must
 * leave every lock usable in the child: each child allocates, frees blocks
 * of its parent and of the other threads, and exits 0 within the timeout.
 * Then: a child reuses the memory of a thread that does not exist in it
 * (its segments are adopted), so freeing that thread's 20 MB and
 * allocating 20 MB of another size takes (almost) no new segment.
 * And: a thread that fork caught inside an operation on one of its spans
 * (made deterministic by putting the span in the state that the operation
 * leaves between two stores) leaves the child a heap whose invariants
 * hold once it adopts that span, and no block handed out twice. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "mlalloc.h"
#include "tcheck.h"

#define NWORKERS 3
#define FORKS 40
#define NSHARED 256

static atomic_bool done;
static _Atomic(char *) shared[NSHARED];

static void *worker(void *arg)
{
	unsigned long long r = (uintptr_t)arg;
	for (long it = 0; it < 20000000 && !atomic_load(&done); it++) {
		size_t n = trand(&r) % 3 == 0 ? 100000 + trand(&r) % 900000 : trand(&r) % 2000 + 1;
		char *p = malloc(n);
		CHECK(p != NULL);
		p[0] = 'w';
		p[n - 1] = 'w';
		char *old = atomic_exchange(&shared[trand(&r) % NSHARED], p);
		if (old) {
			CHECK(old[0] == 'w');
			free(old);
		}
	}
	return NULL;
}

static int child(void)
{
	unsigned long long r = (unsigned long long)getpid();
	for (int i = 0; i < NSHARED; i += 3) {   /* frees of blocks of other (dead here) heaps */
		char *p = atomic_exchange(&shared[i], NULL);
		if (p)
			free(p);
	}
	void *keep[1000];
	for (int i = 0; i < 1000; i++) {
		keep[i] = malloc(trand(&r) % 5000 + 1);
		if (!keep[i])
			return 2;
		memset(keep[i], 1, 1);
	}
	for (int i = 0; i < 1000; i++)
		free(keep[i]);
	void *big = malloc(5 << 20);
	free(big);
	return mlalloc_check() == 0 ? 0 : 3;
}

/* ---- a thread parked while the parent forks ---- */
/* It runs take(), says so, waits until it is let go, runs give_back(). */
struct parked {
	void (*take)(void), (*give_back)(void);
	int ready[2], go[2];
	pthread_t t;
};

static void *parked_thread(void *arg)
{
	struct parked *p = arg;
	char c = 1;

	p->take();
	CHECK(write(p->ready[1], &c, 1) == 1);
	CHECK(read(p->go[0], &c, 1) == 1);
	p->give_back();
	return NULL;
}

/* Start p's thread; back once it has taken what it holds. */
static void park(struct parked *p)
{
	char c;

	CHECK(pipe(p->ready) == 0 && pipe(p->go) == 0);
	CHECK(pthread_create(&p->t, NULL, parked_thread, p) == 0);
	CHECK(read(p->ready[0], &c, 1) == 1);
}

/* The child pid must exit 0; then p's thread is let go and joined. */
static void unpark_after(struct parked *p, pid_t pid)
{
	int st;
	char c = 1;

	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + st, 0);
	CHECK(write(p->go[1], &c, 1) == 1);
	pthread_join(p->t, NULL);
	for (int i = 0; i < 2; i++) {
		close(p->ready[i]);
		close(p->go[i]);
	}
}

#define NHELD 40000
static char *held[NHELD];

static void holder_take(void)
{
	for (int i = 0; i < NHELD; i++) {
		held[i] = malloc(500);
		CHECK(held[i] != NULL);
		memset(held[i], 'h', 500);
	}
}

static void holder_give_back(void)
{
	for (int i = 0; i < NHELD; i++)
		free(held[i]);
}

static long seg_mb(void)
{
	struct mlalloc_pub_header *h = mla__pub();
	return (long)((h->seg_bytes_brk + h->seg_bytes_mmap) >> 20);
}

static int adopt_child(void)
{
	long before = seg_mb();
	for (int i = 0; i < NHELD; i++) {   /* blocks of a thread that is not here */
		if (held[i][0] != 'h' || held[i][499] != 'h')
			return 4;
		free(held[i]);
	}
	static char *mine[NHELD / 2];
	for (int i = 0; i < NHELD / 2; i++) {
		mine[i] = malloc(1000);
		if (!mine[i])
			return 2;
		memset(mine[i], 'c', 1000);
	}
	long after = seg_mb();
	printf("fork: child segments %ld MB -> %ld MB after freeing the other thread's 20 MB and taking 20 MB\n",
	       before, after);
	fflush(stdout);
	if (after > before + 8)
		return 5;
	for (int i = 0; i < NHELD / 2; i++)
		free(mine[i]);
	return mlalloc_check() == 0 ? 0 : 3;
}

/* The holder thread keeps 20 MB live while the parent forks. */
static void adopt_test(void)
{
	struct parked p = { holder_take, holder_give_back };

	park(&p);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(adopt_child());
	unpark_after(&p, pid);
	printf("fork: a child reused the memory of a thread it does not have\n");
}

/* ---- a thread stopped mid-operation at fork time ---- */
#define NA 10
#define NB 10
#define NC 200
static char *as[NA], *bs[NB], *cs[NC];

static mla_page *page_of(void *p) { return mla__page_of(mla__hdr_of(p), p); }

static void frozen_take(void)
{
	for (int i = 0; i < NA; i++)
		CHECK((as[i] = malloc(1000)) != NULL);
	for (int i = 0; i < NB; i++)
		CHECK((bs[i] = malloc(2000)) != NULL);
	CHECK((cs[0] = malloc(3000)) != NULL);
	mla_page *pc = page_of(cs[0]);
	int n = 1;   /* until the span's free list runs dry: the next malloc would collect */
	while (pc->free && n < NC)
		CHECK((cs[n++] = malloc(3000)) != NULL);
	CHECK(pc->free == NULL && page_of(cs[n - 1]) == pc);
	free(cs[0]);   /* two local frees: local_free is what collect would move */
	free(cs[1]);
	cs[0] = cs[1] = NULL;
}

static void frozen_give_back(void)
{
	for (int i = 0; i < NA; i++)
		free(as[i]);
	for (int i = 0; i < NB; i++)
		free(bs[i]);
	for (int i = 0; i < NC; i++)
		free(cs[i]);
}

static int midop_child(mla_block *popped)
{
	/* Fill this thread's segments until it adopts the frozen thread's. */
	mla_segment *seg = mla__hdr_of(as[0]);
	static char *fill[2000];
	int nfill = 0;
	while (atomic_load(&seg->heap) != mla__tls.heap && nfill < 2000)
		if (!(fill[nfill++] = malloc(40000)))
			return 2;
	if (atomic_load(&seg->heap) != mla__tls.heap)
		return 6;
	if (mlalloc_check() != 0)
		return 3;
	/* The spans take blocks again: none of them may be a live one. */
	for (int round = 0; round < 3; round++) {
		size_t sz = round == 0 ? 1000 : round == 1 ? 2000 : 3000;
		for (int i = 0; i < 40; i++) {
			char *p = malloc(sz);
			if (!p)
				return 2;
			if ((void *)p == (void *)popped)
				return 7;
			for (int k = 0; k < NA; k++)
				if (p == as[k])
					return 7;
			for (int k = 0; k < NB; k++)
				if (p == bs[k])
					return 7;
			for (int k = 0; k < NC; k++)
				if (p == cs[k])
					return 7;
			memset(p, 'n', sz);
		}
	}
	frozen_give_back();   /* the child's copies, in the child */
	for (int i = 0; i < nfill; i++)
		free(fill[i]);
	return mlalloc_check() == 0 ? 0 : 3;
}

/* Fork catches a thread between two stores of one operation either by
 * preemption or because fork write-protected one page the operation
 * writes (the published counters) before the other (the span): the
 * thread faults and waits while the child keeps the half-done state.
 * Here the frozen thread waits on a pipe and its spans are put in those
 * states by hand, then restored in the parent:
 *   A: a local free pushed the block on local_free, `used` not yet lowered;
 *   B: a malloc popped a block off free, `used` not yet raised;
 *   C: a collect moved local_free to free, local_free not yet cleared. */
static void midop_test(void)
{
	struct parked p = { frozen_take, frozen_give_back };

	park(&p);
	mla_page *pa = page_of(as[0]), *pb = page_of(bs[0]), *pc = page_of(cs[2]);
	CHECK(pa != pb && pb != pc && pa != pc);
	CHECK(pb->free != NULL && pc->free == NULL && pc->local_free != NULL);
	mla_page sa = *pa, sb = *pb, sc = *pc;
	mla_block *x = (mla_block *)as[NA - 1], sx = *x;
	mla_link_set(x, pa->local_free);
	x->key = mla_canary(pa, x);
	pa->local_free = x;
	as[NA - 1] = NULL;   /* being freed: the child must not free it again */
	mla_block *popped = pb->free;
	pb->free = mla_link_get(popped);
	pc->free = pc->local_free;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(midop_child(popped));
	as[NA - 1] = (char *)x;
	*x = sx;
	pa->free = sa.free, pa->local_free = sa.local_free, pa->used = sa.used;
	pb->free = sb.free, pb->local_free = sb.local_free, pb->used = sb.used;
	pc->free = sc.free, pc->local_free = sc.local_free, pc->used = sc.used;
	unpark_after(&p, pid);
	printf("fork: a child adopted the spans of a thread stopped inside malloc, free and collect\n");
}

int main(void)
{
	adopt_test();   /* first: no pooled segment yet that could hide a leak */
	midop_test();
	pthread_t t[NWORKERS];
	for (uintptr_t i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(i * 77 + 5)) == 0);
	for (int f = 0; f < FORKS; f++) {
		char *mine = malloc(64);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			free(mine);
			_exit(child());
		}
		free(mine);
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "fork %d: child status 0x%x\n", f, st);
			return 1;
		}
	}
	atomic_store(&done, true);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(t[i], NULL);
	printf("fork: %d children allocated and exited cleanly\n", FORKS);
	return 0;
}
