# bench/heap.py OUT_JSON [TARGET_OBJECTS]  -- the benchmark's target process.
# bench/heap.py --ext N OUT_JSON           -- the C-extension heap (3.6+; see
#                                            "--ext N" below).
#
# Builds a heap of about TARGET_OBJECTS (default 2,000,000) GC-tracked
# objects, then measures, in this same process:
#   get_objects_s  best of 3: gc.get_objects() alone (the bare in-process walk)
#   typestats_s    best of 3: objgraph.typestats(shortnames=True), same calls per object
#   maxrss_kb      resource.getrusage(RUSAGE_SELF).ru_maxrss
#   objects        len(gc.get_objects()) with the heap as the core will see it
# writes them as JSON to OUT_JSON, prints "READY", and blocks on stdin so that
# bench/run can take a core. When bench/run then writes "after", it times what changes
# the heap (after_core: gc.collect(), objgraph's get_leaking_objects) into
# OUT_JSON.after and prints READY again.
#
# Per unit of the heap: a Record (plain class, instance __dict__ holding an int,
# a str and a list), that list, a tuple (record, int) -- it holds a tracked object
# so it stays tracked --, a Point (__slots__, no __dict__) pointing at the tuple,
# and a dict holding the record.  Every 8th unit also drops a garbage reference
# cycle of two Nodes (gc.disable() keeps it until the core is taken).
# Python 2.7 and 3.x: no f-strings (--ext's coroutine is exec'd from a string).
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


def time_collect():
    # The process's own full collection of the heap the core holds (its garbage cycles
    # included): once, as it frees them.
    t0 = _clock()
    gc.collect()
    return _clock() - t0


def time_leaking():
    # objgraph.get_leaking_objects(): gc.collect(), then the tracked objects that no
    # gc.get_referents of a tracked object reaches (objgraph's code, its calls per object).
    t0 = _clock()
    gc.collect()
    objects = gc.get_objects()
    ids = set(id(i) for i in objects)
    for i in objects:
        ids.difference_update(id(j) for j in gc.get_referents(i))
    leaking = [i for i in objects if id(i) in ids]
    t1 = _clock()
    time_leaking.count = len(leaking)
    del objects, leaking
    return t1 - t0


def after_core(out):
    # What changes the heap runs after the core is taken (bench/run writes "after"): the
    # collection, then objgraph's get_leaking_objects; written to OUT_JSON.after.
    collect_s = time_collect()
    leaking_s = time_leaking()
    text = json.dumps({"collect_s": collect_s, "leaking_s": leaking_s, "leaking": time_leaking.count})
    with open(out + ".after.tmp", "w") as f:
        f.write(text)
    os.rename(out + ".after.tmp", out + ".after")
    print("READY")
    sys.stdout.flush()


# ---------------------------------------------------------------- --ext N
#
# A heap of about N GC-tracked objects of C types that libinspect has no native
# traversal routine for, so that their own C tp_traverse runs in its emulator.
# Per unit:
#   - an asyncio Task (_asyncio.Task) pending on a Future of its own (with the
#     Task come its coroutine, the FutureIter it awaits through, its Context, its
#     wakeup callback (a C wrapper on 3.6-3.11, a bound method on 3.12+) and the
#     weakref of asyncio's WeakSet of tasks),
#   - 16 more _asyncio.Futures: 8 pending, 8 done with the unit's Element as result,
#   - 6 _json.Scanner (json.scanner.c_make_scanner) and 6 _json.Encoder
#     (json.encoder.c_make_encoder),
#   - 2 _csv.reader (each with its fields list) and 4 _csv.writer (each reader and
#     writer with its own _csv.Dialect, GC-tracked on 3.10+),
#   - 2 _pickle.Pickler and 2 _pickle.Unpickler (each with its Pdata stack,
#     GC-tracked on 3.12+),
#   - an _elementtree.Element with 16 SubElements.
# (3.6's Futures also make a callbacks list each: a lower emulated share there.)
# N counts every tracked object the units add (the companions above included),
# not the interpreter's own or the imports'.  Then, in this process: the
# gc.get_referents loop over the C-type objects (best of 3).  Writes JSON like
# main() (with the ids of those objects, for bench/run to check how objinspect
# traversed each), prints READY and blocks on stdin.

EXT = {}          # kind -> list of objects, kept alive here
EXT_SHARED = []   # the loop, the decoder, the csv input and file: one of each

_EXT_CORO = """
async def _ext_waiter(fut):
    return await fut
"""


class _Sink(object):
    # the file for csv.writer and pickle: class attributes, so that every writer
    # and pickler gets the same callable (no bound method each)
    write = len
    read = len
    readline = len


def ext_setup():
    import asyncio
    import json.decoder
    import json.encoder
    import json.scanner
    import _asyncio
    import _csv
    import _elementtree
    import _json
    import _pickle
    import xml.etree.ElementTree as ET
    # the C implementations, not the pure-Python fallbacks
    if asyncio.Task is not _asyncio.Task or asyncio.Future is not _asyncio.Future:
        raise RuntimeError("asyncio without its C Task and Future")
    if ET.Element is not _elementtree.Element:
        raise RuntimeError("xml.etree.ElementTree without _elementtree")
    if json.scanner.c_make_scanner is not _json.make_scanner or json.encoder.c_make_encoder is None:
        raise RuntimeError("json without _json")
    ns = {}
    exec(_EXT_CORO, ns)
    loop = asyncio.new_event_loop()
    decoder = json.decoder.JSONDecoder()
    rows = iter([])       # one iterator all readers share (csv.reader keeps iter(x): itself)
    sink = _Sink()
    EXT_SHARED.extend([asyncio, ns["_ext_waiter"], loop, decoder, rows, sink])
    for kind in ("task", "future", "scanner", "encoder", "reader", "writer", "pickler",
                 "unpickler", "element"):
        EXT[kind] = []


def ext_build(units):
    import json.encoder
    import json.scanner
    import _csv
    import _pickle
    import xml.etree.ElementTree as ET
    asyncio, waiter, loop, decoder, rows, sink = EXT_SHARED
    make_scanner = json.scanner.c_make_scanner
    make_encoder = json.encoder.c_make_encoder
    enc_args = (None, None, json.encoder.encode_basestring_ascii, None, ":", ",",
                False, False, True)
    Element, SubElement = ET.Element, ET.SubElement
    tasks, futures, scanners, encoders = EXT["task"], EXT["future"], EXT["scanner"], EXT["encoder"]
    readers, writers, picklers, unpicklers = EXT["reader"], EXT["writer"], EXT["pickler"], \
        EXT["unpickler"]
    elements = EXT["element"]
    for i in range(units):
        fut = loop.create_future()
        futures.append(fut)
        tasks.append(loop.create_task(waiter(fut)))
        root = Element("unit")
        for _ in range(16):
            SubElement(root, "item")
        elements.append(root)
        for j in range(16):
            f = loop.create_future()
            if j & 1:
                f.set_result(root)
            futures.append(f)
        for _ in range(6):
            scanners.append(make_scanner(decoder))
            encoders.append(make_encoder(*enc_args))
        for _ in range(2):
            readers.append(_csv.reader(rows))
            picklers.append(_pickle.Pickler(sink))
            unpicklers.append(_pickle.Unpickler(sink))
        for _ in range(4):
            writers.append(_csv.writer(sink))
    # one pass of the loop: every new task runs to its `await fut` and waits there
    loop.run_until_complete(asyncio.sleep(0))


def ext_objects():
    # the C-type objects the units made (the Elements with their children)
    out = []
    for kind in sorted(EXT):
        out.extend(EXT[kind])
    for root in EXT["element"]:
        out.extend(list(root))
    return out


def time_ext_referents():
    objs = ext_objects()
    t0 = _clock()
    get_referents = gc.get_referents
    edges = 0
    for o in objs:
        edges += len(get_referents(o))
    t1 = _clock()
    time_ext_referents.edges = edges
    time_ext_referents.n = len(objs)
    del objs
    return t1 - t0


def ext_main(target, out):
    if sys.version_info < (3, 6):
        sys.stderr.write("heap.py --ext: needs CPython 3.6+ (asyncio's C Task)\n")
        return 3
    t0 = _clock()
    # the imports and the event loop first, then a probe of how many tracked
    # objects a unit makes on this interpreter, then the rest
    ext_setup()
    base = len(gc.get_objects())
    probe = 64
    ext_build(probe)
    per_unit = float(len(gc.get_objects()) - base) / probe
    units = max(probe, int(target / per_unit))
    ext_build(units - probe)
    added = len(gc.get_objects()) - base
    build_s = _clock() - t0
    referents_s = best_of(3, time_ext_referents)
    objs = ext_objects()
    ids = [id(o) for o in objs]
    ntypes = {}
    for o in objs:
        n = type(o).__module__ + "." + type(o).__name__
        ntypes[n] = ntypes.get(n, 0) + 1
    del objs
    result = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "pid": os.getpid(),
        "mode": "ext",
        "units": units,
        "per_unit": per_unit,
        "added_objects": added,
        "build_s": build_s,
        "ext_objects": len(ids),
        "ext_types": ntypes,
        "ext_ids": ids,
        "referents_s": referents_s,
        "referents_objects": time_ext_referents.n,
        "referents_edges": time_ext_referents.edges,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    del ids, ntypes
    del time_ext_referents.n, time_ext_referents.edges
    result["objects"] = len(gc.get_objects())
    text = json.dumps(result)
    del result
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    del f, text
    os.rename(tmp, out)
    print("READY")
    sys.stdout.flush()
    sys.stdin.readline()
    os._exit(0)  # no teardown: asyncio would warn of every pending Task


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--ext":
        return ext_main(int(sys.argv[2]), sys.argv[3])
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: heap.py OUT_JSON [TARGET_OBJECTS]\n"
                         "       heap.py --ext N OUT_JSON\n")
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
    if sys.stdin.readline() == "after\n":
        after_core(out)
        sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
