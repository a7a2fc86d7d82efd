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

/* ---- leak suspects (Eclipse MAT's report over the dominator tree) ---------- */

enum { INS_SUSPECT_OBJECT = 0, INS_SUSPECT_GROUP = 1 };

/* A single suspect (kind INS_SUSPECT_OBJECT), or a group (INS_SUSPECT_GROUP: instances of one
 * class, each alone at the top of the dominator tree and below the threshold, that retain the
 * threshold together). A group has address 0, no accumulation point (0, and 0 counts);
 * count and bytes are what its instances retain together, type their class, accumulated
 * their number, accumulated_bytes = bytes, referrer the object referring to most of them,
 * chain the chain to that referrer (none without one), instances its biggest instances. */
typedef struct ins_suspect_info {
	uint64_t address;           /* an object at the top of the dominator tree */
	uint64_t count, bytes;      /* what it retains */
	uint64_t accumulation;      /* down its subtree, where the bytes spread over many objects */
	uint64_t acc_count, acc_bytes;  /* what that one retains */
	const char *type;           /* what piles up there: the type (__name__) whose objects among
				       its immediate children retain the most (lives as long as p) */
	uint64_t accumulated, accumulated_bytes;  /* how many of them, what they retain */
	uint64_t referrer;          /* another object referring to most of them, or 0 */
	uint64_t referrer_count;    /* to how many */
	uint64_t *chain;            /* objgraph-chain's objects, from a module in sys.modules (else
				       the object a thread's frame's local holds) down to the
				       accumulation point (malloc'd: ins_free) */
	size_t nchain;
	bool chain_found;           /* false: chain is the accumulation point alone */
	const char *allocated_file; /* when the process runs with tracemalloc: where most of what
				       piles up was allocated (the most common most recent frame of
				       their tracebacks), NULL otherwise (lives as long as p) */
	uint32_t allocated_line;
	uint64_t allocated_count;   /* how many of them were allocated there */
	int kind;                   /* INS_SUSPECT_OBJECT or INS_SUSPECT_GROUP */
	uint64_t *instances;        /* a group's instances retaining the most, most first (at most
				       5; malloc'd: ins_free); NULL for a single suspect */
	size_t ninstances;
} ins_suspect_info;

/* The objects at the top of the dominator tree that retain threshold percent of the heap's
 * bytes or more, and the groups of them, at most limit (0: all), largest first, each object
 * with its accumulation point (docs/commands.md, suspects). *out is malloc'd:
 * ins_suspects_free. */
INS_API ins_error *ins_program_suspects(ins_program *p, unsigned threshold, size_t limit, ins_suspect_info **out,
					size_t *n);
INS_API void ins_suspects_free(ins_suspect_info *v, size_t n);

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

/* The suspended greenlets (the greenlet package: gevent, eventlet), each with its stack from
 * gr_frame (the greenlet type's own getter, run in the emulator), innermost first. */
typedef struct ins_greenlet_stack {
	uint64_t address;
	const char *type;       /* module.qualname of its type */
	ins_frame *frames;      /* innermost first */
	size_t nframes;
} ins_greenlet_stack;

typedef struct ins_greenlet_stacks {
	ins_greenlet_stack *v;  /* by address */
	size_t n;
	size_t found;           /* greenlet objects on the GC lists (suspended or not) */
} ins_greenlet_stacks;

INS_API ins_error *ins_program_greenlets(ins_program *p, bool locals, ins_greenlet_stacks *out);
INS_API void ins_greenlet_stacks_free(ins_greenlet_stacks *g);

/* ---- asyncio tasks (asyncio.all_tasks) ------------------------------------- */

typedef struct ins_await_frame {
	uint64_t coro;          /* the coroutine (or generator) */
	const char *qualname;   /* its __qualname__ (Queue.get) */
	const char *function;   /* co_name */
	const char *file;       /* co_filename */
	int line;               /* frame.f_lineno, -1 if none */
} ins_await_frame;

typedef struct ins_task_info {
	uint64_t address;
	const char *name;       /* Task.get_name() (3.8+), or NULL */
	const char *state;      /* "PENDING", "CANCELLED", "FINISHED" */
	const char *coro;       /* the coroutine's __qualname__, or NULL */
	uint64_t coro_address;
	ins_await_frame *chain; /* the await chain, outermost first */
	size_t nchain;
	uint64_t waits_on;      /* the future the innermost coroutine awaits, or 0 */
	const char *waits_on_type;  /* its type's module.qualname, or NULL */
	const char *waiting_on; /* in a word: the innermost awaited coroutine, else the future's type */
	uint64_t awaiting;      /* Task._fut_waiter, or 0 */
	uint64_t *awaited_by;   /* the pending tasks awaiting it (directly, or through a gather) */
	size_t nawaited_by;
	uint64_t loop;          /* Task._loop, or 0 */
	uint64_t thread_id;     /* the thread running the loop (its _thread_id), when has_thread */
	bool has_thread;
} ins_task_info;

typedef struct ins_task_list {
	ins_task_info *v;       /* by address */
	size_t n;
	bool supported;         /* this Python has asyncio tasks we can read (3.7+) */
} ins_task_list;

/* Every pending task (with all, finished and cancelled ones still alive too). */
INS_API ins_error *ins_program_tasks(ins_program *p, bool all, ins_task_list *out);
INS_API void ins_task_list_free(ins_task_list *t);

/* ---- where the memory goes (the memory command) --------------------------- */

typedef struct ins_mem_class {
	uint32_t size;          /* pymalloc's block size */
	uint64_t pools, used_blocks, free_blocks;
} ins_mem_class;

typedef struct ins_memory_stats {
	int pymalloc;           /* 1 read; 0 not in use (no arena: PYTHONMALLOC=malloc); -1 its
				   state cannot be read (a 2.7-3.11 build with only .dynsym) */
	const char *why;        /* pymalloc <= 0: one line saying why (lives as long as p) */
	uint64_t arenas, arena_size, pools, pool_size, free_pools;
	uint64_t allocated_bytes, free_bytes;  /* sys._debugmallocstats()'s bytes in allocated and
						  available blocks */
	uint64_t nearly_empty_arenas;          /* at most a tenth of their bytes in use */
	ins_mem_class *classes; /* the size classes with pools in use (malloc'd: ins_free) */
	size_t nclasses;
	uint64_t tracked, tracked_bytes, frozen, frozen_bytes, untracked, untracked_bytes;
	uint64_t in_pymalloc_bytes, malloced, malloced_bytes, static_bytes;  /* pymalloc >= 0 */
	uint64_t memory_bytes, file_backed_bytes, anonymous_bytes;  /* the image's */
	bool stacks;            /* the image knows its threads' stack pointers (a core, a live
				   process; not a host's reader): then */
	uint64_t threads;       /* how many threads */
	uint64_t stack_segments, stack_bytes;  /* the image's segments holding one or more of them */
} ins_memory_stats;

/* pymalloc's arenas, pools and blocks as sys._debugmallocstats() counts them, the objects'
 * sys.getsizeof bytes and where they are, the image's memory (docs/commands.md, memory). */
INS_API ins_error *ins_program_memory(ins_program *p, ins_memory_stats *out);

/* ---- tracemalloc (Snapshot.statistics, get_object_traceback) ------------------ */

typedef struct ins_alloc_frame {
	const char *file;
	unsigned line;
} ins_alloc_frame;

typedef struct ins_alloc_group {
	const char *file;       /* its traceback's most recent frame (NULL: no frames) */
	unsigned line;          /* 0 when grouped by filename */
	uint64_t size, count;   /* bytes and blocks */
	ins_alloc_frame *traceback; /* INS_ALLOC_BY_TRACEBACK: the whole traceback, most recent first */
	size_t nframes;
} ins_alloc_group;

typedef struct ins_allocation_stats {
	int tracing;            /* tracemalloc.is_tracing(): 1, 0, or -1 when it cannot be told */
	bool available;         /* the traces were read; else why says why */
	const char *why;
	uint64_t traced_bytes, traced_blocks;
	ins_alloc_group *v;     /* every group, in Snapshot.statistics(key)'s order */
	size_t n;
} ins_allocation_stats;

enum { INS_ALLOC_BY_LINENO = 0, INS_ALLOC_BY_FILENAME = 1, INS_ALLOC_BY_TRACEBACK = 2 };

/* tracemalloc.take_snapshot().statistics(key) at the moment of the image (the allocations
 * command), group_by one of INS_ALLOC_BY_*. */
INS_API ins_error *ins_program_allocations(ins_program *p, int group_by, ins_allocation_stats *out);
INS_API void ins_allocation_stats_free(ins_allocation_stats *a);

/* tracemalloc.get_object_traceback(obj), most recent call first; *n is 0 (and *frames NULL)
 * when its block was not traced or nothing traces. *frames is malloc'd: ins_free. */
INS_API ins_error *ins_program_object_traceback(ins_program *p, uint64_t obj, ins_alloc_frame **frames, size_t *n);

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
