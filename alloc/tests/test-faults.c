/* test-faults: the always-on checks.  Each case runs in a child process that
 * commits one error; the child must die of SIGABRT after printing one line
 * that names the call, the address and what it points into. */
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

static void *free_in_thread(void *p) { free(p); return NULL; }

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
	{ "realloc of a freed block", realloc_freed, { "realloc(): double free of 0x" } },
	{ "malloc_usable_size inside a block", usable_interior, { "malloc_usable_size(): invalid pointer", "at offset 16" } },
};

int main(void)
{
	int failed = 0, passed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fds[2];
		CHECK(pipe(fds) == 0);
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			dup2(fds[1], 2);
			cases[i].run();
			_exit(0);
		}
		close(fds[1]);
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
		printf("%s: %s\n  %s", ok ? "ok  " : "FAIL", cases[i].name, len ? buf : "(no message)\n");
		ok ? passed++ : failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
