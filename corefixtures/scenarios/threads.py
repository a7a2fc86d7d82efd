# Scenario threads: Python stacks of several threads (issue 4, `stacks`).  Three threads
# block in different ways, a few calls deep, with locals of different kinds:
#   waiter   waiter_outer -> waiter_inner -> threading.Event.wait -> Condition.wait,
#            blocked in a lock's acquire() inside threading.py
#   locker   locker -> the body of class Holder (an unoptimized frame: its locals are the
#            class namespace dict), blocked in acquire() of a lock the main thread holds;
#            locker's `count` is a cell (read by a closure)
#   sleeper  sleeper_outer -> sleeper_inner (a closure: `total` is a free variable of it and
#            a cell of sleeper_outer), blocked in time.sleep(3600)
# The main thread then writes the truth and blocks in block_holding_gil(): read(2) on stdin
# called through ctypes.pythonapi, a PyDLL, so the GIL stays held while it waits: the core
# shows the main thread holding the GIL and every other thread not holding it.
#
# The truth is recorded by the parent (the forked truth child has only one thread) once
# every thread is parked -- its stack the same over several samples -- from
# sys._current_frames() and traceback.extract_stack(): under "threads" {name: {thread_id,
# frames}} and "main_thread" {thread_id, frames}, frames INNERMOST FIRST (the reverse of
# extract_stack's order), each {function, file, line, locals}. locals is {name: repr} of
# frame.f_locals, the repr given only for simple values (None, bool, int, float, short
# ASCII str; null otherwise). The main thread's frames are what they are at the core: its
# block_holding_gil() and main() lines are the lines marked below, its outer frames those
# extract_stack() reports in main(); its locals are not recorded (they change on the way).
# "gil_holder" is the main thread's id.  Needs ctypes (else SKIP).
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
try:
    import ctypes
except ImportError:  # pragma: no cover - a Python built without _ctypes
    ctypes = None

PARK_TIMEOUT = 30.0
_event = threading.Event()   # never set: the waiter waits for ever
_lock = threading.Lock()     # held by the main thread: the locker waits for ever


# ---------------------------------------------------------------- the threads --
def waiter_outer(depth, label):
    numbers = [1, 2, 3]
    return waiter_inner(depth + 1, label.upper(), numbers)


def waiter_inner(level, tag, numbers):
    ratio = 0.5
    mapping = {"level": level}
    nothing = None
    _event.wait()
    return ratio, mapping, nothing


def locker(count):
    name = "locker"
    flag = True

    def closure():
        return count + 1

    class Holder(object):
        kind = "class body"
        size = 3
        _lock.acquire()
    return Holder, closure, name, flag


class StackOnly(object):
    """Held by nothing but a local of a sleeping thread's frame: objgraph-chain --to root."""


_stack_only = []  # its id (an int: no reference to it)


def sleeper_outer():
    total = 42
    greeting = "hello"

    def sleeper_inner(word):
        big = total * 1000
        payload = StackOnly()
        _stack_only.append(id(payload))
        time.sleep(3600)
        return big, word
    return sleeper_inner(greeting)


WORKERS = [("waiter", waiter_outer, (1, "ev"), "wait"),
           ("locker", locker, (7,), "Holder"),
           ("sleeper", sleeper_outer, (), "sleeper_inner")]


# ---------------------------------------------------------------- the main thread --
def block_holding_gil():
    """READY, then wait for gen-cores' line with the GIL held (see the top)."""
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    buf = ctypes.create_string_buffer(1)
    ctypes.pythonapi.read(0, buf, 1)  # MARK: read


def _marked_line(mark):
    path = block_holding_gil.__code__.co_filename
    f = open(path)
    try:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith("# MARK: " + mark):
                return n
    finally:
        f.close()
    raise RuntimeError("no line marked %r in %s" % (mark, path))


# ---------------------------------------------------------------- the truth --
def _simple_repr(v):
    if v is None or isinstance(v, (bool, float)):
        return repr(v)
    if isinstance(v, int) and abs(v) < 2 ** 60:
        return str(v)
    if isinstance(v, str) and len(v) <= 40 and all(" " <= c <= "~" and c not in "'\\" for c in v):
        return "'%s'" % v
    return None


def _frames(frame, with_locals):
    """[{function, file, line, locals}] innermost first, as extract_stack sees them."""
    out = []
    summary = traceback.extract_stack(frame)
    f = frame
    for entry in reversed(summary):
        filename, lineno, name = entry[0], entry[1], entry[2]
        d = {"function": name, "file": filename, "line": lineno}
        if with_locals:
            d["locals"] = dict((k, _simple_repr(v)) for k, v in f.f_locals.items())
        out.append(d)
        f = f.f_back
    return out


def _stack_key(ident):
    f = sys._current_frames().get(ident)
    key = []
    while f is not None:
        key.append((f.f_code.co_name, f.f_lineno))
        f = f.f_back
    return key


def _park(threads):
    """Waits until each thread's innermost frame is the expected one and its stack stayed
    the same over 5 samples 50 ms apart (it is blocked, not on its way)."""
    deadline = time.time() + PARK_TIMEOUT
    last, same = None, 0
    while time.time() < deadline:
        keys = [_stack_key(t.ident) for _, t, _ in threads]
        ok = all(k and k[0][0] == inner for k, (_, _, inner) in zip(keys, threads))
        same = same + 1 if ok and keys == last else 0
        if same >= 5:
            return
        last = keys
        time.sleep(0.05)
    raise RuntimeError("threads not parked within %ss: %r" % (PARK_TIMEOUT, last))


def _small_threads():
    """Keeps the core small (about the size of the other scenarios' instead of 230 MB):
    512 KiB thread stacks instead of 8 MiB, and one malloc arena (glibc reserves 64 MiB per
    thread otherwise, which gcore writes out whole): mallopt(M_ARENA_MAX, 1)."""
    threading.stack_size(512 * 1024)
    try:
        ctypes.CDLL(None).mallopt(-8, 1)
    except (AttributeError, OSError):  # not glibc: a bigger core, nothing else
        pass


def main():
    out, live = truth.parse_args()
    if ctypes is None:
        print("SKIP threads needs ctypes (a read(2) that keeps the GIL)")
        sys.stdout.flush()
        truth.finish(0)
    _small_threads()
    _lock.acquire()
    threads = []
    for name, target, args, inner in WORKERS:
        t = threading.Thread(target=target, args=args, name=name)
        t.daemon = True
        t.start()
        threads.append((name, t, inner))
    _park(threads)
    frames = sys._current_frames()
    recorded = {}
    for name, t, _ in threads:
        recorded[name] = {"thread_id": t.ident, "frames": _frames(frames[t.ident], True)}
    here = block_holding_gil.__code__.co_filename
    main_frames = [{"function": "block_holding_gil", "file": here, "line": _marked_line("read")},
                   {"function": "main", "file": here, "line": _marked_line("main blocks")}]
    main_frames += _frames(sys._getframe(1), False)
    frames = None
    extra = {
        "scenario": "threads",
        "expected": {},
        "threads": recorded,
        "main_thread": {"thread_id": threading.current_thread().ident, "frames": main_frames},
        "gil_holder": threading.current_thread().ident,
        "stack_only": {"address": "0x%x" % _stack_only[0], "thread": "sleeper",
                       "function": "sleeper_inner", "local": "payload"},
        "frames_order": "innermost first",
        # the threads the core has a stack of: threading's view and the kernel's
        "python_threads": len(threading.enumerate()),
        "os_threads": len(os.listdir("/proc/self/task")),
    }
    truth.dump(out + ".truth.json", extra)
    if live:
        truth.ready(wait=False)
        truth.heartbeat_forever()
    block_holding_gil()  # MARK: main blocks
    truth.finish()


if __name__ == "__main__":
    main()
