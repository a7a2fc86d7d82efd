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

/* The stack that starts at a frame object (a generator's or greenlet's suspended frame),
 * innermost first, outward along f_back (3.11+: its _PyInterpreterFrame's previous, as
 * f_back finds it); a stack that does not hold together is cut with a warning naming whose.
 * *frames is malloc'd; free each with ins_frame_info_free. */
ins_error *ins_stack_of_frame(ins_objects *o, ins_buf *warn, const char *whose, uint64_t frame, bool want_locals,
			      ins_frame_info **frames, size_t *nframes);

#endif
