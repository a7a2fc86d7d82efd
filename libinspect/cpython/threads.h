/* threads.h -- the main interpreter's threads, each with its Python stack, and which of
 * them holds the GIL: what sys._current_frames() and faulthandler show.
 *
 * Threads come in the order of the interpreter's list (the newest first). A thread's frames
 * are innermost first, as f_back runs; from 3.11 the frames tracebacks skip (3.12+ shims of
 * the C stack, frames not yet at their first traceable instruction) are left out, as
 * sys._current_frames() and traceback do.
 */
#ifndef INS_THREADS_H
#define INS_THREADS_H

#include "frames.h"

typedef struct ins_pythread {
	uint64_t tstate;        /* its PyThreadState */
	uint64_t thread_id;     /* threading.get_ident(), the key of sys._current_frames() */
	bool gil;               /* holds the GIL (when gil_known) */
	bool gil_known;
	ins_frame_info *frames; /* innermost first */
	size_t nframes;
} ins_pythread;

typedef struct ins_threads {
	ins_pythread *v;
	size_t n;
} ins_threads;

/* Reads every thread of the main interpreter; a stack or thread list that does not hold
 * together is cut short with a warning in warn. Fails when there is no thread list. */
ins_error *ins_threads_read(ins_objects *o, ins_buf *warn, bool want_locals, ins_threads *out);
void ins_threads_free(ins_threads *t);

#endif
