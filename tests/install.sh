#!/bin/sh
# install.sh TB — `make install` into a scratch prefix (from the build tree TB), then build
# examples/c_api.c with exactly the link line the README gives,
#   cc app.c $(pkg-config --cflags --libs sluice)
# (PKG_CONFIG_PATH pointing at the prefix), and run it. With TB = build/san the program is
# linked with the sanitizers too, as the library was built with them. Prints
# `install: N passed, N failed`.
set -u
if [ $# -ne 1 ]; then
    echo "usage: sh tests/install.sh BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
tb=${1%/}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-install-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
extra=
case "$tb" in */san|san) extra="-fsanitize=address,undefined" ;; esac
fail() {
    echo "FAIL install: $1"
    [ -s "$tmp/log" ] && sed 's/^/    /' "$tmp/log"
    echo "install: 0 passed, 1 failed"
    exit 1
}
make -s -C "$here" install PREFIX="$tmp/prefix" INSTALL_FROM="$tb" > "$tmp/log" 2>&1 ||
    fail "make install PREFIX=... INSTALL_FROM=$tb"
[ -f "$tmp/prefix/lib/pkgconfig/sluice.pc" ] || fail "no lib/pkgconfig/sluice.pc installed"
flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs sluice 2> "$tmp/log") ||
    fail "pkg-config --cflags --libs sluice"
# shellcheck disable=SC2086
cc -std=c11 "$here/examples/c_api.c" $flags $extra -o "$tmp/c_api" > "$tmp/log" 2>&1 ||
    fail "cc examples/c_api.c \$(pkg-config --cflags --libs sluice)"
mkdir -p "$tmp/run/pipelines"
(cd "$tmp/run" && SLUICE_PIPELINES_DIR="$tmp/run/pipelines" "$tmp/c_api" > "$tmp/log" 2>&1) ||
    fail "the program built with the installed library"
echo "ok install: make install, pkg-config --cflags --libs sluice, examples/c_api.c"
echo "install: 1 passed, 0 failed"
