/* collect.c -- the unreachable set and its cycles (see collect.h). */
#include "collect.h"
#include "bigmem.h"
#include "checked.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* ---------------------------------------------------------------- unreachable */

/* update_refs: gc_refs starts as the refcount, an untrusted 64-bit word. Unreadable
 * counts, and counts no object can have (negative, or more than half the address space),
 * are corruption: such an object is never collected. Every count is then at most
 * INT64_MAX / 2, and at least 0 less one per edge, so subtract_refs cannot overflow. */
static bool gc_refs_init(ins_session *s, uint32_t node, int64_t *refs, bool *immortal)
{
	*immortal = false;
	if (!ins_session_node_refcnt(s, node, refs, immortal) || *refs < 0 || *refs > INT64_MAX / 2) {
		*refs = INT64_MAX / 2;
		*immortal = false;
		return false;
	}
	return true;
}

#define IMMORTAL INT64_MIN  /* read_refs: an immortal object's count */

typedef struct refs_part {
	ins_session *s;
	int64_t *refs;
	size_t from, to;
} refs_part;

static void *read_part(void *arg)
{
	refs_part *r = arg;
	ins_session *s = r->s;
	const uint64_t *addr = s->graph->addr;
	/* the walk recorded most counts: the few others are read */
	bool recorded = s->heap.refcnt && ins_session_nodes_are_heap(s);
	for (size_t i = r->from; i < r->to; i++) {
		bool immortal;
		if (!recorded && i + INS_PREFETCH_AHEAD < r->to)
			ins_image_prefetch(s->img, addr[i + INS_PREFETCH_AHEAD] + (uint64_t)s->in->L.obj_refcnt);
		if (gc_refs_init(s, (uint32_t)i, &r->refs[i], &immortal) && immortal)
			r->refs[i] = IMMORTAL;
	}
	return NULL;
}

/* update_refs' counts of the tracked nodes, refs[i] for node i (IMMORTAL for an immortal
 * object), read in two halves by two threads: each read is a likely cache miss. */
static int64_t *read_refs(ins_session *s)
{
	size_t nt = s->graph->ntracked, half = ins_session_threads(nt) > 1 ? nt / 2 : nt;
	int64_t *refs = ins_big_malloc((nt ? nt : 1), sizeof(*refs));
	refs_part r[2] = { { s, refs, 0, half }, { s, refs, half, nt } };
	if (refs)
		ins_run_two(read_part, &r[0], half < nt ? &r[1] : NULL);
	return refs;
}

/* update_refs + subtract_refs + move_unreachable over the graph: marks[i] = 1 for the
 * tracked objects a full collection keeps. */
static ins_error *reachable(ins_session *s, uint8_t *marks, uint32_t *queue)
{
	const ins_graph *g = s->graph;
	size_t nt = g->ntracked;
	int64_t *refs = read_refs(s);
	if (!refs)
		return ins_err_nomem();
	for (size_t i = 0; i < nt; i++)
		if (refs[i] == IMMORTAL)
			refs[i] = INT64_MAX / 2;  /* unreadable or immortal: never collected */
	for (size_t i = 0; i < nt; i++)
		for (uint64_t e = g->out_start[i]; e < g->out_start[i + 1]; e++)
			if (g->out[e] < nt && !(ins_graph_edge_flags(g, e) & INS_EF_BORROWED))
				refs[g->out[e]]--;  /* subtract_refs: a borrowed _PyStackRef is not */
	size_t tail = 0;
	for (size_t i = 0; i < nt; i++)
		if (refs[i] > 0) {
			marks[i] = 1;
			queue[tail++] = (uint32_t)i;
		}
	free(refs);
	for (size_t head = 0; head < tail; head++)
		for (uint64_t e = g->out_start[queue[head]]; e < g->out_start[queue[head] + 1]; e++) {
			uint32_t t = g->out[e];
			if (t < nt && !marks[t]) {
				marks[t] = 1;
				queue[tail++] = t;
			}
		}
	return NULL;
}

/* ---------------------------------------------------------------- strongly connected components */

/* Tarjan's algorithm without recursion, over the unreachable nodes (local numbers 0..n-1)
 * and the edges between them: comp[v] = its component's number. */
typedef struct tarjan {
	const ins_graph *g;
	const uint32_t *local;  /* node -> local number, NONE if reachable */
	const uint32_t *nodes;  /* local -> node */
	size_t n;
	uint32_t *index, *low, *comp, *stack, *call, *next;
	uint8_t *on;
	size_t ncomp;
} tarjan;

static void strongconnect(tarjan *t, uint32_t root, uint32_t *counter)
{
	const ins_graph *g = t->g;
	size_t sp = 0, cp = 0;
	t->call[cp++] = root;
	t->index[root] = t->low[root] = (*counter)++;
	t->stack[sp++] = root;
	t->on[root] = 1;
	t->next[root] = 0;
	while (cp) {
		uint32_t v = t->call[cp - 1], node = t->nodes[v];
		uint64_t e = g->out_start[node] + t->next[v];
		bool descended = false;
		for (; e < g->out_start[node + 1]; e++) {
			uint32_t w = t->local[g->out[e]];
			if (w == NONE)
				continue;
			if (t->index[w] == NONE) {
				t->next[v] = (uint32_t)(e + 1 - g->out_start[node]);
				t->index[w] = t->low[w] = (*counter)++;
				t->stack[sp++] = w;
				t->on[w] = 1;
				t->next[w] = 0;
				t->call[cp++] = w;
				descended = true;
				break;
			}
			if (t->on[w] && t->index[w] < t->low[v])
				t->low[v] = t->index[w];
		}
		if (descended)
			continue;
		if (t->low[v] == t->index[v]) {
			uint32_t w;
			do {
				w = t->stack[--sp];
				t->on[w] = 0;
				t->comp[w] = (uint32_t)t->ncomp;
			} while (w != v);
			t->ncomp++;
		}
		cp--;
		if (cp) {
			uint32_t u = t->call[cp - 1];
			if (t->low[v] < t->low[u])
				t->low[u] = t->low[v];
		}
	}
}

/* ---------------------------------------------------------------- cycles */

static bool self_loop(const ins_graph *g, uint32_t node)
{
	for (uint64_t e = g->out_start[node]; e < g->out_start[node + 1]; e++)
		if (g->out[e] == node)
			return true;
	return false;
}

static uint64_t size_of(ins_session *s, uint32_t node)
{
	uint64_t addr = s->graph->addr[node];
	const ins_type *t = ins_obj_type(&s->objs, addr);
	return t ? ins_obj_size(&s->objs, addr, t) : 0;
}

/* Orders a component's members: first a shortest cycle through its first member (found
 * breadth-first inside the component), then the others in breadth-first order. */
static void order_members(const tarjan *t, uint32_t c, ins_cycle *cy, uint32_t *parent, uint32_t *queue,
			  uint8_t *placed)
{
	const ins_graph *g = t->g;
	uint32_t first = cy->members[0], back = NONE;
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < cy->n; i++)
		parent[t->local[cy->members[i]]] = NONE;
	queue[tail++] = first;
	parent[t->local[first]] = first;
	for (; head < tail; head++) {
		uint32_t x = queue[head];
		for (uint64_t e = g->out_start[x]; e < g->out_start[x + 1]; e++) {
			uint32_t y = g->out[e], ly = t->local[y];
			if (ly == NONE || t->comp[ly] != c)
				continue;
			if (y == first && back == NONE)
				back = x;
			if (parent[ly] == NONE) {
				parent[ly] = x;
				queue[tail++] = y;
			}
		}
	}
	/* the cycle: first .. back along parents, reversed */
	size_t k = 0;
	if (back != NONE && back != first) {
		size_t len = 0;
		for (uint32_t x = back; x != first; x = parent[t->local[x]])
			len++;
		k = len + 1;
		cy->members[0] = first;
		size_t i = len;
		for (uint32_t x = back; x != first; x = parent[t->local[x]])
			cy->members[i--] = x;
	} else {
		cy->members[0] = first;
		k = 1;
	}
	cy->path = k;
	/* then the rest, in breadth-first order (queue holds every member) */
	for (size_t i = 0; i < k; i++)
		placed[t->local[cy->members[i]]] = 1;
	for (size_t q = 0; q < tail && k < cy->n; q++)
		if (!placed[t->local[queue[q]]])
			cy->members[k++] = queue[q];
	for (size_t i = 0; i < k; i++)
		placed[t->local[cy->members[i]]] = 0;
}

static int cmp_cycles(const void *x, const void *y)
{
	const ins_cycle *a = x, *b = y;
	size_t na = a->n + a->held, nb = b->n + b->held;
	if (na != nb)
		return na > nb ? -1 : 1;
	if (a->bytes + a->held_bytes != b->bytes + b->held_bytes)
		return a->bytes + a->held_bytes > b->bytes + b->held_bytes ? -1 : 1;
	return a->members[0] < b->members[0] ? -1 : 1;
}

static ins_error *find_cycles(ins_session *s, ins_collect *out, const uint32_t *local)
{
	const ins_graph *g = s->graph;
	size_t n = out->n;
	tarjan t = { .g = g, .local = local, .nodes = out->unreachable, .n = n };
	size_t words = n ? n : 1;
	t.index = ins_big_malloc(words, sizeof(uint32_t));
	t.low = ins_big_malloc(words, sizeof(uint32_t));
	t.comp = ins_big_malloc(words, sizeof(uint32_t));
	t.stack = ins_big_malloc(words, sizeof(uint32_t));
	t.call = ins_big_malloc(words, sizeof(uint32_t));
	t.next = ins_big_malloc(words, sizeof(uint32_t));
	t.on = ins_big_calloc(words, 1);
	size_t *count = NULL;
	uint32_t *at = NULL, *claim = NULL;
	ins_error *err = NULL;
	if (!t.index || !t.low || !t.comp || !t.stack || !t.call || !t.next || !t.on) {
		err = ins_err_nomem();
		goto done;
	}
	memset(t.index, 0xff, words * sizeof(uint32_t));
	uint32_t counter = 0;
	for (size_t v = 0; v < n; v++)
		if (t.index[v] == NONE)
			strongconnect(&t, (uint32_t)v, &counter);
	/* components that are cycles: several members, or one referring to itself */
	count = ins_big_calloc(t.ncomp ? t.ncomp : 1, sizeof(*count));
	at = ins_big_malloc((t.ncomp ? t.ncomp : 1), sizeof(*at));
	if (!count || !at) {
		err = ins_err_nomem();
		goto done;
	}
	for (size_t v = 0; v < n; v++)
		count[t.comp[v]]++;
	for (size_t c = 0; c < t.ncomp; c++)
		at[c] = NONE;
	for (size_t v = 0; v < n; v++) {
		uint32_t c = t.comp[v];
		if (at[c] == NONE && (count[c] > 1 || self_loop(g, out->unreachable[v])))
			at[c] = (uint32_t)out->ncycles++;
	}
	out->cycles = ins_big_calloc(out->ncycles ? out->ncycles : 1, sizeof(*out->cycles));
	if (!out->cycles) {
		err = ins_err_nomem();
		goto done;
	}
	for (size_t v = 0; v < n; v++) {  /* heap order: a cycle's first member is its oldest */
		uint32_t c = t.comp[v];
		if (at[c] == NONE)
			continue;
		ins_cycle *cy = &out->cycles[at[c]];
		if (!cy->members && !(cy->members = ins_big_malloc(count[c], sizeof(*cy->members)))) {
			err = ins_err_nomem();
			goto done;
		}
		cy->members[cy->n++] = out->unreachable[v];
		cy->bytes += size_of(s, out->unreachable[v]);
	}
	/* t.stack, t.call and t.on (all 0) are free again: scratch for ordering and claiming */
	for (size_t c = 0; c < t.ncomp; c++)
		if (at[c] != NONE)
			order_members(&t, (uint32_t)c, &out->cycles[at[c]], t.stack, t.call, t.on);
	/* what each cycle holds: the unreachable objects outside cycles it leads to, each
	 * counted for the first cycle (largest first) that reaches it */
	qsort(out->cycles, out->ncycles, sizeof(*out->cycles), cmp_cycles);
	claim = ins_big_calloc(words, sizeof(*claim));
	if (!claim) {
		err = ins_err_nomem();
		goto done;
	}
	for (size_t v = 0; v < n; v++)
		claim[v] = at[t.comp[v]] == NONE ? 0 : 1;  /* 1: in a cycle */
	for (size_t k = 0; k < out->ncycles; k++) {
		ins_cycle *cy = &out->cycles[k];
		size_t head = 0, tail = 0;
		for (size_t i = 0; i < cy->n; i++)
			t.call[tail++] = cy->members[i];
		for (; head < tail; head++)
			for (uint64_t e = g->out_start[t.call[head]]; e < g->out_start[t.call[head] + 1]; e++) {
				uint32_t y = local[g->out[e]];
				if (y == NONE || claim[y])
					continue;
				claim[y] = 2;
				cy->held++;
				cy->held_bytes += size_of(s, g->out[e]);
				t.call[tail++] = g->out[e];
			}
	}
	qsort(out->cycles, out->ncycles, sizeof(*out->cycles), cmp_cycles);
done:
	free(t.index);
	free(t.low);
	free(t.comp);
	free(t.stack);
	free(t.call);
	free(t.next);
	free(t.on);
	free(count);
	free(at);
	free(claim);
	return err;
}

ins_error *ins_collect_run(ins_session *s, ins_collect *out)
{
	memset(out, 0, sizeof(*out));
	ins_error *err = ins_session_graph_tracked(s);
	if (err)
		return err;
	const ins_graph *g = s->graph;
	size_t nt = g->ntracked, words = g->n ? g->n : 1;
	uint8_t *marks = ins_big_calloc(words, 1);
	uint32_t *queue = ins_big_malloc(words, sizeof(*queue)), *local = ins_big_malloc(words, sizeof(*local));
	if (!marks || !queue || !local) {
		err = ins_err_nomem();
		goto done;
	}
	if ((err = reachable(s, marks, queue)))
		goto done;
	for (size_t i = 0; i < g->n; i++)
		local[i] = NONE;
	for (size_t i = 0; i < nt; i++)
		if (!marks[i]) {
			local[i] = (uint32_t)out->n;
			queue[out->n++] = (uint32_t)i;
		}
	out->unreachable = ins_big_malloc((out->n ? out->n : 1), sizeof(*out->unreachable));
	if (!out->unreachable) {
		err = ins_err_nomem();
		goto done;
	}
	memcpy(out->unreachable, queue, out->n * sizeof(*queue));
	err = find_cycles(s, out, local);
done:
	free(marks);
	free(queue);
	free(local);
	if (err)
		ins_collect_free(out);
	return err;
}

/* ---------------------------------------------------------------- survivors */

enum { S_OUT, S_YOUNG, S_UNREACHABLE, S_REACHABLE, S_GARBAGE };

typedef struct gc_sim {
	ins_session *s;
	const ins_graph *g;
	ins_objects *objs;      /* the session's, or a thread's fork of it */
	uint8_t *untracked;     /* per node: untracked by the collection */
	bool exact;             /* look the tuples' state up in untracked (else MB_TUPLE) */
} gc_sim;

/* _PyObject_GC_MAY_BE_TRACKED, in three answers: no, yes, or (a tuple on a GC list, frozen
 * ones too) as untrack_tuples leaves it, which with m->exact is looked up: yes unless
 * untracked so far. In order: the worst of several. */
enum { MB_NO, MB_TUPLE, MB_YES };

/* PyObject_IS_GC: an instance of a GC type; a type object only when it is a heap type
 * (type's tp_is_gc, inherited by metaclasses). */
static bool is_gc(gc_sim *m, uint64_t addr, uint64_t type)
{
	const ins_layout *L = &m->s->in->L;
	const ins_type *t = ins_type_info(m->objs, type);
	if (!t || L->tpflag_have_gc <= 0 || !(t->flags & (uint64_t)L->tpflag_have_gc))
		return false;
	if (t->kind != INS_K_TYPE)
		return true;
	const ins_type *self = ins_type_info(m->objs, addr);
	return self && self->heap;
}

/* May the object at addr be tracked? An unreadable object counts as tracked (its container
 * stays). */
static int may_be_tracked(gc_sim *m, uint64_t addr)
{
	ins_session *s = m->s;
	uint64_t type = ins_image_word(s->img, addr, s->in->L.obj_type);
	uint32_t node;
	if (!type)
		return MB_YES;
	if (!is_gc(m, addr, type))
		return MB_NO;
	if (type != s->in->T.tuple)
		return MB_YES;
	if (!ins_graph_node(m->g, addr, &node) || node >= m->g->nheap)
		return MB_NO;  /* not on any GC list */
	return !m->exact ? MB_TUPLE : m->untracked[node] ? MB_NO : MB_YES;
}

/* _PyTuple_MaybeUntrack (MB_NO: untracked): every item there (a NULL item keeps it; so does
 * an array that is not all in the image) and none that may be tracked. The items are read
 * from the tuple, as the collection's graph has edges to tracked objects only. */
static int tuple_state(gc_sim *m, uint32_t x)
{
	const ins_layout *L = &m->s->in->L;
	uint64_t addr = m->g->addr[x], end;
	int64_t size;
	if (L->tuple_item <= 0 || !ins_image_i64(m->s->img, addr + (uint64_t)L->var_size, &size) ||
	    !ins_span(addr + (uint64_t)L->tuple_item, size, 8, &end))
		return MB_YES;
	uint64_t items = addr + (uint64_t)L->tuple_item;
	const uint8_t *p = ins_image_ptr(m->s->img, items, (size_t)size * 8);
	if (!p && size)
		return MB_YES;
	int st = MB_NO;
	for (int64_t i = 0; i < size && st != MB_YES; i++) {
		uint64_t item;
		memcpy(&item, p + i * 8, 8);
		int it = item ? may_be_tracked(m, item) : MB_YES;
		st = it > st ? it : st;
	}
	return st;
}

typedef struct dict_check {
	gc_sim *m;
	int st;
} dict_check;

static bool dict_item(void *arg, uint64_t key, uint64_t value)
{
	dict_check *d = arg;
	int v = may_be_tracked(d->m, value);
	if (v != MB_YES) {
		int k = may_be_tracked(d->m, key);
		v = k > v ? k : v;
	}
	d->st = v > d->st ? v : d->st;
	return d->st != MB_YES;
}

/* _PyDict_MaybeUntrack: no key or value that may be tracked (the values of every layout:
 * combined, split, 3.13's embedded in their owner; keys of str-keyed tables are str). */
static int dict_state(gc_sim *m, uint32_t x)
{
	dict_check d = { m, MB_NO };
	return ins_dict_items(m->objs, m->g->addr[x], dict_item, &d) ? d.st : MB_YES;
}

/* ---------------------------------------------------------------- untracking, in two threads
 * Which tuples and dicts among the survivors the collection untracks: each is worked out apart
 * (two threads, each with its own fork of the decoder) as far as the others do not matter --
 * an item that keeps it, or none that could -- and only those holding tuples on the GC lists
 * are decided again in the collection's order, which is what their answer depends on. */

enum { K_TUPLE = 4, K_DICT = 8 };  /* with an MB_ state: what state[i] holds */

typedef struct untrack_part {
	gc_sim m;
	ins_objects objs;
	const uint32_t *order;
	uint8_t *state;
	size_t from, to;
} untrack_part;

static void *classify(void *arg)
{
	untrack_part *u = arg;
	ins_session *s = u->m.s;
	bool dicts = s->in->L.gc_untrack_dicts > 0;  /* not 3.14+ */
	for (size_t i = u->from; i < u->to; i++) {
		uint32_t x = u->order[i];
		if (i + INS_PREFETCH_AHEAD < u->to)
			ins_image_prefetch(s->img, u->m.g->addr[u->order[i + INS_PREFETCH_AHEAD]] + (uint64_t)s->in->L.obj_type);
		uint64_t type = ins_image_word(s->img, u->m.g->addr[x], s->in->L.obj_type);
		if (type && type == s->in->T.tuple)
			u->state[i] = (uint8_t)(K_TUPLE | tuple_state(&u->m, x));
		else if (type && type == s->in->T.dict && dicts)
			u->state[i] = (uint8_t)(K_DICT | dict_state(&u->m, x));
	}
	return NULL;
}

/* untrack_tuples over the survivors in their order, then untrack_dicts. */
static ins_error *untrack(gc_sim *m, const uint32_t *order, size_t norder, ins_survivors *out)
{
	uint8_t *state = ins_big_calloc(norder ? norder : 1, 1);
	if (!state)
		return ins_err_nomem();
	/* two threads: each with a fork of the decoder; one: the session's, alone */
	untrack_part u[2];
	int parts = ins_session_threads(norder) > 1 ? 2 : 1;
	for (int k = 0; k < parts; k++) {
		u[k] = (untrack_part){ .m = *m, .order = order, .state = state };
		u[k].from = k ? norder / 2 : 0;
		u[k].to = k || parts == 1 ? norder : norder / 2;
		u[k].m.exact = false;
		if (parts == 2) {
			ins_objects_fork(&u[k].objs, m->objs);
			u[k].m.objs = &u[k].objs;
		}
	}
	ins_run_two(classify, &u[0], parts == 2 ? &u[1] : NULL);
	if (parts == 2) {
		ins_objects_free(&u[0].objs);
		ins_objects_free(&u[1].objs);
	}
	m->exact = true;
	for (int kind = K_TUPLE; kind <= K_DICT; kind *= 2)
		for (size_t i = 0; i < norder; i++) {
			if (!(state[i] & kind))
				continue;
			uint32_t x = order[i];
			int st = state[i] & 3;
			if (st == MB_TUPLE)
				st = kind == K_TUPLE ? tuple_state(m, x) : dict_state(m, x);
			if (st == MB_NO) {
				m->untracked[x] = 1;
				if (kind == K_TUPLE)
					out->tuples++;
				else
					out->dicts++;
			}
		}
	free(state);
	return NULL;
}

/* has_legacy_finalizer (3.x: a C tp_del) / 2.7's has_finalizer: a classic instance with
 * __del__, or a heap type's tp_del (a class defining __del__). */
static bool legacy_finalizer(ins_session *s, uint64_t addr)
{
	const ins_type *t = ins_obj_type(&s->objs, addr);
	enum ins_finalizer f = t ? ins_type_finalizer(&s->objs, t) : INS_FIN_NONE;
	if (s->in->major == 2)
		return f == INS_FIN_DEL || (f == INS_FIN_TP_DEL && t->heap);
	return f == INS_FIN_TP_DEL;
}

ins_error *ins_collect_survivors(ins_session *s, ins_survivors *out)
{
	memset(out, 0, sizeof(*out));
	ins_error *err = ins_session_graph_tracked(s);
	if (err)
		return err;
	const ins_graph *g = s->graph;
	const ins_heap *h = &s->heap;
	size_t nt = g->ntracked, words = g->n ? g->n : 1;
	int64_t *refs = read_refs(s);
	uint8_t *state = ins_big_calloc(words, 1);  /* S_OUT: not collected (frozen, untracked) */
	/* the young list, consumed from its head: the unreachable objects go in the part behind
	 * it (one each, taken from the head); the reachable ones, in their order, become the
	 * survivors in place. Pages no entry reaches cost nothing. */
	uint32_t *young = ins_big_malloc((2 * nt + 1), sizeof(*young)), *unreach = young;
	uint32_t *order = ins_big_malloc((nt + 1), sizeof(*order));
	gc_sim m = { .s = s, .g = g, .objs = &s->objs, .untracked = ins_big_calloc(words, 1) };
	out->alive = ins_big_calloc(words, 1);
	if (!refs || !state || !young || !order || !m.untracked || !out->alive) {
		err = ins_err_nomem();
		goto done;
	}
	/* the young list: the oldest generation with the younger ones appended in order;
	 * 3.12+ update_refs moves immortal objects to the permanent generation */
	size_t tail = 0;
	int ng = h->ngens;
	bool same = ins_session_nodes_are_heap(s);  /* heap object i is node i */
	for (int k = 0; k < ng; k++) {
		int gen = k == 0 ? ng - 1 : k - 1;
		for (size_t i = h->gen_start[gen]; i < h->gen_start[gen + 1]; i++) {
			uint32_t x = (uint32_t)i;
			if (!same && !ins_graph_node(g, h->objs[i], &x))
				continue;
			if (x >= nt || state[x] != S_OUT)
				continue;  /* listed twice (a corrupt list) */
			if (refs[x] == IMMORTAL) {
				out->immortal++;
				continue;
			}
			state[x] = S_YOUNG;
			young[tail++] = x;
		}
	}
	/* subtract_refs */
	for (size_t i = 0; i < tail; i++)
		for (uint64_t e = g->out_start[young[i]]; e < g->out_start[young[i] + 1]; e++)
			if (state[g->out[e]] == S_YOUNG && !(ins_graph_edge_flags(g, e) & INS_EF_BORROWED))
				refs[g->out[e]]--;
	/* move_unreachable, in its order */
	size_t norder = 0, nun = 0;
	for (size_t head = 0; head < tail; head++) {
		uint32_t x = young[head];
		if (refs[x] <= 0) {
			state[x] = S_UNREACHABLE;
			unreach[nun++] = x;
			continue;
		}
		state[x] = S_REACHABLE;
		order[norder++] = x;
		for (uint64_t e = g->out_start[x]; e < g->out_start[x + 1]; e++) {
			uint32_t t = g->out[e];
			if (state[t] == S_UNREACHABLE) {  /* back to the end of the young list */
				state[t] = S_YOUNG;
				refs[t] = 1;
				young[tail++] = t;
			} else if (state[t] == S_YOUNG && refs[t] <= 0) {
				refs[t] = 1;
			}
		}
	}
	if ((err = untrack(&m, order, norder, out)))
		goto done;
	out->nodes = order;  /* filtered in place; with the garbage below, at most nt */
	order = NULL;
	for (size_t i = 0; i < norder; i++)
		if (!m.untracked[out->nodes[i]])
			out->nodes[out->n++] = out->nodes[i];
	/* the unreachable objects with legacy finalizers and what they reach stay tracked,
	 * after the survivors (move_legacy_finalizers: in the unreachable list's order) */
	size_t first = out->n;
	for (size_t i = 0; i < nun; i++)
		if (state[unreach[i]] == S_UNREACHABLE && legacy_finalizer(s, g->addr[unreach[i]])) {
			state[unreach[i]] = S_GARBAGE;
			out->nodes[out->n++] = unreach[i];
		}
	for (size_t k = first; k < out->n; k++)
		for (uint64_t e = g->out_start[out->nodes[k]]; e < g->out_start[out->nodes[k] + 1]; e++)
			if (state[g->out[e]] == S_UNREACHABLE) {
				state[g->out[e]] = S_GARBAGE;
				out->nodes[out->n++] = g->out[e];
			}
	out->uncollectable = out->n - first;
	for (size_t i = 0; i < nun; i++)
		out->freed += state[unreach[i]] == S_UNREACHABLE;
	for (size_t i = 0; i < out->n; i++)
		out->alive[out->nodes[i]] = 1;
done:
	free(refs);
	free(state);
	free(young);
	free(order);
	free(m.untracked);
	if (err)
		ins_survivors_free(out);
	return err;
}

void ins_survivors_free(ins_survivors *sv)
{
	free(sv->alive);
	free(sv->nodes);
	memset(sv, 0, sizeof(*sv));
}

void ins_collect_free(ins_collect *c)
{
	for (size_t i = 0; i < c->ncycles; i++)
		free(c->cycles[i].members);
	free(c->cycles);
	free(c->unreachable);
	memset(c, 0, sizeof(*c));
}
