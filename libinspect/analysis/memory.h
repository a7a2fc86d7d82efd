/* memory.h -- where a process's memory goes, read from its image: pymalloc's arenas, pools
 * and blocks, the Python objects' bytes, and the image's memory by kind.
 *
 * pymalloc: the numbers sys._debugmallocstats() prints, computed as it does (obmalloc.c's
 * _PyObject_DebugMallocStats): every arena of the arena array (address != 0) is walked pool
 * by pool up to its pool_address; a pool whose ref.count is 0 is free, any other counts its
 * blocks in use (ref.count) and available (what its size class holds minus those) for its
 * size class (szidx); free pools are the arenas' nfreepools (the never-used pools at an
 * arena's end included). The state is obmalloc.c's statics (arenas, maxarenas,
 * narenas_currently_allocated, ...) found by name in the symbol table for 2.7-3.11, the
 * main interpreter's obmalloc (struct _obmalloc_state) for 3.12+; sizes and offsets come
 * from the layout tables. A build whose symbol table lacks the statics (a stripped 2.7-3.11:
 * only .dynsym) has them found by running its exported _Py_GetAllocatedBlocks in the emulator
 * and watching what it reads (found_by; the arena array must then hold together entirely,
 * and the counters of arenas ever allocated are unknown); failing that, no readable state
 * (pymalloc < 0, why says so). A process with no arena at all does not use pymalloc
 * (PYTHONMALLOC=malloc, or built --without-pymalloc).
 *
 * Objects: the reference graph's nodes (tracked objects, frozen ones apart, then the
 * untracked ones their references reach, transitively), sized as sys.getsizeof; each is placed by its address:
 * inside a pymalloc arena, inside a mapped file (static objects: builtin types, None...), or
 * elsewhere: allocated with malloc (too big for pymalloc, or allocated outside of it). An
 * object's bytes are sys.getsizeof's: a list's, dict's or set's include its table, which
 * has a block of its own (malloc'd when big) wherever the object's header is. Without a
 * readable pymalloc state (pymalloc < 0) objects are counted and sized but not placed.
 *
 * Segments: the image's memory (a core's dumped segments, a live process's copied writable
 * mappings), split into what mapped files back and anonymous memory, of which pymalloc's
 * arenas are a part. Thread stacks are the segments holding a thread's stack pointer (the
 * image's: a core's NT_PRSTATUS, a stopped live process's threads), when the image knows them.
 */
#ifndef INS_MEMORY_H
#define INS_MEMORY_H

#include "session.h"

typedef struct ins_size_class {
	uint32_t size;            /* block size */
	uint64_t pools, used_blocks, free_blocks;
} ins_size_class;

/* malloc'd objects by size: [min, max) */
typedef struct ins_size_bucket {
	uint64_t min, max, count, bytes;
} ins_size_bucket;

typedef struct ins_big_object {
	uint64_t addr, size;
	const ins_type *type;
} ins_big_object;

#define INS_MEM_BUCKETS 6

typedef struct ins_memory {
	int pymalloc;             /* 1 read; 0 not in use (no arena); -1 its state cannot be read */
	char *why;                /* pymalloc <= 0: one line saying why */
	uint64_t arena_size, pool_size, alignment;
	uint64_t arenas;          /* arenas allocated current */
	uint64_t arenas_total, arenas_highwater;  /* ntimes_arena_allocated, narenas_highwater */
	bool counters;            /* those two are known (not when found_by) */
	const char *found_by;     /* NULL: by name or in the interpreter; else the function whose
				     reads, emulated, said where the arena array is (a stripped build:
				     the symbol table lacks obmalloc.c's statics) */
	uint64_t used_pools, free_pools;
	uint64_t allocated_bytes; /* bytes in allocated blocks */
	uint64_t free_bytes;      /* bytes in available blocks (free blocks of used pools) */
	uint64_t pool_header_bytes, quantization_bytes, alignment_bytes;
	uint64_t nearly_empty;    /* arenas with at most a tenth of their bytes in blocks in use */
	uint64_t nearly_empty_used_bytes;  /* the bytes in use in them */
	ins_size_class *classes;  /* every size class, nclasses of them */
	size_t nclasses;
	uint64_t *arena_base;     /* the arenas' addresses, sorted (arenas of them) */

	bool objects;             /* the counts below were made */
	uint64_t tracked, tracked_bytes;      /* gc.get_objects() */
	uint64_t frozen, frozen_bytes;        /* gc.freeze()'s permanent generation */
	uint64_t untracked, untracked_bytes;  /* reached by references from those */
	uint64_t in_pymalloc, in_pymalloc_bytes, in_malloc, in_malloc_bytes, in_static, in_static_bytes;
	ins_size_bucket malloc_by_size[INS_MEM_BUCKETS];
	ins_big_object *largest;  /* the largest malloc'd objects, largest first */
	size_t nlargest;

	uint64_t seg_total, seg_file, seg_anon;
	size_t nsegs;
	bool stacks;              /* the image knows its threads' stack pointers: */
	uint64_t threads;         /* how many threads */
	uint64_t stack_segs, stack_bytes;  /* the segments holding one or more of them */
} ins_memory;

/* Reads pymalloc's state, sizes the graph's objects (building the graph; limit: how many
 * of the largest malloc'd objects to keep) and sums the image's segments. */
ins_error *ins_memory_read(ins_session *s, size_t limit, ins_memory *out);  /* limit 0: all */
void ins_memory_free(ins_memory *m);

#endif
