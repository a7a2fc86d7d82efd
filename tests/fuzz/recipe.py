"""recipe.py -- what a fuzz case is: a fixture core, edits to it, and a command (stdlib only).

A recipe names its core by interpreter id and scenario and says what to change in it with
symbolic locations, so that it still means the same thing after the fixture cores are
generated again (addresses change with every run of the interpreter). Locations resolve
against the *landmarks* of the pristine core: its tracked objects by type (in the order of
the reference graph), type objects by name, thread states and frames, read once with the
build under test from the undamaged core.

Edit syntax (one token each; see docs/reliability.md):
    LOC:W=V   LOC:W|=V   LOC:W&=V   LOC:W^=V   LOC:W+=V      W bytes (1, 2, 4, 8) at LOC
    LOC~N:W=V  ...              the same at the N-th word (modulo their number) of the 512
                                bytes from LOC that holds an address of dumped memory: a link
    trunc=F                      cut the file to the fraction F of its size
    ntfile-grow=N/KIND           N more NT_FILE entries: distinct | empty | same | missing
    ntfile-name=K/TO             the K-th distinct file (or the first whose name contains K)
                                 renamed to a local fifo | dev | dir | secret | elf
    exe=TO                       run with --exe TO (fifo | dev | dir | secret)
    idx:hdr+OFF:W=V  idx:sec[K]+OFF:W=V  (also ^= and +=)
                                 the saved index (objinspect CASE index, made by the build
                                 under test before the command, which then reads it): W bytes
                                 at OFF of its header, or of its section K (OFF modulo the
                                 section's size; an empty section: the next one that is not)
    idx-unhashed                 its header's flag that says the sections carry no hashes, so
                                 that damage meets the bounds checks rather than a hash
    idx-trunc=F                  the index cut to the fraction F of its size
LOC is BASE, BASE+OFF or BASE-OFF, BASE one of
    obj:TYPE[k]  gc:TYPE[k]  keys:TYPE[k]   an object of TYPE (k-th, modulo their number;
                                            tracked ones, else untracked ones that tracked
                                            ones refer to), its GC header, its keys object
    type:NAME                               the type object called NAME
    tstate[k]  frame[t,f]                   thread state k, frame f of thread t
    [LOC]                                   the address stored at LOC (a pointer followed)
    ehdr  phdr[i]  note:KIND[k]  ntfile[k]  file offsets: ELF header, program header i, the
                                            descriptor of a note (FILE, PRSTATUS, AUXV, ...),
                                            NT_FILE entry k (start, end, page offset)
V is a number, @LOC (that address) or *LOC (the 8-byte word stored there).
"""
import json
import os
import re
import shlex
import subprocess

from coreimg import Core, CoreError, nt_file_desc, NOTE_TYPES


class RecipeError(Exception):
    pass


# ---------------------------------------------------------------- landmarks

def _oracle(binary, core, args):
    p = subprocess.run([binary, core] + args + ["--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise RecipeError("%s %s on the pristine core failed (exit %d): %s" % (
            " ".join(args), core, p.returncode, p.stderr.decode(errors="replace").strip()))
    return json.loads(p.stdout)


FORMAT = 2  # of the cached landmarks


def landmarks(binary, core_path, cache_dir):
    """The pristine core's landmarks, cached in cache_dir by the core's path, size and mtime."""
    st = os.stat(core_path)
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.abspath(core_path).strip("/"))
    cache = os.path.join(cache_dir, key + ".json")
    stamp = [st.st_size, int(st.st_mtime)]
    try:
        with open(cache) as f:
            lm = json.load(f)
        if lm.get("stamp") == stamp and lm.get("format") == FORMAT:
            return lm
    except (OSError, ValueError):
        pass
    info = _oracle(binary, core_path, ["info"])
    graph = _oracle(binary, core_path, ["graph", "--edges"])
    try:
        stacks = _oracle(binary, core_path, ["stacks"])
    except RecipeError:
        stacks = {"threads": []}
    core = Core(core_path)
    objs, types, referrer = {}, {}, {}
    for addr, node in graph["referents"].items():
        a = int(addr, 16)
        objs.setdefault(node["type"], []).append(a)
        try:
            types.setdefault(node["type"], core.u64(a + 8))
        except CoreError:
            pass
        for r in node["referents"]:
            try:
                referrer.setdefault(core.u64(int(r, 16) + 8), addr)
            except CoreError:
                continue
    # the types of untracked objects (str, int, ...) are named by `refs` of an object that
    # refers to one of them
    named = set(types.values())
    untracked = {}  # type address -> addresses of untracked referents (str, int, code, ...)
    tracked = graph["referents"]
    for node in tracked.values():
        for r in node["referents"]:
            if r not in tracked:
                try:
                    lst = untracked.setdefault(core.u64(int(r, 16) + 8), [])
                except CoreError:
                    continue
                if len(lst) < 200 and int(r, 16) not in lst:
                    lst.append(int(r, 16))
    for _ in range(20):
        todo = [t for t in referrer if t not in named]
        if not todo:
            break
        try:
            refs = _oracle(binary, core_path, ["refs", referrer[todo[0]]])["referents"]
        except (RecipeError, ValueError, KeyError, subprocess.TimeoutExpired):
            named.add(todo[0])
            continue
        for r in refs:
            try:
                t = core.u64(int(r["address"], 16) + 8)
            except CoreError:
                continue
            if t not in named:
                types.setdefault(r["type"], t)
                named.add(t)
        named.add(todo[0])
    by_addr = {a: n for n, a in types.items()}
    for t, lst in untracked.items():
        if t in by_addr and by_addr[t] not in objs:
            objs[by_addr[t]] = lst
    major, minor = (int(x) for x in info["python"].split(".")[:2])
    lm = {
        "stamp": stamp,
        "format": FORMAT,
        "python": info["python"],
        "version": [major, minor],
        "gc_head": 32 if (major, minor) <= (3, 7) else 16,
        "phnum": core.phnum,
        "objs": objs,
        "types": types,
        "tstates": [int(t["tstate"], 16) for t in stacks.get("threads", []) if t.get("tstate")],
        "frames": [[int(f["address"], 16) for f in t.get("frames", []) if f.get("address")]
                   for t in stacks.get("threads", [])],
    }
    os.makedirs(cache_dir, exist_ok=True)
    with open(cache + ".tmp", "w") as f:
        json.dump(lm, f)
    os.replace(cache + ".tmp", cache)
    return lm


# ---------------------------------------------------------------- locations

LOC_RE = re.compile(r"^(?P<base>(?:obj|gc|keys):[^\s:\[\]=]+\[\d+\]|type:[^\s:\[\]=+]+|tstate\[\d+\]|"
                    r"frame\[\d+,\d+\]|ehdr|phdr\[\d+\]|note:[A-Z]+\[\d+\]|ntfile\[\d+\])"
                    r"(?P<off>[+-](?:0x[0-9a-fA-F]+|\d+))?$")
EDIT_RE = re.compile(r"^(?P<loc>\[.*\][^=|&^~:]*|[^=|&^~]+?)(?:~(?P<nth>\d+))?:(?P<w>[1248])(?P<op>\|=|&=|\^=|\+=|=)(?P<val>\S+)$")


def _pick(seq, k, what):
    if not seq:
        raise RecipeError("the core has no %s" % what)
    return seq[k % len(seq)]


def resolve(loc, core, lm):
    """('addr', address) or ('file', offset) of a location."""
    if loc.startswith("["):  # [LOC]+OFF: the address stored at LOC
        end = loc.rfind("]")
        off = loc[end + 1:]
        if end < 0 or (off and not re.match(r"^[+-](0x[0-9a-fA-F]+|\d+)$", off)):
            raise RecipeError("bad location %r" % loc)
        return "addr", core.read(_file_offset(core, resolve(loc[1:end], core, lm), 8), 8) + int(off or "0", 0)
    m = LOC_RE.match(loc)
    if not m:
        raise RecipeError("bad location %r" % loc)
    base, off = m.group("base"), int(m.group("off") or "0", 0)
    kind, rest = (base.split(":", 1) + [""])[:2] if ":" in base else (base, "")
    idx = [int(x) for x in re.findall(r"\d+", base[base.find("["):])] if "[" in base else []
    if kind in ("obj", "gc", "keys"):
        name = rest[:rest.index("[")]
        a = _pick(lm["objs"].get(name, []), idx[0], "tracked %s object" % name)
        if kind == "gc":
            a -= lm["gc_head"]
        elif kind == "keys":
            a = core.u64(a + (40 if lm["version"][0] == 2 else 32))
        return "addr", a + off
    if kind == "type":
        if rest not in lm["types"]:
            raise RecipeError("no type %s among the landmarks" % rest)
        return "addr", lm["types"][rest] + off
    if kind.startswith("tstate"):
        return "addr", _pick(lm["tstates"], idx[0], "thread state") + off
    if kind.startswith("frame"):
        t = _pick(lm["frames"], idx[0], "thread with frames")
        return "addr", _pick(t, idx[1], "frame") + off
    if kind == "ehdr":
        return "file", off
    if kind.startswith("phdr"):
        return "file", core.phoff + 56 * (idx[0] % max(core.phnum, 1)) + off
    if kind == "note":
        d, _n = core.note(rest[:rest.index("[")], idx[0])
        return "file", d + off
    if kind.startswith("ntfile"):
        d, _n = core.note("FILE")
        count = core.read(d, 8)
        return "file", d + 16 + 24 * (idx[0] % max(count, 1)) + off
    raise RecipeError("bad location %r" % loc)


def _file_offset(core, where, width):
    kind, v = where
    return core.addr_offset(v, width) if kind == "addr" else v


def value(text, core, lm):
    if text.startswith("@"):
        kind, v = resolve(text[1:], core, lm)
        if kind != "addr":
            raise RecipeError("%s is not an address" % text)
        return v
    if text.startswith("*"):
        return core.read(_file_offset(core, resolve(text[1:], core, lm), 8), 8)
    return int(text, 0)


# ---------------------------------------------------------------- specials: local files

# The contents of a local file no output may ever show: short C strings, so that whatever
# offset a read lands on, a string ends soon (a type name read from there would be printed).
SECRET = b"xSECRETx\0"


def sandbox(dirpath):
    """Local files a hostile core or --exe may name: a FIFO, a directory, a secret text file.
    Runs start in dirpath, so a core can name them by short relative paths."""
    os.makedirs(dirpath, exist_ok=True)
    paths = {"home": dirpath, "fifo": os.path.join(dirpath, "f"), "dir": os.path.join(dirpath, "d"),
             "secret": os.path.join(dirpath, "s"), "dev": "/dev/zero", "elf": "/bin/true"}
    if not os.path.exists(paths["fifo"]):
        os.mkfifo(paths["fifo"])
    os.makedirs(paths["dir"], exist_ok=True)
    if not os.path.exists(paths["secret"]):
        with open(paths["secret"], "wb") as f:
            f.write(SECRET * (1 << 19))
    return paths


def _padded(path, length):
    """path spelled in length bytes: leading slashes added, or for a file of the sandbox
    (runs start in the sandbox) ./ and slashes before its name."""
    if len(path) <= length:
        return "/" * (length - len(path)) + path
    base = os.path.basename(path)
    if length < len(base) + 2:
        return None
    return "." + "/" * (length - len(base) - 1) + base


# ---------------------------------------------------------------- applying a recipe

def apply(src, edits, lm, paths):
    """The Core of src with the edits made, and the extra arguments of the run."""
    core = Core(src)
    extra, trunc = [], None
    for e in edits:
        if e.startswith("idx"):
            continue  # apply_index's, once the index is made
        if e.startswith("trunc="):
            trunc = float(e.split("=", 1)[1])
        elif e.startswith("exe="):
            extra = ["--exe", paths[e.split("=", 1)[1]]]
        elif e.startswith("ntfile-grow="):
            n, kind = e.split("=", 1)[1].split("/")
            _grow_nt_file(core, int(n), kind)
        elif e.startswith("ntfile-name="):
            k, to = e.split("=", 1)[1].rsplit("/", 1)
            _rename_nt_file(core, int(k) if k.isdigit() else k, paths[to])
        else:
            m = EDIT_RE.match(e)
            if not m:
                raise RecipeError("bad edit %r" % e)
            w = int(m.group("w"))
            where = resolve(m.group("loc"), core, lm)
            if m.group("nth") is not None:
                where = _pointer_word(core, where, int(m.group("nth")))
            off = _file_offset(core, where, w)
            v, old, op = value(m.group("val"), core, lm), core.read(off, w), m.group("op")
            new = {"=": v, "|=": old | v, "&=": old & v, "^=": old ^ v, "+=": old + v}[op]
            core.write(off, w, new)
    if trunc is not None:
        core.truncate(max(0, int(len(core.b) * trunc)))
    return core, extra


# The index's header (libinspect/analysis/gindex.c, gi_header): its flags word, the section
# table (S_N entries of offset, size, hash) and the header's size.
IDX_FLAGS, IDX_SECTIONS, IDX_NSEC, IDX_HEADER = 24, 320, 22, 848
IDX_RE = re.compile(r"^idx:(?P<loc>hdr|sec\[(?P<k>\d+)\])\+(?P<off>\d+):(?P<w>[1248])(?P<op>\^=|\+=|=)(?P<val>-?(?:0x)?[0-9a-fA-F]+)$")


def index_edits(edits):
    return [e for e in edits if e.startswith("idx")]


def apply_index(path, edits):
    """Damages the index file at path as the idx edits say."""
    with open(path, "rb") as f:
        b = bytearray(f.read())
    if len(b) < IDX_HEADER:
        raise RecipeError("the index %s is too short" % path)
    trunc = None
    for e in edits:
        if e == "idx-unhashed":
            b[IDX_FLAGS] |= 1
            continue
        if e.startswith("idx-trunc="):
            trunc = float(e.split("=", 1)[1])
            continue
        m = IDX_RE.match(e)
        if not m:
            raise RecipeError("bad index edit %r" % e)
        w, off = int(m.group("w")), int(m.group("off"))
        base, size = 0, IDX_HEADER
        if m.group("k") is not None:
            k = int(m.group("k")) % IDX_NSEC
            for i in range(IDX_NSEC):
                so, ss = int.from_bytes(b[IDX_SECTIONS + 24 * ((k + i) % IDX_NSEC):][:8], "little"), \
                    int.from_bytes(b[IDX_SECTIONS + 24 * ((k + i) % IDX_NSEC) + 8:][:8], "little")
                if ss >= w and so + ss <= len(b):
                    base, size = so, ss
                    break
            else:
                raise RecipeError("every section of the index is empty")
        at = base + off % (size - w + 1)
        old = int.from_bytes(b[at:at + w], "little")
        v = int(m.group("val"), 0)
        new = {"=": v, "^=": old ^ v, "+=": old + v}[m.group("op")] & ((1 << (8 * w)) - 1)
        b[at:at + w] = new.to_bytes(w, "little")
    if trunc is not None:
        del b[max(0, int(len(b) * trunc)):]
    with open(path, "wb") as f:
        f.write(b)


def _pointer_word(core, where, nth):
    """The nth (modulo their number) of the 8-byte words in the 512 bytes from where that
    hold an address of dumped memory: a link to follow, whatever the structure's layout."""
    kind, a = where
    if kind != "addr":
        raise RecipeError("~N needs an address")
    found = [a + k for k in range(0, 512, 8) if core.has(a + k) and core.has(core.u64(a + k))]
    if not found:
        raise RecipeError("no pointer near 0x%x" % a)
    return "addr", found[nth % len(found)]


def _grow_nt_file(core, n, kind):
    entries, page = core.files()
    elf = next((e for e in entries if e[2] == 0 and os.path.isfile(e[3])), entries[0])
    base = 0x100000000000
    new = []
    for i in range(n):
        if kind == "distinct":
            name = "/nonexistent/fuzz/%08d" % i
        elif kind == "empty":
            name = ""
        elif kind == "same":   # one real ELF file under ever new spellings
            name = _spelling(elf[3], i)
        else:
            name = "/nonexistent/%d" % (i % 7)
        new.append((base + i * 0x1000, base + (i + 1) * 0x1000, 0, name))
    core.set_notes(core.notes_blob({NOTE_TYPES["FILE"]: nt_file_desc(entries + new, page)}))


def _spelling(path, i):
    """The i-th spelling of path: the separators doubled by i's decimal digits."""
    parts, out = path.strip("/").split("/"), ""
    for p in parts:
        out += "/" * (i % 10 + 1) + p
        i //= 10
    return "/" + "./" * i + out.lstrip("/") if i else out


def _rename_nt_file(core, k, path):
    """Renames the k-th distinct file of NT_FILE to path, in place (the name padded with
    slashes to the same length), so all its mappings now name path."""
    desc, size = core.note("FILE")
    count = core.read(desc, 8)
    pos, names = desc + 16 + 24 * count, []
    while pos < desc + size and len(names) < count:
        end = core.b.index(b"\0", pos)
        names.append((pos, end - pos, bytes(core.b[pos:end])))
        pos = end + 1
    distinct = []
    for _p, _l, nm in names:
        if nm not in distinct:
            distinct.append(nm)
    if isinstance(k, str):  # the first file whose name contains k
        target = next((nm for nm in distinct if k.encode() in nm), None)
        if target is None:
            raise RecipeError("no mapped file's name contains %r" % k)
    else:
        target = distinct[k % len(distinct)]
    for p, length, nm in names:
        if nm == target:
            padded = _padded(path, length)
            if padded is None:
                raise RecipeError("%s does not fit in place of %s" % (path, nm.decode(errors="replace")))
            core.b[p:p + length] = padded.encode()


# ---------------------------------------------------------------- recipe lines

class Recipe(object):
    """One line of a regression list:
        ID SCENARIO seed=N cmd="COMMAND ARGS" edit=EDIT [edit=EDIT ...]  # note
    ARGS may hold @LOC (an object's address); seed says which campaign case it came from."""

    def __init__(self, interp, scenario, cmd, edits, seed=None, note=""):
        self.interp, self.scenario, self.cmd, self.edits = interp, scenario, cmd, list(edits)
        self.seed, self.note = seed, note

    @classmethod
    def parse(cls, line):
        note = line.split("  # ", 1)[1].strip() if "  # " in line else ""
        toks = shlex.split(line, comments=True)
        if len(toks) < 3:
            raise RecipeError("bad recipe line: %s" % line)
        r = cls(toks[0], toks[1], None, [], note=note)
        for t in toks[2:]:
            k, _, v = t.partition("=")
            if k == "seed":
                r.seed = int(v)
            elif k == "cmd":
                r.cmd = v
            elif k == "edit":
                r.edits.append(v)
            else:
                raise RecipeError("bad field %r in: %s" % (t, line))
        if not r.cmd:
            raise RecipeError("no cmd= in: %s" % line)
        return r

    def line(self):
        parts = [self.interp, self.scenario]
        if self.seed is not None:
            parts.append("seed=%d" % self.seed)
        parts.append("cmd=" + shlex.quote(self.cmd))
        parts += ["edit=" + shlex.quote(e) for e in self.edits]
        return " ".join(parts) + ("  # " + self.note if self.note else "")

    def argv(self, core, lm):
        """The command's arguments, @LOC resolved."""
        out = []
        for a in self.cmd.split():
            if a.startswith("@"):
                a = "0x%x" % value(a, core, lm)
            out.append(a)
        return out

