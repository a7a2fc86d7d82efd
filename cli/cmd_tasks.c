/* cmd_tasks.c -- tasks: every pending asyncio task with its await chain, what it waits on
 * and which tasks wait on it, a summary by coroutine and what they wait on, and with --tree
 * the awaited-by forest (analysis/tasks.c), as text or JSON. */
#include <stdlib.h>

#include "commands.h"
#include "tasks.h"

static void json_addr_or_null(ins_buf *out, uint64_t addr)
{
	if (addr)
		ins_json_addr(out, addr);
	else
		ins_buf_puts(out, "null");
}

static void json_str_or_null(ins_buf *out, const char *s)
{
	if (s)
		ins_json_str(out, s);
	else
		ins_buf_puts(out, "null");
}

static void put_json(const ins_tasks *ts, const ins_task_group *g, size_t ng, const ins_task_row *rows,
		     size_t nrows, ins_buf *out)
{
	ins_buf_printf(out, "{\"supported\":%s,\"tasks\":[", ts->supported ? "true" : "false");
	for (size_t i = 0; i < ts->n; i++) {
		const ins_task *t = &ts->v[i];
		ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
		ins_json_addr(out, t->addr);
		ins_buf_puts(out, ",\"name\":");
		json_str_or_null(out, t->name);
		ins_buf_puts(out, ",\"state\":");
		ins_json_str(out, ins_task_state_name(t->state));
		ins_buf_puts(out, ",\"coro\":");
		json_str_or_null(out, t->coro_qualname);
		ins_buf_puts(out, ",\"coro_address\":");
		json_addr_or_null(out, t->coro);
		ins_buf_puts(out, ",\"await_chain\":[");
		for (size_t k = 0; k < t->nchain; k++) {
			const ins_await_step *st = &t->chain[k];
			ins_buf_puts(out, k ? ",{\"function\":" : "{\"function\":");
			json_str_or_null(out, st->function);
			ins_buf_puts(out, ",\"qualname\":");
			json_str_or_null(out, st->qualname);
			ins_buf_puts(out, ",\"file\":");
			json_str_or_null(out, st->file);
			if (st->line >= 0)
				ins_buf_printf(out, ",\"line\":%d}", st->line);
			else
				ins_buf_puts(out, ",\"line\":null}");
		}
		ins_buf_puts(out, "],\"waits_on\":");
		if (t->waits_on) {
			ins_buf_puts(out, "{\"type\":");
			json_str_or_null(out, t->waits_on_type ? t->waits_on_type->qualname : NULL);
			ins_buf_puts(out, ",\"address\":");
			ins_json_addr(out, t->waits_on);
			ins_buf_putc(out, '}');
		} else {
			ins_buf_puts(out, "null");
		}
		ins_buf_puts(out, ",\"awaiting\":");
		json_addr_or_null(out, t->awaiting);
		ins_buf_puts(out, ",\"awaited_by\":[");
		for (size_t k = 0; k < t->nawaited_by; k++) {
			if (k)
				ins_buf_putc(out, ',');
			ins_json_addr(out, t->awaited_by[k]);
		}
		ins_buf_puts(out, "],\"loop\":");
		json_addr_or_null(out, t->loop);
		if (t->has_thread)
			ins_buf_printf(out, ",\"thread_id\":%llu}", (unsigned long long)t->thread_id);
		else
			ins_buf_puts(out, ",\"thread_id\":null}");
	}
	ins_buf_puts(out, "],\"summary\":[");
	for (size_t i = 0; i < ng; i++) {
		ins_buf_puts(out, i ? ",{\"coro\":" : "{\"coro\":");
		ins_json_str(out, g[i].coro);
		ins_buf_puts(out, ",\"waiting_on\":");
		ins_json_str(out, g[i].waiting_on);
		ins_buf_printf(out, ",\"count\":%zu}", g[i].count);
	}
	ins_buf_putc(out, ']');
	if (rows) {
		ins_buf_puts(out, ",\"tree\":[");
		for (size_t i = 0; i < nrows; i++) {
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, ts->v[rows[i].task].addr);
			ins_buf_printf(out, ",\"depth\":%zu,\"parent\":", rows[i].depth);
			json_addr_or_null(out, rows[i].parent == SIZE_MAX ? 0 : ts->v[rows[i].parent].addr);
			ins_buf_printf(out, ",\"repeated\":%s}", rows[i].repeated ? "true" : "false");
		}
		ins_buf_putc(out, ']');
	}
	ins_buf_puts(out, "}\n");
}

/* The summary a person reads first: how many tasks, on which loops and threads, and the
 * groups by coroutine and what they wait on. */
static void put_summary(const ins_tasks *ts, bool all, const ins_task_group *g, size_t ng, ins_buf *out)
{
	ins_buf_printf(out, "%zu %sasyncio task%s", ts->n, all ? "" : "pending ", ts->n == 1 ? "" : "s");
	size_t nloops = 0;
	for (size_t i = 0; i < ts->n; i++) {
		const ins_task *t = &ts->v[i];
		bool seen = !t->loop;
		for (size_t k = 0; k < i && !seen; k++)
			seen = ts->v[k].loop == t->loop;
		if (seen)
			continue;
		ins_buf_printf(out, "%s loop 0x%llx", nloops++ ? "," : (ts->n ? ", on" : ""), (unsigned long long)t->loop);
		if (t->has_thread)
			ins_buf_printf(out, " (thread %llu)", (unsigned long long)t->thread_id);
		else
			ins_buf_puts(out, " (not running)");
	}
	ins_buf_putc(out, '\n');
	for (size_t i = 0; i < ng; i++)
		ins_buf_printf(out, "  %zu x %s waiting on %s\n", g[i].count, g[i].coro, g[i].waiting_on);
}

static void put_tree(const ins_tasks *ts, const ins_task_row *rows, size_t nrows, ins_buf *out)
{
	bool last[64] = { false }; /* per depth: that level's row was its parent's last child */
	for (size_t i = 0; i < nrows; i++) {
		const ins_task_row *r = &rows[i];
		const ins_task *t = &ts->v[r->task];
		size_t d = r->depth < 63 ? r->depth : 63;
		last[d] = r->last;
		for (size_t k = 0; k < d; k++)
			ins_buf_puts(out, last[k] ? "    " : "\xe2\x94\x82   ");
		ins_buf_puts(out, r->last ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 " : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80 ");
		ins_buf_printf(out, "Task 0x%llx", (unsigned long long)t->addr);
		if (t->name)
			ins_buf_printf(out, " '%s'", t->name);
		ins_buf_printf(out, " %s", t->coro_qualname ? t->coro_qualname : "?");
		if (t->nchain) {
			const ins_await_step *st = &t->chain[0];
			ins_buf_printf(out, " at %s:", st->file ? st->file : "?");
			if (st->line >= 0)
				ins_buf_printf(out, "%d", st->line);
			else
				ins_buf_puts(out, "?");
		}
		ins_buf_printf(out, ", waiting on %s", ins_task_waiting_on(t));
		ins_buf_puts(out, r->repeated ? " (shown above)\n" : "\n");
	}
}

static void put_text(const ins_tasks *ts, ins_buf *out)
{
	for (size_t i = 0; i < ts->n; i++) {
		const ins_task *t = &ts->v[i];
		ins_buf_printf(out, "\nTask 0x%llx", (unsigned long long)t->addr);
		if (t->name)
			ins_buf_printf(out, " '%s'", t->name);
		ins_buf_printf(out, " %s, coroutine %s\n", ins_task_state_name(t->state),
			       t->coro_qualname ? t->coro_qualname : "?");
		for (size_t k = 0; k < t->nchain; k++) {
			const ins_await_step *st = &t->chain[k];
			ins_buf_printf(out, "  %s File \"%s\", line ", k ? "awaits" : "      ", st->file ? st->file : "?");
			if (st->line >= 0)
				ins_buf_printf(out, "%d", st->line);
			else
				ins_buf_puts(out, "None");
			ins_buf_printf(out, ", in %s\n", st->function ? st->function : "?");
		}
		if (t->waits_on)
			ins_buf_printf(out, "  waits on <%s at 0x%llx>\n",
				       t->waits_on_type && t->waits_on_type->qualname ? t->waits_on_type->qualname : "?",
				       (unsigned long long)t->waits_on);
		if (t->awaiting)
			ins_buf_printf(out, "  awaiting 0x%llx\n", (unsigned long long)t->awaiting);
		if (t->nawaited_by) {
			ins_buf_puts(out, "  awaited by");
			for (size_t k = 0; k < t->nawaited_by; k++)
				ins_buf_printf(out, " 0x%llx", (unsigned long long)t->awaited_by[k]);
			ins_buf_putc(out, '\n');
		}
	}
}

ins_error *ins_cmd_tasks(const call *c)
{
	ins_tasks ts;
	ins_task_group *g = NULL;
	ins_task_row *rows = NULL;
	size_t ng = 0, nrows = 0;
	ins_error *err = ins_tasks_read(c->s, c->a->all, &ts);
	if (err)
		return err;
	if (!(err = ins_tasks_summary(&ts, &g, &ng)) && c->a->tree)
		err = ins_tasks_forest(&ts, &rows, &nrows);
	if (err) {
	} else if (c->a->json) {
		put_json(&ts, g, ng, rows, nrows, c->out);
	} else if (!ts.supported) {
		ins_buf_puts(c->out, "(no asyncio tasks: this Python has no _asyncio Task, 3.7+)\n");
	} else {
		put_summary(&ts, c->a->all, g, ng, c->out);
		if (c->a->tree) {
			ins_buf_putc(c->out, '\n');
			put_tree(&ts, rows, nrows, c->out);
		} else {
			put_text(&ts, c->out);
		}
	}
	free(g);
	free(rows);
	ins_tasks_free(&ts);
	return err;
}
