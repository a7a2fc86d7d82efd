/* emu.c -- the target's own functions run over the image in Unicorn (see emu.h).
 *
 * Unicorn's cost of mapping memory grows with the bytes and the regions already mapped, so
 * the image is not copied in. Files (their text, read-only data, and the data the core
 * holds of them) are mapped in on demand, by windows of WINDOW bytes: when an access faults
 * there, every page of the window that the image can supply is copied in, read-only and
 * executable, in runs of consecutive pages; a window is filled once, so a page the image
 * lacks faults for good. The rest of the address space (the heap, thread stacks, anonymous
 * memory: most of what a traversal reads) is a few large MMIO ranges whose every read is
 * served from the image, and whose every write is refused.
 * Ranges of our own, at addresses no segment or mapping uses, hold the stack, the list of
 * calls to make and our code: `visit` points at a `xor eax, eax; ret` whose execution is
 * hooked, and a driver loop makes the calls one after another, announcing each by a call
 * to a hooked marker. Starting the emulator costs several microseconds, so calls are made
 * in batches: one start runs many of them.
 */
#define _GNU_SOURCE
#include "emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "elfsym.h"
#include "emu_libc.h"

#define PAGE 4096u
#define WINDOW (16u * 1024)
#define STACK_SIZE (128u * 1024)
#define USER_TOP 0x800000000000ull  /* end of x86-64 user space */
#define CODE_SIZE PAGE
#define MAX_JOBS 1024u             /* calls per start */
#define JOBS_SIZE (MAX_JOBS * 16u)
#define SLICE 1000000u             /* instructions run before progress is checked */
#define MAX_INSNS (1ull << 28)     /* per call, whatever the progress */
#define MAX_WINDOWS_PER_CALL 512   /* windows one call may bring in */
/* A function whose calls keep failing (a corrupt tp_traverse of a type with many instances)
 * is not run any more: its failures since its last success weigh 1 each (a fault), or half
 * of BAN_AT (the instruction budget), and at BAN_AT its calls fail without running. */
#define BAN_AT 16

/* Our code, at code_base: the visit trap, a stub that returns 0 (in place of a banned
 * function), the marker, the driver loop and its end. */
enum { OFF_TRAP = 0, OFF_SKIP = 0x08, OFF_MARK = 0x10, OFF_RETMARK = 0x18, OFF_DRIVER = 0x20 };

/* An address range: the pages a file's mappings span. */
typedef struct span {
	uint64_t start, end;
} span;

/* One MMIO range: what its offsets are relative to. */
typedef struct mmio {
	struct ins_emu *e;
	uint64_t base;
} mmio;

struct ins_emu {
	uc_engine *uc;
	mmio *mmios;
	size_t nmmios;
	span *spans;              /* the files' spans, merged, sorted: mapped by windows */
	size_t nspans;
	ins_image *img;
	ins_map windows;          /* window index + 1 -> 1: filled */
	ins_map natives;          /* address of a C library function -> its emu_libc id */
	ins_map written;          /* 8-byte word address -> its value: the call's private copy of
				   * what it wrote outside its stack (cleared after each call) */
	ins_map fails;            /* function -> weight of its failures since its last success */
	bool wrote;               /* the current call wrote outside its stack */
	bool natives_found;       /* natives: looked up (on the first invalid instruction) */
	uint8_t *buf;             /* WINDOW bytes: the window being filled */
	uint64_t stack_base, jobs_base, code_base, done_addr;
	uint64_t fs_base;
	size_t max_visits;        /* per call */
	/* the batch in progress */
	ins_vec visited;          /* every visit of the batch */
	ins_emu_result *res;      /* per call of the batch (the caller's) */
	size_t njobs;
	int64_t cur;              /* the call in progress (set by the marker), -1 before */
	uint64_t windows_this_call;
	enum ins_emu_status status;
	bool invalid;             /* the failure was an instruction the emulator lacks */
	ins_emu_stats stats;
	struct read_trace *trace;  /* ins_emu_trace_reads in progress, or NULL */
};

/* The reads ins_emu_trace_reads records. */
typedef struct read_trace {
	struct ins_emu *e;
	uint64_t *addr;
	uint8_t *size;
	size_t cap, n;
} read_trace;

const char *ins_emu_status_name(enum ins_emu_status s)
{
	static const char *const names[] = { "ok", "returned nonzero", "fault", "write outside the stack",
					     "instruction budget", "no emulator" };
	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}

/* Is [start, end) clear of every segment and mapping of the image? */
static bool range_free(const ins_image *img, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < img->nsegs; i++)
		if (img->segs[i].start < end && start < img->segs[i].end)
			return false;
	for (size_t i = 0; i < img->nmaps; i++)
		if (img->maps[i].start < end && start < img->maps[i].end)
			return false;
	return true;
}

/* Copies what the image holds of the window that contains addr into the emulator, in runs
 * of readable pages. False when the page of addr is not among them. */
static bool fill_window(ins_emu *e, uint64_t addr)
{
	uint64_t page = addr & ~(uint64_t)(PAGE - 1);
	/* the window of addr, clipped to the code span that holds it (the rest of it is MMIO,
	 * or another span's) */
	size_t lo = 0, hi = e->nspans;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->spans[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == e->nspans || e->spans[lo].start > addr)
		return false;
	uint64_t base = addr / WINDOW * WINDOW, size = WINDOW;
	if (base < e->spans[lo].start) {
		size -= e->spans[lo].start - base;
		base = e->spans[lo].start;
	}
	if (base + size > e->spans[lo].end)
		size = e->spans[lo].end - base;
	uint64_t *slot = ins_map_slot(&e->windows, base + 1, 0);
	if (!slot || *slot)
		return false;  /* filled before: this page is not in the image */
	*slot = 1;
	if (++e->windows_this_call > MAX_WINDOWS_PER_CALL)
		return false;
	bool ok = false;
	uint64_t run = 0;  /* bytes in the current run, which starts at base + i - run */
	for (uint64_t i = 0; i <= size; i += PAGE) {
		bool have = i < size && ins_image_read(e->img, base + i, e->buf + i, PAGE);
		if (have) {
			run += PAGE;
			continue;
		}
		if (run) {
			uint64_t start = base + i - run;
			if (uc_mem_map(e->uc, start, run, UC_PROT_READ | UC_PROT_EXEC) == UC_ERR_OK &&
			    uc_mem_write(e->uc, start, e->buf + (i - run), run) == UC_ERR_OK) {
				e->stats.regions++;
				if (page >= start && page < start + run)
					ok = true;
			}
			run = 0;
		}
	}
	return ok;
}

static void fail(ins_emu *e, enum ins_emu_status st, uint64_t address)
{
	if (e->status == INS_EMU_OK) {
		e->status = st;
		e->stats.last_fault = address;
	}
}

static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
			void *user)
{
	(void)uc, (void)value;
	ins_emu *e = user;
	if (type == UC_MEM_WRITE_UNMAPPED) {
		fail(e, INS_EMU_WRITE, address);
		return false;
	}
	/* an access across a page boundary may need the next window too */
	if (fill_window(e, address) || (size > 1 && fill_window(e, address + (uint64_t)size - 1)))
		return true;
	fail(e, INS_EMU_FAULT, address);
	return false;
}

/* The 8-byte word at addr (aligned) as the current call sees it: its private copy if it
 * wrote to it, else the image's. */
static bool word_at(ins_emu *e, uint64_t addr, uint64_t *w)
{
	if (e->written.n && ins_map_get(&e->written, addr + 1, w))
		return true;
	return ins_image_read(e->img, addr, w, 8);
}

/* Reads (and writes) of the MMIO ranges: the image's bytes, through the call's private
 * copies of the words it wrote. A read the image cannot serve ends the call. */
static bool mmio_access(ins_emu *e, uint64_t addr, unsigned size, uint64_t *value, bool write)
{
	uint8_t bytes[16];
	uint64_t first = addr & ~(uint64_t)7, w[2];
	size_t words = ((addr + size - 1) & ~(uint64_t)7) == first ? 1 : 2;
	if (size > 8 || addr + size < addr)
		return false;
	if (!write && !e->written.n)
		return ins_image_read(e->img, addr, value, size);
	for (size_t i = 0; i < words; i++)
		if (!word_at(e, first + 8 * i, &w[i]))
			return false;
	memcpy(bytes, w, sizeof(w));
	if (!write) {
		memcpy(value, bytes + (addr - first), size);
		return true;
	}
	memcpy(bytes + (addr - first), value, size);
	memcpy(w, bytes, sizeof(w));
	for (size_t i = 0; i < words; i++) {
		uint64_t *slot = ins_map_slot(&e->written, first + 8 * i + 1, 0);
		if (!slot)
			return false;
		*slot = w[i];
	}
	e->wrote = true;
	return true;
}

static uint64_t on_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
	mmio *m = user;
	uint64_t v = 0;
	if (!mmio_access(m->e, m->base + offset, size, &v, false)) {
		fail(m->e, INS_EMU_FAULT, m->base + offset);
		uc_emu_stop(uc);
	}
	return v;
}

static void on_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
	mmio *m = user;
	if (!mmio_access(m->e, m->base + offset, size, &value, true)) {
		fail(m->e, INS_EMU_FAULT, m->base + offset);
		uc_emu_stop(uc);
	}
}

/* A call ends: forget what it wrote (the next call sees the image again). */
static void forget_writes(ins_emu *e)
{
	if (e->wrote)
		e->stats.wrote++;
	e->wrote = false;
	if (e->written.n) {
		ins_map_free(&e->written);
		memset(&e->written, 0, sizeof(e->written));
	}
}

static int cmp_span(const void *a, const void *b)
{
	const span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts the spans and merges those that overlap or touch; returns how many are left. */
static size_t merge_spans(span *s, size_t n)
{
	qsort(s, n, sizeof(*s), cmp_span);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && s[i].start <= s[k - 1].end) {
			if (s[i].end > s[k - 1].end)
				s[k - 1].end = s[i].end;
		} else {
			s[k++] = s[i];
		}
	}
	return k;
}

typedef struct spans {
	span *v;
	size_t n, cap;
	bool oom;
} spans;

static void add_span(void *arg, uint64_t start, uint64_t end)
{
	spans *s = arg;
	start &= ~(uint64_t)(PAGE - 1);
	end = (end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (start >= end || end > USER_TOP)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		span *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (span){ start, end };
}

/* The code of the mapped files (their executable segments: RAM, mapped by windows on
 * demand), and everything else but our own ranges as MMIO. */
static bool map_data(ins_emu *e)
{
	ins_image *img = e->img;
	spans s = { 0 };
	for (size_t i = 0; i < img->nfiles; i++)
		if (ins_image_file_base(img, i))  /* where its load bias comes from */
			ins_elf_exec_ranges(img, i, add_span, &s);
	size_t n = s.oom ? 0 : merge_spans(s.v, s.n);
	e->spans = s.v;
	e->nspans = n;
	span *all = s.oom ? NULL : calloc(n + 1, sizeof(*all));
	if (!all)
		return false;
	if (n)
		memcpy(all, s.v, n * sizeof(*all));
	all[n] = (span){ e->stack_base, e->code_base + CODE_SIZE };
	size_t na = merge_spans(all, n + 1);
	bool ok = (e->mmios = calloc(na + 1, sizeof(*e->mmios))) != NULL;
	uint64_t cursor = PAGE;
	for (size_t i = 0; ok && i <= na; i++) {
		uint64_t start = i < na ? all[i].start : USER_TOP;
		if (start > cursor) {
			mmio *m = &e->mmios[e->nmmios++];
			m->e = e;
			m->base = cursor;
			ok = uc_mmio_map(e->uc, cursor, start - cursor, on_mmio_read, m, on_mmio_write, m) == UC_ERR_OK;
		}
		if (i < na && all[i].end > cursor)
			cursor = all[i].end;
	}
	free(all);
	return ok;
}

static bool on_write_prot(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
			  void *user)
{
	(void)uc, (void)type, (void)size, (void)value;
	fail(user, INS_EMU_WRITE, address);
	return false;
}

static bool in_stack(const ins_emu *e, uint64_t addr, size_t len)
{
	return addr >= e->stack_base && len <= STACK_SIZE && addr - e->stack_base <= STACK_SIZE - len;
}

/* Memory as emulated code sees it, for the C library functions done natively: the stack,
 * else the image through the call's private copies (in pieces of at most 8 bytes). */
static bool guest_access(ins_emu *e, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
	if (in_stack(e, addr, len))
		return (write ? uc_mem_write(e->uc, addr, buf, len) : uc_mem_read(e->uc, addr, buf, len)) == UC_ERR_OK;
	for (size_t done = 0; done < len;) {
		unsigned k = len - done < 8 ? (unsigned)(len - done) : 8;
		uint64_t v = 0;
		if (write)
			memcpy(&v, buf + done, k);
		if (!mmio_access(e, addr + done, k, &v, write))
			return false;
		if (!write)
			memcpy(buf + done, &v, k);
		done += k;
	}
	return true;
}

static bool guest_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return guest_access(ctx, addr, buf, len, false);
}

static bool guest_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	return guest_access(ctx, addr, (uint8_t *)buf, len, true);
}

/* A call that reached a C library function: done natively, then returned from. */
static void on_native(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)size;
	ins_emu *e = user;
	uint64_t id, a[3], rsp, ret_to, ret = 0;
	if (!ins_map_get(&e->natives, address, &id))
		return;
	uc_reg_read(uc, UC_X86_REG_RDI, &a[0]);
	uc_reg_read(uc, UC_X86_REG_RSI, &a[1]);
	uc_reg_read(uc, UC_X86_REG_RDX, &a[2]);
	uc_reg_read(uc, UC_X86_REG_RSP, &rsp);
	const ins_emu_mem m = { guest_read, guest_write, e };
	if (!guest_read(e, rsp, &ret_to, 8) || !ins_emu_libc_call((int)id, a, &m, &ret)) {
		e->status = INS_EMU_FAULT;
		e->stats.last_fault = address;
		uc_emu_stop(uc);
		return;
	}
	rsp += 8;
	uc_reg_write(uc, UC_X86_REG_RAX, &ret);
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(uc, UC_X86_REG_RIP, &ret_to);
}

typedef struct got_walk {
	ins_emu *e;
	bool oom;
} got_walk;

static void add_native(void *arg, const char *name, uint64_t slot)
{
	got_walk *w = arg;
	int id = ins_emu_libc_id(name);
	uint64_t impl = 0, old, *v;
	if (!id || !ins_image_u64(w->e->img, slot, &impl) || !impl || ins_map_get(&w->e->natives, impl, &old))
		return;
	uc_hook h;
	if (!(v = ins_map_slot(&w->e->natives, impl, (uint64_t)id)) ||
	    uc_hook_add(w->e->uc, &h, UC_HOOK_CODE, (void *)on_native, w->e, impl, impl) != UC_ERR_OK)
		w->oom = true;
}

/* The C library functions every mapped ELF file's GOT points at. */
static bool find_natives(ins_emu *e)
{
	got_walk w = { e, false };
	for (size_t i = 0; i < e->img->nfiles && !w.oom; i++) {
		bool exec = false;
		for (size_t k = 0; k < e->img->nmaps && !exec; k++)
			exec = e->img->maps[k].file == i;
		if (exec)
			ins_elf_got(e->img, i, add_native, &w);
	}
	return !w.oom;
}

/* visit(target, arg): record rdi; the trap's own code returns 0. */
static void on_trap(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)size;
	ins_emu *e = user;
	uint64_t rdi = 0;
	uc_reg_read(uc, UC_X86_REG_RDI, &rdi);
	/* a call visits at most one object per word of the image (corrupt code may loop) */
	size_t start = e->cur >= 0 ? e->res[e->cur].start : 0;
	if (e->visited.n - start >= e->max_visits) {
		fail(e, INS_EMU_BUDGET, address);
		uc_emu_stop(uc);
		return;
	}
	ins_vec_push(&e->visited, rdi);
}

/* The driver is about to make call r13: what is visited from now on is its. */
static void on_mark(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)address, (void)size;
	ins_emu *e = user;
	uint64_t i = 0;
	uc_reg_read(uc, UC_X86_REG_R13, &i);
	if (i >= e->njobs)
		return;
	forget_writes(e);
	e->cur = (int64_t)i;
	e->res[i].start = e->visited.n;
	e->windows_this_call = 0;
}

/* Call r13 returned rdi (its rax). */
static void on_retmark(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)address, (void)size;
	ins_emu *e = user;
	uint64_t i = 0, ret = 0;
	uc_reg_read(uc, UC_X86_REG_R13, &i);
	uc_reg_read(uc, UC_X86_REG_RDI, &ret);
	if (i < e->njobs)
		e->res[i].ret = ret;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* The driver: rbx = the calls ({fn, obj} pairs), r12 = how many, r13 = the next one.
 *   loop: cmp r13, r12; jae done
 *         mov rax, r13; shl rax, 4; mov rdi, [rbx+rax+8]; mov rcx, [rbx+rax]
 *         mov rsp, STACK_TOP; mov rsi, TRAP; xor edx, edx
 *         mov rax, MARK; call rax; call rcx
 *         mov rdi, rax; mov rax, RETMARK; call rax; inc r13; jmp loop
 *   done: hlt */
static size_t driver_code(const ins_emu *e, uint8_t *c)
{
	size_t n = 0;
	const uint8_t head[] = { 0x4d, 0x39, 0xe5, 0x73, 0x00, 0x4c, 0x89, 0xe8, 0x48, 0xc1, 0xe0, 0x04,
				 0x48, 0x8b, 0x7c, 0x03, 0x08, 0x48, 0x8b, 0x0c, 0x03, 0x48, 0xbc };
	memcpy(c, head, sizeof(head));
	n = sizeof(head);
	put64(c + n, e->stack_base + STACK_SIZE - 256);
	n += 8;
	c[n++] = 0x48, c[n++] = 0xbe;
	put64(c + n, e->code_base + OFF_TRAP);
	n += 8;
	c[n++] = 0x31, c[n++] = 0xd2;
	c[n++] = 0x48, c[n++] = 0xb8;
	put64(c + n, e->code_base + OFF_MARK);
	n += 8;
	const uint8_t calls[] = { 0xff, 0xd0, 0xff, 0xd1, 0x48, 0x89, 0xc7, 0x48, 0xb8 };
	memcpy(c + n, calls, sizeof(calls));
	n += sizeof(calls);
	put64(c + n, e->code_base + OFF_RETMARK);
	n += 8;
	const uint8_t next[] = { 0xff, 0xd0, 0x49, 0xff, 0xc5, 0xeb, 0x00 };
	memcpy(c + n, next, sizeof(next));
	n += sizeof(next);
	c[n - 1] = (uint8_t)(0x100 - n);  /* jmp back to loop (offset 0) */
	c[4] = (uint8_t)(n - 5);           /* jae to done, just past the jmp */
	c[n++] = 0xf4;                     /* done: hlt */
	return n;
}

/* The highest range of need bytes in user space, with a guard page on each side, clear of
 * every segment and mapping: for a core whose mappings claim the usual candidates (a
 * corrupt NT_FILE entry may span terabytes). 0 if there is none. */
static uint64_t find_free(const ins_image *img, uint64_t need)
{
	size_t k = 0;
	span *r = malloc((img->nsegs + img->nmaps + 1) * sizeof(*r));
	if (!r)
		return 0;
	for (size_t i = 0; i < img->nsegs; i++)
		r[k++] = (span){ img->segs[i].start, img->segs[i].end };
	for (size_t i = 0; i < img->nmaps; i++)
		if (img->maps[i].end > img->maps[i].start)
			r[k++] = (span){ img->maps[i].start, img->maps[i].end };
	k = merge_spans(r, k);
	uint64_t lo = 0x10000, best = 0;
	for (size_t i = 0; i <= k && lo < USER_TOP; i++) {
		uint64_t hi = i < k && r[i].start < USER_TOP ? r[i].start : USER_TOP;
		if (hi > lo && hi - lo >= need + 2 * PAGE)
			best = (hi - need - PAGE) & ~(uint64_t)(PAGE - 1);
		if (i < k && r[i].end > lo)
			lo = r[i].end >= USER_TOP ? USER_TOP : (r[i].end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	}
	free(r);
	return best;
}

ins_emu *ins_emu_new(ins_image *img)
{
	ins_emu *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->img = img;
	e->buf = malloc(WINDOW);
	uint64_t words = 0;
	for (size_t i = 0; i < img->nsegs; i++)
		words += (img->segs[i].end - img->segs[i].start) / 8;
	e->max_visits = words < (1u << 26) ? (size_t)words + 1024 : (1u << 26);
	/* our ranges: the first free one of a few candidates high in user space, with guard
	 * pages between */
	uint64_t need = STACK_SIZE + JOBS_SIZE + CODE_SIZE + 3 * PAGE;
	for (uint64_t cand = 0x3f0000000000ull; cand < 0x7f0000000000ull && !e->stack_base; cand += 0x10000000000ull)
		if (range_free(img, cand, cand + need))
			e->stack_base = cand;
	if (!e->stack_base)
		e->stack_base = find_free(img, need);
	if (!e->buf || !e->stack_base || uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc) != UC_ERR_OK) {
		e->uc = NULL;
		ins_emu_free(e);
		return NULL;
	}
	e->jobs_base = e->stack_base + STACK_SIZE + PAGE;
	e->code_base = e->jobs_base + JOBS_SIZE + PAGE;
	uint8_t code[CODE_SIZE] = { 0x31, 0xc0, 0xc3 };  /* the trap: xor eax, eax; ret */
	memcpy(code + OFF_SKIP, code, 3);                 /* the stub: the same, not hooked */
	code[OFF_MARK] = 0xc3;                            /* the markers: ret */
	code[OFF_RETMARK] = 0xc3;
	size_t n = driver_code(e, code + OFF_DRIVER);
	e->done_addr = e->code_base + OFF_DRIVER + n - 1;
	uint64_t trap = e->code_base + OFF_TRAP, mark = e->code_base + OFF_MARK, retmark = e->code_base + OFF_RETMARK;
	uc_hook h;
	if (uc_mem_map(e->uc, e->stack_base, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE) != UC_ERR_OK ||
	    uc_mem_map(e->uc, e->jobs_base, JOBS_SIZE, UC_PROT_READ) != UC_ERR_OK ||
	    uc_mem_map(e->uc, e->code_base, CODE_SIZE, UC_PROT_READ | UC_PROT_EXEC) != UC_ERR_OK ||
	    uc_mem_write(e->uc, e->code_base, code, sizeof(code)) != UC_ERR_OK ||
	    uc_hook_add(e->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)on_unmapped, e, 1, 0) != UC_ERR_OK ||
	    uc_hook_add(e->uc, &h, UC_HOOK_MEM_WRITE_PROT, (void *)on_write_prot, e, 1, 0) != UC_ERR_OK ||
	    uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)on_trap, e, trap, trap) != UC_ERR_OK ||
	    uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)on_mark, e, mark, mark) != UC_ERR_OK ||
	    uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)on_retmark, e, retmark, retmark) != UC_ERR_OK ||
	    !map_data(e)) {
		ins_emu_free(e);
		return NULL;
	}
	return e;
}

void ins_emu_free(ins_emu *e)
{
	if (!e)
		return;
	if (getenv("INS_EMU_DEBUG"))
		fprintf(stderr, "emu: %llu calls, %llu failed, %llu wrote, %llu starts, %llu regions\n",
			(unsigned long long)e->stats.calls, (unsigned long long)e->stats.failed,
			(unsigned long long)e->stats.wrote, (unsigned long long)e->stats.starts,
			(unsigned long long)e->stats.regions);
	if (e->uc)
		uc_close(e->uc);
	ins_map_free(&e->windows);
	free(e->mmios);
	free(e->spans);
	ins_map_free(&e->natives);
	ins_map_free(&e->written);
	ins_map_free(&e->fails);
	free(e->visited.v);
	free(e->buf);
	free(e);
}

void ins_emu_set_tls(ins_emu *e, uint64_t fs_base)
{
	if (e)
		e->fs_base = fs_base;
}

const ins_emu_stats *ins_emu_get_stats(const ins_emu *e)
{
	return &e->stats;
}

/* Starts the driver at call `from` with fresh registers; runs until the batch is done, a
 * call fails, or a slice of instructions passes without a visit or a new call. */
static void run_from(ins_emu *e, size_t from)
{
	uint64_t zero = 0, flags = 0x202, r13 = from, n = e->njobs;
	int regs[] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBP, UC_X86_REG_RSI,
		       UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
		       UC_X86_REG_R14, UC_X86_REG_R15 };
	for (size_t i = 0; i < sizeof(regs) / sizeof(*regs); i++)
		uc_reg_write(e->uc, regs[i], &zero);
	uc_reg_write(e->uc, UC_X86_REG_RBX, &e->jobs_base);
	uc_reg_write(e->uc, UC_X86_REG_R12, &n);
	uc_reg_write(e->uc, UC_X86_REG_R13, &r13);
	uc_reg_write(e->uc, UC_X86_REG_EFLAGS, &flags);
	uc_reg_write(e->uc, UC_X86_REG_FS_BASE, &e->fs_base);
	forget_writes(e);
	e->cur = -1;
	e->status = INS_EMU_OK;
	e->invalid = false;
	uint64_t pc = e->code_base + OFF_DRIVER, spent = 0;
	for (;;) {
		size_t visits = e->visited.n;
		int64_t cur = e->cur;
		e->stats.starts++;
		uc_err err = uc_emu_start(e->uc, pc, e->done_addr, 0, SLICE);
		spent += SLICE;
		uc_reg_read(e->uc, UC_X86_REG_RIP, &pc);
		if (err != UC_ERR_OK) {
			e->invalid = err == UC_ERR_INSN_INVALID;
			fail(e, INS_EMU_FAULT, pc);
			if (!e->stats.last_error || e->status == INS_EMU_FAULT)
				e->stats.last_error = uc_strerror(err);
			return;
		}
		if (e->status != INS_EMU_OK || pc == e->done_addr)
			return;
		if (e->cur != cur)
			spent = 0;
		else if (e->visited.n == visits || spent >= MAX_INSNS) {
			fail(e, INS_EMU_BUDGET, pc);
			return;
		}
	}
}

static bool banned(const ins_emu *e, uint64_t fn)
{
	uint64_t w;
	return ins_map_get(&e->fails, fn, &w) && w >= BAN_AT;
}

/* Counts a call of fn that failed with status s: true when fn is banned from now on. */
static bool count_failure(ins_emu *e, uint64_t fn, enum ins_emu_status s)
{
	uint64_t *w = ins_map_slot(&e->fails, fn, 0);
	if (!w)
		return false;
	*w += s == INS_EMU_BUDGET ? BAN_AT / 2 : 1;
	return *w >= BAN_AT;
}

static void count_success(ins_emu *e, uint64_t fn)
{
	uint64_t w;
	if (ins_map_get(&e->fails, fn, &w) && w)
		*ins_map_slot(&e->fails, fn, 0) = 0;
}

/* Records a read outside the stack (the hook sees MMIO reads too, whole); at cap the call
 * is stopped. */
static void trace_read(uc_engine *uc, read_trace *t, uint64_t address, unsigned size)
{
	if (in_stack(t->e, address, size) || t->n >= t->cap)
		return;
	t->addr[t->n] = address;
	t->size[t->n] = (uint8_t)(size < 255 ? size : 255);
	if (++t->n == t->cap) {
		fail(t->e, INS_EMU_BUDGET, address);
		uc_emu_stop(uc);
	}
}

static void on_read(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
	(void)type;
	(void)value;
	if (size > 0)
		trace_read(uc, user, address, (unsigned)size);
}

enum ins_emu_status ins_emu_trace_reads(ins_emu *e, uint64_t fn, uint64_t *addr, uint8_t *size, size_t cap,
					size_t *n)
{
	*n = 0;
	if (!e || !e->uc || !cap)
		return INS_EMU_NOENGINE;
	read_trace t = { e, addr, size, cap, 0 };
	uc_hook h;
	if (uc_hook_add(e->uc, &h, UC_HOOK_MEM_READ, (void *)on_read, &t, 1, 0) != UC_ERR_OK)
		return INS_EMU_NOENGINE;
	e->trace = &t;
	uint64_t obj = 0;
	ins_emu_result res;
	const uint64_t *targets;
	enum ins_emu_status st = ins_emu_batch(e, &fn, &obj, 1, &res, &targets);
	e->trace = NULL;
	uc_hook_del(e->uc, h);
	*n = t.n;
	return st == INS_EMU_OK ? res.status : st;
}

enum ins_emu_status ins_emu_batch(ins_emu *e, const uint64_t *fns, const uint64_t *objs, size_t n,
				  ins_emu_result *res, const uint64_t **targets)
{
	const uint64_t stub = e && e->uc ? e->code_base + OFF_SKIP : 0;
	*targets = NULL;
	if (!e || !e->uc)
		return INS_EMU_NOENGINE;
	e->visited.n = 0;
	e->visited.oom = false;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < MAX_JOBS ? n - done : MAX_JOBS, nskip = 0;
		uint64_t jobs[2 * 64];
		bool skip[MAX_JOBS];  /* a banned function's calls run the stub */
		for (size_t i = 0; i < k; i++)
			nskip += skip[i] = banned(e, fns[done + i]);
		if (nskip == k) {  /* nothing to run: not even the jobs written (that costs) */
			for (size_t i = 0; i < k; i++)
				res[done + i] = (ins_emu_result){ .status = INS_EMU_BUDGET, .start = e->visited.n };
			e->stats.failed += k;
			e->stats.calls += k;
			done += k;
			continue;
		}
		for (size_t i = 0; i < k; i += 64) {
			size_t m = k - i < 64 ? k - i : 64;
			for (size_t j = 0; j < m; j++) {
				jobs[2 * j] = skip[i + j] ? stub : fns[done + i + j];
				jobs[2 * j + 1] = objs[done + i + j];
			}
			if (uc_mem_write(e->uc, e->jobs_base + i * 16, jobs, m * 16) != UC_ERR_OK)
				return INS_EMU_NOENGINE;
		}
		e->njobs = k;
		for (size_t i = 0; i < k; i++)
			res[done + i] = (ins_emu_result){ .status = INS_EMU_FAULT };
		e->res = res + done;
		size_t from = 0;
		while (from < k) {
			while (from < k && skip[from]) {  /* a banned function's call: not even started */
				res[done + from] = (ins_emu_result){ .status = INS_EMU_BUDGET, .start = e->visited.n };
				e->stats.failed++;
				from++;
			}
			if (from == k)
				break;
			run_from(e, from);
			if (e->status == INS_EMU_OK) {
				/* every call from `from` on returned: each one's visits end where the
				 * next one's begin */
				for (size_t i = from; i < k; i++) {
					res[done + i].status = INS_EMU_OK;
					res[done + i].n = (i + 1 < k ? res[done + i + 1].start : e->visited.n) - res[done + i].start;
					if (!skip[i])
						count_success(e, fns[done + i]);
				}
				break;
			}
			size_t bad = e->cur < 0 ? from : (size_t)e->cur;
			/* calls before the bad one returned */
			for (size_t i = from; i < bad; i++) {
				res[done + i].status = INS_EMU_OK;
				res[done + i].n = res[done + i + 1].start - res[done + i].start;
				if (!skip[i])
					count_success(e, fns[done + i]);
			}
			/* an instruction the emulator lacks: a C library function's variant for
			 * this CPU, most likely; once, look them up and make the call again */
			if (e->invalid && !e->natives_found) {
				e->natives_found = true;
				if (find_natives(e)) {
					e->visited.n = e->cur < 0 ? e->visited.n : res[done + bad].start;
					from = bad;
					continue;
				}
			}
			if (getenv("INS_EMU_DEBUG"))
				fprintf(stderr, "emu: fn 0x%llx obj 0x%llx: %s at 0x%llx%s%s\n",
					(unsigned long long)fns[done + bad], (unsigned long long)objs[done + bad],
					ins_emu_status_name(e->status), (unsigned long long)e->stats.last_fault,
					e->status == INS_EMU_FAULT && e->stats.last_error ? " " : "",
					e->status == INS_EMU_FAULT && e->stats.last_error ? e->stats.last_error : "");
			res[done + bad].status = e->status;
			res[done + bad].n = 0;
			e->visited.n = e->cur < 0 ? e->visited.n : res[done + bad].start;
			e->stats.failed++;
			if (!skip[bad] && count_failure(e, fns[done + bad], e->status))
				for (size_t i = bad + 1; i < k; i++)  /* its later calls in this batch */
					if (!skip[i] && fns[done + i] == fns[done + bad]) {
						skip[i] = true;
						if (uc_mem_write(e->uc, e->jobs_base + i * 16, &stub, 8) != UC_ERR_OK)
							return INS_EMU_NOENGINE;
					}
			from = bad + 1;
		}
		for (size_t i = 0; i < k; i++)  /* the stub ran: a failure, not an empty answer */
			if (skip[i] && res[done + i].status == INS_EMU_OK) {
				res[done + i].status = INS_EMU_BUDGET;
				res[done + i].n = 0;
				e->stats.failed++;
			}
		e->stats.calls += k;
		done += k;
	}
	e->res = NULL;
	if (e->visited.oom)
		return INS_EMU_NOENGINE;
	*targets = e->visited.v;
	return INS_EMU_OK;
}
