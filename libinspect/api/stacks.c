/* stacks.c -- the public API's threads and stacks (analysis.h: sys._current_frames()),
 * from the interpreter's thread states (threads.c), and the suspended greenlets' stacks
 * (greenlets.c), their strings kept by the program. */
#include <libinspect/libinspect.h>

#include "program_impl.h"
#include "greenlets.h"
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

/* Copies frames[0, n) into *out (calloc'd, *nout as far as it got). */
static bool copy_frames(ins_program *p, const ins_frame_info *frames, size_t n, ins_frame **out, size_t *nout,
			bool *oom)
{
	if (!n)
		return true;
	if (!(*out = calloc(n, sizeof(**out))))
		return false;
	bool ok = true;
	for (size_t k = 0; ok && k < n; k++) {
		*nout = k + 1;
		ok = copy_frame(p, &frames[k], &(*out)[k], oom);
	}
	return ok;
}

static void free_frames(ins_frame *frames, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(frames[k].locals);
	free(frames);
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
		ok = copy_frames(p, t->frames, t->nframes, &o->frames, &o->nframes, &oom);
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
	for (size_t i = 0; i < s->n; i++)
		free_frames(s->v[i].frames, s->v[i].nframes);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

ins_error *ins_program_greenlets(ins_program *p, bool locals, ins_greenlet_stacks *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	ins_greenlets gl;
	ins_error *err = ins_greenlets_read(p->s, locals, &gl);
	if (err)
		return err;
	bool ok = true, oom = false;
	out->found = gl.found;
	if (gl.n && !(out->v = calloc(gl.n, sizeof(*out->v))))
		ok = false;
	for (size_t i = 0; ok && i < gl.n; i++) {
		const ins_greenlet *g = &gl.v[i];
		ins_greenlet_stack *o = &out->v[i];
		out->n = i + 1;
		o->address = g->addr;
		o->type = ins_program_intern(p, g->type && g->type->qualname ? g->type->qualname : "?", &oom);
		ok = copy_frames(p, g->frames, g->nframes, &o->frames, &o->nframes, &oom);
	}
	ins_greenlets_free(&gl);
	if (!ok) {
		ins_greenlet_stacks_free(out);
		return ins_err_nomem();
	}
	return NULL;
}

void ins_greenlet_stacks_free(ins_greenlet_stacks *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free_frames(g->v[i].frames, g->v[i].nframes);
	free(g->v);
	memset(g, 0, sizeof(*g));
}
