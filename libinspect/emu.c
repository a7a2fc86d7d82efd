/* emu.c -- the target's own functions run over the image in Unicorn (see emu.h).
 *
 * Memory is mapped into the emulator on demand, by windows of WINDOW bytes: when an access
 * faults, every page of the faulting page's window that the image can supply (a segment of
 * the core, or the mapped file on disk) is copied in, read-only and executable, in runs of
 * consecutive pages. A window is filled once, so a page the image lacks faults for good.
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
#define WINDOW (256u * 1024)
#define STACK_SIZE (256u * 1024)
#define CODE_SIZE PAGE
#define MAX_JOBS 1024u             /* calls per start */
#define JOBS_SIZE (MAX_JOBS * 16u)
#define SLICE 1000000u             /* instructions run before progress is checked */
#define MAX_INSNS (1ull << 28)     /* per call, whatever the progress */
#define MAX_WINDOWS_PER_CALL 512   /* windows one call may bring in */

/* Our code, at code_base: the visit trap, the marker, the driver loop and its end. */
enum { OFF_TRAP = 0, OFF_MARK = 0x10, OFF_RETMARK = 0x18, OFF_DRIVER = 0x20 };

struct ins_emu {
	uc_engine *uc;
	ins_image *img;
	ins_map windows;          /* window index + 1 -> 1: filled */
	ins_map natives;          /* address of a C library function -> its emu_libc id */
	bool natives_found;       /* natives: looked up (on the first invalid instruction) */
	uint8_t *buf;             /* WINDOW bytes: the window being filled */
	uint64_t stack_base, jobs_base, code_base, done_addr;
	uint64_t fs_base;
	/* the batch in progress */
	ins_vec visited;          /* every visit of the batch */
	ins_emu_result *res;      /* per call of the batch (the caller's) */
	size_t njobs;
	int64_t cur;              /* the call in progress (set by the marker), -1 before */
	uint64_t windows_this_call;
	enum ins_emu_status status;
	bool invalid;             /* the failure was an instruction the emulator lacks */
	ins_emu_stats stats;
};

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
	uint64_t w = addr / WINDOW, page = addr & ~(uint64_t)(PAGE - 1);
	if (w >= UINT64_MAX / WINDOW - 1)
		return false;
	uint64_t *slot = ins_map_slot(&e->windows, w + 1, 0);
	if (!slot || *slot)
		return false;  /* filled before: this page is not in the image */
	*slot = 1;
	if (++e->windows_this_call > MAX_WINDOWS_PER_CALL)
		return false;
	uint64_t base = w * WINDOW;
	bool ok = false;
	uint64_t run = 0;  /* bytes in the current run, which starts at base + i - run */
	for (uint64_t i = 0; i <= WINDOW; i += PAGE) {
		bool have = i < WINDOW && ins_image_read(e->img, base + i, e->buf + i, PAGE);
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

static bool guest_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	ins_emu *e = ctx;
	if (in_stack(e, addr, len))
		return uc_mem_read(e->uc, addr, buf, len) == UC_ERR_OK;
	return ins_image_read(e->img, addr, buf, len);
}

static bool guest_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	ins_emu *e = ctx;
	return in_stack(e, addr, len) && uc_mem_write(e->uc, addr, buf, len) == UC_ERR_OK;
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
	(void)address, (void)size;
	ins_emu *e = user;
	uint64_t rdi = 0;
	uc_reg_read(uc, UC_X86_REG_RDI, &rdi);
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

ins_emu *ins_emu_new(ins_image *img)
{
	ins_emu *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->img = img;
	e->buf = malloc(WINDOW);
	/* our ranges: the first free one of a few candidates high in user space, with guard
	 * pages between */
	uint64_t need = STACK_SIZE + JOBS_SIZE + CODE_SIZE + 3 * PAGE;
	for (uint64_t cand = 0x3f0000000000ull; cand < 0x7f0000000000ull && !e->stack_base; cand += 0x10000000000ull)
		if (range_free(img, cand, cand + need))
			e->stack_base = cand;
	if (!e->buf || !e->stack_base || uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc) != UC_ERR_OK) {
		e->uc = NULL;
		ins_emu_free(e);
		return NULL;
	}
	e->jobs_base = e->stack_base + STACK_SIZE + PAGE;
	e->code_base = e->jobs_base + JOBS_SIZE + PAGE;
	uint8_t code[CODE_SIZE] = { 0x31, 0xc0, 0xc3 };  /* the trap: xor eax, eax; ret */
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
	    uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)on_retmark, e, retmark, retmark) != UC_ERR_OK) {
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
		fprintf(stderr, "emu: %llu calls, %llu failed, %llu starts, %llu regions\n",
			(unsigned long long)e->stats.calls, (unsigned long long)e->stats.failed,
			(unsigned long long)e->stats.starts, (unsigned long long)e->stats.regions);
	if (e->uc)
		uc_close(e->uc);
	ins_map_free(&e->windows);
	ins_map_free(&e->natives);
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

enum ins_emu_status ins_emu_batch(ins_emu *e, const uint64_t *fns, const uint64_t *objs, size_t n,
				  ins_emu_result *res, const uint64_t **targets)
{
	*targets = NULL;
	if (!e || !e->uc)
		return INS_EMU_NOENGINE;
	e->visited.n = 0;
	e->visited.oom = false;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < MAX_JOBS ? n - done : MAX_JOBS;
		uint64_t jobs[2 * 64];
		for (size_t i = 0; i < k; i += 64) {
			size_t m = k - i < 64 ? k - i : 64;
			for (size_t j = 0; j < m; j++) {
				jobs[2 * j] = fns[done + i + j];
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
			run_from(e, from);
			if (e->status == INS_EMU_OK) {
				/* every call from `from` on returned: each one's visits end where the
				 * next one's begin */
				for (size_t i = from; i < k; i++) {
					res[done + i].status = INS_EMU_OK;
					res[done + i].n = (i + 1 < k ? res[done + i + 1].start : e->visited.n) - res[done + i].start;
				}
				break;
			}
			size_t bad = e->cur < 0 ? from : (size_t)e->cur;
			/* calls before the bad one returned */
			for (size_t i = from; i < bad; i++) {
				res[done + i].status = INS_EMU_OK;
				res[done + i].n = res[done + i + 1].start - res[done + i].start;
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
			from = bad + 1;
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
