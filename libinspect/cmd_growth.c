/* cmd_growth.c -- objgraph's show_growth and get_new_ids (see commands.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int cmp_peak(const void *x, const void *y)
{
	return strcmp(((const ins_peak *)x)->name, ((const ins_peak *)y)->name);
}

/* The peak of name among the first n (sorted) peaks. */
static ins_peak *peak_find(ins_ctx *ctx, size_t n, const char *name)
{
	ins_peak key = { (char *)name, 0 };
	return n ? bsearch(&key, ctx->peaks, n, sizeof(key), cmp_peak) : NULL;
}

typedef struct growth_row {
	const char *name;
	uint64_t count, delta;
} growth_row;

static int cmp_growth(const void *x, const void *y)
{
	const growth_row *a = x, *b = y;
	if (a->delta != b->delta)
		return a->delta > b->delta ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* objgraph.show_growth: the increase of each type's count over its peak so far; then
 * the peaks and ids are updated. */
static ins_error *growth_step(ins_ctx *ctx, ins_session *s, bool qualified,
			      growth_row **rows, size_t *nrows, group **groups, size_t *ngroups)
{
	group *g;
	size_t n;
	ins_stats tot;
	ins_error *err = ins_cmd_groups(s, qualified, false, false, &g, &n, &tot);
	if (err)
		return err;
	growth_row *r = calloc(n ? n : 1, sizeof(*r));
	ins_peak *p = realloc(ctx->peaks, (ctx->npeaks + n + 1) * sizeof(*p));
	if (!r || !p) {
		free(r);
		if (p)
			ctx->peaks = p;
		ins_cmd_groups_free(g, n);
		return ins_err_nomem();
	}
	ctx->peaks = p;
	size_t nr = 0, old = ctx->npeaks;
	for (size_t i = 0; i < n; i++) {
		ins_peak *pk = peak_find(ctx, old, g[i].name);
		if (!pk) {
			char *name = strdup(g[i].name);
			if (!name)
				continue;
			pk = &ctx->peaks[ctx->npeaks++];
			*pk = (ins_peak){ name, 0 };
		}
		if (g[i].count > pk->count) {
			r[nr++] = (growth_row){ g[i].name, g[i].count, g[i].count - pk->count };
			pk->count = g[i].count;
		}
	}
	qsort(ctx->peaks, ctx->npeaks, sizeof(*ctx->peaks), cmp_peak);  /* group names are distinct */
	qsort(r, nr, sizeof(*r), cmp_growth);
	*rows = r;
	*nrows = nr;
	*groups = g;
	*ngroups = n;
	return NULL;
}

static void remember_ids(ins_ctx *ctx, ins_session *s)
{
	uint64_t *ids = malloc((s->heap.ntracked + 1) * sizeof(*ids));
	if (!ids)
		return;
	memcpy(ids, s->heap.objs, s->heap.ntracked * sizeof(*ids));
	qsort(ids, s->heap.ntracked, sizeof(*ids), cmp_u64);
	free(ctx->ids);
	ctx->ids = ids;
	ctx->nids = s->heap.ntracked;
}

static void new_ids(ins_ctx *ctx, ins_session *s, const char *name, bool qualified, bool json, ins_buf *out)
{
	size_t k = 0;
	for (size_t i = 0; i < s->heap.ntracked; i++) {
		uint64_t obj = s->heap.objs[i];
		const ins_type *t = ins_obj_type(&s->objs, obj);
		if (!t || strcmp(ins_cmd_row_name(t, qualified), name) != 0 ||
		    (ctx->nids && bsearch(&obj, ctx->ids, ctx->nids, sizeof(obj), cmp_u64)))
			continue;
		if (json) {
			if (k)
				ins_buf_putc(out, ',');
			ins_json_addr(out, obj);
		} else {
			ins_buf_printf(out, "    0x%llx\n", (unsigned long long)obj);
		}
		k++;
	}
}

ins_error *ins_cmd_growth(const call *c)
{
	ins_ctx *ctx = c->ctx;
	ins_session *s = c->s;
	const ins_source *src = c->src;
	const args *a = c->a;
	ins_buf *out = c->out;
	ins_buf *warn = c->warn;
	ins_error *err;
	growth_row *rows;
	group *g;
	size_t nrows, ng;
	if (a->baseline) {  /* CLI: the baseline core records the peaks first */
		ins_source base = *src;
		ins_session *b;
		base.core = a->baseline;
		err = ins_cmd_open(&base, warn, true, &b);
		if (err)
			return err;
		err = growth_step(ctx, b, a->qualified, &rows, &nrows, &g, &ng);
		if (!err) {
			free(rows);
			ins_cmd_groups_free(g, ng);
			remember_ids(ctx, b);
		}
		ins_session_close(b);
		if (err)
			return err;
	}
	err = growth_step(ctx, s, a->qualified, &rows, &nrows, &g, &ng);
	if (err)
		return err;
	size_t shown = a->limit == 0 || (size_t)a->limit > nrows ? nrows : (size_t)a->limit;
	if (a->json) {
		ins_buf_puts(out, "{\"growth\":[");
		for (size_t i = 0; i < shown; i++) {
			ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
			ins_json_str(out, rows[i].name);
			ins_buf_printf(out, ",\"count\":%llu,\"delta\":%llu", (unsigned long long)rows[i].count,
				       (unsigned long long)rows[i].delta);
			if (a->new_ids) {
				ins_buf_puts(out, ",\"new_ids\":[");
				new_ids(ctx, s, rows[i].name, a->qualified, true, out);
				ins_buf_putc(out, ']');
			}
			ins_buf_putc(out, '}');
		}
		ins_buf_puts(out, "]}\n");
	} else {
		size_t w = 4;
		for (size_t i = 0; i < shown; i++)
			if (strlen(rows[i].name) > w)
				w = strlen(rows[i].name);
		for (size_t i = 0; i < shown; i++) {
			ins_buf_printf(out, "%-*s%9llu %+9lld\n", (int)w, rows[i].name,
				       (unsigned long long)rows[i].count, (long long)rows[i].delta);
			if (a->new_ids)
				new_ids(ctx, s, rows[i].name, a->qualified, false, out);
		}
	}
	remember_ids(ctx, s);
	free(rows);
	ins_cmd_groups_free(g, ng);
	return NULL;
}
