/* collect.h -- what a full gc.collect() would find unreachable, without running one, and the
 * cycles that hold it.
 *
 * CPython's algorithm over all generations at once (the permanent generation of gc.freeze()
 * stays outside, its references counting as external): gc_refs = ob_refcnt minus the
 * references from other collected objects; objects with gc_refs > 0 are referenced from
 * outside (C code, the stack, frozen objects) and are roots; everything reachable from a
 * root survives; the rest is unreachable. The references are the graph's edges (tp_traverse,
 * plus the inferred ones of unknown C types), so the answer is CPython's wherever the
 * traversal is exact.
 *
 * The unreachable objects are then split into strongly connected components: the cycles
 * (more than one object, or one that refers to itself), each holding the unreachable objects
 * that only it leads to.
 */
#ifndef INS_COLLECT_H
#define INS_COLLECT_H

#include "graph.h"

typedef struct ins_cycle {
	uint32_t *members;      /* a shortest simple cycle through the oldest member first,
				 * members[0 .. path), then the others breadth-first */
	size_t n, path;
	size_t held;            /* unreachable objects outside any cycle that this one leads to */
	uint64_t bytes, held_bytes;
} ins_cycle;

typedef struct ins_collect {
	uint32_t *unreachable;  /* nodes, in heap order */
	size_t n;
	ins_cycle *cycles;      /* largest first */
	size_t ncycles;
} ins_collect;

ins_error *ins_collect_run(ins_session *s, ins_collect *out);
void ins_collect_free(ins_collect *c);

#endif
