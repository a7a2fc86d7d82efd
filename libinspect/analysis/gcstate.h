/* gcstate.h -- the collector's state as the gc module reports it: gc.isenabled(),
 * get_threshold(), get_count(), the length of each generation's list, get_freeze_count(),
 * and gc.garbage. */
#ifndef INS_GCSTATE_H
#define INS_GCSTATE_H

#include "session.h"

typedef struct ins_gcstate {
	int enabled;                    /* 1, 0, or -1 when it cannot be told */
	int ngens;                      /* generations of gc.get_count() */
	int64_t threshold[INS_MAX_GENS]; /* -1 when unreadable */
	int64_t count[INS_MAX_GENS];    /* -1 when unreadable */
	size_t sizes[INS_MAX_GENS];     /* objects on each generation's list */
	size_t frozen;                  /* gc.get_freeze_count() */
	int64_t garbage;                /* len(gc.garbage), or -1 when it cannot be told */
} ins_gcstate;

/* Reads it (the heap walked for the list lengths). */
ins_error *ins_gc_read(ins_session *s, ins_gcstate *out);

/* gc.garbage: its length (*count) and its first min(count, limit) items (*items malloc'd,
 * *nitems of them). INS_ERR_NOT_FOUND when where gc.garbage is cannot be told,
 * INS_ERR_CORRUPT when it is not a list. */
ins_error *ins_garbage_read(ins_session *s, size_t limit, uint64_t **items, size_t *nitems, size_t *count);

#endif
