/* refcheck.h -- refcounts against the heap: for every object on the GC lists, ob_refcnt
 * minus the references to it found in the heap (graph edges and hidden references). What
 * is left is held by C code, the stack, or leaked (positive), or is corruption or a
 * reference kind counted wrongly (negative). */
#ifndef INS_REFCHECK_H
#define INS_REFCHECK_H

#include "graph.h"

typedef struct ins_residual {
	uint32_t node;
	int64_t refcnt, referrers, residual;  /* residual = refcnt - referrers (saturated) */
} ins_residual;

/* The objects whose residual is not 0 (3.12+ immortal objects and unreadable refcounts
 * skipped), most unexplained first, then in node order: the positive ones, then the
 * *nneg negative ones. *checked counts the objects whose refcount was compared. */
ins_error *ins_refcheck(ins_session *s, ins_residual **rows, size_t *n, size_t *nneg, size_t *checked);

#endif
