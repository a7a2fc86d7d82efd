/* graph.c -- building the reference graph and its reverse index (see graph.h). */
#define _GNU_SOURCE
#include "graph.h"
#include "bigmem.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_NODES 0x7ffffff0u  /* node numbers are uint32_t, below INS_NT_WILD */
#define MAX_EDGES 0xfffffff0u  /* CSR offsets are uint32_t */

/* ---------------------------------------------------------------- the address index
 * Open addressing over node numbers (4 bytes a slot); a slot's key is its node's address in
 * g->addr. While the graph is built it is at most half full, its lookups batched and
 * prefetched while the traversal goes on, in two steps: the slot, then the address it names
 * (the build is bound by the latency of these random accesses). Once built, it is made again
 * at most 4/5 full (index_final): the lookups after the build are few. */

static uint64_t nt_hash(uint64_t addr)
{
	addr ^= addr >> 33;
	addr *= 0xff51afd7ed558ccdULL;
	addr ^= addr >> 33;
	return addr;
}

/* The slot of hash h in a table of cap slots (any cap up to 2^32: h's high half, scaled). */
static size_t nt_pos(uint64_t h, size_t cap)
{
	return (size_t)(((h >> 32) * (uint64_t)cap) >> 32);
}

static uint64_t nt_key(const ins_graph *g, uint32_t v)
{
	return v & INS_NT_WILD ? g->index.wild[v & ~INS_NT_WILD] : g->addr[v - 1];
}

static uint32_t *nt_probe(const ins_graph *g, uint64_t addr, size_t h)
{
	const ins_node_table *t = &g->index;
	uint32_t *s = &t->slots[h];
	while (*s && nt_key(g, *s) != addr) {
		h = h + 1 == t->cap ? 0 : h + 1;
		s = &t->slots[h];
	}
	return s;
}

/* The table is large and touched at random: on huge pages (where the kernel gives them on
 * request) a lookup costs no TLB miss. Zeroed memory. */
static void *table_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static void table_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

/* Puts entry v, whose key is addr, in a free slot of slots (cap of them): for a table being
 * filled anew, whose keys are distinct, so none need be compared. */
static void nt_place(uint32_t *slots, size_t cap, uint64_t addr, uint32_t v)
{
	size_t h = nt_pos(nt_hash(addr), cap);
	while (slots[h])
		h = h + 1 == cap ? 0 : h + 1;
	slots[h] = v;
}

/* Room for n entries at load <= 1/2. */
static bool nt_reserve(ins_graph *g, size_t n)
{
	ins_node_table *t = &g->index;
	if (n * 2 <= t->cap)
		return true;
	size_t cap = t->cap ? t->cap : 1024;
	while (cap < n * 2)
		cap *= 2;
	uint32_t *slots = table_alloc(cap * sizeof(*slots)), *old = t->slots;
	if (!slots)
		return false;
	size_t oldcap = t->cap;
	t->slots = slots;
	t->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			nt_place(slots, cap, nt_key(g, old[i]), old[i]);
	table_free(old, oldcap * sizeof(*old));
	return true;
}

/* The index made again for the built graph: its nodes only (a wild address, no node, is
 * found as such by its absence), at most 4/5 full. The old table goes first, so both are
 * never held at once. */
static bool index_final(ins_graph *g)
{
	ins_node_table *t = &g->index;
	table_free(t->slots, t->cap * sizeof(*t->slots));
	free(t->wild);
	memset(t, 0, sizeof(*t));
	size_t cap = g->n + g->n / 4 + 1;
	if (!(t->slots = table_alloc(cap * sizeof(*t->slots))))
		return false;
	t->cap = cap;
	t->n = g->n;
	for (size_t i = 0; i < g->n; i++) {
		if (i + 16 < g->n)
			__builtin_prefetch(&t->slots[nt_pos(nt_hash(g->addr[i + 16]), cap)]);
		nt_place(t->slots, cap, g->addr[i], (uint32_t)i + 1);
	}
	return true;
}

/* node + 1, or 0 when addr is no node */
static uint32_t nt_get(const ins_graph *g, uint64_t addr)
{
	uint32_t node;
	if (g->tracked_only)
		return ins_addr_dir_get(&g->dir, addr, &node) ? node + 1 : 0;
	if (!g->index.cap)
		return 0;
	uint32_t v = *nt_probe(g, addr, nt_pos(nt_hash(addr), g->index.cap));
	return v & INS_NT_WILD ? 0 : v;
}

/* ---------------------------------------------------------------- building */

#define BATCH 32
#define NO_EDGE SIZE_MAX
#define DROPPED UINT32_MAX  /* an edge to an address that is no object */

typedef struct pending {
	uint64_t target;
	size_t hash, edge;  /* edge: its position in out, or NO_EDGE (a hidden reference) */
} pending;

typedef struct builder {
	ins_graph *g;
	ins_objects *o;
	ins_trav *t;
	uint8_t *leaf;          /* per node: holds no references, need not be traversed */
	size_t node_cap, edge_cap;
	bool oom, too_many;
	pending pend[BATCH];
	int npend;
	bool tracked_only;      /* ins_graph_build_tracked */
	size_t addr_cap;        /* entries of g->addr: while it is the heap's array (number_all),
				 * the heap's room, which it is never moved beyond */
	size_t flag_cap;        /* bytes of g->out_flags */
	ins_map many;           /* node + 1 -> its hidden references, once INS_HIDDEN_MANY or more */
} builder;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t cap2 = *cap ? *cap : 1024;
	while (cap2 < need)
		cap2 *= 2;
	void *q = ins_big_realloc(*p, cap2, elem);
	if (!q)
		return false;
	*p = q;
	*cap = cap2;
	return true;
}

/* g->addr as an array of its own (no longer the heap's), with room for cap nodes. */
static bool unshare_addr(builder *b, size_t cap)
{
	ins_graph *g = b->g;
	uint64_t *copy = ins_big_malloc(cap, sizeof(*copy));
	if (!copy)
		return false;
	g->addr = memcpy(copy, g->addr, g->n * sizeof(*copy));
	g->addr_borrowed = false;
	b->addr_cap = cap;
	return true;
}

static bool grow_nodes(builder *b, size_t need)
{
	ins_graph *g = b->g;
	if (need <= b->node_cap)
		return true;
	size_t c2 = b->node_cap, c3 = b->node_cap, c4 = b->node_cap;
	if (!grow((void **)&g->out_start, &c2, need + 1, sizeof(*g->out_start)) ||
	    !grow((void **)&g->hidden_in, &c3, need, sizeof(*g->hidden_in)) ||
	    !grow((void **)&b->leaf, &c4, need, sizeof(*b->leaf)))
		return false;
	b->node_cap = c3 < c4 ? c3 : c4;
	if (b->node_cap <= b->addr_cap)
		return true;
	return g->addr_borrowed ? unshare_addr(b, b->node_cap)
				: grow((void **)&g->addr, &b->addr_cap, b->node_cap, sizeof(*g->addr));
}

static bool grow_edges(builder *b, size_t need)
{
	ins_graph *g = b->g;
	if (need <= b->edge_cap)
		return true;
	size_t cap = b->edge_cap;
	if (!grow((void **)&g->out, &cap, need, sizeof(*g->out)) ||
	    !grow((void **)&g->out_flags, &b->flag_cap, cap / 4 + 1, sizeof(*g->out_flags)))
		return false;
	b->edge_cap = cap;
	return true;
}

/* Edge e's flags (INS_EF_INFERRED, INS_EF_BORROWED), in its two bits (the others kept). */
static void set_flags(uint8_t *flags, size_t e, uint8_t f)
{
	unsigned shift = (unsigned)(e & 3) * 2;
	flags[e >> 2] = (uint8_t)((flags[e >> 2] & ~(3u << shift)) | (((f >> 1) & 3u) << shift));
}

/* Counts a hidden reference to node: in its byte, then (INS_HIDDEN_MANY or more) in b->many. */
static void add_hidden(builder *b, uint32_t node)
{
	uint8_t *h = &b->g->hidden_in[node];
	if (*h < INS_HIDDEN_MANY - 1) {
		(*h)++;
		return;
	}
	uint64_t *count = ins_map_slot(&b->many, (uint64_t)node + 1, INS_HIDDEN_MANY - 1);
	if (!count) {
		b->oom = true;
		return;
	}
	*h = INS_HIDDEN_MANY;
	if (*count < UINT32_MAX)
		(*count)++;
}

/* The hidden counts in their lasting form (graph.h): the bytes with the list of the nodes
 * with INS_HIDDEN_MANY or more, or, when few nodes have any, only a list of those. */
static bool list_hidden(builder *b)
{
	ins_graph *g = b->g;
	size_t nz = 0;
	for (size_t i = 0; i < g->n; i++)
		nz += g->hidden_in[i] != 0;
	bool sparse = nz <= g->n / 8;  /* no more than a byte per node */
	size_t want = sparse ? nz : b->many.n;
	g->hidden_list = malloc((want ? want : 1) * 2 * sizeof(*g->hidden_list));
	if (!g->hidden_list)
		return false;
	for (size_t i = 0; i < g->n && g->nhidden_list < want; i++) {
		uint64_t count = g->hidden_in[i];
		if (!count || (!sparse && count < INS_HIDDEN_MANY))
			continue;
		if (count == INS_HIDDEN_MANY)
			ins_map_get(&b->many, (uint64_t)i + 1, &count);
		g->hidden_list[2 * g->nhidden_list] = (uint32_t)i;
		g->hidden_list[2 * g->nhidden_list++ + 1] = (uint32_t)count;
	}
	if (sparse) {
		free(g->hidden_in);
		g->hidden_in = NULL;
	}
	return true;
}

/* No edge has a flag (the usual heap): out_flags goes, NULL saying so. */
static void drop_flags_if_none(ins_graph *g)
{
	uint8_t any = 0;
	for (size_t i = 0; i < (g->nedges + 3) / 4; i++)
		any |= g->out_flags[i];
	if (!any) {
		free(g->out_flags);
		g->out_flags = NULL;
	}
}

/* The node (+ 1) in slot s for addr: added as an untracked node if s is empty and addr is
 * an object; 0 (remembered in the slot as a wild address) if it is not. */
static uint32_t resolve(builder *b, uint32_t *s, uint64_t addr)
{
	ins_graph *g = b->g;
	ins_node_table *t = &g->index;
	if (*s)
		return *s & INS_NT_WILD ? 0 : *s;
	if (b->tracked_only)
		return 0;  /* not on a GC list: no edge, and nothing to remember */
	if (g->n >= MAX_NODES || !ins_obj_valid(b->o, addr)) {
		if (t->nwild >= INS_NT_WILD - 1 || !grow((void **)&t->wild, &t->wild_cap, t->nwild + 1, sizeof(*t->wild))) {
			b->oom = true;
			return 0;
		}
		t->wild[t->nwild] = addr;
		*s = INS_NT_WILD | (uint32_t)t->nwild++;
		t->n++;
		g->nwild++;
		return 0;
	}
	if (!grow_nodes(b, g->n + 1)) {
		b->oom = true;
		return 0;
	}
	uint64_t ob_type = 0;  /* in the cache now: ins_obj_valid read it */
	ins_image_u64(b->o->img, addr + (uint64_t)b->o->in->L.obj_type, &ob_type);
	b->leaf[g->n] = ins_trav_leaf(b->t, addr, ob_type);
	g->addr[g->n] = addr;
	g->hidden_in[g->n] = 0;
	*s = (uint32_t)++g->n;
	t->n++;
	return *s;
}

/* tracked_only: the directory's lookups, their first lines prefetched by on_edge */
static void flush_tracked(builder *b)
{
	ins_graph *g = b->g;
	for (int i = 0; i < b->npend; i++) {
		uint32_t node;
		g->out[b->pend[i].edge] = ins_addr_dir_get(&g->dir, b->pend[i].target, &node) ? node : DROPPED;
	}
	b->npend = 0;
}

static void flush(builder *b)
{
	ins_graph *g = b->g;
	if (b->tracked_only) {
		flush_tracked(b);
		return;
	}
	if (!nt_reserve(g, g->index.n + BATCH)) {
		b->oom = true;
		b->npend = 0;
		return;
	}
	/* the slots were prefetched when the edges came; now the addresses they name */
	for (int i = 0; i < b->npend; i++) {
		uint32_t v = g->index.slots[nt_pos(b->pend[i].hash, g->index.cap)];
		if (v && !(v & INS_NT_WILD))
			__builtin_prefetch(&g->addr[v - 1]);
	}
	for (int i = 0; i < b->npend; i++) {
		const pending *p = &b->pend[i];
		size_t h = nt_pos(p->hash, g->index.cap);  /* the table may have grown since */
		uint32_t node = resolve(b, nt_probe(g, p->target, h), p->target);
		if (p->edge != NO_EDGE)
			g->out[p->edge] = node ? (uint32_t)(node - 1) : DROPPED;
		else if (node)
			add_hidden(b, node - 1);
	}
	b->npend = 0;
}

static void on_edge(void *arg, const ins_edge *e)
{
	builder *b = arg;
	ins_graph *g = b->g;
	if (b->tracked_only && (e->flags & INS_EF_HIDDEN))
		return;
	pending *p = &b->pend[b->npend];
	p->target = e->target;
	if (b->tracked_only) {
		ins_addr_dir_prefetch(&g->dir, e->target);
	} else {
		p->hash = nt_hash(e->target);
		__builtin_prefetch(&g->index.slots[nt_pos(p->hash, g->index.cap)]);
	}
	p->edge = NO_EDGE;
	if (!(e->flags & INS_EF_HIDDEN)) {
		if (g->nedges >= MAX_EDGES) {
			b->too_many = true;
			return;
		}
		if (!grow_edges(b, g->nedges + 1)) {
			b->oom = true;
			return;
		}
		p->edge = g->nedges++;
		set_flags(g->out_flags, p->edge, e->flags);
	}
	if (++b->npend == BATCH)
		flush(b);
}

/* A scan accepts only words that are addresses of objects on the GC lists. */
static bool is_heap_object(void *arg, uint64_t addr)
{
	const ins_graph *g = arg;
	uint32_t node = nt_get(g, addr);
	return node && node <= g->nheap;
}

/* Drops the edges to non-objects, keeping the CSR offsets right. */
static void compact(ins_graph *g)
{
	size_t w = 0;
	for (size_t i = 0; i < g->n; i++) {
		uint32_t from = g->out_start[i], to = g->out_start[i + 1];
		g->out_start[i] = (uint32_t)w;
		for (uint32_t e = from; e < to; e++)
			if (g->out[e] != DROPPED) {  /* w <= e: w's bits are read already */
				g->out[w] = g->out[e];
				set_flags(g->out_flags, w++, ins_graph_edge_flags(g, e));
			}
	}
	g->out_start[g->n] = (uint32_t)w;
	g->nedges = w;
}

/* Counting sort of the edges by target: in_start[t + 1] first counts t's referrers, then
 * (prefix sums) ends t's run; filling from the last source down, each run comes out in
 * source order and ends where the next one starts. */
static ins_error *reverse(ins_graph *g)
{
	g->in_start = ins_big_calloc(g->n + 1, sizeof(*g->in_start));
	g->in = ins_big_malloc((g->nedges ? g->nedges : 1), sizeof(*g->in));
	if (!g->in_start || !g->in)
		return ins_err_nomem();
	for (size_t e = 0; e < g->nedges; e++)
		g->in_start[g->out[e] + 1]++;
	for (size_t i = 0; i < g->n; i++)
		g->in_start[i + 1] += g->in_start[i];
	for (size_t i = g->n; i-- > 0;)
		for (uint32_t e = g->out_start[i + 1]; e-- > g->out_start[i];)
			g->in[--g->in_start[g->out[e] + 1]] = (uint32_t)i;
	/* in_start[t + 1] now starts t's run, which is where in_start[t] must end: shift */
	memmove(g->in_start, g->in_start + 1, g->n * sizeof(*g->in_start));
	g->in_start[g->n] = (uint32_t)g->nedges;
	return NULL;
}

/* Nodes for the objects on the GC lists, in their order (an object listed twice -- a
 * corrupt list the walk did not catch -- gets one node), in the address index. While no
 * object is listed twice, g->addr is the heap's own array, node i is objs[i], and the
 * untracked nodes follow in the room it has; at the first repeat it becomes a copy. */
static bool number_all(builder *b, const ins_heap *h)
{
	ins_graph *g = b->g;
	for (size_t i = 0; i < h->n; i++) {
		if (i + 16 < h->n)
			__builtin_prefetch(&g->index.slots[nt_pos(nt_hash(h->objs[i + 16]), g->index.cap)]);
		uint32_t *slot = nt_probe(g, h->objs[i], nt_pos(nt_hash(h->objs[i]), g->index.cap));
		if (!*slot) {
			g->addr[g->n] = h->objs[i];  /* in place while shared: the same word */
			g->hidden_in[g->n] = 0;
			*slot = (uint32_t)++g->n;
			g->index.n++;
		} else if (g->addr_borrowed && !unshare_addr(b, b->node_cap)) {
			return false;
		}
		if (i + 1 == h->ntracked)
			g->ntracked = g->n;
	}
	return true;
}

/* The same numbering, in the directory (tracked_only): node i is objs[i] unless an object
 * is listed twice (a corrupt list), when the later nodes move down over the repeats. */
static ins_error *number_tracked(ins_graph *g, const ins_heap *h)
{
	uint8_t *dup = ins_big_calloc(h->n ? h->n : 1, 1);
	ins_error *err = dup ? ins_addr_dir_build(&g->dir, h->objs, h->n, dup) : ins_err_nomem();
	size_t ndup = 0;
	for (size_t i = 0; !err && i < h->n; i++)
		ndup += dup[i];
	if (!err && !ndup) {  /* node i is objs[i]: the heap's array is the graph's, not a copy */
		free(g->addr);
		g->addr = h->objs;
		g->addr_borrowed = true;
		g->n = h->n;
		g->ntracked = h->ntracked;
	}
	for (size_t i = 0; !err && ndup && i < h->n; i++) {
		if (!dup[i])
			g->addr[g->n++] = h->objs[i];
		if (i + 1 == h->ntracked)
			g->ntracked = g->n;
	}
	uint32_t *node = !err && ndup ? ins_big_malloc(h->n, sizeof(*node)) : NULL;
	if (!err && ndup && !node)
		err = ins_err_nomem();
	if (node) {
		for (size_t i = 0, k = 0; i < h->n; i++)
			node[i] = (uint32_t)(k += !dup[i]) - 1;
		ins_addr_dir_remap(&g->dir, node);
	}
	free(dup);
	free(node);
	return err;
}

/* Lists node among those traversed by scanning; false when out of memory. */
static bool add_inferred(ins_graph *g, uint32_t node)
{
	size_t cap = g->ninferred;
	if ((cap & (cap - 1)) == 0) {  /* grown at powers of two */
		uint32_t *v = ins_big_realloc(g->inferred, (cap ? 2 * cap : 1), sizeof(*v));
		if (!v)
			return false;
		g->inferred = v;
	}
	g->inferred[g->ninferred++] = node;
	return true;
}

/* Node i's edges, from g->nedges on. */
static void traverse_node(builder *b, size_t i)
{
	ins_graph *g = b->g;
	g->out_start[i] = (uint32_t)g->nedges;
	if (i >= g->nheap && b->leaf[i])
		return;
	enum ins_trav_how how = ins_traverse(b->t, g->addr[i], NULL, on_edge, b);
	g->nemulated += how == INS_TR_EMULATED;
	if (how == INS_TR_INFERRED && !add_inferred(g, (uint32_t)i))
		b->oom = true;
}

/* ---------------------------------------------------------------- both cores
 * The tracked-only graph has no node to add while it is built: its nodes split in two
 * halves, each traversed by its own thread with its own forks of the decoder and the
 * traversal context (the session's are read only meanwhile), the second half's edges into
 * arrays of its own, appended after the first's when both are done: the same graph, edge
 * for edge, as one thread builds. */

typedef struct half {
	builder b;
	ins_graph g;           /* the second half's: its edges, inferred nodes, counts */
	ins_objects objs;
	size_t from, to;
} half;

static void *traverse_half(void *arg)
{
	half *h = arg;
	for (size_t i = h->from; i < h->to && !h->b.oom && !h->b.too_many; i++)
		traverse_node(&h->b, i);
	flush(&h->b);
	return NULL;
}

/* Appends the second half's edges and inferred nodes to g (the first half's). */
static void join_half(builder *b, half *h)
{
	ins_graph *g = b->g, *p = &h->g;
	b->oom |= h->b.oom;
	b->too_many |= h->b.too_many || p->nedges > MAX_EDGES - g->nedges;
	if (b->oom || b->too_many || !grow_edges(b, g->nedges + p->nedges + 1)) {
		b->oom |= !b->too_many;
		return;
	}
	memcpy(g->out + g->nedges, p->out, p->nedges * sizeof(*p->out));
	if (g->nedges % 4 == 0)
		memcpy(g->out_flags + g->nedges / 4, p->out_flags, (p->nedges + 3) / 4);
	else
		for (size_t e = 0; e < p->nedges; e++)
			set_flags(g->out_flags, g->nedges + e, ins_graph_edge_flags(p, e));
	for (size_t i = h->from; i < h->to; i++)
		g->out_start[i] += (uint32_t)g->nedges;
	g->nedges += p->nedges;
	g->nemulated += p->nemulated;
	for (size_t k = 0; k < p->ninferred && !b->oom; k++)
		b->oom = !add_inferred(g, p->inferred[k]);
}

/* Traverses every node of the tracked-only graph with two threads; false (nothing done) when
 * one thread should: one core, a small heap, no memory for the forks. */
static bool traverse_split(ins_session *s, ins_trav *t, builder *b)
{
	ins_graph *g = b->g;
	size_t n = g->n;
	if (ins_session_threads(n) < 2)
		return false;
	half h[2] = { 0 };
	for (int k = 0; k < 2; k++) {
		ins_objects_fork(&h[k].objs, &s->objs);
		h[k].b = *b;
		h[k].b.o = &h[k].objs;
		h[k].b.t = ins_trav_fork(t, &h[k].objs);
		h[k].from = k ? n / 2 : 0;
		h[k].to = k ? n : n / 2;
	}
	/* the second half's graph: its own edges, the rest shared and read only */
	h[1].g = *g;
	h[1].g.out = NULL;
	h[1].g.out_flags = NULL;
	h[1].g.inferred = NULL;
	h[1].g.nedges = h[1].g.ninferred = h[1].g.nemulated = 0;
	h[1].b.g = &h[1].g;
	h[1].b.edge_cap = h[1].b.flag_cap = 0;
	bool ok = h[0].b.t && h[1].b.t && grow_edges(&h[1].b, 2 * (n - n / 2) + 1);
	if (ok) {
		ins_run_two(traverse_half, &h[0], &h[1]);
		*b = h[0].b;  /* its edge capacity, flags */
		b->o = &s->objs;
		b->t = t;
		join_half(b, &h[1]);
	}
	for (int k = 0; k < 2; k++) {
		if (h[k].b.t)
			ins_trav_join(t, h[k].b.t);
		ins_objects_free(&h[k].objs);
	}
	free(h[1].g.out);
	free(h[1].g.out_flags);
	free(h[1].g.inferred);
	return ok;
}

static ins_error *build(ins_session *s, ins_trav *t, ins_graph *g, bool tracked_only)
{
	memset(g, 0, sizeof(*g));
	ins_error *err = ins_session_heap(s);
	if (err)
		return err;
	builder b = { .g = g, .o = &s->objs, .t = t, .tracked_only = tracked_only };
	g->tracked_only = tracked_only;
	/* the walk's refcounts serve the collection's graph; the whole graph, whose arrays make
	 * the command's peak, has their memory instead (its few readers read the image) */
	if (!tracked_only && !s->heap_mapped)
		ins_heap_forget_refcnt(&s->heap);
	const ins_heap *h = &s->heap;
	if (!tracked_only && !s->heap_mapped) {  /* see number_all */
		g->addr = s->heap.objs;
		g->addr_borrowed = true;
		b.addr_cap = s->heap.objs_cap;
	}
	/* about as many untracked objects as tracked ones, and a few references each; the
	 * index (touched everywhere: all of it is resident) for 1.6 untracked per tracked, as
	 * typical heaps have (it grows when there are more) */
	size_t nodes = tracked_only ? h->n + 1 : 2 * h->n + 1;
	if (h->n >= MAX_NODES / 2 || !grow_nodes(&b, nodes) || !grow_edges(&b, 4 * h->n + 1) ||
	    (!tracked_only && !nt_reserve(g, h->n + h->n / 5 * 3 + BATCH))) {
		free(b.leaf);
		return ins_err_nomem();
	}
	if (tracked_only)
		err = number_tracked(g, h);
	else if (!number_all(&b, h))
		err = ins_err_nomem();
	if (err) {
		free(b.leaf);
		return err;
	}
	g->nheap = g->n;
	ins_trav_set_scan(t, is_heap_object, g);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ins_trav_prepare(t, h->objs, h->type_of, h->types, h->ntypes, h->n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	g->emu_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!tracked_only || !traverse_split(s, t, &b))
		for (size_t i = 0; !b.oom && !b.too_many; i++) {
			if (i >= g->n) {
				flush(&b);  /* may add the nodes still to traverse */
				if (i >= g->n)
					break;
			}
			traverse_node(&b, i);
		}
	free(b.leaf);
	b.oom = b.oom || (!tracked_only && !list_hidden(&b));
	ins_map_free(&b.many);
	if (b.oom)
		return ins_err_nomem();
	if (b.too_many)
		return ins_err(INS_ERR_FAIL, "the heap has more than %u references: too many for the graph", MAX_EDGES);
	g->out_start[g->n] = (uint32_t)g->nedges;
	if (g->nwild || tracked_only)
		compact(g);
	if (g->nedges % 4)  /* the last byte's bits past the edges: 0 */
		g->out_flags[g->nedges / 4] &= (uint8_t)((1u << (g->nedges % 4 * 2)) - 1);
	drop_flags_if_none(g);
	if (tracked_only) {
		free(g->hidden_in);
		g->hidden_in = NULL;
		return NULL;
	}
	if (!index_final(g))
		return ins_err_nomem();
	return reverse(g);
}

ins_error *ins_graph_build(ins_session *s, ins_trav *t, ins_graph *g)
{
	return build(s, t, g, false);
}

ins_error *ins_graph_build_tracked(ins_session *s, ins_trav *t, ins_graph *g)
{
	return build(s, t, g, true);
}

void ins_graph_free(ins_graph *g)
{
	if (!g->addr_borrowed)
		free(g->addr);
	free(g->out_start);
	free(g->out);
	free(g->out_flags);
	free(g->in_start);
	free(g->in);
	free(g->hidden_in);
	free(g->hidden_list);
	free(g->inferred);
	table_free(g->index.slots, g->index.cap * sizeof(*g->index.slots));
	free(g->index.wild);
	ins_addr_dir_free(&g->dir);
	memset(g, 0, sizeof(*g));
}

uint32_t ins_graph_hidden(const ins_graph *g, uint32_t node, size_t *cursor)
{
	uint32_t c = g->hidden_in ? g->hidden_in[node] : INS_HIDDEN_MANY;
	if (c < INS_HIDDEN_MANY)
		return c;
	size_t k = *cursor;
	while (k < g->nhidden_list && g->hidden_list[2 * k] < node)
		k++;
	*cursor = k;
	if (k < g->nhidden_list && g->hidden_list[2 * k] == node)
		return g->hidden_list[2 * k + 1];
	return g->hidden_in ? INS_HIDDEN_MANY : 0;
}

void ins_graph_size(const ins_graph *g, uint64_t *node_bytes, uint64_t *edge_bytes, uint64_t *hidden)
{
	*node_bytes = g->n * (sizeof(*g->addr) + sizeof(*g->out_start) + sizeof(*g->in_start) +
			      (g->hidden_in ? sizeof(*g->hidden_in) : 0)) +
		      g->nhidden_list * 2 * sizeof(*g->hidden_list) + g->index.cap * sizeof(*g->index.slots);
	*edge_bytes = g->nedges * (sizeof(*g->out) + sizeof(*g->in)) + (g->out_flags ? (g->nedges + 3) / 4 : 0);
	*hidden = 0;
	for (size_t i = 0, k = 0; i < g->n; i++)
		*hidden += ins_graph_hidden(g, (uint32_t)i, &k);
}

ins_error *ins_graph_reach(const ins_graph *g, size_t nroots, uint32_t **order, size_t *n)
{
	uint8_t *seen = ins_big_calloc(g->n ? g->n : 1, 1);
	uint32_t *queue = ins_big_malloc((g->n ? g->n : 1), sizeof(*queue));
	if (!seen || !queue) {
		free(seen);
		free(queue);
		return ins_err_nomem();
	}
	size_t tail = 0;
	for (size_t i = 0; i < nroots && i < g->n; i++) {
		seen[i] = 1;
		queue[tail++] = (uint32_t)i;
	}
	for (size_t head = 0; head < tail; head++)
		for (uint32_t e = g->out_start[queue[head]]; e < g->out_start[queue[head] + 1]; e++)
			if (!seen[g->out[e]]) {
				seen[g->out[e]] = 1;
				queue[tail++] = g->out[e];
			}
	free(seen);
	*order = queue;
	*n = tail;
	return NULL;
}

bool ins_graph_node(const ins_graph *g, uint64_t addr, uint32_t *node)
{
	uint32_t v = nt_get(g, addr);
	if (!v)
		return false;
	*node = (uint32_t)(v - 1);
	return true;
}

typedef struct find_label {
	ins_objects *o;
	uint64_t dst;
	size_t skip;
	bool done;
	ins_buf *out;
} find_label;

static void match_edge(void *arg, const ins_edge *e)
{
	find_label *f = arg;
	if (f->done || e->target != f->dst || (e->flags & INS_EF_HIDDEN))
		return;
	if (f->skip) {
		f->skip--;
		return;
	}
	ins_edge_label(f->o, e, f->out);
	f->done = true;
}

void ins_graph_edge_label(ins_trav *t, ins_objects *o, uint64_t src, uint64_t dst, size_t skip, ins_buf *out)
{
	find_label f = { o, dst, skip, false, out };
	ins_traverse(t, src, NULL, match_edge, &f);
}
