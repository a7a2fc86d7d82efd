# Scenario asyncio_tasks: pending asyncio tasks blocked at known awaits (issue 14, `tasks`).
# One event loop in the main thread runs:
#   nested     outer_nested -> middle -> leaf_sleep -> asyncio.sleep(3600)
#   gather     gatherer awaiting asyncio.gather() of two child tasks, each in a sleep
#   waited     waited_on in a sleep; awaiter awaiting that task itself
#   consumers  three consumer tasks waiting on Queue.get of an empty queue
#   done       finished tasks still referenced (a result, an exception, a cancelled one)
# Once every task is at its await (a settle coroutine yields to the loop a few times and
# returns), a callback scheduled with loop.call_soon records the truth and blocks in
# truth.ready() from inside the loop: no task is running when the core is taken, every
# pending task is suspended at its await.
#
# The truth (written by the parent before dump(); 3.12+ resets asyncio state in a forked
# child) is "tasks": asyncio.all_tasks(loop), sorted by address, each {address, name
# (Task.get_name(), 3.8+; null on 3.7), state (Task._state), coro (the coroutine's
# __qualname__), await_chain [{function, qualname, file, line}] (the task's coroutine, then each
# coroutine it awaits along cr_await / gi_yieldfrom, outermost first: co_name, its
# __qualname__, co_filename, f_lineno), waits_on {type, address} (what the innermost coroutine's awaitee,
# the C FutureIter, iterates: Task._fut_waiter, with type(...).__module__.__qualname__),
# awaiting (hex of Task._fut_waiter or null), awaited_by (the pending tasks whose
# _fut_waiter is this task, or a gather's _GatheringFuture whose _children hold it: sorted
# addresses), loop (hex of Task._loop), thread_id (that loop's _thread_id: the thread
# running it)}. "done_tasks": the finished tasks' addresses (not listed by `tasks`).
# Needs 3.7+ (asyncio.all_tasks) and the C accelerator _asyncio (else SKIP); asyncio_pure.py
# runs the same tasks with _asyncio kept out (pure Python Task and Future).
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

# The async code is compiled from this string so that the file still parses on 2.7; the
# leading newlines keep its line numbers those of this file.
ASYNC_FIRST_LINE = 35
ASYNC_SRC = r'''
import asyncio


async def leaf_sleep():
    await asyncio.sleep(3600)


async def middle():
    await leaf_sleep()
    return 1


async def outer_nested():
    x = await middle()
    return x


async def child(i):
    await asyncio.sleep(3600 + i)


async def gatherer():
    await asyncio.gather(child(1), child(2))


async def waited_on():
    await asyncio.sleep(7200)


async def awaiter(t):
    await t


async def consumer(q):
    item = await q.get()
    return item


async def quick():
    return 42


async def failing():
    raise ValueError("failed on purpose")


async def settle():
    for _ in range(20):
        await asyncio.sleep(0)
'''

_keep = []


def _hex(o):
    return "%x" % id(o) if o is not None else None


def _qualified(t):
    return "%s.%s" % (t.__module__, getattr(t, "__qualname__", t.__name__))


def _chain(coro):
    out, c = [], coro
    while c is not None and len(out) < 100:
        frame = getattr(c, "cr_frame", None) or getattr(c, "gi_frame", None)
        if frame is None:
            break
        out.append({"function": frame.f_code.co_name, "qualname": c.__qualname__,
                    "file": frame.f_code.co_filename, "line": frame.f_lineno})
        nxt = getattr(c, "cr_await", None)
        if nxt is None:
            nxt = getattr(c, "gi_yieldfrom", None)
        if nxt is None or not (hasattr(nxt, "cr_frame") or hasattr(nxt, "gi_frame")):
            break
        c = nxt
    return out


def _record(asyncio, loop, done):
    tasks = sorted(asyncio.all_tasks(loop), key=id)
    gathering = asyncio.tasks._GatheringFuture
    rows = []
    for t in tasks:
        w = t._fut_waiter
        by = []
        for u in tasks:
            uw = u._fut_waiter
            if uw is t or (isinstance(uw, gathering) and any(ch is t for ch in uw._children)):
                by.append(u)
        by.sort(key=id)
        rows.append({
            "address": "0x" + _hex(t),
            "name": t.get_name() if hasattr(t, "get_name") else None,
            "state": t._state,
            "coro": t._coro.__qualname__,
            "await_chain": _chain(t._coro),
            "waits_on": {"type": _qualified(type(w)), "address": "0x" + _hex(w)} if w is not None else None,
            "awaiting": "0x" + _hex(w) if w is not None else None,
            "awaited_by": ["0x" + _hex(u) for u in by],
            "loop": "0x" + _hex(t._loop),
            "thread_id": t._loop._thread_id,
        })
    return {"tasks": rows, "done_tasks": sorted("0x" + _hex(t) for t in done)}


def main(pure=False):
    """pure: asyncio without its C accelerator (scenario asyncio_pure blocks _asyncio)."""
    out, live = truth.parse_args()
    if sys.version_info < (3, 7):
        print("SKIP asyncio_tasks needs 3.7+")
        sys.stdout.flush()
        truth.finish(0)
    ns = {}
    exec(compile("\n" * (ASYNC_FIRST_LINE - 1) + ASYNC_SRC, __file__, "exec"), ns)
    asyncio = ns["asyncio"]
    # (not `import _asyncio` first: imported before asyncio, the accelerator keeps a task
    # registry of its own and asyncio.all_tasks() is empty, 3.7-3.11)
    if (asyncio.Task.__module__ != "_asyncio") != pure:
        print("SKIP asyncio_tasks needs the _asyncio accelerator" if not pure
              else "SKIP asyncio_pure: _asyncio could not be kept out")
        sys.stdout.flush()
        truth.finish(0)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    names = sys.version_info >= (3, 8)

    def spawn(coro, name):
        t = loop.create_task(coro, name=name) if names else loop.create_task(coro)
        _keep.append(t)
        return t

    spawn(ns["outer_nested"](), "nested")
    spawn(ns["gatherer"](), "gatherer")
    w = spawn(ns["waited_on"](), "waited")
    spawn(ns["awaiter"](w), "awaiter")

    async_done = [spawn(ns["quick"](), "quick"), spawn(ns["failing"](), "failing"),
                  spawn(ns["waited_on"](), "cancelled")]

    def make_queue_and_consumers():
        qq = asyncio.Queue()  # made while the loop runs: bound to it on every version
        _keep.append(qq)
        for i in range(3):
            spawn(ns["consumer"](qq), "consumer-%d" % i)

    loop.call_soon(make_queue_and_consumers)
    loop.call_soon(async_done[2].cancel)
    loop.run_until_complete(ns["settle"]())
    for t in async_done:
        if not t.done():
            raise RuntimeError("task %r did not finish" % t)
        if not t.cancelled():
            t.exception()  # retrieved: no "never retrieved" log at exit

    def block():
        extra = {"scenario": "asyncio_pure" if pure else "asyncio_tasks", "expected": {}}
        extra.update(_record(asyncio, loop, async_done))
        truth.publish(out + ".truth.json", extra, live)

    loop.call_soon(block)
    loop.run_forever()


if __name__ == "__main__":
    main()
