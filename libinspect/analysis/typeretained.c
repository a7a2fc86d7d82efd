/* typeretained.c -- the retained size of each type row: the union of its instances'
 * dominator subtrees (typeretained.h). */
#include "typeretained.h"

#include <stdlib.h>
#include <string.h>

#define NO_ROW UINT32_MAX

ins_error *ins_typestats_retained(ins_session *s, const ins_dominators *d, const ins_domtree *t, bool qualified,
				  bool all, const ins_group *rows, size_t nrows, uint64_t *count, uint64_t *bytes)
{
	const ins_graph *g = s->graph;
	memset(count, 0, nrows * sizeof(*count));
	memset(bytes, 0, nrows * sizeof(*bytes));
	if (nrows >= NO_ROW)
		return ins_err(INS_ERR_FAIL, "too many types (%zu)", nrows);
	uint32_t *group = malloc((d->n ? d->n : 1) * sizeof(*group));
	if (!group)
		return ins_err_nomem();
	ins_map row_of = { 0 }; /* type address -> row + 1, or NO_ROW + 1 for a name in no row */
	ins_error *err = NULL;
	for (size_t x = 0; x < d->n; x++) {
		group[x] = NO_ROW;
		if (x >= g->ntracked && (!all || x < g->nheap))
			continue;
		const ins_type *ty = ins_obj_type(&s->objs, g->addr[x]);
		if (!ty)
			continue;
		uint64_t *slot = ins_map_slot(&row_of, ty->addr, 0);
		if (!slot) {
			err = ins_err_nomem();
			break;
		}
		if (!*slot) {
			const char *name = ins_type_row_name(ty, qualified);
			*slot = (uint64_t)NO_ROW + 1;
			for (size_t i = 0; name && i < nrows; i++)
				if (rows[i].name && strcmp(rows[i].name, name) == 0) {
					*slot = i + 1;
					break;
				}
		}
		group[x] = (uint32_t)(*slot - 1);
	}
	if (!err)
		err = ins_domtree_union(d, t, group, nrows, count, bytes);
	ins_map_free(&row_of);
	free(group);
	return err;
}
