/* graph.h -- the reference graph of a heap, built once, with its reverse index.
 *
 * Nodes are the tracked objects (gc.get_objects(), then the frozen ones) followed by every
 * untracked object an edge reaches (str, int, untracked tuples and dicts, code objects,
 * static types, ...), which are traversed in turn. Edges are the exact and inferred
 * references (see traverse.h), in CSR form: node i's referents are
 * out[out_start[i] .. out_start[i+1]), its referrers in[in_start[i] .. in_start[i+1]).
 * Hidden references are not edges; they are only counted per target (ins_graph_hidden), for
 * the refcount residual. Labels are not stored: ins_graph_edge_label traverses the source
 * again, which is cheap for the few edges a command prints.
 */
#ifndef INS_GRAPH_H
#define INS_GRAPH_H

#include "addrdir.h"
#include "session.h"
#include "traverse.h"

/* The address index: open addressing over node numbers only (4 bytes a slot), the key
 * being the node's address (ins_graph.addr) -- or, for an address that turned out to be no
 * object, an entry of wild (INS_NT_WILD | k), so that it is not looked at again. */
#define INS_NT_WILD 0x80000000u

typedef struct ins_node_table {
	uint32_t *slots;       /* 0: empty; node + 1; or INS_NT_WILD | index into wild */
	size_t cap, n;
	uint64_t *wild;        /* addresses that are no object */
	size_t nwild, wild_cap;
} ins_node_table;

typedef struct ins_graph {
	uint64_t *addr;        /* node -> address */
	bool addr_borrowed;    /* addr is the session's heap's objs array (no object listed twice:
				* its first nheap entries are the heap's; for the whole graph, the
				* untracked nodes' addresses follow), which the heap frees */
	size_t n;              /* nodes */
	size_t ntracked;       /* nodes [0, ntracked) are gc.get_objects() */
	size_t nheap;          /* nodes [0, nheap) are on the GC lists (frozen ones too) */
	uint32_t *out_start;   /* n + 1 (fewer than 2^32 edges: the build says so otherwise) */
	uint32_t *out;         /* targets */
	uint8_t *out_flags;    /* INS_EF_INFERRED, INS_EF_BORROWED per edge, two bits each, four edges
				* a byte (ins_graph_edge_flags); NULL when no edge has any */
	uint32_t *in_start;    /* n + 1 */
	uint32_t *in;          /* sources */
	/* hidden references per node (ins_graph_hidden): a byte each, INS_HIDDEN_MANY for those
	 * with that many or more, which hidden_list gives; or, when few nodes have any (and in
	 * the collection's graph, none), hidden_in NULL and only hidden_list */
	uint8_t *hidden_in;
	uint32_t *hidden_list; /* (node, count) pairs, by node */
	size_t nhidden_list;
	size_t nedges;
	size_t nemulated;      /* objects traversed by running their type's tp_traverse */
	double emu_seconds;    /* spent emulating the tracked objects' traversals ahead */
	size_t ninferred;      /* objects of unknown C types, traversed by scanning */
	uint32_t *inferred;    /* those objects (ninferred nodes) */
	size_t nwild;          /* references to addresses that are not objects (skipped) */
	ins_node_table index;  /* address -> node (empty when tracked_only) */
	bool tracked_only;     /* ins_graph_build_tracked: no untracked nodes, no reverse index */
	ins_addr_dir dir;      /* tracked_only: address -> node */
} ins_graph;

#define INS_HIDDEN_MANY 255u

/* The flags of edge e (out[e]): INS_EF_INFERRED, INS_EF_BORROWED. */
static inline uint8_t ins_graph_edge_flags(const ins_graph *g, size_t e)
{
	return g->out_flags ? (uint8_t)(((g->out_flags[e >> 2] >> ((e & 3) * 2)) & 3) << 1) : 0;
}

/* The hidden references to node (0 in the collection's graph, which does not count them),
 * for nodes asked in ascending order: *cursor starts at 0. */
uint32_t ins_graph_hidden(const ins_graph *g, uint32_t node, size_t *cursor);
/* What the whole graph (ins_graph_build) holds, in bytes: its per-node arrays with the
 * address index, and its per-edge arrays; and all its hidden references. */
void ins_graph_size(const ins_graph *g, uint64_t *node_bytes, uint64_t *edge_bytes, uint64_t *hidden);

/* Builds the graph of s's heap (walked if needed) with the traversal context t. */
ins_error *ins_graph_build(ins_session *s, ins_trav *t, ins_graph *g);
/* The collection's graph: only what gc.collect() looks at -- the nodes on the GC lists and
 * the references between them (tp_traverse's visits of tracked objects; a reference to
 * anything else is not an edge). No untracked nodes, no hidden counts and no reverse index
 * (in_start, in and hidden_in are NULL): a third of the full build's work on a typical heap. */
ins_error *ins_graph_build_tracked(ins_session *s, ins_trav *t, ins_graph *g);
void ins_graph_free(ins_graph *g);

/* The nodes reachable from nodes [0, nroots) along references (those first, then breadth
 * first): what gc.get_referents reaches from them, transitively. *order is malloc'd. */
ins_error *ins_graph_reach(const ins_graph *g, size_t nroots, uint32_t **order, size_t *n);

/* The node of addr; false if addr is no node. */
bool ins_graph_node(const ins_graph *g, uint64_t addr, uint32_t *node);

/* The label of the first edge from src to dst that is not among the first `skip` such
 * edges (so parallel edges get their own labels); "" if there is none. */
void ins_graph_edge_label(ins_trav *t, ins_objects *o, uint64_t src, uint64_t dst, size_t skip, ins_buf *out);

#endif
