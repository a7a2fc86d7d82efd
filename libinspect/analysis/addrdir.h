/* addrdir.h -- a fixed set of addresses, each with a value, found by address.
 *
 * The tracked-only graph's address index (graph.h: ins_graph_build_tracked). Unlike the hash
 * of the whole graph, lookups keep the heap's locality: the addresses are sorted, and a small
 * directory of 64 KB chunks (each with the offsets of its 1 KB sub-blocks) finds the run of
 * sorted addresses to scan. A reference mostly points near its referrer, so the lines it
 * touches are often in the cache already, where a hash sends every lookup somewhere else. An
 * entry takes 6 bytes (the low 16 bits of its address, its value), the directory about 144
 * bytes per 64 KB of address space that holds entries.
 */
#ifndef INS_ADDRDIR_H
#define INS_ADDRDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct ins_addr_chunk ins_addr_chunk;

typedef struct ins_addr_dir {
	uint16_t *low;           /* each chunk's run: the low 16 bits of its addresses, ascending,
				  * distinct (the chunk's key holds the rest) */
	uint32_t *value;         /* per entry */
	size_t n;
	ins_addr_chunk *chunks;  /* open addressing by addr >> 16 */
	size_t cap;
} ins_addr_dir;

/* The directory of addrs[0 .. n), each mapped to its index i. An address listed more than
 * once maps to its first index; dup[i] (n bytes) is set for the others. */
ins_error *ins_addr_dir_build(ins_addr_dir *d, const uint64_t *addrs, size_t n, uint8_t *dup);
/* Replaces each value v by map[v]. */
void ins_addr_dir_remap(ins_addr_dir *d, const uint32_t *map);
bool ins_addr_dir_get(const ins_addr_dir *d, uint64_t addr, uint32_t *value);
/* Starts loading what ins_addr_dir_get(addr) reads first. */
void ins_addr_dir_prefetch(const ins_addr_dir *d, uint64_t addr);
void ins_addr_dir_free(ins_addr_dir *d);

#endif
