/* typestats.c -- objgraph's typestats grouped by name: the rows of types, growth, and of
 * the per-type counts leaking, cycles and graph show (see typestats.h). */
#define _GNU_SOURCE
#include "typestats.h"

#include "graph.h"

#include <stdlib.h>
#include <string.h>

const char *ins_type_row_name(const ins_type *t, bool qualified)
{
	return qualified ? t->qualname : t->name;
}

int ins_group_cmp(const void *x, const void *y)
{
	const ins_group *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

void ins_groups_free(ins_group *g, size_t n)
{
	if (!g)
		return;
	for (size_t i = 0; i < n; i++)
		ins_buf_free(&g[i].qualnames);
	free(g);
}

static int cmp_typecount(const void *x, const void *y, void *q)
{
	const ins_typecount *a = x, *b = y;
	bool qualified = *(const bool *)q;
	int c = strcmp(ins_type_row_name(a->type, qualified), ins_type_row_name(b->type, qualified));
	return c ? c : strcmp(a->type->qualname, b->type->qualname);
}

ins_error *ins_typestats_group(ins_session *s, bool qualified, bool want_bytes, bool all, ins_group **out,
			       size_t *nout, ins_stats *totals)
{
	ins_stats st;
	ins_error *err = ins_typestats(s, want_bytes, all, &st);
	if (err)
		return err;
	ins_typecount *rows = st.rows;
	size_t n = st.nrows;
	*totals = st;
	totals->rows = NULL;
	qsort_r(rows, n, sizeof(*rows), cmp_typecount, &qualified);
	ins_group *g = calloc(n ? n : 1, sizeof(*g));
	if (!g) {
		ins_stats_free(&st);
		return ins_err_nomem();
	}
	size_t ng = 0;
	bool oom = false;
	for (size_t i = 0; i < n; i++) {
		const char *name = ins_type_row_name(rows[i].type, qualified);
		if (!ng || strcmp(g[ng - 1].name, name) != 0)
			g[ng++].name = name;
		ins_group *cur = &g[ng - 1];
		const char *qual = rows[i].type->qualname;
		if (!i || cur->count == 0 || strcmp(rows[i - 1].type->qualname, qual) != 0) {
			if (cur->qualnames.len)  /* rows are sorted: a repeated name is adjacent */
				ins_buf_puts(&cur->qualnames, " | ");
			ins_buf_puts(&cur->qualnames, qual);
			oom |= cur->qualnames.oom;
		}
		cur->count += rows[i].count;
		cur->bytes += rows[i].bytes;
	}
	ins_stats_free(&st);
	if (oom) {
		ins_groups_free(g, ng);
		return ins_err_nomem();
	}
	qsort(g, ng, sizeof(*g), ins_group_cmp);
	*out = g;
	*nout = ng;
	return NULL;
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(((const ins_group *)x)->name, ((const ins_group *)y)->name);
}

/* Counts by name the objects nodes[i] of the graph, or addrs[i]. */
static ins_error *count_rows(ins_session *s, const uint32_t *nodes, const uint64_t *addrs, size_t n, bool qualified,
			     ins_group **out, size_t *nout)
{
	ins_map index = { 0 };
	ins_group *g = calloc(n ? n : 1, sizeof(*g));
	size_t nrows = 0;
	if (!g)
		return ins_err_nomem();
	for (size_t i = 0; i < n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, nodes ? s->graph->addr[nodes[i]] : addrs[i]);
		if (!t)
			continue;  /* an unreadable type: typestats counts it under no name */
		uint64_t *slot = ins_map_slot(&index, t->addr, 0);
		if (!slot) {
			ins_map_free(&index);
			free(g);
			return ins_err_nomem();
		}
		if (!*slot) {
			g[nrows].name = ins_type_row_name(t, qualified);
			*slot = ++nrows;
		}
		g[*slot - 1].count++;
	}
	ins_map_free(&index);
	/* types sharing a name are one row, as in objgraph */
	qsort(g, nrows, sizeof(*g), cmp_name);
	size_t m = 0;
	for (size_t i = 0; i < nrows; i++) {
		if (m && strcmp(g[m - 1].name, g[i].name) == 0)
			g[m - 1].count += g[i].count;
		else
			g[m++] = g[i];
	}
	qsort(g, m, sizeof(*g), ins_group_cmp);
	*out = g;
	*nout = m;
	return NULL;
}

ins_error *ins_typestats_count_nodes(ins_session *s, const uint32_t *nodes, size_t n, ins_group **out,
				     size_t *nout)
{
	return count_rows(s, nodes, NULL, n, false, out, nout);
}

ins_error *ins_typestats_count_objects(ins_session *s, const uint64_t *addrs, size_t n, bool qualified,
				       ins_group **out, size_t *nout)
{
	return count_rows(s, NULL, addrs, n, qualified, out, nout);
}
