#!/usr/bin/env bats
# install.bats -- `make install` puts a working CLI, library, header and GDB extension
# under PREFIX (staged in DESTDIR), and the installed extension finds the installed library.

load helpers

setup_file() {
	export STAGE="$BATS_FILE_TMPDIR/stage"
	make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$STAGE" PREFIX=/opt/objgraph >/dev/null
}

@test "install: objinspect, libinspect (versioned), its headers under libinspect/ and the extension are in place" {
	for f in bin/objinspect lib/libinspect.so lib/libinspect.so.0 lib/libinspect-cli.so lib/libinspect.a include/libinspect/libinspect.h include/libinspect/cli.h share/gdb-objgraph/objgraph.py; do
		[ -f "$STAGE/opt/objgraph/$f" ] || { echo "missing $f"; false; }
	done
	grep -q '^_LIB_DIRS = \["/opt/objgraph/lib"\]' "$STAGE/opt/objgraph/share/gdb-objgraph/objgraph.py"
}

@test "install: the installed objinspect gives the build's answers" {
	local id core
	id=$("$ROOT/corefixtures/interpreters" | head -1 | cut -d' ' -f1)
	core=$(core_of "$id" cache_leak)
	need_core "$core"
	[ "$("$STAGE/opt/objgraph/bin/objinspect" "$core" count CacheEntry)" = "$(oi "$core" count CacheEntry)" ]
}

@test "install: the installed GDB extension loads the installed library" {
	local id core lib=$STAGE/opt/objgraph/lib
	if nm -D "$lib/libinspect-cli.so" | grep -q __asan_init; then
		skip "the library is built with ASan, which GDB cannot load without preloading its runtime"
	fi
	id=$("$ROOT/corefixtures/interpreters" | head -1 | cut -d' ' -f1)
	core=$(core_of "$id" cache_leak)
	need_core "$core"
	run env OBJGRAPH_LIB_DIR="$lib" OBJGRAPH_PY_DIR="$STAGE/opt/objgraph/lib/python3/dist-packages" timeout 120 gdb -batch -nx \
		-ex "source $STAGE/opt/objgraph/share/gdb-objgraph/objgraph.py" -ex 'objgraph-count CacheEntry' \
		"$(cat "$CORES/$id/exe")" "$core"
	assert_ok
	[ "$(printf '%s\n' "$output" | tail -1)" = "$(oi "$core" count CacheEntry)" ]
}

@test "install: the installed Python package finds the installed library and gives the CLI's answer" {
	local id core lib=$STAGE/opt/objgraph/lib
	id=$("$ROOT/corefixtures/interpreters" | head -1 | cut -d' ' -f1)
	core=$(core_of "$id" cache_leak)
	need_core "$core"
	if nm -D "$lib/libinspect.so" | grep -q __asan_init; then
		skip "the library is built with ASan, which Python cannot load without preloading its runtime"
	fi
	run env -u OBJINSPECT_LIB PYTHONPATH="$STAGE/opt/objgraph/lib/python3/dist-packages" "$PYTHON_HOST" -c '
import sys, objinspect
h = objinspect.open_core(sys.argv[1])
print(objinspect.library_path())
print(len(h.objects("CacheEntry")))' "$core"
	assert_ok
	[ "$(printf '%s\n' "$output" | head -1)" = "$lib/libinspect.so" ] || [ "$(printf '%s\n' "$output" | head -1)" = "$lib/libinspect.so.0" ] \
		|| { echo "loaded $(printf '%s\n' "$output" | head -1), not the installed library"; false; }
	[ "$(printf '%s\n' "$output" | tail -1)" = "$(oi "$core" count CacheEntry)" ]
}
