/* objects.c -- the public API's questions about one object (objects.h): its facts, its
 * short repr, its labelled referents and referrers; and the program's objects
 * (gc.get_objects(), objgraph.by_type) of analysis.h. */
#include <libinspect/libinspect.h>

#include "graph.h"
#include "program_impl.h"
#include "refwalk.h"
#include "typestats.h"

#include <stdlib.h>
#include <string.h>

/* The type of the object at addr, or INS_ERR_NOT_FOUND. */
static ins_error *object_type(ins_session *s, uint64_t addr, const ins_type **t)
{
	if (!ins_obj_valid(&s->objs, addr) || !(*t = ins_obj_type(&s->objs, addr)))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not a Python object", (unsigned long long)addr);
	return NULL;
}

ins_error *ins_object_get(ins_program *p, uint64_t addr, ins_object *out)
{
	INS_API_NEED(p && out);
	ins_session *s = p->s;
	const ins_type *t;
	int64_t refcnt;
	bool immortal;
	ins_error *err = object_type(s, addr, &t);
	if (err)
		return err;
	if (!ins_obj_refcnt(&s->objs, addr, &refcnt, &immortal))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not a Python object", (unsigned long long)addr);
	if ((err = ins_session_index_gens(s)))  /* many objects are asked about: an index */
		return err;
	int gen = ins_session_generation(s, addr);
	memset(out, 0, sizeof(*out));
	out->address = addr;
	out->type_address = t->addr;
	out->type = t->name;
	out->qualname = t->qualname;
	out->refcnt = refcnt;
	out->immortal = immortal;
	out->size = ins_obj_size(&s->objs, addr, t);
	out->tracked = gen >= 0;
	out->frozen = gen >= 0 && gen == s->heap.ngens;
	out->generation = gen >= 0 && gen < s->heap.ngens ? gen : -1;
	return NULL;
}

ins_error *ins_object_repr(ins_program *p, uint64_t addr, char **out)
{
	INS_API_NEED(p && out);
	const ins_type *t;
	ins_error *err = object_type(p->s, addr, &t);
	if (err)
		return err;
	ins_buf b = { 0 };
	ins_obj_repr(&p->s->objs, addr, t, &b);
	if (b.oom || !(*out = ins_buf_take(&b))) {
		ins_buf_free(&b);
		return ins_err_nomem();
	}
	return NULL;
}

/* Depth 1 of objgraph-refs / objgraph-backrefs, as ins_refs. */
static ins_error *refs_of(ins_program *p, uint64_t addr, bool back, ins_refs *out)
{
	INS_API_NEED(p && out);
	ins_session *s = p->s;
	const ins_type *t;
	uint32_t node;
	ins_walk w;
	memset(out, 0, sizeof(*out));
	ins_error *err = object_type(s, addr, &t);
	if (!err)
		err = ins_session_graph(s);
	if (err)
		return err;
	if (!ins_graph_node(s->graph, addr, &node))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not in the heap's reference graph",
			       (unsigned long long)addr);
	if ((err = ins_refwalk(s, node, 1, back, &w)))
		return err;
	out->v = calloc(w.n ? w.n : 1, sizeof(*out->v));
	if (!out->v) {
		ins_walk_free(&w);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < w.n; i++) {
		ins_walked *e = &w.v[i];
		out->v[i].address = back ? e->from : e->to;
		out->v[i].label = e->label;  /* taken */
		e->label = NULL;
		out->v[i].flags = ((e->flags & INS_EF_INFERRED) ? INS_REF_INFERRED : 0) |
				  ((e->flags & INS_EF_BORROWED) ? INS_REF_BORROWED : 0);
	}
	out->n = w.n;
	ins_walk_free(&w);
	return NULL;
}

ins_error *ins_object_referents(ins_program *p, uint64_t addr, ins_refs *out)
{
	return refs_of(p, addr, false, out);
}

ins_error *ins_object_referrers(ins_program *p, uint64_t addr, ins_refs *out)
{
	return refs_of(p, addr, true, out);
}

void ins_refs_free(ins_refs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].label);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

ins_error *ins_program_objects(ins_program *p, const uint64_t **addrs, size_t *n)
{
	INS_API_NEED(p && addrs && n);
	ins_error *err = ins_session_heap(p->s);
	if (err)
		return err;
	*addrs = p->s->heap.objs;
	*n = p->s->heap.ntracked;
	return NULL;
}

ins_error *ins_program_objects_by_type(ins_program *p, const char *name, uint64_t **addrs, size_t *n)
{
	INS_API_NEED(p && name && addrs && n);
	*addrs = NULL;
	*n = 0;
	return ins_bytype_find(p->s, name, addrs, n);
}
