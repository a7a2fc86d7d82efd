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

/* Among the nodes of v of type ty, the object referring to most of them (each referrer
 * counted once per node), other than skip: *holder and to how many (*held), or
 * UINT32_MAX when none refers to 2 or more. */
static ins_error *common_referrer(ins_session *s, const uint32_t *v, size_t n, const ins_type *ty, uint32_t skip,
				  uint32_t *holder, uint64_t *held)
{
	const ins_graph *g = s->graph;
	ins_map refs = { 0 }; /* referrer node + 1 -> objects + 1 */
	ins_error *err = NULL;
	uint64_t best = 0;
	*holder = UINT32_MAX;
	for (size_t k = 0; !err && k < n; k++) {
		uint32_t c = v[k];
		if (ins_obj_type(&s->objs, g->addr[c]) != ty)
			continue;
		for (uint64_t e = g->in_start[c]; e < g->in_start[c + 1]; e++) {
			uint32_t src = g->in[e];
			if (e > g->in_start[c] && g->in[e - 1] == src)
				continue; /* parallel references */
			uint64_t *slot = ins_map_slot(&refs, (uint64_t)src + 1, 1);
			if (!slot) {
				err = ins_err_nomem();
				break;
			}
			if (*slot > best || (*slot == best && src < *holder)) {
				best = *slot;
				*holder = src;
			}
			++*slot;
		}
	}
	ins_map_free(&refs);
	*held = best;
	if (*holder == skip || best < 2)
		*holder = UINT32_MAX;
	return err;
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
	if (!err)
		err = common_referrer(s, &t->kids[first], end - first, out->type, x, &out->holder, &out->held);
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

/* Instances of classes (a Python class, a C extension's heap type, a 2.7 classic class),
 * not classes or modules themselves: the interpreter's own objects -- namespaces, classes,
 * modules, interned strings -- are shared by many modules and would fill the report. */
static bool group_type(const ins_type *ty)
{
	if (!ty)
		return false;
	if (ty->kind == INS_K_INSTANCE2)
		return true;
	return ty->heap && ty->kind != INS_K_TYPE && ty->kind != INS_K_MODULE && ty->kind != INS_K_CLASS2;
}

typedef struct group_tally {
	ins_suspect_group g;
	uint64_t order; /* first seen: ties in bytes and count keep the tree's order */
} group_tally;

static int group_cmp(const void *pa, const void *pb)
{
	const group_tally *a = pa, *b = pb;
	if (a->g.bytes != b->g.bytes)
		return a->g.bytes > b->g.bytes ? -1 : 1;
	if (a->g.count != b->g.count)
		return a->g.count > b->g.count ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

ins_error *ins_suspect_groups_find(ins_session *s, const ins_dominators *d, const ins_domtree *t, unsigned pct,
				   size_t limit, ins_suspect_group **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!pct)
		return NULL;
	const ins_graph *g = s->graph;
	size_t top = d->n;
	uint64_t first = t->start[top], end = t->start[top + 1];
	/* the top-level objects below the share, by type (the tree's order: most bytes first) */
	ins_map index = { 0 }; /* type address -> position in v + 1 */
	size_t cap = 16, m = 0;
	group_tally *v = malloc(cap * sizeof(*v));
	ins_error *err = v ? NULL : ins_err_nomem();
	for (uint64_t k = first; !err && k < end; k++) {
		uint32_t c = t->kids[k];
		if (d->root[c] != INS_ROOT_NONE || ins_suspect_share(d->bytes[c], d->total_bytes, pct))
			continue; /* a root (held by C code, a frame...), or a suspect alone */
		const ins_type *ty = ins_obj_type(&s->objs, g->addr[c]);
		if (!group_type(ty))
			continue;
		uint64_t *slot = ins_map_slot(&index, ty->addr, 0);
		if (!slot) {
			err = ins_err_nomem();
			break;
		}
		if (!*slot) {
			if (m == cap) {
				group_tally *nv = realloc(v, 2 * cap * sizeof(*v));
				if (!nv) {
					err = ins_err_nomem();
					break;
				}
				v = nv;
				cap *= 2;
			}
			memset(&v[m], 0, sizeof(v[m]));
			v[m].g.type = ty;
			v[m].g.holder = UINT32_MAX;
			v[m].order = m;
			*slot = ++m;
		}
		ins_suspect_group *x = &v[*slot - 1].g;
		if (x->nbiggest < INS_SUSPECT_GROUP_SHOW)
			x->biggest[x->nbiggest++] = c;
		x->count++;
		x->objects += d->count[c];
		x->bytes += d->bytes[c];
	}
	ins_map_free(&index);
	size_t kept = 0;
	for (size_t i = 0; !err && i < m; i++)
		if (v[i].g.count >= 2 && ins_suspect_share(v[i].g.bytes, d->total_bytes, pct))
			v[kept++] = v[i];
	if (err || !kept) {
		free(v);
		return err;
	}
	qsort(v, kept, sizeof(*v), group_cmp);
	if (limit && kept > limit)
		kept = limit;
	ins_suspect_group *r = calloc(kept, sizeof(*r));
	uint32_t *inst = malloc((end - first) * sizeof(*inst));
	ins_map modules = { 0 };
	if (!r || !inst)
		err = ins_err_nomem();
	if (!err && (err = ins_chain_proper_modules(s, &modules)) && err->code != INS_ERR_NOMEM) {
		ins_error_free(err); /* no sys.modules: chains to threads' frames only */
		err = NULL;
		ins_map_free(&modules);
		memset(&modules, 0, sizeof(modules));
	}
	size_t done = 0;
	for (; !err && done < kept; done++) {
		r[done] = v[done].g;
		ins_suspect_group *x = &r[done];
		size_t ni = 0;
		for (uint64_t k = first; k < end; k++)
			if (d->root[t->kids[k]] == INS_ROOT_NONE &&
			    !ins_suspect_share(d->bytes[t->kids[k]], d->total_bytes, pct))
				inst[ni++] = t->kids[k];
		err = common_referrer(s, inst, ni, x->type, UINT32_MAX, &x->holder, &x->held);
		if (!err && x->holder != UINT32_MAX)
			err = find_chain(s, x->holder, &modules, &x->holder_chain);
	}
	ins_map_free(&modules);
	free(inst);
	free(v);
	if (err) {
		ins_suspect_group_list_free(r, kept);
		return err;
	}
	*out = r;
	*n = kept;
	return NULL;
}

void ins_suspect_group_list_free(ins_suspect_group *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		ins_chain_free(&v[i].holder_chain);
	free(v);
}

ins_error *ins_suspects_report_build(ins_session *s, unsigned pct, size_t limit, ins_suspects_report *out)
{
	memset(out, 0, sizeof(*out));
	out->pct = pct > 100 ? 100 : pct;
	ins_error *err = ins_dominators_build(s, &out->dom);
	if (err)
		return err;
	if ((err = ins_domtree_build(&out->dom, &out->tree))) {
		ins_dominators_free(&out->dom);
		memset(out, 0, sizeof(*out));
		return err;
	}
	if ((err = ins_suspects_find(s, &out->dom, &out->tree, out->pct, limit, &out->v, &out->n)) ||
	    (err = ins_suspect_groups_find(s, &out->dom, &out->tree, out->pct, limit, &out->groups, &out->ngroups))) {
		ins_suspects_report_free(out);
		return err;
	}
	/* both lists are most bytes first: merged, a single suspect first on a tie */
	size_t total = out->n + out->ngroups;
	if (limit && total > limit)
		total = limit;
	if (!(out->items = calloc(total ? total : 1, sizeof(*out->items)))) {
		ins_suspects_report_free(out);
		return ins_err_nomem();
	}
	size_t a = 0, b = 0;
	while (out->nitems < total) {
		bool group = a == out->n || (b < out->ngroups && out->groups[b].bytes > out->dom.bytes[out->v[a].node]);
		out->items[out->nitems++] = (ins_suspect_item){ group, group ? b++ : a++ };
	}
	return NULL;
}

void ins_suspects_report_free(ins_suspects_report *r)
{
	ins_suspect_list_free(r->v, r->n);
	ins_suspect_group_list_free(r->groups, r->ngroups);
	free(r->items);
	ins_domtree_free(&r->tree);
	ins_dominators_free(&r->dom);
	memset(r, 0, sizeof(*r));
}
