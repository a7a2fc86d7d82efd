/* object.c -- types, names, refcounts, sizes and reprs of objects (see object.h). */
#define _GNU_SOURCE
#include "object.h"
#include "checked.h"
#include "frames.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES 1000000  /* more distinct types than any real heap: corruption */

void ins_objects_init(ins_objects *o, ins_image *img, const ins_interp *in)
{
	memset(o, 0, sizeof(*o));
	o->img = img;
	o->in = in;
}

void ins_objects_fork(ins_objects *o, const ins_objects *parent)
{
	ins_objects_init(o, parent->img, parent->in);
	o->parent = parent;
}

static void type_free(ins_type *t);

/* The type at type if decoded already: by the parent of a fork, or by o itself. */
static const ins_type *known(const ins_objects *o, uint64_t type)
{
	uint64_t idx;
	if (o->parent && ins_map_get(&o->parent->index, type, &idx))
		return o->parent->types[idx - 1];
	return ins_map_get(&o->index, type, &idx) ? o->types[idx - 1] : NULL;
}

void ins_objects_free(ins_objects *o)
{
	for (size_t i = 0; i < o->ntypes; i++)
		type_free(o->types[i]);
	free(o->types);
	ins_map_free(&o->index);
	ins_map_free(&o->finalizers);
}

static uint64_t field(ins_objects *o, uint64_t base, int64_t off)
{
	return ins_image_word(o->img, base, off);
}

static enum ins_kind kind_of(ins_objects *o, uint64_t type)
{
	const ins_types *T = &o->in->T;
	for (int depth = 0; type && depth < 64; depth++) {
		struct { uint64_t addr; enum ins_kind kind; } known[] = {
			{ T->type, INS_K_TYPE }, { T->list, INS_K_LIST }, { T->tuple, INS_K_TUPLE },
			{ T->dict, INS_K_DICT }, { T->str, INS_K_STR }, { T->bytes, INS_K_BYTES },
			{ T->string2, INS_K_BYTES }, { T->long_, INS_K_INT }, { T->int2, INS_K_INT },
			{ T->float_, INS_K_FLOAT }, { T->set, INS_K_SET }, { T->frozenset, INS_K_SET },
			{ T->module, INS_K_MODULE }, { T->function, INS_K_FUNCTION },
			{ T->code, INS_K_CODE }, { T->frame, INS_K_FRAME }, { T->method, INS_K_METHOD },
			{ T->cfunction, INS_K_CFUNCTION }, { T->class2, INS_K_CLASS2 },
			{ T->instance2, INS_K_INSTANCE2 }, { T->weakref, INS_K_WEAKREF },
		};
		for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
			if (known[i].addr && known[i].addr == type)
				return known[i].kind;
		type = field(o, type, o->in->L.type_base);
	}
	return INS_K_OTHER;
}

static char *str_dup_text(ins_objects *o, uint64_t obj)
{
	ins_buf b = { 0 };
	if (!obj || !ins_str_text(o, obj, &b, 1024)) {
		ins_buf_free(&b);
		return NULL;
	}
	return ins_buf_take(&b);
}

/* Names of a type: __name__ and module.qualname. */
static void name_type(ins_objects *o, ins_type *t)
{
	const ins_layout *L = &o->in->L;
	const char *builtins = o->in->major >= 3 ? "builtins" : "__builtin__";
	char *module = NULL, *qual = NULL;
	if (t->heap) {
		t->name = str_dup_text(o, field(o, t->addr, L->heaptype_name));
		if (L->heaptype_qualname >= 0)
			qual = str_dup_text(o, field(o, t->addr, L->heaptype_qualname));
		uint64_t mod;
		if (ins_dict_get_str(o, field(o, t->addr, L->type_dict), "__module__", &mod))
			module = str_dup_text(o, mod);
	}
	if (!t->name) {
		char *tp_name = ins_image_cstr(o->img, field(o, t->addr, L->type_name), 512);
		if (tp_name) {
			char *dot = strrchr(tp_name, '.');
			t->name = strdup(dot ? dot + 1 : tp_name);
			if (!module)
				module = dot ? strndup(tp_name, (size_t)(dot - tp_name)) : strdup(builtins);
			free(tp_name);
		}
	}
	if (!t->name)
		t->name = strdup("?");
	const char *q = qual ? qual : t->name ? t->name : "?";
	if (!module || !*module || asprintf(&t->qualname, "%s.%s", module, q) < 0)
		t->qualname = strdup(q);
	free(module);
	free(qual);
}

/* Python 2 classic instances are named by their class, like objgraph does. */
static void name_class2(ins_objects *o, ins_type *t)
{
	uint64_t mod;
	char *module = NULL;
	t->name = str_dup_text(o, field(o, t->addr, o->in->L.class_name));
	if (!t->name)
		t->name = strdup("instance");
	if (ins_dict_get_str(o, field(o, t->addr, o->in->L.class_dict), "__module__", &mod))
		module = str_dup_text(o, mod);
	if (!module || !t->name || asprintf(&t->qualname, "%s.%s", module, t->name) < 0)
		t->qualname = t->name ? strdup(t->name) : NULL;
	free(module);
}

static void type_free(ins_type *t)
{
	free(t->name);
	free(t->qualname);
	free(t);
}

static const ins_type *add_type(ins_objects *o, uint64_t addr, bool classic)
{
	if (o->ntypes >= MAX_TYPES)
		return NULL;
	const ins_layout *L = &o->in->L;
	ins_type *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->addr = addr;
	/* naming decodes strs, which asks only for their kind (ins_obj_kind), never for
	 * their type's names: it does not come back here, whatever the image holds */
	if (classic) {
		t->kind = INS_K_INSTANCE2;
		name_class2(o, t);
	} else {
		t->flags = field(o, addr, L->type_flags);
		t->basicsize = (int64_t)field(o, addr, L->type_basicsize);
		t->itemsize = (int64_t)field(o, addr, L->type_itemsize);
		t->heap = L->tpflag_heaptype > 0 && (t->flags & (uint64_t)L->tpflag_heaptype);
		t->kind = kind_of(o, addr);
		name_type(o, t);
	}
	ins_type **v = o->types;
	if (o->ntypes == o->captypes) {  /* grown geometrically */
		size_t cap = o->captypes ? 2 * o->captypes : 64;
		if ((v = realloc(o->types, cap * sizeof(*v)))) {
			o->types = v;
			o->captypes = cap;
		}
	}
	uint64_t *slot = v && t->name && t->qualname ? ins_map_slot(&o->index, addr, 0) : NULL;
	if (!slot) {
		type_free(t);
		return NULL;
	}
	o->types[o->ntypes++] = t;
	*slot = o->ntypes;
	return t;
}

const ins_type *ins_obj_type(ins_objects *o, uint64_t obj)
{
	uint64_t type;
	if (!obj || !ins_image_u64(o->img, obj + (uint64_t)o->in->L.obj_type, &type) || !type)
		return NULL;
	bool classic = false;
	if (o->in->T.instance2 && type == o->in->T.instance2) {
		uint64_t cls = field(o, obj, o->in->L.inst_class);
		if (cls) {
			type = cls;
			classic = true;
		}
	}
	const ins_type *t = known(o, type);
	return t ? t : add_type(o, type, classic);
}

bool ins_obj_kind(ins_objects *o, uint64_t obj, enum ins_kind *kind)
{
	uint64_t type;
	if (!obj || !ins_image_u64(o->img, obj + (uint64_t)o->in->L.obj_type, &type) || !type)
		return false;
	const ins_type *t = known(o, type);
	*kind = t ? t->kind : kind_of(o, type);
	return true;
}

const ins_type *ins_type_info(ins_objects *o, uint64_t type)
{
	const ins_type *t = known(o, type);
	return t ? t : add_type(o, type, false);
}

uint64_t ins_type_dict(ins_objects *o, uint64_t type, uint64_t *subclasses)
{
	const ins_layout *L = &o->in->L;
	uint64_t dict = field(o, type, L->type_dict), sub = field(o, type, L->type_subclasses);
	uint64_t flags = field(o, type, L->type_flags);
	if (L->tpflag_static_builtin > 0 && (flags & (uint64_t)L->tpflag_static_builtin) && o->in->interp &&
	    L->interp_static_types >= 0) {
		uint64_t index = sub;  /* 1-based */
		sub = 0;
		if (index >= 1 && index <= 1000) {
			uint64_t state = o->in->interp + (uint64_t)L->interp_static_types +
					 (index - 1) * (uint64_t)L->sizeof_static_type_state;
			if (L->static_type_type >= 0 && L->interp_static_ext_types >= 0 &&
			    field(o, state, L->static_type_type) != type)  /* an extension's static type */
				state = o->in->interp + (uint64_t)L->interp_static_ext_types +
					(index - 1) * (uint64_t)L->sizeof_static_type_state;
			if (!dict)
				dict = field(o, state, L->static_type_dict);
			sub = field(o, state, L->static_type_subclasses);
		}
	}
	if (subclasses)
		*subclasses = sub;
	return dict;
}

/* The __del__ in a class's __dict__, 2.7 classic classes searched through their bases. */
static uint64_t del_in_class2(ins_objects *o, uint64_t cls, int level)
{
	const ins_layout *L = &o->in->L;
	uint64_t del = 0;
	if (!cls || level > 32 || ins_dict_get_str(o, field(o, cls, L->class_dict), "__del__", &del))
		return del;
	uint64_t bases = field(o, cls, L->class_bases);
	int64_t n = (int64_t)field(o, bases, L->var_size);
	for (int64_t i = 0; bases && i < n && i < 64 && !del; i++)
		del = del_in_class2(o, field(o, bases, L->tuple_item + 8 * i), level + 1);
	return del;
}

static enum ins_finalizer find_finalizer(ins_objects *o, const ins_type *t)
{
	const ins_layout *L = &o->in->L;
	if (t->kind == INS_K_INSTANCE2)
		return del_in_class2(o, t->addr, 0) ? INS_FIN_DEL : INS_FIN_NONE;
	/* the MRO's dicts: a __del__ that is a Python function is the class's own */
	uint64_t mro = field(o, t->addr, L->type_mro), del = 0;
	int64_t n = mro ? (int64_t)field(o, mro, L->var_size) : 0;
	for (int64_t i = 0; i < n && i < 256 && !del; i++) {
		uint64_t base = field(o, mro, L->tuple_item + 8 * i);
		const ins_type *meta = base ? ins_obj_type(o, base) : NULL;
		if (meta && meta->kind == INS_K_CLASS2)
			del = del_in_class2(o, base, 0);
		else if (meta && meta->kind == INS_K_TYPE)
			ins_dict_get_str(o, ins_type_dict(o, base, NULL), "__del__", &del);
	}
	const ins_type *dt = del ? ins_obj_type(o, del) : NULL;
	if (dt && dt->kind == INS_K_FUNCTION)
		return INS_FIN_DEL;
	if (field(o, t->addr, L->type_finalize))
		return INS_FIN_FINALIZE;
	if (field(o, t->addr, L->type_del))
		return INS_FIN_TP_DEL;
	return del ? INS_FIN_FINALIZE : INS_FIN_NONE;
}

enum ins_finalizer ins_type_finalizer(ins_objects *o, const ins_type *t)
{
	uint64_t *slot = ins_map_slot(&o->finalizers, t->addr, 0);
	if (!slot)
		return find_finalizer(o, t);
	if (!*slot)
		*slot = (uint64_t)find_finalizer(o, t) + 1;
	return (enum ins_finalizer)(*slot - 1);
}

const char *ins_finalizer_name(enum ins_finalizer f)
{
	static const char *const names[] = { NULL, "__del__", "tp_finalize", "tp_del" };
	return names[f];
}

bool ins_obj_valid(ins_objects *o, uint64_t addr)
{
	const ins_layout *L = &o->in->L;
	uint64_t type, meta, flags;
	if (!addr || (addr & 7) || !ins_image_u64(o->img, addr + (uint64_t)L->obj_type, &type) ||
	    !type || (type & 7) || !ins_image_u64(o->img, type + (uint64_t)L->obj_type, &meta) ||
	    !meta || !ins_image_u64(o->img, meta + (uint64_t)L->type_flags, &flags))
		return false;
	if (L->tpflag_type_subclass > 0)
		return (flags & (uint64_t)L->tpflag_type_subclass) != 0;
	return meta == o->in->T.type;
}

bool ins_obj_refcnt(ins_objects *o, uint64_t obj, int64_t *refcnt, bool *immortal)
{
	if (!ins_image_i64(o->img, obj + (uint64_t)o->in->L.obj_refcnt, refcnt))
		return false;
	if (o->in->L.obj_refcnt_bits == 32)  /* 3.14+: ob_refcnt is a uint32_t, ob_flags above */
		*refcnt = (int64_t)(uint32_t)*refcnt;
	/* 3.12+: immortal objects have the low 32 bits of the count negative as an int32 */
	*immortal = o->in->L.immortal_refcnt > 0 && (int32_t)(uint32_t)*refcnt < 0;
	return true;
}

/* USABLE_FRACTION: n * 2 / 3 without overflow; -1 for a negative n. */
static int64_t two_thirds(int64_t n)
{
	return n < 0 ? -1 : n - n / 3 - (n % 3 != 0);
}

/* *size += n * itemsize for a count and an item size read from the target, unless they
 * are negative or their product is more than any allocation could be (corruption). */
static void add_items(uint64_t *size, int64_t n, int64_t itemsize)
{
	uint64_t items;
	if (ins_span(0, n, itemsize, &items) && items < ((uint64_t)1 << 47))
		*size += items;
}

/* _PyDict_KeysSize: header, indices and entries of a keys object; 0 when corrupt. */
static uint64_t keys_size(ins_objects *o, uint64_t keys)
{
	const ins_layout *L = &o->in->L;
	uint64_t res = 0;
	if (!keys)
		return 0;
	if (L->dk_size >= 0) {  /* dk_size is a power of two */
		int64_t size = (int64_t)field(o, keys, L->dk_size);
		int ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffLL ? 4 : 8;
		if (size <= 0 || (size & (size - 1)) || size > ((int64_t)1 << 40))
			return 0;
		res = (uint64_t)L->dk_indices;
		add_items(&res, size, ix);
		add_items(&res, two_thirds(size), L->sizeof_dict_entry);
		return res;
	}
	const uint8_t *hdr = ins_image_fast(o->img, keys, (size_t)L->dk_indices);
	if (!hdr)
		return 0;
	uint8_t log2_size = hdr[L->dk_log2_size], log2_index = hdr[L->dk_log2_index_bytes];
	uint8_t kind = hdr[L->dk_kind];
	if (log2_size > 40 || log2_index > 40)
		return 0;
	res = (uint64_t)L->sizeof_dict_keys + ((uint64_t)1 << log2_index);
	add_items(&res, two_thirds((int64_t)1 << log2_size), kind == 0 ? L->sizeof_dict_entry : L->sizeof_dict_uentry);
	return res;
}

static uint64_t dict_size(ins_objects *o, uint64_t obj, const ins_type *t)
{
	const ins_layout *L = &o->in->L;
	uint64_t res = (uint64_t)t->basicsize;
	if (L->dict_table >= 0) {  /* 2.7 */
		uint64_t table = field(o, obj, L->dict_table);
		int64_t mask = (int64_t)field(o, obj, L->dict_mask);
		if (table != obj + (uint64_t)L->dict_smalltable && mask >= 0 && mask < INT64_MAX)
			add_items(&res, mask + 1, L->sizeof_dict_entry);
		return res;
	}
	uint64_t keys = field(o, obj, L->dict_keys);
	if (!keys)
		return res;
	if (field(o, obj, L->dict_values)) {
		int64_t usable = -1;
		if (L->dk_size >= 0)
			usable = two_thirds((int64_t)field(o, keys, L->dk_size));
		else if (__builtin_add_overflow((int64_t)field(o, keys, L->dk_nentries),
						(int64_t)field(o, keys, L->dk_usable), &usable))
			usable = -1;
		add_items(&res, usable, 8);
	}
	if (field(o, keys, L->dk_refcnt) == 1)
		res += keys_size(o, keys);
	return res;
}

bool ins_type_size_fixed(const ins_type *t)
{
	switch (t->kind) {
	case INS_K_LIST:
	case INS_K_DICT:
	case INS_K_SET:
	case INS_K_TYPE:
	case INS_K_STR:
	case INS_K_BYTES:
	case INS_K_INT:
	case INS_K_INSTANCE2:
		return false;
	default:
		return t->itemsize == 0;
	}
}

/* str.__sizeof__ (3.x: PEP 393's three forms, with the UTF-8 copy when it is apart; the
 * wchar_t copy of 3.3-3.11 is not counted) and 2.7 unicode.__sizeof__ */
static uint64_t str_size(ins_objects *o, uint64_t obj, const ins_type *t)
{
	const ins_layout *L = &o->in->L;
	uint64_t size = (uint64_t)t->basicsize;
	int64_t len;
	if (L->unicode_length < 0 || !ins_image_i64(o->img, obj + (uint64_t)L->unicode_length, &len) || len < 0 ||
	    len >= ((int64_t)1 << 40))
		return size;
	if (o->in->major < 3 || L->unicode_state < 0) {
		add_items(&size, len + 1, L->sizeof_py_unicode > 0 ? L->sizeof_py_unicode : 4);
		return size;
	}
	uint32_t state;
	if (!ins_image_read(o->img, obj + (uint64_t)L->unicode_state, &state, 4))
		return size;
	int64_t kind = (int64_t)((state >> L->unicode_kind_bit) & 7);
	bool compact = (state >> L->unicode_compact_bit) & 1;
	bool ascii = (state >> L->unicode_ascii_bit) & 1;
	if (compact && ascii)
		return (uint64_t)L->sizeof_ascii + (uint64_t)len + 1;
	uint64_t data = 0;
	if (compact) {
		size = (uint64_t)L->sizeof_compact;
		add_items(&size, len + 1, kind);
	} else if (ins_image_u64(o->img, obj + (uint64_t)L->unicode_data, &data) && data) {
		add_items(&size, len + 1, kind);
	}
	/* the UTF-8 copy (utf8 follows utf8_length), unless it is the data itself */
	uint64_t utf8;
	int64_t utf8_len;
	if (L->unicode_utf8_length >= 0 &&
	    ins_image_u64(o->img, obj + (uint64_t)L->unicode_utf8_length + 8, &utf8) && utf8 && utf8 != data &&
	    ins_image_i64(o->img, obj + (uint64_t)L->unicode_utf8_length, &utf8_len) && utf8_len >= 0 &&
	    utf8_len < ((int64_t)1 << 40))
		size += (uint64_t)utf8_len + 1;
	return size;
}

uint64_t ins_obj_size(ins_objects *o, uint64_t obj, const ins_type *t)
{
	const ins_layout *L = &o->in->L;
	uint64_t size = (uint64_t)t->basicsize;
	bool gc = L->tpflag_have_gc > 0 && (t->flags & (uint64_t)L->tpflag_have_gc);
	switch (t->kind) {
	case INS_K_LIST:
		add_items(&size, (int64_t)field(o, obj, L->list_allocated), 8);
		break;
	case INS_K_DICT:
		size = dict_size(o, obj, t);
		break;
	case INS_K_SET:
		if (field(o, obj, L->set_table) != obj + (uint64_t)L->set_smalltable) {
			int64_t mask = (int64_t)field(o, obj, L->set_mask);
			if (mask >= 0 && mask < INT64_MAX)
				add_items(&size, mask + 1, L->sizeof_setentry);
		}
		break;
	case INS_K_TYPE: {
		uint64_t flags = field(o, obj, L->type_flags);
		gc = L->tpflag_heaptype > 0 && (flags & (uint64_t)L->tpflag_heaptype);
		if (gc) {
			size = (uint64_t)L->sizeof_heaptype;
			uint64_t cached = field(o, obj, L->heaptype_cached_keys);
			if (cached && o->in->major >= 3)
				size += keys_size(o, cached);
		} else {
			size = (uint64_t)L->sizeof_type;
		}
		break;
	}
	case INS_K_INSTANCE2:
		size = field(o, field(o, obj, L->obj_type), L->type_basicsize);
		gc = true;
		break;
	case INS_K_STR:
		size = str_size(o, obj, t);
		break;
	case INS_K_INT:
		if (L->long_tag >= 0 && t->itemsize) {
			/* 3.12+: the digit count is in lv_tag, and int.__sizeof__ counts at
			 * least one digit (zero has one allocated) */
			uint64_t ndigits = field(o, obj, L->long_tag) >>
					   (L->long_non_size_bits > 0 ? L->long_non_size_bits : 3);
			if (ndigits < ((uint64_t)1 << 32))
				add_items(&size, ndigits ? (int64_t)ndigits : 1, t->itemsize);
			break;
		}
		/* fall through */
	default:
		if (t->itemsize) {
			/* some types with an itemsize keep no ob_size there (3.11 generators):
			 * a count no allocation could hold is not one */
			int64_t n = (int64_t)field(o, obj, L->var_size);
			if (n < 0)
				n = n == INT64_MIN ? INT64_MAX : -n;
			if (n < ((int64_t)1 << 32))
				add_items(&size, n, t->itemsize);
		}
		break;
	}
	/* what sits in front of the object: the GC header, and from 3.11 the managed
	 * dict (and 3.12 weakref) pointers */
	if (gc)
		size += (uint64_t)L->sizeof_gc_head;
	uint64_t pre = 0;
	if (L->tpflag_preheader > 0)
		pre = (uint64_t)L->tpflag_preheader;
	else if (L->tpflag_managed_dict > 0)
		pre = (uint64_t)L->tpflag_managed_dict;
	if (pre && (t->flags & pre))
		size += 16;
	/* 3.13.0's object.__sizeof__ does not count inline values (measured: sys.getsizeof
	 * of such an instance is basicsize + the pre-header), so neither do we. */
	return size;
}

/* ---- reprs ---------------------------------------------------------------- */

static void repr_quoted(ins_objects *o, uint64_t obj, const char *prefix, ins_buf *out)
{
	ins_buf text = { 0 };
	const ins_layout *L = &o->in->L;
	bool ok;
	if (o->in->major >= 3 && *prefix == 'b') {  /* 3.x bytes */
		int64_t len = (int64_t)field(o, obj, L->var_size);
		uint8_t chunk[64];
		size_t n = len < 0 ? 0 : len > 60 ? 60 : (size_t)len;
		ok = ins_image_read(o->img, obj + (uint64_t)L->bytes_sval, chunk, n);
		for (size_t i = 0; ok && i < n; i++) {
			if (chunk[i] >= 0x20 && chunk[i] < 0x7f && chunk[i] != '\'' && chunk[i] != '\\')
				ins_buf_putc(&text, (char)chunk[i]);
			else
				ins_buf_printf(&text, "\\x%02x", chunk[i]);
		}
	} else {
		ok = ins_str_text(o, obj, &text, 60);
	}
	if (!ok) {
		ins_buf_puts(out, "<unreadable>");
		ins_buf_free(&text);
		return;
	}
	ins_buf_printf(out, "%s'", prefix);
	for (size_t i = 0; i < text.len; i++) {
		char c = text.data[i];
		if (c == '\'' || c == '\\')
			ins_buf_printf(out, "\\%c", c);
		else if ((unsigned char)c < 0x20)
			ins_buf_printf(out, "\\x%02x", (unsigned char)c);
		else
			ins_buf_putc(out, c);
	}
	ins_buf_putc(out, '\'');
	ins_buf_free(&text);
}

/* An int's value: sign and magnitude, false when it has more than 4 digits (2.7's int and
 * bool: one C long). */
static bool int_value(ins_objects *o, uint64_t obj, const ins_type *t, int *sign, unsigned __int128 *value,
		      int64_t *ndigits_out)
{
	const ins_layout *L = &o->in->L;
	*ndigits_out = 0;
	if (L->int_ival >= 0 && t->itemsize == 0) {
		int64_t v = (int64_t)field(o, obj, L->int_ival);
		*sign = v < 0 ? -1 : 1;
		*value = v < 0 ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
		return true;
	}
	int64_t ndigits;
	*sign = 1;
	if (L->long_tag >= 0) {
		uint64_t tag = field(o, obj, L->long_tag);
		ndigits = (int64_t)(tag >> (L->long_non_size_bits > 0 ? L->long_non_size_bits : 3));
		*sign = 1 - (int)(tag & 3);
	} else {
		ndigits = (int64_t)field(o, obj, L->var_size);
		if (ndigits < 0) {
			*sign = -1;
			ndigits = ndigits == INT64_MIN ? INT64_MAX : -ndigits;
		}
	}
	*ndigits_out = ndigits;
	if (ndigits > 4)
		return false;
	unsigned __int128 v = 0;
	int shift = L->long_shift > 0 ? (int)L->long_shift : 30;
	for (int64_t i = ndigits - 1; i >= 0; i--) {
		uint32_t d = 0;
		ins_image_read(o->img, obj + (uint64_t)L->long_digit + (uint64_t)i * 4, &d, 4);
		v = (v << shift) | d;
	}
	*value = v;
	return true;
}

bool ins_int_u64(ins_objects *o, uint64_t obj, uint64_t *value)
{
	enum ins_kind kind;
	const ins_type *t = ins_obj_type(o, obj);
	int sign;
	unsigned __int128 v;
	int64_t nd;
	if (!t || !ins_obj_kind(o, obj, &kind) || kind != INS_K_INT || !int_value(o, obj, t, &sign, &v, &nd) ||
	    sign < 0 || v > UINT64_MAX)
		return false;
	*value = (uint64_t)v;
	return true;
}

static void repr_int(ins_objects *o, uint64_t obj, const ins_type *t, ins_buf *out)
{
	bool is_bool = t->addr == o->in->T.bool_;
	int sign;
	unsigned __int128 v;
	int64_t ndigits;
	if (!int_value(o, obj, t, &sign, &v, &ndigits)) {
		ins_buf_printf(out, "<int of %lld digits>", (long long)ndigits);
		return;
	}
	if (is_bool) {
		ins_buf_puts(out, v ? "True" : "False");
		return;
	}
	char digits[48];
	int n = 0;
	do {
		digits[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && n < 47);
	if (sign < 0)
		ins_buf_putc(out, '-');
	while (n)
		ins_buf_putc(out, digits[--n]);
}

/* repr(float): the shortest digits that read back the same, positional when the exponent
 * is in [-4, 16), else scientific, as Python's float_repr does. */
static void repr_float(ins_objects *o, uint64_t obj, ins_buf *out)
{
	double d;
	if (!ins_image_read(o->img, obj + (uint64_t)o->in->L.float_fval, &d, 8)) {
		ins_buf_puts(out, "<unreadable>");
		return;
	}
	if (!isfinite(d)) {
		ins_buf_puts(out, isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
		return;
	}
	char s[48];
	int prec = 1;
	for (; prec < 17; prec++) {  /* the shortest string that round-trips */
		snprintf(s, sizeof(s), "%.*e", prec - 1, d);
		if (strtod(s, NULL) == d)
			break;
	}
	int exp = d == 0 ? 0 : atoi(strchr(s, 'e') + 1);
	if (exp >= -4 && exp < 16) {
		int decimals = prec - 1 - exp;
		snprintf(s, sizeof(s), "%.*f", decimals > 0 ? decimals : 0, d);
		ins_buf_puts(out, s);
		if (!strchr(s, '.'))
			ins_buf_puts(out, ".0");
	} else {
		ins_buf_puts(out, s);
	}
}

static void repr_name(ins_objects *o, uint64_t str, ins_buf *out)
{
	if (!str || !ins_str_text(o, str, out, 200))
		ins_buf_puts(out, "?");
}

static void repr_code(ins_objects *o, uint64_t code, int64_t line, ins_buf *out)
{
	const ins_layout *L = &o->in->L;
	repr_name(o, field(o, code, L->code_filename), out);
	int32_t first = 0;
	ins_image_i32(o->img, code + (uint64_t)L->code_firstlineno, &first);
	ins_buf_printf(out, ":%lld", (long long)(line > 0 ? line : first));
}

void ins_obj_repr(ins_objects *o, uint64_t obj, const ins_type *t, ins_buf *out)
{
	const ins_layout *L = &o->in->L;
	uint64_t v;
	if (obj && obj == o->in->T.none) {
		ins_buf_puts(out, "None");
		return;
	}
	switch (t->kind) {
	case INS_K_STR:
		repr_quoted(o, obj, o->in->major >= 3 ? "" : "u", out);
		return;
	case INS_K_BYTES:
		repr_quoted(o, obj, o->in->major >= 3 ? "b" : "", out);
		return;
	case INS_K_INT:
		repr_int(o, obj, t, out);
		return;
	case INS_K_FLOAT:
		repr_float(o, obj, out);
		return;
	case INS_K_LIST:
	case INS_K_TUPLE:
		ins_buf_printf(out, "%lld items", (long long)field(o, obj, L->var_size));
		return;
	case INS_K_DICT:
		ins_buf_printf(out, "%lld items", (long long)field(o, obj, L->dict_used));
		return;
	case INS_K_SET:
		ins_buf_printf(out, "%lld items", (long long)field(o, obj, L->set_used));
		return;
	case INS_K_TYPE: {
		const ins_type *self = ins_type_info(o, obj);
		ins_buf_puts(out, self ? self->name : "?");
		return;
	}
	case INS_K_MODULE:
		if (L->module_name >= 0 && field(o, obj, L->module_name))
			repr_name(o, field(o, obj, L->module_name), out);
		else if (ins_dict_get_str(o, field(o, obj, L->module_dict), "__name__", &v))
			repr_name(o, v, out);
		else
			ins_buf_puts(out, "?");
		return;
	case INS_K_FUNCTION:
		repr_name(o, field(o, obj, L->func_name), out);
		return;
	case INS_K_METHOD:
		repr_name(o, field(o, field(o, obj, L->method_func), L->func_name), out);
		if (field(o, obj, L->method_self))
			ins_buf_puts(out, " (bound)");
		return;
	case INS_K_CFUNCTION: {
		char *name = ins_image_cstr(o->img, field(o, field(o, obj, L->cfunc_ml), L->methoddef_name), 200);
		ins_buf_puts(out, name ? name : "?");
		free(name);
		return;
	}
	case INS_K_CODE:
		repr_name(o, field(o, obj, L->code_name), out);
		ins_buf_putc(out, ' ');
		repr_code(o, obj, 0, out);
		return;
	case INS_K_FRAME: {  /* file:frame.f_lineno */
		uint64_t code = field(o, obj, L->frame_code);
		if (!code && L->frame_iframe >= 0)
			code = ins_stackref(L, field(o, field(o, obj, L->frame_iframe), L->iframe_code), NULL);
		repr_code(o, code, ins_frame_line(o, obj, false), out);
		return;
	}
	case INS_K_CLASS2:
		repr_name(o, field(o, obj, L->class_name), out);
		return;
	case INS_K_INSTANCE2:
		ins_buf_printf(out, "<%s instance at 0x%llx>", t->qualname, (unsigned long long)obj);
		return;
	default:
		ins_buf_printf(out, "<%s object at 0x%llx>", t->qualname, (unsigned long long)obj);
		return;
	}
}
