#!/usr/bin/env python3
"""retained.py -- `objinspect CORE retained` against the interpreter's own retained sets.

    retained.py exact TRUTH CORE OBJINSPECT   every object of the truth's "retained" (the named
                                               globals, corefixtures/truth.py _retained):
                                               `retained ADDR --json` count, bytes and holds
                                               (by type) equal it exactly
    retained.py top CORE OBJINSPECT           `retained --json`: largest first, each equal to
                                               `retained ADDR`, none above total_bytes

    retained.py chains CORE OBJINSPECT        `retained --json`: each top object's "chain" is what
                                               `chain ADDR --json` gives
    retained.py tree TRUTH CORE OBJINSPECT    `retained ADDR --tree` for every named global and
                                               __main__'s dict: preorder, depths, children most
                                               bytes first, immediate dominator = parent, bytes
                                               as `retained NODE`, children's sum <= parent's
    retained.py types TRUTH CORE OBJINSPECT   `types --retained`: for a type whose every instance
                                               is a named global, the interpreter's retained sets
                                               summed; for the scenario's classes (ids), the
                                               union of `retained ADDR` of every instance (an
                                               instance some other instance dominates adds
                                               nothing); retained_count >= count everywhere
    retained.py suspects TRUTH CORE OBJINSPECT NAME
                                              `suspects`: some suspect's accumulation point is
                                               the global NAME (truth refcounts), labelled NAME,
                                               chained from __main__, what accumulates there
                                               counted as the interpreter counts it in NAME's
                                               retained set
    retained.py group TRUTH CORE OBJINSPECT    `suspects` on the sessions core: a group suspect
                                               (kind "group") of the truth's type, its instances,
                                               count and bytes the interpreter's (_retained_group),
                                               referred to by the registry, chained to it
    retained.py showdom TRUTH CORE OBJINSPECT OUT  `show-dominators` of each named global: the DOT
                                               nodes are `retained ADDR --tree`'s, its edges too

Prints one line per object compared ("ok ..." / "FAIL ..."); exits 1 on any FAIL, 2 when
there was nothing to compare."""
import json
import os
import re
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


def load(truth_path):
    with open(truth_path) as f:
        return json.load(f)


def chains(core, exe):
    got = oi(exe, core, "retained", "--limit", "6")
    bad = 0
    for r in got["top"]:
        want = oi(exe, core, "chain", r["address"])["chain"]
        ok = r.get("chain") == want
        print("%s %s %s chain of %d" % ("ok  " if ok else "FAIL", r["address"], r["type"], len(want)))
        if not ok:
            print("     retained: %s\n     chain:    %s" % (r.get("chain"), want))
        bad += not ok
    return 1 if bad else 0


def tree_of(exe, core, addr, limit, depth):
    return oi(exe, core, "retained", addr, "--tree", "--limit", str(limit), "--max-depth", str(depth))["tree"]


def check_tree(exe, core, addr, limit, depth, probes):
    """One --tree: its shape, and up to `probes` nodes against `retained NODE`."""
    items = tree_of(exe, core, addr, limit, depth)
    errs = []
    if not items or items[0]["address"] != addr or items[0]["depth"] != 0:
        return ["the tree does not start at %s" % addr], len(items)
    parent = {}
    stack = []
    kids = {}
    for i, it in enumerate(items):
        d = it["depth"]
        if d > depth:
            errs.append("%s at depth %d > --max-depth %d" % (it["address"], d, depth))
        if i and not 1 <= d <= len(stack):
            errs.append("%s: depth %d after depth %d (no preorder)" % (it["address"], d, items[i - 1]["depth"]))
            break
        del stack[d:]
        if d:
            parent[i] = stack[d - 1]
            kids.setdefault(stack[d - 1], []).append(i)
        stack.append(i)
    for p, ks in kids.items():
        b = [items[k]["bytes"] for k in ks]
        if len(ks) > limit:
            errs.append("%s lists %d children, --limit %d" % (items[p]["address"], len(ks), limit))
        if b != sorted(b, reverse=True):
            errs.append("%s: children not most bytes first: %s" % (items[p]["address"], b))
        if sum(b) > items[p]["bytes"] or sum(items[k]["count"] for k in ks) >= items[p]["count"]:
            errs.append("%s: children retain %d bytes, %d objects; it retains %d, %d" % (
                items[p]["address"], sum(b), sum(items[k]["count"] for k in ks), items[p]["bytes"],
                items[p]["count"]))
    # the nodes agree with retained NODE, and their immediate dominator is their parent
    step = max(1, len(items) // probes)
    for i in range(0, len(items), step):
        one = oi(exe, core, "retained", items[i]["address"], "--limit", "1")
        if (one["count"], one["bytes"], one["type"]) != (items[i]["count"], items[i]["bytes"], items[i]["type"]):
            errs.append("%s: tree says %d objects %d bytes, retained says %d, %d" % (
                items[i]["address"], items[i]["count"], items[i]["bytes"], one["count"], one["bytes"]))
        if i and (not one["dominators"] or one["dominators"][0]["address"] != items[parent[i]]["address"]):
            errs.append("%s: immediate dominator %s, its parent in the tree %s" % (
                items[i]["address"], one["dominators"][:1], items[parent[i]]["address"]))
    return errs, len(items)


def tree(truth_path, core, exe):
    truth = load(truth_path)
    want = truth.get("retained")
    if not want:
        return 2
    addrs = sorted(want)
    top = oi(exe, core, "retained", "--limit", "1")["top"]
    addrs += [top[0]["address"]]
    bad = 0
    for addr in addrs:
        for limit, depth in ((4, 2), (1000000, 1)):
            errs, n = check_tree(exe, core, addr, limit, depth, 6)
            if limit == 1000000 and not errs:
                # every child listed: the children's counts and the node add up to its count
                items = tree_of(exe, core, addr, limit, depth)
                if 1 + sum(it["count"] for it in items[1:]) != items[0]["count"] or \
                   items[0]["bytes"] - sum(it["bytes"] for it in items[1:]) < 0:
                    errs.append("the children of %s do not add up to its retained count" % addr)
            print("%s %s --tree --limit %d --max-depth %d: %d lines" % ("ok  " if not errs else "FAIL", addr,
                                                                       limit, depth, n))
            for e in errs:
                print("     " + e)
            bad += bool(errs)
    return 1 if bad else 0


def types(truth_path, core, exe):
    truth = load(truth_path)
    want = truth.get("retained") or {}
    got = oi(exe, core, "types", "--retained", "--limit", "0")
    total = oi(exe, core, "retained", "--limit", "1")["total_bytes"]
    rows = dict((r["type"], r) for r in got["types"])
    bad = compared = 0
    every = oi(exe, core, "types", "--retained", "--all", "--limit", "0")["types"]
    for r in got["types"] + every:
        if r["retained_count"] < r["count"] or r["retained_bytes"] < r["bytes"] or r["retained_bytes"] > total:
            print("FAIL %s: %d objects %d bytes retain %d objects %d bytes (heap %d)" % (
                r["type"], r["count"], r["bytes"], r["retained_count"], r["retained_bytes"], total))
            bad += 1
    # a type whose every instance is a named global: the interpreter's retained sets, summed
    by_type = {}
    for addr in sorted(want):
        t = oi(exe, core, "at", addr)["type"]
        by_type.setdefault(t, []).append(addr)
    for t, addrs in sorted(by_type.items()):
        if truth["types"].get(t) != len(addrs) or any(want[a]["types"].get(t) != 1 for a in addrs):
            continue
        count = sum(want[a]["count"] for a in addrs)
        nbytes = sum(want[a]["bytes"] for a in addrs)
        r = rows.get(t, {})
        ok = (r.get("retained_count"), r.get("retained_bytes")) == (count, nbytes)
        compared += 1
        print("%s %s (%s): retains %s objects %s bytes, the interpreter %d, %d" % (
            "ok  " if ok else "FAIL", t, " ".join(want[a]["name"] for a in addrs), r.get("retained_count"),
            r.get("retained_bytes"), count, nbytes))
        bad += not ok
    # the scenario's classes: the union of their instances' retained sets
    budget = 60  # retained ADDR calls: the classes with fewest instances first
    for t in sorted(truth.get("id_types", []), key=lambda t: len(truth.get("ids", {}).get(t, []))):
        ids = truth.get("ids", {}).get(t, [])
        if not ids or len(ids) > budget or truth["types"].get(t) != len(ids):
            continue
        budget -= len(ids)
        inst = set(ids)
        count = nbytes = nested = 0
        for a in ids:
            one = oi(exe, core, "retained", a, "--limit", "1")
            if any(x["address"] in inst for x in one["dominators"]):
                nested += 1
                continue
            count += one["count"]
            nbytes += one["bytes"]
        r = rows.get(t, {})
        ok = (r.get("count"), r.get("retained_count"), r.get("retained_bytes")) == (len(ids), count, nbytes)
        compared += 1
        print("%s %s: %s instances retain %s objects %s bytes; the union of retained ADDR over the "
              "interpreter's %d (%d inside another's): %d, %d" % (
                  "ok  " if ok else "FAIL", t, r.get("count"), r.get("retained_count"), r.get("retained_bytes"),
                  len(ids), nested, count, nbytes))
        bad += not ok
    if not compared:
        return 2
    return 1 if bad else 0


def suspects(truth_path, core, exe, name):
    truth = load(truth_path)
    addr = [r["address"] for r in truth["refcounts"] if r["name"] == name][0]
    want = truth["retained"][addr]
    got = oi(exe, core, "suspects", "--threshold", "0", "--limit", "60")
    bad = []
    shares = [s["bytes"] for s in got["suspects"]]
    if shares != sorted(shares, reverse=True):
        bad.append("suspects not largest first")
    for s in got["suspects"]:
        if abs(s["share"] - float(s["bytes"]) / got["total_bytes"]) > 0.0001:
            bad.append("%s: share %s of %d bytes" % (s["address"], s["share"], s["bytes"]))
    hit = [s for s in got["suspects"] if s["kind"] == "object" and s["accumulation"]["address"] == addr]
    if not hit:
        print("FAIL no suspect accumulates at %s %s: %s" % (name, addr, [
            (s["type"], s["accumulation"]["type"], s["accumulation"]["label"]) for s in got["suspects"]]))
        return 1
    s = hit[0]
    acc = s["accumulated"]
    chain = s["chain"]
    if s["accumulation"]["label"] != name:
        bad.append("labelled %r" % s["accumulation"]["label"])
    if acc["type"] not in truth["id_types"] or want["types"].get(acc["type"]) != acc["count"]:
        bad.append("accumulates %d %s; the interpreter's retained set of %s holds %s of them" % (
            acc["count"], acc["type"], name, want["types"].get(acc["type"])))
    if not chain or chain[-1]["address"] != addr or chain[0]["type"] != "module" or chain[0]["repr"] != "__main__":
        bad.append("chain %s" % [(c["type"], c["repr"], c["edge"]) for c in chain])
    if s["accumulation"]["bytes"] != want["bytes"] or s["accumulation"]["count"] != want["count"]:
        bad.append("accumulation retains %d, %d; the interpreter %d, %d" % (
            s["accumulation"]["count"], s["accumulation"]["bytes"], want["count"], want["bytes"]))
    if s["bytes"] < s["accumulation"]["bytes"] or acc["bytes"] > s["accumulation"]["bytes"]:
        bad.append("sizes do not nest: %d >= %d >= %d" % (s["bytes"], s["accumulation"]["bytes"], acc["bytes"]))
    if ("`%s`" % name) not in s["sentence"] or ("%d %s" % (acc["count"], acc["type"])) not in s["sentence"]:
        bad.append("sentence %r" % s["sentence"])
    print("%s %s %s: %s" % ("ok  " if not bad else "FAIL", name, addr, s["sentence"]))
    for b in bad:
        print("     " + b)
    return 1 if bad else 0


def group(truth_path, core, exe):
    """sessions: `suspects --json` (MAT's default share) has a group suspect of the truth's
    type whose instances, retained count and bytes are what the interpreter counted for the
    Sessions together (truth.py _retained_group), referred to by the registry list (every
    one of them) and chained from main()'s frame; no Session is a suspect alone; text and
    JSON agree."""
    truth = load(truth_path)
    want = truth.get("group")
    if not want or "bytes" not in want:
        return 2
    got = oi(exe, core, "suspects")
    bad = []
    hit = [s for s in got["suspects"] if s["kind"] == "group" and s["type"] == want["type"]]
    if len(hit) != 1:
        print("FAIL no group suspect of %s: %s" % (want["type"], [(s["kind"], s["type"], s["bytes"])
                                                                    for s in got["suspects"]]))
        return 1
    s = hit[0]
    if (s["instances"], s["count"], s["bytes"]) != (want["instances"], want["count"], want["bytes"]):
        bad.append("%d instances retain %d objects, %d bytes; the interpreter says %d, %d, %d" % (
            s["instances"], s["count"], s["bytes"], want["instances"], want["count"], want["bytes"]))
    if abs(s["share"] - float(s["bytes"]) / got["total_bytes"]) > 0.0001 or s["bytes"] * 10 < got["total_bytes"]:
        bad.append("share %s of %d bytes, total %d" % (s["share"], s["bytes"], got["total_bytes"]))
    ref = s["referrer"] or {}
    if ref.get("address") != truth["registry"] or ref.get("count") != want["instances"] or ref.get("label") != "registry":
        bad.append("referrer %s, the registry is %s" % (ref, truth["registry"]))
    if not s["chain"] or s["chain"][-1]["address"] != truth["registry"]:
        bad.append("chain %s" % [(c["type"], c["repr"], c["edge"]) for c in s["chain"]])
    big = [b["bytes"] for b in s["biggest"]]
    if not big or big != sorted(big, reverse=True) or any(b["type"] != want["type"] for b in s["biggest"]):
        bad.append("biggest %s" % s["biggest"])
    for b in s["biggest"]:
        one = oi(exe, core, "retained", b["address"])
        if (one["count"], one["bytes"], one["dominators"]) != (b["count"], b["bytes"], []):
            bad.append("%s: retained ADDR says %d, %d, dominators %s" % (b["address"], one["count"], one["bytes"],
                                                                       one["dominators"]))
    ids = set(truth["ids"].get(want["type"], []))
    if any(x.get("kind") == "object" and x["address"] in ids for x in got["suspects"]):
        bad.append("a %s is a suspect alone" % want["type"])
    text = subprocess.run(["timeout", "120", exe, core, "suspects"], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout
    if s["sentence"] not in text:
        bad.append("the text does not say %r" % s["sentence"])
    print("%s %s" % ("ok  " if not bad else "FAIL", s["sentence"]))
    for b in bad:
        print("     " + b)
    return 1 if bad else 0


def showdom(truth_path, core, exe, out):
    truth = load(truth_path)
    want = truth.get("retained")
    if not want:
        return 2
    bad = 0
    for addr in sorted(want):
        for depth in (1, 2):
            dot = os.path.join(out, "dom-%s-%d.dot" % (addr, depth))
            got = oi(exe, core, "show-dominators", addr, "--max-depth", str(depth), "--too-many", "100000",
                     "--output", dot)
            items = tree_of(exe, core, addr, 1000000, depth)
            with open(dot) as f:
                text = f.read()
            nodes = set(re.findall(r"^  (o\d+)\[label=", text, re.M))
            edges = re.findall(r"^  (o\d+) -> (o\d+) ", text, re.M)
            tree_nodes = set("o%d" % int(it["address"], 16) for it in items)
            errs = []
            if nodes != tree_nodes or got["nodes"] != len(items):
                errs.append("DOT nodes %d (reported %d), the tree %d" % (len(nodes), got["nodes"], len(items)))
            if len(edges) != len(items) - 1 or got["edges"] != len(edges):
                errs.append("edges %d (reported %d) for %d nodes" % (len(edges), got["edges"], len(items)))
            for it in items[:50]:
                if ("retains %d objects, %d bytes" % (it["count"], it["bytes"])) not in text:
                    errs.append("%s not labelled with what it retains" % it["address"])
                    break
            print("%s %s %s --max-depth %d: %d nodes, %d edges" % (
                "ok  " if not errs else "FAIL", want[addr]["name"], addr, depth, len(nodes), len(edges)))
            for e in errs:
                print("     " + e)
            bad += bool(errs)
    return 1 if bad else 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "exact":
        return exact(*sys.argv[2:])
    if len(sys.argv) == 4 and sys.argv[1] == "top":
        return top(*sys.argv[2:])
    if len(sys.argv) == 4 and sys.argv[1] == "chains":
        return chains(*sys.argv[2:])
    if len(sys.argv) == 5 and sys.argv[1] in ("tree", "types"):
        return {"tree": tree, "types": types}[sys.argv[1]](*sys.argv[2:])
    if len(sys.argv) == 5 and sys.argv[1] == "group":
        return group(*sys.argv[2:])
    if len(sys.argv) == 6 and sys.argv[1] == "suspects":
        return suspects(*sys.argv[2:])
    if len(sys.argv) == 6 and sys.argv[1] == "showdom":
        return showdom(*sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
