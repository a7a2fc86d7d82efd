# layoutgen_gdb.py -- the DWARF half of tools/gen-layouts; runs inside gdb.
#
#   LAYOUTGEN_IN=queries.json LAYOUTGEN_OUT=result.json \
#       gdb -batch -nx -q -x tools/layoutgen_gdb.py LIBPYTHON
#
# queries.json is a JSON list of DWARF spec atoms (the off:/bit:/bits:/size:/count:/
# varcount:/ifoff:/enum: alternatives of layout_fields.def, see its header comment).
# result.json maps each atom to its integer value, or to null when it does not
# resolve in this build (type or member missing, not an array, ...).
# Uses only gdb's embedded Python API; no pip packages.

import json
import os

import gdb

AGGREGATES = (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION)


def complete(t):
    """True if t (typedefs stripped) is a usable, fully defined type."""
    if t.code in AGGREGATES:
        return len(t.fields()) > 0
    return t.sizeof > 0


def find_type(name):
    """The type called name (a typedef, or "struct x"/"union x"), typedefs stripped.

    A bare name that is not a typedef is also tried as a struct and a union tag.
    """
    names = [name]
    if not name.startswith(("struct ", "union ", "enum ")):
        names += ["struct " + name, "union " + name]
    for n in names:
        try:
            t = gdb.lookup_type(n).strip_typedefs()
        except gdb.error:
            continue
        if complete(t):
            return t
    return None


def find_member(t, name):
    """(bitpos, field) of member name in aggregate t, looking through anonymous
    struct/union members; None if absent."""
    for f in t.fields():
        if f.name == name:
            return f.bitpos, f
        ft = f.type.strip_typedefs()
        if not f.name and ft.code in AGGREGATES:
            hit = find_member(ft, name)
            if hit:
                return f.bitpos + hit[0], hit[1]
    return None


def walk(t, path):
    """Follow "a.b.c" from type t. Returns (bitpos from the start of t, bitpos inside
    the member that directly contains the last one, last field), or None."""
    total = inner = 0
    field = None
    for part in path.split("."):
        t = t.strip_typedefs()
        while t.code == gdb.TYPE_CODE_ARRAY:   # "arr.x" means element 0's x
            t = t.target().strip_typedefs()
        if t.code not in AGGREGATES:
            return None
        hit = find_member(t, part)
        if hit is None:
            return None
        inner, field = hit
        total += inner
        t = field.type
    return total, inner, field


def array_len(t):
    t = t.strip_typedefs()
    if t.code != gdb.TYPE_CODE_ARRAY:
        return None
    lo, hi = t.range()
    return hi - lo + 1


def member_query(kind, tname, path):
    t = find_type(tname)
    hit = walk(t, path) if t is not None else None
    if hit is None:
        return None
    total, inner, field = hit
    if kind == "off":
        return total // 8
    if kind == "bit":
        return inner
    if kind == "bits":
        return field.bitsize or field.type.sizeof * 8
    if kind == "count":
        return array_len(field.type)
    raise ValueError(kind)


def varcount(name):
    """Element count of the global or file-static array variable name."""
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    return array_len(sym.type) if sym is not None else None


def evaluate(atom):
    kind, _, rest = atom.partition(":")
    args = rest.split(":")
    if kind == "size" and len(args) == 1:
        t = find_type(args[0])
        return t.sizeof if t is not None else None
    if kind in ("off", "bit", "bits", "count") and len(args) == 2:
        return member_query(kind, args[0], args[1])
    if kind == "varcount" and len(args) == 1:
        return varcount(args[0])
    if kind == "enum" and len(args) == 1:
        v = gdb.parse_and_eval(args[0])
        return int(v) if v.type.strip_typedefs().code == gdb.TYPE_CODE_ENUM else None
    if kind == "ifoff" and len(args) == 3:
        t = find_type(args[0])
        return int(args[2], 0) if t is not None and walk(t, args[1]) else None
    raise ValueError("bad spec atom %r" % atom)


def main():
    with open(os.environ["LAYOUTGEN_IN"]) as f:
        atoms = json.load(f)
    result = {}
    for atom in atoms:
        try:
            result[atom] = evaluate(atom)
        except gdb.error:
            result[atom] = None
    with open(os.environ["LAYOUTGEN_OUT"], "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


main()
