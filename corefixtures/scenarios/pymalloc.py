# Scenario pymalloc: a heap whose pymalloc arenas, pools and blocks are known to the
# interpreter itself. Builds many small objects of several size classes (bytes of a few
# lengths, tuples, floats, instances), frees every other one of some kinds (free blocks in
# used pools) and nearly all of another (pools and arenas left almost empty), and keeps a
# few objects too big for pymalloc (malloc'd bytes, a list's item array).
#
# Truth: sys._debugmallocstats() (3.3+) run in a child forked right before truth.dump, its
# stderr text in extra["debugmallocstats"] as the interpreter printed it (the test parses
# it: arenas allocated current, bytes in allocated/available blocks, each size class's
# pools, blocks in use and available blocks). The parent only reads that text back (one
# str) between the fork and the core. 2.7 has no sys._debugmallocstats: the truth has
# "debugmallocstats": null there.
from __future__ import print_function
import gc
gc.disable()
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import truth  # noqa: E402

N = 20000


class Small(object):
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


_bytes = {}        # length -> list of bytes objects of that length (untracked)
_tuples = []       # tuples of 1..6 items
_floats = []
_smalls = []
_sparse = []       # every 50th survivor of a big batch: nearly empty pools and arenas
_large = []        # too big for pymalloc: malloc'd


def build():
    for n in (1, 20, 60, 150, 300, 450):
        _bytes[n] = [(b"x" * n + str(i).encode())[:n] for i in range(N // 4)]
    for i in range(N):
        _tuples.append(tuple(range(i % 6 + 1)))
        _floats.append(float(i) + 0.5)
        _smalls.append(Small(i, None))
    # free every other one: free blocks in pools that stay used
    for n in (20, 150, 450):
        del _bytes[n][::2]
    del _floats[::2]
    del _smalls[1::2]
    # a big batch, then all but every 50th freed: pools and arenas nearly empty
    batch = [b"y" * 200 + str(i).encode() for i in range(8 * N)]
    _sparse.extend(batch[::50])
    del batch
    _large.append(b"L" * (256 * 1024))
    _large.append(b"M" * (1024 * 1024 + 7))
    _large.append(list(range(50000)))
    _large.append(b"S" * 4000)


def mallocstats(path):
    """sys._debugmallocstats()'s text, printed by a forked child into path; None on 2.7."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 2)
            sys._debugmallocstats()
            status = 0
        finally:
            os._exit(status)
    os.waitpid(pid, 0)
    f = open(path)
    try:
        text = f.read()
    finally:
        f.close()
    os.unlink(path)
    return text


def main():
    out, live = truth.parse_args()
    build()
    extra = {
        "scenario": "pymalloc",
        "pymalloc_env": os.environ.get("PYTHONMALLOC"),
        "large": [{"address": "0x%x" % id(o), "size": sys.getsizeof(o)} for o in _large],
    }
    extra["debugmallocstats"] = mallocstats(out + ".mallocstats.tmp")
    truth.publish(out + ".truth.json", extra, live)


if __name__ == "__main__":
    main()
