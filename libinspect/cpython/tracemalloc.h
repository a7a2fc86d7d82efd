/* tracemalloc.h -- tracemalloc's traces read out of the image: every traced memory block
 * (its domain, address and size) with the traceback of its allocation, as
 * tracemalloc.take_snapshot() would copy them, and the lookup get_object_traceback() does.
 *
 * The state is found by name for 3.4-3.11 (Modules/_tracemalloc.c's statics
 * tracemalloc_traces, tracemalloc_domains (3.9+), and the config: tracemalloc_config in
 * 3.6, the exported _Py_tracemalloc_config 3.7-3.11), in _PyRuntime.tracemalloc from 3.12.
 * The tables are CPython's _Py_hashtable_t (layout_fields.def says which of its two
 * implementations a build has). Tracebacks are interned by address, their filenames by text:
 * a file's rank is its place in the sorted list of names, so comparing ranks compares the
 * names as Python compares strs. Every table, chain and traceback read is bounded.
 */
#ifndef INS_TRACEMALLOC_H
#define INS_TRACEMALLOC_H

#include "object.h"

typedef struct ins_tm_frame {
	uint32_t file;          /* index into files (sorted: the index is the rank) */
	uint32_t line;
} ins_tm_frame;

typedef struct ins_tm_traceback {
	size_t first;           /* its frames are frames[first .. first + nframe), most recent first */
	uint32_t nframe;
} ins_tm_traceback;

typedef struct ins_tm_trace {
	uint64_t ptr;           /* the block */
	uint64_t size;
	uint32_t domain;        /* 0: Python's own allocators */
	uint32_t tb;            /* index into tracebacks */
} ins_tm_trace;

enum ins_tm_state {
	INS_TM_UNSUPPORTED,     /* this Python has no tracemalloc (2.7) */
	INS_TM_NOT_FOUND,       /* its state is static and the symbol table lacks it (stripped) */
	INS_TM_NOT_TRACING,     /* tracemalloc.is_tracing() is False */
	INS_TM_TRACING,
};

typedef struct ins_tracemalloc {
	enum ins_tm_state state;
	int tracing;            /* is_tracing() when known (NOT_FOUND too), else -1 */
	ins_tm_trace *traces;   /* sorted by (domain, ptr) */
	size_t ntraces;
	ins_tm_traceback *tbs;
	size_t ntbs;
	ins_tm_frame *frames;
	size_t nframes;
	char **files;           /* sorted, distinct */
	size_t nfiles;
	bool oldest_first;      /* Lib/tracemalloc.py's Traceback keeps frames oldest first (3.7+) */
} ins_tracemalloc;

/* Reads the traces (everything when tracing; state alone otherwise). A table that does not
 * hold together is INS_ERR_CORRUPT. */
ins_error *ins_tracemalloc_read(ins_objects *o, ins_tracemalloc *out);
void ins_tracemalloc_free(ins_tracemalloc *tm);
/* One line saying why there are no traces (state other than TRACING). */
const char *ins_tracemalloc_why(const ins_tracemalloc *tm);
/* The trace of the block at ptr in domain, or NULL. */
const ins_tm_trace *ins_tracemalloc_find(const ins_tracemalloc *tm, uint32_t domain, uint64_t ptr);
/* Where the memory block of the object at obj (of type t) starts: in front of its GC header
 * and, from 3.11, its managed dict/weakref pre-header (what tracemalloc traced). */
uint64_t ins_tracemalloc_block_of(ins_objects *o, uint64_t obj, const ins_type *t);

#endif
