"""ctypes declarations of libinspect's public C API (include/libinspect/*.h) and the loader.

Every structure here mirrors one of the headers field for field; a change there must be made
here too. Nothing in this module is public: objinspect's own names are in __init__.py.
"""
import ctypes
import os
import threading

from ._errors import Code, Error, LibraryError, error_for

c_uint64, c_int64, c_size_t, c_int, c_uint, c_bool = (ctypes.c_uint64, ctypes.c_int64, ctypes.c_size_t,
                                                      ctypes.c_int, ctypes.c_uint, ctypes.c_bool)
c_char_p, c_void_p, POINTER = ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER


# ---- errors.h --------------------------------------------------------------------------

class ins_error(ctypes.Structure):
    _fields_ = [("code", c_int), ("message", c_char_p)]


# ---- program.h -------------------------------------------------------------------------

class ins_file_path(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("path", c_char_p)]


class ins_open_options(ctypes.Structure):
    _fields_ = [("exe", c_char_p), ("sysroot", c_char_p), ("debug_dir", c_char_p),
                ("files", POINTER(ins_file_path)), ("nfiles", c_size_t)]


INS_MAP_READ, INS_MAP_WRITE, INS_MAP_EXEC = 1, 2, 4


class ins_region(ctypes.Structure):
    _fields_ = [("start", c_uint64), ("end", c_uint64), ("offset", c_uint64), ("perms", c_uint),
                ("path", c_char_p)]


ins_read_fn = ctypes.CFUNCTYPE(c_int, c_void_p, c_uint64, c_void_p, c_size_t)


class ins_reader(ctypes.Structure):
    _fields_ = [("read", ins_read_fn), ("arg", c_void_p), ("regions", POINTER(ins_region)),
                ("nregions", c_size_t), ("pid", c_int), ("description", c_char_p),
                ("thread_sps", POINTER(c_uint64)), ("nthreads", c_size_t)]


class ins_source(ctypes.Structure):
    """ins_program_open()'s all-in-one description (the package uses the three opens instead)."""
    _fields_ = [("core", c_char_p), ("exe", c_char_p), ("sysroot", c_char_p), ("pid", c_int), ("attach", c_int),
                ("debug_dir", c_char_p), ("reader", POINTER(ins_reader)), ("files", POINTER(ins_file_path)),
                ("nfiles", c_size_t)]


# ---- objects.h -------------------------------------------------------------------------

class ins_object(ctypes.Structure):
    _fields_ = [("address", c_uint64), ("type_address", c_uint64), ("type", c_char_p),
                ("qualname", c_char_p), ("refcnt", c_int64), ("immortal", c_bool), ("size", c_uint64),
                ("tracked", c_bool), ("frozen", c_bool), ("generation", c_int)]


INS_REF_INFERRED, INS_REF_BORROWED = 1, 2


class ins_ref(ctypes.Structure):
    _fields_ = [("address", c_uint64), ("label", c_char_p), ("flags", c_uint)]


class ins_refs(ctypes.Structure):
    _fields_ = [("v", POINTER(ins_ref)), ("n", c_size_t)]


# ---- analysis.h ------------------------------------------------------------------------

class ins_type_stat(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("count", c_uint64), ("bytes", c_uint64)]


class ins_type_stats(ctypes.Structure):
    _fields_ = [("v", POINTER(ins_type_stat)), ("n", c_size_t), ("ntracked", c_size_t),
                ("nfrozen", c_size_t), ("nuntracked", c_size_t)]


INS_TYPES_QUALIFIED, INS_TYPES_ALL = 1, 2


class ins_chain_options(ctypes.Structure):
    _fields_ = [("max_depth", c_size_t), ("to_root", c_bool), ("ignore", POINTER(c_uint64)),
                ("nignore", c_size_t)]


class ins_cycle_info(ctypes.Structure):
    _fields_ = [("members", POINTER(c_uint64)), ("n", c_size_t), ("path", c_size_t), ("held", c_size_t),
                ("bytes", c_uint64), ("held_bytes", c_uint64)]


class ins_collection(ctypes.Structure):
    _fields_ = [("unreachable", POINTER(c_uint64)), ("n", c_size_t), ("cycles", POINTER(ins_cycle_info)),
                ("ncycles", c_size_t)]


class ins_refcheck_row(ctypes.Structure):
    _fields_ = [("address", c_uint64), ("refcnt", c_int64), ("referrers", c_uint64), ("residual", c_int64)]


class ins_retained(ctypes.Structure):
    _fields_ = [("count", c_uint64), ("bytes", c_uint64), ("dominators", POINTER(c_uint64)),
                ("ndominators", c_size_t), ("total_bytes", c_uint64)]


class ins_mem_class(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("pools", c_uint64), ("used_blocks", c_uint64), ("free_blocks", c_uint64)]


class ins_memory_stats(ctypes.Structure):
    _fields_ = [("pymalloc", c_int), ("why", c_char_p)] + \
        [(n, c_uint64) for n in ("arenas", "arena_size", "pools", "pool_size", "free_pools", "allocated_bytes",
                                 "free_bytes", "nearly_empty_arenas")] + \
        [("classes", POINTER(ins_mem_class)), ("nclasses", c_size_t)] + \
        [(n, c_uint64) for n in ("tracked", "tracked_bytes", "frozen", "frozen_bytes", "untracked",
                                 "untracked_bytes", "in_pymalloc_bytes", "malloced", "malloced_bytes",
                                 "static_bytes", "memory_bytes", "file_backed_bytes", "anonymous_bytes")] + \
        [("stacks", c_bool), ("threads", c_uint64), ("stack_segments", c_uint64), ("stack_bytes", c_uint64)]


class ins_suspect_info(ctypes.Structure):
    _fields_ = [("address", c_uint64), ("count", c_uint64), ("bytes", c_uint64), ("accumulation", c_uint64),
                ("acc_count", c_uint64), ("acc_bytes", c_uint64), ("type", ctypes.c_char_p),
                ("accumulated", c_uint64), ("accumulated_bytes", c_uint64), ("referrer", c_uint64),
                ("referrer_count", c_uint64), ("chain", POINTER(c_uint64)), ("nchain", c_size_t),
                ("chain_found", c_bool), ("allocated_file", c_char_p), ("allocated_line", ctypes.c_uint32),
                ("allocated_count", c_uint64), ("kind", ctypes.c_int), ("instances", POINTER(c_uint64)),
                ("ninstances", c_size_t)]


class ins_local_var(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("value", c_uint64)]


class ins_frame(ctypes.Structure):
    _fields_ = [("function", c_char_p), ("file", c_char_p), ("line", c_int), ("address", c_uint64),
                ("frame_object", c_uint64), ("locals", POINTER(ins_local_var)), ("nlocals", c_size_t)]


class ins_thread(ctypes.Structure):
    _fields_ = [("thread_id", c_uint64), ("tstate", c_uint64), ("gil", c_int), ("frames", POINTER(ins_frame)),
                ("nframes", c_size_t)]


class ins_stacks(ctypes.Structure):
    _fields_ = [("v", POINTER(ins_thread)), ("n", c_size_t)]


class ins_greenlet_stack(ctypes.Structure):
    _fields_ = [("address", c_uint64), ("type", c_char_p), ("frames", POINTER(ins_frame)), ("nframes", c_size_t)]


class ins_greenlet_stacks(ctypes.Structure):
    _fields_ = [("v", POINTER(ins_greenlet_stack)), ("n", c_size_t), ("found", c_size_t)]


class ins_await_frame(ctypes.Structure):
    _fields_ = [("coro", c_uint64), ("qualname", c_char_p), ("function", c_char_p), ("file", c_char_p),
                ("line", c_int)]


class ins_task_info(ctypes.Structure):
    _fields_ = [("address", c_uint64), ("name", c_char_p), ("state", c_char_p), ("coro", c_char_p),
                ("coro_address", c_uint64), ("chain", POINTER(ins_await_frame)), ("nchain", c_size_t),
                ("waits_on", c_uint64), ("waits_on_type", c_char_p), ("waiting_on", c_char_p),
                ("awaiting", c_uint64), ("awaited_by", POINTER(c_uint64)), ("nawaited_by", c_size_t),
                ("loop", c_uint64), ("thread_id", c_uint64), ("has_thread", c_bool)]


class ins_task_list(ctypes.Structure):
    _fields_ = [("v", POINTER(ins_task_info)), ("n", c_size_t), ("supported", c_bool)]


class ins_alloc_frame(ctypes.Structure):
    _fields_ = [("file", c_char_p), ("line", ctypes.c_uint)]


class ins_alloc_group(ctypes.Structure):
    _fields_ = [("file", c_char_p), ("line", ctypes.c_uint), ("size", c_uint64), ("count", c_uint64),
                ("traceback", POINTER(ins_alloc_frame)), ("nframes", c_size_t)]


class ins_allocation_stats(ctypes.Structure):
    _fields_ = [("tracing", c_int), ("available", c_bool), ("why", c_char_p), ("traced_bytes", c_uint64),
                ("traced_blocks", c_uint64), ("v", POINTER(ins_alloc_group)), ("n", c_size_t)]


INS_SUSPECT_OBJECT = 0
INS_SUSPECT_GROUP = 1
INS_ALLOC_BY_LINENO = 0
INS_ALLOC_BY_FILENAME = 1
INS_ALLOC_BY_TRACEBACK = 2
INS_PROGRAM_INDEX_NEVER = 0
INS_PROGRAM_INDEX_READ = 1
INS_PROGRAM_INDEX_MAKE = 2


class ins_gc_state(ctypes.Structure):
    _fields_ = [("enabled", c_bool), ("enabled_known", c_bool), ("garbage_known", c_bool), ("ngens", c_int), ("threshold", ctypes.c_long * 3),
                ("count", ctypes.c_long * 3), ("generation_size", c_size_t * 3), ("frozen", c_size_t),
                ("garbage", c_size_t)]


# ---- prototypes ------------------------------------------------------------------------

_ERR = POINTER(ins_error)
_PROG = c_void_p
_PROTOTYPES = {
    # name: (restype, argtypes)
    "ins_error_free": (None, [_ERR]),
    "ins_free": (None, [c_void_p]),
    "ins_version": (c_char_p, []),
    "ins_program_open_core": (_ERR, [c_char_p, POINTER(ins_open_options), POINTER(_PROG)]),
    "ins_program_open_pid": (_ERR, [c_int, c_bool, POINTER(ins_open_options), POINTER(_PROG)]),
    "ins_program_open_reader": (_ERR, [POINTER(ins_reader), POINTER(ins_open_options), POINTER(_PROG)]),
    "ins_program_open": (_ERR, [POINTER(ins_source), POINTER(_PROG)]),
    "ins_program_free": (None, [_PROG]),
    "ins_program_set_index": (_ERR, [_PROG, c_int, c_char_p]),
    "ins_program_python": (c_char_p, [_PROG]),
    "ins_program_description": (c_char_p, [_PROG]),
    "ins_program_warnings": (c_char_p, [_PROG]),
    "ins_program_clear_warnings": (None, [_PROG]),
    "ins_object_get": (_ERR, [_PROG, c_uint64, POINTER(ins_object)]),
    "ins_object_repr": (_ERR, [_PROG, c_uint64, POINTER(c_void_p)]),
    "ins_object_referents": (_ERR, [_PROG, c_uint64, POINTER(ins_refs)]),
    "ins_object_referrers": (_ERR, [_PROG, c_uint64, POINTER(ins_refs)]),
    "ins_refs_free": (None, [POINTER(ins_refs)]),
    "ins_program_objects": (_ERR, [_PROG, POINTER(POINTER(c_uint64)), POINTER(c_size_t)]),
    "ins_program_objects_by_type": (_ERR, [_PROG, c_char_p, POINTER(POINTER(c_uint64)), POINTER(c_size_t)]),
    "ins_program_types": (_ERR, [_PROG, c_uint, POINTER(ins_type_stats)]),
    "ins_type_stats_free": (None, [POINTER(ins_type_stats)]),
    "ins_program_chain": (_ERR, [_PROG, c_uint64, POINTER(ins_chain_options), POINTER(ins_refs), POINTER(c_bool)]),
    "ins_program_collect": (_ERR, [_PROG, POINTER(ins_collection)]),
    "ins_collection_free": (None, [POINTER(ins_collection)]),
    "ins_program_garbage": (_ERR, [_PROG, POINTER(POINTER(c_uint64)), POINTER(c_size_t)]),
    "ins_program_leaking": (_ERR, [_PROG, c_bool, POINTER(POINTER(c_uint64)), POINTER(c_size_t)]),
    "ins_program_refcheck": (_ERR, [_PROG, POINTER(POINTER(ins_refcheck_row)), POINTER(c_size_t)]),
    "ins_program_retained": (_ERR, [_PROG, c_uint64, POINTER(ins_retained)]),
    "ins_program_suspects": (_ERR, [_PROG, c_uint, c_size_t, POINTER(POINTER(ins_suspect_info)), POINTER(c_size_t)]),
    "ins_suspects_free": (None, [POINTER(ins_suspect_info), c_size_t]),
    "ins_program_memory": (_ERR, [_PROG, POINTER(ins_memory_stats)]),
    "ins_program_stacks": (_ERR, [_PROG, c_bool, POINTER(ins_stacks)]),
    "ins_stacks_free": (None, [POINTER(ins_stacks)]),
    "ins_program_greenlets": (_ERR, [_PROG, c_bool, POINTER(ins_greenlet_stacks)]),
    "ins_greenlet_stacks_free": (None, [POINTER(ins_greenlet_stacks)]),
    "ins_program_tasks": (_ERR, [_PROG, c_bool, POINTER(ins_task_list)]),
    "ins_task_list_free": (None, [POINTER(ins_task_list)]),
    "ins_program_allocations": (_ERR, [_PROG, c_int, POINTER(ins_allocation_stats)]),
    "ins_allocation_stats_free": (None, [POINTER(ins_allocation_stats)]),
    "ins_program_object_traceback": (_ERR, [_PROG, c_uint64, POINTER(POINTER(ins_alloc_frame)), POINTER(c_size_t)]),
    "ins_program_gc": (_ERR, [_PROG, POINTER(ins_gc_state)]),
}


class Library(object):
    """One loaded libinspect: the CDLL with its prototypes set, and where it was loaded from."""

    def __init__(self, path):
        self.path = path
        try:
            self.dll = ctypes.CDLL(path)
        except OSError as e:
            raise LibraryError(Code.FAIL, "cannot load %s: %s" % (path, e))
        missing = [name for name in _PROTOTYPES if not hasattr(self.dll, name)]
        if missing:
            raise LibraryError(Code.FAIL, "%s does not export libinspect's API (no %s)"
                               % (path, ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")))
        for name, (res, args) in _PROTOTYPES.items():
            fn = getattr(self.dll, name)
            fn.restype = res
            fn.argtypes = args
            setattr(self, name, fn)
        self.version = self.ins_version().decode("ascii", "replace")

    def check(self, err):
        """Raises the error an API call returned (and frees it), if it returned one."""
        if err:
            code, msg = err.contents.code, err.contents.message
            self.ins_error_free(err)
            raise error_for(code, decode(msg) if msg is not None else "error %d" % code)

    def take_string(self, ptr):
        """A malloc'd char * the library handed out, as str; frees it."""
        if not ptr.value:
            return None
        try:
            return decode(ctypes.string_at(ptr.value))
        finally:
            self.ins_free(ptr)

    def take_addresses(self, ptr, n):
        """A malloc'd uint64_t array of n addresses, as a list of int; frees it."""
        try:
            return ptr[:n.value] if n.value else []
        finally:
            if ptr:
                self.ins_free(ptr)

    def __repr__(self):
        return "<objinspect library %s (libinspect %s)>" % (self.path, self.version)


def decode(b):
    return b.decode("utf-8", "replace") if b is not None else None


def encode_path(p):
    if p is None:
        return None
    return os.fsencode(p)


# ---- finding the library -----------------------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))
# `make install` may rewrite this line with the directory it installs libinspect.so in.
_LIB_DIRS = []
_NAMES = ("libinspect.so", "libinspect.so.0")   # the ABI these declarations are of: SONAME .0

_lock = threading.Lock()
_current = None


def candidates():
    """Where the library is looked for when neither load_library() nor OBJINSPECT_LIB named it:
    the install's own directory, next to the package, PREFIX/lib for a package installed in
    PREFIX/lib/pythonX/{site,dist}-packages, the repository's build/, then the dynamic loader's
    search path."""
    dirs = list(_LIB_DIRS) + [
        _HERE,
        os.path.normpath(os.path.join(_HERE, "..", "..", "..")),   # PREFIX/lib/python3/dist-packages/objinspect
        os.path.normpath(os.path.join(_HERE, "..", "..", "build")),  # the repository: python/objinspect
    ]
    out = []
    for d in dirs:
        for n in _NAMES:
            out.append(os.path.join(d, n))
    return out


def load_library(path=None):
    """Loads libinspect from path (any shared library exporting libinspect's API, such as a
    superset of it), or finds it: $OBJINSPECT_LIB (a file, or a directory holding
    libinspect.so), then candidates(), then the dynamic loader's own search ("libinspect.so").
    Heaps opened afterwards use it; heaps already open keep the library they were opened with.
    Returns the library; raises objinspect.LibraryError if it cannot be loaded."""
    global _current
    with _lock:
        if path is None:
            env = os.environ.get("OBJINSPECT_LIB")
            if env:
                path = os.path.join(env, _NAMES[0]) if os.path.isdir(env) else env
        if path is not None:
            _current = Library(os.path.abspath(os.fspath(path)) if os.sep in os.fspath(path) else os.fspath(path))
            return _current
        tried = []
        for p in candidates() + list(_NAMES):
            if os.sep in p and not os.path.isfile(p):
                continue
            try:   # a stale build without the API does not stop the search
                _current = Library(p)
                return _current
            except LibraryError as e:
                tried.append(e.message)
        raise LibraryError(Code.FAIL, "libinspect not found (set OBJINSPECT_LIB, or call objinspect.load_library(PATH)); "
                                      "looked in %s and the loader's path: %s"
                           % (", ".join(os.path.dirname(p) for p in candidates()[::len(_NAMES)]), "; ".join(tried)))


def library():
    """The library heaps are opened with (loading the default one on first use)."""
    lib = _current
    return lib if lib is not None else load_library()


__all__ = ["Library", "load_library", "library", "Error"]
