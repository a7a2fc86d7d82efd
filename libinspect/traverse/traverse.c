/* traverse.c -- which routine traverses a type, and the routines for containers, instances
 * of Python classes, type objects, modules and 2.7 classic objects (see traverse_impl.h).
 *
 * A Python class (a heap type whose tp_traverse is subtype_traverse) is traversed as
 * subtype_traverse does: the __slots__ members of every Python class up the tp_base chain,
 * the instance dict when the class added one (a dict pointer at tp_dictoffset; 3.11+
 * managed dicts and inline values), the class itself, then the routine of the first base
 * that is not a Python class (dict, list, BaseException, ...).
 */
#define _GNU_SOURCE
#include "traverse_impl.h"

#include <stdio.h>
#include <stdlib.h>

#include "emu.h"

#define MAX_SLOTS 4096        /* __slots__ members of one class chain, at most */
#define MAX_SCAN (64 * 1024)  /* bytes of an unknown object scanned, at most */

/* How an instance of a Python class keeps its dict. */
enum dict_mode { DICT_NONE, DICT_OFFSET, DICT_MANAGED };

typedef struct slot {
	uint64_t offset, name;  /* name: PyMemberDef.name, a C string in the target */
} slot;

/* Emulated edges are labelled by where the object holds the reference: the field at an
 * offset, named by the type's tp_members where they name it. */
#define MAX_LABEL_SEARCH 4096  /* bytes of an object searched for the offset of a reference */

typedef struct plan {
	trav_fn fn;             /* the C part: the type's routine, or its first C base's */
	enum ins_trav_how how;
	bool python;            /* a Python class: slots, dict and type first */
	bool visit_type;        /* subtype_traverse visits the class */
	bool hidden_type;       /* a heap type nothing visits: a hidden reference to it */
	enum dict_mode dict;
	int64_t dictoffset;     /* DICT_OFFSET: tp_dictoffset (< 0: from the end) */
	int64_t basicsize, itemsize;
	trav_fn base_fn;        /* INS_TR_INFERRED: the nearest known base's routine, and */
	int64_t scan_from;      /* where the scan starts: past that base's part */
	int64_t scan_to;        /* and ends: the unknown C type's basicsize */
	slot *slots;
	size_t nslots;
	uint64_t emu_fn;        /* the C tp_traverse to run in the emulator (0: none) */
	uint64_t is_gc_fn;      /* tp_is_gc of a type whose instances may not be GC objects */
	slot *members;          /* tp_members of the C type and its bases: object fields */
	size_t nmembers;
} plan;

#define CACHE_SIZE 64

struct ins_trav {
	ins_objects *o;
	ins_map index;          /* type address -> position in plans + 1 */
	plan **plans;
	size_t nplans, capplans;
	struct { uint64_t type; const plan *p; } cache[CACHE_SIZE];
	/* by the raw ob_type word: its ins_type and plan (not for 2.7 classic instances,
	 * whose ins_type is their class) */
	struct { uint64_t raw; const ins_type *type; const plan *p; } by_raw[CACHE_SIZE];
	uint64_t subtype_traverse;  /* address of typeobject.c's subtype_traverse, or 0 */
	uint64_t lookdict;          /* 3.6-3.10: dictobject.c's lookdict (keys are visited) */
	uint64_t set_dummy;         /* 3.x: the set dummy entry */
	uint64_t structseq_traverse;  /* 3.8+: structseq.c's (os.stat_result, sys.flags, ...) */
	bool (*is_ref)(void *arg, uint64_t addr);
	void *ref_arg;
	ins_emu *emu;               /* made on first use; NULL: none could be made */
	bool emu_tried, emu_off;
	uint64_t fs_base;
	uint64_t module_type;       /* the type of modules (m_traverse: module state) */
	const uint64_t *visited;    /* the emulated call's targets */
	size_t nvisited;
	ins_map pre;                /* object -> position in pre_res + 1: emulated ahead */
	ins_map pre_gc;             /* object -> 1 + its tp_is_gc's answer, found ahead */
	ins_emu_result *pre_res;
	uint64_t *pre_targets;
	uint64_t emulated, emu_failed;
	const ins_trav *parent;     /* a fork's: its plans and what it emulated ahead */
};

static uint64_t sym(const ins_interp *in, const char *name)
{
	uint64_t addr = 0;
	if (in->elf)
		ins_elf_lookup(in->elf, name, &addr, NULL);
	return addr;
}

ins_trav *ins_trav_new(ins_objects *o)
{
	ins_trav *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->o = o;
	t->subtype_traverse = sym(o->in, "subtype_traverse");
	t->lookdict = sym(o->in, "lookdict");
	t->structseq_traverse = sym(o->in, "structseq_traverse");
	uint64_t dummy = sym(o->in, "_PySet_Dummy");
	if (dummy)
		ins_image_u64(o->img, dummy, &t->set_dummy);
	return t;
}

ins_trav *ins_trav_fork(const ins_trav *parent, ins_objects *o)
{
	ins_trav *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->o = o;
	t->parent = parent;
	t->subtype_traverse = parent->subtype_traverse;
	t->lookdict = parent->lookdict;
	t->set_dummy = parent->set_dummy;
	t->structseq_traverse = parent->structseq_traverse;
	t->is_ref = parent->is_ref;
	t->ref_arg = parent->ref_arg;
	t->emu_off = parent->emu_off;
	t->fs_base = parent->fs_base;
	return t;
}

void ins_trav_join(ins_trav *t, ins_trav *fork)
{
	t->emulated += fork->emulated;
	t->emu_failed += fork->emu_failed;
	ins_trav_free(fork);
}

void ins_trav_free(ins_trav *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nplans; i++) {
		free(t->plans[i]->slots);
		free(t->plans[i]->members);
		free(t->plans[i]);
	}
	ins_emu_free(t->emu);
	ins_map_free(&t->pre);
	ins_map_free(&t->pre_gc);
	free(t->pre_res);
	free(t->pre_targets);
	free(t->plans);
	ins_map_free(&t->index);
	free(t);
}

void ins_trav_set_scan(ins_trav *t, bool (*is_ref)(void *arg, uint64_t addr), void *arg)
{
	t->is_ref = is_ref;
	t->ref_arg = arg;
}

void ins_trav_set_tls(ins_trav *t, uint64_t fs_base)
{
	t->fs_base = fs_base;
	ins_emu_set_tls(t->emu, fs_base);
}

void ins_trav_set_emulation(ins_trav *t, bool on)
{
	t->emu_off = !on;
}

void ins_trav_emu_stats(const ins_trav *t, uint64_t *emulated, uint64_t *failed, uint64_t *wrote)
{
	*emulated = t->emulated;
	*failed = t->emu_failed;
	*wrote = t->emu ? ins_emu_get_stats(t->emu)->wrote : 0;
}

static ins_emu *emulator(ins_trav *t)
{
	if (!t->emu_tried && !t->emu_off) {
		t->emu_tried = true;
		t->emu = ins_emu_new(t->o->img);
		ins_emu_set_tls(t->emu, t->fs_base);
	}
	return t->emu_off ? NULL : t->emu;
}

/* ---------------------------------------------------------------- shared helpers */

void ins_tv_items_from(const tv *v, uint64_t items, int64_t n, uint64_t first, uint8_t flags)
{
	if (!items || n <= 0)
		return;
	if ((uint64_t)n > TV_MAX_ITEMS)
		n = TV_MAX_ITEMS;
	const uint8_t *p = ins_image_fast(v->o->img, items, (size_t)n * 8);
	for (int64_t i = 0; i < n; i++) {
		uint64_t w = 0;
		if (p)
			memcpy(&w, p + i * 8, 8);
		else if (!ins_image_u64(v->o->img, items + (uint64_t)i * 8, &w))
			return;
		tv_edge(v, w, INS_EDGE_INDEX, NULL, first + (uint64_t)i, flags);
	}
}

static int64_t var_size(const tv *v, uint64_t obj)
{
	return (int64_t)tv_word(v, obj, v->L->var_size);
}

void ins_tv_tuple(const tv *v, uint64_t tuple, uint8_t flags)
{
	if (tuple)
		tv_items(v, tuple + (uint64_t)v->L->tuple_item, var_size(v, tuple), flags);
}

uint64_t ins_tv_tuple_item(const tv *v, uint64_t tuple, int64_t i)
{
	if (!tuple || i < 0 || i >= var_size(v, tuple))
		return 0;
	return tv_word(v, tuple + (uint64_t)v->L->tuple_item, i * 8);
}

/* ---------------------------------------------------------------- dict, list, tuple, set */

typedef struct dict_visit {
	const tv *v;
	bool values, keys;      /* report them at all: split tables' keys belong to the shared
				 * keys object, 3.13's embedded values to the owner object */
	uint8_t flags, key_flags;
} dict_visit;

static bool visit_item(void *arg, uint64_t key, uint64_t value)
{
	dict_visit *d = arg;
	if (d->values)
		tv_edge(d->v, value, INS_EDGE_KEY, NULL, key, d->flags);
	if (d->keys)
		tv_edge(d->v, key, INS_EDGE_DICTKEY, NULL, 0, d->key_flags);
	return true;
}

/* Does dict_traverse visit the keys? Not for str-keyed tables (3.6+: they cannot be in a
 * cycle), which are the unicode lookups (3.6-3.10) and the unicode/split kinds (3.11+). */
static bool keys_visited(const tv *v, uint64_t dict)
{
	const ins_layout *L = v->L;
	if (L->dict_table >= 0)  /* 2.7 */
		return true;
	uint64_t keys = tv_word(v, dict, L->dict_keys);
	if (L->dk_lookup >= 0) {
		if (tv_word(v, dict, L->dict_values))
			return false;
		if (v->t->lookdict)
			return tv_word(v, keys, L->dk_lookup) == v->t->lookdict;
		return true;  /* a build without symbols: keys may be reported once too often */
	}
	uint8_t kind = 1;
	if (L->dk_kind >= 0)
		ins_image_read(v->o->img, keys + (uint64_t)L->dk_kind, &kind, 1);
	return kind == 0;
}

/* 3.13: a dict whose values are embedded in their owner object leaves them to the owner
 * (3.14+ visits them: the owner visits the dict instead, GH-130327). */
static bool values_embedded(const tv *v, uint64_t values)
{
	uint8_t embedded = 0;
	return values && v->L->dvalues_embedded >= 0 && v->L->managed_dict_first <= 0 &&
	       ins_image_read(v->o->img, values + (uint64_t)v->L->dvalues_embedded, &embedded, 1) && embedded;
}

void ins_tv_dict(const tv *v, uint64_t dict, uint8_t flags)
{
	uint64_t values = v->L->dict_values >= 0 ? tv_word(v, dict, v->L->dict_values) : 0;
	bool keys = keys_visited(v, dict);
	dict_visit d = { v, !values_embedded(v, values), !values, flags,
			 (uint8_t)(keys ? flags : flags | INS_EF_HIDDEN) };
	if (d.values || d.keys)
		ins_dict_items(v->o, dict, visit_item, &d);
}

static void trav_dict(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	ins_tv_dict(v, obj, 0);
}

static void trav_list(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	int64_t n = var_size(v, obj), allocated = (int64_t)tv_word(v, obj, v->L->list_allocated);
	if (n > allocated && allocated >= 0)  /* 0 <= ob_size <= allocated: ob_size is corrupt */
		n = allocated;
	tv_items(v, tv_word(v, obj, v->L->list_item), n, 0);
}

static void trav_tuple(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	ins_tv_tuple(v, obj, 0);
}

/* 2.7's set dummy is a str "<dummy key>" (one per file, so no single symbol names it). */
static bool is_dummy2(const tv *v, uint64_t key)
{
	const ins_type *kt = ins_obj_type(v->o, key);
	ins_buf b = { 0 };
	bool dummy = kt && kt->kind == INS_K_BYTES && ins_str_text(v->o, key, &b, 16) &&
		     b.len == 11 && memcmp(b.data, "<dummy key>", 11) == 0;
	ins_buf_free(&b);
	return dummy;
}

static void trav_set(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	uint64_t table = tv_word(v, obj, L->set_table);
	int64_t n = (int64_t)tv_word(v, obj, L->set_mask) + 1;
	if (!table || n <= 0 || (uint64_t)n > TV_MAX_ITEMS)
		return;
	for (int64_t i = 0; i < n; i++) {
		uint64_t key = tv_word(v, table + (uint64_t)(i * L->sizeof_setentry), L->setentry_key);
		if (!key || key == v->t->set_dummy || (v->in->major == 2 && is_dummy2(v, key)))
			continue;
		tv_edge(v, key, INS_EDGE_MEMBER, NULL, 0, 0);
	}
}

/* ---------------------------------------------------------------- types and modules */

/* type_traverse: only heap types are GC objects; a static type's references are hidden. */
static void trav_type(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	uint64_t flags = tv_word(v, obj, L->type_flags), subclasses;
	bool heap = L->tpflag_heaptype > 0 && (flags & (uint64_t)L->tpflag_heaptype);
	uint8_t f = heap ? 0 : INS_EF_HIDDEN;
	tv_edge(v, ins_type_dict(v->o, obj, &subclasses), INS_EDGE_FIELD, "__dict__", 0, f);
	tv_edge(v, tv_word(v, obj, L->type_cache), INS_EDGE_FIELD, "tp_cache", 0, f);
	tv_edge(v, tv_word(v, obj, L->type_mro), INS_EDGE_FIELD, "__mro__", 0, f);
	tv_edge(v, tv_word(v, obj, L->type_bases), INS_EDGE_FIELD, "__bases__", 0, f);
	tv_edge(v, tv_word(v, obj, L->type_base), INS_EDGE_FIELD, "__base__", 0, f);
	tv_edge(v, subclasses, INS_EDGE_FIELD, "tp_subclasses", 0, INS_EF_HIDDEN);
	if (!heap)
		return;
	tv_field(v, obj, L->heaptype_module, "ht_module");
	tv_hidden(v, obj, L->heaptype_name, "__name__");
	tv_hidden(v, obj, L->heaptype_qualname, "__qualname__");
	tv_hidden(v, obj, L->heaptype_slots, "__slots__");
}

/* structseq_traverse (3.8+): all n_fields items, not only the ob_size visible ones, and
 * the type when it is a heap type (3.9+). */
static void trav_structseq(const tv *v, uint64_t obj, const ins_type *type)
{
	int64_t n = (int64_t)tv_word(v, obj, v->L->var_size);
	uint64_t nf;
	if (ins_dict_get_str(v->o, ins_type_dict(v->o, type->addr, NULL), "n_fields", &nf)) {
		ins_buf b = { 0 };
		const ins_type *it = ins_obj_type(v->o, nf);
		if (it && it->kind == INS_K_INT) {
			ins_obj_repr(v->o, nf, it, &b);
			long long x = b.data ? strtoll(b.data, NULL, 10) : 0;
			if (x >= n && x < 1024)
				n = x;
		}
		ins_buf_free(&b);
	}
	if (type->heap && (v->in->major > 3 || v->in->minor >= 9))
		tv_edge(v, type->addr, INS_EDGE_FIELD, "__class__", 0, 0);
	tv_items(v, obj + (uint64_t)v->L->tuple_item, n, 0);
}

static void trav_module(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->module_dict, "__dict__");
}

/* 2.7 classic classes and instances */
static void trav_class2(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->class_bases, "__bases__");
	tv_field(v, obj, L->class_dict, "__dict__");
	tv_field(v, obj, L->class_name, "__name__");
	tv_field(v, obj, L->class_getattr, "__getattr__");
	tv_field(v, obj, L->class_setattr, "__setattr__");
	tv_field(v, obj, L->class_delattr, "__delattr__");
}

static void trav_instance2(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->inst_class, "__class__");
	tv_field(v, obj, v->L->inst_dict, "__dict__");
}

const trav_routine ins_trav_core_routines[] = {
	{ "dict", trav_dict },
	{ "list", trav_list },
	{ "tuple", trav_tuple },
	{ "set frozenset", trav_set },
	{ "type", trav_type },
	{ "module", trav_module },
	{ "classobj", trav_class2 },
	{ NULL, NULL },
};

/* ---------------------------------------------------------------- instances of Python classes */

/* The attribute values an object keeps in place of a dict (3.11+), labelled by the
 * names in the class's shared keys. CPython shares keys of at most 30 entries
 * (SHARED_KEYS_MAX_SIZE) and 3.13 keeps the capacity in a byte: a count above 255 is
 * corruption, and read for every instance of the class it would cost a multiple of the heap. */
/* Where the entries of the class's shared keys start, or 0. */
static uint64_t shared_entries(const tv *v, uint64_t cached_keys)
{
	const ins_layout *L = v->L;
	uint8_t log2_index_bytes = 0;
	if (cached_keys && ins_image_read(v->o->img, cached_keys + (uint64_t)L->dk_log2_index_bytes,
					  &log2_index_bytes, 1) && log2_index_bytes < 40)
		return cached_keys + (uint64_t)L->dk_indices + ((uint64_t)1 << log2_index_bytes);
	return 0;
}

static void visit_values(const tv *v, uint64_t values, int64_t n, uint64_t cached_keys)
{
	const ins_layout *L = v->L;
	if (n <= 0 || n > 255)
		return;
	uint64_t entries = shared_entries(v, cached_keys);
	for (int64_t i = 0; i < n; i++) {
		uint64_t value = tv_word(v, values + (uint64_t)L->dvalues_values, i * 8);
		uint64_t key = entries ? tv_word(v, entries + (uint64_t)(i * L->sizeof_dict_uentry), L->duentry_key) : 0;
		if (key)
			tv_edge(v, value, INS_EDGE_KEY, NULL, key, 0);
		else
			tv_edge(v, value, INS_EDGE_INDEX, NULL, (uint64_t)i, 0);
	}
}

/* The managed dict of 3.11+ (a pointer 3 words before the object) and the values kept
 * without a dict (3.11: a pointer 4 words before; 3.12: tagged in the dict's place; 3.13:
 * inline after the object when the class has Py_TPFLAGS_INLINE_VALUES). */
/* 3.13+: whether the object keeps valid inline values (its class has Py_TPFLAGS_INLINE_VALUES
 * and the values after its basicsize are marked valid): where they are and their capacity. */
static bool inline_values(const tv *v, uint64_t obj, const ins_type *type, const plan *p, uint64_t *values,
			  int64_t *capacity)
{
	const ins_layout *L = v->L;
	if (L->dvalues_valid < 0 || L->tpflag_inline_values <= 0 || !(type->flags & (uint64_t)L->tpflag_inline_values))
		return false;
	uint8_t head[4] = { 0 };
	*values = obj + (uint64_t)p->basicsize;
	if (!ins_image_read(v->o->img, *values, head, sizeof(head)) || !head[L->dvalues_valid])
		return false;
	*capacity = head[L->dvalues_capacity];
	return true;
}

static void visit_managed_dict(const tv *v, uint64_t obj, const ins_type *type, const plan *p)
{
	const ins_layout *L = v->L;
	uint64_t cached = tv_word(v, type->addr, L->heaptype_cached_keys);
	int64_t nentries = cached ? (int64_t)tv_word(v, cached, L->dk_nentries) : 0;
	uint64_t dorv = tv_word(v, obj - 24, 0);
	if (L->dvalues_valid >= 0) {  /* 3.13; 3.14+ the dict first, when there is one */
		uint64_t values;
		int64_t capacity;
		if (!(L->managed_dict_first > 0 && dorv) && inline_values(v, obj, type, p, &values, &capacity)) {
			visit_values(v, values, capacity, cached);
			return;
		}
		tv_edge(v, dorv, INS_EDGE_FIELD, "__dict__", 0, 0);
	} else if (L->tpflag_inline_values < 0 && L->tpflag_preheader > 0) {  /* 3.12 */
		if (dorv & 1)
			visit_values(v, dorv + 1, nentries, cached);
		else
			tv_edge(v, dorv, INS_EDGE_FIELD, "__dict__", 0, 0);
	} else {  /* 3.11 */
		uint64_t values = tv_word(v, obj - 32, 0);
		if (values)
			visit_values(v, values, nentries, cached);
		tv_edge(v, dorv, INS_EDGE_FIELD, "__dict__", 0, 0);
	}
}

/* basicsize + |ob_size| * itemsize: the object's size (_PyObject_VAR_SIZE before rounding);
 * -1 when a corrupt ob_size makes it absurd. */
static int64_t var_extent(const tv *v, uint64_t obj, int64_t basicsize, int64_t itemsize)
{
	if (!itemsize)
		return basicsize;
	int64_t n = var_size(v, obj);
	if (n < 0)
		n = n == INT64_MIN ? INT64_MAX : -n;
	if (itemsize < 0 || n > (INT64_C(1) << 40) / itemsize)
		return -1;
	return basicsize + n * itemsize;
}

/* _PyObject_GetDictPtr: tp_dictoffset, counted from the end of a variable-size object when
 * negative. */
static void visit_dict_ptr(const tv *v, uint64_t obj, const plan *p)
{
	int64_t off = p->dictoffset;
	if (off < 0) {
		int64_t size = var_extent(v, obj, p->basicsize, p->itemsize);
		if (size < 0)
			return;
		off += (size + 7) & ~(int64_t)7;
	}
	tv_field(v, obj, off, "__dict__");
}

static void trav_python(const tv *v, uint64_t obj, const ins_type *type, const plan *p)
{
	for (size_t i = 0; i < p->nslots; i++)
		tv_edge(v, tv_word(v, obj, (int64_t)p->slots[i].offset), INS_EDGE_CNAME, NULL, p->slots[i].name, 0);
	if (p->dict == DICT_MANAGED)
		visit_managed_dict(v, obj, type, p);
	else if (p->dict == DICT_OFFSET)
		visit_dict_ptr(v, obj, p);
	if (p->visit_type)
		tv_edge(v, type->addr, INS_EDGE_FIELD, "__class__", 0, 0);
}

/* ---------------------------------------------------------------- unknown C types */

/* A type object that is not a heap type: the collector never traverses it (type_is_gc), and
 * type_traverse would fail on it; its references are trav_type's, hidden. */
static bool static_type(const tv *v, uint64_t obj, const ins_type *type)
{
	return type->kind == INS_K_TYPE && v->L->tpflag_heaptype > 0 &&
	       !(tv_word(v, obj, v->L->type_flags) & (uint64_t)v->L->tpflag_heaptype);
}

/* The words of an unknown C type's own part of the object that are addresses of tracked
 * objects. A static type object (an instance of a C metatype) is only as large as a
 * PyTypeObject, whatever the metatype's basicsize says: it is left to trav_type. */
static void scan(const tv *v, uint64_t obj, const ins_type *type, const plan *p)
{
	if (!v->t->is_ref)
		return;
	if (static_type(v, obj, type))
		return;
	int64_t size = var_extent(v, obj, p->scan_to, p->itemsize);
	if (size < 0 || size > MAX_SCAN)
		size = MAX_SCAN;
	int64_t start = p->scan_from;
	if (size <= start)
		return;
	const uint8_t *mem = ins_image_fast(v->o->img, obj + (uint64_t)start, (size_t)(size - start));
	if (!mem)
		return;
	for (int64_t off = 0; off + 8 <= size - start; off += 8) {
		uint64_t w;
		memcpy(&w, mem + off, 8);
		if (w && !(w & 7) && v->t->is_ref(v->t->ref_arg, w))
			tv_edge(v, w, INS_EDGE_INFERRED, NULL, (uint64_t)(off + start), INS_EF_INFERRED);
	}
}

/* ---------------------------------------------------------------- emulated tp_traverse */

/* Where what ins_trav_prepare ran ahead is: the context itself, or a fork's parent. */
static const ins_trav *ahead_of(const ins_trav *t)
{
	return t->parent ? t->parent : t;
}

/* Runs fn(obj, visit, arg) in the emulator, or finds what ins_trav_prepare got from it,
 * into t->visited; false when it failed (nothing reported then). */
static bool emulate(ins_trav *t, uint64_t fn, uint64_t obj)
{
	uint64_t at;
	ins_emu_result one, *r = &one;
	const ins_trav *ahead = ahead_of(t);
	const uint64_t *targets = ahead->pre_targets;
	if (ins_map_get(&ahead->pre, obj, &at)) {
		r = &ahead->pre_res[at - 1];
	} else {
		ins_emu *e = emulator(t);
		if (!e || !fn || ins_emu_batch(e, &fn, &obj, 1, r, &targets) != INS_EMU_OK)
			return false;
		t->emulated += r->status == INS_EMU_OK;
		t->emu_failed += r->status != INS_EMU_OK;
	}
	if (r->status != INS_EMU_OK)
		return false;
	t->visited = targets + r->start;
	t->nvisited = r->n;
	return true;
}

/* 3.13+: the attribute name of a value an emulated tp_traverse visited in the object's inline
 * values (a C type that manages its instances' dict itself, as asyncio's Future does from 3.13,
 * visits them through PyObject_VisitManagedDict): the shared key at its index; 0 if the
 * value is not there. */
static uint64_t inline_key(const tv *v, uint64_t obj, const ins_type *type, const plan *p, uint64_t target)
{
	const ins_layout *L = v->L;
	uint64_t values;
	int64_t capacity;
	if (p->basicsize <= 0 || !inline_values(v, obj, type, p, &values, &capacity))
		return 0;
	uint64_t entries = shared_entries(v, tv_word(v, type->addr, L->heaptype_cached_keys));
	for (int64_t i = 0; entries && i < capacity; i++)
		if (tv_word(v, values + (uint64_t)L->dvalues_values, i * 8) == target)
			return tv_word(v, entries + (uint64_t)(i * L->sizeof_dict_uentry), L->duentry_key);
	return 0;
}

/* Reports what emulate() found, each labelled by the field of obj that holds it (the first
 * one not used by an earlier edge): its tp_members name, __class__ for ob_type, +0xOFF for
 * another field, and "(tp_traverse)" when obj holds it elsewhere (an array of its own, C
 * module state). */
static void report_emulated(const tv *v, uint64_t obj, const ins_type *type, const plan *p)
{
	const uint64_t *vis = v->t->visited;
	int64_t size = var_extent(v, obj, p->basicsize, p->itemsize);
	if (size < 0 || size > MAX_LABEL_SEARCH)
		size = p->basicsize > 0 && p->basicsize <= MAX_LABEL_SEARCH ? p->basicsize : 0;
	const uint8_t *mem = size > 0 ? ins_image_fast(v->o->img, obj, (size_t)size) : NULL;
	uint64_t used[MAX_LABEL_SEARCH / 8 / 64] = { 0 };
	bool type_seen = false;
	for (size_t i = 0; i < v->t->nvisited; i++) {
		uint64_t target = vis[i];
		int64_t off = -1;
		for (int64_t k = 0; mem && k + 8 <= size; k += 8) {
			uint64_t w;
			memcpy(&w, mem + k, 8);
			if (w == target && !(used[k / 8 / 64] & (1ull << (k / 8 % 64)))) {
				used[k / 8 / 64] |= 1ull << (k / 8 % 64);
				off = k;
				break;
			}
		}
		if (target == type->addr)
			type_seen = true;
		const char *name = NULL;
		uint64_t cname = 0;
		if (off == v->L->obj_type)
			name = "__class__";
		for (size_t m = 0; off >= 0 && !name && m < p->nmembers; m++)
			if (p->members[m].offset == (uint64_t)off)
				cname = p->members[m].name;
		if (!name && !cname && off < 0 && type->addr == v->in->T.module)
			name = "(module state)";  /* m_traverse */
		uint64_t key = !name && !cname && off < 0 ? inline_key(v, obj, type, p, target) : 0;
		if (name)
			tv_edge(v, target, INS_EDGE_FIELD, name, 0, 0);
		else if (key)
			tv_edge(v, target, INS_EDGE_KEY, NULL, key, 0);
		else if (cname)
			tv_edge(v, target, INS_EDGE_CNAME, NULL, cname, 0);
		else
			tv_edge(v, target, INS_EDGE_OFFSET, NULL, off < 0 ? UINT64_MAX : (uint64_t)off, 0);
	}
	/* a heap type's instances own a reference to it, visited or not */
	if (type->heap && !p->python && !type_seen)
		tv_edge(v, type->addr, INS_EDGE_FIELD, "__class__", 0, INS_EF_HIDDEN);
}

/* Appends {offset, name} to the growable array *v; false when out of memory. */
static bool push_slot(slot **v, size_t *n, size_t *cap, uint64_t offset, uint64_t name)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		slot *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return false;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (slot){ offset, name };
	return true;
}

/* The T_OBJECT and T_OBJECT_EX members of a C type and its bases: the names of its fields. */
static void read_members(ins_trav *t, uint64_t type, plan *p)
{
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	const ins_layout *L = v.L;
	size_t cap = 0;
	for (int depth = 0; type && depth < 64 && L->type_members >= 0; depth++, type = tv_word(&v, type, L->type_base)) {
		uint64_t m = tv_word(&v, type, L->type_members);
		for (int i = 0; m && i < 256 && p->nmembers < MAX_SLOTS; i++, m += (uint64_t)L->sizeof_memberdef) {
			uint64_t name = tv_word(&v, m, L->memberdef_name);
			int32_t mtype = -1;
			if (!name || !ins_image_i32(t->o->img, m + (uint64_t)L->memberdef_type, &mtype))
				break;
			if (mtype != L->t_object_ex && mtype != L->t_object)
				continue;
			if (!push_slot(&p->members, &p->nmembers, &cap, tv_word(&v, m, L->memberdef_offset), name))
				return;
		}
	}
}

/* ---------------------------------------------------------------- getters */

bool ins_trav_getter(ins_trav *t, uint64_t type, const char *name, uint64_t obj, uint64_t *value)
{
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	const ins_layout *L = v.L;
	size_t len = strlen(name) + 1;
	char buf[64];
	if (L->type_getset < 0 || L->getset_size <= 0 || L->getset_get < 0 || len > sizeof(buf))
		return false;
	uint64_t fn = 0;
	for (int depth = 0; type && !fn && depth < 64; depth++, type = tv_word(&v, type, L->type_base)) {
		uint64_t g = tv_word(&v, type, L->type_getset);
		for (int i = 0; g && i < 256; i++, g += (uint64_t)L->getset_size) {
			uint64_t n = tv_word(&v, g, 0);
			if (!n)
				break;
			if (ins_image_read(t->o->img, n, buf, len) && memcmp(buf, name, len) == 0) {
				fn = tv_word(&v, g, L->getset_get);
				break;
			}
		}
	}
	ins_emu *e = fn ? emulator(t) : NULL;
	ins_emu_result r;
	const uint64_t *targets;
	if (!e || ins_emu_batch(e, &fn, &obj, 1, &r, &targets) != INS_EMU_OK || r.status != INS_EMU_OK)
		return false;
	*value = r.ret;
	return true;
}

/* ---------------------------------------------------------------- working out a type's plan */

static bool name_matches(const char *names, const ins_type *t, const ins_interp *in)
{
	const char *q = t->qualname;
	const char *builtins = in->major >= 3 ? "builtins." : "__builtin__.";
	size_t bl = strlen(builtins);
	if (!t->heap && strncmp(q, builtins, bl) == 0)
		q += bl;
	size_t ql = strlen(q);
	for (const char *s = names; *s;) {
		size_t n = strcspn(s, " ");
		if (n == ql && memcmp(s, q, n) == 0)
			return true;
		s += n;
		s += strspn(s, " ");
	}
	return false;
}

static trav_fn lookup_routine(const ins_type *t, const ins_interp *in)
{
	const trav_routine *tables[] = { ins_trav_core_routines, ins_trav_code_routines, ins_trav_stdlib_routines };
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++)
		for (const trav_routine *r = tables[i]; r->names; r++)
			if (name_matches(r->names, t, in))
				return r->fn;
	return NULL;
}

/* The routine of the C type at type: its own, or inherited from the base whose tp_traverse
 * it kept; how says whether it is exact, none (tp_traverse NULL) or unknown. */
static trav_fn c_routine(ins_trav *t, uint64_t type, enum ins_trav_how *how)
{
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	for (int depth = 0; type && depth < 64; depth++) {
		const ins_type *it = ins_type_info(t->o, type);
		if (!it)
			break;
		trav_fn fn = lookup_routine(it, t->o->in);
		if (fn) {
			*how = INS_TR_EXACT;
			return fn;
		}
		uint64_t traverse = tv_word(&v, type, v.L->type_traverse);
		if (traverse && traverse == t->structseq_traverse) {
			*how = INS_TR_EXACT;
			return trav_structseq;
		}
		if (!traverse) {
			*how = INS_TR_NONE;
			return NULL;
		}
		uint64_t base = tv_word(&v, type, v.L->type_base);
		if (!base || tv_word(&v, base, v.L->type_traverse) != traverse)
			break;
		type = base;
	}
	*how = INS_TR_INFERRED;
	return NULL;
}

/* For an unknown C type: the routine of its nearest base libinspect knows (NULL: none, or
 * one without references), and where that base's part of the object ends: the scan covers
 * only the rest, [*from, the unknown type's basicsize). */
static trav_fn known_base(ins_trav *t, uint64_t type, int64_t *from)
{
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	*from = v.L->sizeof_obj;
	for (int depth = 0; depth < 64 && (type = tv_word(&v, type, v.L->type_base)); depth++) {
		enum ins_trav_how how;
		trav_fn fn = c_routine(t, type, &how);
		if (how != INS_TR_INFERRED) {
			const ins_type *bt = ins_type_info(t->o, type);
			if (bt && bt->basicsize > *from)
				*from = bt->basicsize;
			return fn;
		}
	}
	return NULL;
}

/* Learns subtype_traverse when the build has no symbol for it, from a class that a class
 * statement made: importlib's ModuleSpec (in every 3.x, found through sys.modules), else
 * the first class met that derives from object and has an instance dict (no __slots__). */
static bool is_plain_class(const tv *v, uint64_t type)
{
	const ins_layout *L = v->L;
	uint64_t flags = tv_word(v, type, L->type_flags);
	return L->tpflag_heaptype > 0 && (flags & (uint64_t)L->tpflag_heaptype) &&
	       tv_word(v, type, L->type_base) == v->in->T.object && tv_word(v, type, L->type_dictoffset) &&
	       !tv_word(v, type, L->heaptype_slots);
}

static uint64_t learn_subtype_traverse(ins_trav *t, uint64_t type)
{
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	uint64_t modules = v.in->interp ? tv_word(&v, v.in->interp, v.L->interp_modules) : 0, mod, spec;
	if (modules && ins_dict_get_str(t->o, modules, "_frozen_importlib", &mod) &&
	    ins_dict_get_str(t->o, tv_word(&v, mod, v.L->module_dict), "ModuleSpec", &spec) &&
	    is_plain_class(&v, spec))
		return tv_word(&v, spec, v.L->type_traverse);
	return is_plain_class(&v, type) ? tv_word(&v, type, v.L->type_traverse) : 0;
}

static plan *make_plan(ins_trav *t, const ins_type *type)
{
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	const ins_layout *L = v.L;
	plan *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->basicsize = type->basicsize;
	p->itemsize = type->itemsize;
	if (type->kind == INS_K_INSTANCE2) {
		p->fn = trav_instance2;
		p->how = INS_TR_EXACT;
		return p;
	}
	if (!t->subtype_traverse && type->heap)
		t->subtype_traverse = learn_subtype_traverse(t, type->addr);
	uint64_t base = type->addr;
	size_t cap = 0;
	while (base && t->subtype_traverse && tv_word(&v, base, L->type_traverse) == t->subtype_traverse) {
		p->python = true;
		int64_t n = (int64_t)tv_word(&v, base, L->var_size);
		uint64_t members = base + (uint64_t)L->sizeof_heaptype;
		for (int64_t i = 0; i < n && i < MAX_SLOTS && p->nslots < MAX_SLOTS; i++) {
			uint64_t m = members + (uint64_t)(i * L->sizeof_memberdef);
			int32_t mtype = 0;
			if (!ins_image_i32(t->o->img, m + (uint64_t)L->memberdef_type, &mtype) || mtype != L->t_object_ex)
				continue;
			if (!push_slot(&p->slots, &p->nslots, &cap, tv_word(&v, m, L->memberdef_offset),
				       tv_word(&v, m, L->memberdef_name)))
				break;
		}
		base = tv_word(&v, base, L->type_base);
	}
	if (p->python) {
		int64_t off = (int64_t)tv_word(&v, type->addr, L->type_dictoffset);
		int64_t base_off = base ? (int64_t)tv_word(&v, base, L->type_dictoffset) : 0;
		/* a C base that manages the dict itself (3.13's asyncio Future) visits it */
		uint64_t managed = L->tpflag_managed_dict > 0 ? (uint64_t)L->tpflag_managed_dict : 0;
		if ((type->flags & managed) && !(tv_word(&v, base, L->type_flags) & managed))
			p->dict = DICT_MANAGED;
		else if (off != base_off && off != 0)
			p->dict = DICT_OFFSET;
		p->dictoffset = off;
		p->fn = base ? c_routine(t, base, &p->how) : NULL;
		if (!p->fn && p->how == INS_TR_NONE)
			p->how = INS_TR_EXACT;  /* a base without references (object, int, ...) */
		if (p->how == INS_TR_INFERRED) {
			const ins_type *ct = ins_type_info(t->o, base);
			p->base_fn = known_base(t, base, &p->scan_from);
			p->scan_to = ct ? ct->basicsize : p->basicsize;
			p->emu_fn = tv_word(&v, base, L->type_traverse);
			read_members(t, base, p);
		}
		/* 3.9+: a heap type's own traverse visits the type; subtype_traverse leaves it */
		const ins_type *bt = base ? ins_type_info(t->o, base) : NULL;
		bool base_visits = bt && bt->heap && tv_word(&v, base, L->type_traverse) &&
				   (t->o->in->major > 3 || t->o->in->minor >= 9);
		p->visit_type = !base_visits;
	} else {
		/* code objects have no tp_traverse, but a routine for their hidden references */
		p->fn = c_routine(t, type->addr, &p->how);
		if (p->how == INS_TR_INFERRED) {
			p->base_fn = known_base(t, type->addr, &p->scan_from);
			p->scan_to = p->basicsize;
		}
		/* unknown C types, and modules (m_traverse: the module state of C modules) run
		 * their own tp_traverse; the native routine or the scan is the fallback */
		if (p->how == INS_TR_INFERRED || type->addr == t->o->in->T.module) {
			p->emu_fn = tv_word(&v, type->addr, L->type_traverse);
			read_members(t, type->addr, p);
		}
	}
	/* gc.get_referents leaves out objects whose tp_is_gc says no (a greenlet that is not
	 * running); type objects have type_is_gc, decided by their flags (static_type) */
	if (type->kind != INS_K_TYPE && L->type_is_gc >= 0)
		p->is_gc_fn = tv_word(&v, type->addr, L->type_is_gc);
	/* Instances of a heap type own a reference to it; when nothing visits it, it is
	 * hidden (C heap types' routines visit it themselves where their tp_traverse does). */
	p->hidden_type = type->heap && !p->python && p->how != INS_TR_EXACT;
	return p;
}

static const plan *plan_of(ins_trav *t, const ins_type *type)
{
	size_t c = (type->addr >> 4) % CACHE_SIZE;
	if (t->cache[c].type == type->addr)
		return t->cache[c].p;
	uint64_t idx;
	const plan *p = NULL;
	if (t->parent && ins_map_get(&t->parent->index, type->addr, &idx)) {
		p = t->parent->plans[idx - 1];
	} else if (ins_map_get(&t->index, type->addr, &idx)) {
		p = t->plans[idx - 1];
	} else {
		plan *np = make_plan(t, type);
		plan **v = np ? t->plans : NULL;
		if (np && t->nplans == t->capplans) {  /* grown geometrically: one plan per type */
			size_t cap = t->capplans ? 2 * t->capplans : 64;
			if ((v = realloc(t->plans, cap * sizeof(*v)))) {
				t->plans = v;
				t->capplans = cap;
			}
		}
		uint64_t *s = v ? ins_map_slot(&t->index, type->addr, 0) : NULL;
		if (!s) {
			if (np)
				free(np->slots);
			free(np);
			return NULL;
		}
		t->plans[t->nplans++] = np;
		*s = t->nplans;
		p = np;
	}
	t->cache[c].type = type->addr;
	t->cache[c].p = p;
	return p;
}

/* The type and plan of obj, whose ob_type word is raw. */
static const plan *plan_of_obj(ins_trav *t, uint64_t obj, uint64_t raw, const ins_type **type)
{
	size_t c = (raw >> 4) % CACHE_SIZE;
	if (raw && t->by_raw[c].raw == raw) {
		*type = t->by_raw[c].type;
		return t->by_raw[c].p;
	}
	const plan *p = (*type = ins_obj_type(t->o, obj)) ? plan_of(t, *type) : NULL;
	if (p && raw != t->o->in->T.instance2) {
		t->by_raw[c].raw = raw;
		t->by_raw[c].type = *type;
		t->by_raw[c].p = p;
	}
	return p;
}

bool ins_trav_leaf(ins_trav *t, uint64_t obj, uint64_t ob_type)
{
	const ins_type *type;
	const plan *p = plan_of_obj(t, obj, ob_type, &type);
	return p && !p->python && !p->fn && !p->hidden_type && p->how == INS_TR_NONE;
}

/* tp_is_gc(obj), when the type has one: found ahead, or run now. */
static bool is_gc_now(ins_trav *t, const plan *p, uint64_t obj)
{
	uint64_t v, fn = p->is_gc_fn;
	if (!fn)
		return true;
	if (ins_map_get(&ahead_of(t)->pre_gc, obj, &v))
		return v != 1;
	ins_emu_result r;
	const uint64_t *targets;
	ins_emu *e = emulator(t);
	if (!e || ins_emu_batch(e, &fn, &obj, 1, &r, &targets) != INS_EMU_OK || r.status != INS_EMU_OK)
		return true;
	return (uint32_t)r.ret != 0;
}

typedef struct hide {
	ins_visit_fn fn;
	void *arg;
} hide;

static void visit_hidden(void *arg, const ins_edge *e)
{
	hide *h = arg;
	ins_edge x = *e;
	x.flags |= INS_EF_HIDDEN;
	h->fn(h->arg, &x);
}

enum ins_trav_how ins_traverse(ins_trav *t, uint64_t obj, const ins_type *type, ins_visit_fn fn, void *arg)
{
	tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L, .fn = fn, .arg = arg };
	const plan *p = type ? plan_of(t, type) : plan_of_obj(t, obj, tv_word(&v, obj, v.L->obj_type), &type);
	if (!type || !p)
		return INS_TR_NONE;
	hide h = { fn, arg };
	if (p->is_gc_fn && !is_gc_now(t, p, obj)) {
		/* not a GC object now: what it holds explains refcounts only */
		v.fn = visit_hidden;
		v.arg = &h;
	}
	if (p->python)
		trav_python(&v, obj, type, p);
	if (p->emu_fn && static_type(&v, obj, type)) {
		trav_type(&v, obj, type);
		return INS_TR_EXACT;
	}
	if (p->emu_fn && emulate(t, p->emu_fn, obj)) {
		report_emulated(&v, obj, type, p);
		return INS_TR_EMULATED;
	}
	if (p->fn) {
		p->fn(&v, obj, type);
	} else if (p->how == INS_TR_INFERRED) {
		if (p->base_fn)
			p->base_fn(&v, obj, type);
		scan(&v, obj, type, p);
	}
	if (p->hidden_type)
		tv_edge(&v, type->addr, INS_EDGE_FIELD, "__class__", 0, INS_EF_HIDDEN);
	return p->how;
}

const char *ins_trav_how_name(enum ins_trav_how how)
{
	static const char *const names[] = { "none", "exact", "inferred", "emulated" };
	return (unsigned)how < sizeof(names) / sizeof(*names) ? names[how] : "?";
}

/* ---------------------------------------------------------------- emulation in batches */

/* The objects among objs whose own type's tp_traverse is to be run (graph --verify). */
static bool own_jobs(ins_trav *t, const uint64_t *objs, size_t n, ins_vec *fns, ins_vec *jobs)
{
	const ins_layout *L = &t->o->in->L;
	for (size_t i = 0; i < n; i++) {
		uint64_t fn = ins_image_word(t->o->img, ins_image_word(t->o->img, objs[i], L->obj_type), L->type_traverse);
		if (fn) {
			ins_vec_push(fns, fn);
			ins_vec_push(jobs, objs[i]);
		}
	}
	return !fns->oom && !jobs->oom;
}

/* Runs fns[i](jobs[i]) for every job; the results and a copy of their targets go to *res
 * and *copy (free both). False when out of memory or the emulator cannot go on. */
static bool run_jobs(ins_emu *e, const ins_vec *fns, const ins_vec *jobs, ins_emu_result **res, uint64_t **copy)
{
	const uint64_t *targets = NULL;
	size_t total = 0;
	*copy = NULL;
	if (!(*res = malloc((jobs->n ? jobs->n : 1) * sizeof(**res))) ||
	    ins_emu_batch(e, fns->v, jobs->v, jobs->n, *res, &targets) != INS_EMU_OK)
		return false;
	for (size_t i = 0; i < jobs->n; i++)
		if ((*res)[i].status == INS_EMU_OK && (*res)[i].start + (*res)[i].n > total)
			total = (*res)[i].start + (*res)[i].n;
	if (!(*copy = malloc((total ? total : 1) * sizeof(**copy))))
		return false;
	if (total)
		memcpy(*copy, targets, total * sizeof(**copy));
	return true;
}

/* What the objects of a heap type need before the graph is built. */
enum { NEED_NONE, NEED_EMU = 1, NEED_EMU_CHECK = 2, NEED_IS_GC = 4 };

static unsigned type_needs(ins_trav *t, uint64_t raw)
{
	const ins_type *type = raw && raw != t->o->in->T.instance2 ? ins_type_info(t->o, raw) : NULL;
	const plan *p = type ? plan_of(t, type) : NULL;
	if (!p)
		return NEED_NONE;
	unsigned need = p->is_gc_fn ? NEED_IS_GC : 0;
	if (p->emu_fn)
		need |= type->kind == INS_K_TYPE ? NEED_EMU_CHECK : NEED_EMU;  /* static types aside */
	return need;
}

void ins_trav_prepare(ins_trav *t, const uint64_t *objs, const uint32_t *type_of, const uint64_t *types,
		      size_t ntypes, size_t n)
{
	ins_emu *e = emulator(t);
	uint8_t *need = e ? calloc(ntypes ? ntypes : 1, 1) : NULL;
	if (!need)
		return;
	bool any = false;
	for (size_t k = 0; k < ntypes; k++)
		any |= (need[k] = (uint8_t)type_needs(t, types[k])) != NEED_NONE;
	const tv v = { .t = t, .o = t->o, .in = t->o->in, .L = &t->o->in->L };
	ins_vec gfns = { 0 }, gjobs = { 0 }, fns = { 0 }, jobs = { 0 };
	for (size_t i = 0; any && i < n; i++) {
		unsigned nd = type_of[i] < ntypes ? need[type_of[i]] : NEED_NONE;
		if (nd == NEED_NONE)
			continue;
		const ins_type *type;
		const plan *p = plan_of_obj(t, objs[i], types[type_of[i]], &type);
		if (!p)
			continue;
		if (nd & NEED_IS_GC) {
			ins_vec_push(&gfns, p->is_gc_fn);
			ins_vec_push(&gjobs, objs[i]);
		}
		if ((nd & NEED_EMU) || ((nd & NEED_EMU_CHECK) && !static_type(&v, objs[i], type))) {
			ins_vec_push(&fns, p->emu_fn);
			ins_vec_push(&jobs, objs[i]);
		}
	}
	free(need);
	ins_emu_result *res = NULL;
	uint64_t *copy = NULL;
	/* tp_is_gc: which objects gc.get_referents skips */
	if (gjobs.n && !gfns.oom && !gjobs.oom && run_jobs(e, &gfns, &gjobs, &res, &copy))
		for (size_t i = 0; i < gjobs.n; i++) {
			uint64_t *slot = res[i].status == INS_EMU_OK ? ins_map_slot(&t->pre_gc, gjobs.v[i], 0) : NULL;
			if (slot)
				*slot = 1 + ((uint32_t)res[i].ret != 0);
		}
	free(res);
	free(copy);
	res = NULL;
	copy = NULL;
	if (jobs.n && !fns.oom && !jobs.oom && run_jobs(e, &fns, &jobs, &res, &copy)) {
		for (size_t i = 0; i < jobs.n; i++) {
			uint64_t *slot = ins_map_slot(&t->pre, jobs.v[i], 0);
			if (!slot)
				break;  /* out of memory: the rest are emulated one by one */
			*slot = i + 1;
			t->emulated += res[i].status == INS_EMU_OK;
			t->emu_failed += res[i].status != INS_EMU_OK;
		}
		free(t->pre_res);
		free(t->pre_targets);
		t->pre_res = res;
		t->pre_targets = copy;
		res = NULL;
		copy = NULL;
	}
	free(res);
	free(copy);
	free(gfns.v);
	free(gjobs.v);
	free(fns.v);
	free(jobs.v);
}

/* ---------------------------------------------------------------- graph --verify */

static void collect_edge(void *arg, const ins_edge *e)
{
	if (!(e->flags & INS_EF_HIDDEN))
		ins_vec_push(arg, e->target);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

ins_error *ins_trav_verify(ins_trav *t, const uint64_t *objs, size_t n, ins_verify_fn fn, void *arg,
			   size_t *same, size_t *failed)
{
	ins_emu *e = emulator(t);
	*same = *failed = 0;
	if (!e)
		return ins_err(INS_ERR_OS, "the emulator (Unicorn) could not be started");
	ins_vec fns = { 0 }, jobs = { 0 }, native = { 0 }, emulated = { 0 };
	ins_emu_result *res = NULL;
	ins_error *err = NULL;
	uint64_t *copy = NULL;  /* ins_traverse below may run the emulator again */
	if (!own_jobs(t, objs, n, &fns, &jobs) || !run_jobs(e, &fns, &jobs, &res, &copy)) {
		err = ins_err_nomem();
		goto out;
	}
	*failed = n - jobs.n;  /* objects whose type has no tp_traverse */
	for (size_t i = 0; i < jobs.n; i++) {
		if (res[i].status != INS_EMU_OK) {
			++*failed;
			continue;
		}
		native.n = emulated.n = 0;
		const ins_type *type;
		const plan *p = plan_of_obj(t, jobs.v[i], ins_image_word(t->o->img, jobs.v[i], t->o->in->L.obj_type), &type);
		bool gc = !p || is_gc_now(t, p, jobs.v[i]);  /* else gc.get_referents skips it */
		for (size_t k = 0; gc && k < res[i].n; k++)
			ins_vec_push(&emulated, copy[res[i].start + k]);
		ins_traverse(t, jobs.v[i], NULL, collect_edge, &native);
		if (native.oom || emulated.oom) {
			err = ins_err_nomem();
			goto out;
		}
		if (native.n > 1)  /* an empty vector has no array to sort */
			qsort(native.v, native.n, sizeof(uint64_t), cmp_u64);
		if (emulated.n > 1)
			qsort(emulated.v, emulated.n, sizeof(uint64_t), cmp_u64);
		if (native.n == emulated.n && (!native.n || !memcmp(native.v, emulated.v, native.n * 8)))
			++*same;
		else
			fn(arg, jobs.v[i], &native, &emulated);
	}
out:
	free(copy);
	free(res);
	free(fns.v);
	free(jobs.v);
	free(native.v);
	free(emulated.v);
	return err;
}

/* ---------------------------------------------------------------- labels */

static bool is_identifier(const char *s, size_t n)
{
	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80))
			return false;
	}
	return true;
}

void ins_edge_label(ins_objects *o, const ins_edge *e, ins_buf *out)
{
	switch (e->kind) {
	case INS_EDGE_FIELD:
		ins_buf_puts(out, e->name ? e->name : "?");
		break;
	case INS_EDGE_CNAME: {
		char *s = ins_image_cstr(o->img, e->aux, 256);
		ins_buf_puts(out, s ? s : "?");
		free(s);
		break;
	}
	case INS_EDGE_STRNAME:
		if (!ins_str_text(o, e->aux, out, 256))
			ins_buf_puts(out, "?");
		break;
	case INS_EDGE_KEY: {
		ins_buf k = { 0 };
		const ins_type *kt = ins_obj_type(o, e->aux);
		bool str = kt && (kt->kind == INS_K_STR || (kt->kind == INS_K_BYTES && o->in->major == 2));
		if (str && ins_str_text(o, e->aux, &k, 256) && is_identifier(k.data, k.len)) {
			ins_buf_putn(out, k.data, k.len);
		} else {
			ins_buf_putc(out, '[');
			if (kt)
				ins_obj_repr(o, e->aux, kt, out);
			else
				ins_buf_puts(out, "?");
			ins_buf_putc(out, ']');
		}
		ins_buf_free(&k);
		break;
	}
	case INS_EDGE_DICTKEY:
		ins_buf_puts(out, "(key)");
		break;
	case INS_EDGE_INDEX:
		ins_buf_printf(out, "[%llu]", (unsigned long long)e->aux);
		break;
	case INS_EDGE_MEMBER:
		ins_buf_puts(out, "(member)");
		break;
	case INS_EDGE_INFERRED:
		ins_buf_printf(out, "+%llu (inferred)", (unsigned long long)e->aux);
		break;
	case INS_EDGE_OFFSET:
		if (e->aux == UINT64_MAX)
			ins_buf_puts(out, "(tp_traverse)");
		else
			ins_buf_printf(out, "+0x%llx", (unsigned long long)e->aux);
		break;
	}
}
