/* api.c -- libinspect's public API (libinspect.h) on a core: prints its answers as JSON lines
 * ({"what": ...}), which tests/lib/apicheck.py compares with objinspect's JSON on the same
 * core, and checks its error paths (ok/FAIL lines): an address that is no object is
 * INS_ERR_NOT_FOUND, a file that is no core INS_ERR_INPUT, an unknown type name
 * INS_ERR_NOT_FOUND, no source at all INS_ERR_USAGE; and the saved index through
 * ins_program_set_index (made, then read, with the same objects).
 *
 *   api DIR [CORE]      CORE, or $API_CORE; DIR a scratch directory (for the index)
 *
 * Only the public header is used: this is what a program linking libinspect sees. */
#include <libinspect/libinspect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define NADDRS 8

static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_addr(uint64_t a)
{
	printf("\"0x%llx\"", (unsigned long long)a);
}

static void json_addrs(const uint64_t *v, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_addr(v[i]);
	}
	putchar(']');
}

/* An API call that must succeed: prints FAIL and gives false otherwise. */
static bool ok(const char *what, ins_error *err)
{
	if (!err)
		return true;
	printf("FAIL %s: error %d: %s\n", what, err->code, err->message);
	failures++;
	ins_error_free(err);
	return false;
}

/* The error code of a call, its error freed. */
static int code_of(ins_error *err)
{
	int code = err ? err->code : INS_OK;
	ins_error_free(err);
	return code;
}

static uint64_t addrs[NADDRS];
static size_t naddrs;

static void pick(uint64_t a)
{
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i] == a)
			return;
	if (naddrs < NADDRS)
		addrs[naddrs++] = a;
}

static void types(ins_program *p, unsigned flags, char names[][128], size_t *nnames)
{
	ins_type_stats st;
	if (!ok("ins_program_types", ins_program_types(p, flags, &st)))
		return;
	uint64_t sum = 0;
	printf("{\"what\":\"types\",\"flags\":%u,\"objects\":%zu,\"frozen\":%zu,\"untracked\":%zu,\"types\":[", flags,
	       st.ntracked, st.nfrozen, st.nuntracked);
	for (size_t i = 0; i < st.n; i++) {
		printf(i ? ",{\"type\":" : "{\"type\":");
		json_str(st.v[i].name);
		printf(",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)st.v[i].count,
		       (unsigned long long)st.v[i].bytes);
		sum += st.v[i].count;
		if (i && st.v[i].count > st.v[i - 1].count)
			CHECK(false, "types (flags %u): %s after a less common row", flags, st.v[i].name);
		if (names && i < 4 && *nnames < 6)
			snprintf(names[(*nnames)++], 128, "%s", st.v[i].name);
	}
	printf("]}\n");
	if (!(flags & INS_TYPES_ALL))
		CHECK(sum <= st.ntracked, "types (flags %u): %llu counted of %zu tracked", flags,
		      (unsigned long long)sum, st.ntracked);
	ins_type_stats_free(&st);
}

static void by_type(ins_program *p, const char *name)
{
	uint64_t *v;
	size_t n;
	if (!ok("ins_program_objects_by_type", ins_program_objects_by_type(p, name, &v, &n)))
		return;
	printf("{\"what\":\"by_type\",\"type\":");
	json_str(name);
	printf(",\"objects\":");
	json_addrs(v, n);
	printf("}\n");
	for (size_t i = 0; i < n && i < 2; i++)
		pick(v[i]);
	ins_free(v);
}

static void object(ins_program *p, uint64_t a)
{
	ins_object o;
	char *repr;
	if (!ok("ins_object_get", ins_object_get(p, a, &o)) || !ok("ins_object_repr", ins_object_repr(p, a, &repr)))
		return;
	printf("{\"what\":\"object\",\"address\":");
	json_addr(o.address);
	printf(",\"type\":");
	json_str(o.type);
	printf(",\"qualname\":");
	json_str(o.qualname);
	printf(",\"refcnt\":%lld,\"immortal\":%s,\"size\":%llu,\"tracked\":%s,\"frozen\":%s,\"generation\":%d,"
	       "\"repr\":",
	       (long long)o.refcnt, o.immortal ? "true" : "false", (unsigned long long)o.size,
	       o.tracked ? "true" : "false", o.frozen ? "true" : "false", o.generation);
	json_str(repr);
	printf(",\"type_address\":");
	json_addr(o.type_address);
	printf("}\n");
	ins_free(repr);
}

static void put_refs(const ins_refs *r)
{
	putchar('[');
	for (size_t i = 0; i < r->n; i++) {
		printf(i ? ",{\"address\":" : "{\"address\":");
		json_addr(r->v[i].address);
		printf(",\"edge\":");
		json_str(r->v[i].label);
		printf(",\"inferred\":%s}", (r->v[i].flags & INS_REF_INFERRED) ? "true" : "false");
	}
	putchar(']');
}

static void refs(ins_program *p, uint64_t a, bool back)
{
	ins_refs r;
	if (!ok(back ? "ins_object_referrers" : "ins_object_referents",
		(back ? ins_object_referrers : ins_object_referents)(p, a, &r)))
		return;
	printf("{\"what\":\"%s\",\"address\":", back ? "backrefs" : "refs");
	json_addr(a);
	printf(",\"refs\":");
	put_refs(&r);
	printf("}\n");
	ins_refs_free(&r);
}

static void chain(ins_program *p, uint64_t a, bool to_root)
{
	ins_refs r;
	bool found;
	ins_chain_options opt = { .to_root = to_root };
	if (!ok("ins_program_chain", ins_program_chain(p, a, &opt, &r, &found)))
		return;
	printf("{\"what\":\"chain\",\"address\":");
	json_addr(a);
	printf(",\"to_root\":%s,\"found\":%s,\"chain\":", to_root ? "true" : "false", found ? "true" : "false");
	put_refs(&r);
	printf("}\n");
	CHECK(r.n >= 1 && r.v[r.n - 1].address == a, "chain of 0x%llx ends at it", (unsigned long long)a);
	ins_refs_free(&r);
}

static void collection(ins_program *p)
{
	ins_collection c, again;
	if (!ok("ins_program_collect", ins_program_collect(p, &c)))
		return;
	uint64_t bytes = 0;
	for (size_t i = 0; i < c.n; i++) {
		ins_object o;
		if (ok("ins_object_get (unreachable)", ins_object_get(p, c.unreachable[i], &o)))
			bytes += o.size;
	}
	printf("{\"what\":\"cycles\",\"unreachable\":");
	json_addrs(c.unreachable, c.n);
	printf(",\"unreachable_types\":[");
	for (size_t i = 0; i < c.n; i++) {
		ins_object o;
		ins_error *err = ins_object_get(p, c.unreachable[i], &o);
		if (i)
			putchar(',');
		json_str(err ? NULL : o.type);
		ins_error_free(err);
	}
	printf("],\"bytes\":%llu,\"cycles\":[", (unsigned long long)bytes);
	size_t members = 0;
	for (size_t k = 0; k < c.ncycles; k++) {
		const ins_cycle_info *cy = &c.cycles[k];
		printf("%s{\"size\":%zu,\"path\":%zu,\"bytes\":%llu,\"held\":%zu,\"held_bytes\":%llu,\"members\":",
		       k ? "," : "", cy->n, cy->path, (unsigned long long)cy->bytes, cy->held,
		       (unsigned long long)cy->held_bytes);
		json_addrs(cy->members, cy->n);
		putchar('}');
		members += cy->n;
		if (k == 0 && cy->n)
			pick(cy->members[0]);
	}
	printf("]}\n");
	CHECK(members <= c.n, "cycles: %zu members of %zu unreachable objects", members, c.n);
	if (ok("ins_program_collect (again)", ins_program_collect(p, &again))) {
		CHECK(again.n == c.n && again.ncycles == c.ncycles &&
			      (!c.n || memcmp(again.unreachable, c.unreachable, c.n * sizeof(*c.unreachable)) == 0),
		      "the collection is the same asked twice");
		ins_collection_free(&again);
	}
	ins_collection_free(&c);
}

static void garbage(ins_program *p)
{
	uint64_t *v;
	size_t n;
	ins_error *err = ins_program_garbage(p, &v, &n);
	printf("{\"what\":\"garbage\",\"code\":%d", err ? err->code : 0);
	if (!err) {
		printf(",\"objects\":");
		json_addrs(v, n);
		if (n)
			pick(v[0]);
		ins_free(v);
	}
	printf("}\n");
	ins_error_free(err);
}

static void leaking(ins_program *p, bool raw)
{
	uint64_t *v;
	size_t n;
	if (!ok("ins_program_leaking", ins_program_leaking(p, raw, &v, &n)))
		return;
	printf("{\"what\":\"leaking\",\"raw\":%s,\"objects\":", raw ? "true" : "false");
	json_addrs(v, n);
	printf("}\n");
	for (size_t i = 0; !raw && i < n && i < 3; i++)
		pick(v[i]);
	ins_free(v);
}

static void refcheck(ins_program *p)
{
	ins_refcheck_row *v;
	size_t n;
	if (!ok("ins_program_refcheck", ins_program_refcheck(p, &v, &n)))
		return;
	printf("{\"what\":\"refcheck\",\"rows\":[");
	for (size_t i = 0; i < n; i++) {
		printf(i ? ",{\"address\":" : "{\"address\":");
		json_addr(v[i].address);
		printf(",\"refcnt\":%lld,\"referrers\":%llu,\"residual\":%lld}", (long long)v[i].refcnt,
		       (unsigned long long)v[i].referrers, (long long)v[i].residual);
	}
	printf("]}\n");
	ins_free(v);
}

static void gc_state(ins_program *p)
{
	ins_gc_state g;
	if (!ok("ins_program_gc", ins_program_gc(p, &g)))
		return;
	printf("{\"what\":\"gc\",\"enabled\":%s,\"ngens\":%d,\"threshold\":[",
	       !g.enabled_known ? "null" : g.enabled ? "true" : "false", g.ngens);
	for (int i = 0; i < g.ngens; i++)
		printf("%s%ld", i ? "," : "", g.threshold[i]);
	printf("],\"count\":[");
	for (int i = 0; i < g.ngens; i++)
		printf("%s%ld", i ? "," : "", g.count[i]);
	printf("],\"generations\":[");
	for (int i = 0; i < g.ngens; i++)
		printf("%s%zu", i ? "," : "", g.generation_size[i]);
	printf("],\"frozen\":%zu,\"garbage\":", g.frozen);
	if (g.garbage_known)
		printf("%zu}\n", g.garbage);
	else
		printf("null}\n");
}

static void stacks(ins_program *p)
{
	ins_stacks s;
	if (!ok("ins_program_stacks", ins_program_stacks(p, true, &s)))
		return;
	printf("{\"what\":\"stacks\",\"threads\":[");
	for (size_t i = 0; i < s.n; i++) {
		const ins_thread *t = &s.v[i];
		printf("%s{\"thread_id\":%llu,\"gil\":%s,\"tstate\":", i ? "," : "", (unsigned long long)t->thread_id,
		       t->gil < 0 ? "null" : t->gil ? "true" : "false");
		json_addr(t->tstate);
		printf(",\"frames\":[");
		for (size_t k = 0; k < t->nframes; k++) {
			const ins_frame *f = &t->frames[k];
			printf(k ? ",{\"function\":" : "{\"function\":");
			json_str(f->function);
			printf(",\"file\":");
			json_str(f->file);
			if (f->line >= 0)
				printf(",\"line\":%d,\"address\":", f->line);
			else
				printf(",\"line\":null,\"address\":");
			json_addr(f->address);
			printf(",\"frame_object\":");
			if (f->frame_object)
				json_addr(f->frame_object);
			else
				printf("null");
			printf(",\"locals\":[");
			for (size_t j = 0; j < f->nlocals; j++) {
				char *repr = NULL;
				ins_error_free(ins_object_repr(p, f->locals[j].value, &repr));
				printf(j ? ",[" : "[");
				json_str(f->locals[j].name);
				putchar(',');
				json_addr(f->locals[j].value);
				putchar(',');
				json_str(repr);
				putchar(']');
				ins_free(repr);
			}
			printf("]}");
		}
		printf("]}");
	}
	printf("]}\n");
	ins_stacks_free(&s);
}

static void errors(ins_program *p, const char *self, const char *core_path)
{
	ins_object o;
	ins_refs r;
	bool found;
	char *repr;
	uint64_t *v;
	size_t n;
	CHECK(code_of(ins_object_get(p, 0x10, &o)) == INS_ERR_NOT_FOUND, "ins_object_get(0x10): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_object_get(p, UINT64_MAX - 7, &o)) == INS_ERR_NOT_FOUND,
	      "ins_object_get(UINT64_MAX - 7): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_object_repr(p, 0x10, &repr)) == INS_ERR_NOT_FOUND,
	      "ins_object_repr(0x10): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_object_referents(p, 0x10, &r)) == INS_ERR_NOT_FOUND,
	      "ins_object_referents(0x10): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_object_referrers(p, 0x10, &r)) == INS_ERR_NOT_FOUND,
	      "ins_object_referrers(0x10): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_program_chain(p, 0x10, NULL, &r, &found)) == INS_ERR_NOT_FOUND,
	      "ins_program_chain(0x10): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_program_objects_by_type(p, "NoSuchTypeAnywhere", &v, &n)) == INS_ERR_NOT_FOUND,
	      "ins_program_objects_by_type(NoSuchTypeAnywhere): INS_ERR_NOT_FOUND");
	CHECK(code_of(ins_program_objects_by_type(p, "nosuchmodule.NoSuchType", &v, &n)) == INS_ERR_NOT_FOUND,
	      "ins_program_objects_by_type(nosuchmodule.NoSuchType): INS_ERR_NOT_FOUND");

	ins_program *q = NULL;
	CHECK(code_of(ins_program_open_core(self, NULL, &q)) == INS_ERR_INPUT && !q,
	      "ins_program_open_core(an executable, not a core): INS_ERR_INPUT");
	CHECK(code_of(ins_program_open_core("/etc/passwd", NULL, &q)) == INS_ERR_INPUT && !q,
	      "ins_program_open_core(a text file): INS_ERR_INPUT");
	CHECK(code_of(ins_program_open_core("/nonexistent/core", NULL, &q)) == INS_ERR_INPUT && !q,
	      "ins_program_open_core(a missing file): INS_ERR_INPUT");
	CHECK(code_of(ins_program_open(&(ins_source){ 0 }, &q)) == INS_ERR_USAGE && !q,
	      "ins_program_open(no core, process or reader): INS_ERR_USAGE");
	CHECK(code_of(ins_program_open_pid(-1, true, NULL, &q)) == INS_ERR_USAGE && !q,
	      "ins_program_open_pid(-1): INS_ERR_USAGE");
	ins_file_path half = { "/lib/x86_64-linux-gnu/libc.so.6", NULL };
	CHECK(code_of(ins_program_open_core(core_path, &(ins_open_options){ .files = &half, .nfiles = 1 }, &q)) ==
		      INS_ERR_USAGE && !q,
	      "ins_program_open_core(a file path without its path): INS_ERR_USAGE");
	CHECK(code_of(ins_program_open_core(core_path, &(ins_open_options){ .nfiles = 2 }, &q)) == INS_ERR_USAGE && !q,
	      "ins_program_open_core(nfiles 2, files NULL): INS_ERR_USAGE");
}

/* ins_program_set_index: written with MAKE, read back with READ (no warning), the same objects
 * as p's; refused for a bad mode and once p has answered. */
static void index_api(ins_program *p, const char *core, const ins_open_options *opt, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/api.objinspect-index", dir);
	CHECK(code_of(ins_program_set_index(p, 7, NULL)) == INS_ERR_USAGE, "ins_program_set_index(mode 7): INS_ERR_USAGE");
	CHECK(code_of(ins_program_set_index(p, INS_PROGRAM_INDEX_READ, path)) == INS_ERR_USAGE,
	      "ins_program_set_index after a question: INS_ERR_USAGE");
	const uint64_t *want, *got;
	size_t nwant, ngot;
	if (!ok("ins_program_objects", ins_program_objects(p, &want, &nwant)))
		return;
	for (int mode = INS_PROGRAM_INDEX_MAKE; mode >= INS_PROGRAM_INDEX_READ; mode--) {
		ins_program *q;
		if (!ok("ins_program_open_core", ins_program_open_core(core, opt, &q)))
			return;
		if (ok("ins_program_set_index", ins_program_set_index(q, mode, path)) &&
		    ok("ins_program_objects (index)", ins_program_objects(q, &got, &ngot)))
			CHECK(ngot == nwant && memcmp(got, want, ngot * sizeof(*got)) == 0 &&
				      strcmp(ins_program_warnings(q), "") == 0,
			      "ins_program_set_index(%s): the same %zu objects, no warning (%s)",
			      mode == INS_PROGRAM_INDEX_MAKE ? "MAKE" : "READ", ngot, ins_program_warnings(q));
		FILE *f = fopen(path, "rb");
		CHECK(f != NULL, "the index is at %s", path);
		if (f)
			fclose(f);
		ins_program_free(q);
	}
	remove(path);
}

int main(int argc, char **argv)
{
	const char *core = argc > 2 ? argv[2] : getenv("API_CORE");
	if (!core) {
		printf("FAIL usage: api DIR CORE (or API_CORE=CORE)\n");
		return 2;
	}
	ins_program *p;
	ins_open_options opt = { .sysroot = getenv("API_SYSROOT") };
	if (!ok("ins_program_open_core", ins_program_open_core(core, &opt, &p)))
		return check_summary();
	printf("{\"what\":\"program\",\"python\":");
	json_str(ins_program_python(p));
	printf(",\"description\":");
	json_str(ins_program_description(p));
	printf("}\n");
	CHECK(strlen(ins_program_python(p)) >= 3, "ins_program_python: %s", ins_program_python(p));

	const uint64_t *objs;
	size_t nobjs;
	if (ok("ins_program_objects", ins_program_objects(p, &objs, &nobjs))) {
		printf("{\"what\":\"objects\",\"count\":%zu}\n", nobjs);
		for (size_t i = 0; i < nobjs && i < 200; i++) {
			ins_object o;
			if (ok("ins_object_get (gc.get_objects())", ins_object_get(p, objs[i], &o)) &&
			    (!o.tracked || o.frozen || o.generation < 0))
				CHECK(false, "0x%llx of gc.get_objects() is tracked in a generation",
				      (unsigned long long)objs[i]);
		}
	}

	char names[6][128];
	size_t nnames = 0;
	types(p, 0, names, &nnames);
	types(p, INS_TYPES_QUALIFIED, NULL, NULL);
	types(p, INS_TYPES_ALL, NULL, NULL);
	snprintf(names[nnames++], 128, "dict");
	snprintf(names[nnames++], 128, "function");
	for (size_t i = 0; i < nnames; i++)
		by_type(p, names[i]);

	leaking(p, false);
	leaking(p, true);
	collection(p);
	garbage(p);
	refcheck(p);
	gc_state(p);
	stacks(p);
	for (size_t i = 0; i < naddrs; i++) {
		object(p, addrs[i]);
		refs(p, addrs[i], false);
		refs(p, addrs[i], true);
		chain(p, addrs[i], false);
		chain(p, addrs[i], true);
	}
	CHECK(naddrs > 0, "%zu objects asked about", naddrs);

	errors(p, argv[0], core);
	if (argc > 1)
		index_api(p, core, &opt, argv[1]);
	const char *w = ins_program_warnings(p);
	CHECK(w != NULL, "ins_program_warnings: %zu bytes", w ? strlen(w) : 0);
	ins_program_clear_warnings(p);
	CHECK(strcmp(ins_program_warnings(p), "") == 0, "ins_program_clear_warnings empties them");
	ins_program_free(p);
	return check_summary();
}
