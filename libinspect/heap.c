/* heap.c -- walking the GC generation lists (see heap.h). */
#include "heap.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Reads the (masked) next and prev links of the GC header at gc, and the type of the
 * object behind it, in one read. */
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

static const char *gen_name(const ins_interp *in, int g, char *buf, size_t n)
{
	if (g == in->ngens)
		return "the permanent generation";
	snprintf(buf, n, "generation %d", g);
	return buf;
}

static size_t walk_list(ins_image *img, const ins_interp *in, int g, ins_buf *warn,
			uint64_t limit, ins_heap_fn fn, void *arg)
{
	uint64_t head = ins_interp_gen_head(in, g), cur = head, next, prev, type;
	char name[32];
	size_t n = 0;
	if (!head)
		return 0;
	if (!links(img, in, head, &next, &prev, &type)) {
		ins_buf_printf(warn, "warning: cannot read the list head of %s at 0x%llx\n",
			       gen_name(in, g, name, sizeof(name)), (unsigned long long)head);
		return 0;
	}
	while (next != head) {
		const char *bad = NULL;
		uint64_t after;
		if (n > limit)
			bad = "more objects than the image can hold";
		else if (!links(img, in, next, &after, &prev, &type))
			bad = "a link points outside the image";
		else if (prev != cur)
			bad = "a back-link disagrees (loop or overwritten header)";
		if (bad) {
			ins_buf_printf(warn, "warning: GC list of %s is corrupt after %zu objects at 0x%llx: %s; its remaining objects are not counted\n",
				       gen_name(in, g, name, sizeof(name)), n, (unsigned long long)next, bad);
			break;
		}
		fn(arg, next + (uint64_t)in->L.sizeof_gc_head, type, g);
		n++;
		cur = next;
		next = after;
	}
	return n;
}

ins_error *ins_heap_visit(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap_fn fn,
			  void *arg, size_t counts[INS_MAX_GENS + 1])
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < img->nsegs; i++)
		bytes += img->segs[i].end - img->segs[i].start;
	int ngens = in->ngens < INS_MAX_GENS ? in->ngens : INS_MAX_GENS;
	for (int g = 0; g <= INS_MAX_GENS; g++)
		counts[g] = g <= ngens ? walk_list(img, in, g, warn, bytes / 16 + 1, fn, arg) : 0;
	return NULL;
}

typedef struct collect {
	ins_heap *h;
	size_t cap;
	bool oom;
} collect;

static void push(void *arg, uint64_t obj, uint64_t type, int gen)
{
	collect *c = arg;
	ins_heap *h = c->h;
	(void)type;
	(void)gen;
	if (h->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		uint64_t *v = c->oom ? NULL : realloc(h->objs, cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return;
		}
		h->objs = v;
		c->cap = cap;
	}
	h->objs[h->n++] = obj;
}

ins_error *ins_heap_walk(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap *h)
{
	memset(h, 0, sizeof(*h));
	h->ngens = in->ngens < INS_MAX_GENS ? in->ngens : INS_MAX_GENS;
	collect c = { h, 0, false };
	size_t counts[INS_MAX_GENS + 1];
	ins_error *err = ins_heap_visit(img, in, warn, push, &c, counts);
	if (!err && c.oom)
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
	free(h->sorted);
	memset(h, 0, sizeof(*h));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

bool ins_heap_contains(ins_heap *h, uint64_t addr)
{
	if (!h->sorted && h->n) {
		h->sorted = malloc(h->n * sizeof(*h->sorted));
		if (!h->sorted)
			return false;
		memcpy(h->sorted, h->objs, h->n * sizeof(*h->sorted));
		qsort(h->sorted, h->n, sizeof(*h->sorted), cmp_u64);
	}
	return h->n && bsearch(&addr, h->sorted, h->n, sizeof(addr), cmp_u64) != NULL;
}
