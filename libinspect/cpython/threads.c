/* threads.c -- the main interpreter's threads and their stacks (see threads.h).
 *
 * The main interpreter: interp.c's (3.9+), _PyRuntime.interpreters.main (3.7, 3.8), or for
 * 2.7 and 3.6, which have no _PyRuntime, pystate.c's static interp_head (.symtab) or the
 * variable PyInterpreterState_Head() returns (its code is `mov interp_head(%rip),%rax; ret`).
 * Its thread states run from tstate_head (3.12+ threads.head) along ->next. A thread's
 * innermost frame: tstate->frame (2.7-3.10, a frame object, then f_back),
 * tstate->cframe->current_frame (3.11, 3.12) or tstate->current_frame (3.13), both a
 * _PyInterpreterFrame, then ->previous.
 *
 * The GIL's holder: the GIL state's last_holder while it is locked (3.7-3.11 in
 * _PyRuntime.ceval.gil, 3.12+ where the interpreter's ceval.gil points); in 2.7 and 3.6 the
 * current thread state _PyThreadState_Current, which a thread clears when it releases the
 * GIL. Every walk is bounded and stops at a loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"

#define MAX_THREADS 100000
#define MAX_FRAMES (1 << 17)

/* What reading threads needs: the decoder and where warnings go. */
typedef struct thr {
	ins_image *img;
	const ins_interp *in;
	ins_objects *objs;
	ins_buf *warn;
} thr;

static uint64_t word(const thr *s, uint64_t base, int64_t off)
{
	return ins_image_word(s->img, base, off);
}

static uint64_t main_interp(const thr *s)
{
	const ins_interp *in = s->in;
	const ins_layout *L = &in->L;
	uint64_t a;
	if (in->interp)
		return in->interp;
	if (in->runtime)
		return word(s, in->runtime, L->runtime_interp_main >= 0 ? L->runtime_interp_main : L->runtime_interp_head);
	if (ins_elf_lookup(in->elf, "interp_head", &a, NULL))
		return word(s, a, 0);
	uint8_t code[8];
	if (ins_elf_lookup(in->elf, "PyInterpreterState_Head", &a, NULL) && ins_image_read(s->img, a, code, 8) &&
	    code[0] == 0x48 && code[1] == 0x8b && code[2] == 0x05 && code[7] == 0xc3) {
		int32_t rel;
		memcpy(&rel, code + 3, 4);
		return word(s, a + 7 + (uint64_t)(int64_t)rel, 0);
	}
	return 0;
}

/* The thread state holding the GIL (0: none); false when it cannot be told. */
static bool gil_holder(const thr *s, uint64_t interp, uint64_t *holder)
{
	const ins_interp *in = s->in;
	const ins_layout *L = &in->L;
	uint64_t gil = 0, a;
	if (L->runtime_gil >= 0 && in->runtime)
		gil = in->runtime + (uint64_t)L->runtime_gil;
	else if (L->interp_gil_ptr >= 0)
		gil = word(s, interp, L->interp_gil_ptr);
	if (gil && L->gil_locked >= 0 && L->gil_last_holder >= 0) {
		int32_t locked;
		if (!ins_image_i32(s->img, gil + (uint64_t)L->gil_locked, &locked) || (locked != 0 && locked != 1) ||
		    !ins_image_u64(s->img, gil + (uint64_t)L->gil_last_holder, holder))
			return false;
		if (!locked)
			*holder = 0;
		return true;
	}
	return L->gil_locked < 0 && ins_elf_lookup(in->elf, "_PyThreadState_Current", &a, NULL) &&
	       ins_image_u64(s->img, a, holder);
}

static bool push_frame(ins_frame_info **frames, size_t *n, size_t *cap, const ins_frame_info *f)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		ins_frame_info *v = realloc(*frames, c * sizeof(*v));
		if (!v)
			return false;
		*frames = v;
		*cap = c;
	}
	(*frames)[(*n)++] = *f;
	return true;
}

/* The thread's innermost frame; *iframe: whether it is a _PyInterpreterFrame. */
static uint64_t innermost(const thr *s, uint64_t tstate, bool *iframe)
{
	const ins_layout *L = &s->in->L;
	*iframe = L->tstate_frame < 0;
	if (L->tstate_frame >= 0)
		return word(s, tstate, L->tstate_frame);
	if (L->tstate_current_frame >= 0)
		return word(s, tstate, L->tstate_current_frame);
	return word(s, word(s, tstate, L->tstate_cframe), L->cframe_current_frame);
}

/* The frames from f outward; false when memory ran out (a damaged stack is cut with a
 * warning naming whose it is). */
static bool read_frames(const thr *s, uint64_t f, bool iframe, bool want_locals, const char *whose,
			ins_frame_info **frames, size_t *nframes)
{
	const ins_layout *L = &s->in->L;
	ins_map seen = { 0 };
	size_t cap = 0;
	const char *cut = NULL;
	for (size_t k = 0; f && !cut; k++) {
		uint64_t *mark = k < MAX_FRAMES ? ins_map_slot(&seen, f, 0) : NULL;
		if (!mark || *mark) {
			cut = k >= MAX_FRAMES ? "too many frames" : !mark ? "out of memory" : "the frames form a loop";
			break;
		}
		*mark = 1;
		uint64_t next = word(s, f, iframe ? L->iframe_previous : L->frame_back);
		if (iframe && ins_iframe_incomplete(s->objs, f)) {
			f = next;
			continue;
		}
		ins_frame_info fi;
		if (!ins_frame_info_read(s->objs, f, iframe, want_locals, &fi))
			cut = "a frame or its code cannot be read";
		else if (!push_frame(frames, nframes, &cap, &fi))
			cut = "out of memory";
		if (cut)
			ins_frame_info_free(&fi);
		f = next;
	}
	ins_map_free(&seen);
	if (cut && strcmp(cut, "out of memory") == 0)
		return false;
	if (cut)
		ins_buf_printf(s->warn, "warning: the stack of %s is cut after %zu frames at 0x%llx: %s\n", whose,
			       *nframes, (unsigned long long)f, cut);
	return true;
}

static bool read_stack(const thr *s, ins_pythread *t, bool want_locals)
{
	bool iframe;
	uint64_t f = innermost(s, t->tstate, &iframe);
	char whose[48];
	snprintf(whose, sizeof(whose), "thread %llu", (unsigned long long)t->thread_id);
	return read_frames(s, f, iframe, want_locals, whose, &t->frames, &t->nframes);
}

ins_error *ins_stack_of_frame(ins_objects *o, ins_buf *warn, const char *whose, uint64_t frame, bool want_locals,
			      ins_frame_info **frames, size_t *nframes)
{
	const thr *s = &(thr){ o->img, o->in, o, warn };
	const ins_layout *L = &o->in->L;
	bool iframe = L->frame_iframe >= 0;
	*frames = NULL;
	*nframes = 0;
	if (iframe)
		frame = word(s, frame, L->frame_iframe);
	if (!read_frames(s, frame, iframe, want_locals, whose, frames, nframes)) {
		for (size_t i = 0; i < *nframes; i++)
			ins_frame_info_free(&(*frames)[i]);
		free(*frames);
		*frames = NULL;
		*nframes = 0;
		return ins_err_nomem();
	}
	return NULL;
}

ins_error *ins_threads_read(ins_objects *o, ins_buf *warn, bool want_locals, ins_threads *out)
{
	const thr *s = &(thr){ o->img, o->in, o, warn };
	const ins_layout *L = &s->in->L;
	memset(out, 0, sizeof(*out));
	if (L->interp_tstate_head < 0 || L->tstate_next < 0 || L->tstate_thread_id < 0)
		return ins_err(INS_ERR_UNSUPPORTED, "CPython %s: no layout for its thread states", s->in->version);
	uint64_t interp = main_interp(s), tstate, holder = 0;
	if (!interp || !ins_image_u64(s->img, interp + (uint64_t)L->interp_tstate_head, &tstate))
		return ins_err(INS_ERR_CORRUPT, "cannot read the main interpreter's thread states (interpreter state at 0x%llx)",
			       (unsigned long long)interp);
	bool known = gil_holder(s, interp, &holder);
	ins_map seen = { 0 };
	size_t cap = 0;
	const char *cut = NULL;
	for (; tstate && !cut; tstate = word(s, tstate, L->tstate_next)) {
		uint64_t id, *mark = out->n < MAX_THREADS ? ins_map_slot(&seen, tstate, 0) : NULL;
		if (!mark || *mark || !ins_image_u64(s->img, tstate + (uint64_t)L->tstate_thread_id, &id)) {
			cut = out->n >= MAX_THREADS ? "too many threads" : !mark ? "out of memory" : *mark ?
				"the list forms a loop" : "a thread state cannot be read";
			break;
		}
		*mark = 1;
		if (out->n == cap) {
			size_t n = cap ? cap * 2 : 8;
			ins_pythread *v = realloc(out->v, n * sizeof(*v));
			if (!v) {
				cut = "out of memory";
				break;
			}
			out->v = v;
			cap = n;
		}
		ins_pythread *t = &out->v[out->n++];
		*t = (ins_pythread){ .tstate = tstate, .thread_id = id, .gil = known && holder == tstate,
				     .gil_known = known };
		if (!read_stack(s, t, want_locals)) {
			cut = "out of memory";
			break;
		}
	}
	ins_map_free(&seen);
	if (cut && strcmp(cut, "out of memory") == 0) {  /* never a silently short answer */
		ins_threads_free(out);
		return ins_err_nomem();
	}
	if (cut)
		ins_buf_printf(s->warn, "warning: the thread list is cut after %zu threads at 0x%llx: %s\n", out->n,
			       (unsigned long long)tstate, cut);
	return NULL;
}

void ins_threads_free(ins_threads *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->v[i].nframes; k++)
			ins_frame_info_free(&t->v[i].frames[k]);
		free(t->v[i].frames);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
