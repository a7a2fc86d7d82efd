"""coreimg.py -- an ELF core file held in memory, read and edited (stdlib only).

Core(path) reads the whole file into a bytearray. Process addresses map to file offsets
through the PT_LOAD headers (addr_offset); the notes are listed with the file offset of
each descriptor (notes); NT_FILE is decoded (files). Edits write into the bytearray; the
note segment can be replaced as a whole (set_notes: the new notes are appended at the end
of the file and the PT_NOTE header points at them), and the file cut short (truncate).
save(path) writes the result.
"""
import bisect
import struct

PT_LOAD, PT_NOTE = 1, 4
NOTE_TYPES = {"PRSTATUS": 1, "FPREGSET": 2, "PRPSINFO": 3, "AUXV": 6, "SIGINFO": 0x53494749,
              "FILE": 0x46494C45, "XSTATE": 0x202}


class CoreError(Exception):
    pass


def align4(n):
    return (n + 3) & ~3


class Core(object):
    def __init__(self, path):
        with open(path, "rb") as f:
            self.b = bytearray(f.read())
        b = self.b
        if len(b) < 64 or b[:4] != b"\x7fELF" or b[4] != 2 or b[5] != 1:
            raise CoreError("%s is not a 64-bit little-endian ELF file" % path)
        if struct.unpack_from("<H", b, 16)[0] != 4:
            raise CoreError("%s is not a core file" % path)
        self.phoff = struct.unpack_from("<Q", b, 32)[0]
        self.phnum = struct.unpack_from("<H", b, 56)[0]
        self.phdrs = []   # (type, offset, vaddr, filesz)
        for i in range(self.phnum):
            t, _fl, off, vaddr, _pa, filesz, _mem, _al = struct.unpack_from("<IIQQQQQQ", b, self.phoff + 56 * i)
            self.phdrs.append((t, off, vaddr, filesz))
        self.loads = sorted((v, o, s) for t, o, v, s in self.phdrs if t == PT_LOAD and s)
        self.starts = [v for v, _o, _s in self.loads]
        self.note_phdr = next((i for i, p in enumerate(self.phdrs) if p[0] == PT_NOTE), None)
        self.notes = self._notes()

    def _notes(self):
        """[(type, name, desc_offset, descsz, note_offset)] of the PT_NOTE segment."""
        if self.note_phdr is None:
            return []
        _t, off, _v, size = self.phdrs[self.note_phdr]
        out, end, b = [], off + size, self.b
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", b, off)
            desc = off + 12 + align4(namesz)
            if desc + descsz > end:
                break
            name = bytes(b[off + 12: off + 12 + namesz]).rstrip(b"\0")
            out.append((ntype, name, desc, descsz, off))
            off = desc + align4(descsz)
        return out

    def note(self, kind, k=0):
        """(desc_offset, descsz) of the k-th note of a type ("FILE", "PRSTATUS", ...)."""
        t = NOTE_TYPES[kind]
        found = [n for n in self.notes if n[0] == t]
        if k >= len(found):
            raise CoreError("no NT_%s note #%d" % (kind, k))
        return found[k][2], found[k][3]

    def files(self):
        """NT_FILE as [(start, end, file_offset, name)] and the page size."""
        desc, size = self.note("FILE")
        count, page = struct.unpack_from("<QQ", self.b, desc)
        names = bytes(self.b[desc + 16 + 24 * count: desc + size]).split(b"\0")
        out = []
        for k in range(count):
            s, e, pg = struct.unpack_from("<QQQ", self.b, desc + 16 + 24 * k)
            out.append((s, e, pg * page, names[k].decode("utf-8", "replace")))
        return out, page

    def addr_offset(self, addr, n=8):
        """File offset of the n bytes at process address addr (all in one PT_LOAD)."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0:
            vaddr, off, size = self.loads[i]
            if addr + n <= vaddr + size:
                return off + (addr - vaddr)
        raise CoreError("0x%x is not in the core's dumped memory" % addr)

    def has(self, addr, n=8):
        try:
            self.addr_offset(addr, n)
            return True
        except CoreError:
            return False

    def read(self, off, width):
        return int.from_bytes(self.b[off: off + width], "little")

    def write(self, off, width, value):
        if off < 0 or off + width > len(self.b):
            raise CoreError("offset 0x%x is outside the file" % off)
        self.b[off: off + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")

    def u64(self, addr):
        return self.read(self.addr_offset(addr), 8)

    def set_notes(self, blob):
        """Replaces the note segment by blob, appended at the end of the file."""
        if self.note_phdr is None:
            raise CoreError("the core has no PT_NOTE segment")
        while len(self.b) % 8:
            self.b.append(0)
        off = len(self.b)
        self.b += blob
        h = self.phoff + 56 * self.note_phdr
        struct.pack_into("<Q", self.b, h + 8, off)
        struct.pack_into("<Q", self.b, h + 32, len(blob))
        self.phdrs[self.note_phdr] = (PT_NOTE, off, 0, len(blob))
        self.notes = self._notes()

    def notes_blob(self, replace=None):
        """The notes re-encoded, with replace[type] = new descriptor bytes."""
        replace = replace or {}
        out = bytearray()
        for ntype, name, desc, descsz, _o in self.notes:
            d = replace.get(ntype, bytes(self.b[desc: desc + descsz]))
            nm = name + b"\0"
            out += struct.pack("<III", len(nm), len(d), ntype)
            out += nm + b"\0" * (align4(len(nm)) - len(nm))
            out += d + b"\0" * (align4(len(d)) - len(d))
        return bytes(out)

    def truncate(self, n):
        del self.b[n:]

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.b)


def nt_file_desc(entries, page):
    """An NT_FILE descriptor: entries are (start, end, file_offset, name)."""
    out = bytearray(struct.pack("<QQ", len(entries), page))
    for s, e, off, _n in entries:
        out += struct.pack("<QQQ", s, e, off // page if page else 0)
    for _s, _e, _o, name in entries:
        out += name.encode("utf-8", "surrogateescape") + b"\0"
    return bytes(out)
