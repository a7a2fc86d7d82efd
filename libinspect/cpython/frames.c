/* frames.c -- reading one frame: its code, current line and locals (see frames.h).
 *
 * Where each version keeps what a frame is doing:
 *   2.7-3.10  the frame object: f_code, f_lasti (a byte offset up to 3.9, an instruction
 *             index in 3.10), f_lineno (valid while traced: 2.7-3.9 when f_trace is set,
 *             3.10 when nonzero), f_localsplus, f_locals
 *   3.11+     the _PyInterpreterFrame: f_code (3.13 f_executable), the instruction it is at
 *             (3.11/3.12 prev_instr, 3.13 instr_ptr, both pointing into co_code_adaptive),
 *             (3.14+: f_executable and the slots are tagged _PyStackRefs, ins_stackref)
 *             localsplus, f_locals; its frame object (frame_obj, if any) has f_lineno,
 *             nonzero while traced
 * Fast slots are named by co_varnames/co_cellvars/co_freevars (2.7-3.10) or
 * co_localsplusnames with co_localspluskinds (3.11+); cells and free variables hold cells,
 * whose contents are the value. As frame.f_locals does, free variables of unoptimized code
 * (class bodies) and 3.12+ hidden comprehension locals are left out.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "frames.h"

#define MAX_SLOTS (1 << 16)        /* fast slots of one frame read at most */
#define MAX_DICT_LOCALS (1 << 12)  /* f_locals entries of one frame read at most */
#define MAX_DEDUP 1024             /* locals compared by name when one may repeat */

static uint64_t word(ins_objects *o, uint64_t base, int64_t off)
{
	return ins_image_word(o->img, base, off);
}

static int32_t i32(ins_objects *o, uint64_t base, int64_t off)
{
	int32_t x = 0;
	if (off >= 0 && base)
		ins_image_i32(o->img, base + (uint64_t)off, &x);
	return x;
}

static bool is_code(ins_objects *o, uint64_t obj)
{
	return obj && o->in->T.code && word(o, obj, o->in->L.obj_type) == o->in->T.code;
}

static char *str_dup(ins_objects *o, uint64_t str)
{
	ins_buf b = { 0 };
	if (!str || !ins_str_text(o, str, &b, 4096) || b.oom) {
		ins_buf_free(&b);
		return NULL;
	}
	return ins_buf_take(&b);
}

/* ---------------------------------------------------------------- slot names */

void ins_slot_names_of(ins_objects *o, uint64_t code, ins_slot_names *n)
{
	const ins_layout *L = &o->in->L;
	memset(n, 0, sizeof(*n));
	if (!is_code(o, code))
		return;
	if (L->code_localsplusnames >= 0) {
		n->tuple[0] = word(o, code, L->code_localsplusnames);
		n->len[0] = i32(o, code, L->code_nlocalsplus);
		n->len[0] = n->len[0] < 0 ? 0 : n->len[0];
		return;
	}
	uint64_t runs[3] = { word(o, code, L->code_varnames), word(o, code, L->code_cellvars),
			     word(o, code, L->code_freevars) };
	for (int i = 0; i < 3; i++) {
		n->tuple[i] = runs[i];
		n->len[i] = (int64_t)word(o, runs[i], L->var_size);
	}
	n->len[0] = i32(o, code, L->code_nlocals);
	for (int i = 0; i < 3; i++)
		n->len[i] = n->len[i] < 0 ? 0 : n->len[i];
}

uint64_t ins_slot_name(ins_objects *o, const ins_slot_names *n, int64_t i, int *run)
{
	const ins_layout *L = &o->in->L;
	for (int r = 0; r < 3 && i >= 0; r++) {
		if (i < n->len[r]) {
			if (run)
				*run = r;
			if (!n->tuple[r] || i >= (int64_t)word(o, n->tuple[r], L->var_size))
				return 0;
			return word(o, n->tuple[r] + (uint64_t)L->tuple_item, i * 8);
		}
		i -= n->len[r];
	}
	return 0;
}

/* ---------------------------------------------------------------- where a frame is */

typedef struct where {
	uint64_t code, frame_obj;
	uint64_t slots;        /* the fast slots */
	uint64_t locals_dict;  /* f_locals, or 0 */
	int64_t addr;          /* byte offset in the code of the instruction it is at */
	int traced_line;       /* > 0: f_lineno, set while a trace function runs */
} where;

uint64_t ins_iframe_code(ins_objects *o, uint64_t iframe)
{
	uint64_t code = ins_stackref(&o->in->L, word(o, iframe, o->in->L.iframe_code), NULL);
	return is_code(o, code) ? code : 0;
}

/* The byte offset of the instruction a _PyInterpreterFrame is at in its code. */
static int64_t iframe_addr(ins_objects *o, uint64_t iframe, uint64_t code)
{
	uint64_t instr = word(o, iframe, o->in->L.iframe_instr);
	return (int64_t)(instr - (code + (uint64_t)o->in->L.code_code_adaptive));
}

bool ins_iframe_incomplete(ins_objects *o, uint64_t iframe)
{
	const ins_layout *L = &o->in->L;
	int8_t owner = 0;
	if (!ins_image_read(o->img, iframe + (uint64_t)L->iframe_owner, &owner, 1))
		return false;  /* not a shim: a frame that cannot be read */
	if (L->frame_owned_by_cstack >= 0 && owner >= L->frame_owned_by_cstack)
		return true;
	uint64_t code = ins_iframe_code(o, iframe);
	if (!code || owner == L->frame_owned_by_generator)
		return false;  /* no code: not a shim, a frame that cannot be read */
	return iframe_addr(o, iframe, code) < (int64_t)i32(o, code, L->code_firsttraceable) * 2;
}

static bool locate(ins_objects *o, uint64_t frame, bool interpreter_frame, where *w)
{
	const ins_layout *L = &o->in->L;
	memset(w, 0, sizeof(*w));
	if (L->frame_iframe < 0) {  /* 2.7-3.10: the frame object is the frame */
		if (interpreter_frame)
			return false;
		w->frame_obj = frame;
		w->code = word(o, frame, L->frame_code);
		int32_t lasti = i32(o, frame, L->frame_lasti), lineno = i32(o, frame, L->frame_lineno);
		bool lnotab = L->code_lnotab >= 0;
		w->addr = lnotab ? lasti : (int64_t)lasti * 2;
		if (lnotab ? word(o, frame, L->frame_trace) != 0 : lineno != 0)
			w->traced_line = lineno;
		w->slots = frame + (uint64_t)L->frame_localsplus;
		w->locals_dict = word(o, frame, L->frame_locals);
		return is_code(o, w->code);
	}
	uint64_t iframe = frame;
	if (interpreter_frame) {
		w->frame_obj = word(o, iframe, L->iframe_frame_obj);
	} else {
		w->frame_obj = frame;
		iframe = word(o, frame, L->frame_iframe);
	}
	if (w->frame_obj)
		w->traced_line = i32(o, w->frame_obj, L->frame_lineno);
	w->code = iframe ? ins_iframe_code(o, iframe) : 0;
	if (!w->code)
		return false;
	w->addr = iframe_addr(o, iframe, w->code);
	w->slots = iframe + (uint64_t)L->iframe_localsplus;
	w->locals_dict = word(o, iframe, L->iframe_locals);
	return true;
}

static int line_of(ins_objects *o, const where *w)
{
	if (w->traced_line > 0)
		return w->traced_line;
	if (w->addr > INT32_MAX || w->addr < -2)
		return -1;  /* not an instruction of this code: a corrupt frame */
	return ins_code_addr2line(o, w->code, w->addr);
}

int ins_frame_line(ins_objects *o, uint64_t frame, bool interpreter_frame)
{
	where w;
	return frame && locate(o, frame, interpreter_frame, &w) ? line_of(o, &w) : -1;
}

/* ---------------------------------------------------------------- locals */

typedef struct locals {
	ins_objects *o;
	ins_frame_info *f;
	size_t cap, nfast;
	bool oom;
} locals;

static void add_local(locals *l, char *name, uint64_t value)
{
	ins_frame_info *f = l->f;
	if (!name)
		return;
	if (f->nlocals == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		ins_local *v = realloc(f->locals, cap * sizeof(*v));
		if (!v) {
			free(name);
			l->oom = true;
			return;
		}
		f->locals = v;
		l->cap = cap;
	}
	f->locals[f->nlocals++] = (ins_local){ name, value };
}

/* The local named name, among the first MAX_DEDUP (a corrupt frame must not be quadratic). */
static ins_local *find_local(locals *l, const char *name)
{
	for (size_t i = 0; name && i < l->f->nlocals && i < MAX_DEDUP; i++)
		if (strcmp(l->f->locals[i].name, name) == 0)
			return &l->f->locals[i];
	return NULL;
}

static bool is_cell(ins_objects *o, uint64_t obj)
{
	const ins_type *t = ins_obj_type(o, obj);
	return t && !t->heap && strcmp(t->name, "cell") == 0;
}

static void read_fast(locals *l, const where *w, bool optimized)
{
	ins_objects *o = l->o;
	const ins_layout *L = &o->in->L;
	ins_slot_names names;
	ins_slot_names_of(o, w->code, &names);
	int64_t n = 0;
	for (int r = 0; r < 3; r++)
		n += names.len[r] > 0 && names.len[r] <= MAX_SLOTS ? names.len[r] : 0;
	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	uint8_t *kinds = NULL;
	if (L->code_localspluskinds >= 0 && n > 0) {
		uint64_t k = word(o, w->code, L->code_localspluskinds);
		kinds = malloc((size_t)n);
		if (kinds && (!k || (int64_t)word(o, k, L->var_size) < n ||
			      !ins_image_read(o->img, k + (uint64_t)L->bytes_sval, kinds, (size_t)n))) {
			free(kinds);
			return;
		}
		if (!kinds)
			return;
	}
	for (int64_t i = 0; i < n && !l->oom; i++) {
		int run = 0;
		uint64_t name = ins_slot_name(o, &names, i, &run);
		bool cell = run == 1, free_var = run == 2;
		if (kinds) {
			if (L->co_fast_hidden > 0 && (kinds[i] & L->co_fast_hidden))
				continue;
			cell = kinds[i] & L->co_fast_cell;
			free_var = kinds[i] & L->co_fast_free;
		}
		if (free_var && !optimized)
			continue;
		uint64_t value = ins_stackref(L, word(o, w->slots, i * 8), NULL);
		if (value && (cell || free_var) && is_cell(o, value))
			value = word(o, value, L->cell_ref);
		if (!name || !value)
			continue;
		char *text = str_dup(o, name);
		ins_local *same = cell || free_var ? find_local(l, text) : NULL;
		if (same) {  /* a cell that is also an argument (2.7-3.10): the cell wins */
			same->value = value;
			free(text);
		} else {
			add_local(l, text, value);
		}
	}
	free(kinds);
}

static bool dict_local(void *arg, uint64_t key, uint64_t value)
{
	locals *l = arg;
	char *name = str_dup(l->o, key);
	if (!name)
		return true;
	if (find_local(l, name))
		free(name);
	else
		add_local(l, name, value);
	return !l->oom && l->f->nlocals < l->nfast + MAX_DICT_LOCALS;
}

static void read_locals(ins_objects *o, const where *w, ins_frame_info *f)
{
	const ins_layout *L = &o->in->L;
	bool optimized = L->co_optimized > 0 && (i32(o, w->code, L->code_flags) & L->co_optimized);
	locals l = { o, f, 0, 0, false };
	read_fast(&l, w, optimized);
	l.nfast = f->nlocals;
	if (!optimized && w->locals_dict)
		ins_dict_items(o, w->locals_dict, dict_local, &l);
}

/* ---------------------------------------------------------------- frames */

bool ins_frame_info_read(ins_objects *o, uint64_t frame, bool interpreter_frame, bool want_locals,
			 ins_frame_info *out)
{
	const ins_layout *L = &o->in->L;
	memset(out, 0, sizeof(*out));
	out->addr = frame;
	out->interpreter_frame = interpreter_frame;
	out->line = -1;
	where w;
	if (!frame || !locate(o, frame, interpreter_frame, &w))
		return false;
	out->frame_obj = w.frame_obj;
	out->code = w.code;
	out->function = str_dup(o, word(o, w.code, L->code_name));
	out->file = str_dup(o, word(o, w.code, L->code_filename));
	if (!out->function || !out->file)
		return false;
	out->line = line_of(o, &w);
	if (want_locals)
		read_locals(o, &w, out);
	return true;
}

void ins_frame_info_free(ins_frame_info *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nlocals; i++)
		free(f->locals[i].name);
	free(f->locals);
	free(f->function);
	free(f->file);
	memset(f, 0, sizeof(*f));
}
