# Scenario tracemalloc_sites: a process traced by tracemalloc (`allocations`, and the
# traceback of `at`). tracemalloc.start(NFRAMES) is called before anything is built; then
# distinctive allocations are made at known lines, a few calls deep, from functions of this
# file and of a second "file" (code compiled under the name OTHER_FILE, so its frames say
# so): Record instances (a __dict__: 3.11+ a managed-dict pre-header), __slots__ instances,
# lists of lists, big bytes and bytearrays, strs; and (3.6+, with ctypes) three blocks in a
# foreign domain (PyTraceMalloc_Track, 3.6's _PyTraceMalloc_Track, as numpy does). Everything is kept in globals.
# 2.7 has no tracemalloc: the process does not trace, the truth says "tracing": false.
#
# Truth ("tracemalloc" in the truth file): taken in a child forked at the last quiescent
# point, after truth.dump(), so its traces are the parent's at that moment. The fork is libc's
# fork(2) through ctypes.PyDLL: no os.register_at_fork hook runs in the child (os.fork()'s
# threading and random hooks would free some of the parent's blocks before the copy). Right
# before it, the free lists of lists and ints are emptied (_drained): an object taken from a
# free list has its trace re-stamped with the current traceback (3.8+), which would move a
# block the parent has from one group to another. The child's first act is
# _tracemalloc._get_traces() (the copy Snapshot is made of); what it allocated before that
# copy has _tm_fork's fork line or a later one in its traceback and is left out (listed in
# "child_dropped"). From the traces: "traced_bytes"/"traced_blocks" (their sums),
# "statistics": {lineno|filename|traceback: [{"traceback": [[file, line], ...] most recent
# first, "size", "count"}]} as Snapshot.statistics(key) orders them; "objects": {name:
# {"address", "type", "block" (id(o) minus the GC header and pre-header: sys.getsizeof(o) -
# o.__sizeof__()), "traceback": [[file, line]...] most recent first or null: the trace of
# that block (_PyTraceMalloc_GetTraceback through ctypes), "api": what
# tracemalloc.get_object_traceback(o) says (3.11 says None for objects with a pre-header)}},
# "fork_line" (the line of the fork in this file). The child writes READY; the parent blocks
# right after the fork in a read(2) into a bytearray made beforehand (FileIO.readinto, bound
# beforehand). What the parent allocated after the fork and still holds is its pid int
# (freed: from 3.14 into the int free list, still traced, at fork_line; when it came from
# that free list its trace moved there from the group that allocated it first): the tests
# allow exactly that one block. The usual truth (truth.dump(): objects, types, ...) is taken
# before all this: the core has _drained's 202 lists and its tuple more.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

try:
    import tracemalloc
    import _tracemalloc
except ImportError:  # 2.7
    tracemalloc = None

NFRAMES = 5
if tracemalloc is not None:
    tracemalloc.start(NFRAMES)

OTHER_FILE = "/srv/app/storage.py"
OTHER_SRC = '''
def make_rows(n):
    rows = []
    for i in range(n):
        rows.append([i, i + 1, i + 2])
    return rows


def make_buffer(n):
    return bytearray(n)


def make_blobs(k, n):
    return [bytes(bytearray(n)) for _ in range(k)]
'''
_other = {}
exec(compile(OTHER_SRC, OTHER_FILE, "exec"), _other)


class Record(object):
    def __init__(self, i):
        self.i = i
        self.name = "record-%d" % i


class Slotted(object):
    __slots__ = ("a", "b")

    def __init__(self, a):
        self.a = a
        self.b = None


_records = []
_slotted = []
_texts = []


def leaf_records(n):
    for i in range(n):
        _records.append(Record(i))


def mid_records(n):
    leaf_records(n)


def leaf_slotted(n):
    for i in range(n):
        _slotted.append(Slotted(i))


def leaf_texts(n):
    for i in range(n):
        _texts.append("text-%06d-" % i * 20)


def build():
    global _rows, _buffer, _blobs, _blob, _record, _slot, _text
    mid_records(700)
    leaf_slotted(900)
    leaf_texts(300)
    _rows = _other["make_rows"](1200)
    _buffer = _other["make_buffer"](600000)
    _blobs = _other["make_blobs"](4, 50000)
    n = 70000
    _blob = b"b" * n
    _record = _records[123]
    _slot = _slotted[456]
    _text = _texts[7]


NAMED = ["_record", "_slot", "_text", "_blob", "_buffer", "_rows"]


def foreign_domain():
    """Three blocks in domain 7 (what numpy reports for its arrays' data)."""
    try:
        import ctypes
    except ImportError:
        return None
    track = None
    for name in ("PyTraceMalloc_Track", "_PyTraceMalloc_Track"):   # 3.7+, 3.6
        track = getattr(ctypes.pythonapi, name, None)
        if track is not None:
            break
    if track is None:
        return None
    track.argtypes = [ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t]
    track.restype = ctypes.c_int
    base = 0x10000000
    for i, size in enumerate((123456, 65432, 4321)):
        if track(7, base + 4096 * i, size) != 0:
            return False
    return True


def _frames_of(tb_tuple):
    return [[f[0], f[1]] for f in tb_tuple]


def _tm_child(path, raw, lo, hi):
    """In the forked child, with raw = _tracemalloc._get_traces() taken first."""
    kept = []
    dropped = []
    for t in raw:
        if any(f[0] == __file__ and lo <= f[1] <= hi for f in t[2]):
            dropped.append({"size": t[1], "traceback": _frames_of(t[2])})
        else:
            kept.append(t)
    snap = tracemalloc.Snapshot(kept, tracemalloc.get_traceback_limit())
    stats = {}
    for key in ("lineno", "filename", "traceback"):
        rows = []
        for st in snap.statistics(key):
            frames = [[f.filename, f.lineno] for f in st.traceback]
            if sys.version_info >= (3, 7):   # Traceback iterates oldest first from 3.7
                frames.reverse()
            rows.append({"traceback": frames, "size": st.size, "count": st.count})
        stats[key] = rows
    get_tb = None
    try:
        import ctypes
        get_tb = ctypes.pythonapi._PyTraceMalloc_GetTraceback
        get_tb.argtypes = [ctypes.c_uint, ctypes.c_size_t]
        get_tb.restype = ctypes.py_object
    except (ImportError, AttributeError):
        get_tb = None
    main_globals = sys.modules["__main__"].__dict__
    objects = {}
    for name in NAMED:
        o = main_globals[name]
        block = id(o) - (sys.getsizeof(o) - o.__sizeof__())
        api = tracemalloc.get_object_traceback(o)
        if api is not None:
            api = [[f.filename, f.lineno] for f in api]
            if sys.version_info >= (3, 7):
                api.reverse()
        tb = None
        if get_tb is not None:
            r = get_tb(0, block)
            tb = _frames_of(r) if r is not None else None
        objects[name] = {"address": "0x%x" % id(o), "type": type(o).__name__,
                         "block": "0x%x" % block, "traceback": tb, "api": api,
                         "traceback_from": "_PyTraceMalloc_GetTraceback" if get_tb is not None else None}
    o = None
    result = {
        "tracing": True,
        "traceback_limit": tracemalloc.get_traceback_limit(),
        "traced_bytes": sum(t[1] for t in kept),
        "traced_blocks": len(kept),
        "statistics": stats,
        "objects": objects,
        "child_dropped": dropped,
        "foreign_domain": main_globals.get("_foreign"),
        "this_file": __file__,
        "fork_line": lo,
        "other_file": OTHER_FILE,
    }
    import json
    with open(path) as f:
        whole = json.load(f)
    whole["tracemalloc"] = result
    tmp = path + ".tm.tmp"
    with open(tmp, "w") as f:
        json.dump(whole, f, sort_keys=True, indent=1)
        f.write("\n")
    os.rename(tmp, path)


def _libc_fork():
    """libc's fork(2) through ctypes.PyDLL (the GIL stays held): no os.register_at_fork hook
    runs in the child, so the child frees nothing of the parent's before its copy of the
    traces (os.fork()'s threading/random hooks do, on builds that imported them)."""
    try:
        import ctypes
        fork = ctypes.PyDLL(None).fork
    except (ImportError, AttributeError, OSError):
        return os.fork
    fork.restype = ctypes.c_int
    fork.argtypes = []
    return fork


def _tm_fork(path, fork):
    global _drained
    # empty the free lists the child's first allocation (its traces list) and the pid int
    _drained = ([[] for _ in range(200)], [_BIG + i for i in range(400)])
    if fork() == 0:
        raw = _tracemalloc._get_traces()
        status = 1
        try:
            _tm_child(path, raw, _TM_FORK_LINE, _TM_LAST)
            sys.stdout.write("READY\n")
            sys.stdout.flush()
            status = 0
        except BaseException:
            import traceback
            traceback.print_exc()
            sys.stderr.flush()
        os._exit(status)


_BIG = 10 ** 9
_TM_FORK_LINE = _tm_fork.__code__.co_firstlineno + 4
_TM_LAST = _TM_FORK_LINE + 12   # the last line of _tm_fork
if tracemalloc is not None:
    import linecache
    if "fork() == 0" not in linecache.getline(__file__, _TM_FORK_LINE):
        raise RuntimeError("_TM_FORK_LINE is not the line of the fork")


def main():
    global _foreign
    out, live = truth.parse_args()
    path = out + ".truth.json"
    build()
    _foreign = foreign_domain() if tracemalloc is not None else None
    extra = {"scenario": "tracemalloc_sites", "expected": {"Record": 700, "Slotted": 900},
             "id_types": ["Record", "Slotted"], "refcount_names": NAMED}
    if tracemalloc is None:
        extra["tracemalloc"] = {"tracing": False}
        truth.publish(path, extra, live)
    truth.dump(path, extra)
    if live:
        truth.ready(wait=False)
        truth.heartbeat_forever()
    readinto = sys.stdin.buffer.raw.readinto
    line = bytearray(1)
    fork = _libc_fork()
    sys.stdout.write("truth written\n")
    sys.stdout.flush()
    # The child writes READY once the truth is complete; the parent blocks at once.
    _tm_fork(path, fork)
    readinto(line)
    truth.finish()


if __name__ == "__main__":
    main()
