/* chain.c -- objgraph.find_backref_chain and is_proper_module over the reference graph,
 * and the frames' locals a chain may also end at (see chain.h). */
#include "chain.h"

#include <stdlib.h>
#include <string.h>

#define NO_NODE UINT32_MAX

/* The text of the str object at addr equals text? */
static bool str_is(ins_session *s, uint64_t str, const char *text, size_t len, bool *oom)
{
	ins_buf b = { 0 };
	bool eq = ins_str_text(&s->objs, str, &b, len + 1) && b.len == len && memcmp(b.data, text, len) == 0;
	*oom |= b.oom;
	ins_buf_free(&b);
	return eq;
}

static uint64_t module_dict(ins_session *s, uint64_t module)
{
	uint64_t d = 0;
	ins_image_u64(s->img, module + (uint64_t)s->in->L.module_dict, &d);
	return d;
}

/* objgraph.is_proper_module: a module that sys.modules holds under its own __name__. */
typedef struct proper {
	ins_session *s;
	ins_map *set;
	bool oom;
} proper;

static bool add_proper(void *arg, uint64_t key, uint64_t value)
{
	proper *p = arg;
	const ins_type *t = ins_obj_type(&p->s->objs, value);
	uint64_t name;
	ins_buf k = { 0 };
	if (t && t->kind == INS_K_MODULE &&
	    ins_dict_get_str(&p->s->objs, module_dict(p->s, value), "__name__", &name) &&
	    ins_str_text(&p->s->objs, key, &k, 4096) && !k.oom &&
	    str_is(p->s, name, k.data ? k.data : "", k.len, &p->oom) && !ins_map_slot(p->set, value, 1))
		p->oom = true;
	p->oom |= k.oom;
	ins_buf_free(&k);
	return !p->oom;
}

/* sys.modules, found through the sys module among the tracked modules. */
ins_error *ins_chain_proper_modules(ins_session *s, ins_map *set)
{
	ins_graph *g = s->graph;
	bool oom = false;
	for (size_t i = 0; i < g->nheap && !oom; i++) {  /* gc.freeze() may have frozen sys */
		const ins_type *t = ins_obj_type(&s->objs, g->addr[i]);
		uint64_t name, modules;
		if (!t || t->kind != INS_K_MODULE)
			continue;
		uint64_t d = module_dict(s, g->addr[i]);
		if (!ins_dict_get_str(&s->objs, d, "__name__", &name) || !str_is(s, name, "sys", 3, &oom) ||
		    !ins_dict_get_str(&s->objs, d, "modules", &modules))
			continue;
		proper p = { s, set, false };
		bool ok = ins_dict_items(&s->objs, modules, add_proper, &p);
		if (p.oom)
			return ins_err_nomem();
		if (ok && set->n)
			return NULL;
	}
	if (oom)
		return ins_err_nomem();
	return ins_err(INS_ERR_CORRUPT, "sys.modules was not found in the heap");
}

ins_error *ins_chain_find(ins_session *s, uint32_t start, long max_depth, const ins_map *modules, const ins_map *roots,
			  const ins_map *ignore, uint32_t **chain, size_t *nchain, bool *found_out)
{
	ins_graph *g = s->graph;
	uint32_t *parent = malloc(g->n * sizeof(*parent)), *queue = malloc(g->n * sizeof(*queue));
	int32_t *depth = malloc(g->n * sizeof(*depth));
	if (!parent || !queue || !depth) {
		free(parent);
		free(queue);
		free(depth);
		return ins_err_nomem();
	}
	memset(depth, 0xff, g->n * sizeof(*depth));
	size_t head = 0, tail = 0;
	uint32_t found = NO_NODE;
	uint64_t dummy;
	queue[tail++] = start;
	depth[start] = 0;
	parent[start] = NO_NODE;
	while (head < tail) {
		uint32_t x = queue[head++];
		if (ins_map_get(modules, g->addr[x], &dummy) || (roots && ins_map_get(roots, g->addr[x], &dummy))) {
			found = x;
			break;
		}
		if (depth[x] >= max_depth)
			continue;
		/* gc.get_referrers: the tracked objects referring to x */
		for (uint64_t e = g->in_start[x]; e < g->in_start[x + 1]; e++) {
			uint32_t src = g->in[e];
			if (src >= g->ntracked || depth[src] >= 0 || ins_map_get(ignore, g->addr[src], &dummy))
				continue;
			depth[src] = depth[x] + 1;
			parent[src] = x;
			queue[tail++] = src;
		}
	}
	/* chain[0] is the module, the last one the object (objgraph returns [obj] when no
	 * module leads to it) */
	size_t n = 0;
	for (uint32_t x = found == NO_NODE ? start : found; x != NO_NODE && n < g->n; x = parent[x]) {
		queue[n++] = x;
		if (found == NO_NODE)
			break;
	}
	free(parent);
	free(depth);
	*chain = queue;
	*nchain = n;
	*found_out = found != NO_NODE;
	return NULL;
}

uint64_t ins_frame_root_addr(const ins_frame_root *r)
{
	return r->frame->frame_obj ? r->frame->frame_obj : r->frame->addr;
}

/* Maps the objects the frames' locals hold to a new root each (the first frame wins). */
static ins_error *add_roots(ins_chain *c, size_t *n, const ins_pythread *thread, uint64_t greenlet,
			    const ins_frame_info *frames, size_t nframes, ins_map *roots)
{
	for (size_t f = 0; f < nframes; f++)
		for (size_t k = 0; k < frames[f].nlocals; k++) {
			uint64_t *slot = ins_map_slot(roots, frames[f].locals[k].value, 0);
			if (!slot)
				return ins_err_nomem();
			if (!*slot) {
				c->roots[*n] = (ins_frame_root){ thread, greenlet, &frames[f], frames[f].locals[k].name };
				*slot = ++*n;
			}
		}
	return NULL;
}

/* The objects the locals of each thread's frames hold (the stack is a root the collector
 * never sees), then those of each suspended greenlet's, each mapped to its frame_root + 1. */
static ins_error *stack_roots(ins_session *s, ins_chain *c, ins_map *roots)
{
	ins_threads *th = &c->threads;
	ins_greenlets *gl = &c->greenlets;
	ins_error *err = ins_threads_read(&s->objs, s->warn, true, th);
	if (!err)
		err = ins_greenlets_read(s, true, gl);
	if (err)
		return err;
	size_t n = 0;
	for (size_t t = 0; t < th->n; t++)
		for (size_t f = 0; f < th->v[t].nframes; f++)
			n += th->v[t].frames[f].nlocals;
	for (size_t g = 0; g < gl->n; g++)
		for (size_t f = 0; f < gl->v[g].nframes; f++)
			n += gl->v[g].frames[f].nlocals;
	if (!(c->roots = calloc(n ? n : 1, sizeof(*c->roots))))
		return ins_err_nomem();
	n = 0;
	for (size_t t = 0; t < th->n && !err; t++)  /* innermost frames first: they win a tie */
		err = add_roots(c, &n, &th->v[t], 0, th->v[t].frames, th->v[t].nframes, roots);
	for (size_t g = 0; g < gl->n && !err; g++)
		err = add_roots(c, &n, NULL, gl->v[g].addr, gl->v[g].frames, gl->v[g].nframes, roots);
	return err;
}

ins_error *ins_chain_search(ins_session *s, uint32_t start, long max_depth, const ins_map *modules,
			    const ins_map *ignore, bool to_root, ins_chain *out)
{
	ins_map roots = { 0 };
	memset(out, 0, sizeof(*out));
	ins_error *err = to_root ? stack_roots(s, out, &roots) : NULL;
	if (!err)
		err = ins_chain_find(s, start, max_depth, modules, to_root ? &roots : NULL, ignore, &out->nodes,
				     &out->n, &out->found);
	/* a chain that ends at a frame's local starts with that frame */
	uint64_t root = 0, dummy;
	if (!err && out->found && to_root && !ins_map_get(modules, s->graph->addr[out->nodes[0]], &dummy) &&
	    ins_map_get(&roots, s->graph->addr[out->nodes[0]], &root))
		out->root = &out->roots[root - 1];
	ins_map_free(&roots);
	if (err)
		ins_chain_free(out);
	return err;
}

void ins_chain_free(ins_chain *c)
{
	free(c->nodes);
	free(c->roots);
	ins_threads_free(&c->threads);
	ins_greenlets_free(&c->greenlets);
	memset(c, 0, sizeof(*c));
}

void ins_chain_label(ins_session *s, const ins_chain *c, size_t i, ins_buf *out)
{
	if (i)
		ins_graph_edge_label(s->trav, &s->objs, s->graph->addr[c->nodes[i - 1]], s->graph->addr[c->nodes[i]], 0,
				     out);
	else if (c->root)
		ins_buf_puts(out, c->root->name ? c->root->name : "?");
}
