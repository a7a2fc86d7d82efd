/* leaking.c -- objgraph.get_leaking_objects, and gc.get_objects() after the gc.collect()
 * objgraph's growth and get_new_ids run first (see leaking.h). */
#include "leaking.h"
#include "bigmem.h"

#include <stdlib.h>
#include <string.h>

/* objgraph.get_leaking_objects: gc.collect(), then the objects of gc.get_objects() that no
 * gc.get_referents of one of them reaches. */
ins_error *ins_leaking_find(ins_session *s, bool raw, uint32_t **out, size_t *nout, ins_survivors *sv)
{
	memset(sv, 0, sizeof(*sv));
	ins_error *err = raw ? ins_session_graph_tracked(s) : ins_collect_survivors(s, sv);
	if (err)
		return err;
	ins_graph *g = s->graph;
	size_t nobjs = raw ? g->ntracked : sv->n;  /* raw: nodes 0 .. ntracked */
	uint32_t *leak = ins_big_malloc((nobjs ? nobjs : 1), sizeof(*leak));
	uint8_t *referred = ins_big_calloc(g->n ? g->n : 1, 1);
	if (!leak || !referred) {
		free(leak);
		free(referred);
		ins_survivors_free(sv);
		memset(sv, 0, sizeof(*sv));
		return ins_err_nomem();
	}
	/* what the referents of the listed objects reach */
	for (size_t k = 0; k < nobjs; k++) {
		uint32_t i = raw ? (uint32_t)k : sv->nodes[k];
		for (uint32_t e = g->out_start[i]; e < g->out_start[i + 1]; e++)
			referred[g->out[e]] = 1;
	}
	size_t n = 0;
	for (size_t k = 0; k < nobjs; k++) {
		uint32_t i = raw ? (uint32_t)k : sv->nodes[k];
		if (!referred[i])
			leak[n++] = i;
	}
	free(referred);
	*out = leak;
	*nout = n;
	return NULL;
}

ins_error *ins_survivor_objects(ins_session *s, bool raw, uint64_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (raw) {
		ins_error *err = ins_session_heap(s);
		if (err)
			return err;
		uint64_t *addr = ins_big_malloc((s->heap.ntracked + 1), sizeof(*addr));
		if (!addr)
			return ins_err_nomem();
		memcpy(addr, s->heap.objs, s->heap.ntracked * sizeof(*addr));
		*out = addr;
		*n = s->heap.ntracked;
		return NULL;
	}
	ins_survivors sv;
	ins_error *err = ins_collect_survivors(s, &sv);
	if (err)
		return err;
	uint64_t *addr = ins_big_malloc((sv.n + 1), sizeof(*addr));
	if (!addr) {
		ins_survivors_free(&sv);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < sv.n; i++)
		addr[i] = s->graph->addr[sv.nodes[i]];
	*out = addr;
	*n = sv.n;
	ins_survivors_free(&sv);
	return NULL;
}
