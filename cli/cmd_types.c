/* cmd_types.c -- objgraph's typestats: types, count and by-type, rendered (the analyses:
 * typestats.c, bytype.c; types --retained: typeretained.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocations.h"
#include "commands.h"
#include "typeretained.h"

ins_error *ins_cmd_types(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	ins_group *g;
	size_t n;
	ins_stats tot;
	ins_error *err = ins_typestats_group(s, a->qualified, true, a->all, &g, &n, &tot);
	if (err)
		return err;
	size_t ntracked = tot.ntracked, nfrozen = tot.nfrozen;
	uint64_t *rcount = NULL, *rbytes = NULL;
	if (a->retained) {
		/* what each row's instances retain together, over the dominator tree */
		ins_dominators d;
		ins_domtree t;
		rcount = calloc(n ? n : 1, sizeof(*rcount));
		rbytes = calloc(n ? n : 1, sizeof(*rbytes));
		if (!rcount || !rbytes)
			err = ins_err_nomem();
		if (!err && !(err = ins_dominators_build(s, &d))) {
			if (!(err = ins_domtree_build(&d, &t))) {
				err = ins_typestats_retained(s, &d, &t, a->qualified, a->all, g, n, rcount, rbytes);
				ins_domtree_free(&t);
			}
			ins_dominators_free(&d);
		}
		if (err) {
			free(rcount);
			free(rbytes);
			ins_groups_free(g, n);
			return err;
		}
	}
	size_t limit = a->limit == 0 ? n : (size_t)a->limit, shown = 0;
	ins_group **sel = calloc(n ? n : 1, sizeof(*sel));
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
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu", (unsigned long long)sel[i]->count,
				       (unsigned long long)sel[i]->bytes);
			if (rcount)
				ins_buf_printf(out, ",\"retained_count\":%llu,\"retained_bytes\":%llu",
					       (unsigned long long)rcount[sel[i] - g], (unsigned long long)rbytes[sel[i] - g]);
			ins_buf_putc(out, '}');
		}
		ins_buf_puts(out, "]}\n");
	} else {
		size_t w = 4;
		for (size_t i = 0; i < shown; i++)
			if (strlen(sel[i]->name) > w)
				w = strlen(sel[i]->name);
		for (size_t i = 0; i < shown; i++) {
			ins_buf_printf(out, "%-*s %9llu %12llu", (int)w, sel[i]->name,
				       (unsigned long long)sel[i]->count, (unsigned long long)sel[i]->bytes);
			if (rbytes)
				ins_buf_printf(out, " %14llu", (unsigned long long)rbytes[sel[i] - g]);
			ins_buf_putc(out, '\n');
		}
		ins_buf_printf(out, "(%zu objects tracked by the GC in CPython %s", ntracked, s->in->version);
		if (nfrozen)
			ins_buf_printf(out, "; %zu more frozen by gc.freeze()", nfrozen);
		if (a->all)
			ins_buf_printf(out, "; with %zu untracked objects they refer to", tot.nuntracked);
		ins_buf_puts(out, rbytes ? "; columns: type, count, bytes, retained bytes)\n"
				  : "; columns: type, count, bytes)\n");
	}
	free(sel);
	free(rcount);
	free(rbytes);
	ins_groups_free(g, n);
	return err;
}

#define MAX_SITES 10  /* allocation sites by-type names */

/* by-type, when the process runs with tracemalloc: where the objects were allocated (the most
 * recent frame of their tracebacks), most objects first. *tm is read; a table that does not
 * hold together is a warning. */
static ins_error *sites_of(const call *c, const uint64_t *objs, size_t n, ins_tracemalloc *tm,
			   ins_alloc_site **sites, size_t *nsites)
{
	ins_error *err = ins_tracemalloc_read(&c->s->objs, tm);
	if (err && err->code != INS_ERR_NOMEM) {
		ins_buf_printf(c->warn, "warning: %s\n", err->message);
		ins_error_free(err);
		err = NULL;
		memset(tm, 0, sizeof(*tm));
	}
	return err ? err : ins_alloc_sites(c->s, tm, objs, n, sites, nsites);
}

/* count and by-type: how many objects of a type; by-type also lists them, and where they were
 * allocated when tracemalloc traces. */
static ins_error *type_objects(const call *c, bool list)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	uint64_t *objs = NULL;
	size_t n = 0;
	ins_error *err = ins_bytype_find(s, a->pos[0], &objs, &n);
	size_t shown = !list ? 0 : a->limit > 0 && (size_t)a->limit < n ? (size_t)a->limit : n;
	ins_tracemalloc tm;
	ins_alloc_site *sites = NULL;
	size_t nsites = 0;
	memset(&tm, 0, sizeof(tm));
	if (!err && list)
		err = sites_of(c, objs, n, &tm, &sites, &nsites);
	size_t nshow = nsites < MAX_SITES ? nsites : MAX_SITES;
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
			if (tm.state == INS_TM_TRACING) {
				ins_buf_puts(out, ",\"allocated_at\":[");
				for (size_t i = 0; i < nshow; i++) {
					ins_buf_puts(out, i ? ",{\"file\":" : "{\"file\":");
					ins_json_str(out, tm.files[sites[i].file]);
					ins_buf_printf(out, ",\"line\":%u,\"count\":%llu}", sites[i].line,
						       (unsigned long long)sites[i].count);
				}
				ins_buf_putc(out, ']');
			}
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
		if (nshow)
			ins_buf_puts(out, "allocated at (tracemalloc, most recent frame):\n");
		for (size_t i = 0; i < nshow; i++)
			ins_buf_printf(out, "  %llu at %s:%u\n", (unsigned long long)sites[i].count, tm.files[sites[i].file],
				       sites[i].line);
	}
	free(sites);
	ins_tracemalloc_free(&tm);
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
