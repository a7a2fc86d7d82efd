/* suspects.c -- the public API's leak suspects (analysis.h: ins_program_suspects), from the
 * analysis layer's (suspects.h), copied out. */
#include <libinspect/libinspect.h>

#include "program_impl.h"
#include "suspects.h"

#include <stdlib.h>
#include <string.h>

/* A group suspect, copied out (docs: analysis.h, ins_suspect_info). */
static ins_error *copy_group(const ins_graph *g, const ins_suspect_group *x, ins_suspect_info *o)
{
	*o = (ins_suspect_info){ .kind = INS_SUSPECT_GROUP, .count = x->objects, .bytes = x->bytes,
				 .type = x->type->name, .accumulated = x->count,
				 .accumulated_bytes = x->bytes,
				 .referrer = x->holder != UINT32_MAX ? g->addr[x->holder] : 0,
				 .referrer_count = x->holder != UINT32_MAX ? x->held : 0,
				 .chain_found = x->holder != UINT32_MAX && x->holder_chain.found };
	o->chain = malloc((x->holder_chain.n ? x->holder_chain.n : 1) * sizeof(uint64_t));
	o->instances = malloc((x->nbiggest ? x->nbiggest : 1) * sizeof(uint64_t));
	if (!o->chain || !o->instances)
		return ins_err_nomem();
	for (size_t k = 0; x->holder != UINT32_MAX && k < x->holder_chain.n; k++)
		o->chain[o->nchain++] = g->addr[x->holder_chain.nodes[k]];
	for (size_t k = 0; k < x->nbiggest; k++)
		o->instances[o->ninstances++] = g->addr[x->biggest[k]];
	return NULL;
}

ins_error *ins_program_suspects(ins_program *p, unsigned threshold, size_t limit, ins_suspect_info **out, size_t *n)
{
	INS_API_NEED(p && out && n);
	*out = NULL;
	*n = 0;
	ins_session *s = ins_program_session(p);
	ins_suspects_report rep;
	ins_error *err = ins_suspects_report_build(s, threshold, limit, &rep);
	if (err)
		return err;
	const ins_dominators *d = &rep.dom;
	size_t m = rep.nitems;
	ins_suspect_info *r = calloc(m ? m : 1, sizeof(*r));
	if (!r)
		err = ins_err_nomem();
	const ins_graph *g = s->graph;
	for (size_t i = 0; !err && i < m; i++) {
		ins_suspect_info *o = &r[i];
		if (rep.items[i].group) {
			if ((err = copy_group(g, &rep.groups[rep.items[i].i], o)))
				break;
			continue;
		}
		const ins_suspect *x = &rep.v[rep.items[i].i];
		*o = (ins_suspect_info){ .address = g->addr[x->node], .count = d->count[x->node], .bytes = d->bytes[x->node],
					 .accumulation = g->addr[x->accumulation], .acc_count = d->count[x->accumulation],
					 .acc_bytes = d->bytes[x->accumulation], .type = x->type ? x->type->name : "?",
					 .accumulated = x->count, .accumulated_bytes = x->bytes,
					 .referrer = x->holder != UINT32_MAX ? g->addr[x->holder] : 0,
					 .referrer_count = x->holder != UINT32_MAX ? x->held : 0, .chain_found = x->chain.found };
		if (x->site_file) {
			bool oom = false;
			o->allocated_file = ins_program_intern(p, x->site_file, &oom);
			o->allocated_line = x->site_line;
			o->allocated_count = x->site_count;
			if (oom) {
				err = ins_err_nomem();
				break;
			}
		}
		/* a chain from a thread's frame starts at the object its local holds */
		o->chain = malloc((x->chain.n ? x->chain.n : 1) * sizeof(uint64_t));
		if (!o->chain) {
			err = ins_err_nomem();
			break;
		}
		for (size_t k = 0; k < x->chain.n; k++)
			o->chain[o->nchain++] = g->addr[x->chain.nodes[k]];
	}
	ins_suspects_report_free(&rep);
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
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].chain);
		free(v[i].instances);
	}
	free(v);
}
