/* commands.c -- the command table shared by objinspect and the GDB extension: help
 * texts, argument parsing, and the dispatch that opens the session a command works on
 * and collects its text (objgraph's tables) or one line of JSON. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "program_impl.h"


typedef struct command {
	ins_command_info info;
	int min_pos, max_pos;  /* positional arguments */
	long default_limit;
	bool heap;             /* needs s->heap */
	command_fn run;
} command;

ins_error *ins_cmd_open(const ins_source *src, ins_buf *warn, bool heap, ins_session **out)
{
	ins_error *err = ins_session_open(src, warn, out);
	if (!err && heap && (err = ins_session_heap(*out))) {
		ins_session_close(*out);
		*out = NULL;
	}
	return err;
}

ins_error *ins_cmd_object(ins_session *s, const char *text, uint64_t *addr)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(text, &end, 0);
	if (errno || end == text || *end || *text == '-')
		return ins_err(INS_ERR_USAGE, "'%s' is not an address", text);
	if (!ins_obj_valid(&s->objs, x) || !ins_obj_type(&s->objs, x))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not a Python object", x);
	*addr = x;
	return NULL;
}

/* ---- the table ------------------------------------------------------------ */

#define JSON_HELP "With --json, prints one line of JSON instead."

static const command commands[] = {
	{ { "types", "objgraph-types", "[--limit N] [--filter S] [--qualified] [--all] [--retained] [--json]",
	    "Most common types among the objects the GC tracks (objgraph.show_most_common_types).",
	    "Counts every object gc.get_objects() would return, by type.__name__ (by module.qualname\n"
	    "with --qualified), most common first, with their sizes as sys.getsizeof reports them.\n"
	    "--limit N shows N rows (default 10, 0 for all); --filter S keeps names containing S.\n"
	    "Objects frozen by gc.freeze() are not counted (gc.get_objects() skips them) and are\n"
	    "reported in the summary line. --all also counts the untracked objects (str, int, ...)\n"
	    "that references reach, from the reference graph. --retained adds what each type's\n"
	    "instances keep alive together (objgraph-retained's dominator tree): the union of their\n"
	    "retained sets, each object once (\"retained_count\", \"retained_bytes\" in JSON). " JSON_HELP,
	    "--limit --filter --qualified --all --retained --json" }, 0, 0, 10, false, ins_cmd_types },
	{ { "count", "objgraph-count", "TYPE [--json]",
	    "How many tracked objects have this type (objgraph.count).",
	    "TYPE is a type.__name__, or a dotted module.qualname matched against the qualified\n"
	    "name, as in objgraph. An unknown type is an error; a known type with no instances is 0.\n" JSON_HELP,
	    "--json" }, 1, 1, -1, false, ins_cmd_count },
	{ { "by-type", "objgraph-by-type", "TYPE [--limit N] [--json]",
	    "The tracked objects of a type, by address (objgraph.by_type).",
	    "Lists the address and a short repr of every tracked object of TYPE (see objgraph-count\n"
	    "for how TYPE matches). --limit N lists the first N (default all). When the process runs\n"
	    "with tracemalloc, also where they were allocated: the ten lines (the most recent frame of\n"
	    "their tracebacks) that made the most of them. " JSON_HELP,
	    "--limit --json" }, 1, 1, 0, false, ins_cmd_by_type },
	{ { "at", "objgraph-at", "ADDRESS [--json]",
	    "What the object at an address is: type, refcount, size, tracking, repr (objgraph.at).",
	    "refcnt is the raw ob_refcnt (sys.getrefcount(obj) - 1); 3.12+ immortal objects are\n"
	    "flagged. size is sys.getsizeof(obj). " JSON_HELP,
	    "--json" }, 1, 1, -1, true, ins_cmd_at },
	{ { "growth", "objgraph-growth", "[--limit N] [--new-ids] [--qualified] [--baseline CORE] [--raw] [--json]",
	    "Types whose counts grew (objgraph.show_growth).",
	    "In GDB, the first call records each type's count; later calls show the increase over the\n"
	    "highest count seen so far, so `continue`, Ctrl-C, objgraph-growth works on a live process.\n"
	    "objinspect compares with --baseline CORE (an earlier core of the same process).\n"
	    "Like objgraph, which runs gc.collect() first, the counts are of what a full collection\n"
	    "would leave tracked: without the garbage it would free and the tuples and dicts it would\n"
	    "untrack (nothing is run or changed; the baseline is counted the same way). --raw counts\n"
	    "the objects the GC tracks now instead (no collection).\n"
	    "--new-ids lists the addresses of the objects that are new since the previous call\n"
	    "(objgraph.get_new_ids). --limit N (default 10, 0 for all). " JSON_HELP,
	    "--limit --new-ids --qualified --baseline --raw --json" }, 0, 0, 10, true, ins_cmd_growth },
	{ { "refs", "objgraph-refs", "ADDRESS [--max-depth N] [--json]",
	    "What an object refers to, with labelled edges (gc.get_referents).",
	    "Lists the objects ADDRESS refers to as its type's tp_traverse reports them, each with\n"
	    "the edge's label: attribute or global name, dict key, [index], slot or field name.\n"
	    "--max-depth N follows referents N levels deep (default 1). Objects of other C types\n"
	    "(extensions, lib-dynload modules) run their own tp_traverse in an emulator, their\n"
	    "edges labelled by member name or +0xOFFSET; when that fails, their memory is scanned\n"
	    "and the edges are marked inferred. " JSON_HELP,
	    "--max-depth --json" }, 1, 1, -1, true, ins_cmd_refs },
	{ { "backrefs", "objgraph-backrefs", "ADDRESS [--max-depth N] [--json]",
	    "What refers to an object, with labelled edges (gc.get_referrers).",
	    "Lists the objects holding a reference to ADDRESS, found in a reverse index of the whole\n"
	    "heap, each with the label of its reference. --max-depth N (default 1). " JSON_HELP,
	    "--max-depth --json" }, 1, 1, -1, true, ins_cmd_backrefs },
	{ { "chain", "objgraph-chain", "ADDRESS [--to root] [--max-depth N] [--extra-ignore ADDRESS] [--json]",
	    "The shortest reference chain from a module to an object (objgraph.find_backref_chain).",
	    "Searches breadth-first over referrers, as objgraph does with is_proper_module, for a\n"
	    "module that sys.modules holds; prints it, each object down to ADDRESS, and the label\n"
	    "of every reference on the way (global name, attribute, key, [index]).\n"
	    "--to root also ends at a thread's frame whose local holds the object on the way: the\n"
	    "chain then starts with that frame and the local's name. --max-depth N (default 20);\n"
	    "--extra-ignore ADDRESS skips an object (repeatable). " JSON_HELP,
	    "--to --max-depth --extra-ignore --json" }, 1, 1, -1, true, ins_cmd_chain },
	{ { "leaking", "objgraph-leaking", "[--limit N] [--raw] [--json]",
	    "Tracked objects that no tracked object refers to (objgraph.get_leaking_objects).",
	    "These are held only by C code, the interpreter's roots or leaked references. Like objgraph,\n"
	    "which runs gc.collect() first, the answer is for what a full collection would leave\n"
	    "tracked: the garbage it would free is gone (and no longer refers to anything), and so are\n"
	    "the tuples and dicts it would untrack (nothing is run or changed). --raw answers for the\n"
	    "objects the GC tracks now instead (no collection). Lists the count by type and the\n"
	    "objects; --limit N rows (default 10, 0 for all). " JSON_HELP,
	    "--limit --raw --json" }, 0, 0, 10, true, ins_cmd_leaking },
	{ { "refcheck", "objgraph-refcheck", "[--limit N] [--json]",
	    "Objects whose refcount counts references nothing in the heap accounts for.",
	    "For every tracked object: ob_refcnt minus the references to it found in the heap (3.12+\n"
	    "immortal objects are skipped). A positive residual with no Python referrer is a C-level\n"
	    "root or a leaked Py_INCREF; a negative one means corruption or a missed reference kind\n"
	    "and is always listed. Most unexplained first; --limit N (default 10, 0 for all). " JSON_HELP,
	    "--limit --json" }, 0, 0, 10, true, ins_cmd_refcheck },
	{ { "show-refs", "objgraph-show-refs",
	    "ADDRESS... --output FILE.dot|.png|.svg [--max-depth N] [--too-many N] [--filter TYPE] "
	    "[--extra-ignore ADDRESS] [--refcounts] [--json]",
	    "Draws what objects refer to, as a graphviz picture (objgraph.show_refs).",
	    "Walks referents breadth-first from each ADDRESS (drawn in red) and writes objgraph's picture:\n"
	    "a box per object with its type and short repr, shaded by depth, modules green, a __del__\n"
	    "mark on objects whose class defines __del__, labelled edges. --output FILE.dot writes the\n"
	    "DOT text; FILE.png and FILE.svg are rendered by graphviz's dot. --max-depth N (default 3);\n"
	    "--too-many N draws at most N references per object and one \"N more references\" box for\n"
	    "the rest (default 10); --filter TYPE follows only objects of that type; --extra-ignore\n"
	    "ADDRESS leaves an object out (repeatable); --refcounts adds each refcount to the label.\n"
	    "With --json, prints {\"output\", \"nodes\", \"edges\"}.",
	    "--output --max-depth --too-many --filter --extra-ignore --refcounts --json" }, 1, MAX_POS, -1, false,
	  ins_cmd_show_refs },
	{ { "show-backrefs", "objgraph-show-backrefs",
	    "ADDRESS... --output FILE.dot|.png|.svg [--max-depth N] [--too-many N] [--filter TYPE] "
	    "[--extra-ignore ADDRESS] [--refcounts] [--json]",
	    "Draws what refers to objects, as a graphviz picture (objgraph.show_backrefs).",
	    "As objgraph-show-refs, over referrers (the tracked objects, as gc.get_referrers finds\n"
	    "them), and like objgraph it does not go past a module that sys.modules holds.\n"
	    "Each object has at most --too-many referrers drawn and one \"N more backreferences\" box.\n"
	    "With --json, prints {\"output\", \"nodes\", \"edges\"}.",
	    "--output --max-depth --too-many --filter --extra-ignore --refcounts --json" }, 1, MAX_POS, -1, false,
	  ins_cmd_show_backrefs },
	{ { "show-chain", "objgraph-show-chain",
	    "ADDRESS... --output FILE.dot|.png|.svg [--max-depth N] [--too-many N] [--extra-ignore ADDRESS] "
	    "[--refcounts] [--json]",
	    "Draws the reference chain from a module to objects (objgraph.show_chain).",
	    "Finds the chain objgraph-chain prints for each ADDRESS (find_backref_chain to a module in\n"
	    "sys.modules; --max-depth N bounds the search, default 20; --extra-ignore ADDRESS skips an\n"
	    "object) and draws the referrers of the objects through the chains' objects only, as\n"
	    "objgraph.show_chain does: the module in green down to each ADDRESS in red, edges labelled.\n"
	    "With --json, prints {\"output\", \"nodes\", \"edges\"}.",
	    "--output --max-depth --too-many --extra-ignore --refcounts --json" }, 1, MAX_POS, -1, false,
	  ins_cmd_show_chain },
	{ { "show-dominators", "objgraph-show-dominators",
	    "ADDRESS --output FILE.dot|.png|.svg [--max-depth N] [--too-many N] [--refcounts] [--json]",
	    "Draws what an object keeps alive: its dominator tree, as a graphviz picture.",
	    "The subtree of objgraph-retained's dominator tree below ADDRESS (drawn in red), in\n"
	    "objgraph's conventions (boxes with type and short repr, shaded by depth, modules green,\n"
	    "__del__ marks), each box also labelled with what the object retains (objects, bytes).\n"
	    "An arrow goes from each object to those it dominates immediately, most bytes first,\n"
	    "labelled as the reference when it refers to them directly, else dashed. --max-depth N\n"
	    "levels (default 3); --too-many N children each (default 10), the rest one \"N more\n"
	    "dominated\" box. With --json, prints {\"output\", \"nodes\", \"edges\"}.",
	    "--output --max-depth --too-many --refcounts --json" }, 1, 1, -1, false, ins_cmd_show_dominators },
	{ { "graph", "objgraph-graph", "[--edges] [--verify] [--limit N] [--json]",
	    "Builds the heap's reference graph and says how big it is and how long it took.",
	    "Objects (tracked, frozen, untracked ones reached by references), references, the hidden\n"
	    "references counted only for refcounts, objects whose C type's own tp_traverse was run in\n"
	    "the emulator, objects scanned for references because that failed, build time and memory\n"
	    "per object and per reference.\n"
	    "--edges also lists every tracked object's referents (gc.get_referents, in traversal order)\n"
	    "and how they were found (exact, emulated, inferred, none).\n"
	    "--verify runs every tracked object's own tp_traverse in the emulator, builtins included,\n"
	    "and lists the objects whose referents differ from libinspect's native routines (--limit N\n"
	    "of them, default 10, 0 for all). " JSON_HELP,
	    "--edges --verify --limit --json" }, 0, 0, 10, true, ins_cmd_graph },
	{ { "cycles", "objgraph-cycles", "[--limit N] [--min-size N] [--json]",
	    "What a full gc.collect() would free now, grouped into the cycles that hold it.",
	    "Runs CPython's collection algorithm on the heap without running a collection: the\n"
	    "objects only garbage cycles keep alive. Lists the cycles (largest first) with their\n"
	    "members in cycle order and the reference from each to the next, the objects each cycle\n"
	    "holds besides, finalizers (__del__, tp_finalize), objects already finalized, weakrefs\n"
	    "with callbacks pointing in, and the frames among the garbage with their locals.\n"
	    "--limit N cycles (default 10, 0 for all); --min-size N only cycles of N or more. " JSON_HELP,
	    "--limit --min-size --json" }, 0, 0, 10, true, ins_cmd_cycles },
	{ { "garbage", "objgraph-garbage", "[--limit N] [--json]",
	    "The contents of gc.garbage.",
	    "Objects a collection found unreachable but did not free: 2.7's cycles with __del__,\n"
	    "everything under gc.DEBUG_SAVEALL, what a program put there itself.\n"
	    "--limit N (default all). " JSON_HELP,
	    "--limit --json" }, 0, 0, 0, true, ins_cmd_garbage },
	{ { "retained", "objgraph-retained", "[ADDRESS] [--tree] [--limit N] [--max-depth N] [--json]",
	    "What objects keep alive alone: retained sizes over the heap's dominator tree.",
	    "x retains y when every path of references from a root to y passes through x: what\n"
	    "would be freed if x's last reference went away, x included, counted and sized as\n"
	    "sys.getsizeof does. The roots are the objects the heap's references do not explain\n"
	    "(a refcount above the references to it: C code, the interpreter, a hidden reference),\n"
	    "3.12+ immortal objects, the threads' frames and their locals, and what none of those\n"
	    "reaches (garbage). Without ADDRESS, the objects that retain the most bytes (--limit N,\n"
	    "default 10, 0 for all) and the heap's total; with ADDRESS, what it retains by type\n"
	    "(--limit N types) and its immediate dominators up to a root. With ADDRESS --tree, the top\n"
	    "of its dominator tree (Eclipse MAT's): what it retains, indented, each object's children\n"
	    "most bytes first, --limit N children each (default 10, 0 for all), --max-depth N levels\n"
	    "(default 3). With --json, prints {\"total_bytes\",\"top\":[{\"address\",\"type\",\n"
	    "\"repr\",\"count\",\"bytes\",\"chain\":[as objgraph-chain's]}]} or {\"address\",\"type\",\n"
	    "\"repr\",\"count\",\"bytes\",\"root\",\"dominators\":[{\"address\",\"type\",\"repr\",\n"
	    "\"edge\"}],\"holds\":[{\"type\",\"count\",\"bytes\"}]} or, with --tree, {\"tree\":\n"
	    "[{\"address\",\"type\",\"repr\",\"count\",\"bytes\",\"depth\"}]} in preorder.",
	    "--tree --limit --max-depth --json" }, 0, 1, 10, true, ins_cmd_retained },
	{ { "suspects", "objgraph-suspects", "[--limit N] [--threshold PCT] [--json]",
	    "Leak suspects, as Eclipse MAT reports them: what retains the largest share of the heap.",
	    "The objects nothing else keeps alive (the top of objgraph-retained's dominator tree)\n"
	    "that retain --threshold PCT percent of the heap's bytes or more (default 10), at most\n"
	    "--limit N (default 5, 0 for all), largest first. For each, its accumulation point: down\n"
	    "the dominator tree while one object retains 70% or more of what its dominator does, to\n"
	    "where the bytes spread over many objects -- the container where objects of one type\n"
	    "pile up; what piles up there (the type whose objects there retain the most: count and\n"
	    "bytes), the chain from a module or a thread's frame to it (objgraph-chain --to root),\n"
	    "and one sentence. When the process runs with tracemalloc, also where most of what piles\n"
	    "up was allocated (the most common most recent frame of their tracebacks).\n"
	    "With --json, prints {\"total_bytes\",\"threshold\",\"suspects\":\n"
	    "[{\"address\",\"type\",\"repr\",\"count\",\"bytes\",\"share\",\"accumulation\":\n"
	    "{\"address\",\"type\",\"repr\",\"label\",\"count\",\"bytes\"},\"chain\":[...],\n"
	    "\"accumulated\":{\"type\",\"count\",\"bytes\",\"referrer\",\"allocated_at\":{\"file\",\n"
	    "\"line\",\"count\"} or null},\"sentence\"}]}.",
	    "--limit --threshold --json" }, 0, 0, 5, true, ins_cmd_suspects },
	{ { "stacks", "objgraph-stacks", "[--locals] [--greenlets] [--json]",
	    "Every thread's Python stack, and which thread holds the GIL (sys._current_frames).",
	    "For each thread of the main interpreter (newest first), its id (threading.get_ident())\n"
	    "and its frames, most recent call first as faulthandler and py-bt print them, each as\n"
	    "traceback shows it: File \"file\", line N (frame.f_lineno), in function (co_name).\n"
	    "--locals adds each frame's locals (frame.f_locals: fast locals, cell contents, free\n"
	    "variables that are set; the namespace of module-level and class-body frames) in\n"
	    "objgraph's short repr. The GIL holder is read from the GIL's state (3.7+) or the\n"
	    "current thread state (2.7, 3.6). --greenlets also lists every suspended greenlet (the\n"
	    "greenlet package: gevent, eventlet) with the stack from its gr_frame (the greenlet\n"
	    "type's own getter, run in the emulator). With --json, prints {\"threads\": [{\"thread_id\",\n"
	    "\"gil\" (true, false, or null when it cannot be told), \"tstate\", \"frames\": [{\"function\",\n"
	    "\"file\", \"line\", \"address\" (the frame object, or from 3.11 the _PyInterpreterFrame),\n"
	    "\"frame_object\" (or null), \"locals\" (with --locals): {name: repr}}]}], and with\n"
	    "--greenlets \"greenlets\": [{\"address\", \"type\", \"frames\"}] by address and\n"
	    "\"greenlets_found\" (all greenlet objects)}, frames innermost first.",
	    "--locals --greenlets --json" }, 0, 0, -1, false, ins_cmd_stacks },
	{ { "tasks", "objgraph-tasks", "[--tree] [--all] [--json]",
	    "Every pending asyncio task, its await chain and what it waits on (asyncio.all_tasks).",
	    "Finds the tasks on the GC lists (instances of _asyncio.Task and its subclasses, 3.7+) and\n"
	    "lists the pending ones (--all: finished and cancelled ones still alive too). First a\n"
	    "summary: how many, on which event loop and thread (the loop's _thread_id), and how many\n"
	    "run each coroutine waiting on the same thing (\"3 x consumer waiting on Queue.get\").\n"
	    "Then each task: name (3.8+), state, coroutine and await chain: the task's coroutine, then\n"
	    "each coroutine it awaits (cr_await), outermost first, as File \"file\", line N, in\n"
	    "function, ending with the Future or Task the innermost one waits on; the task or future\n"
	    "it is awaiting (Task._fut_waiter), the tasks awaiting it (directly, or through a gather)\n"
	    "and its loop. --tree prints the awaited-by forest instead, as `python -m asyncio pstree`:\n"
	    "each task under the tasks that await it (a gather's children under the gathering task).\n"
	    "With --json, prints {\"tasks\": [{\"address\", \"name\", \"state\", \"coro\",\n"
	    "\"coro_address\", \"await_chain\": [{\"function\", \"qualname\", \"file\", \"line\"}],\n"
	    "\"waits_on\": {\"type\", \"address\"} or null, \"awaiting\" (or null), \"awaited_by\":\n"
	    "[...], \"loop\", \"thread_id\"}] by address, \"summary\": [{\"coro\", \"waiting_on\",\n"
	    "\"count\"}], and with --tree \"tree\": [{\"address\", \"depth\", \"parent\", \"repeated\"}]\n"
	    "in preorder}.",
	    "--tree --all --json" }, 0, 0, -1, true, ins_cmd_tasks },
	{ { "allocations", "objgraph-allocations", "[--limit N] [--group-by lineno|filename|traceback] [--json]",
	    "Where the traced memory was allocated: tracemalloc's statistics at the moment of the image.",
	    "When the process runs with tracemalloc (PYTHONTRACEMALLOC=N, tracemalloc.start(N)), its\n"
	    "traces are in memory: the size and traceback of every block allocated since tracing began\n"
	    "and not freed. Groups them as tracemalloc.take_snapshot().statistics(KEY) would then:\n"
	    "by the line of the most recent frame (lineno, the default), by its file (filename) or by\n"
	    "the whole traceback (traceback), largest first, with the same numbers and order. --limit N\n"
	    "rows (default 10, 0 for all). When tracemalloc is not tracing, says so (exit 0). With\n"
	    "--json, prints {\"tracing\",\"traced_bytes\",\"traced_blocks\",\"top\":[{\"file\",\"line\",\n"
	    "\"size\",\"count\"}]} (with --group-by traceback, each with \"traceback\": [{\"file\",\n"
	    "\"line\"}], most recent call first); not tracing: {\"tracing\":false,\"note\",...}.",
	    "--limit --group-by --json" }, 0, 0, 10, false, ins_cmd_allocations },
	{ { "memory", "objgraph-memory", "[--limit N] [--json]",
	    "Where the process's memory goes: pymalloc's arenas, pools and blocks, objects, segments.",
	    "pymalloc's arenas, pools and blocks as sys._debugmallocstats() counts them (arenas\n"
	    "allocated, bytes in allocated and available blocks, free pools, each size class's pools\n"
	    "and blocks, arenas nearly empty), read from obmalloc's state (2.7-3.11: obmalloc.c's\n"
	    "statics, in a stripped build found by what its _Py_GetAllocatedBlocks reads, run in the\n"
	    "emulator; 3.12+: the interpreter's obmalloc); the Python objects' bytes (sys.getsizeof:\n"
	    "tracked ones, frozen ones, and the untracked ones their references reach) and where they\n"
	    "are (in pymalloc's arenas; malloc'd: by size, the --limit N largest, default 10, 0 for\n"
	    "all; static); the image's memory, file-backed and anonymous. With --json, prints\n"
	    "{\"pymalloc\": {\"in_use\", \"found_by\", \"arenas\", \"arena_size\", \"pools\", \"pool_size\",\n"
	    "\"free_pools\", \"allocated_bytes\", \"free_bytes\", ..., \"by_size_class\": [{\"size\",\n"
	    "\"pools\", \"used_blocks\", \"free_blocks\"}]} (or {\"in_use\": false|null, \"why\"}),\n"
	    "\"objects\": {\"tracked\", \"tracked_bytes\", \"frozen\", \"frozen_bytes\", \"untracked\",\n"
	    "\"untracked_bytes\", ..., \"largest_malloced\": [...]}, \"segments\": {\"total\",\n"
	    "\"file_backed\", \"anonymous\", \"pymalloc_arenas\", ...}}.",
	    "--limit --json" }, 0, 0, 10, true, ins_cmd_memory },
	{ { "gc", "objgraph-gc", "[--json]",
	    "The garbage collector's state (gc.isenabled, get_threshold, get_count, len(gc.garbage)).",
	    "Also the number of objects in each generation and frozen by gc.freeze(). " JSON_HELP,
	    "--json" }, 0, 0, -1, true, ins_cmd_gc },
	{ { "info", "objgraph-info", "[--json]",
	    "Which Python this is and how libinspect found it.",
	    "The CPython version, the executable, whether the memory is a core or a live process,\n"
	    "and how the interpreter and its layout were found. " JSON_HELP,
	    "--json" }, 0, 0, -1, true, ins_cmd_info },
	{ { "index", "objgraph-index", "[--json]",
	    "Saves the heap walk, the reference graph and the dominator tree beside the core.",
	    "Writes CORE.objinspect-index (or the file of objinspect's --index-file PATH): what every\n"
	    "later command on this core would rebuild (the tracked objects, the graph's nodes and\n"
	    "edges both ways, the address index, the dominator tree with retained sizes). Later\n"
	    "commands map it instead of rebuilding, with the same answers; it is tied to the core,\n"
	    "the executable and libraries it maps and the options, and ignored (with a warning) once\n"
	    "any of them changed. objinspect only: GDB keeps its graph for the stop anyway. " JSON_HELP,
	    "--json" }, 0, 0, -1, false, ins_cmd_index },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

size_t ins_command_count(void)
{
	return NCOMMANDS;
}

const ins_command_info *ins_command_get(size_t i)
{
	return i < NCOMMANDS ? &commands[i].info : NULL;
}


static const command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].info.name, name) == 0 || strcmp(commands[i].info.gdb_name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Is opt one of the space-separated names in list? */
static bool allowed(const char *list, const char *opt, size_t len)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		if (n == len && strncmp(p, opt, len) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

/* A number option: --limit, --max-depth, --too-many. */
static ins_error *parse_count(const char *cmd, const char *opt, const char *value, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0)
		return ins_err(INS_ERR_USAGE, "%s: %s needs a number >= 0, not '%s'", cmd, opt, value);
	*out = v;
	return NULL;
}

/* Every option, declared once: its name, what its value is, and the field of args it sets. A
 * command accepts the options its table row lists (info.options). */
enum opt_kind {
	OPT_FLAG,   /* no value: the bool field becomes true */
	OPT_COUNT,  /* a number >= 0, into a long field */
	OPT_TEXT,   /* a string, into a const char * field */
	OPT_LIST,   /* repeatable string: appended to a const char *[MAX_POS] field, counted in nat */
};

typedef struct option {
	const char *name;
	enum opt_kind kind;
	size_t at, nat;  /* offsetof(args, field); for OPT_LIST the count's offset too */
} option;

#define OPT(name, kind, field) { name, kind, offsetof(args, field), 0 }
static const option options[] = {
	OPT("--limit", OPT_COUNT, limit),
	OPT("--max-depth", OPT_COUNT, max_depth),
	OPT("--too-many", OPT_COUNT, too_many),
	OPT("--min-size", OPT_COUNT, min_size),
	OPT("--threshold", OPT_COUNT, threshold),
	OPT("--filter", OPT_TEXT, filter),
	OPT("--baseline", OPT_TEXT, baseline),
	OPT("--output", OPT_TEXT, output),
	OPT("--to", OPT_TEXT, to),
	OPT("--group-by", OPT_TEXT, group_by),
	{ "--extra-ignore", OPT_LIST, offsetof(args, ignore), offsetof(args, nignore) },
	OPT("--qualified", OPT_FLAG, qualified),
	OPT("--json", OPT_FLAG, json),
	OPT("--new-ids", OPT_FLAG, new_ids),
	OPT("--all", OPT_FLAG, all),
	OPT("--refcounts", OPT_FLAG, refcounts),
	OPT("--locals", OPT_FLAG, locals),
	OPT("--edges", OPT_FLAG, edges),
	OPT("--verify", OPT_FLAG, verify),
	OPT("--tree", OPT_FLAG, tree),
	OPT("--greenlets", OPT_FLAG, greenlets),
	OPT("--raw", OPT_FLAG, raw),
	OPT("--retained", OPT_FLAG, retained),
};
#undef OPT

static const option *find_option(const char *arg, size_t len)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strlen(options[i].name) == len && strncmp(options[i].name, arg, len) == 0)
			return &options[i];
	return NULL;
}

/* Sets the field of option o from value. */
static ins_error *set_option(const char *cmd, const option *o, const char *value, args *a)
{
	char *field = (char *)a + o->at;
	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)field = true;
		return NULL;
	case OPT_COUNT:
		return parse_count(cmd, o->name, value, (long *)field);
	case OPT_TEXT:
		*(const char **)field = value;
		return NULL;
	case OPT_LIST: {
		int *n = (int *)((char *)a + o->nat);
		if (*n >= MAX_POS)
			return ins_err(INS_ERR_USAGE, "%s: at most %d %s", cmd, MAX_POS, o->name);
		((const char **)field)[(*n)++] = value;
		return NULL;
	}
	}
	return NULL;
}

static ins_error *parse_args(const command *c, int argc, char **argv, args *a)
{
	const char *cmd = c->info.gdb_name;
	memset(a, 0, sizeof(*a));
	a->limit = c->default_limit;
	a->max_depth = a->too_many = a->min_size = a->threshold = -1;
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
			if (a->npos >= c->max_pos || a->npos >= MAX_POS)
				return ins_err(INS_ERR_USAGE, "%s: unexpected argument '%s' (usage: %s %s)", cmd, arg,
					       cmd, c->info.usage);
			a->pos[a->npos++] = arg;
			continue;
		}
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		const option *o = allowed(c->info.options, arg, len) ? find_option(arg, len) : NULL;
		if (!o)
			return ins_err(INS_ERR_USAGE, "%s: unknown option '%.*s' (usage: %s %s)", cmd, (int)len, arg,
				       cmd, c->info.usage);
		const char *value = eq ? eq + 1 : NULL;
		bool takes = o->kind != OPT_FLAG;
		if (takes && !value) {
			if (i + 1 >= argc)
				return ins_err(INS_ERR_USAGE, "%s: option '%s' needs a value", cmd, arg);
			value = argv[++i];
		} else if (!takes && value) {
			return ins_err(INS_ERR_USAGE, "%s: option '%.*s' takes no value", cmd, (int)len, arg);
		}
		ins_error *err = set_option(cmd, o, value, a);
		if (err)
			return err;
	}
	if (a->npos < c->min_pos)
		return ins_err(INS_ERR_USAGE, "%s: missing argument (usage: %s %s)", cmd, cmd, c->info.usage);
	return NULL;
}

ins_ctx *ins_ctx_new(void)
{
	return calloc(1, sizeof(ins_ctx));
}

void ins_ctx_set_index(ins_ctx *ctx, int mode, const char *path)
{
	if (!ctx)
		return;
	ctx->index_mode = mode;
	ctx->index_file = path;
}

void ins_ctx_free(ins_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->npeaks; i++)
		free(ctx->peaks[i].name);
	free(ctx->peaks);
	free(ctx->ids);
	free(ctx);
}


/* The command's answer, or its error line after the warnings: into *out and *err_out. */
static int finish(ins_error *err, ins_buf *out_buf, ins_buf *err_buf, char **out, char **err_out)
{
	int code = INS_OK;
	if (err) {
		ins_buf_free(out_buf);
		ins_buf_printf(err_buf, "error: %s\n", err->message);
		code = err->code ? err->code : INS_ERR_FAIL;
		ins_error_free(err);
	} else if (out_buf->oom) {
		ins_buf_free(out_buf);
		ins_buf_puts(err_buf, "error: out of memory\n");
		code = INS_ERR_NOMEM;
	}
	*out = ins_buf_take(out_buf);
	*err_out = ins_buf_take(err_buf);
	return code;
}

static ins_error *parse_command(ins_ctx *ctx, int argc, char **argv, const command **cmd, args *a)
{
	*cmd = argc > 0 ? find_command(argv[0]) : NULL;
	if (!*cmd)
		return ins_err(INS_ERR_USAGE, "unknown command '%s'", argc > 0 ? argv[0] : "");
	if (!ctx)
		return ins_err(INS_ERR_USAGE, "no context");
	return parse_args(*cmd, argc, argv, a);
}

/* The command on session s (walked first when it needs the heap); s's warnings go to
 * err_buf meanwhile. The one path of ins_run and ins_cli_run. */
static ins_error *run_command(ins_ctx *ctx, const command *cmd, const args *a, ins_session *s,
			      const ins_source *src, ins_buf *out_buf, ins_buf *err_buf)
{
	ins_buf *keep = s->warn;
	s->warn = err_buf;
	ins_error *err = cmd->heap ? ins_session_heap(s) : NULL;
	if (!err)
		err = cmd->run(&(call){ ctx, s, src, a, out_buf, err_buf });
	s->warn = keep;
	return err;
}

int ins_run(ins_ctx *ctx, const ins_source *src, int argc, char **argv, char **out, char **err_out)
{
	ins_buf out_buf = { 0 }, err_buf = { 0 };
	const command *cmd;
	args a;
	ins_error *err = parse_command(ctx, argc, argv, &cmd, &a);
	ins_session *s = NULL;
	if (!err)
		err = ins_cmd_open(src, &err_buf, false, &s);
	/* the saved index: index writes it; --index reads or writes it; else a valid one is read */
	if (!err && src->core)
		err = ins_session_set_index(s, src->core, ctx->index_file,
					    cmd->run == ins_cmd_index || ctx->index_mode == INS_CLI_INDEX_NEVER ? INS_INDEX_OFF
					    : ctx->index_mode == INS_CLI_INDEX_USE ? INS_INDEX_WRITE
										   : INS_INDEX_AUTO);
	if (!err)
		err = ins_session_prepare_index(s);
	if (!err)
		err = run_command(ctx, cmd, &a, s, src, &out_buf, &err_buf);
	ins_session_close(s);
	return finish(err, &out_buf, &err_buf, out, err_out);
}

int ins_cli_run(ins_ctx *ctx, ins_program *p, int argc, char **argv, char **out, char **err_out)
{
	ins_buf out_buf = { 0 }, err_buf = { 0 };
	const command *cmd;
	args a;
	ins_error *err = parse_command(ctx, argc, argv, &cmd, &a);
	if (!err && !p)
		err = ins_err(INS_ERR_USAGE, "no program");
	if (!err) {
		/* what the program gathered so far (opening it, an earlier command's walk) comes
		 * first, once; this command's warnings go with its answer */
		ins_buf_puts(&err_buf, ins_program_warnings(p));
		ins_program_clear_warnings(p);
		ins_session *s = ins_program_session(p);
		/* a baseline core (growth) is opened as the program was: same sysroot, debug info */
		ins_source src = { .sysroot = s->img->sysroot, .debug_dir = s->img->debug_dir };
		err = run_command(ctx, cmd, &a, s, &src, &out_buf, &err_buf);
	}
	return finish(err, &out_buf, &err_buf, out, err_out);
}
