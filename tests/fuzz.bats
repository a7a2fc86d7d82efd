#!/usr/bin/env bats
# fuzz.bats -- damaged and hostile cores (tests/fuzz, docs/reliability.md) against the build
# under test: every recipe of tests/fuzz/regressions.txt (failures fuzz campaigns found, kept
# as edits to a fixture core, never as a core) must now end in an answer, a warning or one
# clean error line within the time and memory limits; then a short campaign of new random
# damage (FUZZ_SECONDS, default 60; 0 skips it) must find nothing. A recipe whose
# interpreter or scenario has no core under $CORES is skipped.

load helpers

FUZZ="$ROOT/tests/fuzz/fuzz.py"

@test "fuzz regressions: every recipe ends in an answer, a warning or a clean error" {
	[ -x "$OBJINSPECT" ] || skip "no $OBJINSPECT"
	run "$PYTHON_HOST" "$FUZZ" replay --build "$BUILD" --cores "$CORES" \
		--list "$ROOT/tests/fuzz/regressions.txt" --timeout 60
	echo "$output"
	[ "$status" -eq 0 ]
	case "$output" in
	*"replay: 0 passed"*) skip "no recipe has its core under $CORES" ;;
	esac
}

# The campaign in make test is seeded (FUZZ_SEED, default 1) so that a run is repeatable and
# CI's verdict does not depend on luck; `make fuzz` draws a new seed each time.
@test "fuzz campaign of ${FUZZ_SECONDS:-60} s over the fixture cores finds nothing" {
	[ "${FUZZ_SECONDS:-60}" -gt 0 ] || skip "FUZZ_SECONDS=0"
	ls "$CORES"/*/cache_leak.core >/dev/null 2>&1 || skip "no fixture cores under $CORES"
	run "$PYTHON_HOST" "$FUZZ" campaign --build "$BUILD" --cores "$CORES" \
		--seconds "${FUZZ_SECONDS:-60}" --seed "${FUZZ_SEED:-1}" --work "$BATS_TEST_TMPDIR/fuzz" --timeout 60
	echo "$output"
	[ "$status" -eq 0 ]
}
