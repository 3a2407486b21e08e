/* SPDX-License-Identifier: MIT */
/*
 * ml-crash.h - lib/crash/ (a fatal signal explained: the fault, its
 * instruction, backtrace, abort message, mlalloc's heap report, cores):
 * what its files share.  Depends on core/, out/, sym/, where/.
 */
#ifndef ML_CRASH_H
#define ML_CRASH_H

#include "ml-where.h"

/* unwind.c: unwind thread tid of what dwfl holds (reported and attached
 * by the caller: a live process, or a core), at most max frames; read()
 * reads the target's memory (for a wild call's return address).  As
 * ml_backtrace_take. */
typedef ssize_t (*ml__mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
struct Dwfl;
int ml__backtrace_dwfl(struct Dwfl *dwfl, pid_t tid, bool is_32bit, size_t max,
		       ml__mem_read_fn read, void *ctx, struct ml_backtrace **ret);

/* abortmsg.c: the C library's abort message found among dwfl's modules
 * (reported by the caller), read through read().  As ml_abort_message. */
int ml__abort_message_dwfl(struct Dwfl *dwfl, bool is_32bit, ml__mem_read_fn read,
			   void *ctx, char **ret);

/* -- the instruction decoder (insn.c, for crash.c) -- */
/* Decode the instruction in code[0..len) found at regs->pc (x86-64 or
 * i386 by regs->is_32bit).  0, -ENOEXEC not an instruction, -ENOTSUP no
 * decoder for this architecture or no Zydis library (ML_ZYDIS_SONAME,
 * loaded at the first call), -ENOMEM. */
int ml_insn_decode(const unsigned char *code, size_t len,
		   const struct ml_regs *regs, struct ml_insn *ret);

/* -- a symbol of a stopped tracee (abortmsg.c, for heapcheck.c) -- */
/* The address of the defined symbol name in the modules of pid: 0,
 * -ENOENT, -ESRCH, -ENOMEM, -ENOTSUP (no libdw). */
int ml__tracee_symbol(pid_t pid, const char *name, uint64_t *ret);

/* name demangled (C++, Rust legacy and v0) into *ret (malloc'd): 0, -ENOENT not
 * a mangled name it knows, -ENOTSUP no libstdc++.so.6 (v0: no libiberty), -ENOMEM. */
int ml__demangle(const char *name, char **ret);

/* The crash report's parts (render-crash.c, render-crash-words.c), which
 * the heap report (render-heapcheck.c) shares.  The sentence of crash c,
 * target text escaped for a terminal or raw (for JSON): written to out,
 * or as a malloc'ed string (NULL on ENOMEM). */
void ml__crash_words(FILE *out, const struct ml_snapshot *snap, const struct ml_crash *c, bool raw);
char *ml__crash_sentence(const struct ml_snapshot *snap, const struct ml_crash *c, bool raw);
/* s escaped for a terminal (ml_escape ML_ESC_TERM; NULL as ""), "?" on ENOMEM. */
void ml__put_escaped(FILE *out, const char *s);
/* Frames as "  #N 0x... in fn+0x.. at file:line (object)", a run of one
 * repeating frame as one line, names escaped; truncated: a last line says so. */
void ml__text_frames(FILE *out, const struct ml_frame *fr, size_t n, bool truncated);
/* "Address space around the TITLE" and the diagram's slice around
 * `around` with marks, fitted to width (0: not).  0 or -errno. */
int ml__diagram_slice(FILE *out, const struct ml_snapshot *snap, const char *title,
		      const struct ml_mark *marks, size_t nmarks, uint64_t around,
		      unsigned int flags, unsigned int width);
/* JSON members of both reports, through json.c: key's object opened if
 * present (true), else key: null (false); frames as an array of {pc,
 * function, offset, file, line, object} (and inlined); "process": {pid,
 * comm, exe}. */
bool ml__json_object_or_null(struct ml_json *j, const char *key, bool present);
void ml__json_frames(struct ml_json *j, const char *key, const struct ml_frame *fr, size_t n,
		     bool with_inlined);
void ml__json_process(struct ml_json *j, const struct ml_proc *p);

#endif
