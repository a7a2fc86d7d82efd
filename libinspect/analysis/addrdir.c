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

/* The chunk table: open addressing, at most half full (grown by rehashing while counting). */
static bool chunks_grow(ins_addr_dir *d)
{
	size_t cap = d->cap ? 2 * d->cap : 64;
	ins_addr_chunk *old = d->chunks, *v = ins_big_calloc(cap, sizeof(*v));
	if (!v)
		return false;
	size_t oldcap = d->cap;
	d->chunks = v;
	d->cap = cap;
	for (size_t k = 0; k < oldcap; k++)
		if (old[k].key)
			*chunk_slot(d, old[k].key) = old[k];
	free(old);
	return true;
}

/* Sorts entries [from, from + k) of d by address, stable (a listed-again address keeps its
 * later index after the first): insertion for short runs, else an LSD radix sort, two 8-bit
 * passes through the scratch. */
static void sort_run(ins_addr_dir *d, size_t from, size_t k, uint16_t *sa, uint32_t *sv)
{
	uint16_t *a = d->low + from;
	uint32_t *v = d->value + from;
	size_t i = 1;
	while (i < k && a[i - 1] <= a[i])
		i++;
	if (i >= k)
		return;  /* in order already (the walk often lists a chunk's objects by address) */
	if (k <= 32) {
		for (; i < k; i++) {
			uint16_t x = a[i];
			uint32_t y = v[i];
			size_t j = i;
			for (; j > 0 && a[j - 1] > x; j--) {
				a[j] = a[j - 1];
				v[j] = v[j - 1];
			}
			a[j] = x;
			v[j] = y;
		}
		return;
	}
	size_t count[256];
	for (unsigned shift = 0; shift < CHUNK_SHIFT; shift += 8) {
		uint16_t *fa = shift ? sa : a, *ta = shift ? a : sa;
		uint32_t *fv = shift ? sv : v, *tv = shift ? v : sv;
		memset(count, 0, sizeof(count));
		for (size_t j = 0; j < k; j++)
			count[(fa[j] >> shift) & 0xff]++;
		size_t sum = 0;
		for (size_t b = 0; b < 256; b++) {
			size_t c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (size_t j = 0; j < k; j++) {
			size_t at = count[(fa[j] >> shift) & 0xff]++;
			ta[at] = fa[j];
			tv[at] = fv[j];
		}
	}
}

static int cmp_key(const void *x, const void *y)
{
	uint64_t a = (*(ins_addr_chunk *const *)x)->key, b = (*(ins_addr_chunk *const *)y)->key;
	return a < b ? -1 : a > b;
}

/* Buckets, not a sort of the whole: the entries are counted per 64 KB chunk, the chunks laid
 * out in address order, each address dropped into its chunk's run (in index order), and each
 * run (a few hundred entries, in the cache) sorted on its own. Memory: the two arrays the
 * directory keeps, the chunks, and a scratch the size of the largest run. */
ins_error *ins_addr_dir_build(ins_addr_dir *d, const uint64_t *addrs, size_t n, uint8_t *dup)
{
	memset(d, 0, sizeof(*d));
	ins_addr_chunk **order = NULL, *c = NULL;
	uint16_t *sa = NULL;
	uint32_t *sv = NULL;
	size_t nchunks = 0;
	if (!chunks_grow(d))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = (addrs[i] >> CHUNK_SHIFT) + 1;
		if (!c || c->key != key) {
			c = chunk_slot(d, key);
			if (!c->key) {
				if (2 * (nchunks + 1) > d->cap) {
					if (!chunks_grow(d))
						goto nomem;
					c = chunk_slot(d, key);
				}
				c->key = key;
				nchunks++;
			}
		}
		c->count++;
	}
	order = malloc((nchunks ? nchunks : 1) * sizeof(*order));
	d->low = ins_big_malloc((n ? n : 1), sizeof(*d->low));
	d->value = ins_big_malloc((n ? n : 1), sizeof(*d->value));
	if (!order || !d->low || !d->value)
		goto nomem;
	size_t k = 0, most = 1;
	for (size_t s = 0; s < d->cap; s++)
		if (d->chunks[s].key)
			order[k++] = &d->chunks[s];
	qsort(order, nchunks, sizeof(*order), cmp_key);
	size_t at = 0;
	for (k = 0; k < nchunks; k++) {  /* count becomes the fill position */
		order[k]->first = (uint32_t)at;
		at += order[k]->count;
		most = order[k]->count > most ? order[k]->count : most;
		order[k]->count = 0;
	}
	c = NULL;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = (addrs[i] >> CHUNK_SHIFT) + 1;
		if (!c || c->key != key)
			c = chunk_slot(d, key);
		size_t j = c->first + c->count++;
		d->low[j] = (uint16_t)addrs[i];
		d->value[j] = (uint32_t)i;
	}
	sa = malloc(most * sizeof(*sa));
	sv = malloc(most * sizeof(*sv));
	if (!sa || !sv)
		goto nomem;
	/* each run sorted, listed-again addresses dropped (flagged in dup), the runs moved down
	 * over the gaps, and the sub-block offsets */
	for (k = 0; k < nchunks; k++) {
		c = order[k];
		size_t from = c->first, to = from + c->count;
		sort_run(d, from, c->count, sa, sv);
		c->first = (uint32_t)d->n;
		c->count = 0;
		unsigned last = 0;  /* the sub-block of c's latest entry */
		for (size_t j = from; j < to; j++) {
			if (c->count && d->low[d->n - 1] == d->low[j]) {
				dup[d->value[j]] = 1;
				continue;
			}
			unsigned sub = (unsigned)(d->low[j] >> SUB_SHIFT) & (SUBS - 1);
			for (unsigned b = last + 1; b <= sub; b++)  /* the sub-blocks this entry starts */
				c->off[b] = (uint16_t)c->count;
			last = sub > last ? sub : last;
			d->low[d->n] = d->low[j];
			d->value[d->n++] = d->value[j];
			c->count++;
		}
		for (unsigned b = last + 1; b < SUBS; b++)  /* the sub-blocks after its last entry */
			c->off[b] = (uint16_t)c->count;
	}
	free(order);
	free(sa);
	free(sv);
	return NULL;
nomem:
	free(order);
	free(sa);
	free(sv);
	ins_addr_dir_free(d);
	return ins_err_nomem();
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
	uint16_t low = (uint16_t)addr;
	for (; j < end && d->low[j] <= low; j++)
		if (d->low[j] == low) {
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
	free(d->low);
	free(d->value);
	free(d->chunks);
	memset(d, 0, sizeof(*d));
}
