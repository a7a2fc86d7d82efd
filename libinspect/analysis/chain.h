/* chain.h -- objgraph.find_backref_chain: the shortest chain of references from a module
 * that sys.modules holds (objgraph.is_proper_module) or, on request, from a thread's frame
 * whose local holds an object on the way, down to an object. chain, show-chain and the
 * API's ins_program_chain all search with these. */
#ifndef INS_CHAIN_H
#define INS_CHAIN_H

#include "graph.h"
#include "greenlets.h"

#define INS_CHAIN_MAX_DEPTH 20  /* objgraph.find_backref_chain's default */

/* objgraph.is_proper_module: the modules sys.modules holds under their own __name__, as a
 * set of addresses (s->graph built). INS_ERR_CORRUPT when sys.modules is not found. */
ins_error *ins_chain_proper_modules(ins_session *s, ins_map *set);

/* find_backref_chain(obj, is_proper_module, max_depth, extra_ignore): breadth-first over
 * the tracked referrers of node start, skipping the addresses in ignore, up to a module of
 * `modules` or (when roots is not NULL) an object in `roots`. *chain (malloc'd graph
 * nodes) runs from there down to start; it is [start] alone, with *found false, when
 * nothing is within max_depth. */
ins_error *ins_chain_find(ins_session *s, uint32_t start, long max_depth, const ins_map *modules,
			  const ins_map *roots, const ins_map *ignore, uint32_t **chain, size_t *nchain, bool *found);

/* A thread's (or a suspended greenlet's) frame whose local holds an object: a root the
 * collector never sees. */
typedef struct ins_frame_root {
	const ins_pythread *thread;  /* the thread whose stack it is on, or NULL: */
	uint64_t greenlet;           /* the suspended greenlet's (greenlets.h) */
	const ins_frame_info *frame;
	const char *name;       /* the local's */
} ins_frame_root;

/* Where a frame root is: its frame object, or from 3.11 the interpreter frame when no
 * frame object was ever made for it. */
uint64_t ins_frame_root_addr(const ins_frame_root *r);

/* A chain found by ins_chain_search. */
typedef struct ins_chain {
	uint32_t *nodes;        /* graph nodes, from where the chain starts down to the object */
	size_t n;
	bool found;
	const ins_frame_root *root;  /* to_root: the frame whose local holds nodes[0], else NULL */
	ins_threads threads;    /* to_root: the threads root points into */
	ins_greenlets greenlets;
	ins_frame_root *roots;
} ins_chain;

/* ins_chain_find from node start, up to a module of `modules` or, with to_root, to the
 * locals of every thread's frames (innermost frames first: they win a tie), then of every
 * suspended greenlet's. */
ins_error *ins_chain_search(ins_session *s, uint32_t start, long max_depth, const ins_map *modules,
			    const ins_map *ignore, bool to_root, ins_chain *out);
void ins_chain_free(ins_chain *c);

/* The label of the reference to c->nodes[i]: from nodes[i - 1]; for i == 0 the local's
 * name when the chain starts at a frame, else nothing (""). */
void ins_chain_label(ins_session *s, const ins_chain *c, size_t i, ins_buf *out);

#endif
