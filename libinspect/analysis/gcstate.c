/* gcstate.c -- the collector's state and gc.garbage, read from the interpreter (see
 * gcstate.h). */
#include "gcstate.h"

#include <stdlib.h>
#include <string.h>

ins_error *ins_gc_read(ins_session *s, ins_gcstate *out)
{
	ins_error *err = ins_session_heap(s);
	if (err)
		return err;
	const ins_interp *in = s->in;
	const ins_layout *L = &in->L;
	int32_t enabled = -1, v[2];
	memset(out, 0, sizeof(*out));
	out->ngens = s->heap.ngens;
	if (in->enabled_addr && !ins_image_i32(s->img, in->enabled_addr, &enabled))
		enabled = -1;
	out->enabled = enabled < 0 ? -1 : enabled != 0;
	for (int g = 0; g < out->ngens; g++) {
		uint64_t gen = in->gens + (uint64_t)g * (uint64_t)L->sizeof_gen;
		bool ok = ins_image_i32(s->img, gen + (uint64_t)L->gen_threshold, &v[0]) &&
			  ins_image_i32(s->img, gen + (uint64_t)L->gen_count, &v[1]);
		out->threshold[g] = ok ? v[0] : -1;
		out->count[g] = ok ? v[1] : -1;
		out->sizes[g] = s->heap.gen_start[g + 1] - s->heap.gen_start[g];
	}
	out->frozen = s->heap.nfrozen;
	out->garbage = -1;
	uint64_t list;
	if (in->garbage_addr && ins_image_u64(s->img, in->garbage_addr, &list)) {
		if (!list)
			out->garbage = 0;
		else if (!ins_image_i64(s->img, list + (uint64_t)L->var_size, &out->garbage))
			out->garbage = -1;
	}
	return NULL;
}

ins_error *ins_garbage_read(ins_session *s, size_t limit, uint64_t **out, size_t *nout, size_t *count)
{
	const ins_layout *L = &s->in->L;
	if (!s->in->garbage_addr)
		return ins_err(INS_ERR_NOT_FOUND, "where gc.garbage is cannot be told for this interpreter");
	uint64_t list = ins_image_word(s->img, s->in->garbage_addr, 0);
	int64_t n = list ? (int64_t)ins_image_word(s->img, list, L->var_size) : 0;
	uint64_t items = list ? ins_image_word(s->img, list, L->list_item) : 0;
	if (n < 0 || n > (1 << 28) || (n && !items))
		return ins_err(INS_ERR_CORRUPT, "gc.garbage at 0x%llx is not a list", (unsigned long long)list);
	size_t k = (size_t)n < limit ? (size_t)n : limit;
	uint64_t *v = malloc((k ? k : 1) * sizeof(*v));
	if (!v)
		return ins_err_nomem();
	for (size_t i = 0; i < k; i++)
		v[i] = ins_image_word(s->img, items, (int64_t)i * 8);
	*out = v;
	*nout = k;
	*count = (size_t)n;
	return NULL;
}
