#!/usr/bin/env python3
"""apicheck.py -- libinspect's public API against objinspect, on the same core.

  apicheck.py API_OUTPUT CORE [OBJINSPECT]

API_OUTPUT holds what tests/unit/api.c printed on CORE: one JSON object per line with a
"what" key (other lines are its ok/FAIL checks, ignored here). For each, objinspect
($OBJINSPECT, else the last argument) answers the same question with --json and the two
answers must be the same: types (and --qualified, --all), count and by-type, at, refs and
backrefs, chain (and --to root), leaking (and --raw), cycles, garbage, refcheck, gc,
stacks --locals. Prints one ok/FAIL line per comparison; exit 1 if any failed.
"""
import json
import os
import subprocess
import sys

failures = 0
cache = {}


def cli(core, exe, *args):
    """objinspect CORE ARGS --json: (exit status, parsed JSON or None)."""
    key = args
    if key not in cache:
        p = subprocess.run([exe, core] + list(args) + ["--json"], capture_output=True, text=True, timeout=300)
        cache[key] = (p.returncode, json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None)
    return cache[key]


def check(cond, what, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if cond else "FAIL", what, "" if cond else ": " + detail))
    if not cond:
        failures += 1


def same(what, api, want):
    check(api == want, what, "API %s, objinspect %s" % (short(api), short(want)))


def short(x):
    s = json.dumps(x)
    return s if len(s) < 600 else s[:600] + "..."


def compare(r, core, exe):
    w = r["what"]
    if w == "program":
        code, d = cli(core, exe, "info")
        same("python version", r["python"], d and d["python"])
    elif w == "objects":
        code, d = cli(core, exe, "types", "--limit", "0")
        same("gc.get_objects() count", r["count"], d and d["objects"])
    elif w == "types":
        opts = (["--qualified"] if r["flags"] & 1 else []) + (["--all"] if r["flags"] & 2 else [])
        code, d = cli(core, exe, "types", "--limit", "0", *opts)
        name = "types " + " ".join(opts)
        if not d:
            return check(False, name, "objinspect exit %d" % code)
        same(name + ": objects, frozen", [r["objects"], r["frozen"]], [d["objects"], d["frozen"]])
        if r["flags"] & 2:
            same(name + ": untracked", r["untracked"], d["untracked"])
        same(name + ": rows", [(t["type"], t["count"], t["bytes"]) for t in r["types"]],
             [(t["type"], t["count"], t["bytes"]) for t in d["types"]])
    elif w == "by_type":
        code, d = cli(core, exe, "by-type", r["type"], "--limit", "0")
        same("by-type %s" % r["type"], r["objects"], d and d["objects"])
        code, d = cli(core, exe, "count", r["type"])
        same("count %s" % r["type"], len(r["objects"]), d and d["count"])
    elif w == "leaking":
        opts = ["--raw"] if r["raw"] else []
        code, d = cli(core, exe, "leaking", "--limit", "0", *opts)
        same("leaking " + " ".join(opts), r["objects"], d and d["objects"])
        same("leaking %s count" % " ".join(opts), len(r["objects"]), d and d["count"])
    elif w == "cycles":
        code, d = cli(core, exe, "cycles", "--limit", "0")
        if not d:
            return check(False, "cycles", "objinspect exit %d" % code)
        same("cycles: unreachable", len(r["unreachable"]), d["unreachable"])
        same("cycles: bytes", r["bytes"], d["bytes"])
        counts = {}
        for t in r["unreachable_types"]:
            if t is not None:
                counts[t] = counts.get(t, 0) + 1
        same("cycles: unreachable by type", sorted(counts.items()), sorted((t["type"], t["count"]) for t in d["types"]))
        same("cycles: cycles", [(c["size"], c["bytes"], c["held"], c["held_bytes"], c["members"]) for c in r["cycles"]],
             [(c["size"], c["bytes"], c["held"], c["held_bytes"], [o["address"] for o in c["objects"]])
              for c in d["cycles"]])
    elif w == "garbage":
        code, d = cli(core, exe, "garbage")
        same("garbage: exit status", r["code"], code)
        if r["code"] == 0:
            same("garbage", r["objects"], d and [o["address"] for o in d["objects"]])
    elif w == "refcheck":
        code, d = cli(core, exe, "refcheck", "--limit", "0")
        same("refcheck", [(x["address"], x["refcnt"], x["referrers"], x["residual"]) for x in r["rows"]],
             d and [(x["address"], x["refcnt"], x["referrers"], x["unexplained"]) for x in d["suspects"] + d["negative"]])
    elif w == "gc":
        code, d = cli(core, exe, "gc")
        same("gc", {k: v for k, v in r.items() if k not in ("what", "ngens")}, d)
        same("gc: generations", r["ngens"], d and len(d["threshold"]))
    elif w == "stacks":
        code, d = cli(core, exe, "stacks", "--locals")
        if not d:
            return check(False, "stacks", "objinspect exit %d" % code)
        keys = ("thread_id", "gil", "tstate")
        same("stacks: threads", [[t[k] for k in keys] for t in r["threads"]], [[t[k] for k in keys] for t in d["threads"]])
        fkeys = ("function", "file", "line", "address", "frame_object")
        for a, b in zip(r["threads"], d["threads"]):
            same("stacks: thread %d: frames" % a["thread_id"], [[f[k] for k in fkeys] for f in a["frames"]],
                 [[f[k] for k in fkeys] for f in b["frames"]])
            for fa, fb in zip(a["frames"], b["frames"]):
                names = [x[0] for x in fa["locals"]]
                same("stacks: %s: locals" % fa["function"], names, list(fb["locals"]))
                reprs = [(x[0], x[2]) for x in fa["locals"] if x[2] is not None]
                same("stacks: %s: locals' reprs" % fa["function"], reprs, [(n, fb["locals"].get(n)) for n, _ in reprs])
    elif w == "object":
        code, d = cli(core, exe, "at", r["address"])
        if not d:
            return check(False, "at %s" % r["address"], "objinspect exit %d" % code)
        keys = ("address", "type", "qualname", "refcnt", "immortal", "size", "tracked", "repr")
        same("at %s" % r["address"], [r[k] for k in keys], [d[k] for k in keys])
        if d["tracked"]:
            same("at %s: generation, frozen" % r["address"], [r["generation"], r["frozen"]],
                 [d["generation"], d["frozen"]])
    elif w in ("refs", "backrefs"):
        code, d = cli(core, exe, w, r["address"])
        key = "referents" if w == "refs" else "referrers"
        api = [(x["address"], x["edge"]) + ((x["inferred"],) if w == "refs" else ()) for x in r["refs"]]
        want = d and [(x["address"], x["edge"]) + ((x.get("inferred", False),) if w == "refs" else ()) for x in d[key]]
        same("%s %s" % (w, r["address"]), api, want)
    elif w == "chain":
        opts = ["--to", "root"] if r["to_root"] else []
        code, d = cli(core, exe, "chain", r["address"], *opts)
        name = "chain %s %s" % (r["address"], " ".join(opts))
        if not d:
            return check(False, name, "objinspect exit %d" % code)
        same(name + ": found", r["found"], d["found"])
        same(name + ": objects", [x["address"] for x in r["chain"]], [x["address"] for x in d["chain"]])
        # objinspect: the start has no edge; the API labels a frame start with the local's name
        # (the edge of the next element), a module start with ""
        edges = [x["edge"] for x in d["chain"]]
        frame = d["chain"][0].get("type") == "frame" and "thread_id" in d["chain"][0]
        edges[0] = edges[1] if frame else ""
        same(name + ": labels", [x["edge"] for x in r["chain"]], edges)
    else:
        check(False, "unknown record %s" % w)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    out, core = sys.argv[1], sys.argv[2]
    exe = os.environ.get("OBJINSPECT") or (sys.argv[3] if len(sys.argv) > 3 else None)
    n = 0
    with open(out, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("{"):
                compare(json.loads(line), core, exe)
                n += 1
    check(n > 10, "%d API answers compared" % n)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
