# gdb-objgraph: libinspect (C library), objinspect (CLI), GDB extension, tests.
#
#   make            build build/libinspect.so, build/libinspect.a, build/objinspect
#   make demo       install what is missing, build, core a leaky service, run gdb on it
#   make test       every suite against every installed CPython (cores are generated)
#   make test-asan  the suites under ASan + UBSan
#   make fuzz       a fuzz campaign on damaged fixture cores, under ASan + UBSan
#                   (FUZZ_SECONDS=300; tests/fuzz, docs/reliability.md)
#   make bench      the benchmark (2M objects; ratios against in-process gc/objgraph)
#   make layouts    regenerate libinspect/layouts_gen.c from the reference builds' DWARF
#                   (pyenv's, and Debian sid's 3.14/3.15 with their -dbg files: tools/sid-root)
#   make install    PREFIX=/usr/local DESTDIR=

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
SAN      ?=
CFLAGS   ?= -O2 -g
VERSION  := 0.2.0
SOMAJOR  := 0
LAYERS   := base image cpython traverse analysis api
INCLUDES := -Iinclude $(LAYERS:%=-Ilibinspect/%) -Icli
ALL_CFLAGS = -std=c11 -pthread -Wall -Wextra -Werror -fPIC -fvisibility=hidden -DINS_VERSION='"$(VERSION)"' \
	$(INCLUDES) $(CFLAGS) $(SAN)
LDLIBS   += -lelf -lunicorn -lm -pthread
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

# libinspect: the library, one folder per layer (docs/design.md, CONTRIBUTING.md); cli: the
# command layer objinspect and the GDB extension share (libinspect-cli), over the library.
LIB_SRCS := $(foreach l,$(LAYERS),$(wildcard libinspect/$(l)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS := $(filter-out cli/main.c,$(wildcard cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
HDRS := $(wildcard include/libinspect/*.h libinspect/*/*.h cli/*.h) libinspect/cpython/layout_fields.def
LIB_SO := $(BUILD)/libinspect.so.$(SOMAJOR)
CLI_SO := $(BUILD)/libinspect-cli.so.$(SOMAJOR)

# What building needs (Debian packages): libelf and Unicorn's headers. What the tests, the
# demo and the pictures need besides is installed by `make test`/`make demo` (test-deps).
DEB_PKGS := libelf-dev libunicorn-dev
HAVE_DEPS := $(BUILD)/.deps-ok
# graphviz: dot renders show-* as .png/.svg; the C extensions are those whose objects the
# cext scenario keeps, imported by Debian's python3.11 (corefixtures/scenarios/cext.py).
TEST_PKGS := gdb gdbserver bats graphviz python3-lxml python3-msgpack python3-yaml python3-multidict \
	python3-greenlet python3-numpy
HAVE_TEST_DEPS := $(BUILD)/.test-deps-ok

.PHONY: all deps test-deps demo test test-asan fuzz bench layouts install clean fixtures check-layers
all: $(BUILD)/objinspect $(BUILD)/libinspect.so $(BUILD)/libinspect.a $(BUILD)/libinspect-cli.so

$(HAVE_DEPS): Makefile
	@sh tools/install-deps $(DEB_PKGS)
	@mkdir -p $(BUILD) && touch $@

deps: $(HAVE_DEPS)

$(HAVE_TEST_DEPS): Makefile
	@sh tools/install-deps $(TEST_PKGS)
	@mkdir -p $(BUILD) && touch $@

test-deps: $(HAVE_TEST_DEPS)

$(BUILD)/obj/%.o: %.c $(HDRS) | $(HAVE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The build's identity, in the saved index's key (gindex.c): a hash of the library's sources
# and the compiler and flags, the same for objinspect, libinspect.so and the GDB extension's
# libinspect-cli.so of one build, so that each reads the index another wrote.
BUILD_ID_H := $(BUILD)/obj/ins_build_id.h
$(BUILD_ID_H): $(LIB_SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	@printf '#define INS_BUILD_ID "%s"\n' "$$( (cat $(sort $(LIB_SRCS) $(HDRS)); printf '%s' "$(CC) $(CFLAGS) $(SAN) $(VERSION)") | \
		sha256sum | cut -c1-32)" > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/libinspect/analysis/gindex.o: $(BUILD_ID_H)
$(BUILD)/obj/libinspect/analysis/gindex.o: ALL_CFLAGS += -I$(BUILD)/obj

$(BUILD)/libinspect.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,libinspect.so.$(SOMAJOR) -o $@ $^ $(LDLIBS)

$(BUILD)/libinspect.so: $(LIB_SO)
	ln -sf $(notdir $<) $@

# The GDB extension loads the command layer with the library in one .so (a program opened
# through it is the one its commands run on).
$(CLI_SO): $(CLI_OBJS) $(LIB_OBJS)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,libinspect-cli.so.$(SOMAJOR) -o $@ $^ $(LDLIBS)

$(BUILD)/libinspect-cli.so: $(CLI_SO)
	ln -sf $(notdir $<) $@

$(BUILD)/objinspect: $(BUILD)/obj/cli/main.o $(CLI_OBJS) $(BUILD)/libinspect.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# No layer calls into a layer above it, every exported symbol has the ins_ prefix.
check-layers: all
	tools/check-layers $(BUILD)

# The scenario cores and the interpreters' own truth, for every installed CPython; Debian sid's
# python3.14 and python3.15 in a root tools/sid-root builds once (cached outside the clone, in
# $$OBJGRAPH_SID_ROOT or /var/cache/gdb-objgraph/sid-root), or names them as skipped and why.
fixtures: all $(HAVE_TEST_DEPS)
	tools/sid-root
	corefixtures/gen-cores $(BUILD)/cores

test: all fixtures check-layers
	tests/run $(BUILD)

# GDB deadlocks at startup (glibc's setlocale lock) when ASan's runtime is preloaded into it, and
# an ASan library cannot be loaded without that: the GDB suites load a UBSan build of the
# library (build-asan/gdb-ubsan), everything else the ASan + UBSan one.
test-asan: all $(HAVE_TEST_DEPS)
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g" all
	$(MAKE) BUILD=build-asan/gdb-ubsan SAN="-fsanitize=undefined -fno-sanitize-recover=all" CFLAGS="-O1 -g" \
		build-asan/gdb-ubsan/libinspect-cli.so
	corefixtures/gen-cores build-asan/cores
	ASAN_OPTIONS=detect_leaks=1 tests/run build-asan

# The fuzz campaign: the sanitized build (FUZZ_BUILD) runs every command on damaged copies of
# the fixture cores of $(BUILD); the plain build reads the landmarks of the undamaged ones.
# FUZZ_IDS="3.12.1 2.7.18" limits the interpreters. Findings: $(FUZZ_BUILD)/fuzz/findings.txt.
FUZZ_SECONDS ?= 300
FUZZ_BUILD ?= build-asan
fuzz: all fixtures
	$(MAKE) BUILD=$(FUZZ_BUILD) SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g" all
	tests/fuzz/fuzz.py campaign --build $(FUZZ_BUILD) --oracle $(BUILD)/objinspect --cores $(BUILD)/cores \
		--seconds $(FUZZ_SECONDS)

bench: all $(HAVE_TEST_DEPS)
	bench/run $(BUILD)

demo: all $(HAVE_TEST_DEPS)
	tools/demo $(BUILD)

layouts:
	tools/gen-layouts

PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/libinspect \
		$(DESTDIR)$(PREFIX)/share/gdb-objgraph
	install -m 755 $(BUILD)/objinspect $(DESTDIR)$(PREFIX)/bin/objinspect
	install -m 755 $(LIB_SO) $(CLI_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libinspect.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libinspect.so
	ln -sf libinspect-cli.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libinspect-cli.so
	install -m 644 $(BUILD)/libinspect.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/libinspect/*.h $(DESTDIR)$(PREFIX)/include/libinspect/
	install -m 644 gdbext/objgraph.py $(DESTDIR)$(PREFIX)/share/gdb-objgraph/objgraph.py
	sed -i -e 's|^_LIB_DIRS = .*|_LIB_DIRS = ["$(PREFIX)/lib"]|' -e 's|^_PY_DIRS = .*|_PY_DIRS = ["$(PYTHONDIR)"]|' \
		$(DESTDIR)$(PREFIX)/share/gdb-objgraph/objgraph.py
	install -d $(DESTDIR)$(PYTHONDIR)/objinspect
	install -m 644 python/objinspect/*.py $(DESTDIR)$(PYTHONDIR)/objinspect/
	sed -i 's|^_LIB_DIRS = .*|_LIB_DIRS = ["$(PREFIX)/lib"]|' $(DESTDIR)$(PYTHONDIR)/objinspect/_capi.py

clean:
	rm -rf $(BUILD) build-asan
