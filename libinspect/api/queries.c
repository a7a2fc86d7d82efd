/* queries.c -- the public API's questions about the whole program (analysis.h): type
 * statistics, reference chains, the collection and its cycles, gc.garbage, leaking objects,
 * refcounts and the collector's state, each answered by the analysis layer and copied out
 * into the API's types. */
#include <libinspect/libinspect.h>

#include "chain.h"
#include "gcstate.h"
#include "leaking.h"
#include "program_impl.h"
#include "refcheck.h"
#include "typestats.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- type statistics */

ins_error *ins_program_types(ins_program *p, unsigned flags, ins_type_stats *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	ins_group *g;
	size_t n;
	ins_stats tot;
	ins_error *err = ins_typestats_group(p->s, flags & INS_TYPES_QUALIFIED, true, flags & INS_TYPES_ALL, &g, &n,
					     &tot);
	if (err)
		return err;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v) {
		ins_groups_free(g, n);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < n; i++)
		out->v[i] = (ins_type_stat){ g[i].name, g[i].count, g[i].bytes };
	out->n = n;
	out->ntracked = tot.ntracked;
	out->nfrozen = tot.nfrozen;
	out->nuntracked = tot.nuntracked;
	ins_groups_free(g, n);
	return NULL;
}

void ins_type_stats_free(ins_type_stats *st)
{
	if (!st)
		return;
	free(st->v);
	memset(st, 0, sizeof(*st));
}

/* ---------------------------------------------------------------- chains */

ins_error *ins_program_chain(ins_program *p, uint64_t addr, const ins_chain_options *opt, ins_refs *out, bool *found)
{
	INS_API_NEED(p && out && found);
	ins_session *s = p->s;
	memset(out, 0, sizeof(*out));
	*found = false;
	uint32_t start;
	if (!ins_obj_valid(&s->objs, addr) || !ins_obj_type(&s->objs, addr))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not a Python object", (unsigned long long)addr);
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	if (!ins_graph_node(s->graph, addr, &start))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not in the heap's reference graph",
			       (unsigned long long)addr);
	ins_map modules = {0}, ignore = {0};
	ins_chain ch = { 0 };
	long max_depth = opt && opt->max_depth ? (long)(opt->max_depth < 1000000 ? opt->max_depth : 1000000)
					       : INS_CHAIN_MAX_DEPTH;
	err = ins_chain_proper_modules(s, &modules);
	for (size_t i = 0; !err && opt && opt->ignore && i < opt->nignore; i++)
		if (!ins_map_slot(&ignore, opt->ignore[i], 1))
			err = ins_err_nomem();
	if (!err)
		err = ins_chain_search(s, start, max_depth, &modules, &ignore, opt && opt->to_root, &ch);
	ins_map_free(&modules);
	ins_map_free(&ignore);
	if (err)
		return err;
	/* a chain that ends at a frame's local starts with the frame, labelled with the local */
	size_t first = ch.root ? 1 : 0, n = first + ch.n;
	out->v = calloc(n, sizeof(*out->v));
	bool oom = !out->v;
	for (size_t i = 0; !oom && i < n; i++) {
		ins_buf label = { 0 };
		ins_chain_label(s, &ch, i ? i - first : 0, &label);
		out->v[i].address = i < first ? ins_frame_root_addr(ch.root) : s->graph->addr[ch.nodes[i - first]];
		oom = label.oom || !(out->v[i].label = ins_buf_take(&label));
		ins_buf_free(&label);
		out->n = i + 1;
	}
	*found = ch.found;
	ins_chain_free(&ch);
	if (oom) {
		ins_refs_free(out);
		return ins_err_nomem();
	}
	return NULL;
}

/* ---------------------------------------------------------------- the collection */

ins_error *ins_program_collect(ins_program *p, ins_collection *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	const ins_collect *col;
	ins_error *err = ins_program_collection(p, &col);
	if (err)
		return err;
	const uint64_t *addr = p->s->graph->addr;
	out->unreachable = malloc((col->n ? col->n : 1) * sizeof(*out->unreachable));
	out->cycles = calloc(col->ncycles ? col->ncycles : 1, sizeof(*out->cycles));
	if (!out->unreachable || !out->cycles) {
		ins_collection_free(out);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < col->n; i++)
		out->unreachable[i] = addr[col->unreachable[i]];
	out->n = col->n;
	for (size_t k = 0; k < col->ncycles; k++) {
		const ins_cycle *cy = &col->cycles[k];
		ins_cycle_info *ci = &out->cycles[k];
		out->ncycles = k + 1;
		if (!(ci->members = malloc((cy->n ? cy->n : 1) * sizeof(*ci->members)))) {
			ins_collection_free(out);
			return ins_err_nomem();
		}
		for (size_t i = 0; i < cy->n; i++)
			ci->members[i] = addr[cy->members[i]];
		ci->n = cy->n;
		ci->path = cy->path;
		ci->held = cy->held;
		ci->bytes = cy->bytes;
		ci->held_bytes = cy->held_bytes;
	}
	return NULL;
}

void ins_collection_free(ins_collection *c)
{
	if (!c)
		return;
	for (size_t k = 0; k < c->ncycles; k++)
		free(c->cycles[k].members);
	free(c->cycles);
	free(c->unreachable);
	memset(c, 0, sizeof(*c));
}

ins_error *ins_program_garbage(ins_program *p, uint64_t **addrs, size_t *n)
{
	INS_API_NEED(p && addrs && n);
	size_t count;
	*addrs = NULL;
	*n = 0;
	return ins_garbage_read(p->s, SIZE_MAX, addrs, n, &count);
}

ins_error *ins_program_leaking(ins_program *p, bool raw, uint64_t **addrs, size_t *n)
{
	INS_API_NEED(p && addrs && n);
	*addrs = NULL;
	*n = 0;
	uint32_t *nodes;
	size_t k;
	ins_survivors sv;
	ins_error *err = ins_session_graph(p->s);  /* the whole graph (see ins_program_collection) */
	if (!err)
		err = ins_leaking_find(p->s, raw, &nodes, &k, &sv);
	else
		memset(&sv, 0, sizeof(sv));
	ins_survivors_free(&sv);
	if (err)
		return err;
	uint64_t *v = malloc((k ? k : 1) * sizeof(*v));
	if (!v) {
		free(nodes);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < k; i++)
		v[i] = p->s->graph->addr[nodes[i]];
	free(nodes);
	*addrs = v;
	*n = k;
	return NULL;
}

/* ---------------------------------------------------------------- refcounts */

ins_error *ins_program_refcheck(ins_program *p, ins_refcheck_row **rows, size_t *n)
{
	INS_API_NEED(p && rows && n);
	*rows = NULL;
	*n = 0;
	ins_residual *v;
	size_t k, nneg, checked;
	ins_error *err = ins_refcheck(p->s, &v, &k, &nneg, &checked);
	if (err)
		return err;
	ins_refcheck_row *r = malloc((k ? k : 1) * sizeof(*r));
	if (!r) {
		free(v);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < k; i++)
		r[i] = (ins_refcheck_row){ p->s->graph->addr[v[i].node], v[i].refcnt, (uint64_t)v[i].referrers,
					   v[i].residual };
	free(v);
	*rows = r;
	*n = k;
	return NULL;
}

/* ---------------------------------------------------------------- the collector's state */

ins_error *ins_program_gc(ins_program *p, ins_gc_state *out)
{
	INS_API_NEED(p && out);
	ins_gcstate st;
	memset(out, 0, sizeof(*out));
	ins_error *err = ins_gc_read(p->s, &st);
	if (err)
		return err;
	out->enabled = st.enabled > 0;
	out->enabled_known = st.enabled >= 0;
	out->ngens = st.ngens < 3 ? st.ngens : 3;
	for (int g = 0; g < out->ngens; g++) {
		out->threshold[g] = (long)st.threshold[g];
		out->count[g] = (long)st.count[g];
		out->generation_size[g] = st.sizes[g];
	}
	out->frozen = st.frozen;
	out->garbage_known = st.garbage >= 0;
	out->garbage = st.garbage >= 0 ? (size_t)st.garbage : 0;
	return NULL;
}
