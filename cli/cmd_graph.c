/* cmd_graph.c -- the reference graph's commands, rendered: refs, backrefs (gc.get_referents
 * and gc.get_referrers with labelled edges, to a depth: refwalk.c), chain
 * (objgraph.find_backref_chain to a module in sys.modules: chain.c), leaking
 * (objgraph.get_leaking_objects: leaking.c), refcheck (the references an object's refcount
 * counts that nothing in the heap accounts for: refcheck.c) and graph. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "commands.h"
#include "leaking.h"
#include "refcheck.h"
#include "refwalk.h"

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

/* Referents found by scanning are marked inferred (referrers are listed without marks). */
static bool inferred(const ins_walked *e, bool back)
{
	return !back && (e->flags & INS_EF_INFERRED);
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
	ins_walk l;
	if ((err = ins_refwalk(s, node, depth, back, &l)))
		return err;
	ins_buf *out = c->out;
	const char *what = back ? "referrers" : "referents";
	if (a->json) {
		ins_buf_puts(out, "{\"address\":");
		ins_json_addr(out, addr);
		ins_buf_puts(out, ",\"type\":");
		ins_json_str(out, type_name(s, addr));
		ins_buf_printf(out, ",\"%s\":[", what);
		for (size_t i = 0; i < l.n; i++) {
			const ins_walked *e = &l.v[i];
			uint64_t other = back ? e->from : e->to;
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, other);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, type_name(s, other));
			ins_buf_puts(out, ",\"edge\":");
			ins_json_str(out, e->label);
			if (inferred(e, back))
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
			const ins_walked *e = &l.v[i];
			uint64_t other = back ? e->from : e->to;
			ins_buf_printf(out, "%*s", 2 * e->depth, "");
			if (depth > 1)
				ins_buf_printf(out, "0x%llx ", (unsigned long long)(back ? e->to : e->from));
			ins_buf_printf(out, "%s %-20s 0x%llx %s ", back ? "<-" : "->", e->label, (unsigned long long)other,
				       type_name(s, other));
			put_repr(s, other, out);
			ins_buf_puts(out, inferred(e, back) ? " (inferred)\n" : "\n");
		}
	}
	ins_walk_free(&l);
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

/* The chain's first element when it starts at a thread's or a greenlet's frame. */
static void put_frame_root(const ins_frame_root *r, bool json, ins_buf *out)
{
	const ins_frame_info *f = r->frame;
	uint64_t addr = ins_frame_root_addr(r);
	ins_buf where = { 0 };
	ins_buf_printf(&where, "%s:%d", f->file ? f->file : "?", f->line);
	out->oom |= where.oom;
	if (json) {
		ins_buf_puts(out, "{\"address\":");
		ins_json_addr(out, addr);
		ins_buf_puts(out, ",\"type\":\"frame\",\"repr\":");
		ins_json_strn(out, where.data ? where.data : "", where.len);
		ins_buf_puts(out, ",\"function\":");
		ins_json_str(out, f->function ? f->function : "?");
		if (r->thread)
			ins_buf_printf(out, ",\"thread_id\":%llu,\"edge\":null}", (unsigned long long)r->thread->thread_id);
		else
			ins_buf_printf(out, ",\"greenlet\":\"0x%llx\",\"edge\":null}", (unsigned long long)r->greenlet);
	} else {
		ins_buf_printf(out, "0x%llx frame %s in %s (", (unsigned long long)addr, where.data ? where.data : "?",
			       f->function ? f->function : "?");
		if (r->thread)
			ins_buf_printf(out, "thread %llu)\n", (unsigned long long)r->thread->thread_id);
		else
			ins_buf_printf(out, "greenlet 0x%llx)\n", (unsigned long long)r->greenlet);
	}
	ins_buf_free(&where);
}

void ins_cmd_json_chain(ins_session *s, const ins_chain *ch, ins_buf *out)
{
	if (ch->root) {
		put_frame_root(ch->root, true, out);
		if (ch->n)
			ins_buf_putc(out, ',');
	}
	for (size_t i = 0; i < ch->n; i++) {
		uint64_t x = s->graph->addr[ch->nodes[i]];
		ins_buf label = { 0 }, repr = { 0 };
		ins_chain_label(s, ch, i, &label);
		put_repr(s, x, &repr);
		out->oom |= label.oom || repr.oom;
		ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
		ins_json_addr(out, x);
		ins_buf_puts(out, ",\"type\":");
		ins_json_str(out, type_name(s, x));
		ins_buf_puts(out, ",\"repr\":");
		ins_json_strn(out, repr.data ? repr.data : "", repr.len);
		ins_buf_puts(out, ",\"edge\":");
		if (i || ch->root)
			ins_json_strn(out, label.data ? label.data : "", label.len);
		else
			ins_buf_puts(out, "null");
		ins_buf_putc(out, '}');
		ins_buf_free(&label);
		ins_buf_free(&repr);
	}
}

void ins_cmd_text_chain(ins_session *s, const ins_chain *ch, const char *indent, ins_buf *out)
{
	if (ch->root) {
		ins_buf_puts(out, indent);
		put_frame_root(ch->root, false, out);
	}
	for (size_t i = 0; i < ch->n; i++) {
		uint64_t x = s->graph->addr[ch->nodes[i]];
		ins_buf label = { 0 }, repr = { 0 };
		ins_chain_label(s, ch, i, &label);
		put_repr(s, x, &repr);
		out->oom |= label.oom || repr.oom;
		if (i || ch->root)
			ins_buf_printf(out, "%s  %s\n", indent, label.data ? label.data : "");
		ins_buf_printf(out, "%s0x%llx %s %s\n", indent, (unsigned long long)x, type_name(s, x),
			       repr.data ? repr.data : "");
		ins_buf_free(&label);
		ins_buf_free(&repr);
	}
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
	ins_map modules = { 0 }, ignore = { 0 };
	ins_chain ch = { 0 };
	err = ins_chain_proper_modules(s, &modules);
	for (int i = 0; !err && i < a->nignore; i++) {
		uint64_t x;
		if (!(err = ins_cmd_object(s, a->ignore[i], &x)) && !ins_map_slot(&ignore, x, 1))
			err = ins_err_nomem();
	}
	long max_depth = a->max_depth >= 0 ? a->max_depth : INS_CHAIN_MAX_DEPTH;
	if (!err)
		err = ins_chain_search(s, start, max_depth, &modules, &ignore, to_root, &ch);
	if (err)
		goto done;
	ins_buf *out = c->out;
	if (a->json)
		ins_buf_puts(out, "{\"chain\":[");
	else if (!ch.found)
		ins_buf_printf(out, "no chain from a module in sys.modules%s leads to 0x%llx (searched %ld levels)\n",
			       to_root ? " or a thread's frame" : "", (unsigned long long)addr, max_depth);
	if (a->json)
		ins_cmd_json_chain(s, &ch, out);
	else
		ins_cmd_text_chain(s, &ch, "", out);
	if (a->json)
		ins_buf_printf(out, "],\"found\":%s}\n", ch.found ? "true" : "false");
done:
	ins_chain_free(&ch);
	ins_map_free(&modules);
	ins_map_free(&ignore);
	return err;
}

/* ---------------------------------------------------------------- leaking */

void ins_cmd_json_counts(ins_buf *out, const ins_group *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
		ins_json_str(out, rows[i].name);
		ins_buf_printf(out, ",\"count\":%llu}", (unsigned long long)rows[i].count);
	}
}

/* objgraph.get_leaking_objects: by default over what a full collection would leave tracked
 * (ins_collect_survivors); --raw over the heap as it is. */
ins_error *ins_cmd_leaking(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_survivors sv;
	uint32_t *leak = NULL;
	size_t n = 0;
	ins_error *err = ins_leaking_find(s, a->raw, &leak, &n, &sv);
	if (err)
		return err;
	ins_graph *g = s->graph;
	ins_group *rows = NULL;
	size_t nrows = 0;
	if ((err = ins_typestats_count_nodes(s, leak, n, &rows, &nrows))) {
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

static void put_suspects(ins_session *s, const ins_residual *v, size_t n, size_t limit, bool json, ins_buf *out)
{
	for (size_t i = 0; i < n && i < limit; i++) {
		uint64_t x = s->graph->addr[v[i].node];
		if (json) {
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, x);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, type_name(s, x));
			ins_buf_printf(out, ",\"refcnt\":%lld,\"referrers\":%lld,\"unexplained\":%lld}",
				       (long long)v[i].refcnt, (long long)v[i].referrers, (long long)v[i].residual);
		} else {
			ins_buf_printf(out, "%+8lld %8lld %8lld  0x%llx %s ", (long long)v[i].residual,
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
	ins_residual *v;
	size_t n, nneg, checked;
	ins_error *err = ins_refcheck(s, &v, &n, &nneg, &checked);
	if (err)
		return err;
	ins_graph *g = s->graph;
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
	uint64_t node_bytes, edge_bytes, hidden;
	ins_graph_size(g, &node_bytes, &edge_bytes, &hidden);
	ins_group *rows = NULL;
	size_t nrows = 0;
	if ((err = ins_typestats_count_nodes(s, g->inferred, g->ninferred, &rows, &nrows)))
		return err;
	uint64_t eok, efailed, ewrote;
	ins_session_emu_stats(s, &eok, &efailed, &ewrote);
	ins_buf *out = c->out;
	if (c->a->json) {
		ins_buf_printf(out, "{\"nodes\":%zu,\"tracked\":%zu,\"frozen\":%zu,\"untracked\":%zu,\"edges\":%zu,"
			       "\"hidden\":%llu,\"emulated_objects\":%zu,\"emulation_seconds\":%.6f,"
			       "\"emulation_failed\":%llu,\"emulation_writes\":%llu,"
			       "\"inferred_objects\":%zu,\"wild\":%zu,\"walk_threads\":%u,"
			       "\"seconds\":%.6f,\"bytes_per_node\":%.1f,\"bytes_per_edge\":%.1f,\"inferred_types\":[",
			       g->n, g->ntracked, g->nheap - g->ntracked, g->n - g->nheap, g->nedges,
			       (unsigned long long)hidden, g->nemulated, g->emu_seconds, (unsigned long long)efailed,
			       (unsigned long long)ewrote, g->ninferred, g->nwild, s->heap.walk_threads, secs,
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
