/* inspect.h -- the one public header of libinspect.
 *
 * libinspect reads CPython heaps out of memory images (ELF core files and live
 * processes) without running anything inside them. A *source* names the image; a
 * *context* keeps what must survive between commands in one debugging session (the
 * peaks of objgraph-growth); a *command* is one entry of the command table shared by the
 * CLI (objinspect) and the GDB extension.
 *
 * Errors are values: functions that can fail return an ins_error (NULL on success),
 * which the caller frees with ins_error_free().
 */
#ifndef INS_INSPECT_H
#define INS_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define INS_API __attribute__((visibility("default")))
#else
#define INS_API
#endif

/* Error codes double as the CLI's exit statuses. */
enum ins_code {
	INS_OK = 0,
	INS_E_FAIL = 1,        /* generic failure */
	INS_E_USAGE = 2,       /* bad arguments */
	INS_E_INPUT = 3,       /* unreadable, empty, truncated or non-ELF input */
	INS_E_NOT_PYTHON = 4,  /* no CPython interpreter in the image */
	INS_E_UNSUPPORTED = 5, /* a CPython we have no layout for */
	INS_E_NOT_FOUND = 6,   /* unknown type name, address that is not an object */
	INS_E_CORRUPT = 7,     /* the heap or the interpreter state does not hold together */
	INS_E_MISMATCH = 8,    /* executable or library differs from the one in the image */
	INS_E_OS = 9,          /* a system call failed (ptrace, open, ...) */
	INS_E_NOMEM = 10,
};

typedef struct ins_error {
	int code;       /* enum ins_code */
	char *message;  /* one line, no trailing newline */
} ins_error;

INS_API void ins_error_free(ins_error *err);

/* Where the memory comes from: a core file, or a live process. */
typedef struct ins_source {
	const char *core;     /* path of an ELF core file, or NULL */
	const char *exe;      /* executable to use instead of the one the core names */
	const char *sysroot;  /* prefix for every file the core names */
	int pid;              /* live process (when core is NULL) */
	int attach;           /* 1: stop the process with ptrace while copying it;
	                         0: it is already stopped by its tracer (GDB) */
	const char *debug_dir; /* where detached debug info is (':'-separated; NULL:
	                          /usr/lib/debug), under sysroot when there is one */
} ins_source;

/* State that lives across commands: objgraph-growth's peaks and last ids. */
typedef struct ins_ctx ins_ctx;

INS_API ins_ctx *ins_ctx_new(void);
INS_API void ins_ctx_free(ins_ctx *ctx);

/* Runs one command; argv[0] is its name (CLI or GDB spelling). The command's output is
 * returned in *out and warnings and the error line in *err (both malloc'd, NUL-terminated,
 * possibly empty; free with ins_free). Returns the exit status (enum ins_code). */
INS_API int ins_run(ins_ctx *ctx, const ins_source *src, int argc, char **argv,
	    char **out, char **err);
INS_API void ins_free(void *p);

/* The command table, for front ends (help texts, completion). */
typedef struct ins_command_info {
	const char *name;      /* CLI spelling: "types" */
	const char *gdb_name;  /* GDB spelling: "objgraph-types" */
	const char *usage;     /* "[--limit N] [--filter S] [--qualified] [--json]" */
	const char *summary;   /* one line */
	const char *help;      /* paragraphs */
	const char *options;   /* space-separated option names, for completion */
} ins_command_info;

INS_API size_t ins_command_count(void);
INS_API const ins_command_info *ins_command_get(size_t i);

INS_API const char *ins_version(void);

#ifdef __cplusplus
}
#endif
#endif
