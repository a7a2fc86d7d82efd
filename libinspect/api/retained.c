/* retained.c -- the public API's retained sizes (analysis.h: ins_program_retained), from the
 * dominator tree of the analysis layer (dominators.h), copied out. */
#include <libinspect/libinspect.h>

#include "dominators.h"
#include "program_impl.h"

#include <stdlib.h>
#include <string.h>

ins_error *ins_program_retained(ins_program *p, uint64_t addr, ins_retained *out)
{
	INS_API_NEED(p && out);
	memset(out, 0, sizeof(*out));
	ins_session *s = ins_program_session(p);
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	uint32_t x;
	if (!ins_graph_node(s->graph, addr, &x))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is no object of the reference graph",
			       (unsigned long long)addr);
	ins_dominators d;
	if ((err = ins_dominators_build(s, &d)))
		return err;
	size_t n = 0;
	for (uint32_t y = d.idom[x]; y != INS_DOM_ROOT; y = d.idom[y])
		n++;
	out->dominators = malloc((n ? n : 1) * sizeof(uint64_t));
	if (!out->dominators) {
		ins_dominators_free(&d);
		return ins_err_nomem();
	}
	for (uint32_t y = d.idom[x]; y != INS_DOM_ROOT; y = d.idom[y])
		out->dominators[out->ndominators++] = s->graph->addr[y];
	out->count = d.count[x];
	out->bytes = d.bytes[x];
	out->total_bytes = d.total_bytes;
	ins_dominators_free(&d);
	return NULL;
}
