/* SPDX-License-Identifier: MIT */
/*
 * dynlib.c - libdw and jansson, loaded on first use (dlopen), not linked.
 *
 * Linked, libdw.so.1 (with liblzma and libbz2) and libjansson.so.4 cost
 * every start of memlayout about 0.3 ms in the dynamic loader, whatever
 * the verb, though only symbols (where), unwinding and the abort message
 * (run) use libdw and only plot's reading of a watch record uses jansson.  As
 * insn.c does for Zydis, each is opened by its soname, that of the ABI
 * of the headers we compile with, and every function of its list in
 * dynlib.h is resolved into a table of pointers typed from those headers.
 *
 * The tables are the library's one piece of process-wide state: written
 * once under pthread_once, read-only afterwards, like the dynamic linker's
 * own relocations they replace.  A library that fails to load (absent, or
 * a function missing) is not retried: the verdict stands for the process.
 *
 * Never dlclose()d: pointers into them outlive any call of ours (the
 * callbacks and strings of a Dwfl kept by a symbolizer, jansson's
 * singletons), and unloading would save nothing a short-lived CLI needs.
 */
#define ML__DYNLIB_IMPL
#include "ml-sym.h"
#include "dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

/* Overridable for the test of a missing library (tests/unit). */
#ifndef ML__DW_DLOPEN_NAME
#define ML__DW_DLOPEN_NAME ML_LIBDW_SONAME
#endif
#ifndef ML__JSON_DLOPEN_NAME
#define ML__JSON_DLOPEN_NAME ML_JANSSON_SONAME
#endif

struct ml__dw_api ml__dw;
struct ml__json_api ml__json;
Dwfl_Callbacks ml__dw_proc_callbacks;

struct sym {
	const char *name;
	size_t off;               /* of its pointer in the api struct */
};

#define DW_SYM(f) { #f, offsetof(struct ml__dw_api, f) },
#define JSON_SYM(f) { #f, offsetof(struct ml__json_api, f) },
static const struct sym dw_syms[] = { ML__DW_FUNCS(DW_SYM) };
static const struct sym json_syms[] = { ML__JSON_FUNCS(JSON_SYM) };

static const struct dynlib {
	const char *soname;
	const struct sym *syms;
	size_t nsyms;
	void *api;                /* &ml__dw or &ml__json */
	size_t api_size;
} libs[] = {
	{ ML__DW_DLOPEN_NAME, dw_syms, ML_ARRAY_SIZE(dw_syms), &ml__dw, sizeof(ml__dw) },
	{ ML__JSON_DLOPEN_NAME, json_syms, ML_ARRAY_SIZE(json_syms), &ml__json, sizeof(ml__json) },
};
enum { LIB_DW, LIB_JSON };

static int verdict[ML_ARRAY_SIZE(libs)];

/* Resolve every function into a copy first, so the table is either
 * complete or all NULL. */
static int load(const struct dynlib *l)
{
	char api[sizeof(struct ml__dw_api) > sizeof(struct ml__json_api) ?
		 sizeof(struct ml__dw_api) : sizeof(struct ml__json_api)];
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return -ENOTSUP;
	for (size_t i = 0; i < l->nsyms; i++) {
		void *f = dlsym(h, l->syms[i].name);

		if (!f)
			return -ENOTSUP;   /* h stays open: see the top comment */
		memcpy(api + l->syms[i].off, &f, sizeof(f));
	}
	memcpy(l->api, api, l->api_size);
	return 0;
}

static void load_dw(void)
{
	verdict[LIB_DW] = load(&libs[LIB_DW]);
	if (verdict[LIB_DW] == 0)
		ml__dw_proc_callbacks = (Dwfl_Callbacks){
			.find_elf = ml__dw_find_elf,
			.find_debuginfo = ml__dw_find_debuginfo,
		};
}

static void load_json(void)
{
	verdict[LIB_JSON] = load(&libs[LIB_JSON]);
}

int ml__dw_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_dw);
	return verdict[LIB_DW];
}

int ml__json_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_json);
	return verdict[LIB_JSON];
}

/* As jansson.h's json_decref: a refcount of -1 marks its singletons
 * (true, false, null), never freed. */
void ml__json_decref(json_t *json)
{
	if (json && json->refcount != (size_t)-1 && JSON_INTERNAL_DECREF(json) == 0)
		ml__json.json_delete(json);
}
