/* heap.c -- walking the GC generation lists (see heap.h).
 *
 * A walk follows gc_next from each generation's list head, checking at every step that
 * the next element's gc_prev points back, and reads each object's type on the way, while
 * its header is in the cache.
 */
#define _GNU_SOURCE
#include "hashmap.h"
#include "bigmem.h"
#include "heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a walk of one list is. */
typedef struct cursor {
	uint64_t head, cur, next;
	size_t n;
} cursor;

enum step { STEP_OBJ, STEP_END, STEP_UNREADABLE, STEP_BACKLINK, STEP_LIMIT };

/* Reads the (masked) links of the GC header at gc and the type of the object behind it. */
static bool links(ins_image *img, const ins_interp *in, uint64_t gc, uint64_t *next, uint64_t *prev,
		  uint64_t *type)
{
	const ins_layout *L = &in->L;
	size_t span = (size_t)(L->sizeof_gc_head + L->obj_type + 8);
	const uint8_t *p = ins_image_fast(img, gc, span);
	uint64_t v[3];
	if (p) {
		memcpy(&v[0], p + L->gc_next, 8);
		memcpy(&v[1], p + L->gc_prev, 8);
		memcpy(&v[2], p + L->sizeof_gc_head + L->obj_type, 8);
	} else if (!ins_image_u64(img, gc + (uint64_t)L->gc_next, &v[0]) ||
		   !ins_image_u64(img, gc + (uint64_t)L->gc_prev, &v[1]) ||
		   !ins_image_u64(img, gc + (uint64_t)(L->sizeof_gc_head + L->obj_type), &v[2])) {
		return false;
	}
	*next = v[0] & in->gc_next_mask;
	*prev = v[1] & in->gc_prev_mask;
	*type = v[2];
	return true;
}

static bool cursor_start(ins_image *img, const ins_interp *in, int g, cursor *c)
{
	uint64_t prev, type;
	c->head = c->cur = ins_interp_gen_head(in, g);
	c->n = 0;
	c->next = c->head;
	return !c->head || links(img, in, c->head, &c->next, &prev, &type);
}

/* One element further: its object and type, or why not. */
static enum step step(ins_image *img, const ins_interp *in, uint64_t limit, cursor *c, uint64_t *obj,
		      uint64_t *type)
{
	uint64_t after, prev;
	if (!c->head || c->next == c->head)
		return STEP_END;
	if (c->n > limit)
		return STEP_LIMIT;
	if (!links(img, in, c->next, &after, &prev, type))
		return STEP_UNREADABLE;
	if (prev != c->cur)
		return STEP_BACKLINK;
	*obj = c->next + (uint64_t)in->L.sizeof_gc_head;
	c->cur = c->next;
	c->next = after;
	c->n++;
	return STEP_OBJ;
}

static const char *gen_name(const ins_interp *in, int g, char *buf, size_t n)
{
	if (g == in->ngens)
		return "the permanent generation";
	snprintf(buf, n, "generation %d", g);
	return buf;
}

static void warn_corrupt(ins_buf *warn, const ins_interp *in, int g, const cursor *c, enum step why)
{
	char name[32];
	const char *what = why == STEP_LIMIT ? "more objects than the image can hold"
			   : why == STEP_UNREADABLE ? "a link points outside the image"
						    : "a back-link disagrees (loop or overwritten header)";
	ins_buf_printf(warn, "warning: GC list of %s is corrupt after %zu objects at 0x%llx: %s; its remaining objects are not counted\n",
		       gen_name(in, g, name, sizeof(name)), c->n, (unsigned long long)c->next, what);
}

static uint64_t limit_of(const ins_image *img)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < img->nsegs; i++)
		bytes += img->segs[i].end - img->segs[i].start;
	return bytes / 16 + 1;
}

ins_error *ins_heap_visit(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap_fn fn,
			  void *arg, size_t counts[INS_MAX_GENS + 1])
{
	uint64_t limit = limit_of(img);
	for (int g = 0; g <= INS_MAX_GENS; g++) {
		cursor c = { 0, 0, 0, 0 };
		counts[g] = 0;
		if (g > in->ngens)
			continue;
		if (!cursor_start(img, in, g, &c)) {
			char name[32];
			ins_buf_printf(warn, "warning: cannot read the list head of %s at 0x%llx\n",
				       gen_name(in, g, name, sizeof(name)), (unsigned long long)c.head);
			continue;
		}
		uint64_t obj, type;
		enum step s;
		while ((s = step(img, in, limit, &c, &obj, &type)) == STEP_OBJ)
			fn(arg, obj, type, g);
		if (s != STEP_END)
			warn_corrupt(warn, in, g, &c, s);
		counts[g] = c.n;
	}
	return NULL;
}

/* ---- the heap as an array ------------------------------------------------- */

typedef struct walk {
	ins_vec objs, types;
	uint32_t *type_of;
	size_t cap;
	ins_map index;          /* ob_type word -> position in types + 1 */
	uint64_t last_type;
	uint32_t last_idx;
	bool oom;
} walk;

/* Records obj and its type (read with its GC header), the type as a small index: the
 * distinct types are few, and a pass over the heap by type need not read the objects. */
static void push(void *arg, uint64_t obj, uint64_t type, int gen)
{
	(void)gen;
	walk *w = arg;
	ins_vec_push(&w->objs, obj);
	if (w->objs.n > w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 1024;
		uint32_t *v = ins_big_realloc(w->type_of, cap, sizeof(*v));
		if (!v) {
			w->oom = true;
			return;
		}
		w->type_of = v;
		w->cap = cap;
	}
	if (type != w->last_type || !w->types.n) {
		uint64_t *slot = w->types.n < UINT32_MAX ? ins_map_slot(&w->index, type + 1, 0) : NULL;
		if (!slot) {
			w->oom = true;
			return;
		}
		if (!*slot) {
			ins_vec_push(&w->types, type);
			*slot = w->types.n;
		}
		w->last_type = type;
		w->last_idx = (uint32_t)(*slot - 1);
	}
	w->type_of[w->objs.n - 1] = w->last_idx;
}

ins_error *ins_heap_walk(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap *h)
{
	memset(h, 0, sizeof(*h));
	h->ngens = in->ngens;
	walk w = { 0 };
	size_t counts[INS_MAX_GENS + 1];
	ins_error *err = ins_heap_visit(img, in, warn, push, &w, counts);
	h->objs = w.objs.v;
	h->n = w.objs.n;
	h->type_of = w.type_of;
	h->types = w.types.v;
	h->ntypes = w.types.n;
	ins_map_free(&w.index);
	if (!err && (w.objs.oom || w.types.oom || w.oom))
		err = ins_err_nomem();
	if (err) {
		ins_heap_free(h);
		return err;
	}
	for (int g = 0; g <= h->ngens; g++)
		h->gen_start[g + 1] = h->gen_start[g] + counts[g];
	h->ntracked = h->gen_start[h->ngens];
	h->nfrozen = h->n - h->ntracked;
	return NULL;
}

void ins_heap_free(ins_heap *h)
{
	free(h->objs);
	free(h->type_of);
	free(h->types);
	memset(h, 0, sizeof(*h));
}
