#!/usr/bin/env python3
"""fuzz.py -- mutation fuzzing of objinspect over the fixture cores (stdlib only).

  fuzz.py campaign --build DIR --cores DIR [--seconds N] [--ids "ID ..."] [--scenarios "S ..."]
                   [--runs-per-core K] [--timeout S] [--mem-mb M] [--seed N] [--work DIR]
      Damages copies of the fixture cores (tests/fuzz/mutate.py) and runs commands of
      DIR/objinspect on them until N seconds have passed; prints the counts by class and
      writes WORK/summary.json, WORK/findings.txt (one recipe per distinct failure, reduced
      to the edits that matter) and WORK/logs/.
  fuzz.py replay --build DIR --cores DIR [--list FILE]
      Runs every recipe of FILE (tests/fuzz/regressions.txt); a recipe whose core is absent is
      skipped. Exits 1 when one of them fails.
  fuzz.py run --build DIR --cores DIR 'RECIPE LINE'
      Runs one recipe and shows its class, exit status and output.

Every run has a time limit (--timeout, default 20 s, killed with its process group) and a
memory limit (--mem-mb, default 1024: ASan's malloc and RSS limits in a sanitized build,
RLIMIT_AS of that much plus Unicorn's code buffer otherwise). A run is classified as
  answer    exit 0, nothing on stderr (with --json: exactly one line of valid JSON)
  warning   exit 0, only `warning:` lines on stderr
  error     exit 3-9, nothing on stdout, exactly one `error:` line on stderr (and warnings)
and, as failures,
  crash     a signal, or a sanitizer's report (ASan, UBSan, LeakSanitizer)
  hang      the time limit
  memory    the memory limit, exit 10 (out of memory), or more output than 64 times the core
  json      --json output that is not exactly one line of valid JSON
  unclean   any other exit status, or stderr/stdout not as above
  disclosure  the output shows the contents of a local file a hostile core named
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from coreimg import CoreError  # noqa: E402
from recipe import Recipe, RecipeError, apply, apply_index, index_edits, landmarks, sandbox  # noqa: E402
import mutate  # noqa: E402

OK_CLASSES = ("answer", "warning", "error")
CLASSES = OK_CLASSES + ("crash", "hang", "memory", "json", "unclean", "disclosure")
SCENARIOS = ["cache_leak", "cext", "threads", "graph", "del_cycle", "tb_cycle", "slots", "garbage27",
             "big_list", "tracemalloc_sites", "asyncio_tasks", "greenlets", "pymalloc"]
HERE = os.path.dirname(os.path.abspath(__file__))
UNICORN_BUFFER_MB = 2048  # Unicorn reserves its translated-code buffer up front


# ---------------------------------------------------------------- one run

class Result(object):
    def __init__(self, cls, rc, out, err, secs, rss_mb, why=""):
        self.cls, self.rc, self.out, self.err = cls, rc, out, err
        self.secs, self.rss_mb, self.why = secs, rss_mb, why


def sanitized(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def execute(binary, argv, timeout, mem_mb, asan, cwd=None, out_cap=64 << 20):
    """(rc or None on timeout, stdout, stderr, seconds, max RSS in MB, bytes of stdout). Only
    the first out_cap bytes of stdout are kept."""
    env = dict(os.environ)
    if asan:
        env["ASAN_OPTIONS"] = ("detect_leaks=1:exitcode=86:allocator_may_return_null=1:"
                               "hard_rss_limit_mb=%d:malloc_limit_mb=%d:handle_abort=1" % (mem_mb, mem_mb))
        env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1:exitcode=87"
        env["LSAN_OPTIONS"] = "exitcode=88"

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (int(timeout) * 2 + 5, int(timeout) * 2 + 10))
        if not asan:
            lim = (mem_mb + UNICORN_BUFFER_MB) << 20
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

    t0 = time.time()
    p = subprocess.Popen([binary] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=limits, start_new_session=True, env=env,
                         cwd=cwd)
    bufs = {}

    def drain(name, f, cap):
        data, n = [], 0
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            if n < cap:
                data.append(chunk[:cap - n])
            n += len(chunk)
        bufs[name] = b"".join(data)
        bufs[name + "_n"] = n

    readers = [threading.Thread(target=drain, args=("out", p.stdout, out_cap)),
               threading.Thread(target=drain, args=("err", p.stderr, 4 << 20))]
    for r in readers:
        r.start()
    rc, ru, timed_out = None, None, False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc = os.waitstatus_to_exitcode(status)
            break
        if time.time() - t0 > timeout:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.005)
    p.returncode = rc if rc is not None else -9
    for r in readers:
        r.join()
    p.stdout.close()
    p.stderr.close()
    return ((None if timed_out else rc), bufs.get("out", b""), bufs.get("err", b""), time.time() - t0,
            ru.ru_maxrss / 1024.0, bufs.get("out_n", 0))


def classify(rc, out, err, json_mode, mem_mb, rss_mb, out_n=0, out_cap=None):
    """(class, why). Output beyond out_cap bytes (a multiple of the core's size) is runaway."""
    text = err.decode("utf-8", "replace")
    if b"SECRET" in out or b"SECRET" in err:
        return "disclosure", "the contents of a local file were printed"
    if rc is None:
        return "hang", "time limit"
    if out_cap is not None and out_n > out_cap:
        return "memory", "%d MB of output" % (out_n >> 20)
    if re.search(r"rss limit|malloc limit|allocator is out of memory|allocation-size-too-big|"
                 r"requested allocation size|out of memory", text, re.I) or rc == 10 or rss_mb > mem_mb:
        return "memory", _summary(text) or "exit %d, %d MB" % (rc, rss_mb)
    if rc < 0 or rc >= 128 or rc in (86, 87, 88) or "Sanitizer" in text or "runtime error:" in text:
        return "crash", _summary(text) or ("signal %d" % -rc if rc < 0 else "exit %d" % rc)
    lines = [ln for ln in text.split("\n") if ln]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    others = [ln for ln in lines if not ln.startswith(("error: ", "warning: "))]
    if others:
        return "unclean", "stderr: " + others[0][:200]
    if rc == 0:
        if errors:
            return "unclean", "exit 0 with " + errors[0][:200]
        if json_mode:  # one line of JSON, in UTF-8 (RFC 8259)
            if out.count(b"\n") != 1 or not out.endswith(b"\n"):
                return "json", "%d lines of output" % out.count(b"\n")
            try:
                json.loads(out.decode("utf-8"))
            except ValueError as e:
                return "json", str(e)[:200]
        return ("warning" if lines else "answer"), ""
    if not 3 <= rc <= 9:
        return "unclean", "exit %d: %s" % (rc, (errors or lines or [""])[0][:200])
    if len(errors) != 1 or out:
        return "unclean", "exit %d with %d error lines and %d bytes on stdout" % (rc, len(errors), len(out))
    return "error", errors[0][:200]


def _summary(text):
    """The sanitizer's one-line verdict, without addresses: what makes two findings the same."""
    m = re.search(r"SUMMARY: \w+Sanitizer: (.*)", text)
    if m:
        s = m.group(1)
    else:
        m = re.search(r"(\S+:\d+:\d+: runtime error: .*)", text)
        s = m.group(1) if m else ""
    return re.sub(r"0x[0-9a-f]+|\b\d{5,}\b", "N", s).strip()[:240]


class Case(object):
    """A damaged copy of a core, written to workdir/case.core, and the run's extra options."""

    def __init__(self, core_path, edits, lm, paths, workdir):
        self.core, self.extra = apply(core_path, edits, lm, paths)
        self.lm, self.cwd = lm, paths["home"]
        self.path = os.path.join(workdir, "case.core")
        self.index = self.path + ".objinspect-index"
        self.idx_edits = index_edits(edits)
        if os.path.exists(self.index):
            os.unlink(self.index)
        self.core.save(self.path)

    def make_index(self, binary, timeout, mem_mb, asan):
        """The case core's index, made by the build under test and damaged by the idx edits
        (the command then reads it beside the core); a core whose index cannot be made
        (too damaged) is not a case for them."""
        rc, out, err, _s, _r, _n = execute(binary, self.extra + [self.path, "index"], timeout, mem_mb, asan, self.cwd)
        if rc != 0 or not os.path.exists(self.index):
            raise RecipeError("no index of this core (exit %s): %s" % (rc, err.decode(errors="replace")[:200]))
        apply_index(self.index, self.idx_edits)

    def run(self, binary, recipe, timeout, mem_mb, asan):
        argv = recipe.argv(self.core, self.lm)
        cap = max(64 << 20, 64 * len(self.core.b))  # output in proportion to the core
        try:
            if self.idx_edits:
                self.make_index(binary, timeout, mem_mb, asan)
            rc, out, err, secs, rss, out_n = execute(binary, self.extra + [self.path] + argv, timeout, mem_mb,
                                                     asan, self.cwd, cap)
        finally:
            if os.path.exists(self.index):
                os.unlink(self.index)
        cls, why = classify(rc, out, err, "--json" in argv, mem_mb, rss, out_n, cap)
        return Result(cls, rc, out, err, secs, rss, why)


def run_case(binary, core_path, recipe, lm, paths, workdir, timeout, mem_mb, asan):
    """Applies recipe to core_path and runs it: a Result."""
    return Case(core_path, recipe.edits, lm, paths, workdir).run(binary, recipe, timeout, mem_mb, asan)


# ---------------------------------------------------------------- campaign

def bases(cores, ids, scenarios):
    out = []
    for i in sorted(os.listdir(cores)):
        if ids and i not in ids:
            continue
        for s in scenarios:
            p = os.path.join(cores, i, s + ".core")
            if os.path.isfile(p):
                out.append((i, s, p))
    return out


def signature(recipe, res, strategies):
    """What makes two failures the same: a sanitizer's verdict, else the class, the kinds of
    damage and the command."""
    if res.cls in ("crash", "memory") and res.why:
        return "%s: %s" % (res.cls, res.why)
    why = re.sub(r"0x[0-9a-f]+|\d+", "N", res.why)
    why = re.sub(r"/\S+", "PATH", why)
    return "%s: %s: %s: %s" % (res.cls, "+".join(sorted(set(strategies))), recipe.cmd.split()[0], why[:160])


def reduce(binary, core_path, recipe, lm, paths, workdir, cls, opts, asan):
    """The smallest subset of the edits (each one alone first) that fails the same way."""
    if len(recipe.edits) == 1:
        return recipe
    for e in recipe.edits:
        r = Recipe(recipe.interp, recipe.scenario, recipe.cmd, [e], recipe.seed)
        try:
            if run_case(binary, core_path, r, lm, paths, workdir, opts.timeout, opts.mem_mb, asan).cls == cls:
                return r
        except (RecipeError, CoreError):
            continue
    return recipe


def oracle_of(opts):
    """The binary that reads the landmarks of the pristine cores, and their cache."""
    oracle = opts.oracle or os.path.join(opts.build, "objinspect")
    return oracle, os.path.join(os.path.dirname(os.path.abspath(oracle)), "fuzz", "landmarks")


def campaign(opts):
    binary = os.path.join(opts.build, "objinspect")
    oracle, cache = oracle_of(opts)
    asan = sanitized(binary)
    work = opts.work or os.path.join(opts.build, "fuzz")
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="fz", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    paths = sandbox(os.path.join(tmp, "x"))
    os.makedirs(os.path.join(tmp, "r"))
    found = bases(opts.cores, opts.ids.split() if opts.ids else None,
                  opts.scenarios.split() if opts.scenarios else SCENARIOS)
    if not found:
        print("fuzz: no fixture cores under %s" % opts.cores)
        return 1
    seed = opts.seed if opts.seed is not None else random.randrange(1 << 32)
    master = random.Random(seed)
    counts = {c: 0 for c in CLASSES}
    by_interp, by_strategy = {}, {}
    findings = {}
    cases = runs = 0
    slowest = []
    t0 = time.time()
    print("fuzz: %s%s, %d cores, %d s, seed %d, time limit %g s, memory %d MB" % (
        binary, " (ASan+UBSan)" if asan else "", len(found), opts.seconds, seed, opts.timeout, opts.mem_mb))
    lms = {}
    try:
        while time.time() - t0 < opts.seconds:
            interp, scenario, path = master.choice(found)
            if path not in lms:
                try:
                    lms[path] = landmarks(oracle, path, cache)
                except (RecipeError, CoreError, ValueError, subprocess.TimeoutExpired) as e:
                    print("fuzz: skipping %s: %s" % (path, e))
                    found.remove((interp, scenario, path))
                    if not found:
                        break
                    continue
            lm = lms[path]
            case_seed = master.randrange(1 << 32)
            rng = random.Random(case_seed)
            strategies, edits = mutate.generate(rng, lm)
            try:
                case = Case(path, edits, lm, paths, tmp)
            except (RecipeError, CoreError) as e:
                if opts.verbose:
                    print("fuzz: not applicable to %s %s: %s (%s)" % (interp, scenario, " ".join(edits), e))
                continue
            cases += 1
            for k in range(opts.runs_per_core):
                if time.time() - t0 >= opts.seconds:
                    break
                cmd = mutate.command(rng, lm, edits, cases * opts.runs_per_core + k, strategies)
                recipe = Recipe(interp, scenario, cmd, edits, case_seed)
                try:
                    res = case.run(binary, recipe, opts.timeout, opts.mem_mb, asan)
                except (RecipeError, CoreError) as e:
                    if opts.verbose:
                        print("fuzz: recipe not applicable: %s (%s)" % (recipe.line(), e))
                    continue
                runs += 1
                counts[res.cls] += 1
                slowest.append((res.secs, recipe.line()))
                slowest = sorted(slowest, reverse=True)[:5]
                by_interp.setdefault(interp, {c: 0 for c in CLASSES})[res.cls] += 1
                for s in set(strategies):
                    by_strategy.setdefault(s, {c: 0 for c in CLASSES})[res.cls] += 1
                if res.cls in OK_CLASSES:
                    continue
                sig = signature(recipe, res, strategies)
                if sig in findings:
                    findings[sig][1] += 1
                    continue
                small = reduce(binary, path, recipe, lm, paths, os.path.join(tmp, "r"), res.cls, opts, asan)
                small.note = sig
                findings[sig] = [small, 1]
                log = os.path.join(work, "logs", "%03d.txt" % len(findings))
                with open(log, "wb") as f:
                    f.write(("%s\nexit %s, %.1f s, %d MB\n--- stderr\n" % (small.line(), res.rc, res.secs, res.rss_mb)).encode())
                    f.write(res.err[-200000:])
                    f.write(b"\n--- stdout (start)\n" + res.out[:4000])
                print("fuzz: NEW %s\n      %s\n      (log %s)" % (sig, small.line(), log), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    secs = time.time() - t0
    summary = {"seed": seed, "seconds": round(secs, 1), "cases": cases, "runs": runs, "binary": binary,
               "sanitized": asan, "classes": counts, "by_interpreter": by_interp,
               "by_strategy": by_strategy, "findings": {k: v[1] for k, v in findings.items()},
               "slowest": [{"seconds": round(t, 2), "recipe": r} for t, r in slowest]}
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    with open(os.path.join(work, "findings.txt"), "w") as f:
        for sig, (r, _n) in sorted(findings.items()):
            f.write(r.line() + "\n")
    print("fuzz: %d cases, %d runs in %.0f s: %s" % (cases, runs, secs, ", ".join(
        "%s %d" % (c, counts[c]) for c in CLASSES if counts[c] or c in OK_CLASSES)))
    for i in sorted(by_interp):
        print("fuzz:   %-12s %s" % (i, " ".join("%s=%d" % (c, n) for c, n in by_interp[i].items() if n)))
    if slowest:
        print("fuzz: slowest run %.1f s: %s" % slowest[0])
    for sig, (r, n) in sorted(findings.items()):
        print("fuzz: FAIL x%d %s\n        %s" % (n, sig, r.line()))
    print("fuzz: summary in %s" % os.path.join(work, "summary.json"))
    return 1 if findings else 0


# ---------------------------------------------------------------- replay

def read_list(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                out.append((n, Recipe.parse(line.rstrip("\n"))))
    return out


def replay(opts, recipes=None):
    binary = os.path.join(opts.build, "objinspect")
    oracle, cache = oracle_of(opts)
    asan = sanitized(binary)
    work = opts.work or os.path.join(opts.build, "fuzz")
    tmp = tempfile.mkdtemp(prefix="fz", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    paths = sandbox(os.path.join(tmp, "x"))
    recipes = recipes if recipes is not None else read_list(opts.list)
    failed = passed = skipped = 0
    try:
        for n, r in recipes:
            path = os.path.join(opts.cores, r.interp, r.scenario + ".core")
            where = "line %d" % n if n else "recipe"
            if not os.path.isfile(path):
                skipped += 1
                print("skip %s: no %s core for %s" % (where, r.scenario, r.interp))
                continue
            try:
                lm = landmarks(oracle, path, cache)
                res = run_case(binary, path, r, lm, paths, tmp, opts.timeout, opts.mem_mb, asan)
            except (RecipeError, CoreError) as e:
                failed += 1
                print("FAIL %s: cannot apply: %s\n     %s" % (where, e, r.line()))
                continue
            if res.cls in OK_CLASSES:
                passed += 1
                if opts.verbose:
                    print("ok   %s: %s (exit %s, %.1f s) %s" % (where, res.cls, res.rc, res.secs, res.why))
                continue
            failed += 1
            print("FAIL %s: %s (exit %s, %.1f s, %d MB): %s\n     %s" % (
                where, res.cls, res.rc, res.secs, res.rss_mb, res.why, r.line()))
            tail = res.err.decode("utf-8", "replace").strip().split("\n")[-12:]
            print("     " + "\n     ".join(tail))
            if opts.show:
                sys.stdout.write(res.out.decode("utf-8", "replace")[:4000])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("replay: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["campaign", "replay", "run"])
    ap.add_argument("recipe", nargs="?", help="run: one recipe line")
    ap.add_argument("--build", required=True)
    ap.add_argument("--cores", required=True)
    ap.add_argument("--list", default=os.path.join(HERE, "regressions.txt"))
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--ids", default=os.environ.get("FUZZ_IDS", ""))
    ap.add_argument("--scenarios", default=os.environ.get("FUZZ_SCENARIOS", ""))
    ap.add_argument("--runs-per-core", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--mem-mb", type=int, default=1024)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--work")
    ap.add_argument("--oracle", help="the objinspect that reads the pristine cores' landmarks "
                    "(default: the one under test; a build without sanitizers is faster)")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--show", action="store_true", help="replay/run: show stdout too")
    opts = ap.parse_intermixed_args(argv)
    opts.build = os.path.abspath(opts.build)
    opts.cores = os.path.abspath(opts.cores)
    if opts.oracle:
        opts.oracle = os.path.abspath(opts.oracle)
    if opts.mode == "campaign":
        return campaign(opts)
    if opts.mode == "replay":
        return replay(opts)
    if not opts.recipe:
        ap.error("run needs a recipe line")
    opts.verbose = opts.show = True
    return replay(opts, [(0, Recipe.parse(opts.recipe))])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
