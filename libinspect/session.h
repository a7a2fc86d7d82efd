/* session.h -- one opened image with its interpreter, heap and decoder: what every
 * command works on. Each command opens a new session, so a live process is copied anew
 * each time (objgraph-growth across `continue` sees the new state). */
#ifndef INS_SESSION_H
#define INS_SESSION_H

#include "heap.h"
#include "object.h"

typedef struct ins_session {
	ins_image *img;
	ins_interp *in;
	ins_heap heap;
	ins_objects objs;
} ins_session;

ins_error *ins_session_open(const ins_source *src, ins_buf *warn, ins_session **out);
void ins_session_close(ins_session *s);

/* Per-type statistics over the tracked objects (gc.get_objects(); frozen ones apart). */
typedef struct ins_typecount {
	const ins_type *type;
	uint64_t count, bytes;
} ins_typecount;

/* One row per distinct type; sizes are computed only when want_bytes. */
ins_error *ins_typestats(ins_session *s, size_t from, size_t to, bool want_bytes,
			 ins_buf *warn, ins_typecount **out, size_t *n);

#endif
