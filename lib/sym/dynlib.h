/* SPDX-License-Identifier: MIT */
/*
 * dynlib.h - libdw (elfutils' libdwfl) and jansson, loaded on first use:
 * the files that call them include this header instead of
 * <elfutils/libdwfl.h> or <jansson.h>.
 *
 * Every function we call is a pointer in ml__dw or ml__json, typed from
 * the real header (__typeof__), and its name is #defined to that pointer,
 * so call sites read as plain libdw/jansson calls.  A caller must have
 * ml__dw_load() (ml__json_load()) return 0 before the first such call;
 * the tables hold NULL until then.  Consequences for the call sites:
 *   - a function used as a value (libdwfl's find_elf/find_debuginfo
 *     callbacks) is a run-time value: a Dwfl_Callbacks is filled after
 *     loading (not in a static initializer, nor in a local one that runs
 *     before the call to ml__dw_load()); the one for a live process,
 *     ml__dw_proc_callbacks, is filled by the loader itself;
 *   - jansson's static inline functions call the library directly: each
 *     one we use is replaced (json_decref -> ml__json_decref).
 * A function missing from a list below is a link error ("undefined
 * reference"), not a silent DT_NEEDED: the library is not linked.
 */
#ifndef ML_DYNLIB_H
#define ML_DYNLIB_H

#include <elfutils/libdwfl.h>
#include <jansson.h>

/* The libdw functions lib/ calls. */
#define ML__DW_FUNCS(X) \
	X(dwfl_addrmodule) X(dwfl_begin) X(dwfl_build_id_find_debuginfo) X(dwfl_build_id_find_elf) X(dwfl_end) \
	X(dwfl_frame_pc) X(dwfl_frame_reg) X(dwfl_getmodules) \
	X(dwfl_getthread_frames) X(dwfl_line_comp_dir) X(dwfl_lineinfo) \
	X(dwfl_linux_proc_attach) X(dwfl_linux_proc_find_elf) \
	X(dwfl_linux_proc_report) X(dwfl_module_addrinfo) X(dwfl_module_build_id) \
	X(dwfl_module_getdwarf) X(dwfl_module_getelf) X(dwfl_module_getsrc) \
	X(dwfl_module_getsym_info) X(dwfl_module_getsymtab) X(dwfl_module_info) \
	X(dwfl_report_begin) X(dwfl_report_elf) X(dwfl_report_end) \
	X(dwfl_standard_find_debuginfo) \
	X(dwfl_attach_state) \
	X(dwfl_thread_state_registers) X(dwfl_thread_state_register_pc) \
	X(dwfl_module_addrdie) X(dwarf_getscopes) X(dwarf_getscopes_die) X(dwarf_tag) X(dwarf_attr) \
	X(dwarf_attr_integrate) X(dwarf_formstring) X(dwarf_formudata) \
	X(dwarf_getsrcfiles) X(dwarf_filesrc)

/* The jansson functions lib/ calls, to parse (json_delete: by ml__json_decref). */
#define ML__JSON_FUNCS(X) \
	X(json_delete) X(json_loadb) X(json_object_get) X(json_array_size) X(json_array_get) \
	X(json_integer_value) X(json_number_value) X(json_string_value)

#define ML__FN_POINTER(f) __typeof__(f) *f;
struct ml__dw_api { ML__DW_FUNCS(ML__FN_POINTER) };
struct ml__json_api { ML__JSON_FUNCS(ML__FN_POINTER) };
#undef ML__FN_POINTER

/* Filled once by the loaders below, then only read. */
extern struct ml__dw_api ml__dw;
extern struct ml__json_api ml__json;

/* Load libdw (ML_LIBDW_SONAME) / jansson (ML_JANSSON_SONAME) and resolve
 * every function of its list, once per process (thread-safe; later calls
 * return the first verdict).  0, or -ENOTSUP: the library or one of the
 * functions is missing. */
int ml__dw_load(void);
int ml__json_load(void);

/* The callbacks of a Dwfl over a live process (checked finders of its
 * ELF files and debug files, below); valid once ml__dw_load() returned 0: a
 * function of libdw is a value known only then. */
extern Dwfl_Callbacks ml__dw_proc_callbacks;

/* libdwfl's finders of a process's ELF files and of debug files, opening
 * no name the target controls as such (symbols.c: no symlink, no FIFO or
 * device, a debuglink only as a plain file name, CRC checked). */
int ml__dw_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **ret_file, Elf **ret_elf);
int ml__dw_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  GElf_Addr base, const char *file_name, const char *debuglink,
			  GElf_Word crc, char **ret_name);

/* jansson's inline json_decref(), through the loaded json_delete. */
void ml__json_decref(json_t *json);

#ifndef ML__DYNLIB_IMPL   /* dynlib.c itself sees the real names */
#define dwfl_addrmodule (*ml__dw.dwfl_addrmodule)
#define dwfl_begin (*ml__dw.dwfl_begin)
#define dwfl_attach_state (*ml__dw.dwfl_attach_state)
#define dwfl_thread_state_registers (*ml__dw.dwfl_thread_state_registers)
#define dwfl_thread_state_register_pc (*ml__dw.dwfl_thread_state_register_pc)
#define dwfl_build_id_find_debuginfo (*ml__dw.dwfl_build_id_find_debuginfo)
#define dwfl_build_id_find_elf (*ml__dw.dwfl_build_id_find_elf)
#define dwfl_end (*ml__dw.dwfl_end)
#define dwfl_frame_pc (*ml__dw.dwfl_frame_pc)
#define dwfl_frame_reg (*ml__dw.dwfl_frame_reg)
#define dwfl_getmodules (*ml__dw.dwfl_getmodules)
#define dwfl_getthread_frames (*ml__dw.dwfl_getthread_frames)
#define dwfl_line_comp_dir (*ml__dw.dwfl_line_comp_dir)
#define dwfl_lineinfo (*ml__dw.dwfl_lineinfo)
#define dwfl_linux_proc_attach (*ml__dw.dwfl_linux_proc_attach)
#define dwfl_linux_proc_find_elf (*ml__dw.dwfl_linux_proc_find_elf)
#define dwfl_linux_proc_report (*ml__dw.dwfl_linux_proc_report)
#define dwfl_module_addrinfo (*ml__dw.dwfl_module_addrinfo)
#define dwfl_module_build_id (*ml__dw.dwfl_module_build_id)
#define dwfl_module_getdwarf (*ml__dw.dwfl_module_getdwarf)
#define dwfl_module_getelf (*ml__dw.dwfl_module_getelf)
#define dwfl_module_getsrc (*ml__dw.dwfl_module_getsrc)
#define dwfl_module_getsym_info (*ml__dw.dwfl_module_getsym_info)
#define dwfl_module_getsymtab (*ml__dw.dwfl_module_getsymtab)
#define dwfl_module_info (*ml__dw.dwfl_module_info)
#define dwfl_report_begin (*ml__dw.dwfl_report_begin)
#define dwfl_report_elf (*ml__dw.dwfl_report_elf)
#define dwfl_report_end (*ml__dw.dwfl_report_end)
#define dwfl_standard_find_debuginfo (*ml__dw.dwfl_standard_find_debuginfo)
#define dwfl_module_addrdie (*ml__dw.dwfl_module_addrdie)
#define dwarf_getscopes (*ml__dw.dwarf_getscopes)
#define dwarf_getscopes_die (*ml__dw.dwarf_getscopes_die)
#define dwarf_tag (*ml__dw.dwarf_tag)
#define dwarf_attr (*ml__dw.dwarf_attr)
#define dwarf_attr_integrate (*ml__dw.dwarf_attr_integrate)
#define dwarf_formstring (*ml__dw.dwarf_formstring)
#define dwarf_formudata (*ml__dw.dwarf_formudata)
#define dwarf_getsrcfiles (*ml__dw.dwarf_getsrcfiles)
#define dwarf_filesrc (*ml__dw.dwarf_filesrc)

#define json_delete (*ml__json.json_delete)
#define json_loadb (*ml__json.json_loadb)
#define json_object_get (*ml__json.json_object_get)
#define json_array_size (*ml__json.json_array_size)
#define json_array_get (*ml__json.json_array_get)
#define json_integer_value (*ml__json.json_integer_value)
#define json_number_value (*ml__json.json_number_value)
#define json_string_value (*ml__json.json_string_value)
#define json_decref ml__json_decref
#endif

#endif /* ML_DYNLIB_H */
