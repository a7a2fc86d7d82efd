/* tasks.c -- the public API's asyncio tasks (analysis.h: asyncio.all_tasks()), from
 * analysis/tasks.c, their strings kept by the program. */
#include <libinspect/libinspect.h>

#include "program_impl.h"
#include "tasks.h"

#include <stdlib.h>
#include <string.h>

static bool copy_task(ins_program *p, const ins_task *t, ins_task_info *o, bool *oom)
{
	o->address = t->addr;
	o->name = t->name ? ins_program_intern(p, t->name, oom) : NULL;
	o->state = ins_task_state_name(t->state);
	o->coro = t->coro_qualname ? ins_program_intern(p, t->coro_qualname, oom) : NULL;
	o->coro_address = t->coro;
	o->waits_on = t->waits_on;
	o->waits_on_type = t->waits_on_type && t->waits_on_type->qualname ?
				   ins_program_intern(p, t->waits_on_type->qualname, oom) : NULL;
	o->waiting_on = ins_program_intern(p, ins_task_waiting_on(t), oom);
	o->awaiting = t->awaiting;
	o->loop = t->loop;
	o->thread_id = t->thread_id;
	o->has_thread = t->has_thread;
	if (t->nawaited_by) {
		if (!(o->awaited_by = malloc(t->nawaited_by * sizeof(*o->awaited_by))))
			return false;
		memcpy(o->awaited_by, t->awaited_by, t->nawaited_by * sizeof(*o->awaited_by));
		o->nawaited_by = t->nawaited_by;
	}
	if (t->nchain) {
		if (!(o->chain = calloc(t->nchain, sizeof(*o->chain))))
			return false;
		o->nchain = t->nchain;
		for (size_t k = 0; k < t->nchain; k++) {
			const ins_await_step *st = &t->chain[k];
			ins_await_frame *f = &o->chain[k];
			f->coro = st->coro;
			f->qualname = st->qualname ? ins_program_intern(p, st->qualname, oom) : NULL;
			f->function = st->function ? ins_program_intern(p, st->function, oom) : NULL;
			f->file = st->file ? ins_program_intern(p, st->file, oom) : NULL;
			f->line = st->line;
		}
	}
	return !*oom;
}

ins_error *ins_program_tasks(ins_program *p, bool all, ins_task_list *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	ins_tasks ts;
	ins_error *err = ins_tasks_read(p->s, all, &ts);
	if (err)
		return err;
	bool ok = true, oom = false;
	out->supported = ts.supported;
	if (ts.n && !(out->v = calloc(ts.n, sizeof(*out->v))))
		ok = false;
	for (size_t i = 0; ok && i < ts.n; i++) {
		out->n = i + 1;
		ok = copy_task(p, &ts.v[i], &out->v[i], &oom);
	}
	ins_tasks_free(&ts);
	if (!ok) {
		ins_task_list_free(out);
		return ins_err_nomem();
	}
	return NULL;
}

void ins_task_list_free(ins_task_list *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].chain);
		free(t->v[i].awaited_by);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
