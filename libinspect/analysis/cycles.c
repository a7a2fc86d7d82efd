/* cycles.c -- the facts objgraph-cycles shows about the collection besides its cycles:
 * bytes, gc.garbage's share, finalizers, weakref callbacks (see cycles.h). */
#include "cycles.h"
#include "bigmem.h"

#include <stdlib.h>
#include <string.h>

static uint64_t word(ins_session *s, uint64_t addr, int64_t off)
{
	return ins_image_word(s->img, addr, off);
}

bool ins_cycles_finalized(ins_session *s, uint64_t obj)
{
	const ins_layout *L = &s->in->L;
	uint64_t head = obj - (uint64_t)L->sizeof_gc_head;
	if (L->gc_prev_finalized > 0)
		return word(s, head, L->gc_prev) & (uint64_t)L->gc_prev_finalized;
	if (L->gc_refs_finalized > 0)
		return word(s, head, L->gc_refs) & (uint64_t)L->gc_refs_finalized;
	return false;
}

/* Per unreachable object: the weakrefs with a callback that refer to it. Where the graph's
 * first nodes are the heap's objects in order, the walk's types say which are weakrefs
 * without reading any object; the rest are read. */
static ins_error *weakref_callbacks(ins_session *s, const uint8_t *dead, uint32_t *count)
{
	const ins_graph *g = s->graph;
	const ins_heap *h = &s->heap;
	size_t from = h->type_of && ins_session_nodes_are_heap(s) ? h->n : 0;
	uint8_t *weak = calloc(h->ntypes ? h->ntypes : 1, 1);
	if (!weak)
		return ins_err_nomem();
	for (size_t k = 0; from && k < h->ntypes; k++) {
		const ins_type *t = h->types[k] ? ins_type_info(&s->objs, h->types[k]) : NULL;
		weak[k] = t && t->kind == INS_K_WEAKREF;
	}
	for (size_t i = 0; i < g->n; i++) {
		if (i < from && !weak[h->type_of[i]])
			continue;
		if (i >= from && i + INS_PREFETCH_AHEAD < g->n)
			ins_image_prefetch(s->img, g->addr[i + INS_PREFETCH_AHEAD] + (uint64_t)s->in->L.obj_type);
		const ins_type *t = ins_obj_type(&s->objs, g->addr[i]);
		uint32_t target;
		if (!t || t->kind != INS_K_WEAKREF || !word(s, g->addr[i], s->in->L.weakref_callback) ||
		    !ins_graph_node(g, word(s, g->addr[i], s->in->L.weakref_object), &target) || !dead[target])
			continue;
		count[target]++;
	}
	free(weak);
	return NULL;
}

/* move_legacy_finalizers + move_legacy_finalizer_reachable: how many of the unreachable
 * objects a collection moves to gc.garbage instead of freeing them. */
static ins_error *uncollectable(ins_session *s, const ins_collect *col, const uint8_t *dead, size_t *out)
{
	const ins_graph *g = s->graph;
	uint8_t *kept = ins_big_calloc(g->n ? g->n : 1, 1);
	uint32_t *queue = ins_big_malloc((g->n ? g->n : 1), sizeof(*queue));
	size_t tail = 0;
	if (!kept || !queue) {
		free(kept);
		free(queue);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < col->n; i++) {
		uint32_t x = col->unreachable[i];
		if (i + INS_PREFETCH_AHEAD < col->n)
			ins_image_prefetch(s->img, g->addr[col->unreachable[i + INS_PREFETCH_AHEAD]] + (uint64_t)s->in->L.obj_type);
		const ins_type *t = ins_obj_type(&s->objs, g->addr[x]);
		enum ins_finalizer f = t ? ins_type_finalizer(&s->objs, t) : INS_FIN_NONE;
		if (f == INS_FIN_TP_DEL || (s->in->major == 2 && f == INS_FIN_DEL)) {
			kept[x] = 1;
			queue[tail++] = x;
		}
	}
	for (size_t head = 0; head < tail; head++)
		for (uint64_t e = g->out_start[queue[head]]; e < g->out_start[queue[head] + 1]; e++) {
			uint32_t y = g->out[e];
			if (dead[y] && !kept[y]) {
				kept[y] = 1;
				queue[tail++] = y;
			}
		}
	free(kept);
	free(queue);
	*out = tail;
	return NULL;
}

ins_error *ins_cycles_facts_of(ins_session *s, const ins_collect *col, ins_cycles_facts *out)
{
	const ins_graph *g = s->graph;
	memset(out, 0, sizeof(*out));
	out->dead = ins_big_calloc(g->n ? g->n : 1, 1);
	out->weakref_callbacks = ins_big_calloc(g->n ? g->n : 1, sizeof(*out->weakref_callbacks));
	if (!out->dead || !out->weakref_callbacks) {
		ins_cycles_facts_free(out);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < col->n; i++) {
		uint64_t x = g->addr[col->unreachable[i]];
		if (i + INS_PREFETCH_AHEAD < col->n)
			ins_image_prefetch(s->img, g->addr[col->unreachable[i + INS_PREFETCH_AHEAD]] + (uint64_t)s->in->L.obj_type);
		const ins_type *t = ins_obj_type(&s->objs, x);
		out->dead[col->unreachable[i]] = 1;
		out->bytes += t ? ins_obj_size(&s->objs, x, t) : 0;
	}
	ins_error *err = weakref_callbacks(s, out->dead, out->weakref_callbacks);
	if (!err)
		err = uncollectable(s, col, out->dead, &out->uncollectable);
	if (err)
		ins_cycles_facts_free(out);
	return err;
}

void ins_cycles_facts_free(ins_cycles_facts *f)
{
	free(f->dead);
	free(f->weakref_callbacks);
	memset(f, 0, sizeof(*f));
}

void ins_cycles_summary(ins_session *s, const ins_cycle *cy, const ins_cycles_facts *f, bool *finalizers,
			uint32_t *callbacks)
{
	const ins_graph *g = s->graph;
	*finalizers = false;
	*callbacks = 0;
	for (size_t i = 0; i < cy->n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, g->addr[cy->members[i]]);
		*finalizers |= t && ins_type_finalizer(&s->objs, t) != INS_FIN_NONE;
		*callbacks += f->weakref_callbacks[cy->members[i]];
	}
}

typedef struct member {
	uint32_t node, at;
} member;

static int cmp_member(const void *x, const void *y)
{
	const member *a = x, *b = y;
	return a->node < b->node ? -1 : a->node > b->node;
}

ins_error *ins_cycles_sources(const ins_session *s, const ins_cycle *cy, uint32_t **out)
{
	const ins_graph *g = s->graph;
	size_t n = cy->n;
	uint32_t *src = ins_big_malloc((n ? n : 1), sizeof(*src));
	member *m = ins_big_malloc((n ? n : 1), sizeof(*m));
	if (!src || !m) {
		free(src);
		free(m);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < n; i++) {
		m[i] = (member){ cy->members[i], (uint32_t)i };
		src[i] = UINT32_MAX;
	}
	qsort(m, n, sizeof(*m), cmp_member);
	/* the members off the simple cycle: the member with the lowest node number referring to
	 * it (the first of its referrers in the reverse index) */
	for (size_t k = 0; k < n; k++)
		for (uint32_t e = g->out_start[m[k].node]; e < g->out_start[m[k].node + 1]; e++) {
			member key = { g->out[e], 0 };
			const member *hit = bsearch(&key, m, n, sizeof(*m), cmp_member);
			if (hit && src[hit->at] == UINT32_MAX)
				src[hit->at] = m[k].node;
		}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && i < cy->path)
			src[i] = cy->members[i - 1];
		else if (i == 0)
			src[i] = cy->members[cy->path - 1];
		else if (src[i] == UINT32_MAX)
			src[i] = cy->members[0];
	}
	free(m);
	*out = src;
	return NULL;
}
