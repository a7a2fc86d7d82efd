/* stacks.c -- the public API's threads and stacks (analysis.h: sys._current_frames()),
 * from the interpreter's thread states (threads.c), their strings kept by the program. */
#include <libinspect/libinspect.h>

#include "program_impl.h"
#include "threads.h"

#include <stdlib.h>
#include <string.h>

static bool copy_frame(ins_program *p, const ins_frame_info *f, ins_frame *out, bool *oom)
{
	out->function = ins_program_intern(p, f->function, oom);
	out->file = ins_program_intern(p, f->file, oom);
	out->line = f->line;
	out->address = f->addr;
	out->frame_object = f->frame_obj;
	if (!f->nlocals)
		return !*oom;
	out->locals = calloc(f->nlocals, sizeof(*out->locals));
	if (!out->locals)
		return false;
	for (size_t j = 0; j < f->nlocals; j++) {
		out->locals[j].name = ins_program_intern(p, f->locals[j].name, oom);
		out->locals[j].value = f->locals[j].value;
	}
	out->nlocals = f->nlocals;
	return !*oom;
}

ins_error *ins_program_stacks(ins_program *p, bool locals, ins_stacks *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	ins_threads th;
	ins_error *err = ins_threads_read(&p->s->objs, p->s->warn, locals, &th);
	if (err)
		return err;
	bool ok = true, oom = false;
	out->v = calloc(th.n ? th.n : 1, sizeof(*out->v));
	ok = out->v != NULL;
	for (size_t i = 0; ok && i < th.n; i++) {
		const ins_pythread *t = &th.v[i];
		ins_thread *o = &out->v[i];
		out->n = i + 1;
		o->thread_id = t->thread_id;
		o->tstate = t->tstate;
		o->gil = t->gil_known ? t->gil : -1;
		if (!t->nframes)
			continue;
		if (!(o->frames = calloc(t->nframes, sizeof(*o->frames)))) {
			ok = false;
			break;
		}
		for (size_t k = 0; ok && k < t->nframes; k++) {
			o->nframes = k + 1;
			ok = copy_frame(p, &t->frames[k], &o->frames[k], &oom);
		}
	}
	ins_threads_free(&th);
	if (!ok) {
		ins_stacks_free(out);
		return ins_err_nomem();
	}
	return NULL;
}

void ins_stacks_free(ins_stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (size_t k = 0; k < s->v[i].nframes; k++)
			free(s->v[i].frames[k].locals);
		free(s->v[i].frames);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
