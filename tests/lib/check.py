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
The reference graph (scenario graph; they run objinspect themselves: $OBJINSPECT, else
OBJINSPECT=PATH as the last argument):
  check.py refs TRUTH CORE            refs ADDR of every marked object = gc.get_referents
  check.py backrefs TRUTH CORE        backrefs ADDR = the tracked gc.get_referrers
  check.py chain TRUTH CORE           chain ADDR = objgraph.find_backref_chain(is_proper_module)
  check.py refcheck TRUTH CORE        Leaky 10 unexplained, Orphans 1, Plain and co. 0
  check.py leaking TRUTH CORE BOUND   objgraph.get_leaking_objects: count and types
  check.py types-all TRUTH CORE BOUND types --all = tracked + reached by gc.get_referents
  check.py dot TRUTH FILE.dot KIND ADDR   a show-refs/show-backrefs/show-chain picture
  check.py dot-absent TRUTH FILE.dot ADDR no node for ADDR in the picture
Prints one line per mismatch and exits 1 if there is any.
"""
import json
import os
import re
import subprocess
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


# ------------------------------------------------------------ reference graph --

def objinspect(core, *args):
    """objinspect CORE ARGS... --json -> (doc or None, exit status, stderr)."""
    exe = os.environ.get("OBJINSPECT") or "objinspect"
    p = subprocess.run(["timeout", "60", exe, core] + list(args) + ["--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    doc = None
    if p.returncode == 0:
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            pass
    return doc, p.returncode, p.stderr.strip()


def run_ok(bad, core, *args, **kw):
    doc, rc, err = objinspect(core, *args)
    if doc is None:
        what = kw.get("where") or " ".join(args)
        if rc < 0 or rc >= 124:
            bad.append("%s: objinspect %s crashed or hung (status %d) %s" % (what, " ".join(args), rc, err))
        else:
            bad.append("%s: exit %d, %s" % (what, rc, err or "no JSON"))
    return doc


def _describe(addrs, types):
    return ", ".join("%s %s" % (types.get(a, "?"), a) for a in sorted(addrs))


def check_refs(truth, core):
    bad = []
    for name, g in sorted(truth["graph"].items()):
        where = "refs %s (%s %s)" % (name, g["type"], g["address"])
        doc = run_ok(bad, core, "refs", g["address"], where=where)
        if doc is None:
            continue
        if int(doc.get("address", "0"), 16) != int(g["address"], 16):
            bad.append("%s: address %s" % (where, doc.get("address")))
        rows = doc.get("referents", [])
        inferred = [r["address"] for r in rows if r.get("inferred")]
        if inferred:
            bad.append("%s: inferred edges for a known builtin type: %s" % (where, ", ".join(inferred)))
        got = dict((r["address"], r.get("type")) for r in rows)
        want = g["referents"]
        missing = set(want) - set(got)
        extra = set(got) - set(want)
        if missing:
            bad.append("%s: missing %s" % (where, _describe(missing, g["referent_types"])))
        if extra:
            bad.append("%s: not gc.get_referents: %s" % (where, _describe(extra, got)))
        for a in sorted(set(want) & set(got)):
            if got[a] != g["referent_types"][a]:
                bad.append("%s: %s is a %s, objinspect says %s" % (where, a, g["referent_types"][a], got[a]))
        for a, labels in sorted(g.get("edges", {}).items()):
            if a not in got:
                continue
            have = sorted(set(r.get("edge") for r in rows if r["address"] == a))
            if have != labels:
                bad.append("%s: edge to %s %s labelled %s, expected %s"
                           % (where, g["referent_types"][a], a, have, labels))
    return bad


def check_backrefs(truth, core):
    bad = []
    for name, g in sorted(truth["graph"].items()):
        where = "backrefs %s (%s %s)" % (name, g["type"], g["address"])
        doc = run_ok(bad, core, "backrefs", g["address"], where=where)
        if doc is None:
            continue
        if int(doc.get("address", "0"), 16) != int(g["address"], 16):
            bad.append("%s: address %s" % (where, doc.get("address")))
        got = dict((r["address"], r.get("type")) for r in doc.get("referrers", []))
        want = g["referrers"]
        missing = set(want) - set(got)
        if missing:
            bad.append("%s: missing %s" % (where, _describe(missing, g["referrer_types"])))
        for a in sorted(set(want) & set(got)):
            if got[a] != g["referrer_types"][a]:
                bad.append("%s: %s is a %s, objinspect says %s" % (where, a, g["referrer_types"][a], got[a]))
        # more referrers are allowed only when they are untracked containers
        for a in sorted(set(got) - set(want)):
            at, rc, err = objinspect(core, "at", a)
            if at is None:
                bad.append("%s: referrer %s %s: at fails (%s)" % (where, got[a], a, err))
            elif at.get("tracked") is not False:
                bad.append("%s: not gc.get_referrers: %s %s (tracked)" % (where, got[a], a))
    return bad


def check_chain(truth, core):
    bad = []
    module = truth["main_module"]
    for name, want in sorted(truth["chains"].items()):
        addr = truth["chain_targets"][name]
        where = "chain %s (%s %s)" % (name, want[-1]["type"], addr)
        doc = run_ok(bad, core, "chain", addr, where=where)
        if doc is None:
            continue
        got = doc.get("chain", [])
        show = " -> ".join("%s %s [%s]" % (r.get("type"), r.get("address"), r.get("edge")) for r in got)
        if not got:
            bad.append("%s: empty chain" % where)
            continue
        if got[0].get("type") != "module" or got[0]["address"] != module:
            bad.append("%s: starts at %s %s, not the __main__ module %s" % (where, got[0].get("type"), got[0]["address"], module))
        if got[-1]["address"] != addr:
            bad.append("%s: ends at %s" % (where, got[-1]["address"]))
        if [r.get("type") for r in got] != [r["type"] for r in want]:
            bad.append("%s: %s; objgraph: %s" % (where, show, " -> ".join("%s [%s]" % (r["type"], r["edge"]) for r in want)))
            continue
        if [r["address"] for r in got] != [r["address"] for r in want]:
            bad.append("%s: %s; objgraph went through %s" % (where, show, " -> ".join(r["address"] for r in want)))
        for i in range(1, len(want)):
            if want[i]["edge"] is not None and got[i].get("edge") != want[i]["edge"]:
                bad.append("%s: edge %d (%s -> %s) labelled %r, expected %r"
                           % (where, i, want[i - 1]["type"], want[i]["type"], got[i].get("edge"), want[i]["edge"]))
        if name == "weak_cached":
            if len(got) < 2 or got[-2]["address"] != truth["weak_via"]:
                bad.append("%s: not through the list %s: %s" % (where, truth["weak_via"], show))
            if any(r["address"] == truth["weak_cache"] or "ref" in r.get("type", "").lower() for r in got):
                bad.append("%s: goes through the weak cache: %s" % (where, show))
    return bad


def check_refcheck(truth, core):
    bad = []
    doc = run_ok(bad, core, "refcheck", "--limit", "0")
    if doc is None:
        return bad
    rows = doc.get("suspects", [])
    by = dict((r["address"], r) for r in rows)
    un = [r.get("unexplained") for r in rows]
    if un != sorted(un, reverse=True):
        bad.append("refcheck: suspects not sorted most unexplained first")
    want = [truth["refcheck"]] + truth["refcheck_orphans"]
    for w in want:
        r = by.get(w["address"])
        what = "%s %s" % (w.get("type", "Orphan"), w["address"])
        if r is None:
            bad.append("refcheck: %s (refcnt %d, %d unexplained) not among the suspects" % (what, w["refcnt"], w["unexplained"]))
            continue
        if r.get("unexplained") != w["unexplained"] or r.get("refcnt") != w["refcnt"]:
            bad.append("refcheck: %s refcnt %s unexplained %s, interpreter: refcnt %d, %d Py_IncRef'd"
                       % (what, r.get("refcnt"), r.get("unexplained"), w["refcnt"], w["unexplained"]))
        if r.get("type") != w.get("type", "Orphan"):
            bad.append("refcheck: %s has type %s" % (what, r.get("type")))
        n = r.get("referrers")
        n = len(n) if isinstance(n, list) else n
        if n != w["refcnt"] - w["unexplained"]:
            bad.append("refcheck: %s: %s referrers, expected %d" % (what, n, w["refcnt"] - w["unexplained"]))
    for a in truth["refcheck_zero"]:
        r = by.get(a)
        if r is not None and r.get("unexplained") != 0:
            bad.append("refcheck: %s %s (refcnt %d, held by Python containers only) reported %s unexplained"
                       % (r.get("type"), a, truth["refcheck_zero_refcnt"][a], r.get("unexplained")))
    return bad


def check_leaking(truth, core, bound):
    bad = []
    doc = run_ok(bad, core, "leaking", "--limit", "0")
    if doc is None:
        return bad
    want = truth["leaking"]
    if abs(doc.get("count", -1) - want["count"]) > bound:
        bad.append("leaking: count %s, get_leaking_objects %d (bound %d)" % (doc.get("count"), want["count"], bound))
    ours = dict((r["type"], r["count"]) for r in doc.get("types", []))
    if sum(ours.values()) != doc.get("count"):
        bad.append("leaking: types add up to %d, count %s" % (sum(ours.values()), doc.get("count")))
    if len(doc.get("objects", [])) != doc.get("count"):
        bad.append("leaking --limit 0: %d objects listed, count %s" % (len(doc.get("objects", [])), doc.get("count")))
    scenario = set(truth["expected"]) | set(truth["id_types"])
    for t in sorted(set(ours) | set(want["types"])):
        a, b = ours.get(t, 0), want["types"].get(t, 0)
        if (t in scenario and a != b) or abs(a - b) > bound:
            bad.append("leaking: %s %d, get_leaking_objects %d%s" % (t, a, b, "" if t in scenario else " (bound %d)" % bound))
    missing = set(want["orphans"]) - set(doc.get("objects", []))
    if missing:
        bad.append("leaking: Orphans not listed: %s" % ", ".join(sorted(missing)))
    return bad


def check_types_all(truth, core, bound):
    bad = []
    doc = run_ok(bad, core, "types", "--all", "--limit", "0")
    if doc is None:
        return bad
    ours = rows(doc)
    want = truth["all_types"]
    for t in ("str", "int"):
        if t in want and t not in ours:
            bad.append("types --all: no %s row" % t)
    scenario = set(truth["expected"]) | set(truth["id_types"])
    for t in sorted(set(ours) | set(want)):
        a, b = ours.get(t, 0), want.get(t, 0)
        if (t in scenario and a != b) or abs(a - b) > bound:
            bad.append("types --all: %s %d, tracked + gc.get_referents closure %d%s"
                       % (t, a, b, "" if t in scenario else " (bound %d)" % bound))
    tracked = run_ok(bad, core, "types", "--limit", "0")
    if tracked is not None:
        for t, n in sorted(rows(tracked).items()):
            if ours.get(t, 0) < n:
                bad.append("types --all: %s %d, fewer than the %d tracked" % (t, ours.get(t, 0), n))
    return bad


# DOT: statements "ID [attrs];" and "ID -> ID [attrs];" as objgraph writes them
_DOT_NODE = re.compile(r'^\s*("?[\w.]+"?)\s*\[(.*)\];?\s*$')
_DOT_EDGE = re.compile(r'^\s*("?[\w.]+"?)\s*->\s*("?[\w.]+"?)\s*(?:\[(.*)\])?;?\s*$')
_DOT_ATTR = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s\]]+)')


def parse_dot(text):
    nodes, edges = {}, []
    for line in text.splitlines():
        m = _DOT_EDGE.match(line)
        if m:
            attrs = dict((k, v.strip('"')) for k, v in _DOT_ATTR.findall(m.group(3) or ""))
            edges.append((m.group(1).strip('"'), m.group(2).strip('"'), attrs))
            continue
        m = _DOT_NODE.match(line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            nid = m.group(1).strip('"')
            nodes.setdefault(nid, {}).update((k, v.strip('"')) for k, v in _DOT_ATTR.findall(m.group(2)))
    return nodes, edges


def node_of(nodes, addr):
    """objgraph names a node o<decimal id>; a hex address in the id is accepted too."""
    a = int(addr, 16)
    for nid in ("o%d" % a, "o0x%x" % a, "0x%x" % a):
        if nid in nodes:
            return nid
    for nid in nodes:
        if ("%x" % a) in nid.lower():
            return nid
    return None


def _is_red(attrs):
    return "red" in (attrs.get("fontcolor"), attrs.get("fillcolor"), attrs.get("color"))


def _is_module_green(attrs):
    # objgraph: modules get hue .3, saturation 1 ("0.3,1,v")
    f = attrs.get("fillcolor", "")
    parts = f.split(",")
    try:
        return len(parts) == 3 and abs(float(parts[0]) - 0.3) < 1e-6 and abs(float(parts[1]) - 1) < 1e-6
    except ValueError:
        return f in ("green", "palegreen", "lightgreen")


def check_dot(truth, path, kind, addr):
    bad = []
    with open(path) as f:
        text = f.read()
    if not text.lstrip().startswith("digraph"):
        return ["%s: not a digraph" % path]
    nodes, edges = parse_dot(text)
    start = node_of(nodes, addr)
    if start is None:
        return ["%s: no node for the start object %s (objgraph names it o%d)" % (kind, addr, int(addr, 16))]
    if not _is_red(nodes[start]):
        bad.append("%s: start node %s not red: %s" % (kind, start, nodes[start]))
    for nid, attrs in nodes.items():
        if "label" not in attrs and not nid.startswith("too_many"):
            bad.append("%s: node %s has no label" % (kind, nid))
            break
    labelled = [e for e in edges if e[2].get("label")]
    module = node_of(nodes, truth["main_module"])
    graph = dict((g["address"], g) for g in truth["graph"].values())
    if kind == "show-refs":
        g = graph.get(addr)
        out = set(e[1] for e in edges if e[0] == start)
        if g is not None and len(g["referents"]) <= 10:
            want = set(node_of(nodes, a) for a in g["referents"])
            if None in want or want != out:
                bad.append("show-refs: edges from the start node go to %d nodes, gc.get_referents has %d (%s)"
                           % (len(out), len(g["referents"]), ", ".join(sorted(a for a in g["referents"] if node_of(nodes, a) not in out))))
            for a, labels in g.get("edges", {}).items():
                n = node_of(nodes, a)
                got = set(e[2].get("label") for e in edges if e[0] == start and e[1] == n)
                keys = [l for l in labels if not l.startswith("[")]   # objgraph labels no index
                if keys and not set(keys) & got:
                    bad.append("show-refs: edge to %s not labelled %s (%s)" % (a, keys, sorted(x for x in got if x)))
    else:
        if module is None or not _is_module_green(nodes[module]):
            bad.append("%s: the __main__ module %s is not a green node (%s)"
                       % (kind, truth["main_module"], nodes.get(module) if module else "absent"))
        if not any(e[1] == start for e in edges):
            bad.append("%s: no edge into the start node" % kind)
        if kind == "show-chain":
            for name, chain in truth["chains"].items():
                if truth["chain_targets"][name] != addr:
                    continue
                ids = [node_of(nodes, r["address"]) for r in chain]
                if None in ids:
                    bad.append("show-chain: chain objects missing: %s" % ", ".join(
                        r["type"] + " " + r["address"] for r, i in zip(chain, ids) if i is None))
                    continue
                for i in range(1, len(ids)):
                    e = [x for x in edges if x[0] == ids[i - 1] and x[1] == ids[i]]
                    if not e:
                        bad.append("show-chain: no edge %s -> %s" % (chain[i - 1]["type"], chain[i]["type"]))
                    elif chain[i]["edge"] and not chain[i]["edge"].startswith("[") and \
                            chain[i]["edge"] not in [x[2].get("label") for x in e]:
                        bad.append("show-chain: edge %s -> %s not labelled %s" % (chain[i - 1]["type"], chain[i]["type"], chain[i]["edge"]))
                if len(nodes) != len(set(ids)):
                    extra = set(nodes) - set(ids)
                    bad.append("show-chain: nodes outside the chain: %s" % ", ".join(sorted(extra)))
    if not labelled:
        bad.append("%s: no edge labels" % kind)
    return bad


def main():
    cmd = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[-1].startswith("OBJINSPECT="):
        os.environ["OBJINSPECT"] = sys.argv.pop()[len("OBJINSPECT="):]
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
    elif cmd == "refs":
        fail(check_refs(truth, sys.argv[3]))
    elif cmd == "backrefs":
        fail(check_backrefs(truth, sys.argv[3]))
    elif cmd == "chain":
        fail(check_chain(truth, sys.argv[3]))
    elif cmd == "refcheck":
        fail(check_refcheck(truth, sys.argv[3]))
    elif cmd == "leaking":
        fail(check_leaking(truth, sys.argv[3], int(sys.argv[4])))
    elif cmd == "types-all":
        fail(check_types_all(truth, sys.argv[3], int(sys.argv[4])))
    elif cmd == "dot-absent":   # TRUTH FILE.dot ADDR: no node for ADDR in the picture
        nodes, _ = parse_dot(open(sys.argv[3]).read())
        fail(["%s is drawn (node %s)" % (sys.argv[4], node_of(nodes, sys.argv[4]))] if node_of(nodes, sys.argv[4]) else [])
    elif cmd == "dot":
        fail(check_dot(truth, sys.argv[3], sys.argv[4], sys.argv[5]))
    else:
        sys.exit("check.py: unknown check " + cmd)


if __name__ == "__main__":
    main()
