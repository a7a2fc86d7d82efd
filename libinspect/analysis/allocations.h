/* allocations.h -- tracemalloc's statistics, as tracemalloc.take_snapshot().statistics(key)
 * computes them at the moment of the image: the traces (cpython/tracemalloc.h) grouped by
 * the line of their most recent frame (lineno), by its file (filename, line 0) or by their
 * whole traceback, each group's bytes and blocks, sorted as Statistic._sort_key does:
 * (size, count, traceback) largest first, tracebacks compared as Lib/tracemalloc.py's
 * Traceback compares its frames (oldest first from 3.7, most recent first in 3.6), frames as
 * (filename, lineno) tuples. Also the lookup tracemalloc.get_object_traceback(obj) makes,
 * from the start of the object's memory block (GC header and pre-header included: 3.11's
 * own lookup misses objects with a pre-header, this does not).
 */
#ifndef INS_ALLOCATIONS_H
#define INS_ALLOCATIONS_H

#include "session.h"
#include "tracemalloc.h"

enum ins_alloc_key { INS_ALLOC_LINENO, INS_ALLOC_FILENAME, INS_ALLOC_TRACEBACK };

typedef struct ins_alloc_stat {
	uint32_t tb;            /* a traceback of the group (index into tm.tbs) */
	uint64_t size, count;
} ins_alloc_stat;

typedef struct ins_allocations {
	ins_tracemalloc tm;
	enum ins_alloc_key key;
	uint64_t traced_bytes, traced_blocks;
	ins_alloc_stat *stats;  /* every group, in Snapshot.statistics' order */
	size_t nstats;
} ins_allocations;

/* Parses "lineno", "filename", "traceback"; false for anything else. */
bool ins_alloc_key_parse(const char *text, enum ins_alloc_key *key);
const char *ins_alloc_key_name(enum ins_alloc_key key);

/* The statistics (none when the state is not INS_TM_TRACING: tm.state says why). */
ins_error *ins_allocations_read(ins_session *s, enum ins_alloc_key key, ins_allocations *out);
void ins_allocations_free(ins_allocations *a);

/* The traceback of the object at obj (tracemalloc.get_object_traceback), or NULL when its
 * block was not traced (allocated before tracing started, or not by Python's allocators). */
const ins_tm_traceback *ins_alloc_object_traceback(ins_session *s, const ins_tracemalloc *tm, uint64_t obj);

/* Where objects were allocated: the most recent frame of their tracebacks. */
typedef struct ins_alloc_site {
	uint32_t file;          /* index into tm.files */
	uint32_t line;
	uint64_t count;         /* objects allocated there */
} ins_alloc_site;

/* The allocation sites of the objects objs[0, n) that were traced, most objects first (then
 * by file name and line); *sites malloc'd (none when tm is not tracing). */
ins_error *ins_alloc_sites(ins_session *s, const ins_tracemalloc *tm, const uint64_t *objs, size_t n,
			   ins_alloc_site **sites, size_t *nsites);

#endif
