/* cmd_retained.c -- retained (the dominator tree's retained sizes: dominators.c), rendered:
 * the objects that retain the most, or what one object retains and what keeps it alive. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dominators.h"

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

static ins_error *top(const call *c, ins_session *s, const ins_dominators *d)
{
	size_t limit = c->a->limit > 0 ? (size_t)c->a->limit : d->n;
	uint32_t *v;
	size_t n;
	ins_error *err = ins_dominators_top(d, limit, &v, &n);
	if (err)
		return err;
	ins_buf *out = c->out;
	if (c->a->json)
		ins_buf_printf(out, "{\"total_bytes\":%llu,\"top\":[", (unsigned long long)d->total_bytes);
	else
		ins_buf_printf(out, "%zu objects, %llu bytes; the largest retained sizes:\n%12s %14s  object\n", d->n,
			       (unsigned long long)d->total_bytes, "objects", "bytes");
	for (size_t i = 0; i < n; i++) {
		if (c->a->json) {
			ins_buf_puts(out, i ? ",{" : "{");
			put_object(s, v[i], true, out);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)d->count[v[i]],
				       (unsigned long long)d->bytes[v[i]]);
		} else {
			ins_buf_printf(out, "%12llu %14llu  ", (unsigned long long)d->count[v[i]],
				       (unsigned long long)d->bytes[v[i]]);
			put_object(s, v[i], false, out);
			ins_buf_putc(out, '\n');
		}
	}
	if (c->a->json)
		ins_buf_puts(out, "]}\n");
	free(v);
	return NULL;
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
	if (!c->a->npos)
		err = top(c, s, &d);
	else if (!ins_graph_node(s->graph, addr, &node))
		err = ins_err(INS_ERR_NOT_FOUND, "0x%llx is in no reference graph", (unsigned long long)addr);
	else
		err = one(c, s, &d, node);
	ins_dominators_free(&d);
	return err;
}
