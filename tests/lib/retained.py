#!/usr/bin/env python3
"""retained.py -- `objinspect CORE retained` against the interpreter's own retained sets.

    retained.py exact TRUTH CORE OBJINSPECT   every object of the truth's "retained" (the named
                                               globals, corefixtures/truth.py _retained):
                                               `retained ADDR --json` count, bytes and holds
                                               (by type) equal it exactly
    retained.py top CORE OBJINSPECT           `retained --json`: largest first, each equal to
                                               `retained ADDR`, none above total_bytes

Prints one line per object compared ("ok ..." / "FAIL ..."); exits 1 on any FAIL, 2 when
there was nothing to compare."""
import json
import subprocess
import sys


def oi(exe, core, *args):
    p = subprocess.run(["timeout", "120", exe, core] + list(args) + ["--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        raise SystemExit("FAIL objinspect %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


def exact(truth_path, core, exe):
    with open(truth_path) as f:
        truth = json.load(f)
    want = truth.get("retained")
    if not want:
        return 2
    bad = 0
    for addr in sorted(want):
        t = want[addr]
        got = oi(exe, core, "retained", addr, "--limit", "0")
        holds = dict((h["type"], h["count"]) for h in got["holds"])
        same = got["count"] == t["count"] and got["bytes"] == t["bytes"]
        if same and holds == t["types"]:
            print("ok   %s %s retains %d objects, %d bytes (closure %d)" % (
                t["name"], addr, t["count"], t["bytes"], t["closure"]))
            continue
        bad += 1
        print("FAIL %s %s: objinspect %d objects %d bytes, the interpreter %d objects %d bytes" % (
            t["name"], addr, got["count"], got["bytes"], t["count"], t["bytes"]))
        for k in sorted(set(holds) | set(t["types"])):
            if holds.get(k, 0) != t["types"].get(k, 0):
                print("     %-24s objinspect %d, interpreter %d" % (k, holds.get(k, 0), t["types"].get(k, 0)))
    return 1 if bad else 0


def top(core, exe):
    got = oi(exe, core, "retained", "--limit", "5")
    rows = got["top"]
    if not rows:
        return 2
    bad = 0
    last = None
    for r in rows:
        one = oi(exe, core, "retained", r["address"])
        key = (r["bytes"], r["count"])
        ok = (one["count"], one["bytes"]) == (r["count"], r["bytes"]) and r["bytes"] <= got["total_bytes"] \
            and (last is None or key <= last) and one["type"] == r["type"]
        last = key
        print("%s %s %s retains %d objects, %d bytes" % ("ok  " if ok else "FAIL", r["address"], r["type"],
                                                         r["count"], r["bytes"]))
        bad += not ok
    return 1 if bad else 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "exact":
        return exact(*sys.argv[2:])
    if len(sys.argv) == 4 and sys.argv[1] == "top":
        return top(*sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
