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
  check.py leaking TRUTH CORE BOUND   leaking --raw = objgraph.get_leaking_objects without
                                      its gc.collect(): count and types
The heap after a full gc.collect() (every scenario; the truth's child collects last):
  check.py leaking-collected TRUTH CORE BOUND  leaking = get_leaking_objects after gc.collect()
                                      (leaking_collected): the scenario's classes exact,
                                      every type and the count within BOUND
  check.py growth-collected TRUTH_A TRUTH_B JSON BOUND  growth --baseline = show_growth's
                                      deltas of types_collected: scenario classes exact,
                                      every type within BOUND
  check.py types-collected TRUTH JSON BOUND  the counts of a first growth (every type grows
                                      from 0) = types_collected, the same way
  check.py types-all TRUTH CORE BOUND types --all = tracked + reached by gc.get_referents
  check.py dot TRUTH FILE.dot KIND ADDR   a show-refs/show-backrefs/show-chain picture
  check.py dot-absent TRUTH FILE.dot ADDR no node for ADDR in the picture
The collection (every scenario; the truth of a full gc.collect() in the forked child):
  check.py cycles TRUTH CORE BOUND    cycles --limit 0: unreachable count and types, the
                                      strongly connected components, cycle order, edges and
                                      labels, finalizers, finalized, bytes, held, frames
  check.py cycle-groups TRUTH CORE    the scenario's own cycles as it built them
  check.py cycles-options TRUTH CORE  --limit and --min-size cut the same list
  check.py garbage TRUTH CORE         garbage = gc.garbage at the dump, in order
  check.py cycles-rooted TRUTH CORE ADDR  CORE: ADDR's ob_refcnt raised; its cycle and what
                                      that holds are reachable, nothing else changes
Every object's references (scenario cext; runs `objinspect CORE graph --edges --json`):
  check.py referents-all TRUTH CORE [BOUND] [--report]
                                      every tracked object's referents = gc.get_referents,
                                      as a multiset; a summary, the mismatches grouped by
                                      type; at most BOUND (10) truth objects absent from the
                                      core's edges; --report: the summary, exit 0 whatever
Threads (scenario threads; runs `objinspect CORE stacks --locals --json`):
  check.py stacks TRUTH CORE frames   every thread, its frames (function, file, line) exact
  check.py stacks TRUTH CORE locals   the worker threads' locals: names, simple values' reprs
  check.py stacks TRUTH CORE gil      the main thread holds the GIL, no other does
  check.py stacks TRUTH pid:PID live  a live process (--live): the workers' frames and locals
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


def check_leaking(truth, core, bound, collected=False):
    """leaking --raw against the truth's leaking (no collection: the graph scenario), or
    (collected) leaking against leaking_collected (after gc.collect(): every scenario)."""
    bad = []
    doc = run_ok(bad, core, "leaking", "--limit", "0", *(() if collected else ("--raw",)))
    if doc is None:
        return bad
    want = truth["leaking_collected" if collected else "leaking"]
    if doc.get("collected") is not collected:
        bad.append("leaking: \"collected\" is %s, expected %s" % (doc.get("collected"), collected))
    if abs(doc.get("count", -1) - want["count"]) > bound:
        bad.append("leaking: count %s, get_leaking_objects %d (bound %d)" % (doc.get("count"), want["count"], bound))
    ours = dict((r["type"], r["count"]) for r in doc.get("types", []))
    if sum(ours.values()) != doc.get("count"):
        bad.append("leaking: types add up to %d, count %s" % (sum(ours.values()), doc.get("count")))
    if len(doc.get("objects", [])) != doc.get("count"):
        bad.append("leaking --limit 0: %d objects listed, count %s" % (len(doc.get("objects", [])), doc.get("count")))
    scenario = set(truth.get("expected", {})) | set(truth.get("id_types", []))
    for t in sorted(set(ours) | set(want["types"])):
        a, b = ours.get(t, 0), want["types"].get(t, 0)
        if (t in scenario and a != b) or abs(a - b) > bound:
            bad.append("leaking: %s %d, get_leaking_objects %d%s" % (t, a, b, "" if t in scenario else " (bound %d)" % bound))
    missing = set(want.get("orphans", truth.get("leaking", {}).get("orphans", []))) - set(doc.get("objects", []))
    if missing:
        bad.append("leaking: Orphans not listed: %s" % ", ".join(sorted(missing)))
    return bad


def _compare_counts(what, ours, want, scenario, bound):
    bad = []
    for t in sorted(set(ours) | set(want)):
        a, b = ours.get(t, 0), want.get(t, 0)
        if (t in scenario and a != b) or abs(a - b) > bound:
            bad.append("%s: %s %d, interpreter %d%s" % (what, t, a, b, "" if t in scenario else " (bound %d)" % bound))
    return bad


def check_growth_collected(a, b, doc, bound):
    """growth --baseline A (on B) = objgraph.show_growth after growth() at A: for each type
    counted after B's gc.collect(), its increase over the count after A's (peaks start at
    A's counts), when positive."""
    ta, tb = a["types_collected"], b["types_collected"]
    want = dict((t, n - ta.get(t, 0)) for t, n in tb.items() if n > ta.get(t, 0))
    ours = dict((r["type"], r["delta"]) for r in doc["growth"])
    bad = _compare_counts("growth", ours, want, _scenario_classes(b), bound)
    for r in doc["growth"]:
        if abs(r["count"] - tb.get(r["type"], 0)) > bound:
            bad.append("growth: %s count %d, after gc.collect() %d (bound %d)" % (r["type"], r["count"], tb.get(r["type"], 0), bound))
    return bad


def check_types_collected(truth, doc, bound):
    """A first growth (every type grows from 0: its count) = typestats after gc.collect()."""
    ours = dict((r["type"], r["count"]) for r in doc["growth"])
    bad = _compare_counts("types after gc.collect()", ours, truth["types_collected"], _scenario_classes(truth), bound)
    if abs(sum(ours.values()) - truth["objects_collected"]) > bound:
        bad.append("objects after gc.collect(): objinspect %d, interpreter %d (bound %d)"
                   % (sum(ours.values()), truth["objects_collected"], bound))
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


# ------------------------------------------------------------------- threads --

def _frame_line(f):
    return "%s:%s in %s" % (f["file"], f["line"], f["function"])


def check_stacks(truth, core, what):
    bad = []
    src = ["--pid", core[4:]] if core.startswith("pid:") else [core]
    doc = run_ok(bad, *(src + ["stacks", "--locals"]))
    if doc is None:
        return bad
    if what == "live":  # the main thread ticks: only the workers' stacks are known
        return check_stacks_doc(truth, doc, "frames", True) + check_stacks_doc(truth, doc, "locals", True)
    return check_stacks_doc(truth, doc, what, False)


def check_stacks_doc(truth, doc, what, workers_only):
    bad = []
    ours = dict((t["thread_id"], t) for t in doc["threads"])
    want = dict(("worker " + name, t) for name, t in truth["threads"].items())
    want["main thread"] = truth["main_thread"]
    if what == "frames" and sorted(ours) != sorted(t["thread_id"] for t in want.values()):
        bad.append("thread ids: objinspect %s, threading %s" % (sorted(ours), sorted(t["thread_id"] for t in want.values())))
    for name, t in sorted(want.items()):
        got = ours.get(t["thread_id"])
        if got is None or (workers_only and name == "main thread"):
            continue
        if what == "frames":
            a = [_frame_line(f) for f in got["frames"]]
            b = [_frame_line(f) for f in t["frames"]]
            if a != b:
                bad.append("%s %d: objinspect's frames (innermost first)\n    %s\n  traceback.extract_stack's\n    %s"
                           % (name, t["thread_id"], "\n    ".join(a), "\n    ".join(b)))
        elif what == "locals" and name != "main thread":
            for i, (g, w) in enumerate(zip(got["frames"], t["frames"])):
                where = "%s frame %d (%s)" % (name, i, _frame_line(w))
                if sorted(g["locals"]) != sorted(w["locals"]):
                    bad.append("%s: locals %s, frame.f_locals %s" % (where, sorted(g["locals"]), sorted(w["locals"])))
                for k, r in sorted(w["locals"].items()):
                    if r is not None and k in g["locals"] and g["locals"][k] != r:
                        bad.append("%s: %s = %s, repr() %s" % (where, k, g["locals"][k], r))
        elif what == "gil":
            holds = t["thread_id"] == truth["gil_holder"]
            if got["gil"] is not holds:
                bad.append("%s %d: gil %s, but it %s the GIL" % (name, t["thread_id"], json.dumps(got["gil"]),
                                                                   "holds" if holds else "does not hold"))
    return bad


# ------------------------------------------------------------ cycles, garbage --
# The truth of a full gc.collect() (corefixtures/truth.py, in the forked child): the
# unreachable ids, the strongly connected components among them with their edges and
# labels, the sizes, what each cycle holds (exclusive / shared), the finalizers, the
# unreachable frames, gc.garbage before the collection.

# builtin types without a finalizer of any kind (no __del__, tp_finalize or tp_del)
NO_FINALIZER = ("dict", "list", "tuple", "set", "frozenset", "method", "instancemethod",
                "frame", "traceback", "function", "cell", "type", "getset_descriptor",
                "member_descriptor", "classmethod", "staticmethod", "instance", "classobj")
# types whose size objinspect gives as sys.getsizeof (docs/commands.md): with the scenario's
# plain classes (not its exception classes), the bytes of a cycle made of them are exact
SIZED = ("dict", "list", "tuple", "set", "frozenset", "method", "instancemethod", "function", "cell")


def _cycles_doc(bad, core):
    doc = run_ok(bad, core, "cycles", "--limit", "0")
    if doc is None:
        return None
    for k in ("unreachable", "bytes", "types", "cycles"):
        if k not in doc:
            bad.append("cycles: no %r in the JSON" % k)
            return None
    return doc


def _scenario_classes(truth):
    return set(truth.get("id_types", [])) | set(truth.get("expected", {}))


def _truth_types(truth):
    """{address: class} of the scenario's own objects (the truth's ids)."""
    out = {}
    for cls, addrs in truth.get("ids", {}).items():
        for a in addrs:
            out[a] = cls
    return out


def _sized_classes(truth):
    # the scenario's plain classes: exception classes' sizes are not modelled
    return set(c for c in _scenario_classes(truth)
               if c not in ("RequestFailed",)) | set(SIZED)


def check_cycles(truth, core, bound):
    """cycles --limit 0 against the collection's truth."""
    bad = []
    doc = _cycles_doc(bad, core)
    if doc is None:
        return bad
    un = set(truth["unreachable"])
    scen = _scenario_classes(truth)
    ids_type = _truth_types(truth)
    # 1. how many, of which types
    if abs(doc["unreachable"] - len(un)) > bound:
        bad.append("unreachable: objinspect %d, gc.collect() %d (bound %d)" % (doc["unreachable"], len(un), bound))
    ours = dict((r["type"], r["count"]) for r in doc["types"])
    if sum(ours.values()) != doc["unreachable"]:
        bad.append("types add up to %d, unreachable %d" % (sum(ours.values()), doc["unreachable"]))
    want = truth["unreachable_types"]
    for t in sorted(set(ours) | set(want)):
        a, b = ours.get(t, 0), want.get(t, 0)
        if (t in scen and a != b) or abs(a - b) > bound:
            bad.append("unreachable %s: objinspect %d, gc.collect() %d%s" % (t, a, b, "" if t in scen else " (bound %d)" % bound))
    # 2. the cycles: the same strongly connected components
    cycles = doc["cycles"]
    if doc.get("ncycles", len(cycles)) != len(cycles):
        bad.append("cycles --limit 0 lists %d cycles, ncycles %s" % (len(cycles), doc.get("ncycles")))
    got = dict((frozenset(o["address"] for o in c["objects"]), c) for c in cycles)
    want_c = dict((frozenset(c), i) for i, c in enumerate(truth["unreachable_cycles"]))
    members = set()
    for c in cycles:
        members |= set(o["address"] for o in c["objects"])
        if c["size"] != len(c["objects"]):
            bad.append("cycle of size %d lists %d objects" % (c["size"], len(c["objects"])))
    truth_members = set()
    for c in truth["unreachable_cycles"]:
        truth_members |= set(c)
    if abs(len(cycles) - len(want_c)) > bound:
        bad.append("cycles: objinspect %d, strongly connected components %d (bound %d)" % (len(cycles), len(want_c), bound))
    if len(members ^ truth_members) > bound:
        bad.append("cycle members: %d, truth %d; %d not in a truth cycle (%s), %d missing (%s) (bound %d)"
                   % (len(members), len(truth_members), len(members - truth_members),
                      _types_of(cycles, members - truth_members), len(truth_members - members),
                      _some(truth_members - members, ids_type), bound))
    # the scenario's own objects (and their __dict__s) exactly
    scen_objs = set(a for a in ids_type) & truth_members
    scen_dicts = set()
    for a in scen_objs:
        for d, labels in truth["unreachable_edges"].get(a, {}).items():
            if "__dict__" in labels:
                scen_dicts.add(d)
    extra = (members & set(ids_type)) - scen_objs
    missing = (scen_objs | scen_dicts) - members
    if extra:
        bad.append("in cycles, not unreachable cycles for the interpreter: %s" % _some(extra, ids_type))
    if missing:
        bad.append("unreachable cycle members missing from the cycles: %s" % _some(missing, ids_type, "dict"))
    for ms, c in sorted(got.items(), key=lambda kv: -len(kv[0])):
        if ms in want_c:
            bad.extend(_check_cycle(truth, c, want_c[ms]))
        elif ms & (scen_objs | scen_dicts):
            near = [frozenset(x) for x in truth["unreachable_cycles"] if ms & set(x)]
            bad.append("cycle %s is no strongly connected component of the interpreter's (%s)"
                       % (_show_cycle(c), "; ".join("truth has %d members, %d in common" % (len(n), len(n & ms)) for n in near)))
    # 3. sizes and what the cycles hold
    held = sum(c["held"] for c in cycles)
    if held + sum(c["size"] for c in cycles) != doc["unreachable"]:
        bad.append("cycles' sizes %d + held %d != unreachable %d"
                   % (sum(c["size"] for c in cycles), held, doc["unreachable"]))
    if sum(c["bytes"] + c["held_bytes"] for c in cycles) != doc["bytes"]:
        bad.append("cycles' bytes + held_bytes %d != bytes %d" % (sum(c["bytes"] + c["held_bytes"] for c in cycles), doc["bytes"]))
    sized = _sized_classes(truth)
    if set(truth["unreachable_types"]) <= sized:
        want_b = sum(v for v in truth["unreachable_sizes"].values() if v is not None)
        if doc["bytes"] != want_b:
            bad.append("bytes: objinspect %d, sum of sys.getsizeof %d" % (doc["bytes"], want_b))
    order = [c["size"] + c["held"] for c in cycles]
    if order != sorted(order, reverse=True):
        bad.append("cycles not largest first (members plus held): %s" % order[:20])
    # 4. frames
    bad.extend(_check_frames(truth, doc))
    return bad


def _some(addrs, types, default="?"):
    addrs = sorted(addrs)
    s = ", ".join("%s %s" % (types.get(a, default), a) for a in addrs[:6])
    return s + (" and %d more" % (len(addrs) - 6) if len(addrs) > 6 else "")


def _types_of(cycles, addrs):
    t = {}
    for c in cycles:
        for o in c["objects"]:
            t[o["address"]] = o["type"]
    return _some(addrs, t)


def _show_cycle(c):
    return "[" + ", ".join("%s %s <%s>%s" % (o["type"], o["address"], o.get("edge"),
                                             " from " + o["from"] if o.get("from") else "")
                           for o in c["objects"][:8]) + (", ..." if len(c["objects"]) > 8 else "") + "]"


def _check_cycle(truth, c, k):
    """One cycle that is a truth component (index k): cycle order, edges and their labels,
    finalizers, bytes, held."""
    bad = []
    objs = c["objects"]
    addrs = [o["address"] for o in objs]
    members = set(addrs)
    edges = truth["unreachable_edges"]
    where = "cycle %s" % _show_cycle(c)
    if len(members) != len(addrs):
        bad.append("%s: an object listed twice" % where)
    # the simple cycle that starts the list runs to the first object with a `from`
    first_from = len(objs)
    for i in range(1, len(objs)):
        if objs[i].get("from"):
            first_from = i
            break
    for i, o in enumerate(objs):
        if o.get("from"):
            src = o["from"]
        elif i > 0:
            src = addrs[i - 1]
        else:
            src = addrs[first_from - 1]
        if src not in members:
            bad.append("%s: %s's reference comes from %s, not a member" % (where, o["address"], src))
            continue
        e = edges.get(src, {})
        if o["address"] not in e:
            bad.append("%s: %s has no reference to %s %s (gc.get_referents); listed with edge %r"
                       % (where, src, o["type"], o["address"], o.get("edge")))
            continue
        labels = e[o["address"]]
        if labels and o.get("edge") not in labels:
            bad.append("%s: edge %s -> %s %s labelled %r, expected %s"
                       % (where, src, o["type"], o["address"], o.get("edge"), " or ".join(labels)))
    # finalizers
    fins = truth.get("unreachable_finalizers", {})
    any_fin = False
    for o in objs:
        f = o.get("finalizer")
        if f is not None:
            any_fin = True
        if fins.get(o["address"]) == "__del__":
            if f != "__del__":
                bad.append("%s: %s %s has a __del__, finalizer %r" % (where, o["type"], o["address"], f))
        elif f == "__del__" or (f is not None and o["type"] in NO_FINALIZER) or \
                (f is not None and o["type"] in _scenario_classes(truth)):
            bad.append("%s: %s %s has no finalizer, objinspect says %r" % (where, o["type"], o["address"], f))
        if f not in (None, "__del__", "tp_finalize", "tp_del"):
            bad.append("%s: finalizer %r" % (where, f))
    if c.get("finalizers") is not any_fin:
        bad.append("%s: finalizers %s, members' finalizers say %s" % (where, c.get("finalizers"), any_fin))
    fz = truth.get("unreachable_finalized")
    if fz is None and truth.get("version_info", [3, 9])[:2] >= [3, 4]:
        fz = truth.get("finalized_addresses")   # the scenario knows (3.4 - 3.8)
    if fz is not None:
        for o in objs:
            if bool(o.get("finalized")) != (o["address"] in fz):
                bad.append("%s: %s %s finalized %s, the interpreter %s"
                           % (where, o["type"], o["address"], o.get("finalized"), o["address"] in fz))
    elif truth.get("version_info", [3])[0] == 2:
        for o in objs:
            if o.get("finalized"):
                bad.append("%s: %s %s finalized on 2.7" % (where, o["type"], o["address"]))
    # bytes, when every member's size is modelled
    sizes = truth["unreachable_sizes"]
    if all(o["type"] in _sized_classes(truth) for o in objs):
        want = sum(sizes.get(a) or 0 for a in addrs)
        if c["bytes"] != want:
            bad.append("%s: bytes %d, sum of sys.getsizeof %d" % (where, c["bytes"], want))
    # held: at least what only this cycle leads to, at most that plus what it shares
    h = truth["unreachable_held"][k]
    if not h["exclusive"] <= c["held"] <= h["exclusive"] + h["shared"]:
        bad.append("%s: held %d, expected %d it alone leads to%s"
                   % (where, c["held"], h["exclusive"], " (+ up to %d shared)" % h["shared"] if h["shared"] else ""))
    elif set(h.get("types", [])) <= _sized_classes(truth) and \
            not h["exclusive_bytes"] <= c["held_bytes"] <= h["exclusive_bytes"] + h["shared_bytes"]:
        bad.append("%s: held_bytes %d, expected %d%s" % (where, c["held_bytes"], h["exclusive_bytes"],
                                                       " (+ up to %d shared)" % h["shared_bytes"] if h["shared"] else ""))
    return bad


def _simple(t):
    return t in ("int", "str", "long", "bool", "NoneType", "float")


def _check_frames(truth, doc):
    """frames: the unreachable frame objects, with function, file, line and locals."""
    bad = []
    want = truth.get("unreachable_frames", {})
    if "frames" not in doc:
        if want:
            bad.append("cycles: no \"frames\" in the JSON; the interpreter has %d unreachable frames (%s)"
                       % (len(want), ", ".join(sorted(set(f["function"] for f in want.values())))))
        return bad
    got = dict((f.get("address"), f) for f in doc["frames"])
    for a in sorted(set(want) - set(got)):
        bad.append("frames: unreachable frame %s (%s line %d) not listed" % (a, want[a]["function"], want[a]["line"]))
    for a in sorted(set(got) - set(want)):
        bad.append("frames: %s (%s) is no unreachable frame" % (a, got[a].get("function")))
    for a in sorted(set(got) & set(want)):
        w, g = want[a], got[a]
        where = "frame %s %s" % (a, w["function"])
        for k in ("function", "file", "line"):
            if g.get(k) != w[k]:
                bad.append("%s: %s %r, the frame's %r" % (where, k, g.get(k), w[k]))
        loc = g.get("locals")
        if not isinstance(loc, dict):
            bad.append("%s: locals %r" % (where, loc))
            continue
        if sorted(loc) != sorted(w["locals"]):
            bad.append("%s: locals %s, f_locals %s" % (where, sorted(loc), sorted(w["locals"])))
        for name in sorted(set(loc) & set(w["locals"])):
            if _simple(w["local_types"][name]) and loc[name] != w["locals"][name]:
                bad.append("%s: local %s = %r, repr() %r" % (where, name, loc[name], w["locals"][name]))
    return bad


def _cycle_of(cycles, addr):
    for c in cycles:
        for o in c["objects"]:
            if o["address"] == addr:
                return c
    return None


def _obj(c, addr):
    for o in c["objects"]:
        if o["address"] == addr:
            return o
    return None


def _need(bad, cycles, addr, what):
    c = _cycle_of(cycles, addr)
    if c is None:
        bad.append("%s %s: in no cycle" % (what, addr))
    return c


def check_groups(truth, core):
    """The scenario's own cycles, as the scenario built them."""
    bad = []
    doc = _cycles_doc(bad, core)
    if doc is None:
        return bad
    cycles = doc["cycles"]
    s = truth["scenario"]
    ga = truth.get("garbage_addresses", {})
    tcycles = [set(c) for c in truth["unreachable_cycles"]]

    def truth_cycle(a):
        for c in tcycles:
            if a in c:
                return c
        return set()

    def same(c, a, what):
        want = truth_cycle(a)
        got = set(o["address"] for o in c["objects"])
        if got != want:
            bad.append("%s %s: cycle of %d (%s), the interpreter's component has %d"
                       % (what, a, len(got), _show_cycle(c), len(want)))

    def types_in(c):
        out = {}
        for o in c["objects"]:
            out[o["type"]] = out.get(o["type"], 0) + 1
        return out

    if s == "amqp_cycle":
        msgs = set(ga["AmqpMessage"])
        for a in ga["AmqpConnection"]:
            c = _need(bad, cycles, a, "AmqpConnection")
            if c is None:
                continue
            same(c, a, "AmqpConnection")
            t = types_in(c)
            if t.get("AmqpConnection") != 1 or t.get("AmqpChannel") != 5:
                bad.append("AmqpConnection %s: cycle types %s, expected the connection and its 5 channels" % (a, t))
            if _obj(c, a).get("edge") != "connection":
                bad.append("AmqpConnection %s: reached by %r, expected the channels' `connection`" % (a, _obj(c, a).get("edge")))
            for o in c["objects"]:
                if o["type"] == "AmqpChannel" and not re.match(r"^\[[0-4]\]$", o.get("edge") or ""):
                    bad.append("AmqpChannel %s: reached by %r, expected [i] of the channels list" % (o["address"], o.get("edge")))
                if o["type"] == "list" and o.get("edge") != "channels":
                    bad.append("list %s in the connection's cycle: reached by %r, expected `channels`" % (o["address"], o.get("edge")))
                if o["address"] in msgs:
                    bad.append("AmqpMessage %s is in the cycle (nothing it refers to leads back)" % o["address"])
            if c["held"] < 5:
                bad.append("AmqpConnection %s: holds %d objects, fewer than its 5 messages" % (a, c["held"]))
            if c["finalizers"]:
                bad.append("AmqpConnection %s: cycle flagged finalizers" % a)
    elif s == "del_cycle":
        for a in ga["DelCycleNode"]:
            c = _need(bad, cycles, a, "DelCycleNode")
            if c is None:
                continue
            same(c, a, "DelCycleNode")
            if types_in(c).get("DelCycleNode") != 2:
                bad.append("DelCycleNode %s: cycle types %s, expected a pair" % (a, types_in(c)))
            o = _obj(c, a)
            if o.get("finalizer") != "__del__" or c.get("finalizers") is not True:
                bad.append("DelCycleNode %s: finalizer %r, cycle finalizers %r; expected __del__, true"
                           % (a, o.get("finalizer"), c.get("finalizers")))
            if o.get("edge") != "partner":
                bad.append("DelCycleNode %s: reached by %r, expected `partner`" % (a, o.get("edge")))
    elif s == "bound_method":
        for cls, attr, key in (("BoundSelf", "callback", None), ("ChatClient", "handlers", "[1]")):
            for a in ga.get(cls, []):
                c = _need(bad, cycles, a, cls)
                if c is None:
                    continue
                same(c, a, cls)
                t = types_in(c)
                if t.get(cls) != 1 or t.get("method", 0) + t.get("instancemethod", 0) != 1:   # 2.7: instancemethod
                    bad.append("%s %s: cycle types %s, expected the instance and its bound method" % (cls, a, t))
                if _obj(c, a).get("edge") != "__self__":
                    bad.append("%s %s: reached by %r, expected the method's __self__" % (cls, a, _obj(c, a).get("edge")))
                for o in c["objects"]:
                    if o["type"] in ("method", "instancemethod") and o.get("edge") != (key or attr):
                        bad.append("%s %s: its bound method reached by %r, expected %r" % (cls, a, o.get("edge"), key or attr))
                    if key and o["type"] == "dict" and o.get("edge") not in (attr, "__dict__"):
                        bad.append("%s %s: dict %s reached by %r, expected %r (or the instance's __dict__)"
                                   % (cls, a, o["address"], o.get("edge"), attr))
                if not key and t.get("dict", 0) > 1:
                    bad.append("%s %s: %d dicts in the cycle" % (cls, a, t["dict"]))
    elif s == "tb_cycle":
        for req in truth["tb_frames"]:
            handler = req["frames"][0]
            c = _need(bad, cycles, handler["address"], "frame of %s (request %d)" % (req["handler"], req["request"]))
            if c is None:
                continue
            same(c, handler["address"], "frame of %s" % req["handler"])
            t = types_in(c)
            if not t.get("traceback") or not t.get("frame"):
                bad.append("request %d: cycle types %s, expected frames and tracebacks" % (req["request"], t))
            for f in req["frames"]:
                if _cycle_of(cycles, f["address"]) is not c:
                    bad.append("request %d: frame %s (%s) not in the handler's cycle" % (req["request"], f["address"], f["function"]))
        bad.extend(_check_tb_frames(truth, doc))
    elif s == "garbage27":
        phoenix = set(truth.get("finalized_addresses", []))
        for cls in ("Finalized", "Phoenix", "PlainNode"):
            for a in ga.get(cls, []):
                c = _need(bad, cycles, a, cls)
                if c is None:
                    continue
                same(c, a, cls)
                o = _obj(c, a)
                want = None if cls == "PlainNode" else "__del__"
                if o.get("finalizer") != want or c.get("finalizers") is not (want is not None):
                    bad.append("%s %s: finalizer %r, cycle finalizers %r" % (cls, a, o.get("finalizer"), c.get("finalizers")))
                if bool(o.get("finalized")) != (a in phoenix):
                    bad.append("%s %s: finalized %r, expected %s (its __del__ %s)" % (
                        cls, a, o.get("finalized"), a in phoenix, "ran" if a in phoenix else "never ran"))
                if o.get("edge") != "peer":
                    bad.append("%s %s: reached by %r, expected `peer`" % (cls, a, o.get("edge")))
    else:
        return ["no groups to check for scenario %s" % s]
    return bad


def _check_tb_frames(truth, doc):
    """tb_cycle: the frames the parent recorded from the frame objects themselves."""
    bad = []
    if "frames" not in doc:
        return ["cycles: no \"frames\" in the JSON (%d traceback frames expected)"
                % sum(len(r["frames"]) for r in truth["tb_frames"])]
    got = dict((f.get("address"), f) for f in doc["frames"])
    for req in truth["tb_frames"]:
        for w in req["frames"]:
            g = got.get(w["address"])
            where = "request %d: frame %s %s" % (req["request"], w["address"], w["function"])
            if g is None:
                bad.append("%s: not among the frames" % where)
                continue
            for k in ("function", "line", "file"):
                if g.get(k) != w[k]:
                    bad.append("%s: %s %r, f_code/f_lineno %r" % (where, k, g.get(k), w[k]))
            loc = g.get("locals") or {}
            if sorted(loc) != sorted(w["locals"]):
                bad.append("%s: locals %s, f_locals %s" % (where, sorted(loc), sorted(w["locals"])))
            for name in sorted(set(loc) & set(w["locals"])):
                if _simple(w["local_types"][name]) and loc[name] != w["locals"][name]:
                    bad.append("%s: %s = %r, repr() %r" % (where, name, loc[name], w["locals"][name]))
    return bad


def check_cycles_options(truth, core):
    """--limit, --min-size: the same cycles, cut."""
    bad = []
    full = _cycles_doc(bad, core)
    if full is None:
        return bad
    allc = full["cycles"]
    key = [[o["address"] for o in c["objects"]] for c in allc]
    d = run_ok(bad, core, "cycles")
    if d is not None:
        if [[o["address"] for o in c["objects"]] for c in d["cycles"]] != key[:10]:
            bad.append("cycles (default --limit 10): %d cycles, not the first 10 of --limit 0" % len(d["cycles"]))
        if d["unreachable"] != full["unreachable"] or d.get("ncycles") != full.get("ncycles"):
            bad.append("cycles: unreachable/ncycles depend on --limit")
    d = run_ok(bad, core, "cycles", "--limit", "3")
    if d is not None and [[o["address"] for o in c["objects"]] for c in d["cycles"]] != key[:3]:
        bad.append("cycles --limit 3: %d cycles, not the first 3" % len(d["cycles"]))
    sizes = sorted(set(c["size"] for c in allc))
    for m in sizes[-2:] + [max(sizes or [1]) + 1]:
        d = run_ok(bad, core, "cycles", "--limit", "0", "--min-size", str(m))
        if d is None:
            continue
        want = [k for k, c in zip(key, allc) if c["size"] >= m]
        if [[o["address"] for o in c["objects"]] for c in d["cycles"]] != want:
            bad.append("cycles --min-size %d: %d cycles, expected the %d with >= %d members"
                       % (m, len(d["cycles"]), len(want), m))
    return bad


def check_garbage(truth, core):
    """garbage: exactly gc.garbage as it was at the dump, in order."""
    bad = []
    doc = run_ok(bad, core, "garbage", "--limit", "0")
    if doc is None:
        return bad
    want = truth["garbage_before"]
    got = [o.get("address") for o in doc.get("objects", [])]
    if doc.get("count") != len(want):
        bad.append("garbage: count %s, len(gc.garbage) %d" % (doc.get("count"), len(want)))
    if got != want:
        bad.append("garbage: %d objects, gc.garbage has %d (%d in common, %s)"
                   % (len(got), len(want), len(set(got) & set(want)), "same order" if
                      [a for a in got if a in want] == [a for a in want if a in got] else "another order"))
    types = truth.get("garbage_before_types", {})
    scen = _scenario_classes(truth)
    for o in doc.get("objects", []):
        a = o.get("address")
        if a in types and o.get("type") != types[a]:
            bad.append("garbage: %s is a %s, objinspect says %s" % (a, types[a], o.get("type")))
        if types.get(a) in scen:
            r = "<__main__.%s object at %s>" % (types[a], a)
            if o.get("repr") != r:
                bad.append("garbage: %s repr %r, expected %r" % (a, o.get("repr"), r))
    if "garbage_expected" in truth and want != truth["garbage_expected"]:
        bad.append("truth: gc.garbage at the dump differs from the scenario's")
    return bad


def check_cycles_rooted(truth, core, addr):
    """CORE is the scenario's core with ADDR's ob_refcnt raised: a reference from outside
    the heap, so ADDR is a root. Its cycle, and everything that cycle leads to, is
    reachable now; the rest of the collection is unchanged."""
    bad = []
    doc = _cycles_doc(bad, core)
    if doc is None:
        return bad
    k = [i for i, c in enumerate(truth["unreachable_cycles"]) if addr in c]
    if not k:
        return ["truth: %s is in no cycle" % addr]
    c = truth["unreachable_cycles"][k[0]]
    h = truth["unreachable_held"][k[0]]
    want = len(truth["unreachable"]) - len(c) - h["exclusive"] - h["shared"]
    if doc["unreachable"] != want:
        bad.append("unreachable %d, expected %d: %d less than the undamaged %d (%s's cycle of %d, and the %d it holds)"
                   % (doc["unreachable"], want, len(truth["unreachable"]) - want, len(truth["unreachable"]),
                      addr, len(c), h["exclusive"] + h["shared"]))
    members = set()
    for cy in doc["cycles"]:
        members |= set(o["address"] for o in cy["objects"])
    if members & set(c):
        bad.append("members of the rooted cycle still listed: %s" % ", ".join(sorted(members & set(c))))
    rest = set()
    for i, cy in enumerate(truth["unreachable_cycles"]):
        if i != k[0]:
            rest |= set(cy)
    if rest - members:
        bad.append("%d members of the other cycles no longer listed" % len(rest - members))
    return bad


# ------------------------------------------------------- every object's referents --

def _edges_doc(core):
    """objinspect CORE graph --edges --json -> (doc or None, message); its "referents" map
    holds every tracked object's referents."""
    exe = os.environ.get("OBJINSPECT") or "objinspect"
    try:
        p = subprocess.run(["timeout", "300", exe, core, "graph", "--edges", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    except OSError as e:
        return None, "cannot run %s: %s" % (exe, e)
    if p.returncode != 0:
        what = "crashed or hung" if p.returncode < 0 or p.returncode >= 124 else "failed"
        return None, "graph --edges %s (exit %d): %s" % (what, p.returncode, p.stderr.strip()[:500])
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        return None, "graph --edges --json: not JSON (%s)" % e
    if not isinstance(doc.get("referents"), dict):
        return None, "graph --edges --json: no \"referents\" map (is --edges supported?)"
    return doc, None


def _norm(a):
    return "0x%x" % int(a, 16)


def check_referents_all(truth, core, bound):
    """Every tracked object of the truth that the core's graph lists: its referents
    (gc.get_referents, in the order tp_traverse visits them, duplicates kept) compared as
    a multiset with objinspect's. The truth's volatile objects (the main thread's frames,
    truth._last, what changed between the parent's snapshot and the truth child: at-fork
    handlers) are not compared. Returns (problems, summary lines)."""
    from collections import Counter, defaultdict
    lines = []
    if "referents_all" not in truth:
        return ["truth has no referents_all (not the cext scenario?)"], lines
    doc, err = _edges_doc(core)
    if doc is None:
        return [err], lines
    edges = {}
    for a, e in doc["referents"].items():
        edges[_norm(a)] = e
    want = truth["referents_all"]
    volatile = set(truth.get("referents_volatile", {}))
    types = {}
    for a, w in want.items():
        types[a] = w["type"]
    for name, addrs in truth.get("referents_untracked_types", {}).items():
        for a in addrs:
            types.setdefault(a, name)

    def describe(counter):
        out = []
        for a, n in sorted(counter.items()):
            out.append("%s %s%s" % (types.get(a) or (edges.get(a) or {}).get("type", "?"), a,
                                    " x%d" % n if n > 1 else ""))
        return ", ".join(out) if out else "-"

    compared = exact = 0
    absent = []
    how = Counter()
    how_bad = Counter()
    bad_by_type = defaultdict(list)
    type_names = Counter()
    for a in sorted(want, key=lambda x: int(x, 16)):
        w = want[a]
        if a in volatile:
            continue
        e = edges.get(a)
        if e is None:
            absent.append(a)
            continue
        compared += 1
        h = e.get("how", "?")
        how[h] += 1
        tw, tg = w["type"], e.get("type", "?")
        # (a 2.7 old-style instance: type() says instance, objinspect names its class)
        if tg != tw and tg.rsplit(".", 1)[-1] != tw and tw != "instance":
            type_names[(tw, tg)] += 1
        cw, cg = Counter(w["referents"]), Counter(_norm(x) for x in e.get("referents", []))
        if cw == cg:
            exact += 1
            continue
        how_bad[h] += 1
        bad_by_type[tw].append((a, h, cw - cg, cg - cw, len(w["referents"]), len(e.get("referents", []))))
    only_core = len(set(edges) - set(want))
    nbad = compared - exact
    lines.append("referents-all: %d objects in the truth (%d volatile, not compared), %d in the core's "
                 "edges (%d not in the truth)" % (len(want), len(volatile & set(want)), len(edges), only_core))
    lines.append("  compared %d: %d exact, %d differ; %d truth objects absent from the core's edges (bound %d)"
                 % (compared, exact, nbad, len(absent), bound))
    lines.append("  how (compared): %s" % ", ".join("%s %d" % (k, n) for k, n in how.most_common()))
    if how_bad:
        lines.append("  how (differ):   %s" % ", ".join("%s %d" % (k, n) for k, n in how_bad.most_common()))
    if type_names:
        lines.append("  type names that differ (truth -> objinspect): %s" % ", ".join(
            "%s -> %s x%d" % (a, b, n) for (a, b), n in type_names.most_common(10)))
    if bad_by_type:
        lines.append("  mismatches by type (count; up to 3 examples: missing = gc.get_referents only, "
                     "extra = objinspect only):")
        for t, rows in sorted(bad_by_type.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            hows = Counter(r[1] for r in rows)
            lines.append("    %-28s %5d  (how: %s)" % (t, len(rows), ", ".join("%s %d" % kv for kv in hows.most_common())))
            for a, h, miss, extra, nw, ng in rows[:3]:
                lines.append("      %s (%s, %d referents, objinspect %d): missing %s; extra %s"
                             % (a, h, nw, ng, describe(miss), describe(extra)))
    if absent:
        lines.append("  absent from the core's edges: %s%s" % (
            ", ".join("%s %s" % (types.get(a, "?"), a) for a in absent[:10]),
            " ..." if len(absent) > 10 else ""))
    problems = []
    if nbad:
        problems.append("%d of %d objects' referents differ from gc.get_referents (%d types)"
                        % (nbad, compared, len(bad_by_type)))
    if len(absent) > bound:
        problems.append("%d objects of the truth are not in the core's edges (bound %d)" % (len(absent), bound))
    if compared == 0:
        problems.append("no object compared")
    return problems, lines


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
    elif cmd == "leaking-collected":
        fail(check_leaking(truth, sys.argv[3], int(sys.argv[4]), collected=True))
    elif cmd == "growth-collected":
        fail(check_growth_collected(truth, load(sys.argv[3]), load(sys.argv[4]), int(sys.argv[5])))
    elif cmd == "types-collected":
        fail(check_types_collected(truth, load(sys.argv[3]), int(sys.argv[4])))
    elif cmd == "types-all":
        fail(check_types_all(truth, sys.argv[3], int(sys.argv[4])))
    elif cmd == "dot-absent":   # TRUTH FILE.dot ADDR: no node for ADDR in the picture
        nodes, _ = parse_dot(open(sys.argv[3]).read())
        fail(["%s is drawn (node %s)" % (sys.argv[4], node_of(nodes, sys.argv[4]))] if node_of(nodes, sys.argv[4]) else [])
    elif cmd == "referents-all":    # TRUTH CORE [BOUND] [--report]
        args = [a for a in sys.argv[3:] if a != "--report"]
        problems, lines = check_referents_all(truth, args[0], int(args[1]) if len(args) > 1 else 10)
        for line in lines:
            print(line)
        if "--report" in sys.argv:
            for m in problems:
                print("(would fail: %s)" % m)
            sys.exit(0)
        fail(problems)
    elif cmd == "stacks":
        fail(check_stacks(truth, sys.argv[3], sys.argv[4]))
    elif cmd == "dot":
        fail(check_dot(truth, sys.argv[3], sys.argv[4], sys.argv[5]))
    elif cmd == "cycles":
        fail(check_cycles(truth, sys.argv[3], int(sys.argv[4])))
    elif cmd == "cycle-groups":
        fail(check_groups(truth, sys.argv[3]))
    elif cmd == "cycles-options":
        fail(check_cycles_options(truth, sys.argv[3]))
    elif cmd == "garbage":
        fail(check_garbage(truth, sys.argv[3]))
    elif cmd == "cycles-rooted":
        fail(check_cycles_rooted(truth, sys.argv[3], sys.argv[4]))
    else:
        sys.exit("check.py: unknown check " + cmd)


if __name__ == "__main__":
    main()
