/* cmd_state.c -- one object (at), the collector (gc: gcstate.c) and the interpreter (info),
 * rendered. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocations.h"
#include "commands.h"
#include "gcstate.h"

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
	int gen = ins_session_generation(s, addr);
	uint64_t size = ins_obj_size(&s->objs, addr, t);
	ins_buf repr = { 0 };
	ins_obj_repr(&s->objs, addr, t, &repr);
	out->oom |= repr.oom;
	/* tracemalloc.get_object_traceback(obj): a table that does not hold together is a warning */
	ins_tracemalloc tm;
	const ins_tm_traceback *tb = NULL;
	ins_error *tm_err = ins_tracemalloc_read(&s->objs, &tm);
	if (tm_err) {
		ins_buf_printf(c->warn, "warning: %s\n", tm_err->message);
		ins_error_free(tm_err);
		memset(&tm, 0, sizeof(tm));
	} else {
		tb = ins_alloc_object_traceback(s, &tm, addr);
	}
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
		ins_buf_puts(out, ",\"traceback\":");
		if (tb)
			ins_cmd_json_traceback(out, &tm, tb);
		else
			ins_buf_puts(out, "null");
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
		if (tb) {
			ins_buf_puts(out, "traceback: (tracemalloc, most recent call first)\n");
			ins_cmd_text_traceback(out, &tm, tb, "  ");
		} else if (tm.state == INS_TM_TRACING) {
			ins_buf_puts(out, "traceback: not traced (allocated before tracemalloc started)\n");
		}
	}
	ins_tracemalloc_free(&tm);
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
	ins_buf *out = c->out;
	bool json = c->a->json;
	ins_gcstate st;
	int64_t sizes[INS_MAX_GENS];
	ins_error *err = ins_gc_read(c->s, &st);
	if (err)
		return err;
	for (int g = 0; g < st.ngens; g++)
		sizes[g] = (int64_t)st.sizes[g];
	const char *en = st.enabled < 0 ? (json ? "null" : "unknown") : st.enabled ? (json ? "true" : "True")
										   : (json ? "false" : "False");
	ins_buf_printf(out, json ? "{\"enabled\":%s,\"threshold\":" : "enabled:      %s\nthreshold:    ", en);
	put_list(out, st.threshold, st.ngens, json);
	ins_buf_puts(out, json ? ",\"count\":" : "\ncount:        ");
	put_list(out, st.count, st.ngens, json);
	ins_buf_puts(out, json ? ",\"generations\":" : "\ngenerations:  ");
	put_list(out, sizes, st.ngens, json);
	ins_buf_printf(out, json ? ",\"frozen\":%zu,\"garbage\":" : " objects\nfrozen:       %zu\ngarbage:      ",
		       st.frozen);
	if (st.garbage < 0)
		ins_buf_puts(out, json ? "null}\n" : "unknown\n");
	else
		ins_buf_printf(out, json ? "%lld}\n" : "%lld (len(gc.garbage))\n", (long long)st.garbage);
	return NULL;
}

ins_error *ins_cmd_info(const call *c)
{
	ins_session *s = c->s;
	const args *a = c->a;
	ins_buf *out = c->out;
	const char *exe = s->img->exe_file >= 0 ? s->img->files[s->img->exe_file].name : NULL;
	/* a reader is a process (its pid) or a memory image (a core read through a debugger) */
	const char *source = s->img->kind == INS_IMAGE_CORE || (s->img->kind == INS_IMAGE_READER && !s->img->pid) ? "core" : "live";
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
