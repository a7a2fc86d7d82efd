/* session.c -- opening an image down to its heap, and per-type statistics. */
#include "session.h"

#include <stdlib.h>

ins_error *ins_session_open(const ins_source *src, ins_buf *warn, ins_session **out)
{
	ins_session *s = calloc(1, sizeof(*s));
	if (!s)
		return ins_err_nomem();
	ins_error *err = ins_image_open(src, warn, &s->img);
	if (!err)
		err = ins_interp_find(s->img, warn, &s->in);
	if (!err)
		err = ins_heap_walk(s->img, s->in, warn, &s->heap);
	if (err) {
		ins_session_close(s);
		return err;
	}
	ins_objects_init(&s->objs, s->img, s->in);
	*out = s;
	return NULL;
}

void ins_session_close(ins_session *s)
{
	if (!s)
		return;
	if (s->in)
		ins_objects_free(&s->objs);
	ins_heap_free(&s->heap);
	ins_interp_free(s->in);
	ins_image_close(s->img);
	free(s);
}

ins_error *ins_typestats(ins_session *s, size_t from, size_t to, bool want_bytes,
			 ins_buf *warn, ins_typecount **out, size_t *n)
{
	ins_map rows = { 0 };
	ins_typecount *v = NULL;
	size_t nv = 0, unreadable = 0;
	ins_error *err = NULL;
	for (size_t i = from; i < to && !err; i++) {
		uint64_t obj = s->heap.objs[i];
		const ins_type *t = ins_obj_type(&s->objs, obj);
		if (!t) {
			unreadable++;
			continue;
		}
		uint64_t *slot = ins_map_slot(&rows, (uint64_t)(uintptr_t)t, 0);
		if (!slot) {
			err = ins_err_nomem();
			break;
		}
		if (!*slot) {
			ins_typecount *w = realloc(v, (nv + 1) * sizeof(*w));
			if (!w) {
				err = ins_err_nomem();
				break;
			}
			v = w;
			v[nv++] = (ins_typecount){ t, 0, 0 };
			*slot = nv;
		}
		ins_typecount *row = &v[*slot - 1];
		row->count++;
		if (want_bytes)
			row->bytes += ins_obj_size(&s->objs, obj, t);
	}
	ins_map_free(&rows);
	if (unreadable)
		ins_buf_printf(warn, "warning: %zu tracked objects have an unreadable type and are not counted\n",
			       unreadable);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = nv;
	return NULL;
}
