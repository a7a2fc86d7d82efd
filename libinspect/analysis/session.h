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
	/* the saved index (gindex.h): s->heap, s->graph and the dominators are read from it
	 * instead of being built, when it is valid */
	struct ins_gindex *gindex; /* mapped, its header and key checked; NULL: none */
	char *core_path, *index_path;
	int index_mode;         /* enum ins_index_mode */
	bool index_tried;       /* gindex opened (or found absent, stale, corrupt) */
	bool index_broken;      /* a section failed its checks: build the rest */
	bool heap_mapped, graph_mapped; /* s->heap, *s->graph point into gindex: never freed */
	uint64_t emu_saved[3];  /* the emulator's statistics of the build the index recorded */
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
/* The saved index of a core (gindex.h). OFF: none is read (index writes one); AUTO: a valid
 * one is read instead of walking the heap and building the graph and dominators, a stale or
 * corrupt one is ignored with a warning; WRITE: the same, and when there is no valid one,
 * ins_session_prepare_index builds and writes it. path NULL: beside the core
 * (CORE.objinspect-index). A live process has no index: mode is then OFF. */
enum ins_index_mode { INS_INDEX_OFF, INS_INDEX_AUTO, INS_INDEX_WRITE };
ins_error *ins_session_set_index(ins_session *s, const char *core, const char *path, enum ins_index_mode mode);
/* WRITE: reads the index, or builds the heap, the graph and the dominators and writes them
 * (a warning if that fails), so that the command reads them from it. */
ins_error *ins_session_prepare_index(ins_session *s);
/* Builds the heap, graph and dominators (whatever index there is) and writes the index
 * (s->index_path); the steps' warnings go to s->warn. info: what was written. */
struct ins_gindex_info;
ins_error *ins_session_write_index(ins_session *s, struct ins_gindex_info *info);
/* How many threads a step over work items may use: 2 where the machine has more than one
 * CPU and there are INS_THREADS_MIN items or more, else 1. OBJINSPECT_THREADS=1 or 2 decides
 * instead (1: the single-threaded path, which tests compare against; 2: both threads even
 * on a small heap, as tests need). */
#define INS_THREADS_MIN 65536
unsigned ins_session_threads(size_t work);
/* fn(first) in this thread while fn(second) runs in another (after it in this one when no
 * thread can be started); second NULL: fn(first) alone, no thread. */
void ins_run_two(void *(*fn)(void *), void *first, void *second);
/* True when the graph's nodes [0, nheap) are the heap's objects in order (node i is
 * heap.objs[i]): no object is listed twice, so what the walk recorded per object is per node. */
bool ins_session_nodes_are_heap(const ins_session *s);
/* ins_obj_refcnt of the graph's node: as the heap walk recorded it where it did (no read),
 * else read. */
bool ins_session_node_refcnt(ins_session *s, uint32_t node, int64_t *refcnt, bool *immortal);
/* ins_dominators_build's hook: true when *out was read from the index (mapped). */
struct ins_dominators;
bool ins_session_index_dominators(ins_session *s, struct ins_dominators *out);
/* The emulator's statistics (ins_trav_emu_stats) of the graph's build, read from the index
 * when the graph was. */
void ins_session_emu_stats(ins_session *s, uint64_t *emulated, uint64_t *failed, uint64_t *wrote);

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
