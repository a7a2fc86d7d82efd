/* leaking.h -- objgraph.get_leaking_objects and the objects growth counts: gc.get_objects()
 * as it is, or as a full gc.collect() would leave it (collect.h's survivors), which is what
 * objgraph looks at since it collects first. */
#ifndef INS_LEAKING_H
#define INS_LEAKING_H

#include "collect.h"

/* The tracked objects no tracked object refers to, as graph nodes in gc.get_objects()
 * order (*nodes malloc'd). Without raw, over what a full collection would leave tracked:
 * *sv then holds the survivors (the counts of what the collection frees and untracks);
 * with raw, over the objects tracked now, and *sv is left empty. Free *sv with
 * ins_survivors_free either way. */
ins_error *ins_leaking_find(ins_session *s, bool raw, uint32_t **nodes, size_t *n, ins_survivors *sv);

/* gc.get_objects() right after a full collection (raw: as it is now), by address
 * (*addrs malloc'd, in gc.get_objects() order). */
ins_error *ins_survivor_objects(ins_session *s, bool raw, uint64_t **addrs, size_t *n);

#endif
