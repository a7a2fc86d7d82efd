/* commands.h -- what the command files share: parsed arguments, one call of a command,
 * objgraph's per-type grouping, and the context kept across calls (growth's peaks).
 * commands.c holds the table and the dispatch; cmd_types.c types, count and by-type;
 * cmd_growth.c growth; cmd_state.c at, gc and info; cmd_graph.c refs, backrefs, chain,
 * leaking and refcheck; cmd_show.c show-refs, show-backrefs and show-chain (DOT pictures);
 * cmd_stacks.c stacks (threads.c, frames.c). */
#ifndef INS_COMMANDS_H
#define INS_COMMANDS_H

#include <libinspect/cli.h>

#include "session.h"

#define MAX_POS 16

typedef struct args {
	long limit;          /* -1: the command's default */
	long max_depth;      /* -1: the command's default */
	long too_many;       /* -1: the command's default */
	long min_size;       /* -1: the command's default */
	const char *filter;
	const char *baseline;
	const char *output;
	const char *to;      /* chain --to root|module */
	bool qualified, json, new_ids, all, refcounts, locals, edges, verify;
	bool raw;            /* leaking, growth: the heap as it is, without a collection first */
	const char *pos[MAX_POS];
	int npos;
	const char *ignore[MAX_POS];  /* --extra-ignore ADDR, repeatable */
	int nignore;
} args;

typedef struct ins_peak {
	char *name;
	uint64_t count;
} ins_peak;

struct ins_ctx {
	ins_peak *peaks;     /* objgraph's peak_stats, by name */
	size_t npeaks;
	uint64_t *ids;       /* sorted addresses seen by the last growth call */
	size_t nids;
};

/* One call of a command: the opened session s (its heap walked into an array when the
 * command asks for it), src where s came from (for commands that open another image). */
typedef struct call {
	ins_ctx *ctx;
	ins_session *s;
	const ins_source *src;
	const args *a;
	ins_buf *out, *warn;
} call;

typedef ins_error *(*command_fn)(const call *c);

typedef struct group {
	const char *name;      /* shown: __name__ or module.qualname */
	ins_buf qualnames;     /* the qualified names merged into this row */
	uint64_t count, bytes;
} group;

/* Opens the session a command works on, with the heap walked into an array if asked. */
ins_error *ins_cmd_open(const ins_source *src, ins_buf *warn, bool heap, ins_session **out);
/* The object whose address text names: a usage error if it is no address, not found if no
 * object is there. */
ins_error *ins_cmd_object(ins_session *s, const char *text, uint64_t *addr);
/* objgraph.typestats: rows by name (qualified or not), most common first. */
ins_error *ins_cmd_groups(ins_session *s, bool qualified, bool want_bytes, bool all, group **out, size_t *nout,
			  ins_stats *totals);
void ins_cmd_groups_free(group *g, size_t n);
/* {"type","count"} objects of rows, comma-separated (the inside of a JSON array). */
void ins_cmd_json_counts(ins_buf *out, const group *rows, size_t n);
/* The graph's nodes counted by type.__name__, most common first (free with free()). */
ins_error *ins_cmd_count_by_name(ins_session *s, const uint32_t *nodes, size_t n, group **out, size_t *nout);
/* qsort order of groups: most common first, then by name. */
int ins_cmd_cmp_group(const void *x, const void *y);
const char *ins_cmd_row_name(const ins_type *t, bool qualified);

ins_error *ins_cmd_types(const call *c);
ins_error *ins_cmd_count(const call *c);
ins_error *ins_cmd_by_type(const call *c);
ins_error *ins_cmd_at(const call *c);
ins_error *ins_cmd_growth(const call *c);
ins_error *ins_cmd_gc(const call *c);
ins_error *ins_cmd_info(const call *c);
ins_error *ins_cmd_refs(const call *c);
ins_error *ins_cmd_backrefs(const call *c);
ins_error *ins_cmd_chain(const call *c);
ins_error *ins_cmd_leaking(const call *c);
ins_error *ins_cmd_refcheck(const call *c);
ins_error *ins_cmd_show_refs(const call *c);
ins_error *ins_cmd_show_backrefs(const call *c);
ins_error *ins_cmd_show_chain(const call *c);

/* cmd_graph.c, shared with cmd_show.c (s->graph built). objgraph.is_proper_module: the
 * modules sys.modules holds under their own __name__, as a set of addresses. */
ins_error *ins_cmd_proper_modules(ins_session *s, ins_map *set);
/* objgraph.find_backref_chain(obj, is_proper_module, max_depth, extra_ignore): breadth-first
 * over the tracked referrers of node start, skipping the addresses in ignore, up to a module
 * of `modules` or (when roots is not NULL) an object in `roots` (a thread's frame's local).
 * *chain (malloc'd graph nodes) runs from there down to start; it is [start] alone, with
 * *found false, when nothing is within max_depth. */
ins_error *ins_cmd_backref_chain(ins_session *s, uint32_t start, long max_depth, const ins_map *modules,
				 const ins_map *roots, const ins_map *ignore, uint32_t **chain, size_t *nchain,
				 bool *found);
ins_error *ins_cmd_graph(const call *c);
ins_error *ins_cmd_stacks(const call *c);
ins_error *ins_cmd_cycles(const call *c);
ins_error *ins_cmd_garbage(const call *c);

#endif
