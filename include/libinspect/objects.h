/* libinspect/objects.h -- one object: its facts, its short repr, what it refers to and what
 * refers to it.
 *
 * Objects are named by their address. Strings in an ins_object (type names) belong to the
 * program and live as long as it does.
 */
#ifndef LIBINSPECT_OBJECTS_H
#define LIBINSPECT_OBJECTS_H

#include "program.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ins_object {
	uint64_t address;
	uint64_t type_address;  /* type(obj) (for a 2.7 classic instance, its class) */
	const char *type;       /* type.__name__ */
	const char *qualname;   /* module.qualname, objgraph's long name */
	int64_t refcnt;         /* the raw ob_refcnt: sys.getrefcount(obj) - 1 */
	bool immortal;          /* 3.12+ immortal object */
	uint64_t size;          /* sys.getsizeof(obj) */
	bool tracked;           /* on a GC list (gc.is_tracked), frozen ones too */
	bool frozen;            /* in the permanent generation of gc.freeze() */
	int generation;         /* 0..2 when tracked and not frozen, else -1 */
} ins_object;

/* The object at addr; INS_ERR_NOT_FOUND if there is none. */
INS_API ins_error *ins_object_get(ins_program *p, uint64_t addr, ins_object *out);
/* objgraph's short repr of the object (names, N items, file:line, values), malloc'd: ins_free. */
INS_API ins_error *ins_object_repr(ins_program *p, uint64_t addr, char **out);

enum {
	INS_REF_INFERRED = 1,   /* found by scanning the memory of an object whose C type's
				   tp_traverse could not be run */
	INS_REF_BORROWED = 2,   /* visited by tp_traverse but owns no reference (3.14+ stack refs) */
};

/* One reference: the object at the other end and the label of the edge (attribute or
 * global name, dict key, [index], slot or member name, +0xOFFSET). */
typedef struct ins_ref {
	uint64_t address;
	char *label;
	unsigned flags;         /* INS_REF_* */
} ins_ref;

typedef struct ins_refs {
	ins_ref *v;
	size_t n;
} ins_refs;

/* gc.get_referents(obj), in traversal order, labelled. */
INS_API ins_error *ins_object_referents(ins_program *p, uint64_t addr, ins_refs *out);
/* gc.get_referrers(obj): the objects holding a reference to it, each with the label of its
 * reference, in heap order. */
INS_API ins_error *ins_object_referrers(ins_program *p, uint64_t addr, ins_refs *out);
INS_API void ins_refs_free(ins_refs *r);

#ifdef __cplusplus
}
#endif
#endif
