/* test-fork: fork while other threads allocate.  The atfork handlers must
 * leave every lock usable in the child: each child allocates, frees blocks
 * of its parent and of the other threads, and exits 0 within the timeout. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

int main(void)
{
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
