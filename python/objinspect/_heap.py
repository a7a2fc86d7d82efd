"""Heap (a program of libinspect) and Object, and the records their questions answer."""
import collections
import ctypes

from . import _capi as C
from ._errors import Code, Error, UsageError

# ---- records -------------------------------------------------------------------------------

TypeStat = collections.namedtuple("TypeStat", "name count bytes")
TypeStat.__doc__ = "One row of Heap.types(): a type's name, how many objects, the sum of their sys.getsizeof."

Cycle = collections.namedtuple("Cycle", "members path held bytes held_bytes")
Cycle.__doc__ = """A cycle a full collection would free (a strongly connected component of the
unreachable objects): members (a shortest cycle through the oldest member first, then the
others), path (that shortest cycle: members[:len(path)]; each refers to the next, the last to
the first), held (how many unreachable objects outside any cycle it alone leads to), bytes and
held_bytes (their sizes)."""

Collection = collections.namedtuple("Collection", "unreachable cycles")
Collection.__doc__ = "Heap.collect(): what a full gc.collect() would find unreachable, and its cycles (largest first)."

Retained = collections.namedtuple("Retained", "count bytes dominators total_bytes")
Retained.__doc__ = """Heap.retained(obj): what obj alone keeps alive, itself included (count objects,
bytes their sys.getsizeof sum: its subtree of the dominator tree), its dominators (the Objects
every path from a root to it goes through, nearest first: why it is alive) and the bytes of the
whole reference graph."""

MEMORY_FIELDS = ("pymalloc why arenas arena_size pools pool_size free_pools allocated_bytes free_bytes "
                 "nearly_empty_arenas size_classes tracked tracked_bytes frozen frozen_bytes untracked "
                 "untracked_bytes in_pymalloc_bytes malloced malloced_bytes static_bytes memory_bytes "
                 "file_backed_bytes anonymous_bytes stacks")
Memory = collections.namedtuple("Memory", MEMORY_FIELDS)
Memory.__doc__ = """Heap.memory(): where the memory goes (the `memory` command). pymalloc is True
(its state read), False (not in use: PYTHONMALLOC=malloc) or None (its state cannot be read: a
2.7-3.11 build with only .dynsym), why says why when it is not True; arenas ... free_bytes are
what sys._debugmallocstats() prints (bytes in allocated and available blocks), size_classes a
list of SizeClass(size, pools, used_blocks, free_blocks); the objects' counts and
sys.getsizeof bytes, where they are (None without pymalloc's state), and the image's memory;
stacks a Stacks(threads, segments, bytes): the threads and the image's segments holding their
stack pointers, None when the image cannot tell (a host's reader)."""

Stacks = collections.namedtuple("Stacks", "threads segments bytes")
Stacks.__doc__ = "Heap.memory().stacks: how many threads, the segments holding their stacks and their bytes."

SizeClass = collections.namedtuple("SizeClass", "size pools used_blocks free_blocks")
SizeClass.__doc__ = "One pymalloc size class of Heap.memory(): block size, pools in use, blocks in use and free."

Suspect = collections.namedtuple("Suspect", "object count bytes accumulation accumulation_count accumulation_bytes "
                                  "type accumulated accumulated_bytes referrer referrer_count chain chain_found "
                                  "allocated_at kind instances")
Suspect.__doc__ = """One of Heap.suspects(): an object at the top of the dominator tree and what it
retains (count, bytes); its accumulation point (an Object, with what it retains) where the bytes
spread over many objects; what piles up there (type name, how many, their retained bytes); the
Object referring to most of them when it is not the accumulation point (else None) and to how
many; the chain of Objects from a module (or a thread's frame's local) to the accumulation
point, chain_found False when it is that point alone; when the process runs with tracemalloc,
allocated_at, an AllocSite(file, line, count): where most of what piles up was allocated (the
most common most recent frame of their tracebacks) and how many of them, else None. kind is
"object"; a Suspect of kind "group" is Eclipse MAT's group suspect: instances of one class
(type), each alone at the top of the dominator tree and below the threshold, retaining it
together -- object and accumulation are None (accumulation_count, _bytes 0), count and bytes
what they retain together, accumulated their number, referrer the object referring to most
of them and chain the chain to it, instances the biggest of them (Objects, most bytes first;
[] for kind "object")."""

AllocSite = collections.namedtuple("AllocSite", "file line count")
AllocSite.__doc__ = "Where a Suspect's accumulated objects were allocated: file, line, and how many of them."

RefcheckRow = collections.namedtuple("RefcheckRow", "object refcnt referrers residual")
RefcheckRow.__doc__ = """One row of Heap.refcheck(): the object, its ob_refcnt, the references to it
the heap holds, and residual = refcnt - referrers (held by C code, the stack, or leaked)."""

Thread = collections.namedtuple("Thread", "thread_id tstate gil frames")
Thread.__doc__ = """A thread of Heap.stacks(): threading.get_ident(), the address of its
PyThreadState, gil (True holds the GIL, False does not, None cannot be told), frames
(innermost first)."""


Greenlet = collections.namedtuple("Greenlet", "object type frames")
Greenlet.__doc__ = """A suspended greenlet of Heap.greenlets(): the greenlet (an Object), its type's
module.qualname, and the frames of its stack from gr_frame (Frame, innermost first)."""

Task = collections.namedtuple("Task", "object name state coro await_chain waits_on waiting_on awaiting "
                              "awaited_by loop thread_id")
Task.__doc__ = """An asyncio task of Heap.tasks(): the task (an Object), Task.get_name() (3.8+,
else None), its state ("PENDING", "CANCELLED", "FINISHED"), its coroutine's __qualname__, the
await chain (AwaitStep, outermost first), the future the innermost coroutine awaits (an Object,
or None), what it waits on in a word (Queue.get, sleep, Task), Task._fut_waiter (an Object or
None), the pending tasks awaiting it (Objects), its loop (an Object or None) and the thread
running that loop (threading.get_ident(), or None)."""

Allocations = collections.namedtuple("Allocations", "tracing available why traced_bytes traced_blocks groups")
Allocations.__doc__ = """Heap.allocations(): tracemalloc.is_tracing() (None when it cannot be told),
whether the traces could be read (else why says why), the traced bytes and blocks, and the
groups in Snapshot.statistics' order."""

AllocGroup = collections.namedtuple("AllocGroup", "file line size count traceback")
AllocGroup.__doc__ = """A Statistic of Heap.allocations(): the most recent frame's file and line
(line 0 grouped by filename), bytes, blocks, and by traceback the whole traceback as
[(file, line)], most recent call first (else None)."""

AwaitStep = collections.namedtuple("AwaitStep", "coro qualname function file line")
AwaitStep.__doc__ = """A coroutine in a task's await chain: the coroutine (an Object), its
__qualname__, co_name, co_filename and f_lineno (None if none)."""


class Frame(collections.namedtuple("Frame", "function file line address frame_object locals")):
    """A frame of Heap.stacks(): co_name, co_filename, f_lineno (None if none), the address of
    the frame (the frame object, or from 3.11 the _PyInterpreterFrame), frame_object (an Object,
    or None when no frame object exists), locals ({name: Object} with locals=True, else {}).
    Like an Object, it has a .type ("frame") and a .repr() ("file:line"), so that a chain that
    starts at a frame without a frame object prints as the others do."""
    __slots__ = ()
    type = "frame"

    def repr(self):
        return "%s:%s" % (self.file, self.line if self.line is not None else "None")


GCState = collections.namedtuple("GCState", "enabled threshold count generation_sizes frozen garbage")
GCState.__doc__ = """Heap.gc(): gc.isenabled(), gc.get_threshold(), gc.get_count(), the number of
objects on each generation's list, gc.get_freeze_count(), len(gc.garbage). What cannot be told
from the image is None: enabled, garbage, an unreadable threshold or count."""


class Ref(tuple):
    """A labelled reference, unpacked as (label, object): object is the Object at the other
    end; label names the edge (attribute or global name, dict key, [index], slot or member
    name, +0xOFFSET). flags: inferred (found by scanning memory where tp_traverse could not be
    run), borrowed (visited by tp_traverse, owns no reference)."""

    def __new__(cls, label, obj, flags=0):
        self = tuple.__new__(cls, (label, obj))
        self.flags = flags
        return self

    @property
    def label(self):
        return self[0]

    @property
    def object(self):
        return self[1]

    @property
    def inferred(self):
        return bool(self.flags & C.INS_REF_INFERRED)

    @property
    def borrowed(self):
        return bool(self.flags & C.INS_REF_BORROWED)

    def __repr__(self):
        return "Ref(%r, %r%s)" % (self[0], self[1], ", flags=%d" % self.flags if self.flags else "")

    def __reduce__(self):
        return (Ref, (self[0], self[1], self.flags))


class TypeStats(list):
    """Heap.types(): a list of TypeStat, most common first, then by name; .objects is
    len(gc.get_objects()), .frozen gc.get_freeze_count(), .untracked (with all=True) how many
    untracked objects references reach, else None."""

    def __init__(self, rows, objects, frozen, untracked):
        list.__init__(self, rows)
        self.objects = objects
        self.frozen = frozen
        self.untracked = untracked


class Chain(list):
    """Heap.chain(): a list of Ref (label, Object) from where the chain starts down to the
    object. .found is False when there is no chain within max_depth: the list then holds the
    object alone, as objgraph.find_backref_chain returns [obj]. A chain from a thread's frame
    (to_root) has .frame, that Frame, and .thread_id, its thread; its first item is the frame
    object, or the Frame itself when there is no frame object (3.11+)."""

    def __init__(self, links, found, frame=None, thread_id=None):
        list.__init__(self, links)
        self.found = found
        self.frame = frame
        self.thread_id = thread_id


# ---- Object ----------------------------------------------------------------------------------

class Object(object):
    """One object of a heap, named by its address. Its facts (type, qualname, refcnt, size,
    ...) are read from the heap the first time one is asked for, then kept. Objects are equal
    when they are at the same address of the same heap."""
    __slots__ = ("heap", "address", "_f")

    def __init__(self, heap, address, _facts=None):
        self.heap = heap
        self.address = address
        self._f = _facts

    def _facts(self):
        f = self._f
        if f is None:
            f = self._f = self.heap._object_facts(self.address)
        return f

    type_address = property(lambda self: self._facts()[0], doc="id(type(obj)) (for a 2.7 classic instance, its class)")
    type = property(lambda self: self._facts()[1], doc="type(obj).__name__")
    qualname = property(lambda self: self._facts()[2], doc="module.qualname of its type, objgraph's long name")
    refcnt = property(lambda self: self._facts()[3], doc="ob_refcnt: sys.getrefcount(obj) - 1")
    immortal = property(lambda self: self._facts()[4], doc="a 3.12+ immortal object")
    size = property(lambda self: self._facts()[5], doc="sys.getsizeof(obj)")
    tracked = property(lambda self: self._facts()[6], doc="gc.is_tracked(obj) (frozen objects too)")
    frozen = property(lambda self: self._facts()[7], doc="in the permanent generation of gc.freeze()")
    generation = property(lambda self: self._facts()[8], doc="0..2 when tracked and not frozen, else -1")

    @property
    def type_object(self):
        """type(obj), as an Object."""
        return Object(self.heap, self.type_address)

    def repr(self):
        """objgraph's short repr of the object (names, N items, file:line, values)."""
        return self.heap._object_repr(self.address)

    def referents(self):
        """gc.get_referents(obj), in traversal order: a list of Ref (label, Object)."""
        return self.heap._refs(self.address, "ins_object_referents")

    def referrers(self):
        """gc.get_referrers(obj): the objects holding a reference to it, in heap order: a list
        of Ref (label, Object), label naming the referrer's reference."""
        return self.heap._refs(self.address, "ins_object_referrers")

    def chain(self, **kw):
        """Heap.chain(self, **kw)."""
        return self.heap.chain(self, **kw)

    def retained(self):
        """Heap.retained(self)."""
        return self.heap.retained(self)

    def traceback(self):
        """Heap.traceback(self)."""
        return self.heap.traceback(self)

    def __eq__(self, other):
        if not isinstance(other, Object):
            return NotImplemented
        return self.address == other.address and self.heap is other.heap

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        return hash((id(self.heap), self.address))

    def __int__(self):
        return self.address

    def __repr__(self):
        try:
            t = self.type
        except Error:
            t = "?"
        return "<Object 0x%x %s>" % (self.address, t)


def _address(obj):
    if isinstance(obj, Object):
        return obj.address
    if isinstance(obj, bool) or not isinstance(obj, int):
        raise TypeError("an objinspect.Object or an address (int) is needed, not %s" % type(obj).__name__)
    if not 0 <= obj < 1 << 64:
        raise UsageError(Code.USAGE, "address 0x%x out of range" % obj if obj >= 0 else "negative address %d" % obj)
    return obj


# ---- Heap ------------------------------------------------------------------------------------

def _options(exe, sysroot, debug_dir, files=None):
    if exe is None and sysroot is None and debug_dir is None and not files:
        return None
    pairs = sorted((files or {}).items())
    arr = (C.ins_file_path * max(1, len(pairs)))(*[C.ins_file_path(C.encode_path(n), C.encode_path(p))
                                                     for n, p in pairs])
    # the structure keeps arr (and arr its strings) alive; the open copies them
    return C.ins_open_options(C.encode_path(exe), C.encode_path(sysroot), C.encode_path(debug_dir), arr, len(pairs))


def _perms(p):
    if isinstance(p, int):
        return p
    p = str(p)
    return ((C.INS_MAP_READ if "r" in p[:1] else 0) | (C.INS_MAP_WRITE if "w" in p[1:2] else 0) |
            (C.INS_MAP_EXEC if "x" in p[2:3] else 0))


class Heap(object):
    """One stopped CPython process read from the outside (a libinspect program): opened with
    objinspect.open_core(), attach() or open_reader(). Answers any number of questions about
    the same stop; the heap walk, the reference graph and the collection are computed the
    first time a question needs them and kept. close() (or the end of a with block) frees it.
    Not thread-safe: one thread at a time."""

    def __init__(self, lib, handle, keep=None):
        self._lib = lib
        self._p = handle
        self._keep = keep   # what a reader's callback needs alive as long as the program
        self._free = lib.ins_program_free

    # -- life --

    def close(self):
        """Frees the program; any further question raises UsageError."""
        p, self._p = self._p, None
        if p:
            self._free(p)
        self._keep = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def closed(self):
        return not self._p

    def _h(self):
        p = self._p
        if not p:
            raise UsageError(Code.USAGE, "the heap is closed")
        return p

    @property
    def library(self):
        """The objinspect library object (path, version) this heap was opened with."""
        return self._lib

    # -- what it is --

    @property
    def python(self):
        """The interpreter's version, "3.12.1"."""
        return C.decode(self._lib.ins_program_python(self._h()))

    @property
    def description(self):
        """What the heap was read from: "core /path", "live process 1234", a reader's description."""
        return C.decode(self._lib.ins_program_description(self._h()))

    @property
    def warnings(self):
        """The warnings so far, one str each ("warning: ..."): about the target (a damaged list, an
        unreadable file); the answers are still given."""
        w = C.decode(self._lib.ins_program_warnings(self._h())) or ""
        return [line for line in w.split("\n") if line]

    def clear_warnings(self):
        """Forgets the warnings so far."""
        self._lib.ins_program_clear_warnings(self._h())

    def __repr__(self):
        if not self._p:
            return "<objinspect.Heap (closed)>"
        return "<objinspect.Heap %s, Python %s>" % (self.description, self.python)

    # -- objects --

    def _object_facts(self, addr):
        o = C.ins_object()
        self._lib.check(self._lib.ins_object_get(self._h(), addr, ctypes.byref(o)))
        return (o.type_address, C.decode(o.type), C.decode(o.qualname), o.refcnt, o.immortal, o.size,
                o.tracked, o.frozen, o.generation)

    def _object_repr(self, addr):
        s = ctypes.c_void_p()
        self._lib.check(self._lib.ins_object_repr(self._h(), addr, ctypes.byref(s)))
        return self._lib.take_string(s)

    def _refs(self, addr, fn):
        r = C.ins_refs()
        self._lib.check(getattr(self._lib, fn)(self._h(), addr, ctypes.byref(r)))
        return self._take_refs(r)

    def _take_refs(self, r):
        try:
            return [Ref(C.decode(x.label) or "", Object(self, x.address), x.flags) for x in (r.v[:r.n] if r.n else [])]
        finally:
            self._lib.ins_refs_free(ctypes.byref(r))

    def _objects(self, addrs):
        return [Object(self, a) for a in addrs]

    def object(self, address):
        """The Object at an address; NotFoundError if there is no object there."""
        a = _address(address)
        return Object(self, a, self._object_facts(a))

    def objects(self, type=None):
        """gc.get_objects() (the tracked objects, generation by generation, frozen ones
        excluded), or with type objgraph.by_type(type): those whose type.__name__ is type, or
        whose module.qualname is type when it has a dot. NotFoundError for a type no object has
        and the interpreter does not know. A list of Object."""
        if type is None:
            ptr, n = ctypes.POINTER(ctypes.c_uint64)(), ctypes.c_size_t()
            self._lib.check(self._lib.ins_program_objects(self._h(), ctypes.byref(ptr), ctypes.byref(n)))
            return self._objects(ptr[:n.value] if n.value else [])   # the array is the program's
        if not isinstance(type, str):
            raise TypeError("type must be a str (a type's __name__ or module.qualname)")
        ptr, n = ctypes.POINTER(ctypes.c_uint64)(), ctypes.c_size_t()
        self._lib.check(self._lib.ins_program_objects_by_type(self._h(), type.encode("utf-8"), ctypes.byref(ptr),
                                                              ctypes.byref(n)))
        return self._objects(self._lib.take_addresses(ptr, n))

    def count(self, type):
        """objgraph.count(type): len(objects(type))."""
        return len(self.objects(type))

    def types(self, limit=None, qualified=False, all=False):
        """objgraph.most_common_types(limit): TypeStats, a list of TypeStat(name, count, bytes),
        most common first, then by name; a limit of None or 0 gives every type. qualified:
        group by module.qualname instead of __name__; all: also the untracked objects references
        reach (str, int, ...)."""
        st = C.ins_type_stats()
        flags = (C.INS_TYPES_QUALIFIED if qualified else 0) | (C.INS_TYPES_ALL if all else 0)
        self._lib.check(self._lib.ins_program_types(self._h(), flags, ctypes.byref(st)))
        try:
            n = st.n if not limit else min(st.n, limit)
            rows = [TypeStat(C.decode(r.name), r.count, r.bytes) for r in (st.v[:n] if n else [])]
            return TypeStats(rows, st.ntracked, st.nfrozen, st.nuntracked if all else None)
        finally:
            self._lib.ins_type_stats_free(ctypes.byref(st))

    # -- chains --

    def chain(self, obj, max_depth=20, to_root=False, extra_ignore=()):
        """objgraph.find_backref_chain(obj, is_proper_module): the shortest chain of references
        from a module sys.modules holds (or, with to_root, also a thread's frame whose local
        holds an object) down to obj, as a Chain: a list of Ref (label, Object), the first the
        module (label "") or frame (label: the local's name), the last obj, each label naming
        the reference from the one before. extra_ignore: objects (or addresses) not to go
        through. Without a chain within max_depth, chain.found is False and the list holds
        obj alone (objgraph returns [obj])."""
        a = _address(obj)
        if max_depth is None:
            max_depth = 0
        if max_depth < 0:
            raise UsageError(Code.USAGE, "max_depth must be positive")
        ign = [_address(x) for x in extra_ignore]
        arr = (ctypes.c_uint64 * len(ign))(*ign) if ign else None
        opt = C.ins_chain_options(max_depth, bool(to_root),
                                  ctypes.cast(arr, ctypes.POINTER(ctypes.c_uint64)) if arr is not None else None,
                                  len(ign))
        r, found = C.ins_refs(), ctypes.c_bool()
        self._lib.check(self._lib.ins_program_chain(self._h(), a, ctypes.byref(opt), ctypes.byref(r),
                                                    ctypes.byref(found)))
        links = self._take_refs(r)
        if to_root and found.value and links and links[0].label:
            # a frame's local (a module starts with ""): which frame, which thread
            root = links[0].object.address
            for t in self.stacks():
                for f in t.frames:
                    if f.address == root or (f.frame_object is not None and f.frame_object.address == root):
                        if f.frame_object is None:
                            links[0] = Ref(links[0].label, f, links[0].flags)
                        return Chain(links, True, f, t.thread_id)
        return Chain(links, bool(found.value))

    # -- the collection --

    def collect(self):
        """What a full gc.collect() would do now, without running one (gc.collect() under
        DEBUG_SAVEALL): Collection(unreachable, cycles): the unreachable objects in heap order,
        and the Cycles that hold them, largest first."""
        c = C.ins_collection()
        self._lib.check(self._lib.ins_program_collect(self._h(), ctypes.byref(c)))
        try:
            unreachable = self._objects(c.unreachable[:c.n] if c.n else [])
            cycles = []
            for ci in (c.cycles[:c.ncycles] if c.ncycles else []):
                members = self._objects(ci.members[:ci.n] if ci.n else [])
                cycles.append(Cycle(members, members[:ci.path], ci.held, ci.bytes, ci.held_bytes))
            return Collection(unreachable, cycles)
        finally:
            self._lib.ins_collection_free(ctypes.byref(c))

    def cycles(self):
        """collect().cycles: the cycles a full collection would free, largest first."""
        return self.collect().cycles

    def unreachable(self):
        """collect().unreachable: what a full collection would find unreachable, in heap order."""
        return self.collect().unreachable

    def _address_list(self, fn, *args):
        ptr, n = ctypes.POINTER(ctypes.c_uint64)(), ctypes.c_size_t()
        self._lib.check(fn(self._h(), *(args + (ctypes.byref(ptr), ctypes.byref(n)))))
        return self._objects(self._lib.take_addresses(ptr, n))

    def garbage(self):
        """gc.garbage's items, a list of Object."""
        return self._address_list(self._lib.ins_program_garbage)

    def leaking(self, raw=False):
        """objgraph.get_leaking_objects(): the tracked objects no tracked object refers to,
        after what the gc.collect() objgraph runs first would do (raw: the objects tracked now)."""
        return self._address_list(self._lib.ins_program_leaking, bool(raw))

    # -- refcounts --

    def refcheck(self):
        """Every tracked object whose refcount the heap does not account for (residual != 0,
        immortal objects skipped), most unexplained first: a list of RefcheckRow(object, refcnt,
        referrers, residual)."""
        ptr, n = ctypes.POINTER(C.ins_refcheck_row)(), ctypes.c_size_t()
        self._lib.check(self._lib.ins_program_refcheck(self._h(), ctypes.byref(ptr), ctypes.byref(n)))
        try:
            return [RefcheckRow(Object(self, r.address), r.refcnt, r.referrers, r.residual)
                    for r in (ptr[:n.value] if n.value else [])]
        finally:
            if ptr:
                self._lib.ins_free(ptr)

    def retained(self, obj):
        """What obj alone keeps alive and why it is alive, over the dominator tree of the whole
        reference graph (the `retained ADDRESS` command): a Retained(count, bytes, dominators,
        total_bytes)."""
        r = C.ins_retained()
        self._lib.check(self._lib.ins_program_retained(self._h(), _address(obj), ctypes.byref(r)))
        try:
            doms = [Object(self, a) for a in (r.dominators[:r.ndominators] if r.ndominators else [])]
            return Retained(r.count, r.bytes, doms, r.total_bytes)
        finally:
            if r.dominators:
                self._lib.ins_free(r.dominators)

    def suspects(self, threshold=10, limit=5):
        """Eclipse MAT's leak suspects (the `suspects` command): the objects at the top of the
        dominator tree retaining threshold percent of the heap's bytes or more, at most limit
        (0: all), largest first, each a Suspect."""
        v = ctypes.POINTER(C.ins_suspect_info)()
        n = C.c_size_t()
        self._lib.check(self._lib.ins_program_suspects(self._h(), int(threshold), int(limit), ctypes.byref(v),
                                                       ctypes.byref(n)))
        try:
            out = []
            for x in (v[:n.value] if n.value else []):
                chain = [Object(self, a) for a in (x.chain[:x.nchain] if x.nchain else [])]
                group = x.kind == C.INS_SUSPECT_GROUP
                out.append(Suspect(None if group else Object(self, x.address), x.count, x.bytes,
                                   None if group else Object(self, x.accumulation),
                                   x.acc_count, x.acc_bytes, C.decode(x.type), x.accumulated, x.accumulated_bytes,
                                   Object(self, x.referrer) if x.referrer else None, x.referrer_count, chain,
                                   bool(x.chain_found),
                                   AllocSite(C.decode(x.allocated_file), x.allocated_line, x.allocated_count)
                                   if x.allocated_file else None, "group" if group else "object",
                                   [Object(self, a) for a in (x.instances[:x.ninstances] if x.ninstances else [])]))
            return out
        finally:
            if v:
                self._lib.ins_suspects_free(v, n.value)

    def allocations(self, group_by="lineno"):
        """tracemalloc.take_snapshot().statistics(group_by) at the moment of the image, when the
        process runs with tracemalloc: an Allocations (group_by: lineno, filename, traceback)."""
        keys = {"lineno": C.INS_ALLOC_BY_LINENO, "filename": C.INS_ALLOC_BY_FILENAME,
                "traceback": C.INS_ALLOC_BY_TRACEBACK}
        if group_by not in keys:
            raise ValueError("group_by is lineno, filename or traceback, not %r" % (group_by,))
        a = C.ins_allocation_stats()
        self._lib.check(self._lib.ins_program_allocations(self._h(), keys[group_by], ctypes.byref(a)))
        try:
            groups = []
            for g in (a.v[:a.n] if a.n else []):
                tb = None
                if group_by == "traceback":
                    tb = [(C.decode(f.file), f.line) for f in (g.traceback[:g.nframes] if g.nframes else [])]
                groups.append(AllocGroup(C.decode(g.file) if g.file else None, g.line, g.size, g.count, tb))
            return Allocations({1: True, 0: False}.get(a.tracing), bool(a.available),
                               C.decode(a.why) if a.why else None, a.traced_bytes, a.traced_blocks, groups)
        finally:
            self._lib.ins_allocation_stats_free(ctypes.byref(a))

    def traceback(self, obj):
        """tracemalloc.get_object_traceback(obj) from outside: [(file, line)], most recent call
        first, or None when its block was not traced (or nothing traces)."""
        frames = ctypes.POINTER(C.ins_alloc_frame)()
        n = ctypes.c_size_t()
        self._lib.check(self._lib.ins_program_object_traceback(self._h(), _address(obj), ctypes.byref(frames),
                                                              ctypes.byref(n)))
        try:
            return [(C.decode(f.file), f.line) for f in frames[:n.value]] if n.value else None
        finally:
            if frames:
                self._lib.ins_free(frames)

    def memory(self):
        """Where the memory goes: pymalloc's arenas, pools and blocks as sys._debugmallocstats()
        counts them, the objects' bytes and where they are, the image's memory: a Memory."""
        m = C.ins_memory_stats()
        self._lib.check(self._lib.ins_program_memory(self._h(), ctypes.byref(m)))
        try:
            classes = [SizeClass(c.size, c.pools, c.used_blocks, c.free_blocks)
                       for c in (m.classes[:m.nclasses] if m.nclasses else [])]
        finally:
            if m.classes:
                self._lib.ins_free(m.classes)
        placed = m.pymalloc >= 0
        vals = dict((n, getattr(m, n)) for n in MEMORY_FIELDS.split()
                    if n not in ("pymalloc", "why", "size_classes", "stacks"))
        vals["stacks"] = Stacks(m.threads, m.stack_segments, m.stack_bytes) if m.stacks else None
        for n in ("in_pymalloc_bytes", "malloced", "malloced_bytes", "static_bytes"):
            if not placed:
                vals[n] = None
        return Memory(pymalloc={1: True, 0: False}.get(m.pymalloc), size_classes=classes,
                      why=m.why.decode("utf-8", "replace") if m.why else None, **vals)

    # -- threads --

    def stacks(self, locals=False):
        """sys._current_frames() and more: every thread of the interpreter (newest first), a
        list of Thread(thread_id, tstate, gil, frames), frames innermost first, each a
        Frame(function, file, line, address, frame_object, locals); with locals, each frame's
        f_locals as {name: Object}."""
        s = C.ins_stacks()
        self._lib.check(self._lib.ins_program_stacks(self._h(), bool(locals), ctypes.byref(s)))
        try:
            return [Thread(t.thread_id, t.tstate, {1: True, 0: False}.get(t.gil), self._frames(t.frames, t.nframes))
                    for t in (s.v[:s.n] if s.n else [])]
        finally:
            self._lib.ins_stacks_free(ctypes.byref(s))

    def _frames(self, frames, n):
        out = []
        for f in (frames[:n] if n else []):
            loc = {}
            for v in (f.locals[:f.nlocals] if f.nlocals else []):
                loc[C.decode(v.name)] = Object(self, v.value) if v.value else None
            out.append(Frame(C.decode(f.function), C.decode(f.file), f.line if f.line >= 0 else None,
                             f.address, Object(self, f.frame_object) if f.frame_object else None, loc))
        return out

    def greenlets(self, locals=False):
        """The suspended greenlets (the greenlet package: gevent, eventlet), by address, a list
        of Greenlet(object, type, frames): the stack from each one's gr_frame, innermost first
        (stacks --greenlets)."""
        g = C.ins_greenlet_stacks()
        self._lib.check(self._lib.ins_program_greenlets(self._h(), bool(locals), ctypes.byref(g)))
        try:
            return [Greenlet(Object(self, x.address), C.decode(x.type), self._frames(x.frames, x.nframes))
                    for x in (g.v[:g.n] if g.n else [])]
        finally:
            self._lib.ins_greenlet_stacks_free(ctypes.byref(g))

    def tasks(self, all=False):
        """asyncio.all_tasks(), from outside: every pending task by address (with all, the
        finished and cancelled ones still alive too), a list of Task (see its doc)."""
        t = C.ins_task_list()
        self._lib.check(self._lib.ins_program_tasks(self._h(), bool(all), ctypes.byref(t)))
        obj = (lambda a: Object(self, a) if a else None)
        try:
            out = []
            for x in (t.v[:t.n] if t.n else []):
                chain = [AwaitStep(obj(s.coro), C.decode(s.qualname) if s.qualname else None,
                                   C.decode(s.function) if s.function else None,
                                   C.decode(s.file) if s.file else None, s.line if s.line >= 0 else None)
                         for s in (x.chain[:x.nchain] if x.nchain else [])]
                out.append(Task(obj(x.address), C.decode(x.name) if x.name else None, C.decode(x.state),
                                C.decode(x.coro) if x.coro else None, chain, obj(x.waits_on),
                                C.decode(x.waiting_on), obj(x.awaiting),
                                [obj(a) for a in (x.awaited_by[:x.nawaited_by] if x.nawaited_by else [])],
                                obj(x.loop), x.thread_id if x.has_thread else None))
            return out
        finally:
            self._lib.ins_task_list_free(ctypes.byref(t))

    # -- the collector --

    def gc(self):
        """The collector's state: GCState(enabled, threshold, count, generation_sizes, frozen,
        garbage); the tuples have one item per generation (gc.get_count()'s: 3). What cannot be
        told from the image is None."""
        g = C.ins_gc_state()
        self._lib.check(self._lib.ins_program_gc(self._h(), ctypes.byref(g)))
        n = max(0, min(g.ngens, 3))

        def known(v):
            return tuple(x if x >= 0 else None for x in v[:n])
        return GCState(bool(g.enabled) if g.enabled_known else None, known(g.threshold), known(g.count),
                       tuple(g.generation_size[:n]), g.frozen, g.garbage if g.garbage_known else None)


# ---- opening -----------------------------------------------------------------------------------

def _open(fn, *args):
    lib = C.library()
    p = ctypes.c_void_p()
    lib.check(getattr(lib, fn)(*(args + (ctypes.byref(p),))))
    return lib, p


_INDEX_MODES = {"never": C.INS_PROGRAM_INDEX_NEVER, "auto": C.INS_PROGRAM_INDEX_READ,
                "make": C.INS_PROGRAM_INDEX_MAKE}


def open_core(path, exe=None, sysroot=None, debug_dir=None, index="auto", index_file=None, files=None):
    """Opens an ELF core file of a CPython process. exe: the executable to use instead of the
    one the core names; sysroot: a prefix for every file the core names; debug_dir: where
    detached debug info is (':'-separated; default /usr/lib/debug, under sysroot if given);
    files: {name the core gives a file: where it is here}, for files found elsewhere than
    under sysroot (GDB's solib-search-path).
    index: the core's saved index (objinspect's index command), as the CLI reads it: "auto"
    reads a valid one instead of walking the heap and building the graph (a stale or damaged
    one is ignored with a warning), "make" also builds and writes it now when there is none
    (objinspect --index), "never" reads none (--no-index); index_file: its path (default
    CORE.objinspect-index)."""
    if index not in _INDEX_MODES:
        raise ValueError("index must be one of %s, not %r" % (", ".join(sorted(_INDEX_MODES)), index))
    opt = _options(exe, sysroot, debug_dir, files)
    lib, p = _open("ins_program_open_core", C.encode_path(path), ctypes.byref(opt) if opt is not None else None)
    heap = Heap(lib, p)
    if index != "never" or index_file is not None:
        try:
            lib.check(lib.ins_program_set_index(p, _INDEX_MODES[index],
                                                C.encode_path(index_file)))
        except BaseException:
            heap.close()
            raise
    return heap


def attach(pid, stop=True, exe=None, sysroot=None, debug_dir=None, files=None):
    """Opens a live process: with stop, every thread is stopped with ptrace while its memory is
    copied, then the process resumes where it was; stop=False when the caller (a debugger)
    already holds it stopped. The heap is that moment's copy. files: as open_core's."""
    opt = _options(exe, sysroot, debug_dir, files)
    lib, p = _open("ins_program_open_pid", int(pid), bool(stop), ctypes.byref(opt) if opt is not None else None)
    return Heap(lib, p)


def proc_maps(pid):
    """The regions of a live process for open_reader(), from /proc/PID/maps: a list of (start,
    end, offset, perms, path), path None for anonymous mappings."""
    out = []
    with open("/proc/%d/maps" % int(pid)) as f:
        for line in f:
            x = line.split(None, 5)
            start, end = (int(v, 16) for v in x[0].split("-"))
            path = x[5].rstrip("\n") if len(x) > 5 else ""
            out.append((start, end, int(x[2], 16), x[1], path or None))
    return out


def open_reader(read, regions, pid=0, description=None, exe=None, sysroot=None, debug_dir=None, files=None,
                thread_sps=None):
    """Opens a target the caller reads (a debugger's inferior, a remote target). read(addr, n)
    returns n bytes (bytes or any buffer) at addr, or raises (or returns None or fewer bytes)
    when any of them cannot be read. regions: the target's mappings as /proc/PID/maps shows them,
    (start, end, offset, perms, path) each: [start, end), the file offset of start, perms "rwxp"
    (or INS_MAP_* bits), the file mapped or None/"" ("[heap]" and the like count as anonymous).
    The writable and anonymous regions are copied through read when the heap is opened;
    read-only file mappings are read from the files themselves (under sysroot), checked to be
    the ones mapped (files: as open_core's). thread_sps: each thread's stack pointer, as the
    host knows them (memory() then tells the thread stacks apart), or None."""
    if not callable(read):
        raise TypeError("read must be callable: read(addr, n) -> bytes")
    regs = list(regions)
    arr = (C.ins_region * max(1, len(regs)))()
    for i, r in enumerate(regs):
        start, end, offset, perms, path = r
        arr[i] = C.ins_region(int(start), int(end), int(offset), _perms(perms), C.encode_path(path or None))
    raised = []

    def cb(arg, addr, buf, n):
        try:
            data = read(addr, n)
            if data is None:
                return 1
            data = bytes(data)
            if len(data) != n:
                return 1
            ctypes.memmove(buf, data, n)
            return 0
        except Exception:
            return 1
        except BaseException as e:   # KeyboardInterrupt and the like: re-raised after the open
            raised.append(e)
            return 1

    fn = C.ins_read_fn(cb)
    desc = description.encode("utf-8") if description is not None else None
    sps = [int(sp) for sp in thread_sps or ()]
    sp_arr = (C.c_uint64 * max(1, len(sps)))(*sps)
    r = C.ins_reader(fn, None, arr, len(regs), int(pid), desc, sp_arr, len(sps))
    opt = _options(exe, sysroot, debug_dir, files)
    try:
        lib, p = _open("ins_program_open_reader", ctypes.byref(r), ctypes.byref(opt) if opt is not None else None)
    except Error:
        if raised:
            raise raised[0]
        raise
    heap = Heap(lib, p, keep=(fn, arr, r, desc, read))
    if raised:
        heap.close()
        raise raised[0]
    return heap
