/* commands.c -- the command table shared by objinspect and the GDB extension, and the
 * commands themselves: each parses its arguments, opens a session on the source, and
 * writes text (objgraph's tables) or one line of JSON. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define INS_VERSION "0.1.0"

typedef struct args {
	long limit;          /* -1: the command's default */
	const char *filter;
	const char *baseline;
	bool qualified, json, new_ids;
	const char *pos[2];
	int npos;
} args;

typedef struct ins_peak {
	char *name;
	uint64_t count;
} ins_peak;

struct ins_ctx {
	ins_peak *peaks;     /* objgraph's peak_stats, by name */
	size_t npeaks;
	uint64_t *ids;       /* sorted addresses seen by the last growth call */
	size_t nids;
};

typedef struct command command;
/* One call of a command: the opened session s (its heap walked into an array when the
 * command asks for it), src where s came from (for commands that open another image). */
typedef struct call {
	ins_ctx *ctx;
	ins_session *s;
	const ins_source *src;
	const args *a;
	ins_buf *out, *warn;
} call;

typedef ins_error *(*command_fn)(const call *c);

struct command {
	ins_command_info info;
	int min_pos, max_pos;
	long default_limit;
	bool heap;             /* needs s->heap */
	command_fn run;
};

/* ---- helpers -------------------------------------------------------------- */

typedef struct group {
	const char *name;      /* shown: __name__ or module.qualname */
	ins_buf qualnames;     /* the qualified names merged into this row */
	uint64_t count, bytes;
} group;

static const char *row_name(const ins_type *t, bool qualified)
{
	return qualified ? t->qualname : t->name;
}

static int cmp_typecount(const void *x, const void *y, void *q)
{
	const ins_typecount *a = x, *b = y;
	bool qualified = *(const bool *)q;
	int c = strcmp(row_name(a->type, qualified), row_name(b->type, qualified));
	return c ? c : strcmp(a->type->qualname, b->type->qualname);
}

static int cmp_group(const void *x, const void *y)
{
	const group *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void free_groups(group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ins_buf_free(&g[i].qualnames);
	free(g);
}

/* objgraph.typestats: counts (and bytes) by name, most common first. */
static ins_error *typestats_groups(ins_session *s, bool qualified, bool want_bytes,
				   group **out, size_t *nout, size_t *ntracked, size_t *nfrozen)
{
	ins_stats st;
	ins_error *err = ins_typestats(s, want_bytes, &st);
	if (err)
		return err;
	ins_typecount *rows = st.rows;
	size_t n = st.nrows;
	*ntracked = st.ntracked;
	*nfrozen = st.nfrozen;
	qsort_r(rows, n, sizeof(*rows), cmp_typecount, &qualified);
	group *g = calloc(n ? n : 1, sizeof(*g));
	if (!g) {
		free(rows);
		return ins_err_nomem();
	}
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = row_name(rows[i].type, qualified);
		if (!ng || strcmp(g[ng - 1].name, name) != 0)
			g[ng++].name = name;
		group *cur = &g[ng - 1];
		if (cur->qualnames.len)
			ins_buf_puts(&cur->qualnames, " | ");
		ins_buf_puts(&cur->qualnames, rows[i].type->qualname);
		cur->count += rows[i].count;
		cur->bytes += rows[i].bytes;
	}
	free(rows);
	qsort(g, ng, sizeof(*g), cmp_group);
	*out = g;
	*nout = ng;
	return NULL;
}

/* objgraph matches a dotted name against the qualified name, else __name__. */
static bool name_matches(const ins_type *t, const char *want)
{
	return strcmp(strchr(want, '.') ? t->qualname : t->name, want) == 0;
}

/* Is there any type called `want`, even with no tracked instance? Classes are tracked
 * objects; builtin types are looked up among the interpreter's well-known ones. */
static bool type_exists(ins_session *s, const char *want)
{
	ins_error *err = ins_session_heap(s);
	if (err) {  /* out of memory: say the type is unknown rather than guess */
		ins_error_free(err);
		return false;
	}
	for (size_t i = 0; i < s->heap.n; i++) {
		const ins_type *t = ins_obj_type(&s->objs, s->heap.objs[i]);
		if (t && t->kind == INS_K_TYPE)
			ins_type_info(&s->objs, s->heap.objs[i]);
	}
	const uint64_t *known = (const uint64_t *)&s->in->T;
	for (size_t i = 0; i < sizeof(s->in->T) / sizeof(*known); i++)
		if (known[i])
			ins_type_info(&s->objs, known[i]);
	for (size_t i = 0; i < s->objs.ntypes; i++)
		if (name_matches(s->objs.types[i], want))
			return true;
	return false;
}

static ins_error *unknown_type(const char *want)
{
	return ins_err(INS_E_NOT_FOUND, "unknown type '%s': no object of that type and no class of that name in the heap", want);
}

/* Opens the session a command works on; with the heap walked into an array if it needs one. */
static ins_error *open_session(const ins_source *src, ins_buf *warn, bool heap, ins_session **out)
{
	ins_error *err = ins_session_open(src, warn, out);
	if (!err && heap && (err = ins_session_heap(*out))) {
		ins_session_close(*out);
		*out = NULL;
	}
	return err;
}

/* ---- types, count, by-type ------------------------------------------------ */

static ins_error *cmd_types(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	group *g;
	size_t n, ntracked, nfrozen;
	ins_error *err = typestats_groups(s, a->qualified, true, &g, &n, &ntracked, &nfrozen);
	if (err)
		return err;
	size_t limit = a->limit == 0 ? n : (size_t)a->limit, shown = 0;
	group **sel = calloc(n ? n : 1, sizeof(*sel));
	for (size_t i = 0; sel && i < n && shown < limit; i++)
		if (!a->filter || strstr(g[i].name, a->filter))
			sel[shown++] = &g[i];
	if (!sel) {
		err = ins_err_nomem();
	} else if (a->json) {
		ins_buf_puts(out, "{\"python\":");
		ins_json_str(out, s->in->version);
		ins_buf_printf(out, ",\"objects\":%zu,\"frozen\":%zu,\"types\":[", ntracked, nfrozen);
		for (size_t i = 0; i < shown; i++) {
			ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
			ins_json_str(out, sel[i]->name);
			ins_buf_puts(out, ",\"qualname\":");
			ins_json_str(out, sel[i]->qualnames.data);
			ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)sel[i]->count,
				       (unsigned long long)sel[i]->bytes);
		}
		ins_buf_puts(out, "]}\n");
	} else {
		size_t w = 4;
		for (size_t i = 0; i < shown; i++)
			if (strlen(sel[i]->name) > w)
				w = strlen(sel[i]->name);
		for (size_t i = 0; i < shown; i++)
			ins_buf_printf(out, "%-*s %9llu %12llu\n", (int)w, sel[i]->name,
				       (unsigned long long)sel[i]->count, (unsigned long long)sel[i]->bytes);
		ins_buf_printf(out, "(%zu objects tracked by the GC in CPython %s", ntracked, s->in->version);
		if (nfrozen)
			ins_buf_printf(out, "; %zu more frozen by gc.freeze()", nfrozen);
		ins_buf_puts(out, "; columns: type, count, bytes)\n");
	}
	free(sel);
	free_groups(g, n);
	return err;
}

typedef struct matcher {
	ins_session *s;
	const char *want;
	ins_map verdict;        /* type address -> 1 matches, 2 does not */
	uint64_t *v;
	size_t n, cap;
	bool oom;
} matcher;

static bool type_matches(matcher *m, uint64_t obj, uint64_t type)
{
	uint64_t *slot;
	if (type == m->s->in->T.instance2 && type) {  /* 2.7 classic instance: by class */
		const ins_type *t = ins_obj_type(&m->s->objs, obj);
		return t && name_matches(t, m->want);
	}
	if (!(slot = ins_map_slot(&m->verdict, type, 0))) {
		m->oom = true;
		return false;
	}
	if (!*slot) {
		const ins_type *t = ins_type_info(&m->s->objs, type);
		*slot = t && name_matches(t, m->want) ? 1 : 2;
	}
	return *slot == 1;
}

static void collect_match(void *arg, uint64_t obj, uint64_t type, int gen)
{
	matcher *m = arg;
	if (gen >= m->s->in->ngens || m->oom || !type_matches(m, obj, type))
		return;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		uint64_t *w = realloc(m->v, cap * sizeof(*w));
		if (!w) {
			m->oom = true;
			return;
		}
		m->v = w;
		m->cap = cap;
	}
	m->v[m->n++] = obj;
}

/* Addresses of the tracked objects whose type matches want, in one pass. */
static ins_error *objects_of(ins_session *s, const char *want, uint64_t **out, size_t *n)
{
	matcher m = { .s = s, .want = want };
	size_t counts[INS_MAX_GENS + 1];
	ins_error *err = ins_heap_visit(s->img, s->in, s->warn, collect_match, &m, counts);
	ins_map_free(&m.verdict);
	if (!err && m.oom)
		err = ins_err_nomem();
	if (!err && !m.n && !type_exists(s, want))
		err = unknown_type(want);
	if (err) {
		free(m.v);
		return err;
	}
	*out = m.v;
	*n = m.n;
	return NULL;
}

/* count and by-type: how many objects of a type; by-type also lists them. */
static ins_error *type_objects(const call *c, bool list)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	uint64_t *objs = NULL;
	size_t n = 0;
	ins_error *err = objects_of(s, a->pos[0], &objs, &n);
	size_t shown = !list ? 0 : a->limit > 0 && (size_t)a->limit < n ? (size_t)a->limit : n;
	if (!err && a->json) {
		ins_buf_puts(out, "{\"type\":");
		ins_json_str(out, a->pos[0]);
		ins_buf_printf(out, ",\"count\":%zu", n);
		if (list) {
			ins_buf_puts(out, ",\"objects\":[");
			for (size_t i = 0; i < shown; i++) {
				if (i)
					ins_buf_putc(out, ',');
				ins_json_addr(out, objs[i]);
			}
			ins_buf_putc(out, ']');
		}
		ins_buf_puts(out, "}\n");
	} else if (!err && !list) {
		ins_buf_printf(out, "%zu\n", n);
	} else if (!err) {
		for (size_t i = 0; i < shown; i++) {
			ins_buf_printf(out, "0x%llx ", (unsigned long long)objs[i]);
			ins_obj_repr(&s->objs, objs[i], ins_obj_type(&s->objs, objs[i]), out);
			ins_buf_putc(out, '\n');
		}
		if (shown < n)
			ins_buf_printf(out, "... %zu more (--limit 0 shows all)\n", n - shown);
		ins_buf_printf(out, "(%zu objects of type %s)\n", n, a->pos[0]);
	}
	free(objs);
	return err;
}

static ins_error *cmd_count(const call *c)
{
	return type_objects(c, false);
}

static ins_error *cmd_by_type(const call *c)
{
	return type_objects(c, true);
}

/* ---- at ------------------------------------------------------------------- */

static bool parse_addr(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return false;
	*v = x;
	return true;
}

static int generation_of(const ins_heap *h, uint64_t obj)
{
	for (int g = 0; g <= h->ngens; g++)
		for (size_t i = h->gen_start[g]; i < h->gen_start[g + 1]; i++)
			if (h->objs[i] == obj)
				return g;
	return -1;
}

static ins_error *cmd_at(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	uint64_t addr;
	if (!parse_addr(a->pos[0], &addr))
		return ins_err(INS_E_USAGE, "'%s' is not an address", a->pos[0]);
	const ins_type *t = ins_obj_valid(&s->objs, addr) ? ins_obj_type(&s->objs, addr) : NULL;
	int64_t refcnt;
	bool immortal;
	if (!t || !ins_obj_refcnt(&s->objs, addr, &refcnt, &immortal))
		return ins_err(INS_E_NOT_FOUND, "0x%llx is not a Python object", (unsigned long long)addr);
	int gen = generation_of(&s->heap, addr);
	uint64_t size = ins_obj_size(&s->objs, addr, t);
	ins_buf repr = { 0 };
	ins_obj_repr(&s->objs, addr, t, &repr);
	if (a->json) {
		ins_buf_puts(out, "{\"address\":");
		ins_json_addr(out, addr);
		ins_buf_puts(out, ",\"type\":");
		ins_json_str(out, t->name);
		ins_buf_puts(out, ",\"qualname\":");
		ins_json_str(out, t->qualname);
		ins_buf_printf(out, ",\"refcnt\":%lld,\"immortal\":%s,\"size\":%llu,\"tracked\":%s",
			       (long long)refcnt, immortal ? "true" : "false", (unsigned long long)size,
			       gen >= 0 ? "true" : "false");
		if (gen >= 0)
			ins_buf_printf(out, ",\"generation\":%d,\"frozen\":%s", gen < s->heap.ngens ? gen : -1,
				       gen == s->heap.ngens ? "true" : "false");
		ins_buf_puts(out, ",\"repr\":");
		ins_json_str(out, repr.data ? repr.data : "");
		ins_buf_puts(out, "}\n");
	} else {
		ins_buf_printf(out, "address:  0x%llx\ntype:     %s (%s)\nrefcnt:   %lld%s\nsize:     %llu\n",
			       (unsigned long long)addr, t->name, t->qualname, (long long)refcnt,
			       immortal ? " (immortal)" : "", (unsigned long long)size);
		if (gen < 0)
			ins_buf_puts(out, "tracked:  no\n");
		else if (gen == s->heap.ngens)
			ins_buf_puts(out, "tracked:  yes (frozen, permanent generation)\n");
		else
			ins_buf_printf(out, "tracked:  yes (generation %d)\n", gen);
		ins_buf_printf(out, "repr:     %s\n", repr.data ? repr.data : "");
	}
	ins_buf_free(&repr);
	return NULL;
}

/* ---- growth --------------------------------------------------------------- */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int cmp_peak(const void *x, const void *y)
{
	return strcmp(((const ins_peak *)x)->name, ((const ins_peak *)y)->name);
}

/* The peak of name among the first n (sorted) peaks. */
static ins_peak *peak_find(ins_ctx *ctx, size_t n, const char *name)
{
	ins_peak key = { (char *)name, 0 };
	return n ? bsearch(&key, ctx->peaks, n, sizeof(key), cmp_peak) : NULL;
}

typedef struct growth_row {
	const char *name;
	uint64_t count, delta;
} growth_row;

static int cmp_growth(const void *x, const void *y)
{
	const growth_row *a = x, *b = y;
	if (a->delta != b->delta)
		return a->delta > b->delta ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* objgraph.show_growth: the increase of each type's count over its peak so far; then
 * the peaks and ids are updated. */
static ins_error *growth_step(ins_ctx *ctx, ins_session *s, bool qualified,
			      growth_row **rows, size_t *nrows, group **groups, size_t *ngroups)
{
	group *g;
	size_t n, ntracked, nfrozen;
	ins_error *err = typestats_groups(s, qualified, false, &g, &n, &ntracked, &nfrozen);
	if (err)
		return err;
	growth_row *r = calloc(n ? n : 1, sizeof(*r));
	ins_peak *p = realloc(ctx->peaks, (ctx->npeaks + n + 1) * sizeof(*p));
	if (!r || !p) {
		free(r);
		if (p)
			ctx->peaks = p;
		free_groups(g, n);
		return ins_err_nomem();
	}
	ctx->peaks = p;
	size_t nr = 0, old = ctx->npeaks;
	for (size_t i = 0; i < n; i++) {
		ins_peak *pk = peak_find(ctx, old, g[i].name);
		if (!pk) {
			char *name = strdup(g[i].name);
			if (!name)
				continue;
			pk = &ctx->peaks[ctx->npeaks++];
			*pk = (ins_peak){ name, 0 };
		}
		if (g[i].count > pk->count) {
			r[nr++] = (growth_row){ g[i].name, g[i].count, g[i].count - pk->count };
			pk->count = g[i].count;
		}
	}
	qsort(ctx->peaks, ctx->npeaks, sizeof(*ctx->peaks), cmp_peak);  /* group names are distinct */
	qsort(r, nr, sizeof(*r), cmp_growth);
	*rows = r;
	*nrows = nr;
	*groups = g;
	*ngroups = n;
	return NULL;
}

static void remember_ids(ins_ctx *ctx, ins_session *s)
{
	uint64_t *ids = malloc((s->heap.ntracked + 1) * sizeof(*ids));
	if (!ids)
		return;
	memcpy(ids, s->heap.objs, s->heap.ntracked * sizeof(*ids));
	qsort(ids, s->heap.ntracked, sizeof(*ids), cmp_u64);
	free(ctx->ids);
	ctx->ids = ids;
	ctx->nids = s->heap.ntracked;
}

static void new_ids(ins_ctx *ctx, ins_session *s, const char *name, bool qualified, bool json, ins_buf *out)
{
	size_t k = 0;
	for (size_t i = 0; i < s->heap.ntracked; i++) {
		uint64_t obj = s->heap.objs[i];
		const ins_type *t = ins_obj_type(&s->objs, obj);
		if (!t || strcmp(row_name(t, qualified), name) != 0 ||
		    (ctx->nids && bsearch(&obj, ctx->ids, ctx->nids, sizeof(obj), cmp_u64)))
			continue;
		if (json) {
			if (k)
				ins_buf_putc(out, ',');
			ins_json_addr(out, obj);
		} else {
			ins_buf_printf(out, "    0x%llx\n", (unsigned long long)obj);
		}
		k++;
	}
}

static ins_error *cmd_growth(const call *c)
{
	ins_ctx *ctx = c->ctx;
	ins_session *s = c->s;
	const ins_source *src = c->src;
	const args *a = c->a;
	ins_buf *out = c->out;
	ins_buf *warn = c->warn;
	ins_error *err;
	growth_row *rows;
	group *g;
	size_t nrows, ng;
	if (a->baseline) {  /* CLI: the baseline core records the peaks first */
		ins_source base = *src;
		ins_session *b;
		base.core = a->baseline;
		err = open_session(&base, warn, true, &b);
		if (err)
			return err;
		err = growth_step(ctx, b, a->qualified, &rows, &nrows, &g, &ng);
		if (!err) {
			free(rows);
			free_groups(g, ng);
			remember_ids(ctx, b);
		}
		ins_session_close(b);
		if (err)
			return err;
	}
	err = growth_step(ctx, s, a->qualified, &rows, &nrows, &g, &ng);
	if (err)
		return err;
	size_t shown = a->limit == 0 || (size_t)a->limit > nrows ? nrows : (size_t)a->limit;
	if (a->json) {
		ins_buf_puts(out, "{\"growth\":[");
		for (size_t i = 0; i < shown; i++) {
			ins_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
			ins_json_str(out, rows[i].name);
			ins_buf_printf(out, ",\"count\":%llu,\"delta\":%llu", (unsigned long long)rows[i].count,
				       (unsigned long long)rows[i].delta);
			if (a->new_ids) {
				ins_buf_puts(out, ",\"new_ids\":[");
				new_ids(ctx, s, rows[i].name, a->qualified, true, out);
				ins_buf_putc(out, ']');
			}
			ins_buf_putc(out, '}');
		}
		ins_buf_puts(out, "]}\n");
	} else {
		size_t w = 4;
		for (size_t i = 0; i < shown; i++)
			if (strlen(rows[i].name) > w)
				w = strlen(rows[i].name);
		for (size_t i = 0; i < shown; i++) {
			ins_buf_printf(out, "%-*s%9llu %+9lld\n", (int)w, rows[i].name,
				       (unsigned long long)rows[i].count, (long long)rows[i].delta);
			if (a->new_ids)
				new_ids(ctx, s, rows[i].name, a->qualified, false, out);
		}
	}
	remember_ids(ctx, s);
	free(rows);
	free_groups(g, ng);
	return NULL;
}

/* ---- gc, info ------------------------------------------------------------- */

/* [1,2,3] in JSON, (1, 2, 3) as Python prints a tuple. */
static void put_list(ins_buf *out, const int64_t *v, int n, bool json)
{
	ins_buf_putc(out, json ? '[' : '(');
	for (int i = 0; i < n; i++)
		ins_buf_printf(out, "%s%lld", i ? (json ? "," : ", ") : "", (long long)v[i]);
	ins_buf_putc(out, json ? ']' : ')');
}

static ins_error *cmd_gc(const call *c)
{
	ins_session *s = c->s;
	ins_buf *out = c->out;
	bool json = c->a->json;
	const ins_interp *in = s->in;
	const ins_layout *L = &in->L;
	int32_t enabled = -1, v[2];
	int64_t threshold[INS_MAX_GENS], count[INS_MAX_GENS], sizes[INS_MAX_GENS];
	int ng = s->heap.ngens;
	if (in->enabled_addr && !ins_image_i32(s->img, in->enabled_addr, &enabled))
		enabled = -1;
	for (int g = 0; g < ng; g++) {
		uint64_t gen = in->gens + (uint64_t)g * (uint64_t)L->sizeof_gen;
		bool ok = ins_image_i32(s->img, gen + (uint64_t)L->gen_threshold, &v[0]) &&
			  ins_image_i32(s->img, gen + (uint64_t)L->gen_count, &v[1]);
		threshold[g] = ok ? v[0] : -1;
		count[g] = ok ? v[1] : -1;
		sizes[g] = (int64_t)(s->heap.gen_start[g + 1] - s->heap.gen_start[g]);
	}
	int64_t garbage = -1;
	uint64_t list;
	if (in->garbage_addr && ins_image_u64(s->img, in->garbage_addr, &list)) {
		if (!list)
			garbage = 0;
		else if (!ins_image_i64(s->img, list + (uint64_t)L->var_size, &garbage))
			garbage = -1;
	}
	const char *en = enabled < 0 ? (json ? "null" : "unknown") : enabled ? (json ? "true" : "True")
									   : (json ? "false" : "False");
	ins_buf_printf(out, json ? "{\"enabled\":%s,\"threshold\":" : "enabled:      %s\nthreshold:    ", en);
	put_list(out, threshold, ng, json);
	ins_buf_puts(out, json ? ",\"count\":" : "\ncount:        ");
	put_list(out, count, ng, json);
	ins_buf_puts(out, json ? ",\"generations\":" : "\ngenerations:  ");
	put_list(out, sizes, ng, json);
	ins_buf_printf(out, json ? ",\"frozen\":%zu,\"garbage\":" : " objects\nfrozen:       %zu\ngarbage:      ",
		       s->heap.nfrozen);
	if (garbage < 0)
		ins_buf_puts(out, json ? "null}\n" : "unknown\n");
	else
		ins_buf_printf(out, json ? "%lld}\n" : "%lld (len(gc.garbage))\n", (long long)garbage);
	return NULL;
}

static ins_error *cmd_info(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	const char *exe = s->img->exe_file >= 0 ? s->img->files[s->img->exe_file].name : NULL;
	const char *source = s->img->kind == INS_IMAGE_CORE ? "core" : "live";
	if (a->json) {
		ins_buf_puts(out, "{\"python\":");
		ins_json_str(out, s->in->version);
		ins_buf_puts(out, ",\"executable\":");
		ins_json_str(out, exe);
		ins_buf_printf(out, ",\"source\":\"%s\",\"discovery\":", source);
		ins_json_str(out, s->in->discovery);
		ins_buf_puts(out, ",\"library\":");
		ins_json_str(out, ins_elf_path(s->in->elf));
		ins_buf_printf(out, ",\"objects\":%zu,\"frozen\":%zu}\n", s->heap.ntracked, s->heap.nfrozen);
	} else {
		ins_buf_printf(out, "python:      CPython %s\nexecutable:  %s\nsource:      %s (%s)\ninterpreter: %s\ndiscovery:   %s\nobjects:     %zu tracked by the GC, %zu frozen\n",
			       s->in->version, exe ? exe : "unknown", source, s->img->description,
			       ins_elf_path(s->in->elf), s->in->discovery, s->heap.ntracked, s->heap.nfrozen);
	}
	return NULL;
}

/* ---- the table ------------------------------------------------------------ */

#define JSON_HELP "With --json, prints one line of JSON instead."

static const command commands[] = {
	{ { "types", "objgraph-types", "[--limit N] [--filter S] [--qualified] [--json]",
	    "Most common types among the objects the GC tracks (objgraph.show_most_common_types).",
	    "Counts every object gc.get_objects() would return, by type.__name__ (by module.qualname\n"
	    "with --qualified), most common first, with their sizes as sys.getsizeof reports them.\n"
	    "--limit N shows N rows (default 10, 0 for all); --filter S keeps names containing S.\n"
	    "Objects frozen by gc.freeze() are not counted (gc.get_objects() skips them) and are\n"
	    "reported in the summary line. " JSON_HELP,
	    "--limit --filter --qualified --json" }, 0, 0, 10, false, cmd_types },
	{ { "count", "objgraph-count", "TYPE [--json]",
	    "How many tracked objects have this type (objgraph.count).",
	    "TYPE is a type.__name__, or a dotted module.qualname matched against the qualified\n"
	    "name, as in objgraph. An unknown type is an error; a known type with no instances is 0.\n" JSON_HELP,
	    "--json" }, 1, 1, -1, false, cmd_count },
	{ { "by-type", "objgraph-by-type", "TYPE [--limit N] [--json]",
	    "The tracked objects of a type, by address (objgraph.by_type).",
	    "Lists the address and a short repr of every tracked object of TYPE (see objgraph-count\n"
	    "for how TYPE matches). --limit N lists the first N (default all). " JSON_HELP,
	    "--limit --json" }, 1, 1, 0, false, cmd_by_type },
	{ { "at", "objgraph-at", "ADDRESS [--json]",
	    "What the object at an address is: type, refcount, size, tracking, repr (objgraph.at).",
	    "refcnt is the raw ob_refcnt (sys.getrefcount(obj) - 1); 3.12+ immortal objects are\n"
	    "flagged. size is sys.getsizeof(obj). " JSON_HELP,
	    "--json" }, 1, 1, -1, true, cmd_at },
	{ { "growth", "objgraph-growth", "[--limit N] [--new-ids] [--qualified] [--baseline CORE] [--json]",
	    "Types whose counts grew (objgraph.show_growth).",
	    "In GDB, the first call records each type's count; later calls show the increase over the\n"
	    "highest count seen so far, so `continue`, Ctrl-C, objgraph-growth works on a live process.\n"
	    "objinspect compares with --baseline CORE (an earlier core of the same process).\n"
	    "--new-ids lists the addresses of the objects that are new since the previous call\n"
	    "(objgraph.get_new_ids). --limit N (default 10, 0 for all). " JSON_HELP,
	    "--limit --new-ids --qualified --baseline --json" }, 0, 0, 10, true, cmd_growth },
	{ { "gc", "objgraph-gc", "[--json]",
	    "The garbage collector's state (gc.isenabled, get_threshold, get_count, len(gc.garbage)).",
	    "Also the number of objects in each generation and frozen by gc.freeze(). " JSON_HELP,
	    "--json" }, 0, 0, -1, true, cmd_gc },
	{ { "info", "objgraph-info", "[--json]",
	    "Which Python this is and how libinspect found it.",
	    "The CPython version, the executable, whether the memory is a core or a live process,\n"
	    "and how the interpreter and its layout were found. " JSON_HELP,
	    "--json" }, 0, 0, -1, true, cmd_info },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

size_t ins_command_count(void)
{
	return NCOMMANDS;
}

const ins_command_info *ins_command_get(size_t i)
{
	return i < NCOMMANDS ? &commands[i].info : NULL;
}

const char *ins_version(void)
{
	return INS_VERSION;
}

static const command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].info.name, name) == 0 || strcmp(commands[i].info.gdb_name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Is opt one of the space-separated names in list? */
static bool allowed(const char *list, const char *opt, size_t len)
{
	for (const char *p = list; (p = strstr(p, opt)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0') &&
		    strncmp(p, opt, len) == 0)
			return true;
	return false;
}

static ins_error *parse_args(const command *c, int argc, char **argv, args *a)
{
	const char *cmd = c->info.gdb_name;
	memset(a, 0, sizeof(*a));
	a->limit = c->default_limit;
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
			if (a->npos >= c->max_pos)
				return ins_err(INS_E_USAGE, "%s: unexpected argument '%s' (usage: %s %s)", cmd, arg,
					       cmd, c->info.usage);
			a->pos[a->npos++] = arg;
			continue;
		}
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (!allowed(c->info.options, arg, len))
			return ins_err(INS_E_USAGE, "%s: unknown option '%.*s' (usage: %s %s)", cmd, (int)len, arg,
				       cmd, c->info.usage);
		const char *value = eq ? eq + 1 : NULL;
		bool takes = strncmp(arg, "--limit", len) == 0 || strncmp(arg, "--filter", len) == 0 ||
			     strncmp(arg, "--baseline", len) == 0;
		if (takes && !value) {
			if (i + 1 >= argc)
				return ins_err(INS_E_USAGE, "%s: option '%s' needs a value", cmd, arg);
			value = argv[++i];
		} else if (!takes && value) {
			return ins_err(INS_E_USAGE, "%s: option '%.*s' takes no value", cmd, (int)len, arg);
		}
		if (strncmp(arg, "--limit", len) == 0) {
			char *end;
			errno = 0;
			long v = strtol(value, &end, 10);
			if (errno || end == value || *end || v < 0)
				return ins_err(INS_E_USAGE, "%s: --limit needs a number >= 0, not '%s'", cmd, value);
			a->limit = v;
		} else if (strncmp(arg, "--filter", len) == 0) {
			a->filter = value;
		} else if (strncmp(arg, "--baseline", len) == 0) {
			a->baseline = value;
		} else if (strncmp(arg, "--qualified", len) == 0) {
			a->qualified = true;
		} else if (strncmp(arg, "--json", len) == 0) {
			a->json = true;
		} else if (strncmp(arg, "--new-ids", len) == 0) {
			a->new_ids = true;
		}
	}
	if (a->npos < c->min_pos)
		return ins_err(INS_E_USAGE, "%s: missing argument (usage: %s %s)", cmd, cmd, c->info.usage);
	return NULL;
}

ins_ctx *ins_ctx_new(void)
{
	return calloc(1, sizeof(ins_ctx));
}

void ins_ctx_free(ins_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->npeaks; i++)
		free(ctx->peaks[i].name);
	free(ctx->peaks);
	free(ctx->ids);
	free(ctx);
}

void ins_free(void *p)
{
	free(p);
}

int ins_run(ins_ctx *ctx, const ins_source *src, int argc, char **argv, char **out, char **err_out)
{
	ins_buf out_buf = { 0 }, err_buf = { 0 };
	ins_error *err = NULL;
	const command *cmd = argc > 0 ? find_command(argv[0]) : NULL;
	args a;
	if (!cmd)
		err = ins_err(INS_E_USAGE, "unknown command '%s'", argc > 0 ? argv[0] : "");
	else if (!ctx)
		err = ins_err(INS_E_USAGE, "no context");
	else
		err = parse_args(cmd, argc, argv, &a);
	ins_session *s = NULL;
	if (!err)
		err = open_session(src, &err_buf, cmd->heap, &s);
	if (!err)
		err = cmd->run(&(call){ ctx, s, src, &a, &out_buf, &err_buf });
	ins_session_close(s);
	int code = INS_OK;
	if (err) {
		ins_buf_free(&out_buf);
		ins_buf_printf(&err_buf, "error: %s\n", err->message);
		code = err->code ? err->code : INS_E_FAIL;
		ins_error_free(err);
	} else if (out_buf.oom) {
		ins_buf_free(&out_buf);
		ins_buf_puts(&err_buf, "error: out of memory\n");
		code = INS_E_NOMEM;
	}
	*out = ins_buf_take(&out_buf);
	*err_out = ins_buf_take(&err_buf);
	return code;
}
