# Scenario cext: objects of C-extension and stdlib C types, as a real service keeps them.
# A service process holds an asyncio event loop (not running) with Tasks pending on Futures,
# JSON scanners and encoders, csv readers and writers, sqlite3 connections with cursors
# half-way through a result, decimal contexts, ctypes structures, arrays, pointers and
# callbacks, picklers and unpicklers with a memo, arrays, structs, io stacks, partials and
# lru caches, itertools iterators half-consumed, deques and defaultdicts, ElementTree
# elements and a half-fed parser, hash objects, epoll/poll/sockets, random generators,
# locks and thread-locals, regex patterns/matches/scanners, zlib/bz2/lzma (de)compressors,
# SimpleQueues, context variables; and, where the interpreter can import them (Debian's
# python3.11 with python3-lxml/-msgpack/-yaml/-multidict/-greenlet/-numpy), lxml trees and
# XPath, msgpack Packers and a half-fed Unpacker, libyaml parsers, multidicts, suspended
# greenlets and numpy arrays (object arrays too), dtypes and ufuncs.  Python classes that
# subclass C types (a Future, a Task, a ctypes Structure, an lxml ElementBase, a deque, a
# partial, array.array, ...) add subtype_traverse on top of the C base's tp_traverse.
# Everything is kept 3-20 times in module globals; each C module used stays in sys.modules
# (its module object, with its module state and m_traverse).
#
# The truth (child_truth): gc.get_referents of EVERY tracked object of the process, in order
# with duplicates ("referents_all"), so libinspect's whole reference graph can be compared
# exactly -- every C type's tp_traverse included.  Objects whose referents may differ between
# the truth and the core are listed in "referents_volatile": the frames on the main
# thread's stack, truth._last (set by dump() in the parent after the fork), and every object
# whose referents changed between a snapshot the parent takes right before dump() and the
# truth child (at-fork handlers in the child: threading._after_fork, logging, asyncio, ...),
# or that did not exist at the snapshot (the child's own objects).  The snapshot is an
# array('l') of (id, hash of the referent ids) pairs: not GC-tracked, it adds no object.
# Python 2.7 and 3.6-3.13; every module is optional (ImportError) except the core ones.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402
import array  # noqa: E402
import collections  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import re  # noqa: E402
import struct  # noqa: E402

# numpy's OpenBLAS would start worker threads at import: keep the process single-threaded
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

PY3 = sys.version_info[0] >= 3
N = 4           # instances of most kinds
_SNAP = array.array("l")   # (id, referents digest) pairs, filled by _snapshot()

# C modules, imported when they exist: name -> module (None when missing)
_C_MODULES = [
    "_asyncio", "_json", "_csv", "_sqlite3", "_decimal", "_ctypes", "_pickle", "cPickle",
    "cStringIO", "array", "_struct", "_io", "_functools", "itertools", "_collections",
    "_elementtree", "_hashlib", "_md5", "_sha", "_sha1", "_sha256", "_sha512", "_sha2",
    "_blake2", "_sha3", "select", "_socket", "_random", "_thread", "thread", "_sre", "zlib",
    "_queue", "_contextvars", "_bz2", "_lzma", "_operator", "_heapq", "_bisect", "mmap",
    "_multibytecodec", "_codecs_cn", "unicodedata", "_lsprof", "pyexpat", "binascii",
    "_datetime", "datetime", "math", "cmath", "_ssl", "_locale", "_stat", "_abc", "_opcode",
    "_statistics", "_uuid", "_zoneinfo", "_posixsubprocess", "fcntl", "grp", "termios",
    "resource", "faulthandler", "_tracemalloc", "_string", "_weakref", "_typing", "_tokenize",
    # third-party C extensions (Debian's python3-* packages)
    "lxml.etree", "msgpack._cmsgpack", "yaml._yaml", "multidict._multidict",
    "greenlet._greenlet", "numpy.core._multiarray_umath", "numpy._core._multiarray_umath",
]
_present = []
_missing = []


def _import(name):
    try:
        __import__(name)
    except ImportError:
        _missing.append(name)
        return None
    _present.append(name)
    return sys.modules[name]


for _name in _C_MODULES:
    _import(_name)
_name = None


# ------------------------------------------------------------- optional modules --
try:
    import asyncio
except ImportError:
    asyncio = None
if sys.version_info < (3, 6):
    asyncio = None
try:
    import ctypes
except ImportError:
    ctypes = None
try:
    import sqlite3
except ImportError:
    sqlite3 = None
try:
    import decimal
except ImportError:
    decimal = None
try:
    import threading
except ImportError:
    threading = None
try:
    import socket
    import select
except ImportError:
    socket = select = None
if PY3:
    import pickle
else:
    try:
        import cPickle as pickle
    except ImportError:
        import pickle
import json  # noqa: E402
import json.scanner  # noqa: E402
import json.encoder  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import random  # noqa: E402
import zlib  # noqa: E402
import operator  # noqa: E402
import codecs  # noqa: E402
if PY3:
    import xml.etree.ElementTree as ET
else:
    try:
        import xml.etree.cElementTree as ET
    except ImportError:
        import xml.etree.ElementTree as ET
try:
    import bz2
except ImportError:
    bz2 = None
try:
    import lzma
except ImportError:
    lzma = None
try:
    import queue as _queue_mod
except ImportError:
    _queue_mod = None
try:
    import contextvars
except ImportError:
    contextvars = None
try:
    import xml.parsers.expat as expat
except ImportError:
    expat = None
try:
    import _lsprof
except ImportError:
    _lsprof = None
try:
    import mmap
except ImportError:
    mmap = None
try:
    import ssl
except ImportError:
    ssl = None

# third party: only where importable (Debian's python3.11 with its dist-packages)
try:
    from lxml import etree as lxml_etree
except ImportError:
    lxml_etree = None
try:
    import msgpack
except ImportError:
    msgpack = None
try:
    import yaml
    import yaml.cyaml
    if not getattr(yaml, "__with_libyaml__", False):
        yaml = None
except ImportError:
    yaml = None
try:
    import multidict
except ImportError:
    multidict = None
try:
    import greenlet
except ImportError:
    greenlet = None
try:
    import numpy
except ImportError:
    numpy = None


# ------------------------------------------------ Python subclasses of C types --
class CextService(object):
    """The service object: holds a few of everything (and is held by a global)."""
    def __init__(self, name):
        self.name = name
        self.handles = {}


class MyDeque(collections.deque):
    pass


class MyOrderedDict(collections.OrderedDict):
    pass


class MyDefaultDict(collections.defaultdict):
    pass


class MyPartial(functools.partial):
    pass


class MyArray(array.array):
    pass


class MyStruct(struct.Struct):
    pass


class MyBytesIO(io.BytesIO):
    pass


class MyRandom(random.Random):
    pass


if threading is not None:
    class MyLocal(threading.local):
        pass

if asyncio is not None:
    class MyFuture(asyncio.Future):
        pass

    class MyTask(asyncio.Task):
        pass

if ctypes is not None:
    class Point(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("name", ctypes.c_char_p)]

    class Node(ctypes.Structure):
        pass
    Node._fields_ = [("value", ctypes.c_long), ("next", ctypes.POINTER(Node)),
                     ("where", Point)]

    class Number(ctypes.Union):
        _fields_ = [("i", ctypes.c_long), ("d", ctypes.c_double)]

if decimal is not None:
    class MyDecimal(decimal.Decimal):
        pass

if sqlite3 is not None:
    class MyCursor(sqlite3.Cursor):
        pass

if PY3 or hasattr(pickle, "Pickler") and isinstance(pickle.Pickler, type):
    class MyPickler(pickle.Pickler):
        def persistent_id(self, obj):
            return None
else:
    MyPickler = None

if lxml_etree is not None:
    class MyElement(lxml_etree.ElementBase):
        pass

if greenlet is not None:
    class MyGreenlet(greenlet.greenlet):
        pass

if numpy is not None:
    class MyNdarray(numpy.ndarray):
        pass


# --------------------------------------------------------------------- helpers --
def _cb(*args):
    return len(args)


def _hook(d):
    return d


def _key(x):
    return -x


# ------------------------------------------------------------------- builders --
# Each builder returns a list of the objects it keeps; build() stores each list in a
# module global _k_<name>.

_ASYNC_SRC = '''
async def _serve(fut, tag):
    pending = [tag, "waiting"]
    value = await fut
    return pending, value


async def _tick():
    await asyncio.sleep(0)
'''
if asyncio is not None:
    exec(compile(_ASYNC_SRC, "<cext async>", "exec"), globals())


def b_asyncio():
    loop = asyncio.SelectorEventLoop()   # not the policy's: no policy object is made
    futs = [loop.create_future() for i in range(N)]
    mine = [MyFuture(loop=loop) for i in range(N)]
    for f in mine:
        f.tag = ["my future"]
    tasks = [loop.create_task(_serve(f, i)) for i, f in enumerate(futs + mine)]
    sub = [MyTask(_serve(loop.create_future(), "mytask %d" % i), loop=loop) for i in range(N)]
    for t in sub:
        t.tag = {"my": "task"}
    done = loop.create_future()
    done.set_result(["a result"])
    failed = loop.create_future()
    failed.set_exception(ValueError("failed future"))
    loop.run_until_complete(_tick())     # the tasks start and block on their futures
    handles = [loop.call_later(3600 + i, _cb, i, ["later"]) for i in range(N)]
    handles.append(loop.call_soon(_cb, "soon"))
    it = futs[0].__await__()             # a FutureIter
    return [loop, futs, mine, tasks, sub, done, failed, handles, it]


_labelled = []
_SCANNER_MEMBERS = ("object_hook", "object_pairs_hook", "parse_float", "parse_int", "parse_constant")


def _member_labels():
    """The first C json scanner (members in its type's tp_members) and what each member
    holds: refs must label those edges by the member names."""
    if not _labelled or not hasattr(_labelled[0], "parse_float"):
        return None
    sc = _labelled[0]
    members = {}
    for name in _SCANNER_MEMBERS:
        members[name] = _hex(id(getattr(sc, name)))
    return {"address": _hex(id(sc)), "type": type(sc).__name__, "members": members}


def b_json():
    decs = [json.JSONDecoder(object_hook=_hook) for i in range(N)]
    scanners = [d.scan_once for d in decs]
    _labelled.append(scanners[0])   # its members name its edges (member_labels)
    encs = []
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        for i in range(N):
            markers = {} if i % 2 else None
            encs.append(make(markers, _hook, json.encoder.encode_basestring_ascii, None,
                             ":", ",", bool(i % 2), False, True))
    return [decs, scanners, encs, json.JSONEncoder(default=_hook)]


def b_csv():
    text = "a,b,c\r\n1,2,3\r\n4,5,6\r\n"
    out = []
    for i in range(N):
        r = csv.reader(text.splitlines(True))
        next(r)
        out.append(r)
        if PY3:
            r = csv.reader(io.StringIO(text), delimiter=",")
            next(r)
            out.append(r)
            buf = io.StringIO()
        else:
            buf = io.BytesIO()
        w = csv.writer(buf, quoting=csv.QUOTE_ALL)
        w.writerow(["x", i, "y"])
        out.append(w)
        out.append(csv.DictWriter(buf, ["k", "v"]))
        out.append(csv.DictReader(text.splitlines(True)))
    return out


def b_sqlite():
    out = []
    for i in range(3):
        con = sqlite3.connect(":memory:")
        con.create_function("twice", 1, _cb)
        con.execute("create table t (id integer primary key, name text, b blob)")
        con.executemany("insert into t (name, b) values (?, ?)",
                        [("row %d" % j, b"\0" * 8) for j in range(20)])
        con.commit()
        cur = con.execute("select id, name, twice(name) from t order by id")
        cur.fetchone()                  # half-way through the result
        con.row_factory = sqlite3.Row
        cur2 = con.cursor(MyCursor)
        cur2.tag = ["my cursor"]
        cur2.execute("select * from t where id < ?", (10,))
        rows = cur2.fetchmany(3)
        out.extend([con, cur, cur2, rows])
        if sys.version_info >= (3, 11):
            out.append(con.blobopen("t", "b", 1))
    return out


def b_decimal():
    ctxs = [decimal.Context(prec=10 + i, traps=[decimal.Overflow]) for i in range(N)]
    decs = [decimal.Decimal("%d.%d" % (i, i)) for i in range(N)]
    mine = [MyDecimal("1.5") for i in range(N)]
    for d in mine:
        d.tag = ["my decimal"]
    managers = [decimal.localcontext(c) for c in ctxs]
    return [ctxs, decs, mine, managers, [c.flags for c in ctxs]]


def b_ctypes():
    names = [b"alpha", b"beta", b"gamma", b"delta"]
    points = [Point(i, -i, names[i % 4]) for i in range(N)]
    nodes = [Node(i) for i in range(N)]
    for i in range(1, N):
        nodes[i].next = ctypes.pointer(nodes[i - 1])
        nodes[i].where = points[i]
    ints = [(ctypes.c_int * 8)(*range(8)) for i in range(N)]
    parr = (Point * 3)()
    parr[1] = points[0]
    CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    callbacks = [CB(_cb) for i in range(N)]
    pointers = [ctypes.pointer(p) for p in points]
    bufs = [ctypes.create_string_buffer(b"buffer", 16) for i in range(N)]
    pyobjs = [ctypes.py_object(["held by py_object", i]) for i in range(N)]
    unions = [Number(i) for i in range(N)]
    casts = [ctypes.cast(b, ctypes.c_void_p) for b in bufs]
    return [points, nodes, ints, parr, callbacks, pointers, bufs, pyobjs, unions, casts, CB]


def b_pickle():
    out = []
    data = pickle.dumps(["first", {"k": [1, 2]}], 2) + pickle.dumps(("second", 2), 2)
    for i in range(N):
        f = io.BytesIO()
        p = pickle.Pickler(f, 2)
        p.dump([{"memo": i}, ["list"], ("t", i)])     # the memo keeps them
        out.append(p)
        u = pickle.Unpickler(io.BytesIO(data))
        out.append(u.load())                            # the memo; one object left
        out.append(u)
        if MyPickler is not None:
            mp = MyPickler(io.BytesIO(), 2)
            mp.tag = ["my pickler"]
            mp.dump(["via my pickler", i])
            out.append(mp)
        if PY3:
            out.append(p.memo)          # PicklerMemoProxy
            out.append(u.memo)          # UnpicklerMemoProxy
    return out


def b_array():
    arrs = [array.array("i", range(i, i + 10)) for i in range(N)]
    mine = [MyArray("d", [1.0, 2.0]) for i in range(N)]
    for a in mine:
        a.tag = ["my array"]
    its = [iter(a) for a in arrs]
    next(its[0])
    return [arrs, mine, its]


def b_struct():
    ss = [struct.Struct("<iHd%ds" % (i + 1)) for i in range(N)]
    mine = [MyStruct("<q") for i in range(N)]
    for s in mine:
        s.tag = ["my struct"]
    out = [ss, mine]
    if hasattr(ss[0], "iter_unpack"):
        it = ss[0].iter_unpack(b"\0" * (ss[0].size * 3))
        next(it)
        out.append(it)
    return out


def b_io():
    out = []
    for i in range(N):
        b = io.BytesIO(b"line one\nline two\nline three\n")
        br = io.BufferedReader(io.BytesIO(b"buffered\nreader\n"))
        br.readline()
        tw = io.TextIOWrapper(io.BytesIO(b"text one\ntext two\n"), encoding="utf-8")
        tw.readline()                    # decoded_chars and the tell() snapshot
        sio = io.StringIO(u"string io\n")
        mine = MyBytesIO(b"my bytes io")
        mine.tag = ["my bytes io"]
        fio = io.FileIO("/dev/null", "w")
        bw = io.BufferedWriter(io.FileIO("/dev/null", "w"))
        bw.write(b"pending")
        rw = io.BufferedRWPair(io.BytesIO(b"r"), io.BytesIO())
        dec = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8")(), True)
        dec.decode(b"a\r")
        out.extend([b, br, tw, sio, mine, fio, bw, rw, dec])
    return out


def b_functools():
    parts = [functools.partial(_cb, i, k=[i]) for i in range(N)]
    mine = [MyPartial(_cb, "my") for i in range(N)]
    for p in mine:
        p.tag = ["my partial"]
    caches = []
    for i in range(N):
        f = functools.lru_cache(maxsize=8)(_cb) if hasattr(functools, "lru_cache") else None
        if f is not None:
            for j in range(5):
                f(j, ("k", i))
            caches.append(f)
    keys = [functools.cmp_to_key(lambda a, b: a - b)(i) for i in range(N)]
    return [parts, mine, caches, keys]


def b_itertools():
    it = itertools
    src = [[1, "a"], [2, "b"], [3, "c"], [4, "d"]]
    out = []
    for i in range(N):
        c = it.cycle(src)
        next(c)
        ch = it.chain(src, [["chained"]])
        next(ch)
        g = it.groupby(src, key=len)
        k, grp = next(g)
        t1, t2 = it.tee(iter(src))
        next(t1)
        prod = it.product(src, repeat=2)
        next(prod)
        perm = it.permutations(src, 2)
        next(perm)
        comb = it.combinations(src, 2)
        next(comb)
        sm = it.starmap(_cb, src)
        rep = it.repeat(["repeated"], 3)
        isl = it.islice(src, 1, None)
        comp = it.compress(src, [1, 0, 1, 0])
        dw = it.dropwhile(_cb, src)
        cnt = it.count(i)
        out.extend([c, ch, g, grp, t1, t2, prod, perm, comb, sm, rep, isl, comp, dw, cnt])
        if PY3:
            out.append(it.accumulate(src))
            out.append(it.zip_longest(src, [1], fillvalue=["fill"]))
            out.append(it.filterfalse(None, src))
        if hasattr(it, "pairwise"):
            pw = it.pairwise(src)
            next(pw)
            out.append(pw)
        if hasattr(it, "batched"):
            out.append(it.batched(src, 2))
    return out


def b_collections():
    out = []
    Pair = collections.namedtuple("Pair", "left right")
    for i in range(N):
        d = collections.deque([[i], "x", Pair(1, [2])], maxlen=10)
        md = MyDeque([["my deque"]])
        md.tag = i
        dd = collections.defaultdict(list)
        dd["k"].append(i)
        mdd = MyDefaultDict(dict)
        mdd["m"]["n"] = [i]
        od = collections.OrderedDict([("a", [i]), ("b", "x")])
        mod = MyOrderedDict(z=[i])
        mod.tag = ["my ordered dict"]
        cnt = collections.Counter("abracadabra")
        di = iter(d)
        next(di)
        oi = iter(od.items())
        out.extend([d, md, dd, mdd, od, mod, cnt, di, oi, reversed(d), od.keys(), Pair("l", [i])])
    return out


def b_etree():
    out = []
    for i in range(N):
        root = ET.Element("root", {"id": str(i)})
        for j in range(3):
            c = ET.SubElement(root, "child", name="c%d" % j)
            c.text = "text %d" % j
            c.tail = "\n"
        tree = ET.ElementTree(root)
        parser = ET.XMLParser()
        parser.feed("<doc><a x='1'>half")          # half fed: the builder's stack
        tb = ET.TreeBuilder()
        tb.start("tb", {})
        tb.data("data")
        it = root.iter()
        next(it)
        out.extend([root, tree, parser, tb, it, list(root)])
        if hasattr(ET, "XMLPullParser"):
            pp = ET.XMLPullParser(["start", "end"])
            pp.feed("<pull><item>")
            out.append(pp)
    return out


def b_hash():
    out = []
    names = ["md5", "sha1", "sha256", "sha512"]
    if sys.version_info >= (3, 6):
        names += ["blake2b", "sha3_256"]
    for n in names:
        for i in range(2):
            h = getattr(hashlib, n)()
            h.update(("data %d" % i).encode())
            out.append(h)
    for i in range(N):
        out.append(hmac.new(b"key", b"msg", hashlib.sha256))
    return out


def b_select_socket():
    out = []
    if hasattr(select, "epoll"):
        for i in range(2):
            out.append(select.epoll())
    if hasattr(select, "poll"):
        p = select.poll()
        out.append(p)
    for i in range(2):
        a, b = socket.socketpair()
        out.extend([a, b])
        if hasattr(select, "poll"):
            p.register(a.fileno(), select.POLLIN)
        if out and hasattr(select, "epoll"):
            out[0].register(b.fileno(), select.EPOLLIN)
    import _socket
    out.append(_socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    return out


def b_random():
    import _random
    rs = [random.Random(i) for i in range(N)]
    mine = [MyRandom(i) for i in range(N)]
    for r in mine:
        r.tag = ["my random"]
    raw = [_random.Random(i) for i in range(N)]
    return [rs, mine, raw]


def b_thread():
    out = []
    for i in range(N):
        out.append(threading.Lock())
        out.append(threading.RLock())
        out.append(threading.Condition())
        out.append(threading.Event())
        loc = threading.local()
        loc.value = ["thread local", i]
        out.append(loc)
        ml = MyLocal()
        ml.value = {"my local": i}
        out.append(ml)
    return out


def b_re():
    out = []
    for i in range(N):
        p = re.compile(r"(?P<word>[a-z]+)(\d{%d})" % (i + 1))
        m = p.search("abc" + "1" * (i + 1) + " tail")
        s = p.scanner("abc123 def4567")
        s.search()
        fi = p.finditer("xy12 zz345")
        out.extend([p, m, s, fi])
    return out


def b_compress():
    out = []
    payload = b"compress me " * 50
    for i in range(N):
        c = zlib.compressobj(6)
        c.compress(payload)
        d = zlib.decompressobj()
        z = zlib.compress(payload)
        d.decompress(z[:len(z) // 2])
        d2 = zlib.decompressobj()
        d2.decompress(z + b"unused tail")          # unused_data
        out.extend([c, d, d2])
        if bz2 is not None:
            bc = bz2.BZ2Compressor(1)             # level 9 would hold 7.6 MB each
            bc.compress(payload)
            bd = bz2.BZ2Decompressor()
            bd.decompress(bz2.compress(payload)[:20])
            out.extend([bc, bd])
        if lzma is not None:
            # small dictionaries: the default preset allocates ~90 MB per compressor
            lc = lzma.LZMACompressor(filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 16}])
            lc.compress(payload)
            ld = lzma.LZMADecompressor()
            ld.decompress(lzma.compress(payload, preset=0)[:40])
            out.extend([lc, ld])
    return out


def b_queue():
    out = []
    if hasattr(_queue_mod, "SimpleQueue"):
        for i in range(N):
            q = _queue_mod.SimpleQueue()
            q.put(["queued", i])
            q.put({"item": i})
            out.append(q)
    for i in range(2):
        q = _queue_mod.Queue()
        q.put(["queue item", i])
        out.append(q)
    return out


def b_contextvars():
    out = []
    for i in range(N):
        var = contextvars.ContextVar("var%d" % i, default=["default", i])
        ctx = contextvars.copy_context()
        tok = ctx.run(var.set, ["value", i])
        out.extend([var, ctx, tok])
    return out


def b_misc():
    out = []
    for i in range(N):
        out.append(operator.itemgetter(i, "k"))
        out.append(operator.attrgetter("a.b", "c"))
        out.append(operator.methodcaller("get", ["default"], d=i))
    enc = codecs.getincrementalencoder("gb18030")()
    enc.encode(u"\u4e2d")
    out.append(enc)
    out.append(codecs.getincrementaldecoder("euc_jp")())
    if expat is not None:
        for i in range(2):
            p = expat.ParserCreate()
            p.StartElementHandler = _cb
            p.CharacterDataHandler = _cb
            p.Parse("<a><b>", False)
            out.append(p)
    if _lsprof is not None:
        out.append(_lsprof.Profiler(_key))
    if mmap is not None:
        m = mmap.mmap(-1, 4096)
        m.write(b"mapped")
        out.append(m)
    if PY3:
        out.append(memoryview(b"memory view"))
        out.append(memoryview(bytearray(b"view of a bytearray")))
    if ssl is not None and hasattr(ssl, "SSLContext"):
        proto = getattr(ssl, "PROTOCOL_TLS_CLIENT", None) or getattr(ssl, "PROTOCOL_SSLv23")
        ctx = ssl.SSLContext(proto)
        out.append(ctx)
        if hasattr(ssl, "MemoryBIO"):
            out.extend([ssl.MemoryBIO(), ssl.MemoryBIO()])
    import datetime
    out.append(datetime.datetime(2024, 1, 2, 3, 4, 5))
    if PY3:
        out.append(datetime.timezone(datetime.timedelta(hours=2), "X"))
    return out


def b_lxml():
    E = lxml_etree
    out = []
    parser = E.XMLParser(remove_blank_text=True)
    parser.set_element_class_lookup(E.ElementDefaultClassLookup(element=MyElement))
    for i in range(N):
        root = E.fromstring("<root id='%d'><a x='1'>t</a><a x='2'/><b>tail</b></root>" % i, parser)
        kids = list(root)
        tree = root.getroottree()
        plain = E.Element("item", id=str(i))
        sub = E.SubElement(plain, "sub")
        sub.text = "sub text"
        xp = E.XPath("//a[@x=$v]")
        found = xp(root, v="1")
        ev = E.XPathEvaluator(plain)
        out.extend([root, kids, tree, plain, sub, xp, found, ev])
    out.append(parser)
    return out


def b_msgpack():
    out = []
    data = msgpack.packb([{"k": [1, 2, 3]}, "two", 3]) + msgpack.packb({"second": [4]})
    for i in range(N):
        out.append(msgpack.Packer(default=_hook))
        u = msgpack.Unpacker(object_hook=_hook, raw=False)
        u.feed(data[:len(data) - 3])
        out.append(next(u))            # the first object; the second is half-fed
        out.append(u)
    return out


def b_yaml():
    out = []
    doc = "a: [1, 2, {b: c}]\nd: text\n"
    for i in range(N):
        ld = yaml.CSafeLoader(doc)
        ld.get_event()
        ld.get_event()                  # mid-stream
        out.append(ld)
        p = yaml.cyaml.CParser(doc)
        p.peek_event()
        out.append(p)
    return out


def b_multidict():
    out = []
    for i in range(N):
        md = multidict.MultiDict([("a", 1), ("b", [2]), ("a", ["three", i])])
        ci = multidict.CIMultiDict([("Content-Type", "text/plain"), ("X-Id", str(i))])
        ci.add("x-id", ["again"])
        px = multidict.MultiDictProxy(md)
        it = iter(md.items())
        next(it)
        out.extend([md, ci, px, md.keys(), it, multidict.istr("Header-%d" % i)])
    return out


def _gl_body(tag):
    suspended = [tag, "in a greenlet"]
    greenlet.getcurrent().parent.switch(tag)
    return suspended


def b_greenlet():
    out = []
    for i in range(N):
        g = greenlet.greenlet(_gl_body)
        g.switch(i)
        out.append(g)
        mg = MyGreenlet(_gl_body)
        mg.tag = ["my greenlet"]
        mg.switch("my %d" % i)
        out.append(mg)
    out.append(greenlet.getcurrent())
    return out


def b_numpy():
    np = numpy
    out = []
    dt = np.dtype([("a", "i4"), ("b", "O"), ("c", "f8", (2,))])
    uf = np.frompyfunc(_cb, 1, 1)
    for i in range(N):
        a = np.arange(10 + i)
        o = np.empty(3, dtype=object)
        o[0] = ["in an object array", i]
        o[1] = {"k": i}
        o[2] = o[0]
        s = np.zeros(2, dtype=dt)
        s[0]["b"] = ["in a structured array"]
        v = a.view(MyNdarray)
        v.tag = ["my ndarray"]
        fl = a.flat
        out.extend([a, o, s, v, fl, a[2:5]])
    out.extend([dt, uf, np.add, np.dtype("f8"), np.random.RandomState(0)])
    if hasattr(np.random, "default_rng"):
        out.append(np.random.default_rng(0))
    return out


BUILDERS = [
    ("asyncio", lambda: asyncio is not None, b_asyncio),
    ("json", lambda: True, b_json),
    ("csv", lambda: True, b_csv),
    ("sqlite3", lambda: sqlite3 is not None, b_sqlite),
    ("decimal", lambda: decimal is not None, b_decimal),
    ("ctypes", lambda: ctypes is not None, b_ctypes),
    ("pickle", lambda: True, b_pickle),
    ("array", lambda: True, b_array),
    ("struct", lambda: True, b_struct),
    ("io", lambda: True, b_io),
    ("functools", lambda: True, b_functools),
    ("itertools", lambda: True, b_itertools),
    ("collections", lambda: True, b_collections),
    ("etree", lambda: True, b_etree),
    ("hash", lambda: True, b_hash),
    ("select_socket", lambda: socket is not None, b_select_socket),
    ("random", lambda: True, b_random),
    ("thread", lambda: threading is not None, b_thread),
    ("re", lambda: True, b_re),
    ("compress", lambda: True, b_compress),
    ("queue", lambda: _queue_mod is not None, b_queue),
    ("contextvars", lambda: contextvars is not None, b_contextvars),
    ("misc", lambda: True, b_misc),
    ("lxml", lambda: lxml_etree is not None, b_lxml),
    ("msgpack", lambda: msgpack is not None, b_msgpack),
    ("yaml", lambda: yaml is not None, b_yaml),
    ("multidict", lambda: multidict is not None, b_multidict),
    ("greenlet", lambda: greenlet is not None, b_greenlet),
    ("numpy", lambda: numpy is not None, b_numpy),
]


def build():
    """Runs every builder that applies; each one's objects go to the global _k_NAME and to
    the service's handles. Returns the names of the builders that ran."""
    global _service
    g = globals()
    _service = CextService("cext")
    ran = []
    for name, applies, fn in BUILDERS:
        if not applies():
            continue
        objs = fn()
        g["_k_" + name] = objs
        _service.handles[name] = objs
        ran.append(name)
    return ran


# ---------------------------------------------------------------- the snapshot --
def _digest(o):
    """hash of the ids of gc.get_referents(o), in order: equal iff the referents are
    (but for a hash collision)."""
    return hash(tuple([id(r) for r in gc.get_referents(o)]))


def _snapshot():
    """(id, digest) of every tracked object, into _SNAP (an array: not GC-tracked). The
    temporaries are freed before returning; only _SNAP's buffer grows."""
    del _SNAP[:]
    flat = []
    for o in gc.get_objects():
        flat.append(id(o))
        flat.append(_digest(o))
    o = None
    _SNAP.fromlist(flat)
    flat = None


# ------------------------------------------------------------- truth, in the child --
def _hex(i):
    return "0x%x" % i


_HEAPTYPE = 1 << 9
_TP_DEALLOC = 48    # offsetof(PyTypeObject, tp_dealloc) on x86-64, 2.7 to 3.13


def _tp_dealloc(t):
    return ctypes.c_void_p.from_address(id(t) + _TP_DEALLOC).value


def _is_c_type(t, subtype_dealloc):
    """A type implemented in C (static, or made by PyType_FromSpec in an extension module),
    not a class made by a class statement (or type()). Those all have tp_dealloc =
    subtype_dealloc (CextService's), which a spec type inherits from a heap base too
    (3.13's _ctypes.PyCStructType): then a module that is not Python source says C."""
    if not (getattr(t, "__flags__", 0) & _HEAPTYPE):
        return True
    if subtype_dealloc is not None and _tp_dealloc(t) != subtype_dealloc:
        return True
    mod = getattr(t, "__module__", None)
    if not isinstance(mod, str) or mod == "__main__":
        return False
    m = sys.modules.get(mod)
    f = getattr(m, "__file__", None) if m is not None else None
    if f is None:
        return m is not None
    return not (f.endswith(".py") or f.endswith(".pyc"))


def _child_truth(objs):
    parent_ids = set()
    for o in objs:
        parent_ids.add(id(o))
    o = None
    snap = {}
    i = 0
    n = len(_SNAP)
    while i < n:
        snap[_SNAP[i]] = _SNAP[i + 1]
        i += 2
    volatile = {}
    # the main thread's frames: dump()'s is gone and ready()'s is there when the core is
    # taken, publish()'s and main()'s value stacks differ (<3.11)
    f = sys._getframe(1)
    while f is not None:
        if id(f) in parent_ids:
            volatile[_hex(id(f))] = "a frame on the main thread's stack"
        f = f.f_back
    # dump() sets _last[0] in the parent after the fork
    volatile[_hex(id(truth._last))] = "truth._last, set by dump() in the parent after the fork"

    referents_all = {}
    untracked = {}     # referents that are not tracked objects of the parent: type -> [hex]
    seen_untracked = set()
    c_types = {}
    subtype_dealloc = _tp_dealloc(CextService) if ctypes is not None else None
    for o in objs:
        refs = gc.get_referents(o)
        ids = [id(r) for r in refs]
        a = _hex(id(o))
        t = type(o)
        referents_all[a] = {"type": t.__name__, "referents": ["0x%x" % x for x in ids]}
        d = snap.get(id(o))
        if d is None:
            if a not in volatile:
                volatile[a] = "not in the snapshot: made after it (parent) or in the child"
        elif d != hash(tuple(ids)):
            if a not in volatile:
                volatile[a] = "referents changed after the snapshot (at-fork handlers, the child)"
        for r in refs:
            if id(r) not in parent_ids and id(r) not in seen_untracked:
                seen_untracked.add(id(r))
                name = type(r).__name__
                untracked.setdefault(name, []).append(_hex(id(r)))
        if t not in c_types:
            c_types[t] = _is_c_type(t, subtype_dealloc)
        refs = ids = r = None
    o = t = None
    names = sorted(set(t.__name__ for t, c in c_types.items() if c))
    by_module = {}
    for t, c in c_types.items():
        if c:
            mod = getattr(t, "__module__", None)
            by_module.setdefault(str(mod), set()).add(t.__name__)
    by_module = dict((k, sorted(v)) for k, v in by_module.items())
    c_types = None
    return {
        "referents_all": referents_all,
        "referents_volatile": volatile,
        "referents_untracked_types": untracked,
        "cext_types": names,
        "cext_types_by_module": by_module,
    }


# ---------------------------------------------------------------------------- main --
def _expected():
    """Scenario classes with exact counts (check-fixtures checks them against the truth)."""
    exp = {"CextService": 1, "MyDeque": N, "MyOrderedDict": N, "MyDefaultDict": N,
           "MyPartial": N, "MyArray": N, "MyStruct": N, "MyBytesIO": N, "MyRandom": N}
    if threading is not None:
        exp["MyLocal"] = N
    if asyncio is not None:
        exp["MyFuture"] = N
        exp["MyTask"] = N
    if ctypes is not None:
        exp["Point"] = N
    if decimal is not None:
        exp["MyDecimal"] = N
    if sqlite3 is not None:
        exp["MyCursor"] = 3
    if greenlet is not None:
        exp["MyGreenlet"] = N
    return exp


def main():
    out, live = truth.parse_args()
    ran = build()
    expected = _expected()
    extra = {
        "scenario": "cext",
        "expected": expected,
        "id_types": sorted(expected),
        "refcount_names": ["_service"],
        "expected_refcnt": {"_service": 1},
        "cext_builders": ran,
        "cext_modules": sorted(_present),
        "cext_modules_missing": sorted(_missing),
        "member_labels": _member_labels(),
        "child_truth": _child_truth,
    }
    ran = expected = None
    if os.environ.get("CEXT_NOISE") == "1" and not live:
        # debug only (perturbs the heap): the same referents, in the parent right after
        # dump(), against the truth
        _snapshot()
        truth.dump(out + ".truth.json", extra)
        _noise(out + ".truth.json")
        truth.ready()
        truth.finish()
    _snapshot()     # last: nothing but the call into publish() happens after it
    truth.publish(out + ".truth.json", extra, live)


def _noise(path):
    mine = {}
    for o in gc.get_objects():
        mine[_hex(id(o))] = [_hex(id(r)) for r in gc.get_referents(o)]
    o = None
    import json as _json
    f = open(path)
    t = _json.load(f)
    f.close()
    vol = t["referents_volatile"]
    differ = []
    missing = 0
    for a, e in t["referents_all"].items():
        if a in vol:
            continue
        if a not in mine:
            missing += 1
        elif sorted(mine[a]) != sorted(e["referents"]):
            differ.append("%s %s" % (e["type"], a))
    sys.stderr.write("NOISE python=%s objects=%d volatile=%d missing_in_parent=%d differ=%d %s\n" % (
        ".".join(map(str, sys.version_info[:3])), len(t["referents_all"]), len(vol), missing,
        len(differ), " ".join(differ[:20])))
    sys.stderr.flush()


if __name__ == "__main__":
    main()
