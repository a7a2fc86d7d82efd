/* memory.c -- the public API's memory statistics (analysis.h: ins_program_memory), from the
 * analysis layer's (memory.h), copied out. */
#include <libinspect/libinspect.h>

#include "memory.h"
#include "program_impl.h"

#include <stdlib.h>
#include <string.h>

ins_error *ins_program_memory(ins_program *p, ins_memory_stats *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	ins_memory m;
	ins_error *err = ins_memory_read(ins_program_session(p), 1, &m);
	if (err)
		return err;
	bool oom = false;
	out->pymalloc = m.pymalloc;
	out->why = ins_program_intern(p, m.why, &oom);
	out->arenas = m.arenas;
	out->arena_size = m.arena_size;
	out->pools = m.used_pools;
	out->pool_size = m.pool_size;
	out->free_pools = m.free_pools;
	out->allocated_bytes = m.allocated_bytes;
	out->free_bytes = m.free_bytes;
	out->nearly_empty_arenas = m.nearly_empty;
	out->tracked = m.tracked;
	out->tracked_bytes = m.tracked_bytes;
	out->frozen = m.frozen;
	out->frozen_bytes = m.frozen_bytes;
	out->untracked = m.untracked;
	out->untracked_bytes = m.untracked_bytes;
	out->in_pymalloc_bytes = m.in_pymalloc_bytes;
	out->malloced = m.in_malloc;
	out->malloced_bytes = m.in_malloc_bytes;
	out->static_bytes = m.in_static_bytes;
	out->memory_bytes = m.seg_total;
	out->file_backed_bytes = m.seg_file;
	out->anonymous_bytes = m.seg_anon;
	out->stacks = m.stacks;
	out->threads = m.threads;
	out->stack_segments = m.stack_segs;
	out->stack_bytes = m.stack_bytes;
	out->classes = malloc((m.nclasses ? m.nclasses : 1) * sizeof(*out->classes));
	if (!out->classes || oom) {
		free(out->classes);
		out->classes = NULL;
		ins_memory_free(&m);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < m.nclasses; i++) {
		if (!m.classes[i].pools)
			continue;
		ins_mem_class *c = &out->classes[out->nclasses++];
		c->size = m.classes[i].size;
		c->pools = m.classes[i].pools;
		c->used_blocks = m.classes[i].used_blocks;
		c->free_blocks = m.classes[i].free_blocks;
	}
	ins_memory_free(&m);
	return NULL;
}
