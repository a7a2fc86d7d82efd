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
	ins_heap heap;          /* walked on demand: ins_session_heap */
	bool walked;
	ins_buf *warn;
	ins_objects objs;
	struct ins_trav *trav;   /* built on demand: ins_session_graph */
	struct ins_graph *graph;
	ins_map gens;           /* object -> generation + 1: ins_session_index_gens */
	bool gens_indexed;
} ins_session;

ins_error *ins_session_open(const ins_source *src, ins_buf *warn, ins_session **out);
void ins_session_close(ins_session *s);
/* Walks the heap into s->heap the first time it is needed. */
ins_error *ins_session_heap(ins_session *s);
/* Makes s->trav, the traversal the graph uses (the emulator on unless OBJINSPECT_EMULATION=0,
 * with a thread's TLS), the first time it is needed. */
ins_error *ins_session_trav(ins_session *s);
/* Builds the reference graph (graph.h) the first time it is needed (replacing a tracked-only
 * one: node numbers of that one are then void). */
ins_error *ins_session_graph(ins_session *s);
/* A graph with at least the tracked objects and the references between them, for what only
 * the collection needs (collect.h, leaking.h): the whole graph when there is one already,
 * else ins_graph_build_tracked's. */
ins_error *ins_session_graph_tracked(ins_session *s);
/* The generation whose list holds obj (in->ngens: the permanent one of gc.freeze()), or -1
 * when no GC list does (s->heap walked). A search of the heap, unless ins_session_index_gens
 * made an index of it first (for many questions). */
int ins_session_generation(ins_session *s, uint64_t obj);
ins_error *ins_session_index_gens(ins_session *s);

/* Per-type statistics over the tracked objects (gc.get_objects(); frozen ones apart). */
typedef struct ins_typecount {
	const ins_type *type;
	uint64_t count, bytes;
} ins_typecount;

typedef struct ins_stats {
	ins_typecount *rows;    /* one per distinct type, in no particular order */
	size_t nrows;
	size_t ntracked;        /* len(gc.get_objects()) */
	size_t nfrozen;         /* gc.get_freeze_count() */
	size_t nuntracked;      /* with all: untracked objects reached by references */
} ins_stats;

/* Counts in one pass over the GC lists, sizing objects while their headers are in the
 * cache; sizes are computed only when want_bytes. With all, counts the reference graph's
 * nodes instead: the tracked objects and every untracked object a reference reaches. */
ins_error *ins_typestats(ins_session *s, bool want_bytes, bool all, ins_stats *out);
void ins_stats_free(ins_stats *st);

#endif
