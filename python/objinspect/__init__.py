"""objinspect: CPython heaps read from the outside, from Python (docs/api.md).

The Python face of libinspect (include/libinspect/libinspect.h), through ctypes: no
dependency beside the standard library, any CPython from 3.8 and GDB's embedded Python.
Nothing runs inside the target and nothing is written to it.

    import objinspect
    with objinspect.open_core("core.1234") as heap:
        print(heap.python)
        for t in heap.types(limit=10):
            print(t.name, t.count, t.bytes)
        ch = heap.objects("Channel")[0]
        for label, o in heap.chain(ch):
            print(label, o)
        for c in heap.cycles():
            print(len(c.members), c.bytes, c.held)

The library is libinspect.so (or any library exporting its API): load_library(PATH), else
$OBJINSPECT_LIB, else next to this package, PREFIX/lib for a package installed under
PREFIX/lib/python3*/, the repository's build/, then the dynamic loader's path.
"""
from ._errors import (Code, CorruptError, Error, InputError, LibraryError, MismatchError, NotFoundError,
                      NotPythonError, OutOfMemoryError, SystemCallError, UnsupportedError, UsageError)
from ._capi import load_library, library as _library
from ._heap import (Chain, Collection, Cycle, Frame, GCState, Heap, Object, Ref, RefcheckRow, Retained, Thread, TypeStat,
                    TypeStats, attach, open_core, open_reader, proc_maps)
from ._heap import Memory, SizeClass, Stacks
from ._heap import AllocSite, Suspect
from ._heap import AllocGroup, Allocations, AwaitStep, Greenlet, Task
from ._capi import INS_MAP_EXEC as MAP_EXEC, INS_MAP_READ as MAP_READ, INS_MAP_WRITE as MAP_WRITE

__version__ = "1.0.0"


def library_version():
    """libinspect's version, "MAJOR.MINOR.PATCH" (loading the library if needed)."""
    return _library().version


def library_path():
    """The path of the libinspect the next heap is opened with (loading it if needed)."""
    return _library().path


__all__ = [
    "open_core", "attach", "open_reader", "proc_maps", "load_library", "library_version", "library_path",
    "Heap", "Object", "Ref", "Chain", "TypeStat", "TypeStats", "Cycle", "Collection", "RefcheckRow", "Retained",
    "Thread", "Frame", "GCState", "Memory", "SizeClass", "Stacks", "Suspect", "AllocSite", "Greenlet", "Task", "AwaitStep", "Allocations", "AllocGroup", "MAP_READ", "MAP_WRITE", "MAP_EXEC",
    "Code", "Error", "UsageError", "InputError", "NotPythonError", "UnsupportedError", "NotFoundError",
    "CorruptError", "MismatchError", "SystemCallError", "OutOfMemoryError", "LibraryError",
]
