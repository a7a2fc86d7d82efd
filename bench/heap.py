# bench/heap.py OUT_JSON [TARGET_OBJECTS]  -- the benchmark's target process.
#
# Builds a heap of about TARGET_OBJECTS (default 2,000,000) GC-tracked
# objects, then measures, in this same process:
#   get_objects_s  best of 3: gc.get_objects() alone (the bare in-process walk)
#   typestats_s    best of 3: objgraph.typestats(shortnames=True), same calls per object
#   maxrss_kb      resource.getrusage(RUSAGE_SELF).ru_maxrss
#   objects        len(gc.get_objects()) with the heap as the core will see it
# writes them as JSON to OUT_JSON, prints "READY", and blocks on stdin so that
# bench/run can take a core.
#
# Per unit of the heap: a Record (plain class, instance __dict__ holding an int,
# a str and a list), that list, a tuple (record, int) -- it holds a tracked object
# so it stays tracked --, a Point (__slots__, no __dict__) pointing at the tuple,
# and a dict holding the record.  Every 8th unit also drops a garbage reference
# cycle of two Nodes (gc.disable() keeps it until the core is taken).
# Python 2.7 and 3.x: no f-strings.
from __future__ import print_function
import gc
gc.disable()
import json
import os
import resource
import sys
import time

try:
    _clock = time.perf_counter
except AttributeError:  # 2.7
    _clock = time.time


class Record(object):
    def __init__(self, i):
        self.ident = i
        self.name = "r%d" % i
        self.tags = [i, "x"]


class Point(object):
    __slots__ = ("x", "y", "ref")

    def __init__(self, x, y, ref):
        self.x = x
        self.y = y
        self.ref = ref


class Node(object):
    def __init__(self, i):
        self.ident = i
        self.peer = None


# Kept alive by module globals (the same objects a leak would keep alive).
RECORDS = []
TUPLES = []
POINTS = []
DICTS = []


def build(start, stop):
    for i in range(start, stop):
        r = Record(i)
        t = (r, i)
        RECORDS.append(r)
        TUPLES.append(t)
        POINTS.append(Point(i, -i, t))
        DICTS.append({"id": i, "rec": r})
        if i % 8 == 0:          # garbage cycle, unreachable, kept by gc.disable()
            a = Node(i)
            b = Node(i)
            a.peer = b
            b.peer = a


def best_of(n, fn):
    best = None
    for _ in range(n):
        t = fn()
        if best is None or t < best:
            best = t
    return best


try:
    from types import InstanceType as _InstanceType  # Python 2
except ImportError:
    _InstanceType = None


def time_get_objects():
    t0 = _clock()
    objs = gc.get_objects()
    t1 = _clock()
    del objs
    return t1 - t0


def _obj_type(obj):
    # objgraph's _get_obj_type: the type, or the class of a Python 2 classic instance
    objtype = type(obj)
    if _InstanceType is not None and objtype is _InstanceType:
        objtype = obj.__class__
    return objtype


def _short_name(obj):
    # objgraph's _short_typename
    return _obj_type(obj).__name__


def time_typestats(filter=None):
    # objgraph.typestats(shortnames=True): the same calls per object as objgraph makes
    # (typename(o) -> _get_obj_type(o).__name__, the filter test, the dict update).
    t0 = _clock()
    objects = gc.get_objects()
    typename = _short_name
    stats = {}
    for o in objects:
        if filter and not filter(o):
            continue
        n = typename(o)
        stats[n] = stats.get(n, 0) + 1
    del objects
    t1 = _clock()
    time_typestats.top = sorted(stats.items(), key=lambda kv: -kv[1])[:10]
    return t1 - t0


def time_referents():
    # The in-process way to the same edges: gc.get_referents of every tracked object,
    # counted (objgraph asks gc.get_referrers per object, which is far slower still).
    t0 = _clock()
    objects = gc.get_objects()
    get_referents = gc.get_referents
    edges = 0
    for o in objects:
        edges += len(get_referents(o))
    del objects
    t1 = _clock()
    time_referents.edges = edges
    return t1 - t0


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: heap.py OUT_JSON [TARGET_OBJECTS]\n")
        return 2
    out = sys.argv[1]
    target = int(sys.argv[2]) if len(sys.argv) == 3 else 2000000

    t0 = _clock()
    # Probe how many tracked objects one unit makes on this interpreter (instance
    # dicts are materialised on <= 3.10, inline values on 3.11+), then fill up.
    base = len(gc.get_objects())
    probe = 4096
    build(0, probe)
    per_unit = float(len(gc.get_objects()) - base) / probe
    units = max(probe, int((target - base) / per_unit))
    build(probe, units)
    build_s = _clock() - t0

    get_objects_s = best_of(3, time_get_objects)
    typestats_s = best_of(3, time_typestats)
    referents_s = best_of(2, time_referents)
    referents_edges = time_referents.edges
    del time_referents.edges
    top = time_typestats.top
    del time_typestats.top

    result = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "pid": os.getpid(),
        "units": units,
        "per_unit": per_unit,
        "build_s": build_s,
        "get_objects_s": get_objects_s,
        "typestats_s": typestats_s,
        "typestats_top": top,
        "referents_s": referents_s,
        "garbage_cycles": (units + 7) // 8,   # build(): one Node pair every 8 units
        "referents_edges": referents_edges,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    del top
    # The count last, with nothing of the timing left alive: what the core holds
    # (`result` stays alive; the file object and json.dump's and print's
    # temporaries are freed again before stdin blocks).
    result["objects"] = len(gc.get_objects())
    # json.dumps, not json.dump: dump's pure-Python encoder leaves closure cycles
    # behind (cells, functions), which gc.disable() would keep in the core.
    text = json.dumps(result)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    del f, text
    os.rename(tmp, out)
    print("READY")
    sys.stdout.flush()
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
