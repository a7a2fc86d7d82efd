/* tasks.c -- asyncio tasks found on the GC lists, their await chains (tasks.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "tasks.h"
#include "traverse.h"

#define MAX_CHAIN 256           /* coroutines followed per task */
#define MAX_BASES 64            /* tp_base links followed per type */
#define MAX_STACK (1 << 16)     /* value stack slots believed */
#define MAX_CHILDREN (1 << 20)  /* a gather's children read */

const char *ins_task_state_name(int state)
{
	static const char *names[] = { "PENDING", "CANCELLED", "FINISHED" };
	return state >= 0 && state < 3 ? names[state] : "?";
}

static uint64_t word(ins_session *s, uint64_t base, int64_t off)
{
	return ins_image_word(s->img, base, off);
}

static bool type_named(const ins_type *t, const char *qualname)
{
	return t && t->qualname && strcmp(t->qualname, qualname) == 0;
}

enum task_kind { NOT_TASK, C_TASK, PY_TASK };

/* Is the type at type _asyncio.Task (C_TASK) or the pure Python asyncio.tasks.Task (PY_TASK),
 * or does it derive from one (tp_base chain)? */
static enum task_kind task_type_kind(ins_session *s, uint64_t type)
{
	for (int i = 0; type && i < MAX_BASES; i++) {
		const ins_type *t = ins_type_info(&s->objs, type);
		if (type_named(t, "_asyncio.Task"))
			return C_TASK;
		if (t && t->heap && type_named(t, "asyncio.tasks.Task"))
			return PY_TASK;
		type = word(s, type, s->in->L.type_base);
	}
	return NOT_TASK;
}

static bool is_coroutine(const ins_type *t)
{
	return t && t->name && (strcmp(t->name, "coroutine") == 0 || strcmp(t->name, "generator") == 0);
}

static char *str_of(ins_session *s, uint64_t obj)
{
	ins_buf b = { 0 };
	char *r = NULL;
	if (obj && ins_str_text(&s->objs, obj, &b, 4096) && !b.oom)
		r = strndup(b.data ? b.data : "", b.len);
	ins_buf_free(&b);
	return r;
}

/* Task.get_name(): task_name is a str, or from 3.13 an int n until asked ("Task-n"). */
static char *task_name(ins_session *s, uint64_t task)
{
	const ins_layout *L = &s->in->L;
	if (L->asyncio_task_name < 0)
		return NULL;
	uint64_t name = word(s, task, L->asyncio_task_name);
	enum ins_kind kind;
	if (!name || !ins_obj_kind(&s->objs, name, &kind))
		return NULL;
	if (kind == INS_K_STR)
		return str_of(s, name);
	if (kind != INS_K_INT)
		return NULL;
	ins_buf b = { 0 };
	ins_buf_puts(&b, "Task-");
	ins_obj_repr(&s->objs, name, ins_obj_type(&s->objs, name), &b);
	char *r = b.oom ? NULL : strndup(b.data, b.len);
	ins_buf_free(&b);
	return r;
}

/* The frame of a coroutine or generator that has one (not finished): *iframe when it is the
 * _PyInterpreterFrame embedded in it (3.11+). */
static bool coro_frame(ins_session *s, uint64_t c, uint64_t *frame, bool *iframe)
{
	const ins_layout *L = &s->in->L;
	if (L->gen_iframe >= 0) {
		int8_t state;
		if (!ins_image_read(s->img, c + (uint64_t)L->gen_frame_state, &state, 1) || state >= L->frame_cleared)
			return false;
		*frame = c + (uint64_t)L->gen_iframe;
		*iframe = true;
		return true;
	}
	*frame = word(s, c, L->gen_frame);
	*iframe = false;
	return *frame != 0;
}

/* The top of a suspended frame's value stack (what _PyGen_yf returns for a coroutine
 * suspended at an await), or 0 when the stack is empty. */
static uint64_t stack_top(ins_session *s, uint64_t frame, bool iframe)
{
	const ins_layout *L = &s->in->L;
	if (iframe) {
		ins_slot_names names;
		ins_slot_names_of(&s->objs, ins_iframe_code(&s->objs, frame), &names);
		uint64_t slots = frame + (uint64_t)L->iframe_localsplus;
		int64_t n = 0;
		if (L->iframe_stackpointer >= 0) {
			uint64_t sp = word(s, frame, L->iframe_stackpointer);
			if (sp >= slots && sp - slots <= (uint64_t)MAX_STACK * 8)
				n = (int64_t)((sp - slots) / 8);
		} else {
			int32_t top;
			if (ins_image_i32(s->img, frame + (uint64_t)L->iframe_stacktop, &top))
				n = top;
		}
		if (n <= names.len[0] || n > MAX_STACK)
			return 0;
		/* 3.15 leaves a NULL _PyStackRef above the awaitable while it yields */
		uint64_t top = ins_stackref(L, word(s, slots, (n - 1) * 8), NULL);
		if (!top && n - 1 > names.len[0])
			top = ins_stackref(L, word(s, slots, (n - 2) * 8), NULL);
		return top;
	}
	uint64_t stack = word(s, frame, L->frame_valuestack);
	int64_t depth = 0;
	if (!stack)
		return 0;
	if (L->frame_stackdepth >= 0) {
		int32_t d;
		if (ins_image_i32(s->img, frame + (uint64_t)L->frame_stackdepth, &d))
			depth = d;
	} else {
		uint64_t top = word(s, frame, L->frame_stacktop);
		if (top >= stack && top - stack <= (uint64_t)MAX_STACK * 8)
			depth = (int64_t)((top - stack) / 8);
	}
	if (depth <= 0 || depth > MAX_STACK)
		return 0;
	return word(s, stack, (depth - 1) * 8);
}

/* The await chain of t, from its coroutine down to what the innermost one awaits. A pure
 * Python future's __await__ is a generator suspended at a bare `yield self` (nothing on its
 * stack): what the task waits on is then its _fut_waiter. */
static ins_error *read_chain(ins_session *s, ins_task *t)
{
	const ins_layout *L = &s->in->L;
	uint64_t c = t->coro;
	size_t cap = 0;
	while (c && t->nchain < MAX_CHAIN) {
		if (!is_coroutine(ins_obj_type(&s->objs, c)))
			break;
		uint64_t frame;
		bool iframe;
		if (!coro_frame(s, c, &frame, &iframe))
			break;
		ins_frame_info fi;
		bool ok = ins_frame_info_read(&s->objs, frame, iframe, false, &fi);
		if (ok) {
			if (t->nchain == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				ins_await_step *v = realloc(t->chain, ncap * sizeof(*v));
				if (!v) {
					ins_frame_info_free(&fi);
					return ins_err(INS_ERR_NOMEM, "out of memory");
				}
				t->chain = v;
				cap = ncap;
			}
			ins_await_step *st = &t->chain[t->nchain++];
			st->coro = c;
			st->qualname = L->gen_qualname >= 0 ? str_of(s, word(s, c, L->gen_qualname)) : NULL;
			st->function = fi.function ? strdup(fi.function) : NULL;
			st->file = fi.file ? strdup(fi.file) : NULL;
			st->line = fi.line;
		}
		ins_frame_info_free(&fi);
		if (!ok)
			break;
		uint64_t aw = stack_top(s, frame, iframe);
		if (!aw)
			break;
		const ins_type *at = ins_obj_type(&s->objs, aw);
		if (!at)
			break;
		if (is_coroutine(at)) {
			c = aw;
			continue;
		}
		t->waits_on = aw;
		if (type_named(at, "_asyncio.FutureIter") && L->asyncio_futureiter_future >= 0)
			t->waits_on = word(s, aw, L->asyncio_futureiter_future);
		t->waits_on_type = t->waits_on ? ins_obj_type(&s->objs, t->waits_on) : NULL;
		break;
	}
	if (!t->waits_on && t->awaiting && t->nchain) {
		t->waits_on = t->awaiting;
		t->waits_on_type = ins_obj_type(&s->objs, t->waits_on);
	}
	return NULL;
}

/* ---- awaited_by ------------------------------------------------------------ */

#define MAX_ATTRS 8

/* Looking for several attributes at once: names[i]'s value, once found. */
typedef struct attr_find {
	ins_session *s;
	const char *const *names;
	size_t n, left;
	uint64_t value[MAX_ATTRS];
	bool found[MAX_ATTRS];
} attr_find;

/* Each name not found yet is found at this edge when the edge is named so (an instance
 * dict's key, an inline value's name), else when its target is a dict holding the name. */
static void attr_edge(void *arg, const ins_edge *e)
{
	attr_find *f = arg;
	if (!f->left)
		return;
	char *key = e->kind == INS_EDGE_KEY || e->kind == INS_EDGE_STRNAME ? str_of(f->s, e->aux) : NULL;
	enum ins_kind kind;
	bool dict = ins_obj_kind(&f->s->objs, e->target, &kind) && kind == INS_K_DICT;
	for (size_t i = 0; i < f->n; i++) {
		if (f->found[i])
			continue;
		uint64_t v;
		if (key && strcmp(key, f->names[i]) == 0)
			f->value[i] = e->target;
		else if (dict && ins_dict_get_str(&f->s->objs, e->target, f->names[i], &v))
			f->value[i] = v;
		else
			continue;
		f->found[i] = true;
		f->left--;
	}
	free(key);
}

/* Instance attributes of a Python-level object (in its instance dict, or from 3.13 its
 * inline values), found among its references in one traversal: f->found[i] says whether it
 * has names[i] (n at most MAX_ATTRS), f->value[i] is its value. */
static void attrs_of(ins_session *s, ins_trav *tr, uint64_t obj, const char *const *names, size_t n, attr_find *f)
{
	*f = (attr_find){ .s = s, .names = names, .n = n, .left = n };
	const ins_type *t = ins_obj_type(&s->objs, obj);
	if (t)
		ins_traverse(tr, obj, t, attr_edge, f);
}

/* One attribute (attrs_of); false if it has none of that name. */
static bool attr_of(ins_session *s, ins_trav *tr, uint64_t obj, const char *name, uint64_t *value)
{
	attr_find f;
	attrs_of(s, tr, obj, &name, 1, &f);
	*value = f.value[0];
	return f.found[0];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_task(const void *a, const void *b)
{
	return cmp_u64(&((const ins_task *)a)->addr, &((const ins_task *)b)->addr);
}

static ins_task *find_task(ins_tasks *ts, uint64_t addr)
{
	ins_task key = { .addr = addr };
	return bsearch(&key, ts->v, ts->n, sizeof(*ts->v), cmp_task);
}

static ins_error *add_awaited_by(ins_task *t, uint64_t by)
{
	for (size_t i = 0; i < t->nawaited_by; i++)
		if (t->awaited_by[i] == by)
			return NULL;
	uint64_t *v = realloc(t->awaited_by, (t->nawaited_by + 1) * sizeof(*v));
	if (!v)
		return ins_err(INS_ERR_NOMEM, "out of memory");
	t->awaited_by = v;
	v[t->nawaited_by++] = by;
	return NULL;
}

static ins_error *link_awaited_by(ins_session *s, ins_trav *tr, ins_tasks *ts)
{
	const ins_layout *L = &s->in->L;
	ins_error *err = NULL;
	for (size_t i = 0; i < ts->n && !err; i++) {
		uint64_t w = ts->v[i].awaiting;
		if (!w)
			continue;
		ins_task *target = find_task(ts, w);
		if (target) {
			err = add_awaited_by(target, ts->v[i].addr);
			continue;
		}
		if (!type_named(ins_obj_type(&s->objs, w), "asyncio.tasks._GatheringFuture"))
			continue;
		uint64_t list;
		enum ins_kind kind;
		if (!attr_of(s, tr, w, "_children", &list) || !ins_obj_kind(&s->objs, list, &kind) || kind != INS_K_LIST)
			continue;
		int64_t n = (int64_t)word(s, list, L->var_size);
		uint64_t items = word(s, list, L->list_item);
		for (int64_t k = 0; k < n && k < MAX_CHILDREN && !err; k++) {
			ins_task *child = find_task(ts, word(s, items, k * 8));
			if (child)
				err = add_awaited_by(child, ts->v[i].addr);
		}
	}
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].nawaited_by > 1)
			qsort(ts->v[i].awaited_by, ts->v[i].nawaited_by, sizeof(uint64_t), cmp_u64);
	return err;
}

/* Each task's loop and the thread running it (the loop's _thread_id), read once per loop. */
static void read_loops(ins_session *s, ins_trav *tr, ins_tasks *ts)
{
	uint64_t loop = 0, tid = 0;
	bool has = false;
	for (size_t i = 0; i < ts->n; i++) {
		ins_task *t = &ts->v[i];
		if (!t->loop)
			continue;
		if (t->loop != loop) {
			uint64_t v;
			loop = t->loop;
			has = attr_of(s, tr, loop, "_thread_id", &v) && ins_int_u64(&s->objs, v, &tid);
		}
		t->thread_id = has ? tid : 0;
		t->has_thread = has;
	}
}

/* ---- the tasks ------------------------------------------------------------- */

/* The fields of a C task (_asyncio.Task: TaskObj's, from the layout tables); false when its
 * state cannot be read. */
static bool read_c_task(ins_session *s, uint64_t obj, ins_task *t)
{
	const ins_layout *L = &s->in->L;
	int32_t state;
	if (L->asyncio_task_coro < 0 || L->asyncio_task_state < 0 ||
	    !ins_image_i32(s->img, obj + (uint64_t)L->asyncio_task_state, &state))
		return false;
	t->state = state == L->asyncio_state_pending ? 0 : state;
	t->name = task_name(s, obj);
	t->coro = word(s, obj, L->asyncio_task_coro);
	t->awaiting = word(s, obj, L->asyncio_task_fut_waiter);
	t->loop = L->asyncio_task_loop >= 0 ? word(s, obj, L->asyncio_task_loop) : 0;
	return true;
}

/* The attributes of a pure Python task (asyncio.tasks.Task: a Python without _asyncio); false
 * when it has no _state we know. */
static bool read_py_task(ins_session *s, ins_trav *tr, uint64_t obj, ins_task *t)
{
	static const char *states[] = { "PENDING", "CANCELLED", "FINISHED" };
	static const char *const names[] = { "_state", "_name", "_coro", "_fut_waiter", "_loop" };
	enum { STATE, NAME, CORO, FUT_WAITER, LOOP };
	attr_find f;
	attrs_of(s, tr, obj, names, sizeof(names) / sizeof(*names), &f);
	/* _state is a class attribute (Future._state = _PENDING) until the future is done */
	uint64_t v = f.value[STATE];
	bool has = f.found[STATE];
	uint64_t type = word(s, obj, s->in->L.obj_type);
	for (int i = 0; !has && type && i < MAX_BASES; i++, type = word(s, type, s->in->L.type_base)) {
		uint64_t dict = ins_type_dict(&s->objs, type, NULL);
		has = dict && ins_dict_get_str(&s->objs, dict, "_state", &v);
	}
	char *state = has ? str_of(s, v) : NULL;
	t->state = -1;
	for (int k = 0; state && k < 3; k++)
		if (strcmp(state, states[k]) == 0)
			t->state = k;
	free(state);
	if (t->state < 0)
		return false;
	t->name = f.found[NAME] ? str_of(s, f.value[NAME]) : NULL;
	t->coro = f.found[CORO] ? f.value[CORO] : 0;
	t->awaiting = f.found[FUT_WAITER] && f.value[FUT_WAITER] != s->in->T.none ? f.value[FUT_WAITER] : 0;
	t->loop = f.found[LOOP] ? f.value[LOOP] : 0;
	return true;
}

ins_error *ins_tasks_read(ins_session *s, bool all, ins_tasks *out)
{
	memset(out, 0, sizeof(*out));
	const ins_layout *L = &s->in->L;
	out->supported = L->asyncio_task_coro >= 0 && L->asyncio_task_state >= 0;
	ins_error *err = ins_session_heap(s);
	if (!err)
		err = ins_session_trav(s);  /* the session's traversal: instance attributes by name */
	if (err)
		return err;
	const ins_heap *h = &s->heap;
	ins_trav *tr = s->trav;
	uint8_t *kind = calloc(h->ntypes ? h->ntypes : 1, 1);
	if (!kind)
		return ins_err(INS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < h->ntypes; i++) {
		kind[i] = (uint8_t)task_type_kind(s, h->types[i]);
		out->supported |= kind[i] == PY_TASK;
	}
	size_t cap = 0;
	for (size_t i = 0; i < h->ntracked && !err; i++) {
		uint8_t k = kind[h->type_of[i]];
		if (k == NOT_TASK)
			continue;
		uint64_t obj = h->objs[i];
		ins_task t = { .addr = obj };
		if (!(k == C_TASK ? read_c_task(s, obj, &t) : read_py_task(s, tr, obj, &t)) || (!all && t.state != 0)) {
			free(t.name);
			continue;
		}
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			ins_task *v = realloc(out->v, ncap * sizeof(*v));
			if (!v) {
				free(t.name);
				err = ins_err(INS_ERR_NOMEM, "out of memory");
				break;
			}
			out->v = v;
			cap = ncap;
		}
		t.coro_qualname = t.coro && L->gen_qualname >= 0 ? str_of(s, word(s, t.coro, L->gen_qualname)) : NULL;
		out->v[out->n] = t;
		err = read_chain(s, &out->v[out->n++]);
	}
	free(kind);
	if (!err && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_task);
	if (!err) {
		read_loops(s, tr, out);
		err = link_awaited_by(s, tr, out);
	}
	if (err)
		ins_tasks_free(out);
	return err;
}

void ins_tasks_free(ins_tasks *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		ins_task *t = &ts->v[i];
		free(t->name);
		free(t->coro_qualname);
		for (size_t k = 0; k < t->nchain; k++) {
			free(t->chain[k].qualname);
			free(t->chain[k].function);
			free(t->chain[k].file);
		}
		free(t->chain);
		free(t->awaited_by);
	}
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

/* ---- summary and forest ---------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

const char *ins_task_waiting_on(const ins_task *t)
{
	size_t n = t->nchain;
	if (n && ends_with(t->chain[n - 1].qualname, ".__await__"))
		n--;  /* a pure Python future's own __await__ generator */
	if (n > 1 && t->chain[n - 1].qualname)
		return t->chain[n - 1].qualname;
	if (t->waits_on_type && t->waits_on_type->name)
		return t->waits_on_type->name;
	return "nothing";
}

static int cmp_group(const void *a, const void *b)
{
	const ins_task_group *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	int c = strcmp(x->coro, y->coro);
	return c ? c : strcmp(x->waiting_on, y->waiting_on);
}

ins_error *ins_tasks_summary(const ins_tasks *ts, ins_task_group **groups, size_t *ngroups)
{
	*groups = NULL;
	*ngroups = 0;
	ins_task_group *g = calloc(ts->n ? ts->n : 1, sizeof(*g));
	if (!g)
		return ins_err(INS_ERR_NOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < ts->n; i++) {
		const char *coro = ts->v[i].coro_qualname ? ts->v[i].coro_qualname : "?";
		const char *on = ins_task_waiting_on(&ts->v[i]);
		size_t k = 0;
		while (k < n && (strcmp(g[k].coro, coro) || strcmp(g[k].waiting_on, on)))
			k++;
		if (k == n)
			g[n++] = (ins_task_group){ coro, on, 0, i };
		g[k].count++;
	}
	qsort(g, n, sizeof(*g), cmp_group);
	*groups = g;
	*ngroups = n;
	return NULL;
}

ins_error *ins_tasks_forest(const ins_tasks *ts, ins_task_row **rows, size_t *nrows)
{
	*rows = NULL;
	*nrows = 0;
	size_t n = ts->n, nedges = 0;
	for (size_t i = 0; i < n; i++)
		nedges += ts->v[i].nawaited_by;
	/* children of each task in CSR form: child c under every task in c's awaited_by */
	size_t *start = calloc(n + 1, sizeof(size_t)), *child = malloc((nedges ? nedges : 1) * sizeof(size_t));
	size_t *fill = calloc(n + 1, sizeof(size_t));
	bool *shown = calloc(n ? n : 1, sizeof(bool));
	/* a row per edge and per root at most */
	ins_task_row *out = malloc((nedges + n + 1) * sizeof(*out));
	size_t *stack = malloc((nedges + n + 1) * sizeof(size_t));
	ins_error *err = NULL;
	if (!start || !child || !fill || !shown || !out || !stack) {
		err = ins_err(INS_ERR_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ts->v[i].nawaited_by; k++) {
			ins_task *p = find_task((ins_tasks *)ts, ts->v[i].awaited_by[k]);
			if (p)
				start[p - ts->v + 1]++;
		}
	for (size_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < n; i++) /* by address: i ascends, each parent's list stays sorted */
		for (size_t k = 0; k < ts->v[i].nawaited_by; k++) {
			ins_task *p = find_task((ins_tasks *)ts, ts->v[i].awaited_by[k]);
			if (p) {
				size_t pi = (size_t)(p - ts->v);
				child[start[pi] + fill[pi]++] = i;
			}
		}
	size_t nout = 0;
	/* roots: no task awaits them (an awaited_by naming no task, a gather's future, counts
	 * as none), then whatever is left */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t r = 0; r < n; r++) {
			bool root = pass ? !shown[r] : true;
			for (size_t k = 0; root && !pass && k < ts->v[r].nawaited_by; k++)
				if (find_task((ins_tasks *)ts, ts->v[r].awaited_by[k]))
					root = false;
			if (!root || shown[r])
				continue;
			/* iterative preorder: the stack holds row indexes whose children are next */
			out[nout] = (ins_task_row){ r, 0, SIZE_MAX, false, false };
			shown[r] = true;
			size_t sp = 0;
			stack[sp++] = nout++;
			/* per row on the stack, the next child to visit is kept in fill[] reused */
			fill[r] = 0;
			while (sp) {
				ins_task_row *row = &out[stack[sp - 1]];
				size_t t = row->task, next = fill[t];
				if (row->repeated || next >= start[t + 1] - start[t]) {
					sp--;
					continue;
				}
				fill[t]++;
				size_t c = child[start[t] + next];
				bool rep = shown[c];
				out[nout] = (ins_task_row){ c, row->depth + 1, t, next + 1 == start[t + 1] - start[t], rep };
				if (!rep) {
					shown[c] = true;
					fill[c] = 0;
				}
				stack[sp++] = nout++;
			}
		}
	}
	for (size_t i = nout; i-- > 0;)
		if (out[i].depth == 0) {
			out[i].last = true;
			break;
		}
	*rows = out;
	*nrows = nout;
	out = NULL;
done:
	free(start);
	free(child);
	free(fill);
	free(shown);
	free(out);
	free(stack);
	return err;
}
