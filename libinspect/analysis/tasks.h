/* tasks.h -- asyncio tasks: every pending Task (what asyncio.all_tasks() would return), its
 * name, state, coroutine and await chain, and what it waits on and is awaited by.
 *
 * Tasks are found on the GC lists: every tracked object whose type is, or derives from, the
 * C accelerator's _asyncio.Task (the type every Task asyncio makes is, since 3.7); pending is
 * its task_state field at STATE_PENDING, as Future.done() tests it (TaskObj's fields come
 * from the layout tables, read from _asyncio's DWARF). A task the loop still registers but
 * no GC list holds cannot exist (tasks are tracked from creation); the pure Python
 * asyncio.tasks.Task (no _asyncio) is not found.
 *
 * The await chain starts at the task's coroutine (task_coro) and follows what each
 * suspended coroutine awaits, outermost first: cr_await, which CPython reads from the top
 * of the suspended frame's value stack (_PyGen_yf; an `async def` coroutine suspends only
 * at an await, whose awaitable stays on the stack while it yields), for as long as that is
 * a coroutine (or a generator: types.coroutine). Each step is the coroutine's frame, read
 * by frames.h (cr_frame up to 3.10; the _PyInterpreterFrame in the coroutine from 3.11).
 * The innermost awaitable is an _asyncio.FutureIter (`await future`), and the chain ends
 * with the Future (or Task) it iterates: waits_on. awaiting is the task's own
 * task_fut_waiter (Task._fut_waiter); awaited_by lists the pending tasks whose
 * task_fut_waiter is this task, or a gather's _GatheringFuture whose _children hold it.
 * A task's loop is its task_loop (Future._loop); the thread running that loop is the loop's
 * _thread_id attribute (BaseEventLoop sets it to threading.get_ident() while it runs).
 */
#ifndef INS_TASKS_H
#define INS_TASKS_H

#include "frames.h"
#include "session.h"

typedef struct ins_await_step {
	uint64_t coro;          /* the coroutine (or generator) */
	char *qualname;         /* its __qualname__ (Queue.get) */
	char *function, *file;
	int line;               /* -1 when unknown */
} ins_await_step;

typedef struct ins_task {
	uint64_t addr;
	char *name;             /* Task.get_name() (3.8+), or NULL */
	int state;              /* fut_state: 0 pending, 1 cancelled, 2 finished */
	uint64_t coro;          /* task_coro */
	char *coro_qualname;    /* its __qualname__ */
	ins_await_step *chain;
	size_t nchain;
	uint64_t waits_on;      /* what the innermost coroutine awaits (the FutureIter's future), or 0 */
	const ins_type *waits_on_type;
	uint64_t awaiting;      /* task_fut_waiter, or 0 */
	uint64_t *awaited_by;   /* sorted */
	size_t nawaited_by;
	uint64_t loop;          /* the event loop it belongs to (Future._loop), or 0 */
	uint64_t thread_id;     /* that loop's _thread_id: the thread running it (threading.get_ident()) */
	bool has_thread;        /* the loop is running (_thread_id is not None) */
} ins_task;

typedef struct ins_tasks {
	ins_task *v;            /* sorted by address */
	size_t n;
	bool supported;         /* the layout knows _asyncio's Task (3.7+) */
} ins_tasks;

/* A line of the summary: how many tasks run this coroutine waiting on the same thing. */
typedef struct ins_task_group {
	const char *coro;       /* the task's coroutine's __qualname__ ("?" when unknown) */
	const char *waiting_on; /* ins_task_waiting_on */
	size_t count;
	size_t first;           /* index of its first task */
} ins_task_group;

/* A row of the "awaited by" forest, in preorder: a task, then the tasks it awaits (those
 * whose awaited_by names it), by address. A task several tasks await appears under each;
 * only its first appearance lists its own children (repeated). Tasks no task awaits are the
 * roots, then any task left (awaits in a loop) starts a tree of its own. */
typedef struct ins_task_row {
	size_t task;            /* index into ins_tasks.v */
	size_t depth;
	size_t parent;          /* index of the parent task, SIZE_MAX for a root */
	bool last;              /* the last child of its parent (or the last root) */
	bool repeated;          /* shown before: its children are not listed again */
} ins_task_row;

/* Every pending task (with all, finished and cancelled ones too). */
ins_error *ins_tasks_read(ins_session *s, bool all, ins_tasks *out);
void ins_tasks_free(ins_tasks *t);
/* What t waits on, in a word: the innermost awaited coroutine's __qualname__ (Queue.get,
 * sleep) when it awaits one, else the type of the future it waits on, else "nothing" (a
 * pure Python future's own Future.__await__ generator, last in the chain, is not counted). */
const char *ins_task_waiting_on(const ins_task *t);
/* The summary: groups of tasks by (coroutine, waiting_on), largest first, then by name.
 * The strings point into ts; *groups is malloc'd. */
ins_error *ins_tasks_summary(const ins_tasks *ts, ins_task_group **groups, size_t *ngroups);
/* The awaited-by forest (*rows malloc'd). */
ins_error *ins_tasks_forest(const ins_tasks *ts, ins_task_row **rows, size_t *nrows);
/* "PENDING", "CANCELLED", "FINISHED" (Future._state), or "?" */
const char *ins_task_state_name(int state);

#endif
