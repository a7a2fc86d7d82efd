#!/usr/bin/env python3
"""pytruth.py -- the Python package objinspect (python/objinspect) against the interpreter's
own truth and against the CLI, for tests/python.bats.

The package is imported from $OBJINSPECT_PY (default ROOT/python) and loads $OBJINSPECT_LIB.
The dumps run in whatever Python runs this file (any CPython >= 3.8, or GDB's: `gdb -batch -ex
'source pytruth.py'` with the arguments in PYTRUTH_ARGS, one a line, and the status printed
last as "PYTRUTH-STATUS N"); the checks run in the host's.

  pytruth.py abi                        the ctypes structures, constants and prototypes of the
                                        package = include/libinspect/*.h (sizes and offsets
                                        from the C compiler)
  pytruth.py dump CORES OUT ID SCEN...  the package's answers on CORES/ID/SCEN.core, as JSON in
                                        OUT/ID/SCEN.json (what is asked is chosen from the truth)
  pytruth.py check CORES OUT ID SCEN... those answers = the CLI's (--json, $OBJINSPECT) and
                                        the truth's
  pytruth.py same DIR_A DIR_B           every dump of DIR_B (another Python's) = DIR_A's
  pytruth.py reader CORE TRUTH [gdb]    open_reader over the core's PT_LOAD segments (or, in
                                        GDB with the core loaded, over GDB's own reads)
                                        answers as open_core does
  pytruth.py semantics CORE TRUTH       Object equality, hash, repr, closed heaps, errors
  pytruth.py errors BADFILE...          open_core's error codes and messages on bad files = the
                                        CLI's exit statuses and error lines
  pytruth.py leaks CORE                 malloc'd bytes in use stay flat over repeated questions
  pytruth.py live PID TRUTH BOUND       attach(PID) answers as the truth says
  pytruth.py samestop PID CORE TRUTH [gdb]  PID stopped, CORE its gcore: attach(PID) and a
                                        reader of /proc/PID/mem (or, in GDB attached to PID,
                                        docs/api.md's GDB example) answer as open_core(CORE)
  pytruth.py triage OUTPUT CORE         python/examples/triage.py's output agrees with the CLI
Prints one line per mismatch and exits 1 if there is any.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.environ.get("OBJINSPECT_PY") or os.path.join(ROOT, "python"))
import objinspect  # noqa: E402

BOUND = 10


def hx(a):
    return "0x%x" % a


def load(path):
    with open(path) as f:
        return json.load(f)


# ------------------------------------------------------------------------------ dump --

def facts(o):
    return {"address": hx(o.address), "type": o.type, "qualname": o.qualname, "refcnt": o.refcnt,
            "immortal": o.immortal, "size": o.size, "tracked": o.tracked, "generation": o.generation,
            "frozen": o.frozen, "type_address": hx(o.type_address), "repr": o.repr(), "type_object": o.type_object.type}


def refs_of(refs):
    return [[r.label, hx(r.object.address), r.object.type, r.flags] for r in refs]


def chain_of(c):
    return {"found": c.found, "chain": [[label, hx(o.address), o.type] for label, o in c], "thread_id": c.thread_id,
            "frame": [c.frame.function, c.frame.line] if c.frame is not None else None}


def err_of(fn):
    try:
        fn()
    except objinspect.Error as e:
        return [int(e.code), e.message, type(e).__name__]
    return None


def targets(truth):
    """The addresses whose facts, references and chains are asked for."""
    at, refs, chains = [], [], []
    for r in truth.get("refcounts", []):
        at.append(r["address"])
    if "none" in truth:
        at.append(truth["none"]["address"])
    for cls in truth.get("id_types", []):
        ids = truth.get("ids", {}).get(cls, [])
        at.extend(ids[:2])
        refs.extend(ids[:1])
        chains.extend(ids[:1])
    for g in truth.get("graph", {}).values():
        refs.append(g["address"])
    chains.extend(truth.get("chain_targets", {}).values())

    def uniq(xs):
        seen, out = set(), []
        for x in xs:
            if x not in seen:
                seen.add(x)
                out.append(x)
        return out
    return uniq(at), uniq(refs), uniq(chains)


def dump_heap(heap, truth):
    d = {"python": heap.python, "description": heap.description, "warnings": heap.warnings}
    for key, kw in (("types", {}), ("types_qualified", {"qualified": True}), ("types_all", {"all": True})):
        t = heap.types(**kw)
        d[key] = {"rows": [[r.name, r.count, r.bytes] for r in t], "objects": t.objects, "frozen": t.frozen,
                  "untracked": t.untracked}
    d["types_limit3"] = [list(r) for r in heap.types(limit=3)]
    objs = heap.objects()
    d["objects_len"] = len(objs)
    by, odd = {}, []
    for o in objs:
        c = by.setdefault(o.type, [0, 0])
        c[0] += 1
        c[1] += o.size
        if not o.tracked or o.frozen or o.generation not in (0, 1, 2):
            odd.append(hx(o.address))
    d["facts_by_type"] = by
    d["objects_odd"] = odd[:20]
    d["by_type"] = {}
    for cls in sorted(set(truth.get("id_types", [])) | set(truth.get("expected", {}))):
        try:
            d["by_type"][cls] = [hx(o.address) for o in heap.objects(cls)]
            if heap.count(cls) != len(d["by_type"][cls]):
                d["by_type"][cls] = {"error": "count(%r) %d" % (cls, heap.count(cls))}
        except objinspect.NotFoundError as e:
            d["by_type"][cls] = {"error": e.message}
    at, refs, chains = targets(truth)
    d["at"] = {}
    for a in at:
        try:
            d["at"][a] = facts(heap.object(int(a, 16)))
        except objinspect.Error as e:
            d["at"][a] = {"error": [int(e.code), e.message]}
    d["refs"] = {}
    for a in refs:
        o = heap.object(int(a, 16))
        d["refs"][a] = {"referents": refs_of(o.referents()), "referrers": refs_of(o.referrers())}
    d["chains"] = {}
    for a in chains:
        o = heap.object(int(a, 16))
        c = heap.chain(o)
        e = {"default": chain_of(c), "max1": chain_of(heap.chain(o, max_depth=1)),
             "root": chain_of(o.chain(to_root=True))}
        if c.found and len(c) > 2:
            e["ignore"] = {"ignored": hx(c[-2].object.address), "chain": chain_of(heap.chain(o, extra_ignore=[c[-2].object]))}
        d["chains"][a] = e
    d["retained"] = {}
    for a in sorted(chains)[:CLI_PER_OBJECT]:
        r = heap.object(int(a, 16)).retained()
        d["retained"][a] = [r.count, r.bytes, [hx(o.address) for o in r.dominators]]
    d["suspects"] = [[hx(x.object.address), x.count, x.bytes, hx(x.accumulation.address), x.accumulation_count,
                      x.accumulation_bytes, x.type, x.accumulated, x.accumulated_bytes,
                      hx(x.referrer.address) if x.referrer else None, [hx(o.address) for o in x.chain],
                      x.allocated_at and list(x.allocated_at)]
                     for x in heap.suspects(threshold=0, limit=3)]
    d["suspects_default"] = [[x.kind, x.object and hx(x.object.address), x.count, x.bytes, x.type, x.accumulated,
                              x.accumulated_bytes, hx(x.referrer.address) if x.referrer else None, x.referrer_count,
                              [hx(o.address) for o in x.chain], [hx(o.address) for o in x.instances]]
                             for x in heap.suspects()]
    col = heap.collect()
    d["unreachable"] = [hx(o.address) for o in col.unreachable]
    d["cycles"] = [{"members": [hx(o.address) for o in c.members], "types": [o.type for o in c.members],
                    "path": len(c.path), "held": c.held, "bytes": c.bytes, "held_bytes": c.held_bytes}
                   for c in col.cycles]
    d["cycles_again"] = len(heap.cycles()) == len(col.cycles) and heap.unreachable() == col.unreachable
    d["garbage"] = [[hx(o.address), o.type] for o in heap.garbage()]
    d["leaking"] = [hx(o.address) for o in heap.leaking()]
    d["leaking_raw"] = [hx(o.address) for o in heap.leaking(raw=True)]
    d["refcheck"] = [[hx(r.object.address), r.object.type, r.refcnt, r.referrers, r.residual] for r in heap.refcheck()]
    d["stacks"] = []
    for loc in (False, True):
        d["stacks" if loc else "stacks_nolocals"] = [
            {"thread_id": t.thread_id, "tstate": hx(t.tstate), "gil": t.gil,
             "frames": [{"function": f.function, "file": f.file, "line": f.line, "address": hx(f.address),
                         "frame_object": hx(f.frame_object.address) if f.frame_object is not None else None,
                         "locals": [[k, hx(v.address) if v is not None else None, v.repr() if v is not None else None]
                                    for k, v in f.locals.items()]}
                        for f in t.frames]}
            for t in heap.stacks(locals=loc)]
    g = heap.gc()
    d["gc"] = {"enabled": g.enabled, "threshold": list(g.threshold), "count": list(g.count),
               "generations": list(g.generation_sizes), "frozen": g.frozen, "garbage": g.garbage}
    d["errors"] = {"object_0x10": err_of(lambda: heap.object(0x10)),
                   "by_type_unknown": err_of(lambda: heap.objects("NoSuchTypeAtAll"))}
    d["warnings_after"] = heap.warnings
    return d


def cmd_dump(cores, out, ident, scenarios):
    os.makedirs(os.path.join(out, ident), exist_ok=True)
    for s in scenarios:
        core = os.path.join(cores, ident, s + ".core")
        truth = load(os.path.join(cores, ident, s + ".truth.json"))
        with objinspect.open_core(core) as heap:
            d = dump_heap(heap, truth)
        d["host"] = None   # never the host's version: dumps of different Pythons must be equal
        with open(os.path.join(out, ident, s + ".json"), "w") as f:
            json.dump(d, f, indent=1, sort_keys=True)
    return []


# ----------------------------------------------------------------------------- check --

def cli(core, *args):
    exe = os.environ.get("OBJINSPECT") or os.path.join(ROOT, "build", "objinspect")
    p = subprocess.run(["timeout", "60", exe, core] + list(args) + ["--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("objinspect %s %s: exit %d: %s" % (core, " ".join(args), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def cli_status(core, *args):
    exe = os.environ.get("OBJINSPECT") or os.path.join(ROOT, "build", "objinspect")
    p = subprocess.run(["timeout", "60", exe, core] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stderr.strip()


def difference(a, b):
    """Where two JSON values first differ, shortly: "[i]: x / y", ".key: x / y"."""
    if isinstance(a, list) and isinstance(b, list):
        ka, kb = [json.dumps(x, sort_keys=True) for x in a], [json.dumps(x, sort_keys=True) for x in b]
        only_a, only_b = [x for x in ka if x not in set(kb)], [x for x in kb if x not in set(ka)]
        if only_a or only_b:   # members missing on one side: say which
            return " members: %d only in the first %s, %d only in the second %s" % (
                len(only_a), ", ".join(only_a[:3])[:200], len(only_b), ", ".join(only_b[:3])[:200])
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return "[%d]%s" % (i, difference(x, y))
        return " lengths %d / %d (%s)" % (len(a), len(b), json.dumps((a[len(b):] or b[len(a):])[:3])[:200])
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                return ".%s%s" % (k, difference(a.get(k), b.get(k)))
    return ": %s / %s" % (json.dumps(a)[:200], json.dumps(b)[:200])


def _cmp(bad, what, ours, theirs):
    if ours != theirs:
        bad.append("%s differs (package / CLI) at %s" % (what, difference(ours, theirs)))


# Which answers are compared with the CLI's on which scenario (each CLI run opens the core
# again: 50-150 ms): everything on graph, each scenario's own subject elsewhere. The truth is
# compared everywhere, whatever this says.
CLI_ALL = {"info", "types", "qualified", "objects", "refs", "chains", "collect", "garbage", "leaking", "refcheck",
           "stacks", "gc", "errors"}
CLI_MORE = {"graph": CLI_ALL, "amqp_cycle": {"collect", "chains"}, "threads": {"stacks"},
            "freeze": {"types", "qualified", "gc"}, "tb_cycle": {"collect", "stacks", "garbage"},
            "del_cycle": {"collect", "garbage"}, "bound_method": {"collect"}, "garbage27": {"collect", "garbage", "gc"},
            "cache_leak": {"types", "leaking", "chains", "objects"}, "slots": {"types"}, "dict_subclass": {"types"},
            "sessions": {"types", "groups"}}
# how many objects' facts, references and chains are compared with the CLI's (the truth's:
# all of them), and by-type lists
CLI_PER_OBJECT = 1
# the scenarios whose type counts the truth gives within BOUND (truth.bats' SCENARIOS: the
# worker threads of `threads` allocate while the truth is taken)
TRUTH_TYPES = ("cache_leak", "amqp_cycle", "del_cycle", "bound_method", "big_list", "slots", "dict_subclass",
               "freeze", "growth.a", "growth.b", "graph", "garbage27", "tb_cycle")


def check_types_part(bad, core, d, truth, cli_wants):
    sys.path.insert(0, HERE)
    import check
    for key, args in (("types", ()), ("types_qualified", ("--qualified",)), ("types_all", ("--all",))):
        if key not in cli_wants and "qualified" not in cli_wants:
            continue
        doc = cli(core, "types", "--limit", "0", *args)
        _cmp(bad, key, d[key]["rows"], [[r["type"], r["count"], r["bytes"]] for r in doc["types"]])
        _cmp(bad, key + " objects", d[key]["objects"], doc["objects"])
        _cmp(bad, key + " frozen", d[key]["frozen"], doc["frozen"])
        if key == "types_all":
            _cmp(bad, "types_all untracked", d[key]["untracked"], doc["untracked"])
    for key in ("types", "types_qualified"):
        if d[key]["untracked"] is not None:
            bad.append("%s: untracked %r without all=True" % (key, d[key]["untracked"]))
    _cmp(bad, "types(limit=3)", d["types_limit3"], d["types"]["rows"][:3])
    if len(d["types"]["rows"]) <= 3:
        bad.append("fewer than 4 types: the limit is not tested")
    if [r[1] for r in d["types"]["rows"]] != sorted((r[1] for r in d["types"]["rows"]), reverse=True):
        bad.append("types(): not most common first")
    if sum(r[1] for r in d["types"]["rows"]) != d["types"]["objects"]:
        bad.append("types(): counts add up to %d, .objects %d" % (sum(r[1] for r in d["types"]["rows"]), d["types"]["objects"]))
    if d["types_all"]["untracked"] is None or \
            sum(r[1] for r in d["types_all"]["rows"]) != d["types_all"]["objects"] + d["types_all"]["untracked"]:
        bad.append("types(all=True): counts do not add up to .objects + .untracked")
    # the interpreter's own counts, as the CLI's are checked (tests/lib/check.py)
    doc = {"python": d["python"], "objects": d["types"]["objects"],
           "types": [{"type": r[0], "count": r[1], "bytes": r[2]} for r in d["types"]["rows"]]}
    if truth["scenario"] in TRUTH_TYPES:
        bad.extend("truth: " + m for m in check.check_types(truth, doc, BOUND))
    bad.extend("truth: " + m for m in check.check_sizes(truth, doc))
    ours = {}
    for r in d["types_qualified"]["rows"]:
        ours[r[0]] = ours.get(r[0], 0) + r[1]
    for q, n in sorted(truth.get("qualified", {}).items()):
        if q.split(".")[-1] in truth["expected"] and ours.get(q) != n:
            bad.append("truth: types(qualified=True) %s: %s, the interpreter %s" % (q, ours.get(q), n))
    # gc.get_objects() with each object's facts = the statistics
    want = dict((r[0], [r[1], r[2]]) for r in d["types"]["rows"])
    if d["facts_by_type"] != want:
        diff = sorted(k for k in set(want) | set(d["facts_by_type"]) if want.get(k) != d["facts_by_type"].get(k))
        bad.append("objects()' facts by type differ from types() for %s" % ", ".join(diff[:10]))
    _cmp(bad, "len(objects())", d["objects_len"], d["types"]["objects"])
    if d["objects_odd"]:
        bad.append("objects() has objects untracked, frozen or of no generation: %s" % d["objects_odd"])


def check_objects_part(bad, core, d, truth, cli_wants):
    for i, (cls, got) in enumerate(sorted(d["by_type"].items())):
        if "objects" in cli_wants and i < CLI_PER_OBJECT:
            _cmp(bad, "objects(%r)" % cls, got, cli(core, "by-type", cls, "--limit", "0")["objects"])
        if isinstance(got, dict):
            bad.append("objects(%r): %s" % (cls, got))
        elif cls in truth.get("ids", {}) and sorted(got) != sorted(truth["ids"][cls]):
            bad.append("objects(%r): %d addresses, the interpreter's id()s %d" % (cls, len(got), len(truth["ids"][cls])))
    refc = dict((r["address"], r["refcnt"]) for r in truth.get("refcounts", []))
    none = truth.get("none")
    if none:   # immortal (3.12+) exactly when the interpreter reported the immortal count, then that count
        f = d["at"].get(none["address"], {})
        if f.get("type") != "NoneType" or f.get("immortal") != (none["refcnt"] >= 1 << 31) or \
                (f.get("immortal") and f.get("refcnt") != none["refcnt"]):
            bad.append("object(None): %s, the interpreter's refcount %d" % (f, none["refcnt"]))
    for i, (a, f) in enumerate(sorted(d["at"].items())):
        if "error" in f:
            bad.append("object(%s): %s" % (a, f["error"]))
            continue
        if "objects" in cli_wants and i < CLI_PER_OBJECT:
            doc = cli(core, "at", a)
            _cmp(bad, "object(%s)" % a, dict((k, f.get(k)) for k in doc), doc)
        if not f["tracked"] and (f["generation"] != -1 or f["frozen"]):
            bad.append("object(%s): untracked, generation %s, frozen %s" % (a, f["generation"], f["frozen"]))
        if a in refc and f["refcnt"] != refc[a]:
            bad.append("object(%s).refcnt %s, sys.getrefcount()-1 %s" % (a, f["refcnt"], refc[a]))
        if a in truth.get("sizes", {}) and f["size"] != truth["sizes"][a]:
            bad.append("object(%s).size %s, sys.getsizeof %s" % (a, f["size"], truth["sizes"][a]))
        r = truth.get("reprs", {}).get(a, "")
        if r.startswith("<") and " at 0x" in r and f["repr"] != r:
            bad.append("object(%s).repr() %r, repr() %r" % (a, f["repr"], r))
        if f["type_object"] not in ("type", "classobj") and not f["type_object"].endswith("Meta") \
                and not f["type_object"].endswith("Type"):
            bad.append("object(%s).type_object is a %s" % (a, f["type_object"]))
        for cls, addrs in truth.get("ids", {}).items():
            if a in addrs and f["type"] != cls:
                bad.append("object(%s).type %s, the interpreter's %s" % (a, f["type"], cls))
            # the class (for a 2.7 classic instance too, whose type() is `instance`)
            if a in addrs and truth.get("class_addresses", {}).get(cls) not in (None, f["type_address"]):
                bad.append("object(%s).type_address %s, id(%s) %s" % (a, f["type_address"], cls, truth["class_addresses"][cls]))
    if not d["at"]:
        bad.append("no object asked for")
    graph = dict((g["address"], g) for g in truth.get("graph", {}).values())
    for i, (a, r) in enumerate(sorted(d["refs"].items())):
        if "refs" in cli_wants and i < CLI_PER_OBJECT:
            for key, cmd in (("referents", "refs"), ("referrers", "backrefs")):
                doc = cli(core, cmd, a)
                theirs = [[x.get("edge") or "", x["address"], x.get("type"), 1 if x.get("inferred") else 0] for x in doc[key]]
                _cmp(bad, "object(%s).%s()" % (a, key), [[x[0], x[1], x[2], x[3] & 1] for x in r[key]], theirs)
        g = graph.get(a)
        if g is None:
            continue
        got = dict((x[1], x[2]) for x in r["referents"])
        if sorted(got) != sorted(set(g["referents"])):
            bad.append("object(%s).referents(): %s, gc.get_referents %s" % (a, sorted(got), sorted(g["referents"])))
        for b in set(got) & set(g["referents"]):
            if got[b] != g["referent_types"][b]:
                bad.append("object(%s).referents(): %s is a %s, not a %s" % (a, b, g["referent_types"][b], got[b]))
        for b, labels in g.get("edges", {}).items():
            have = sorted(set(x[0] for x in r["referents"] if x[1] == b))
            if b in got and have != labels:
                bad.append("object(%s).referents(): to %s labelled %s, expected %s" % (a, b, have, labels))
        if not set(g["referrers"]) <= set(x[1] for x in r["referrers"]):
            bad.append("object(%s).referrers(): misses gc.get_referrers' %s"
                       % (a, sorted(set(g["referrers"]) - set(x[1] for x in r["referrers"]))))
    for e, what in ((d["errors"]["object_0x10"], ("at", "0x10")), (d["errors"]["by_type_unknown"], ("by-type", "NoSuchTypeAtAll"))):
        if e is None or e[2] != "NotFoundError" or e[0] != 6:   # Code.NOT_FOUND, errors.h's INS_ERR_NOT_FOUND
            bad.append("%s: %s, not a NotFoundError" % (" ".join(what), e))
        elif "errors" in cli_wants:
            st, msg = cli_status(core, *what)
            if e[0] != st or "error: " + e[1] != msg:
                bad.append("%s: %s code %d %r, the CLI exits %d with %r" % (" ".join(what), e[2], e[0], e[1], st, msg))


def _chain_cmp(bad, what, ours, doc):
    theirs = [[r.get("edge") or "", r["address"], r.get("type")] for r in doc["chain"]]
    mine = [list(x) for x in ours["chain"]]
    if mine and theirs and doc["chain"][0].get("type") == "frame":
        # the CLI names the frame's local on the next link only
        if mine[0][0] != (theirs[1][0] if len(theirs) > 1 else None):
            bad.append("%s: a frame's chain starts with label %r, not the local's name %r" % (what, mine[0][0], theirs[1][0]))
        mine[0][0] = theirs[0][0] = ""
        if ours.get("thread_id") != doc["chain"][0].get("thread_id"):
            bad.append("%s: thread %s, CLI %s" % (what, ours.get("thread_id"), doc["chain"][0].get("thread_id")))
    elif ours.get("thread_id") is not None:
        bad.append("%s: a thread %s for a chain from a module" % (what, ours.get("thread_id")))
    if ours["found"] != doc["found"] or mine != theirs:
        bad.append("%s: package %s %s, CLI %s %s" % (what, ours["found"], mine, doc["found"], theirs))


def check_chain_part(bad, core, d, truth, cli_wants):
    names = dict((v, k) for k, v in truth.get("chain_targets", {}).items())
    for i, (a, c) in enumerate(sorted(d["chains"].items(), key=lambda kv: (kv[0] not in names, kv[0]))):
        if "chains" in cli_wants and i < CLI_PER_OBJECT:
            _chain_cmp(bad, "chain(%s)" % a, c["default"], cli(core, "chain", a))
        if "chains" in cli_wants and i == 0 and truth["scenario"] in ("graph", "amqp_cycle"):
            _chain_cmp(bad, "chain(%s, to_root=True)" % a, c["root"], cli(core, "chain", a, "--to", "root"))
        if "chains" in cli_wants and i == 0 and truth["scenario"] == "graph":
            _chain_cmp(bad, "chain(%s, max_depth=1)" % a, c["max1"], cli(core, "chain", a, "--max-depth", "1"))
            if "ignore" in c:
                _chain_cmp(bad, "chain(%s, extra_ignore=[%s])" % (a, c["ignore"]["ignored"]), c["ignore"]["chain"],
                           cli(core, "chain", a, "--extra-ignore", c["ignore"]["ignored"]))
        for key in ("default", "max1", "root"):
            ch = c[key]
            if not ch["found"] and [x[1] for x in ch["chain"]] != [a]:
                bad.append("chain(%s) %s not found, but not [obj]: %s" % (a, key, ch["chain"]))
            if ch["found"] and ch["chain"][-1][1] != a:
                bad.append("chain(%s) %s ends at %s" % (a, key, ch["chain"][-1][1]))
            if ch["found"] and key != "root" and (ch["chain"][0][2] != "module" or ch["chain"][0][0] != ""):
                bad.append("chain(%s) %s starts at %s" % (a, key, ch["chain"][0]))
        if c["max1"]["found"] and len(c["max1"]["chain"]) > 2:
            bad.append("chain(%s, max_depth=1) is %d long" % (a, len(c["max1"]["chain"])))
        if "ignore" in c and c["ignore"]["ignored"] in [x[1] for x in c["ignore"]["chain"]["chain"]]:
            bad.append("chain(%s, extra_ignore) goes through %s" % (a, c["ignore"]["ignored"]))
        if a in names:
            want = truth["chains"][names[a]]
            got = c["default"]["chain"]
            if [x[1] for x in got] != [w["address"] for w in want]:
                bad.append("chain(%s): %s; objgraph: %s" % (a, [x[1] for x in got], [w["address"] for w in want]))
            for k in range(1, min(len(got), len(want))):
                if want[k]["edge"] is not None and got[k][0] != want[k]["edge"]:
                    bad.append("chain(%s) link %d labelled %r, objgraph %r" % (a, k, got[k][0], want[k]["edge"]))
            if got and got[0][1] != truth["main_module"]:
                bad.append("chain(%s) does not start at __main__ %s" % (a, truth["main_module"]))


def check_retained_part(bad, core, d, truth, cli_wants):
    """Heap.retained(obj) = `retained ADDRESS` (count, bytes, the dominator chain)."""
    if "chains" not in cli_wants:
        return
    for a, (count, nbytes, doms) in sorted(d.get("retained", {}).items()):
        doc = cli(core, "retained", a)
        theirs = [count, nbytes, doms]
        want = [doc["count"], doc["bytes"], [x["address"] for x in doc["dominators"]]]
        if theirs != want:
            bad.append("retained(%s): package %s, CLI %s" % (a, theirs, want))


def check_suspects_part(bad, core, d, truth, cli_wants):
    """Heap.suspects(threshold=0, limit=3) = `suspects --threshold 0 --limit 3`."""
    if "chains" not in cli_wants or "suspects" not in d:
        return
    doc = cli(core, "suspects", "--threshold", "0", "--limit", "3")
    want = [[x["address"], x["count"], x["bytes"], x["accumulation"]["address"], x["accumulation"]["count"],
             x["accumulation"]["bytes"], x["accumulated"]["type"], x["accumulated"]["count"],
             x["accumulated"]["bytes"], (x["accumulated"]["referrer"] or {}).get("address"),
             [c["address"] for c in x["chain"] if c["type"] != "frame" or c["edge"] is not None],
             x["accumulated"]["allocated_at"] and [x["accumulated"]["allocated_at"][k] for k in ("file", "line", "count")]]
            for x in doc["suspects"]]
    if d["suspects"] != want or not want:
        bad.append("suspects: package %s, CLI %s" % (d["suspects"], want))


def check_group_part(bad, core, d, truth, cli_wants):
    """Heap.suspects() = `suspects` (MAT's default share), group suspects included: on the
    sessions core, there is one (kind "group"), the interpreter's Sessions."""
    if "groups" not in cli_wants:
        return
    doc = cli(core, "suspects")
    want = []
    for x in doc["suspects"]:
        ref = x["accumulated"]["referrer"] if x["kind"] == "object" else x["referrer"]
        chain = [c["address"] for c in x["chain"] if c["type"] != "frame" or c["edge"] is not None]
        if x["kind"] == "object":
            want.append(["object", x["address"], x["count"], x["bytes"], x["accumulated"]["type"],
                         x["accumulated"]["count"], x["accumulated"]["bytes"], (ref or {}).get("address"),
                         (ref or {}).get("count", 0), chain, []])
        else:
            want.append(["group", None, x["count"], x["bytes"], x["type"], x["instances"], x["bytes"],
                         (ref or {}).get("address"), (ref or {}).get("count", 0), chain,
                         [b["address"] for b in x["biggest"]]])
    if d["suspects_default"] != want:
        bad.append("suspects(): package %s, CLI %s" % (d["suspects_default"], want))
    g = truth.get("group") or {}
    if not [x for x in want if x[0] == "group" and x[4] == g.get("type") and x[5] == g.get("instances")]:
        bad.append("suspects(): no group of %s %s: %s" % (g.get("instances"), g.get("type"), want))


def check_collect_part(bad, core, d, truth, cli_wants):
    if "collect" in cli_wants:
        doc = cli(core, "cycles", "--limit", "0")
        _cmp(bad, "len(unreachable())", len(d["unreachable"]), doc["unreachable"])
        theirs = []
        for c in doc["cycles"]:
            objs = c["objects"]
            path = next((i for i in range(1, len(objs)) if objs[i].get("from")), len(objs))
            theirs.append({"members": [o["address"] for o in objs], "types": [o["type"] for o in objs], "path": path,
                           "held": c["held"], "bytes": c["bytes"], "held_bytes": c["held_bytes"]})
        _cmp(bad, "cycles()", d["cycles"], theirs)
    order = [len(c["members"]) + c["held"] for c in d["cycles"]]
    if order != sorted(order, reverse=True):
        bad.append("cycles(): not largest first: %s" % order[:10])
    for c in d["cycles"]:
        if not 2 <= c["path"] <= len(c["members"]) and not (c["path"] == 1 == len(c["members"])):
            bad.append("cycle of %d members with a path of %d" % (len(c["members"]), c["path"]))
    if not d["cycles_again"]:
        bad.append("cycles()/unreachable() differ from collect()'s")
    inc = set()
    for c in d["cycles"]:
        inc |= set(c["members"])
    if not inc <= set(d["unreachable"]):
        bad.append("cycle members not in unreachable(): %s" % sorted(inc - set(d["unreachable"]))[:5])
    # the interpreter's own collection
    un = set(truth.get("unreachable", []))
    mine = set(d["unreachable"])
    if len(mine ^ un) > BOUND:
        bad.append("unreachable(): %d objects, gc.collect() %d, %d in common (bound %d)" % (len(mine), len(un), len(un & mine), BOUND))
    ids = set()
    for addrs in truth.get("ids", {}).values():
        ids |= set(addrs)
    if (mine ^ un) & ids:
        bad.append("unreachable(): the scenario's objects differ from gc.collect()'s: %s" % sorted((mine ^ un) & ids)[:5])
    want_c = set(frozenset(c) for c in truth.get("unreachable_cycles", []))
    for c in d["cycles"]:
        if set(c["members"]) & ids and frozenset(c["members"]) not in want_c:
            bad.append("cycle %s... is no strongly connected component of the interpreter's" % c["members"][:3])
    if "garbage" in cli_wants:
        g = cli(core, "garbage", "--limit", "0")
        _cmp(bad, "garbage()", d["garbage"], [[o["address"], o["type"]] for o in g["objects"]])
    if "garbage_before" in truth and [x[0] for x in d["garbage"]] != truth["garbage_before"]:
        bad.append("garbage(): %s, gc.garbage %s" % ([x[0] for x in d["garbage"]][:5], truth["garbage_before"][:5]))
    if "leaking" in cli_wants:
        for key, args in (("leaking", ()), ("leaking_raw", ("--raw",))):
            _cmp(bad, key, d[key], cli(core, "leaking", "--limit", "0", *args)["objects"])
    lc = truth.get("leaking_collected")
    if lc and abs(len(d["leaking"]) - lc["count"]) > BOUND:
        bad.append("leaking(): %d, get_leaking_objects after gc.collect() %d (bound %d)" % (len(d["leaking"]), lc["count"], BOUND))
    if "leaking" in truth and abs(len(d["leaking_raw"]) - truth["leaking"]["count"]) > BOUND:
        bad.append("leaking(raw=True): %d, get_leaking_objects %d (bound %d)" % (len(d["leaking_raw"]), truth["leaking"]["count"], BOUND))
    if "refcheck" in cli_wants:
        doc = cli(core, "refcheck", "--limit", "0")
        theirs = [[r["address"], r["type"], r["refcnt"], len(r["referrers"]) if isinstance(r["referrers"], list) else r["referrers"],
                   r["unexplained"]] for r in doc["suspects"]]
        _cmp(bad, "refcheck()", d["refcheck"], theirs)
    rows = dict((r[0], r) for r in d["refcheck"])
    for r in d["refcheck"]:
        if r[4] != r[2] - r[3] or r[4] == 0:
            bad.append("refcheck(): %s: residual %d, refcnt %d - referrers %d" % (r[0], r[4], r[2], r[3]))
            break
    for w in ([truth["refcheck"]] + truth["refcheck_orphans"]) if "refcheck" in truth else []:
        r = rows.get(w["address"])
        if r is None or r[2] != w["refcnt"] or r[4] != w["unexplained"]:
            bad.append("refcheck(): %s: %s; the interpreter: refcnt %d, %d Py_IncRef'd" % (w["address"], r, w["refcnt"], w["unexplained"]))


def check_stacks_part(bad, core, d, truth, cli_wants):
    sys.path.insert(0, HERE)
    import check
    if "stacks" in cli_wants:
        doc = cli(core, "stacks", "--locals")
        theirs = []
        for t in doc["threads"]:
            theirs.append({"thread_id": t["thread_id"], "tstate": t["tstate"], "gil": t["gil"],
                           "frames": [{"function": f["function"], "file": f["file"], "line": f["line"], "address": f["address"],
                                       "frame_object": f.get("frame_object"), "locals": sorted([k, v] for k, v in f["locals"].items())}
                                      for f in t["frames"]]})
        ours = [dict(t, frames=[dict(f, locals=sorted([k, r] for k, a, r in f["locals"])) for f in t["frames"]]) for t in d["stacks"]]
        _cmp(bad, "stacks(locals=True)", ours, theirs)
    nol = [dict(t, frames=[dict(f, locals=[]) for f in t["frames"]]) for t in d["stacks"]]
    _cmp(bad, "stacks() (no locals)", d["stacks_nolocals"], nol)
    if not d["stacks"] or not d["stacks"][-1]["frames"]:
        bad.append("stacks(): no thread with frames")
    if "threads" in truth:
        cdoc = {"threads": [{"thread_id": t["thread_id"], "gil": t["gil"],
                             "frames": [{"function": f["function"], "file": f["file"], "line": f["line"],
                                         "locals": dict((k, r) for k, a, r in f["locals"])} for f in t["frames"]]}
                            for t in d["stacks"]]}
        for what in ("frames", "locals", "gil"):
            bad.extend("truth: " + m for m in check.check_stacks_doc(truth, cdoc, what, False))


def check_gc_part(bad, core, d, truth, cli_wants):
    if "gc" in cli_wants:   # the CLI prints an unreadable threshold or count as -1
        ours = dict(d["gc"], threshold=[-1 if x is None else x for x in d["gc"]["threshold"]],
                    count=[-1 if x is None else x for x in d["gc"]["count"]])
        _cmp(bad, "gc()", ours, cli(core, "gc"))
    g = truth["gc"]
    for k in ("enabled", "threshold", "garbage"):
        if d["gc"][k] != g[k]:
            bad.append("gc().%s: %s, the interpreter %s" % (k, d["gc"][k], g[k]))
    if abs(d["gc"]["frozen"] - g["freeze_count"]) > BOUND:
        bad.append("gc().frozen %d, gc.get_freeze_count() %d" % (d["gc"]["frozen"], g["freeze_count"]))
    if d["gc"]["frozen"] != d["types"]["frozen"] or len(d["gc"]["count"]) != len(d["gc"]["threshold"]):
        bad.append("gc() %s disagrees with types()' frozen %d" % (d["gc"], d["types"]["frozen"]))


def cmd_check(cores, out, ident, scenarios):
    bad = []
    for s in scenarios:
        core = os.path.join(cores, ident, s + ".core")
        truth = load(os.path.join(cores, ident, s + ".truth.json"))
        d = load(os.path.join(out, ident, s + ".json"))
        wants = CLI_MORE.get(s, {"types", "collect"})
        mine = []
        if d["python"] != truth["python"]:
            mine.append("python: package %s, the interpreter %s" % (d["python"], truth["python"]))
        if "info" in wants and cli(core, "info")["python"] != d["python"]:
            mine.append("python: package %s, CLI %s" % (d["python"], cli(core, "info")["python"]))
        if d["description"] != "core " + core and d["description"] != "core " + os.path.abspath(core):
            mine.append("description %r" % d["description"])
        for part in (check_types_part, check_objects_part, check_chain_part, check_retained_part, check_suspects_part,
                     check_group_part, check_collect_part, check_stacks_part, check_gc_part):
            try:
                part(mine, core, d, truth, wants)
            except Exception as e:   # a missing key, a CLI failure: a mismatch, not a crash of the check
                mine.append("%s: %s: %s" % (part.__name__, type(e).__name__, e))
        bad.extend("%s/%s: %s" % (ident, s, m) for m in mine)
    return bad


def cmd_same(a, b):
    """Every dump of B (another Python's) is identical to A's."""
    bad = []
    files = []
    for top, _, names in os.walk(b):
        for n in names:
            files.append(os.path.relpath(os.path.join(top, n), b))
    if not files:
        return ["no dumps in %s" % b]
    for f in sorted(files):
        pa = os.path.join(a, f)
        if not os.path.exists(pa):
            bad.append("%s: missing in %s" % (f, a))
            continue
        da, db = load(pa), load(os.path.join(b, f))
        for k in sorted(set(da) | set(db)):
            if da.get(k) != db.get(k):
                bad.append("%s: %s differs (%s / %s) at %s" % (f, k, a, b, difference(da.get(k), db.get(k))))
    return bad


# ------------------------------------------------------------------ open_reader --

class CoreFile(object):
    """A core's PT_LOAD segments and NT_FILE mappings, read in pure Python."""

    def __init__(self, path):
        import mmap
        import struct
        self.f = open(path, "rb")
        self.m = mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ)
        m = self.m
        if m[:4] != b"\x7fELF" or m[4] != 2:
            raise ValueError("not an ELF64 file")
        phoff, = struct.unpack_from("<Q", m, 32)
        phentsize, phnum = struct.unpack_from("<HH", m, 54)
        self.loads, files = [], []
        for i in range(phnum):
            p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = struct.unpack_from("<IIQQQQQQ", m, phoff + i * phentsize)
            if p_type == 1:
                self.loads.append((p_vaddr, p_vaddr + p_memsz, p_offset, p_filesz, p_flags))
            elif p_type == 4:
                off, end = p_offset, p_offset + p_filesz
                while off + 12 <= end:
                    namesz, descsz, ntype = struct.unpack_from("<III", m, off)
                    name = m[off + 12:off + 12 + namesz].rstrip(b"\0")
                    doff = off + 12 + ((namesz + 3) & ~3)
                    if name == b"CORE" and ntype == 0x46494c45:
                        count, page = struct.unpack_from("<QQ", m, doff)
                        ents = [struct.unpack_from("<QQQ", m, doff + 16 + 24 * j) for j in range(count)]
                        names = m[doff + 16 + 24 * count:doff + descsz].split(b"\0")
                        files = [(s, e, o * page, os.fsdecode(names[j])) for j, (s, e, o) in enumerate(ents)]
                    off = doff + ((descsz + 3) & ~3)
        self.files = files

    def regions(self):
        out = []
        for start, end, _, _, flags in self.loads:
            path, offset = None, 0
            for s, e, o, n in self.files:
                if s <= start < e:
                    path, offset = n, o + (start - s)
                    break
            perms = ("r" if flags & 4 else "-") + ("w" if flags & 2 else "-") + ("x" if flags & 1 else "-") + "p"
            out.append((start, end, offset, perms, path))
        # the file mappings gcore left out of the core (code): NT_FILE has no permissions,
        # and what is not in the core was neither written nor anonymous
        for s, e, o, n in self.files:
            if not any(start < e and s < end for start, end, _, _, _ in self.loads):
                out.append((s, e, o, "r-xp", n))
        out.sort()
        return out

    def read(self, addr, n):
        out = b""
        while n > 0:
            for start, end, off, filesz, _ in self.loads:
                if start <= addr < end:
                    k = addr - start
                    if k >= filesz:
                        return None
                    take = min(n, end - addr, filesz - k)
                    out += self.m[off + k:off + k + take]
                    addr += take
                    n -= take
                    break
            else:
                return None
        return out


def cmd_reader(core, truth_path, via):
    bad = []
    truth = load(truth_path)
    cf = CoreFile(core)
    regions = cf.regions()
    calls = [0]
    if via == "gdb":
        import gdb
        inf = gdb.selected_inferior()

        def read(addr, n):
            calls[0] += 1
            return inf.read_memory(addr, n)
    else:
        def read(addr, n):
            calls[0] += 1
            return cf.read(addr, n)
    with objinspect.open_core(core) as h:
        want = dump_heap(h, truth)
    with objinspect.open_reader(read, regions, pid=truth.get("pid", 0), description="reader over " + core) as h:
        if h.description != "reader over " + core:
            bad.append("open_reader: description %r" % h.description)
        got = dump_heap(h, truth)
    if calls[0] == 0:
        bad.append("open_reader: read was never called")
    for k in sorted(set(want) | set(got)):
        if k in ("description", "warnings", "warnings_after"):
            continue
        if want.get(k) != got.get(k):
            bad.append("open_reader%s: %s differs (open_reader / open_core) at %s"
                       % (" (GDB's reads)" if via == "gdb" else "", k, difference(got.get(k), want.get(k))))
    # a reader that fails every read: a clean error, no crash
    try:
        objinspect.open_reader(lambda a, n: None, regions).close()
        bad.append("open_reader with a failing read: no error")
    except objinspect.Error:
        pass
    # a reader that raises KeyboardInterrupt: re-raised, not swallowed

    def interrupt(a, n):
        raise KeyboardInterrupt()
    try:
        objinspect.open_reader(interrupt, regions).close()
        bad.append("open_reader: a KeyboardInterrupt in read was swallowed")
    except KeyboardInterrupt:
        pass
    except objinspect.Error as e:
        bad.append("open_reader: a KeyboardInterrupt in read became %r" % e)
    return bad


def cmd_index(core, truth_path, tmp):
    """open_core's index: made with index="make", read back with "auto" (the default), ignored
    with a warning once damaged; every answer is the one without an index."""
    bad = []
    truth = load(truth_path)
    path = os.path.join(tmp, "core.objinspect-index")
    with objinspect.open_core(core, index="never") as h:
        want = dump_heap(h, truth)
    with objinspect.open_core(core, index="make", index_file=path) as h:
        made = dump_heap(h, truth)
    if not os.path.isfile(path):
        return ['open_core(index="make"): no index written at ' + path]
    with objinspect.open_core(core, index_file=path) as h:
        read = dump_heap(h, truth)
    with open(path, "r+b") as f:  # damaged in its middle: its sections' hashes disagree
        f.seek(os.path.getsize(path) // 2)
        b = f.read(64)
        f.seek(os.path.getsize(path) // 2)
        f.write(bytes(x ^ 0x5a for x in b))
    with objinspect.open_core(core, index_file=path) as h:
        damaged = dump_heap(h, truth)
        warned = [w for w in h.warnings if "index" in w]
    if not warned:
        bad.append("open_core: a damaged index was read without a warning")
    for name, got in (("make", made), ("auto", read), ("damaged", damaged)):
        for k in sorted(set(want) | set(got)):
            if k in ("description", "warnings", "warnings_after"):
                continue
            if want.get(k) != got.get(k):
                bad.append("open_core(index: %s): %s differs from no index at %s"
                           % (name, k, difference(got.get(k), want.get(k))))
    for args, kind in (({"index": "sometimes"}, ValueError), ({"index": "make", "index_file": "/nonexistent/dir/x"}, None)):
        try:
            objinspect.open_core(core, **args).close()
            if kind is not None:
                bad.append("open_core(%r): no error" % args)
        except ValueError:
            if kind is not ValueError:
                bad.append("open_core(%r): ValueError" % args)
        except objinspect.Error as e:  # an index that cannot be written: a warning, the answers
            bad.append("open_core(%r): %s" % (args, e))
    return bad


# -------------------------------------------------------------------- semantics --

def cmd_semantics(core, truth_path):
    bad = []
    truth = load(truth_path)
    cls = truth["id_types"][0]
    a = int(truth["ids"][cls][0], 16)
    h = objinspect.open_core(core)
    o1, o2 = h.object(a), h.objects(cls)
    o2 = [o for o in o2 if o.address == a][0]
    if not (o1 == o2 and hash(o1) == hash(o2) and not (o1 != o2) and len(set([o1, o2])) == 1):
        bad.append("the same object twice: not equal or hashed differently")
    if repr(o1) != "<Object 0x%x %s>" % (a, cls):
        bad.append("repr %r" % repr(o1))
    if int(o1) != a or o1.address != a:
        bad.append("int(obj) %r" % int(o1))
    if o1.type_object.address != o1.type_address or o1.type_object.type not in ("type", "classobj") and \
            not o1.type_object.type.endswith("Meta"):
        bad.append("type_object %r" % o1.type_object)
    others = [o for o in h.objects(cls) if o.address != a]
    if others and (others[0] == o1 or others[0].address == a):
        bad.append("different objects equal")
    h2 = objinspect.open_core(core)
    o3 = h2.object(a)
    if o3 == o1:
        bad.append("objects of two heaps compare equal")
    h2.close()
    chain = h.chain(o1)
    for link in chain:
        label, obj = link
        if (label, obj) != tuple(link) or link.label != label or link.object is not obj:
            bad.append("Ref does not unpack as (label, object)")
            break
    if chain and chain.found and (chain[-1].object != o1 or h.chain(a) != chain):
        bad.append("chain(address) differs from chain(Object)")
    for r in o1.referents() + o1.referrers():
        if not isinstance(r, objinspect.Ref) or not isinstance(r.object, objinspect.Object) or \
                r.inferred is not bool(r.flags & 1) or r.borrowed is not bool(r.flags & 2) or r.object.heap is not h:
            bad.append("a reference is not a Ref to an Object of the heap: %r" % (r,))
            break
    if not o1.referrers():
        bad.append("%r has no referrers" % o1)
    for bad_arg in ("0x10", 1.5, None):
        try:
            h.object(bad_arg)
            bad.append("object(%r): no TypeError" % (bad_arg,))
        except TypeError:
            pass
    for bad_arg in (-1, 1 << 64):
        try:
            h.object(bad_arg)
            bad.append("object(%r): no error" % (bad_arg,))
        except objinspect.UsageError as e:
            if e.code != objinspect.Code.USAGE:
                bad.append("object(%r): code %r" % (bad_arg, e.code))
    try:
        h.object(0x10)
        bad.append("object(0x10): no error")
    except ValueError as e:   # NotFoundError is a ValueError
        if not isinstance(e, objinspect.NotFoundError) or e.code != objinspect.Code.NOT_FOUND:
            bad.append("object(0x10): %r" % e)
    try:
        h.chain(o1, max_depth=-1)
        bad.append("chain(max_depth=-1): no error")
    except objinspect.UsageError:
        pass
    if "0x%x" % a not in repr(h.objects(cls)):
        bad.append("a list of objects does not show their addresses")
    if "Heap" not in repr(h) or h.python not in repr(h):
        bad.append("repr(heap) %r" % repr(h))
    with h:
        pass
    if not h.closed or repr(h) != "<objinspect.Heap (closed)>":
        bad.append("the with block did not close the heap")
    for what, fn in (("types", lambda: h.types()), ("object.type", lambda: objinspect.Object(h, a).type),
                     ("referents", lambda: o1.referents()), ("python", lambda: h.python)):
        try:
            fn()
            bad.append("%s on a closed heap: no error" % what)
        except objinspect.UsageError as e:
            if "closed" not in e.message:
                bad.append("%s on a closed heap: %r" % (what, e))
    if o1.type != cls:   # facts already read stay readable
        bad.append("the facts read before close are lost")
    if repr(objinspect.Object(h, a)) != "<Object 0x%x ?>" % a:
        bad.append("repr of an object of a closed heap: %r" % repr(objinspect.Object(h, a)))
    h.close()   # twice is harmless
    # an object the heap loses track of when the Heap is collected: the program is freed
    import gc
    import weakref
    h3 = objinspect.open_core(core)
    w = weakref.ref(h3)
    del h3
    gc.collect()
    if w() is not None:
        bad.append("an unreferenced Heap is not collected")
    return bad


# ----------------------------------------------------------------------- errors --

def cmd_errors(args):
    """open_core on each bad file (with the --exe=EXE, --sysroot=DIR given before it): the
    same code as the CLI's exit status, the same line, the code's own class."""
    bad, opts, n = [], {}, 0
    classes = dict((int(c), k) for c, k in objinspect._errors._BY_CODE.items())
    for a in args:
        if a.startswith("--"):
            k, v = a[2:].split("=", 1)
            opts[k.replace("-", "_")] = v
            continue
        n += 1
        what = "open_core(%r%s)" % (a, "".join(", %s=%r" % kv for kv in sorted(opts.items())))
        cli_opts = []
        for k, v in sorted(opts.items()):
            cli_opts += ["--" + k.replace("_", "-"), v]
        st, msg = cli_status(*(cli_opts + [a, "types"]))
        try:
            objinspect.open_core(a, **opts).close()
            bad.append("%s: no error, the CLI exits %d: %s" % (what, st, msg))
        except objinspect.Error as e:
            if int(e.code) != st or "error: " + e.message != msg:
                bad.append("%s: %s code %s %r; the CLI exits %d with %r" % (what, type(e).__name__, int(e.code), e.message, st, msg))
            if type(e) is not classes.get(int(e.code), objinspect.Error):
                bad.append("%s: code %s raised as %s" % (what, e.code, type(e).__name__))
            if "\n" in e.message or not e.message:
                bad.append("%s: message %r is not one line" % (what, e.message))
        opts = {}
    if not n:
        bad.append("no file")
    return bad


# ------------------------------------------------------------------------ leaks --

def cmd_leaks(core):
    """Every question, asked many times: glibc's bytes in use (mallinfo2) stay flat."""
    import ctypes
    import gc
    libc = ctypes.CDLL(None)

    class mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = mallinfo2

    def used():
        gc.collect()
        m = libc.mallinfo2()
        return m.uordblks + m.hblkhd

    bad = []
    heap = objinspect.open_core(core)
    objs = heap.objects()
    some = [o for o in objs if o.type not in ("type",)][:50]
    target = heap.leaking()[0] if heap.leaking() else some[0]
    cases = [
        ("object+facts", lambda: [heap.object(o.address).refcnt for o in some]),
        ("repr", lambda: [o.repr() for o in some]),
        ("referents", lambda: [o.referents() for o in some]),
        ("referrers", lambda: [o.referrers() for o in some]),
        ("objects", lambda: heap.objects()),
        ("objects(type)", lambda: heap.objects(some[0].type)),
        ("types", lambda: (heap.types(), heap.types(qualified=True), heap.types(all=True))),
        ("chain", lambda: (heap.chain(some[0]), heap.chain(target, extra_ignore=[some[1]]), heap.chain(some[0], to_root=True))),
        ("collect", lambda: heap.collect()),
        ("garbage", lambda: heap.garbage()),
        ("leaking", lambda: (heap.leaking(), heap.leaking(raw=True))),
        ("refcheck", lambda: heap.refcheck()),
        ("stacks", lambda: heap.stacks(locals=True)),
        ("gc", lambda: heap.gc()),
        ("errors", lambda: [err_of(lambda: heap.object(0x10)), err_of(lambda: heap.objects("NoSuchTypeAtAll"))]),
        ("warnings", lambda: (heap.python, heap.description, heap.warnings)),
    ]
    rounds = 100
    for name, fn in cases:
        for _ in range(20):
            fn()   # warm up: the program's caches, Python's free lists and dicts
        # Python's own noise stops growing after the warm-up, mostly; one leaked label (a
        # 32-byte chunk) a round is 3200 bytes, in every window of rounds: a leak grows in each
        # of three windows, noise (a dict or free list resized once) in one at the most
        windows = []
        for _ in range(3):
            before = used()
            for _ in range(rounds):
                fn()
            windows.append(used() - before)
        if min(windows) > 1024:
            grew = min(windows)
            bad.append("%s: %d bytes more in use after %d rounds (%d a round), in each of 3 windows (%s)" % (
                name, grew, rounds, grew // rounds, ", ".join(str(w) for w in windows)))
    heap.close()
    # whole programs: opened and closed (or dropped) again and again
    for _ in range(2):
        objinspect.open_core(core).close()
    before = used()
    for i in range(10):
        h = objinspect.open_core(core)
        h.cycles()
        if i % 2:
            h.close()
        del h
    grew = used() - before
    if grew > 64 * 1024:
        bad.append("open_core + cycles + close, 10 times: %d bytes more in use" % grew)
    return bad


# ------------------------------------------------------------------------- live --

def cmd_live(pid, truth_path, bound):
    bad = []
    truth = load(truth_path)
    with objinspect.attach(pid) as h:
        if h.python != truth["python"]:
            bad.append("python %s, the interpreter %s" % (h.python, truth["python"]))
        if h.description != "live process %d" % pid:
            bad.append("description %r" % h.description)
        t = h.types()
        ours = dict((r.name, r.count) for r in t)
        for cls, n in truth["expected"].items():
            if ours.get(cls) != truth["types"].get(cls):
                bad.append("%s: %s, the interpreter %s" % (cls, ours.get(cls), truth["types"].get(cls)))
        if abs(t.objects - truth["objects"]) > bound:
            bad.append("objects %d, len(gc.get_objects()) %d (bound %d)" % (t.objects, truth["objects"], bound))
        cls = sorted(truth["expected"])[0]
        o = h.objects(cls)[0]
        c = h.chain(o)
        if not c.found or c[0].object.type != "module" or c[-1].object != o:
            bad.append("chain of %r: %r" % (o, c))
    return bad


def docs_gdb_heap():
    """The heap docs/api.md's GDB example opens (its ```python block that uses gdb)."""
    import re
    with open(os.path.join(ROOT, "docs", "api.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    code = [b for b in blocks if "gdb.selected_inferior" in b]
    if len(code) != 1:
        raise RuntimeError("docs/api.md has %d GDB examples" % len(code))
    ns = {}
    exec(code[0], ns)
    return ns["heap"]


def cmd_samestop(pid, core, truth_path, via="process"):
    """A process stopped (SIGSTOP) and its gcore: attach(pid) and open_reader over
    /proc/PID/mem with /proc/PID/maps' regions answer as open_core on the core; or (via gdb,
    in GDB attached to the process) docs/api.md's GDB example does."""
    bad = []
    truth = load(truth_path)
    with objinspect.open_core(core) as h:
        want = dump_heap(h, truth)
    if via == "gdb":
        with docs_gdb_heap() as h:
            if h.description != "gdb inferior 1":
                bad.append("docs' GDB example: description %r" % h.description)
            got = dump_heap(h, truth)
        for k in sorted(set(want) | set(got)):
            if k not in ("description", "warnings", "warnings_after") and want.get(k) != got.get(k):
                bad.append("docs/api.md's GDB example: %s differs (GDB's reads / gcore) at %s" % (k, difference(got.get(k), want.get(k))))
        return bad
    regions = objinspect.proc_maps(pid)
    if not any(r[4] and "python" in r[4] for r in regions) or not any(r[4] is None for r in regions):
        bad.append("proc_maps(%d): no python file or no anonymous region: %s" % (pid, regions[:5]))
    mem = open("/proc/%d/mem" % pid, "rb", buffering=0)

    def read(addr, n):
        mem.seek(addr)
        return mem.read(n)
    for what, opener in (("attach", lambda: objinspect.attach(pid)),
                         ("open_reader over /proc/PID/mem", lambda: objinspect.open_reader(read, regions, pid=pid))):
        with opener() as h:
            got = dump_heap(h, truth)
        for k in sorted(set(want) | set(got)):
            if k not in ("description", "warnings", "warnings_after") and want.get(k) != got.get(k):
                bad.append("%s: %s differs from the gcore's (%s / gcore) at %s" % (what, k, what, difference(got.get(k), want.get(k))))
    mem.close()
    return bad


# ----------------------------------------------------------------------- triage --

def cmd_triage(output, core):
    """The triage example's output: the top types = CLI types, the chain = CLI chain, the
    cycles = CLI cycles."""
    import re
    bad = []
    with open(output) as f:
        lines = f.read().splitlines()
    sec, rows = None, {}
    for ln in lines:
        if ln.startswith("== "):
            sec = ln[3:].split(" ")[0].rstrip(":")
            rows[sec] = [ln]
        elif sec:
            rows[sec].append(ln)
    for s in ("types", "chain", "cycles"):
        if s not in rows:
            bad.append("no '== %s' section in the output" % s)
    if bad:
        return bad
    types = cli(core, "types", "--limit", "10")
    got = [ln.split() for ln in rows["types"][1:]]
    want = [[r["type"], str(r["count"]), str(r["bytes"])] for r in types["types"]]
    if got != want:
        bad.append("types: %s; CLI %s" % (got, want))
    m = re.match(r"^== chain of the first (\S+) \((\S+), (\d+) objects\): (0x[0-9a-f]+)$", rows["chain"][0])
    if not m:
        return bad + ["chain header %r" % rows["chain"][0]]
    short, qual, count, addr = m.groups()
    by = cli(core, "by-type", qual, "--limit", "1")
    if by["objects"][0] != addr or by["count"] != int(count):
        bad.append("chain: %s, %s objects; the CLI's first %s is %s of %d" % (addr, count, qual, by["objects"][0], by["count"]))
    q = cli(core, "types", "--limit", "0", "--qualified")["types"]
    if not q or not any(r["type"] == qual for r in q):
        bad.append("chain: %s is no type of the heap" % qual)
    else:
        mains = [r["type"] for r in q if r["type"].startswith("__main__.")]
        if mains and mains[0] != qual:
            bad.append("chain: %s is not the most common __main__ type (%s)" % (qual, mains[0]))
    ch = cli(core, "chain", addr)
    got = [ln.split()[0] for ln in rows["chain"][1:] if ln.strip()]
    if not ch["found"]:
        if len(got) != 2 or got[0] != "no" or not rows["chain"][2].split()[0] == addr:
            bad.append("chain: the CLI finds none, the script says %s" % rows["chain"][1:])
    elif got != [r["address"] for r in ch["chain"]]:
        bad.append("chain of %s: %s; CLI %s" % (addr, got, [r["address"] for r in ch["chain"]]))
    elif [ln.split()[1] for ln in rows["chain"][1:]] != [r["type"] for r in ch["chain"]]:
        bad.append("chain of %s: types %s; CLI %s" % (addr, [ln.split()[1] for ln in rows["chain"][1:]], [r["type"] for r in ch["chain"]]))
    cy = cli(core, "cycles", "--limit", "0")
    m = re.match(r"^== cycles: (\d+) \((\d+) objects unreachable, (\d+) bytes\)$", rows["cycles"][0])
    if not m or [int(x) for x in m.groups()] != [cy["ncycles"], cy["unreachable"], cy["bytes"]]:
        bad.append("cycles header %r; CLI %d cycles, %d unreachable, %d bytes" % (rows["cycles"][0], cy["ncycles"], cy["unreachable"], cy["bytes"]))
    listed = [(rows["cycles"][i], rows["cycles"][i + 1]) for i in range(1, len(rows["cycles"]) - 1)
              if re.match(r"^  \d", rows["cycles"][i])]
    for (head, path), c in zip(listed, cy["cycles"]):
        n = int(head.split()[0])
        objs = c["objects"]
        plen = next((i for i in range(1, len(objs)) if objs[i].get("from")), len(objs))
        want = " ".join("%s %s -%s->" % (objs[i]["type"], objs[i]["address"], objs[(i + 1) % plen]["edge"]) for i in range(plen))
        if n != c["size"] or path.strip() != want + " (back to %s)" % objs[0]["address"]:
            bad.append("cycle %r %r; CLI %d members: %s" % (head, path, c["size"], want))
    if len(listed) != min(5, len(cy["cycles"])):
        bad.append("%d cycles listed, the CLI has %d" % (len(listed), len(cy["cycles"])))
    return bad


# ------------------------------------------------------------------------- abi --

def cmd_abi():
    """ctypes layouts = the C compiler's, for every structure; constants and prototypes."""
    import ctypes
    import re
    import tempfile
    from objinspect import _capi
    bad = []
    structs = [(n, c) for n, c in sorted(vars(_capi).items())
               if isinstance(c, type) and issubclass(c, ctypes.Structure) and n.startswith("ins_")]
    consts = [n for n in vars(_capi) if n.startswith("INS_") and isinstance(getattr(_capi, n), int)]
    src = ["#include <stdio.h>", "#include <stddef.h>", '#include "libinspect/libinspect.h"', "int main(void) {"]
    for n, c in structs:
        src.append('printf("%s %%zu %%zu\\n", sizeof(%s), _Alignof(%s));' % (n, n, n))
        for f in c._fields_:
            src.append('printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));' % (n, f[0], n, f[0], n, f[0]))
    for n in consts:
        src.append('printf("%s %%lld\\n", (long long)%s);' % (n, n))
    for m in objinspect.Code:
        name = "INS_OK" if m.name == "OK" else "INS_ERR_" + m.name
        src.append('printf("code.%s %%lld\\n", (long long)%s);' % (m.name, name))
    src.append("return 0; }")
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "abi.c"), "w") as f:
        f.write("\n".join(src) + "\n")
    p = subprocess.run(["cc", "-std=c11", "-I", os.path.join(ROOT, "include"), "-o", os.path.join(d, "abi"),
                        os.path.join(d, "abi.c")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode:
        return ["the layout probe does not compile against include/libinspect: " + p.stdout[:2000]]
    c_says = {}
    for ln in subprocess.check_output([os.path.join(d, "abi")], universal_newlines=True).splitlines():
        k, *v = ln.split()
        c_says[k] = [int(x) for x in v]
    for n, c in structs:
        if c_says[n] != [ctypes.sizeof(c), ctypes.alignment(c)]:
            bad.append("%s: size/alignment %s in ctypes, %s in C" % (n, [ctypes.sizeof(c), ctypes.alignment(c)], c_says[n]))
        for f in c._fields_:
            fd = getattr(c, f[0])
            if c_says["%s.%s" % (n, f[0])] != [fd.offset, fd.size]:
                bad.append("%s.%s: offset/size %s in ctypes, %s in C" % (n, f[0], [fd.offset, fd.size], c_says["%s.%s" % (n, f[0])]))
    for n in consts:
        if c_says[n] != [getattr(_capi, n)]:
            bad.append("%s = %s in the package, %s in C" % (n, getattr(_capi, n), c_says[n]))
    for m in objinspect.Code:
        if c_says["code." + m.name] != [int(m)]:
            bad.append("Code.%s = %d, C %s" % (m.name, m, c_says["code." + m.name]))
    # every INS_API function of the headers is declared, with as many parameters
    text = ""
    for h in ("errors.h", "program.h", "objects.h", "analysis.h"):
        with open(os.path.join(ROOT, "include", "libinspect", h)) as f:
            text += f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # every structure of the headers is declared, with the same fields in the same order
    hstructs = {}
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        names = []
        for decl in m.group(2).split(";"):
            decl = re.sub(r"\[[^]]*\]", "", decl).strip()
            if not decl:
                continue
            parts = decl.split(",")
            names.append(re.findall(r"(\w+)\s*$", parts[0])[0])
            names.extend(re.findall(r"(\w+)\s*$", p.strip())[0] for p in parts[1:])
        hstructs[m.group(3)] = names
    mine = dict(structs)
    for n in sorted(set(hstructs) | set(mine)):
        if n not in mine:
            bad.append("struct %s is in the headers, not in the package" % n)
        elif n not in hstructs:
            bad.append("struct %s is in the package, not in the headers" % n)
        elif [f[0] for f in mine[n]._fields_] != hstructs[n]:
            bad.append("struct %s: fields %s in the package, %s in the header" % (n, [f[0] for f in mine[n]._fields_], hstructs[n]))
    if len(hstructs) < 15:
        bad.append("only %d structures found in the headers" % len(hstructs))
    decl = {}
    for m in re.finditer(r"INS_API\s+[^;(]*?\**\s*(\w+)\s*\(([^)]*)\)\s*;", text):
        params = m.group(2).strip()
        decl[m.group(1)] = 0 if params in ("", "void") else params.count(",") + 1
    protos = _capi._PROTOTYPES
    for n in sorted(set(decl) | set(protos)):
        if n not in protos:
            bad.append("%s is in the headers, not in the package" % n)
        elif n not in decl:
            bad.append("%s is in the package, not in the headers" % n)
        elif len(protos[n][1]) != decl[n]:
            bad.append("%s: %d parameters in the package, %d in the header" % (n, len(protos[n][1]), decl[n]))
    if len(decl) < 20:
        bad.append("only %d functions found in the headers" % len(decl))
    return bad


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "abi":
        bad = cmd_abi()
    elif cmd == "dump":
        bad = cmd_dump(args[0], args[1], args[2], args[3:])
    elif cmd == "check":
        bad = cmd_check(args[0], args[1], args[2], args[3:])
    elif cmd == "same":
        bad = cmd_same(args[0], args[1])
    elif cmd == "reader":
        bad = cmd_reader(args[0], args[1], args[2] if len(args) > 2 else "file")
    elif cmd == "index":
        bad = cmd_index(args[0], args[1], args[2])
    elif cmd == "semantics":
        bad = cmd_semantics(args[0], args[1])
    elif cmd == "errors":
        bad = cmd_errors(args)
    elif cmd == "leaks":
        bad = cmd_leaks(args[0])
    elif cmd == "live":
        bad = cmd_live(int(args[0]), args[1], int(args[2]))
    elif cmd == "samestop":
        bad = cmd_samestop(int(args[0]), args[1], args[2], *args[3:])
    elif cmd == "triage":
        bad = cmd_triage(args[0], args[1])
    else:
        sys.exit("pytruth.py: unknown command %s" % cmd)
    for m in bad:
        print(m)
    return 1 if bad else 0


if __name__ == "__main__":
    if "gdb" in sys.modules and os.environ.get("PYTRUTH_ARGS") is not None:
        # inside GDB (`gdb -batch -ex 'source pytruth.py'`): the arguments are PYTRUTH_ARGS,
        # one a line, and the status a last line for the shell
        print("PYTRUTH-STATUS %d" % main(os.environ["PYTRUTH_ARGS"].split("\n")))
    else:
        sys.exit(main(sys.argv[1:]))
