/* cmd_graph.c -- the reference graph's commands: refs, backrefs (gc.get_referents and
 * gc.get_referrers with labelled edges, to a depth), chain (objgraph.find_backref_chain
 * to a module in sys.modules), leaking (objgraph.get_leaking_objects) and refcheck (the
 * references an object's refcount counts that nothing in the heap accounts for). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checked.h"
#include "collect.h"
#include "commands.h"
#include "graph.h"
#include "threads.h"

#define NO_NODE UINT32_MAX
#define CHAIN_MAX_DEPTH 20  /* objgraph.find_backref_chain's default */

static const char *type_name(ins_session *s, uint64_t addr)
{
	const ins_type *t = ins_obj_type(&s->objs, addr);
	return t ? t->name : "?";
}

static void put_repr(ins_session *s, uint64_t addr, ins_buf *out)
{
	const ins_type *t = ins_obj_type(&s->objs, addr);
	if (t)
		ins_obj_repr(&s->objs, addr, t, out);
}

/* One printed edge: from -> to, labelled. */
typedef struct shown {
	uint64_t from, to;
	char *label;
	bool inferred;
	int depth;
} shown;

typedef struct shown_list {
	shown *v;
	size_t n, cap;
	bool oom;
} shown_list;

static void shown_add(shown_list *l, uint64_t from, uint64_t to, char *label, bool inferred, int depth)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		shown *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->oom = true;
			free(label);
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (shown){ from, to, label, inferred, depth };
}

static void shown_free(shown_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].label);
	free(l->v);
}

/* The labelled edges out of one node, in traversal order. */
typedef struct collect {
	ins_session *s;
	shown_list *l;
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
	shown_add(c->l, c->from, e->target, ins_buf_take(&label), (e->flags & INS_EF_INFERRED) != 0, c->depth);
}

/* Breadth-first over referents (or referrers) up to max_depth, each node expanded once. */
static ins_error *walk(ins_session *s, uint32_t start, long max_depth, bool back, shown_list *l)
{
	ins_graph *g = s->graph;
	uint32_t *queue = malloc(g->n * sizeof(*queue));
	uint8_t *seen = calloc(g->n, 1);
	if (!queue || !seen) {
		free(queue);
		free(seen);
		return ins_err_nomem();
	}
	size_t head = 0, tail = 0;
	queue[tail++] = start;
	seen[start] = 1;
	for (int depth = 1; depth <= max_depth && head < tail; depth++) {
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
					shown_add(l, g->addr[src], g->addr[x], ins_buf_take(&label), false, depth);
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
	return l->oom ? ins_err_nomem() : NULL;
}

static ins_error *refs_common(const call *c, bool back)
{
	ins_session *s = c->s;
	const args *a = c->a;
	uint64_t addr;
	uint32_t node;
	ins_error *err = ins_cmd_object(s, a->pos[0], &addr);
	if (!err)
		err = ins_session_graph(s);
	if (err)
		return err;
	if (!ins_graph_node(s->graph, addr, &node))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not in the heap's reference graph", (unsigned long long)addr);
	long depth = a->max_depth >= 0 ? a->max_depth : 1;
	shown_list l = { 0 };
	if ((err = walk(s, node, depth, back, &l))) {
		shown_free(&l);
		return err;
	}
	ins_buf *out = c->out;
	const char *what = back ? "referrers" : "referents";
	if (a->json) {
		ins_buf_puts(out, "{\"address\":");
		ins_json_addr(out, addr);
		ins_buf_puts(out, ",\"type\":");
		ins_json_str(out, type_name(s, addr));
		ins_buf_printf(out, ",\"%s\":[", what);
		for (size_t i = 0; i < l.n; i++) {
			const shown *e = &l.v[i];
			uint64_t other = back ? e->from : e->to;
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, other);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, type_name(s, other));
			ins_buf_puts(out, ",\"edge\":");
			ins_json_str(out, e->label);
			if (e->inferred)
				ins_buf_puts(out, ",\"inferred\":true");
			if (depth > 1) {
				ins_buf_printf(out, ",\"depth\":%d,\"%s\":", e->depth, back ? "to" : "from");
				ins_json_addr(out, back ? e->to : e->from);
			}
			ins_buf_putc(out, '}');
		}
		ins_buf_puts(out, "]}\n");
	} else {
		ins_buf_printf(out, "%s of 0x%llx (%s): %zu\n", what, (unsigned long long)addr, type_name(s, addr), l.n);
		for (size_t i = 0; i < l.n; i++) {
			const shown *e = &l.v[i];
			uint64_t other = back ? e->from : e->to;
			ins_buf_printf(out, "%*s", 2 * e->depth, "");
			if (depth > 1)
				ins_buf_printf(out, "0x%llx ", (unsigned long long)(back ? e->to : e->from));
			ins_buf_printf(out, "%s %-20s 0x%llx %s ", back ? "<-" : "->", e->label, (unsigned long long)other,
				       type_name(s, other));
			put_repr(s, other, out);
			ins_buf_puts(out, e->inferred ? " (inferred)\n" : "\n");
		}
	}
	shown_free(&l);
	return NULL;
}

ins_error *ins_cmd_refs(const call *c)
{
	return refs_common(c, false);
}

ins_error *ins_cmd_backrefs(const call *c)
{
	return refs_common(c, true);
}

/* ---------------------------------------------------------------- chain */

/* The text of the str object at addr equals text? */
static bool str_is(ins_session *s, uint64_t str, const char *text, size_t len)
{
	ins_buf b = { 0 };
	bool eq = ins_str_text(&s->objs, str, &b, len + 1) && b.len == len && memcmp(b.data, text, len) == 0;
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
} proper;

static bool add_proper(void *arg, uint64_t key, uint64_t value)
{
	proper *p = arg;
	const ins_type *t = ins_obj_type(&p->s->objs, value);
	uint64_t name;
	ins_buf k = { 0 };
	if (t && t->kind == INS_K_MODULE && ins_dict_get_str(&p->s->objs, module_dict(p->s, value), "__name__", &name) &&
	    ins_str_text(&p->s->objs, key, &k, 4096) && str_is(p->s, name, k.data ? k.data : "", k.len))
		ins_map_slot(p->set, value, 1);
	ins_buf_free(&k);
	return true;
}

/* sys.modules, found through the sys module among the tracked modules. */
ins_error *ins_cmd_proper_modules(ins_session *s, ins_map *set)
{
	ins_graph *g = s->graph;
	for (size_t i = 0; i < g->nheap; i++) {  /* gc.freeze() may have frozen sys */
		const ins_type *t = ins_obj_type(&s->objs, g->addr[i]);
		uint64_t name, modules;
		if (!t || t->kind != INS_K_MODULE)
			continue;
		uint64_t d = module_dict(s, g->addr[i]);
		if (!ins_dict_get_str(&s->objs, d, "__name__", &name) || !str_is(s, name, "sys", 3) ||
		    !ins_dict_get_str(&s->objs, d, "modules", &modules))
			continue;
		proper p = { s, set };
		if (ins_dict_items(&s->objs, modules, add_proper, &p) && set->n)
			return NULL;
	}
	return ins_err(INS_ERR_CORRUPT, "sys.modules was not found in the heap");
}

ins_error *ins_cmd_backref_chain(ins_session *s, uint32_t start, long max_depth, const ins_map *modules,
				 const ins_map *roots, const ins_map *ignore, uint32_t **chain, size_t *nchain,
				 bool *found_out)
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

/* --to root: the objects the locals of each thread's frames hold (the stack is a root the
 * collector never sees), each mapped to the frame and the local's name. */
typedef struct frame_root {
	const ins_pythread *thread;
	const ins_frame_info *frame;
	const char *name;
} frame_root;

static ins_error *stack_roots(ins_session *s, ins_threads *th, ins_map *roots, frame_root **out)
{
	ins_error *err = ins_threads_read(&s->objs, s->warn, true, th);
	if (err)
		return err;
	size_t n = 0;
	for (size_t t = 0; t < th->n; t++)
		for (size_t f = 0; f < th->v[t].nframes; f++)
			n += th->v[t].frames[f].nlocals;
	frame_root *r = calloc(n ? n : 1, sizeof(*r));
	if (!r)
		return ins_err_nomem();
	n = 0;
	for (size_t t = 0; t < th->n; t++)  /* innermost frames first: they win a tie */
		for (size_t f = 0; f < th->v[t].nframes; f++)
			for (size_t k = 0; k < th->v[t].frames[f].nlocals; k++) {
				const ins_frame_info *fi = &th->v[t].frames[f];
				uint64_t *slot = ins_map_slot(roots, fi->locals[k].value, 0);
				if (slot && !*slot) {
					r[n] = (frame_root){ &th->v[t], fi, fi->locals[k].name };
					*slot = ++n;
				}
			}
	*out = r;
	return NULL;
}

/* The chain's first element when it starts at a thread's frame: the frame object, or from
 * 3.11 the interpreter frame when no frame object was ever made for it. */
static void put_frame_root(const frame_root *r, bool json, ins_buf *out)
{
	const ins_frame_info *f = r->frame;
	uint64_t addr = f->frame_obj ? f->frame_obj : f->addr;
	ins_buf where = { 0 };
	ins_buf_printf(&where, "%s:%d", f->file ? f->file : "?", f->line);
	if (json) {
		ins_buf_puts(out, "{\"address\":");
		ins_json_addr(out, addr);
		ins_buf_puts(out, ",\"type\":\"frame\",\"repr\":");
		ins_json_strn(out, where.data ? where.data : "", where.len);
		ins_buf_puts(out, ",\"function\":");
		ins_json_str(out, f->function ? f->function : "?");
		ins_buf_printf(out, ",\"thread_id\":%llu,\"edge\":null}", (unsigned long long)r->thread->thread_id);
	} else {
		ins_buf_printf(out, "0x%llx frame %s in %s (thread %llu)\n", (unsigned long long)addr,
			       where.data ? where.data : "?", f->function ? f->function : "?",
			       (unsigned long long)r->thread->thread_id);
	}
	ins_buf_free(&where);
}

ins_error *ins_cmd_chain(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	uint64_t addr;
	uint32_t start;
	bool to_root = a->to && strcmp(a->to, "root") == 0;
	if (a->to && !to_root && strcmp(a->to, "module") != 0)
		return ins_err(INS_ERR_USAGE, "objgraph-chain: --to takes root or module, not '%s'", a->to);
	ins_error *err = ins_cmd_object(s, a->pos[0], &addr);
	if (!err)
		err = ins_session_graph(s);
	if (err)
		return err;
	ins_graph *g = s->graph;
	if (!ins_graph_node(g, addr, &start))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not in the heap's reference graph", (unsigned long long)addr);
	ins_map modules = { 0 }, ignore = { 0 }, roots = { 0 };
	ins_threads th = { 0 };
	frame_root *fr = NULL;
	uint32_t *queue = NULL;
	size_t n = 0;
	bool found = false;
	err = ins_cmd_proper_modules(s, &modules);
	for (int i = 0; !err && i < a->nignore; i++) {
		uint64_t x;
		if (!(err = ins_cmd_object(s, a->ignore[i], &x)))
			ins_map_slot(&ignore, x, 1);
	}
	if (!err && to_root)
		err = stack_roots(s, &th, &roots, &fr);
	long max_depth = a->max_depth >= 0 ? a->max_depth : CHAIN_MAX_DEPTH;
	if (!err)
		err = ins_cmd_backref_chain(s, start, max_depth, &modules, to_root ? &roots : NULL, &ignore, &queue, &n,
					    &found);
	if (err)
		goto done;
	/* a chain that ends at a frame's local starts with that frame */
	uint64_t root = 0;
	if (found && to_root && !ins_map_get(&modules, g->addr[queue[0]], &root))
		ins_map_get(&roots, g->addr[queue[0]], &root);
	else
		root = 0;
	ins_buf *out = c->out;
	if (a->json)
		ins_buf_puts(out, "{\"chain\":[");
	else if (!found)
		ins_buf_printf(out, "no chain from a module in sys.modules%s leads to 0x%llx (searched %ld levels)\n",
			       to_root ? " or a thread's frame" : "", (unsigned long long)addr, max_depth);
	if (root) {
		put_frame_root(&fr[root - 1], a->json, out);
		if (a->json)
			ins_buf_putc(out, ',');
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t x = g->addr[queue[i]];
		ins_buf label = { 0 }, repr = { 0 };
		if (i)
			ins_graph_edge_label(s->trav, &s->objs, g->addr[queue[i - 1]], x, 0, &label);
		else if (root)
			ins_buf_puts(&label, fr[root - 1].name ? fr[root - 1].name : "?");
		put_repr(s, x, &repr);
		if (a->json) {
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, x);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, type_name(s, x));
			ins_buf_puts(out, ",\"repr\":");
			ins_json_strn(out, repr.data ? repr.data : "", repr.len);
			ins_buf_puts(out, ",\"edge\":");
			if (i || root)
				ins_json_strn(out, label.data ? label.data : "", label.len);
			else
				ins_buf_puts(out, "null");
			ins_buf_putc(out, '}');
		} else {
			if (i || root)
				ins_buf_printf(out, "  %s\n", label.data ? label.data : "");
			ins_buf_printf(out, "0x%llx %s %s\n", (unsigned long long)x, type_name(s, x),
				       repr.data ? repr.data : "");
		}
		ins_buf_free(&label);
		ins_buf_free(&repr);
	}
	if (a->json)
		ins_buf_printf(out, "],\"found\":%s}\n", found ? "true" : "false");
done:
	free(queue);
	free(fr);
	ins_threads_free(&th);
	ins_map_free(&modules);
	ins_map_free(&ignore);
	ins_map_free(&roots);
	return err;
}

/* ---------------------------------------------------------------- leaking */

void ins_cmd_json_counts(ins_buf *out, const group *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
		ins_json_str(out, rows[i].name);
		ins_buf_printf(out, ",\"count\":%llu}", (unsigned long long)rows[i].count);
	}
}

ins_error *ins_cmd_count_by_name(ins_session *s, const uint32_t *nodes, size_t n, group **out, size_t *nout)
{
	ins_map index = { 0 };
	group *rows = calloc(n ? n : 1, sizeof(*rows));
	size_t nrows = 0;
	if (!rows)
		return ins_err_nomem();
	for (size_t i = 0; i < n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, s->graph->addr[nodes[i]]);
		uint64_t *slot = t ? ins_map_slot(&index, t->addr, 0) : NULL;
		if (!t)
			continue;
		if (!slot) {
			free(rows);
			ins_map_free(&index);
			return ins_err_nomem();
		}
		if (!*slot) {
			rows[nrows].name = t->name;
			*slot = ++nrows;
		}
		rows[*slot - 1].count++;
	}
	ins_map_free(&index);
	/* types sharing a __name__ are one row, as in objgraph */
	qsort(rows, nrows, sizeof(*rows), ins_cmd_cmp_group);
	size_t m = 0;
	for (size_t i = 0; i < nrows; i++) {
		size_t j = 0;
		while (j < m && strcmp(rows[j].name, rows[i].name) != 0)
			j++;
		if (j < m)
			rows[j].count += rows[i].count;
		else
			rows[m++] = rows[i];
	}
	qsort(rows, m, sizeof(*rows), ins_cmd_cmp_group);
	*out = rows;
	*nout = m;
	return NULL;
}

/* objgraph.get_leaking_objects: gc.collect(), then the objects of gc.get_objects() that no
 * gc.get_referents of one of them reaches. By default over what a full collection would
 * leave tracked (ins_collect_survivors); --raw over the heap as it is. */
ins_error *ins_cmd_leaking(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_survivors sv = { 0 };
	ins_error *err = a->raw ? ins_session_graph(s) : ins_collect_survivors(s, &sv);
	if (err)
		return err;
	ins_graph *g = s->graph;
	const uint32_t *objs = sv.nodes;  /* raw: nodes 0 .. ntracked */
	size_t nobjs = a->raw ? g->ntracked : sv.n;
	uint32_t *leak = malloc((nobjs ? nobjs : 1) * sizeof(*leak));
	if (!leak) {
		ins_survivors_free(&sv);
		return ins_err_nomem();
	}
	size_t n = 0;
	for (size_t k = 0; k < nobjs; k++) {
		uint32_t i = a->raw ? (uint32_t)k : objs[k];
		bool referred = false;
		for (uint64_t e = g->in_start[i]; e < g->in_start[i + 1] && !referred; e++)
			referred = a->raw ? g->in[e] < g->ntracked : sv.alive[g->in[e]];
		if (!referred)
			leak[n++] = i;
	}
	group *rows = NULL;
	size_t nrows = 0;
	if ((err = ins_cmd_count_by_name(s, leak, n, &rows, &nrows))) {
		free(leak);
		ins_survivors_free(&sv);
		return err;
	}
	size_t limit = a->limit > 0 ? (size_t)a->limit : SIZE_MAX;
	ins_buf *out = c->out;
	if (a->json) {
		ins_buf_printf(out, "{\"count\":%zu,\"collected\":%s,\"types\":[", n, a->raw ? "false" : "true");
		ins_cmd_json_counts(out, rows, nrows < limit ? nrows : limit);
		ins_buf_puts(out, "],\"objects\":[");
		for (size_t i = 0; i < n && i < limit; i++) {
			if (i)
				ins_buf_putc(out, ',');
			ins_json_addr(out, g->addr[leak[i]]);
		}
		ins_buf_puts(out, "]}\n");
	} else {
		if (a->raw)
			ins_buf_printf(out, "%zu tracked objects have no referrer among the tracked objects "
				       "(objgraph.get_leaking_objects, without its gc.collect())\n", n);
		else
			ins_buf_printf(out, "%zu tracked objects have no referrer among the tracked objects after a "
				       "full gc.collect() (objgraph.get_leaking_objects; the collection would free %zu "
				       "objects and untrack %zu tuples and %zu dicts)\n",
				       n, sv.freed, sv.tuples, sv.dicts);
		for (size_t i = 0; i < nrows && i < limit; i++)
			ins_buf_printf(out, "%-24s %llu\n", rows[i].name, (unsigned long long)rows[i].count);
		for (size_t i = 0; i < n && i < limit; i++) {
			uint64_t x = g->addr[leak[i]];
			ins_buf_printf(out, "0x%llx %s ", (unsigned long long)x, type_name(s, x));
			put_repr(s, x, out);
			ins_buf_putc(out, '\n');
		}
	}
	free(rows);
	free(leak);
	ins_survivors_free(&sv);
	return NULL;
}

/* ---------------------------------------------------------------- refcheck */

typedef struct suspect {
	uint32_t node;
	int64_t refcnt, referrers, unexplained;
} suspect;

static int cmp_suspect(const void *x, const void *y)
{
	const suspect *a = x, *b = y;
	if (a->unexplained != b->unexplained)
		return a->unexplained > b->unexplained ? -1 : 1;
	return a->node < b->node ? -1 : a->node > b->node;
}

static void put_suspects(ins_session *s, const suspect *v, size_t n, size_t limit, bool json, ins_buf *out)
{
	for (size_t i = 0; i < n && i < limit; i++) {
		uint64_t x = s->graph->addr[v[i].node];
		if (json) {
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, x);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, type_name(s, x));
			ins_buf_printf(out, ",\"refcnt\":%lld,\"referrers\":%lld,\"unexplained\":%lld}",
				       (long long)v[i].refcnt, (long long)v[i].referrers, (long long)v[i].unexplained);
		} else {
			ins_buf_printf(out, "%+8lld %8lld %8lld  0x%llx %s ", (long long)v[i].unexplained,
				       (long long)v[i].refcnt, (long long)v[i].referrers, (unsigned long long)x,
				       type_name(s, x));
			put_repr(s, x, out);
			ins_buf_putc(out, '\n');
		}
	}
}

ins_error *ins_cmd_refcheck(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	ins_graph *g = s->graph;
	suspect *v = malloc((g->nheap ? g->nheap : 1) * sizeof(*v));
	if (!v)
		return ins_err_nomem();
	size_t n = 0, nneg = 0, checked = 0;
	for (size_t i = 0; i < g->nheap; i++) {
		int64_t refcnt;
		bool immortal;
		if (!ins_obj_refcnt(&s->objs, g->addr[i], &refcnt, &immortal) || immortal)
			continue;
		checked++;
		int64_t referrers = (int64_t)(g->in_start[i + 1] - g->in_start[i]) + g->hidden_in[i];
		if (refcnt == referrers)
			continue;
		v[n++] = (suspect){ (uint32_t)i, refcnt, referrers, ins_sub_sat(refcnt, referrers) };
		nneg += refcnt < referrers;
	}
	qsort(v, n, sizeof(*v), cmp_suspect);
	size_t npos = n - nneg;
	size_t limit = a->limit > 0 ? (size_t)a->limit : SIZE_MAX;
	ins_buf *out = c->out;
	if (a->json) {
		ins_buf_printf(out, "{\"checked\":%zu,\"inferred_objects\":%zu,\"suspects\":[", checked, g->ninferred);
		put_suspects(s, v, npos, limit, true, out);
		ins_buf_puts(out, "],\"negative\":[");
		put_suspects(s, v + npos, nneg, limit, true, out);
		ins_buf_puts(out, "]}\n");
	} else {
		ins_buf_printf(out, "%zu of %zu objects have references that nothing in the heap accounts for "
			       "(C-level roots, or leaked references):\n", npos, checked);
		ins_buf_puts(out, "unexpl.   refcnt referrers address\n");
		put_suspects(s, v, npos, limit, false, out);
		if (nneg) {
			ins_buf_printf(out, "%zu objects have fewer references than referrers found "
				       "(corruption, or an edge counted wrongly):\n", nneg);
			put_suspects(s, v + npos, nneg, limit, false, out);
		}
		if (g->ninferred)
			ins_buf_printf(out, "%zu objects of unknown C types were scanned for references (inferred edges)\n",
				       g->ninferred);
	}
	if (nneg)
		ins_buf_printf(c->warn, "warning: %zu objects have more referrers than their refcount\n", nneg);
	free(v);
	return NULL;
}

/* ---------------------------------------------------------------- graph */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct edge_list {
	ins_buf *out;
	bool json, first;
} edge_list;

static void print_target(void *arg, const ins_edge *e)
{
	edge_list *l = arg;
	if (e->flags & INS_EF_HIDDEN)
		return;
	if (l->json) {
		if (!l->first)
			ins_buf_putc(l->out, ',');
		ins_json_addr(l->out, e->target);
	} else {
		ins_buf_printf(l->out, " 0x%llx", (unsigned long long)e->target);
	}
	l->first = false;
}

/* graph --edges: every tracked object's referents as its traversal reports them, in order,
 * hidden references left out (gc.get_referents). */
static void print_edges(ins_session *s, ins_buf *out, bool json)
{
	const ins_graph *g = s->graph;
	if (json)
		ins_buf_puts(out, ",\"referents\":{");
	for (size_t i = 0; i < g->ntracked; i++) {
		uint64_t addr = g->addr[i];
		const ins_type *t = ins_obj_type(&s->objs, addr);
		ins_buf head = { 0 };
		edge_list l = { &head, json, true };
		enum ins_trav_how how = ins_traverse(s->trav, addr, t, print_target, &l);
		if (json) {
			if (i)
				ins_buf_putc(out, ',');
			ins_json_addr(out, addr);
			ins_buf_puts(out, ":{\"type\":");
			ins_json_str(out, t ? t->name : "?");
			ins_buf_printf(out, ",\"how\":\"%s\",\"referents\":[", ins_trav_how_name(how));
			ins_buf_putn(out, head.data ? head.data : "", head.len);
			ins_buf_puts(out, "]}");
		} else {
			ins_buf_printf(out, "0x%llx %s %s:", (unsigned long long)addr, t ? t->name : "?",
				       ins_trav_how_name(how));
			ins_buf_putn(out, head.data ? head.data : "", head.len);
			ins_buf_putc(out, '\n');
		}
		ins_buf_free(&head);
	}
	if (json)
		ins_buf_putc(out, '}');
}

/* The targets in a but not in b (both sorted), as JSON addresses or text. */
static void print_diff(ins_buf *out, const ins_vec *a, const ins_vec *b, bool json)
{
	bool first = true;
	for (size_t i = 0, j = 0; i < a->n; i++) {
		while (j < b->n && b->v[j] < a->v[i])
			j++;
		if (j < b->n && b->v[j] == a->v[i]) {
			j++;
			continue;
		}
		if (json) {
			if (!first)
				ins_buf_putc(out, ',');
			ins_json_addr(out, a->v[i]);
		} else {
			ins_buf_printf(out, " 0x%llx", (unsigned long long)a->v[i]);
		}
		first = false;
	}
}

typedef struct verify_list {
	ins_session *s;
	ins_buf out;
	long limit;
	size_t differ;
	bool json;
} verify_list;

static void verify_differs(void *arg, uint64_t obj, const ins_vec *native, const ins_vec *emulated)
{
	verify_list *l = arg;
	if (l->limit && (long)l->differ >= l->limit) {
		l->differ++;
		return;
	}
	const ins_type *t = ins_obj_type(&l->s->objs, obj);
	ins_buf *list = &l->out;
	if (l->json) {
		ins_buf_puts(list, l->differ ? ",{\"address\":" : "{\"address\":");
		ins_json_addr(list, obj);
		ins_buf_puts(list, ",\"type\":");
		ins_json_str(list, t ? t->name : "?");
		ins_buf_puts(list, ",\"native_only\":[");
		print_diff(list, native, emulated, true);
		ins_buf_puts(list, "],\"emulated_only\":[");
		print_diff(list, emulated, native, true);
		ins_buf_puts(list, "]}");
	} else {
		ins_buf_printf(list, "  0x%llx %s: native only:", (unsigned long long)obj, t ? t->name : "?");
		print_diff(list, native, emulated, false);
		ins_buf_puts(list, "; emulated only:");
		print_diff(list, emulated, native, false);
		ins_buf_putc(list, '\n');
	}
	l->differ++;
}

/* graph --verify: every tracked object's own tp_traverse, emulated, against ins_traverse. */
static ins_error *verify(ins_session *s, long limit, ins_buf *out, bool json)
{
	const ins_graph *g = s->graph;
	verify_list l = { .s = s, .limit = limit, .json = json };
	size_t same, failed;
	ins_error *err = ins_trav_verify(s->trav, g->addr, g->ntracked, verify_differs, &l, &same, &failed);
	if (!err && l.out.oom)
		err = ins_err_nomem();
	if (err) {
		ins_buf_free(&l.out);
		return err;
	}
	size_t checked = same + l.differ + failed;
	if (json)
		ins_buf_printf(out, ",\"verify\":{\"checked\":%zu,\"same\":%zu,\"differ\":%zu,\"failed\":%zu,"
			       "\"differences\":[", checked, same, l.differ, failed);
	else
		ins_buf_printf(out, "verify: %zu objects' own tp_traverse emulated: %zu the same, %zu differ, %zu could not "
			       "be emulated\n", checked, same, l.differ, failed);
	ins_buf_putn(out, l.out.data ? l.out.data : "", l.out.len);
	if (json)
		ins_buf_puts(out, "]}");
	ins_buf_free(&l.out);
	return NULL;
}

ins_error *ins_cmd_graph(const call *c)
{
	ins_session *s = c->s;
	double t0 = now();
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	double secs = now() - t0;
	const ins_graph *g = s->graph;
	uint64_t hidden = 0;
	for (size_t i = 0; i < g->n; i++)
		hidden += g->hidden_in[i];
	/* bytes the graph holds: per node and per edge arrays, and the address index */
	uint64_t node_bytes = g->n * (sizeof(*g->addr) + sizeof(*g->out_start) + sizeof(*g->in_start) +
				      sizeof(*g->hidden_in)) + g->index.cap * sizeof(*g->index.slots);
	uint64_t edge_bytes = g->nedges * (sizeof(*g->out) + sizeof(*g->out_flags) + sizeof(*g->in));
	group *rows = NULL;
	size_t nrows = 0;
	if ((err = ins_cmd_count_by_name(s, g->inferred, g->ninferred, &rows, &nrows)))
		return err;
	uint64_t eok, efailed, ewrote;
	ins_trav_emu_stats(s->trav, &eok, &efailed, &ewrote);
	ins_buf *out = c->out;
	if (c->a->json) {
		ins_buf_printf(out, "{\"nodes\":%zu,\"tracked\":%zu,\"frozen\":%zu,\"untracked\":%zu,\"edges\":%zu,"
			       "\"hidden\":%llu,\"emulated_objects\":%zu,\"emulation_seconds\":%.6f,"
			       "\"emulation_failed\":%llu,\"emulation_writes\":%llu,"
			       "\"inferred_objects\":%zu,\"wild\":%zu,"
			       "\"seconds\":%.6f,\"bytes_per_node\":%.1f,\"bytes_per_edge\":%.1f,\"inferred_types\":[",
			       g->n, g->ntracked, g->nheap - g->ntracked, g->n - g->nheap, g->nedges,
			       (unsigned long long)hidden, g->nemulated, g->emu_seconds, (unsigned long long)efailed,
			       (unsigned long long)ewrote, g->ninferred, g->nwild, secs,
			       g->n ? (double)node_bytes / (double)g->n : 0.0,
			       g->nedges ? (double)edge_bytes / (double)g->nedges : 0.0);
		ins_cmd_json_counts(out, rows, nrows);
		ins_buf_putc(out, ']');
		if (c->a->edges)
			print_edges(s, out, true);
		if (c->a->verify && (err = verify(s, c->a->limit, out, true)))
			return free(rows), err;
		ins_buf_puts(out, "}\n");
	} else {
		ins_buf_printf(out,
			       "%zu objects: %zu tracked, %zu frozen, %zu untracked reached by references\n"
			       "%zu references (%llu more that tp_traverse does not report, for refcounts)\n"
			       "%zu objects traversed by their C type's own tp_traverse (emulated: %llu calls failed, "
			       "%llu wrote to private copies)\n"
			       "%zu objects of C types scanned for references; %zu references to non-objects skipped\n"
			       "built in %.3f s (%.1fM objects/s); %.1f bytes per object, %.1f per reference\n",
			       g->n, g->ntracked, g->nheap - g->ntracked, g->n - g->nheap, g->nedges,
			       (unsigned long long)hidden, g->nemulated, (unsigned long long)efailed,
			       (unsigned long long)ewrote, g->ninferred, g->nwild, secs,
			       secs > 0 ? (double)g->n / secs / 1e6 : 0.0, g->n ? (double)node_bytes / (double)g->n : 0.0,
			       g->nedges ? (double)edge_bytes / (double)g->nedges : 0.0);
		for (size_t i = 0; i < nrows; i++)
			ins_buf_printf(out, "  scanned: %-24s %llu\n", rows[i].name, (unsigned long long)rows[i].count);
		if (c->a->edges)
			print_edges(s, out, false);
		if (c->a->verify && (err = verify(s, c->a->limit, out, false)))
			return free(rows), err;
	}
	free(rows);
	return NULL;
}
