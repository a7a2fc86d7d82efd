/* cmd_memory.c -- memory: where the process's memory goes (analysis/memory.c): the image's
 * memory by kind, pymalloc's arenas, pools and blocks as sys._debugmallocstats() counts
 * them, and the Python objects' bytes, as text or JSON. */
#include "commands.h"
#include "memory.h"

#include <stdio.h>

/* "1.5 MiB", "12.0 KiB", "512 B" */
static const char *human(char *b, size_t n, uint64_t v)
{
	static const char *unit[] = { "KiB", "MiB", "GiB", "TiB" };
	if (v < 1024) {
		snprintf(b, n, "%llu B", (unsigned long long)v);
		return b;
	}
	double d = (double)v / 1024;
	size_t u = 0;
	while (d >= 1024 && u + 1 < sizeof(unit) / sizeof(*unit)) {
		d /= 1024;
		u++;
	}
	snprintf(b, n, "%.1f %s", d, unit[u]);
	return b;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void put_segments(const ins_memory *m, ins_buf *out);

static void put_json(const ins_memory *m, ins_buf *out)
{
	ins_buf_puts(out, "{\"pymalloc\":{");
	if (m->pymalloc > 0) {
		ins_buf_printf(out, "\"in_use\":true,\"found_by\":");
		if (m->found_by)
			ins_json_str(out, m->found_by);
		else
			ins_buf_puts(out, "null");
		if (m->counters)
			ins_buf_printf(out, ",\"arenas_total\":%llu,\"arenas_highwater\":%llu", (unsigned long long)m->arenas_total,
				       (unsigned long long)m->arenas_highwater);
		else
			ins_buf_puts(out, ",\"arenas_total\":null,\"arenas_highwater\":null");
		ins_buf_printf(out,
			       ",\"arenas\":%llu,\"arena_size\":%llu,"
			       "\"pools\":%llu,\"pool_size\":%llu,\"free_pools\":%llu,\"allocated_bytes\":%llu,\"free_bytes\":%llu,"
			       "\"free_pool_bytes\":%llu,\"pool_header_bytes\":%llu,\"quantization_bytes\":%llu,"
			       "\"alignment_bytes\":%llu,\"nearly_empty_arenas\":%llu,\"nearly_empty_used_bytes\":%llu,"
			       "\"by_size_class\":[",
			       (unsigned long long)m->arenas, (unsigned long long)m->arena_size,
			       (unsigned long long)m->used_pools, (unsigned long long)m->pool_size,
			       (unsigned long long)m->free_pools, (unsigned long long)m->allocated_bytes,
			       (unsigned long long)m->free_bytes, (unsigned long long)(m->free_pools * m->pool_size),
			       (unsigned long long)m->pool_header_bytes, (unsigned long long)m->quantization_bytes,
			       (unsigned long long)m->alignment_bytes, (unsigned long long)m->nearly_empty,
			       (unsigned long long)m->nearly_empty_used_bytes);
		bool first = true;
		for (size_t i = 0; i < m->nclasses; i++) {
			const ins_size_class *c = &m->classes[i];
			if (!c->pools)
				continue;
			ins_buf_printf(out, "%s{\"size\":%u,\"pools\":%llu,\"used_blocks\":%llu,\"free_blocks\":%llu}",
				       first ? "" : ",", c->size, (unsigned long long)c->pools,
				       (unsigned long long)c->used_blocks, (unsigned long long)c->free_blocks);
			first = false;
		}
		ins_buf_puts(out, "]}");
	} else {
		ins_buf_printf(out, "\"in_use\":%s,\"why\":", m->pymalloc == 0 ? "false" : "null");
		ins_json_str(out, m->why ? m->why : "");
		ins_buf_putc(out, '}');
	}
	ins_buf_printf(out, ",\"objects\":{\"tracked\":%llu,\"tracked_bytes\":%llu,\"frozen\":%llu,\"frozen_bytes\":%llu,"
		       "\"untracked\":%llu,\"untracked_bytes\":%llu",
		       (unsigned long long)m->tracked, (unsigned long long)m->tracked_bytes,
		       (unsigned long long)m->frozen, (unsigned long long)m->frozen_bytes,
		       (unsigned long long)m->untracked, (unsigned long long)m->untracked_bytes);
	if (m->pymalloc < 0) {
		ins_buf_puts(out, ",\"placed\":false");
		put_segments(m, out);
		return;
	}
	ins_buf_printf(out,
		       ",\"placed\":true,\"in_pymalloc\":%llu,\"in_pymalloc_bytes\":%llu,\"malloced\":%llu,\"malloced_bytes\":%llu,"
		       "\"static\":%llu,\"static_bytes\":%llu,\"malloced_by_size\":[",
		       (unsigned long long)m->in_pymalloc, (unsigned long long)m->in_pymalloc_bytes,
		       (unsigned long long)m->in_malloc, (unsigned long long)m->in_malloc_bytes,
		       (unsigned long long)m->in_static, (unsigned long long)m->in_static_bytes);
	for (size_t b = 0; b < INS_MEM_BUCKETS; b++) {
		const ins_size_bucket *k = &m->malloc_by_size[b];
		ins_buf_printf(out, "%s{\"min\":%llu,\"max\":", b ? "," : "", (unsigned long long)k->min);
		if (k->max)
			ins_buf_printf(out, "%llu", (unsigned long long)k->max);
		else
			ins_buf_puts(out, "null");
		ins_buf_printf(out, ",\"count\":%llu,\"bytes\":%llu}", (unsigned long long)k->count,
			       (unsigned long long)k->bytes);
	}
	ins_buf_puts(out, "],\"largest_malloced\":[");
	for (size_t i = 0; i < m->nlargest; i++) {
		ins_buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
		ins_json_addr(out, m->largest[i].addr);
		ins_buf_puts(out, ",\"type\":");
		if (m->largest[i].type)
			ins_json_str(out, m->largest[i].type->name);
		else
			ins_buf_puts(out, "null");
		ins_buf_printf(out, ",\"size\":%llu}", (unsigned long long)m->largest[i].size);
	}
	ins_buf_putc(out, ']');
	put_segments(m, out);
}

static void put_segments(const ins_memory *m, ins_buf *out)
{
	uint64_t arena_bytes = m->pymalloc > 0 ? m->arenas * m->arena_size : 0;
	ins_buf_printf(out,
		       "},\"segments\":{\"count\":%zu,\"total\":%llu,\"file_backed\":%llu,\"anonymous\":%llu,"
		       "\"pymalloc_arenas\":%llu,\"stacks\":",
		       m->nsegs, (unsigned long long)m->seg_total, (unsigned long long)m->seg_file,
		       (unsigned long long)m->seg_anon, (unsigned long long)arena_bytes);
	if (m->stacks)
		ins_buf_printf(out, "{\"threads\":%llu,\"segments\":%llu,\"bytes\":%llu}", (unsigned long long)m->threads,
			       (unsigned long long)m->stack_segs, (unsigned long long)m->stack_bytes);
	else
		ins_buf_puts(out, "null");
	ins_buf_printf(out, ",\"other_anonymous\":%llu}}\n",
		       (unsigned long long)sub0(sub0(sub0(m->seg_anon, arena_bytes), m->in_malloc_bytes), m->stack_bytes));
}

static void put_text(const ins_memory *m, ins_buf *out)
{
	char a[32], b[32], c[32], d[32];
	uint64_t arena_bytes = m->pymalloc > 0 ? m->arenas * m->arena_size : 0;
	uint64_t objects = m->tracked_bytes + m->frozen_bytes + m->untracked_bytes;
	uint64_t free_pm = m->pymalloc > 0 ? m->free_bytes + m->free_pools * m->pool_size : 0;
	uint64_t rest = sub0(sub0(sub0(m->seg_anon, arena_bytes), m->in_malloc_bytes), m->stack_bytes);
	if (m->pymalloc >= 0)
		ins_buf_printf(out, "%s in memory, %s Python objects, %s free in pymalloc, %s the rest of anonymous memory (C allocations, malloc's free memory%s)\n",
			       human(a, sizeof(a), m->seg_total), human(b, sizeof(b), objects), human(c, sizeof(c), free_pm),
			       human(d, sizeof(d), rest), m->stacks ? "" : ", stacks");
	else
		ins_buf_printf(out, "%s in memory, %s Python objects, pymalloc unknown, %s anonymous memory\n",
			       human(a, sizeof(a), m->seg_total), human(b, sizeof(b), objects), human(d, sizeof(d), m->seg_anon));
	ins_buf_printf(out, "memory: %zu segments, %s: %s file-backed, %s anonymous", m->nsegs, human(a, sizeof(a), m->seg_total),
		       human(b, sizeof(b), m->seg_file), human(c, sizeof(c), m->seg_anon));
	if (m->pymalloc >= 0 && m->stacks)
		ins_buf_printf(out, " (%s pymalloc arenas, %s malloc'd objects, %s thread stacks (%llu threads, %llu segments), %s other)",
			       human(d, sizeof(d), arena_bytes), human((char[32]){ 0 }, 32, m->in_malloc_bytes),
			       human((char[32]){ 0 }, 32, m->stack_bytes), (unsigned long long)m->threads,
			       (unsigned long long)m->stack_segs, human((char[32]){ 0 }, 32, rest));
	else if (m->pymalloc >= 0)
		ins_buf_printf(out, " (%s pymalloc arenas, %s malloc'd objects, %s other)", human(d, sizeof(d), arena_bytes),
			       human((char[32]){ 0 }, 32, m->in_malloc_bytes), human((char[32]){ 0 }, 32, rest));
	ins_buf_putc(out, '\n');
	if (m->pymalloc > 0) {
		ins_buf_printf(out, "pymalloc: %llu arenas * %s = %s ", (unsigned long long)m->arenas,
			       human(a, sizeof(a), m->arena_size), human(b, sizeof(b), arena_bytes));
		if (m->counters)
			ins_buf_printf(out, "(allocated total %llu, highwater %llu)", (unsigned long long)m->arenas_total,
				       (unsigned long long)m->arenas_highwater);
		else
			ins_buf_printf(out, "(the arena array found by what %s reads: allocated total and highwater unknown)",
				       m->found_by ? m->found_by : "?");
		ins_buf_printf(out, "; %llu pools of %s in use, %llu free\n", (unsigned long long)m->used_pools,
			       human(c, sizeof(c), m->pool_size), (unsigned long long)m->free_pools);
		ins_buf_printf(out, "  %-34s %14llu  %s\n", "bytes in allocated blocks", (unsigned long long)m->allocated_bytes,
			       human(a, sizeof(a), m->allocated_bytes));
		ins_buf_printf(out, "  %-34s %14llu  %s\n", "bytes in available blocks", (unsigned long long)m->free_bytes,
			       human(a, sizeof(a), m->free_bytes));
		ins_buf_printf(out, "  %-34s %14llu  %s\n", "bytes in free pools", (unsigned long long)(m->free_pools * m->pool_size),
			       human(a, sizeof(a), m->free_pools * m->pool_size));
		ins_buf_printf(out, "  %-34s %14llu\n", "bytes lost to pool headers", (unsigned long long)m->pool_header_bytes);
		ins_buf_printf(out, "  %-34s %14llu\n", "bytes lost to quantization", (unsigned long long)m->quantization_bytes);
		ins_buf_printf(out, "  %-34s %14llu\n", "bytes lost to arena alignment", (unsigned long long)m->alignment_bytes);
		ins_buf_printf(out, "  nearly empty arenas (at most 1/10 of their bytes in blocks in use): %llu, %s in use in them\n",
			       (unsigned long long)m->nearly_empty, human(a, sizeof(a), m->nearly_empty_used_bytes));
		ins_buf_puts(out, "  class   size   num pools   blocks in use  avail blocks\n");
		for (size_t i = 0; i < m->nclasses; i++) {
			const ins_size_class *k = &m->classes[i];
			if (k->pools)
				ins_buf_printf(out, "  %5zu %6u %11llu %15llu %13llu\n", i, k->size, (unsigned long long)k->pools,
					       (unsigned long long)k->used_blocks, (unsigned long long)k->free_blocks);
		}
	} else {
		ins_buf_printf(out, "pymalloc: %s\n", m->why ? m->why : "?");
	}
	ins_buf_printf(out, "objects: %llu tracked (%s), ", (unsigned long long)m->tracked, human(a, sizeof(a), m->tracked_bytes));
	if (m->frozen)
		ins_buf_printf(out, "%llu frozen (%s), ", (unsigned long long)m->frozen, human(a, sizeof(a), m->frozen_bytes));
	ins_buf_printf(out, "%llu untracked reached (%s); ", (unsigned long long)m->untracked,
		       human(b, sizeof(b), m->untracked_bytes));
	if (m->pymalloc < 0) {
		ins_buf_puts(out, "where they are is unknown without pymalloc's state\n");
		return;
	}
	ins_buf_printf(out, "%s in pymalloc, %s malloc'd (%llu objects), %s static\n", human(c, sizeof(c), m->in_pymalloc_bytes),
		       human(d, sizeof(d), m->in_malloc_bytes), (unsigned long long)m->in_malloc,
		       human((char[32]){ 0 }, 32, m->in_static_bytes));
	for (size_t i = 0; i < INS_MEM_BUCKETS; i++) {
		const ins_size_bucket *k = &m->malloc_by_size[i];
		if (!k->count)
			continue;
		if (k->max)
			ins_buf_printf(out, "  malloc'd %s to %s: %llu objects, %s\n", human(a, sizeof(a), k->min),
				       human(b, sizeof(b), k->max), (unsigned long long)k->count, human(c, sizeof(c), k->bytes));
		else
			ins_buf_printf(out, "  malloc'd %s and more: %llu objects, %s\n", human(a, sizeof(a), k->min),
				       (unsigned long long)k->count, human(c, sizeof(c), k->bytes));
	}
	for (size_t i = 0; i < m->nlargest; i++)
		ins_buf_printf(out, "  0x%llx %s %llu bytes\n", (unsigned long long)m->largest[i].addr,
			       m->largest[i].type ? m->largest[i].type->name : "?", (unsigned long long)m->largest[i].size);
}

ins_error *ins_cmd_memory(const call *c)
{
	ins_memory m;
	ins_error *err = ins_memory_read(c->s, c->a->limit < 0 ? 10 : (size_t)c->a->limit, &m);
	if (err)
		return err;
	if (c->a->json)
		put_json(&m, c->out);
	else
		put_text(&m, c->out);
	ins_memory_free(&m);
	return NULL;
}
