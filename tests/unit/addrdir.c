/* addrdir.c -- ins_addr_dir (the tracked-only graph's address index) against a brute-force
 * answer: 200000 addresses -- dense 16-byte-aligned runs, sparse ones, runs crossing 64 KB
 * chunks and 1 KB sub-blocks, a chunk filled with 8-byte-aligned addresses up to its end,
 * duplicates, 0 and the top of the address space -- each found with the index of its first
 * listing, the duplicates flagged, and addresses never listed (neighbours, the same sub-block,
 * other chunks) absent; once shuffled, once in runs as a heap walk lists them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrdir.h"
#include "check.h"

#define N 200000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Builds d over addrs (N of them) and checks it against a brute-force answer. */
static bool check(ins_addr_dir *d, const uint64_t *addrs, uint64_t *sorted, uint8_t *dup, const char *what)
{
	memset(dup, 0, N);
	ins_error *err = ins_addr_dir_build(d, addrs, N, dup);
	CHECK(!err, "%s: the directory of %d addresses is built", what, N);
	if (err)
		return false;

	/* brute force: the first index of each address */
	memcpy(sorted, addrs, N * sizeof(*sorted));
	qsort(sorted, N, sizeof(*sorted), cmp_u64);
	size_t distinct = 0;
	for (size_t i = 0; i < N; i++)
		distinct += !i || sorted[i] != sorted[i - 1];
	CHECK(d->n == distinct, "%s: it holds each distinct address once (%zu, expected %zu)", what, d->n, distinct);

	size_t wrong = 0, dups = 0, bad_dup = 0;
	for (size_t i = 0; i < N; i++) {
		uint32_t v;
		if (!ins_addr_dir_get(d, addrs[i], &v) || v >= N || addrs[v] != addrs[i] || v > i) {
			wrong++;
			continue;
		}
		/* v is the first listing: no earlier index has the address */
		bool later = v != i;
		dups += later;
		bad_dup += later != (dup[i] != 0);
	}
	CHECK(wrong == 0, "%s: every address is found, with the index of a listing no later than its own (%zu wrong)", what, wrong);
	CHECK(bad_dup == 0 && dups == N - distinct, "%s: the %zu later listings, and only they, are flagged (%zu wrong)", what,
	      dups, bad_dup);

	/* the first listing: the smallest index */
	size_t not_first = 0;
	for (size_t i = 0; i < N; i++) {
		uint32_t v;
		if (ins_addr_dir_get(d, addrs[i], &v))
			for (size_t j = 0; j < v; j++)
				if (addrs[j] == addrs[i] && ++not_first)
					break;
		if (i > 2000)
			break;  /* quadratic: a sample */
	}
	CHECK(not_first == 0, "%s: an address listed twice maps to its first listing (%zu not)", what, not_first);

	size_t false_hits = 0, probes = 0;
	for (size_t i = 0; i < N; i++) {
		uint64_t near[] = { addrs[i] + 8, addrs[i] - 8, addrs[i] + 1, addrs[i] ^ 0x10000, next() };
		for (size_t k = 0; k < sizeof(near) / sizeof(*near); k++) {
			if (bsearch(&near[k], sorted, N, sizeof(*sorted), cmp_u64))
				continue;
			uint32_t v;
			probes++;
			false_hits += ins_addr_dir_get(d, near[k], &v);
		}
	}
	CHECK(false_hits == 0, "%s: %zu addresses never listed are absent (%zu found)", what, probes, false_hits);

	return true;
}

int main(void)
{
	uint64_t *addrs = malloc(N * sizeof(*addrs)), *sorted = malloc(N * sizeof(*sorted));
	uint8_t *dup = calloc(N, 1);
	if (!addrs || !sorted || !dup)
		return 2;
	size_t n = 0;
	for (; n < 60000; n++)  /* a dense run over many chunks */
		addrs[n] = 0x7f0000000000ULL + 48 * (uint64_t)n;
	for (uint64_t a = 0x7e0000010000ULL; a < 0x7e0000020000ULL; a += 8)  /* one full chunk */
		addrs[n++] = a;
	addrs[n++] = 0;
	addrs[n++] = UINT64_MAX - 7;
	addrs[n++] = 0x7f000000fff8ULL;  /* the last word of a chunk */
	while (n < N - 5000)  /* sparse, anywhere */
		addrs[n++] = next() & 0x7ffffffffff0ULL;
	while (n < N)  /* listed again */
		addrs[n++] = addrs[next() % (N - 5000)];
	/* shuffle */
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = next() % (i + 1);
		uint64_t t = addrs[i];
		addrs[i] = addrs[j];
		addrs[j] = t;
	}

	ins_addr_dir d, walked;
	if (!check(&d, addrs, sorted, dup, "shuffled"))
		return check_summary();
	/* as a heap walk lists them: mostly ascending runs (each chunk's run found in order),
	 * some short ones descending (sorted in place), the repeats next to their first */
	uint64_t *runs = malloc(N * sizeof(*runs));
	memcpy(runs, sorted, N * sizeof(*runs));
	for (size_t i = 0; i + 20 < N; i += 1000)
		for (size_t j = 0; j < 10; j++) {
			uint64_t t = runs[i + j];
			runs[i + j] = runs[i + 19 - j];
			runs[i + 19 - j] = t;
		}
	if (check(&walked, runs, sorted, dup, "in runs"))
		ins_addr_dir_free(&walked);
	free(runs);

	uint32_t *map = malloc(N * sizeof(*map));
	for (size_t i = 0; i < N; i++)
		map[i] = (uint32_t)(N - 1 - i);
	ins_addr_dir_remap(&d, map);
	size_t remapped = 0;
	for (size_t i = 0; i < N; i++) {
		uint32_t v;
		remapped += ins_addr_dir_get(&d, addrs[i], &v) && addrs[N - 1 - v] == addrs[i];
	}
	CHECK(remapped == N, "remapped values answer (%zu of %d)", remapped, N);

	ins_addr_dir empty;
	ins_error *err = ins_addr_dir_build(&empty, addrs, 0, dup);
	uint32_t v;
	CHECK(!err && !ins_addr_dir_get(&empty, addrs[0], &v), "an empty directory holds nothing");
	ins_addr_dir_free(&empty);
	ins_addr_dir_free(&d);
	free(map);
	free(addrs);
	free(sorted);
	free(dup);
	return check_summary();
}
