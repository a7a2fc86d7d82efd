/* allocations.c -- tracemalloc's statistics grouped and ordered as Snapshot.statistics does
 * (allocations.h). */
#include <stdlib.h>
#include <string.h>

#include "allocations.h"

bool ins_alloc_key_parse(const char *text, enum ins_alloc_key *key)
{
	static const char *names[] = { "lineno", "filename", "traceback" };
	for (int i = 0; i < 3; i++)
		if (strcmp(text, names[i]) == 0) {
			*key = (enum ins_alloc_key)i;
			return true;
		}
	return false;
}

const char *ins_alloc_key_name(enum ins_alloc_key key)
{
	return key == INS_ALLOC_FILENAME ? "filename" : key == INS_ALLOC_TRACEBACK ? "traceback" : "lineno";
}

/* The group key of a traceback, as the tuple of (file, line) frames Lib/tracemalloc.py's
 * Traceback holds, in its order. */
typedef struct keyview {
	const ins_tracemalloc *tm;
	enum ins_alloc_key key;
} keyview;

static size_t key_len(const keyview *k, const ins_tm_traceback *t)
{
	if (k->key == INS_ALLOC_TRACEBACK)
		return t->nframe;
	return t->nframe ? 1 : 0;
}

static ins_tm_frame key_frame(const keyview *k, const ins_tm_traceback *t, size_t i)
{
	if (k->key != INS_ALLOC_TRACEBACK) {
		ins_tm_frame f = k->tm->frames[t->first];  /* the most recent frame */
		if (k->key == INS_ALLOC_FILENAME)
			f.line = 0;
		return f;
	}
	size_t at = k->tm->oldest_first ? t->nframe - 1 - i : i;
	return k->tm->frames[t->first + at];
}

/* Python's comparison of the two keys' frame tuples. */
static int key_cmp(const keyview *k, uint32_t a, uint32_t b)
{
	const ins_tm_traceback *x = &k->tm->tbs[a], *y = &k->tm->tbs[b];
	size_t nx = key_len(k, x), ny = key_len(k, y);
	for (size_t i = 0; i < nx && i < ny; i++) {
		ins_tm_frame f = key_frame(k, x, i), g = key_frame(k, y, i);
		if (f.file != g.file)
			return f.file < g.file ? -1 : 1;
		if (f.line != g.line)
			return f.line < g.line ? -1 : 1;
	}
	return nx < ny ? -1 : nx > ny;
}

/* qsort has no context argument in C11: the sorts go through a small merge sort instead. */
typedef int (*cmp_fn)(const keyview *k, const ins_alloc_stat *a, const ins_alloc_stat *b);

static void merge_sort(const keyview *k, ins_alloc_stat *v, ins_alloc_stat *tmp, size_t n, cmp_fn cmp)
{
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				tmp[o++] = cmp(k, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
			while (i < mid)
				tmp[o++] = v[i++];
			while (j < hi)
				tmp[o++] = v[j++];
		}
		memcpy(v, tmp, n * sizeof(*v));
	}
}

static int by_key(const keyview *k, const ins_alloc_stat *a, const ins_alloc_stat *b)
{
	return key_cmp(k, a->tb, b->tb);
}

/* Statistic._sort_key (size, count, traceback), largest first. */
static int by_statistic(const keyview *k, const ins_alloc_stat *a, const ins_alloc_stat *b)
{
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return -key_cmp(k, a->tb, b->tb);
}

ins_error *ins_allocations_read(ins_session *s, enum ins_alloc_key key, ins_allocations *out)
{
	memset(out, 0, sizeof(*out));
	out->key = key;
	ins_error *err = ins_tracemalloc_read(&s->objs, &out->tm);
	if (err)
		return err;
	const ins_tracemalloc *tm = &out->tm;
	if (tm->state != INS_TM_TRACING || !tm->ntbs)
		return NULL;
	/* per traceback first, then groups of equal keys */
	ins_alloc_stat *v = calloc(tm->ntbs, sizeof(*v));
	ins_alloc_stat *tmp = malloc(tm->ntbs * sizeof(*tmp));
	if (!v || !tmp) {
		free(v);
		free(tmp);
		ins_allocations_free(out);
		return ins_err(INS_ERR_NOMEM, "out of memory grouping tracemalloc's traces");
	}
	for (size_t i = 0; i < tm->ntbs; i++)
		v[i].tb = (uint32_t)i;
	for (size_t i = 0; i < tm->ntraces; i++) {
		ins_alloc_stat *g = &v[tm->traces[i].tb];
		g->size += tm->traces[i].size;
		g->count++;
		out->traced_bytes += tm->traces[i].size;
	}
	out->traced_blocks = tm->ntraces;
	keyview k = { .tm = tm, .key = key };
	merge_sort(&k, v, tmp, tm->ntbs, by_key);
	size_t n = 0;
	for (size_t i = 0; i < tm->ntbs; i++) {
		if (!v[i].count)
			continue;
		if (n && key_cmp(&k, v[n - 1].tb, v[i].tb) == 0) {
			v[n - 1].size += v[i].size;
			v[n - 1].count += v[i].count;
		} else {
			v[n++] = v[i];
		}
	}
	merge_sort(&k, v, tmp, n, by_statistic);
	free(tmp);
	out->stats = v;
	out->nstats = n;
	return NULL;
}

void ins_allocations_free(ins_allocations *a)
{
	ins_tracemalloc_free(&a->tm);
	free(a->stats);
	memset(a, 0, sizeof(*a));
}

const ins_tm_traceback *ins_alloc_object_traceback(ins_session *s, const ins_tracemalloc *tm, uint64_t obj)
{
	if (tm->state != INS_TM_TRACING)
		return NULL;
	const ins_type *t = ins_obj_type(&s->objs, obj);
	const ins_tm_trace *tr = ins_tracemalloc_find(tm, 0, ins_tracemalloc_block_of(&s->objs, obj, t));
	return tr ? &tm->tbs[tr->tb] : NULL;
}

static int cmp_site(const void *a, const void *b)
{
	const ins_alloc_site *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

ins_error *ins_alloc_sites(ins_session *s, const ins_tracemalloc *tm, const uint64_t *objs, size_t n,
			   ins_alloc_site **sites, size_t *nsites)
{
	*sites = NULL;
	*nsites = 0;
	if (tm->state != INS_TM_TRACING || !n)
		return NULL;
	ins_map index = { 0 }; /* file << 32 | line, + 1 -> site + 1 */
	ins_alloc_site *v = NULL;
	size_t m = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		const ins_tm_traceback *tb = ins_alloc_object_traceback(s, tm, objs[i]);
		if (!tb || !tb->nframe)
			continue;
		const ins_tm_frame *f = &tm->frames[tb->first];
		uint64_t *slot = ins_map_slot(&index, ((uint64_t)f->file << 32 | f->line) + 1, 0);
		if (slot && !*slot && m == cap) {
			size_t c = cap ? 2 * cap : 16;
			ins_alloc_site *nv = realloc(v, c * sizeof(*v));
			if (nv) {
				v = nv;
				cap = c;
			} else {
				slot = NULL;
			}
		}
		if (!slot) {
			free(v);
			ins_map_free(&index);
			return ins_err_nomem();
		}
		if (!*slot) {
			v[m] = (ins_alloc_site){ f->file, f->line, 0 };
			*slot = ++m;
		}
		v[*slot - 1].count++;
	}
	ins_map_free(&index);
	if (m > 1)
		qsort(v, m, sizeof(*v), cmp_site);
	*sites = v;
	*nsites = m;
	return NULL;
}
