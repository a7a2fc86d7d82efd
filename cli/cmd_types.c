/* cmd_types.c -- objgraph's typestats: types, count and by-type (see commands.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

const char *ins_cmd_row_name(const ins_type *t, bool qualified)
{
	return qualified ? t->qualname : t->name;
}

static int cmp_typecount(const void *x, const void *y, void *q)
{
	const ins_typecount *a = x, *b = y;
	bool qualified = *(const bool *)q;
	int c = strcmp(ins_cmd_row_name(a->type, qualified), ins_cmd_row_name(b->type, qualified));
	return c ? c : strcmp(a->type->qualname, b->type->qualname);
}

int ins_cmd_cmp_group(const void *x, const void *y)
{
	const group *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

void ins_cmd_groups_free(group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ins_buf_free(&g[i].qualnames);
	free(g);
}

/* objgraph.typestats: counts (and bytes) by name, most common first. */
ins_error *ins_cmd_groups(ins_session *s, bool qualified, bool want_bytes, bool all, group **out, size_t *nout,
			  ins_stats *totals)
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
	group *g = calloc(n ? n : 1, sizeof(*g));
	if (!g) {
		ins_stats_free(&st);
		return ins_err_nomem();
	}
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = ins_cmd_row_name(rows[i].type, qualified);
		if (!ng || strcmp(g[ng - 1].name, name) != 0)
			g[ng++].name = name;
		group *cur = &g[ng - 1];
		const char *qual = rows[i].type->qualname;
		if (!i || cur->count == 0 || strcmp(rows[i - 1].type->qualname, qual) != 0) {
			if (cur->qualnames.len)  /* rows are sorted: a repeated name is adjacent */
				ins_buf_puts(&cur->qualnames, " | ");
			ins_buf_puts(&cur->qualnames, qual);
		}
		cur->count += rows[i].count;
		cur->bytes += rows[i].bytes;
	}
	ins_stats_free(&st);
	qsort(g, ng, sizeof(*g), ins_cmd_cmp_group);
	*out = g;
	*nout = ng;
	return NULL;
}

/* objgraph matches a dotted name against the qualified name, else __name__. */
static bool name_matches(const ins_type *t, const char *want)
{
	return strcmp(strchr(want, '.') ? t->qualname : t->name, want) == 0;
}

/* Is there any type called `want`, even with no tracked instance? Classes are tracked
 * objects; builtin types are looked up among the interpreter's well-known ones. */
static bool type_exists(ins_session *s, const char *want)
{
	ins_error *err = ins_session_heap(s);
	if (err) {  /* out of memory: say the type is unknown rather than guess */
		ins_error_free(err);
		return false;
	}
	for (size_t i = 0; i < s->heap.n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, s->heap.objs[i]);
		if (t && t->kind == INS_K_TYPE)
			ins_type_info(&s->objs, s->heap.objs[i]);
	}
	const uint64_t *known = (const uint64_t *)&s->in->T;
	for (size_t i = 0; i < sizeof(s->in->T) / sizeof(*known); i++)
		if (known[i])
			ins_type_info(&s->objs, known[i]);
	for (size_t i = 0; i < s->objs.ntypes; i++)
		if (name_matches(s->objs.types[i], want))
			return true;
	return false;
}

static ins_error *unknown_type(const char *want)
{
	return ins_err(INS_ERR_NOT_FOUND, "unknown type '%s': no object of that type and no class of that name in the heap", want);
}


ins_error *ins_cmd_types(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	group *g;
	size_t n;
	ins_stats tot;
	ins_error *err = ins_cmd_groups(s, a->qualified, true, a->all, &g, &n, &tot);
	if (err)
		return err;
	size_t ntracked = tot.ntracked, nfrozen = tot.nfrozen;
	size_t limit = a->limit == 0 ? n : (size_t)a->limit, shown = 0;
	group **sel = calloc(n ? n : 1, sizeof(*sel));
	for (size_t i = 0; sel && i < n && shown < limit; i++)
		if (!a->filter || strstr(g[i].name, a->filter))
			sel[shown++] = &g[i];
	if (!sel) {
		err = ins_err_nomem();
	} else if (a->json) {
		ins_buf_puts(out, "{\"python\":");
		ins_json_str(out, s->in->version);
		ins_buf_printf(out, ",\"objects\":%zu,\"frozen\":%zu,", ntracked, nfrozen);
		if (a->all)
			ins_buf_printf(out, "\"untracked\":%zu,", tot.nuntracked);
		ins_buf_puts(out, "\"types\":[");
		for (size_t i = 0; i < shown; i++) {
			ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
			ins_json_str(out, sel[i]->name);
			ins_buf_puts(out, ",\"qualname\":");
			ins_json_str(out, sel[i]->qualnames.data);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)sel[i]->count,
				       (unsigned long long)sel[i]->bytes);
		}
		ins_buf_puts(out, "]}\n");
	} else {
		size_t w = 4;
		for (size_t i = 0; i < shown; i++)
			if (strlen(sel[i]->name) > w)
				w = strlen(sel[i]->name);
		for (size_t i = 0; i < shown; i++)
			ins_buf_printf(out, "%-*s %9llu %12llu\n", (int)w, sel[i]->name,
				       (unsigned long long)sel[i]->count, (unsigned long long)sel[i]->bytes);
		ins_buf_printf(out, "(%zu objects tracked by the GC in CPython %s", ntracked, s->in->version);
		if (nfrozen)
			ins_buf_printf(out, "; %zu more frozen by gc.freeze()", nfrozen);
		if (a->all)
			ins_buf_printf(out, "; with %zu untracked objects they refer to", tot.nuntracked);
		ins_buf_puts(out, "; columns: type, count, bytes)\n");
	}
	free(sel);
	ins_cmd_groups_free(g, n);
	return err;
}

typedef struct matcher {
	ins_session *s;
	const char *want;
	ins_map verdict;        /* type address -> 1 matches, 2 does not */
	ins_vec found;
	bool oom;
} matcher;

static bool type_matches(matcher *m, uint64_t obj, uint64_t type)
{
	uint64_t *slot;
	if (type == m->s->in->T.instance2 && type) {  /* 2.7 classic instance: by class */
		const ins_type *t = ins_obj_type(&m->s->objs, obj);
		return t && name_matches(t, m->want);
	}
	if (!(slot = ins_map_slot(&m->verdict, type, 0))) {
		m->oom = true;
		return false;
	}
	if (!*slot) {
		const ins_type *t = ins_type_info(&m->s->objs, type);
		*slot = t && name_matches(t, m->want) ? 1 : 2;
	}
	return *slot == 1;
}

static void collect_match(void *arg, uint64_t obj, uint64_t type, int gen)
{
	matcher *m = arg;
	if (gen < m->s->in->ngens && !m->oom && type_matches(m, obj, type))
		ins_vec_push(&m->found, obj);
}

/* Addresses of the tracked objects whose type matches want, in one pass. */
static ins_error *objects_of(ins_session *s, const char *want, uint64_t **out, size_t *n)
{
	matcher m = { .s = s, .want = want };
	size_t counts[INS_MAX_GENS + 1];
	ins_error *err = ins_heap_visit(s->img, s->in, s->warn, collect_match, &m, counts);
	ins_map_free(&m.verdict);
	if (!err && (m.oom || m.found.oom))
		err = ins_err_nomem();
	if (!err && !m.found.n && !type_exists(s, want))
		err = unknown_type(want);
	if (err) {
		free(m.found.v);
		return err;
	}
	*out = m.found.v;
	*n = m.found.n;
	return NULL;
}

/* count and by-type: how many objects of a type; by-type also lists them. */
static ins_error *type_objects(const call *c, bool list)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	uint64_t *objs = NULL;
	size_t n = 0;
	ins_error *err = objects_of(s, a->pos[0], &objs, &n);
	size_t shown = !list ? 0 : a->limit > 0 && (size_t)a->limit < n ? (size_t)a->limit : n;
	if (!err && a->json) {
		ins_buf_puts(out, "{\"type\":");
		ins_json_str(out, a->pos[0]);
		ins_buf_printf(out, ",\"count\":%zu", n);
		if (list) {
			ins_buf_puts(out, ",\"objects\":[");
			for (size_t i = 0; i < shown; i++) {
				if (i)
					ins_buf_putc(out, ',');
				ins_json_addr(out, objs[i]);
			}
			ins_buf_putc(out, ']');
		}
		ins_buf_puts(out, "}\n");
	} else if (!err && !list) {
		ins_buf_printf(out, "%zu\n", n);
	} else if (!err) {
		for (size_t i = 0; i < shown; i++) {
			ins_buf_printf(out, "0x%llx ", (unsigned long long)objs[i]);
			ins_obj_repr(&s->objs, objs[i], ins_obj_type(&s->objs, objs[i]), out);
			ins_buf_putc(out, '\n');
		}
		if (shown < n)
			ins_buf_printf(out, "... %zu more (--limit 0 shows all)\n", n - shown);
		ins_buf_printf(out, "(%zu objects of type %s)\n", n, a->pos[0]);
	}
	free(objs);
	return err;
}

ins_error *ins_cmd_count(const call *c)
{
	return type_objects(c, false);
}

ins_error *ins_cmd_by_type(const call *c)
{
	return type_objects(c, true);
}
