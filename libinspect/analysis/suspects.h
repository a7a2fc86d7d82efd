/* suspects.h -- Eclipse MAT's leak suspects over the dominator tree (dominators.h).
 *
 * A suspect is a top-level object of the dominator tree (a child of the virtual root:
 * nothing else keeps it alive) whose retained size is at least a share of the heap's
 * bytes, largest first. From it, the walk goes down the tree while one child retains most
 * (INS_SUSPECT_DROP percent or more) of what the current object retains: where that
 * stops -- the retained bytes spread over many children -- is the accumulation point,
 * typically the container where many objects of one type pile up. What accumulates is the
 * type whose children of the accumulation point retain the most bytes together (and the
 * object that refers to most of them, when that is not the accumulation point: a list they
 * are kept in that is not alone in keeping them); the chain
 * (chain.h: to a module in sys.modules, else to a thread's frame) says where the point is
 * held. When the process runs with tracemalloc, the line where most of what accumulates was
 * allocated (the most recent frame of their tracebacks: allocations.h). Besides single
 * objects, groups of many small top-level instances of one class (ins_suspect_group).
 */
#ifndef INS_SUSPECTS_H
#define INS_SUSPECTS_H

#include "chain.h"
#include "dominators.h"

#define INS_SUSPECT_SHARE 10 /* percent of the heap's bytes, MAT's default */
#define INS_SUSPECT_DROP 70  /* percent: MAT's big drop ratio */

typedef struct ins_suspect {
	uint32_t node;         /* the top-level object */
	uint32_t accumulation; /* where the walk down stops (node itself, possibly) */
	const ins_type *type;  /* what accumulates there (NULL: unreadable types) */
	uint64_t count, bytes; /* the accumulation point's children of that type, their retained bytes */
	uint32_t holder;       /* the object referring to most of those (UINT32_MAX: none but the
				* accumulation point itself) -- the list they are appended to, when
				* something else refers to each of them too -- and how many */
	uint64_t held;
	ins_chain holder_chain; /* to the holder, when there is one */
	ins_chain chain;       /* from a module (else a thread's frame) down to the accumulation point */
	char *site_file;       /* when tracemalloc traces: where most of what accumulates was */
	uint32_t site_line;    /* allocated (the most recent frame of its tracebacks), and how */
	uint64_t site_count;   /* many of them were allocated there; site_file NULL otherwise */
} ins_suspect;

/* The top-level objects retaining pct percent of the heap or more, at most limit of them
 * (0: no limit), largest first, each with its accumulation point and chain. */
ins_error *ins_suspects_find(ins_session *s, const ins_dominators *d, const ins_domtree *t, unsigned pct, size_t limit,
			     ins_suspect **out, size_t *n);
void ins_suspect_list_free(ins_suspect *v, size_t n);

/* A group suspect (Eclipse MAT's "3000 instances of Channel occupy 2.1 MB"): the top-level
 * objects of the dominator tree of one class that are no root themselves (each is reached
 * from several roots with no object in common: a registry list and a connection's dict) and
 * each below the share (no suspect alone), but together retain it or more -- at least 2 of
 * them. Only instances of classes (a Python class, a C extension's heap type, a 2.7 classic
 * class), not classes or modules: the interpreter's namespaces, classes, modules and
 * interned strings are shared by many modules and would fill the report. With them, the
 * object that refers to most of them (their common accumulation point, as for a single
 * suspect). */
#define INS_SUSPECT_GROUP_SHOW 5 /* a group's biggest instances kept */

typedef struct ins_suspect_group {
	const ins_type *type;
	uint64_t count;          /* its instances */
	uint64_t objects, bytes; /* what they retain together (their subtrees are disjoint) */
	uint32_t biggest[INS_SUSPECT_GROUP_SHOW]; /* the instances retaining the most, most first */
	size_t nbiggest;
	uint32_t holder;         /* the object referring to most of them, UINT32_MAX when none refers
				  * to 2 or more; and to how many */
	uint64_t held;
	ins_chain holder_chain;  /* to the holder, when there is one */
} ins_suspect_group;

/* The group suspects of share pct or more (none for pct 0: every top-level object is then a
 * suspect alone), at most limit (0: no limit), most bytes first. */
ins_error *ins_suspect_groups_find(ins_session *s, const ins_dominators *d, const ins_domtree *t, unsigned pct,
				   size_t limit, ins_suspect_group **out, size_t *n);
void ins_suspect_group_list_free(ins_suspect_group *v, size_t n);

/* One line of the report: a single suspect (v[i]) or a group (groups[i]). */
typedef struct ins_suspect_item {
	bool group;
	size_t i;
} ins_suspect_item;

/* The whole report, as front ends render it: the dominator tree it was found on (for the
 * suspects' retained counts and bytes, and the heap's total), the single and group
 * suspects, and the order to show them in (most bytes first, at most limit). */
typedef struct ins_suspects_report {
	ins_dominators dom;
	ins_domtree tree;
	unsigned pct;      /* the threshold used: pct capped at 100 */
	ins_suspect *v;    /* ins_suspects_find's, n of them */
	size_t n;
	ins_suspect_group *groups; /* ins_suspect_groups_find's */
	size_t ngroups;
	ins_suspect_item *items;   /* what to show, in order */
	size_t nitems;
} ins_suspects_report;

/* Builds the dominator tree of s's graph and finds the suspects retaining pct percent of the
 * heap or more (pct > 100: 100), at most limit (0: all). On success *out owns everything:
 * ins_suspects_report_free; on failure nothing is left to free. */
ins_error *ins_suspects_report_build(ins_session *s, unsigned pct, size_t limit, ins_suspects_report *out);
void ins_suspects_report_free(ins_suspects_report *r);

/* Is part at least pct percent of whole? */
bool ins_suspect_share(uint64_t part, uint64_t whole, unsigned pct);

#endif
