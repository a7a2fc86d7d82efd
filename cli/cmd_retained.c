/* cmd_retained.c -- retained (the dominator tree's retained sizes: dominators.c), rendered:
 * the objects that retain the most with their chains, what one object retains and what
 * keeps it alive, or the top of its dominator subtree (--tree); and suspects (suspects.c),
 * Eclipse MAT's leak suspects. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "commands.h"
#include "dominators.h"
#include "suspects.h"

static const char *root_why(int kind)
{
	switch (kind) {
	case INS_ROOT_REFS:
		return "referenced from outside the heap (C code, the interpreter, a hidden reference)";
	case INS_ROOT_UNREADABLE:
		return "its refcount cannot be read";
	case INS_ROOT_IMMORTAL:
		return "immortal";
	case INS_ROOT_FRAME:
		return "a thread's frame or one of its locals";
	case INS_ROOT_UNREACHED:
		return "reached from no root (garbage)";
	default:
		return "";
	}
}

static const char *root_key(int kind)
{
	switch (kind) {
	case INS_ROOT_REFS:
		return "refcount";
	case INS_ROOT_UNREADABLE:
		return "unreadable";
	case INS_ROOT_IMMORTAL:
		return "immortal";
	case INS_ROOT_FRAME:
		return "frame";
	case INS_ROOT_UNREACHED:
		return "unreached";
	default:
		return "several";
	}
}

/* "address","type","repr" of node x, as JSON members (no braces), or text columns. */
static void put_object(ins_session *s, uint32_t x, bool json, ins_buf *out)
{
	uint64_t a = s->graph->addr[x];
	const ins_type *t = ins_obj_type(&s->objs, a);
	ins_buf repr = {0};
	if (t)
		ins_obj_repr(&s->objs, a, t, &repr);
	out->oom |= repr.oom;
	if (json) {
		ins_buf_puts(out, "\"address\":");
		ins_json_addr(out, a);
		ins_buf_puts(out, ",\"type\":");
		ins_json_str(out, t ? t->name : "?");
		ins_buf_puts(out, ",\"repr\":");
		ins_json_strn(out, repr.data ? repr.data : "", repr.len);
	} else {
		ins_buf_printf(out, "0x%llx %s %s", (unsigned long long)a, t ? t->name : "?",
			       repr.data ? repr.data : "");
	}
	ins_buf_free(&repr);
}

/* The labels of a chain's references after its first object, " > "-separated: where the
 * object is held, on one line. */
static void chain_path(ins_session *s, const ins_chain *ch, ins_buf *out)
{
	if (ch->root)
		ins_buf_printf(out, "frame of %s", ch->root->frame->function ? ch->root->frame->function : "?");
	for (size_t i = 0; i < ch->n; i++) {
		ins_buf label = { 0 };
		if (i || ch->root) {
			ins_chain_label(s, ch, i, &label);
			ins_buf_printf(out, " > %s", label.data ? label.data : "");
		} else {
			put_object(s, ch->nodes[0], false, &label);
			ins_buf_putn(out, label.data ? label.data : "", label.len);
		}
		out->oom |= label.oom;
		ins_buf_free(&label);
	}
}

#define TOP_CHAINS 100

static ins_error *top(const call *c, ins_session *s, const ins_dominators *d)
{
	size_t limit = c->a->limit > 0 ? (size_t)c->a->limit : d->n;
	uint32_t *v;
	size_t n;
	ins_error *err = ins_dominators_top(d, limit, &v, &n);
	if (err)
		return err;
	/* each object's chain, as objgraph-chain finds it */
	ins_map modules = { 0 }, ignore = { 0 };
	if ((err = ins_chain_proper_modules(s, &modules))) {
		if (err->code == INS_ERR_NOMEM) {
			free(v);
			return err;
		}
		ins_error_free(err);
		err = NULL;
	}
	ins_buf *out = c->out;
	if (c->a->json)
		ins_buf_printf(out, "{\"total_bytes\":%llu,\"top\":[", (unsigned long long)d->total_bytes);
	else
		ins_buf_printf(out, "%zu objects, %llu bytes; the largest retained sizes:\n%12s %14s  object\n", d->n,
			       (unsigned long long)d->total_bytes, "objects", "bytes");
	for (size_t i = 0; i < n && !err; i++) {
		/* a search is a walk over the graph: the first TOP_CHAINS rows have theirs */
		ins_chain ch = { 0 };
		if (i < TOP_CHAINS && (err = ins_chain_search(s, v[i], INS_CHAIN_MAX_DEPTH, &modules, &ignore, false, &ch)))
			break;
		if (c->a->json) {
			ins_buf_puts(out, i ? ",{" : "{");
			put_object(s, v[i], true, out);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu,\"chain\":", (unsigned long long)d->count[v[i]],
				       (unsigned long long)d->bytes[v[i]]);
			if (i < TOP_CHAINS) {
				ins_buf_putc(out, '[');
				ins_cmd_json_chain(s, &ch, out);
				ins_buf_puts(out, "]}");
			} else {
				ins_buf_puts(out, "null}");
			}
		} else {
			ins_buf_printf(out, "%12llu %14llu  ", (unsigned long long)d->count[v[i]],
				       (unsigned long long)d->bytes[v[i]]);
			put_object(s, v[i], false, out);
			if (ch.found) {
				ins_buf_printf(out, "\n%12s %14s    from ", "", "");
				chain_path(s, &ch, out);
			}
			ins_buf_putc(out, '\n');
		}
		ins_chain_free(&ch);
	}
	if (c->a->json && !err)
		ins_buf_puts(out, "]}\n");
	ins_map_free(&modules);
	free(v);
	return err;
}

#define TREE_MAX_DEPTH 3

/* retained ADDR --tree: the top of x's dominator subtree, children most bytes first. */
static ins_error *tree(const call *c, ins_session *s, const ins_dominators *d, uint32_t x)
{
	ins_domtree t;
	ins_domitem *items = NULL;
	size_t n = 0;
	size_t depth = c->a->max_depth >= 0 ? (size_t)c->a->max_depth : TREE_MAX_DEPTH;
	size_t per_node = c->a->limit > 0 ? (size_t)c->a->limit : 0;
	ins_error *err = ins_domtree_build(d, &t);
	if (err)
		return err;
	err = ins_domtree_top(d, &t, x, depth, per_node, &items, &n);
	ins_buf *out = c->out;
	bool json = c->a->json;
	/* per item, its children listed: each item's parent is the last item one level up */
	size_t *shown = calloc(n + 1, sizeof(*shown)), *last = calloc(n + 1, sizeof(*last));
	if (!err && (!shown || !last))
		err = ins_err_nomem();
	for (size_t i = 0; !err && i < n; i++) {
		uint32_t k = items[i].depth;
		if (k > n)
			break;
		last[k] = i;
		if (k)
			shown[last[k - 1]]++;
	}
	if (!err && json)
		ins_buf_puts(out, "{\"tree\":[");
	else if (!err)
		ins_buf_printf(out, "%10s %14s  dominator tree (of the heap's %llu bytes)\n", "objects", "bytes",
			       (unsigned long long)d->total_bytes);
	for (size_t i = 0; !err && i < n; i++) {
		uint32_t y = items[i].node;
		if (json) {
			ins_buf_puts(out, i ? ",{" : "{");
			put_object(s, y, true, out);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu,\"depth\":%u}", (unsigned long long)d->count[y],
				       (unsigned long long)d->bytes[y], items[i].depth);
			continue;
		}
		ins_buf_printf(out, "%10llu %14llu  %*s", (unsigned long long)d->count[y], (unsigned long long)d->bytes[y],
			       (int)(2 * (items[i].depth < 64 ? items[i].depth : 64)), "");
		put_object(s, y, false, out);
		/* children left out: by --limit, or below --max-depth */
		uint64_t kids = t.start[y + 1] - t.start[y];
		if (kids > shown[i])
			ins_buf_printf(out, "  (+%llu more)", (unsigned long long)(kids - shown[i]));
		ins_buf_putc(out, '\n');
	}
	if (!err && json)
		ins_buf_puts(out, "]}\n");
	free(shown);
	free(last);
	free(items);
	ins_domtree_free(&t);
	return err;
}

typedef struct held {
	const char *name;
	uint64_t size;
} held;

static int cmp_held_name(const void *x, const void *y)
{
	const held *a = x, *b = y;
	return strcmp(a->name, b->name);
}

typedef struct held_row {
	const char *name;
	uint64_t count, bytes;
} held_row;

static int cmp_row(const void *x, const void *y)
{
	const held_row *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* What x's subtree holds, by type name, most bytes first. */
static ins_error *holds(ins_session *s, const ins_dominators *d, uint32_t x, held_row **rows, size_t *nrows)
{
	uint32_t *sub;
	size_t n;
	*rows = NULL;
	*nrows = 0;
	ins_error *err = ins_dominators_subtree(d, x, &sub, &n);
	if (err)
		return err;
	held *h = malloc((n ? n : 1) * sizeof(*h));
	held_row *r = malloc((n ? n : 1) * sizeof(*r));
	if (!h || !r) {
		free(sub);
		free(h);
		free(r);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t a = s->graph->addr[sub[i]];
		const ins_type *t = ins_obj_type(&s->objs, a);
		h[i] = (held){t && t->name ? t->name : "?", t ? ins_obj_size(&s->objs, a, t) : 0};
	}
	free(sub);
	qsort(h, n, sizeof(*h), cmp_held_name);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!m || strcmp(r[m - 1].name, h[i].name) != 0)
			r[m++] = (held_row){h[i].name, 0, 0};
		r[m - 1].count++;
		r[m - 1].bytes += h[i].size;
	}
	free(h);
	qsort(r, m, sizeof(*r), cmp_row);
	*rows = r;
	*nrows = m;
	return NULL;
}

static ins_error *one(const call *c, ins_session *s, const ins_dominators *d, uint32_t x)
{
	held_row *rows;
	size_t nrows;
	ins_error *err = holds(s, d, x, &rows, &nrows);
	if (err)
		return err;
	ins_buf *out = c->out;
	bool json = c->a->json;
	size_t limit = c->a->limit > 0 ? (size_t)c->a->limit : SIZE_MAX;
	uint32_t top = x;
	for (uint32_t y = x; y != INS_DOM_ROOT; y = d->idom[y])
		top = y;
	if (json) {
		ins_buf_putc(out, '{');
		put_object(s, x, true, out);
		ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu,\"root\":", (unsigned long long)d->count[x],
			       (unsigned long long)d->bytes[x]);
		ins_json_str(out, root_key(d->root[top]));
		ins_buf_puts(out, ",\"dominators\":[");
	} else {
		put_object(s, x, false, out);
		ins_buf_printf(out, "\nretains %llu objects, %llu bytes (of the heap's %llu)\n",
			       (unsigned long long)d->count[x], (unsigned long long)d->bytes[x],
			       (unsigned long long)d->total_bytes);
		if (d->idom[x] != INS_DOM_ROOT)
			ins_buf_puts(out, "kept alive by (immediate dominators, up to a root):\n");
	}
	size_t k = 0;
	for (uint32_t below = x, y = d->idom[x]; y != INS_DOM_ROOT; below = y, y = d->idom[y], k++) {
		/* the reference from y to the object below it, when y refers to it directly */
		ins_buf label = {0};
		bool direct = false;
		const ins_graph *g = s->graph;
		for (uint64_t e = g->out_start[y]; e < g->out_start[y + 1] && !direct; e++)
			direct = g->out[e] == below;
		if (direct)
			ins_graph_edge_label(s->trav, &s->objs, g->addr[y], g->addr[below], 0, &label);
		out->oom |= label.oom;
		if (json) {
			ins_buf_puts(out, k ? ",{" : "{");
			put_object(s, y, true, out);
			ins_buf_puts(out, ",\"edge\":");
			if (direct)
				ins_json_strn(out, label.data ? label.data : "", label.len);
			else
				ins_buf_puts(out, "null");
			ins_buf_putc(out, '}');
		} else {
			ins_buf_printf(out, "  %-16s ", direct ? (label.data ? label.data : "") : "(indirectly)");
			put_object(s, y, false, out);
			ins_buf_putc(out, '\n');
		}
		ins_buf_free(&label);
	}
	if (json) {
		ins_buf_puts(out, "],\"holds\":[");
	} else {
		if (d->root[top])
			ins_buf_printf(out, "the root: %s\n", root_why(d->root[top]));
		else
			ins_buf_puts(out, "the root: several, whose paths meet at the last object above\n");
		ins_buf_printf(out, "holds:\n%-24s %10s %14s\n", "type", "objects", "bytes");
	}
	for (size_t i = 0; i < nrows && i < limit; i++) {
		if (json) {
			ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
			ins_json_str(out, rows[i].name);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)rows[i].count,
				       (unsigned long long)rows[i].bytes);
		} else {
			ins_buf_printf(out, "%-24s %10llu %14llu\n", rows[i].name, (unsigned long long)rows[i].count,
				       (unsigned long long)rows[i].bytes);
		}
	}
	if (json)
		ins_buf_puts(out, "]}\n");
	else if (nrows > limit)
		ins_buf_printf(out, "(%zu of %zu types shown; --limit 0 shows all)\n", limit, nrows);
	free(rows);
	return NULL;
}

ins_error *ins_cmd_retained(const call *c)
{
	ins_session *s = c->s;
	uint64_t addr = 0;
	uint32_t node = 0;
	ins_error *err = NULL;
	if (c->a->npos && (err = ins_cmd_object(s, c->a->pos[0], &addr)))
		return err;
	ins_dominators d;
	if ((err = ins_dominators_build(s, &d)))
		return err;
	if (!c->a->npos && c->a->tree)
		err = ins_err(INS_ERR_USAGE, "objgraph-retained: --tree needs an ADDRESS");
	else if (!c->a->npos)
		err = top(c, s, &d);
	else if (!ins_graph_node(s->graph, addr, &node))
		err = ins_err(INS_ERR_NOT_FOUND, "0x%llx is in no reference graph", (unsigned long long)addr);
	else if (c->a->tree)
		err = tree(c, s, &d, node);
	else
		err = one(c, s, &d, node);
	ins_dominators_free(&d);
	return err;
}

/* ---------------------------------------------------------------- suspects */

/* bytes as people read them: 512 bytes, 248.4 KB, 2.1 MB (powers of 1024) */
static void human_bytes(uint64_t n, ins_buf *out)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB" };
	if (n < 1024) {
		ins_buf_printf(out, "%llu bytes", (unsigned long long)n);
		return;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	ins_buf_printf(out, "%.1f %s", v, units[u]);
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* The name the accumulation point is held under: the label of the chain's last reference
 * (a global's or attribute's name, a key, [i]), when the chain was found. */
static void acc_label(ins_session *s, const ins_chain *ch, ins_buf *out)
{
	if (ch->found && (ch->n > 1 || ch->root))
		ins_chain_label(s, ch, ch->n - 1, out);
}

/* JSON: the object referring to most of what accumulates ({address, type, repr, label,
 * count}), or null. */
static void put_referrer(ins_session *s, uint32_t holder, const ins_chain *ch, uint64_t held, ins_buf *out)
{
	if (holder == UINT32_MAX) {
		ins_buf_puts(out, "null");
		return;
	}
	ins_buf label = { 0 };
	acc_label(s, ch, &label);
	out->oom |= label.oom;
	ins_buf_putc(out, '{');
	put_object(s, holder, true, out);
	ins_buf_puts(out, ",\"label\":");
	if (label.len)
		ins_json_strn(out, label.data, label.len);
	else
		ins_buf_puts(out, "null");
	ins_buf_printf(out, ",\"count\":%llu}", (unsigned long long)held);
	ins_buf_free(&label);
}

/* "list `_cache` in module `__main__`": node x by the name its chain ch gives it. */
static void named(ins_session *s, uint32_t x, const ins_chain *ch, ins_buf *out)
{
	const ins_graph *g = s->graph;
	const ins_type *t = ins_obj_type(&s->objs, g->addr[x]);
	ins_buf label = { 0 };
	acc_label(s, ch, &label);
	ins_buf_printf(out, "%s ", t ? t->name : "object");
	if (label.len)
		ins_buf_printf(out, "`%s`", label.data);
	else
		ins_buf_printf(out, "0x%llx", (unsigned long long)g->addr[x]);
	ins_buf_free(&label);
	if (ch->found && ch->root) {
		ins_buf_printf(out, " %s a local of `%s`", ch->n == 1 ? "in" : "reached from",
			       ch->root->frame->function ? ch->root->frame->function : "?");
	} else if (ch->found && ch->n > 1) {
		const ins_type *m = ins_obj_type(&s->objs, g->addr[ch->nodes[0]]);
		ins_buf repr = { 0 };
		if (m)
			ins_obj_repr(&s->objs, g->addr[ch->nodes[0]], m, &repr);
		/* module -> its dict: the module's namespace; module -> dict -> x: a global */
		ins_buf_printf(out, " %s module `%s`", ch->n == 2 ? "of" : ch->n == 3 ? "in" : "reached from",
			       repr.data ? repr.data : "?");
		out->oom |= repr.oom;
		ins_buf_free(&repr);
	}
}

/* "list `_cache` in module `__main__` holds 3000 Channel: 2.1 MB retained, 38% of the heap",
 * with ", 3000 of them in list `_cache`" when another object than the point holds them. */
static void sentence(ins_session *s, const ins_dominators *d, const ins_suspect *x, ins_buf *out)
{
	uint32_t acc = x->accumulation;
	named(s, acc, &x->chain, out);
	if (x->type && x->count > 1) {
		ins_buf_printf(out, " holds %llu %s", (unsigned long long)x->count, x->type->name);
		if (x->holder != UINT32_MAX) {
			ins_buf_printf(out, ", %llu of them in ", (unsigned long long)x->held);
			named(s, x->holder, &x->holder_chain, out);
		}
		ins_buf_puts(out, ": ");
	} else {
		ins_buf_puts(out, ": ");
	}
	human_bytes(d->bytes[acc], out);
	double share = percent(d->bytes[acc], d->total_bytes);
	ins_buf_printf(out, share < 10 ? " retained, %.1f%% of the heap" : " retained, %.0f%% of the heap", share);
	if (x->site_file)
		ins_buf_printf(out, "; %llu of the %s allocated at %s:%u", (unsigned long long)x->site_count,
			       x->type ? x->type->name : "?", x->site_file, x->site_line);
}

/* Single suspect number i (from 0) x, as a JSON object or text lines. */
static void put_suspect(ins_session *s, const ins_dominators *d, const ins_suspect *x, size_t i, bool json,
			ins_buf *out)
{
	uint32_t acc = x->accumulation;
	ins_buf text = { 0 }, label = { 0 };
	sentence(s, d, x, &text);
	acc_label(s, &x->chain, &label);
	out->oom |= text.oom || label.oom;
	if (json) {
		ins_buf_puts(out, i ? ",{\"kind\":\"object\"," : "{\"kind\":\"object\",");
		put_object(s, x->node, true, out);
		ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu,\"share\":%.4f,\"accumulation\":{",
			       (unsigned long long)d->count[x->node], (unsigned long long)d->bytes[x->node],
			       d->total_bytes ? (double)d->bytes[x->node] / (double)d->total_bytes : 0.0);
		put_object(s, acc, true, out);
		ins_buf_puts(out, ",\"label\":");
		if (label.len)
			ins_json_strn(out, label.data, label.len);
		else
			ins_buf_puts(out, "null");
		ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu},\"chain\":[", (unsigned long long)d->count[acc],
			       (unsigned long long)d->bytes[acc]);
		ins_cmd_json_chain(s, &x->chain, out);
		ins_buf_puts(out, "],\"accumulated\":{\"type\":");
		ins_json_str(out, x->type ? x->type->name : "?");
		ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu,\"referrer\":", (unsigned long long)x->count,
			       (unsigned long long)x->bytes);
		put_referrer(s, x->holder, &x->holder_chain, x->held, out);
		ins_buf_puts(out, ",\"allocated_at\":");
		if (x->site_file) {
			ins_buf_puts(out, "{\"file\":");
			ins_json_str(out, x->site_file);
			ins_buf_printf(out, ",\"line\":%u,\"count\":%llu}", x->site_line,
				       (unsigned long long)x->site_count);
		} else {
			ins_buf_puts(out, "null");
		}
		ins_buf_puts(out, "},\"sentence\":");
		ins_json_strn(out, text.data ? text.data : "", text.len);
		ins_buf_putc(out, '}');
	} else {
		ins_buf_printf(out, "\nSuspect %zu: %s\n  ", i + 1, text.data ? text.data : "");
		put_object(s, x->node, false, out);
		ins_buf_printf(out, "\n  retains %llu objects, %llu bytes (%.1f%% of the heap)\n",
			       (unsigned long long)d->count[x->node], (unsigned long long)d->bytes[x->node],
			       percent(d->bytes[x->node], d->total_bytes));
		ins_buf_puts(out, "  accumulation point: ");
		put_object(s, acc, false, out);
		ins_buf_printf(out, "\n    retains %llu objects, %llu bytes; its %llu %s retain %llu bytes\n",
			       (unsigned long long)d->count[acc], (unsigned long long)d->bytes[acc],
			       (unsigned long long)x->count, x->type ? x->type->name : "?",
			       (unsigned long long)x->bytes);
		if (x->holder != UINT32_MAX) {
			ins_buf_printf(out, "    %llu of them are referred to by ", (unsigned long long)x->held);
			put_object(s, x->holder, false, out);
			ins_buf_putc(out, '\n');
		}
		if (x->chain.found) {
			ins_buf_printf(out, "  held by (%s):\n",
				       x->chain.root ? "a thread's frame" : "a module in sys.modules");
			ins_cmd_text_chain(s, &x->chain, "    ", out);
		} else {
			ins_buf_puts(out, "  no chain from a module or a thread's frame leads to it\n");
		}
	}
	ins_buf_free(&text);
	ins_buf_free(&label);
}

/* "3000 instances of `Session` retain 2.1 MB together, 33% of the heap; 3000 of them in list
 * `_registry` in module `__main__`" */
static void group_sentence(ins_session *s, const ins_dominators *d, const ins_suspect_group *x, ins_buf *out)
{
	ins_buf_printf(out, "%llu instances of `%s` retain ", (unsigned long long)x->count, x->type->name);
	human_bytes(x->bytes, out);
	double share = percent(x->bytes, d->total_bytes);
	ins_buf_printf(out, share < 10 ? " together, %.1f%% of the heap" : " together, %.0f%% of the heap", share);
	if (x->holder != UINT32_MAX) {
		ins_buf_printf(out, "; %llu of them in ", (unsigned long long)x->held);
		named(s, x->holder, &x->holder_chain, out);
	}
}

/* Group suspect number i (from 0) x, as a JSON object or text lines. */
static void put_group(ins_session *s, const ins_dominators *d, const ins_suspect_group *x, size_t i, bool json,
		      ins_buf *out)
{
	ins_buf text = { 0 };
	group_sentence(s, d, x, &text);
	out->oom |= text.oom;
	if (json) {
		ins_buf_puts(out, i ? ",{\"kind\":\"group\",\"type\":" : "{\"kind\":\"group\",\"type\":");
		ins_json_str(out, x->type->name);
		ins_buf_printf(out, ",\"instances\":%llu,\"count\":%llu,\"bytes\":%llu,\"share\":%.4f,\"biggest\":[",
			       (unsigned long long)x->count, (unsigned long long)x->objects, (unsigned long long)x->bytes,
			       d->total_bytes ? (double)x->bytes / (double)d->total_bytes : 0.0);
		for (size_t k = 0; k < x->nbiggest; k++) {
			ins_buf_puts(out, k ? ",{" : "{");
			put_object(s, x->biggest[k], true, out);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)d->count[x->biggest[k]],
				       (unsigned long long)d->bytes[x->biggest[k]]);
		}
		ins_buf_puts(out, "],\"referrer\":");
		put_referrer(s, x->holder, &x->holder_chain, x->held, out);
		ins_buf_puts(out, ",\"chain\":[");
		if (x->holder != UINT32_MAX)
			ins_cmd_json_chain(s, &x->holder_chain, out);
		ins_buf_puts(out, "],\"sentence\":");
		ins_json_strn(out, text.data ? text.data : "", text.len);
		ins_buf_putc(out, '}');
	} else {
		ins_buf_printf(out, "\nSuspect %zu: %s\n", i + 1, text.data ? text.data : "");
		ins_buf_printf(out, "  %llu %s, each alone at the top of the dominator tree, retain %llu objects, %llu bytes "
				    "(%.1f%% of the heap); the biggest:\n",
			       (unsigned long long)x->count, x->type->name, (unsigned long long)x->objects,
			       (unsigned long long)x->bytes, percent(x->bytes, d->total_bytes));
		for (size_t k = 0; k < x->nbiggest; k++) {
			ins_buf_puts(out, "    ");
			put_object(s, x->biggest[k], false, out);
			ins_buf_printf(out, "  retains %llu objects, %llu bytes\n", (unsigned long long)d->count[x->biggest[k]],
				       (unsigned long long)d->bytes[x->biggest[k]]);
		}
		if (x->holder != UINT32_MAX) {
			ins_buf_printf(out, "  %llu of them are referred to by ", (unsigned long long)x->held);
			put_object(s, x->holder, false, out);
			ins_buf_putc(out, '\n');
			if (x->holder_chain.found) {
				ins_buf_printf(out, "  held by (%s):\n",
					       x->holder_chain.root ? "a thread's frame" : "a module in sys.modules");
				ins_cmd_text_chain(s, &x->holder_chain, "    ", out);
			} else {
				ins_buf_puts(out, "  no chain from a module or a thread's frame leads to it\n");
			}
		} else {
			ins_buf_puts(out, "  no object refers to more than one of them\n");
		}
	}
	ins_buf_free(&text);
}

ins_error *ins_cmd_suspects(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	unsigned pct = a->threshold >= 0 ? (a->threshold > 100 ? 100u : (unsigned)a->threshold) : INS_SUSPECT_SHARE;
	size_t limit = a->limit > 0 ? (size_t)a->limit : 0;
	ins_suspects_report r;
	ins_error *err = ins_suspects_report_build(s, pct, limit, &r);
	if (err)
		return err;
	const ins_dominators *d = &r.dom;
	const ins_suspect *v = r.v;
	size_t n = r.nitems;
	pct = r.pct;
	ins_buf *out = c->out;
	if (a->json)
		ins_buf_printf(out, "{\"total_bytes\":%llu,\"threshold\":%u,\"suspects\":[", (unsigned long long)d->total_bytes,
			       pct);
	else
		ins_buf_printf(out, "%zu objects, %llu bytes. %s %u%% of the heap or more%s\n", d->n,
			       (unsigned long long)d->total_bytes,
			       n == 1 ? "1 suspect retains" : n ? "Suspects retaining" : "No object alone retains", pct,
			       n ? ":" : " (--threshold PCT lowers the share).");
	for (size_t i = 0; i < r.nitems; i++) {
		if (r.items[i].group)
			put_group(s, d, &r.groups[r.items[i].i], i, a->json, out);
		else
			put_suspect(s, d, &v[r.items[i].i], i, a->json, out);
	}
	if (a->json)
		ins_buf_puts(out, "]}\n");
	ins_suspects_report_free(&r);
	return NULL;
}
