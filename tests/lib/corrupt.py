#!/usr/bin/env python3
"""corrupt.py -- reads and damages ELF core files for the bad-input tests (stdlib only).

  corrupt.py files CORE
      prints the distinct file names of the core's NT_FILE note, one a line
  corrupt.py gc-next SRC DST OBJ HEADSIZE NEWNEXT
      copies SRC to DST and overwrites, in DST, the gc_next pointer (offset 0 of the
      PyGC_Head, which is the HEADSIZE bytes just before the object at OBJ) with NEWNEXT.
      Before writing it checks that the header really is a link of a GC list -- the
      previous element's gc_next and the next element's gc_prev both point at it -- so a
      wrong HEADSIZE or a wrong OBJ fails loudly instead of damaging something else.
      Prints the old gc_next.
  corrupt.py set-u64 SRC DST ADDR VALUE [ADDR VALUE ...]
      copies the core SRC to DST and overwrites, in DST, the 8-byte words of process memory
      at each ADDR with VALUE (an object's field: a list's ob_size or ob_item, say).
      Prints the old values.
  corrupt.py set-u32 SRC DST VADDR VALUE
      copies the ELF program or library SRC to DST and overwrites the 4 bytes at its
      link-time address VADDR (mapped to a file offset through its PT_LOAD headers) with
      VALUE: a Py_Version from the future, say. Prints the old value.

Addresses are virtual addresses of the process, mapped to file offsets through the
core's PT_LOAD program headers. Numbers may be decimal or 0x-hex.
Exits 1 with one line on stderr on any problem.
"""
import mmap
import shutil
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
NT_FILE = 0x46494C45
# 3.8+ keep flags in the low bits of gc_prev (2 bits) and gc_next (1 bit); the headers
# themselves are at least 16-byte aligned, so masking the low 4 bits is always safe.
LINK_MASK = ~0xF & 0xFFFFFFFFFFFFFFFF


class Core(object):
    def __init__(self, path, write=False):
        self.write = write
        self.f = open(path, "r+b" if write else "rb")
        self.m = mmap.mmap(self.f.fileno(), 0,
                           access=mmap.ACCESS_WRITE if write else mmap.ACCESS_READ)
        m = self.m
        if len(m) < 64 or m[:4] != b"\x7fELF" or m[4] != 2 or m[5] != 1:
            raise ValueError("%s is not a 64-bit little-endian ELF file" % path)
        e_type, = struct.unpack_from("<H", m, 16)
        if e_type != 4:
            raise ValueError("%s is not a core file (e_type %d)" % (path, e_type))
        phoff, = struct.unpack_from("<Q", m, 32)
        phentsize, phnum = struct.unpack_from("<HH", m, 54)
        self.loads = []   # (vaddr, file offset, filesz)
        self.files = []   # (start, end, file offset, name)
        for i in range(phnum):
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, _memsz, _align = \
                struct.unpack_from("<IIQQQQQQ", m, phoff + i * phentsize)
            if p_offset + p_filesz > len(m):
                raise ValueError("%s is truncated" % path)
            if p_type == PT_LOAD and p_filesz:
                self.loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == PT_NOTE:
                self._notes(p_offset, p_filesz)

    def _notes(self, off, size):
        end, m = off + size, self.m
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", m, off)
            desc = off + 12 + ((namesz + 3) & ~3)
            if ntype == NT_FILE:
                count, page = struct.unpack_from("<QQ", m, desc)
                names = bytes(m[desc + 16 + 24 * count: desc + descsz]).split(b"\0")
                for k in range(count):
                    start, stop, pgoff = struct.unpack_from("<QQQ", m, desc + 16 + 24 * k)
                    self.files.append((start, stop, pgoff * page, names[k].decode("utf-8", "replace")))
            off = desc + ((descsz + 3) & ~3)

    def offset(self, addr, n):
        """File offset of the n bytes at virtual address addr (all in one PT_LOAD)."""
        for vaddr, off, size in self.loads:
            if vaddr <= addr and addr + n <= vaddr + size:
                return off + (addr - vaddr)
        raise ValueError("0x%x is not in the core's dumped memory" % addr)

    def u64(self, addr):
        return struct.unpack_from("<Q", self.m, self.offset(addr, 8))[0]

    def put_u64(self, addr, value):
        struct.pack_into("<Q", self.m, self.offset(addr, 8), value)

    def close(self):
        if self.write:
            self.m.flush()
        self.m.close()
        self.f.close()


def num(s):
    return int(s, 0)


def cmd_files(core):
    c = Core(core)
    seen = []
    for _s, _e, _o, name in c.files:
        if name not in seen:
            seen.append(name)
    print("\n".join(seen))
    c.close()


def cmd_gc_next(src, dst, obj, headsize, newnext):
    head = obj - headsize
    c = Core(src)
    nxt = c.u64(head) & LINK_MASK
    prev = c.u64(head + 8) & LINK_MASK
    if (c.u64(prev) & LINK_MASK) != head or (c.u64(nxt + 8) & LINK_MASK) != head:
        raise ValueError("0x%x - %d is not a PyGC_Head linked into a GC list" % (obj, headsize))
    old = c.u64(head)
    c.close()
    shutil.copyfile(src, dst)
    c = Core(dst, write=True)
    c.put_u64(head, newnext)
    c.close()
    print("0x%x" % old)


def cmd_set_u64(src, dst, pairs):
    shutil.copyfile(src, dst)
    core = Core(dst, write=True)
    try:
        for addr, value in pairs:
            print("0x%x" % core.u64(addr))
            core.put_u64(addr, value)
    finally:
        core.close()


def cmd_set_u32(src, dst, vaddr, value):
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        phoff, = struct.unpack_from("<Q", m, 32)
        phentsize, phnum = struct.unpack_from("<HH", m, 54)
        for i in range(phnum):
            p_type, _f, p_offset, p_vaddr, _pa, p_filesz, _ms, _al = \
                struct.unpack_from("<IIQQQQQQ", m, phoff + i * phentsize)
            if p_type == PT_LOAD and p_vaddr <= vaddr and vaddr + 4 <= p_vaddr + p_filesz:
                at = p_offset + vaddr - p_vaddr
                print("0x%x" % struct.unpack_from("<I", m, at)[0])
                struct.pack_into("<I", m, at, value)
                m.flush()
                m.close()
                return
        m.close()
    raise ValueError("0x%x is not in a loaded segment of %s" % (vaddr, src))


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "files":
            cmd_files(argv[2])
        elif len(argv) >= 6 and len(argv) % 2 == 0 and argv[1] == "set-u64":
            cmd_set_u64(argv[2], argv[3], [(num(a), num(v)) for a, v in zip(argv[4::2], argv[5::2])])
        elif len(argv) == 6 and argv[1] == "set-u32":
            cmd_set_u32(argv[2], argv[3], num(argv[4]), num(argv[5]))
        elif len(argv) == 7 and argv[1] == "gc-next":
            cmd_gc_next(argv[2], argv[3], num(argv[4]), num(argv[5]), num(argv[6]))
        else:
            sys.stderr.write(__doc__)
            return 2
    except (OSError, ValueError, struct.error) as e:
        sys.stderr.write("corrupt.py: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
