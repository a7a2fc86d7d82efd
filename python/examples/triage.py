#!/usr/bin/env python3
"""triage.py -- a first look at a CPython core with the objinspect package (docs/api.md).

    triage.py CORE [--exe EXE] [--sysroot DIR] [--limit N] [--type NAME]

Prints the most common types, the reference chain that keeps the first instance of the most
common user-defined type alive (objgraph.find_backref_chain), and the cycles a gc.collect()
would free. --type names the type to chain instead (its __name__ or module.qualname).
"""
import argparse
import os
import sys

try:
    import objinspect
except ImportError:   # run from the repository: python/examples/triage.py
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import objinspect

# modules whose classes are not "user-defined" (the interpreter's own and the standard library)
STDLIB = set(getattr(sys, "stdlib_module_names", ())) | {
    "builtins", "__builtin__", "exceptions", "abc", "collections", "encodings", "codecs", "io", "os", "posix",
    "re", "sre_compile", "sre_parse", "threading", "typing", "weakref", "_weakrefset", "enum", "functools",
    "types", "importlib", "zipimport", "site", "sys", "warnings", "contextlib", "ctypes", "json", "logging"}


def user_defined(qualname):
    """A module.qualname whose module is neither the interpreter's nor the standard library's."""
    module = qualname.rsplit(".", 1)[0] if "." in qualname else ""
    top = module.split(".")[0]
    return module == "__main__" or (top and top not in STDLIB and not top.startswith("_"))


def pick_type(heap):
    """The most common user-defined type, as (module.qualname, count); None if there is none."""
    rows = heap.types(qualified=True)
    main = [r for r in rows if r.name.startswith("__main__.")]
    other = [r for r in rows if user_defined(r.name)]
    for r in (main or other)[:1]:
        return r.name, r.count
    return None


def describe(o):
    r = o.repr()
    return r if len(r) <= 60 else r[:57] + "..."


def label_to(src, dst):
    """The label of a reference from src to dst (the first, if several)."""
    for label, o in src.referents():
        if o == dst:
            return label
    return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description="A first look at a CPython core.")
    ap.add_argument("core")
    ap.add_argument("--exe")
    ap.add_argument("--sysroot")
    ap.add_argument("--limit", type=int, default=10, help="how many types (10)")
    ap.add_argument("--type", help="the type to show the chain of (default: the most common user-defined one)")
    args = ap.parse_args(argv)

    with objinspect.open_core(args.core, exe=args.exe, sysroot=args.sysroot) as heap:
        types = heap.types(limit=args.limit)
        print("%s: Python %s, %d objects tracked, %d frozen" % (heap.description, heap.python, types.objects, types.frozen))

        print("== types (the %d most common: name, count, bytes)" % args.limit)
        width = max([len(t.name) for t in types] + [4])
        for t in types:
            print("  %-*s %9d %11d" % (width, t.name, t.count, t.bytes))

        picked = (args.type, heap.count(args.type)) if args.type else pick_type(heap)
        if picked is None:
            print("== chain: no user-defined type in the heap")
        else:
            name, count = picked
            first = heap.objects(name)[0]
            print("== chain of the first %s (%s, %d objects): 0x%x" % (first.type, name, count, first.address))
            chain = heap.chain(first)
            if not chain.found:
                print("  no chain from a module within 20 references: garbage, or held by C code or a frame only")
            for label, o in chain:
                via = "  via %s" % label if label else ""
                print("  0x%-14x %-16s %s%s" % (o.address, o.type, describe(o), via))

        col = heap.collect()
        print("== cycles: %d (%d objects unreachable, %d bytes)"
              % (len(col.cycles), len(col.unreachable), sum(c.bytes + c.held_bytes for c in col.cycles)))
        for c in col.cycles[:5]:
            print("  %d objects, %d bytes, holding %d more (%d bytes):" % (len(c.members), c.bytes, c.held, c.held_bytes))
            path = c.path
            steps = []
            for i, o in enumerate(path):
                steps.append("%s 0x%x -%s->" % (o.type, o.address, label_to(o, path[(i + 1) % len(path)])))
            print("    " + " ".join(steps) + " (back to 0x%x)" % path[0].address)
        if len(col.cycles) > 5:
            print("  ... and %d more" % (len(col.cycles) - 5))
        for w in heap.warnings:
            print(w, file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except objinspect.Error as e:
        sys.exit("triage: error: %s" % e)
