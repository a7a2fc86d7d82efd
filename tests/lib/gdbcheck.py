#!/usr/bin/env python3
"""gdbcheck.py -- runs objgraph-* commands in one GDB session and compares each answer with
objinspect's on the same core (tests/gdb.bats).

  gdbcheck.py compare OUT ERR CORE SPEC...
                                        OUT/ERR: the stdout/stderr of a GDB session that ran every
                                        SPEC ("types --limit 0 --json") as objgraph-SPEC, each
                                        after a marker line "@@gdbcheck N" (N from 0), then
                                        "@@gdbcheck end" (tests/gdb.bats, gdb_run). For every
                                        SPEC, runs `objinspect CORE SPEC` ($OBJINSPECT) and
                                        requires GDB's output to be the CLI's, byte for byte;
                                        a file a SPEC writes (--output F) is renamed F.gdb
                                        before the CLI writes F, and must be identical to it
  gdbcheck.py compare-all LIST          the same for many sessions at once (one Python start): a
                                        line of LIST per session, OUT ERR CORE SPEC... separated
                                        by tabs
  gdbcheck.py help HELP_TEXT GDB_OUT    the commands of `objinspect --help` (HELP_TEXT) against
                                        GDB's `help objgraph-NAME` output (each after a marker
                                        line "@@gdbcheck NAME", see help-args)
  gdbcheck.py help-args HELP_TEXT       -ex arguments: a marker and `help objgraph-NAME` per
                                        command of HELP_TEXT
  gdbcheck.py names HELP_TEXT           the command names of HELP_TEXT, one a line
  gdbcheck.py get FILE KEY[.KEY...]...  one value per KEY of a JSON file (a truth), one a line
                                        (strings as they are, the rest as JSON); one call for
                                        many values (a Python start is slow on a busy machine)
  gdbcheck.py get-each "KEY..." FILE... those KEYs of every FILE, one a line, file after file
  gdbcheck.py text-args TRUTH           -ex arguments: count, by-type of the scenario's classes,
                                        at of its named objects, types, gc and info, in text
  gdbcheck.py text TRUTH GDB_OUT        those texts against the interpreter's truth

One exception to byte equality: graph reports how long it took (seconds,
emulation_seconds); those two keys are compared for presence only.
Prints one line (and a short diff) per mismatch; exits 1 if there is any.
"""
import difflib
import json
import os
import re
import shlex
import subprocess
import sys

MARK = "@@gdbcheck "
# keys whose values are wall-clock times, which no two runs share
TIMINGS = {"graph": ("seconds", "emulation_seconds")}


def sections(text):
    """The text after each marker line, by marker name."""
    parts = re.split(r"^" + re.escape(MARK) + r"(\S+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def diff(a, b, a_name, b_name, limit=40):
    def pretty(s):
        try:
            return json.dumps(json.loads(s), indent=1).splitlines()
        except ValueError:
            return s.splitlines()
    lines = list(difflib.unified_diff(pretty(a), pretty(b), a_name, b_name, lineterm="", n=2))
    if not lines and a != b:   # same JSON, different text (spacing, newline at the end)
        lines = ["%s: %r" % (a_name, a[-200:]), "%s: %r" % (b_name, b[-200:])]
    more = len(lines) - limit
    return "\n".join("    " + l for l in lines[:limit]) + ("\n    ... %d more lines" % more if more > 0 else "")


def drop_timings(cmd, text):
    keys = TIMINGS.get(cmd)
    if not keys:
        return text, []
    try:
        doc = json.loads(text)
    except ValueError:
        return text, []
    missing = [k for k in keys if k not in doc]
    for k in keys:
        doc.pop(k, None)
    return json.dumps(doc), missing


def output_file(argv):
    for i, a in enumerate(argv):
        if a == "--output" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def compare(out_path, err_path, core, specs):
    with open(out_path, errors="replace") as f:
        got = sections(f.read())
    with open(err_path, errors="replace") as f:
        err = f.read()
    bad = []
    if "Traceback" in err or "Python Exception" in err:
        bad.append("a Python exception in GDB:\n" + "\n".join("    " + l for l in err.splitlines()[-15:]))
    if "end" not in got:
        bad.append("GDB did not reach the end of the session (stderr: %s)" % err.strip().splitlines()[-3:])
    # the pictures GDB wrote, out of the CLI's way first
    for spec in specs:
        f = output_file(shlex.split(spec))
        if f is not None:
            if os.path.exists(f):
                os.replace(f, f + ".gdb")
            elif os.path.exists(f + ".gdb"):
                os.remove(f + ".gdb")
    exe = os.environ.get("OBJINSPECT") or "objinspect"
    for i, spec in enumerate(specs):
        argv = shlex.split(spec)
        name = "objgraph-" + spec
        p = subprocess.run(["timeout", "60", exe, core] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, errors="replace")
        if p.returncode != 0:
            bad.append("%s: the CLI itself fails (exit %d): %s" % (name, p.returncode, p.stderr.strip()))
            continue
        g = got.get(str(i))
        if g is None:
            bad.append("%s: no output from GDB" % name)
            continue
        if g == "" and p.stdout != "":
            lines = [l for l in err.splitlines() if l.strip()]
            bad.append("%s: GDB printed nothing; the CLI printed %d bytes (GDB stderr: %s)"
                       % (name, len(p.stdout), lines[-1] if lines else ""))
            continue
        a, b = g, p.stdout
        if "--json" in argv:
            a, miss_a = drop_timings(argv[0], a)
            b, miss_b = drop_timings(argv[0], b)
            if miss_a or miss_b:
                bad.append("%s: timing keys missing: GDB %s, CLI %s" % (name, miss_a, miss_b))
        if a != b:
            bad.append("%s: GDB differs from `objinspect CORE %s`:\n%s" % (name, spec, diff(b, a, "objinspect", "gdb")))
        f = output_file(argv)
        if f is not None:
            if not os.path.exists(f + ".gdb"):
                bad.append("%s: GDB wrote no %s" % (name, f))
            elif not os.path.exists(f):
                bad.append("%s: the CLI wrote no %s" % (name, f))
            else:
                with open(f, errors="replace") as x, open(f + ".gdb", errors="replace") as y:
                    cli, gdb = x.read(), y.read()
                if cli != gdb:
                    bad.append("%s: GDB's %s differs from the CLI's:\n%s" % (name, os.path.basename(f), diff(cli, gdb, "objinspect", "gdb")))
                elif not cli.strip():
                    bad.append("%s: %s is empty" % (name, f))
    return bad


def table(help_text):
    """(name, usage, summary) of every command `objinspect --help` lists."""
    out, lines, inside = [], help_text.splitlines(), False
    for i, line in enumerate(lines):
        if line.strip() == "commands:":
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        m = re.match(r"^  (\S+)\s*(.*)$", line) if inside else None
        if m:
            summary = lines[i + 1].strip() if i + 1 < len(lines) else ""
            out.append((m.group(1), m.group(2).strip(), summary))
    return out


def check_help(help_text, gdb_out):
    bad = []
    cmds = table(help_text)
    if not cmds:
        return ["no commands found in objinspect --help"]
    got = sections(gdb_out)
    for name, usage, summary in cmds:
        text = got.get(name)
        if text is None or not text.strip():
            bad.append("objgraph-%s: no help in GDB" % name)
            continue
        lines = text.splitlines()
        if lines[0].strip() != summary:
            bad.append("objgraph-%s: first help line %r, the table's summary %r" % (name, lines[0], summary))
        want = "Usage: objgraph-%s %s" % (name, usage)
        if want not in (l.rstrip() for l in lines):
            bad.append("objgraph-%s: no line %r in:\n%s" % (name, want, "\n".join("    " + l for l in lines[:6])))
        if len(lines) < 4:
            bad.append("objgraph-%s: help has no text beyond the usage: %r" % (name, text))
    return bad


def get(doc, key):
    for k in key.split("."):
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    return doc if isinstance(doc, str) else json.dumps(doc)


def text_args(truth):
    args = []
    for cls in truth["id_types"]:
        args += ["-ex", "echo %scount %s\\n" % (MARK, cls), "-ex", "objgraph-count " + cls,
                 "-ex", "echo %sby-type %s\\n" % (MARK, cls), "-ex", "objgraph-by-type %s --limit 0" % cls]
    for r in truth["refcounts"]:
        args += ["-ex", "echo %sat %s\\n" % (MARK, r["address"]), "-ex", "objgraph-at " + r["address"]]
    for cmd in ("types --limit 0", "gc", "info"):
        args += ["-ex", "echo %s%s\\n" % (MARK, cmd.split()[0]), "-ex", "objgraph-" + cmd]
    return args + ["-ex", "echo %send\\n" % MARK]


def fields(text):
    """'label:   value' lines of a text output."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\w[\w ]*):\s+(.*)$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2)
    return out


def check_text(truth, gdb_out):
    """objgraph-* text output against the interpreter's own answers."""
    # the section names hold a space ("count CacheEntry")
    sec = dict((m.group(1), m.group(2)) for m in
               re.finditer(r"^" + re.escape(MARK) + r"(.+)\n((?:(?!" + re.escape(MARK) + r").*\n)*)", gdb_out, re.M))
    bad = []
    if "end" not in sec:
        bad.append("GDB did not reach the end of the session")
    for cls in truth["id_types"]:
        got, want = sec.get("count " + cls, "").strip(), str(truth["types"][cls])
        if got != want:
            bad.append("objgraph-count %s: %r, the interpreter counted %s" % (cls, got, want))
        got = sorted(re.findall(r"^(0x[0-9a-f]+)\b", sec.get("by-type " + cls, ""), re.M))
        want = sorted(truth["ids"][cls])
        if got != want or not want:
            bad.append("objgraph-by-type %s: %d addresses, %d id()s, %d in common"
                       % (cls, len(got), len(want), len(set(got) & set(want))))
        rows = [l.split() for l in sec.get("types", "").splitlines()]
        got = [r[1] for r in rows if len(r) >= 3 and r[0] == cls]
        if got != [str(truth["types"][cls])]:
            bad.append("objgraph-types: %s %s, the interpreter counted %s" % (cls, got, truth["types"][cls]))
    for r in truth["refcounts"]:
        a = r["address"]
        f = fields(sec.get("at " + a, ""))
        want = {"address": a, "refcnt": str(r["refcnt"]), "size": str(truth["sizes"][a])}
        rep = truth["reprs"].get(a, "")
        if re.match(r"^<.* at 0x[0-9a-f]+>$", rep):   # default reprs: the interpreter's exactly
            want["repr"] = rep
        for k, v in sorted(want.items()):
            if f.get(k) != v:
                bad.append("objgraph-at %s (%s): %s %r, interpreter %r" % (a, r["name"], k, f.get(k), v))
    f, g = fields(sec.get("gc", "")), truth["gc"]
    for k, v in (("enabled", str(g["enabled"])), ("threshold", "(%s)" % ", ".join(map(str, g["threshold"]))),
                 ("garbage", "%d (len(gc.garbage))" % g["garbage"])):
        if f.get(k) != v:
            bad.append("objgraph-gc %s: %r, interpreter %r" % (k, f.get(k), v))
    f = fields(sec.get("info", ""))
    if f.get("python") != "CPython " + truth["python"]:
        bad.append("objgraph-info python: %r, interpreter %r" % (f.get("python"), truth["python"]))
    exe = f.get("executable") or ""
    if os.path.realpath(exe) != os.path.realpath(truth["executable"]) and not exe.endswith(truth["executable"]):
        bad.append("objgraph-info executable: %r, sys.executable %r" % (exe, truth["executable"]))
    return bad


def main():
    cmd = sys.argv[1]
    if cmd in ("compare", "compare-all"):
        if cmd == "compare":
            sessions = [sys.argv[2:]]
        else:
            with open(sys.argv[2]) as f:
                sessions = [l.rstrip("\n").split("\t") for l in f if l.strip()]
        failed = 0
        for sess in sessions:
            out, err, core, specs = sess[0], sess[1], sess[2], sess[3:]
            bad = compare(out, err, core, specs)
            for b in bad[:12]:
                print(b)
            if len(bad) > 12:
                print("... and %d more mismatches" % (len(bad) - 12))
            if bad:
                print("  ^ %d mismatches over %d commands on %s" % (len(bad), len(specs), core))
                failed += 1
        if len(sessions) > 1 and failed:
            print("GDB differs from objinspect in %d of %d sessions" % (failed, len(sessions)))
        sys.exit(1 if failed or not sessions else 0)
    elif cmd == "get":
        with open(sys.argv[2]) as f:
            doc = json.load(f)
        for key in sys.argv[3:]:
            try:
                print(get(doc, key))
            except (KeyError, IndexError, ValueError):
                sys.exit("%s: no %s" % (sys.argv[2], key))
    elif cmd == "get-each":
        keys = sys.argv[2].split()
        for path in sys.argv[3:]:
            with open(path) as f:
                doc = json.load(f)
            for key in keys:
                try:
                    print(get(doc, key))
                except (KeyError, IndexError, ValueError):
                    sys.exit("%s: no %s" % (path, key))
    elif cmd in ("text-args", "text"):
        with open(sys.argv[2]) as f:
            truth = json.load(f)
        if cmd == "text-args":
            print("\n".join(text_args(truth)))
        else:
            with open(sys.argv[3], errors="replace") as f:
                bad = check_text(truth, f.read())
            for b in bad:
                print(b)
            sys.exit(1 if bad else 0)
    elif cmd in ("help", "help-args", "names"):
        with open(sys.argv[2]) as f:
            text = f.read()
        if cmd == "names":
            print("\n".join(n for n, _, _ in table(text)))
        elif cmd == "help-args":
            args = []
            for n, _, _ in table(text):
                args += ["-ex", "echo %s%s\\n" % (MARK, n), "-ex", "help objgraph-" + n]
            print("\n".join(args + ["-ex", "echo %send\\n" % MARK]))
        else:
            with open(sys.argv[3], errors="replace") as f:
                bad = check_help(text, f.read())
            for b in bad:
                print(b)
            sys.exit(1 if bad else 0)
    else:
        sys.exit("usage: gdbcheck.py compare|compare-all|get|get-each|text-args|text|help|help-args|names ...")


if __name__ == "__main__":
    main()
