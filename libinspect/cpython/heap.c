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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a walk of one list is. */
typedef struct cursor {
	uint64_t head, cur, next;
	size_t n;
} cursor;

enum step { STEP_OBJ, STEP_END, STEP_UNREADABLE, STEP_BACKLINK, STEP_LIMIT };

/* What an object header says, read with its GC header's links. */
typedef struct header {
	uint64_t type;
	uint32_t refcnt;  /* as ins_heap.refcnt */
} header;

/* The refcount word at ob_refcnt as recorded (ins_obj_refcnt's reading when it is under
 * 2^31: no immortal count is). */
static uint32_t refcnt_code(const ins_interp *in, uint64_t word)
{
	uint64_t v = in->L.obj_refcnt_bits == 32 ? (uint32_t)word : word;
	return v < ((uint64_t)1 << 31) ? (uint32_t)v : INS_REFCNT_AGAIN;
}

/* The (masked) links of the GC header at p and the header of the object behind it. */
static void decode(const ins_interp *in, const uint8_t *p, uint64_t *next, uint64_t *prev, header *o)
{
	const ins_layout *L = &in->L;
	uint64_t v[4];
	memcpy(&v[0], p + L->gc_next, 8);
	memcpy(&v[1], p + L->gc_prev, 8);
	memcpy(&v[2], p + L->sizeof_gc_head + L->obj_type, 8);
	memcpy(&v[3], p + L->sizeof_gc_head + L->obj_refcnt, 8);
	*next = v[0] & in->gc_next_mask;
	*prev = v[1] & in->gc_prev_mask;
	o->type = v[2];
	o->refcnt = refcnt_code(in, v[3]);
}

/* The bytes links and decode read at a GC header. */
static size_t header_span(const ins_interp *in)
{
	const ins_layout *L = &in->L;
	return (size_t)(L->sizeof_gc_head + (L->obj_type > L->obj_refcnt ? L->obj_type : L->obj_refcnt) + 8);
}

/* Reads the links of the GC header at gc and the header of the object behind it. */
static bool links(ins_image *img, const ins_interp *in, uint64_t gc, uint64_t *next, uint64_t *prev, header *o)
{
	const ins_layout *L = &in->L;
	const uint8_t *p = ins_image_fast(img, gc, header_span(in));
	if (p) {
		decode(in, p, next, prev, o);
		return true;
	}
	uint64_t v[4];
	if (!ins_image_u64(img, gc + (uint64_t)L->gc_next, &v[0]) ||
	    !ins_image_u64(img, gc + (uint64_t)L->gc_prev, &v[1]) ||
	    !ins_image_u64(img, gc + (uint64_t)(L->sizeof_gc_head + L->obj_type), &v[2]))
		return false;
	*next = v[0] & in->gc_next_mask;
	*prev = v[1] & in->gc_prev_mask;
	o->type = v[2];
	o->refcnt = ins_image_u64(img, gc + (uint64_t)(L->sizeof_gc_head + L->obj_refcnt), &v[3])
			    ? refcnt_code(in, v[3]) : INS_REFCNT_AGAIN;
	return true;
}

static bool cursor_start(ins_image *img, const ins_interp *in, int g, cursor *c)
{
	uint64_t prev;
	header o;
	c->head = c->cur = ins_interp_gen_head(in, g);
	c->n = 0;
	c->next = c->head;
	return !c->head || links(img, in, c->head, &c->next, &prev, &o);
}

/* One element further: its object and header, or why not. */
static enum step step(ins_image *img, const ins_interp *in, uint64_t limit, cursor *c, uint64_t *obj, header *o)
{
	uint64_t after, prev;
	if (!c->head || c->next == c->head)
		return STEP_END;
	if (c->n > limit)
		return STEP_LIMIT;
	if (!links(img, in, c->next, &after, &prev, o))
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

/* The bytes of the image's segments (dumped memory). */
static uint64_t seg_bytes(const ins_image *img)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < img->nsegs; i++)
		bytes += img->segs[i].end - img->segs[i].start;
	return bytes;
}

static uint64_t limit_of(const ins_image *img)
{
	return seg_bytes(img) / 16 + 1;
}

/* Generation g's list, alone, in order: fn for each object; the list's length. */
static size_t visit_gen(ins_image *img, const ins_interp *in, ins_buf *warn, int g, uint64_t limit,
			ins_heap_fn fn, void *arg)
{
	cursor c = { 0, 0, 0, 0 };
	if (!cursor_start(img, in, g, &c)) {
		char name[32];
		ins_buf_printf(warn, "warning: cannot read the list head of %s at 0x%llx\n",
			       gen_name(in, g, name, sizeof(name)), (unsigned long long)c.head);
		return 0;
	}
	uint64_t obj;
	header o;
	enum step s;
	while ((s = step(img, in, limit, &c, &obj, &o)) == STEP_OBJ)
		fn(arg, obj, o.type, o.refcnt, g);
	if (s != STEP_END)
		warn_corrupt(warn, in, g, &c, s);
	return c.n;
}

ins_error *ins_heap_visit(ins_image *img, const ins_interp *in, ins_buf *warn, ins_heap_fn fn,
			  void *arg, size_t counts[INS_MAX_GENS + 1])
{
	uint64_t limit = limit_of(img);
	for (int g = 0; g <= INS_MAX_GENS; g++)
		counts[g] = g > in->ngens ? 0 : visit_gen(img, in, warn, g, limit, fn, arg);
	return NULL;
}

/* ---- the heap as an array ------------------------------------------------- */

typedef struct walk {
	ins_vec objs, types;
	uint32_t *type_of, *refcnt;  /* cap each */
	size_t cap;
	ins_map index;          /* ob_type word -> position in types + 1 */
	uint64_t last_type;
	uint32_t last_idx;
	bool oom;
} walk;

/* Records obj, its type and refcount (read with its GC header), the type as a small index:
 * the distinct types are few, and a pass over the heap by type need not read the objects. */
static void push(void *arg, uint64_t obj, uint64_t type, uint32_t refcnt, int gen)
{
	(void)gen;
	walk *w = arg;
	ins_vec_push(&w->objs, obj);
	if (w->objs.n > w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 1024;
		uint32_t *v = ins_big_realloc(w->type_of, cap, sizeof(*v));
		uint32_t *r = v ? ins_big_realloc(w->refcnt, cap, sizeof(*r)) : NULL;
		if (v)
			w->type_of = v;
		if (!r) {
			w->oom = true;
			return;
		}
		w->refcnt = r;
		w->cap = cap;
	}
	w->refcnt[w->objs.n - 1] = refcnt;
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

/* Room for as many objects as the image's segments can hold (each at least a GC header
 * and an object header): reserved, not touched, so only what the walk writes becomes
 * resident, and the arrays never move while they grow. Where the system will not reserve
 * that much, they grow as needed instead. */
static void walk_reserve(walk *w, const ins_image *img, const ins_interp *in)
{
	size_t n = (size_t)(seg_bytes(img) / (uint64_t)(in->L.sizeof_gc_head + 16)) + 1;
	uint64_t *objs = ins_big_malloc(n, sizeof(*objs));
	uint32_t *type_of = objs ? ins_big_malloc(n, sizeof(*type_of)) : NULL;
	uint32_t *refcnt = type_of ? ins_big_malloc(n, sizeof(*refcnt)) : NULL;
	if (!refcnt) {
		free(objs);
		free(type_of);
		return;
	}
	w->objs.v = objs;
	w->objs.cap = n;
	w->type_of = type_of;
	w->refcnt = refcnt;
	w->cap = n;
}

/* Gives back what the reservation did not use; objs keeps it (untouched, it takes no
 * memory) for the graph's untracked nodes to follow the objects in place (ins_heap.objs_cap). */
static void walk_trim(walk *w)
{
	size_t n = w->objs.n ? w->objs.n : 1;
	uint32_t *type_of = w->cap > n ? realloc(w->type_of, n * sizeof(*type_of)) : NULL;
	uint32_t *refcnt = w->cap > n ? realloc(w->refcnt, n * sizeof(*refcnt)) : NULL;
	if (type_of)
		w->type_of = type_of;
	if (refcnt)
		w->refcnt = refcnt;
	if (type_of && refcnt)
		w->cap = n;
}

/* Drops what a walk recorded after its first n objects and ntypes types. */
static void walk_truncate(walk *w, size_t n, size_t ntypes)
{
	w->objs.n = n;
	if (w->types.n == ntypes)
		return;
	w->types.n = ntypes;
	ins_map_free(&w->index);
	memset(&w->index, 0, sizeof(w->index));
	for (size_t i = 0; i < ntypes; i++) {
		uint64_t *slot = ins_map_slot(&w->index, w->types.v[i] + 1, 0);
		if (!slot) {
			w->oom = true;
			return;
		}
		*slot = i + 1;
	}
	w->last_type = ntypes ? w->types.v[ntypes - 1] : 0;
	w->last_idx = ntypes ? (uint32_t)(ntypes - 1) : 0;
}

static void walk_free(walk *w)
{
	free(w->objs.v);
	free(w->types.v);
	free(w->type_of);
	free(w->refcnt);
	ins_map_free(&w->index);
}

/* ---- the two-ended walk ---------------------------------------------------
 * A generation's list is doubly linked: while this thread follows gc_next from the head,
 * a second one follows gc_prev from it, and each claims the headers it reaches in a map
 * both share (two bits per 16 bytes of the image's segments, set by atomic or: distinct
 * headers are at least 16 bytes apart); each stops at the first header the other claimed.
 * The chase is bound by memory latency, so two chases at once take about half the time.
 * Each step checks its back-link as the serial walk does; where the two met, the links
 * must join (each one's last header is where the other stopped). Anything else -- an
 * unreadable link, one that disagrees, a header claimed twice by one side (a loop), the
 * limit, a header outside the segments, no memory or no thread -- makes the caller walk
 * that list again alone, which gives its warnings: the result is the serial walk's. */

typedef struct claims {
	uint8_t *bits;   /* per 16-byte granule: 1 claimed going forward, 2 backward */
	size_t *base;    /* per segment: its first granule */
} claims;

static bool claims_init(claims *c, const ins_image *img)
{
	size_t granules = 0;
	c->base = malloc((img->nsegs ? img->nsegs : 1) * sizeof(*c->base));
	for (size_t i = 0; c->base && i < img->nsegs; i++) {
		c->base[i] = granules;
		granules += (size_t)((img->segs[i].end - img->segs[i].start + 15) / 16);
	}
	/* calloc's fresh zero pages: only the bytes of the granules claimed become resident */
	c->bits = c->base ? calloc(granules / 4 + 1, 1) : NULL;
	return c->bits;
}

typedef struct chase {
	const ins_image *img;
	const ins_interp *in;
	const claims *c;
	uint64_t head, limit;
	bool backward;
	walk w;            /* what it reached, in its order */
	uint64_t last;     /* its last header (the head when none) */
	uint64_t met;      /* the header it found claimed by the other; 0: it came back to the head */
	bool bad;
} chase;

static void *chase_run(void *arg)
{
	chase *k = arg;
	const ins_interp *in = k->in;
	size_t span = header_span(in), seg = 0;
	uint8_t mine = k->backward ? 2 : 1;
	uint64_t cur = k->head, next, prev, after;
	header o;
	const uint8_t *p = ins_image_seg_bytes(k->img, cur, span, &seg);
	k->last = k->head;
	if (!p) {
		k->bad = true;
		return NULL;
	}
	decode(in, p, &next, &prev, &o);
	if (k->backward)
		next = prev;
	while (next != k->head) {
		if (k->w.objs.n > k->limit || !(p = ins_image_seg_bytes(k->img, next, span, &seg))) {
			k->bad = true;
			return NULL;
		}
		uint64_t n2, p2;
		decode(in, p, &n2, &p2, &o);
		if ((k->backward ? n2 : p2) != cur) {
			k->bad = true;
			return NULL;
		}
		after = k->backward ? p2 : n2;
		size_t granule = k->c->base[seg] + (size_t)((next - k->img->segs[seg].start) >> 4);
		unsigned shift = (unsigned)(granule & 3) * 2;
		uint8_t old = __atomic_fetch_or(&k->c->bits[granule >> 2], (uint8_t)(mine << shift), __ATOMIC_RELAXED);
		old = (uint8_t)((old >> shift) & 3);
		if (old & mine) {  /* a loop */
			k->bad = true;
			return NULL;
		}
		if (old) {
			k->met = next;
			return NULL;
		}
		push(&k->w, next + (uint64_t)in->L.sizeof_gc_head, o.type, o.refcnt, 0);
		if (k->w.oom || k->w.objs.oom || k->w.types.oom) {
			k->bad = true;
			return NULL;
		}
		k->last = cur = next;
		next = after;
	}
	return NULL;
}

/* Generation g walked from both ends into w (the forward half recorded there directly):
 * false (w as it was) when the caller is to walk it alone. */
static bool walk_gen_two(ins_image *img, const ins_interp *in, const claims *c, int g, uint64_t limit,
			 walk *w, size_t *count)
{
	uint64_t head = ins_interp_gen_head(in, g);
	if (!head)
		return false;
	size_t n0 = w->objs.n, t0 = w->types.n;
	chase fwd = { .img = img, .in = in, .c = c, .head = head, .limit = limit, .w = *w };
	chase bwd = { .img = img, .in = in, .c = c, .head = head, .limit = limit, .backward = true };
	pthread_t thread;
	walk_reserve(&bwd.w, img, in);
	if (pthread_create(&thread, NULL, chase_run, &bwd) != 0) {
		walk_free(&bwd.w);
		return false;
	}
	chase_run(&fwd);
	pthread_join(thread, NULL);
	*w = fwd.w;
	size_t nf = w->objs.n - n0, nb = bwd.w.objs.n;
	bool ok = !fwd.bad && !bwd.bad && nf + nb <= limit &&
		  (fwd.met || bwd.met ? (!fwd.met || fwd.met == bwd.last) && (!bwd.met || bwd.met == fwd.last)
				      : nf + nb == 0);
	for (size_t i = nb; ok && i-- > 0;) {
		push(w, bwd.w.objs.v[i], bwd.w.types.v[bwd.w.type_of[i]], bwd.w.refcnt[i], g);
		ok = !w->oom && !w->objs.oom && !w->types.oom;
	}
	walk_free(&bwd.w);
	if (!ok) {
		walk_truncate(w, n0, t0);
		return false;
	}
	*count = nf + nb;
	return true;
}

ins_error *ins_heap_walk(ins_image *img, const ins_interp *in, ins_buf *warn, unsigned threads, ins_heap *h)
{
	memset(h, 0, sizeof(*h));
	h->ngens = in->ngens;
	walk w = { 0 };
	size_t counts[INS_MAX_GENS + 1] = { 0 };
	uint64_t limit = limit_of(img);
	claims c = { NULL, NULL };
	walk_reserve(&w, img, in);
	bool two = threads > 1 && claims_init(&c, img);
	unsigned used = 1;
	for (int g = 0; g <= in->ngens && g <= INS_MAX_GENS; g++) {
		if (two && walk_gen_two(img, in, &c, g, limit, &w, &counts[g]))
			used = counts[g] > 1 ? 2 : used;
		else
			counts[g] = visit_gen(img, in, warn, g, limit, push, &w);
	}
	free(c.bits);
	free(c.base);
	walk_trim(&w);
	h->objs = w.objs.v;
	h->objs_cap = w.objs.cap;
	h->n = w.objs.n;
	h->type_of = w.type_of;
	h->refcnt = w.refcnt;
	h->types = w.types.v;
	h->ntypes = w.types.n;
	ins_map_free(&w.index);
	if (w.objs.oom || w.types.oom || w.oom) {
		ins_heap_free(h);
		return ins_err_nomem();
	}
	for (int g = 0; g <= h->ngens; g++)
		h->gen_start[g + 1] = h->gen_start[g] + counts[g];
	h->ntracked = h->gen_start[h->ngens];
	h->nfrozen = h->n - h->ntracked;
	h->walk_threads = used;
	return NULL;
}

void ins_heap_free(ins_heap *h)
{
	free(h->objs);
	free(h->type_of);
	free(h->refcnt);
	free(h->types);
	memset(h, 0, sizeof(*h));
}

void ins_heap_forget_refcnt(ins_heap *h)
{
	free(h->refcnt);
	h->refcnt = NULL;
}
