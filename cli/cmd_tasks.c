/* cmd_tasks.c -- tasks: every pending asyncio task with its await chain, what it waits on
 * and which tasks wait on it (analysis/tasks.c), as text or JSON. */
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

static void put_json(const ins_tasks *ts, ins_buf *out)
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
		ins_buf_puts(out, "]}");
	}
	ins_buf_puts(out, "]}\n");
}

static void put_text(const ins_tasks *ts, bool all, ins_buf *out)
{
	if (!ts->supported) {
		ins_buf_puts(out, "(no asyncio tasks: this Python has no _asyncio Task, 3.7+)\n");
		return;
	}
	for (size_t i = 0; i < ts->n; i++) {
		const ins_task *t = &ts->v[i];
		ins_buf_printf(out, "%sTask 0x%llx", i ? "\n" : "", (unsigned long long)t->addr);
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
	if (!ts->n)
		ins_buf_printf(out, "(no %sasyncio tasks)\n", all ? "" : "pending ");
}

ins_error *ins_cmd_tasks(const call *c)
{
	ins_tasks ts;
	ins_error *err = ins_tasks_read(c->s, c->a->all, &ts);
	if (err)
		return err;
	if (c->a->json)
		put_json(&ts, c->out);
	else
		put_text(&ts, c->a->all, c->out);
	ins_tasks_free(&ts);
	return NULL;
}
