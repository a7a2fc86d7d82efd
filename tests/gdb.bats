#!/usr/bin/env bats
# gdb.bats -- the GDB front end itself: help texts from the command table, completion of
# options and of type names (from the heap), errors as GDB errors.

load helpers

setup() {
	ID=$("$ROOT/corefixtures/interpreters" | head -1 | cut -d' ' -f1)
	CORE=$(core_of "$ID" cache_leak)
	need_core "$CORE"
	EXE=$(cat "$CORES/$ID/exe")
}

@test "gdb: every command of the table is registered with its help" {
	run gdb_batch -ex 'help objgraph-types' -ex 'help objgraph-count' -ex 'help objgraph-by-type' \
		-ex 'help objgraph-at' -ex 'help objgraph-growth' -ex 'help objgraph-gc' -ex 'help objgraph-info'
	assert_ok
	for c in types count by-type at growth gc info; do
		printf '%s\n' "$output" | grep -q "^Usage: objgraph-$c" || { echo "no help for objgraph-$c: $output"; false; }
	done
}

@test "gdb: options complete, GDB's word breaks at '-' notwithstanding" {
	run gdb_batch -ex 'complete objgraph-types --li' -ex 'complete objgraph-growth --new' "$EXE" "$CORE"
	assert_ok
	printf '%s\n' "$output" | grep -qx 'objgraph-types --limit'
	printf '%s\n' "$output" | grep -qx 'objgraph-growth --new-ids'
}

@test "gdb: TYPE completes from the type names in the heap" {
	run gdb_batch -ex 'complete objgraph-count CacheEn' -ex 'complete objgraph-by-type Handl' "$EXE" "$CORE"
	assert_ok
	printf '%s\n' "$output" | grep -qx 'objgraph-count CacheEntry'
	printf '%s\n' "$output" | grep -qx 'objgraph-by-type Handler'
}

@test "gdb: without a process or core, one error line" {
	run gdb_batch -ex 'objgraph-types'
	[ "$status" -ne 0 ]
	printf '%s\n' "$output" | grep -q 'no process and no core file'
}
