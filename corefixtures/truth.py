# -*- coding: utf-8 -*-
"""Ground truth for the core-file fixtures.

The scenario programs in scenarios/ build a known heap, then call

    truth.dump(OUT + ".truth.json", extra)   # the interpreter's own view
    truth.ready()                            # "READY" on stdout, wait on stdin

and gen-cores takes a core with gcore while the program is blocked in
ready().  The truth file is what objgraph-style tooling would report if it ran
inside the process at that moment; libinspect must reproduce it from the core.

Must stay importable by Python 2.7 and 3.6 - 3.15: no f-strings, no type hints.
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
    o = t = cls = None  # the loops' last objects: no stray child references

    # e0. retained sizes of the named globals (before the hook: it may import modules)
    result["retained"] = _retained_of(main_globals, names, objs)

    if hook is not None:
        result.update(hook(objs))
        hook = None

    # f. what a full gc.collect() finds unreachable (last: the collection changes the
    # heap), while the frozen objects are still frozen.  The parent's objects are told
    # apart by their ids: none of them is freed in the child, so no child object can
    # take one of those addresses.  Right after the collection, objgraph's answers over
    # the heap it left (types_collected, leaking_collected: _collected_view).
    parent_ids, finalized, saved_codes = _unreachable_prepare(objs)
    del objs
    result.update(_unreachable_collect(parent_ids, finalized, True, parent_ids))
    parent_ids = finalized = None

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


# ------------------------------------------------------ retained sizes --

_RETAINED_LIMIT = 600000   # closure size past which an object is left out


def _retained_of(main_globals, names, objs):
    """What each named global of __main__ alone keeps alive: address -> {"name", "count",
    "bytes", "closure", "types"}, for the ones whose closure is small enough and whose
    members all have a size."""
    tracked = set()
    for o in objs:
        tracked.add(id(o))
    o = None
    out = {}
    for n in names:
        if n not in main_globals:
            continue
        r = _retained(main_globals[n], tracked, id(main_globals))
        if r is not None:
            r["name"] = n
            out[_hex(id(main_globals[n]))] = r
    return out


def _retained(x, tracked, main_dict):
    """x's retained set, as the issue defines it: C, the gc.get_referents closure of x
    (x included); E, the members other than x that something outside C refers to: their
    refcount is more than the references from members of C (each counted as often as
    get_referents lists it); the retained set is C less everything reachable from E by
    get_referents without passing through x.  Refcounts are the parent's: the child's
    own references are taken off (sys.getrefcount's argument, the `members` list, the
    list of the parent's tracked objects _child keeps, its local holding __main__'s dict).
    Returns {"count", "bytes", "closure", "types"} or None when C has more than
    _RETAINED_LIMIT members or a member has no size."""
    return _retained_group([x], tracked, main_dict)


def _retained_group(xs, tracked, main_dict):
    """What the objects xs keep alive together, by _retained's rule with xs in place of x:
    C the closure of all of them, E the members outside xs that something outside C refers
    to, the retained set C less what E reaches without passing through a member of xs.
    The list xs itself refers only to members of xs, which are never in E.  For objects
    that share nothing only they reach, it is the union of their own retained sets."""
    index = {}
    members = []
    for x in xs:
        if id(x) not in index:
            index[id(x)] = len(members)
            members.append(x)
    x = None
    nx = len(members)
    inner = [0] * nx
    start = [0]      # members[i]'s referents are adj[start[i]:start[i + 1]]
    adj = []
    head = 0
    while head < len(members):
        refs = gc.get_referents(members[head])
        head += 1
        for r in refs:
            i = index.get(id(r))
            if i is None:
                if len(members) >= _RETAINED_LIMIT:
                    return None
                i = index[id(r)] = len(members)
                members.append(r)
                inner.append(0)
            inner[i] += 1
            adj.append(i)
        start.append(len(adj))
        refs = r = None
    index = None
    # E, then what it reaches without x
    out_of = [False] * len(members)
    stack = []
    for i in range(nx, len(members)):
        rc = sys.getrefcount(members[i]) - 2     # the argument, `members`
        if id(members[i]) in tracked:
            rc -= 1                              # _child's list of tracked objects
        if id(members[i]) == main_dict:
            rc -= 1                              # _child's main_globals
        if rc > inner[i]:
            out_of[i] = True
            stack.append(i)
    while stack:
        i = stack.pop()
        for k in range(start[i], start[i + 1]):
            j = adj[k]
            if j >= nx and not out_of[j]:
                out_of[j] = True
                stack.append(j)
    count = 0
    nbytes = 0
    types = {}
    for i in range(len(members)):
        if out_of[i]:
            continue
        try:
            size = sys.getsizeof(members[i])
        except Exception:
            return None
        count += 1
        nbytes += size
        t = _obj_type(members[i]).__name__
        types[t] = types.get(t, 0) + 1
    return {"count": count, "bytes": nbytes, "closure": len(members), "types": types}


# ------------------------------------------------ unreachable: gc.collect() --

def _noop_del(self):
    pass


class _Sink(object):
    """sys.stderr during the collection: keeps what the gc's debug output writes."""
    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)

    def flush(self):
        pass


def _unreachable_prepare(objs):
    """Before the collection, while `objs` (the parent's tracked objects) is alive.

    From 3.4 (PEP 442) the collection calls every unreachable object's __del__, which may
    break the very cycle being measured (del_cycle's sets `self.partner = None`, freeing
    the partner before it reaches gc.garbage).  Each Python __del__ gets a no-op body (its
    function object, and so every reference in the heap, stays as it is; the old code
    objects, which the GC does not track, are kept alive by the caller).  Also records
    which objects were already finalized (gc.is_finalized, 3.9+; else None).
    Returns (set of the parent's ids, finalized ids or None, the saved code objects)."""
    saved = []
    if sys.version_info >= (3, 4):
        ftype = type(_noop_del)
        for o in objs:
            if isinstance(o, type):
                f = o.__dict__.get("__del__")
                if type(f) is ftype and not f.__code__.co_freevars:
                    saved.append(f.__code__)
                    f.__code__ = _noop_del.__code__
                f = None
    finalized = None
    is_finalized = getattr(gc, "is_finalized", None)
    if is_finalized is not None:
        finalized = set()
        for o in objs:
            if is_finalized(o):
                finalized.add(id(o))
    parent = set()
    for o in objs:
        parent.add(id(o))
    o = None
    return parent, finalized, saved


def _has_del(t):
    """The class (or a base) defines __del__ in Python: the finalizer "__del__"."""
    for k in getattr(t, "__mro__", None) or _classic_mro(t):
        if "__del__" in k.__dict__:
            return True
    return False


def _classic_mro(c):
    out = [c]
    for b in getattr(c, "__bases__", ()):
        out.extend(_classic_mro(b))
    return out


def _is_identifier(k):
    if not isinstance(k, str) or not k or not (k[0].isalpha() or k[0] == "_"):
        return False
    for ch in k:
        if not (ch.isalnum() or ch == "_") or ord(ch) > 127:
            return False
    return True


_BUILTIN_MODULES = ("builtins", "__builtin__", "exceptions")


def _edge_labels(src, dst):
    """The labels of the references src -> dst that are certain: [i] of a list or tuple, a
    dict value under an identifier key (the key) or an int key ([n]), __dict__ and attribute
    names of instances of Python classes (instance dict or 3.11+ inline values), __class__,
    a bound method's __self__/__func__, a frame's f_back and local names, a traceback's
    tb_frame/tb_next, an exception's __traceback__/__context__/__cause__.  Empty when
    none is certain.  May materialize instance dicts (3.11+): call it last."""
    out = set()
    if isinstance(src, (list, tuple)):
        for i, v in enumerate(src):
            if v is dst:
                out.add("[%d]" % i)
    if isinstance(src, dict):
        for k, v in list(src.items()):
            if v is dst:
                if _is_identifier(k):
                    out.add(k)
                elif type(k) is int:
                    out.add("[%d]" % k)
    tname = type(src).__name__
    if tname in ("method", "instancemethod"):
        if getattr(src, "__self__", None) is dst:
            out.add("__self__")
        if getattr(src, "__func__", None) is dst:
            out.add("__func__")
    elif tname == "frame":
        if src.f_back is dst:
            out.add("f_back")
        loc = src.f_locals
        for k in list(loc.keys()):
            if loc[k] is dst:
                out.add(k)
        loc = None
    elif tname == "traceback":
        if src.tb_frame is dst:
            out.add("tb_frame")
        if src.tb_next is dst:
            out.add("tb_next")
    if isinstance(src, BaseException):
        for a in ("__traceback__", "__context__", "__cause__"):
            if getattr(src, a, None) is dst:
                out.add(a)
    t = type(src)
    if getattr(t, "__module__", None) not in _BUILTIN_MODULES and isinstance(t, type):
        if t is dst:
            out.add("__class__")
        d = getattr(src, "__dict__", None)
        if isinstance(d, dict):
            if d is dst:
                out.add("__dict__")
            for k, v in list(d.items()):
                if v is dst and _is_identifier(k):
                    out.add(k)
        for klass in t.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            if isinstance(slots, str):
                slots = (slots,)
            for s in slots:
                if s not in ("__dict__", "__weakref__") and getattr(src, s, _NOTHING) is dst:
                    out.add(s)
    return sorted(out)


_NOTHING = object()


def _value_repr(v):
    """A local's value as recorded: repr() cut to 80 characters."""
    try:
        return repr(v)[:80]
    except Exception:
        return "<repr failed>"


def _frame_info(f):
    """function, file, current line and locals (name -> repr, name -> type) of a frame."""
    loc = f.f_locals
    names = sorted(loc.keys())
    reprs = {}
    types = {}
    for k in names:
        v = loc[k]
        reprs[k] = _value_repr(v)
        types[k] = _obj_type(v).__name__
    v = loc = None
    return {"address": _hex(id(f)), "function": f.f_code.co_name,
            "file": f.f_code.co_filename, "line": f.f_lineno,
            "locals": reprs, "local_types": types}


def _sccs(nodes, succ):
    """Tarjan's strongly connected components, iteratively: lists of node ids."""
    index = {}
    low = {}
    on = set()
    stack = []
    out = []
    counter = 0
    for v in nodes:
        if v in index:
            continue
        work = [[v, 0]]
        while work:
            node, pos = work[-1]
            if pos == 0 and node not in index:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on.add(node)
            nxt = succ[node]
            descended = False
            while pos < len(nxt):
                w = nxt[pos]
                pos += 1
                if w not in index:
                    work[-1][1] = pos
                    work.append([w, 0])
                    descended = True
                    break
                if w in on and index[w] < low[node]:
                    low[node] = index[w]
            if descended:
                continue
            work.pop()
            if work:
                up = work[-1][0]
                if low[node] < low[up]:
                    low[up] = low[node]
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)
    return out


def _unreachable_collect(parent, finalized, details, view=None):
    """A full gc.collect() under DEBUG_SAVEALL, as the interpreter would run it now.

    The unreachable set is what the collector itself reports (DEBUG_COLLECTABLE and
    DEBUG_UNCOLLECTABLE lines, printed as soon as it has split the heap, before any weakref
    callback or finalizer runs) -- which DEBUG_SAVEALL then puts in gc.garbage, where the
    objects stay alive for gc.get_referents.  `parent`: the ids to keep (the parent's
    objects), or None for all.  With details, also the strongly connected components
    (the cycles), their edges and labels, the frames, finalizers and gc.garbage before.
    With `view` (a set of ids: the parent's objects), also objgraph's answers after its
    own gc.collect() over those objects (_collected_view), measured first."""
    n0 = len(gc.garbage)
    before = []
    before_types = {}
    x = None
    if details:
        for x in gc.garbage:
            before.append(_hex(id(x)))
            before_types[_hex(id(x))] = _obj_type(x).__name__
        x = None
    flags = gc.DEBUG_SAVEALL | gc.DEBUG_COLLECTABLE | gc.DEBUG_UNCOLLECTABLE | \
        getattr(gc, "DEBUG_OBJECTS", 0)   # 2.7 prints objects only with DEBUG_OBJECTS
    old_debug = gc.get_debug()
    sink = _Sink()
    old_stderr = sys.stderr
    sys.stderr = sink
    try:
        gc.set_debug(flags)
        collected = gc.collect()
    finally:
        gc.set_debug(old_debug)
        sys.stderr = old_stderr
    printed = {}     # id -> tp_name as the collector printed it
    kept = set()     # the uncollectable ones: a real collection leaves them in gc.garbage
    for line in "".join(sink.parts).splitlines():
        line = line.strip()
        if not (line.startswith("gc: collectable <") or line.startswith("gc: uncollectable <")) \
                or not line.endswith(">"):
            continue
        body = line[line.index("<") + 1:-1]
        tp_name, addr = body.rsplit(" ", 1)
        if tp_name.endswith(" instance at"):   # 2.7 DEBUG_INSTANCES form, not used
            tp_name = tp_name[:-len(" instance at")]
        printed[int(addr, 16)] = tp_name
        if line.startswith("gc: uncollectable <"):
            kept.add(int(addr, 16))
    sink = None
    collected_view = None
    if view is not None:
        # before anything below looks at objects (labels and f_locals materialize dicts)
        collected_view = _collected_view(view, printed, kept)
    saved = gc.garbage[n0:]
    alive = {}
    for x in saved:
        if id(x) in printed and (parent is None or id(x) in parent):
            alive[id(x)] = x
    not_printed = 0
    for x in saved:
        if id(x) not in printed:
            not_printed += 1
    x = saved = None
    ids = [i for i in printed if parent is None or i in parent]
    ids.sort()
    types = {}
    for i in ids:
        if i in alive:
            name = _obj_type(alive[i]).__name__
        else:
            name = printed[i].rsplit(".", 1)[-1]
        types[name] = types.get(name, 0) + 1
    out = {
        "unreachable": [_hex(i) for i in ids],
        "unreachable_types": types,
        "unreachable_collected": collected,
        # freed while the collection ran (a C finalizer or weakref callback), or saved
        # without having been reported: both should be 0
        "unreachable_freed": [_hex(i) for i in ids if i not in alive],
        "unreachable_not_reported": not_printed,
    }
    if collected_view is not None:
        out.update(collected_view)
    if not details:
        return out

    # the cycles: strongly connected components over gc.get_referents, within the set
    nodes = sorted(alive)
    succ = {}
    for i in nodes:
        s = []
        for r in gc.get_referents(alive[i]):
            if id(r) in alive and id(r) not in s:
                s.append(id(r))
        succ[i] = s
    r = None
    comps = []
    for comp in _sccs(nodes, succ):
        if len(comp) > 1 or comp[0] in succ[comp[0]]:
            comps.append(sorted(comp))
    comps.sort(key=lambda c: (-len(c), c[0]))
    # sizes, and what each cycle holds: the unreachable objects outside every cycle that
    # it leads to, alone (exclusive) or with other cycles (shared)
    sizes = {}
    for i in nodes:
        try:
            sizes[i] = sys.getsizeof(alive[i])
        except Exception:
            sizes[i] = None
    in_cycle = set()
    for comp in comps:
        in_cycle.update(comp)
    reached_by = {}
    for k in range(len(comps)):
        seen = set(comps[k])
        todo = list(comps[k])
        while todo:
            for j in succ[todo.pop()]:
                if j not in seen:
                    seen.add(j)
                    todo.append(j)
        for j in seen:
            if j not in in_cycle:
                reached_by.setdefault(j, []).append(k)
    held = []
    for k in range(len(comps)):
        held.append({"exclusive": 0, "shared": 0, "exclusive_bytes": 0, "shared_bytes": 0})
    for j, ks in reached_by.items():
        kind = "exclusive" if len(ks) == 1 else "shared"
        name = _obj_type(alive[j]).__name__
        for k in ks:
            held[k][kind] += 1
            held[k][kind + "_bytes"] += sizes[j] or 0
            held[k].setdefault("types", set()).add(name)
    for h in held:
        h["types"] = sorted(h.get("types", ()))
    # from here on the objects may change (labels and f_locals materialize dicts)
    edges = {}
    for comp in comps:
        members = set(comp)
        for i in comp:
            e = {}
            for j in succ[i]:
                if j in members:
                    e[_hex(j)] = _edge_labels(alive[i], alive[j])
            edges[_hex(i)] = e
    fin = {}
    finalized_out = None
    if finalized is not None:
        finalized_out = [_hex(i) for i in ids if i in finalized]
    frames = {}
    for i in ids:
        if i not in alive:
            continue
        o = alive[i]
        if _has_del(_obj_type(o)):
            fin[_hex(i)] = "__del__"
        if type(o).__name__ == "frame":
            frames[_hex(i)] = _frame_info(o)
    o = None
    out.update({
        "unreachable_cycles": [[_hex(i) for i in c] for c in comps],
        "unreachable_held": held,
        # objects reached from no cycle: none (each hangs from a cycle or is in one)
        "unreachable_unheld": len(nodes) - len(in_cycle) - len(reached_by),
        "unreachable_sizes": dict((_hex(i), sizes[i]) for i in nodes),
        "unreachable_edges": edges,
        "unreachable_finalizers": fin,
        "unreachable_finalized": finalized_out,
        "unreachable_frames": frames,
        "garbage_before": before,
        "garbage_before_types": before_types,
    })
    alive = None
    return out


def _collected_view(parent, printed, kept):
    """objgraph's answers right after its own gc.collect(), over the parent's objects.

    Called right after the collection (under DEBUG_SAVEALL, which kept every unreachable
    object alive in gc.garbage instead of freeing it).  The objects are what
    gc.get_objects() lists now that are the parent's (`parent`: their ids) less the ones
    a real collection would have freed: everything the collector reported unreachable
    except the uncollectable ones (`kept`: legacy finalizers -- 2.7's __del__ -- and what
    they reach, which a real collection also leaves tracked, in gc.garbage).  The
    collection itself untracked the tuples and dicts it could (_PyTuple_MaybeUntrack,
    _PyDict_MaybeUntrack): they are no longer listed.
      types_collected    typestats of those objects (what objgraph.growth() counts)
      objects_collected  their number
      leaking_collected  {count, types}: objgraph.get_leaking_objects() -- those that no
                         gc.get_referents of any of them reaches.  A dict the child made
                         and a parent object refers to (an instance __dict__ materialized
                         by the child, 3.11+; a frame's f_locals) stands for the references
                         the parent object holds itself: its referents count too."""
    objs = []
    o = None
    for o in gc.get_objects():
        i = id(o)
        if i in parent and (i not in printed or i in kept):
            objs.append(o)
    types = {}
    referenced = set()
    r = r2 = None
    for o in objs:
        s = _obj_type(o).__name__
        types[s] = types.get(s, 0) + 1
        for r in gc.get_referents(o):
            referenced.add(id(r))
            if id(r) not in parent and type(r) is dict:
                for r2 in gc.get_referents(r):
                    referenced.add(id(r2))
    r = r2 = None
    leak_types = {}
    count = 0
    for o in objs:
        if id(o) not in referenced:
            count += 1
            s = _obj_type(o).__name__
            leak_types[s] = leak_types.get(s, 0) + 1
    o = None
    return {"types_collected": types, "objects_collected": len(objs),
            "leaking_collected": {"count": count, "types": leak_types}}


def ready(msg="READY", wait=True):
    """Print `msg` on stdout (flushed), then block until a line arrives on
    stdin and return it (wait=False: return None at once)."""
    if _last[0] is not None and os.environ.get("FIXTURE_SELFCHECK") == "1":
        # Debug only (perturbs the heap): objects seen by the parent right
        # after dump() returned, versus the truth file.
        c0, c1, c2 = gc.get_count()   # unpacked: no tuple stays alive
        n = len(gc.get_objects())
        # the same full collection as the truth child's, here in the parent
        parent, finalized, codes = _unreachable_prepare(gc.get_objects())
        unreachable = _unreachable_collect(None, None, False, parent)
        parent = None
        _selfcheck(n, (c0, c1, c2), unreachable)
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()
    if not wait:
        return None
    return sys.stdin.readline()


def _selfcheck(n, count, unreachable):
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
    # unreachable: the truth's (child) against a collection here (parent), by address
    mine = set(unreachable["unreachable"])
    theirs = set(t.get("unreachable", []))
    sys.stderr.write("UNREACHABLE python=%s scenario=%s file=%s truth=%d parent=%d "
                     "only_truth=%d only_parent=%d freed=%d/%d not_reported=%d/%d%s\n"
                     % (".".join(map(str, sys.version_info[:3])), t.get("scenario"),
                        os.path.basename(path), len(theirs), len(mine),
                        len(theirs - mine), len(mine - theirs),
                        len(t.get("unreachable_freed", [])), len(unreachable["unreachable_freed"]),
                        t.get("unreachable_not_reported", -1), unreachable["unreachable_not_reported"],
                        "" if mine == theirs else " types_truth=%s types_parent=%s"
                        % (json.dumps(t.get("unreachable_types"), sort_keys=True),
                           json.dumps(unreachable["unreachable_types"], sort_keys=True))))
    # objgraph after gc.collect(): the truth's (child) against the same view here (parent)
    if "leaking_collected" in t:
        lt, lp = t["leaking_collected"], unreachable["leaking_collected"]
        tt, tp = t["types_collected"], unreachable["types_collected"]
        leak_diff = max([0] + [abs(lt["types"].get(k, 0) - lp["types"].get(k, 0))
                               for k in set(lt["types"]) | set(lp["types"])])
        type_diff = max([0] + [abs(tt.get(k, 0) - tp.get(k, 0)) for k in set(tt) | set(tp)])
        sys.stderr.write("COLLECTED python=%s scenario=%s file=%s objects_truth=%d objects_parent=%d "
                         "leaking_truth=%d leaking_parent=%d leaking_type_diff=%d type_diff=%d%s\n"
                         % (".".join(map(str, sys.version_info[:3])), t.get("scenario"),
                            os.path.basename(path), t["objects_collected"],
                            unreachable["objects_collected"], lt["count"], lp["count"],
                            leak_diff, type_diff,
                            "" if lt == lp and tt == tp else
                            " leaking_types_truth=%s leaking_types_parent=%s"
                            % (json.dumps(lt["types"], sort_keys=True),
                               json.dumps(lp["types"], sort_keys=True))))
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
