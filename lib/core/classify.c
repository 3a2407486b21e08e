/* SPDX-License-Identifier: MIT */
/*
 * classify.c - give each region its kind in the terms of the memory model.
 *
 * Passes around ELF attribution (elf.c):
 *  - ml__classify_basic: from the name the kernel gives ([heap], [stack],
 *    [vdso], [anon:NAME], SysV/memfd/shm paths) and the permissions, via
 *    the tables below.  File mappings start as "file"; elf.c refines them.
 *  - ml__classify_fallback: an object elf.c could not read (deleted,
 *    unreadable, a capture from another machine) but that has an
 *    executable mapping is code: its mappings get text/rodata/data by
 *    permissions, and the anonymous rw-p mapping right after it is its bss.
 *  - ml__classify_threads: each thread's stack pointer marks the mapping
 *    holding it as that thread's stack, and the PROT_NONE mapping directly
 *    below it as its guard.  glibc's malloc arenas reserve HEAP_MAX_SIZE
 *    (64 MiB, aligned to it) and leave the unused part PROT_NONE: such a
 *    reservation is never taken for a guard.  A region an allocator owns
 *    (owners.c: a goroutine's stack in a Go arena) is heap, not a stack.
 *  - ml__classify_devices: in a process mapping /dev/nvidia-uvm, CUDA's
 *    unified-address reservations and pinned host buffers (gpu_rules).
 *    Before the sp: glibc's thread descriptor at the top of an rw
 *    mapping above a guard names its thread (tcb.c), so a thread whose sp
 *    is elsewhere (a sigaltstack, its guard) still has its stack named;
 *    the sp then marks only threads not found so.
 *  - ml_snapshot_mark_stack: the same marking from an address the caller
 *    knows lies in a thread's stack whatever its sp now is (memlayout run
 *    records each new thread's first sp), so a thread whose sp already
 *    ran into its guard or below still has its stack and guard named.
 */
#include "ml-core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Special names the kernel gives, matched exactly or by prefix. */
static const struct special {
	const char *name;
	size_t len;
	bool prefix;
	enum ml_kind kind;
	const char *object;
} specials[] = {
#define S(name, prefix, kind, object) { name, sizeof(name) - 1, prefix, kind, object }
	S("[heap]",         false, ML_KIND_HEAP,         "[heap]"),
	S("[stack]",        false, ML_KIND_STACK,        "[stack]"),
	S("[vdso]",         false, ML_KIND_VDSO,         "[vdso]"),
	S("[vvar]",         false, ML_KIND_VVAR,         "[vvar]"),
	S("[vvar_vclock]",  false, ML_KIND_VVAR,         "[vvar_vclock]"),
	S("[vsyscall]",     false, ML_KIND_VSYSCALL,     "[vsyscall]"),
	S("[stack:",        true,  ML_KIND_THREAD_STACK, NULL),  /* kernels < 4.5 */
	S("[anon_shmem:",   true,  ML_KIND_SHM,          NULL),
	S("[anon:",         true,  ML_KIND_ANON,         NULL),
	S("/SYSV",          true,  ML_KIND_SHM,          NULL),
	S("/memfd:",        true,  ML_KIND_SHM,          NULL),
	S("/dev/shm/",      true,  ML_KIND_SHM,          NULL),
	S("/dev/zero",      false, ML_KIND_SHM,          NULL),  /* shared anonymous */
	/* Devices: GPU drivers first, then any other device node. */
	S("/dev/nvidia",    true,  ML_KIND_GPU,          NULL),  /* nvidiactl, nvidiaN, nvidia-uvm */
	S("/dev/kfd",       false, ML_KIND_GPU,          NULL),  /* AMD ROCm */
	S("/dev/dri/",      true,  ML_KIND_GPU,          NULL),  /* DRM render nodes, cards */
	S("/dev/accel/",    true,  ML_KIND_GPU,          NULL),  /* compute accelerators */
	S("/dev/",          true,  ML_KIND_DEVICE,       NULL),  /* DAX, frame buffers, /dev/mem */
	S("/anon_hugepage", false, ML_KIND_ANON,         "[hugetlb]"),  /* MAP_HUGETLB */
	/* Rings shared with the kernel (anon_inode:NAME). */
	S("anon_inode:[io_uring]",   false, ML_KIND_RING, "[io_uring]"),
	S("anon_inode:[perf_event]", false, ML_KIND_RING, "[perf_event]"),
	S("anon_inode:bpf-ringbuf",  false, ML_KIND_RING, "[bpf ringbuf]"),
	S("anon_inode:bpf-",         true,  ML_KIND_RING, NULL),  /* bpf-map: mmap'able maps */
#undef S
};

#define ARENA_SIZE_64 (64ull << 20)   /* glibc HEAP_MAX_SIZE, 64-bit */
#define ARENA_SIZE_32 (1ull << 20)    /* 32-bit */

/* Every special name starts with '[', '/' or 'a' (anon_inode:): most names
 * of a big process ("", or a path) are settled by their first byte or two. */
static const struct special *find_special(const char *name)
{
	if (name[0] != '[' && name[0] != '/' && name[0] != 'a')
		return NULL;
	for (size_t i = 0; i < ML_ARRAY_SIZE(specials); i++) {
		const struct special *s = &specials[i];
		if (name[1] == s->name[1] && strncmp(name, s->name, s->len) == 0 &&
		    (s->prefix || name[s->len] == '\0'))
			return s;
	}
	return NULL;
}

static enum ml_kind kind_of_unnamed(const struct ml_region *r)
{
	if (!(r->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)))
		return ML_KIND_RESERVED;
	return (r->perms & ML_PERM_SHARED) ? ML_KIND_SHM : ML_KIND_ANON;
}

static void classify_one(struct ml_region *r)
{
	const struct special *s = find_special(r->name);

	if (s) {
		r->kind = s->kind;
		r->object = s->object;
		/* A private memfd mapping is file-like, not shared memory;
		 * a shared MAP_HUGETLB one is shared memory. */
		if (s->kind == ML_KIND_ANON && r->name[0] == '/' && (r->perms & ML_PERM_SHARED))
			r->kind = ML_KIND_SHM;
		if (s->kind == ML_KIND_SHM && r->name[0] == '/' &&
		    !(r->perms & ML_PERM_SHARED) && strncmp(r->name, "/SYSV", 5))
			r->kind = ML_KIND_FILE;
		if (s->kind == ML_KIND_ANON && !(r->perms & (ML_PERM_READ |
				ML_PERM_WRITE | ML_PERM_EXEC)))
			r->kind = ML_KIND_RESERVED;
		if (s->kind == ML_KIND_THREAD_STACK)
			r->tid = (pid_t)atoi(r->name + 7);
		if (!r->object)
			r->object = r->name;
		return;
	}
	if (r->name[0] == '\0' || r->inode == 0)
		r->kind = r->name[0] == '[' ? ML_KIND_OTHER : kind_of_unnamed(r);
	else
		r->kind = ML_KIND_FILE;
	if (r->name[0])
		r->object = r->name;
}

void ml__classify_basic(struct ml_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++)
		classify_one(&snap->regions[i]);
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct ml_region *r = &snap->regions[i];
		if (r->kind == ML_KIND_HEAP) {
			snap->proc.brk = r->end;
			if (!snap->proc.start_brk)
				snap->proc.start_brk = r->start;
		}
	}
	if (!snap->proc.brk)
		snap->proc.brk = snap->proc.start_brk;
}

static bool is_anon(const struct ml_region *r)
{
	return r->inode == 0 && (r->name[0] == '\0' || strncmp(r->name, "[anon:", 6) == 0);
}

static bool same_object(const struct ml_region *a, const struct ml_region *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && strcmp(a->name, b->name) == 0;
}

void ml__classify_fallback(struct ml_snapshot *snap)
{
	size_t i = 0;

	while (i < snap->nregions) {
		struct ml_region *r = &snap->regions[i];
		size_t j = i + 1;
		bool code = r->perms & ML_PERM_EXEC;

		while (j < snap->nregions && same_object(r, &snap->regions[j])) {
			code |= snap->regions[j].perms & ML_PERM_EXEC;
			j++;
		}
		if (r->kind == ML_KIND_FILE && r->inode && code &&
		    !(r->perms & ML_PERM_SHARED)) {
			/* Only what elf.c left as a plain file mapping. */
			for (size_t k = i; k < j; k++)
				if (snap->regions[k].kind == ML_KIND_FILE)
					snap->regions[k].kind = ml__kind_by_perms(snap->regions[k].perms);
			struct ml_region *last = &snap->regions[j - 1], *next = &snap->regions[j];
			if (j < snap->nregions && next->start == last->end &&
			    next->kind == ML_KIND_ANON && next->name[0] == '\0' &&
			    (last->perms & ML_PERM_WRITE) && (next->perms & ML_PERM_WRITE)) {
				next->kind = ML_KIND_BSS;
				next->object = last->object;
			}
		}
		i = j;
	}
}

/* Is region i (PROT_NONE) the unused tail or whole of a glibc arena?  An
 * arena starts aligned to its size and spans exactly that size, its used
 * head rw-p and the rest ---p. */
bool ml__is_arena_reservation(const struct ml_snapshot *snap, size_t i)
{
	const struct ml_region *r = &snap->regions[i];
	uint64_t size = snap->proc.is_32bit ? ARENA_SIZE_32 : ARENA_SIZE_64;
	uint64_t start = r->start;

	if (i > 0) {
		const struct ml_region *h = &snap->regions[i - 1];
		if (h->end == r->start && is_anon(h) &&
		    (h->perms & ML_PERM_WRITE) && h->start % size == 0)
			start = h->start;
	}
	return start % size == 0 && r->end - start == size;
}


/* Region i, which holds an address of thread tid's stack, becomes that
 * thread's stack, and the PROT_NONE mapping directly below it (not an
 * arena's reservation) its guard.  false: i is no anonymous writable
 * mapping (a stack in a file? not ours to name), or memory an allocator
 * owns (a goroutine's stack in a Go arena is heap). */
static bool mark_stack(struct ml_snapshot *snap, size_t i, pid_t tid)
{
	struct ml_region *r = &snap->regions[i];

	if (r->kind == ML_KIND_STACK) {
		if (tid == snap->proc.pid || !r->tid)
			r->tid = tid;
		return true;
	}
	if (!is_anon(r) || !(r->perms & ML_PERM_WRITE))
		return false;
	if (r->allocator != ML_ALLOC_NONE)
		return false;   /* heap (owners.c): a goroutine's stack in a Go arena */
	r->kind = ML_KIND_THREAD_STACK;
	r->tid = tid;
	if (i == 0)
		return true;
	struct ml_region *g = &snap->regions[i - 1];
	if (g->end == r->start && is_anon(g) &&
	    !(g->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)) &&
	    !ml__is_arena_reservation(snap, i - 1)) {
		g->kind = ML_KIND_GUARD;
		g->tid = tid;
	}
	return true;
}

/* What classify_threads made of tid's sp, when that sp is elsewhere than
 * its stack (a signal handler's sigaltstack): plain memory again. */
static void unmark_stack(struct ml_snapshot *snap, pid_t tid, const struct ml_region *keep)
{
	for (size_t i = 0; i < snap->nregions; i++) {
		struct ml_region *r = &snap->regions[i];
		if (r == keep || r->tid != tid)
			continue;
		if (r->kind == ML_KIND_THREAD_STACK)
			r->kind = ML_KIND_ANON;
		else if (r->kind == ML_KIND_GUARD && i + 1 < snap->nregions &&
			 &snap->regions[i + 1] != keep)
			r->kind = ML_KIND_RESERVED;
		else
			continue;
		r->tid = 0;
	}
}

int ml_snapshot_mark_stack(struct ml_snapshot *snap, pid_t tid, uint64_t addr)
{
	const struct ml_region *found;

	if (!snap || tid <= 0)
		return -EINVAL;
	found = ml_snapshot_find(snap, addr);
	if (!found || found->kind == ML_KIND_STACK)
		return found ? 0 : -ENOENT;
	if (!is_anon(found) || !(found->perms & ML_PERM_WRITE))
		return -ENOENT;
	unmark_stack(snap, tid, found);
	return mark_stack(snap, (size_t)(found - snap->regions), tid) ? 0 : -ENOENT;
}

/* Is region i an rw anonymous mapping with an anonymous PROT_NONE one
 * (not an arena's reservation) directly below: the shape of a glibc
 * thread's stack block with its guard? */
static bool stack_shape(const struct ml_snapshot *snap, size_t i)
{
	const struct ml_region *r = &snap->regions[i], *g = i ? r - 1 : NULL;

	return g && g->end == r->start && is_anon(r) && is_anon(g) &&
	       r->kind == ML_KIND_ANON && r->allocator == ML_ALLOC_NONE &&
	       (r->perms & ML_PERM_READ) && (r->perms & ML_PERM_WRITE) &&
	       !(g->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)) &&
	       !ml__is_arena_reservation(snap, i - 1);
}

static int cmp_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Each glibc thread's stack by its descriptor (tcb.c), whatever its sp.
 * Returns the TIDs found so, sorted, in a malloc'ed array (*n of them),
 * or NULL when there is no memory for it. */
static pid_t *classify_by_tcb(struct ml_snapshot *snap, size_t *n)
{
	struct ml__tcb *t = malloc(sizeof(*t));
	pid_t *found = calloc(snap->nthreads ? snap->nthreads : 1, sizeof(*found));

	*n = 0;
	if (!t || !found) {
		free(t);
		free(found);
		return NULL;
	}
	if (ml__tcb_open(snap, t) == 0)
		for (size_t i = 1; i < snap->nregions && *n < snap->nthreads; i++) {
			pid_t tid = stack_shape(snap, i) ? ml__tcb_tid(t, snap, &snap->regions[i]) : 0;
			if (tid > 0 && mark_stack(snap, i, tid))
				found[(*n)++] = tid;
		}
	ml__probe_close(&t->p);
	free(t);
	qsort(found, *n, sizeof(*found), cmp_tid);
	return found;
}

int ml__classify_threads(struct ml_snapshot *snap)
{
	size_t nfound;
	pid_t *by_tcb = classify_by_tcb(snap, &nfound);

	if (!by_tcb)
		return -ENOMEM;

	for (size_t t = 0; t < snap->nthreads; t++) {
		const struct ml_thread *th = &snap->threads[t];
		const struct ml_region *found;

		if (!th->sp_known ||
		    (nfound && bsearch(&th->tid, by_tcb, nfound, sizeof(*by_tcb), cmp_tid)))
			continue;
		found = ml_snapshot_find(snap, th->sp);
		if (found)
			mark_stack(snap, (size_t)(found - snap->regions), th->tid);
	}
	free(by_tcb);
	/* Arena reservations left PROT_NONE: say what they are. */
	for (size_t i = 0; i < snap->nregions; i++) {
		struct ml_region *r = &snap->regions[i];
		if (r->kind == ML_KIND_RESERVED && r->allocator != ML_ALLOC_GO &&
		    ml__is_arena_reservation(snap, i)) {
			r->object = "[malloc arena]";
			if (i > 0 && snap->regions[i - 1].end == r->start &&
			    snap->regions[i - 1].kind == ML_KIND_ANON)
				snap->regions[i - 1].object = "[malloc arena]";
		}
	}
	return 0;
}

/* ---- GPU address space ---- */

#define UVA_ALIGN (2ull << 20)   /* CUDA reserves and maps in 2 MiB units */

static bool maps_uvm(const struct ml_snapshot *snap)
{
	for (size_t i = 0; i < snap->nregions; i++)
		if (!strcmp(snap->regions[i].name, "/dev/nvidia-uvm"))
			return true;
	return false;
}

static bool next_to_gpu(const struct ml_snapshot *snap, size_t i)
{
	const struct ml_region *r = &snap->regions[i];

	return (i > 0 && snap->regions[i - 1].end == r->start &&
		snap->regions[i - 1].kind == ML_KIND_GPU) ||
	       (i + 1 < snap->nregions && snap->regions[i + 1].start == r->end &&
		snap->regions[i + 1].kind == ML_KIND_GPU);
}

/* In a process that maps /dev/nvidia-uvm, CUDA's unified address space:
 * its ---p reservations (2 MiB-aligned and at least that big, or beside a
 * driver mapping), and the shared /dev/zero mappings inside it, the host
 * side of pinned (cudaHostAlloc) buffers.  Rules in order; the second
 * sweep runs back down so a run of mappings is reached from either end. */
static const struct gpu_rule {
	enum ml_kind from;
	const char *name;          /* exact name, or NULL for unnamed anon */
	bool aligned;              /* 2 MiB-aligned start, >= 2 MiB, is enough */
	const char *object;
} gpu_rules[] = {
	{ ML_KIND_RESERVED, NULL,        true,  "[cuda uva]" },
	{ ML_KIND_SHM,      "/dev/zero", false, "[cuda pinned host]" },
};

static bool gpu_rule_matches(const struct ml_snapshot *snap, size_t i,
			     const struct gpu_rule *g)
{
	const struct ml_region *r = &snap->regions[i];

	if (r->kind != g->from || r->tid || r->allocator != ML_ALLOC_NONE)
		return false;
	if (g->name ? strcmp(r->name, g->name) != 0 : (r->inode != 0 || r->name[0]))
		return false;
	if (next_to_gpu(snap, i))
		return true;
	return g->aligned && r->start % UVA_ALIGN == 0 && r->end - r->start >= UVA_ALIGN;
}

void ml__classify_devices(struct ml_snapshot *snap)
{
	if (!maps_uvm(snap))
		return;
	for (int sweep = 0; sweep < 2; sweep++)
		for (size_t k = 0; k < snap->nregions; k++) {
			size_t i = sweep ? snap->nregions - 1 - k : k;
			for (size_t g = 0; g < ML_ARRAY_SIZE(gpu_rules); g++)
				if (gpu_rule_matches(snap, i, &gpu_rules[g])) {
					snap->regions[i].kind = ML_KIND_GPU;
					snap->regions[i].object = gpu_rules[g].object;
				}
		}
}
