/* cmd_state.c -- one object (at), the collector (gc) and the interpreter (info). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static int generation_of(const ins_heap *h, uint64_t obj)
{
	for (int g = 0; g <= h->ngens; g++)
		for (size_t i = h->gen_start[g]; i < h->gen_start[g + 1]; i++)
			if (h->objs[i] == obj)
				return g;
	return -1;
}

ins_error *ins_cmd_at(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	uint64_t addr;
	ins_error *err = ins_cmd_object(s, a->pos[0], &addr);
	if (err)
		return err;
	const ins_type *t = ins_obj_type(&s->objs, addr);
	int64_t refcnt;
	bool immortal;
	if (!t || !ins_obj_refcnt(&s->objs, addr, &refcnt, &immortal))
		return ins_err(INS_ERR_NOT_FOUND, "0x%llx is not a Python object", (unsigned long long)addr);
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

/* [1,2,3] in JSON, (1, 2, 3) as Python prints a tuple. */
static void put_list(ins_buf *out, const int64_t *v, int n, bool json)
{
	ins_buf_putc(out, json ? '[' : '(');
	for (int i = 0; i < n; i++)
		ins_buf_printf(out, "%s%lld", i ? (json ? "," : ", ") : "", (long long)v[i]);
	ins_buf_putc(out, json ? ']' : ')');
}

ins_error *ins_cmd_gc(const call *c)
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

ins_error *ins_cmd_info(const call *c)
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
