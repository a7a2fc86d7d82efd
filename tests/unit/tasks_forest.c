/* tasks_forest.c -- ins_tasks_forest and ins_tasks_summary on made-up task sets: a gather
 * (one task awaiting two), a task two tasks await (a DAG), tasks awaiting each other in a
 * loop (a damaged or hostile core: no task is a root), and an awaited_by naming no task. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tasks.h"

static ins_task task(uint64_t addr, const char *coro, uint64_t *by, size_t nby)
{
	ins_task t;
	memset(&t, 0, sizeof(t));
	t.addr = addr;
	t.coro_qualname = (char *)coro;
	t.awaited_by = by;
	t.nawaited_by = nby;
	return t;
}

/* every task shown at least once, each child row under a task in its awaited_by, depths
 * in preorder */
static bool well_formed(const ins_tasks *ts, const ins_task_row *r, size_t n)
{
	bool *seen = calloc(ts->n, sizeof(bool));
	size_t stack[64], sp = 0;
	bool ok = seen != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		if (r[i].task >= ts->n || r[i].depth > sp || r[i].depth >= 64) {
			ok = false;
			break;
		}
		sp = r[i].depth;
		if (sp) {
			const ins_task *t = &ts->v[r[i].task];
			bool under = r[i].parent == stack[sp - 1];
			bool listed = false;
			for (size_t k = 0; k < t->nawaited_by; k++)
				listed |= t->awaited_by[k] == ts->v[r[i].parent].addr;
			ok = under && listed;
		}
		stack[sp++] = r[i].task;
		seen[r[i].task] = true;
	}
	for (size_t i = 0; ok && i < ts->n; i++)
		ok = seen[i];
	free(seen);
	return ok;
}

int main(void)
{
	/* 0x10 gathers 0x20 and 0x30; 0x40 and 0x50 both await 0x60; 0x70 <-> 0x80 await each
	 * other; 0x90 is awaited by 0x999, no task */
	uint64_t by20[] = { 0x10 }, by30[] = { 0x10 }, by60[] = { 0x40, 0x50 }, by70[] = { 0x80 }, by80[] = { 0x70 },
		 by90[] = { 0x999 };
	ins_task v[] = {
		task(0x10, "gatherer", NULL, 0), task(0x20, "child", by20, 1), task(0x30, "child", by30, 1),
		task(0x40, "a", NULL, 0),        task(0x50, "b", NULL, 0),     task(0x60, "shared", by60, 2),
		task(0x70, "loop", by70, 1),     task(0x80, "loop", by80, 1),  task(0x90, "orphan", by90, 1),
	};
	ins_tasks ts = { v, sizeof(v) / sizeof(*v), true };
	ins_task_row *rows;
	size_t n;
	ins_error *err = ins_tasks_forest(&ts, &rows, &n);
	CHECK(!err, "forest builds");
	if (err)
		return check_summary();
	CHECK(well_formed(&ts, rows, n), "every task shown, each child under a task that awaits it, in preorder");
	size_t shared = 0, repeated = 0, roots = 0, lasts = 0;
	for (size_t i = 0; i < n; i++) {
		shared += v[rows[i].task].addr == 0x60;
		repeated += rows[i].repeated;
		roots += rows[i].depth == 0;
		lasts += rows[i].depth == 0 && rows[i].last;
	}
	CHECK(shared == 2 && repeated == 2,
	      "a task two tasks await is under each, its second row marked repeated; the loop closes on a repeated row");
	/* roots: 0x10, 0x40, 0x50, 0x90 (awaited by no task), then the loop from 0x70 */
	CHECK(roots == 5, "roots: the tasks no task awaits, then one per loop left (%zu)", roots);
	CHECK(lasts == 1 && rows[n - 1].last, "one last root");
	CHECK(n == 11, "rows: 5 roots, 2 gathered, 2 under the shared parents, 2 in the loop (%zu)", n);
	free(rows);

	ins_task_group *g;
	size_t ng;
	err = ins_tasks_summary(&ts, &g, &ng);
	CHECK(!err && ng == 7 && g[0].count == 2 && g[1].count == 2 && strcmp(g[0].coro, "child") == 0 &&
		      strcmp(g[1].coro, "loop") == 0 && strcmp(g[0].waiting_on, "nothing") == 0,
	      "summary: largest groups first, then by name");
	free(g);

	ins_tasks empty = { NULL, 0, true };
	err = ins_tasks_forest(&empty, &rows, &n);
	CHECK(!err && n == 0, "no tasks, no rows");
	free(rows);
	return check_summary();
}
