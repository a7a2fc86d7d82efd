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

/* What a full gc.collect() would leave on the GC lists: gc.get_objects() right after one,
 * the heap objgraph's get_leaking_objects() and growth() look at (they collect first).
 * Computed without modifying anything, by CPython's collect() on the graph:
 *
 *  - the collection: the generations merged into the oldest (gen 2, then 0, then 1:
 *    gc_list_merge appends), 3.12+ immortal objects moved out to the permanent generation
 *    (update_refs), gc_refs = ob_refcnt minus the references from collected objects,
 *    move_unreachable's scan in its order (an object first found with gc_refs 0 goes to
 *    the tentatively unreachable list and back to the end of the young list when a
 *    scanned object refers to it). Frozen objects (gc.freeze) are not collected.
 *  - the unreachable objects are freed, except (gc.garbage) those with a legacy finalizer
 *    (2.7's __del__, a C tp_del) and every unreachable object they reach, which stay
 *    tracked (move_legacy_finalizers, move_legacy_finalizer_reachable).
 *  - the survivors' tuples are untracked in scan order when no item may be tracked
 *    (_PyTuple_MaybeUntrack: an item may be tracked if it is of a GC type -- a type
 *    object only when it is a heap type -- and, for a tuple, if it is still tracked; so a
 *    tuple of tuples untracked earlier in the same scan goes too, one scanned before its
 *    items stays); 2.7-3.7 do it in move_unreachable, 3.8+ in untrack_tuples afterwards,
 *    which gives the same result. Then (a full collection) the dicts whose keys and values
 *    may not be tracked (_PyDict_MaybeUntrack, untrack_dicts; 3.13 too).
 *
 * What no post-mortem tool can tell is left out: finalizers (3.4+ __del__, tp_finalize)
 * and weakref callbacks that run during the collection and resurrect or make objects. */
typedef struct ins_survivors {
	uint8_t *alive;         /* per graph node: 1 if gc.get_objects() lists it afterwards */
	uint32_t *nodes;        /* those nodes, in the order gc.get_objects() lists them */
	size_t n;
	size_t freed;           /* unreachable objects the collection frees */
	size_t uncollectable;   /* unreachable objects it leaves tracked (gc.garbage) */
	size_t tuples, dicts;   /* tuples and dicts it untracks */
	size_t immortal;        /* 3.12+: immortal objects it moves to the permanent generation */
} ins_survivors;

ins_error *ins_collect_survivors(ins_session *s, ins_survivors *out);
void ins_survivors_free(ins_survivors *sv);

#endif
