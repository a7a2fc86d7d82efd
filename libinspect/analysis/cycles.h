/* cycles.h -- what objgraph-cycles says about the collection (collect.h) besides its
 * cycles: the bytes it frees, what it leaves in gc.garbage, the finalizers and the weakref
 * callbacks it would run, and which member each listed reference of a cycle comes from. */
#ifndef INS_CYCLES_H
#define INS_CYCLES_H

#include "collect.h"

typedef struct ins_cycles_facts {
	uint8_t *dead;          /* per graph node: 1 if unreachable */
	uint32_t *weakref_callbacks;  /* per graph node: weakrefs with a callback that refer to it
				 * (the collector clears them and calls the callbacks) */
	uint64_t bytes;         /* sys.getsizeof of the unreachable objects, summed */
	size_t uncollectable;   /* unreachable objects a collection leaves in gc.garbage: those
				 * with a legacy finalizer (2.7's __del__, a C tp_del) and all they
				 * reach (move_legacy_finalizers, move_legacy_finalizer_reachable) */
} ins_cycles_facts;

ins_error *ins_cycles_facts_of(ins_session *s, const ins_collect *col, ins_cycles_facts *out);
void ins_cycles_facts_free(ins_cycles_facts *f);

/* Whether any member of the cycle has a finalizer (__del__, tp_finalize, tp_del), and how
 * many weakref callbacks point into it. */
void ins_cycles_summary(ins_session *s, const ins_cycle *cy, const ins_cycles_facts *f, bool *finalizers,
			uint32_t *callbacks);

/* Has the collector already called the object's finalizer (3.4+; resurrected since)? */
bool ins_cycles_finalized(ins_session *s, uint64_t obj);

/* Per member, the member that the listed reference to cy->members[i] comes from: the
 * previous one along the cycle, else the member with the lowest node number referring to
 * it. (*out)[i] for members[i]; malloc'd. */
ins_error *ins_cycles_sources(const ins_session *s, const ins_cycle *cy, uint32_t **out);

#endif
