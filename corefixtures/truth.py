# -*- coding: utf-8 -*-
"""Ground truth for the core-file fixtures.

The scenario programs in scenarios/ build a known heap, then call

    truth.dump(OUT + ".truth.json", extra)   # the interpreter's own view
    truth.ready()                            # "READY" on stdout, wait on stdin

and gen-cores takes a core with gcore while the program is blocked in
ready().  The truth file is what objgraph-style tooling would report if it ran
inside the process at that moment; libinspect must reproduce it from the core.

Must stay importable by Python 2.7 and 3.6 - 3.13: no f-strings, no type hints.
Heavy modules (json, platform) are imported only in the forked child so that
they do not show up in the parent's heap.
"""
from __future__ import print_function

import gc
import os
import sys
import time

try:  # Python 2 old-style instances (objgraph's _get_obj_type special case)
    from types import InstanceType as _InstanceType
except ImportError:  # Python 3
    _InstanceType = None

__all__ = ["dump", "ready", "heartbeat_forever", "parse_args", "finish"]

# Set in the parent by dump(); used only by the FIXTURE_SELFCHECK debug mode.
_last = [None]


def _hex(i):
    # hex() on a Python 2 long appends "L"; '%x' never does.
    return "0x%x" % i


def _obj_type(o):
    """objgraph._get_obj_type: the class of old-style instances on Python 2."""
    t = type(o)
    if _InstanceType is not None and t is _InstanceType:
        return o.__class__
    return t


def _qualified(t):
    module = getattr(t, "__module__", None)
    qual = getattr(t, "__qualname__", None) or t.__name__
    if not isinstance(module, str) or not module:
        return str(qual)
    return "%s.%s" % (module, qual)


def parse_args(argv=None):
    """Return (OUT, live) from argv: `scenario.py OUT [--live]`."""
    if argv is None:
        argv = sys.argv[1:]
    live = "--live" in argv
    rest = [a for a in argv if a != "--live"]
    if len(rest) != 1:
        sys.stderr.write("usage: %s OUT [--live]\n" % sys.argv[0])
        sys.exit(2)
    return rest[0], live


def dump(path, extra=None):
    """Write the interpreter's view of its own heap to the JSON file `path`.

    Forks; the child measures and writes the file (path + ".tmp", then
    rename) and _exits; the parent only waits.  What the parent allocates on
    the way (and therefore the noise between the truth and a core taken right
    after dump() returns and ready() blocks):
      * os.fork(): the pid int, plus anything a registered at-fork
        "before"/"after_in_parent" hook allocates (none are registered by the
        scenarios; 3.12+ also checks for other threads, there are none);
      * os.waitpid(): a (pid, status) tuple, freed at once;
      * the frame of dump() itself (a GC object before 3.11), freed on return.
    ready() then builds the READY line (a str, not GC-tracked), writes and
    flushes stdout and blocks in sys.stdin.readline().
    """
    if extra is None:
        extra = {}
    parent_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # child: never returns
        status = 1
        try:
            _child(path, extra, parent_pid)
            status = 0
        except BaseException:
            try:
                import traceback
                traceback.print_exc()
                sys.stderr.flush()
            except BaseException:
                pass
        os._exit(status)
    status = os.waitpid(pid, 0)[1]
    if status != 0:
        raise RuntimeError("truth child for %s failed (wait status %d)" % (path, status))
    if not os.path.exists(path):
        raise RuntimeError("truth child did not write %s" % path)
    _last[0] = path


def _child(path, extra, parent_pid):
    # Only ints and a few small containers are created before gc.get_objects();
    # every container created here is recorded in `mine` and left out of the
    # object list, so the child's bookkeeping does not count.
    mine = []
    # a. gc state, before allocating much
    enabled = gc.isenabled()
    threshold = gc.get_threshold()
    count = gc.get_count()
    garbage = len(gc.garbage)
    get_freeze_count = getattr(gc, "get_freeze_count", None)
    frozen = get_freeze_count() if get_freeze_count is not None else 0
    generations = None
    if sys.version_info >= (3, 8):  # get_objects(generation=) is 3.8+
        # (a version test, not try/except: on Python 2 a caught exception
        # keeps its traceback and frame alive until this function returns)
        # Positional: a keyword call would make Argument Clinic create and
        # cache its keyword-name tuple, a GC object the parent does not have.
        generations = [len(gc.get_objects(i)) for i in range(3)]
    # This frame exists only in the child (the parent is blocked in dump()).
    mine.extend([threshold, count, generations, sys._getframe()])

    # b. refcounts of __main__ globals, before gc.get_objects() (whose list
    # would add a reference to everything).  sys.getrefcount() is called on
    # the subscription expression directly so that no local holds the object;
    # "- 1" removes the argument's own reference: the result is the ob_refcnt
    # the object has in the parent.
    main_globals = sys.modules["__main__"].__dict__
    names = list(extra.get("refcount_names", []))
    refcounts = []
    mine.extend([names, refcounts])
    for n in names:
        if n in main_globals:
            entry = {"name": n, "address": _hex(id(main_globals[n])),
                     "refcnt": sys.getrefcount(main_globals[n]) - 1}
        else:
            entry = {"name": n, "address": None, "refcnt": None}
        refcounts.append(entry)
        mine.append(entry)

    # c. objects and type statistics (objgraph.typestats)
    objs = gc.get_objects()
    skip = set(id(o) for o in mine)
    skip.add(id(mine))
    # A plain loop, not a comprehension: before 3.12 a comprehension that
    # reads `skip` would turn it into a closure cell, created (as a GC
    # object the parent does not have) when this frame starts.
    kept = []
    o = None
    for o in objs:
        if id(o) not in skip:
            kept.append(o)
    objs = kept
    del skip, mine, kept, o

    types = {}
    qualified = {}
    nbytes = {}
    unreliable = set()
    for o in objs:
        t = _obj_type(o)
        short = t.__name__
        types[short] = types.get(short, 0) + 1
        q = _qualified(t)
        qualified[q] = qualified.get(q, 0) + 1
        try:
            size = sys.getsizeof(o)
        except Exception:
            size = 0
            unreliable.add(short)
        nbytes[short] = nbytes.get(short, 0) + size
    t = None

    # d. addresses of the scenario's own classes, sizes/reprs of named globals
    id_types = list(extra.get("id_types", []))
    ids = dict((name, []) for name in id_types)
    type_addresses = {}    # short name -> ob_type of its instances
    class_addresses = {}   # short name -> the class (differs for old-style)
    objects = []
    for o in objs:
        cls = _obj_type(o)
        short = cls.__name__
        if short in ids:
            addr = _hex(id(o))
            ids[short].append(addr)
            type_addresses[short] = _hex(id(type(o)))
            class_addresses[short] = _hex(id(cls))
            try:
                size = sys.getsizeof(o)
            except Exception:
                size = None
            objects.append({"address": addr, "type": short, "size": size})
    for name in ids:
        ids[name].sort()
    objects.sort(key=lambda d: int(d["address"], 16))

    sizes = {}
    reprs = {}
    for n in names:
        if n not in main_globals:
            continue
        o = main_globals[n]
        addr = _hex(id(o))
        try:
            sizes[addr] = sys.getsizeof(o)
        except Exception:
            sizes[addr] = None
        try:
            reprs[addr] = repr(o)[:80]
        except Exception as e:
            reprs[addr] = "<repr failed: %s>" % type(e).__name__
        del o

    result = {
        "gc": {
            "enabled": enabled,
            "threshold": list(threshold),
            "count": list(count),
            "garbage": garbage,
            "freeze_count": frozen,
            "generations": generations,
        },
        "refcounts": refcounts,
        # None: immortal from 3.12 on, when getrefcount reports the immortal count
        "none": {"address": _hex(id(None)), "refcnt": sys.getrefcount(None)},
        "objects": len(objs),
        "types": types,
        "qualified": qualified,
        "bytes": nbytes,
        "bytes_unreliable": sorted(unreliable),
        "ids": ids,
        "type_addresses": type_addresses,
        "class_addresses": class_addresses,
        "sizes": sizes,
        "reprs": reprs,
        "object_list": objects,
    }

    # e. the scenario's own child-side truth (extra["child_truth"], a callable):
    # called with the parent's tracked objects, the list kept alive so that no
    # object the child creates from here on can take one of their addresses.
    # Everything the hook creates is therefore told apart by identity: an object
    # is the parent's exactly when it is in that list.  Its dict is merged into
    # the result (after every measurement above, so it perturbs none of them).
    hook = extra.get("child_truth")
    if hook is not None:
        o = t = cls = None  # the loops' last objects: no stray child references
        result.update(hook(objs))
        hook = None
    del objs

    # Frozen objects (gc.freeze(), 3.7+) live in the permanent generation,
    # which gc.get_objects() does not list.  The child is disposable, so
    # unfreeze and count again to report what a core walker that also walks
    # the permanent generation should see.
    if frozen and hasattr(gc, "unfreeze"):
        gc.unfreeze()
        all_objs = gc.get_objects()
        wf_types = {}
        for o in all_objs:
            short = _obj_type(o).__name__
            wf_types[short] = wf_types.get(short, 0) + 1
        result["with_frozen"] = {"objects": len(all_objs), "types": wf_types,
                                 "note": "counted after gc.unfreeze() in the child; "
                                         "includes the child's own bookkeeping"}
        del all_objs

    import json
    import platform
    result["python"] = platform.python_version()
    result["version_info"] = list(sys.version_info[:3])
    result["executable"] = os.path.realpath(sys.executable)
    result["pid"] = parent_pid
    result["scenario"] = extra.get("scenario")
    for k, v in extra.items():
        if k != "child_truth":
            result[k] = v
    tmp = path + ".tmp"
    f = open(tmp, "w")
    try:
        json.dump(result, f, sort_keys=True, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    finally:
        f.close()
    os.rename(tmp, path)


def ready(msg="READY", wait=True):
    """Print `msg` on stdout (flushed), then block until a line arrives on
    stdin and return it (wait=False: return None at once)."""
    if _last[0] is not None and os.environ.get("FIXTURE_SELFCHECK") == "1":
        # Debug only (perturbs the heap): objects seen by the parent right
        # after dump() returned, versus the truth file.
        c0, c1, c2 = gc.get_count()   # unpacked: no tuple stays alive
        n = len(gc.get_objects())
        _selfcheck(n, (c0, c1, c2))
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()
    if not wait:
        return None
    return sys.stdin.readline()


def _selfcheck(n, count):
    import json
    path = _last[0]
    f = open(path)
    try:
        t = json.load(f)
    finally:
        f.close()
    main_globals = sys.modules["__main__"].__dict__
    bad = []
    for r in t.get("refcounts", []):
        name = r["name"]
        if name in main_globals:
            now = sys.getrefcount(main_globals[name]) - 1
            if now != r["refcnt"]:
                bad.append("%s:%s!=%s" % (name, now, r["refcnt"]))
    sys.stderr.write("SELFCHECK python=%s scenario=%s file=%s truth_objects=%d "
                     "parent_objects=%d diff=%d refcounts=%s truth_count=%s "
                     "parent_count=%s\n"
                     % (".".join(map(str, sys.version_info[:3])), t.get("scenario"),
                        os.path.basename(path), t["objects"], n, n - t["objects"],
                        "ok" if not bad else ",".join(bad),
                        ",".join(map(str, t["gc"]["count"])), ",".join(map(str, count))))
    sys.stderr.flush()


def heartbeat_forever(interval=0.2):
    """Live-process mode: print `tick N` every `interval` seconds, forever.
    Allocates no GC-tracked objects per tick."""
    n = 0
    while True:
        n += 1
        sys.stdout.write("tick %d\n" % n)
        sys.stdout.flush()
        time.sleep(interval)


def publish(path, extra, live, msg="READY"):
    """What every scenario does once its heap is built: dump the truth to path, then
    either (live) announce msg and tick forever, or announce msg, wait for the core to
    be taken, and exit."""
    dump(path, extra)
    if live:
        ready(msg, wait=False)
        heartbeat_forever()
    ready(msg)
    finish()


def finish(code=0):
    """Exit at once, skipping interpreter teardown (fast, and no __del__
    side effects from the deliberately leaked objects)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)
