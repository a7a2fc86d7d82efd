/* suspects.h -- Eclipse MAT's leak suspects over the dominator tree (dominators.h).
 *
 * A suspect is a top-level object of the dominator tree (a child of the virtual root:
 * nothing else keeps it alive) whose retained size is at least a share of the heap's
 * bytes, largest first. From it, the walk goes down the tree while one child retains most
 * (INS_SUSPECT_DROP percent or more) of what the current object retains: where that
 * stops -- the retained bytes spread over many children -- is the accumulation point,
 * typically the container where many objects of one type pile up. What accumulates is the
 * type whose children of the accumulation point retain the most bytes together (and the
 * object that refers to most of them, when that is not the accumulation point: a list they
 * are kept in that is not alone in keeping them); the chain
 * (chain.h: to a module in sys.modules, else to a thread's frame) says where the point is
 * held. When the process runs with tracemalloc, the line where most of what accumulates was
 * allocated (the most recent frame of their tracebacks: allocations.h).
 */
#ifndef INS_SUSPECTS_H
#define INS_SUSPECTS_H

#include "chain.h"
#include "dominators.h"

#define INS_SUSPECT_SHARE 10 /* percent of the heap's bytes, MAT's default */
#define INS_SUSPECT_DROP 70  /* percent: MAT's big drop ratio */

typedef struct ins_suspect {
	uint32_t node;         /* the top-level object */
	uint32_t accumulation; /* where the walk down stops (node itself, possibly) */
	const ins_type *type;  /* what accumulates there (NULL: unreadable types) */
	uint64_t count, bytes; /* the accumulation point's children of that type, their retained bytes */
	uint32_t holder;       /* the object referring to most of those (UINT32_MAX: none but the
				* accumulation point itself) -- the list they are appended to, when
				* something else refers to each of them too -- and how many */
	uint64_t held;
	ins_chain holder_chain; /* to the holder, when there is one */
	ins_chain chain;       /* from a module (else a thread's frame) down to the accumulation point */
	char *site_file;       /* when tracemalloc traces: where most of what accumulates was */
	uint32_t site_line;    /* allocated (the most recent frame of its tracebacks), and how */
	uint64_t site_count;   /* many of them were allocated there; site_file NULL otherwise */
} ins_suspect;

/* The top-level objects retaining pct percent of the heap or more, at most limit of them
 * (0: no limit), largest first, each with its accumulation point and chain. */
ins_error *ins_suspects_find(ins_session *s, const ins_dominators *d, const ins_domtree *t, unsigned pct, size_t limit,
			     ins_suspect **out, size_t *n);
void ins_suspect_list_free(ins_suspect *v, size_t n);

/* Is part at least pct percent of whole? */
bool ins_suspect_share(uint64_t part, uint64_t whole, unsigned pct);

#endif
