/* cmd_stacks.c -- stacks: every thread's Python stack, most recent call first (as
 * faulthandler and py-bt print it), each frame as traceback's `File "f", line N, in name`
 * with, on request, its locals in objgraph's short repr; which thread holds the GIL; with
 * --greenlets, each suspended greenlet's stack too (greenlets.c). */
#include <stdio.h>

#include "commands.h"
#include "greenlets.h"
#include "threads.h"

static void put_repr(ins_session *s, uint64_t obj, ins_buf *out)
{
	const ins_type *t = ins_obj_type(&s->objs, obj);
	if (t)
		ins_obj_repr(&s->objs, obj, t, out);
	else
		ins_buf_printf(out, "<unreadable at 0x%llx>", (unsigned long long)obj);
}

static void put_frames_json(ins_session *s, const ins_frame_info *frames, size_t n, bool locals, ins_buf *repr,
			    ins_buf *out)
{
	ins_buf_puts(out, ",\"frames\":[");
	for (size_t k = 0; k < n; k++) {
		const ins_frame_info *f = &frames[k];
		ins_buf_puts(out, k ? ",{\"function\":" : "{\"function\":");
		ins_json_str(out, f->function);
		ins_buf_puts(out, ",\"file\":");
		ins_json_str(out, f->file);
		if (f->line >= 0)
			ins_buf_printf(out, ",\"line\":%d", f->line);
		else
			ins_buf_puts(out, ",\"line\":null");
		ins_buf_puts(out, ",\"address\":");
		ins_json_addr(out, f->addr);
		ins_buf_puts(out, ",\"frame_object\":");
		if (f->frame_obj)
			ins_json_addr(out, f->frame_obj);
		else
			ins_buf_puts(out, "null");
		if (locals) {
			ins_buf_puts(out, ",\"locals\":{");
			for (size_t j = 0; j < f->nlocals; j++) {
				ins_json_key(out, f->locals[j].name, j == 0);
				repr->len = 0;
				put_repr(s, f->locals[j].value, repr);
				ins_json_strn(out, repr->data ? repr->data : "", repr->len);
			}
			ins_buf_putc(out, '}');
		}
		ins_buf_putc(out, '}');
	}
	ins_buf_putc(out, ']');
}

static void put_json(ins_session *s, const ins_threads *th, const ins_greenlets *gl, bool locals, ins_buf *out)
{
	ins_buf repr = { 0 };
	ins_buf_puts(out, "{\"threads\":[");
	for (size_t i = 0; i < th->n; i++) {
		const ins_pythread *t = &th->v[i];
		ins_buf_printf(out, "%s{\"thread_id\":%llu,\"gil\":%s,\"tstate\":", i ? "," : "",
			       (unsigned long long)t->thread_id, !t->gil_known ? "null" : t->gil ? "true" : "false");
		ins_json_addr(out, t->tstate);
		put_frames_json(s, t->frames, t->nframes, locals, &repr, out);
		ins_buf_putc(out, '}');
	}
	ins_buf_putc(out, ']');
	if (gl) {
		ins_buf_puts(out, ",\"greenlets\":[");
		for (size_t i = 0; i < gl->n; i++) {
			const ins_greenlet *g = &gl->v[i];
			ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
			ins_json_addr(out, g->addr);
			ins_buf_puts(out, ",\"type\":");
			ins_json_str(out, g->type && g->type->qualname ? g->type->qualname : "?");
			put_frames_json(s, g->frames, g->nframes, locals, &repr, out);
			ins_buf_putc(out, '}');
		}
		ins_buf_printf(out, "],\"greenlets_found\":%zu", gl->found);
	}
	ins_buf_puts(out, "}\n");
	ins_buf_free(&repr);
}

static void put_frames_text(ins_session *s, const ins_frame_info *frames, size_t n, bool locals, ins_buf *out)
{
	if (!n)
		ins_buf_puts(out, "  (no Python frames)\n");
	for (size_t k = 0; k < n; k++) {
		const ins_frame_info *f = &frames[k];
		ins_buf_printf(out, "  File \"%s\", line ", f->file);
		if (f->line >= 0)
			ins_buf_printf(out, "%d", f->line);
		else
			ins_buf_puts(out, "None");  /* as traceback shows an f_lineno of None */
		ins_buf_printf(out, ", in %s\n", f->function);
		for (size_t j = 0; locals && j < f->nlocals; j++) {
			ins_buf_printf(out, "    %s = ", f->locals[j].name);
			put_repr(s, f->locals[j].value, out);
			ins_buf_putc(out, '\n');
		}
	}
}

static void put_text(ins_session *s, const ins_threads *th, const ins_greenlets *gl, bool locals, ins_buf *out)
{
	for (size_t i = 0; i < th->n; i++) {
		const ins_pythread *t = &th->v[i];
		ins_buf_printf(out, "%sThread 0x%llx%s, most recent call first:\n", i ? "\n" : "",
			       (unsigned long long)t->thread_id, t->gil ? " (holds the GIL)" : "");
		put_frames_text(s, t->frames, t->nframes, locals, out);
	}
	if (!th->n)
		ins_buf_puts(out, "(no Python threads)\n");
	for (size_t i = 0; gl && i < gl->n; i++) {
		const ins_greenlet *g = &gl->v[i];
		ins_buf_printf(out, "\nGreenlet 0x%llx (%s), suspended, most recent call first:\n",
			       (unsigned long long)g->addr, g->type && g->type->qualname ? g->type->qualname : "?");
		put_frames_text(s, g->frames, g->nframes, locals, out);
	}
	if (gl && !gl->n)
		ins_buf_printf(out, "\n(no suspended greenlets; %zu greenlet objects)\n", gl->found);
	if (th->n && !th->v[0].gil_known)
		ins_buf_puts(out, "\n(which thread holds the GIL cannot be told)\n");
}

ins_error *ins_cmd_stacks(const call *c)
{
	ins_threads th;
	ins_greenlets gl;
	ins_error *err = ins_threads_read(&c->s->objs, c->s->warn, c->a->locals, &th);
	if (err)
		return err;
	if (c->a->greenlets && (err = ins_greenlets_read(c->s, c->a->locals, &gl))) {
		ins_threads_free(&th);
		return err;
	}
	if (c->a->json)
		put_json(c->s, &th, c->a->greenlets ? &gl : NULL, c->a->locals, c->out);
	else
		put_text(c->s, &th, c->a->greenlets ? &gl : NULL, c->a->locals, c->out);
	ins_threads_free(&th);
	if (c->a->greenlets)
		ins_greenlets_free(&gl);
	return NULL;
}
