/* object.h -- decoding objects: types and their names, strings, dicts, sizes, reprs.
 *
 * An ins_objects is the decoding context for one image: the interpreter found in it and
 * a cache of every type met so far (an ins_type: names, flags, sizes and which builtin
 * the type is or derives from). Python 2 classic instances are typed by their class, as
 * objgraph does.
 */
#ifndef INS_OBJECT_H
#define INS_OBJECT_H

#include "hashmap.h"
#include "interp.h"

enum ins_kind {
	INS_K_OTHER, INS_K_TYPE, INS_K_LIST, INS_K_TUPLE, INS_K_DICT, INS_K_STR,
	INS_K_BYTES, INS_K_INT, INS_K_FLOAT, INS_K_SET, INS_K_MODULE, INS_K_FUNCTION,
	INS_K_CODE, INS_K_FRAME, INS_K_METHOD, INS_K_CFUNCTION, INS_K_INSTANCE2, INS_K_CLASS2,
	INS_K_WEAKREF,
};

typedef struct ins_type {
	uint64_t addr;          /* the type object (a class, for 2.7 classic instances) */
	char *name;             /* type.__name__ */
	char *qualname;         /* module.qualname (objgraph's long name, with __qualname__) */
	enum ins_kind kind;     /* the builtin it is or derives from */
	uint64_t flags;         /* tp_flags */
	int64_t basicsize, itemsize;
	bool heap;
} ins_type;

typedef struct ins_objects {
	ins_image *img;
	const ins_interp *in;
	ins_map index;          /* type address -> position in types + 1 */
	ins_type **types;       /* each allocated once: pointers stay valid */
	size_t ntypes, captypes;
	ins_map finalizers;     /* type address -> enum ins_finalizer + 1, once worked out */
	const struct ins_objects *parent;  /* a fork's: its types are looked up first */
} ins_objects;

void ins_objects_init(ins_objects *o, ins_image *img, const ins_interp *in);
/* For another thread: o finds the types parent decoded (read only: nothing may decode types
 * in parent while o is in use) and decodes the others itself. Freed by ins_objects_free. */
void ins_objects_fork(ins_objects *o, const ins_objects *parent);
void ins_objects_free(ins_objects *o);

/* The type of the object at obj (cached), or NULL if it cannot be read. */
const ins_type *ins_obj_type(ins_objects *o, uint64_t obj);
/* The kind of the object's type, without naming the type (names are strs, decoded with
 * this: type naming never recurses); false if the object cannot be read. */
bool ins_obj_kind(ins_objects *o, uint64_t obj, enum ins_kind *kind);
/* The ins_type describing the type object at type (cached), or NULL. */
const ins_type *ins_type_info(ins_objects *o, uint64_t type);
/* The type's __dict__: tp_dict, or for 3.12+ static builtin types the dict the interpreter
 * state keeps for it (its subclasses dict too, when subclasses is not NULL); 0 if none. */
uint64_t ins_type_dict(ins_objects *o, uint64_t type, uint64_t *subclasses);
/* What runs when a collection frees an instance: a __del__ a Python class defines, or a C
 * type's tp_finalize (3.4+: generators, ...) or legacy tp_del. objgraph marks all of them
 * as having __del__ (hasattr(type(obj), '__del__')). */
enum ins_finalizer { INS_FIN_NONE, INS_FIN_DEL, INS_FIN_FINALIZE, INS_FIN_TP_DEL };
enum ins_finalizer ins_type_finalizer(ins_objects *o, const ins_type *t);
const char *ins_finalizer_name(enum ins_finalizer f);  /* "__del__", "tp_finalize", ... or NULL */

/* Does addr look like an object: readable header whose type is a type? */
bool ins_obj_valid(ins_objects *o, uint64_t addr);
bool ins_obj_refcnt(ins_objects *o, uint64_t obj, int64_t *refcnt, bool *immortal);
/* Is sys.getsizeof the same for every instance of t (no per-object field counts)? */
bool ins_type_size_fixed(const ins_type *t);
/* sys.getsizeof(obj). */
uint64_t ins_obj_size(ins_objects *o, uint64_t obj, const ins_type *t);
/* objgraph's short repr: names, N items, file:line, str and number values. */
void ins_obj_repr(ins_objects *o, uint64_t obj, const ins_type *t, ins_buf *out);
/* The UTF-8 text of a str (2.7: str or unicode), at most max bytes; false if not one. */
/* A non-negative int (or bool) that fits 64 bits: its value. */
bool ins_int_u64(ins_objects *o, uint64_t obj, uint64_t *value);
bool ins_str_text(ins_objects *o, uint64_t obj, ins_buf *out, size_t max);

typedef bool (*ins_dict_fn)(void *arg, uint64_t key, uint64_t value);  /* false stops */
/* Calls fn for every item of a dict; false if the dict cannot be read. */
bool ins_dict_items(ins_objects *o, uint64_t dict, ins_dict_fn fn, void *arg);
bool ins_dict_get_str(ins_objects *o, uint64_t dict, const char *key, uint64_t *value);

#endif
