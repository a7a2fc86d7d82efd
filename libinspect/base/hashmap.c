/* hashmap.c -- see hashmap.h. Linear probing, power-of-two capacity, load <= 1/2. */
#include "hashmap.h"
#include "bigmem.h"

#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static bool grow(ins_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint64_t *k = ins_big_calloc(cap, sizeof(*k)), *v = ins_big_calloc(cap, sizeof(*v));
	if (!k || !v) {
		free(k);
		free(v);
		return false;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t s = slot_of(m->keys[i], cap);
		while (k[s])
			s = (s + 1) & (cap - 1);
		k[s] = m->keys[i];
		v[s] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = k;
	m->vals = v;
	m->cap = cap;
	return true;
}

uint64_t *ins_map_slot(ins_map *m, uint64_t key, uint64_t init)
{
	if ((m->n + 1) * 2 > m->cap && !grow(m))
		return NULL;
	size_t s = slot_of(key, m->cap);
	while (m->keys[s] && m->keys[s] != key)
		s = (s + 1) & (m->cap - 1);
	if (!m->keys[s]) {
		m->keys[s] = key;
		m->vals[s] = init;
		m->n++;
	}
	return &m->vals[s];
}

bool ins_map_get(const ins_map *m, uint64_t key, uint64_t *val)
{
	if (!m->cap)
		return false;
	size_t s = slot_of(key, m->cap);
	while (m->keys[s]) {
		if (m->keys[s] == key) {
			*val = m->vals[s];
			return true;
		}
		s = (s + 1) & (m->cap - 1);
	}
	return false;
}

void ins_map_free(ins_map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = m->vals = NULL;
	m->cap = m->n = 0;
}

void ins_vec_push(ins_vec *a, uint64_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		uint64_t *v = a->oom ? NULL : ins_big_realloc(a->v, cap, sizeof(*v));
		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
}
