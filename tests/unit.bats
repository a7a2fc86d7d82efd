#!/usr/bin/env bats
# unit.bats -- the C unit tests in tests/unit/: each is compiled against $BUILD/libinspect.a
# with the Makefile's warning flags, run, and must print no FAIL line and exit 0. When
# the library was built with sanitizers (make test-asan), the tests are built with the
# same ones.

load helpers

# cc_unit NAME: compiles tests/unit/NAME.c into $BATS_TEST_TMPDIR/NAME.
cc_unit() {
	local lib=$BUILD/libinspect.a san=""
	[ -f "$lib" ] || { echo "no $lib (run make)"; return 1; }
	# the sanitizers the library was built with, which the program must link too
	nm "$lib" 2>/dev/null | grep -q ' U __asan_' && san="$san,address"
	nm "$lib" 2>/dev/null | grep -q ' U __ubsan_' && san="$san,undefined"
	# shellcheck disable=SC2086 # CFLAGS and the sanitizer flags are word lists
	run ${CC:-cc} -std=c11 -Wall -Wextra -Werror ${CFLAGS:--O2 -g} \
		${san:+-fsanitize=${san#,} -fno-sanitize-recover=all -fno-omit-frame-pointer} \
		-I"$ROOT/include" $(printf -- '-I%s ' "$ROOT"/libinspect/*/) "$ROOT/tests/unit/$1.c" "$lib" -lelf -lunicorn -lm -o "$BATS_TEST_TMPDIR/$1"
	if [ "$status" -ne 0 ]; then echo "compiling $1.c failed: $output"; return 1; fi
}

# run_unit NAME: compiles and runs it; every line it prints is shown on failure.
run_unit() {
	cc_unit "$1" || return 1
	run timeout 120 "$BATS_TEST_TMPDIR/$1" "$BATS_TEST_TMPDIR"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ] || { echo "$1 exited $status"; return 1; }
	! printf '%s\n' "$output" | grep -q '^FAIL' || { echo "$1 printed FAIL lines"; return 1; }
	printf '%s\n' "$output" | grep -q '^ok' || { echo "$1 checked nothing"; return 1; }
	! printf '%s\n' "$output" | grep -qE 'runtime error:|Sanitizer' || { echo "$1: sanitizer report"; return 1; }
}

@test "unit: image reads are bounds-checked (segments, gaps, address 0, UINT64_MAX, files, cstr)" {
	run_unit image_bounds
}

@test "unit: hashmap holds 100000 keys, missing keys are absent" {
	run_unit hashmap
}

@test "unit: the tracked-only graph's address directory finds each of 200000 addresses (duplicates, chunk edges, 0, the top) and nothing else" {
	run_unit addrdir
}

@test "unit: JSON escaping (quotes, backslash, control characters, invalid and valid UTF-8)" {
	run_unit json_escape
}

# The public API (libinspect.h) answers what objinspect answers, on the fixture cores of every
# interpreter (corefixtures/interpreters, INTERPRETERS= limits them): tests/unit/api.c prints
# the API's answers as JSON lines and checks its error paths, tests/lib/apicheck.py runs
# objinspect --json on the same core and compares.
@test "unit: the public API answers as objinspect does (types, count, at, refs, backrefs, chain, cycles, gc, stacks...)" {
	cc_unit api || return 1
	local id sc core n=0
	while read -r id _; do
		for sc in cache_leak garbage27 threads; do
			core=$CORES/$id/$sc.core
			[ -f "$core" ] || continue
			n=$((n + 1))
			run timeout 300 "$BATS_TEST_TMPDIR/api" "$BATS_TEST_TMPDIR" "$core"
			printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/api-$id-$sc.out"
			[ "$status" -eq 0 ] || { printf '%s\n' "$output" | grep -v '^{'; echo "api $id/$sc exited $status"; return 1; }
			! printf '%s\n' "$output" | grep -qE 'runtime error:|Sanitizer' || { echo "api $id/$sc: sanitizer report"; return 1; }
			run "$PYTHON_HOST" "$ROOT/tests/lib/apicheck.py" "$BATS_TEST_TMPDIR/api-$id-$sc.out" "$core" "$OBJINSPECT"
			[ "$status" -eq 0 ] || { printf '%s\n' "$output" | grep -v '^ok'; echo "API and objinspect differ on $id/$sc"; return 1; }
		done
	done < <("$ROOT/corefixtures/interpreters")
	[ "$n" -gt 0 ] || skip "no fixture cores in $CORES (make fixtures)"
	echo "$n cores compared"
}

# The dominator tree (libinspect/analysis/dominators.c) against brute force on a small core of
# every interpreter: for every node x, drop x and mark from the roots; what is left unmarked
# must be exactly x's dominator subtree (tests/unit/dominators.c, over the internal API).
@test "unit: the asyncio awaited-by forest and summary (a gather, a task two tasks await, tasks awaiting each other in a loop)" {
	run_unit tasks_forest
}

@test "unit: the dominator tree equals brute force (drop x, mark from the roots) for every node" {
	cc_unit dominators || return 1
	local id sysroot core n=0
	while read -r id _ sysroot; do
		core=$CORES/$id/cache_leak.core
		[ -f "$core" ] || continue
		n=$((n + 1))
		run timeout 300 "$BATS_TEST_TMPDIR/dominators" "$BATS_TEST_TMPDIR" "$core" "${sysroot:-}"
		printf '%s: %s\n' "$id" "$output"
		[ "$status" -eq 0 ] || { echo "dominators $id exited $status"; return 1; }
		! printf '%s\n' "$output" | grep -q '^FAIL' || return 1
		! printf '%s\n' "$output" | grep -qE 'runtime error:|Sanitizer' || { echo "dominators $id: sanitizer report"; return 1; }
	done < <("$ROOT/corefixtures/interpreters")
	[ "$n" -gt 0 ] || skip "no fixture cores in $CORES (make fixtures)"
	echo "$n cores checked"
}
