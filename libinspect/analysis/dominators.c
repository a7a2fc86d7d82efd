/* dominators.c -- the dominator tree of the reference graph by semi-NCA, and retained
 * sizes (see dominators.h). No recursion: the depth-first search keeps its own stack, and
 * path compression walks up, then down an explicit stack. */
#include "dominators.h"
#include "bigmem.h"

#include "threads.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

static ins_error *mark_frames(ins_session *s, uint8_t *root)
{
	const ins_graph *g = s->graph;
	const ins_layout *L = &s->in->L;
	ins_threads th = {0};
	ins_error *err = ins_threads_read(&s->objs, s->warn, true, &th);
	if (err) {
		/* no threads to read (an interpreter without any): no frame roots */
		ins_error_free(err);
		return NULL;
	}
	uint32_t node;
	for (size_t t = 0; t < th.n; t++)
		for (size_t f = 0; f < th.v[t].nframes; f++) {
			const ins_frame_info *fi = &th.v[t].frames[f];
			if (ins_graph_node(g, fi->frame_obj ? fi->frame_obj : fi->addr, &node) && !root[node])
				root[node] = INS_ROOT_FRAME;
			/* the locals of a module or class body are its namespace's items: the frame
			 * holds the dict, not them (f_locals, reached from the frame or held by it) */
			uint32_t flags = 0;
			if (L->co_optimized <= 0 || L->code_flags < 0 || !fi->code ||
			    !ins_image_read(s->img, fi->code + (uint64_t)L->code_flags, &flags, 4) ||
			    !(flags & (uint32_t)L->co_optimized))
				continue;
			for (size_t k = 0; k < fi->nlocals; k++)
				if (ins_graph_node(g, fi->locals[k].value, &node) && !root[node])
					root[node] = INS_ROOT_FRAME;
		}
	ins_threads_free(&th);
	return NULL;
}

/* root[i] for every node: why it is a root (dominators.h), or INS_ROOT_NONE. refs: room
 * for a count per node. */
static ins_error *find_roots(ins_session *s, uint8_t *root, int64_t *refs)
{
	const ins_graph *g = s->graph;
	size_t n = g->n;
	for (size_t i = 0; i < n; i++) {
		bool immortal;
		if (i + INS_PREFETCH_AHEAD < n)  /* its header: each a likely cache miss */
			ins_image_prefetch(s->img, g->addr[i + INS_PREFETCH_AHEAD]);
		if (!ins_session_node_refcnt(s, (uint32_t)i, &refs[i], &immortal) || refs[i] < 0 ||
		    refs[i] > INT64_MAX / 2) {
			root[i] = INS_ROOT_UNREADABLE;
			refs[i] = 0;
		} else if (immortal) {
			root[i] = INS_ROOT_IMMORTAL;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (uint64_t e = g->out_start[i]; e < g->out_start[i + 1]; e++)
			if (!(ins_graph_edge_flags(g, e) & INS_EF_BORROWED))
				refs[g->out[e]]--;
	for (size_t i = 0; i < n; i++)
		if (!root[i] && refs[i] > 0)
			root[i] = INS_ROOT_REFS;
	return mark_frames(s, root);
}

typedef struct dfs {
	const ins_graph *g;
	uint32_t *num;    /* node -> preorder number (0 is R), NONE if unvisited */
	uint32_t *vert;   /* preorder number -> node (vert[0] unused) */
	uint32_t *parent; /* preorder number -> its parent's */
	uint32_t *stack;  /* nodes */
	uint64_t *next;   /* per node: the next out-edge to look at */
	uint32_t count;   /* numbers given */
} dfs;

static void search(dfs *d, uint32_t start)
{
	const ins_graph *g = d->g;
	size_t sp = 0;
	d->num[start] = d->count;
	d->vert[d->count] = start;
	d->parent[d->count++] = 0;
	d->next[start] = g->out_start[start];
	d->stack[sp++] = start;
	while (sp) {
		uint32_t v = d->stack[sp - 1];
		uint64_t e = d->next[v], end = g->out_start[v + 1];
		while (e < end && d->num[g->out[e]] != NONE)
			e++;
		if (e == end) {
			d->next[v] = e;
			sp--;
			continue;
		}
		uint32_t w = g->out[e];
		d->next[v] = e + 1;
		d->num[w] = d->count;
		d->vert[d->count] = w;
		d->parent[d->count++] = d->num[v];
		d->next[w] = g->out_start[w];
		d->stack[sp++] = w;
	}
}

/* eval(v) of semi-NCA, in preorder numbers: the vertex of least semi on v's compressed
 * path to the root of its tree in the linked forest; v itself when v is not linked yet. */
static uint32_t eval(uint32_t v, uint32_t *anc, uint32_t *label, const uint32_t *semi, uint32_t *stack)
{
	if (anc[v] == NONE)
		return v;
	size_t sp = 0;
	uint32_t u = v;
	while (anc[anc[u]] != NONE) {
		stack[sp++] = u;
		u = anc[u];
	}
	while (sp) {
		uint32_t x = stack[--sp], a = anc[x];
		if (semi[label[a]] < semi[label[x]])
			label[x] = label[a];
		anc[x] = anc[a];
	}
	return label[v];
}

static uint64_t size_of(ins_session *s, uint64_t addr)
{
	const ins_type *t = ins_obj_type(&s->objs, addr);
	return t ? ins_obj_size(&s->objs, addr, t) : 0;
}

ins_error *ins_dominators_build(ins_session *s, ins_dominators *out)
{
	memset(out, 0, sizeof(*out));
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	if (ins_session_index_dominators(s, out))
		return NULL;
	const ins_graph *g = s->graph;
	size_t n = g->n, words = n + 1;
	if (n >= NONE - 1)
		return ins_err(INS_ERR_FAIL, "too many objects for the dominator tree (%zu)", n);
	out->n = n;
	out->root = ins_big_calloc(words, 1);
	out->idom = ins_big_malloc(words, sizeof(uint32_t));
	out->order = ins_big_malloc(words, sizeof(uint32_t));
	dfs d = {.g = g};
	d.num = ins_big_malloc(words, sizeof(uint32_t));
	d.vert = ins_big_malloc(words, sizeof(uint32_t));
	d.parent = ins_big_malloc(words, sizeof(uint32_t));
	d.stack = ins_big_malloc(words, sizeof(uint32_t));
	d.next = ins_big_malloc(words, sizeof(uint64_t));
	uint32_t *semi = NULL, *label = NULL, *anc = NULL;
	if (!out->root || !out->idom || !out->order || !d.num || !d.vert || !d.parent || !d.stack || !d.next) {
		err = ins_err_nomem();
		goto done;
	}
	/* the arrays the steps take one after another share memory: memory touched already is
	 * cheaper than fresh pages, which the kernel zeroes (next: refs, then semi and label,
	 * then bytes; num: then count) */
	if ((err = find_roots(s, out->root, (int64_t *)(void *)d.next)))
		goto done;

	/* depth-first from R: its children are the roots in node order, then whatever is
	 * still unreached, one at a time */
	memset(d.num, 0xff, words * sizeof(uint32_t));
	d.count = 1;
	d.vert[0] = NONE;
	for (size_t i = 0; i < n; i++)
		if (out->root[i] && d.num[i] == NONE)
			search(&d, (uint32_t)i);
	for (size_t i = 0; i < n; i++)
		if (d.num[i] == NONE) {
			out->root[i] = INS_ROOT_UNREACHED;
			search(&d, (uint32_t)i);
		}
	for (size_t i = 0; i < n; i++)
		out->nroots += out->root[i] != INS_ROOT_NONE;

	/* semidominators, in reverse preorder; R (0) has no predecessors */
	size_t N = d.count; /* n + 1 */
	semi = (uint32_t *)(void *)d.next;
	label = semi + N;
	anc = ins_big_malloc(N, sizeof(uint32_t));
	if (!anc) {
		err = ins_err_nomem();
		goto done;
	}
	for (uint32_t i = 0; i < N; i++) {
		semi[i] = label[i] = i;
		anc[i] = NONE;
	}
	for (uint32_t w = (uint32_t)N - 1; w >= 1; w--) {
		uint32_t node = d.vert[w];
		if (out->root[node])
			semi[w] = 0; /* R -> w */
		for (uint64_t e = g->in_start[node]; e < g->in_start[node + 1] && semi[w]; e++) {
			uint32_t v = d.num[g->in[e]];
			uint32_t u = eval(v, anc, label, semi, d.stack);
			if (semi[u] < semi[w])
				semi[w] = semi[u];
		}
		anc[w] = d.parent[w]; /* link */
	}
	/* immediate dominators: the nearest ancestor of the parent not below semi */
	uint32_t *idom = anc; /* reused, by preorder number */
	idom[0] = 0;
	for (uint32_t w = 1; w < N; w++) {
		uint32_t x = d.parent[w];
		while (x > semi[w])
			x = idom[x];
		idom[w] = x;
	}
	/* what is left needs only vert and idom: the peak is the search's arrays or these */
	free(d.parent);
	free(d.stack);
	d.parent = d.stack = NULL;
	out->count = memset(d.num, 0, words * sizeof(uint32_t));
	out->bytes = memset(d.next, 0, words * sizeof(uint64_t));
	d.num = NULL;
	d.next = NULL;
	/* retained sizes: children before parents (reverse preorder) */
	for (uint32_t w = 1; w < N; w++) {
		uint32_t node = d.vert[w];
		if (w + INS_PREFETCH_AHEAD < N)
			ins_image_prefetch(s->img, g->addr[d.vert[w + INS_PREFETCH_AHEAD]]);
		out->order[w - 1] = node;
		out->idom[node] = idom[w] ? d.vert[idom[w]] : INS_DOM_ROOT;
		out->count[node] = 1;
		out->bytes[node] = size_of(s, g->addr[node]);
		out->total_bytes += out->bytes[node];
	}
	for (uint32_t w = (uint32_t)N - 1; w >= 1; w--) {
		uint32_t node = d.vert[w], up = out->idom[node];
		if (up != INS_DOM_ROOT) {
			out->count[up] += out->count[node];
			out->bytes[up] += out->bytes[node];
		}
	}
done:
	free(d.num);
	free(d.vert);
	free(d.parent);
	free(d.stack);
	free(d.next);  /* semi and label, when they were not given to out */
	free(anc);
	if (err)
		ins_dominators_free(out);
	return err;
}

void ins_dominators_free(ins_dominators *d)
{
	if (d->mapped) {
		memset(d, 0, sizeof(*d));
		return;
	}
	free(d->idom);
	free(d->root);
	free(d->count);
	free(d->bytes);
	free(d->order);
	memset(d, 0, sizeof(*d));
}

/* larger first: bytes, then count, then node order */
static bool before(const ins_dominators *d, uint32_t a, uint32_t b)
{
	if (d->bytes[a] != d->bytes[b])
		return d->bytes[a] > d->bytes[b];
	if (d->count[a] != d->count[b])
		return d->count[a] > d->count[b];
	return a < b;
}

ins_error *ins_dominators_top(const ins_dominators *d, size_t k, uint32_t **top, size_t *ntop)
{
	*top = NULL;
	*ntop = 0;
	if (k > d->n)
		k = d->n;
	uint32_t *v = ins_big_malloc((k ? k : 1), sizeof(*v));
	if (!v)
		return ins_err_nomem();
	size_t m = 0;
	/* insertion into a sorted array of at most k: k is small (a --limit) */
	for (uint32_t x = 0; x < d->n && k; x++) {
		if (m == k && !before(d, x, v[m - 1]))
			continue;
		size_t i = m < k ? m++ : m - 1;
		while (i > 0 && before(d, x, v[i - 1])) {
			v[i] = v[i - 1];
			i--;
		}
		v[i] = x;
	}
	*top = v;
	*ntop = m;
	return NULL;
}

ins_error *ins_dominators_subtree(const ins_dominators *d, uint32_t x, uint32_t **nodes, size_t *n)
{
	*nodes = NULL;
	*n = 0;
	if (x >= d->n)
		return ins_err(INS_ERR_NOT_FOUND, "no such node");
	size_t want = d->count[x];
	uint32_t *v = ins_big_malloc(want, sizeof(*v));
	uint8_t *in = ins_big_calloc(d->n, 1);
	if (!v || !in) {
		free(v);
		free(in);
		return ins_err_nomem();
	}
	/* preorder puts every node after its idom: one pass marks the subtree */
	in[x] = 1;
	size_t m = 0;
	v[m++] = x;
	for (size_t i = 0; i < d->n && m < want; i++) {
		uint32_t y = d->order[i], up = d->idom[y];
		if (y != x && up != INS_DOM_ROOT && in[up]) {
			in[y] = 1;
			v[m++] = y;
		}
	}
	free(in);
	*nodes = v;
	*n = m;
	return NULL;
}

/* ---- the tree as children lists ---------------------------------------------- */

typedef struct ranked {
	uint64_t bytes;
	uint32_t count, node;
} ranked;

/* larger first, as before() */
static int cmp_ranked(const void *x, const void *y)
{
	const ranked *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->node < b->node ? -1 : a->node > b->node;
}

ins_error *ins_domtree_build(const ins_dominators *d, ins_domtree *t)
{
	size_t n = d->n;
	memset(t, 0, sizeof(*t));
	t->start = ins_big_calloc(n + 2, sizeof(uint64_t));
	t->kids = ins_big_malloc((n ? n : 1), sizeof(uint32_t));
	uint64_t *pos = ins_big_malloc((n + 1), sizeof(uint64_t));
	ranked *r = ins_big_malloc((n ? n : 1), sizeof(*r));
	if (!t->start || !t->kids || !pos || !r) {
		free(pos);
		free(r);
		ins_domtree_free(t);
		return ins_err_nomem();
	}
	for (size_t x = 0; x < n; x++) {
		r[x] = (ranked){ d->bytes[x], d->count[x], (uint32_t)x };
		uint32_t up = d->idom[x] == INS_DOM_ROOT ? (uint32_t)n : d->idom[x];
		t->start[up + 1]++;
	}
	for (size_t i = 1; i <= n + 1; i++)
		t->start[i] += t->start[i - 1];
	memcpy(pos, t->start, (n + 1) * sizeof(uint64_t));
	/* a stable distribution of the ranked nodes keeps each child list in rank order */
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = r[i].node, up = d->idom[x] == INS_DOM_ROOT ? (uint32_t)n : d->idom[x];
		t->kids[pos[up]++] = x;
	}
	free(pos);
	free(r);
	return NULL;
}

void ins_domtree_free(ins_domtree *t)
{
	free(t->start);
	free(t->kids);
	memset(t, 0, sizeof(*t));
}

typedef struct walk {
	uint32_t node, depth;
	uint64_t next, end;
} walk;

ins_error *ins_domtree_top(const ins_dominators *d, const ins_domtree *t, uint32_t x, size_t max_depth,
			   size_t per_node, ins_domitem **items, size_t *nitems)
{
	*items = NULL;
	*nitems = 0;
	if (x >= d->n)
		return ins_err(INS_ERR_NOT_FOUND, "no such node");
	/* the walk is as deep as the tree below x, at most */
	size_t cap = max_depth < d->n ? max_depth + 1 : d->n + 1, ncap = 64, m = 0, sp = 0;
	walk *stack = ins_big_malloc(cap, sizeof(*stack));
	ins_domitem *v = ins_big_malloc(ncap, sizeof(*v));
	if (!stack || !v) {
		free(stack);
		free(v);
		return ins_err_nomem();
	}
	uint64_t kids = t->start[x + 1] - t->start[x];
	v[m++] = (ins_domitem){ x, 0 };
	stack[sp++] = (walk){ x, 0, t->start[x], t->start[x] + (per_node && per_node < kids ? per_node : kids) };
	while (sp) {
		walk *w = &stack[sp - 1];
		if (w->depth >= max_depth || w->next >= w->end || sp >= cap) {
			sp--;
			continue;
		}
		uint32_t c = t->kids[w->next++];
		if (m == ncap) {
			ins_domitem *nv = ins_big_realloc(v, 2 * ncap, sizeof(*v));
			if (!nv) {
				free(stack);
				free(v);
				return ins_err_nomem();
			}
			v = nv;
			ncap *= 2;
		}
		uint32_t depth = w->depth + 1;
		v[m++] = (ins_domitem){ c, depth };
		kids = t->start[c + 1] - t->start[c];
		stack[sp++] = (walk){ c, depth, t->start[c], t->start[c] + (per_node && per_node < kids ? per_node : kids) };
	}
	free(stack);
	*items = v;
	*nitems = m;
	return NULL;
}

ins_error *ins_domtree_union(const ins_dominators *d, const ins_domtree *t, const uint32_t *group, size_t ngroups,
			     uint64_t *count, uint64_t *bytes)
{
	size_t n = d->n;
	walk *stack = ins_big_malloc((n + 1), sizeof(*stack));
	uint32_t *active = ins_big_calloc(ngroups ? ngroups : 1, sizeof(uint32_t));
	if (!stack || !active) {
		free(stack);
		free(active);
		return ins_err_nomem();
	}
	/* depth-first from the virtual root (node n): a member counts when no member of its
	 * group is above it on the path */
	size_t sp = 0;
	stack[sp++] = (walk){ (uint32_t)n, 0, t->start[n], t->start[n + 1] };
	while (sp) {
		walk *w = &stack[sp - 1];
		if (w->next >= w->end) {
			uint32_t x = w->node;
			if (x < n && group[x] < ngroups)
				active[group[x]]--;
			sp--;
			continue;
		}
		uint32_t c = t->kids[w->next++];
		uint32_t g = group[c];
		if (g < ngroups) {
			if (!active[g]) {
				count[g] += d->count[c];
				bytes[g] += d->bytes[c];
			}
			active[g]++;
		}
		if (sp > n) /* a tree of n nodes is no deeper than n */
			break;
		stack[sp++] = (walk){ c, 0, t->start[c], t->start[c + 1] };
	}
	free(stack);
	free(active);
	return NULL;
}
