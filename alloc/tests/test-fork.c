/* test-fork: fork while other threads allocate.  The atfork handlers must
 * leave every lock usable in the child: each child allocates, frees blocks
 * of its parent and of the other threads, and exits 0 within the timeout.
 * Then: a child reuses the memory of a thread that does not exist in it
 * (its segments are adopted), so freeing that thread's 20 MB and
 * allocating 20 MB of another size takes (almost) no new segment. */
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
	return ml_alloc_check() == 0 ? 0 : 3;
}

#define NHELD 40000
static char *held[NHELD];
static int ready_pipe[2], go_pipe[2];

static void *holder(void *arg)
{
	(void)arg;
	for (int i = 0; i < NHELD; i++) {
		held[i] = malloc(500);
		CHECK(held[i] != NULL);
		memset(held[i], 'h', 500);
	}
	char c = 1;
	CHECK(write(ready_pipe[1], &c, 1) == 1);
	CHECK(read(go_pipe[0], &c, 1) == 1);
	for (int i = 0; i < NHELD; i++)
		free(held[i]);
	return NULL;
}

static long seg_mb(void)
{
	struct mlalloc_pub_header *h = ml__pub();
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
	return ml_alloc_check() == 0 ? 0 : 3;
}

/* The holder thread keeps 20 MB live while the parent forks. */
static void adopt_test(void)
{
	CHECK(pipe(ready_pipe) == 0 && pipe(go_pipe) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, holder, NULL) == 0);
	char c;
	CHECK(read(ready_pipe[0], &c, 1) == 1);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(adopt_child());
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + st, 0);
	c = 1;
	CHECK(write(go_pipe[1], &c, 1) == 1);
	pthread_join(t, NULL);
	printf("fork: a child reused the memory of a thread it does not have\n");
}

int main(void)
{
	adopt_test();   /* first: no pooled segment yet that could hide a leak */
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
