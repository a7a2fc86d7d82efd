/* program.c -- the public API's programs (program.h): opening a core, a live process or a
 * host's reader into an analysis session, the program's warnings, and what a program keeps
 * for its life (the collection, the strings its answers point to). */
#define _GNU_SOURCE
#include "program_impl.h"

#include <stdlib.h>
#include <string.h>

ins_error *ins_program_open(const ins_source *src, ins_program **out)
{
	INS_API_NEED(src && out);
	*out = NULL;
	int sources = (src->core != NULL) + (src->pid != 0) + (src->reader != NULL);
	if (sources != 1)
		return ins_err(INS_ERR_USAGE, "a program is opened from exactly one of a core, a process or a reader "
			       "(%d given)", sources);
	if (!src->core && !src->reader && src->pid < 0)
		return ins_err(INS_ERR_USAGE, "%d is not a process id", src->pid);
	ins_program *p = calloc(1, sizeof(*p));
	if (!p)
		return ins_err_nomem();
	ins_error *err = ins_session_open(src, &p->warn, &p->s);
	if (!err && src->core && !(p->core = strdup(src->core)))
		err = ins_err_nomem();
	if (err) {
		ins_session_close(p->s);
		ins_buf_free(&p->warn);
		free(p);
		return err;
	}
	*out = p;
	return NULL;
}

ins_error *ins_program_set_index(ins_program *p, int mode, const char *path)
{
	INS_API_NEED(p);
	if (mode != INS_PROGRAM_INDEX_NEVER && mode != INS_PROGRAM_INDEX_READ && mode != INS_PROGRAM_INDEX_MAKE)
		return ins_err(INS_ERR_USAGE, "%d is not an index mode", mode);
	if (!p->core)
		return mode == INS_PROGRAM_INDEX_NEVER && !path
			       ? NULL
			       : ins_err(INS_ERR_USAGE, "an index is for a core file: %s has none",
					 ins_program_description(p));
	if (p->s->walked || p->s->graph)
		return ins_err(INS_ERR_USAGE, "the index is chosen before the program's first question");
	ins_error *err = ins_session_set_index(p->s, p->core, path,
					       mode == INS_PROGRAM_INDEX_MAKE ? INS_INDEX_WRITE
					       : mode == INS_PROGRAM_INDEX_READ ? INS_INDEX_AUTO
										: INS_INDEX_OFF);
	return err ? err : ins_session_prepare_index(p->s);
}

static ins_source source_of(const ins_open_options *opt)
{
	ins_source src = { 0 };
	if (opt) {
		src.exe = opt->exe;
		src.sysroot = opt->sysroot;
		src.debug_dir = opt->debug_dir;
		src.files = opt->files;
		src.nfiles = opt->nfiles;
	}
	return src;
}

ins_error *ins_program_open_core(const char *core, const ins_open_options *opt, ins_program **out)
{
	INS_API_NEED(core && out);
	ins_source src = source_of(opt);
	src.core = core;
	return ins_program_open(&src, out);
}

ins_error *ins_program_open_pid(int pid, bool stop, const ins_open_options *opt, ins_program **out)
{
	INS_API_NEED(out);
	if (pid <= 0)
		return ins_err(INS_ERR_USAGE, "%d is not a process id", pid);
	ins_source src = source_of(opt);
	src.pid = pid;
	src.attach = stop;
	return ins_program_open(&src, out);
}

ins_error *ins_program_open_reader(const ins_reader *r, const ins_open_options *opt, ins_program **out)
{
	INS_API_NEED(r && out);
	ins_source src = source_of(opt);
	src.reader = r;
	return ins_program_open(&src, out);
}

void ins_program_free(ins_program *p)
{
	if (!p)
		return;
	ins_collect_free(&p->col);
	ins_session_close(p->s);
	ins_buf_free(&p->warn);
	free(p->core);
	for (size_t i = 0; i < p->capstrs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p);
}

const char *ins_program_python(const ins_program *p)
{
	return p ? p->s->in->version : "";
}

const char *ins_program_description(const ins_program *p)
{
	return p && p->s->img->description ? p->s->img->description : "";
}

const char *ins_program_warnings(const ins_program *p)
{
	return p && p->warn.data && !p->warn.oom ? p->warn.data : "";
}

void ins_program_clear_warnings(ins_program *p)
{
	if (!p)
		return;
	ins_buf_free(&p->warn);
	p->warn.oom = false;
}

ins_session *ins_program_session(ins_program *p)
{
	return p->s;
}

ins_buf *ins_program_warnbuf(ins_program *p)
{
	return &p->warn;
}

ins_error *ins_program_collection(ins_program *p, const ins_collect **out)
{
	if (!p->collected) {
		/* the whole graph, which later questions share: a tracked-only one would be
		 * replaced by it, and the collection's node numbers with it */
		ins_error *err = ins_session_graph(p->s);
		if (!err)
			err = ins_collect_run(p->s, &p->col);
		if (err)
			return err;
		p->collected = true;
	}
	*out = &p->col;
	return NULL;
}

/* ---------------------------------------------------------------- interned strings */

static uint64_t hash_text(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;  /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3u;
	return h;
}

static bool intern_grow(ins_program *p)
{
	size_t cap = p->capstrs ? p->capstrs * 2 : 256;
	char **v = calloc(cap, sizeof(*v));
	if (!v)
		return false;
	for (size_t i = 0; i < p->capstrs; i++) {
		if (!p->strs[i])
			continue;
		size_t k = (size_t)hash_text(p->strs[i]) & (cap - 1);
		while (v[k])
			k = (k + 1) & (cap - 1);
		v[k] = p->strs[i];
	}
	free(p->strs);
	p->strs = v;
	p->capstrs = cap;
	return true;
}

const char *ins_program_intern(ins_program *p, const char *text, bool *oom)
{
	if (!text)
		return NULL;
	if (2 * (p->nstrs + 1) > p->capstrs && !intern_grow(p)) {
		*oom = true;
		return NULL;
	}
	size_t k = (size_t)hash_text(text) & (p->capstrs - 1);
	for (; p->strs[k]; k = (k + 1) & (p->capstrs - 1))
		if (strcmp(p->strs[k], text) == 0)
			return p->strs[k];
	if (!(p->strs[k] = strdup(text))) {
		*oom = true;
		return NULL;
	}
	p->nstrs++;
	return p->strs[k];
}
