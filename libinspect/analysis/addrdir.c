/* addrdir.c -- sorted addresses with a chunk directory (see addrdir.h). */
#include "addrdir.h"
#include "bigmem.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT 16  /* 64 KB chunks */
#define SUB_SHIFT 10    /* of 64 sub-blocks of 1 KB */
#define SUBS (1u << (CHUNK_SHIFT - SUB_SHIFT))

/* off[k]: the chunk's entries below sub-block k (off[0] = 0). At most 63 KB of distinct
 * addresses lie below sub-block 63: they fit in 16 bits. */
struct ins_addr_chunk {
	uint64_t key;    /* (addr >> CHUNK_SHIFT) + 1; 0: an empty slot */
	uint32_t first;  /* the chunk's first entry */
	uint32_t count;
	uint16_t off[SUBS];
};

static size_t chunk_hash(uint64_t key, size_t cap)
{
	key *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(key >> 20) & (cap - 1);
}

/* The slot of key: its chunk, or the empty slot where it would go. */
static ins_addr_chunk *chunk_slot(const ins_addr_dir *d, uint64_t key)
{
	size_t h = chunk_hash(key, d->cap);
	while (d->chunks[h].key && d->chunks[h].key != key)
		h = (h + 1) & (d->cap - 1);
	return &d->chunks[h];
}

typedef struct pair {
	uint64_t addr;
	uint32_t index;
} pair;

#define DIGIT 11  /* 2048 buckets: their write positions stay in the cache */

/* LSD radix sort by address, DIGIT bits a pass over the bits that differ between the
 * addresses only (objects are 16-byte aligned and share their top bits), stable (equal
 * addresses keep their order). The result is in *v. */
static bool sort_pairs(pair **v, size_t n)
{
	uint64_t differ = 0;
	for (size_t i = 1; i < n; i++)
		differ |= (*v)[i].addr ^ (*v)[0].addr;
	if (!differ)
		return true;
	unsigned lo = (unsigned)__builtin_ctzll(differ), hi = 64 - (unsigned)__builtin_clzll(differ);
	pair *tmp = ins_big_malloc(n, sizeof(*tmp));
	size_t *count = malloc(((size_t)1 << DIGIT) * sizeof(*count));
	if (!tmp || !count) {
		free(tmp);
		free(count);
		return false;
	}
	const uint64_t mask = ((uint64_t)1 << DIGIT) - 1;
	pair *src = *v, *dst = tmp;
	for (unsigned shift = lo; shift < hi; shift += DIGIT) {
		memset(count, 0, ((size_t)1 << DIGIT) * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(src[i].addr >> shift) & mask]++;
		size_t sum = 0;
		for (size_t k = 0; k <= mask; k++) {
			size_t c = count[k];
			count[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].addr >> shift) & mask]++] = src[i];
		pair *t = src;
		src = dst;
		dst = t;
	}
	free(count);
	free(dst);  /* the buffer that does not hold the result */
	*v = src;
	return true;
}

ins_error *ins_addr_dir_build(ins_addr_dir *d, const uint64_t *addrs, size_t n, uint8_t *dup)
{
	memset(d, 0, sizeof(*d));
	pair *v = ins_big_malloc((n ? n : 1), sizeof(*v));
	if (!v)
		return ins_err_nomem();
	for (size_t i = 0; i < n; i++)
		v[i] = (pair){ addrs[i], (uint32_t)i };
	if (!sort_pairs(&v, n)) {
		free(v);
		return ins_err_nomem();
	}
	d->addr = ins_big_malloc((n ? n : 1), sizeof(*d->addr));
	d->value = ins_big_malloc((n ? n : 1), sizeof(*d->value));
	if (!d->addr || !d->value) {
		free(v);
		ins_addr_dir_free(d);
		return ins_err_nomem();
	}
	size_t nchunks = 0;
	for (size_t i = 0; i < n; i++) {
		if (d->n && d->addr[d->n - 1] == v[i].addr) {
			dup[v[i].index] = 1;
			continue;
		}
		if (!d->n || (d->addr[d->n - 1] >> CHUNK_SHIFT) != (v[i].addr >> CHUNK_SHIFT))
			nchunks++;
		d->addr[d->n] = v[i].addr;
		d->value[d->n++] = v[i].index;
	}
	free(v);
	d->cap = 16;
	while (d->cap < 2 * nchunks)
		d->cap *= 2;
	d->chunks = ins_big_calloc(d->cap, sizeof(*d->chunks));
	if (!d->chunks) {
		ins_addr_dir_free(d);
		return ins_err_nomem();
	}
	ins_addr_chunk *c = NULL;
	unsigned last = 0;  /* the sub-block of c's latest entry */
	for (size_t j = 0; j <= d->n; j++) {
		uint64_t key = j < d->n ? (d->addr[j] >> CHUNK_SHIFT) + 1 : 0;
		unsigned sub = j < d->n ? (unsigned)(d->addr[j] >> SUB_SHIFT) & (SUBS - 1) : 0;
		if (c && c->key != key)  /* c is complete: the sub-blocks after its last entry */
			for (unsigned k = last + 1; k < SUBS; k++)
				c->off[k] = (uint16_t)c->count;
		if (j == d->n)
			break;
		if (!c || c->key != key) {
			c = chunk_slot(d, key);
			c->key = key;
			c->first = (uint32_t)j;
			last = 0;
		}
		for (unsigned k = last + 1; k <= sub; k++)  /* the sub-blocks this entry starts */
			c->off[k] = (uint16_t)c->count;
		last = sub > last ? sub : last;
		c->count++;
	}
	return NULL;
}

void ins_addr_dir_remap(ins_addr_dir *d, const uint32_t *map)
{
	for (size_t j = 0; j < d->n; j++)
		d->value[j] = map[d->value[j]];
}

bool ins_addr_dir_get(const ins_addr_dir *d, uint64_t addr, uint32_t *value)
{
	if (!d->cap)
		return false;
	const ins_addr_chunk *c = chunk_slot(d, (addr >> CHUNK_SHIFT) + 1);
	if (!c->key)
		return false;
	unsigned sub = (unsigned)(addr >> SUB_SHIFT) & (SUBS - 1);
	size_t j = c->first + c->off[sub], end = c->first + (sub + 1 < SUBS ? c->off[sub + 1] : c->count);
	for (; j < end && d->addr[j] <= addr; j++)
		if (d->addr[j] == addr) {
			*value = d->value[j];
			return true;
		}
	return false;
}

void ins_addr_dir_prefetch(const ins_addr_dir *d, uint64_t addr)
{
	if (d->cap)
		__builtin_prefetch(&d->chunks[chunk_hash((addr >> CHUNK_SHIFT) + 1, d->cap)]);
}

void ins_addr_dir_free(ins_addr_dir *d)
{
	free(d->addr);
	free(d->value);
	free(d->chunks);
	memset(d, 0, sizeof(*d));
}
