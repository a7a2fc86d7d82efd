# helpers.bash -- shared by every suite. tests/run exports ROOT, BUILD, OBJINSPECT, CORES.
: "${ROOT:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${BUILD:=$ROOT/build}"
: "${OBJINSPECT:=$BUILD/objinspect}"
: "${CORES:=$BUILD/cores}"
CHECK="$ROOT/tests/lib/check.py"
PYTHON_HOST=/usr/bin/python3   # runs the test helpers, not a target

# objinspect with a time bound: no command may hang.
oi() { timeout 60 "$OBJINSPECT" "$@"; }

# gdb in batch mode with the extension loaded; extra arguments are gdb's. The extension loads
# the libinspect-cli.so of the build under test ($BUILD), not whatever build/ holds. GDB
# deadlocks at startup when ASan's runtime is preloaded into it, which an ASan library needs:
# for an ASan build (make test-asan) it loads the UBSan build beside it ($BUILD/gdb-ubsan).
gdb_batch() {
	local lib="${OBJGRAPH_LIB_DIR:-$BUILD}"
	if nm -D "$lib/libinspect-cli.so" 2>/dev/null | grep -q ' U __asan_init'; then
		[ -f "$lib/gdb-ubsan/libinspect-cli.so" ] || { echo "error: $lib is an ASan build and $lib/gdb-ubsan has no UBSan build for GDB (make test-asan builds it)"; return 1; }
		lib="$lib/gdb-ubsan"
	fi
	OBJGRAPH_LIB_DIR="$lib" timeout 120 gdb -batch -nx -iex 'set debuginfod enabled off' \
		-ex "source $ROOT/gdbext/objgraph.py" "$@"
}

# A scenario's core and truth for interpreter id: core_of ID SCENARIO [SUFFIX]
core_of() { echo "$CORES/$1/$2${3:+.$3}.core"; }
truth_of() { echo "$CORES/$1/$2${3:+.$3}.truth.json"; }
truth() { "$PYTHON_HOST" "$CHECK" get "$@"; }

# Skips (with one clear line) when a fixture does not exist for this interpreter.
need_core() {
	[ -f "$1" ] || skip "no fixture $(basename "$(dirname "$1")")/$(basename "$1") (scenario not available for this interpreter)"
}

# Fails with the output shown.
assert_ok() { if [ "$status" -ne 0 ]; then echo "exit $status: $output"; return 1; fi; }
# Bad input: one clear line, nonzero exit, no crash (exit < 128 is not a signal).
assert_clean_error() {
	[ "$status" -ne 0 ] || { echo "expected failure, got exit 0: $output"; return 1; }
	[ "$status" -lt 124 ] || { echo "crashed or hung: exit $status: $output"; return 1; }
	[ "$(printf '%s\n' "$output" | grep -c 'error')" -ge 1 ] || { echo "no error line: $output"; return 1; }
	if [ -n "${1:-}" ]; then printf '%s\n' "$output" | grep -q -- "$1" || { echo "error does not mention '$1': $output"; return 1; }; fi
}
