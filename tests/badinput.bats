#!/usr/bin/env bats
# badinput.bats -- objinspect (and the GDB commands) on input that is wrong: files that are
# not cores, cores that are not Python, the wrong executable, a missing library, corrupted
# GC lists, unknown names and addresses, bad arguments. Each must end with one clear
# `error:` line and the exit status inspect.h's enum ins_code gives that kind of failure
# -- never a crash, never a hang (oi has a timeout) -- or, for a damaged heap, with a
# warning and the objects read before the damage.
# Expectations come from the truth files and from how each bad input is made.

load helpers
bats_require_minimum_version 1.5.0

# enum ins_code (include/libinspect/errors.h)
E_USAGE=2 E_INPUT=3 E_NOT_PYTHON=4 E_UNSUPPORTED=5 E_NOT_FOUND=6 E_CORRUPT=7 E_MISMATCH=8 E_OS=9
CORRUPT="$ROOT/tests/lib/corrupt.py"

# The interpreter ids, in corefixtures/interpreters' order.
ids() { "$ROOT/corefixtures/interpreters" | cut -d' ' -f1; }

# any_fixture SCENARIO: sets ID, CORE and TRUTH to the first interpreter that has that
# scenario's core; fails when none has.
any_fixture() {
	local id
	for id in $(ids); do
		if [ -f "$(core_of "$id" "$1")" ]; then
			ID=$id CORE=$(core_of "$id" "$1") TRUTH=$(truth_of "$id" "$1")
			return 0
		fi
	done
	echo "no $1 core for any interpreter under $CORES (run corefixtures/gen-cores)"
	return 1
}

# py EXPR: evaluates a Python expression with d = the JSON document on stdin, prints it.
py() { "$PYTHON_HOST" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# one_error CODE [TEXT...]: the last `run --separate-stderr` exited with CODE (not a
# signal, not the timeout), printed nothing on stdout and exactly one line on stderr, an
# `error:` line containing every TEXT.
one_error() {
	local code=$1 t
	shift
	if [ "$status" -ge 124 ]; then echo "crashed or hung: exit $status: $stderr"; return 1; fi
	if [ "$status" -ne "$code" ]; then echo "exit $status, expected $code: $stderr"; return 1; fi
	if [ -n "$output" ]; then echo "unexpected output on stdout: $output"; return 1; fi
	if [ "${#stderr_lines[@]}" -ne 1 ]; then echo "expected one line on stderr, got ${#stderr_lines[@]}: $stderr"; return 1; fi
	case "${stderr_lines[0]}" in
	"error: "?*) ;;
	*) echo "not an error line: $stderr"; return 1 ;;
	esac
	for t in "$@"; do
		case "$stderr" in
		*"$t"*) ;;
		*) echo "error does not mention '$t': $stderr"; return 1 ;;
		esac
	done
}

# sleep_core: a core of a program with no Python in it (sleep), made once per file.
sleep_core() {
	local core=$BATS_FILE_TMPDIR/sleep.core pid i rc bin
	if [ ! -f "$core" ]; then
		bin=$(readlink -f "$(command -v sleep)")
		sleep 100 </dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		for i in $(seq 200); do  # until the forked shell has exec'd sleep
			[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin" ] && break
			sleep 0.05
		done
		timeout 60 gcore -o "$BATS_FILE_TMPDIR/sleep" "$pid" >"$BATS_FILE_TMPDIR/gcore.log" 2>&1
		rc=$?
		kill "$pid"
		wait "$pid" 2>/dev/null
		[ "$rc" -eq 0 ] && mv "$BATS_FILE_TMPDIR/sleep.$pid" "$core" ||
			{ echo "gcore of sleep failed (exit $rc): $(cat "$BATS_FILE_TMPDIR/gcore.log")" >&2; return 1; }
	fi
	echo "$core"
}

# build_id FILE: the GNU build-id of an ELF file, as readelf shows it.
build_id() { readelf -n "$1" | sed -n 's/^ *Build ID: *//p' | head -1; }

# ---- files that are not cores ---------------------------------------------------------

@test "an empty file: one error line, exit 3 (input)" {
	: > "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr oi "$BATS_TEST_TMPDIR/empty" types
	one_error $E_INPUT "$BATS_TEST_TMPDIR/empty" empty
}

@test "a truncated core (a real core cut in half, and shorter): exit 3 (input)" {
	any_fixture cache_leak
	local size n
	size=$(stat -c %s "$CORE")
	for n in $((size / 2)) 4096 100 10; do
		head -c "$n" "$CORE" > "$BATS_TEST_TMPDIR/cut.core"
		run --separate-stderr oi "$BATS_TEST_TMPDIR/cut.core" types
		one_error $E_INPUT "$BATS_TEST_TMPDIR/cut.core" || { echo "  ^ $ID core cut to $n of $size bytes"; return 1; }
	done
	# the cut at half the size is reported as a truncation
	head -c $((size / 2)) "$CORE" > "$BATS_TEST_TMPDIR/cut.core"
	run --separate-stderr oi "$BATS_TEST_TMPDIR/cut.core" types
	one_error $E_INPUT truncated
}

@test "a file that is not ELF (random text): exit 3 (input)" {
	head -c 3000 /dev/urandom | base64 > "$BATS_TEST_TMPDIR/text"
	run --separate-stderr oi "$BATS_TEST_TMPDIR/text" types
	one_error $E_INPUT "$BATS_TEST_TMPDIR/text" "not an ELF"
}

@test "an ELF executable that is not a core (/bin/sleep): exit 3 (input)" {
	run --separate-stderr oi /bin/sleep types
	one_error $E_INPUT /bin/sleep "not a core"
}

@test "a core of a program with no Python in it: exit 4 (not Python)" {
	local core
	core=$(sleep_core)
	run --separate-stderr oi "$core" types
	one_error $E_NOT_PYTHON "no CPython interpreter" "$core" "$(readlink -f "$(command -v sleep)")"
	# the right executable given explicitly changes nothing
	run --separate-stderr oi --exe /bin/sleep "$core" count dict
	one_error $E_NOT_PYTHON "no CPython interpreter"
}

# ---- the wrong files on disk --------------------------------------------------------

@test "--exe of another Python (3.11 core, 3.12 python): exit 8 (mismatch), names the file" {
	need_core "$(core_of 3.11.7 cache_leak)"
	[ -f "$CORES/3.12.1/exe" ] || skip "no CPython 3.12.1"
	local core right wrong
	core=$(core_of 3.11.7 cache_leak)
	right=$(cat "$CORES/3.11.7/exe")
	wrong=$(cat "$CORES/3.12.1/exe")
	# control: the executable the process ran is accepted
	run --separate-stderr oi --exe "$right" "$core" count CacheEntry
	assert_ok
	[ "$output" = "$(truth "$(truth_of 3.11.7 cache_leak)" types.CacheEntry)" ]
	# another build: refused, naming it and both build-ids
	run --separate-stderr oi --exe "$wrong" "$core" count CacheEntry
	one_error $E_MISMATCH "$wrong" "build-id $(build_id "$wrong")" "has $(build_id "$right")"
}

@test "--exe of another Python when the interpreter is in the executable (debian-3.11): exit 8" {
	need_core "$(core_of debian-3.11 cache_leak)"
	[ -f "$CORES/3.12.1/exe" ] || skip "no CPython 3.12.1"
	local core right wrong
	core=$(core_of debian-3.11 cache_leak)
	right=$(cat "$CORES/debian-3.11/exe")
	wrong=$(cat "$CORES/3.12.1/exe")
	run --separate-stderr oi --exe "$right" "$core" count CacheEntry
	assert_ok
	[ "$output" = "$(truth "$(truth_of debian-3.11 cache_leak)" types.CacheEntry)" ]
	run --separate-stderr oi --exe "$wrong" "$core" count CacheEntry
	one_error $E_MISMATCH "$wrong" "build-id $(build_id "$wrong")" "has $(build_id "$right")"
}

@test "--exe that does not exist, or is not ELF: exit 3 (input), names the file" {
	any_fixture cache_leak
	run --separate-stderr oi --exe "$BATS_TEST_TMPDIR/no-such-python" "$CORE" count CacheEntry
	one_error $E_INPUT "$BATS_TEST_TMPDIR/no-such-python"
	echo "not a program" > "$BATS_TEST_TMPDIR/python"
	run --separate-stderr oi --exe "$BATS_TEST_TMPDIR/python" "$CORE" count CacheEntry
	one_error $E_INPUT "$BATS_TEST_TMPDIR/python"
}

# make_sysroot CORE DIR [SKIP]: DIR holds, under the names the core's NT_FILE note gives,
# symlinks to every mapped file that exists here, except those whose name matches SKIP.
make_sysroot() {
	local f
	while IFS= read -r f; do
		[ -e "$f" ] || continue
		[ -n "${3:-}" ] && [[ "$(basename "$f")" == $3 ]] && continue
		mkdir -p "$2$(dirname "$f")"
		ln -sf "$f" "$2$f"
	done < <("$PYTHON_HOST" "$CORRUPT" files "$1")
}

@test "--sysroot without libpython: exit 3 (input), names libpython" {
	local id core lib n=0
	for id in $(ids); do
		core=$(core_of "$id" cache_leak)
		[ -f "$core" ] || continue
		lib=$("$PYTHON_HOST" "$CORRUPT" files "$core" | grep '/libpython[^/]*$' | head -1)
		[ -n "$lib" ] || continue  # a statically linked interpreter (debian-3.11)
		n=$((n + 1))
		rm -rf "$BATS_TEST_TMPDIR/root"
		make_sysroot "$core" "$BATS_TEST_TMPDIR/root" 'libpython*'
		[ ! -e "$BATS_TEST_TMPDIR/root$lib" ]
		run --separate-stderr oi --sysroot "$BATS_TEST_TMPDIR/root" "$core" count CacheEntry
		one_error $E_INPUT "$BATS_TEST_TMPDIR/root$lib" || { echo "  ^ $id"; return 1; }
		# control: the same sysroot with libpython in it works
		make_sysroot "$core" "$BATS_TEST_TMPDIR/root"
		run --separate-stderr oi --sysroot "$BATS_TEST_TMPDIR/root" "$core" count CacheEntry
		assert_ok || { echo "  ^ $id, libpython present"; return 1; }
		[ "$output" = "$(truth "$(truth_of "$id" cache_leak)" types.CacheEntry)" ] ||
			{ echo "$id: count $output with the complete sysroot"; return 1; }
	done
	[ "$n" -gt 0 ] || skip "no interpreter with a shared libpython"
}

@test "a CPython with no layout (Py_Version says 3.16.0): exit 5 (unsupported), one line" {
	# A libpython 3.11 whose Py_Version reads 0x031000f0 (3.16.0 final), in a sysroot:
	# Py_Version is in .rodata, which the core does not hold, so it is read from that file.
	local id=3.11.7 core lib vaddr
	core=$(core_of $id cache_leak)
	need_core "$core"
	lib=$("$PYTHON_HOST" "$CORRUPT" files "$core" | grep '/libpython[^/]*$' | head -1)
	[ -n "$lib" ] || skip "the $id core maps no libpython"
	make_sysroot "$core" "$BATS_TEST_TMPDIR/root" 'libpython*'
	vaddr=0x$(readelf -sW "$lib" | awk '$8 == "Py_Version" { print $2; exit }')
	"$PYTHON_HOST" "$CORRUPT" set-u32 "$lib" "$BATS_TEST_TMPDIR/root$lib" "$vaddr" 0x031000f0
	run --separate-stderr oi --sysroot "$BATS_TEST_TMPDIR/root" "$core" types
	one_error $E_UNSUPPORTED "CPython 3.16.0" "not supported"
}

@test "a free-threaded CPython (_Py_DebugOffsets.free_threaded set): exit 5 (unsupported), one line" {
	# Debian ships no free-threaded build: a 3.14/3.15 core whose _Py_DebugOffsets says it is one
	local id core exe runtime
	for id in debian-3.14 debian-3.15; do
		core=$(core_of $id cache_leak)
		[ -f "$core" ] && break
	done
	[ -f "$core" ] || skip "no debian-3.14/3.15 core (tools/sid-root has not built its root)"
	exe=$(cat "$CORES/$id/exe")
	runtime=0x$(readelf -sW --dyn-syms "$exe" | awk '$8 == "_PyRuntime" { print $2; exit }')
	# the cookie "xdebugpy", its version, then free_threaded
	"$PYTHON_HOST" "$CORRUPT" set-u64 "$core" "$BATS_TEST_TMPDIR/ft.core" $((runtime + 16)) 1 >/dev/null
	run --separate-stderr oi "$BATS_TEST_TMPDIR/ft.core" types
	one_error $E_UNSUPPORTED "free-threaded" "not supported"
}

# ---- corrupted GC lists ---------------------------------------------------------------

# gc_corruption ID KIND: in ID's cache_leak core, the gc_next of the middle CacheEntry
# (in the order objinspect walks them) is made to point back at an earlier CacheEntry
# (KIND=loop) or into unmapped memory (KIND=wild). The CacheEntry objects are all created
# after gc.disable(), so all of them, in order, are in one generation: the walk must stop
# right after the damaged one with a warning naming the bad link, and still report every
# object before it.
gc_corruption() {
	local id=$1 kind=$2 core truth hs objs n k target earlier bad value gen last warn before after read_n
	core=$(core_of "$id" cache_leak)
	truth=$(truth_of "$id" cache_leak)
	need_core "$core"
	[ -f "$truth" ] || { echo "no truth file $truth"; return 1; }
	# PyGC_Head: 3 words padded to 32 bytes (long double alignment) up to 3.7, 2 words from 3.8
	hs=$(truth "$truth" version_info | tr -d '[] ' | awk -F, '{ print ($1 == 2 || ($1 == 3 && $2 <= 7)) ? 32 : 16 }')

	run --separate-stderr oi "$core" by-type CacheEntry --json
	assert_ok || return 1
	objs=$(printf '%s\n' "$output" | py '" ".join(d["objects"])') || return 1
	# the undamaged core: exactly the interpreter's own CacheEntry ids
	[ "$(printf '%s\n' $objs | sort)" = "$(truth "$truth" ids.CacheEntry | tr -d '[],"' | xargs -n1 | sort)" ] ||
		{ echo "$id: by-type CacheEntry differs from the truth's ids before any damage"; return 1; }
	set -- $objs
	n=$#
	k=$((n / 2))                        # 0-based index of the damaged object
	target=${@:k+1:1}
	earlier=${@:k/2+1:1}
	last=${@:n:1}
	run --separate-stderr oi "$core" at "$target" --json
	assert_ok || return 1
	gen=$(printf '%s\n' "$output" | py 'd["generation"]') || return 1
	run --separate-stderr oi "$core" at "$last" --json
	assert_ok || return 1
	[ "$(printf '%s\n' "$output" | py 'd["generation"]')" = "$gen" ] ||
		{ echo "$id: the CacheEntry objects are not all in generation $gen"; return 1; }
	run --separate-stderr oi "$core" gc --json
	assert_ok || return 1
	before=$output

	case $kind in
	loop) value=$(printf '0x%x' $((earlier - hs))) ;;
	wild) value=0xdeadbeef000 ;;
	esac
	bad=$BATS_TEST_TMPDIR/$id-$kind.core
	"$PYTHON_HOST" "$CORRUPT" gc-next "$core" "$bad" "$target" "$hs" "$value" || return 1

	run --separate-stderr oi "$bad" by-type CacheEntry --json
	[ "$status" -eq 0 ] || [ "$status" -eq $E_CORRUPT ] || { echo "$id $kind: exit $status: $stderr"; return 1; }
	warn=$(printf '%s\n' "$stderr" | grep "^warning: GC list of generation $gen is corrupt") ||
		{ echo "$id $kind: no warning about generation $gen: $stderr"; return 1; }
	[ "$(printf '%s\n' "$warn" | wc -l)" -eq 1 ] || { echo "$id $kind: several warnings: $warn"; return 1; }
	case "$warn" in
	*" at $value:"*) ;;
	*) echo "$id $kind: the warning does not name the bad link $value: $warn"; return 1 ;;
	esac
	# every CacheEntry up to and including the damaged one, in the same order; none after
	[ "$(printf '%s\n' "$output" | py '" ".join(d["objects"])')" = "${*:1:k+1}" ] ||
		{ echo "$id $kind: objects before the damage are not all reported: $output"; return 1; }
	run --separate-stderr oi "$bad" count CacheEntry
	[ "$status" -lt 124 ] && [ "$output" = $((k + 1)) ] || { echo "$id $kind: count $output (exit $status), expected $((k + 1))"; return 1; }
	# the graph and the collection run on what could be read
	run --separate-stderr oi "$bad" cycles --json
	[ "$status" -eq 0 ] || [ "$status" -eq $E_CORRUPT ] || { echo "$id $kind: cycles: exit $status: $stderr"; return 1; }
	# the walk from both ends gives up on the damaged list and walks it alone, the traversal in
	# halves reads what can be read: the same objects and the same warning as one thread
	[ "$(OBJINSPECT_THREADS=1 oi "$bad" leaking --raw --limit 0 2>&1; echo "rc=$?")" = \
	  "$(OBJINSPECT_THREADS=2 oi "$bad" leaking --raw --limit 0 2>&1; echo "rc=$?")" ] ||
		{ echo "$id $kind: leaking --raw with two threads differs from one thread"; return 1; }

	# the damaged generation holds what the warning says was read, and lost at least the
	# CacheEntry objects after the damage; the other generations are untouched
	run --separate-stderr oi "$bad" gc --json
	[ "$status" -eq 0 ] || [ "$status" -eq $E_CORRUPT ] || { echo "$id $kind: gc: exit $status: $stderr"; return 1; }
	after=$output
	read_n=$(printf '%s\n' "$warn" | sed -n 's/.* corrupt after \([0-9]*\) objects .*/\1/p')
	"$PYTHON_HOST" - "$before" "$after" "$gen" "$read_n" $((n - k - 1)) <<-'EOF'
		import json, sys
		before, after = json.loads(sys.argv[1])["generations"], json.loads(sys.argv[2])["generations"]
		g, read_n, lost = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
		bad = []
		if after[g] != read_n:
		    bad.append("generation %d has %d objects, the warning says %d were read" % (g, after[g], read_n))
		if before[g] - after[g] < lost:
		    bad.append("generation %d lost %d objects, fewer than the %d CacheEntry after the damage" % (g, before[g] - after[g], lost))
		for i, (x, y) in enumerate(zip(before, after)):
		    if i != g and x != y:
		        bad.append("generation %d changed from %d to %d" % (i, x, y))
		print("\n".join(bad))
		sys.exit(1 if bad else 0)
	EOF
}

@test "GC list with a loop (gc_next back to an earlier object): warning, objects before it counted" {
	local id
	for id in 2.7.18 3.7.16 3.12.1; do
		gc_corruption "$id" loop || { echo "  ^ $id"; return 1; }
	done
}

@test "GC list with a wild pointer (gc_next = 0xdeadbeef000): warning, objects before it counted" {
	local id
	for id in 2.7.18 3.7.16 3.12.1; do
		gc_corruption "$id" wild || { echo "  ^ $id"; return 1; }
	done
}

# corrupt_objects ID: damages object contents (not the GC lists) in a copy of the cache_leak
# core -- one list's ob_size becomes huge (its items run into whatever follows), another
# list's ob_item a wild pointer -- and runs every graph command on it: each finishes in time
# (oi's timeout), with exit 0 or 7 (corrupt) and no crash, and nothing is read through the
# wild pointer.
corrupt_objects() {
	local id=$1 core bad lists a b c cmd
	core=$(core_of "$id" cache_leak)
	need_core "$core"
	lists=$(oi "$core" by-type list --json | "$PYTHON_HOST" -c 'import json,sys; print(" ".join(json.load(sys.stdin)["objects"][-3:]))')
	read -r a b c <<<"$lists"
	[ -n "$c" ] || { echo "$id: fewer than 3 lists"; return 1; }
	bad=$BATS_TEST_TMPDIR/$id-objects.core
	# PyListObject: ob_refcnt, ob_type, ob_size (+16), ob_item (+24) in every version
	"$PYTHON_HOST" "$CORRUPT" set-u64 "$core" "$bad" $((a + 16)) 0x7fffffff $((b + 24)) 0xdeadbeef000 >/dev/null || return 1
	for cmd in graph "refs $a" "refs $b" "backrefs $c" "chain $c" leaking refcheck "types --all" cycles garbage; do
		run --separate-stderr oi "$bad" $cmd --json
		[ "$status" -eq 0 ] || [ "$status" -eq $E_CORRUPT ] || { echo "$id $cmd: exit $status: $stderr"; return 1; }
	done
	# the list whose item array is unreadable refers to nothing
	run --separate-stderr oi "$bad" refs "$b" --json
	[ "$("$PYTHON_HOST" -c 'import json,sys; print(len(json.loads(sys.argv[1])["referents"]))' "$output")" -eq 0 ] ||
		{ echo "$id: referents read through a wild ob_item: $output"; return 1; }
}

@test "corrupt object contents (huge ob_size, wild item arrays): graph commands finish, exit 0, nothing read through wild pointers" {
	local id
	for id in 2.7.18 3.7.16 3.12.1 3.13.0; do
		corrupt_objects "$id" || { echo "  ^ $id"; return 1; }
	done
}

@test "refs, backrefs, chain of a non-object or a bad address: exit 6 or 2, one line" {
	any_fixture cache_leak
	local cmd
	for cmd in refs backrefs chain; do
		run --separate-stderr oi "$CORE" $cmd 0x10
		one_error $E_NOT_FOUND 0x10 || return 1
		run --separate-stderr oi "$CORE" $cmd notanaddress
		one_error $E_USAGE notanaddress || return 1
		run --separate-stderr oi "$CORE" $cmd
		one_error $E_USAGE missing || return 1
	done
	run --separate-stderr oi "$CORE" refs 0x10 --max-depth -1
	one_error $E_USAGE max-depth
}

# ---- names and addresses that are not there -------------------------------------------

@test "count of an unknown type: exit 6 (not found)" {
	any_fixture cache_leak
	run --separate-stderr oi "$CORE" count CacheEntry
	assert_ok
	[ "$output" = "$(truth "$TRUTH" types.CacheEntry)" ]
	run --separate-stderr oi "$CORE" count NoSuchTypeXyz
	one_error $E_NOT_FOUND NoSuchTypeXyz
	run --separate-stderr oi "$CORE" by-type NoSuchTypeXyz --json
	one_error $E_NOT_FOUND NoSuchTypeXyz
}

@test "at an address that is not an object (0x10, 0xdeadbeef000, inside an object): exit 6" {
	any_fixture cache_leak
	local obj inside a
	obj=$(truth "$TRUTH" ids.CacheEntry | tr -d '[],"' | xargs -n1 | head -1)
	# control: the object itself
	run --separate-stderr oi "$CORE" at "$obj" --json
	assert_ok
	[ "$(printf '%s\n' "$output" | py 'd["type"]')" = CacheEntry ]
	inside=$(printf '0x%x' $((obj + 8)))
	for a in 0x10 0xdeadbeef000 "$inside"; do
		run --separate-stderr oi "$CORE" at "$a"
		one_error $E_NOT_FOUND "$a" "not a Python object" || { echo "  ^ at $a"; return 1; }
	done
	run --separate-stderr oi "$CORE" at not-an-address
	one_error $E_USAGE not-an-address
}

# ---- bad arguments -------------------------------------------------------------------

@test "types --limit -3: exit 2 (usage)" {
	any_fixture cache_leak
	run --separate-stderr oi "$CORE" types --limit -3
	one_error $E_USAGE --limit "'-3'"
}

@test "types --limit abc: exit 2 (usage)" {
	any_fixture cache_leak
	run --separate-stderr oi "$CORE" types --limit abc
	one_error $E_USAGE --limit "'abc'"
}

@test "types --bogus: exit 2 (usage)" {
	any_fixture cache_leak
	run --separate-stderr oi "$CORE" types --bogus
	one_error $E_USAGE "'--bogus'"
}

@test "--limit=3 is --limit 3; a flag given a value (--json=1) and a prefix (--li): exit 2 (usage)" {
	any_fixture cache_leak
	[ "$(oi "$CORE" types --limit=3)" = "$(oi "$CORE" types --limit 3)" ]
	run --separate-stderr oi "$CORE" types --json=1
	one_error $E_USAGE "takes no value"
	run --separate-stderr oi "$CORE" types --li 3
	one_error $E_USAGE "'--li'"
}

@test "count with no TYPE: exit 2 (usage)" {
	any_fixture cache_leak
	run --separate-stderr oi "$CORE" count
	one_error $E_USAGE "missing argument"
}

@test "unknown command frobnicate: exit 2 (usage)" {
	any_fixture cache_leak
	run --separate-stderr oi "$CORE" frobnicate
	one_error $E_USAGE frobnicate
}

@test "--pid 0 and --pid notanumber: exit 2 (usage)" {
	run --separate-stderr oi --pid 0 types
	one_error $E_USAGE --pid "'0'"
	run --separate-stderr oi --pid notanumber types
	one_error $E_USAGE --pid "'notanumber'"
}

@test "--pid of a process that does not exist: exit 9 (OS)" {
	# PID_MAX_LIMIT is 4194304 on 64-bit Linux: no process ever has that pid
	run --separate-stderr oi --pid 4194304 types
	one_error $E_OS 4194304
}

# ---- the same through GDB --------------------------------------------------------------

# gdb_one_error TEXT...: the last run (gdb, merged output) failed with one line
# containing every TEXT, and no Python traceback.
gdb_one_error() {
	local t n
	if [ "$status" -ge 124 ]; then echo "gdb crashed or hung: exit $status: $output"; return 1; fi
	[ "$status" -ne 0 ] || { echo "gdb exited 0: $output"; return 1; }
	case "$output" in
	*Traceback*|*"Python Exception"*) echo "a Python exception: $output"; return 1 ;;
	esac
	n=$(printf '%s\n' "$output" | grep -cF -- "$1")
	[ "$n" -eq 1 ] || { echo "expected one line with '$1', got $n: $output"; return 1; }
	for t in "$@"; do
		printf '%s\n' "$output" | grep -F -- "$1" | grep -qF -- "$t" || { echo "no '$t' in the error: $output"; return 1; }
	done
}

@test "GDB: objgraph-types on a core of a program with no Python in it" {
	local core
	core=$(sleep_core)
	run gdb_batch -ex objgraph-types /bin/sleep "$core"
	gdb_one_error "no CPython interpreter" "$core"
}

@test "GDB: objgraph-count of an unknown type, objgraph-types with a bad option" {
	any_fixture cache_leak
	local exe
	exe=$(cat "$CORES/$ID/exe")
	run gdb_batch -ex 'objgraph-count CacheEntry' "$exe" "$CORE"
	assert_ok
	printf '%s\n' "$output" | grep -qx "$(truth "$TRUTH" types.CacheEntry)"
	run gdb_batch -ex 'objgraph-count NoSuchTypeXyz' "$exe" "$CORE"
	gdb_one_error "unknown type 'NoSuchTypeXyz'"
	run gdb_batch -ex 'objgraph-types --bogus' "$exe" "$CORE"
	gdb_one_error "unknown option '--bogus'"
}

# A C type's tp_traverse pointing at garbage: the emulated calls fail alone (code fetched
# from data, unmapped memory), their objects are scanned, the rest stays exact, and the
# command ends in time.
@test "graph on a core whose C type's tp_traverse points at data or at nothing: exit 0, objects scanned" {
	local id core task type off
	for id in 3.12.1 debian-3.11 3.8.18; do
		core=$(core_of "$id" cext)
		[ -f "$core" ] && break
	done
	[ -f "$core" ] || skip "no cext core"
	task=$(oi "$core" by-type Task --limit 1 --json | "$PYTHON_HOST" -c 'import json,sys; print(json.load(sys.stdin)["objects"][0])')
	type=$(oi "$core" refs "$task" --json | "$PYTHON_HOST" -c 'import json,sys; print([r["address"] for r in json.load(sys.stdin)["referents"] if r["edge"]=="__class__"][0])')
	off=184  # tp_traverse in PyTypeObject, every version
	local bad
	# the Task object itself, an unmapped address, the type object's own bytes
	for bad in "$task" 0x10 "$type"; do
		"$PYTHON_HOST" "$CORRUPT" set-u64 "$core" "$BATS_TEST_TMPDIR/bad.core" $((type + off)) "$bad" >/dev/null
		run --separate-stderr timeout 120 "$OBJINSPECT" "$BATS_TEST_TMPDIR/bad.core" graph --json
		[ "$status" -eq 0 ] || { echo "tp_traverse=$bad: exit $status: $stderr"; false; }
		"$PYTHON_HOST" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["emulation_failed"]>0 and d["inferred_objects"]>0, d' "$output"
		run --separate-stderr timeout 120 "$OBJINSPECT" "$BATS_TEST_TMPDIR/bad.core" refs "$task"
		[ "$status" -eq 0 ]
	done
}
