/* memory.c -- pymalloc's arenas and pools, the objects' bytes, the image's memory by kind
 * (see memory.h). */
#define _GNU_SOURCE
#include "memory.h"

#include "checked.h"
#include "emu.h"
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds for a hostile image: more arenas than this is no pymalloc state. */
#define MAX_ARENAS ((uint64_t)1 << 24)
#define MAX_CLASSES 256

typedef struct obm_state {
	uint64_t arenas_ptr;      /* where the pointer to the arena array is */
	uint64_t maxarenas_ptr;   /* the unsigned int maxarenas */
	uint64_t current_ptr, total_ptr, highwater_ptr;  /* size_t counters, or 0 */
	bool emulated;            /* found by the reads of _Py_GetAllocatedBlocks */
	char how[96];
} obm_state;

#define TRACE_CAP 256

/* A build whose symbol table does not name obmalloc.c's statics (only .dynsym) still exports
 * _Py_GetAllocatedBlocks (sys.getallocatedblocks), which reads them: maxarenas, then for each
 * arena arenas[i].address. Run in the emulator over the image, its reads say where they are:
 * an 8-byte variable whose value v is the address a later read reads (arenas[0].address at
 * v), and the 4-byte variable read last before that (maxarenas). read_pymalloc then checks
 * that every arena and pool of that array holds together. */
static bool find_by_emulation(ins_session *s, obm_state *st)
{
	const ins_layout *L = &s->in->L;
	uint64_t fn, addr[TRACE_CAP];
	uint8_t size[TRACE_CAP];
	size_t n = 0;
	if (!ins_elf_lookup(s->in->elf, "_Py_GetAllocatedBlocks", &fn, NULL))
		return false;
	ins_emu *e = ins_emu_new(s->img);
	if (!e)
		return false;
	ins_emu_trace_reads(e, fn, addr, size, TRACE_CAP, &n);
	ins_emu_free(e);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (size[i] != 8 || !ins_image_u64(s->img, addr[i], &v) || !v)
			continue;
		size_t j = i + 1;
		while (j < n && !(addr[j] == v + (uint64_t)L->arena_address && size[j] == 8))
			j++;
		for (size_t k = j < n ? j : 0; k-- > 0;)
			if (size[k] == 4 && k != i) {
				st->arenas_ptr = addr[i];
				st->maxarenas_ptr = addr[k];
				st->emulated = true;
				snprintf(st->how, sizeof(st->how), "the arena array _Py_GetAllocatedBlocks reads");
				return true;
			}
	}
	return false;
}

static bool read_u32(ins_image *img, uint64_t addr, uint32_t *v)
{
	return ins_image_read(img, addr, v, 4);
}

/* Where the state is: 3.12+ the main interpreter's obmalloc (embedded in 3.12, pointed to
 * from 3.13), before obmalloc.c's statics by name. false with why when it cannot be found. */
static bool find_state(ins_session *s, obm_state *st, ins_memory *m)
{
	const ins_interp *in = s->in;
	const ins_layout *L = &in->L;
	memset(st, 0, sizeof(*st));
	if (L->interp_obmalloc >= 0) {
		if (!in->interp || L->obm_state_mgmt < 0 || L->obm_mgmt_arenas < 0 || L->obm_mgmt_maxarenas < 0) {
			m->why = strdup("pymalloc's state cannot be read: the main interpreter's obmalloc state was not found");
			return false;
		}
		uint64_t state = in->interp + (uint64_t)L->interp_obmalloc;
		if (L->interp_obmalloc_bits == 64) {
			if (!ins_image_u64(s->img, state, &state) || !state) {
				m->why = strdup("pymalloc's state cannot be read: the main interpreter's obmalloc pointer is unreadable or NULL");
				return false;
			}
			snprintf(st->how, sizeof(st->how), "the main interpreter's obmalloc state at 0x%llx",
				 (unsigned long long)state);
		} else {
			snprintf(st->how, sizeof(st->how), "the main interpreter's obmalloc state");
		}
		uint64_t mgmt = state + (uint64_t)L->obm_state_mgmt;
		st->arenas_ptr = mgmt + (uint64_t)L->obm_mgmt_arenas;
		st->maxarenas_ptr = mgmt + (uint64_t)L->obm_mgmt_maxarenas;
		st->current_ptr = L->obm_mgmt_current >= 0 ? mgmt + (uint64_t)L->obm_mgmt_current : 0;
		st->total_ptr = L->obm_mgmt_total >= 0 ? mgmt + (uint64_t)L->obm_mgmt_total : 0;
		st->highwater_ptr = L->obm_mgmt_highwater >= 0 ? mgmt + (uint64_t)L->obm_mgmt_highwater : 0;
		return true;
	}
	if (!ins_elf_lookup(in->elf, "arenas", &st->arenas_ptr, NULL) ||
	    !ins_elf_lookup(in->elf, "maxarenas", &st->maxarenas_ptr, NULL)) {
		memset(st, 0, sizeof(*st));
		if (find_by_emulation(s, st))
			return true;
		if (asprintf(&m->why,
			     "pymalloc's state cannot be read: CPython %s keeps it in Objects/obmalloc.c's static variables (arenas, maxarenas), which %s's symbol table (%s) does not name, and its _Py_GetAllocatedBlocks, run in the emulator, read no arena array (none allocated, or not found); its debug symbols would name them",
			     in->version, ins_elf_path(in->elf), ins_elf_table(in->elf)) < 0)
			m->why = NULL;
		return false;
	}
	if (!ins_elf_lookup(in->elf, "narenas_currently_allocated", &st->current_ptr, NULL))
		st->current_ptr = 0;
	if (!ins_elf_lookup(in->elf, "ntimes_arena_allocated", &st->total_ptr, NULL))
		st->total_ptr = 0;
	if (!ins_elf_lookup(in->elf, "narenas_highwater", &st->highwater_ptr, NULL))
		st->highwater_ptr = 0;
	snprintf(st->how, sizeof(st->how), "obmalloc.c's static arenas");
	return true;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* The walk of _PyObject_DebugMallocStats over every arena and pool. */
static ins_error *read_pymalloc(ins_session *s, ins_memory *m)
{
	ins_image *img = s->img;
	const ins_layout *L = &s->in->L;
	obm_state st;
	if (L->obm_pool_size <= 0 || L->obm_arena_size <= 0 || L->obm_alignment <= 0 || L->obm_nclasses2 <= 0 ||
	    L->sizeof_arena <= 0 || L->arena_address < 0 || L->arena_pool_address < 0 || L->arena_nfreepools < 0 ||
	    L->arena_ntotalpools < 0 || L->pool_count < 0 || L->pool_szidx < 0 || L->sizeof_pool_header <= 0 ||
	    L->sizeof_arena > 256 || L->arena_address + 8 > L->sizeof_arena || L->arena_pool_address + 8 > L->sizeof_arena ||
	    L->arena_nfreepools + 4 > L->sizeof_arena || L->arena_ntotalpools + 4 > L->sizeof_arena) {
		m->pymalloc = -1;
		m->why = strdup("pymalloc's state cannot be read: this CPython's layout table lacks obmalloc's structures");
		return m->why ? NULL : ins_err_nomem();
	}
	if (!find_state(s, &st, m)) {
		m->pymalloc = -1;
		return m->why ? NULL : ins_err_nomem();
	}
	m->pool_size = (uint64_t)L->obm_pool_size;
	m->arena_size = (uint64_t)L->obm_arena_size;
	m->alignment = (uint64_t)L->obm_alignment;
	if (m->pool_size > m->arena_size || (m->pool_size & (m->pool_size - 1)) || L->obm_nclasses2 / 2 > MAX_CLASSES)
		return ins_err(INS_ERR_CORRUPT, "pymalloc's layout is not sane (pool size %llu, arena size %llu)",
			       (unsigned long long)m->pool_size, (unsigned long long)m->arena_size);
	size_t ncl = (size_t)(L->obm_nclasses2 / 2);
	uint64_t overhead = ((uint64_t)L->sizeof_pool_header + m->alignment - 1) / m->alignment * m->alignment;

	uint64_t arenas = 0, current = 0;
	uint32_t maxarenas = 0;
	if (!ins_image_u64(img, st.arenas_ptr, &arenas) || !read_u32(img, st.maxarenas_ptr, &maxarenas))
		return ins_err(INS_ERR_CORRUPT, "pymalloc's state (%s) is unreadable", st.how);
	if (st.current_ptr && !ins_image_u64(img, st.current_ptr, &current))
		current = 0;
	if (st.total_ptr && !ins_image_u64(img, st.total_ptr, &m->arenas_total))
		m->arenas_total = 0;
	if (st.highwater_ptr && !ins_image_u64(img, st.highwater_ptr, &m->arenas_highwater))
		m->arenas_highwater = 0;
	if ((!arenas || !maxarenas) && st.emulated) {
		/* found by reads of them that a NULL array or no arena does not make: not them */
		m->pymalloc = -1;
		m->why = strdup("pymalloc's state cannot be read: the variables _Py_GetAllocatedBlocks reads do not hold an arena array");
		return m->why ? NULL : ins_err_nomem();
	}
	if (!arenas || !maxarenas) {
		m->pymalloc = 0;
		m->why = strdup("pymalloc is not in use: no arena was ever allocated (PYTHONMALLOC=malloc, or a build without pymalloc)");
		return m->why ? NULL : ins_err_nomem();
	}
	if (maxarenas > MAX_ARENAS)
		return ins_err(INS_ERR_CORRUPT, "pymalloc's state (%s) is not sane: %u arena objects", st.how, maxarenas);

	m->classes = calloc(ncl, sizeof(*m->classes));
	m->arena_base = calloc(maxarenas, sizeof(*m->arena_base));
	if (!m->classes || !m->arena_base)
		return ins_err_nomem();
	m->nclasses = ncl;
	for (size_t i = 0; i < ncl; i++)
		m->classes[i].size = (uint32_t)((i + 1) * m->alignment);

	uint64_t pool_mask = m->pool_size - 1;
	size_t nbad = 0;
	for (uint32_t i = 0; i < maxarenas; i++) {
		uint64_t ao = 0;
		uint8_t rec[256];
		if (!ins_span(arenas, i, L->sizeof_arena, &ao) || !ins_image_read(img, ao, rec, (size_t)L->sizeof_arena))
			return ins_err(INS_ERR_CORRUPT, "pymalloc's arena object %u at 0x%llx is unreadable", i,
				       (unsigned long long)ao);
		uint64_t address, pool_address;
		uint32_t nfree, ntotal;
		memcpy(&address, rec + L->arena_address, 8);
		if (!address)
			continue;
		memcpy(&pool_address, rec + L->arena_pool_address, 8);
		memcpy(&nfree, rec + L->arena_nfreepools, 4);
		memcpy(&ntotal, rec + L->arena_ntotalpools, 4);
		uint64_t end;
		if (__builtin_add_overflow(address, m->arena_size, &end) || pool_address < address || pool_address > end ||
		    ntotal > m->arena_size / m->pool_size || nfree > ntotal) {
			nbad++;
			continue;
		}
		m->arena_base[m->arenas++] = address;
		m->free_pools += nfree;
		uint64_t base = address;
		if (base & pool_mask) {
			m->alignment_bytes += m->pool_size;
			base = (base & ~pool_mask) + m->pool_size;
		}
		uint64_t used_bytes_here = 0;
		for (; base < pool_address; base += m->pool_size) {
			uint32_t count, szidx;
			if (!read_u32(img, base + (uint64_t)L->pool_count, &count) ||
			    !read_u32(img, base + (uint64_t)L->pool_szidx, &szidx)) {
				nbad++;
				break;
			}
			if (count == 0)
				continue;
			if (szidx >= ncl) {
				nbad++;
				continue;
			}
			ins_size_class *c = &m->classes[szidx];
			uint64_t nblocks = (m->pool_size - overhead) / c->size;
			if (count > nblocks) {
				nbad++;
				continue;
			}
			c->pools++;
			c->used_blocks += count;
			c->free_blocks += nblocks - count;
			used_bytes_here += (uint64_t)count * c->size;
		}
		if (used_bytes_here * 10 <= m->arena_size) {
			m->nearly_empty++;
			m->nearly_empty_used_bytes += used_bytes_here;
		}
	}
	for (size_t i = 0; i < ncl; i++) {
		const ins_size_class *c = &m->classes[i];
		m->used_pools += c->pools;
		m->allocated_bytes += c->used_blocks * c->size;
		m->free_bytes += c->free_blocks * c->size;
		m->pool_header_bytes += c->pools * overhead;
		m->quantization_bytes += c->pools * ((m->pool_size - overhead) % c->size);
	}
	qsort(m->arena_base, m->arenas, sizeof(*m->arena_base), cmp_u64);
	if (nbad && st.emulated) {
		/* not exactly the array: say so rather than count what does not hold together */
		free(m->classes);
		free(m->arena_base);
		memset(m, 0, sizeof(*m));
		m->pymalloc = -1;
		if (asprintf(&m->why,
			     "pymalloc's state cannot be read: %s's symbol table (%s) does not name Objects/obmalloc.c's static variables, and the arena array _Py_GetAllocatedBlocks reads does not hold together",
			     ins_elf_path(s->in->elf), ins_elf_table(s->in->elf)) < 0)
			return ins_err_nomem();
		return NULL;
	}
	m->counters = !st.emulated;
	m->found_by = st.emulated ? "_Py_GetAllocatedBlocks" : NULL;
	if (nbad)
		ins_buf_printf(s->warn, "warning: %zu of pymalloc's arenas or pools do not hold together and are not counted\n",
			       nbad);
	if (current && current != m->arenas)
		ins_buf_printf(s->warn, "warning: pymalloc counts %llu arenas allocated, its arena array holds %llu\n",
			       (unsigned long long)current, (unsigned long long)m->arenas);
	m->pymalloc = 1;
	return NULL;
}

static bool in_arena(const ins_memory *m, uint64_t addr)
{
	size_t lo = 0, hi = m->arenas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->arena_base[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && addr - m->arena_base[lo - 1] < m->arena_size;
}

static bool in_file(const ins_image *img, uint64_t addr)
{
	size_t lo = 0, hi = img->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (img->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && addr < img->maps[lo - 1].end;
}

static const uint64_t bucket_min[INS_MEM_BUCKETS] = { 0, 513, 4096, 65536, 1048576, 16777216 };

static void add_big(ins_big_object *v, size_t *n, size_t limit, uint64_t addr, uint64_t size, const ins_type *t)
{
	if (!limit)
		return;
	if (*n == limit && v[limit - 1].size >= size)
		return;
	size_t i = *n < limit ? (*n)++ : limit - 1;
	while (i > 0 && v[i - 1].size < size) {
		v[i] = v[i - 1];
		i--;
	}
	v[i] = (ins_big_object){ addr, size, t };
}

static int cmp_big(const void *x, const void *y)
{
	const ins_big_object *a = x, *b = y;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static ins_error *count_objects(ins_session *s, size_t limit, ins_memory *m)
{
	ins_error *err = ins_session_graph(s);
	if (err)
		return err;
	const ins_graph *g = s->graph;
	bool all = limit == 0;  /* every malloc'd object, sorted at the end */
	if (all)
		limit = g->n;
	if (limit) {
		m->largest = calloc(limit, sizeof(*m->largest));
		if (!m->largest)
			return ins_err_nomem();
	}
	for (size_t b = 0; b < INS_MEM_BUCKETS; b++) {
		m->malloc_by_size[b].min = bucket_min[b];
		m->malloc_by_size[b].max = b + 1 < INS_MEM_BUCKETS ? bucket_min[b + 1] : 0;
	}
	/* the objects on the GC lists, then the untracked ones their references reach (as types
	 * --all counts them: gc.get_referents from gc.get_objects, transitively) */
	uint32_t *queue;
	size_t tail;
	err = ins_graph_reach(g, g->nheap, &queue, &tail);
	if (err)
		return err;
	for (size_t q = 0; q < tail; q++) {
		size_t i = queue[q];
		uint64_t a = g->addr[i];
		const ins_type *t = ins_obj_type(&s->objs, a);
		uint64_t size = t ? ins_obj_size(&s->objs, a, t) : 0;
		if (i < g->ntracked) {
			m->tracked++;
			m->tracked_bytes += size;
		} else if (i < g->nheap) {
			m->frozen++;
			m->frozen_bytes += size;
		} else {
			m->untracked++;
			m->untracked_bytes += size;
		}
		if (m->pymalloc < 0) {
			continue;  /* where it is cannot be told */
		} else if (m->pymalloc > 0 && in_arena(m, a)) {
			m->in_pymalloc++;
			m->in_pymalloc_bytes += size;
		} else if (in_file(s->img, a)) {
			m->in_static++;
			m->in_static_bytes += size;
		} else {
			m->in_malloc++;
			m->in_malloc_bytes += size;
			size_t b = INS_MEM_BUCKETS - 1;
			while (b > 0 && size < bucket_min[b])
				b--;
			m->malloc_by_size[b].count++;
			m->malloc_by_size[b].bytes += size;
			if (all)
				m->largest[m->nlargest++] = (ins_big_object){ a, size, t };
			else
				add_big(m->largest, &m->nlargest, limit, a, size, t);
		}
	}
	free(queue);
	if (all)
		qsort(m->largest, m->nlargest, sizeof(*m->largest), cmp_big);
	m->objects = true;
	return NULL;
}

/* Segment bytes, and the part of them mapped files back (mappings are sorted, disjoint). */
static void count_segments(const ins_image *img, ins_memory *m)
{
	size_t j = 0;
	m->nsegs = img->nsegs;
	for (size_t i = 0; i < img->nsegs; i++) {
		const ins_segment *sg = &img->segs[i];
		m->seg_total += sg->end - sg->start;
		while (j < img->nmaps && img->maps[j].end <= sg->start)
			j++;
		for (size_t k = j; k < img->nmaps && img->maps[k].start < sg->end; k++) {
			uint64_t lo = img->maps[k].start > sg->start ? img->maps[k].start : sg->start;
			uint64_t hi = img->maps[k].end < sg->end ? img->maps[k].end : sg->end;
			if (hi > lo)
				m->seg_file += hi - lo;
		}
	}
	m->seg_anon = m->seg_total >= m->seg_file ? m->seg_total - m->seg_file : 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Thread stacks: the segments (sorted, disjoint) a thread's stack pointer is in, each once. */
static ins_error *count_stacks(const ins_image *img, ins_memory *m)
{
	if (!img->threads_known)
		return NULL;
	size_t *hit = malloc((img->nthreads ? img->nthreads : 1) * sizeof(*hit)), nhit = 0;
	if (!hit)
		return ins_err_nomem();
	for (size_t k = 0; k < img->nthreads; k++) {
		uint64_t sp = img->thread_sp[k];
		size_t lo = 0, hi = img->nsegs; /* the first segment ending after sp */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (img->segs[mid].end <= sp)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < img->nsegs && img->segs[lo].start <= sp)
			hit[nhit++] = lo;
	}
	qsort(hit, nhit, sizeof(*hit), cmp_size);
	m->stacks = true;
	m->threads = img->nthreads;
	for (size_t i = 0; i < nhit; i++)
		if (!i || hit[i] != hit[i - 1]) {
			m->stack_segs++;
			m->stack_bytes += img->segs[hit[i]].end - img->segs[hit[i]].start;
		}
	free(hit);
	return NULL;
}

ins_error *ins_memory_read(ins_session *s, size_t limit, ins_memory *out)
{
	memset(out, 0, sizeof(*out));
	ins_error *err = read_pymalloc(s, out);
	if (!err)
		err = count_objects(s, limit, out);
	if (!err) {
		count_segments(s->img, out);
		err = count_stacks(s->img, out);
	}
	if (err) {
		ins_memory_free(out);
		return err;
	}
	return NULL;
}

void ins_memory_free(ins_memory *m)
{
	free(m->why);
	free(m->classes);
	free(m->arena_base);
	free(m->largest);
	memset(m, 0, sizeof(*m));
}
