"""mutate.py -- random recipes: where to damage a core, with what, and which command to run.

generate(rng, lm) returns (strategy, edits): one to three damages, each aimed by a
strategy at a part of the image the tool reads -- object headers (refcounts, ob_type,
ob_size), GC links, type objects (tp_flags, tp_itemsize, tp_traverse, tp_base, ...), dict
keys objects, thread states and frames, the notes (NT_FILE, PRSTATUS, AUXV), the ELF and
program headers -- or the file itself (truncation, names of local FIFOs, devices, secrets,
huge NT_FILE notes). command(rng, lm, edits, i) picks the command of run i.
"""
import re

INTS = [0, 1, 7, 8, 0x10, -1, -8, 0x7F, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32, 1 << 40,
        1 << 47, 1 << 62, (1 << 63) - 1, 1 << 63, 0xDEADBEEF000, 0x3FFFFFFF, 0xC0000000]
BYTES = [0, 1, 2, 3, 7, 8, 31, 39, 40, 41, 63, 64, 127, 128, 255]
REFCNTS = [0, -1, 1 << 63, (1 << 63) - 1, 1 << 62, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0x3FFFFFFF,
           0xC0000000, 1 << 32]
# PyTypeObject fields at the same offset in every version (2.7 to 3.15)
TYPE_FIELDS = {"tp_name": 24, "tp_basicsize": 32, "tp_itemsize": 40, "tp_flags": 168,
               "tp_traverse": 184, "tp_clear": 192, "tp_weaklistoffset": 208, "tp_members": 240,
               "tp_base": 256, "tp_dict": 264, "tp_dictoffset": 288, "tp_is_gc": 328,
               "tp_bases": 336, "tp_mro": 344, "tp_subclasses": 360, "tp_del": 376,
               "tp_finalize": 392}
COMMON_TYPES = ["str", "dict", "list", "tuple", "type", "int", "function", "module", "code",
                "frame", "object", "set", "cell", "method", "builtin_function_or_method",
                "bytes", "float", "NoneType", "generator", "coroutine", "getset_descriptor"]

COMMANDS = ["types", "count {T}", "by-type {T}", "at {A}", "refs {A}", "backrefs {A}", "chain {A}",
            "leaking", "refcheck", "graph", "cycles", "garbage", "stacks", "gc", "info", "allocations",
            "memory", "retained", "suspects", "tasks"]
VARIANTS = ["types --all", "graph --verify", "stacks --locals", "refs {A} --max-depth 3",
            "chain {A} --to root", "leaking --raw", "by-type {T} --limit 0", "refcheck --limit 0",
            "allocations --group-by traceback --limit 0", "memory --limit 0", "retained {A} --tree",
            "types --retained", "tasks --tree --all", "stacks --greenlets --locals"]


def _int(rng):
    r = rng.random()
    if r < 0.75:
        return rng.choice(INTS)
    if r < 0.9:
        return rng.getrandbits(64)
    return rng.randrange(-64, 4096)


def _fmt(v):
    return ("-0x%x" % -v) if v < 0 else ("0x%x" % v)


def _obj(rng, lm):
    """A tracked object's location: obj:TYPE[k], the type chosen uniformly."""
    t = rng.choice(sorted(lm["objs"]))
    return "%s[%d]" % (t, rng.randrange(len(lm["objs"][t])))


def _anywhere(rng, lm):
    """Any structure the tool reads: an object, a type, a GC header, keys, a thread, a frame."""
    r = rng.randrange(8)
    if r == 0 and lm["tstates"]:
        return "tstate[%d]" % rng.randrange(len(lm["tstates"]))
    if r == 1 and any(lm["frames"]):
        t = rng.choice([i for i, f in enumerate(lm["frames"]) if f])
        return "frame[%d,%d]" % (t, rng.randrange(len(lm["frames"][t])))
    if r == 2:
        return "type:" + _type(rng, lm)
    if r == 3 and lm["objs"].get("dict"):
        return "keys:dict[%d]" % rng.randrange(len(lm["objs"]["dict"]))
    if r == 4:
        return "gc:" + _obj(rng, lm)
    return "obj:" + _obj(rng, lm)


def _type(rng, lm):
    names = sorted(lm["types"])
    common = [n for n in COMMON_TYPES if n in lm["types"]]
    return rng.choice(common) if common and rng.random() < 0.6 else rng.choice(names)


def _ptr(rng, lm, here):
    """A value for a pointer field: another object, itself, a type, a function pointer of
    another type, misaligned, a frame, a thread state, or a plain number."""
    r = rng.randrange(12)
    if r == 0:
        return "@" + here
    if r == 1:
        return "@obj:" + _obj(rng, lm)
    if r == 2:
        return "@obj:%s+%d" % (_obj(rng, lm), rng.choice([1, 8, -8, 16, 4096]))
    if r == 3:
        return "@gc:" + _obj(rng, lm)
    if r == 4:
        return "@type:" + _type(rng, lm)
    if r == 5:
        return "*type:%s+%d" % (_type(rng, lm), rng.choice([184, 24, 264, 344, 328, 192]))
    if r == 6 and lm["frames"] and lm["frames"][0]:
        return "@frame[0,%d]" % rng.randrange(len(lm["frames"][0]))
    if r == 7 and lm["tstates"]:
        return "@tstate[0]"
    if r == 8:
        return "*obj:%s+%d" % (_obj(rng, lm), rng.choice([8, 16, 24, 32]))
    return _fmt(rng.choice([0, 1, 0x10, 0xDEADBEEF000, 0xFFFFFFFFFFFFFFF8, 0x7FFFFFFFF000, _int(rng) & ~7]))


def _value(rng, lm, here):
    return _ptr(rng, lm, here) if rng.random() < 0.5 else _fmt(_int(rng))


def one(rng, lm):
    """(strategy, [edit]) of one damage."""
    v = lm["version"]
    s = rng.choices(["refcnt", "ob_type", "ob_size", "obj_word", "gc_link", "type_field", "tp_flags",
                     "tp_traverse", "keys", "tstate", "frame", "nt_file", "nt_file_name", "nt_file_grow",
                     "prstatus", "auxv", "ehdr", "phdr", "trunc", "exe", "relink", "bitflip", "delta",
                     "untracked", "storm", "index"],
                    weights=[8, 8, 6, 8, 6, 10, 6, 8, 8, 4, 5, 4, 2, 1, 2, 2, 2, 3, 2, 1, 12, 10, 6, 8, 4, 8])[0]
    if s == "index":  # the saved index (objinspect CORE index), damaged before the command reads it
        return s, _index_edits(rng)
    if s == "storm":  # damage all over: flips, links and values in many structures
        edits = []
        for _ in range(rng.randrange(8, 40)):
            here, r = _anywhere(rng, lm), rng.random()
            if r < 0.4:
                edits.append("%s+%d:8^=%s" % (here, 8 * rng.randrange(0, 12), _fmt(1 << rng.randrange(64))))
            elif r < 0.7:
                edits.append("%s~%d:8=%s" % (here, rng.randrange(64), _ptr(rng, lm, here)))
            else:
                edits.append("%s+%d:8=%s" % (here, 8 * rng.randrange(0, 12), _value(rng, lm, here)))
        return s, edits
    if s == "relink":  # a link of a structure, whatever its layout, to itself or elsewhere
        here = _anywhere(rng, lm)
        to = rng.choice(["@" + here, "@%s+8" % here, "@%s-8" % here, _ptr(rng, lm, here)])
        return s, ["%s~%d:8=%s" % (here, rng.randrange(64), to)]
    if s == "bitflip":
        here = _anywhere(rng, lm)
        return s, ["%s+%d:8^=%s" % (here, 8 * rng.randrange(0, 16), _fmt(1 << rng.randrange(64)))
                   for _ in range(rng.choice([1, 1, 2, 4, 8]))]
    if s == "delta":
        here = _anywhere(rng, lm)
        return s, ["%s+%d:8+=%s" % (here, 8 * rng.randrange(0, 12), _fmt(rng.choice([1, -1, 2, 8, -8, 16, 256, 4096, 1 << 20, 1 << 31])))]
    if s == "untracked":  # str, bytes, int, code, ... objects the heap refers to
        t = rng.choice([n for n in ("str", "bytes", "int", "code", "float", "tuple", "unicode")
                        if n in lm["objs"]] or sorted(lm["objs"]))
        here = "obj:%s[%d]" % (t, rng.randrange(len(lm["objs"][t])))
        return s, ["%s+%d:%d=%s" % (here, rng.randrange(0, 96), rng.choice([1, 4, 8]), _value(rng, lm, here))]
    if s == "refcnt":
        return s, ["obj:%s+0:8=%s" % (_obj(rng, lm), _fmt(rng.choice(REFCNTS)))]
    if s == "ob_type":
        here = "obj:" + _obj(rng, lm)
        return s, ["%s+8:8=%s" % (here, _ptr(rng, lm, here))]
    if s == "ob_size":
        return s, ["obj:%s+16:8=%s" % (_obj(rng, lm), _fmt(_int(rng)))]
    if s == "obj_word":
        here = "obj:" + _obj(rng, lm)
        return s, ["%s+%d:8=%s" % (here, 8 * rng.randrange(2, 12), _value(rng, lm, here))]
    if s == "gc_link":
        here = "gc:" + _obj(rng, lm)
        off = rng.choice([0, 8] + ([16] if lm["gc_head"] == 32 else []))
        r = rng.random()
        if r < 0.5:
            return s, ["%s+%d:8=%s" % (here, off, _ptr(rng, lm, here))]
        return s, ["%s+%d:8%s%s" % (here, off, rng.choice(["^=", "|="]), _fmt(rng.choice([1, 2, 3, 4, 8, 1 << 63])))]
    if s == "type_field":
        here = "type:" + _type(rng, lm)
        name = rng.choice(sorted(TYPE_FIELDS))
        off = TYPE_FIELDS[name] if rng.random() < 0.8 else 8 * rng.randrange(0, 110)
        return s, ["%s+%d:8=%s" % (here, off, _value(rng, lm, here))]
    if s == "tp_flags":
        bit = rng.choice([9, 9, 9, 14, 14, 10, 12, 1, 2, 3, 4, 5, 6, 8, 24, 25, 26, 27, 28, 29, 30, 31]
                         + [rng.randrange(64)])
        return s, ["type:%s+168:8%s%s" % (_type(rng, lm), rng.choice(["|=", "^="]), _fmt(1 << bit))]
    if s == "tp_traverse":  # another type's function, or anything
        here = "type:" + _type(rng, lm)
        to = "*type:%s+%d" % (_type(rng, lm), rng.choice([184, 184, 184, 192, 328, 48, 296, 312]))
        return s, ["%s+184:8=%s" % (here, to if rng.random() < 0.6 else _ptr(rng, lm, here))]
    if s == "keys":
        dicts = lm["objs"].get("dict", [])
        if not dicts:
            return one(rng, lm)
        here = "keys:dict[%d]" % rng.randrange(len(dicts))
        if v >= [3, 11] and rng.random() < 0.5:
            return s, ["%s+%d:1=%d" % (here, rng.choice([8, 9, 10]), rng.choice(BYTES))]
        return s, ["%s+%d:8=%s" % (here, 8 * rng.randrange(0, 6) if rng.random() < 0.6 else 8 * rng.randrange(6, 48),
                                   _fmt(_int(rng)) if rng.random() < 0.7 else _ptr(rng, lm, here))]
    if s == "tstate":
        if not lm["tstates"]:
            return one(rng, lm)
        here = "tstate[%d]" % rng.randrange(len(lm["tstates"]))
        return s, ["%s+%d:8=%s" % (here, 8 * rng.randrange(0, 48), _value(rng, lm, here))]
    if s == "frame":
        threads = [i for i, t in enumerate(lm["frames"]) if t]
        if not threads:
            return one(rng, lm)
        t = rng.choice(threads)
        here = "frame[%d,%d]" % (t, rng.randrange(len(lm["frames"][t])))
        return s, ["%s+%d:8=%s" % (here, 8 * rng.randrange(0, 16), _value(rng, lm, here))]
    if s == "nt_file":
        r = rng.random()
        if r < 0.3:
            return s, ["note:FILE[0]+%d:8=%s" % (rng.choice([0, 8]), _fmt(_int(rng)))]
        return s, ["ntfile[%d]+%d:8=%s" % (rng.randrange(64), rng.choice([0, 8, 16]), _fmt(_int(rng)))]
    if s == "nt_file_name":
        which = rng.choice(["libpython", "python", "libc.so", str(rng.randrange(16))])
        return s, ["ntfile-name=%s/%s" % (which, rng.choice(["fifo", "dev", "dir", "secret", "elf"]))]
    if s == "nt_file_grow":
        return s, ["ntfile-grow=%d/%s" % (rng.choice([1000, 20000, 120000]),
                                          rng.choice(["distinct", "empty", "same", "missing"]))]
    if s == "prstatus":
        return s, ["note:PRSTATUS[0]+%d:8=%s" % (8 * rng.randrange(0, 42), _fmt(_int(rng)))]
    if s == "auxv":
        k = rng.randrange(0, 24)
        return s, ["note:AUXV[0]+%d:8=%s" % (16 * k + rng.choice([0, 8, 8]), _fmt(_int(rng)))]
    if s == "ehdr":
        off, w = rng.choice([(16, 2), (18, 2), (32, 8), (40, 8), (54, 2), (56, 2), (58, 2), (60, 2), (4, 1), (5, 1)])
        return s, ["ehdr+%d:%d=%s" % (off, w, _fmt(_int(rng) & ((1 << (8 * w)) - 1)))]
    if s == "phdr":
        off, w = rng.choice([(0, 4), (4, 4), (8, 8), (16, 8), (32, 8), (40, 8)])
        return s, ["phdr[%d]+%d:%d=%s" % (rng.randrange(lm["phnum"]), off, w, _fmt(_int(rng) & ((1 << (8 * w)) - 1)))]
    if s == "trunc":
        return s, ["trunc=%.4f" % rng.choice([rng.random(), 0.999, 0.99, 0.5, 0.0001])]
    return s, ["exe=%s" % rng.choice(["fifo", "dev", "dir", "secret"])]


# gi_header's counts and the offsets of its section table (gindex.c): where a wrong number
# meets the bounds checks
IDX_FIELDS = [16, 96, 104, 112, 120, 128, 136, 144, 152, 160, 184, 192, 200, 208, 224, 232, 240, 248, 256,
              296, 304, 312] + [320 + 24 * k + f for k in range(21) for f in (0, 8)]
NODE_NUMBERS = [0, 1, 2, 0x7FFFFFEF, 0x7FFFFFF0, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF]


def _index_edits(rng):
    """Damage to the index: mostly with its hashes off (idx-unhashed), so that it reaches the
    bounds checks of the header, the counts and every section; now and then with them on."""
    edits = ["idx-unhashed"] if rng.random() < 0.85 else []
    for _ in range(rng.choice([1, 1, 1, 2, 3, 6])):
        r = rng.random()
        if r < 0.3:
            edits.append("idx:hdr+%d:8=%s" % (rng.choice(IDX_FIELDS), _fmt(_int(rng) & ((1 << 64) - 1))))
        elif r < 0.45:
            edits.append("idx:hdr+%d:8+=%s" % (rng.choice(IDX_FIELDS), _fmt(rng.choice([1, 2, 8, 64, 4096, 1 << 32]))))
        elif r < 0.9:
            w = rng.choice([1, 4, 4, 4, 8])
            v = rng.choice(NODE_NUMBERS) if w == 4 and rng.random() < 0.7 else _int(rng) & ((1 << (8 * w)) - 1)
            edits.append("idx:sec[%d]+%d:%d=%s" % (rng.randrange(21), rng.randrange(1 << 24), w, _fmt(v)))
        else:
            edits.append("idx-trunc=%.4f" % rng.choice([rng.random(), 0.999, 0.5, 0.01]))
    return edits


def generate(rng, lm):
    """(strategies, edits): one damage most of the time, up to three."""
    n = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    strategies, edits = [], []
    for _ in range(n):
        s, e = one(rng, lm)
        strategies.append(s)
        edits += e
    return strategies, edits


# The commands that read most of what a damage hits.
PREFERRED = {"tstate": ["stacks", "stacks --locals", "chain {A} --to root", "cycles", "gc"],
             "frame": ["stacks", "stacks --locals", "chain {A} --to root", "cycles", "garbage"],
             "keys": ["types", "refs {A}", "graph", "at {A}", "leaking"],
             "tp_traverse": ["graph", "graph --verify", "refs {A}", "cycles", "leaking"],
             "type_field": ["types", "by-type {T}", "graph", "refs {A}", "cycles"],
             "tp_flags": ["types", "count {T}", "graph", "cycles", "at {A}"],
             "gc_link": ["gc", "types", "count {T}", "leaking", "cycles"],
             "untracked": ["refs {A}", "types --all", "by-type {T}", "stacks --locals"],
             "index": ["refs {A}", "backrefs {A}", "chain {A}", "retained", "retained {A} --tree", "cycles",
                       "leaking", "types --retained", "suspects", "graph", "at {A}", "types --all"]}


def command(rng, lm, edits, i, strategies=()):
    """The i-th command of a case (the table in turn, now and then a variant, or one that
    reads what the damage hit), with TYPE the damaged object's type and ADDR that object
    when an edit names one."""
    pref = [c for s in strategies for c in PREFERRED.get(s, [])]
    r = rng.random()
    c = rng.choice(pref) if pref and r < 0.4 else rng.choice(VARIANTS) if r < 0.55 else COMMANDS[i % len(COMMANDS)]
    objs = [m.group(1) for m in (re.match(r"(?:obj|gc):([^\s:\[\]=]+\[\d+\])", e) for e in edits) if m]
    a = rng.choice(objs) if objs and rng.random() < 0.7 else _obj(rng, lm)
    t = a[:a.index("[")] if rng.random() < 0.8 else rng.choice(sorted(lm["objs"]))
    c = c.replace("{A}", "@obj:" + a).replace("{T}", t)
    if rng.random() < 0.75:
        c += " --json"
    return c
