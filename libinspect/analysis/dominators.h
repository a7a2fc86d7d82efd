/* dominators.h -- the dominator tree of the whole reference graph, and retained sizes.
 *
 * The graph is graph.h's: every node (the tracked objects, then the untracked ones that
 * references reach), every edge (exact, emulated and inferred references; hidden ones are
 * not edges). One virtual root R stands above the roots, which are, for each node x:
 *
 *  - INS_ROOT_REFS: x's ob_refcnt is more than the graph's references to it that own a
 *    count (its in-edges, a 3.14 borrowed _PyStackRef not counted): something the graph
 *    does not explain holds it -- C globals, the interpreter's state, the C stack, a hidden
 *    reference (one tp_traverse leaves out), a leaked Py_INCREF. For a tracked object this
 *    is the collector's gc_refs > 0 (collect.c), extended to referrers that are untracked;
 *    for an untracked one, a refcount above its in-edges;
 *  - INS_ROOT_UNREADABLE: its refcount cannot be read, or no object can have it;
 *  - INS_ROOT_IMMORTAL: 3.12+ immortal objects (never freed);
 *  - INS_ROOT_FRAME: each thread's frames (the frame object, when there is one) and the
 *    objects their fast locals hold, cells' contents included (threads.h; a 3.11+
 *    _PyInterpreterFrame is no object, its locals are the roots). A module or class body
 *    (code without CO_OPTIMIZED) holds its namespace dict, not the dict's items: those
 *    stay under the dict (the dict itself is a root by its refcount, or reached from the
 *    frame object);
 *  - INS_ROOT_UNREACHED: what none of the above reaches (garbage cycles the collector has
 *    not freed yet, objects held only by unexplained references from garbage): in node
 *    order, each node still unreached after the search from the roots before it becomes a
 *    root itself, so that every node is in the tree.
 *
 * x dominates y when every path from R to y passes through x; idom is the nearest such x.
 * retained(x) -- what would be freed if x's last reference went away -- is x's dominator
 * subtree, x included: its count of objects and their bytes (sys.getsizeof).
 *
 * Computed by semi-NCA (Georgiadis, Tarjan) over the CSR graph: an iterative depth-first
 * search, semidominators by path compression without recursion, then nearest common
 * ancestors; O(m log n) time, O(n) memory beyond the graph.
 */
#ifndef INS_DOMINATORS_H
#define INS_DOMINATORS_H

#include "graph.h"

#define INS_DOM_ROOT UINT32_MAX /* idom of a root: the virtual root */

enum ins_root_kind {
	INS_ROOT_NONE = 0,
	INS_ROOT_REFS,
	INS_ROOT_UNREADABLE,
	INS_ROOT_IMMORTAL,
	INS_ROOT_FRAME,
	INS_ROOT_UNREACHED,
};

typedef struct ins_dominators {
	size_t n;        /* the graph's nodes */
	uint32_t *idom;  /* per node: its immediate dominator; INS_DOM_ROOT for a root, and for a
			  * node that several roots reach through no common object */
	uint8_t *root;   /* per node: enum ins_root_kind (the first that applies) */
	uint32_t *count; /* per node: objects it retains, itself included */
	uint64_t *bytes; /* per node: their sys.getsizeof sum */
	uint32_t *order; /* the nodes in depth-first preorder from R (parents first) */
	size_t nroots;
	uint64_t total_bytes; /* every node's size */
	bool mapped;     /* the arrays are a saved index's (gindex.h): ins_dominators_free leaves them */
} ins_dominators;

/* The dominator tree of s's graph (built if needed) and every node's retained size; read
 * from the session's saved index when it holds one (then *out is mapped, and the warnings
 * the build gave are given again). */
ins_error *ins_dominators_build(ins_session *s, ins_dominators *out);
void ins_dominators_free(ins_dominators *d);

/* The nodes with the largest retained bytes (then count, then node order), at most k of
 * them, into *top (malloc'd, *ntop). */
ins_error *ins_dominators_top(const ins_dominators *d, size_t k, uint32_t **top, size_t *ntop);

/* The nodes of x's dominator subtree (x first), *nodes malloc'd, *n = d->count[x]. */
ins_error *ins_dominators_subtree(const ins_dominators *d, uint32_t x, uint32_t **nodes, size_t *n);

/* The dominator tree as lists of children: kids[start[x] .. start[x + 1]) are the nodes x
 * immediately dominates, most retained bytes first (then count, then node order); index
 * d->n stands for the virtual root, whose children are the nodes with idom INS_DOM_ROOT. */
typedef struct ins_domtree {
	uint64_t *start; /* d->n + 2 */
	uint32_t *kids;  /* d->n */
} ins_domtree;

ins_error *ins_domtree_build(const ins_dominators *d, ins_domtree *t);
void ins_domtree_free(ins_domtree *t);

/* One line of a dominator subtree's top (ins_domtree_top). */
typedef struct ins_domitem {
	uint32_t node;
	uint32_t depth; /* 0 for the subtree's own root */
} ins_domitem;

/* The top of x's dominator subtree in preorder, children most bytes first: x at depth 0,
 * then at most per_node children of each node listed (0: all), down to max_depth. */
ins_error *ins_domtree_top(const ins_dominators *d, const ins_domtree *t, uint32_t x, size_t max_depth,
			   size_t per_node, ins_domitem **items, size_t *nitems);

/* What the members of each group retain together: group[x] is node x's group (< ngroups) or
 * UINT32_MAX for none; a member counts its retained size unless a dominator of it is a
 * member of the same group (its subtree is inside that one's), so the union of their
 * subtrees is counted once. count[g] and bytes[g] (ngroups each) are added to. */
ins_error *ins_domtree_union(const ins_dominators *d, const ins_domtree *t, const uint32_t *group, size_t ngroups,
			     uint64_t *count, uint64_t *bytes);

#endif
