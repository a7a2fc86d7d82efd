/* typeretained.h -- per row of objgraph's type table (typestats.h), what its instances
 * retain together (types --retained): the union of their dominator subtrees
 * (dominators.h), each object counted once -- an instance inside the subtree of another
 * instance of the same row adds nothing. */
#ifndef INS_TYPERETAINED_H
#define INS_TYPERETAINED_H

#include "dominators.h"
#include "typestats.h"

/* count[i] and bytes[i] (nrows each, zeroed here) for rows[i] of ins_typestats_group(s,
 * qualified, .., all, ..): the row's objects are the tracked ones (gc.get_objects(), frozen
 * ones apart) of that name, and with all the untracked ones too. */
ins_error *ins_typestats_retained(ins_session *s, const ins_dominators *d, const ins_domtree *t, bool qualified,
				  bool all, const ins_group *rows, size_t nrows, uint64_t *count, uint64_t *bytes);

#endif
