/* traverse_impl.h -- what the traversal routine files share.
 *
 * traverse.c: the dispatch (which routine a type uses, worked out once per type), the
 * containers (dict, list, tuple, set), instances of Python classes (__slots__, the instance
 * dict wherever it lives, the class), type objects, modules, 2.7 classic classes and
 * instances, and the conservative scan of unknown C types.
 * trav_code.c: functions, code, cells, methods, frames, generators and coroutines,
 * tracebacks, exceptions, builtin functions and descriptors.
 * trav_stdlib.c: collections, functools, weakrefs, classmethod/staticmethod/property and
 * the other common C types of the standard library.
 *
 * A routine follows one C tp_traverse of one type: it is found by the type's tp_name
 * ("frame", "collections.deque"), for static types and for heap types made by C code, and
 * is inherited by static subtypes that keep their base's tp_traverse. A routine only
 * reads and reports edges; everything it reads is bounds-checked by the image.
 */
#ifndef INS_TRAVERSE_IMPL_H
#define INS_TRAVERSE_IMPL_H

#include <string.h>

#include "traverse.h"

/* Items of one container visited at most (a corrupt size must not run for ever). */
#define TV_MAX_ITEMS (1u << 28)

/* One traversal in progress. */
typedef struct tv {
	ins_trav *t;
	ins_objects *o;
	const ins_interp *in;
	const ins_layout *L;
	ins_visit_fn fn;
	void *arg;
} tv;

/* The pointer-sized word at base + off (ins_image_word). */
static inline uint64_t tv_word(const tv *v, uint64_t base, int64_t off)
{
	return ins_image_word(v->o->img, base, off);
}

static inline void tv_edge(const tv *v, uint64_t target, uint8_t kind, const char *name, uint64_t aux,
			   uint8_t flags)
{
	if (!target)
		return;
	ins_edge e = { .target = target, .aux = aux, .name = name, .kind = kind, .flags = flags };
	v->fn(v->arg, &e);
}

/* Py_VISIT(obj->field) for the field at offset off, labelled name. */
static inline void tv_field(const tv *v, uint64_t obj, int64_t off, const char *name)
{
	tv_edge(v, tv_word(v, obj, off), INS_EDGE_FIELD, name, 0, 0);
}

/* A strong reference tp_traverse does not visit. */
static inline void tv_hidden(const tv *v, uint64_t obj, int64_t off, const char *name)
{
	tv_edge(v, tv_word(v, obj, off), INS_EDGE_FIELD, name, 0, INS_EF_HIDDEN);
}

/* The n PyObject pointers at items, as [first + i] edges (NULL ones skipped). */
void ins_tv_items_from(const tv *v, uint64_t items, int64_t n, uint64_t first, uint8_t flags);

static inline void tv_items(const tv *v, uint64_t items, int64_t n, uint8_t flags)
{
	ins_tv_items_from(v, items, n, 0, flags);
}
/* The items of the tuple at tuple (a names tuple, co_consts, ...) as one kind of edge. */
void ins_tv_tuple(const tv *v, uint64_t tuple, uint8_t flags);
/* dict_traverse: every key and value of the dict at dict (2.7 to 3.13 layouts). */
void ins_tv_dict(const tv *v, uint64_t dict, uint8_t flags);
/* The str object that is item i of the tuple at tuple, or 0 (co_varnames, ...). */
uint64_t ins_tv_tuple_item(const tv *v, uint64_t tuple, int64_t i);

typedef void (*trav_fn)(const tv *v, uint64_t obj, const ins_type *type);

typedef struct trav_routine {
	const char *names;  /* tp_names, space-separated: "frame", "collections.deque" */
	trav_fn fn;
} trav_routine;

/* Each file's routines, ended by { NULL, NULL }. */
extern const trav_routine ins_trav_core_routines[];
extern const trav_routine ins_trav_code_routines[];
extern const trav_routine ins_trav_stdlib_routines[];

#endif
