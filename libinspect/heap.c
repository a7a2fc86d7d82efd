/* heap.c -- walking the GC generation lists (see heap.h). */
#include "heap.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static bool push(ins_heap *h, size_t *cap, uint64_t obj)
{
	if (h->n == *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		uint64_t *v = realloc(h->objs, c * sizeof(*v));
		if (!v)
			return false;
		h->objs = v;
		*cap = c;
	}
	h->objs[h->n++] = obj;
	return true;
}

/* Reads the (masked) next and prev links of the GC header at gc. */
static bool links(ins_image *img, const ins_interp *in, uint64_t gc, uint64_t *next, uint64_t *prev)
{
	const ins_layout *L = &in->L;
	const uint8_t *p = ins_image_ptr(img, gc, (size_t)L->sizeof_gc_head);
	uint64_t n, v;
	if (p) {
		memcpy(&n, p + L->gc_next, 8);
		memcpy(&v, p + L->gc_prev, 8);
	} else if (!ins_image_u64(img, gc + (uint64_t)L->gc_next, &n) ||
		   !ins_image_u64(img, gc + (uint64_t)L->gc_prev, &v)) {
		return false;
	}
	*next = n & in->gc_next_mask;
	*prev = v & in->gc_prev_mask;
	return true;
}

static const char *gen_name(const ins_heap *h, int g, char *buf, size_t n)
{
	if (g == h->ngens)
		return "the permanent generation";
	snprintf(buf, n, "generation %d", g);
	return buf;
}

static ins_error *walk_list(ins_image *img, const ins_interp *in, int g, ins_buf *warn,
			    ins_heap *h, size_t *cap, uint64_t limit)
{
	uint64_t head = ins_interp_gen_head(in, g), cur = head, next, prev, dummy;
	char name[32];
	if (!head)
		return NULL;
	if (!links(img, in, head, &next, &dummy))
		return ins_err(INS_E_CORRUPT, "cannot read the list head of %s at 0x%llx",
			       gen_name(h, g, name, sizeof(name)), (unsigned long long)head);
	for (uint64_t steps = 0; next != head; steps++) {
		const char *bad = NULL;
		uint64_t after;
		if (steps > limit)
			bad = "more objects than the image can hold";
		else if (!links(img, in, next, &after, &prev))
			bad = "a link points outside the image";
		else if (prev != cur)
			bad = "a back-link disagrees (loop or overwritten header)";
		if (bad) {
			ins_buf_printf(warn, "warning: GC list of %s is corrupt after %zu objects at 0x%llx: %s; its remaining objects are not counted\n",
				       gen_name(h, g, name, sizeof(name)), (size_t)steps,
				       (unsigned long long)next, bad);
			return NULL;
		}
		if (!push(h, cap, next + (uint64_t)in->L.sizeof_gc_head))
			return ins_err_nomem();
		cur = next;
		next = after;
	}
	return NULL;
}

ins_error *ins_heap_walk(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap *h)
{
	memset(h, 0, sizeof(*h));
	h->ngens = in->ngens < INS_MAX_GENS ? in->ngens : INS_MAX_GENS;
	size_t cap = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < img->nsegs; i++)
		bytes += img->segs[i].end - img->segs[i].start;
	uint64_t limit = bytes / 16 + 1;
	for (int g = 0; g <= h->ngens; g++) {
		h->gen_start[g] = h->n;
		ins_error *err = walk_list(img, in, g, warn, h, &cap, limit);
		if (err) {
			ins_heap_free(h);
			return err;
		}
	}
	h->gen_start[h->ngens + 1] = h->n;
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
