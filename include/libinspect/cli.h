/* libinspect/cli.h -- the command layer the front ends share (libinspect-cli).
 *
 * objinspect and the GDB extension run the same commands: one table of names, options and
 * help texts, one argument parser, one renderer of objgraph's tables, JSON and DOT pictures
 * (running graphviz's dot for .png/.svg). The commands are a front end over libinspect's
 * typed API (libinspect.h); they live in libinspect-cli, not in libinspect, which prints
 * nothing. A *context* keeps what must survive between commands in one debugging session
 * (the peaks of objgraph-growth).
 */
#ifndef LIBINSPECT_CLI_H
#define LIBINSPECT_CLI_H

#include "program.h"

#ifdef __cplusplus
extern "C" {
#endif



/* State that lives across commands: objgraph-growth's peaks and last ids. */
typedef struct ins_ctx ins_ctx;

INS_API ins_ctx *ins_ctx_new(void);
INS_API void ins_ctx_free(ins_ctx *ctx);

/* The saved index of a core (objinspect's index command): AUTO reads a valid one beside the
 * core (or at path) instead of rebuilding, USE (--index) also writes it when there is no
 * valid one, NEVER (--no-index) ignores it. path (kept, not copied): NULL for
 * CORE.objinspect-index. Live processes have none. */
enum { INS_CLI_INDEX_AUTO = 0, INS_CLI_INDEX_USE = 1, INS_CLI_INDEX_NEVER = 2 };
INS_API void ins_ctx_set_index(ins_ctx *ctx, int mode, const char *path);

/* Runs one command; argv[0] is its name (CLI or GDB spelling). The command's output is
 * returned in *out and warnings and the error line in *err (both malloc'd, NUL-terminated,
 * possibly empty; free with ins_free). Returns the exit status (enum ins_code). */
INS_API int ins_run(ins_ctx *ctx, const ins_source *src, int argc, char **argv,
	    char **out, char **err);
/* Runs one command on a program the host opened and keeps (the GDB extension: one program
 * per stop, so the heap walk and the graph are built once for every command until the
 * inferior resumes). The program's warnings so far come first in *err, once. */
INS_API int ins_cli_run(ins_ctx *ctx, ins_program *p, int argc, char **argv, char **out, char **err);

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

#ifdef __cplusplus
}
#endif
#endif
