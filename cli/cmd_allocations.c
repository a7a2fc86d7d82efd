/* cmd_allocations.c -- allocations: tracemalloc's statistics at the moment of the image
 * (analysis/allocations.c), as text or JSON; and the traceback lines `at` adds. */
#include "allocations.h"
#include "commands.h"

/* [{"file","line"},...] most recent call first */
void ins_cmd_json_traceback(ins_buf *out, const ins_tracemalloc *tm, const ins_tm_traceback *t)
{
	ins_buf_putc(out, '[');
	for (uint32_t i = 0; i < t->nframe; i++) {
		const ins_tm_frame *f = &tm->frames[t->first + i];
		ins_buf_puts(out, i ? ",{\"file\":" : "{\"file\":");
		ins_json_str(out, tm->files[f->file]);
		ins_buf_printf(out, ",\"line\":%u}", f->line);
	}
	ins_buf_putc(out, ']');
}

/* traceback's File lines, most recent call first, each indented by indent. */
void ins_cmd_text_traceback(ins_buf *out, const ins_tracemalloc *tm, const ins_tm_traceback *t, const char *indent)
{
	for (uint32_t i = 0; i < t->nframe; i++) {
		const ins_tm_frame *f = &tm->frames[t->first + i];
		ins_buf_printf(out, "%sFile \"%s\", line %u\n", indent, tm->files[f->file], f->line);
	}
}

static void put_json(const ins_allocations *a, size_t n, ins_buf *out)
{
	const ins_tracemalloc *tm = &a->tm;
	if (tm->state != INS_TM_TRACING) {
		ins_buf_puts(out, "{\"tracing\":");
		ins_buf_puts(out, tm->tracing == 1 ? "true" : tm->tracing == 0 ? "false" : "null");
		ins_buf_puts(out, ",\"available\":false,\"note\":");
		ins_json_str(out, ins_tracemalloc_why(tm));
		ins_buf_puts(out, ",\"traced_bytes\":null,\"traced_blocks\":null,\"top\":[]}\n");
		return;
	}
	ins_buf_printf(out, "{\"tracing\":true,\"available\":true,\"group_by\":\"%s\",\"traced_bytes\":%llu,"
		       "\"traced_blocks\":%llu,\"groups\":%zu,\"top\":[",
		       ins_alloc_key_name(a->key), (unsigned long long)a->traced_bytes,
		       (unsigned long long)a->traced_blocks, a->nstats);
	for (size_t i = 0; i < n; i++) {
		const ins_alloc_stat *st = &a->stats[i];
		const ins_tm_traceback *t = &tm->tbs[st->tb];
		ins_buf_puts(out, i ? ",{\"file\":" : "{\"file\":");
		if (t->nframe) {
			const ins_tm_frame *f = &tm->frames[t->first];
			ins_json_str(out, tm->files[f->file]);
			ins_buf_printf(out, ",\"line\":%u", a->key == INS_ALLOC_FILENAME ? 0 : f->line);
		} else {
			ins_buf_puts(out, "null,\"line\":null");
		}
		ins_buf_printf(out, ",\"size\":%llu,\"count\":%llu", (unsigned long long)st->size,
			       (unsigned long long)st->count);
		if (a->key == INS_ALLOC_TRACEBACK) {
			ins_buf_puts(out, ",\"traceback\":");
			ins_cmd_json_traceback(out, tm, t);
		}
		ins_buf_putc(out, '}');
	}
	ins_buf_puts(out, "]}\n");
}

/* Snapshot.statistics' Statistic lines: "file:line: size=N B, count=N, average=N B". */
static void put_text(const ins_allocations *a, size_t n, ins_buf *out)
{
	const ins_tracemalloc *tm = &a->tm;
	if (tm->state != INS_TM_TRACING) {
		ins_buf_printf(out, "(%s)\n", ins_tracemalloc_why(tm));
		return;
	}
	ins_buf_printf(out, "traced: %llu bytes in %llu blocks, %zu groups by %s\n",
		       (unsigned long long)a->traced_bytes, (unsigned long long)a->traced_blocks, a->nstats,
		       ins_alloc_key_name(a->key));
	for (size_t i = 0; i < n; i++) {
		const ins_alloc_stat *st = &a->stats[i];
		const ins_tm_traceback *t = &tm->tbs[st->tb];
		if (!t->nframe)
			ins_buf_puts(out, "<no frames>");
		else if (a->key == INS_ALLOC_FILENAME)
			ins_buf_printf(out, "%s", tm->files[tm->frames[t->first].file]);
		else
			ins_buf_printf(out, "%s:%u", tm->files[tm->frames[t->first].file], tm->frames[t->first].line);
		ins_buf_printf(out, ": size=%llu B, count=%llu, average=%llu B\n", (unsigned long long)st->size,
			       (unsigned long long)st->count, (unsigned long long)(st->size / st->count));
		if (a->key == INS_ALLOC_TRACEBACK)
			ins_cmd_text_traceback(out, tm, t, "    ");
	}
}

ins_error *ins_cmd_allocations(const call *c)
{
	enum ins_alloc_key key = INS_ALLOC_LINENO;
	if (c->a->group_by && !ins_alloc_key_parse(c->a->group_by, &key))
		return ins_err(INS_ERR_USAGE, "objgraph-allocations: --group-by takes lineno, filename or traceback, not '%s'",
			       c->a->group_by);
	ins_allocations a;
	ins_error *err = ins_allocations_read(c->s, key, &a);
	if (err)
		return err;
	size_t n = c->a->limit > 0 && (size_t)c->a->limit < a.nstats ? (size_t)c->a->limit : a.nstats;
	if (c->a->json)
		put_json(&a, n, c->out);
	else
		put_text(&a, n, c->out);
	ins_allocations_free(&a);
	return NULL;
}
