/* SPDX-License-Identifier: MIT */
/* test-reader: mlalloc-reader takes the right counts from a running child
 * with known allocations: 20 blocks of 300000 bytes, 3 of 5 MiB, 1000 of 24.
 * Three targets: linked with mlalloc (found through the named mapping), the
 * plain program under LD_PRELOAD with the region left unnamed (found through
 * the ELF symbol of libmlalloc.so), and the plain program alone (-ENOENT).
 * Then reads repeatedly while two threads of the child churn, and while
 * eighteen do. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlalloc-reader.h"
#include "sizeclass.h"
#include "tcheck.h"

struct child { pid_t pid; int in, out; };

static void spawn(struct child *c, const char *prog, const char *preload)
{
	int to[2], from[2];
	CHECK(pipe(to) == 0 && pipe(from) == 0);
	c->pid = fork();
	CHECK(c->pid >= 0);
	if (c->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		if (preload) {
			setenv("LD_PRELOAD", preload, 1);
			setenv("MLALLOC_PUB_UNNAMED", "1", 1);
		}
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c->in = to[1];
	c->out = from[0];
}

static void wait_ready(struct child *c)
{
	char buf[6];
	size_t got = 0;
	while (got < 6) {
		ssize_t n = read(c->out, buf + got, 6 - got);
		CHECK(n > 0);
		got += (size_t)n;
	}
	CHECK(memcmp(buf, "ready\n", 6) == 0);
}

static void command(struct child *c, char cmd)
{
	CHECK(write(c->in, &cmd, 1) == 1);
	wait_ready(c);
}

static void finish(struct child *c)
{
	close(c->in);
	int st;
	CHECK(waitpid(c->pid, &st, 0) == c->pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(c->out);
}

static void check_counts(struct child *c, const char *found_by)
{
	struct mla_alloc_snapshot *s = NULL;
	CHECK_EQ(mla_alloc_snapshot_read(c->pid, &s), 0);
	CHECK(strcmp(s->found_by, found_by) == 0);
	CHECK_EQ(s->header.pid, c->pid);
	CHECK_EQ(s->class_size[mla_size_class(300000)], mla_class_size(mla_size_class(300000)));
	CHECK(s->class_pages != NULL);
	for (unsigned c = 0; c < MLA_SC_NCLASSES; c++)
		CHECK_EQ(s->class_pages[c], mla_class_span_pages(c));
	CHECK_EQ(mla_alloc_snapshot_live(s, mla_size_class(300000)), 20);
	CHECK(mla_alloc_snapshot_live(s, mla_size_class(24)) >= 1000);
	CHECK_EQ(s->header.large_live, 3);
	CHECK(s->header.large_live_bytes >= 3u * (5 << 20));
	size_t live_records = 0;
	for (size_t i = 0; i < s->nlarge; i++)
		if (s->large[i].state == MLALLOC_LARGE_LIVE) {
			live_records++;
			CHECK(s->large[i].usable >= (5 << 20));
		}
	CHECK_EQ(live_records, 3);
	/* The main thread's heap is published with its tid, and its segments
	 * are in the brk heap. */
	int main_heap = 0, brk_segs = 0;
	for (size_t i = 0; i < s->nheaps; i++)
		main_heap += s->heaps[i].tid == (uint64_t)c->pid && s->heaps[i].state == 1;
	for (size_t i = 0; i < s->nsegs; i++)
		brk_segs += s->segs[i].kind == MLALLOC_SEG_BRK && s->segs[i].base >= s->header.brk_start &&
		            s->segs[i].base < s->header.brk_end;
	CHECK_EQ(main_heap, 1);
	CHECK(brk_segs >= 1);
	/* The page maps are current: the live blocks of each class fit in the
	 * pages the segment records mark with that class. */
	for (unsigned cls = 0; cls < s->header.nclasses; cls++) {
		uint64_t marked = 0;
		for (size_t i = 0; i < s->nsegs; i++)
			for (unsigned p = 0; p < 64 && s->segs[i].kind != MLALLOC_SEG_UNUSED; p++)
				marked += s->segs[i].page_class[p] == cls;
		uint64_t live = mla_alloc_snapshot_live(s, cls);
		if (marked * 65536 < live * s->class_size[cls])
			fprintf(stderr, "class %u: %llu live blocks of %u bytes, %llu pages marked\n", cls,
			        (unsigned long long)live, (unsigned)s->class_size[cls], (unsigned long long)marked);
		CHECK(marked * 65536 >= live * s->class_size[cls]);
	}
	mla_alloc_snapshot_free(s);

	command(c, 'f');
	CHECK_EQ(mla_alloc_snapshot_read(c->pid, &s), 0);
	CHECK_EQ(mla_alloc_snapshot_live(s, mla_size_class(300000)), 10);
	CHECK_EQ(s->header.large_live, 2);
	CHECK_EQ(s->header.large_nfree, 1);
	mla_alloc_snapshot_free(s);
	printf("ok   counts of a child found through %s\n", found_by);
}

/* Consistent copies while threads of the child churn: n reads, each either
 * -EAGAIN (at most max_again of them) or a copy whose every segment record
 * is complete (even seq) and sane, with at least `heaps` heaps in use and
 * the child's large blocks (2 of its own; the churn's up to 128 more). */
static void read_during_churn(struct child *c, int n, int max_again, size_t heaps)
{
	int again = 0;
	for (int i = 0; i < n; i++) {
		struct mla_alloc_snapshot *s = NULL;
		int r = mla_alloc_snapshot_read(c->pid, &s);
		if (r == -EAGAIN && ++again <= max_again)
			continue;
		CHECK_EQ(r, 0);
		CHECK(s->header.large_live >= 2 && s->header.large_live <= 2 + 128);
		size_t live_heaps = 0;
		for (size_t k = 0; k < s->nheaps; k++)
			live_heaps += s->heaps[k].state == 1 && s->heaps[k].tid != 0;
		CHECK(live_heaps >= heaps);
		for (size_t k = 0; k < s->nsegs; k++)
			CHECK((s->segs[k].seq & 1) == 0 &&
			      (s->segs[k].kind == MLALLOC_SEG_UNUSED ? s->segs[k].used == 0 : (s->segs[k].used & 1)));
		mla_alloc_snapshot_free(s);
	}
	printf("ok   %d consistent copies with %zu heaps in use, %d kept changing (-EAGAIN)\n", n - again, heaps, again);
}

int main(int argc, char **argv)
{
	CHECK(argc == 4);   /* linked child, plain child, libmlalloc.so */
	struct child c;
	spawn(&c, argv[1], NULL);
	wait_ready(&c);
	check_counts(&c, "maps");
	/* Consistent copies while two threads churn.  Every copy the reader
	 * returns must be consistent; -EAGAIN (the state kept changing for
	 * MLA_ALLOC_READ_MS, a documented answer) may come now and then on a
	 * loaded machine, where the churning threads can hold the reader off
	 * for 2 s (seen once in the sanitizer suite of a 2-CPU CI run), but
	 * not for most reads. */
	command(&c, 'c');
	read_during_churn(&c, 100, 10, 3);
	/* The same with 18 threads churning, each in its own heap (issue 19:
	 * the heap stays readable with 16 threads busy). */
	command(&c, 'C');
	read_during_churn(&c, 30, 3, 19);
	finish(&c);

	char lib[4096];
	CHECK(realpath(argv[3], lib) != NULL);
	spawn(&c, argv[2], lib);
	wait_ready(&c);
	check_counts(&c, "symbol");
	finish(&c);

	spawn(&c, argv[2], NULL);
	wait_ready(&c);
	struct mla_alloc_snapshot *s = NULL;
	CHECK_EQ(mla_alloc_snapshot_read(c.pid, &s), -ENOENT);
	CHECK(s == NULL);
	finish(&c);
	printf("ok   a process without mlalloc gives -ENOENT\n");
	CHECK_EQ(mla_alloc_snapshot_read(c.pid, &s), -ESRCH);   /* reaped */
	printf("ok   a missing process gives -ESRCH\n");
	return 0;
}
