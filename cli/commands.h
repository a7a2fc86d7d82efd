/* commands.h -- what the command files share: parsed arguments, one call of a command
 * and the context kept across calls (growth's peaks).
 * The analyses are the library's (libinspect/analysis: typestats.h, chain.h, refwalk.h,
 * leaking.h, refcheck.h, cycles.h, gcstate.h); the commands render their answers.
 * commands.c holds the table and the dispatch; cmd_types.c types, count and by-type;
 * cmd_growth.c growth; cmd_state.c at, gc and info; cmd_graph.c refs, backrefs, chain,
 * leaking and refcheck; cmd_show.c show-refs, show-backrefs and show-chain (DOT pictures);
 * cmd_stacks.c stacks (threads.c, frames.c); cmd_retained.c retained and suspects
 * (dominators.c, suspects.c); show-dominators is cmd_show.c's. */
#ifndef INS_COMMANDS_H
#define INS_COMMANDS_H

#include <libinspect/cli.h>

#include "session.h"
#include "typestats.h"

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
	const char *group_by; /* allocations --group-by lineno|filename|traceback */
	bool qualified, json, new_ids, all, refcounts, locals, edges, verify, tree;
	bool raw;            /* leaking, growth: the heap as it is, without a collection first */
	bool greenlets;      /* stacks --greenlets */
	bool retained;       /* types --retained */
	long threshold;      /* suspects --threshold PCT; -1: the command's default */
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
	int index_mode;      /* INS_CLI_INDEX_*: objinspect's --index, --no-index */
	const char *index_file; /* --index-file PATH, or NULL: beside the core */
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

/* Opens the session a command works on, with the heap walked into an array if asked. */
ins_error *ins_cmd_open(const ins_source *src, ins_buf *warn, bool heap, ins_session **out);
/* The object whose address text names: a usage error if it is no address, not found if no
 * object is there. */
ins_error *ins_cmd_object(ins_session *s, const char *text, uint64_t *addr);
/* {"type","count"} objects of rows, comma-separated (the inside of a JSON array). */
void ins_cmd_json_counts(ins_buf *out, const ins_group *rows, size_t n);

ins_error *ins_cmd_types(const call *c);
ins_error *ins_cmd_count(const call *c);
ins_error *ins_cmd_by_type(const call *c);
ins_error *ins_cmd_at(const call *c);
ins_error *ins_cmd_growth(const call *c);
ins_error *ins_cmd_gc(const call *c);
ins_error *ins_cmd_info(const call *c);
ins_error *ins_cmd_index(const call *c);
ins_error *ins_cmd_refs(const call *c);
ins_error *ins_cmd_backrefs(const call *c);
ins_error *ins_cmd_chain(const call *c);
ins_error *ins_cmd_leaking(const call *c);
ins_error *ins_cmd_refcheck(const call *c);
ins_error *ins_cmd_show_refs(const call *c);
ins_error *ins_cmd_show_backrefs(const call *c);
ins_error *ins_cmd_show_chain(const call *c);

ins_error *ins_cmd_graph(const call *c);
ins_error *ins_cmd_stacks(const call *c);
ins_error *ins_cmd_tasks(const call *c);
ins_error *ins_cmd_allocations(const call *c);
/* cmd_allocations.c: a tracemalloc traceback (most recent call first) as JSON / File lines */
struct ins_tracemalloc;
struct ins_tm_traceback;
void ins_cmd_json_traceback(ins_buf *out, const struct ins_tracemalloc *tm, const struct ins_tm_traceback *t);
void ins_cmd_text_traceback(ins_buf *out, const struct ins_tracemalloc *tm, const struct ins_tm_traceback *t,
			    const char *indent);
ins_error *ins_cmd_memory(const call *c);
ins_error *ins_cmd_cycles(const call *c);
ins_error *ins_cmd_garbage(const call *c);
ins_error *ins_cmd_retained(const call *c);
ins_error *ins_cmd_suspects(const call *c);
ins_error *ins_cmd_show_dominators(const call *c);
/* The items of a chain (chain.h) as chain --json lists them, comma-separated (the inside of
 * the "chain" array). */
struct ins_chain;
void ins_cmd_json_chain(ins_session *s, const struct ins_chain *ch, ins_buf *out);
/* The same as chain prints them, one object a line, each line after indent. */
void ins_cmd_text_chain(ins_session *s, const struct ins_chain *ch, const char *indent, ins_buf *out);

#endif
