/* interp.h -- finding the CPython interpreter in an image.
 *
 * Discovery runs nothing in the target: it finds the file that holds the interpreter
 * (libpython*.so or a statically linked executable) by its symbols (_PyRuntime for 3.7+,
 * gcmodule.c's `generations` / the exported _PyGC_generation0 for 2.7 and 3.6), reads
 * the version (Py_Version, 3.13's _Py_DebugOffsets, or the version string Py_GetVersion
 * left in memory), picks that version's layout, applies _Py_DebugOffsets over it, locates
 * the GC state (static in 2.7/3.6, _PyRuntime.gc in 3.7/3.8, the main interpreter's gc
 * from 3.9), and checks that what it found holds together.
 */
#ifndef INS_INTERP_H
#define INS_INTERP_H

#include "elfsym.h"
#include "image.h"
#include "layout.h"

/* Static types libinspect recognises by address (0 when a version lacks one), and None. */
#define INS_WELL_KNOWN_TYPES(X) \
	X(type, "PyType_Type") X(object, "PyBaseObject_Type") X(list, "PyList_Type") \
	X(tuple, "PyTuple_Type") X(dict, "PyDict_Type") X(str, "PyUnicode_Type") \
	X(bytes, "PyBytes_Type") X(string2, "PyString_Type") X(long_, "PyLong_Type") \
	X(int2, "PyInt_Type") X(bool_, "PyBool_Type") X(float_, "PyFloat_Type") \
	X(set, "PySet_Type") X(frozenset, "PyFrozenSet_Type") X(module, "PyModule_Type") \
	X(function, "PyFunction_Type") X(code, "PyCode_Type") X(frame, "PyFrame_Type") \
	X(method, "PyMethod_Type") X(cfunction, "PyCFunction_Type") \
	X(instance2, "PyInstance_Type") X(class2, "PyClass_Type") X(weakref, "_PyWeakref_RefType") \
	X(none, "_Py_NoneStruct")

/* Generation lists libinspect walks, at most (CPython has 3, plus the permanent one). */
#define INS_MAX_GENS 4

typedef struct ins_types {
#define INS_TYPE_MEMBER(m, sym) uint64_t m;
	INS_WELL_KNOWN_TYPES(INS_TYPE_MEMBER)
#undef INS_TYPE_MEMBER
} ins_types;

typedef struct ins_interp {
	int major, minor, micro;
	char version[32];        /* "3.11.7" */
	ins_layout L;            /* the version's layout, _Py_DebugOffsets applied */
	ins_elf *elf;            /* the file holding the interpreter */
	ins_types T;
	uint64_t runtime;        /* _PyRuntime, or 0 (2.7, 3.6) */
	uint64_t interp;         /* main PyInterpreterState, or 0 */
	uint64_t gens;           /* generations[0] */
	int ngens;               /* 1..INS_MAX_GENS */
	uint64_t permanent;      /* the permanent generation (gc.freeze), or 0 */
	uint64_t enabled_addr;   /* int enabled, or 0 when unknown */
	uint64_t garbage_addr;   /* PyObject *garbage, or 0 when unknown */
	uint64_t gc_next_mask, gc_prev_mask;  /* flag bits to clear in the links */
	char *discovery;         /* how all this was found, for objgraph-info */
} ins_interp;

/* The object a _PyStackRef word refers to (3.14+: a frame's f_executable, f_funcobj, locals and
 * value stack), or 0 for NULL and tagged ints; before 3.14 those are PyObject pointers and the
 * word is returned as it is. *borrowed (may be NULL): the reference owns no count of the object
 * (Py_TAG_REFCNT set: deferred, borrowed or immortal), so the collector does not subtract it. */
static inline uint64_t ins_stackref(const ins_layout *L, uint64_t bits, bool *borrowed)
{
	if (borrowed)
		*borrowed = false;
	if (L->stackref_int_tag <= 0 || L->stackref_tag_refcnt <= 0)
		return bits;
	uint64_t itag = (uint64_t)L->stackref_int_tag, rtag = (uint64_t)L->stackref_tag_refcnt;
	if ((bits & itag) == itag || bits == rtag)
		return 0;
	if (borrowed)
		*borrowed = (bits & rtag) != 0;
	return bits & ~itag;
}

ins_error *ins_interp_find(ins_image *img, ins_buf *warn, ins_interp **out);
void ins_interp_free(ins_interp *in);

/* Address of the head of generation g (g == ngens: the permanent generation). */
uint64_t ins_interp_gen_head(const ins_interp *in, int g);

#endif
