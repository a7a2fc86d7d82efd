/* hashmap.h -- an open-addressing map from 64-bit keys (addresses) to 64-bit values,
 * and growable arrays of them. */
#ifndef INS_HASHMAP_H
#define INS_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ins_map {
	uint64_t *keys, *vals;  /* key 0 marks an empty slot: 0 is never an object address */
	size_t cap, n;
} ins_map;

/* Pointer to the value for key, inserted as `init` if absent; NULL when out of memory. */
uint64_t *ins_map_slot(ins_map *m, uint64_t key, uint64_t init);
bool ins_map_get(const ins_map *m, uint64_t key, uint64_t *val);
void ins_map_free(ins_map *m);

/* A growable array of addresses. */
typedef struct ins_vec {
	uint64_t *v;
	size_t n, cap;
	bool oom;  /* a push failed: the array misses values */
} ins_vec;

void ins_vec_push(ins_vec *a, uint64_t x);

#endif
