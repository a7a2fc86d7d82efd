/* libinspect/program.h -- a program: one stopped CPython process, read from the outside.
 *
 * A program is opened from an ELF core file, from a live process (stopped with ptrace while
 * its memory is copied, then resumed exactly where it was; or already stopped by its tracer),
 * or from a memory-read callback the host supplies (GDB's own view of its inferior: a
 * process, a core GDB opened with its sysroot, a gdbserver target). Opening finds the
 * interpreter, its version and the layouts of its structures. The heap walk, the reference
 * graph and the collection are computed the first time a question needs them and kept: a
 * program answers any number of questions about the same stop. Nothing is ever written to
 * the target and nothing runs inside it.
 *
 * A program is not thread-safe; one thread at a time may use it.
 */
#ifndef LIBINSPECT_PROGRAM_H
#define LIBINSPECT_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ins_program ins_program;

/* A file the image names, and where to read it on this machine (GDB's solib-search-path
 * finds libraries elsewhere than under its sysroot). */
typedef struct ins_file_path {
	const char *name;       /* as the image names it (a core's NT_FILE, /proc/PID/maps) */
	const char *path;       /* where it is here */
} ins_file_path;

/* Optional settings of every open; a NULL options pointer means all defaults. */
typedef struct ins_open_options {
	const char *exe;        /* executable to use instead of the one the image names */
	const char *sysroot;    /* prefix for every file the image names */
	const char *debug_dir;  /* where detached debug info is (':'-separated; NULL: /usr/lib/debug),
				   under sysroot when there is one */
	const ins_file_path *files;  /* files read from a path of their own, not under sysroot */
	size_t nfiles;
} ins_open_options;

INS_API ins_error *ins_program_open_core(const char *core, const ins_open_options *opt, ins_program **out);

/* A live process. With stop, every thread is stopped with ptrace while the memory is copied,
 * then detached; without, the caller (a debugger) already holds the process stopped. */
INS_API ins_error *ins_program_open_pid(int pid, bool stop, const ins_open_options *opt, ins_program **out);

/* One mapping of the target's address space, as /proc/PID/maps shows it. */
enum { INS_MAP_READ = 1, INS_MAP_WRITE = 2, INS_MAP_EXEC = 4 };
typedef struct ins_region {
	uint64_t start, end;    /* [start, end) */
	uint64_t offset;        /* file offset of start */
	unsigned perms;         /* INS_MAP_* */
	const char *path;       /* the file mapped, as the target sees it; NULL or "" if anonymous
				   ("[heap]", "[stack]" and the like count as anonymous) */
} ins_region;

/* Reads len bytes at addr in the target into buf: 0 on success, nonzero when any of them
 * cannot be read. */
typedef int (*ins_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* A target the host reads. Every readable region but code is copied once, through read,
 * when the program is opened (read-only data too: RELRO pages were relocated by the dynamic
 * loader before they were made read-only); executable file mappings are read from the files
 * themselves (under sysroot), checked to be the ones mapped. */
typedef struct ins_reader {
	ins_read_fn read;
	void *arg;
	const ins_region *regions;
	size_t nregions;
	int pid;                  /* the target's pid, or 0 (informational) */
	const char *description;  /* how to name the target in messages: "remote target :1234" */
	const uint64_t *thread_sps;  /* each thread's stack pointer, as the host has it (the
				      * memory command's thread stacks), or NULL: unknown */
	size_t nthreads;
} ins_reader;

INS_API ins_error *ins_program_open_reader(const ins_reader *r, const ins_open_options *opt, ins_program **out);
/* Where the memory comes from, all in one description: a core file, a live process, or a
 * host's reader (exactly one of core, pid, reader). */
typedef struct ins_source {
	const char *core;     /* path of an ELF core file, or NULL */
	const char *exe;      /* executable to use instead of the one the core names */
	const char *sysroot;  /* prefix for every file the core names */
	int pid;              /* live process (when core is NULL) */
	int attach;           /* 1: stop the process with ptrace while copying it;
	                         0: it is already stopped by its tracer (GDB) */
	const char *debug_dir; /* where detached debug info is (':'-separated; NULL:
	                          /usr/lib/debug), under sysroot when there is one */
	const struct ins_reader *reader; /* a host's reader (when core is NULL and pid is 0) */
	const ins_file_path *files;  /* files read from a path of their own, not under sysroot */
	size_t nfiles;
} ins_source;

INS_API ins_error *ins_program_open(const ins_source *src, ins_program **out);
INS_API void ins_program_free(ins_program *p);

/* The saved index of a core (objinspect's index command: its heap walk, reference graph and
 * dominator tree in a file beside it). NEVER: none is read (a program's default). READ: a
 * valid one is read instead of walking the heap and building the graph and the dominator
 * tree (the same answers); a stale or damaged one is ignored with a warning. MAKE: the same,
 * and when there is no valid one it is built and written now. path NULL: CORE.objinspect-index.
 * Only for a program opened from a core, before its first question. */
enum { INS_PROGRAM_INDEX_NEVER = 0, INS_PROGRAM_INDEX_READ = 1, INS_PROGRAM_INDEX_MAKE = 2 };
INS_API ins_error *ins_program_set_index(ins_program *p, int mode, const char *path);

/* The interpreter's version, "3.12.1" (owned by the program). */
INS_API const char *ins_program_python(const ins_program *p);
/* What the program was read from: "core /path", "live process 1234", the reader's description. */
INS_API const char *ins_program_description(const ins_program *p);
/* The warnings so far (one per line, each "warning: ..."), "" if none. Warnings are about
 * the target (a damaged list, an unreadable file); the answers are still given. */
INS_API const char *ins_program_warnings(const ins_program *p);
/* Forgets the warnings so far. */
INS_API void ins_program_clear_warnings(ins_program *p);

#ifdef __cplusplus
}
#endif
#endif
