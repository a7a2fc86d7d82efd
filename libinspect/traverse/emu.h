/* emu.h -- runs a function of the target's own machine code over the image, in the
 * Unicorn CPU emulator: a type's tp_traverse, a module's m_traverse.
 *
 * The function is called as fn(obj, visit, arg) (System V x86-64). Its code comes from the
 * files the target mapped and its data from the image, mapped into the emulator on first
 * touch, read-only; it runs on a private stack, with the fs base of one of the target's
 * threads for its thread-local variables. visit is a trap: every call of it reports its
 * first argument and returns 0. The target is never touched, only our copy of its memory:
 * what a call writes outside its stack goes to private copies of the words it wrote, which
 * it alone sees (counted in the stats). A read of memory the image lacks, a write to code,
 * an instruction the emulator rejects or a run past the instruction budget ends the call
 * with a failure.
 */
#ifndef INS_EMU_H
#define INS_EMU_H

#include "hashmap.h"
#include "image.h"

typedef struct ins_emu ins_emu;

enum ins_emu_status {
	INS_EMU_OK,        /* returned 0 */
	INS_EMU_RETURNED,  /* returned nonzero: what it visited so far is all there is */
	INS_EMU_FAULT,     /* touched memory the image lacks, or an invalid instruction */
	INS_EMU_WRITE,     /* wrote outside its stack */
	INS_EMU_BUDGET,    /* ran past the instruction budget */
	INS_EMU_NOENGINE,  /* the emulator could not be set up */
};

typedef struct ins_emu_stats {
	uint64_t calls, failed, starts, regions;
	uint64_t wrote;         /* calls that wrote outside their stack (to private copies) */
	uint64_t last_fault;    /* the address of the last failure's access (or instruction) */
	const char *last_error; /* the emulator's word for it */
} ins_emu_stats;

/* One call's outcome: its visits are targets[start, start + n) of the batch. */
typedef struct ins_emu_result {
	enum ins_emu_status status;
	size_t start, n;
	uint64_t ret;           /* what it returned (rax) */
} ins_emu_result;

/* NULL when the emulator cannot be set up (out of memory, no free address range). */
ins_emu *ins_emu_new(ins_image *img);
void ins_emu_free(ins_emu *e);
/* The fs base the functions see (a thread's TCB: pthread_self() of that thread). */
void ins_emu_set_tls(ins_emu *e, uint64_t fs_base);

/* Calls fns[i](objs[i], visit, 0) for i < n, in batches, each call on its own (a call that
 * fails does not stop the others). res[i] says how call i ended and, when it returned,
 * where its visits are in *targets, an array valid until the next batch. Fails only when
 * the emulator itself cannot go on (out of memory). */
enum ins_emu_status ins_emu_batch(ins_emu *e, const uint64_t *fns, const uint64_t *objs, size_t n,
				  ins_emu_result *res, const uint64_t **targets);

const ins_emu_stats *ins_emu_get_stats(const ins_emu *e);
/* Calls fn(0, visit, 0) once and records, in order, the address and size of each memory read
 * it makes outside its stack, the first cap of them (*n); at cap the call is stopped (status
 * INS_EMU_BUDGET). For finding the variables a function of the target reads: static ones a
 * stripped build does not name (memory.c: pymalloc's arenas). */
enum ins_emu_status ins_emu_trace_reads(ins_emu *e, uint64_t fn, uint64_t *addr, uint8_t *size, size_t cap,
					size_t *n);
const char *ins_emu_status_name(enum ins_emu_status s);

#endif
