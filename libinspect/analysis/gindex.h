/* gindex.h -- the saved index of a core: what the commands would otherwise rebuild on every
 * run, in one file beside the core (CORE.objinspect-index), mapped read-only by later runs.
 *
 * It holds the heap walk (ins_heap: the tracked objects' addresses, generations, types), the
 * reference graph (ins_graph: addresses, the CSR edges both ways with their flags, hidden
 * references per node, the address index with its wild entries, the inferred nodes, the
 * counters, the emulator's statistics of the build) and the dominator tree (ins_dominators:
 * idom, root kinds, preorder, retained count and bytes), and the warnings each of those
 * steps gave, which are given again where the step would have run: an answer read from the
 * index is byte for byte the answer built from the core.
 *
 * The file is tied to its core by a key: the core's size and mtime, a hash of its ELF
 * header, program headers and notes (the NT_FILE table and the build-ids are there), the
 * path, size and mtime of every file the image maps (the executable, --exe, the libraries,
 * under --sysroot), --sysroot and --debug-dir, the options that change the graph
 * (OBJINSPECT_EMULATION), the format version and the libinspect binary that wrote it. Every
 * section carries a hash of its bytes, checked when the section is first used.
 *
 * The file is hostile input like the core: every count is checked against the file's size
 * (checked arithmetic), every node number against n, every CSR offset for monotonicity and
 * its end, each run of the reverse index in source order,
 * the address index's entries and probing, the dominator tree's shape (a preorder in which
 * each node follows its idom, counts that add up). A file whose header says its sections are
 * unhashed (INS_GI_UNHASHED, for the fuzzer) still gets every bounds check.
 */
#ifndef INS_GINDEX_H
#define INS_GINDEX_H

#include "dominators.h"
#include "graph.h"
#include "session.h"

#define INS_GI_SUFFIX ".objinspect-index"

typedef struct ins_gindex ins_gindex;

enum ins_gi_status {
	INS_GI_OK,
	INS_GI_ABSENT,  /* no such file */
	INS_GI_STALE,   /* a valid index of another core, build or options; *why says which */
	INS_GI_CORRUPT, /* not an index, truncated, a hash or a bound that fails; *why says which */
};

/* The default index of a core: core + INS_GI_SUFFIX (malloc'd, NULL when out of memory). */
char *ins_gindex_default_path(const char *core);

/* Opens the index at path for s's image (core: the core's path) and checks its header and
 * key. INS_GI_OK sets *out; otherwise *why (static text) says what is wrong. */
enum ins_gi_status ins_gindex_open(ins_session *s, const char *core, const char *path, ins_gindex **out,
				   const char **why);
void ins_gindex_close(ins_gindex *gi);

/* Points h, g, d into the mapped file, after checking their sections (once each): false and
 * *why when a check fails (nothing is set then). The arrays belong to gi (h and g are then
 * never to be freed with ins_heap_free/ins_graph_free; d is marked mapped). */
bool ins_gindex_heap(ins_gindex *gi, ins_heap *h, const char **why);
bool ins_gindex_graph(ins_gindex *gi, ins_graph *g, const char **why);
bool ins_gindex_has_dominators(const ins_gindex *gi);
bool ins_gindex_dominators(ins_gindex *gi, ins_dominators *d, const char **why);

/* Checks every section (as the three above do) without using them. */
bool ins_gindex_check(ins_gindex *gi, const char **why);

/* The warnings a step gave when the index was written, to be given again. */
enum ins_gi_step { INS_GI_STEP_HEAP, INS_GI_STEP_GRAPH, INS_GI_STEP_DOM, INS_GI_NSTEPS };
void ins_gindex_replay(const ins_gindex *gi, enum ins_gi_step step, ins_buf *warn);
/* The emulator's statistics when the graph was built (ins_trav_emu_stats). */
void ins_gindex_emu_stats(const ins_gindex *gi, uint64_t *emulated, uint64_t *failed, uint64_t *wrote);

/* What ins_gindex_write wrote. */
typedef struct ins_gindex_info {
	uint64_t bytes;
	size_t nodes, edges, tracked;
	bool dominators;
} ins_gindex_info;

/* Writes s's heap (walked), graph (built) and d (or NULL) to path, atomically (a temporary
 * file renamed over it), with the warnings of each step (text, or NULL) and the emulator's
 * statistics of the build. core: the core's path, for the key. */
ins_error *ins_gindex_write(ins_session *s, const char *core, const char *path, const ins_dominators *d,
			    const ins_buf *warnings[INS_GI_NSTEPS], const uint64_t emu[3], ins_gindex_info *info);

#endif
