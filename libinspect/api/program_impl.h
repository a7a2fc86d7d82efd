/* program_impl.h -- what a program is inside: the analysis session it wraps, the warnings
 * it has gathered, and what it keeps between questions. For the API's own files (program.c,
 * objects.c, queries.c, stacks.c) and the layers above the API (cli/, the command layer,
 * which runs on a program the host opened and keeps: one heap walk and one graph per stop). */
#ifndef INS_PROGRAM_IMPL_H
#define INS_PROGRAM_IMPL_H

#include <libinspect/program.h>

#include "collect.h"
#include "session.h"

struct ins_program {
	ins_session *s;         /* image, interpreter, decoder; heap walk and graph once needed */
	ins_buf warn;           /* the session's warnings (s->warn points here) */
	ins_collect col;        /* the collection, once computed (collected) */
	bool collected;
	char *core;             /* the core's path (a program opened from a core) */
	char **strs;            /* interned strings the answers point to (open addressing) */
	size_t nstrs, capstrs;
};

/* The program's session: its image, interpreter, decoder, heap walk and graph (built on first
 * need and kept). Its warnings go to ins_program_warnbuf(p) unless a caller points s->warn
 * elsewhere for a while. */
ins_session *ins_program_session(ins_program *p);
ins_buf *ins_program_warnbuf(ins_program *p);

/* The collection of ins_program_collect, computed once (s->graph built). */
ins_error *ins_program_collection(ins_program *p, const ins_collect **out);
/* A copy of text that lives as long as the program (one per distinct text); NULL stays
 * NULL. *oom is set when it cannot be made. */
const char *ins_program_intern(ins_program *p, const char *text, bool *oom);

/* An error for a call without its program or its result pointer. */
#define INS_API_NEED(cond) \
	do { \
		if (!(cond)) \
			return ins_err(INS_ERR_USAGE, "%s: missing argument (%s)", __func__, #cond); \
	} while (0)

#endif
