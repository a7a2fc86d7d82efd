#!/usr/bin/env bats
# gdblive.bats -- the GDB extension on processes GDB holds, reading their memory through GDB:
# a process attached natively (gdb -p) and one under gdbserver on 127.0.0.1 (target remote),
# for every interpreter. tests/lib/live_target.py builds a heap and writes what the interpreter
# says about itself (gc.get_objects() counts of its classes) at each stop; between the stops it
# grows and stops itself with SIGUSR1. Checked: each stop's counts equal the interpreter's, the
# heap is read anew after the inferior ran (one heap per stop, not per session), and the whole
# objgraph-types --json equals objinspect's on a core gcore took at the same stop.

load helpers

TARGET="$ROOT/tests/lib/live_target.py"

# start_target ID: starts the target under interpreter ID, waits for its first stop's truth;
# sets PID and DIR.
start_target() {
	local line py root
	line=$("$ROOT/corefixtures/interpreters" | awk -v id="$1" '$1 == id')
	[ -n "$line" ] || skip "no interpreter $1"
	py=$(echo "$line" | cut -d' ' -f2)
	root=$(echo "$line" | cut -s -d' ' -f3)
	DIR=$(mktemp -d "$BATS_TEST_TMPDIR/live.XXXXXX")
	"$ROOT/corefixtures/run-python" "${root:--}" "$py" -E -B -s "$TARGET" "$DIR" 2 </dev/null >"$DIR/stdout" 2>"$DIR/stderr" &
	PID=$!
	for _ in $(seq 600); do
		[ -s "$DIR/out.0.json" ] && return 0
		kill -0 "$PID" 2>/dev/null || { cat "$DIR/stderr"; return 1; }
		sleep 0.1
	done
	echo "no first stop within 60 s"; return 1
}

stop_target() {
	touch "$DIR/go.0" "$DIR/go.1" 2>/dev/null
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null || true
}

free_port() { "$PYTHON_HOST" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# live_session ID native|remote: one GDB session over two stops of the target; checks it.
live_session() {
	local id=$1 how=$2 port connect gs=""
	start_target "$id" || return 1
	if [ "$how" = remote ]; then
		port=$(free_port)
		gdbserver --attach "127.0.0.1:$port" "$PID" >"$DIR/gdbserver.log" 2>&1 &
		gs=$!
		for _ in $(seq 100); do grep -q "Listening on port" "$DIR/gdbserver.log" && break; sleep 0.1; done
		connect=(-ex "target remote 127.0.0.1:$port")
	else
		connect=(-p "$PID")
	fi
	run gdb_batch -iex 'set sysroot /' "${connect[@]}" \
		-ex 'echo @@count0\n' -ex 'objgraph-count Node' \
		-ex 'echo @@types0\n' -ex 'objgraph-types --limit 0 --json' \
		-ex 'echo @@memory0\n' -ex 'objgraph-memory --json' \
		-ex "gcore $DIR/a.core" \
		-ex "shell touch $DIR/go.0" -ex 'continue' \
		-ex 'echo @@count1\n' -ex 'objgraph-count Node' \
		-ex 'objgraph-info' \
		-ex "shell touch $DIR/go.1" -ex 'detach'
	local gdb_status=$status gdb_output=$output
	[ -n "$gs" ] && { wait "$gs" 2>/dev/null || true; }
	for _ in $(seq 100); do [ -s "$DIR/out.1.json" ] && break; sleep 0.1; done
	stop_target
	status=$gdb_status output=$gdb_output
	assert_ok
	after() { printf '%s\n' "$output" | sed -n "/^@@$1\$/{n;p;}"; }
	local want0 want1 got0 got1
	want0=$("$PYTHON_HOST" -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["Node"])' "$DIR/out.0.json")
	want1=$("$PYTHON_HOST" -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["Node"])' "$DIR/out.1.json")
	got0=$(after count0) got1=$(after count1)
	[ "$got0" = "$want0" ] || { echo "first stop: objgraph-count Node says $got0, the interpreter $want0"; echo "$output"; return 1; }
	[ "$got1" = "$want1" ] || { echo "after continue: objgraph-count Node says $got1, the interpreter $want1 (a stale heap?)"; echo "$output"; return 1; }
	[ "$want0" != "$want1" ]
	# the first stop's whole table equals the CLI's on the core gcore took there
	[ -s "$DIR/a.core" ] || { echo "gcore wrote no core: $output"; return 1; }
	local cli
	cli=$(oi "$DIR/a.core" types --limit 0 --json 2>/dev/null)
	[ "$(after types0)" = "$cli" ] || { echo "objgraph-types through GDB differs from objinspect on the gcore core"; \
		diff <(after types0 | tr ',' '\n') <(echo "$cli" | tr ',' '\n') | head -20; return 1; }
	# the thread stacks GDB's threads' stack pointers tell apart: the core's NT_PRSTATUS ones
	local stacks='import json,sys; print(json.dumps(json.loads(sys.argv[1])["segments"]["stacks"]))'
	[ "$("$PYTHON_HOST" -c "$stacks" "$(after memory0)")" = "$("$PYTHON_HOST" -c "$stacks" "$(oi "$DIR/a.core" memory --json)")" ] ||
		{ echo "objgraph-memory's thread stacks through GDB differ from the gcore core's"; after memory0; return 1; }
	# read through GDB, not from /proc
	printf '%s\n' "$output" | grep -q "^source: .*\(through GDB\|remote target\)" || { echo "not read through GDB: $output"; return 1; }
}

@test "gdb -p on a live process, every interpreter: counts equal the interpreter's at each stop, types equal objinspect on a gcore of that stop" {
	local id n=0
	for id in $("$ROOT/corefixtures/interpreters" | cut -d' ' -f1); do
		[ -z "${INTERPRETERS:-}" ] || [[ " $INTERPRETERS " == *" $id "* ]] || continue
		echo "# $id" >&3
		live_session "$id" native || { echo "interpreter $id"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "target remote to gdbserver on 127.0.0.1, every interpreter: the same, memory read over the remote protocol" {
	command -v gdbserver >/dev/null || { echo "gdbserver is not installed (make test-deps installs it)"; return 1; }
	local id n=0
	for id in $("$ROOT/corefixtures/interpreters" | cut -d' ' -f1); do
		[ -z "${INTERPRETERS:-}" ] || [[ " $INTERPRETERS " == *" $id "* ]] || continue
		echo "# $id" >&3
		live_session "$id" remote || { echo "interpreter $id"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}
