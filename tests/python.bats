#!/usr/bin/env bats
# python.bats -- the Python package objinspect (python/objinspect, docs/api.md): ctypes over
# libinspect's public C API (include/libinspect). On the fixture cores of every interpreter
# corefixtures/interpreters lists, each answer of the package is compared with the CLI's
# (--json, the same library) and with what the process said about itself at the dump (the
# truth), by tests/lib/pytruth.py. The package runs in /usr/bin/python3, in the oldest pyenv
# CPython >= 3.8 and in GDB's embedded Python, and must give the same answers in all three.

load helpers
bats_require_minimum_version 1.5.0

PYTRUTH="$ROOT/tests/lib/pytruth.py"
export OBJINSPECT_LIB="$BUILD/libinspect.so" OBJINSPECT_PY="$ROOT/python"
# the scenarios compared on every interpreter (cext's 30-80 MB cores are left to truth.bats)
PY_SCENARIOS="graph amqp_cycle threads freeze tb_cycle del_cycle bound_method garbage27 cache_leak slots dict_subclass sessions"
# the ones the other Pythons answer too (every question of the package is asked on each)
PY_SCENARIOS_OTHER="graph threads"

# An ASan build of the library (make test-asan) loads only into a process whose first library
# is ASan's runtime: the Pythons that load it run with it preloaded, their own leaks not
# reported. GDB with ASan's runtime preloaded hangs at startup here (in setlocale, 3 times out
# of 3): the GDB tests are skipped then.
PYPRE=
if nm -D "$BUILD/libinspect.so" 2>/dev/null | grep -q ' U __asan_init'; then
	PYPRE="env LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0"
fi
PY3="$PYPRE /usr/bin/python3"
no_asan() { [ -z "$PYPRE" ] || skip "the library is built with ASan: $1"; }

setup_file() {
	export DUMPS="$BATS_FILE_TMPDIR/dumps"
	mkdir -p "$DUMPS"
}

# The interpreter ids that have fixture cores, in corefixtures/interpreters' order.
ids() {
	local id rest
	"$ROOT/corefixtures/interpreters" | while read -r id rest; do
		[ -d "$CORES/$id" ] && ls "$CORES/$id"/*.core >/dev/null 2>&1 && echo "$id"
	done
}

# The scenarios of PY_SCENARIOS (or those of $2) with a core for interpreter ID.
scenarios_of() {
	local s
	for s in ${2:-$PY_SCENARIOS}; do [ -f "$CORES/$1/$s.core" ] && [ -f "$CORES/$1/$s.truth.json" ] && echo "$s"; done
}

# The oldest pyenv CPython >= 3.8 (the package's minimum).
py_oldest() {
	local root v mm
	root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}
	for v in $(ls "$root/versions" 2>/dev/null | sort -t. -k1,1n -k2,2n -k3,3n); do
		mm=$(echo "$v" | sed -n 's/^\(3\.[0-9][0-9]*\)\..*/\1/p')
		[ -n "$mm" ] || continue
		[ "${mm#3.}" -ge 8 ] || continue
		[ -x "$root/versions/$v/bin/python$mm" ] && { echo "$root/versions/$v/bin/python$mm"; return 0; }
	done
	return 1
}

gdb_py() {   # gdb_py ARG... : pytruth.py ARG... inside GDB's Python; "PYTRUTH-STATUS N" last
	PYTRUTH_ARGS="$(printf '%s\n' "$@")" timeout 300 gdb -batch -nx -iex 'set debuginfod enabled off' -ex "source $PYTRUTH"
}

# dumps HOST: the package's answers, from HOST (python3: on every core of PY_SCENARIOS; oldest,
# gdb: of PY_SCENARIOS_OTHER), into $DUMPS/HOST (once per file).
dumps() {
	local host=$1 id out=$DUMPS/$1 bad=0 py
	[ -d "$out" ] && return 0
	mkdir -p "$out.tmp"
	for id in $(ids); do
		case $host in
		python3) run timeout 300 $PY3 "$PYTRUTH" dump "$CORES" "$out.tmp" "$id" $(scenarios_of "$id") ;;
		oldest) py=$(py_oldest) && run timeout 300 $PYPRE "$py" "$PYTRUTH" dump "$CORES" "$out.tmp" "$id" $(scenarios_of "$id" "$PY_SCENARIOS_OTHER") ;;
		gdb) run gdb_py dump "$CORES" "$out.tmp" "$id" $(scenarios_of "$id" "$PY_SCENARIOS_OTHER")
			[ "$status" -eq 0 ] && { printf '%s\n' "$output" | grep -qx 'PYTRUTH-STATUS 0' || status=1; } ;;
		esac
		[ "$status" -eq 0 ] || { echo "$host: dump of $id failed: $output"; bad=1; }
	done
	[ "$bad" -eq 0 ] && mv "$out.tmp" "$out"
	return $bad
}

@test "python: the package's ctypes structures, constants and prototypes are the headers' (the C compiler's sizes and offsets)" {
	run $PY3 "$PYTRUTH" abi
	assert_ok
}

@test "python: /usr/bin/python3: every answer equals the CLI's and the interpreter's, on every fixture core of every interpreter" {
	local id n=0 bad=0
	dumps python3
	for id in $(ids); do
		n=$((n + 1))
		run $PY3 "$PYTRUTH" check "$CORES" "$DUMPS/python3" "$id" $(scenarios_of "$id")
		[ "$status" -eq 0 ] || { printf '%s\n' "$output" | head -40; bad=1; }
	done
	[ "$n" -gt 0 ] || { echo "no fixture cores in $CORES"; false; }
	[ "$bad" -eq 0 ]
}

@test "python: the oldest pyenv CPython >= 3.8 gives the same answers as /usr/bin/python3" {
	local py
	py=$(py_oldest) || skip "no pyenv CPython >= 3.8"
	"$py" -c 'import sys; assert sys.version_info[:2] >= (3, 8)'
	dumps python3
	dumps oldest
	run $PY3 "$PYTRUTH" same "$DUMPS/python3" "$DUMPS/oldest"
	assert_ok
}

@test "python: open_core reads a core's saved index (index=\"make\" writes it, \"auto\" reads it, a damaged one is ignored with a warning) with the same answers, on every interpreter" {
	local id n=0 bad=0 tmp
	for id in $(ids); do
		[ -f "$CORES/$id/graph.core" ] || continue
		n=$((n + 1))
		tmp=$(mktemp -d)
		run timeout 300 $PY3 "$PYTRUTH" index "$CORES/$id/graph.core" "$CORES/$id/graph.truth.json" "$tmp"
		rm -rf "$tmp"
		[ "$status" -eq 0 ] || { echo "$id: $output" | head -20; bad=1; }
	done
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

@test "python: GDB's embedded Python gives the same answers as /usr/bin/python3" {
	no_asan "GDB does not start with ASan's runtime preloaded"
	dumps python3
	dumps gdb
	run $PY3 "$PYTRUTH" same "$DUMPS/python3" "$DUMPS/gdb"
	assert_ok
}

@test "python: open_reader over a core's PT_LOAD segments (reads in Python) answers as open_core, on every interpreter" {
	local id n=0 bad=0
	for id in $(ids); do
		[ -f "$CORES/$id/graph.core" ] || continue
		n=$((n + 1))
		run timeout 300 $PY3 "$PYTRUTH" reader "$CORES/$id/graph.core" "$CORES/$id/graph.truth.json"
		[ "$status" -eq 0 ] || { echo "$id: $output" | head -20; bad=1; }
	done
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

@test "python: in GDB with a core loaded, open_reader over GDB's own reads answers as open_core" {
	no_asan "GDB does not start with ASan's runtime preloaded"
	local id n=0 bad=0 exe
	# the oldest and the newest interpreters with cores, and Debian's stripped build if any
	for id in $( (ids | head -1; ids | grep -v '^debian' | tail -1; ids | grep '^debian' | head -1) | sort -u); do
		[ -f "$CORES/$id/graph.core" ] && [ -f "$CORES/$id/exe" ] || continue
		n=$((n + 1))
		exe=$(cat "$CORES/$id/exe")
		run env PYTRUTH_ARGS="$(printf '%s\n' reader "$CORES/$id/graph.core" "$CORES/$id/graph.truth.json" gdb)" \
			timeout 300 gdb -batch -nx -iex 'set debuginfod enabled off' "$exe" "$CORES/$id/graph.core" -ex "source $PYTRUTH"
		printf '%s\n' "$output" | grep -qx 'PYTRUTH-STATUS 0' || { echo "$id: $output" | tail -20; bad=1; }
	done
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

@test "python: Objects and heaps: equality and hash by (heap, address), repr, Ref, closed heaps, argument errors" {
	local id
	id=$(ids | tail -1)
	need_core "$CORES/$id/graph.core"
	run $PY3 "$PYTRUTH" semantics "$CORES/$id/graph.core" "$CORES/$id/graph.truth.json"
	assert_ok
}

@test "python: errors carry the CLI's exit status as .code and its error line as the message" {
	local id dir=$BATS_TEST_TMPDIR core pid bin right wrong
	id=$(ids | tail -1)
	core=$CORES/$id/graph.core
	need_core "$core"
	: > "$dir/empty.core"
	echo "not a core" > "$dir/text.core"
	head -c 4096 "$core" > "$dir/cut.core"
	# a core without Python: sleep's
	bin=$(readlink -f "$(command -v sleep)")
	sleep 100 </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	for _ in $(seq 200); do [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin" ] && break; sleep 0.05; done
	timeout 60 gcore -o "$dir/sleep" $pid >/dev/null 2>&1
	kill $pid
	# the executable of another interpreter (a mismatch), an empty sysroot, a missing executable
	set -- $(ids | grep -v '^debian')
	right=$(cat "$CORES/$1/exe") wrong=$(cat "$CORES/${!#}/exe")
	mkdir -p "$dir/root"
	run $PY3 "$PYTRUTH" errors "$dir/nonexistent.core" "$dir/empty.core" "$dir/text.core" \
		"$dir/cut.core" /bin/true "$dir" "$dir/sleep.$pid" --exe="$wrong" "$CORES/$1/graph.core" \
		--sysroot="$dir/root" "$CORES/$1/graph.core" --exe="$dir/no-such-python" "$CORES/$1/graph.core"
	assert_ok
	[ "$right" != "$wrong" ]
}

@test "python: every C allocation is freed (glibc's bytes in use stay flat over repeated questions)" {
	no_asan "glibc's malloc is not the allocator (its leak checker covers the library)"
	local id
	id=$(ids | grep -v '^debian' | tail -1)
	need_core "$CORES/$id/graph.core"
	run $PY3 "$PYTRUTH" leaks "$CORES/$id/graph.core"
	assert_ok
}

@test "python: attach(pid) reads a live process: the truth's counts, a chain from __main__, and the process goes on" {
	local dir=$BATS_TEST_TMPDIR out=$BATS_TEST_TMPDIR/live.out py
	py=$("$ROOT/corefixtures/interpreters" | awk '$1 !~ /^debian/ && $1 !~ /^2\./ && NF == 2 { p = $2 } END { print p }')
	[ -n "$py" ] || skip "no interpreter to run a live scenario"
	mkfifo "$dir/in"
	"$py" -E -B -s "$ROOT/corefixtures/scenarios/cache_leak.py" "$dir/live" --live < "$dir/in" > "$out" 2>&1 &
	local pid=$!
	exec 7> "$dir/in"
	for _ in $(seq 100); do grep -q READY "$out" && break; sleep 0.1; done
	grep -q READY "$out" || { kill $pid; cat "$out"; false; }
	sleep 0.5
	run $PY3 "$PYTRUTH" live $pid "$dir/live.truth.json" 10
	local st=$status res=$output
	local before; before=$(grep -c tick "$out")
	sleep 1
	local after; after=$(grep -c tick "$out")
	kill $pid; exec 7>&-
	[ "$st" -eq 0 ] || { echo "$res"; false; }
	[ "$after" -gt "$before" ] || { echo "the process stopped ticking after attach ($before -> $after)"; false; }
	grep '^tick' "$out" | awk '{ if (NR > 1 && $2 != prev + 1) bad = 1; prev = $2 } END { exit bad }'
}

@test "python: the triage example (python/examples/triage.py, docs/api.md) agrees with the CLI" {
	local id s n=0 bad=0
	for id in $( (ids | head -1; ids | tail -1) | sort -u); do
		for s in cache_leak amqp_cycle; do
			[ -f "$CORES/$id/$s.core" ] || continue
			n=$((n + 1))
			run --separate-stderr timeout 120 $PY3 "$ROOT/python/examples/triage.py" "$CORES/$id/$s.core"
			[ "$status" -eq 0 ] || { echo "$id/$s: exit $status: $output $stderr"; bad=1; continue; }
			printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/triage.out"
			run $PY3 "$PYTRUTH" triage "$BATS_TEST_TMPDIR/triage.out" "$CORES/$id/$s.core"
			[ "$status" -eq 0 ] || { echo "$id/$s: $output"; cat "$BATS_TEST_TMPDIR/triage.out"; bad=1; }
		done
	done
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

@test "python: the library is found from OBJINSPECT_LIB, load_library(PATH), next to an installed package; a superset library works; others are refused" {
	local id core dir=$BATS_TEST_TMPDIR
	id=$(ids | tail -1)
	core=$CORES/$id/cache_leak.core
	need_core "$core"
	local want; want=$(oi "$core" count CacheEntry)
	# an installed layout: PREFIX/lib/libinspect.so and PREFIX/lib/python3/dist-packages/objinspect
	mkdir -p "$dir/prefix/lib/python3/dist-packages"
	cp -r "$ROOT/python/objinspect" "$dir/prefix/lib/python3/dist-packages/"
	cp "$BUILD/libinspect.so" "$dir/prefix/lib/libinspect.so"
	run env -u OBJINSPECT_LIB PYTHONPATH="$dir/prefix/lib/python3/dist-packages" $PY3 -c '
import objinspect, sys
print(objinspect.library_path())
print(objinspect.open_core(sys.argv[1]).count("CacheEntry"))' "$core"
	assert_ok
	[ "$output" = "$(printf '%s\n%s' "$dir/prefix/lib/libinspect.so" "$want")" ] || { echo "$output"; false; }
	# next to the package
	cp "$BUILD/libinspect.so" "$dir/prefix/lib/python3/dist-packages/objinspect/libinspect.so"
	run env -u OBJINSPECT_LIB PYTHONPATH="$dir/prefix/lib/python3/dist-packages" $PY3 -c '
import objinspect; print(objinspect.library_path())'
	[ "$output" = "$dir/prefix/lib/python3/dist-packages/objinspect/libinspect.so" ] || { echo "$output"; false; }
	# OBJINSPECT_LIB, a file or a directory, wins over both
	run env OBJINSPECT_LIB="$BUILD" PYTHONPATH="$dir/prefix/lib/python3/dist-packages" $PY3 -c '
import objinspect; print(objinspect.library_path())'
	[ "$output" = "$BUILD/libinspect.so" ] || { echo "$output"; false; }
	# a library exporting the API and more (the CLI's), loaded by path
	if [ -f "$BUILD/libinspect-cli.so" ]; then
		run $PY3 -c '
import sys; sys.path.insert(0, sys.argv[3])
import objinspect
lib = objinspect.load_library(sys.argv[2])
h = objinspect.open_core(sys.argv[1])
print(objinspect.library_path() == sys.argv[2], h.library is lib, h.count("CacheEntry"))' "$core" "$BUILD/libinspect-cli.so" "$ROOT/python"
		assert_ok
		[ "$output" = "True True $want" ] || { echo "$output"; false; }
	fi
	# libraries without the API, and no library at all: LibraryError, one line
	run $PY3 -c '
import sys; sys.path.insert(0, sys.argv[2])
import ctypes.util, objinspect
for p in (ctypes.util.find_library("c"), sys.argv[1] + "/no-such-lib.so"):
    try:
        objinspect.load_library(p)
        print("loaded", p)
    except objinspect.LibraryError as e:
        print(e.code.name, e)' "$dir" "$ROOT/python"
	assert_ok
	printf '%s\n' "$output" | sed -n 1p | grep -q '^FAIL .*does not export libinspect.s API (no ins_' || { echo "$output"; false; }
	printf '%s\n' "$output" | sed -n 2p | grep -q "^FAIL cannot load $dir/no-such-lib.so" || { echo "$output"; false; }
	run env -u OBJINSPECT_LIB PYTHONPATH="$dir/empty" $PY3 -c '
import sys; sys.path.insert(0, sys.argv[1])
import objinspect, objinspect._capi as c
c.candidates = lambda: []
try:
    objinspect.open_core("x")
except objinspect.LibraryError as e:
    print("LibraryError", e)' "$dir/prefix/lib/python3/dist-packages"
	[[ "$output" == "LibraryError libinspect not found"* ]] || { echo "$output"; false; }
}

@test "python: docs/api.md's C example compiles against include/libinspect, links with the library and answers as the CLI" {
	local id core dir=$BATS_TEST_TMPDIR
	id=$(ids | tail -1)
	core=$CORES/$id/cache_leak.core
	need_core "$core"
	awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$ROOT/docs/api.md" > "$dir/example.c"
	[ -s "$dir/example.c" ] || { echo "no C example in docs/api.md"; false; }
	run cc -std=c11 -Wall -Werror ${PYPRE:+-fsanitize=address,undefined} -I "$ROOT/include" -o "$dir/example" "$dir/example.c" \
		-L "$BUILD" -linspect -Wl,-rpath,"$BUILD"
	assert_ok
	run timeout 60 "$dir/example" "$core"
	assert_ok
	local want
	want=$(oi "$core" types --limit 10 --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print("Python %s, %d objects" % (d["python"], d["objects"]))
for r in d["types"]:
    print("%-30s %8d" % (r["type"], r["count"]))')
	[ "$output" = "$want" ] || { diff <(echo "$want") <(echo "$output"); false; }
}

@test "python: a stopped process and its gcore: attach(pid), a reader of /proc/PID/mem and docs/api.md's GDB example answer as open_core" {
	local dir=$BATS_TEST_TMPDIR out=$BATS_TEST_TMPDIR/live.out py
	py=$("$ROOT/corefixtures/interpreters" | awk '$1 !~ /^debian/ && $1 !~ /^2\./ && NF == 2 { p = $2 } END { print p }')
	[ -n "$py" ] || skip "no interpreter to run a live scenario"
	command -v gcore >/dev/null || skip "no gcore"
	mkfifo "$dir/in"
	"$py" -E -B -s "$ROOT/corefixtures/scenarios/graph.py" "$dir/live" --live < "$dir/in" > "$out" 2>&1 &
	local pid=$!
	exec 7> "$dir/in"
	for _ in $(seq 100); do grep -q READY "$out" && break; sleep 0.1; done
	grep -q READY "$out" || { kill $pid; cat "$out"; false; }
	kill -STOP $pid
	timeout 120 gcore -o "$dir/stop" $pid >/dev/null 2>&1
	run $PY3 "$PYTRUTH" samestop $pid "$dir/stop.$pid" "$dir/live.truth.json"
	local st=$status res=$output state
	state=$(sed -n 's/^State:\s*\(\S\).*/\1/p' /proc/$pid/status)
	# docs/api.md's GDB example, in GDB attached to the process (not with an ASan library)
	[ -z "$PYPRE" ] && run env PYTRUTH_ARGS="$(printf '%s\n' samestop $pid "$dir/stop.$pid" "$dir/live.truth.json" gdb)" \
		timeout 300 gdb -batch -nx -iex 'set debuginfod enabled off' -p $pid -ex "source $PYTRUTH"
	local gst=1 gres=$output
	printf '%s\n' "$output" | grep -qx 'PYTRUTH-STATUS 0' && gst=0
	[ -n "$PYPRE" ] && gst=0
	kill -CONT $pid; kill $pid; exec 7>&-
	[ "$state" = T ] || { echo "the process is not left stopped after attach: state $state"; false; }
	[ "$st" -eq 0 ] || { echo "$res"; false; }
	[ "$gst" -eq 0 ] || { printf '%s\n' "$gres" | grep -v '^\[\|^Reading\|^Using\|^0x\|^warning: File\|auto-load' | tail -20; false; }
}

@test "python: Heap.tasks() and Heap.greenlets() are the CLI's tasks --all --json and stacks --greenlets --json, on every interpreter's asyncio and greenlet cores" {
	local id sysroot core n=0
	while read -r id _ sysroot; do
		for core in "$CORES/$id/asyncio_tasks.core" "$CORES/$id/asyncio_pure.core" "$CORES/$id/greenlets.core"; do
			[ -f "$core" ] || continue
			n=$((n + 1))
			local cli
			case $core in
			*greenlets.core) cli=$(oi "$core" stacks --greenlets --locals --json 2>/dev/null) ;;
			*) cli=$(oi "$core" tasks --all --json 2>/dev/null) ;;
			esac
			run $PY3 -c '
import json, sys
sys.path.insert(0, sys.argv[4])
import objinspect
core, sysroot, cli = sys.argv[1], sys.argv[2] or None, json.loads(sys.argv[3])
h = objinspect.open_core(core, sysroot=sysroot)
hexa = lambda o: "0x%x" % o.address if o is not None else None
if core.endswith("greenlets.core"):
    got = [{"address": hexa(g.object), "type": g.type,
            "frames": [[f.function, f.file, f.line, sorted(f.locals)] for f in g.frames]} for g in h.greenlets(locals=True)]
    want = [{"address": g["address"], "type": g["type"],
             "frames": [[f["function"], f["file"], f["line"], sorted(f["locals"])] for f in g["frames"]]} for g in cli["greenlets"]]
    if len(want) != 3:
        sys.exit("the CLI lists %d greenlets" % len(want))
else:
    got = [{"address": hexa(t.object), "name": t.name, "state": t.state, "coro": t.coro,
            "await_chain": [{"function": s.function, "qualname": s.qualname, "file": s.file, "line": s.line} for s in t.await_chain],
            "waits_on": hexa(t.waits_on), "awaiting": hexa(t.awaiting), "awaited_by": [hexa(a) for a in t.awaited_by],
            "loop": hexa(t.loop), "thread_id": t.thread_id} for t in h.tasks(all=True)]
    want = [{"address": t["address"], "name": t["name"], "state": t["state"], "coro": t["coro"],
             "await_chain": t["await_chain"], "waits_on": t["waits_on"] and t["waits_on"]["address"],
             "awaiting": t["awaiting"], "awaited_by": t["awaited_by"], "loop": t["loop"], "thread_id": t["thread_id"]}
            for t in cli["tasks"]]
    groups = sorted(set((t.coro, t.waiting_on) for t in h.tasks(all=True)))
    if groups != sorted(set((g["coro"], g["waiting_on"]) for g in cli["summary"])):
        sys.exit("waiting_on %s, the summary says %s" % (groups, cli["summary"]))
if got != want or not got:
    sys.exit("package:\n%s\nCLI:\n%s" % (got, want))' "$core" "${sysroot:-}" "$cli" "$ROOT/python"
			[ "$status" -eq 0 ] || { echo "$id $(basename "$core"): $output"; return 1; }
		done
	done < <("$ROOT/corefixtures/interpreters")
	[ "$n" -gt 0 ] || skip "no asyncio or greenlet cores in $CORES (make fixtures)"
	echo "$n cores checked"
}

@test "python: Heap.allocations(), Object.traceback() and Heap.suspects()' allocated_at are the CLI's allocations --json (by lineno, filename, traceback), at --json's traceback and suspects --json's allocated_at, on every interpreter's tracemalloc core" {
	local id sysroot core n=0
	while read -r id _ sysroot; do
		core=$CORES/$id/tracemalloc_sites.core
		[ -f "$core" ] || continue
		n=$((n + 1))
		local g cli=()
		for g in lineno filename traceback; do
			oi "$core" allocations --group-by $g --limit 0 --json > "$BATS_TEST_TMPDIR/$g.json" 2>/dev/null
			cli+=("$BATS_TEST_TMPDIR/$g.json")
		done
		oi "$core" suspects --threshold 0 --limit 30 --json > "$BATS_TEST_TMPDIR/suspects.json" 2>/dev/null
		cli+=("$BATS_TEST_TMPDIR/suspects.json")
		run $PY3 -c '
import json, subprocess, sys
sys.path.insert(0, sys.argv[3])
import objinspect
core, sysroot, oi, truth = sys.argv[1], sys.argv[2] or None, sys.argv[4], sys.argv[5]
h = objinspect.open_core(core, sysroot=sysroot)
for key, path in zip(("lineno", "filename", "traceback"), sys.argv[6:9]):
    cli, a = json.load(open(path)), h.allocations(key)
    if a.available != cli["available"] or (cli["available"] and (a.traced_bytes, a.traced_blocks) != (cli["traced_bytes"], cli["traced_blocks"])):
        sys.exit("%s: %s, the CLI says %s" % (key, a[:5], dict((k, cli.get(k)) for k in ("available", "traced_bytes", "traced_blocks"))))
    got = [{"file": g.file, "line": g.line, "size": g.size, "count": g.count} for g in a.groups]
    want = [{"file": r["file"], "line": r["line"], "size": r["size"], "count": r["count"]} for r in cli["top"]]
    if key == "traceback":
        got = [dict(d, traceback=[list(f) for f in g.traceback]) for d, g in zip(got, a.groups)]
        want = [dict(d, traceback=[[f["file"], f["line"]] for f in r["traceback"]]) for d, r in zip(want, cli["top"])]
    if got != want:
        sys.exit("%s: the package has %d groups, the CLI %d; first difference %s" % (
            key, len(got), len(want), next(((x, y) for x, y in zip(got, want) if x != y), None)))
objs = json.load(open(truth)).get("tracemalloc", {}).get("objects") or {}
for name, o in sorted(objs.items()):
    at = json.loads(subprocess.run([oi] + (["--sysroot", sysroot] if sysroot else []) + [core, "at", o["address"], "--json"],
                                   stdout=subprocess.PIPE, check=True, timeout=60).stdout)
    want = [(f["file"], f["line"]) for f in at["traceback"]] if at.get("traceback") else None
    if h.traceback(int(o["address"], 16)) != want:
        sys.exit("%s: traceback %s, at says %s" % (name, h.traceback(int(o["address"], 16)), want))
cli = json.load(open(sys.argv[9]))["suspects"]
got = [("0x%x" % s.accumulation.address, s.type, s.allocated_at and list(s.allocated_at))
       for s in h.suspects(threshold=0, limit=30)]
want = [(s["accumulation"]["address"], s["accumulated"]["type"], s["accumulated"]["allocated_at"] and
         [s["accumulated"]["allocated_at"][k] for k in ("file", "line", "count")]) for s in cli]
if got != want:
    sys.exit("suspects: the package says %s, the CLI %s" % (got, want))
if json.load(open(sys.argv[6]))["available"] and not any(w[2] for w in want):
    sys.exit("suspects: tracemalloc traces, yet no suspect says where what accumulates was allocated: %s" % want)' \
			"$core" "${sysroot:-}" "$ROOT/python" "$OBJINSPECT" "$CORES/$id/tracemalloc_sites.truth.json" "${cli[@]}"
		[ "$status" -eq 0 ] || { echo "$id: $output"; return 1; }
	done < <("$ROOT/corefixtures/interpreters")
	[ "$n" -gt 0 ] || skip "no tracemalloc cores in $CORES (make fixtures)"
	echo "$n cores checked"
}
