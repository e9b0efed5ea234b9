#!/bin/sh
# tests/singer/check.sh — runs examples/singer/run.sh (a real Singer tap from PyPI,
# tap-spreadsheets 1.1.2, installed into examples/singer/.venv: needs the network once) with
# this checkout's build/sluice and checks what a user sees: run 1 inserts the three orders,
# run 2 (bob's order refunded in the CSV; the tap gets --state FILE) updates them by the
# tap's key_properties, and the table's final contents. `make example-singer`; .ci/run runs it.
set -eu
cd "$(dirname "$0")/../.."
[ -x build/sluice ] || { echo "singer: build/sluice is missing (make)" >&2; exit 2; }
out=$(PATH="$PWD/build:$PATH" sh examples/singer/run.sh 2>/dev/null) || {
    echo "singer: examples/singer/run.sh failed" >&2
    exit 1
}
fail=0
expect() {
    if ! printf '%s\n' "$out" | grep -qxF -- "$1"; then
        echo "singer: expected the line '$1'" >&2
        fail=1
    fi
}
[ "$(printf '%s\n' "$out" | grep -c '^  orders  3 inserted$')" = 1 ] ||
    { echo "singer: run 1 did not report 'orders  3 inserted' once" >&2; fail=1; }
[ "$(printf '%s\n' "$out" | grep -c '^  orders  3 updated$')" = 1 ] ||
    { echo "singer: run 2 did not report 'orders  3 updated' once" >&2; fail=1; }
expect "2  | bob      | 5.25   | paid"
expect "2  | bob      | refunded"
expect "1  | ann      | paid"
expect "3  | cy       | open"
[ "$(printf '%s\n' "$out" | grep -c '^(3 rows)$')" = 2 ] ||
    { echo "singer: both queries should return 3 rows" >&2; fail=1; }
if [ $fail -ne 0 ]; then
    printf '%s\n' "$out" >&2
    exit 1
fi
echo "singer: tap-spreadsheets example ok (3 inserted, then 3 updated by key, state handed back)"
