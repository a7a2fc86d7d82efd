/* suspects.c -- leak suspects: top-level dominators, their accumulation points and chains
 * (see suspects.h). */
#define _GNU_SOURCE
#include "suspects.h"
#include "allocations.h"

#include <stdlib.h>
#include <string.h>

bool ins_suspect_share(uint64_t part, uint64_t whole, unsigned pct)
{
	uint64_t a, b;
	if (!pct)
		return true;
	if (__builtin_mul_overflow(part, (uint64_t)100, &a) || __builtin_mul_overflow(whole, (uint64_t)pct, &b))
		return part / pct >= whole / 100; /* sizes this large: the rounding does not matter */
	return a >= b;
}

/* Walks down from x while one child retains INS_SUSPECT_DROP percent of what its parent does. */
static uint32_t accumulation(const ins_dominators *d, const ins_domtree *t, uint32_t x)
{
	for (size_t steps = 0; steps < d->n; steps++) {
		if (t->start[x] == t->start[x + 1])
			break;
		uint32_t c = t->kids[t->start[x]]; /* the child retaining most */
		if (!ins_suspect_share(d->bytes[c], d->bytes[x], INS_SUSPECT_DROP))
			break;
		x = c;
	}
	return x;
}

typedef struct tally {
	const ins_type *type;
	uint64_t count, bytes;
} tally;

/* What accumulates at x: its children grouped by type, the group retaining the most bytes
 * (then the most objects); x itself when it has no children. */
static ins_error *accumulated(ins_session *s, const ins_dominators *d, const ins_domtree *t, uint32_t x,
			      ins_suspect *out)
{
	const ins_graph *g = s->graph;
	uint64_t first = t->start[x], end = t->start[x + 1];
	if (first == end) {
		out->type = ins_obj_type(&s->objs, g->addr[x]);
		out->count = 1;
		out->bytes = d->bytes[x];
		out->holder = UINT32_MAX;
		return NULL;
	}
	ins_map index = { 0 }; /* type address -> position in v + 1 */
	size_t cap = 16, m = 0;
	tally *v = malloc(cap * sizeof(*v));
	ins_error *err = v ? NULL : ins_err_nomem();
	for (uint64_t k = first; !err && k < end; k++) {
		uint32_t c = t->kids[k];
		const ins_type *ty = ins_obj_type(&s->objs, g->addr[c]);
		uint64_t *slot = ins_map_slot(&index, ty ? ty->addr : 0, 0);
		if (!slot) {
			err = ins_err_nomem();
			break;
		}
		if (!*slot) {
			if (m == cap) {
				tally *nv = realloc(v, 2 * cap * sizeof(*v));
				if (!nv) {
					err = ins_err_nomem();
					break;
				}
				v = nv;
				cap *= 2;
			}
			v[m] = (tally){ ty, 0, 0 };
			*slot = ++m;
		}
		tally *tl = &v[*slot - 1];
		tl->count++;
		tl->bytes += d->bytes[c];
	}
	if (!err) {
		size_t best = 0;
		for (size_t i = 1; i < m; i++)
			if (v[i].bytes > v[best].bytes || (v[i].bytes == v[best].bytes && v[i].count > v[best].count))
				best = i;
		out->type = v[best].type;
		out->count = v[best].count;
		out->bytes = v[best].bytes;
	}
	free(v);
	ins_map_free(&index);
	/* who refers to them: each referrer counted once per object */
	ins_map refs = { 0 }; /* referrer node -> objects + 1 */
	uint64_t best = 0;
	out->holder = UINT32_MAX;
	for (uint64_t k = first; !err && k < end; k++) {
		uint32_t c = t->kids[k];
		if (ins_obj_type(&s->objs, g->addr[c]) != out->type)
			continue;
		for (uint64_t e = g->in_start[c]; e < g->in_start[c + 1]; e++) {
			uint32_t src = g->in[e];
			if (e > g->in_start[c] && g->in[e - 1] == src)
				continue; /* parallel references */
			uint64_t *slot = ins_map_slot(&refs, src, 1);
			if (!slot) {
				err = ins_err_nomem();
				break;
			}
			if (*slot > best || (*slot == best && src < out->holder)) {
				best = *slot;
				out->holder = src;
			}
			++*slot;
		}
	}
	ins_map_free(&refs);
	out->held = best;
	if (out->holder == x || best < 2)
		out->holder = UINT32_MAX;
	return err;
}

/* Where most of the accumulated objects (x's type among the accumulation point's children in
 * the tree) were allocated (allocations.h: the most common most recent frame). */
static ins_error *allocation_site(ins_session *s, const ins_tracemalloc *tm, const ins_domtree *t, ins_suspect *x)
{
	const ins_graph *g = s->graph;
	uint64_t first = t->start[x->accumulation], end = t->start[x->accumulation + 1];
	uint64_t *objs = malloc((end > first ? end - first : 1) * sizeof(*objs));
	if (!objs)
		return ins_err_nomem();
	size_t n = 0;
	for (uint64_t k = first; k < end; k++)
		if (x->type && ins_obj_type(&s->objs, g->addr[t->kids[k]]) == x->type)
			objs[n++] = g->addr[t->kids[k]];
	ins_alloc_site *sites;
	size_t nsites;
	ins_error *err = ins_alloc_sites(s, tm, objs, n, &sites, &nsites);
	free(objs);
	if (!err && nsites) {
		if (!(x->site_file = strdup(tm->files[sites[0].file])))
			err = ins_err_nomem();
		x->site_line = sites[0].line;
		x->site_count = sites[0].count;
	}
	free(sites);
	return err;
}

/* A module's global, attribute, item... down to node x, or else a thread's frame's local. */
static ins_error *find_chain(ins_session *s, uint32_t x, const ins_map *modules, ins_chain *out)
{
	ins_map ignore = { 0 };
	ins_error *err = ins_chain_search(s, x, INS_CHAIN_MAX_DEPTH, modules, &ignore, false, out);
	if (!err && !out->found) {
		ins_chain_free(out);
		err = ins_chain_search(s, x, INS_CHAIN_MAX_DEPTH, modules, &ignore, true, out);
	}
	return err;
}

ins_error *ins_suspects_find(ins_session *s, const ins_dominators *d, const ins_domtree *t, unsigned pct, size_t limit,
			     ins_suspect **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t top = d->n;
	uint64_t first = t->start[top], end = t->start[top + 1];
	size_t m = 0;
	for (uint64_t k = first; k < end && (!limit || m < limit); k++, m++)
		if (!ins_suspect_share(d->bytes[t->kids[k]], d->total_bytes, pct))
			break;
	if (!m)
		return NULL;
	ins_suspect *v = calloc(m, sizeof(*v));
	if (!v)
		return ins_err_nomem();
	ins_map modules = { 0 };
	ins_error *err = ins_chain_proper_modules(s, &modules);
	if (err && err->code != INS_ERR_NOMEM) {
		/* no sys.modules: chains to threads' frames only */
		ins_error_free(err);
		err = NULL;
		ins_map_free(&modules);
		memset(&modules, 0, sizeof(modules));
	}
	/* tracemalloc's traces, when it traces (a table that does not hold together: a warning) */
	ins_tracemalloc tm;
	memset(&tm, 0, sizeof(tm));
	ins_error *tmerr = err ? NULL : ins_tracemalloc_read(&s->objs, &tm);
	if (tmerr) {
		if (tmerr->code == INS_ERR_NOMEM) {
			err = tmerr;
		} else {
			ins_buf_printf(s->warn, "warning: tracemalloc's traces cannot be read: %s\n", tmerr->message);
			ins_error_free(tmerr);
		}
		memset(&tm, 0, sizeof(tm));
	}
	size_t done = 0;
	for (; !err && done < m; done++) {
		ins_suspect *x = &v[done];
		x->node = t->kids[first + done];
		x->accumulation = accumulation(d, t, x->node);
		err = accumulated(s, d, t, x->accumulation, x);
		if (!err)
			err = find_chain(s, x->accumulation, &modules, &x->chain);
		if (!err && x->holder != UINT32_MAX)
			err = find_chain(s, x->holder, &modules, &x->holder_chain);
		if (!err && tm.state == INS_TM_TRACING)
			err = allocation_site(s, &tm, t, x);
	}
	ins_tracemalloc_free(&tm);
	ins_map_free(&modules);
	if (err) {
		ins_suspect_list_free(v, m);
		return err;
	}
	*out = v;
	*n = m;
	return NULL;
}

void ins_suspect_list_free(ins_suspect *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		ins_chain_free(&v[i].chain);
		ins_chain_free(&v[i].holder_chain);
		free(v[i].site_file);
	}
	free(v);
}
