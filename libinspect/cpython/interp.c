/* interp.c -- interpreter discovery, version and GC state (see interp.h). */
#define _GNU_SOURCE
#include "interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files most likely to hold the interpreter first: libpython, then the executable. */
static int rank(const ins_image *img, size_t f)
{
	const char *base = strrchr(img->files[f].name, '/');
	base = base ? base + 1 : img->files[f].name;
	if (strncmp(base, "libpython", 9) == 0)
		return 0;
	if ((long)f == img->exe_file)
		return 1;
	if (strncmp(base, "python", 6) == 0)
		return 2;
	return 3;
}

static bool has_python_symbol(const ins_elf *e)
{
	uint64_t a;
	return ins_elf_lookup(e, "_PyRuntime", &a, NULL) ||
	       ins_elf_lookup(e, "_PyGC_generation0", &a, NULL) ||
	       ins_elf_lookup(e, "Py_Version", &a, NULL);
}

static ins_error *find_python_file(ins_image *img, ins_elf **out)
{
	for (int r = 0; r <= 3; r++) {
		for (size_t f = 0; f < img->nfiles; f++) {
			if (rank(img, f) != r || !ins_image_file_base(img, f))
				continue;
			ins_elf *e;
			ins_error *err = ins_elf_open(img, f, &e);
			if (err) {
				/* The interpreter's own files must be readable. */
				if (r <= 1)
					return err;
				ins_error_free(err);
				continue;
			}
			if (has_python_symbol(e)) {
				err = ins_elf_check_build_id(e, img);
				if (err) {
					ins_elf_close(e);
					return err;
				}
				*out = e;
				return NULL;
			}
			ins_elf_close(e);
		}
	}
	const char *exe = img->exe_file >= 0 ? img->files[img->exe_file].name : "unknown";
	return ins_err(INS_ERR_NOT_PYTHON,
		       "no CPython interpreter in %s (executable %s): none of its %zu mapped files has _PyRuntime, _PyGC_generation0 or Py_Version",
		       img->description, exe, img->nfiles);
}

/* The executable must be readable and the one the process ran, even when the
 * interpreter lives in a library and the executable is not read otherwise (--exe
 * pointing at another build). */
static ins_error *check_executable(ins_image *img)
{
	if (img->exe_file < 0)
		return NULL;  /* the image does not say which it is */
	ins_elf *e;
	ins_error *err = ins_elf_open(img, (size_t)img->exe_file, &e);
	if (err)
		return err;
	err = ins_elf_check_build_id(e, img);
	ins_elf_close(e);
	return err;
}

static bool parse_version(const char *s, int *ma, int *mi, int *pa)
{
	return s && sscanf(s, "%d.%d.%d", ma, mi, pa) == 3 && *ma >= 2 && *ma <= 9;
}

/* Version: Py_Version (3.11+), else the buffer Py_GetVersion filled at start-up. */
static ins_error *find_version(ins_image *img, ins_interp *in, ins_buf *how)
{
	uint64_t a;
	uint32_t hex;
	if (ins_elf_lookup(in->elf, "Py_Version", &a, NULL) && ins_image_read(img, a, &hex, 4)) {
		in->major = (int)(hex >> 24);
		in->minor = (int)((hex >> 16) & 0xff);
		in->micro = (int)((hex >> 8) & 0xff);
		ins_buf_puts(how, "version from Py_Version");
		return NULL;
	}
	const char *names[] = { "version.0", "version", "version.1" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (!ins_elf_lookup(in->elf, names[i], &a, NULL))
			continue;
		char *s = ins_image_cstr(img, a, 250);
		bool ok = parse_version(s, &in->major, &in->minor, &in->micro);
		free(s);
		if (ok) {
			ins_buf_printf(how, "version from Py_GetVersion's buffer (%s)", names[i]);
			return NULL;
		}
	}
	/* Last resort: the file name (libpython3.8.so, python3.8); the patch is unknown. */
	const char *p = strstr(ins_elf_path(in->elf), "python");
	if (p && sscanf(p, "python%d.%d", &in->major, &in->minor) == 2) {
		in->micro = 0;
		ins_buf_puts(how, "version from the file name (patch level unknown)");
		return NULL;
	}
	return ins_err(INS_ERR_UNSUPPORTED, "found a CPython in %s but cannot tell its version",
		       ins_elf_path(in->elf));
}

/* Does _PyRuntime start with _Py_DebugOffsets (3.13+, cookie "xdebugpy")? */
static bool has_debug_offsets(ins_image *img, const ins_interp *in)
{
	char cookie[8];
	return in->L.dbg_version >= 0 && in->runtime && ins_image_read(img, in->runtime, cookie, 8) &&
	       memcmp(cookie, "xdebugpy", 8) == 0;
}

/* A free-threaded build (python3.13t, 3.14t: Py_GIL_DISABLED) keeps its objects, its GC and
 * its frames otherwise: _Py_DebugOffsets says so (free_threaded), else its file name does. */
static bool free_threaded(ins_image *img, const ins_interp *in)
{
	uint64_t v;
	if (has_debug_offsets(img, in) && in->L.dbg_free_threaded >= 0 &&
	    ins_image_u64(img, in->runtime + (uint64_t)in->L.dbg_free_threaded, &v))
		return v != 0;
	const char *base = strrchr(ins_elf_path(in->elf), '/');
	base = base ? base + 1 : ins_elf_path(in->elf);
	int ma, mi, n = 0;
	return (sscanf(base, "libpython%d.%dt%n", &ma, &mi, &n) == 2 && n) ||
	       (sscanf(base, "python%d.%dt%n", &ma, &mi, &n) == 2 && n);
}

/* 3.13+: _Py_DebugOffsets at the start of _PyRuntime take precedence over the table, for
 * the members both describe the same way (its gil_runtime_state_* are offsets of the
 * interpreter's own _gil, not of the struct ceval.gil points to: not used). 3.14 (PEP 768)
 * added the value stack's pointer, sets, floats, ints, bytes, str and generators. */
static void apply_debug_offsets(ins_image *img, ins_interp *in, ins_buf *how)
{
	ins_layout *L = &in->L;
	if (!has_debug_offsets(img, in))
		return;
	struct { int64_t dbg; int64_t *field; } map[] = {
		{ L->dbg_runtime_interp_head, &L->runtime_interp_head },
		{ L->dbg_interp_next, &L->interp_next },
		{ L->dbg_interp_gc, &L->interp_gc },
		{ L->dbg_obj_type, &L->obj_type },
		{ L->dbg_type_name, &L->type_name },
		{ L->dbg_type_flags, &L->type_flags },
		{ L->dbg_interp_threads_head, &L->interp_tstate_head },
		{ L->dbg_interp_modules, &L->interp_modules },
		{ L->dbg_interp_gil, &L->interp_gil_ptr },
		{ L->dbg_tstate_next, &L->tstate_next },
		{ L->dbg_tstate_current_frame, &L->tstate_current_frame },
		{ L->dbg_tstate_thread_id, &L->tstate_thread_id },
		{ L->dbg_iframe_previous, &L->iframe_previous },
		{ L->dbg_iframe_executable, &L->iframe_code },
		{ L->dbg_iframe_instr_ptr, &L->iframe_instr },
		{ L->dbg_iframe_localsplus, &L->iframe_localsplus },
		{ L->dbg_iframe_owner, &L->iframe_owner },
		{ L->dbg_code_filename, &L->code_filename },
		{ L->dbg_code_name, &L->code_name },
		{ L->dbg_code_qualname, &L->code_qualname },
		{ L->dbg_code_linetable, &L->code_linetable },
		{ L->dbg_code_firstlineno, &L->code_firstlineno },
		{ L->dbg_code_localsplusnames, &L->code_localsplusnames },
		{ L->dbg_code_localspluskinds, &L->code_localspluskinds },
		{ L->dbg_code_code_adaptive, &L->code_code_adaptive },
		{ L->dbg_tuple_item, &L->tuple_item },
		{ L->dbg_list_item, &L->list_item },
		{ L->dbg_dict_keys, &L->dict_keys },
		{ L->dbg_dict_values, &L->dict_values },
		{ L->dbg_iframe_stackpointer, &L->iframe_stackpointer },
		{ L->dbg_set_used, &L->set_used },
		{ L->dbg_set_table, &L->set_table },
		{ L->dbg_set_mask, &L->set_mask },
		{ L->dbg_float_fval, &L->float_fval },
		{ L->dbg_long_tag, &L->long_tag },
		{ L->dbg_long_digit, &L->long_digit },
		{ L->dbg_bytes_sval, &L->bytes_sval },
		{ L->dbg_unicode_state, &L->unicode_state },
		{ L->dbg_unicode_length, &L->unicode_length },
		{ L->dbg_unicode_ascii_size, &L->sizeof_ascii },
		{ L->dbg_gen_name, &L->gen_name },
		{ L->dbg_gen_iframe, &L->gen_iframe },
		{ L->dbg_gen_frame_state, &L->gen_frame_state },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
		uint64_t v;
		if (map[i].dbg >= 0 && ins_image_u64(img, in->runtime + (uint64_t)map[i].dbg, &v) && v < 65536)
			*map[i].field = (int64_t)v;
	}
	ins_buf_puts(how, "; _Py_DebugOffsets applied");
}

static void find_types(ins_interp *in)
{
#define INS_TYPE_LOOKUP(m, sym) \
	if (!ins_elf_lookup(in->elf, sym, &in->T.m, NULL)) \
		in->T.m = 0;
	INS_WELL_KNOWN_TYPES(INS_TYPE_LOOKUP)
#undef INS_TYPE_LOOKUP
}

static ins_error *find_gc_state(ins_image *img, ins_interp *in, ins_buf *how)
{
	const ins_layout *L = &in->L;
	uint64_t gcstate = 0, a;
	in->ngens = L->num_generations > 0 ? (int)L->num_generations : 3;
	if (in->ngens > INS_MAX_GENS)
		return ins_err(INS_ERR_UNSUPPORTED, "CPython %s has %d GC generations; libinspect reads at most %d",
			       in->version, in->ngens, INS_MAX_GENS);
	if (L->interp_gc >= 0 && in->runtime) {
		int64_t off = L->runtime_interp_main >= 0 ? L->runtime_interp_main : L->runtime_interp_head;
		if (!ins_image_u64(img, in->runtime + (uint64_t)off, &in->interp) || !in->interp)
			return ins_err(INS_ERR_CORRUPT, "cannot read the main interpreter from _PyRuntime at 0x%llx",
				       (unsigned long long)in->runtime);
		gcstate = in->interp + (uint64_t)L->interp_gc;
		ins_buf_printf(how, "; GC state in the main interpreter at 0x%llx",
			       (unsigned long long)in->interp);
	} else if (L->runtime_gc >= 0 && in->runtime) {
		gcstate = in->runtime + (uint64_t)L->runtime_gc;
		ins_buf_puts(how, "; GC state in _PyRuntime.gc");
	} else if (ins_elf_lookup(in->elf, "generations", &in->gens, NULL)) {
		ins_buf_puts(how, "; GC generations from gcmodule.c's static generations");
	} else if (ins_elf_lookup(in->elf, "_PyGC_generation0", &a, NULL) && ins_image_u64(img, a, &in->gens)) {
		in->gens -= (uint64_t)L->gen_head;
		ins_buf_puts(how, "; GC generations from _PyGC_generation0");
	} else {
		return ins_err(INS_ERR_NOT_PYTHON, "found CPython %s in %s but not its garbage collector state",
			       in->version, ins_elf_path(in->elf));
	}
	if (gcstate) {
		in->gens = gcstate + (uint64_t)L->gcstate_generations;
		in->permanent = L->gcstate_permanent >= 0 ? gcstate + (uint64_t)L->gcstate_permanent : 0;
		in->enabled_addr = gcstate + (uint64_t)L->gcstate_enabled;
		in->garbage_addr = gcstate + (uint64_t)L->gcstate_garbage;
	} else {
		if (!ins_elf_lookup(in->elf, "enabled", &in->enabled_addr, NULL))
			in->enabled_addr = 0;
		if (!ins_elf_lookup(in->elf, "garbage", &in->garbage_addr, NULL))
			in->garbage_addr = 0;
	}
	return NULL;
}

uint64_t ins_interp_gen_head(const ins_interp *in, int g)
{
	if (g == in->ngens)
		return in->permanent ? in->permanent + (uint64_t)in->L.gen_head : 0;
	return in->gens + (uint64_t)g * (uint64_t)in->L.sizeof_gen + (uint64_t)in->L.gen_head;
}

/* Does what we found hold together? The type of `type` is `type`, each generation's
 * list head links to an element that links back, thresholds are sane. */
static ins_error *validate(ins_image *img, ins_interp *in)
{
	const ins_layout *L = &in->L;
	uint64_t t;
	const char *what = NULL;
	if (!in->T.type || !ins_image_u64(img, in->T.type + (uint64_t)L->obj_type, &t) || t != in->T.type)
		what = "the type of `type` is not `type`";
	for (int g = 0; !what && g <= in->ngens; g++) {
		uint64_t head = ins_interp_gen_head(in, g), next, back;
		if (!head)
			continue;
		if (!ins_image_u64(img, head + (uint64_t)L->gc_next, &next) ||
		    !ins_image_u64(img, (next & in->gc_next_mask) + (uint64_t)L->gc_prev, &back) ||
		    (back & in->gc_prev_mask) != head)
			what = "a GC generation's list head does not link back";
	}
	int32_t threshold;
	if (!what && (!ins_image_i32(img, in->gens + (uint64_t)L->gen_threshold, &threshold) ||
		      threshold < 0 || threshold > 100000000))
		what = "generation 0's threshold is not sane";
	if (what)
		return ins_err(INS_ERR_CORRUPT, "CPython %s in %s does not match its %d.%d layout: %s",
			       in->version, ins_elf_path(in->elf), in->major, in->minor, what);
	return NULL;
}

ins_error *ins_interp_find(ins_image *img, ins_buf *warn, ins_interp **out)
{
	(void)warn;
	ins_interp *in = calloc(1, sizeof(*in));
	if (!in)
		return ins_err_nomem();
	ins_buf how = { 0 };
	ins_error *err = check_executable(img);
	if (!err)
		err = find_python_file(img, &in->elf);
	if (err)
		goto fail;
	if (!ins_elf_lookup(in->elf, "_PyRuntime", &in->runtime, NULL))
		in->runtime = 0;
	ins_buf_printf(&how, "%s in %s (%s); ", in->runtime ? "_PyRuntime" : "_PyGC_generation0",
		       ins_elf_path(in->elf), ins_elf_table(in->elf));
	err = find_version(img, in, &how);
	if (err)
		goto fail;
	snprintf(in->version, sizeof(in->version), "%d.%d.%d", in->major, in->minor, in->micro);
	const ins_layout *L = ins_layout_find(in->major, in->minor, in->micro);
	if (!L) {
		err = ins_err(INS_ERR_UNSUPPORTED,
			      "found CPython %s in %s, which is not supported (supported: 2.7, 3.6 to 3.15)",
			      in->version, ins_elf_path(in->elf));
		goto fail;
	}
	in->L = *L;
	if (free_threaded(img, in)) {
		err = ins_err(INS_ERR_UNSUPPORTED,
			      "found CPython %s in %s, a free-threaded build (Py_GIL_DISABLED), which is not supported: only the default build with the GIL is",
			      in->version, ins_elf_path(in->elf));
		goto fail;
	}
	ins_buf_printf(&how, "; layout of reference build %s", L->ref_build);
	apply_debug_offsets(img, in, &how);
	if (in->L.gc_prev_shift > 0) {
		in->gc_prev_mask = ~(((uint64_t)1 << in->L.gc_prev_shift) - 1);
		in->gc_next_mask = ~(uint64_t)(in->L.gc_next_mask_unreachable > 0 ? in->L.gc_next_mask_unreachable : 1);
	} else {
		in->gc_prev_mask = in->gc_next_mask = ~(uint64_t)0;
	}
	find_types(in);
	err = find_gc_state(img, in, &how);
	if (!err)
		err = validate(img, in);
	if (err)
		goto fail;
	in->discovery = ins_buf_take(&how);
	*out = in;
	return NULL;
fail:
	ins_buf_free(&how);
	ins_interp_free(in);
	return err;
}

void ins_interp_free(ins_interp *in)
{
	if (!in)
		return;
	ins_elf_close(in->elf);
	free(in->discovery);
	free(in);
}
