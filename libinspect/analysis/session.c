/* session.c -- opening an image down to its heap, and per-type statistics. */
#define _GNU_SOURCE  /* strdup */
#include "session.h"

#include "dominators.h"
#include "gindex.h"
#include "graph.h"
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ins_error *ins_session_open(const ins_source *src, ins_buf *warn, ins_session **out)
{
	ins_session *s = calloc(1, sizeof(*s));
	if (!s)
		return ins_err_nomem();
	ins_error *err = ins_image_open(src, warn, &s->img);
	if (!err)
		err = ins_interp_find(s->img, warn, &s->in);
	if (err) {
		ins_session_close(s);
		return err;
	}
	ins_objects_init(&s->objs, s->img, s->in);
	s->warn = warn;
	*out = s;
	return NULL;
}

/* ---- the saved index ---------------------------------------------------------- */

ins_error *ins_session_set_index(ins_session *s, const char *core, const char *path, enum ins_index_mode mode)
{
	free(s->core_path);
	free(s->index_path);
	s->core_path = s->index_path = NULL;
	s->index_mode = INS_INDEX_OFF;
	if (!core || s->img->kind != INS_IMAGE_CORE)
		return NULL;  /* a live process: no index */
	s->core_path = strdup(core);
	s->index_path = path ? strdup(path) : ins_gindex_default_path(core);
	if (!s->core_path || !s->index_path)
		return ins_err_nomem();
	s->index_mode = mode;
	return NULL;
}

static void index_broken(ins_session *s, const char *why)
{
	if (!s->index_broken)
		ins_buf_printf(s->warn, "warning: ignoring corrupt index %s: %s\n", s->index_path, why);
	s->index_broken = true;
}

/* The index to read from, opened the first time: NULL when there is none to use. */
static ins_gindex *session_index(ins_session *s)
{
	if (!s->index_tried && s->index_mode != INS_INDEX_OFF && s->index_path) {
		s->index_tried = true;
		const char *why = NULL;
		enum ins_gi_status st = ins_gindex_open(s, s->core_path, s->index_path, &s->gindex, &why);
		if (st == INS_GI_STALE || st == INS_GI_CORRUPT)
			ins_buf_printf(s->warn, "warning: ignoring %s index %s: %s\n", st == INS_GI_STALE ? "stale" : "corrupt",
				       s->index_path, why);
	}
	return s->index_broken ? NULL : s->gindex;
}

bool ins_session_nodes_are_heap(const ins_session *s)
{
	return s->graph && s->graph->nheap == s->heap.n;
}

bool ins_session_node_refcnt(ins_session *s, uint32_t node, int64_t *refcnt, bool *immortal)
{
	const ins_heap *h = &s->heap;
	if (h->refcnt && ins_session_nodes_are_heap(s) && node < h->n && h->refcnt[node] != INS_REFCNT_AGAIN) {
		*refcnt = h->refcnt[node];
		*immortal = false;
		return true;
	}
	return ins_obj_refcnt(&s->objs, s->graph->addr[node], refcnt, immortal);
}

/* A scan accepts only words that are addresses of objects on the GC lists (graph.c's). */
static bool is_heap_object(void *arg, uint64_t addr)
{
	const ins_graph *g = arg;
	uint32_t node;
	return ins_graph_node(g, addr, &node) && node < g->nheap;
}

/* s->graph from the index when there is a valid one (the heap too, first, as a build would). */
static ins_error *index_graph(ins_session *s)
{
	if (!session_index(s))
		return NULL;
	ins_error *err = ins_session_heap(s);
	ins_gindex *gi = session_index(s);
	if (err || !gi)
		return err;
	ins_graph *g = calloc(1, sizeof(*g));
	if (!g)
		return ins_err_nomem();
	const char *why;
	if (!ins_gindex_graph(gi, g, &why)) {
		free(g);
		index_broken(s, why);
		return NULL;
	}
	ins_trav_set_scan(s->trav, is_heap_object, g);
	ins_gindex_emu_stats(gi, &s->emu_saved[0], &s->emu_saved[1], &s->emu_saved[2]);
	s->graph = g;
	s->graph_mapped = true;
	ins_gindex_replay(gi, INS_GI_STEP_GRAPH, s->warn);
	return NULL;
}

bool ins_session_index_dominators(ins_session *s, ins_dominators *out)
{
	ins_gindex *gi = s->graph_mapped ? session_index(s) : NULL;
	const char *why;
	if (!gi || !ins_gindex_has_dominators(gi))
		return false;
	if (!ins_gindex_dominators(gi, out, &why)) {
		index_broken(s, why);
		return false;
	}
	ins_gindex_replay(gi, INS_GI_STEP_DOM, s->warn);
	return true;
}

void ins_session_emu_stats(ins_session *s, uint64_t *emulated, uint64_t *failed, uint64_t *wrote)
{
	*emulated = *failed = *wrote = 0;
	if (s->trav)
		ins_trav_emu_stats(s->trav, emulated, failed, wrote);
	*emulated += s->emu_saved[0];
	*failed += s->emu_saved[1];
	*wrote += s->emu_saved[2];
}

/* Forgets the heap, graph and traversal built so far (to read them from the index). */
static void drop_built(ins_session *s)
{
	if (s->graph && !s->graph_mapped)
		ins_graph_free(s->graph);
	free(s->graph);
	s->graph = NULL;
	if (!s->heap_mapped)
		ins_heap_free(&s->heap);
	memset(&s->heap, 0, sizeof(s->heap));
	s->walked = s->heap_mapped = s->graph_mapped = false;
	ins_trav_free(s->trav);
	s->trav = NULL;
	memset(s->emu_saved, 0, sizeof(s->emu_saved));
}

/* Builds everything into s with each step's warnings kept apart in w, and writes it. */
static ins_error *build_and_write(ins_session *s, ins_buf w[INS_GI_NSTEPS], ins_gindex_info *info)
{
	ins_buf *keep = s->warn;
	ins_dominators d = { 0 };
	s->warn = &w[INS_GI_STEP_HEAP];
	ins_error *err = ins_session_heap(s);
	s->warn = &w[INS_GI_STEP_GRAPH];
	if (!err)
		err = ins_session_graph(s);
	s->warn = &w[INS_GI_STEP_DOM];
	if (!err)
		err = ins_dominators_build(s, &d);
	s->warn = keep;
	if (!err) {
		const ins_buf *text[INS_GI_NSTEPS] = { &w[0], &w[1], &w[2] };
		uint64_t emu[3];
		ins_session_emu_stats(s, &emu[0], &emu[1], &emu[2]);
		err = ins_gindex_write(s, s->core_path, s->index_path, &d, text, emu, info);
	}
	ins_dominators_free(&d);
	return err;
}

static void put_warnings(ins_buf *to, ins_buf w[INS_GI_NSTEPS])
{
	for (int i = 0; i < INS_GI_NSTEPS; i++) {
		if (w[i].len)
			ins_buf_putn(to, w[i].data, w[i].len);
		ins_buf_free(&w[i]);
	}
}

ins_error *ins_session_write_index(ins_session *s, ins_gindex_info *info)
{
	if (!s->index_path)
		return ins_err(INS_ERR_USAGE, "an index is made of a core file, not of a live process");
	ins_buf w[INS_GI_NSTEPS] = { 0 };
	ins_error *err = build_and_write(s, w, info);
	put_warnings(s->warn, w);
	return err;
}

ins_error *ins_session_prepare_index(ins_session *s)
{
	if (s->index_mode != INS_INDEX_WRITE || s->walked || s->graph)
		return NULL;
	ins_gindex *gi = session_index(s);
	const char *why;
	if (gi && ins_gindex_check(gi, &why))
		return NULL;
	if (gi) {
		index_broken(s, why);
		ins_gindex_close(s->gindex);
		s->gindex = NULL;
	}
	ins_buf w[INS_GI_NSTEPS] = { 0 };
	ins_error *err = build_and_write(s, w, NULL);
	if (err && (err->code == INS_ERR_OS || err->code == INS_ERR_NOMEM) && s->walked && s->graph) {
		/* not written: answer from what was built */
		ins_buf_printf(s->warn, "warning: %s\n", err->message);
		ins_error_free(err);
		put_warnings(s->warn, w);
		return NULL;
	}
	for (int i = 0; i < INS_GI_NSTEPS; i++)
		ins_buf_free(&w[i]);
	if (err)
		return err;
	/* read back what was written, as any later command will */
	drop_built(s);
	s->index_tried = s->index_broken = false;
	return NULL;
}

/* ---- the heap walk and the graph ------------------------------------------------ */

ins_error *ins_session_heap(ins_session *s)
{
	if (s->walked)
		return NULL;
	ins_gindex *gi = session_index(s);
	const char *why;
	if (gi && ins_gindex_heap(gi, &s->heap, &why)) {
		s->walked = s->heap_mapped = true;
		ins_gindex_replay(gi, INS_GI_STEP_HEAP, s->warn);
		return NULL;
	}
	if (gi)
		index_broken(s, why);
	ins_error *err = ins_heap_walk(s->img, s->in, s->warn, ins_session_threads(SIZE_MAX), &s->heap);
	s->walked = !err;
	return err;
}

unsigned ins_session_threads(size_t work)
{
	/* OBJINSPECT_THREADS=1 or 2: that many, whatever the machine and the work (tests
	 * compare the two) */
	const char *v = getenv("OBJINSPECT_THREADS");
	if (v && (strcmp(v, "1") == 0 || strcmp(v, "2") == 0))
		return (unsigned)(v[0] - '0');
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 1 && work >= INS_THREADS_MIN ? 2 : 1;
}

void ins_run_two(void *(*fn)(void *), void *first, void *second)
{
	pthread_t th;
	if (!second) {
		fn(first);
		return;
	}
	bool threaded = pthread_create(&th, NULL, fn, second) == 0;
	fn(first);
	if (threaded)
		pthread_join(th, NULL);
	else
		fn(second);
}

/* The fs base emulated C functions see for their thread-local variables: that of the
 * thread holding the GIL, else of the first thread (a Python thread id is its
 * pthread_self(), which on x86-64 glibc is the thread's TCB, the fs base). Warnings about
 * the thread list are left to the commands that show threads. */
static uint64_t emulation_tls(ins_session *s)
{
	ins_buf quiet = { 0 }, *warn = s->warn;
	ins_threads th;
	uint64_t fs = 0;
	s->warn = &quiet;
	ins_error *err = ins_threads_read(&s->objs, s->warn, false, &th);
	s->warn = warn;
	ins_buf_free(&quiet);
	if (err) {
		ins_error_free(err);
		return 0;
	}
	for (size_t i = 0; i < th.n; i++)
		if (!fs || th.v[i].gil)
			fs = th.v[i].thread_id;
	ins_threads_free(&th);
	return fs;
}

ins_error *ins_session_trav(ins_session *s)
{
	if (s->trav)
		return NULL;
	if (!(s->trav = ins_trav_new(&s->objs)))
		return ins_err_nomem();
	/* OBJINSPECT_EMULATION=0: native routines and scans only (for comparisons) */
	const char *emu = getenv("OBJINSPECT_EMULATION");
	ins_trav_set_emulation(s->trav, !emu || strcmp(emu, "0") != 0);
	ins_trav_set_tls(s->trav, emulation_tls(s));
	return NULL;
}

static ins_error *make_graph(ins_session *s, bool tracked_only)
{
	ins_error *err = ins_session_trav(s);
	if (err)
		return err;
	if ((err = index_graph(s)) || s->graph)
		return err;  /* read from the saved index (a whole graph) */
	ins_graph *g = calloc(1, sizeof(*g));
	if (!g)
		return ins_err_nomem();
	err = tracked_only ? ins_graph_build_tracked(s, s->trav, g) : ins_graph_build(s, s->trav, g);
	if (err) {
		ins_graph_free(g);
		free(g);
		return err;
	}
	s->graph = g;
	return NULL;
}

ins_error *ins_session_graph(ins_session *s)
{
	if (s->graph && s->graph->tracked_only) {  /* the collection's graph: build the whole one */
		ins_graph_free(s->graph);
		free(s->graph);
		s->graph = NULL;
	}
	return s->graph ? NULL : make_graph(s, false);
}

ins_error *ins_session_graph_tracked(ins_session *s)
{
	return s->graph ? NULL : make_graph(s, true);
}

int ins_session_generation(ins_session *s, uint64_t obj)
{
	const ins_heap *h = &s->heap;
	uint64_t gen;
	if (s->gens_indexed)
		return ins_map_get(&s->gens, obj, &gen) ? (int)gen - 1 : -1;
	for (int g = 0; g <= h->ngens; g++)
		for (size_t i = h->gen_start[g]; i < h->gen_start[g + 1]; i++)
			if (h->objs[i] == obj)
				return g;
	return -1;
}

ins_error *ins_session_index_gens(ins_session *s)
{
	if (s->gens_indexed)
		return NULL;
	ins_error *err = ins_session_heap(s);
	if (err)
		return err;
	const ins_heap *h = &s->heap;
	for (int g = 0; g <= h->ngens; g++)
		for (size_t i = h->gen_start[g]; i < h->gen_start[g + 1]; i++) {
			uint64_t *slot = ins_map_slot(&s->gens, h->objs[i], (uint64_t)g + 1);
			if (!slot) {
				ins_map_free(&s->gens);
				memset(&s->gens, 0, sizeof(s->gens));
				return ins_err_nomem();
			}
		}
	s->gens_indexed = true;
	return NULL;
}

void ins_session_close(ins_session *s)
{
	if (!s)
		return;
	ins_map_free(&s->gens);
	drop_built(s);
	ins_gindex_close(s->gindex);
	free(s->core_path);
	free(s->index_path);
	if (s->in)
		ins_objects_free(&s->objs);
	ins_interp_free(s->in);
	ins_image_close(s->img);
	free(s);
}

typedef struct stats_run {
	ins_session *s;
	bool want_bytes, oom;
	ins_map index;          /* type (or 2.7 class) address -> row + 1 */
	ins_typecount *rows;
	uint64_t *fixed;        /* a row's size per object, or 0: read each object's */
	size_t nrows, cap, unreadable;
	struct { uint64_t key; size_t row; } recent[64];  /* direct-mapped cache of index */
} stats_run;

static size_t new_row(stats_run *r, const ins_type *t, uint64_t obj)
{
	if (r->nrows == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		ins_typecount *rows = realloc(r->rows, cap * sizeof(*rows));
		if (rows)
			r->rows = rows;
		uint64_t *fixed = realloc(r->fixed, cap * sizeof(*fixed));
		if (fixed)
			r->fixed = fixed;
		if (!rows || !fixed)
			return 0;
		r->cap = cap;
	}
	size_t i = r->nrows++;
	r->rows[i] = (ins_typecount){ t, 0, 0 };
	r->fixed[i] = r->want_bytes && ins_type_size_fixed(t) ? ins_obj_size(&r->s->objs, obj, t) : 0;
	return i + 1;
}

static void count_object(void *arg, uint64_t obj, uint64_t type, uint32_t refcnt, int gen)
{
	(void)refcnt;
	stats_run *r = arg;
	ins_objects *o = &r->s->objs;
	if (gen >= r->s->in->ngens || r->oom)
		return;  /* frozen: not in gc.get_objects() */
	const ins_type *t = NULL;
	uint64_t key = type;
	if (type == r->s->in->T.instance2 && type) {  /* 2.7 classic instance: by class */
		t = ins_obj_type(o, obj);
		key = t ? t->addr : 0;
	}
	size_t row, hint = (size_t)(key >> 4) & 63;
	if (key && r->recent[hint].key == key) {
		row = r->recent[hint].row;
	} else {
		uint64_t *slot = key ? ins_map_slot(&r->index, key, 0) : NULL;
		if (!slot) {
			if (key)
				r->oom = true;
			r->unreadable++;
			return;
		}
		if (!*slot) {
			t = t ? t : ins_type_info(o, type);
			if (!t) {
				r->unreadable++;
				return;
			}
			size_t at = new_row(r, t, obj);
			if (!at) {
				r->oom = true;
				return;
			}
			*slot = at;
		}
		row = *slot - 1;
		r->recent[hint].key = key;
		r->recent[hint].row = row;
	}
	ins_typecount *c = &r->rows[row];
	c->count++;
	if (r->want_bytes)
		c->bytes += r->fixed[row] ? r->fixed[row] : ins_obj_size(o, obj, c->type);
}

/* --all: the tracked objects (frozen ones apart, like gc.get_objects()) and the untracked
 * objects their references reach, transitively -- what gc.get_referents() would reach from
 * gc.get_objects(). Hidden references (a code object's constants) reach nothing. */
static ins_error *visit_nodes(ins_session *s, stats_run *r, size_t counts[INS_MAX_GENS + 1], size_t *nuntracked)
{
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	const ins_graph *g = s->graph;
	uint32_t *queue;
	size_t tail;
	if ((err = ins_graph_reach(g, g->ntracked, &queue, &tail)))
		return err;
	memset(counts, 0, (INS_MAX_GENS + 1) * sizeof(*counts));
	counts[0] = g->ntracked;
	counts[s->in->ngens] = g->nheap - g->ntracked;
	*nuntracked = 0;
	for (size_t i = 0; i < tail; i++) {
		uint32_t x = queue[i];
		uint64_t type = 0;
		if (x >= g->ntracked && x < g->nheap)
			continue;  /* frozen, reached from a tracked object */
		*nuntracked += x >= g->nheap;
		ins_image_u64(s->img, g->addr[x] + (uint64_t)s->in->L.obj_type, &type);
		count_object(r, g->addr[x], type, INS_REFCNT_AGAIN, 0);
	}
	free(queue);
	return NULL;
}

ins_error *ins_typestats(ins_session *s, bool want_bytes, bool all, ins_stats *out)
{
	stats_run r = { .s = s, .want_bytes = want_bytes };
	size_t counts[INS_MAX_GENS + 1], nuntracked = 0;
	ins_error *err = all ? visit_nodes(s, &r, counts, &nuntracked)
			     : ins_heap_visit(s->img, s->in, s->warn, count_object, &r, counts);
	free(r.fixed);
	ins_map_free(&r.index);
	if (!err && r.oom)
		err = ins_err_nomem();
	if (err) {
		free(r.rows);
		return err;
	}
	if (r.unreadable)
		ins_buf_printf(s->warn, "warning: %zu tracked objects have an unreadable type and are not counted\n",
			       r.unreadable);
	memset(out, 0, sizeof(*out));
	out->rows = r.rows;
	out->nrows = r.nrows;
	for (int g = 0; g < s->in->ngens; g++)
		out->ntracked += counts[g];
	out->nfrozen = counts[s->in->ngens];
	out->nuntracked = nuntracked;
	return NULL;
}

void ins_stats_free(ins_stats *st)
{
	free(st->rows);
	st->rows = NULL;
}
