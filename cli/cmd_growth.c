/* cmd_growth.c -- objgraph's show_growth and get_new_ids: the peaks kept across calls in
 * the context, over the counts of leaking.c's objects by typestats.c's grouping. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "leaking.h"

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

/* The objects objgraph counts: gc.get_objects() right after the gc.collect() that growth()
 * and get_new_ids() run first, or with raw the tracked objects as they are. */
typedef struct objset {
	uint64_t *addr;
	size_t n;
} objset;

static ins_error *objects_of(ins_session *s, bool raw, objset *out)
{
	return ins_survivor_objects(s, raw, &out->addr, &out->n);
}

/* objgraph.show_growth: the increase of each type's count over its peak so far; then
 * the peaks and ids are updated. */
static ins_error *growth_step(ins_ctx *ctx, ins_session *s, bool qualified, const objset *os,
			      growth_row **rows, size_t *nrows, ins_group **groups, size_t *ngroups)
{
	ins_group *g = NULL;
	size_t n = 0;
	ins_error *err = ins_typestats_count_objects(s, os->addr, os->n, qualified, &g, &n);
	if (err)
		return err;
	growth_row *r = calloc(n ? n : 1, sizeof(*r));
	ins_peak *p = realloc(ctx->peaks, (ctx->npeaks + n + 1) * sizeof(*p));
	if (!r || !p) {
		free(r);
		if (p)
			ctx->peaks = p;
		ins_groups_free(g, n);
		return ins_err_nomem();
	}
	ctx->peaks = p;
	size_t nr = 0, old = ctx->npeaks;
	for (size_t i = 0; i < n; i++) {
		ins_peak *pk = peak_find(ctx, old, g[i].name);
		if (!pk) {
			char *name = strdup(g[i].name);
			if (!name) {  /* the peaks so far stay sorted and usable */
				qsort(ctx->peaks, ctx->npeaks, sizeof(*ctx->peaks), cmp_peak);
				free(r);
				ins_groups_free(g, n);
				return ins_err_nomem();
			}
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

/* The objects' addresses, sorted, for the next call's get_new_ids (takes os->addr). */
static void remember_ids(ins_ctx *ctx, objset *os)
{
	qsort(os->addr, os->n, sizeof(*os->addr), cmp_u64);
	free(ctx->ids);
	ctx->ids = os->addr;
	ctx->nids = os->n;
	os->addr = NULL;
	os->n = 0;
}

static void new_ids(ins_ctx *ctx, ins_session *s, const objset *os, const char *name, bool qualified, bool json,
		    ins_buf *out)
{
	size_t k = 0;
	for (size_t i = 0; i < os->n; i++) {
		uint64_t obj = os->addr[i];
		const ins_type *t = ins_obj_type(&s->objs, obj);
		if (!t || strcmp(ins_type_row_name(t, qualified), name) != 0 ||
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

static ins_error *growth(ins_ctx *ctx, const call *c)
{
	ins_session *s = c->s;
	const ins_source *src = c->src;
	const args *a = c->a;
	ins_buf *out = c->out;
	ins_buf *warn = c->warn;
	ins_error *err;
	growth_row *rows;
	ins_group *g;
	size_t nrows, ng;
	objset os;
	if (a->baseline) {  /* the baseline core records the peaks first */
		ins_source base = *src;
		ins_session *b;
		base.core = a->baseline;
		err = ins_cmd_open(&base, warn, true, &b);
		if (err)
			return err;
		err = objects_of(b, a->raw, &os);
		if (!err) {
			err = growth_step(ctx, b, a->qualified, &os, &rows, &nrows, &g, &ng);
			if (!err) {
				free(rows);
				ins_groups_free(g, ng);
				remember_ids(ctx, &os);
			}
			free(os.addr);
		}
		ins_session_close(b);
		if (err)
			return err;
	}
	if ((err = objects_of(s, a->raw, &os)))
		return err;
	err = growth_step(ctx, s, a->qualified, &os, &rows, &nrows, &g, &ng);
	if (err) {
		free(os.addr);
		return err;
	}
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
				new_ids(ctx, s, &os, rows[i].name, a->qualified, true, out);
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
				new_ids(ctx, s, &os, rows[i].name, a->qualified, false, out);
		}
	}
	remember_ids(ctx, &os);
	free(rows);
	ins_groups_free(g, ng);
	return NULL;
}

/* With --baseline, the comparison is the baseline's counts against these alone: its own peaks
 * and ids, not the session's (a GDB session's earlier objgraph-growth calls), which it leaves
 * as they were. */
ins_error *ins_cmd_growth(const call *c)
{
	if (!c->a->baseline)
		return growth(c->ctx, c);
	ins_ctx *own = ins_ctx_new();
	if (!own)
		return ins_err_nomem();
	ins_error *err = growth(own, c);
	ins_ctx_free(own);
	return err;
}
