"""idxdamage.py OBJINSPECT CORE TMPDIR -- the saved index's checks, one at a time.

Writes CORE's index, then copies of it with its hashes off (the header's unhashed flag, as
the fuzzer sets it) and one kind of damage each that only a check can find: an edge or a
referrer or a type index out of range, offsets that go back or do not start at 0, an edge
both inferred and borrowed (where any edge has flags), address index entries out of range or
more than it says, a node's referrers out of order, a node listed with its hidden references
past the nodes. Each is ignored with a warning and the answers are those without an index; the copy
with no damage is read without one. Exit 1 with what went wrong."""
import json
import os
import struct
import subprocess
import sys

SECTIONS, FLAGS = 320, 24  # gi_header (gindex.c): the section table, the flags
OFF_HEAP_NTYPES, OFF_N = 104, 184
S_HEAP_TYPE_OF, S_OUT_START, S_OUT, S_OUT_FLAGS, S_IN_START, S_IN, S_HIDDEN_LIST, S_SLOTS = 1, 4, 5, 6, 7, 8, 10, 12
WILD = 0x80000000


def main(binary, core, tmp):
    good = os.path.join(tmp, "good.idx")
    subprocess.run([binary, "--index-file", good, core, "index"], check=True, stdout=subprocess.DEVNULL)
    data = bytes(open(good, "rb").read())

    def sec(k):
        return struct.unpack_from("<QQ", data, SECTIONS + 24 * k)

    def u32s(k):
        off, size = sec(k)
        return struct.unpack_from("<%dI" % (size // 4), data, off)

    n = struct.unpack_from("<Q", data, OFF_N)[0]
    ntypes = struct.unpack_from("<Q", data, OFF_HEAP_NTYPES)[0]
    cases = {}

    def case(name, k, edits):
        b = bytearray(data)
        b[FLAGS] |= 1
        for i, v in edits:
            struct.pack_into("<I" if k != S_OUT_FLAGS else "<B", b, sec(k)[0] + i * (4 if k != S_OUT_FLAGS else 1), v)
        cases[name] = b

    nedges = sec(S_OUT)[1] // 4
    case("an edge to no node", S_OUT, [(nedges // 2, n)])
    case("out_start going back", S_OUT_START, [(n // 2, 0xfffffff0)])
    case("out_start not from 0", S_OUT_START, [(0, 1)])
    if sec(S_OUT_FLAGS)[1]:  # two bits an edge, four edges a byte; none when no edge has flags
        case("an edge both inferred and borrowed", S_OUT_FLAGS, [(sec(S_OUT_FLAGS)[1] // 2, 0x0c)])
    if sec(S_HIDDEN_LIST)[1]:  # (node, count) pairs
        case("a hidden count of no node", S_HIDDEN_LIST, [(0, n)])
    case("a referrer that is no node", S_IN, [(nedges // 2, n + 1)])
    case("in_start going back", S_IN_START, [(n // 2, 0xfffffff0)])
    slots = u32s(S_SLOTS)
    full = next(i for i, v in enumerate(slots) if v and not v & WILD)
    case("an index entry past the nodes", S_SLOTS, [(full, n + 5)])
    case("a wild index entry past the wild ones", S_SLOTS, [(full, WILD | 0x7ffffff)])
    case("more index entries than said", S_SLOTS, [(slots.index(0), 1)])
    case("a type index out of range", S_HEAP_TYPE_OF, [(sec(S_HEAP_TYPE_OF)[1] // 8, ntypes)])
    starts, refs = u32s(S_IN_START), u32s(S_IN)
    run = next((a for a, b in zip(starts, starts[1:]) if b - a >= 2 and refs[a] < refs[a + 1]), None)
    if run is None:
        return ["no node with two distinct referrers in " + core]
    case("a node's referrers out of order", S_IN, [(run, refs[run + 1]), (run + 1, refs[run])])
    case("", S_OUT, [])  # no damage: read without a warning

    bad = []
    pick = subprocess.run([binary, "--no-index", core, "by-type", "dict", "--json"], capture_output=True, text=True)
    objs = json.loads(pick.stdout)["objects"]
    addr = objs[len(objs) // 2]
    cmds = (["backrefs", addr], ["refs", addr], ["leaking", "--limit", "0"])
    want = [subprocess.run([binary, "--no-index", core] + c + ["--json"], capture_output=True, text=True) for c in cmds]
    path = os.path.join(tmp, "damaged.idx")
    for name, b in cases.items():
        with open(path, "wb") as f:
            f.write(b)
        for c, w in zip(cmds, want):
            r = subprocess.run([binary, "--index-file", path, core] + c + ["--json"], capture_output=True, text=True,
                               timeout=120)
            warned = [x for x in r.stderr.splitlines() if x.startswith("warning: ignoring corrupt index " + path)]
            what = "%s (%s)" % (" ".join(c[:1]), name or "no damage")
            if r.returncode != w.returncode or r.stdout != w.stdout:
                bad.append("%s: the answer differs from the one without an index (exit %d): %s"
                           % (what, r.returncode, r.stderr.strip()[:200]))
            if name and len(warned) != 1:
                bad.append("%s: %d warnings, not one: %s" % (what, len(warned), r.stderr.strip()[:200]))
            if not name and r.stderr != w.stderr:
                bad.append("%s: %s" % (what, r.stderr.strip()[:200]))
    return bad


if __name__ == "__main__":
    problems = main(*sys.argv[1:4])
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
