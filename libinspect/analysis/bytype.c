/* bytype.c -- objgraph.by_type and count: the tracked objects of a type named by __name__
 * or module.qualname, and whether a type of that name exists at all (see typestats.h). */
#include "typestats.h"

#include <stdlib.h>
#include <string.h>

/* objgraph matches a dotted name against the qualified name, else __name__. */
static bool name_matches(const ins_type *t, const char *want)
{
	return strcmp(strchr(want, '.') ? t->qualname : t->name, want) == 0;
}

/* Is there any type called `want`, even with no tracked instance? Classes are tracked
 * objects; builtin types are looked up among the interpreter's well-known ones. */
static ins_error *type_exists(ins_session *s, const char *want, bool *exists)
{
	ins_error *err = ins_session_heap(s);
	if (err)
		return err;
	for (size_t i = 0; i < s->heap.n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, s->heap.objs[i]);
		if (t && t->kind == INS_K_TYPE)
			ins_type_info(&s->objs, s->heap.objs[i]);
	}
	const uint64_t *known = (const uint64_t *)&s->in->T;
	for (size_t i = 0; i < sizeof(s->in->T) / sizeof(*known); i++)
		if (known[i])
			ins_type_info(&s->objs, known[i]);
	*exists = false;
	for (size_t i = 0; i < s->objs.ntypes && !*exists; i++)
		*exists = name_matches(s->objs.types[i], want);
	return NULL;
}

typedef struct matcher {
	ins_session *s;
	const char *want;
	ins_map verdict;        /* type address -> 1 matches, 2 does not */
	ins_vec found;
	bool oom;
} matcher;

static bool type_matches(matcher *m, uint64_t obj, uint64_t type)
{
	uint64_t *slot;
	if (type == m->s->in->T.instance2 && type) {  /* 2.7 classic instance: by class */
		const ins_type *t = ins_obj_type(&m->s->objs, obj);
		return t && name_matches(t, m->want);
	}
	if (!(slot = ins_map_slot(&m->verdict, type, 0))) {
		m->oom = true;
		return false;
	}
	if (!*slot) {
		const ins_type *t = ins_type_info(&m->s->objs, type);
		*slot = t && name_matches(t, m->want) ? 1 : 2;
	}
	return *slot == 1;
}

static void collect_match(void *arg, uint64_t obj, uint64_t type, uint32_t refcnt, int gen)
{
	(void)refcnt;
	matcher *m = arg;
	if (gen < m->s->in->ngens && !m->oom && type_matches(m, obj, type))
		ins_vec_push(&m->found, obj);
}

ins_error *ins_bytype_find(ins_session *s, const char *want, uint64_t **out, size_t *n)
{
	matcher m = { .s = s, .want = want };
	size_t counts[INS_MAX_GENS + 1];
	bool exists = true;
	ins_error *err = ins_heap_visit(s->img, s->in, s->warn, collect_match, &m, counts);
	ins_map_free(&m.verdict);
	if (!err && (m.oom || m.found.oom))
		err = ins_err_nomem();
	if (!err && !m.found.n)
		err = type_exists(s, want, &exists);
	if (!err && !exists)
		err = ins_err(INS_ERR_NOT_FOUND,
			      "unknown type '%s': no object of that type and no class of that name in the heap", want);
	if (err) {
		free(m.found.v);
		return err;
	}
	*out = m.found.v;
	*n = m.found.n;
	return NULL;
}
