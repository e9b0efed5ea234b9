# sluice — one plain GNU Makefile (see STYLE.md section 7).
#
#   make            build/libsluice.a and build/sluice (optimised, -g)
#   make test       sanitizer build in build/san/: unit runner + every case
#   make test SAN=0 the same without sanitizers (build/)
#   make demo       the README's demo pipeline on the embedded SQLite destination
#   make bench      benchmarks (print side-by-side ratios)
#   make install PREFIX=/usr/local

CC       ?= cc
PREFIX   ?= /usr/local
SAN      ?= 1
# linked; libpq and libcurl are compiled against (their headers) but opened at run time, by
# the first run that needs them (src/base/dynlib.h); libcrypto only for the unit tests, which
# check our Keccak against OpenSSL
PKGS     := sqlite3 yaml-0.1 zlib libxxhash
RT_PKGS  := libpq libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(RT_PKGS) libcrypto 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS     := $(PKG_LIBS) -lyajl -lpthread -ldl -lm
TEST_LIBS := $(LIBS) $(shell pkg-config --libs libcrypto 2>/dev/null)
# where the duckdb destination looks for libduckdb.so unless SLUICE_DUCKDB_LIB says
# (scripts/install-deps fetches it there; src/destinations/duckdb_lib.h)
DUCKDB_LIB_DEFAULT := -DSLUICE_DUCKDB_LIB_DEFAULT='"$(CURDIR)/deps/duckdb/libduckdb.so"'

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASEFLAGS:= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -MMD -MP $(PKG_CFLAGS)
OPTFLAGS := -O2 -g
SANFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
            -DSLUICE_TESTING

SRC      := $(wildcard src/*.c src/*/*.c)
CLI_SRC  := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)

# $(call objs,BUILD_DIR,SOURCES)
objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

.PHONY: all test test-unit test-cases demo bench install clean check-style valgrind fuzz fuzz-smoke example-singer \
        soak secrets test-fault check-layout compat compat-cases check-docs
all: build/libsluice.a build/sluice

build/obj/src/destinations/duckdb_lib.o build/san/obj/src/destinations/duckdb_lib.o \
build/test/run_cases build/san/test/run_cases: BASEFLAGS += $(DUCKDB_LIB_DEFAULT)

# ---- optimised build (build/) -------------------------------------------------------------
build/obj/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(OPTFLAGS) -Iinclude -Isrc -c $< -o $@
build/obj/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(OPTFLAGS) -Iinclude -c $< -o $@
build/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(OPTFLAGS) -Iinclude -Isrc -Itests/unit -c $< -o $@
build/libsluice.a: $(call objs,build,$(SRC))
	@rm -f $@
	ar rcs $@ $^
build/sluice: $(call objs,build,$(CLI_SRC)) build/libsluice.a
	$(CC) $(OPTFLAGS) -o $@ $^ $(LIBS)
build/test/unit: $(call objs,build,$(UNIT_SRC)) build/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(OPTFLAGS) -o $@ $^ $(TEST_LIBS)
build/test/run_cases: tests/run_cases.c build/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(OPTFLAGS) -Iinclude -Isrc -o $@ $< build/libsluice.a $(LIBS)
build/examples/c_api: examples/c_api.c build/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(OPTFLAGS) -Iinclude -o $@ $< build/libsluice.a $(LIBS)

# ---- sanitizer build (build/san/) ---------------------------------------------------------
build/san/obj/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Iinclude -Isrc -c $< -o $@
build/san/obj/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Iinclude -c $< -o $@
build/san/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Iinclude -Isrc -Itests/unit -c $< -o $@
build/san/libsluice.a: $(call objs,build/san,$(SRC))
	@rm -f $@
	ar rcs $@ $^
build/san/sluice: $(call objs,build/san,$(CLI_SRC)) build/san/libsluice.a
	$(CC) $(SANFLAGS) -o $@ $^ $(LIBS)
build/san/test/unit: $(call objs,build/san,$(UNIT_SRC)) build/san/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(TEST_LIBS)
build/san/test/run_cases: tests/run_cases.c build/san/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Iinclude -Isrc -o $@ $< build/san/libsluice.a $(LIBS)
build/san/test/fault_alloc: tests/fault/alloc.c build/san/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Iinclude -Isrc -o $@ $< build/san/libsluice.a $(LIBS)
build/san/examples/c_api: examples/c_api.c build/san/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -Iinclude -o $@ $< build/san/libsluice.a $(LIBS)

ifeq ($(SAN),1)
TB := build/san
else
TB := build
endif

test: check-layout check-docs $(TB)/sluice $(TB)/test/unit $(TB)/test/run_cases $(TB)/examples/c_api
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  sh tests/run_all.sh $(TB)

# includes point down the layers of src/ only (scripts/check-layout; README "How the code is
# laid out")
check-layout:
	@sh scripts/check-layout

# every path a document names is in the repository (scripts/check-doc-paths)
check-docs:
	@sh scripts/check-doc-paths

demo:
	sh scripts/install-deps
	$(MAKE) build/sluice
	sh examples/demo/run_demo.sh build/sluice

# bench/README.md; BENCH_QUICK=1 make bench is a smoke test at small sizes
bench: build/sluice build/bench/gen_items build/bench/floor
	sh bench/run.sh

BENCH_CFLAGS := -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN)
build/bench/gen_items: bench/gen_items.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<
build/bench/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(shell pkg-config --cflags sqlite3 libcrypto) -o $@ $< \
	  $(shell pkg-config --libs sqlite3 libcrypto) -lyajl

# the binary, the library, its header and sluice.pc (pkg-config: cc app.c $(pkg-config --cflags
# --libs sluice)); INSTALL_FROM=build/san installs the sanitizer build (tests/install.sh)
INSTALL_FROM ?= build
VERSION  := $(shell sed -n 's/^\#define SLUICE_VERSION "\(.*\)"/\1/p' include/sluice.h)
install: $(INSTALL_FROM)/sluice $(INSTALL_FROM)/libsluice.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(INSTALL_FROM)/sluice $(DESTDIR)$(PREFIX)/bin/sluice
	install -m 644 $(INSTALL_FROM)/libsluice.a $(DESTDIR)$(PREFIX)/lib/libsluice.a
	install -m 644 include/sluice.h $(DESTDIR)$(PREFIX)/include/sluice.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' \
	    sluice.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/sluice.pc

valgrind: build/sluice build/test/unit
	valgrind --error-exitcode=1 --leak-check=full --child-silent-after-fork=yes build/test/unit
	sh tests/soak/valgrind.sh build/sluice

# ---- fuzzing (clang libFuzzer; see fuzz/README.md) ----------------------------------------
CLANG        ?= clang
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZFLAGS    := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
                -Wall -Wextra -Wno-unused-parameter $(PKG_CFLAGS)

build/fuzz/%: fuzz/fuzz_%.c fuzz/fuzz_util.h $(SRC) $(wildcard src/*.h src/*/*.h) include/sluice.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZFLAGS) -Iinclude -Isrc $(SRC) $< -o $@ $(LIBS)

fuzz: $(addprefix build/fuzz/,$(FUZZ_TARGETS))

# bounded run of every target (FUZZ_SECONDS each, default 60); any crash fails
fuzz-smoke: fuzz
	sh fuzz/smoke.sh

# crash points x dispositions, kill -9 loop, allocation failures (tests/fault/README.md);
# SLUICE_FAULT_QUICK=1 bounds them for CI. /dev/shm keeps the many fsyncs cheap.
test-fault: build/san/sluice build/san/test/fault_alloc
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  TMPDIR=$$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp ) sh tests/fault/run.sh build/san

# sluice and dlt 1.31.0 continue each other's pipelines (tests/compat/README.md); installs the
# pinned dlt into build/dlt-venv
compat: build/sluice
	sh tests/compat/run.sh build

# every scenario case dlt can express, run through dlt 1.31.0 (tests/compat/README.md)
compat-cases:
	sh tests/compat/cases.sh

# the Singer example with the real tap from PyPI (examples/singer; needs the network once)
example-singer: build/sluice
	sh tests/singer/check.sh

soak: build/sluice
	sh tests/soak/soak.sh build/sluice

secrets: build/san/sluice
	sh tests/secrets/secrets.sh build/san/sluice

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
