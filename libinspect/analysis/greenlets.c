/* greenlets.c -- suspended greenlets and their stacks (greenlets.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenlets.h"
#include "traverse.h"

#define MAX_BASES 64

static bool is_greenlet_type(ins_session *s, uint64_t type)
{
	for (int i = 0; type && i < MAX_BASES; i++) {
		const ins_type *t = ins_type_info(&s->objs, type);
		if (t && t->qualname && strcmp(t->qualname, "greenlet.greenlet") == 0)
			return true;
		type = ins_image_word(s->img, type, s->in->L.type_base);
	}
	return false;
}

static bool is_frame(ins_session *s, uint64_t obj)
{
	const ins_type *t = ins_obj_type(&s->objs, obj);
	return t && t->addr == s->in->T.frame;
}

static int cmp_greenlet(const void *a, const void *b)
{
	uint64_t x = ((const ins_greenlet *)a)->addr, y = ((const ins_greenlet *)b)->addr;
	return x < y ? -1 : x > y;
}

ins_error *ins_greenlets_read(ins_session *s, bool want_locals, ins_greenlets *out)
{
	memset(out, 0, sizeof(*out));
	ins_error *err = ins_session_heap(s);
	if (!err)
		err = ins_session_trav(s);
	if (err)
		return err;
	const ins_heap *h = &s->heap;
	bool *gtype = calloc(h->ntypes ? h->ntypes : 1, sizeof(bool));
	if (!gtype)
		return ins_err_nomem();
	bool any = false;
	for (size_t i = 0; i < h->ntypes; i++)
		any |= gtype[i] = is_greenlet_type(s, h->types[i]);
	size_t cap = 0;
	for (size_t i = 0; any && i < h->ntracked && !err; i++) {
		if (!gtype[h->type_of[i]])
			continue;
		uint64_t g = h->objs[i], frame;
		out->found++;
		if (!ins_trav_getter(s->trav, h->types[h->type_of[i]], "gr_frame", g, &frame)) {
			out->failed++;
			continue;
		}
		if (!is_frame(s, frame))
			continue;  /* None: not started, finished, or running */
		if (out->n == cap) {
			size_t c = cap ? cap * 2 : 8;
			ins_greenlet *v = realloc(out->v, c * sizeof(*v));
			if (!v) {
				err = ins_err_nomem();
				break;
			}
			out->v = v;
			cap = c;
		}
		ins_greenlet *gl = &out->v[out->n++];
		*gl = (ins_greenlet){ .addr = g, .type = ins_obj_type(&s->objs, g), .frame = frame };
		char whose[48];
		snprintf(whose, sizeof(whose), "greenlet 0x%llx", (unsigned long long)g);
		err = ins_stack_of_frame(&s->objs, s->warn, whose, frame, want_locals, &gl->frames, &gl->nframes);
	}
	free(gtype);
	if (!err && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_greenlet);
	if (!err && out->failed)
		ins_buf_printf(s->warn, "warning: the gr_frame of %zu of %zu greenlets could not be run in the emulator\n",
			       out->failed, out->found);
	if (err)
		ins_greenlets_free(out);
	return err;
}

void ins_greenlets_free(ins_greenlets *g)
{
	for (size_t i = 0; i < g->n; i++) {
		for (size_t k = 0; k < g->v[i].nframes; k++)
			ins_frame_info_free(&g->v[i].frames[k]);
		free(g->v[i].frames);
	}
	free(g->v);
	memset(g, 0, sizeof(*g));
}
