/* refcheck.c -- the references an object's refcount counts that nothing in the heap
 * accounts for (see refcheck.h). */
#include "refcheck.h"

#include "checked.h"

#include <stdlib.h>

static int cmp_residual(const void *x, const void *y)
{
	const ins_residual *a = x, *b = y;
	if (a->residual != b->residual)
		return a->residual > b->residual ? -1 : 1;
	return a->node < b->node ? -1 : a->node > b->node;
}

ins_error *ins_refcheck(ins_session *s, ins_residual **out, size_t *nout, size_t *nneg_out, size_t *checked_out)
{
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	ins_graph *g = s->graph;
	ins_residual *v = malloc((g->nheap ? g->nheap : 1) * sizeof(*v));
	if (!v)
		return ins_err_nomem();
	size_t n = 0, nneg = 0, checked = 0;
	for (size_t i = 0, cursor = 0; i < g->nheap; i++) {
		int64_t refcnt;
		bool immortal;
		if (!ins_session_node_refcnt(s, (uint32_t)i, &refcnt, &immortal) || immortal)
			continue;
		checked++;
		int64_t referrers = (int64_t)(g->in_start[i + 1] - g->in_start[i]) + ins_graph_hidden(g, (uint32_t)i, &cursor);
		if (refcnt == referrers)
			continue;
		v[n++] = (ins_residual){ (uint32_t)i, refcnt, referrers, ins_sub_sat(refcnt, referrers) };
		nneg += refcnt < referrers;
	}
	qsort(v, n, sizeof(*v), cmp_residual);
	*out = v;
	*nout = n;
	*nneg_out = nneg;
	*checked_out = checked;
	return NULL;
}
