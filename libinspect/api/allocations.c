/* allocations.c -- the public API's tracemalloc answers (analysis.h: Snapshot.statistics,
 * get_object_traceback), from analysis/allocations.c, their strings kept by the program. */
#include <libinspect/libinspect.h>

#include "allocations.h"
#include "program_impl.h"

#include <stdlib.h>
#include <string.h>

/* The frames of t, most recent first, into *out (malloc'd). */
static bool copy_traceback(ins_program *p, const ins_tracemalloc *tm, const ins_tm_traceback *t,
			   ins_alloc_frame **out, size_t *n, bool *oom)
{
	*out = NULL;
	*n = 0;
	if (!t->nframe)
		return true;
	if (!(*out = calloc(t->nframe, sizeof(**out))))
		return false;
	for (uint32_t i = 0; i < t->nframe; i++) {
		const ins_tm_frame *f = &tm->frames[t->first + i];
		(*out)[i].file = ins_program_intern(p, tm->files[f->file], oom);
		(*out)[i].line = f->line;
	}
	*n = t->nframe;
	return !*oom;
}

ins_error *ins_program_allocations(ins_program *p, int group_by, ins_allocation_stats *out)
{
	INS_API_NEED(p && out && group_by >= INS_ALLOC_BY_LINENO && group_by <= INS_ALLOC_BY_TRACEBACK);
	memset(out, 0, sizeof(*out));
	enum ins_alloc_key key = group_by == INS_ALLOC_BY_FILENAME ? INS_ALLOC_FILENAME :
				 group_by == INS_ALLOC_BY_TRACEBACK ? INS_ALLOC_TRACEBACK : INS_ALLOC_LINENO;
	ins_allocations a;
	ins_error *err = ins_allocations_read(ins_program_session(p), key, &a);
	if (err)
		return err;
	bool ok = true, oom = false;
	const ins_tracemalloc *tm = &a.tm;
	out->tracing = tm->tracing;
	out->available = tm->state == INS_TM_TRACING;
	if (!out->available) {
		out->why = ins_program_intern(p, ins_tracemalloc_why(tm), &oom);
		ok = !oom;
	}
	out->traced_bytes = a.traced_bytes;
	out->traced_blocks = a.traced_blocks;
	if (ok && a.nstats && !(out->v = calloc(a.nstats, sizeof(*out->v))))
		ok = false;
	for (size_t i = 0; ok && i < a.nstats; i++) {
		const ins_alloc_stat *st = &a.stats[i];
		const ins_tm_traceback *t = &tm->tbs[st->tb];
		ins_alloc_group *g = &out->v[i];
		out->n = i + 1;
		g->size = st->size;
		g->count = st->count;
		if (t->nframe) {
			const ins_tm_frame *f = &tm->frames[t->first];
			g->file = ins_program_intern(p, tm->files[f->file], &oom);
			g->line = key == INS_ALLOC_FILENAME ? 0 : f->line;
		}
		ok = !oom && (key != INS_ALLOC_TRACEBACK || copy_traceback(p, tm, t, &g->traceback, &g->nframes, &oom));
	}
	ins_allocations_free(&a);
	if (!ok) {
		ins_allocation_stats_free(out);
		return ins_err_nomem();
	}
	return NULL;
}

void ins_allocation_stats_free(ins_allocation_stats *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].traceback);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

ins_error *ins_program_object_traceback(ins_program *p, uint64_t obj, ins_alloc_frame **frames, size_t *n)
{
	INS_API_NEED(p && frames && n);
	*frames = NULL;
	*n = 0;
	ins_session *s = ins_program_session(p);
	if (!ins_obj_valid(&s->objs, obj) || !ins_obj_type(&s->objs, obj))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not a Python object", (unsigned long long)obj);
	ins_tracemalloc tm;
	ins_error *err = ins_tracemalloc_read(&s->objs, &tm);
	if (err)
		return err;
	bool oom = false;
	const ins_tm_traceback *t = ins_alloc_object_traceback(s, &tm, obj);
	if (t && !copy_traceback(p, &tm, t, frames, n, &oom)) {
		free(*frames);
		*frames = NULL;
		*n = 0;
		err = ins_err_nomem();
	}
	ins_tracemalloc_free(&tm);
	return err;
}
