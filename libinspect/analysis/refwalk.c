/* refwalk.c -- referents and referrers with labelled edges, breadth-first to a depth (see
 * refwalk.h): objgraph-refs, objgraph-backrefs and the API's ins_object_referents and
 * ins_object_referrers. */
#include "refwalk.h"

#include <stdlib.h>
#include <string.h>

static void walk_add(ins_walk *l, uint64_t from, uint64_t to, ins_buf *label, uint8_t flags, int depth)
{
	if (label->oom)
		l->oom = true;
	if (l->oom) {
		ins_buf_free(label);
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		ins_walked *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			ins_buf_free(label);
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	char *text = ins_buf_take(label);
	if (!text) {
		l->oom = true;
		return;
	}
	l->v[l->n++] = (ins_walked){ from, to, text, flags, depth };
}

void ins_walk_free(ins_walk *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].label);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The labelled edges out of one node, in traversal order. */
typedef struct collect {
	ins_session *s;
	ins_walk *l;
	uint64_t from;
	int depth;
} collect;

static void collect_edge(void *arg, const ins_edge *e)
{
	collect *c = arg;
	uint32_t node;
	if ((e->flags & INS_EF_HIDDEN) || !ins_graph_node(c->s->graph, e->target, &node))
		return;
	ins_buf label = { 0 };
	ins_edge_label(&c->s->objs, e, &label);
	walk_add(c->l, c->from, e->target, &label, e->flags & (INS_EF_INFERRED | INS_EF_BORROWED), c->depth);
}

/* The flags of the skip-th edge from node src to node x. */
static uint8_t edge_flags(const ins_graph *g, uint32_t src, uint32_t x, size_t skip)
{
	for (uint64_t e = g->out_start[src]; e < g->out_start[src + 1]; e++)
		if (g->out[e] == x && !skip--)
			return ins_graph_edge_flags(g, e);
	return 0;
}

ins_error *ins_refwalk(ins_session *s, uint32_t start, long max_depth, bool back, ins_walk *l)
{
	ins_graph *g = s->graph;
	uint32_t *queue = malloc(g->n * sizeof(*queue));
	uint8_t *seen = calloc(g->n, 1);
	memset(l, 0, sizeof(*l));
	if (!queue || !seen) {
		free(queue);
		free(seen);
		return ins_err_nomem();
	}
	size_t head = 0, tail = 0;
	queue[tail++] = start;
	seen[start] = 1;
	for (int depth = 1; depth <= max_depth && head < tail && !l->oom; depth++) {
		size_t level_end = tail;
		for (; head < level_end; head++) {
			uint32_t x = queue[head];
			size_t first = l->n;
			if (!back) {
				collect c = { s, l, g->addr[x], depth };
				ins_traverse(s->trav, g->addr[x], NULL, collect_edge, &c);
			} else {
				for (uint64_t e = g->in_start[x]; e < g->in_start[x + 1]; e++) {
					uint32_t src = g->in[e];
					/* parallel edges: the k-th gets the k-th label; a run of referrers
					 * is in source order, so a source's edges are adjacent */
					size_t skip = 0;
					for (uint64_t f = e; f > g->in_start[x] && g->in[f - 1] == src; f--)
						skip++;
					ins_buf label = { 0 };
					ins_graph_edge_label(s->trav, &s->objs, g->addr[src], g->addr[x], skip, &label);
					walk_add(l, g->addr[src], g->addr[x], &label, edge_flags(g, src, x, skip),
						 depth);
				}
			}
			for (size_t i = first; i < l->n; i++) {
				uint32_t y;
				if (ins_graph_node(g, back ? l->v[i].from : l->v[i].to, &y) && !seen[y]) {
					seen[y] = 1;
					queue[tail++] = y;
				}
			}
		}
	}
	free(queue);
	free(seen);
	if (l->oom) {
		ins_walk_free(l);
		return ins_err_nomem();
	}
	return NULL;
}
