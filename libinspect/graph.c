/* graph.c -- building the reference graph and its reverse index (see graph.h). */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NODES 0xfffffff0u  /* node numbers are uint32_t */

typedef struct builder {
	ins_graph *g;
	ins_objects *o;
	size_t node_cap, edge_cap;
	bool oom;
} builder;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t cap2 = *cap ? *cap : 1024;
	while (cap2 < need)
		cap2 *= 2;
	void *q = realloc(*p, cap2 * elem);
	if (!q)
		return false;
	*p = q;
	*cap = cap2;
	return true;
}

static bool grow_nodes(builder *b, size_t need)
{
	ins_graph *g = b->g;
	if (need <= b->node_cap)
		return true;
	size_t cap = b->node_cap, c2 = b->node_cap, c3 = b->node_cap;
	if (!grow((void **)&g->addr, &cap, need, sizeof(*g->addr)) ||
	    !grow((void **)&g->out_start, &c2, need + 1, sizeof(*g->out_start)) ||
	    !grow((void **)&g->hidden_in, &c3, need, sizeof(*g->hidden_in)))
		return false;
	b->node_cap = cap < c3 ? cap : c3;
	return true;
}

/* The node of addr, added (as untracked) if it is an object not seen yet; 0 if addr is no
 * object. Nodes are numbered from 1 in the map: 0 records "not an object". */
static uint64_t node_of(builder *b, uint64_t addr)
{
	ins_graph *g = b->g;
	uint64_t *slot = ins_map_slot(&g->index, addr, 0);
	if (!slot) {
		b->oom = true;
		return 0;
	}
	if (*slot)
		return *slot;
	if (g->n >= MAX_NODES || !ins_obj_valid(b->o, addr)) {
		g->nwild++;
		return 0;
	}
	if (!grow_nodes(b, g->n + 1)) {
		b->oom = true;
		return 0;
	}
	g->addr[g->n] = addr;
	g->hidden_in[g->n] = 0;
	*slot = ++g->n;
	return *slot;
}

static void on_edge(void *arg, const ins_edge *e)
{
	builder *b = arg;
	ins_graph *g = b->g;
	uint64_t node = node_of(b, e->target);
	if (!node)
		return;
	if (e->flags & INS_EF_HIDDEN) {
		g->hidden_in[node - 1]++;
		return;
	}
	size_t cap = b->edge_cap, cap2 = b->edge_cap;
	if (!grow((void **)&g->out, &cap, g->nedges + 1, sizeof(*g->out)) ||
	    !grow((void **)&g->out_flags, &cap2, g->nedges + 1, sizeof(*g->out_flags))) {
		b->oom = true;
		return;
	}
	b->edge_cap = cap < cap2 ? cap : cap2;
	g->out[g->nedges] = (uint32_t)(node - 1);
	g->out_flags[g->nedges] = e->flags & INS_EF_INFERRED;
	g->nedges++;
}

/* A scan accepts only words that are addresses of objects on the GC lists. */
static bool is_heap_object(void *arg, uint64_t addr)
{
	const ins_graph *g = arg;
	uint64_t node;
	return ins_map_get(&g->index, addr, &node) && node && node <= g->nheap;
}

static ins_error *reverse(ins_graph *g)
{
	g->in_start = calloc(g->n + 1, sizeof(*g->in_start));
	g->in = malloc((g->nedges ? g->nedges : 1) * sizeof(*g->in));
	if (!g->in_start || !g->in)
		return ins_err_nomem();
	for (size_t e = 0; e < g->nedges; e++)
		g->in_start[g->out[e] + 1]++;
	for (size_t i = 0; i < g->n; i++)
		g->in_start[i + 1] += g->in_start[i];
	uint64_t *fill = malloc((g->n + 1) * sizeof(*fill));
	if (!fill)
		return ins_err_nomem();
	memcpy(fill, g->in_start, (g->n + 1) * sizeof(*fill));
	for (size_t i = 0; i < g->n; i++)
		for (uint64_t e = g->out_start[i]; e < g->out_start[i + 1]; e++)
			g->in[fill[g->out[e]]++] = (uint32_t)i;
	free(fill);
	return NULL;
}

ins_error *ins_graph_build(ins_session *s, ins_trav *t, ins_graph *g)
{
	memset(g, 0, sizeof(*g));
	ins_error *err = ins_session_heap(s);
	if (err)
		return err;
	builder b = { .g = g, .o = &s->objs };
	const ins_heap *h = &s->heap;
	if (h->n >= MAX_NODES || !grow_nodes(&b, h->n + 1))
		return ins_err_nomem();
	for (size_t i = 0; i < h->n; i++) {
		uint64_t *slot = ins_map_slot(&g->index, h->objs[i], 0);
		if (!slot)
			return ins_err_nomem();
		if (*slot)
			continue;  /* listed twice: a corrupt list the walk did not catch */
		g->addr[g->n] = h->objs[i];
		g->hidden_in[g->n] = 0;
		*slot = ++g->n;
		if (i + 1 == h->ntracked)
			g->ntracked = g->n;
	}
	if (h->ntracked == 0)
		g->ntracked = 0;
	g->nheap = g->n;
	ins_trav_set_scan(t, is_heap_object, g);
	for (size_t i = 0; i < g->n && !b.oom; i++) {
		g->out_start[i] = g->nedges;
		if (ins_traverse(t, g->addr[i], NULL, on_edge, &b) == INS_TR_INFERRED)
			g->ninferred++;
	}
	ins_trav_set_scan(t, NULL, NULL);
	if (b.oom)
		return ins_err_nomem();
	g->out_start[g->n] = g->nedges;
	return reverse(g);
}

void ins_graph_free(ins_graph *g)
{
	free(g->addr);
	free(g->out_start);
	free(g->out);
	free(g->out_flags);
	free(g->in_start);
	free(g->in);
	free(g->hidden_in);
	ins_map_free(&g->index);
	memset(g, 0, sizeof(*g));
}

bool ins_graph_node(const ins_graph *g, uint64_t addr, uint32_t *node)
{
	uint64_t v;
	if (!ins_map_get(&g->index, addr, &v) || !v)
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
