/* cmd_cycles.c -- cycles (what a full gc.collect() would free, by the cycles that hold it)
 * and garbage (gc.garbage). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "commands.h"
#include "frames.h"

static uint64_t word(ins_session *s, uint64_t addr, int64_t off)
{
	return ins_image_word(s->img, addr, off);
}

/* Has the collector already called the object's finalizer (3.4+; resurrected since)? */
static bool finalized(ins_session *s, uint64_t obj)
{
	const ins_layout *L = &s->in->L;
	uint64_t head = obj - (uint64_t)L->sizeof_gc_head;
	if (L->gc_prev_finalized > 0)
		return word(s, head, L->gc_prev) & (uint64_t)L->gc_prev_finalized;
	if (L->gc_refs_finalized > 0)
		return word(s, head, L->gc_refs) & (uint64_t)L->gc_refs_finalized;
	return false;
}

static bool is_weakref(ins_session *s, const ins_type *t)
{
	uint64_t type = t->addr, ref = s->in->T.weakref;
	for (int depth = 0; ref && type && depth < 64; depth++, type = word(s, type, s->in->L.type_base))
		if (type == ref)
			return true;
	return false;
}

/* Per unreachable object: the weakrefs with a callback that refer to it (the collector
 * clears them and calls the callbacks). */
static void weakref_callbacks(ins_session *s, const uint8_t *dead, uint32_t *count)
{
	const ins_graph *g = s->graph;
	for (size_t i = 0; i < g->n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, g->addr[i]);
		uint32_t target;
		if (!t || !is_weakref(s, t) || !word(s, g->addr[i], s->in->L.weakref_callback) ||
		    !ins_graph_node(g, word(s, g->addr[i], s->in->L.weakref_object), &target) || !dead[target])
			continue;
		count[target]++;
	}
}

/* The member that the listed reference to members[i] comes from: the previous one along
 * the cycle, else any member referring to it. */
static uint32_t source_of(const ins_session *s, const ins_cycle *cy, size_t i, const uint8_t *in_cycle)
{
	const ins_graph *g = s->graph;
	if (i > 0 && i < cy->path)
		return cy->members[i - 1];
	if (i == 0)
		return cy->members[cy->path - 1];
	uint32_t x = cy->members[i];
	for (uint64_t e = g->in_start[x]; e < g->in_start[x + 1]; e++)
		if (in_cycle[g->in[e]])
			return g->in[e];
	return cy->members[0];
}

static void put_cycle(ins_session *s, const ins_cycle *cy, const uint32_t *wcb, uint8_t *in_cycle, bool json,
		      ins_buf *out)
{
	const ins_graph *g = s->graph;
	bool fin = false;
	uint32_t callbacks = 0;
	for (size_t i = 0; i < cy->n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, g->addr[cy->members[i]]);
		fin |= t && ins_type_finalizer(&s->objs, t) != INS_FIN_NONE;
		callbacks += wcb[cy->members[i]];
		in_cycle[cy->members[i]] = 1;
	}
	if (json)
		ins_buf_printf(out, "{\"size\":%zu,\"bytes\":%llu,\"held\":%zu,\"held_bytes\":%llu,\"finalizers\":%s,"
			       "\"weakref_callbacks\":%u,\"objects\":[", cy->n, (unsigned long long)cy->bytes, cy->held,
			       (unsigned long long)cy->held_bytes, fin ? "true" : "false", callbacks);
	else
		ins_buf_printf(out, "cycle of %zu objects, %llu bytes; holds %zu more, %llu bytes%s%s\n", cy->n,
			       (unsigned long long)cy->bytes, cy->held, (unsigned long long)cy->held_bytes,
			       fin ? "; finalizers" : "", callbacks ? "; weakref callbacks point in" : "");
	for (size_t i = 0; i < cy->n; i++) {
		uint64_t x = g->addr[cy->members[i]];
		uint32_t src = source_of(s, cy, i, in_cycle);
		const ins_type *t = ins_obj_type(&s->objs, x);
		const char *fname = t ? ins_finalizer_name(ins_type_finalizer(&s->objs, t)) : NULL;
		ins_buf label = { 0 }, repr = { 0 };
		ins_graph_edge_label(s->trav, &s->objs, g->addr[src], x, 0, &label);
		if (t)
			ins_obj_repr(&s->objs, x, t, &repr);
		/* the first member after the simple cycle always says where it comes from, even
		 * from the cycle's last member: else it would read as the cycle going on */
		bool listed_from = i > 0 && i != cy->path && src == cy->members[i - 1];
		if (json) {
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, x);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, t ? t->name : "?");
			ins_buf_puts(out, ",\"finalizer\":");
			if (fname)
				ins_json_str(out, fname);
			else
				ins_buf_puts(out, "null");
			ins_buf_printf(out, ",\"finalized\":%s,\"edge\":", finalized(s, x) ? "true" : "false");
			ins_json_strn(out, label.data ? label.data : "", label.len);
			if (!listed_from && i >= cy->path) {
				ins_buf_puts(out, ",\"from\":");
				ins_json_addr(out, g->addr[src]);
			}
			ins_buf_putc(out, '}');
		} else {
			ins_buf_printf(out, "  %-16s 0x%llx %s %s", label.data ? label.data : "", (unsigned long long)x,
				       t ? t->name : "?", repr.data ? repr.data : "");
			if (!listed_from && i >= cy->path)
				ins_buf_printf(out, " (from 0x%llx)", (unsigned long long)g->addr[src]);
			if (fname)
				ins_buf_printf(out, " [%s%s]", fname, finalized(s, x) ? ", finalized" : "");
			ins_buf_putc(out, '\n');
		}
		ins_buf_free(&label);
		ins_buf_free(&repr);
	}
	if (json)
		ins_buf_puts(out, "]}");
	for (size_t i = 0; i < cy->n; i++)
		in_cycle[cy->members[i]] = 0;
}

/* The frames among the garbage (a frame and its traceback keeping a request alive): where
 * they stopped and their locals, as the seed notes print them. */
static void put_frames(ins_session *s, const ins_collect *col, bool json, ins_buf *out)
{
	const ins_graph *g = s->graph;
	size_t shown = 0;
	for (size_t i = 0; i < col->n; i++) {
		uint64_t x = g->addr[col->unreachable[i]];
		const ins_type *t = ins_obj_type(&s->objs, x);
		ins_frame_info f;
		if (!t || t->kind != INS_K_FRAME)
			continue;
		if (!ins_frame_info_read(&s->objs, x, false, true, &f)) {
			ins_frame_info_free(&f);
			continue;
		}
		if (json) {
			ins_buf_puts(out, shown ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, x);
			ins_buf_puts(out, ",\"function\":");
			ins_json_str(out, f.function ? f.function : "?");
			ins_buf_puts(out, ",\"file\":");
			ins_json_str(out, f.file ? f.file : "?");
			ins_buf_printf(out, ",\"line\":%d,\"locals\":{", f.line);
		} else {
			if (!shown)
				ins_buf_puts(out, "frames among them:\n");
			ins_buf_printf(out, "  0x%llx File \"%s\", line %d, in %s\n", (unsigned long long)x,
				       f.file ? f.file : "?", f.line, f.function ? f.function : "?");
		}
		for (size_t k = 0; k < f.nlocals; k++) {
			ins_buf repr = { 0 };
			const ins_type *lt = ins_obj_valid(&s->objs, f.locals[k].value) ?
					     ins_obj_type(&s->objs, f.locals[k].value) : NULL;
			if (lt)
				ins_obj_repr(&s->objs, f.locals[k].value, lt, &repr);
			if (json) {
				if (k)
					ins_buf_putc(out, ',');
				ins_json_str(out, f.locals[k].name ? f.locals[k].name : "?");
				ins_buf_putc(out, ':');
				ins_json_strn(out, repr.data ? repr.data : "", repr.len);
			} else {
				ins_buf_printf(out, "      %s = %s\n", f.locals[k].name ? f.locals[k].name : "?",
					       repr.data ? repr.data : "?");
			}
			ins_buf_free(&repr);
		}
		if (json)
			ins_buf_puts(out, "}}");
		ins_frame_info_free(&f);
		shown++;
	}
}

/* Legacy finalizers (2.7's __del__, a C tp_del): a collection moves such objects and all
 * they reach to gc.garbage instead of freeing them (move_legacy_finalizers,
 * move_legacy_finalizer_reachable). How many of the unreachable objects that is. */
static size_t uncollectable(ins_session *s, const ins_collect *col, const uint8_t *dead, uint32_t *queue)
{
	const ins_graph *g = s->graph;
	uint8_t *kept = calloc(g->n ? g->n : 1, 1);
	size_t tail = 0;
	if (!kept)
		return 0;
	for (size_t i = 0; i < col->n; i++) {
		uint32_t x = col->unreachable[i];
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
	return tail;
}

ins_error *ins_cmd_cycles(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_collect col;
	ins_error *err = ins_collect_run(s, &col);
	if (err)
		return err;
	const ins_graph *g = s->graph;
	group *rows = NULL;
	size_t nrows = 0;
	uint8_t *dead = calloc(g->n ? g->n : 1, 1), *in_cycle = calloc(g->n ? g->n : 1, 1);
	uint32_t *wcb = calloc(g->n ? g->n : 1, sizeof(*wcb));
	uint32_t *queue = malloc((g->n ? g->n : 1) * sizeof(*queue));
	if (!dead || !in_cycle || !wcb || !queue)
		err = ins_err_nomem();
	else
		err = ins_cmd_count_by_name(s, col.unreachable, col.n, &rows, &nrows);
	if (err)
		goto done;
	uint64_t bytes = 0;
	for (size_t i = 0; i < col.n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, g->addr[col.unreachable[i]]);
		dead[col.unreachable[i]] = 1;
		bytes += t ? ins_obj_size(&s->objs, g->addr[col.unreachable[i]], t) : 0;
	}
	weakref_callbacks(s, dead, wcb);
	size_t kept = uncollectable(s, &col, dead, queue);
	size_t limit = a->limit > 0 ? (size_t)a->limit : SIZE_MAX, min = a->min_size > 0 ? (size_t)a->min_size : 0;
	ins_buf *out = c->out;
	if (a->json) {
		ins_buf_printf(out, "{\"unreachable\":%zu,\"bytes\":%llu,\"uncollectable\":%zu,\"ncycles\":%zu,"
			       "\"types\":[", col.n, (unsigned long long)bytes, kept, col.ncycles);
		ins_cmd_json_counts(out, rows, nrows);
		ins_buf_puts(out, "],\"cycles\":[");
	} else {
		ins_buf_printf(out, "%zu objects (%llu bytes) are unreachable, held by %zu cycle%s: ", col.n,
			       (unsigned long long)bytes, col.ncycles, col.ncycles == 1 ? "" : "s");
		if (kept)
			ins_buf_printf(out, "a full gc.collect() would free %zu and leave %zu in gc.garbage "
				       "(cycles with legacy finalizers, __del__ on 2.7, and what they reach).\n",
				       col.n - kept, kept);
		else
			ins_buf_puts(out, "a full gc.collect() would free them.\n");
		for (size_t i = 0; i < nrows && i < 10; i++)
			ins_buf_printf(out, "  %-24s %llu\n", rows[i].name, (unsigned long long)rows[i].count);
	}
	size_t shown = 0;
	for (size_t k = 0; k < col.ncycles && shown < limit; k++) {
		if (col.cycles[k].n < min)
			continue;
		if (a->json && shown)
			ins_buf_putc(out, ',');
		put_cycle(s, &col.cycles[k], wcb, in_cycle, a->json, out);
		shown++;
	}
	if (a->json) {
		ins_buf_puts(out, "],\"frames\":[");
		put_frames(s, &col, true, out);
		ins_buf_puts(out, "]}\n");
	} else {
		if (shown < col.ncycles && (!min || shown == limit))
			ins_buf_printf(out, "(%zu of %zu cycles shown; --limit 0 shows all)\n", shown, col.ncycles);
		else if (shown < col.ncycles)
			ins_buf_printf(out, "(%zu of %zu cycles have %zu or more members)\n", shown, col.ncycles, min);
		put_frames(s, &col, false, out);
	}
done:
	free(rows);
	free(dead);
	free(in_cycle);
	free(wcb);
	free(queue);
	ins_collect_free(&col);
	return err;
}

/* ---------------------------------------------------------------- garbage */

ins_error *ins_cmd_garbage(const call *c)
{
	ins_session *s = c->s;
	const ins_layout *L = &s->in->L;
	uint64_t list = s->in->garbage_addr ? word(s, s->in->garbage_addr, 0) : 0;
	if (!s->in->garbage_addr)
		return ins_err(INS_ERR_NOT_FOUND, "where gc.garbage is cannot be told for this interpreter");
	int64_t n = list ? (int64_t)word(s, list, L->var_size) : 0;
	uint64_t items = list ? word(s, list, L->list_item) : 0;
	if (n < 0 || n > (1 << 28) || (n && !items))
		return ins_err(INS_ERR_CORRUPT, "gc.garbage at 0x%llx is not a list", (unsigned long long)list);
	size_t limit = c->a->limit > 0 ? (size_t)c->a->limit : SIZE_MAX;
	ins_buf *out = c->out;
	if (c->a->json)
		ins_buf_printf(out, "{\"count\":%lld,\"objects\":[", (long long)n);
	else
		ins_buf_printf(out, "gc.garbage holds %lld objects\n", (long long)n);
	for (int64_t i = 0; i < n && (size_t)i < limit; i++) {
		uint64_t x = word(s, items, i * 8);
		const ins_type *t = ins_obj_valid(&s->objs, x) ? ins_obj_type(&s->objs, x) : NULL;
		ins_buf repr = { 0 };
		if (t)
			ins_obj_repr(&s->objs, x, t, &repr);
		if (c->a->json) {
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, x);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, t ? t->name : "?");
			ins_buf_puts(out, ",\"repr\":");
			ins_json_strn(out, repr.data ? repr.data : "", repr.len);
			ins_buf_putc(out, '}');
		} else {
			ins_buf_printf(out, "0x%llx %s %s\n", (unsigned long long)x, t ? t->name : "?",
				       repr.data ? repr.data : "");
		}
		ins_buf_free(&repr);
	}
	if (c->a->json)
		ins_buf_puts(out, "]}\n");
	else if ((size_t)n > limit)
		ins_buf_printf(out, "... %llu more (--limit 0 shows all)\n", (unsigned long long)((size_t)n - limit));
	return NULL;
}
