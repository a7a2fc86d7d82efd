"""gdb-objgraph: objgraph-style commands for GDB, a thin layer over the objinspect package.

`source gdbext/objgraph.py` (after `make`) registers the commands of libinspect's command
table (objgraph-types, objgraph-chain, ... `help objgraph-types`), which the objinspect CLI
shares. Every analysis happens in the C library; this file tells it where the memory is and
prints what the command layer renders:

  - a process GDB holds stopped, natively or under gdbserver (`target remote`): its memory is
    read through GDB (`Inferior.read_memory`), its mappings are GDB's (`info proc mappings`),
    the files are those GDB resolves (sysroot);
  - a core GDB opened: the core file itself, mapped (fast), with GDB's sysroot, executable and
    debug-file-directory; `set objgraph-memory gdb` reads it through GDB instead.

One heap per stop: the program (heap walk, reference graph) is opened by the first command
after the inferior stops and kept for every later command until it resumes, exits or its
memory is written; the second `objgraph-refs` costs a lookup, not a rebuild. Nothing runs in
the target and nothing is written to it.
"""
import ctypes
import json
import os
import re
import sys

import gdb

_HERE = os.path.dirname(os.path.abspath(__file__))
_LIB_DIRS = [os.path.join(_HERE, "..", "build")]  # `make install` writes its lib directory here
_PY_DIRS = [os.path.join(_HERE, "..", "python")]  # and where it installs the objinspect package
if os.environ.get("OBJGRAPH_LIB_DIR"):
    _LIB_DIRS.insert(0, os.environ["OBJGRAPH_LIB_DIR"])
if os.environ.get("OBJGRAPH_PY_DIR"):
    _PY_DIRS.insert(0, os.environ["OBJGRAPH_PY_DIR"])
_LIB_NAME = "libinspect-cli.so"  # libinspect with the command layer: one program for both

for _d in reversed(_PY_DIRS):
    if os.path.isdir(os.path.join(_d, "objinspect")) and _d not in sys.path:
        sys.path.insert(0, _d)
import objinspect  # noqa: E402  (the package, found where make install put it)


class _CommandInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_char_p) for name in
                ("name", "gdb_name", "usage", "summary", "help", "options")]


def _load():
    for d in _LIB_DIRS:
        path = os.path.join(d, _LIB_NAME)
        if os.path.exists(path):
            break
    else:
        raise gdb.GdbError("gdb-objgraph: %s not found in %s; run `make` first" % (_LIB_NAME, ", ".join(_LIB_DIRS)))
    lib = objinspect.load_library(os.path.abspath(path))
    dll = lib.dll
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    dll.ins_ctx_new.restype = vp
    dll.ins_ctx_free.argtypes = [vp]
    dll.ins_cli_run.restype = ctypes.c_int
    dll.ins_cli_run.argtypes = [vp, vp, ctypes.c_int, ctypes.POINTER(cp), ctypes.POINTER(vp), ctypes.POINTER(vp)]
    dll.ins_free.argtypes = [vp]
    dll.ins_command_count.restype = ctypes.c_size_t
    dll.ins_command_get.restype = ctypes.POINTER(_CommandInfo)
    dll.ins_command_get.argtypes = [ctypes.c_size_t]
    return dll


_lib = _load()


class _MemoryParameter(gdb.Parameter):
    """Where gdb-objgraph reads a core GDB opened: `auto` maps the core file itself (fast);
    `gdb` reads its memory through GDB, as it does for a process. Processes, local or remote,
    are always read through GDB."""
    set_doc = "Set where gdb-objgraph reads a core from (auto: the core file; gdb: through GDB)."
    show_doc = "Show where gdb-objgraph reads a core from."

    def __init__(self):
        super(_MemoryParameter, self).__init__("objgraph-memory", gdb.COMMAND_DATA, gdb.PARAM_ENUM, ["auto", "gdb"])
        self.value = "auto"

    def get_set_string(self):
        return ""

    def get_show_string(self, svalue):
        return "gdb-objgraph reads a core from: %s" % svalue


_memory = _MemoryParameter()


class _Target(object):
    """What gdb-objgraph keeps for one inferior: the heap of the current stop (None until a
    command needs it, dropped when the inferior resumes) and the context that lives across
    stops (objgraph-growth's peaks)."""

    def __init__(self, key):
        self.key = key
        self.heap = None
        self.ctx = _lib.ins_ctx_new()

    def drop(self):
        if self.heap is not None:
            self.heap.close()
            self.heap = None

    def close(self):
        self.drop()
        if self.ctx:
            _lib.ins_ctx_free(self.ctx)
            self.ctx = None


_targets = {}  # inferior number -> _Target


def _forget(*_):
    """The inferior runs again, exits, or its memory or files change: the heap is stale."""
    for t in _targets.values():
        t.drop()


for _name in ("cont", "exited", "memory_changed", "register_changed", "new_objfile", "clear_objfiles",
              "inferior_call_post"):
    _ev = getattr(gdb.events, _name, None)
    if _ev is not None:
        _ev.connect(_forget)


def _core_file():
    """The core file GDB has open, or None."""
    text = gdb.execute("info target", to_string=True)
    m = re.search(r"Local core dump file:\s*`(.*)',", text)
    return m.group(1) if m else None


def _sysroot():
    root = gdb.parameter("sysroot") or ""
    return None if root in ("", "/", "target:", "remote:") or root.startswith("target:") else root


def _debug_dir():
    """GDB's debug-file-directory (':'-separated), where libinspect looks for detached debug
    info as GDB does (under the sysroot when one is set)."""
    try:
        return gdb.parameter("debug-file-directory") or None
    except gdb.error:
        return None


_MAPPING = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s*([r-][w-][x-][ps])?\s*(.*?)\s*$")
_SECTION = re.compile(r"^\s*\[\d+\]\s+(0x[0-9a-f]+)->(0x[0-9a-f]+)\s+at\s+0x[0-9a-f]+:\s+load\S*\s+(.*)$")


def _regions(core):
    """The inferior's address space as GDB sees it: `info proc mappings` (a process, local or
    remote: with permissions; a core: its files' mappings), and for a core the memory it holds,
    its load sections."""
    regions = []
    for line in gdb.execute("info proc mappings", to_string=True).splitlines():
        m = _MAPPING.match(line)
        if not m:
            continue
        start, end, offset = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)
        perms, path = m.group(4), m.group(5) or None
        if perms is None:  # a core's file mapping: read from the file (as code is) unless the
            perms = "r-xp"  # core holds the bytes (its load sections, below)
        if path and path.endswith(" (deleted)"):
            path = path[:-len(" (deleted)")]
        regions.append((start, end, offset, perms, path))
    if core:
        text = gdb.execute("maint info sections", to_string=True)
        text = text[text.find("Core file"):]
        for line in text.splitlines():
            m = _SECTION.match(line)
            if m and "HAS_CONTENTS" in m.group(3):
                perms = "r--p" if "READONLY" in m.group(3) else "rw-p"
                regions.append((int(m.group(1), 16), int(m.group(2), 16), 0, perms, None))
    return regions


def _local(path):
    """A file name as GDB gives it, as this machine reads it: GDB names files it reads through
    the target ("target:/usr/bin/python3", a process in another mount namespace, a gdbserver
    target) with a prefix; libinspect reads them itself, here. None if it is not here."""
    if path and path.startswith("target:"):
        path = path[len("target:"):]
    return path if path and os.path.exists(path) else None


def _files(regions):
    """The libraries as GDB found them, where that is not where the image names them: its
    solib-search-path (or another sysroot) finds a core's libraries elsewhere, and libinspect
    reads the same files GDB does."""
    files = {}
    for start, end, offset, perms, path in regions:
        if path and path not in files:
            local = _local(gdb.solib_name(start))
            if local and local != path:
                files[path] = local
    return files


def _thread_sps(inf):
    """Each thread's stack pointer as GDB has it (its newest frame's $sp), for the memory
    command's thread stacks; the selected thread and frame stay selected. [] when GDB cannot
    tell them all."""
    try:
        keep_thread, keep_frame = gdb.selected_thread(), gdb.selected_frame()
    except gdb.error:
        return []
    sps = []
    try:
        for t in inf.threads():
            t.switch()
            sps.append(int(gdb.newest_frame().read_register("sp")) & 0xFFFFFFFFFFFFFFFF)
    except gdb.error:
        sps = []
    finally:
        keep_thread.switch()
        keep_frame.select()
    return sps


def _open(inf, core):
    exe = _local(gdb.current_progspace().filename)
    sysroot, debug_dir = _sysroot(), _debug_dir()
    if core and _memory.value == "auto":
        # a valid saved index beside the core (objinspect CORE index) is read, as objinspect
        # reads it; none is written: the extension keeps each stop's graph itself, and
        # objgraph-index is objinspect's only. The files are the mappings' (no load sections:
        # libinspect reads the core's memory itself).
        return objinspect.open_core(core, exe=exe, sysroot=sysroot, debug_dir=debug_dir, index="auto",
                                    files=_files(_regions(None)))

    def read(addr, n):
        return inf.read_memory(addr, n).tobytes()

    conn = getattr(inf, "connection", None)
    if core:
        what = "core %s (through GDB)" % core
    elif conn is not None and conn.type != "native":
        what = "process %d on %s target %s" % (inf.pid, conn.type, getattr(conn, "details", None) or "")
    else:
        what = "live process %d (through GDB)" % inf.pid
    regions = _regions(core)
    return objinspect.open_reader(read, regions, pid=0 if core else inf.pid, description=what.strip(), exe=exe,
                                  sysroot=sysroot, debug_dir=debug_dir, files=_files(regions), thread_sps=_thread_sps(inf))


def _heap():
    """The _Target of the selected inferior with its heap of the current stop, opened now if
    this is the first command since it stopped."""
    inf = gdb.selected_inferior()
    core = _core_file()
    if core is None and not inf.pid:
        raise gdb.GdbError("gdb-objgraph: no process and no core file; use `gdb -p PID` or `gdb python CORE`")
    if core is None and any(t.is_running() for t in inf.threads()):
        raise gdb.GdbError("gdb-objgraph: the process is running; interrupt it (Ctrl-C) first")
    conn = getattr(inf, "connection", None)
    key = (core, inf.pid, getattr(conn, "num", None), _memory.value)
    t = _targets.get(inf.num)
    if t is None or t.key != key:
        if t is not None:
            t.close()
        t = _targets[inf.num] = _Target(key)
    if t.heap is None:
        try:
            t.heap = _open(inf, core)
        except objinspect.Error as e:
            raise gdb.GdbError(e.message)
    return t


def objgraph_heap():
    """The objinspect.Heap of the selected inferior's current stop (the one the commands use),
    for scripts in GDB's Python: `python h = objgraph_heap(); print(h.types(limit=5))`."""
    return _heap().heap


def _take(ptr):
    if not ptr.value:
        return ""
    s = ctypes.string_at(ptr.value).decode("utf-8", "replace")
    _lib.ins_free(ptr.value)
    return s


def _run(argv):
    """Runs one command of the table on the current stop's heap: (status, output, errors)."""
    t = _heap()
    c_argv = (ctypes.c_char_p * len(argv))(*[a.encode() for a in argv])
    out, err = ctypes.c_void_p(), ctypes.c_void_p()
    code = _lib.ins_cli_run(t.ctx, t.heap._h(), len(argv), c_argv, ctypes.byref(out), ctypes.byref(err))
    return code, _take(out), _take(err)


class _Command(gdb.Command):
    def __init__(self, info):
        self._name = info.gdb_name.decode()
        self._options = info.options.decode().split()
        self._usage = info.usage.decode()
        self.__doc__ = "%s\nUsage: %s %s\n\n%s" % (info.summary.decode(), self._name,
                                                    info.usage.decode(), info.help.decode())
        super(_Command, self).__init__(self._name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        code, out, err = _run([self._name] + gdb.string_to_argv(arg))
        gdb.write(out)
        if code != 0:
            lines = [l for l in err.splitlines() if l]
            for line in lines[:-1]:
                gdb.write(line + "\n", gdb.STDERR)
            last = lines[-1] if lines else ""
            raise gdb.GdbError(last[7:] if last.startswith("error: ") else last or "%s failed (%d)" % (self._name, code))
        if err:
            gdb.write(err, gdb.STDERR)

    def complete(self, text, word):
        # GDB breaks words at '-': complete the whole last token, hand back its tail
        word = word or ""
        token = "" if not text or text[-1].isspace() else text.split()[-1]
        cut = len(token) - len(word)
        args = gdb.string_to_argv(text)
        if token.startswith("-") or "TYPE" not in self._usage or len(args) > (1 if token else 0):
            return [o[cut:] for o in self._options if o.startswith(token)]
        # a TYPE argument: the type names of the objects in the heap, most common first
        try:
            code, out, _ = _run(["types", "--limit", "0", "--json"])
        except gdb.GdbError:
            return []
        if code != 0:
            return []
        return [t["type"][cut:] for t in json.loads(out)["types"] if t["type"].startswith(token)]


for _i in range(_lib.ins_command_count()):
    _Command(_lib.ins_command_get(_i).contents)
