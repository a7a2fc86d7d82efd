/* heap.h -- enumerating the objects the garbage collector tracks.
 *
 * The heap is exactly what gc.get_objects() would return -- every object on the lists
 * of generations 0..2 -- followed by the objects gc.freeze() moved to the permanent
 * generation, which gc.get_objects() does not return and we report separately.
 * Lists are walked with every back-link checked, so a loop or a wild pointer in a
 * corrupt heap stops the walk of that list with a warning instead of hanging.
 */
#ifndef INS_HEAP_H
#define INS_HEAP_H

#include "interp.h"

typedef struct ins_heap {
	uint64_t *objs;                     /* object addresses, generation by generation */
	size_t objs_cap;                    /* entries objs has room for (never moved: the graph
					     * may write its untracked nodes' addresses after n) */
	uint32_t *type_of;                  /* per object: its ob_type, as an index into types */
	uint32_t *refcnt;                   /* per object: its refcount as the walk read it, or
					     * INS_REFCNT_AGAIN; NULL when not walked (a saved index) */
	uint64_t *types;                    /* the distinct ob_type words met */
	size_t ntypes;
	size_t n;                           /* all of them, frozen ones included */
	size_t gen_start[INS_MAX_GENS + 2]; /* generation g is [gen_start[g], gen_start[g+1]) */
	int ngens;                          /* generations of gc.get_objects(); then the permanent one */
	size_t ntracked;                    /* what gc.get_objects() returns: gen_start[ngens] */
	size_t nfrozen;
	unsigned walk_threads;              /* 2: a list was walked from both ends at once; 1: one
					     * thread walked them all; 0: read from a saved index */
} ins_heap;

/* A refcount the walk did not record: one of 2^31 or more, an immortal object's (3.12+), or
 * one it could not read. Every other is the count ins_obj_refcnt would read, not immortal. */
#define INS_REFCNT_AGAIN UINT32_MAX

/* Calls fn for every object of every generation in order (gen == in->ngens: frozen), with
 * its type and refcount (as in ins_heap.refcnt), read while its header is in the cache;
 * counts[g] is generation g's length. */
typedef void (*ins_heap_fn)(void *arg, uint64_t obj, uint64_t type, uint32_t refcnt, int gen);
ins_error *ins_heap_visit(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap_fn fn,
			  void *arg, size_t counts[INS_MAX_GENS + 1]);
/* The whole heap as an array of addresses. threads > 1: each list is walked from both
 * ends at once (a second thread follows the back-links; the result is the same). */
ins_error *ins_heap_walk(ins_image *img, const ins_interp *in, ins_buf *warn, unsigned threads, ins_heap *heap);
void ins_heap_free(ins_heap *heap);
/* Gives back the refcounts the walk recorded (they are read from the image from then on). */
void ins_heap_forget_refcnt(ins_heap *heap);

#endif
