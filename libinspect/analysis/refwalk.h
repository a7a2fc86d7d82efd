/* refwalk.h -- gc.get_referents and gc.get_referrers with labelled edges, to a depth:
 * breadth-first from one object over the reference graph, each object expanded once. */
#ifndef INS_REFWALK_H
#define INS_REFWALK_H

#include "graph.h"

/* One edge met: from -> to, labelled, at depth (1: an edge of the start object). */
typedef struct ins_walked {
	uint64_t from, to;
	char *label;
	uint8_t flags;          /* INS_EF_INFERRED, INS_EF_BORROWED of the edge */
	int depth;
} ins_walked;

typedef struct ins_walk {
	ins_walked *v;
	size_t n, cap;
	bool oom;
} ins_walk;

/* The edges out of node start (its referents, in traversal order) or with back into it
 * (its referrers, in node order: gc.get_referrers), then those of the objects they lead
 * to, up to max_depth levels (s->graph built). Edges whose target is no object are left
 * out, and so are hidden ones. */
ins_error *ins_refwalk(ins_session *s, uint32_t start, long max_depth, bool back, ins_walk *out);
void ins_walk_free(ins_walk *w);

#endif
