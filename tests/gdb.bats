#!/usr/bin/env bats
# gdb.bats -- the GDB front end: every command of the command table run through GDB
# (gdb -batch with gdbext/objgraph.py on the fixture cores) gives objinspect's answer on the
# same core, byte for byte (--json and text; the pictures show-* writes too), and the
# interpreter's own truth where the text is checked. Also: help texts from the table,
# completion of options and of type names (from the heap), errors as GDB errors.
# The command names come from `objinspect --help`, the expected values from the truth files
# next to the cores (corefixtures/truth.py) or from objinspect on the same core.
# tests/lib/gdbcheck.py runs the comparisons (one GDB session per core).

load helpers
bats_require_minimum_version 1.5.0

GDBCHECK="$ROOT/tests/lib/gdbcheck.py"
# the first interpreter of corefixtures/interpreters: most tests run on its cores
ID=$("$ROOT/corefixtures/interpreters" | head -1 | cut -d' ' -f1)

setup() {
	export OBJINSPECT
	CORE=$(core_of "$ID" cache_leak)
	need_core "$CORE"
	EXE=$(cat "$CORES/$ID/exe")
	T=$BATS_TEST_TMPDIR
}

# help_text: objinspect --help into $T/help.txt (the command table as the CLI prints it)
help_text() {
	oi --help > "$T/help.txt" 2>&1 || true
	[ -s "$T/help.txt" ] || { echo "objinspect --help printed nothing"; return 1; }
}

# gdb_same CORE SPEC...: every SPEC ("types --limit 0 --json") run as objgraph-SPEC in one GDB
# session on CORE prints what `objinspect CORE SPEC` prints, and writes the same --output file
gdb_same() {
	gdb_run "$@" || return 1
	"$PYTHON_HOST" "$GDBCHECK" compare-all "$T/sessions"
}

# gdb_run CORE SPEC...: the GDB half of gdb_same: the session's outputs in $T/gdb.N.{out,err},
# listed in $T/sessions. With GDB_DEFER set the list grows, for one `gdbcheck.py compare-all`
# over many sessions (one Python start)
gdb_run() {
	local core=$1 st=0 n; shift
	[ -z "${GDB_DEFER:-}" ] && rm -f "$T/sessions"
	n=$(cat "$T/sessions" 2>/dev/null | wc -l)
	local -a args=()
	local i=0 spec
	for spec in "$@"; do
		args+=(-ex "echo @@gdbcheck $i\n" -ex "objgraph-$spec")
		i=$((i + 1))
	done
	args+=(-ex 'echo @@gdbcheck end\n')
	gdb_batch "${args[@]}" "$(cat "$(dirname "$core")/exe")" "$core" > "$T/gdb.$n.out" 2> "$T/gdb.$n.err" || st=$?
	[ "$st" -lt 124 ] || { echo "gdb crashed or hung on $core: exit $st"; tail -5 "$T/gdb.$n.err"; return 1; }
	(IFS=$'\t'; printf '%s\n' "$T/gdb.$n.out	$T/gdb.$n.err	$core	$*") >> "$T/sessions"
}

# gdb_session ARGS...: the GDB session's stdout and stderr apart ($T/gdb.out, $T/gdb.err);
# $gst is its exit status
gdb_session() {
	gst=0
	gdb_batch "$@" > "$T/gdb.out" 2> "$T/gdb.err" || gst=$?
}

# values FILE KEY...: one value per KEY of a JSON file (a truth) into the array VALUES, with
# one Python (whose start takes most of a second on a busy machine)
values() {
	mapfile -t VALUES < <("$PYTHON_HOST" "$GDBCHECK" get "$@")
	[ "${#VALUES[@]}" -eq $(($# - 1)) ] || { echo "$1: not every one of ${*:2}"; return 1; }
}

# sec N: the output after the marker line "@@N" of the last session, up to the next marker
sec() { awk -v m="@@$1" '$0 == m { on = 1; next } /^@@/ { on = 0 } on' "$T/gdb.out"; }

# ------------------------------------------------------------------------------- help --

@test "gdb: help of every command of objinspect --help: the table's summary and usage; complete objgraph- lists exactly them" {
	help_text
	local -a args
	mapfile -t args < <("$PYTHON_HOST" "$GDBCHECK" help-args "$T/help.txt")
	[ "${#args[@]}" -gt 4 ] || { echo "no commands in objinspect --help:"; cat "$T/help.txt"; false; }
	gdb_session "${args[@]}"
	[ "$gst" -eq 0 ] || { echo "gdb exit $gst"; cat "$T/gdb.err"; false; }
	"$PYTHON_HOST" "$GDBCHECK" help "$T/help.txt" "$T/gdb.out"
	# GDB knows exactly the table's commands as objgraph-*: no more, none missing
	"$PYTHON_HOST" "$GDBCHECK" names "$T/help.txt" | sed 's/^/objgraph-/' | sort > "$T/want"
	run gdb_batch -ex 'complete objgraph-'
	assert_ok
	printf '%s\n' "$output" | grep '^objgraph-' | sort > "$T/got"
	diff "$T/want" "$T/got" || { echo "< objinspect --help, > GDB's objgraph- commands"; false; }
}

# ------------------------------------------------------------------------- completion --

@test "gdb: options complete, GDB's word breaks at '-' notwithstanding" {
	run gdb_batch -ex 'complete objgraph-types --li' -ex 'complete objgraph-growth --new' \
		-ex 'complete objgraph-show-refs 0x1 --too' -ex 'complete objgraph-chain 0x1 --to' "$EXE" "$CORE"
	assert_ok
	printf '%s\n' "$output" | grep -qx 'objgraph-types --limit'
	printf '%s\n' "$output" | grep -qx 'objgraph-growth --new-ids'
	printf '%s\n' "$output" | grep -qx 'objgraph-show-refs 0x1 --too-many'
	printf '%s\n' "$output" | grep -qx 'objgraph-chain 0x1 --to'
}

@test "gdb: TYPE completes from the type names in the heap" {
	run gdb_batch -ex 'complete objgraph-count CacheEn' -ex 'complete objgraph-by-type Handl' "$EXE" "$CORE"
	assert_ok
	printf '%s\n' "$output" | grep -qx 'objgraph-count CacheEntry'
	printf '%s\n' "$output" | grep -qx 'objgraph-by-type Handler'
}

# ------------------------------------------------------------- GDB = CLI, every command --

# the values of a graph truth graph_specs takes, in its order
GRAPH_KEYS="graph.inst.address graph.list.address graph.dict.address none.address chain_targets.registry
	chain_targets.weak_cached weak_via id_types.0 id_types.1"

# graph_specs ID all|few VALUE...: into SPECS, the command specs for the graph core of ID, every
# command of the table at least once, with all: their options too; VALUEs: GRAPH_KEYS of its
# truth. Growth first (a session's first growth = the CLI's).
graph_specs() {
	local o=$T/$1 mode=$2 a=$3 l=$4 d=$5 n=$6 r=$7 w=$8 v=$9 c=${10} g=${11}
	[ -n "$g" ] || { echo "graph_specs $1: values missing"; return 1; }
	mkdir -p "$o"
	SPECS=(
		"growth --limit 0 --json"
		"types --limit 0 --json" "count $c --json" "by-type $c --json" "at $a --json"
		"refs $a --json" "backrefs $a --json" "chain $r --json"
		"leaking --limit 0 --json" "refcheck --limit 0 --json"
		"show-refs $d --output $o/refs.dot --json" "show-backrefs $w --output $o/backrefs.dot --json"
		"show-chain $r --output $o/chain.dot --json"
		"graph --json" "cycles --limit 0 --json" "garbage --json" "stacks --locals --json"
		"gc --json" "info --json" "retained --json" "retained $a --json" "tasks --json" "tasks --all --json"
		"retained $d --tree --json" "types --limit 0 --retained --json" "suspects --json"
		"show-dominators $d --output $o/dom.dot --json"
		"memory --json" "allocations --json"
	)
	# and the options, on the first interpreter
	[ "$mode" = all ] || return 0
	SPECS+=(
		"types --json" "types --limit 0 --qualified --json" "types --limit 0 --all --json"
		"types --filter $c --json" "count $g --json" "by-type $g --limit 2 --json" "at $n --json" "at $l --json"
		"refs $l --max-depth 2 --json" "backrefs $w --max-depth 3 --json"
		"chain $w --json" "chain $w --extra-ignore $v --json" "chain $r --to root --max-depth 30 --json"
		"leaking --json" "leaking --raw --limit 0 --json" "refcheck --limit 3 --json"
		"show-refs $l --max-depth 1 --refcounts --output $o/refs2.dot --json"
		"show-refs $d $l --too-many 3 --filter dict --output $o/refs3.dot"
		"show-backrefs $w --too-many 200 --extra-ignore $v --output $o/backrefs2.dot"
		"show-chain $r $w --refcounts --output $o/chain2.dot"
		"graph --edges --json" "graph --verify --json" "graph --limit 5 --json"
		"cycles --min-size 3 --json" "cycles --limit 1 --json" "garbage --limit 1 --json" "stacks --json"
		# the text of most commands, which must be the CLI's too
		"types --limit 10" "types --qualified" "count $c" "by-type $c" "at $a" "refs $a" "backrefs $a"
		"chain $r" "leaking --limit 5" "refcheck --limit 5" "show-chain $r --output $o/chain3.dot"
		"cycles --limit 3" "garbage" "stacks --locals" "gc" "info"
		"retained --limit 0 --json" "retained $l --limit 0 --json" "retained --limit 5" "retained $a"
		"retained $d --tree --limit 3 --max-depth 2" "types --retained --limit 10" "types --retained --all --json"
		"suspects --threshold 0 --limit 3" "suspects --threshold 1 --limit 0 --json"
		"show-dominators $l --max-depth 1 --too-many 2 --refcounts --output $o/dom2.dot"
		"tasks" "tasks --all" "tasks --tree" "tasks --tree --all --json"
		"memory" "memory --limit 0 --json"
		"allocations" "allocations --limit 0 --group-by traceback --json"
	)
}

@test "gdb: every command and its options, --json and text, on $ID's graph core: GDB prints what objinspect prints, show-* write the same DOT" {
	need_core "$(core_of "$ID" graph)"
	help_text
	values "$(truth_of "$ID" graph)" $GRAPH_KEYS
	graph_specs "$ID" all "${VALUES[@]}"
	# every command of the table is among them
	local name s missing=
	for name in $("$PYTHON_HOST" "$GDBCHECK" names "$T/help.txt"); do
		[ "$name" = index ] && continue  # objinspect's only: below
		for s in "${SPECS[@]}"; do [ "${s%% *}" = "$name" ] && continue 2; done
		missing="$missing $name"
	done
	[ -z "$missing" ] || { echo "commands not tested:$missing"; false; }
	gdb_same "$(core_of "$ID" graph)" "${SPECS[@]}"
}

@test "gdb: objgraph-index says it is objinspect's only (GDB keeps a stop's graph): one error, nothing written" {
	run gdb_batch -ex 'objgraph-index' "$EXE" "$CORE"
	printf '%s\n' "$output"
	[ "$status" -ne 0 ]
	printf '%s\n' "$output" | grep -q "objinspect only"
	[ ! -e "$CORE.objinspect-index" ]
}

@test "gdb: a core's saved index (objinspect CORE index) is read, answers the same; a stale one is ignored with one warning; GDB writes none" {
	local c=$BATS_TEST_TMPDIR/c.core cmds=(-ex 'objgraph-leaking --limit 0 --json' -ex 'objgraph-cycles --json' -ex 'objgraph-refcheck --json')
	cp -p "$CORE" "$c"
	run gdb_batch "${cmds[@]}" -ex 'objgraph-graph --json' "$EXE" "$c"
	assert_ok
	local without=$output
	[ ! -e "$c.objinspect-index" ]
	printf '%s\n' "$without" | grep -q '"walk_threads":[12]'
	run oi "$c" index
	assert_ok
	# read: the same answers, and the graph came from the index (walk_threads 0), no warning
	run gdb_batch "${cmds[@]}" -ex 'objgraph-graph --json' "$EXE" "$c"
	assert_ok
	printf '%s\n' "$output" | grep -q '"walk_threads":0' || { printf '%s\n' "$output"; false; }
	! printf '%s\n' "$output" | grep -q warning
	[ "$(printf '%s\n' "$output" | grep -v walk_threads)" = "$(printf '%s\n' "$without" | grep -v walk_threads)" ]
	# stale (the core touched): one warning line, then the answers of a fresh walk
	touch -d '+1 min' "$c"
	run gdb_batch "${cmds[@]}" "$EXE" "$c"
	assert_ok
	[ "$(printf '%s\n' "$output" | grep -c 'warning: ignoring stale index')" = 1 ] || { printf '%s\n' "$output"; false; }
	[ "$(printf '%s\n' "$output" | grep -v 'warning: ignoring stale index')" = "$(printf '%s\n' "$without" | grep -v walk_threads)" ]
}

@test "gdb: the libraries GDB finds through solib-search-path (the sysroot has none) are the ones libinspect reads: the CLI's answers" {
	local dir=$BATS_TEST_TMPDIR/libs f n=0 cmds=(types leaking cycles "count CacheEntry")
	mkdir -p "$dir"
	# the core's libraries, copied out of their place: GDB finds them by name in $dir only
	for f in $(gdb_batch -ex 'info sharedlibrary' "$EXE" "$CORE" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*$'); do
		cp "$f" "$dir/" && n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "no libraries listed"; false; }
	local s gdbargs=() want=
	for s in "${cmds[@]}"; do
		gdbargs+=(-ex "objgraph-$s --json")
		want="$want$(oi "$CORE" $s --json)"$'\n'
	done
	run gdb_batch -iex 'set sysroot /nonexistent' -iex "set solib-search-path $dir" "${gdbargs[@]}" "$EXE" "$CORE"
	assert_ok
	[ "$(printf '%s\n' "$output" | grep '^{')"$'\n' = "$want" ] || { printf '%s\n' "$output" | tail -20; false; }
}

@test "gdb: threads, growth, cycles cores on $ID: stacks, chain --to root, growth --baseline, cycles and garbage equal the CLI" {
	local core s
	core=$(core_of "$ID" threads)
	need_core "$core"
	values "$(truth_of "$ID" threads)" stack_only.address
	gdb_same "$core" "stacks --json" "stacks --locals --json" "stacks --locals" \
		"chain ${VALUES[0]} --to root --json" "chain ${VALUES[0]} --to root"
	core=$(core_of "$ID" growth b)
	need_core "$core"
	# one session each: a session's growth depends on its earlier growth calls
	gdb_same "$core" "growth --baseline $(core_of "$ID" growth a) --new-ids --limit 0 --json"
	gdb_same "$core" "growth --baseline $(core_of "$ID" growth a) --raw --qualified"
	for s in garbage27 tb_cycle; do
		core=$(core_of "$ID" $s)
		[ -f "$core" ] || continue
		gdb_same "$core" "cycles --limit 0 --json" "garbage --limit 0 --json" "cycles" "garbage" ||
			{ echo "  ^ on $s"; false; }
	done
}

@test "gdb: on every interpreter with cores (corefixtures/interpreters), all commands --json in GDB equal objinspect's" {
	local id s checked=() skipped= truths=() nk i=0
	while read -r id _; do
		[ -f "$(core_of "$id" graph)" ] && [ -f "$(truth_of "$id" graph)" ] || { skipped="$skipped $id"; continue; }
		checked+=("$id") truths+=("$(truth_of "$id" graph)")
	done < <("$ROOT/corefixtures/interpreters")
	echo "# checked: ${checked[*]}; no cores:${skipped:- none}" >&3
	[ "${#checked[@]}" -gt 0 ] || { echo "no interpreter has cores in $CORES"; false; }
	mapfile -t VALUES < <("$PYTHON_HOST" "$GDBCHECK" get-each "$GRAPH_KEYS" "${truths[@]}")
	nk=$(echo $GRAPH_KEYS | wc -w)
	[ "${#VALUES[@]}" -eq $((nk * ${#checked[@]})) ] || { echo "truth values missing"; false; }
	GDB_DEFER=1
	rm -f "$T/sessions"
	for id in "${checked[@]}"; do
		graph_specs "$id" few "${VALUES[@]:$((i * nk)):$nk}"
		gdb_run "$(core_of "$id" graph)" "${SPECS[@]}"
		# growth against an earlier core of the process, in a session of its own
		s=$(core_of "$id" growth b)
		[ ! -f "$s" ] || gdb_run "$s" "growth --baseline $(core_of "$id" growth a) --limit 0 --json"
		i=$((i + 1))
	done
	"$PYTHON_HOST" "$GDBCHECK" compare-all "$T/sessions"
}

# ---------------------------------------------------------------- text against truth --

@test "gdb: text of count, by-type, types, at, gc, info on cache_leak = the interpreter's truth" {
	local t; t=$(truth_of "$ID" cache_leak)
	local -a args
	mapfile -t args < <("$PYTHON_HOST" "$GDBCHECK" text-args "$t")
	[ "${#args[@]}" -gt 6 ] || { echo "nothing to check in $t"; false; }
	gdb_session "${args[@]}" "$EXE" "$CORE"
	[ "$gst" -eq 0 ] || { echo "gdb exit $gst"; cat "$T/gdb.err"; false; }
	"$PYTHON_HOST" "$GDBCHECK" text "$t" "$T/gdb.out" || { cat "$T/gdb.out" | cut -c1-200 | tail -40; false; }
}

@test "gdb: stacks and chain --to root text on the threads core name the truth's threads, frames and local" {
	local core addr
	core=$(core_of "$ID" threads)
	need_core "$core"
	values "$(truth_of "$ID" threads)" stack_only.address threads.waiter.thread_id threads.locker.thread_id \
		threads.sleeper.thread_id
	addr=${VALUES[0]}
	gdb_session -ex "objgraph-stacks --locals" -ex 'echo @@chain\n' -ex "objgraph-chain $addr --to root --json" \
		"$(cat "$CORES/$ID/exe")" "$core"
	[ "$gst" -eq 0 ] || { echo "gdb exit $gst"; cat "$T/gdb.err"; false; }
	# every thread the interpreter reported has a header with its id; the sleeper's frame
	# holds the local payload
	local i tid
	for i in 1 2 3; do
		tid=$(printf '0x%x' "${VALUES[$i]}")
		grep -q "^Thread $tid[ ,]" "$T/gdb.out" || { echo "no thread $tid in objgraph-stacks:"; cat "$T/gdb.out"; false; }
	done
	grep -q 'sleeper_inner' "$T/gdb.out" || { echo "no frame sleeper_inner:"; cat "$T/gdb.out"; false; }
	sed -n '/^@@chain$/,$p' "$T/gdb.out" | tail -n +2 > "$T/chain.json"
	"$PYTHON_HOST" - "$T/chain.json" "$addr" "${VALUES[3]}" <<-'EOF'
		import json, sys
		c = json.load(open(sys.argv[1]))
		ch = c["chain"]
		ok = (c["found"] and len(ch) == 2 and ch[0]["type"] == "frame" and ch[0].get("function") == "sleeper_inner"
		      and str(ch[0].get("thread_id")) == sys.argv[3] and ch[1]["address"] == sys.argv[2] and ch[1]["edge"] == "payload")
		sys.exit(0 if ok else "objgraph-chain --to root: expected sleeper_inner's frame, then payload: %s" % ch)
	EOF
}

@test "gdb: show-refs, show-backrefs, show-chain pictures GDB writes are objgraph's (truth of the graph core)" {
	local core t
	core=$(core_of "$ID" graph) t=$(truth_of "$ID" graph)
	need_core "$core"
	local d r w
	values "$t" graph.dict.address chain_targets.registry chain_targets.weak_cached
	d=${VALUES[0]} r=${VALUES[1]} w=${VALUES[2]}
	gdb_session -ex "objgraph-show-refs $d --output $T/r.dot" -ex "objgraph-show-backrefs $w --too-many 200 --output $T/b.dot" \
		-ex "objgraph-show-chain $r --output $T/c.dot" "$(cat "$CORES/$ID/exe")" "$core"
	[ "$gst" -eq 0 ] || { echo "gdb exit $gst"; cat "$T/gdb.err"; false; }
	"$PYTHON_HOST" "$CHECK" dot "$t" "$T/r.dot" show-refs "$d"
	"$PYTHON_HOST" "$CHECK" dot "$t" "$T/b.dot" show-backrefs "$w"
	"$PYTHON_HOST" "$CHECK" dot "$t" "$T/c.dot" show-chain "$r"
}

# ------------------------------------------------------------------------------ growth --

@test "gdb: objgraph-growth: the first call records the peaks (what gc.collect() leaves), a second on the same core shows no growth" {
	local core; core=$(core_of "$ID" growth b)
	need_core "$core"
	local exe; exe=$(cat "$CORES/$ID/exe")
	gdb_session -ex 'echo @@1\n' -ex 'objgraph-growth --limit 0 --json' -ex 'echo @@2\n' -ex 'objgraph-growth --limit 0 --json' \
		-ex 'echo @@3\n' -ex 'objgraph-growth' -ex 'echo @@4\n' -ex 'objgraph-types --limit 0 --json' -ex 'echo @@end\n' "$exe" "$core"
	[ "$gst" -eq 0 ] || { echo "gdb exit $gst"; cat "$T/gdb.err"; false; }
	sec 1 > "$T/first.json"
	# the first call: every type grows from 0, as objgraph's first show_growth after gc.collect()
	"$PYTHON_HOST" "$CHECK" types-collected "$(truth_of "$ID" growth b)" "$T/first.json" 10
	[ "$(cat "$T/first.json")" = "$(oi "$core" growth --limit 0 --json)" ] || { echo "first objgraph-growth differs from the CLI's"; false; }
	# the second (and third) on the same core: nothing grew; the CLI says the same of the core
	# against itself as baseline
	[ "$(sec 2)" = "$(oi "$core" growth --limit 0 --baseline "$core" --json)" ] || { echo "second objgraph-growth: $(sec 2)"; false; }
	"$PYTHON_HOST" -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit("growth after the peaks: %s" % d["growth"][:5] if d["growth"] else 0)' "$(sec 2)"
	[ "$(sec 3)" = "$(oi "$core" growth --baseline "$core")" ] || { echo "third objgraph-growth (text): $(sec 3)"; false; }
	# objgraph-types between them is not affected by the peaks
	[ "$(sec 4)" = "$(oi "$core" types --limit 0 --json)" ] || { echo "objgraph-types after growth differs from the CLI's"; false; }
}

@test "gdb: objgraph-growth --baseline A on core B = the objects the process added (truth of a and b), as the CLI, on every call" {
	local a b; a=$(core_of "$ID" growth a) b=$(core_of "$ID" growth b)
	need_core "$b"
	gdb_session -ex 'echo @@1\n' -ex "objgraph-growth --baseline $a --limit 0 --json" \
		-ex 'echo @@2\n' -ex "objgraph-growth --baseline $a --limit 0 --json" \
		-ex 'echo @@3\n' -ex "objgraph-growth --limit 0 --json" -ex 'echo @@4\n' -ex "objgraph-growth --baseline $a --limit 0 --json" \
		-ex 'echo @@end\n' "$(cat "$CORES/$ID/exe")" "$b"
	[ "$gst" -eq 0 ] || { echo "gdb exit $gst"; cat "$T/gdb.err"; false; }
	sec 1 > "$T/g.json"
	"$PYTHON_HOST" "$CHECK" growth "$(truth_of "$ID" growth a)" "$(truth_of "$ID" growth b)" "$T/g.json"
	local want; want=$(oi "$b" growth --baseline "$a" --limit 0 --json)
	[ "$(sec 1)" = "$want" ] || { echo "objgraph-growth --baseline differs from the CLI"; false; }
	# --baseline compares with that core whatever came before in the session, as objinspect does
	local bad=0
	[ "$(sec 2)" = "$want" ] || { echo "objgraph-growth --baseline A, called a second time: $(sec 2 | cut -c1-200)"; bad=1; }
	[ "$(sec 4)" = "$want" ] || { echo "objgraph-growth --baseline A after a plain objgraph-growth: $(sec 4 | cut -c1-200)"; bad=1; }
	[ "$bad" -eq 0 ] || { echo "objinspect CORE growth --baseline A: $(printf '%s' "$want" | cut -c1-200)..."; false; }
}

# ------------------------------------------------------------------------------ errors --

# gdb_noise EXE CORE: what GDB itself prints opening that core, with no command ($T/noise)
gdb_noise() {
	gdb_session "$@"
	cat "$T/gdb.out" "$T/gdb.err" | sort -u > "$T/noise"
}

# gdb_error_is CLI_ERROR: the last GDB session failed (exit 1..123), printing one line beyond
# GDB's own noise (gdb_noise): the CLI's error message (without "error: "); no Python exception
gdb_error_is() {
	local msg=${1#error: } extra
	[ "$gst" -ne 0 ] || { echo "gdb exited 0: $(cat "$T/gdb.out" "$T/gdb.err")"; return 1; }
	[ "$gst" -lt 124 ] || { echo "gdb crashed or hung: exit $gst"; return 1; }
	grep -qE 'Traceback|Python Exception' "$T/gdb.err" && { echo "a Python exception:"; cat "$T/gdb.err"; return 1; }
	[ -n "$msg" ] || { echo "the CLI printed no error"; return 1; }
	extra=$(cat "$T/gdb.out" "$T/gdb.err" | grep -vxFf "$T/noise")
	[ "$(printf '%s\n' "$extra" | grep -c .)" -eq 1 ] || { echo "not one line beyond GDB's own:"; printf '%s\n' "$extra"; return 1; }
	[[ "$extra" == *"$msg"* ]] || { echo "GDB's error '$extra' is not the CLI's '$msg'"; return 1; }
}

@test "gdb: an address that is not an object, for every command taking ADDRESS: a GDB error (exit nonzero), one line, the CLI's message" {
	help_text
	local core; core=$(core_of "$ID" graph)
	need_core "$core"
	local exe; exe=$(cat "$CORES/$ID/exe")
	local name addr cmd n=0 err
	gdb_noise "$exe" "$core"
	for name in $(grep -E '^  [a-z-]+ +ADDRESS' "$T/help.txt" | awk '{ print $1 }'); do
		# no object there: a small number, an unmapped address (alternately, to keep it short)
		[ $((n % 2)) -eq 0 ] && addr=0x10 || addr=0xdeadbeef000
		cmd="$name $addr"
		case $name in show-*) cmd="$cmd --output $T/bad.dot" ;; esac
		run --separate-stderr oi "$core" $cmd
		[ "$status" -ne 0 ] || { echo "objinspect $cmd succeeded: $output"; false; }
		err=$(printf '%s\n' "$stderr" | tail -1)
		rm -f "$T/bad.dot"
		gdb_session -ex "objgraph-$cmd" "$exe" "$core"
		gdb_error_is "$err" || { echo "  ^ objgraph-$cmd (objinspect: $err)"; false; }
		[ ! -s "$T/bad.dot" ] || { echo "objgraph-$cmd wrote a picture"; false; }
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || { echo "no command takes an ADDRESS in objinspect --help"; false; }
	# an address inside an object, not at its start; a word that is no address
	values "$(truth_of "$ID" graph)" graph.list.address
	addr=$(printf '0x%x' $((VALUES[0] + 8)))
	# and show-refs without --output
	for cmd in "refs $addr" "at zzz" "show-refs ${VALUES[0]}"; do
		run --separate-stderr oi "$core" $cmd
		[ "$status" -ne 0 ] || { echo "objinspect $cmd succeeded: $output"; false; }
		err=$(printf '%s\n' "$stderr" | tail -1)
		gdb_session -ex "objgraph-$cmd" "$exe" "$core"
		gdb_error_is "$err" || { echo "  ^ objgraph-$cmd"; false; }
	done
}

@test "gdb: without a process or core, one error line" {
	run gdb_batch -ex 'objgraph-types'
	[ "$status" -ne 0 ]
	printf '%s\n' "$output" | grep -q 'no process and no core file'
}

@test "gdb: objgraph_heap() in GDB's Python is the commands' heap: same answers, one walk for both" {
	run gdb_batch -ex 'objgraph-count CacheEntry' \
		-ex 'python h = objgraph_heap(); print("@@ %d %d" % (len(h.objects("CacheEntry")), h is objgraph_heap()))' \
		"$EXE" "$CORE"
	assert_ok
	local want
	want=$(oi "$CORE" count CacheEntry)
	printf '%s\n' "$output" | grep -qx "$want"
	printf '%s\n' "$output" | grep -qx "@@ $want 1"
}
