/* suspects.c -- the public API's leak suspects (analysis.h: ins_program_suspects), from the
 * analysis layer's (suspects.h), copied out. */
#include <libinspect/libinspect.h>

#include "program_impl.h"
#include "suspects.h"

#include <stdlib.h>
#include <string.h>

ins_error *ins_program_suspects(ins_program *p, unsigned threshold, size_t limit, ins_suspect_info **out, size_t *n)
{
	INS_API_NEED(p && out && n);
	*out = NULL;
	*n = 0;
	ins_session *s = ins_program_session(p);
	ins_dominators d;
	ins_error *err = ins_dominators_build(s, &d);
	if (err)
		return err;
	ins_domtree t;
	ins_suspect *v = NULL;
	size_t m = 0;
	if (!(err = ins_domtree_build(&d, &t))) {
		err = ins_suspects_find(s, &d, &t, threshold > 100 ? 100 : threshold, limit, &v, &m);
		ins_domtree_free(&t);
	}
	ins_suspect_info *r = err ? NULL : calloc(m ? m : 1, sizeof(*r));
	if (!err && !r)
		err = ins_err_nomem();
	const ins_graph *g = s->graph;
	for (size_t i = 0; !err && i < m; i++) {
		const ins_suspect *x = &v[i];
		ins_suspect_info *o = &r[i];
		*o = (ins_suspect_info){ .address = g->addr[x->node], .count = d.count[x->node], .bytes = d.bytes[x->node],
					 .accumulation = g->addr[x->accumulation], .acc_count = d.count[x->accumulation],
					 .acc_bytes = d.bytes[x->accumulation], .type = x->type ? x->type->name : "?",
					 .accumulated = x->count, .accumulated_bytes = x->bytes,
					 .referrer = x->holder != UINT32_MAX ? g->addr[x->holder] : 0,
					 .referrer_count = x->holder != UINT32_MAX ? x->held : 0, .chain_found = x->chain.found };
		/* a chain from a thread's frame starts at the object its local holds */
		o->chain = malloc((x->chain.n ? x->chain.n : 1) * sizeof(uint64_t));
		if (!o->chain) {
			err = ins_err_nomem();
			break;
		}
		for (size_t k = 0; k < x->chain.n; k++)
			o->chain[o->nchain++] = g->addr[x->chain.nodes[k]];
	}
	ins_suspect_list_free(v, m);
	ins_dominators_free(&d);
	if (err) {
		ins_suspects_free(r, m);
		return err;
	}
	*out = r;
	*n = m;
	return NULL;
}

void ins_suspects_free(ins_suspect_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].chain);
	free(v);
}
