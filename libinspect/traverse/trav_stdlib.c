/* trav_stdlib.c -- traversal routines for collections, functools, weakrefs, classmethod,
 * staticmethod, property, the builtin iterators and wrappers, itertools, operator, _io,
 * _abc, contextvars and _sre (see traverse_impl.h).
 *
 * Each routine reports what its type's tp_traverse visits on every supported version, and
 * as hidden the strong references it leaves out. Many of these types became heap types
 * made by PyType_FromSpec (functools and _thread in 3.10, collections, itertools and _io
 * in 3.12, ...); from then on their tp_traverse also visits the type: visit_class(). For a
 * Python subclass the dispatcher then leaves the class to that visit, as subtype_traverse
 * does. 2.7's _collections, _functools, itertools, operator and _io are lib-dynload
 * modules: see layout_fields.def for the offsets used there.
 */
#include "traverse_impl.h"

/* Is the interpreter 3.minor or later? */
static bool since(const tv *v, int minor)
{
	return v->in->major > 3 || (v->in->major == 3 && v->in->minor >= minor);
}

/* Py_VISIT(Py_TYPE(self)) of a C type that is a heap type from 3.minor on. type is the
 * object's type: for an instance of a Python subclass, the subclass. */
static void visit_class(const tv *v, const ins_type *type, int minor)
{
	if (since(v, minor))
		tv_edge(v, type->addr, INS_EDGE_FIELD, "__class__", 0, 0);
}

/* A bound for walking a linked list that has one node per item of the dict at dict (a
 * corrupt list must not run for ever); a little slack for a core taken mid-update. */
static uint64_t list_bound(const tv *v, uint64_t dict)
{
	uint64_t used = tv_word(v, dict, v->L->dict_used);
	return used < TV_MAX_ITEMS ? used + 2 : TV_MAX_ITEMS;
}

/* Routines whose tp_traverse visits one or two fields, after the type from 3.minor on where
 * the type became a heap type (STATIC: a static type in every version). */
#define STATIC 99
#define FIELDS1(fn, minor, m1, l1) \
	static void fn(const tv *v, uint64_t obj, const ins_type *type) \
	{ \
		visit_class(v, type, minor); \
		tv_field(v, obj, v->L->m1, l1); \
	}
#define FIELDS2(fn, minor, m1, l1, m2, l2) \
	static void fn(const tv *v, uint64_t obj, const ins_type *type) \
	{ \
		visit_class(v, type, minor); \
		tv_field(v, obj, v->L->m1, l1); \
		tv_field(v, obj, v->L->m2, l2); \
	}

/* ---------------------------------------------------------------- ast, struct */

/* ast_type_traverse (3.x): the instance dict, after the class from 3.9 (heap node types made
 * from specs; before, the node classes are made by type() and subtype_traverse visits
 * them). 2.7's AST has no tp_traverse. */
static void trav_ast(const tv *v, uint64_t obj, const ins_type *type)
{
	if (v->in->major == 2)
		return;
	visit_class(v, type, 9);
	tv_field(v, obj, v->L->ast_dict, "__dict__");
}

/* s_traverse (3.10+, where Struct became a GC heap type): the class and the format; before,
 * the format is owned but not visited. */
static void trav_struct(const tv *v, uint64_t obj, const ins_type *type)
{
	visit_class(v, type, 10);
	if (v->in->major == 3 && v->in->minor >= 10)
		tv_field(v, obj, v->L->struct_format, "format");
	else
		tv_hidden(v, obj, v->L->struct_format, "format");
}

/* ---------------------------------------------------------------- collections */

/* deque_traverse: the items from leftblock[leftindex] to rightblock[rightindex]. */
static void trav_deque(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 12);
	int64_t n = (int64_t)tv_word(v, obj, L->deque_len);
	int64_t blen = L->block_len;
	int64_t lo = (int64_t)tv_word(v, obj, L->deque_leftindex);
	int64_t hi = (int64_t)tv_word(v, obj, L->deque_rightindex);
	uint64_t b = tv_word(v, obj, L->deque_leftblock), right = tv_word(v, obj, L->deque_rightblock);
	if (n <= 0 || n > TV_MAX_ITEMS || lo < 0 || lo >= blen || hi < -1 || hi >= blen)
		return;
	for (int64_t i = 0; b && i < n; lo = 0) {
		int64_t end = b == right ? hi + 1 : blen;
		if (lo < end) {
			ins_tv_items_from(v, b + (uint64_t)(L->block_data + lo * 8), end - lo, (uint64_t)i, 0);
			i += end - lo;
		}
		if (b == right)
			break;
		b = tv_word(v, b, L->block_rightlink);
	}
}

/* dequeiter_traverse (_deque_iterator and _deque_reverse_iterator) */
FIELDS1(trav_deque_iter, 12, dequeiter_deque, "deque")

/* defdict_traverse: the factory, then dict_traverse */
static void trav_defaultdict(const tv *v, uint64_t obj, const ins_type *type)
{
	visit_class(v, type, 12);
	tv_field(v, obj, v->L->defdict_factory, "default_factory");
	ins_tv_dict(v, obj, 0);
}

/* odict_traverse (3.x; 2.7's OrderedDict is a Python class): the instance dict, the key
 * each node of the order list holds, then dict_traverse. */
static void trav_odict(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->odict_inst_dict, "__dict__");
	uint64_t node = tv_word(v, obj, L->odict_first), bound = list_bound(v, obj);
	for (uint64_t i = 0; node && i < bound; i++) {
		tv_edge(v, tv_word(v, node, L->odnode_key), INS_EDGE_DICTKEY, NULL, 0, 0);
		node = tv_word(v, node, L->odnode_next);
	}
	ins_tv_dict(v, obj, 0);
}

/* odictiter_traverse: odict_iterator, over keys, values or items, forwards or reversed */
static void trav_odict_iter(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->odictiter_odict, "di_odict");
	tv_field(v, obj, v->L->odictiter_current, "di_current");
	tv_field(v, obj, v->L->odictiter_result, "di_result");
}

/* tuplegetter_traverse: a namedtuple field's descriptor (3.8+) */
FIELDS1(trav_tuplegetter, 12, tuplegetter_doc, "__doc__")

/* ---------------------------------------------------------------- functools */

static void trav_partial(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 10);
	tv_field(v, obj, L->partial_fn, "func");
	tv_field(v, obj, L->partial_args, "args");
	tv_field(v, obj, L->partial_kw, "keywords");
	tv_field(v, obj, L->partial_dict, "__dict__");
}

/* lru_cache_tp_traverse. The wrapper owns the links of its order list (the cache dict maps
 * each key to its link). 3.6's links are GC objects and are visited; from 3.7 they are not,
 * and the wrapper visits each link's key and result instead (3.10+: and its type), so the
 * link itself is a hidden reference. An unbounded cache has no links. */
static void trav_lru_cache(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	bool links_tracked = !since(v, 7);
	visit_class(v, type, 10);
	uint64_t link = tv_word(v, obj, L->lru_root_next);
	uint64_t bound = list_bound(v, tv_word(v, obj, L->lru_cache));
	for (uint64_t i = 0; link && link != obj && i < bound; i++) {
		if (links_tracked) {
			tv_edge(v, link, INS_EDGE_FIELD, "link", 0, 0);
		} else {
			uint64_t key = tv_word(v, link, L->lruelem_key);
			tv_edge(v, key, INS_EDGE_DICTKEY, NULL, 0, 0);
			tv_edge(v, tv_word(v, link, L->lruelem_result), INS_EDGE_KEY, NULL, key, 0);
			if (since(v, 10))
				tv_edge(v, tv_word(v, link, L->obj_type), INS_EDGE_FIELD, "link.__class__", 0, 0);
			tv_edge(v, link, INS_EDGE_FIELD, "link", 0, INS_EF_HIDDEN);
		}
		link = tv_word(v, link, L->lruelem_next);
	}
	tv_field(v, obj, L->lru_maxsize_obj, "maxsize");
	tv_field(v, obj, L->lru_func, "__wrapped__");
	tv_field(v, obj, L->lru_cache, "cache");
	tv_field(v, obj, L->lru_kwd_mark, "kwd_mark");
	tv_field(v, obj, L->lru_elem_type, "lru_list_elem_type");
	tv_field(v, obj, L->lru_cache_info_type, "cache_info_type");
	tv_field(v, obj, L->lru_dict, "__dict__");
}

/* _lru_list_elem: a GC object visiting its key and result in 3.6. From 3.7 it is no GC
 * object and the wrapper visits its key, result (and type) for it: those references are
 * accounted for there, so it reports none itself. */
static void trav_lru_elem(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	if (since(v, 7))
		return;
	tv_field(v, obj, v->L->lruelem_key, "key");
	tv_field(v, obj, v->L->lruelem_result, "result");
}

/* ---------------------------------------------------------------- classmethod, staticmethod, property */

FIELDS2(trav_classmethod, STATIC, cm_callable, "__func__", cm_dict, "__dict__")
FIELDS2(trav_staticmethod, STATIC, sm_callable, "__func__", sm_dict, "__dict__")

static void trav_property(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->prop_get, "fget");
	tv_field(v, obj, L->prop_set, "fset");
	tv_field(v, obj, L->prop_del, "fdel");
	tv_field(v, obj, L->prop_doc, "__doc__");
	tv_field(v, obj, L->prop_name, "__name__");
}

/* ---------------------------------------------------------------- weakrefs, super */

/* gc_traverse of weakref, weakproxy, weakcallableproxy: only the callback. The referent is
 * no reference at all. */
FIELDS1(trav_weakref, STATIC, weakref_callback, "__callback__")

static void trav_super(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->super_obj, "__self__");
	tv_field(v, obj, v->L->super_type, "__thisclass__");
	tv_field(v, obj, v->L->super_obj_type, "__self_class__");
}

/* ---------------------------------------------------------------- builtin iterators and wrappers */

static void trav_enumerate(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->enum_sit, "en_sit");
	tv_field(v, obj, v->L->enum_result, "en_result");
	tv_field(v, obj, v->L->enum_longindex, "en_longindex");
}

FIELDS1(trav_reversed, STATIC, reversed_seq, "seq")

/* zip, map, filter (2.7: itertools.izip, imap, ifilter) */
FIELDS2(trav_zip, STATIC, zip_ittuple, "ittuple", zip_result, "result")
FIELDS2(trav_map, STATIC, map_iters, "iters", map_func, "func")
FIELDS2(trav_filter, STATIC, filter_func, "func", filter_it, "it")

/* the iterators over one sequence: list, reversed list, tuple, the generic one of iter(seq)
 * (2.7: str's and unicode's too), str, bytes, bytearray, set */
FIELDS1(trav_list_iter, STATIC, listiter_seq, "it_seq")
FIELDS1(trav_list_reviter, STATIC, listreviter_seq, "it_seq")
FIELDS1(trav_tuple_iter, STATIC, tupleiter_seq, "it_seq")
FIELDS1(trav_seq_iter, STATIC, seqiter_seq, "it_seq")
FIELDS1(trav_str_iter, STATIC, unicodeiter_seq, "it_seq")
FIELDS1(trav_bytes_iter, STATIC, bytesiter_seq, "it_seq")
FIELDS1(trav_bytearray_iter, STATIC, bytearrayiter_seq, "it_seq")
FIELDS1(trav_set_iter, STATIC, setiter_set, "si_set")
FIELDS2(trav_callable_iter, STATIC, calliter_callable, "it_callable", calliter_sentinel, "it_sentinel")

/* dictiter_traverse: the key, value and item iterators, forwards and reversed */
FIELDS2(trav_dict_iter, STATIC, dictiter_dict, "di_dict", dictiter_result, "di_result")

/* dictview_traverse: dict_keys, dict_values, dict_items (and odict_keys, ... which keep it) */
FIELDS1(trav_dict_view, STATIC, dictview_dict, "dv_dict")

/* longrange_iterator: no GC object, but it owns its ints (index up to 3.11) */
static void trav_longrange_iter(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_hidden(v, obj, L->longrangeiter_index, "index");
	tv_hidden(v, obj, L->longrangeiter_start, "start");
	tv_hidden(v, obj, L->longrangeiter_step, "step");
	tv_hidden(v, obj, L->longrangeiter_len, "len");
}

static void trav_slice(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->slice_start, "start");
	tv_field(v, obj, v->L->slice_stop, "stop");
	tv_field(v, obj, v->L->slice_step, "step");
}

/* memory_traverse. 3.x: the managed buffer only (view.obj is borrowed from it); 2.7: the
 * base and the buffer's exporter. */
static void trav_memoryview(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	if (L->memview_mbuf >= 0) {
		tv_field(v, obj, L->memview_mbuf, "mbuf");
		return;
	}
	tv_field(v, obj, L->memview_base, "base");
	tv_field(v, obj, L->memview_view_obj, "obj");
}

FIELDS1(trav_managedbuffer, STATIC, mbuf_obj, "obj")
FIELDS1(trav_namespace, STATIC, namespace_dict, "__dict__")

static void trav_generic_alias(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->ga_origin, "__origin__");
	tv_field(v, obj, v->L->ga_args, "__args__");
	tv_field(v, obj, v->L->ga_parameters, "__parameters__");
}

FIELDS2(trav_union, STATIC, union_args, "__args__", union_parameters, "__parameters__")

/* ---------------------------------------------------------------- itertools (heap types from 3.12) */

FIELDS2(trav_count, 12, count_long_cnt, "long_cnt", count_long_step, "long_step")
FIELDS2(trav_chain, 12, chain_source, "source", chain_active, "active")
FIELDS1(trav_islice, 12, islice_it, "it")
FIELDS2(trav_cycle, 12, cycle_it, "it", cycle_saved, "saved")
FIELDS1(trav_repeat, 12, repeat_element, "element")
FIELDS2(trav_starmap, 12, starmap_func, "func", starmap_it, "it")

/* takewhile and dropwhile */
FIELDS2(trav_takewhile, 12, takewhile_func, "func", takewhile_it, "it")

/* filterfalse (2.7: ifilterfalse) */
FIELDS2(trav_filterfalse, 12, filterfalse_func, "func", filterfalse_it, "it")

/* zip_longest (2.7: izip_longest) */
static void trav_zip_longest(const tv *v, uint64_t obj, const ins_type *type)
{
	visit_class(v, type, 12);
	tv_field(v, obj, v->L->ziplongest_ittuple, "ittuple");
	tv_field(v, obj, v->L->ziplongest_result, "result");
	tv_field(v, obj, v->L->ziplongest_fillvalue, "fillvalue");
}

static void trav_accumulate(const tv *v, uint64_t obj, const ins_type *type)
{
	visit_class(v, type, 12);
	tv_field(v, obj, v->L->accumulate_binop, "binop");
	tv_field(v, obj, v->L->accumulate_it, "it");
	tv_field(v, obj, v->L->accumulate_total, "total");
	tv_field(v, obj, v->L->accumulate_initial, "initial");
}

static void trav_groupby(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 12);
	tv_field(v, obj, L->groupby_it, "it");
	tv_field(v, obj, L->groupby_keyfunc, "keyfunc");
	tv_field(v, obj, L->groupby_tgtkey, "tgtkey");
	tv_field(v, obj, L->groupby_currkey, "currkey");
	tv_field(v, obj, L->groupby_currvalue, "currvalue");
}

FIELDS2(trav_grouper, 12, grouper_parent, "parent", grouper_tgtkey, "tgtkey")
FIELDS1(trav_tee, 12, tee_dataobj, "dataobj")

/* teedataobject_traverse: the iterator, the values read so far, the next link */
static void trav_tee_data(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	int32_t numread = 0;
	visit_class(v, type, 12);
	tv_field(v, obj, L->teedata_it, "it");
	if (L->teedata_numread >= 0 && ins_image_i32(v->o->img, obj + (uint64_t)L->teedata_numread, &numread) &&
	    numread > 0 && numread <= L->teedata_nvalues)
		ins_tv_items_from(v, obj + (uint64_t)L->teedata_values, numread, 0, 0);
	tv_field(v, obj, L->teedata_nextlink, "nextlink");
}

FIELDS2(trav_product, 12, product_pools, "pools", product_result, "result")

/* ---------------------------------------------------------------- operator (heap types from 3.10) */

FIELDS1(trav_itemgetter, 10, itemgetter_item, "item")
FIELDS1(trav_attrgetter, 10, attrgetter_attr, "attr")

/* methodcaller_traverse: the arguments; the name too from 3.10. 3.13's args are
 * (name, *args); its keyword names tuple is not visited, and is set (owned) only when the
 * vectorcall arguments are (3.13.0 leaves it uninitialised otherwise). 3.14+ visits both the
 * vectorcall arguments (a tuple) and the keyword names. */
static void trav_methodcaller(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 10);
	tv_edge(v, tv_word(v, obj, L->methodcaller_name), INS_EDGE_FIELD, "name", 0, since(v, 10) ? 0 : INS_EF_HIDDEN);
	tv_field(v, obj, L->methodcaller_args, "args");
	tv_field(v, obj, L->methodcaller_kwds, "kwds");
	if (L->methodcaller_vc_visited > 0) {
		tv_field(v, obj, L->methodcaller_vcargs, "vectorcall_args");
		tv_field(v, obj, L->methodcaller_kwnames, "vectorcall_kwnames");
	} else if (tv_word(v, obj, L->methodcaller_vcargs))
		tv_hidden(v, obj, L->methodcaller_kwnames, "vectorcall_kwnames");
}

/* ---------------------------------------------------------------- _thread */

/* lock and RLock hold no references; from 3.10 they are GC heap types visiting the type
 * (3.13's _ThreadHandle too) */
static void trav_lock(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)obj;
	visit_class(v, type, 10);
}

/* local_traverse: threading.local's constructor arguments and its per-thread dicts (the
 * dummies dict up to 3.12, localdicts and thread_watchdogs from 3.13). The _localdummy
 * objects up to 3.12 hold nothing but a borrowed reference to their thread's dict. */
static void trav_local(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 10);
	tv_field(v, obj, L->local_args, "args");
	tv_field(v, obj, L->local_kw, "kw");
	tv_field(v, obj, L->local_dummies, "dummies");
	tv_field(v, obj, L->local_localdicts, "localdicts");
	tv_field(v, obj, L->local_watchdogs, "thread_watchdogs");
	tv_hidden(v, obj, L->local_key, "key");
	tv_hidden(v, obj, L->local_wr_callback, "wr_callback");
}

/* ---------------------------------------------------------------- _io (heap types from 3.12) */

/* iobase_traverse: _IOBase and the ABCs _RawIOBase, _BufferedIOBase, _TextIOBase that keep
 * it, whose Python subclasses (io.RawIOBase, socket.SocketIO, ...) keep their dict here */
FIELDS1(trav_iobase, 12, iobase_dict, "__dict__")
FIELDS1(trav_fileio, 12, fileio_dict, "__dict__")

/* buffered_traverse: BufferedReader, BufferedWriter, BufferedRandom */
FIELDS2(trav_buffered, 12, buffered_raw, "raw", buffered_dict, "__dict__")

/* bufferedrwpair_traverse: the reader and the writer are visited from 3.12 only */
static void trav_rwpair(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	uint8_t f = since(v, 12) ? 0 : INS_EF_HIDDEN;
	visit_class(v, type, 12);
	tv_edge(v, tv_word(v, obj, L->rwpair_reader), INS_EDGE_FIELD, "reader", 0, f);
	tv_edge(v, tv_word(v, obj, L->rwpair_writer), INS_EDGE_FIELD, "writer", 0, f);
	tv_field(v, obj, L->rwpair_dict, "__dict__");
}

static void trav_textio(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 12);
	tv_field(v, obj, L->textio_buffer, "buffer");
	tv_field(v, obj, L->textio_encoding, "encoding");
	tv_field(v, obj, L->textio_encoder, "encoder");
	tv_field(v, obj, L->textio_decoder, "decoder");
	tv_field(v, obj, L->textio_readnl, "readnl");
	tv_field(v, obj, L->textio_errors, "errors");
	tv_field(v, obj, L->textio_decoded_chars, "decoded_chars");
	tv_field(v, obj, L->textio_pending_bytes, "pending_bytes");
	tv_field(v, obj, L->textio_snapshot, "snapshot");
	tv_field(v, obj, L->textio_raw, "raw");
	tv_field(v, obj, L->textio_dict, "__dict__");
}

/* bytesio_traverse: the buffer is visited from 3.12 only */
static void trav_bytesio(const tv *v, uint64_t obj, const ins_type *type)
{
	visit_class(v, type, 12);
	tv_edge(v, tv_word(v, obj, v->L->bytesio_buf), INS_EDGE_FIELD, "buf", 0, since(v, 12) ? 0 : INS_EF_HIDDEN);
	tv_field(v, obj, v->L->bytesio_dict, "__dict__");
}

/* stringio_traverse: the dict; the decoder and newlines too from 3.12. The text being
 * accumulated (the _PyAccu lists up to 3.11, the writer's buffer from 3.12) is hidden. */
static void trav_stringio(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	uint8_t f = since(v, 12) ? 0 : INS_EF_HIDDEN;
	visit_class(v, type, 12);
	tv_edge(v, tv_word(v, obj, L->stringio_decoder), INS_EDGE_FIELD, "decoder", 0, f);
	tv_edge(v, tv_word(v, obj, L->stringio_readnl), INS_EDGE_FIELD, "readnl", 0, f);
	tv_edge(v, tv_word(v, obj, L->stringio_writenl), INS_EDGE_FIELD, "writenl", 0, f);
	tv_field(v, obj, L->stringio_dict, "__dict__");
	tv_hidden(v, obj, L->stringio_accu_large, "accu.large");
	tv_hidden(v, obj, L->stringio_accu_small, "accu.small");
	tv_hidden(v, obj, L->stringio_writer_buffer, "writer.buffer");
}

/* IncrementalNewlineDecoder: no GC object before 3.12 */
static void trav_nldecoder(const tv *v, uint64_t obj, const ins_type *type)
{
	uint8_t f = since(v, 12) ? 0 : INS_EF_HIDDEN;
	visit_class(v, type, 12);
	tv_edge(v, tv_word(v, obj, v->L->nldecoder_decoder), INS_EDGE_FIELD, "decoder", 0, f);
	tv_edge(v, tv_word(v, obj, v->L->nldecoder_errors), INS_EDGE_FIELD, "errors", 0, f);
}

/* ---------------------------------------------------------------- _abc, contextvars */

/* _abc_data: no GC object in 3.7 and 3.8; a GC heap type from 3.9 */
static void trav_abc_data(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	uint8_t f = since(v, 9) ? 0 : INS_EF_HIDDEN;
	visit_class(v, type, 9);
	tv_edge(v, tv_word(v, obj, L->abcdata_registry), INS_EDGE_FIELD, "_abc_registry", 0, f);
	tv_edge(v, tv_word(v, obj, L->abcdata_cache), INS_EDGE_FIELD, "_abc_cache", 0, f);
	tv_edge(v, tv_word(v, obj, L->abcdata_negative_cache), INS_EDGE_FIELD, "_abc_negative_cache", 0, f);
}

FIELDS2(trav_context, STATIC, context_prev, "ctx_prev", context_vars, "ctx_vars")

/* contextvar_tp_traverse: var_cached is a borrowed reference */
FIELDS2(trav_contextvar, STATIC, contextvar_name, "name", contextvar_default, "default")

static void trav_token(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->token_ctx, "tok_ctx");
	tv_field(v, obj, v->L->token_var, "var");
	tv_field(v, obj, v->L->token_oldval, "old_value");
}

/* The hamt (immutable mapping) behind a Context, and its nodes: a bitmap node's and a
 * collision node's array holds ob_size keys, values and subnodes; an array node's a
 * fixed number of subnodes. */
FIELDS1(trav_hamt, STATIC, hamt_root, "h_root")

static void trav_hamt_bitmap(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	ins_tv_items_from(v, obj + (uint64_t)v->L->hamt_bitmap_array, (int64_t)tv_word(v, obj, v->L->var_size), 0, 0);
}

static void trav_hamt_array(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	ins_tv_items_from(v, obj + (uint64_t)v->L->hamt_array_array, v->L->hamt_array_size, 0, 0);
}

static void trav_hamt_collision(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	ins_tv_items_from(v, obj + (uint64_t)v->L->hamt_collision_array, (int64_t)tv_word(v, obj, v->L->var_size), 0, 0);
}

/* ---------------------------------------------------------------- _sre (GC heap types from 3.10) */

static void trav_pattern(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	uint8_t f = since(v, 10) ? 0 : INS_EF_HIDDEN;
	visit_class(v, type, 10);
	tv_edge(v, tv_word(v, obj, L->pattern_groupindex), INS_EDGE_FIELD, "groupindex", 0, f);
	tv_edge(v, tv_word(v, obj, L->pattern_indexgroup), INS_EDGE_FIELD, "indexgroup", 0, f);
	tv_edge(v, tv_word(v, obj, L->pattern_pattern), INS_EDGE_FIELD, "pattern", 0, f);
}

static void trav_match(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	uint8_t f = since(v, 10) ? 0 : INS_EF_HIDDEN;
	visit_class(v, type, 10);
	tv_edge(v, tv_word(v, obj, L->match_string), INS_EDGE_FIELD, "string", 0, f);
	tv_edge(v, tv_word(v, obj, L->match_regs), INS_EDGE_FIELD, "regs", 0, f);
	tv_edge(v, tv_word(v, obj, L->match_pattern), INS_EDGE_FIELD, "re", 0, f);
}

/* scanner_traverse: the pattern; the string its state holds is never visited */
static void trav_scanner(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	visit_class(v, type, 10);
	tv_edge(v, tv_word(v, obj, L->scanner_pattern), INS_EDGE_FIELD, "pattern", 0, since(v, 10) ? 0 : INS_EF_HIDDEN);
	tv_hidden(v, obj, L->scanner_string, "state.string");
	tv_hidden(v, obj, L->scanner_buffer_obj, "state.buffer.obj");
}

/* ---------------------------------------------------------------- the table */

/* tp_names: 2.7 and 3.x builtins without a module; a 3.x static type by its tp_name; a
 * heap type (3.10+ / 3.12+ where noted above) by module.qualname. */
const trav_routine ins_trav_stdlib_routines[] = {
	/* collections */
	{ "collections.deque", trav_deque },
	{ "deque_iterator deque_reverse_iterator _collections._deque_iterator "
	  "_collections._deque_reverse_iterator collections._deque_iterator "
	  "collections._deque_reverse_iterator", trav_deque_iter },
	{ "collections.defaultdict", trav_defaultdict },
	{ "collections.OrderedDict", trav_odict },
	{ "odict_iterator", trav_odict_iter },
	{ "_collections._tuplegetter collections._tuplegetter", trav_tuplegetter },
	/* functools */
	{ "functools.partial", trav_partial },
	{ "functools._lru_cache_wrapper", trav_lru_cache },
	{ "functools._lru_list_elem", trav_lru_elem },
	/* classmethod, staticmethod, property, weakrefs, super */
	{ "classmethod", trav_classmethod },
	{ "staticmethod", trav_staticmethod },
	{ "property", trav_property },
	{ "weakref weakproxy weakcallableproxy weakref.ReferenceType weakref.ProxyType "
	  "weakref.CallableProxyType", trav_weakref },
	{ "super", trav_super },
	/* builtin iterators and wrappers */
	{ "enumerate", trav_enumerate },
	{ "reversed", trav_reversed },
	{ "zip itertools.izip", trav_zip },
	{ "map itertools.imap", trav_map },
	{ "filter itertools.ifilter", trav_filter },
	{ "list_iterator listiterator", trav_list_iter },
	{ "list_reverseiterator listreverseiterator", trav_list_reviter },
	{ "tuple_iterator tupleiterator", trav_tuple_iter },
	{ "iterator", trav_seq_iter },
	{ "str_iterator str_ascii_iterator", trav_str_iter },
	{ "bytes_iterator", trav_bytes_iter },
	{ "bytearray_iterator", trav_bytearray_iter },
	{ "set_iterator setiterator", trav_set_iter },
	{ "callable_iterator callable-iterator", trav_callable_iter },
	{ "dict_keyiterator dict_valueiterator dict_itemiterator dict_reversekeyiterator "
	  "dict_reversevalueiterator dict_reverseitemiterator dictionary-keyiterator "
	  "dictionary-valueiterator dictionary-itemiterator", trav_dict_iter },
	{ "dict_keys dict_values dict_items", trav_dict_view },
	{ "longrange_iterator", trav_longrange_iter },
	{ "slice", trav_slice },
	{ "memoryview", trav_memoryview },
	{ "managedbuffer", trav_managedbuffer },
	{ "types.SimpleNamespace", trav_namespace },
	{ "types.GenericAlias", trav_generic_alias },
	{ "types.UnionType", trav_union },
	{ "ast.AST _ast.AST", trav_ast },
	{ "_struct.Struct Struct", trav_struct },
	/* itertools */
	{ "itertools.count", trav_count },
	{ "itertools.chain", trav_chain },
	{ "itertools.islice", trav_islice },
	{ "itertools.cycle", trav_cycle },
	{ "itertools.repeat", trav_repeat },
	{ "itertools.starmap", trav_starmap },
	{ "itertools.takewhile itertools.dropwhile", trav_takewhile },
	{ "itertools.filterfalse itertools.ifilterfalse", trav_filterfalse },
	{ "itertools.zip_longest itertools.izip_longest", trav_zip_longest },
	{ "itertools.accumulate", trav_accumulate },
	{ "itertools.groupby", trav_groupby },
	{ "itertools._grouper", trav_grouper },
	{ "itertools._tee itertools.tee", trav_tee },
	{ "itertools._tee_dataobject itertools.tee_dataobject", trav_tee_data },
	{ "itertools.product", trav_product },
	/* operator */
	{ "operator.itemgetter", trav_itemgetter },
	{ "operator.attrgetter", trav_attrgetter },
	{ "operator.methodcaller", trav_methodcaller },
	/* _thread */
	{ "_thread.lock _thread.RLock _thread._ThreadHandle", trav_lock },
	{ "thread._local _thread._local", trav_local },
	/* _io */
	{ "_io._IOBase", trav_iobase },
	{ "_io.FileIO", trav_fileio },
	{ "_io.BufferedReader _io.BufferedWriter _io.BufferedRandom", trav_buffered },
	{ "_io.BufferedRWPair", trav_rwpair },
	{ "_io.TextIOWrapper", trav_textio },
	{ "_io.BytesIO", trav_bytesio },
	{ "_io.StringIO", trav_stringio },
	{ "_io.IncrementalNewlineDecoder", trav_nldecoder },
	/* _abc, contextvars */
	{ "_abc_data _abc._abc_data", trav_abc_data },
	{ "Context _contextvars.Context", trav_context },
	{ "ContextVar _contextvars.ContextVar", trav_contextvar },
	{ "Token _contextvars.Token", trav_token },
	{ "hamt", trav_hamt },
	{ "hamt_bitmap_node", trav_hamt_bitmap },
	{ "hamt_array_node", trav_hamt_array },
	{ "hamt_collision_node", trav_hamt_collision },
	/* _sre */
	{ "_sre.SRE_Pattern re.Pattern", trav_pattern },
	{ "_sre.SRE_Match re.Match", trav_match },
	{ "_sre.SRE_Scanner", trav_scanner },
	{ NULL, NULL },
};
