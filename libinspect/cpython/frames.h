/* frames.h -- what a Python frame is doing: its function, file, current line and locals.
 *
 * A frame is either a frame object (PyFrameObject: everything itself in 2.7-3.10; from 3.11
 * a wrapper whose f_frame is the _PyInterpreterFrame) or, from 3.11, a _PyInterpreterFrame
 * (the frames a thread runs live in its data stack and have a frame object only once
 * something asked for one). The line is what frame.f_lineno reports: the code's line table
 * at the instruction the frame is at (co_lnotab 2.7-3.9, PEP 626 co_linetable 3.10, the
 * location table 3.11+), or f_lineno while a trace function runs. Locals are what
 * frame.f_locals holds: every fast local, cell (its contents) and free variable that is
 * set, then the f_locals dict of frames without fast locals (module level, class bodies).
 *
 * frames.c reads frames; codeline.c decodes line tables (PyCode_Addr2Line).
 */
#ifndef INS_FRAMES_H
#define INS_FRAMES_H

#include "object.h"

typedef struct ins_local {
	char *name;
	uint64_t value;         /* the object (a cell's contents, not the cell) */
} ins_local;

typedef struct ins_frame_info {
	uint64_t addr;          /* the frame read: a frame object or a _PyInterpreterFrame */
	bool interpreter_frame; /* addr is a _PyInterpreterFrame (3.11+) */
	uint64_t frame_obj;     /* the frame object, or 0 (3.11+ frames may have none) */
	uint64_t code;
	char *function;         /* co_name, as traceback shows it */
	char *file;             /* co_filename */
	int line;               /* frame.f_lineno; -1 when the code has no line there */
	ins_local *locals;      /* only when asked for */
	size_t nlocals;
} ins_frame_info;

/* Reads the frame at frame (a _PyInterpreterFrame when interpreter_frame); false when it or
 * its code cannot be read. Free *out with ins_frame_info_free, also after a failure. */
bool ins_frame_info_read(ins_objects *o, uint64_t frame, bool interpreter_frame, bool want_locals,
			 ins_frame_info *out);
void ins_frame_info_free(ins_frame_info *f);

/* frame.f_lineno of the frame, or -1. */
int ins_frame_line(ins_objects *o, uint64_t frame, bool interpreter_frame);

/* The code object a _PyInterpreterFrame runs, or 0 (3.13 shims run None). */
uint64_t ins_iframe_code(ins_objects *o, uint64_t iframe);
/* Does traceback skip this _PyInterpreterFrame (_PyFrame_IsIncomplete): a 3.12+ shim of the C
 * stack, or a frame that has not reached its first traceable instruction? */
bool ins_iframe_incomplete(ins_objects *o, uint64_t iframe);

/* The names of a frame's fast slots, one run after another: co_varnames (co_nlocals of
 * them), co_cellvars, co_freevars (2.7-3.10); co_localsplusnames (3.11+, one run). */
typedef struct ins_slot_names {
	uint64_t tuple[3];
	int64_t len[3];
} ins_slot_names;

void ins_slot_names_of(ins_objects *o, uint64_t code, ins_slot_names *n);
/* The str naming slot i, or 0; *run is the run it is in (0 locals, 1 cells, 2 free). */
uint64_t ins_slot_name(ins_objects *o, const ins_slot_names *n, int64_t i, int *run);

/* codeline.c: PyCode_Addr2Line: the line of the instruction at byte offset addr of code (its
 * first line when addr < 0), or -1. */
int ins_code_addr2line(ins_objects *o, uint64_t code, int64_t addr);

#endif
