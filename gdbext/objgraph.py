"""gdb-objgraph: objgraph-style commands for GDB, a thin layer over libinspect.

`source gdbext/objgraph.py` (after `make`) registers objgraph-types, objgraph-count,
objgraph-by-type, objgraph-at, objgraph-growth, objgraph-gc and objgraph-info -- the
command table of libinspect, which the objinspect CLI shares. Every analysis happens in
the C library: this file only tells it where the memory is (the core file GDB has open,
or the process GDB holds stopped) and prints what it returns. Nothing runs in the target.
"""
import ctypes
import json
import os
import re

import gdb

_HERE = os.path.dirname(os.path.abspath(__file__))
_LIB_DIRS = [os.path.join(_HERE, "..", "build")]  # `make install` writes its lib directory here
if os.environ.get("OBJGRAPH_LIB_DIR"):
    _LIB_DIRS.insert(0, os.environ["OBJGRAPH_LIB_DIR"])


class _Source(ctypes.Structure):
    _fields_ = [("core", ctypes.c_char_p), ("exe", ctypes.c_char_p), ("sysroot", ctypes.c_char_p),
                ("pid", ctypes.c_int), ("attach", ctypes.c_int), ("debug_dir", ctypes.c_char_p)]


class _CommandInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_char_p) for name in
                ("name", "gdb_name", "usage", "summary", "help", "options")]


def _load():
    for d in _LIB_DIRS:
        path = os.path.join(d, "libinspect-cli.so")
        if os.path.exists(path):
            lib = ctypes.CDLL(os.path.abspath(path))
            break
    else:
        raise gdb.GdbError("gdb-objgraph: libinspect-cli.so not found in %s; run `make` first" % ", ".join(_LIB_DIRS))
    lib.ins_ctx_new.restype = ctypes.c_void_p
    lib.ins_ctx_free.argtypes = [ctypes.c_void_p]
    lib.ins_run.restype = ctypes.c_int
    lib.ins_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Source), ctypes.c_int,
                            ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_void_p),
                            ctypes.POINTER(ctypes.c_void_p)]
    lib.ins_free.argtypes = [ctypes.c_void_p]
    lib.ins_command_count.restype = ctypes.c_size_t
    lib.ins_command_get.restype = ctypes.POINTER(_CommandInfo)
    lib.ins_command_get.argtypes = [ctypes.c_size_t]
    return lib


_lib = _load()
_contexts = {}  # (inferior number, pid or core) -> ins_ctx: objgraph-growth's peaks


def _core_file():
    """The core file GDB has open, or None."""
    text = gdb.execute("info target", to_string=True)
    m = re.search(r"Local core dump file:\s*`(.*)',", text)
    return m.group(1) if m else None


def _sysroot():
    root = gdb.parameter("sysroot") or ""
    return None if root in ("", "target:", "remote:") or root.startswith("target:") else root


def _debug_dir():
    """GDB's debug-file-directory (':'-separated), where libinspect looks for detached debug
    info as GDB does (under the sysroot when one is set)."""
    try:
        return gdb.parameter("debug-file-directory") or None
    except gdb.error:
        return None


def _source():
    inf = gdb.selected_inferior()
    core = _core_file()
    if core is None and not inf.pid:
        raise gdb.GdbError("gdb-objgraph: no process and no core file; use `gdb -p PID` or `gdb python CORE`")
    if core is None and any(t.is_running() for t in inf.threads()):
        raise gdb.GdbError("gdb-objgraph: the process is running; interrupt it (Ctrl-C) first")
    exe = gdb.current_progspace().filename
    src = _Source(core=core.encode() if core else None,
                  exe=exe.encode() if (core and exe) else None,
                  sysroot=(_sysroot() or "").encode() or None,
                  pid=0 if core else inf.pid, attach=0,
                  debug_dir=(_debug_dir() or "").encode() or None)
    return src, (inf.num, core or inf.pid)


def _take(ptr):
    if not ptr.value:
        return ""
    s = ctypes.string_at(ptr.value).decode("utf-8", "replace")
    _lib.ins_free(ptr.value)
    return s


def _run(argv):
    """Runs one command of the table on the current inferior: (status, output, errors)."""
    src, key = _source()
    if key not in _contexts:
        _contexts[key] = _lib.ins_ctx_new()
    c_argv = (ctypes.c_char_p * len(argv))(*[a.encode() for a in argv])
    out, err = ctypes.c_void_p(), ctypes.c_void_p()
    code = _lib.ins_run(_contexts[key], ctypes.byref(src), len(argv), c_argv,
                        ctypes.byref(out), ctypes.byref(err))
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
