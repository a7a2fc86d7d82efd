/* libinspect/analysis.h -- the questions objgraph and the gc module answer, about a program.
 *
 * Every answer is computed from the program's heap walk and reference graph, which are built
 * once per program and kept. Arrays are owned by the caller and freed with their _free
 * function; strings inside them belong to the program.
 */
#ifndef LIBINSPECT_ANALYSIS_H
#define LIBINSPECT_ANALYSIS_H

#include "objects.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- objects ------------------------------------------------------------ */

/* gc.get_objects(): the tracked objects, generation by generation (frozen ones excluded).
 * The array belongs to the program. */
INS_API ins_error *ins_program_objects(ins_program *p, const uint64_t **addrs, size_t *n);

/* objgraph.by_type(name): the tracked objects whose type.__name__ is name, or whose
 * module.qualname is name when it has a dot. INS_ERR_NOT_FOUND for a type no object has
 * and the interpreter does not know. *addrs is malloc'd: ins_free. */
INS_API ins_error *ins_program_objects_by_type(ins_program *p, const char *name, uint64_t **addrs, size_t *n);

/* ---- type statistics (objgraph.typestats, most_common_types) ------------- */

typedef struct ins_type_stat {
	const char *name;       /* type.__name__, or module.qualname when qualified */
	uint64_t count;
	uint64_t bytes;         /* sum of sys.getsizeof */
} ins_type_stat;

typedef struct ins_type_stats {
	ins_type_stat *v;       /* most common first, then by name */
	size_t n;
	size_t ntracked;        /* len(gc.get_objects()) */
	size_t nfrozen;         /* gc.get_freeze_count() */
	size_t nuntracked;      /* with INS_TYPES_ALL: untracked objects reached by references */
} ins_type_stats;

enum {
	INS_TYPES_QUALIFIED = 1, /* group by module.qualname instead of __name__ */
	INS_TYPES_ALL = 2,       /* also the untracked objects references reach (str, int, ...) */
};

INS_API ins_error *ins_program_types(ins_program *p, unsigned flags, ins_type_stats *out);
INS_API void ins_type_stats_free(ins_type_stats *st);

/* ---- reference chains (objgraph.find_backref_chain) ----------------------- */

typedef struct ins_chain_options {
	size_t max_depth;        /* 0: objgraph's default, 20 */
	bool to_root;            /* also end at a thread's frame whose local holds an object */
	const uint64_t *ignore;  /* objects to skip (extra_ignore) */
	size_t nignore;
} ins_chain_options;

/* The shortest chain of references from a module sys.modules holds (or, with to_root, a
 * frame) down to addr: out->v[0] is where it starts, out->v[n-1] is addr, and v[i].label
 * names the reference from v[i-1] to v[i] (v[0].label: "" for a module, the local's name
 * for a frame). Without a chain within max_depth, *found is false and out holds addr alone. */
INS_API ins_error *ins_program_chain(ins_program *p, uint64_t addr, const ins_chain_options *opt, ins_refs *out,
				     bool *found);

/* ---- the collection (gc.collect() under DEBUG_SAVEALL, without running one) -- */

typedef struct ins_cycle_info {
	uint64_t *members;      /* a shortest cycle through the oldest member, members[0 .. path),
				   then the cycle's other members */
	size_t n, path;
	size_t held;            /* unreachable objects outside any cycle that it alone leads to */
	uint64_t bytes, held_bytes;
} ins_cycle_info;

typedef struct ins_collection {
	uint64_t *unreachable;  /* what a full collection finds unreachable, in heap order */
	size_t n;
	ins_cycle_info *cycles; /* largest first */
	size_t ncycles;
} ins_collection;

INS_API ins_error *ins_program_collect(ins_program *p, ins_collection *out);
INS_API void ins_collection_free(ins_collection *c);

/* gc.garbage's items. *addrs is malloc'd: ins_free. */
INS_API ins_error *ins_program_garbage(ins_program *p, uint64_t **addrs, size_t *n);

/* objgraph.get_leaking_objects(): tracked objects no tracked object refers to, after what a
 * full collection would do (raw: the objects tracked now). *addrs is malloc'd: ins_free. */
INS_API ins_error *ins_program_leaking(ins_program *p, bool raw, uint64_t **addrs, size_t *n);

/* ---- refcounts ------------------------------------------------------------ */

typedef struct ins_refcheck_row {
	uint64_t address;
	int64_t refcnt;         /* ob_refcnt */
	uint64_t referrers;     /* references to it found in the heap (hidden ones included) */
	int64_t residual;       /* refcnt - referrers: held by C code, the stack, or leaked */
} ins_refcheck_row;

/* Every tracked object whose refcount is not accounted for by the heap (residual != 0,
 * immortal objects skipped), most unexplained first. *rows is malloc'd: ins_free. */
INS_API ins_error *ins_program_refcheck(ins_program *p, ins_refcheck_row **rows, size_t *n);

/* ---- retained sizes (the dominator tree) ----------------------------------- */

typedef struct ins_retained {
	uint64_t count, bytes;  /* what addr alone keeps alive, itself included: objects and
				   their sys.getsizeof sum (its dominator subtree) */
	uint64_t *dominators;   /* its immediate dominator, that one's, ... up to the last
				   object below the roots (malloc'd: ins_free); none for a root */
	size_t ndominators;
	uint64_t total_bytes;   /* every object of the reference graph */
} ins_retained;

/* What addr retains and what keeps it alive, over the dominator tree of the whole reference
 * graph (docs/commands.md, retained: the roots are objects whose refcount the graph does not
 * explain, 3.12+ immortal objects, threads' frames and their fast locals, then whatever
 * none of those reaches). INS_ERR_NOT_FOUND if addr is no object of the graph. */
INS_API ins_error *ins_program_retained(ins_program *p, uint64_t addr, ins_retained *out);

/* ---- threads and stacks (sys._current_frames) ------------------------------ */

typedef struct ins_local_var {
	const char *name;
	uint64_t value;
} ins_local_var;

typedef struct ins_frame {
	const char *function;   /* co_name */
	const char *file;       /* co_filename */
	int line;               /* frame.f_lineno, -1 if none */
	uint64_t address;       /* the frame object, or from 3.11 the _PyInterpreterFrame */
	uint64_t frame_object;  /* the frame object, or 0 */
	ins_local_var *locals;  /* with locals: frame.f_locals */
	size_t nlocals;
} ins_frame;

typedef struct ins_thread {
	uint64_t thread_id;     /* threading.get_ident() */
	uint64_t tstate;        /* its PyThreadState */
	int gil;                /* 1 holds the GIL, 0 does not, -1 cannot be told */
	ins_frame *frames;      /* innermost first */
	size_t nframes;
} ins_thread;

typedef struct ins_stacks {
	ins_thread *v;          /* the interpreter's order: newest thread first */
	size_t n;
} ins_stacks;

INS_API ins_error *ins_program_stacks(ins_program *p, bool locals, ins_stacks *out);
INS_API void ins_stacks_free(ins_stacks *s);

/* ---- the collector's state (gc.isenabled, get_threshold, get_count, ...) --- */

typedef struct ins_gc_state {
	bool enabled;
	bool enabled_known;     /* false: whether it is enabled cannot be told (enabled: false) */
	bool garbage_known;     /* false: where gc.garbage is cannot be told (garbage: 0) */
	int ngens;              /* len(gc.get_count()): 3 (3.14 and 3.15 too) */
	long threshold[3];      /* -1 where unreadable */
	long count[3];          /* -1 where unreadable */
	size_t generation_size[3];  /* objects on each generation's list */
	size_t frozen;          /* gc.get_freeze_count() */
	size_t garbage;         /* len(gc.garbage) */
} ins_gc_state;

INS_API ins_error *ins_program_gc(ins_program *p, ins_gc_state *out);

#ifdef __cplusplus
}
#endif
#endif
