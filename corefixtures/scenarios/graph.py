# Scenario graph: the reference graph (issue 3: refs, backrefs, chain, leaking,
# refcheck, show-*).  One of each kind of object whose references a heap walker
# must follow -- instances with a materialized and with an inline __dict__, the
# builtin containers, a frame, a function with defaults and a closure, a cell, a
# class, a bound method, __slots__, dict and list subclasses, deque,
# OrderedDict, defaultdict, a suspended generator, partial, classmethod /
# staticmethod / property, a weakref with a callback, an exception with a
# traceback and a context, a coroutine and an async generator (3.6+) -- each
# kept in a module global, plus:
#   * chain targets: module global -> dict -> list -> instance, a class
#     attribute, and an object held by a WeakValueDictionary and one list (its
#     chain must go through the list);
#   * a Leaky instance held by one list whose refcount was raised 10 times with
#     Py_IncRef (10 references nobody can account for), Orphan instances whose
#     only reference was leaked the same way (get_leaking_objects finds them),
#     and Plain instances held only by Python containers (nothing unexplained).
# The truth (gc.get_referents / gc.get_referrers / an objgraph-style backref
# chain BFS / get_leaking_objects) is computed in truth.py's forked child by
# _child_truth() below, over the parent's objects only.
# Needs ctypes (Py_IncRef); without it the scenario prints SKIP.
from __future__ import print_function
import gc
gc.disable()  # keep every cycle/garbage object in memory until the core
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402
import collections  # noqa: E402
import functools  # noqa: E402
import types  # noqa: E402
import weakref  # noqa: E402
try:
    import ctypes
except ImportError:  # pragma: no cover - a Python built without _ctypes
    ctypes = None

INCREFS = 10
ORPHANS = 5
HAS_ASYNC = sys.version_info >= (3, 6)


def _hex(i):
    return "0x%x" % i


# ---------------------------------------------------------------- classes --
class GraphNode(object):
    """A plain class whose instance __dict__ is materialized (we mark it)."""
    def __init__(self, name):
        self.name = name
        self.children = []
        self.meta = {"kind": "node", "depth": [0]}

    def method(self):
        return self.name


class InlineNode(object):
    """Its instances' __dict__ is never asked for: inline values on 3.11+."""
    def __init__(self, label, peer):
        self.label = label
        self.payload = [label, 1]
        self.peer = peer


class GraphClass(object):
    kind = "graph"
    shared = ["class", "attribute"]

    @classmethod
    def cm(cls):
        return cls

    @staticmethod
    def sm(x):
        return x

    @property
    def prop(self):
        return self.kind


class Slotted(object):
    __slots__ = ("first", "second", "unset")

    def __init__(self):
        self.first = ["slot", 1]
        self.second = "second"
        # "unset" stays empty


class GraphDict(dict):
    pass


class GraphList(list):
    pass


class ChainTarget(object):
    def __init__(self, tag):
        self.tag = tag


class ClassAttrTarget(object):
    pass


class Holder(object):
    cached = ClassAttrTarget()   # only the class dict refers to it


class WeakCached(object):
    pass


class WeakTarget(object):
    pass


class Leaky(object):
    pass


class Orphan(object):
    def __init__(self, n):
        self.n = n


class Plain(object):
    def __init__(self, n):
        self.n = n


# --------------------------------------------- objects made at module level --
# Helpers whose frames must outlive them are called here, at module level, so
# that their f_back is the module's frame and no builder frame (with its
# locals) is kept alive along with them.

def _make_frame(tag):
    frame_local = [tag, "frame local"]  # noqa: F841 (a local of the kept frame)
    return sys._getframe()


def _make_exc(tag):
    exc_local = [tag, "exc local"]
    try:
        try:
            raise ValueError("inner " + tag)
        except ValueError:
            raise KeyError("outer " + tag)   # __context__ on 3.x
    except KeyError as e:
        e.note_list = exc_local
        return e


def _make_func():
    captured = ["captured", 1]

    def graph_func(a, b=[1, 2], c="x"):
        return captured, a, b, c
    graph_func.tag = {"t": [1]}
    return graph_func


def _gen_func(n):
    gen_local = ["gen local", n]
    for i in range(n):
        yield i, gen_local


def _wr_callback(ref):
    pass


_frame = _make_frame("f")
_exc = _make_exc("e")
_func = _make_func()

_ASYNC_SRC = '''
class _Step(object):
    def __await__(self):
        yield self


async def graph_coro(tag):
    coro_local = [tag, "coro local"]
    await _Step()
    return coro_local


async def graph_agen(tag):
    agen_local = [tag, "agen local"]
    yield 1
    yield agen_local


def _start_async():
    c = graph_coro("c")
    c.send(None)              # suspended in the await
    a = graph_agen("a")
    try:
        a.asend(None).send(None)
    except StopIteration:     # the first value: suspended at the first yield
        pass
    return c, a
'''
if HAS_ASYNC:
    exec(compile(_ASYNC_SRC, "<graph async>", "exec"), globals())
    _coro, _agen = _start_async()


# ------------------------------------------------------------------ build --
def build():
    global _inst, _inst_dict, _inst_inline, _lst, _tup, _st, _dct, _cell, _bmeth
    global _slotted, _dsub, _deque, _odict, _ddict, _gen, _partial, _weak_target
    global _wref, _lsub, _registry, _wcache, _wcached, _leaky_holder, _zero_holder
    global _zero_map, _zero_tuple
    _inst = GraphNode("root")
    _inst.children.append(GraphNode("child"))
    _inst_dict = _inst.__dict__
    _inst_inline = InlineNode("inline", _inst)
    _lst = [_inst, "a string", 12345, [1, 2], (3, "four")]
    _tup = (_lst, "tuple item", 7)
    _st = set(["member", 42, (1, 2), GraphNode("in a set")])
    _dct = {"key": [1], "other": _inst, 7: ["int key"], ("t", 1): "tuple key"}
    _cell = _func.__closure__[0]
    _bmeth = _inst.method
    _slotted = Slotted()
    _dsub = GraphDict(alpha=[1], beta="b")
    _dsub.attr = ["dict subclass attribute"]
    _deque = collections.deque(["d0", [1], GraphNode("in a deque")])
    _odict = collections.OrderedDict([("first", [1]), ("second", "s")])
    _ddict = collections.defaultdict(list)
    _ddict["x"].append(1)
    _ddict["y"].append(GraphNode("in a defaultdict"))
    _gen = _gen_func(5)
    next(_gen)
    next(_gen)                          # suspended mid-iteration
    _partial = functools.partial(_func, 1, c="pc")
    _weak_target = WeakTarget()
    _wref = weakref.ref(_weak_target, _wr_callback)
    _lsub = GraphList(["l0", [1], GraphNode("in a list subclass")])
    _lsub.tag = "list subclass attribute"

    # chains
    _registry = {"alpha": [ChainTarget("registry")]}
    _wcache = weakref.WeakValueDictionary()
    _wcached = [WeakCached()]
    _wcache["key"] = _wcached[0]

    # refcounts
    _leaky_holder = [Leaky()]
    incref = ctypes.pythonapi.Py_IncRef
    for _ in range(INCREFS):
        incref(ctypes.py_object(_leaky_holder[0]))
    orphans = []
    for i in range(ORPHANS):
        o = Orphan(i)
        orphans.append(id(o))
        incref(ctypes.py_object(o))    # a reference that no object holds
        o = None
    _zero_holder = [Plain(1), Plain(2)]
    _zero_map = {"p": Plain(3)}
    _zero_tuple = (Plain(4), "zero")
    return orphans


def _marked():
    """name -> object, for every object whose referents/referrers are recorded."""
    g = globals()
    m = {
        "module": sys.modules[__name__],
        "inst": g["_inst"], "inst_dict": g["_inst_dict"], "inst_inline": g["_inst_inline"],
        "list": g["_lst"], "tuple": g["_tup"], "set": g["_st"], "dict": g["_dct"],
        "frame": g["_frame"], "function": g["_func"], "class": GraphClass,
        "cell": g["_cell"], "bound_method": g["_bmeth"], "slotted": g["_slotted"],
        "dict_subclass": g["_dsub"], "deque": g["_deque"], "ordered_dict": g["_odict"],
        "defaultdict": g["_ddict"], "generator": g["_gen"], "partial": g["_partial"],
        "classmethod": GraphClass.__dict__["cm"], "staticmethod": GraphClass.__dict__["sm"],
        "property": GraphClass.__dict__["prop"], "weakref": g["_wref"],
        "exception": g["_exc"], "list_subclass": g["_lsub"],
        "leaky": g["_leaky_holder"][0],
    }
    if HAS_ASYNC:
        m["coroutine"] = g["_coro"]
        m["async_generator"] = g["_agen"]
    return m


def _chain_targets():
    g = globals()
    return {
        "registry": g["_registry"]["alpha"][0],       # global -> dict -> list -> instance
        "class_attribute": Holder.__dict__["cached"],  # global -> class -> its dict
        "weak_cached": g["_wcached"][0],               # the list, not the weakref
    }


# ---------------------------------------------------- truth, in the child --
def _is_proper_module(o):
    """objgraph.is_proper_module: a module that sys.modules lists under its name."""
    if not isinstance(o, types.ModuleType):
        return False
    return sys.modules.get(getattr(o, "__name__", None)) is o


def _backref_chain(target, parent_ids, max_depth=20):
    """objgraph.find_backref_chain(target, is_proper_module), breadth first over
    gc.get_referrers, over the parent's objects only (which leaves out this
    search's own queue, maps and frames, and everything else the child made).
    Returns [module, ..., target], or [target] when no module is reached."""
    queue = [target]
    head = 0
    depth = {id(target): 0}
    parent = {id(target): None}
    while head < len(queue):
        t = queue[head]
        head += 1
        if _is_proper_module(t):
            chain = [t]
            while parent[id(t)] is not None:
                t = parent[id(t)]
                chain.append(t)
            return chain
        d = depth[id(t)]
        if d >= max_depth:
            continue
        for src in gc.get_referrers(t):
            if id(src) not in parent_ids or id(src) in depth:
                continue
            depth[id(src)] = d + 1
            parent[id(src)] = t
            queue.append(src)
    return [target]


_SLOTS_MISSING = object()


def _is_identifier(k):
    """objgraph's _is_identifier: only such keys label an edge by their text."""
    import re
    return isinstance(k, str) and re.match("[a-zA-Z_][a-zA-Z_0-9]*$", k) is not None


def _labels(src, dst):
    """The labels of the references src -> dst that are deterministic: module,
    class and instance __dict__, dict keys that are identifiers, [index] of a list or
    tuple, attribute names (instance dict or inline values), __slots__ names."""
    out = set()
    if isinstance(src, (list, tuple)):
        for i, v in enumerate(src):
            if v is dst:
                out.add("[%d]" % i)
    if isinstance(src, dict):
        for k, v in src.items():
            if v is dst and _is_identifier(k):
                out.add(k)
    if isinstance(src, types.ModuleType) and dst is src.__dict__:
        out.add("__dict__")
    elif isinstance(src, type):
        # the class's own dict (type.__dict__ is a proxy of it)
        if isinstance(dst, dict) and set(dst) == set(src.__dict__) and \
                all(dst[k] is src.__dict__[k] for k in dst):
            out.add("__dict__")
    if type(src).__module__ == __name__ or isinstance(src, BaseException):
        # this scenario's instances (dict and list subclasses too) and the
        # exception; src.__dict__ is read after the referents were recorded:
        # on 3.11+ it materializes a new dict for inline values, never dst
        d = getattr(src, "__dict__", None)
        if isinstance(d, dict):
            if d is dst:
                out.add("__dict__")
            for k, v in d.items():
                if v is dst and _is_identifier(k):
                    out.add(k)
        for klass in type(src).__mro__:
            for s in klass.__dict__.get("__slots__", ()):
                if s not in ("__dict__", "__weakref__") and \
                        getattr(src, s, _SLOTS_MISSING) is dst:
                    out.add(s)
    return sorted(out)


def _short(o):
    return truth._obj_type(o).__name__


def _child_truth(objs):
    parent_ids = set()
    for o in objs:
        parent_ids.add(id(o))
    o = None

    # 1. gc.get_referents / gc.get_referrers (tracked, the parent's) per marked object
    marked = _marked()
    graph = {}
    keep = []   # the referents, for the labels computed last
    for name in sorted(marked):
        o = marked[name]
        refs = gc.get_referents(o)
        backs = []
        for r in gc.get_referrers(o):
            if id(r) in parent_ids and gc.is_tracked(r):
                backs.append(r)
        entry = {
            "address": _hex(id(o)),
            "type": _short(o),
            "tracked": gc.is_tracked(o),
            "referents": sorted(set(_hex(id(r)) for r in refs)),
            "referent_types": dict((_hex(id(r)), _short(r)) for r in refs),
            "referrers": sorted(set(_hex(id(r)) for r in backs)),
            "referrer_types": dict((_hex(id(r)), _short(r)) for r in backs),
        }
        graph[name] = entry
        keep.append((entry, o, refs))
        backs = refs = r = None
    o = None

    # 2. chains (objgraph.find_backref_chain with is_proper_module)
    chains = {}
    chain_objs = []
    targets = _chain_targets()
    for name in sorted(targets):
        chain = _backref_chain(targets[name], parent_ids)
        chains[name] = [{"address": _hex(id(c)), "type": _short(c)} for c in chain]
        chain_objs.append((chains[name], chain))
    chain = None

    # 3. objgraph.get_leaking_objects (no gc.collect(): gc stays disabled, and a
    # core cannot be collected either), and types --all: the tracked objects
    # plus every object reached from them by gc.get_referents, transitively
    referenced = set()
    all_seen = set(parent_ids)
    all_types = {}
    frontier = []
    for o in objs:
        s = _short(o)
        all_types[s] = all_types.get(s, 0) + 1
        for r in gc.get_referents(o):
            referenced.add(id(r))
            if id(r) not in all_seen:
                all_seen.add(id(r))
                frontier.append(r)
    while frontier:
        x = frontier.pop()
        s = _short(x)
        all_types[s] = all_types.get(s, 0) + 1
        for r in gc.get_referents(x):
            if id(r) not in all_seen:
                all_seen.add(id(r))
                frontier.append(r)
    x = r = None
    leak_types = {}
    orphans = []
    count = 0
    for o in objs:
        if id(o) not in referenced:
            count += 1
            s = _short(o)
            leak_types[s] = leak_types.get(s, 0) + 1
            if s == "Orphan":
                orphans.append(_hex(id(o)))
    o = None

    # 4. labels last: they may materialize instance dicts (3.11+)
    for entry, o, refs in keep:
        edges = {}
        for r in refs:
            lab = _labels(o, r)
            if lab:
                edges[_hex(id(r))] = lab
        entry["edges"] = edges
    for rows, chain in chain_objs:
        rows[0]["edge"] = None
        for i in range(1, len(chain)):
            lab = _labels(chain[i - 1], chain[i])
            rows[i]["edge"] = lab[0] if len(lab) == 1 else None
    keep = chain_objs = None

    return {
        "graph": graph,
        "chains": chains,
        "leaking": {"count": count, "types": leak_types, "orphans": sorted(orphans)},
        "all_types": all_types,
    }


def _refcnt_at(addr):
    """ob_refcnt of the object at addr, read without taking a reference."""
    return ctypes.c_ssize_t.from_address(addr).value


def main():
    out, live = truth.parse_args()
    if ctypes is None:
        print("SKIP graph needs ctypes (Py_IncRef)")
        sys.stdout.flush()
        truth.finish(0)
    orphans = build()
    g = globals()
    # (no comprehension over the objects: on 2.7 its variable would stay in
    # this frame and hold the last one)
    zero = [_hex(id(_zero_holder[0])), _hex(id(_zero_holder[1])), _hex(id(_zero_map["p"])),
            _hex(id(_zero_tuple[0])), _hex(id(_zero_holder))]
    zero_refcnt = {}
    for a in zero:
        zero_refcnt[a] = _refcnt_at(int(a, 16))
    extra = {
        "scenario": "graph",
        "expected": {"Leaky": 1, "Orphan": ORPHANS, "Plain": 4, "ChainTarget": 1},
        "id_types": ["Leaky", "Orphan", "Plain", "ChainTarget", "GraphNode"],
        "refcount_names": ["_inst", "_lst", "_dct", "_slotted", "_leaky_holder", "_zero_holder"],
        "main_module": _hex(id(sys.modules[__name__])),
        "chain_targets": dict((k, _hex(id(v))) for k, v in _chain_targets().items()),
        "weak_via": _hex(id(g["_wcached"])),
        "weak_cache": _hex(id(g["_wcache"])),
        "refcheck": {"address": _hex(id(_leaky_holder[0])), "type": "Leaky",
                     "refcnt": sys.getrefcount(_leaky_holder[0]) - 1,
                     "referrers": 1, "unexplained": INCREFS},
        "refcheck_orphans": [{"address": _hex(a), "refcnt": _refcnt_at(a), "unexplained": 1}
                             for a in orphans],
        "refcheck_zero": zero,
        "refcheck_zero_refcnt": zero_refcnt,
        "child_truth": _child_truth,
    }
    g = orphans = zero = zero_refcnt = None
    if os.environ.get("GRAPH_NOISE") == "1" and not live:
        # debug only (perturbs the heap): the same leaking / types --all
        # computation in the parent right after dump(), against the truth
        truth.dump(out + ".truth.json", extra)
        _noise(out + ".truth.json")
        truth.ready()
        truth.finish()
    truth.publish(out + ".truth.json", extra, live)


def _noise(path):
    mine = _child_truth(gc.get_objects())   # before importing json
    import json
    f = open(path)
    t = json.load(f)
    f.close()
    out = []
    for key, a, b in (("leaking", mine["leaking"]["types"], t["leaking"]["types"]),
                      ("all_types", mine["all_types"], t["all_types"])):
        worst = (0, None)
        total = 0
        for name in set(a) | set(b):
            d = a.get(name, 0) - b.get(name, 0)
            total += d
            if abs(d) > abs(worst[0]):
                worst = (d, name)
        out.append("%s_total=%+d %s_worst=%+d(%s)" % (key, total, key, worst[0], worst[1]))
    sys.stderr.write("NOISE python=%s leaking=%d/%d %s\n" % (
        ".".join(map(str, sys.version_info[:3])), mine["leaking"]["count"],
        t["leaking"]["count"], " ".join(out)))


if __name__ == "__main__":
    main()
