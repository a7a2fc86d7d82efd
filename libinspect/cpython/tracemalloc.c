/* tracemalloc.c -- tracemalloc's traces table read out of the image (tracemalloc.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "elfsym.h"
#include "tracemalloc.h"

#define MAX_ENTRIES ((uint64_t)1 << 27)  /* traces believed, in all domains */
#define MAX_BUCKETS ((uint64_t)1 << 30)
#define MAX_DOMAINS 65536
#define MAX_NFRAME 65535                 /* tracemalloc's own limit (3.9+: uint16_t) */
#define MAX_NAME 4096

typedef struct reader {
	ins_objects *o;
	ins_image *img;
	const ins_layout *L;
	ins_tracemalloc *tm;
	ins_map tbs;          /* traceback address -> index + 1 */
	ins_map files;        /* filename str address -> index into names + 1 */
	char **names;         /* by first sight; ranked at the end */
	size_t nnames, capnames;
	size_t captraces, captbs, capframes;
	uint64_t budget;      /* bytes of tracebacks still believable: distinct tracebacks are
			       * distinct memory, so together no more than the image holds */
} reader;

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 256;
	while (n < need)
		n *= 2;
	void *p = realloc(*v, n * size);
	if (!p)
		return false;
	*v = p;
	*cap = n;
	return true;
}

static ins_error *nomem(void)
{
	return ins_err(INS_ERR_NOMEM, "out of memory reading tracemalloc's traces");
}

static ins_error *corrupt(const char *what, uint64_t addr)
{
	return ins_err(INS_ERR_CORRUPT, "tracemalloc: %s at 0x%llx", what, (unsigned long long)addr);
}

/* The index of the file whose name is the str at fname. */
static ins_error *file_of(reader *r, uint64_t fname, uint32_t *out)
{
	uint64_t *slot = ins_map_slot(&r->files, fname ? fname : 1, 0);
	if (!slot)
		return nomem();
	if (*slot) {
		*out = (uint32_t)(*slot - 1);
		return NULL;
	}
	ins_buf b = { 0 };
	char *name = NULL;
	if (fname && r->L->tm_frame_filename_cstr > 0)  /* 3.15: a C string */
		name = ins_image_cstr(r->img, fname, MAX_NAME);
	else if (fname && ins_str_text(r->o, fname, &b, MAX_NAME) && !b.oom)
		name = strndup(b.data ? b.data : "", b.len);
	if (!name)
		name = strdup(fname ? "<unreadable>" : "<unknown>");
	ins_buf_free(&b);
	if (!name || !grow((void **)&r->names, &r->capnames, r->nnames + 1, sizeof(char *))) {
		free(name);
		return nomem();
	}
	r->names[r->nnames] = name;
	*slot = ++r->nnames;
	*out = (uint32_t)(*slot - 1);
	return NULL;
}

/* The index of the traceback at tb, read the first time. */
static ins_error *traceback_of(reader *r, uint64_t tb, uint32_t *out)
{
	const ins_layout *L = r->L;
	ins_tracemalloc *tm = r->tm;
	if (!tb)
		return corrupt("a trace without a traceback", 0);
	uint64_t *slot = ins_map_slot(&r->tbs, tb, 0);
	if (!slot)
		return nomem();
	if (*slot) {
		*out = (uint32_t)(*slot - 1);
		return NULL;
	}
	uint32_t nframe = 0;
	if (L->tm_tb_nframe_bits == 16) {
		uint16_t n;
		if (!ins_image_read(r->img, tb + (uint64_t)L->tm_tb_nframe, &n, 2))
			return corrupt("an unreadable traceback", tb);
		nframe = n;
	} else {
		int32_t n;
		if (!ins_image_i32(r->img, tb + (uint64_t)L->tm_tb_nframe, &n) || n < 0)
			return corrupt("an unreadable traceback", tb);
		nframe = (uint32_t)n;
	}
	if (nframe > MAX_NFRAME)
		return corrupt("a traceback with too many frames", tb);
	uint64_t end;
	if (!ins_span(tb + (uint64_t)L->tm_tb_frames, nframe, L->tm_frame_size, &end))
		return corrupt("a traceback out of range", tb);
	if (end - tb > r->budget)
		return corrupt("tracebacks larger than the image", tb);
	r->budget -= end - tb;
	if (!grow((void **)&tm->tbs, &r->captbs, tm->ntbs + 1, sizeof(*tm->tbs)) ||
	    !grow((void **)&tm->frames, &r->capframes, tm->nframes + nframe, sizeof(*tm->frames)))
		return nomem();
	size_t first = tm->nframes;
	for (uint32_t i = 0; i < nframe; i++) {
		uint64_t f = tb + (uint64_t)L->tm_tb_frames + (uint64_t)i * (uint64_t)L->tm_frame_size;
		uint64_t fname;
		uint32_t line;
		if (!ins_image_read(r->img, f + (uint64_t)L->tm_frame_filename, &fname, 8) ||
		    !ins_image_read(r->img, f + (uint64_t)L->tm_frame_lineno, &line, 4))
			return corrupt("an unreadable frame", f);
		ins_tm_frame *fr = &tm->frames[tm->nframes];
		ins_error *err = file_of(r, fname, &fr->file);
		if (err)
			return err;
		fr->line = line;
		tm->nframes++;
	}
	tm->tbs[tm->ntbs] = (ins_tm_traceback){ .first = first, .nframe = nframe };
	*slot = ++tm->ntbs;
	*out = (uint32_t)(*slot - 1);
	return NULL;
}

static ins_error *add_trace(reader *r, uint32_t domain, uint64_t ptr, uint64_t size, uint64_t tb)
{
	ins_tracemalloc *tm = r->tm;
	if (tm->ntraces >= MAX_ENTRIES)
		return corrupt("more traces than believable", ptr);
	uint32_t t = 0;
	ins_error *err = traceback_of(r, tb, &t);
	if (err)
		return err;
	if (!grow((void **)&tm->traces, &r->captraces, tm->ntraces + 1, sizeof(*tm->traces)))
		return nomem();
	tm->traces[tm->ntraces++] = (ins_tm_trace){ .ptr = ptr, .size = size, .domain = domain, .tb = t };
	return NULL;
}

/* Calls fn(r, arg, entry) for every entry of the _Py_hashtable_t at table: every bucket's
 * chain, no more entries than the table says it has. */
typedef ins_error *(*entry_fn)(reader *r, void *arg, uint64_t table, uint64_t entry);

static ins_error *each_entry(reader *r, uint64_t table, entry_fn fn, void *arg)
{
	const ins_layout *L = r->L;
	uint64_t nentries, nbuckets, buckets;
	if (!ins_image_u64(r->img, table + (uint64_t)L->tm_ht_nentries, &nentries) ||
	    !ins_image_u64(r->img, table + (uint64_t)L->tm_ht_nbuckets, &nbuckets) ||
	    !ins_image_u64(r->img, table + (uint64_t)L->tm_ht_buckets, &buckets))
		return corrupt("an unreadable hash table", table);
	if (nentries > MAX_ENTRIES || nbuckets > MAX_BUCKETS || (nentries && (!nbuckets || !buckets)))
		return corrupt("a hash table of impossible size", table);
	uint64_t seen = 0, end;
	if (!ins_span(buckets, (int64_t)nbuckets, 8, &end))
		return corrupt("a hash table's buckets out of range", table);
	uint64_t chunk[512];
	for (uint64_t b = 0; b < nbuckets && seen < nentries; b += 512) {
		size_t n = nbuckets - b < 512 ? (size_t)(nbuckets - b) : 512;
		if (!ins_image_read(r->img, buckets + b * 8, chunk, n * 8))
			return corrupt("unreadable hash table buckets", buckets + b * 8);
		for (size_t i = 0; i < n; i++) {
			/* Brent's cycle detection: a chain that loops is found in O(its length) */
			uint64_t mark = chunk[i], power = 1, lam = 0;
			for (uint64_t e = chunk[i]; e;) {
				if (seen++ >= nentries)
					return corrupt("a hash table with more entries than it counts", table);
				ins_error *err = fn(r, arg, table, e);
				if (err)
					return err;
				if (!ins_image_u64(r->img, e + (uint64_t)L->tm_entry_next, &e))
					return corrupt("an unreadable hash table entry", e);
				if (e == mark)
					return corrupt("a hash table chain that loops", table);
				if (++lam == power) {
					mark = e;
					power *= 2;
					lam = 0;
				}
			}
		}
	}
	if (seen != nentries)
		return corrupt("a hash table with fewer entries than it counts", table);
	return NULL;
}

/* A traces table entry: Python/hashtable.c's key (the pointer) and value (trace_t *), or
 * Modules/hashtable.c's inline key (uintptr_t, or pointer_t {ptr, domain}) and trace_t. */
static ins_error *trace_entry(reader *r, void *arg, uint64_t table, uint64_t e)
{
	const ins_layout *L = r->L;
	uint32_t domain = *(uint32_t *)arg;
	uint64_t ptr, trace;
	if (L->tm_entry_value >= 0) {
		if (!ins_image_u64(r->img, e + (uint64_t)L->tm_entry_key, &ptr) ||
		    !ins_image_u64(r->img, e + (uint64_t)L->tm_entry_value, &trace) || !trace)
			return corrupt("an unreadable trace", e);
	} else {
		uint64_t key_size, data_size;
		if (!ins_image_u64(r->img, table + (uint64_t)L->tm_ht_key_size, &key_size) ||
		    !ins_image_u64(r->img, table + (uint64_t)L->tm_ht_data_size, &data_size) ||
		    (key_size != 8 && key_size != 12 && key_size != 16) || data_size < 16 || data_size > 64)
			return corrupt("a traces table with unknown keys", table);
		uint64_t key = e + (uint64_t)L->tm_entry_key;
		if (!ins_image_u64(r->img, key, &ptr))
			return corrupt("an unreadable trace", e);
		if (key_size > 8 && !ins_image_read(r->img, key + 8, &domain, 4))
			return corrupt("an unreadable trace", e);
		trace = key + key_size;
	}
	uint64_t size, tb;
	if (!ins_image_u64(r->img, trace + (uint64_t)L->tm_trace_size, &size) ||
	    !ins_image_u64(r->img, trace + (uint64_t)L->tm_trace_traceback, &tb))
		return corrupt("an unreadable trace", trace);
	return add_trace(r, domain, ptr, size, tb);
}

/* A domains table entry (3.9+): key the domain, value its traces table. */
static ins_error *domain_entry(reader *r, void *arg, uint64_t table, uint64_t e)
{
	(void)arg;
	(void)table;
	uint64_t domain, traces;
	if (!ins_image_u64(r->img, e + (uint64_t)r->L->tm_entry_key, &domain) ||
	    !ins_image_u64(r->img, e + (uint64_t)r->L->tm_entry_value, &traces) || !traces)
		return corrupt("an unreadable domain", e);
	uint32_t d = (uint32_t)domain;
	return each_entry(r, traces, trace_entry, &d);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

static int cmp_trace(const void *a, const void *b)
{
	const ins_tm_trace *x = a, *y = b;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

/* Sorts the names; each frame's file becomes the rank of its name (equal names, one rank). */
static ins_error *rank_files(reader *r)
{
	ins_tracemalloc *tm = r->tm;
	size_t n = r->nnames;
	char ***order = malloc((n ? n : 1) * sizeof(*order));
	uint32_t *rank = malloc((n ? n : 1) * sizeof(*rank));
	tm->files = malloc((n ? n : 1) * sizeof(char *));
	if (!order || !rank || !tm->files) {
		free(order);
		free(rank);
		return nomem();
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &r->names[i];
	qsort(order, n, sizeof(*order), cmp_name);
	for (size_t i = 0; i < n; i++) {
		size_t at = (size_t)(order[i] - r->names);
		if (!tm->nfiles || strcmp(tm->files[tm->nfiles - 1], *order[i]) != 0) {
			tm->files[tm->nfiles++] = *order[i];
		} else {
			free(*order[i]);
		}
		rank[at] = (uint32_t)(tm->nfiles - 1);
		*order[i] = NULL;
	}
	for (size_t i = 0; i < tm->nframes; i++)
		tm->frames[i].file = rank[tm->frames[i].file];
	free(order);
	free(rank);
	free(r->names);
	r->names = NULL;
	r->nnames = 0;
	return NULL;
}

/* Where the state is: the tables, and is_tracing() (-1 unknown). */
static void locate(ins_objects *o, int *tracing, uint64_t *traces, uint64_t *domains, bool *found)
{
	const ins_interp *in = o->in;
	const ins_layout *L = &in->L;
	*tracing = -1;
	*traces = *domains = 0;
	*found = false;
	uint64_t a;
	int32_t v;
	if (L->tm_runtime_state >= 0 && in->runtime) {
		uint64_t st = in->runtime + (uint64_t)L->tm_runtime_state;
		if (ins_image_i32(o->img, st + (uint64_t)L->tm_state_tracing, &v))
			*tracing = v != 0;
		ins_image_u64(o->img, st + (uint64_t)L->tm_state_traces, traces);
		ins_image_u64(o->img, st + (uint64_t)L->tm_state_domains, domains);
		*found = true;
		return;
	}
	static const char *configs[] = { "_Py_tracemalloc_config", "tracemalloc_config" };
	for (size_t i = 0; i < 2 && *tracing < 0; i++)
		if (ins_elf_lookup(in->elf, configs[i], &a, NULL) &&
		    ins_image_i32(o->img, a + (uint64_t)L->tm_config_tracing, &v))
			*tracing = v != 0;
	if (ins_elf_lookup(in->elf, "tracemalloc_traces", &a, NULL) && ins_image_u64(o->img, a, traces)) {
		*found = true;
		if (ins_elf_lookup(in->elf, "tracemalloc_domains", &a, NULL))
			ins_image_u64(o->img, a, domains);
	}
}

ins_error *ins_tracemalloc_read(ins_objects *o, ins_tracemalloc *out)
{
	memset(out, 0, sizeof(*out));
	const ins_layout *L = &o->in->L;
	out->oldest_first = L->tm_tb_oldest_first > 0;
	out->tracing = -1;
	if (L->tm_trace_size < 0 || L->tm_ht_buckets < 0 || L->tm_entry_key < 0 || L->tm_tb_frames < 0) {
		out->state = INS_TM_UNSUPPORTED;
		return NULL;
	}
	uint64_t traces, domains;
	bool found;
	locate(o, &out->tracing, &traces, &domains, &found);
	if (!found && out->tracing != 0) {
		out->state = INS_TM_NOT_FOUND;
		return NULL;
	}
	if (out->tracing == 0 || !traces) {
		out->state = INS_TM_NOT_TRACING;
		out->tracing = 0;
		return NULL;
	}
	out->state = INS_TM_TRACING;
	out->tracing = 1;
	reader r = { .o = o, .img = o->img, .L = L, .tm = out };
	for (size_t i = 0; i < o->img->nsegs; i++)
		r.budget += o->img->segs[i].end - o->img->segs[i].start;
	uint32_t d0 = 0;
	ins_error *err = each_entry(&r, traces, trace_entry, &d0);
	if (!err && domains && L->tm_entry_value >= 0) {
		uint64_t n;
		if (!ins_image_u64(o->img, domains + (uint64_t)L->tm_ht_nentries, &n) || n > MAX_DOMAINS)
			err = corrupt("an impossible domains table", domains);
		else
			err = each_entry(&r, domains, domain_entry, NULL);
	}
	if (!err)
		err = rank_files(&r);
	for (size_t i = 0; i < r.nnames; i++)
		free(r.names[i]);
	free(r.names);
	ins_map_free(&r.tbs);
	ins_map_free(&r.files);
	if (err) {
		ins_tracemalloc_free(out);
		return err;
	}
	if (out->ntraces)
		qsort(out->traces, out->ntraces, sizeof(*out->traces), cmp_trace);
	return NULL;
}

void ins_tracemalloc_free(ins_tracemalloc *tm)
{
	for (size_t i = 0; i < tm->nfiles; i++)
		free(tm->files[i]);
	free(tm->files);
	free(tm->traces);
	free(tm->tbs);
	free(tm->frames);
	memset(tm, 0, sizeof(*tm));
}

const char *ins_tracemalloc_why(const ins_tracemalloc *tm)
{
	switch (tm->state) {
	case INS_TM_UNSUPPORTED:
		return "this Python has no tracemalloc (3.4+)";
	case INS_TM_NOT_FOUND:
		return tm->tracing == 1
			? "tracemalloc is tracing, but its tables are static symbols this build's symbol table "
			  "does not have (stripped: install its debug symbols)"
			: "tracemalloc's state is static and this build's symbol table does not have it "
			  "(stripped: install its debug symbols)";
	case INS_TM_NOT_TRACING:
		return "tracemalloc is not tracing";
	case INS_TM_TRACING:
		break;
	}
	return "";
}

const ins_tm_trace *ins_tracemalloc_find(const ins_tracemalloc *tm, uint32_t domain, uint64_t ptr)
{
	ins_tm_trace key = { .ptr = ptr, .domain = domain };
	return tm->ntraces ? bsearch(&key, tm->traces, tm->ntraces, sizeof(key), cmp_trace) : NULL;
}

uint64_t ins_tracemalloc_block_of(ins_objects *o, uint64_t obj, const ins_type *t)
{
	const ins_layout *L = &o->in->L;
	uint64_t pre = 0;
	bool gc = t && L->tpflag_have_gc > 0 && (t->flags & (uint64_t)L->tpflag_have_gc);
	if (t && t->kind == INS_K_TYPE) {  /* type's tp_is_gc: heap types only */
		uint64_t own = ins_image_word(o->img, obj, L->type_flags);
		gc = L->tpflag_heaptype > 0 && (own & (uint64_t)L->tpflag_heaptype);
	}
	if (gc)
		pre += (uint64_t)L->sizeof_gc_head;
	uint64_t flags = L->tpflag_preheader > 0 ? (uint64_t)L->tpflag_preheader
		       : L->tpflag_managed_dict > 0 ? (uint64_t)L->tpflag_managed_dict : 0;
	if (t && flags && (t->flags & flags))
		pre += 16;
	return obj - pre;
}
