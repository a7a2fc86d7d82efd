/* typestats.h -- objgraph's per-type questions over a session: typestats grouped by name
 * (types, growth, the per-type counts of leaking, cycles and graph), and by_type (count,
 * by-type). The front ends render these rows; they compute nothing themselves.
 *
 * A group is one row of objgraph's table: the objects whose type has one name (__name__,
 * or module.qualname when qualified). Types that share a name are one row, as in objgraph
 * (typestats keys a dict by name). Rows come most common first, then by name.
 */
#ifndef INS_TYPESTATS_H
#define INS_TYPESTATS_H

#include "session.h"

typedef struct ins_group {
	const char *name;      /* __name__ or module.qualname (owned by the session's decoder) */
	ins_buf qualnames;     /* ins_typestats_group: the qualified names merged into the row,
				  " | "-separated; empty otherwise */
	uint64_t count, bytes; /* bytes: ins_typestats_group with want_bytes only */
} ins_group;

/* The name a type's row has: type.__name__, or module.qualname when qualified. */
const char *ins_type_row_name(const ins_type *t, bool qualified);
/* qsort order of groups: most common first, then by name. */
int ins_group_cmp(const void *x, const void *y);
void ins_groups_free(ins_group *g, size_t n);

/* objgraph.typestats over gc.get_objects() (ins_typestats: with all, also the untracked
 * objects references reach), by name, with sizes when want_bytes. *totals gets the counts
 * of ins_stats (its rows NULL). */
ins_error *ins_typestats_group(ins_session *s, bool qualified, bool want_bytes, bool all, ins_group **out,
			       size_t *nout, ins_stats *totals);
/* The same grouping (counts only) of the graph's nodes (s->graph built), by __name__. */
ins_error *ins_typestats_count_nodes(ins_session *s, const uint32_t *nodes, size_t n, ins_group **out,
				     size_t *nout);
/* The same grouping (counts only) of objects given by address, by name (qualified or not).
 * Objects whose type cannot be read are counted under no name. */
ins_error *ins_typestats_count_objects(ins_session *s, const uint64_t *addrs, size_t n, bool qualified,
				       ins_group **out, size_t *nout);

/* objgraph.by_type(name) / count(name): the tracked objects (frozen ones apart) whose
 * type.__name__ is name, or whose module.qualname is name when it has a dot, in heap order
 * (*addrs malloc'd). INS_ERR_NOT_FOUND when no object has that type and no type of that
 * name is known (a class in the heap, a builtin type of the interpreter). */
ins_error *ins_bytype_find(ins_session *s, const char *name, uint64_t **addrs, size_t *n);

#endif
