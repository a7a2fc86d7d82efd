#!/usr/bin/env bats
# install.bats -- `make install` puts a working CLI, library, header and GDB extension
# under PREFIX (staged in DESTDIR), and the installed extension finds the installed library.

load helpers

setup_file() {
	export STAGE="$BATS_FILE_TMPDIR/stage"
	make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$STAGE" PREFIX=/opt/objgraph >/dev/null
}

@test "install: objinspect, libinspect, inspect.h and the extension are in place" {
	for f in bin/objinspect lib/libinspect.so lib/libinspect.a include/inspect.h share/gdb-objgraph/objgraph.py; do
		[ -f "$STAGE/opt/objgraph/$f" ] || { echo "missing $f"; false; }
	done
	grep -q '^_LIB_DIRS = \["/opt/objgraph/lib"\]' "$STAGE/opt/objgraph/share/gdb-objgraph/objgraph.py"
}

@test "install: the installed objinspect and GDB extension give the build's answers" {
	local id core
	id=$("$ROOT/corefixtures/interpreters" | head -1 | cut -d' ' -f1)
	core=$(core_of "$id" cache_leak)
	need_core "$core"
	want=$(oi "$core" count CacheEntry)
	[ "$("$STAGE/opt/objgraph/bin/objinspect" "$core" count CacheEntry)" = "$want" ]
	run env OBJGRAPH_LIB_DIR="$STAGE/opt/objgraph/lib" timeout 120 gdb -batch -nx \
		-ex "source $STAGE/opt/objgraph/share/gdb-objgraph/objgraph.py" -ex 'objgraph-count CacheEntry' \
		"$(cat "$CORES/$id/exe")" "$core"
	assert_ok
	[ "$(printf '%s\n' "$output" | tail -1)" = "$want" ]
}
