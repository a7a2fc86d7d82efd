/* trav_code.c -- traversal routines for the objects code runs on (see traverse_impl.h):
 * functions, code objects, cells, bound methods, frames, generators and coroutines,
 * tracebacks, exceptions, builtin functions, method-wrappers, descriptors, mappingproxy.
 *
 * Each routine visits what that type's tp_traverse visits on 2.7 and 3.6 to 3.13 (fields a
 * version lacks are -1 in its layout, so reading them is a no-op), and reports the strong
 * references tp_traverse leaves out as hidden edges (a code object is not tracked at all:
 * everything it owns is hidden). Edges are labelled with the Python attribute where there
 * is one ("__code__", "f_back", "__traceback__"), else with the C field's name.
 */
#include "frames.h"
#include "traverse_impl.h"

/* A frame's fast slots and value stack visited at most (a corrupt count must stop). */
#define MAX_FRAME_SLOTS (1 << 20)

static int64_t read_i32(const tv *v, uint64_t base, int64_t off)
{
	int32_t x = 0;
	if (off >= 0)
		ins_image_i32(v->o->img, base + (uint64_t)off, &x);
	return x;
}

static int64_t read_i8(const tv *v, uint64_t base, int64_t off)
{
	int8_t x = 0;
	if (off >= 0)
		ins_image_read(v->o->img, base + (uint64_t)off, &x, 1);
	return x;
}

/* ---------------------------------------------------------------- functions, code, cells */

/* func_traverse */
static void trav_function(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->func_code, "__code__");
	tv_field(v, obj, L->func_globals, "__globals__");
	tv_field(v, obj, L->func_builtins, "__builtins__");
	tv_field(v, obj, L->func_module, "__module__");
	tv_field(v, obj, L->func_defaults, "__defaults__");
	tv_field(v, obj, L->func_kwdefaults, "__kwdefaults__");
	tv_field(v, obj, L->func_doc, "__doc__");
	tv_field(v, obj, L->func_name, "__name__");
	tv_field(v, obj, L->func_dict, "__dict__");
	tv_field(v, obj, L->func_closure, "__closure__");
	tv_field(v, obj, L->func_annotations, "__annotations__");
	tv_field(v, obj, L->func_annotate, "__annotate__");
	tv_field(v, obj, L->func_qualname, "__qualname__");
	tv_field(v, obj, L->func_typeparams, "__type_params__");
}

/* Code objects are not tracked: tp_traverse visits nothing, and all they own is hidden
 * (3.11 caches co_code in _co_code; 3.12+ co_code and the names tuples in _co_cached). */
static void trav_code(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_hidden(v, obj, L->code_code, "co_code");
	tv_hidden(v, obj, L->code_co_code, "co_code");
	tv_hidden(v, obj, L->code_consts, "co_consts");
	tv_hidden(v, obj, L->code_names, "co_names");
	tv_hidden(v, obj, L->code_varnames, "co_varnames");
	tv_hidden(v, obj, L->code_freevars, "co_freevars");
	tv_hidden(v, obj, L->code_cellvars, "co_cellvars");
	tv_hidden(v, obj, L->code_localsplusnames, "co_localsplusnames");
	tv_hidden(v, obj, L->code_localspluskinds, "co_localspluskinds");
	tv_hidden(v, obj, L->code_filename, "co_filename");
	tv_hidden(v, obj, L->code_name, "co_name");
	tv_hidden(v, obj, L->code_qualname, "co_qualname");
	tv_hidden(v, obj, L->code_lnotab, "co_lnotab");
	tv_hidden(v, obj, L->code_linetable, "co_linetable");
	tv_hidden(v, obj, L->code_exceptiontable, "co_exceptiontable");
	uint64_t cached = tv_word(v, obj, L->code_cached);
	if (cached) {
		tv_hidden(v, cached, L->cocached_code, "co_code");
		tv_hidden(v, cached, L->cocached_varnames, "co_varnames");
		tv_hidden(v, cached, L->cocached_cellvars, "co_cellvars");
		tv_hidden(v, cached, L->cocached_freevars, "co_freevars");
	}
}

static void trav_cell(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->cell_ref, "cell_contents");
}

/* ---------------------------------------------------------------- methods */

/* method_traverse: 3.x bound methods; 2.7 instancemethod (bound and unbound) also im_class */
static void trav_method(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->method_func, "__func__");
	tv_field(v, obj, v->L->method_self, "__self__");
	tv_field(v, obj, v->L->method_class, "im_class");
}

/* "instancemethod" is 2.7's method type, and 3.x's PyInstanceMethod_Type (func only). */
static void trav_instancemethod(const tv *v, uint64_t obj, const ins_type *type)
{
	if (v->L->instmethod_func < 0)
		trav_method(v, obj, type);
	else
		tv_field(v, obj, v->L->instmethod_func, "__func__");
}

/* meth_traverse; 3.9+ also the defining class of a METH_METHOD function (PyCMethodObject) */
static void trav_cfunction(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->cfunc_self, "__self__");
	tv_field(v, obj, L->cfunc_module, "__module__");
	if (L->cmethod_class >= 0 && L->meth_method > 0) {
		uint64_t ml = tv_word(v, obj, L->cfunc_ml);
		if (ml && (read_i32(v, ml, L->methoddef_flags) & L->meth_method))
			tv_field(v, obj, L->cmethod_class, "mm_class");
	}
}

/* wrapper_traverse: a slot wrapper bound to an object */
static void trav_method_wrapper(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->wrapper_descr, "descr");
	tv_field(v, obj, v->L->wrapper_self, "__self__");
}

/* descr_traverse visits d_type only; the names are hidden. */
static void trav_descriptor(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->descr_type, "__objclass__");
	tv_hidden(v, obj, v->L->descr_name, "__name__");
	tv_hidden(v, obj, v->L->descr_qualname, "__qualname__");
}

/* mappingproxy_traverse (2.7: dictproxy) */
static void trav_mappingproxy(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->mappingproxy_mapping, "mapping");
}

/* ---------------------------------------------------------------- frames */

/* The n words at slots: the first nslots are the fast locals, cells and free variables
 * (labelled by name, else by index), the rest the value stack. 3.14+: _PyStackRefs, tagged
 * ints skipped (_PyGC_VisitFrameStack), those that own no count flagged borrowed. */
static void visit_fast(const tv *v, uint64_t slots, int64_t nslots, int64_t n, const ins_slot_names *names)
{
	if (n > MAX_FRAME_SLOTS)
		n = MAX_FRAME_SLOTS;
	for (int64_t i = 0; i < n; i++) {
		bool borrowed;
		uint64_t w = ins_stackref(v->L, tv_word(v, slots, i * 8), &borrowed);
		uint8_t flags = borrowed ? INS_EF_BORROWED : 0;
		uint64_t name = i < nslots ? ins_slot_name(v->o, names, i, NULL) : 0;
		if (name)
			tv_edge(v, w, INS_EDGE_STRNAME, NULL, name, flags);
		else if (i < nslots)
			tv_edge(v, w, INS_EDGE_INDEX, NULL, (uint64_t)i, flags);
		else
			tv_edge(v, w, INS_EDGE_FIELD, "<stack>", 0, flags);
	}
}

/* A _PyStackRef field (3.14+ f_funcobj, f_executable; a PyObject pointer before): its object. */
static uint64_t stackref_field(const tv *v, uint64_t base, int64_t off, const char *name)
{
	bool borrowed;
	uint64_t obj = ins_stackref(v->L, tv_word(v, base, off), &borrowed);
	tv_edge(v, obj, INS_EDGE_FIELD, name, 0, borrowed ? INS_EF_BORROWED : 0);
	return obj;
}

/* _PyFrame_Traverse (3.11+): the frame object, f_locals, the function, the code, and
 * localsplus up to stacktop (3.14+: up to the stackpointer; f_globals and f_builtins are
 * borrowed). frame_label and code_label name the frame object and the code as the owner
 * shows them ("gi_frame"). */
static void visit_iframe(const tv *v, uint64_t f, const char *frame_label, const char *code_label)
{
	const ins_layout *L = v->L;
	tv_field(v, f, L->iframe_frame_obj, frame_label);
	tv_field(v, f, L->iframe_locals, "f_locals");
	stackref_field(v, f, L->iframe_funcobj, "f_funcobj");
	uint64_t code = stackref_field(v, f, L->iframe_code, code_label);
	ins_slot_names names;
	ins_slot_names_of(v->o, code, &names);
	uint64_t slots = f + (uint64_t)L->iframe_localsplus;
	int64_t n = read_i32(v, f, L->iframe_stacktop);
	if (L->iframe_stackpointer >= 0) {
		uint64_t sp = tv_word(v, f, L->iframe_stackpointer);
		n = sp >= slots && sp - slots <= (uint64_t)MAX_FRAME_SLOTS * 8 ? (int64_t)((sp - slots) / 8) : 0;
	}
	visit_fast(v, slots, names.len[0], n, &names);
}

/* frame_traverse. 2.7-3.10: the frame holds everything itself, its value stack filled up
 * to f_stacktop (NULL while it runs) or f_stackdepth (3.10). 3.11+: f_back, f_trace (3.13
 * also the extra locals) and, only when the frame object owns it (the function returned),
 * its _PyInterpreterFrame; a running or suspended frame belongs to its thread or
 * generator. */
static void trav_frame(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->frame_back, "f_back");
	tv_field(v, obj, L->frame_trace, "f_trace");
	if (L->frame_iframe >= 0) {
		tv_field(v, obj, L->frame_extra_locals, "f_extra_locals");
		tv_field(v, obj, L->frame_locals_cache, "f_locals_cache");
		tv_field(v, obj, L->frame_overwritten_fast_locals, "f_overwritten_fast_locals");
		uint64_t f = tv_word(v, obj, L->frame_iframe);
		if (f && L->frame_owned_by_frame_object >= 0 &&
		    read_i8(v, f, L->iframe_owner) == L->frame_owned_by_frame_object)
			visit_iframe(v, f, "frame_obj", "f_code");
		return;
	}
	tv_field(v, obj, L->frame_code, "f_code");
	tv_field(v, obj, L->frame_builtins, "f_builtins");
	tv_field(v, obj, L->frame_globals, "f_globals");
	tv_field(v, obj, L->frame_locals, "f_locals");
	tv_field(v, obj, L->frame_exc_type, "f_exc_type");
	tv_field(v, obj, L->frame_exc_value, "f_exc_value");
	tv_field(v, obj, L->frame_exc_traceback, "f_exc_traceback");
	uint64_t slots = obj + (uint64_t)L->frame_localsplus;
	uint64_t stack = tv_word(v, obj, L->frame_valuestack);
	if (stack < slots)
		return;
	int64_t nslots = (int64_t)((stack - slots) / 8), depth = 0;
	if (L->frame_stackdepth >= 0) {
		depth = read_i32(v, obj, L->frame_stackdepth);
	} else {
		uint64_t top = tv_word(v, obj, L->frame_stacktop);
		if (top >= stack)
			depth = (int64_t)((top - stack) / 8);
	}
	if (nslots > MAX_FRAME_SLOTS || depth < 0)
		depth = 0;
	ins_slot_names names;
	ins_slot_names_of(v->o, tv_word(v, obj, L->frame_code), &names);
	visit_fast(v, slots, nslots, nslots + depth, &names);
}

static void trav_traceback(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->tb_next, "tb_next");
	tv_field(v, obj, v->L->tb_frame, "tb_frame");
}

/* ---------------------------------------------------------------- generators, coroutines */

/* The prefix a generator-like type gives its frame and code attributes. */
typedef struct gen_labels {
	const char *frame, *code;
} gen_labels;

static const gen_labels GEN_LABELS = { "gi_frame", "gi_code" };
static const gen_labels CORO_LABELS = { "cr_frame", "cr_code" };
static const gen_labels AGEN_LABELS = { "ag_frame", "ag_code" };

/* gen_traverse. 2.7-3.10: the frame object (NULL once finished), the code, the names
 * (3.6+) and the saved exception state (3.7+: type, value, traceback; 3.11+: value).
 * 3.11+: the embedded _PyInterpreterFrame unless cleared (3.11 also still gi_code; 3.14+ the
 * cleared frame's code). */
static void visit_gen(const tv *v, uint64_t obj, const gen_labels *lb)
{
	const ins_layout *L = v->L;
	tv_field(v, obj, L->gen_frame, lb->frame);
	tv_field(v, obj, L->gen_code, lb->code);
	tv_field(v, obj, L->gen_name, "__name__");
	tv_field(v, obj, L->gen_qualname, "__qualname__");
	if (L->gen_exc_state >= 0) {
		uint64_t exc = obj + (uint64_t)L->gen_exc_state;
		tv_field(v, exc, L->errstack_exc_type, "exc_type");
		tv_field(v, exc, L->errstack_exc_value, "exc_value");
		tv_field(v, exc, L->errstack_exc_traceback, "exc_traceback");
	}
	if (L->gen_iframe >= 0 && read_i8(v, obj, L->gen_frame_state) < L->frame_cleared)
		visit_iframe(v, obj + (uint64_t)L->gen_iframe, lb->frame, lb->code);
	else if (L->gen_iframe >= 0 && L->iframe_stackpointer >= 0)
		/* 3.14+ (frames with a stackpointer): a cleared frame's f_executable is still
		 * visited, to keep the code alive if the reference is deferred */
		stackref_field(v, obj + (uint64_t)L->gen_iframe, L->iframe_code, lb->code);
}

static void trav_generator(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	visit_gen(v, obj, &GEN_LABELS);
}

/* cr_origin (3.7+) is not visited: it only holds tuples, strs and ints. */
static void trav_coroutine(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	visit_gen(v, obj, &CORO_LABELS);
	tv_hidden(v, obj, v->L->coro_origin, "cr_origin");
}

static void trav_async_generator(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	visit_gen(v, obj, &AGEN_LABELS);
	tv_field(v, obj, v->L->agen_finalizer, "ag_finalizer");
}

/* coroutine.__await__() */
static void trav_coroutine_wrapper(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->coro_wrapper_coro, "cw_coroutine");
}

static void trav_agen_wrapped_value(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->agen_wrapped_val, "agw_val");
}

/* agen.asend() / __anext__() */
static void trav_agen_asend(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->agen_asend_gen, "ags_gen");
	tv_field(v, obj, v->L->agen_asend_sendval, "ags_sendval");
}

/* agen.athrow() / aclose() */
static void trav_agen_athrow(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	tv_field(v, obj, v->L->agen_athrow_gen, "agt_gen");
	tv_field(v, obj, v->L->agen_athrow_args, "agt_args");
}

/* ---------------------------------------------------------------- exceptions */

/* BaseException_traverse: 2.7 dict, args, message; 3.x dict, args, (3.11+ notes),
 * traceback, context, cause. */
static void trav_base_exception(const tv *v, uint64_t obj, const ins_type *type)
{
	(void)type;
	const ins_layout *L = v->L;
	tv_field(v, obj, L->exc_dict, "__dict__");
	tv_field(v, obj, L->exc_args, "args");
	tv_field(v, obj, L->exc_message, "message");
	tv_field(v, obj, L->exc_notes, "__notes__");
	tv_field(v, obj, L->exc_traceback, "__traceback__");
	tv_field(v, obj, L->exc_context, "__context__");
	tv_field(v, obj, L->exc_cause, "__cause__");
}

/* The subclasses with fields of their own visit them, then call BaseException_traverse.
 * Subclasses that share their traverse (IndentationError, FileNotFoundError, ...) inherit
 * these routines; a registered name whose version has no such fields (NameError before
 * 3.10) reads -1 offsets and is plain BaseException. */

static void trav_syntax_error(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	tv_field(v, obj, L->syntaxerr_msg, "msg");
	tv_field(v, obj, L->syntaxerr_filename, "filename");
	tv_field(v, obj, L->syntaxerr_lineno, "lineno");
	tv_field(v, obj, L->syntaxerr_offset, "offset");
	tv_field(v, obj, L->syntaxerr_end_lineno, "end_lineno");
	tv_field(v, obj, L->syntaxerr_end_offset, "end_offset");
	tv_field(v, obj, L->syntaxerr_text, "text");
	tv_field(v, obj, L->syntaxerr_print_file_and_line, "print_file_and_line");
	trav_base_exception(v, obj, type);
}

static void trav_import_error(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	tv_field(v, obj, L->importerr_msg, "msg");
	tv_field(v, obj, L->importerr_name, "name");
	tv_field(v, obj, L->importerr_path, "path");
	tv_field(v, obj, L->importerr_name_from, "name_from");
	trav_base_exception(v, obj, type);
}

/* 3.x OSError and its subclasses; 2.7 EnvironmentError (IOError, OSError) */
static void trav_os_error(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	tv_field(v, obj, L->oserr_errno, "errno");
	tv_field(v, obj, L->oserr_strerror, "strerror");
	tv_field(v, obj, L->oserr_filename, "filename");
	tv_field(v, obj, L->oserr_filename2, "filename2");
	tv_field(v, obj, L->oserr_winerror, "winerror");
	trav_base_exception(v, obj, type);
}

static void trav_stop_iteration(const tv *v, uint64_t obj, const ins_type *type)
{
	tv_field(v, obj, v->L->stopiter_value, "value");
	trav_base_exception(v, obj, type);
}

static void trav_system_exit(const tv *v, uint64_t obj, const ins_type *type)
{
	tv_field(v, obj, v->L->sysexit_code, "code");
	trav_base_exception(v, obj, type);
}

/* UnicodeEncodeError, UnicodeDecodeError, UnicodeTranslateError (UnicodeError itself has
 * no fields of its own) */
static void trav_unicode_error(const tv *v, uint64_t obj, const ins_type *type)
{
	const ins_layout *L = v->L;
	tv_field(v, obj, L->unicodeerr_encoding, "encoding");
	tv_field(v, obj, L->unicodeerr_object, "object");
	tv_field(v, obj, L->unicodeerr_reason, "reason");
	trav_base_exception(v, obj, type);
}

static void trav_name_error(const tv *v, uint64_t obj, const ins_type *type)
{
	tv_field(v, obj, v->L->nameerr_name, "name");
	trav_base_exception(v, obj, type);
}

static void trav_attribute_error(const tv *v, uint64_t obj, const ins_type *type)
{
	tv_field(v, obj, v->L->attrerr_obj, "obj");
	tv_field(v, obj, v->L->attrerr_name, "name");
	trav_base_exception(v, obj, type);
}

/* 3.11+ (ExceptionGroup is a class made from it and Exception) */
static void trav_exception_group(const tv *v, uint64_t obj, const ins_type *type)
{
	tv_field(v, obj, v->L->excgroup_msg, "message");
	tv_field(v, obj, v->L->excgroup_excs, "exceptions");
	trav_base_exception(v, obj, type);
}

/* ---------------------------------------------------------------- the table */

/* 2.7 names its exception types "exceptions.X". */
const trav_routine ins_trav_code_routines[] = {
	{ "function", trav_function },
	{ "code", trav_code },
	{ "cell", trav_cell },
	{ "method", trav_method },
	{ "instancemethod", trav_instancemethod },
	{ "builtin_function_or_method", trav_cfunction },
	{ "method-wrapper", trav_method_wrapper },
	{ "method_descriptor classmethod_descriptor getset_descriptor member_descriptor "
	  "wrapper_descriptor", trav_descriptor },
	{ "mappingproxy dictproxy", trav_mappingproxy },
	{ "frame", trav_frame },
	{ "traceback", trav_traceback },
	{ "generator", trav_generator },
	{ "coroutine", trav_coroutine },
	{ "async_generator", trav_async_generator },
	{ "coroutine_wrapper", trav_coroutine_wrapper },
	{ "async_generator_wrapped_value", trav_agen_wrapped_value },
	{ "async_generator_asend", trav_agen_asend },
	{ "async_generator_athrow", trav_agen_athrow },
	{ "BaseException exceptions.BaseException", trav_base_exception },
	{ "SyntaxError exceptions.SyntaxError", trav_syntax_error },
	{ "ImportError", trav_import_error },
	{ "OSError exceptions.EnvironmentError", trav_os_error },
	{ "StopIteration", trav_stop_iteration },
	{ "SystemExit exceptions.SystemExit", trav_system_exit },
	{ "UnicodeEncodeError UnicodeDecodeError UnicodeTranslateError exceptions.UnicodeEncodeError "
	  "exceptions.UnicodeDecodeError exceptions.UnicodeTranslateError", trav_unicode_error },
	{ "NameError", trav_name_error },
	{ "AttributeError", trav_attribute_error },
	{ "BaseExceptionGroup", trav_exception_group },
	{ NULL, NULL },
};
