/* cmd_cycles.c -- cycles (what a full gc.collect() would free, by the cycles that hold it:
 * collect.c, cycles.c) and garbage (gc.garbage: gcstate.c), rendered. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cycles.h"
#include "frames.h"
#include "gcstate.h"

static ins_error *put_cycle(ins_session *s, const ins_cycle *cy, const ins_cycles_facts *facts, bool json,
			    ins_buf *out)
{
	const ins_graph *g = s->graph;
	bool fin;
	uint32_t callbacks, *sources;
	ins_error *err = ins_cycles_sources(s, cy, &sources);
	if (err)
		return err;
	ins_cycles_summary(s, cy, facts, &fin, &callbacks);
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
		uint32_t src = sources[i];
		const ins_type *t = ins_obj_type(&s->objs, x);
		const char *fname = t ? ins_finalizer_name(ins_type_finalizer(&s->objs, t)) : NULL;
		ins_buf label = { 0 }, repr = { 0 };
		ins_graph_edge_label(s->trav, &s->objs, g->addr[src], x, 0, &label);
		if (t)
			ins_obj_repr(&s->objs, x, t, &repr);
		out->oom |= label.oom || repr.oom;
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
			ins_buf_printf(out,
				       ",\"finalized\":%s,\"edge\":", ins_cycles_finalized(s, x) ? "true" : "false");
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
				ins_buf_printf(out, " [%s%s]", fname, ins_cycles_finalized(s, x) ? ", finalized" : "");
			ins_buf_putc(out, '\n');
		}
		ins_buf_free(&label);
		ins_buf_free(&repr);
	}
	if (json)
		ins_buf_puts(out, "]}");
	free(sources);
	return NULL;
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
			out->oom |= repr.oom;
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

ins_error *ins_cmd_cycles(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_collect col;
	ins_error *err = ins_collect_run(s, &col);
	if (err)
		return err;
	ins_group *rows = NULL;
	size_t nrows = 0;
	ins_cycles_facts facts = { 0 };
	err = ins_cycles_facts_of(s, &col, &facts);
	if (!err)
		err = ins_typestats_count_nodes(s, col.unreachable, col.n, &rows, &nrows);
	if (err)
		goto done;
	uint64_t bytes = facts.bytes;
	size_t kept = facts.uncollectable;
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
		if ((err = put_cycle(s, &col.cycles[k], &facts, a->json, out)))
			goto done;
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
	ins_cycles_facts_free(&facts);
	ins_collect_free(&col);
	return err;
}

/* ---------------------------------------------------------------- garbage */

ins_error *ins_cmd_garbage(const call *c)
{
	ins_session *s = c->s;
	size_t limit = c->a->limit > 0 ? (size_t)c->a->limit : SIZE_MAX, n, count;
	uint64_t *items;
	ins_error *err = ins_garbage_read(s, limit, &items, &n, &count);
	if (err)
		return err;
	ins_buf *out = c->out;
	if (c->a->json)
		ins_buf_printf(out, "{\"count\":%lld,\"objects\":[", (long long)count);
	else
		ins_buf_printf(out, "gc.garbage holds %lld objects\n", (long long)count);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = items[i];
		const ins_type *t = ins_obj_valid(&s->objs, x) ? ins_obj_type(&s->objs, x) : NULL;
		ins_buf repr = { 0 };
		if (t)
			ins_obj_repr(&s->objs, x, t, &repr);
		out->oom |= repr.oom;
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
	free(items);
	if (c->a->json)
		ins_buf_puts(out, "]}\n");
	else if (count > limit)
		ins_buf_printf(out, "... %llu more (--limit 0 shows all)\n", (unsigned long long)(count - limit));
	return NULL;
}
