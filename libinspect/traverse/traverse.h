/* traverse.h -- the references one object holds, each with a label.
 *
 * An edge is one reference from an object to another. Exact edges are what the object's
 * type's tp_traverse visits: gc.get_referents(), for every builtin and common stdlib type
 * of every supported version. Hidden edges are strong references tp_traverse leaves out
 * (a code object's constants, a static type's __dict__, the type of an instance that
 * is not tracked): they explain refcounts but are not part of the reference graph.
 * Inferred edges come from scanning the memory of an object whose C type libinspect does
 * not know for words that are addresses of tracked objects.
 *
 * An ins_trav is the traversal context for one session: the decoder plus, per type, the
 * plan worked out the first time the type is met (which routine, the __slots__ offsets,
 * where the instance dict lives).
 */
#ifndef INS_TRAVERSE_H
#define INS_TRAVERSE_H

#include "object.h"

enum ins_edge_kind {
	INS_EDGE_FIELD,    /* a named field: name is static text ("__dict__", "f_back", ...) */
	INS_EDGE_CNAME,    /* named by the C string at aux in the target (a __slots__ member) */
	INS_EDGE_STRNAME,  /* named by the str object at aux (a frame local, a closure variable) */
	INS_EDGE_KEY,      /* a dict's value; aux is its key object */
	INS_EDGE_DICTKEY,  /* a dict's key */
	INS_EDGE_INDEX,    /* item aux of a list, tuple, deque, ... */
	INS_EDGE_MEMBER,   /* a member of a set or frozenset */
	INS_EDGE_INFERRED, /* found by scanning, at byte offset aux of the object */
	INS_EDGE_OFFSET,   /* visited by the type's own tp_traverse (emulated): the field at byte
			 * offset aux, or UINT64_MAX when the object does not hold it itself */
};

enum {
	INS_EF_HIDDEN = 1,    /* strong, but not visited by tp_traverse */
	INS_EF_INFERRED = 2,  /* a word that looks like a reference */
	INS_EF_BORROWED = 4,  /* visited by tp_traverse but owns no count of its target (3.14+: a
			       * _PyStackRef with Py_TAG_REFCNT), which the collector's
			       * subtract_refs therefore leaves out */
};

typedef struct ins_edge {
	uint64_t target;
	uint64_t aux;
	const char *name;
	uint8_t kind, flags;
} ins_edge;

typedef void (*ins_visit_fn)(void *arg, const ins_edge *e);

/* How an object was traversed. */
enum ins_trav_how {
	INS_TR_NONE,     /* holds no references (str, int, ...) or could not be read */
	INS_TR_EXACT,    /* by a routine that follows the type's tp_traverse */
	INS_TR_INFERRED, /* by scanning its memory: an unknown C type */
	INS_TR_EMULATED, /* by running its type's own tp_traverse in the emulator */
};

/* "none", "exact", "inferred", "emulated" */
const char *ins_trav_how_name(enum ins_trav_how how);

typedef struct ins_trav ins_trav;

ins_trav *ins_trav_new(ins_objects *o);
void ins_trav_free(ins_trav *t);
/* A context for another thread (o: a fork of parent's ins_objects): it uses the plans parent
 * worked out and what ins_trav_prepare emulated ahead, read only (parent must not be used
 * while forks are), and works out anything else itself. ins_trav_join adds what the fork
 * emulated to parent's counts and frees it. */
ins_trav *ins_trav_fork(const ins_trav *parent, ins_objects *o);
void ins_trav_join(ins_trav *t, ins_trav *fork);

/* Addresses a scan accepts as references (the tracked objects): is_ref(arg, addr). Without
 * one, unknown C types are not scanned. */
void ins_trav_set_scan(ins_trav *t, bool (*is_ref)(void *arg, uint64_t addr), void *arg);

/* The fs base (a thread's pthread_self()) emulated tp_traverse functions see. */
void ins_trav_set_tls(ins_trav *t, uint64_t fs_base);
/* Emulation of C types' own tp_traverse (on by default); off: native routines and scans. */
void ins_trav_set_emulation(ins_trav *t, bool on);
/* Emulated calls so far: those that returned, those that failed (their objects were
 * scanned instead), and those that wrote outside their stack (to private copies). */
void ins_trav_emu_stats(const ins_trav *t, uint64_t *emulated, uint64_t *failed, uint64_t *wrote);

/* Runs the emulated traversals (and tp_is_gc) of the objects among objs that need one, in
 * batches (starting the emulator costs microseconds), so that ins_traverse finds them done.
 * type_of[i] is objs[i]'s ob_type as an index into the ntypes distinct types (ins_heap's),
 * so that only the objects of the types that need it are read. */
void ins_trav_prepare(ins_trav *t, const uint64_t *objs, const uint32_t *type_of, const uint64_t *types,
		      size_t ntypes, size_t n);

/* graph --verify: runs the tp_traverse of each object's type in the emulator and compares
 * what it visits with ins_traverse's edges (hidden ones aside), as multisets. fn is called
 * for each object where they differ, with both sorted; *same counts the others, *failed
 * the objects that could not be emulated. */
typedef void (*ins_verify_fn)(void *arg, uint64_t obj, const ins_vec *native, const ins_vec *emulated);
ins_error *ins_trav_verify(ins_trav *t, const uint64_t *objs, size_t n, ins_verify_fn fn, void *arg,
			   size_t *same, size_t *failed);

/* Calls fn for every reference obj holds (type: ins_obj_type(obj)). Targets are nonzero
 * but not otherwise checked. */
enum ins_trav_how ins_traverse(ins_trav *t, uint64_t obj, const ins_type *type, ins_visit_fn fn,
			       void *arg);

/* Does the object at obj (whose ob_type word is ob_type) hold no references at all, not
 * even hidden ones (str, int, float, ...)? */
bool ins_trav_leaf(ins_trav *t, uint64_t obj, uint64_t ob_type);

/* Runs the getter of the attribute name of a C type (its tp_getset, or a base's) on obj in
 * the emulator, as get(obj, NULL), and gives what it returned: a new reference, in the
 * emulator's private copy only (nothing is written to the target). False when the type has
 * no such getter or the emulated call failed. */
bool ins_trav_getter(ins_trav *t, uint64_t type, const char *name, uint64_t obj, uint64_t *value);

/* The edge's label: an attribute or global name, a key's repr, [index], a field name. */
void ins_edge_label(ins_objects *o, const ins_edge *e, ins_buf *out);

#endif
