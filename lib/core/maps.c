/* SPDX-License-Identifier: MIT */
/*
 * maps.c - one-pass parser of /proc/PID/maps and /proc/PID/smaps.
 *
 * The parser is fed chunks of any size and keeps at most one partial line,
 * so it reads a 20,000-mapping smaps (~20 MB) in constant memory and in time
 * linear in the input: every byte is looked at a bounded number of times
 * (memchr for the line end, then one left-to-right scan of the line).  No
 * sscanf over the remaining buffer.
 *
 * A maps line is "start-end perms offset major:minor inode   name"; smaps
 * adds "Key:   value kB" lines and a "VmFlags:" line after each header.
 * Header lines start with a lower-case hex digit, field lines with an
 * upper-case letter: that is how the two are told apart.
 *
 * Names: the kernel escapes '\n' in paths as "\012" and appends
 * " (deleted)" to unlinked files; ml__decode_name undoes both.  Leading
 * spaces of a name cannot be told from the padding and are lost.
 *
 * Invariant kept for the model: regions come out sorted and disjoint, or
 * the input is rejected.  A line that does not parse is -EBADMSG; a
 * well-formed header that starts below the end of the one before it is
 * -EAGAIN: that is what a live maps or smaps gives when the address space
 * changes between two read() calls (the kernel finds its place again by
 * address, so a mapping replaced meanwhile comes out overlapping or out of
 * order), and the reader (snapshot.c, watch.c) reads the file again.
 * ml__maps_parse_buffer(), for saved text (tests, fuzzer), turns it into
 * -EBADMSG: no second read can mend a file.
 */
#include "ml-core.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ML_MAX_LINE (1u << 20)   /* longer lines are malformed input */

struct ml__maps_parser {
	struct ml_snapshot *snap;
	bool smaps;
	size_t next_field;        /* index in smaps_fields expected next */
	struct ml_smaps *cur;     /* smaps figures of the last region */
	char *partial;            /* incomplete line carried between chunks */
	size_t plen, pcap;
	int err;
};

/* smaps "Key: N kB" lines, in the order the kernel (6.x) prints them: the
 * ones we keep, and the ones we skip (SIZE_MAX) so that a line we do not
 * keep is still found at once where it is expected. */
static const struct smaps_field {
	const char *key;
	size_t keylen;
	size_t off;               /* offsetof in struct ml_smaps, or SIZE_MAX */
} smaps_fields[] = {
#define F(k, m) { k, sizeof(k) - 1, offsetof(struct ml_smaps, m) }
#define SKIP(k) { k, sizeof(k) - 1, SIZE_MAX }
	SKIP("Size"),
	F("KernelPageSize", kernel_page_size),
	F("MMUPageSize", mmu_page_size),
	F("Rss", rss),
	F("Pss", pss),
	F("Pss_Dirty", pss_dirty),
	F("Shared_Clean", shared_clean),
	F("Shared_Dirty", shared_dirty),
	F("Private_Clean", private_clean),
	F("Private_Dirty", private_dirty),
	F("Referenced", referenced),
	F("Anonymous", anonymous),
	SKIP("KSM"),
	SKIP("LazyFree"),
	F("AnonHugePages", anon_huge),
	F("ShmemPmdMapped", shmem_pmd),
	F("FilePmdMapped", file_pmd),
	SKIP("Shared_Hugetlb"),
	SKIP("Private_Hugetlb"),
	F("Swap", swap),
	F("SwapPss", swap_pss),
	F("Locked", locked),
	SKIP("THPeligible"),
	SKIP("ProtectionKey"),
#undef SKIP
#undef F
};

const struct ml_smaps ml__no_smaps;   /* of every region read without smaps */

/* VmFlags mnemonics (fs/proc/task_mmu.c), bit i of ml_smaps.vmflags. */
static const char vmflag_names[][3] = {
	"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "dw", "lo",
	"io", "sr", "rr", "dc", "de", "ac", "nr", "ht", "sf", "nl", "ar", "wf",
	"dd", "sd", "mm", "hg", "nh", "mg", "um", "uw", "ss", "sl", "ui", "bt",
	"mt", "lf", "gu", "ov", "p0", "p1", "p2", "p3", "p4",
};

const char *ml_vmflag_name(unsigned int bit)
{
	return bit < ML_ARRAY_SIZE(vmflag_names) ? vmflag_names[bit] : "?";
}

/* Bit of a two-letter mnemonic, searched from bit `from` on and wrapping
 * around: the kernel prints flags in bit order, so starting after the
 * previous one finds the next at once.  -1 if unknown. */
static int vmflag_bit_from(const char two[2], size_t from)
{
	size_t n = ML_ARRAY_SIZE(vmflag_names);

	for (size_t k = 0, i = from % n; k < n; k++, i = i + 1 == n ? 0 : i + 1)
		if (vmflag_names[i][0] == two[0] && vmflag_names[i][1] == two[1])
			return (int)i;
	return -1;
}

int ml__vmflag_bit(const char two[2])
{
	return vmflag_bit_from(two, 0);
}

/* Value of a hex digit plus one; 0 for any other byte. */
static const unsigned char hex_digit[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Hex number at *pp up to a non-hex byte; advances *pp.  -1 if none or
 * more than 16 digits. */
static int parse_hex(const char **pp, const char *end, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;

	for (; p < end; p++, n++) {
		unsigned int d = hex_digit[(unsigned char)*p];

		if (!d)
			break;
		if (n == 16)
			return -1;
		v = v << 4 | (d - 1);
	}
	if (n == 0)
		return -1;
	*pp = p;
	*ret = v;
	return 0;
}

static int parse_dec(const char **pp, const char *end, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -1;
		v = v * 10 + d;
	}
	*pp = p;
	*ret = v;
	return 0;
}

static int expect(const char **pp, const char *end, char c)
{
	if (*pp >= end || **pp != c)
		return -1;
	(*pp)++;
	return 0;
}

/* smaps pads its values with runs of spaces: eight at a time first. */
static void skip_spaces(const char **pp, const char *end)
{
	while (end - *pp >= 8 && memcmp(*pp, "        ", 8) == 0)
		*pp += 8;
	while (*pp < end && **pp == ' ')
		(*pp)++;
}

size_t ml__decode_name(char *s, size_t len, bool *ret_deleted)
{
	static const char del[] = " (deleted)";
	size_t dl = sizeof(del) - 1, o = 0;
	bool deleted = false;

	if (len > dl && memcmp(s + len - dl, del, dl) == 0) {
		len -= dl;
		deleted = true;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && len - i >= 4 &&
		    memcmp(s + i, "\\012", 4) == 0) {
			s[o++] = '\n';
			i += 3;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	*ret_deleted = deleted;
	return o;
}

/* The perms column of maps, one character a bit: the character when the
 * bit is set and when it is not ("rwxp", "r--s"). */
static const struct { unsigned int bit; char set, unset; } perm_chars[4] = {
	{ ML_PERM_READ, 'r', '-' }, { ML_PERM_WRITE, 'w', '-' },
	{ ML_PERM_EXEC, 'x', '-' }, { ML_PERM_SHARED, 's', 'p' },
};

static unsigned int parse_perms(const char *p)
{
	unsigned int perms = 0;

	for (size_t i = 0; i < ML_ARRAY_SIZE(perm_chars); i++)
		if (p[i] == perm_chars[i].set)
			perms |= perm_chars[i].bit;
	return perms;
}

static int valid_perms(const char *p)
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(perm_chars); i++)
		if (p[i] != perm_chars[i].set && p[i] != perm_chars[i].unset)
			return 0;
	return 1;
}

char *ml_perms_str(unsigned int perms, char buf[5])
{
	for (size_t i = 0; i < ML_ARRAY_SIZE(perm_chars); i++)
		buf[i] = perms & perm_chars[i].bit ? perm_chars[i].set : perm_chars[i].unset;
	buf[4] = '\0';
	return buf;
}

struct ml_region *ml__region_append(struct ml_snapshot *snap)
{
	assert(snap->nregions <= snap->cap);
	if (snap->nregions == snap->cap) {
		size_t sz = sizeof(*snap->regions), bytes = snap->cap * sz;
		void *p = snap->regions;

		if (snap->cap > SIZE_MAX / 2 / sz ||
		    ml__grow(&p, &bytes, &snap->regions_huge, snap->nregions * sz,
			     (snap->cap ? snap->cap * 2 : 256) * sz) < 0)
			return NULL;
		snap->regions = p;
		snap->cap = bytes / sz;
	}
	struct ml_region *r = &snap->regions[snap->nregions++];
	memset(r, 0, sizeof(*r));
	return r;
}

static int parse_header(struct ml__maps_parser *mp, const char *p, const char *end)
{
	struct ml_snapshot *snap = mp->snap;
	uint64_t start, stop, off, maj, min, ino;

	if (parse_hex(&p, end, &start) || expect(&p, end, '-') ||
	    parse_hex(&p, end, &stop) || expect(&p, end, ' ') ||
	    end - p < 5 || !valid_perms(p) || p[4] != ' ')
		return -EBADMSG;
	unsigned int perms = parse_perms(p);
	p += 5;
	if (parse_hex(&p, end, &off) || expect(&p, end, ' ') ||
	    parse_hex(&p, end, &maj) || expect(&p, end, ':') ||
	    parse_hex(&p, end, &min) || expect(&p, end, ' ') ||
	    parse_dec(&p, end, &ino) || (p < end && *p != ' '))
		return -EBADMSG;
	if (start >= stop || maj > 0xfff || min > 0xfffff)
		return -EBADMSG;
	if (snap->nregions && start < snap->regions[snap->nregions - 1].end)
		return -EAGAIN;   /* well-formed, out of order: a race, see the top */
	skip_spaces(&p, end);

	/* Most mappings of a big process are anonymous: no copy of "". */
	char *name = p < end ? ml__strndup(snap, p, (size_t)(end - p)) : NULL;
	struct ml_region *r = ml__region_append(snap);
	if ((p < end && !name) || !r)
		return -ENOMEM;
	r->start = start;
	r->end = stop;
	r->offset = off;
	r->perms = perms;
	r->dev_major = (unsigned int)maj;
	r->dev_minor = (unsigned int)min;
	r->inode = ino;
	if (name) {
		ml__decode_name(name, (size_t)(end - p), &r->deleted);
		r->name = name;
	} else {
		r->name = "";
	}
	r->kind = ML_KIND_OTHER;
	r->have_smaps = mp->smaps;
	r->smaps = &ml__no_smaps;
	if (mp->smaps) {
		if (!(mp->cur = ml__alloc(snap, sizeof(*mp->cur))))
			return -ENOMEM;
		r->smaps = mp->cur;
	}
	mp->next_field = 0;
	return 0;
}

static void parse_vmflags(struct ml_smaps *sm, const char *p, const char *end)
{
	size_t n, next = 0;

	skip_spaces(&p, end);
	n = (size_t)(end - p);
	if (n >= sizeof(sm->vmflags_str))
		n = sizeof(sm->vmflags_str) - 1;
	memcpy(sm->vmflags_str, p, n);
	sm->vmflags_str[n] = '\0';
	while (n && sm->vmflags_str[n - 1] == ' ')
		sm->vmflags_str[--n] = '\0';
	for (; end - p >= 2; p++) {
		if (p[0] != ' ' && p[1] != ' ' && (end - p == 2 || p[2] == ' ')) {
			int bit = vmflag_bit_from(p, next);
			if (bit >= 0) {
				sm->vmflags |= 1ull << bit;
				next = (size_t)bit + 1;
			}
			p += 2;
		}
	}
}

/* The value of field f ("   N kB" at v) into r; the next field expected
 * is the one after f. */
static int store_field(struct ml__maps_parser *mp, const struct smaps_field *f,
		       const char *v, const char *end)
{
	uint64_t kb;

	mp->next_field = (size_t)(f - smaps_fields) + 1;
	if (f->off == SIZE_MAX)
		return 0;
	skip_spaces(&v, end);
	if (parse_dec(&v, end, &kb) || kb > UINT64_MAX / 1024)
		return -EBADMSG;
	*(uint64_t *)((char *)mp->cur + f->off) = kb * 1024;
	return 0;
}

/* A "Key: value" line of smaps.  Unknown keys are ignored (new kernels add
 * some); a known key with a malformed value is an error. */
static int parse_field(struct ml__maps_parser *mp, const char *p, const char *end)
{
	size_t n = ML_ARRAY_SIZE(smaps_fields), len = (size_t)(end - p);
	const struct smaps_field *f = &smaps_fields[mp->next_field % n];
	const char *colon;

	if (!mp->snap->nregions)
		return -EBADMSG;   /* a field before any header */
	/* Fast path: the key the kernel prints next. */
	if (len > f->keylen && p[f->keylen] == ':' && memcmp(p, f->key, f->keylen) == 0)
		return store_field(mp, f, p + f->keylen + 1, end);
	colon = memchr(p, ':', len);
	if (!colon)
		return -EBADMSG;
	size_t klen = (size_t)(colon - p);
	if (klen == 7 && memcmp(p, "VmFlags", 7) == 0) {
		parse_vmflags(mp->cur, colon + 1, end);
		return 0;
	}
	for (size_t k = 1; k < n; k++) {
		f = &smaps_fields[(mp->next_field + k) % n];
		if (f->keylen == klen && memcmp(f->key, p, klen) == 0)
			return store_field(mp, f, colon + 1, end);
	}
	return 0;
}

static int parse_line(struct ml__maps_parser *mp, const char *p, size_t len)
{
	const char *end = p + len;

	if (len == 0)
		return 0;
	if (len > ML_MAX_LINE)
		return -EBADMSG;
	if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		return parse_header(mp, p, end);
	if (mp->smaps && *p >= 'A' && *p <= 'Z')
		return parse_field(mp, p, end);
	return -EBADMSG;
}

struct ml__maps_parser *ml__maps_parser_new(struct ml_snapshot *snap, bool smaps)
{
	struct ml__maps_parser *mp = calloc(1, sizeof(*mp));

	if (mp) {
		mp->snap = snap;
		mp->smaps = smaps;
	}
	return mp;
}

static int carry(struct ml__maps_parser *mp, const char *buf, size_t len)
{
	if (mp->plen + len > ML_MAX_LINE)
		return -EBADMSG;
	if (ML__RESERVE(mp->partial, mp->pcap, mp->plen + len) < 0)
		return -ENOMEM;
	memcpy(mp->partial + mp->plen, buf, len);
	mp->plen += len;
	return 0;
}

int ml__maps_parser_feed(struct ml__maps_parser *mp, const char *buf, size_t len)
{
	const char *end = buf + len;

	if (mp->err)
		return mp->err;
	while (buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		int r;

		if (!nl) {
			r = carry(mp, buf, (size_t)(end - buf));
			if (r < 0)
				return mp->err = r;
			break;
		}
		if (mp->plen) {
			r = carry(mp, buf, (size_t)(nl - buf));
			if (r == 0)
				r = parse_line(mp, mp->partial, mp->plen);
			mp->plen = 0;
		} else {
			r = parse_line(mp, buf, (size_t)(nl - buf));
		}
		if (r < 0)
			return mp->err = r;
		buf = nl + 1;
	}
	return 0;
}

int ml__maps_parser_finish(struct ml__maps_parser *mp)
{
	int r = mp->err;

	if (!r && mp->plen)
		r = parse_line(mp, mp->partial, mp->plen);
	free(mp->partial);
	free(mp);
	return r;
}

int ml__maps_parse_text(struct ml_snapshot *snap, const char *buf,
			size_t len, bool smaps)
{
	struct ml__maps_parser *mp = ml__maps_parser_new(snap, smaps);

	if (!mp)
		return -ENOMEM;
	int r = ml__maps_parser_feed(mp, buf, len);
	int r2 = ml__maps_parser_finish(mp);
	return r < 0 ? r : r2;
}

int ml__maps_parse_buffer(struct ml_snapshot *snap, const char *buf,
			  size_t len, bool smaps)
{
	int r = ml__maps_parse_text(snap, buf, len, smaps);

	return r == -EAGAIN ? -EBADMSG : r;   /* a saved text is not racing */
}

/* Reading a big smaps is mostly the kernel formatting it: ~60 ms of system
 * time for 20,000 mappings, against ~15 ms of parsing.  So once the first
 * chunk shows the file is big, a reader thread reads the rest into a ring
 * of chunks while this thread parses the chunks already read: the parse
 * hides behind the kernel's work instead of following it. */
#define CHUNK (64 * 1024)
#define NCHUNKS 4

struct ring {
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[NCHUNKS];
	ssize_t len[NCHUNKS];     /* bytes read, 0 at EOF, -errno */
	size_t head, tail;        /* chunks read, chunks parsed */
	bool stop;                /* the parser gave up: read no more */
};

static void *reader(void *arg)
{
	struct ring *g = arg;

	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (g->head - g->tail == NCHUNKS && !g->stop)
			pthread_cond_wait(&g->cv, &g->mu);
		size_t i = g->head % NCHUNKS;
		bool stop = g->stop;
		pthread_mutex_unlock(&g->mu);
		if (stop)
			return NULL;
		/* seq_file hands out a page at a time: fill the chunk. */
		ssize_t n = 0, got = 0;
		while (got < CHUNK - 8192) {
			n = read(g->fd, g->buf[i] + got, (size_t)(CHUNK - got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += n;
		}
		int err = n < 0 ? -errno : 0;
		pthread_mutex_lock(&g->mu);
		g->len[i] = err ? err : got;
		g->head++;
		pthread_cond_signal(&g->cv);
		pthread_mutex_unlock(&g->mu);
		/* An error, or EOF with nothing read, ends the ring; after the
		 * last chunk the next read finds EOF again. */
		if (err || got == 0)
			return NULL;
	}
}

/* Parse the chunks as the reader hands them over, until EOF (0), a read
 * error or a parse error (-errno; the reader is then told to stop). */
static int drain(struct ring *g, struct ml__maps_parser *mp)
{
	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (g->head == g->tail)
			pthread_cond_wait(&g->cv, &g->mu);
		size_t i = g->tail % NCHUNKS;
		pthread_mutex_unlock(&g->mu);
		ssize_t n = g->len[i];
		if (n <= 0)
			return (int)n;
		int r = ml__maps_parser_feed(mp, g->buf[i], (size_t)n);
		pthread_mutex_lock(&g->mu);
		g->tail++;
		g->stop = r < 0;
		pthread_cond_signal(&g->cv);
		pthread_mutex_unlock(&g->mu);
		if (r < 0)
			return r;
	}
}

/* The rest of fd through a reader thread; 0 or -errno. */
static int parse_ring(struct ml__maps_parser *mp, int fd)
{
	struct ring g = { .fd = fd, .mu = PTHREAD_MUTEX_INITIALIZER,
			  .cv = PTHREAD_COND_INITIALIZER };
	char *ring = ml__huge_alloc(NCHUNKS * CHUNK);   /* one page fault */
	pthread_t th;
	int r;

	if (!ring)
		return -ENOMEM;
	for (size_t i = 0; i < NCHUNKS; i++)
		g.buf[i] = ring + i * CHUNK;
	if ((r = -pthread_create(&th, NULL, reader, &g)) == 0) {
		r = drain(&g, mp);
		pthread_join(th, NULL);
	}
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
	ml__huge_free(ring, NCHUNKS * CHUNK);
	return r;
}

int ml__maps_parse_fd(struct ml_snapshot *snap, int fd, bool smaps)
{
	struct ml__maps_parser *mp = ml__maps_parser_new(snap, smaps);
	char *buf = malloc(CHUNK);
	size_t total = 0;
	int r = 0;

	if (!mp || !buf) {
		free(buf);
		if (mp)
			ml__maps_parser_finish(mp);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		r = ml__maps_parser_feed(mp, buf, (size_t)n);
		if (r < 0)
			break;
		/* Past 32 KiB, a big file: the rest through the ring. */
		if ((total += (size_t)n) >= 32 * 1024) {
			r = parse_ring(mp, fd);
			break;
		}
	}
	free(buf);
	int r2 = ml__maps_parser_finish(mp);
	return r < 0 ? r : r2;
}
