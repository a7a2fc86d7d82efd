/* greenlets.h -- the suspended greenlets (the greenlet package: gevent, eventlet) and their
 * Python stacks, besides the threads' (threads.h).
 *
 * Greenlets are found on the GC lists: every tracked object whose type is, or derives from,
 * greenlet.greenlet. A greenlet's saved top frame is what its gr_frame attribute returns:
 * the greenlet type's own getter (its tp_getset), run in the emulator (the greenlet's C++
 * internals have no layout we could read: the packages ship no DWARF). A greenlet not
 * started, finished, or running (a thread's current greenlet, whose frames are the thread's)
 * has none and is not listed. The stack runs from that frame outward along f_back, as
 * gr_frame.f_back does.
 */
#ifndef INS_GREENLETS_H
#define INS_GREENLETS_H

#include "session.h"
#include "threads.h"

typedef struct ins_greenlet {
	uint64_t addr;
	const ins_type *type;
	uint64_t frame;         /* gr_frame: its top frame object */
	ins_frame_info *frames; /* innermost first */
	size_t nframes;
} ins_greenlet;

typedef struct ins_greenlets {
	ins_greenlet *v;        /* the suspended ones, by address */
	size_t n;
	size_t found;           /* greenlet objects on the GC lists */
	size_t failed;          /* of them, those whose gr_frame could not be run */
} ins_greenlets;

ins_error *ins_greenlets_read(ins_session *s, bool want_locals, ins_greenlets *out);
void ins_greenlets_free(ins_greenlets *g);

#endif
