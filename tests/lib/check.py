#!/usr/bin/env python3
"""check.py -- compares objinspect's JSON with the interpreter's own truth file.

  check.py types TRUTH JSON [BOUND]   scenario classes exact, every type's count and the
                                      total within BOUND of gc.get_objects()
  check.py sizes TRUTH JSON           bytes per type for the scenario's own classes
  check.py qualified TRUTH JSON       qualified names' counts of the scenario classes
  check.py by-type TRUTH JSON CLASS   addresses equal the id()s
  check.py growth TRUTH_A TRUTH_B JSON
  check.py gc TRUTH JSON
  check.py get TRUTH KEY[.KEY...]     prints one value of the truth
Prints one line per mismatch and exits 1 if there is any.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def rows(doc, key="type"):
    out = {}
    for r in doc["types"]:
        out[r[key]] = out.get(r[key], 0) + r["count"]
    return out


def fail(msgs):
    for m in msgs:
        print(m)
    sys.exit(1 if msgs else 0)


def check_types(truth, doc, bound):
    bad = []
    ours = rows(doc)
    # with gc.freeze(), the scenario's expectation includes the frozen objects, which
    # gc.get_objects() (and our types) leave out: those are checked against with_frozen
    whole = truth.get("with_frozen", truth)
    for cls, n in sorted(truth["expected"].items()):
        if whole["types"].get(cls) != n:
            bad.append("truth itself has %s=%s, scenario expected %s" % (cls, whole["types"].get(cls), n))
        if ours.get(cls) != truth["types"].get(cls):
            bad.append("%s: objinspect %s, gc.get_objects() %s" % (cls, ours.get(cls), truth["types"].get(cls)))
    if doc["python"] != truth["python"]:
        bad.append("python: objinspect %s, interpreter %s" % (doc["python"], truth["python"]))
    if abs(doc["objects"] - truth["objects"]) > bound:
        bad.append("objects: objinspect %d, len(gc.get_objects()) %d (bound %d)" % (doc["objects"], truth["objects"], bound))
    for name in set(ours) | set(truth["types"]):
        a, b = ours.get(name, 0), truth["types"].get(name, 0)
        if abs(a - b) > bound:
            bad.append("type %s: objinspect %d, gc.get_objects() %d (bound %d)" % (name, a, b, bound))
    return bad


# builtins whose sys.getsizeof objinspect models (docs/commands.md); compared when the
# counts agree exactly (the truth's own bookkeeping may add a few objects otherwise)
SIZED_BUILTINS = ("list", "tuple", "dict", "set", "frozenset", "function", "module", "cell", "method")


def check_sizes(truth, doc):
    ours, counts = {}, {}
    for r in doc["types"]:
        ours[r["type"]] = ours.get(r["type"], 0) + r["bytes"]
        counts[r["type"]] = counts.get(r["type"], 0) + r["count"]
    names = sorted(truth["expected"]) + [b for b in SIZED_BUILTINS if counts.get(b) == truth["types"].get(b)]
    return ["bytes of %s: objinspect %s, sys.getsizeof sum %s" % (c, ours.get(c), truth["bytes"].get(c))
            for c in names if ours.get(c) != truth["bytes"].get(c)]


def main():
    cmd = sys.argv[1]
    if cmd == "get":
        v = load(sys.argv[2])
        for k in sys.argv[3].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
        return
    truth = load(sys.argv[2])
    if cmd == "types":
        fail(check_types(truth, load(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 0))
    elif cmd == "sizes":
        fail(check_sizes(truth, load(sys.argv[3])))
    elif cmd == "qualified":
        ours = rows(load(sys.argv[3]), "type")
        fail(["%s: objinspect %s, interpreter %s" % (q, ours.get(q), n) for q, n in sorted(truth["qualified"].items())
              if q.split(".")[-1] in truth["expected"] and ours.get(q) != n])
    elif cmd == "by-type":
        doc, cls = load(sys.argv[3]), sys.argv[4]
        want = sorted(int(a, 16) for a in truth["ids"][cls])
        got = sorted(int(a, 16) for a in doc["objects"])
        fail([] if want == got and doc["count"] == len(want) else
             ["by-type %s: %d addresses, %d id()s, %d in common" % (cls, len(got), len(want), len(set(got) & set(want)))])
    elif cmd == "growth":
        b, doc = load(sys.argv[3]), load(sys.argv[4])
        ours = {r["type"]: r["delta"] for r in doc["growth"]}
        bad = []
        for cls in b["expected"]:
            want = b["types"].get(cls, 0) - truth["types"].get(cls, 0)
            if want > 0 and ours.get(cls) != want:
                bad.append("growth of %s: objinspect %s, interpreter %d" % (cls, ours.get(cls), want))
        fail(bad)
    elif cmd == "gc":
        doc, g = load(sys.argv[3]), truth["gc"]
        bad = []
        for k in ("enabled", "threshold", "garbage"):
            if doc[k] != g[k]:
                bad.append("gc %s: objinspect %s, interpreter %s" % (k, doc[k], g[k]))
        # the fork of the truth collector can free a few frozen objects (3.11 re-creates
        # threading's locks in the child), so the frozen count shares the bound
        if abs(doc["frozen"] - g["freeze_count"]) > 10:
            bad.append("gc frozen: objinspect %s, gc.get_freeze_count() %s" % (doc["frozen"], g["freeze_count"]))
        fail(bad)
    else:
        sys.exit("check.py: unknown check " + cmd)


if __name__ == "__main__":
    main()
