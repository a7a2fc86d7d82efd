/* hashmap.c -- ins_map: 100000 keys (object-like addresses, 16-byte aligned, plus some
 * spread far apart) go in and come back with their values; keys never inserted are
 * absent; inserting a key again returns its existing slot and keeps its value. */
#include <stdio.h>
#include <stdlib.h>

#include "hashmap.h"
#include "check.h"


#define N 100000

/* The i-th key: mostly dense 16-byte-aligned heap addresses, every 7th one far away. */
static uint64_t key(size_t i)
{
	return i % 7 ? 0x7f0000001000ULL + 16 * (uint64_t)i : 0x560000000000ULL + ((uint64_t)i << 20);
}

int main(void)
{
	ins_map m = { 0 };
	uint64_t v;
	CHECK(!ins_map_get(&m, key(1), &v), "an empty map has no keys");

	size_t bad_insert = 0;
	for (size_t i = 0; i < N; i++) {
		uint64_t *slot = ins_map_slot(&m, key(i), 0);
		if (!slot || *slot != 0) {
			bad_insert++;
			continue;
		}
		*slot = (uint64_t)i * 3 + 1;
	}
	CHECK(bad_insert == 0, "%d new keys inserted, each with its initial value (%zu wrong)", N, bad_insert);
	CHECK(m.n == N, "the map counts %zu keys, expected %d", m.n, N);

	size_t missing = 0, wrong = 0;
	for (size_t i = 0; i < N; i++) {
		if (!ins_map_get(&m, key(i), &v))
			missing++;
		else if (v != (uint64_t)i * 3 + 1)
			wrong++;
	}
	CHECK(missing == 0 && wrong == 0, "every key comes back with its value (%zu missing, %zu wrong)", missing, wrong);

	/* Never keys: not 16-byte aligned (+8, odd), or in a range no key falls in. */
	size_t present = 0;
	for (size_t i = 0; i < N; i++) {
		uint64_t absent[] = { key(i) + 8, key(i) | 1, 0x100000000000ULL + (uint64_t)i * 16 };
		for (size_t j = 0; j < sizeof(absent) / sizeof(*absent); j++)
			if (ins_map_get(&m, absent[j], &v))
				present++;
	}
	CHECK(present == 0, "%d keys never inserted are absent (%zu found)", 3 * N, present);
	CHECK(m.n == N, "looking keys up inserts nothing");

	size_t changed = 0;
	for (size_t i = 0; i < N; i += 97) {
		uint64_t *slot = ins_map_slot(&m, key(i), 12345);
		if (!slot || *slot != (uint64_t)i * 3 + 1)
			changed++;
		else
			*slot += 1;
	}
	CHECK(changed == 0 && m.n == N, "inserting an existing key returns its slot, value kept, no new key");
	CHECK(ins_map_get(&m, key(97), &v) && v == 97 * 3 + 2, "a value written through the slot is kept");

	ins_map_free(&m);
	CHECK(m.n == 0 && m.cap == 0 && !ins_map_get(&m, key(1), &v), "a freed map is empty");
	return check_summary();
}
