"""live_target.py -- a process for the live GDB tests (tests/gdblive.bats), 2.7 to 3.15.

Builds a heap (Node objects in a list, a cycle, a global cache), then for each phase writes
what the interpreter says about itself -- gc.get_objects() counted by type name for our
classes, len(gc.get_objects()) -- as one JSON line to OUT.N.json, and waits, idle, until the
file GO.N appears; then it grows the heap and raises SIGUSR1 at itself, so that a debugger
holding it stops there and reads the new state. Exits after the last phase.
    live_target.py DIR PHASES
"""
import gc
import json
import os
import signal
import sys
import time


class Node(object):
    def __init__(self, i):
        self.i = i
        self.peer = None


class Cache(object):
    pass


_cache = Cache()
_cache.items = []
keep = []


def grow(n):
    for i in range(n):
        a, b = Node(i), Node(-i)
        a.peer, b.peer = b, a  # a cycle, kept alive by the list
        keep.append(a)
        _cache.items.append({"k": i})


def truth(path):
    gc.collect()
    objs = gc.get_objects()
    counts = {}
    for o in objs:
        n = type(o).__name__
        if n in ("Node", "Cache"):
            counts[n] = counts.get(n, 0) + 1
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps({"counts": counts, "tracked": len(objs), "pid": os.getpid()}) + "\n")
    os.rename(path + ".tmp", path)


def main():
    d, phases = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGUSR1, lambda *a: None)
    for phase in range(phases):
        grow(100 * (phase + 1))
        if phase:
            os.kill(os.getpid(), signal.SIGUSR1)  # a debugger stops here, after the growth
        truth(os.path.join(d, "out.%d.json" % phase))
        go = os.path.join(d, "go.%d" % phase)
        while not os.path.exists(go):
            time.sleep(0.01)


main()
