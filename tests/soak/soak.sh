#!/bin/sh
# tests/soak/soak.sh — many incremental runs of one pipeline: memory and descriptors stay flat,
# and the data is exactly right at the end.
#
#   sh tests/soak/soak.sh [SLUICE_BIN]          (default build/sluice; what `make soak` runs)
#
# One pipeline (SQLite destination, command source tests/soak/gen.sh: 3 new items per run, a
# boundary duplicate and an old item; write_disposition merge on id; incremental on seq) is run
# SOAK_RUNS times (default 200). Every SOAK_RESTART_EVERY runs (default 20) the pipelines dir
# is deleted first, so that run restores its state from the destination. For every run it
# records the sluice process's peak RSS (/usr/bin/time -v), its open descriptors while the
# command source runs (counted from /proc/<pid>/fd by gen.sh) and at exit (an LD_PRELOAD shim,
# fdcount.c, compiled here with $CC). It fails when
#   - a run fails;
#   - the average peak RSS of the last 20 runs is not within 10% of the first 20's;
#   - the descriptor counts of the last 20 runs differ from the first 20's (sums compared);
#   - the table is not exactly ids 1..3*RUNS, each once, from its own run, or the resource
#     state does not say RUNS runs, or _dlt_loads does not hold RUNS loads.
# The figures are printed (every SOAK_RESTART_EVERY-th run, and the first/last averages).
# SOAK_KEEP=1 keeps the scratch dir. Exit 0 ok, 1 failed, 2 setup problem.
set -u

here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-build/sluice}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
RUNS=${SOAK_RUNS:-200}
RESTART=${SOAK_RESTART_EVERY:-20}
WINDOW=20
CC=${CC:-cc}

[ -x "$BIN" ] || { echo "soak: $BIN is not executable" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "soak: /usr/bin/time (GNU time) is required" >&2; exit 2; }
[ "$RUNS" -ge $((2 * WINDOW)) ] || { echo "soak: SOAK_RUNS must be >= $((2 * WINDOW))" >&2; exit 2; }

tmp=$(mktemp -d /tmp/sluice-soak-XXXXXX) || exit 2
cleanup() { [ "${SOAK_KEEP:-0}" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT
"$CC" -shared -fPIC -O2 -o "$tmp/fdcount.so" "$here/fdcount.c" || { echo "soak: cannot build the fd shim" >&2; exit 2; }

work=$tmp/work
mkdir -p "$work"
cp "$here/gen.sh" "$work/gen.sh"
cat > "$work/config.yaml" <<'YAML'
pipeline: soak
destination: {type: sqlite, path: soak.db}
dataset: ds
sources:
  src:
    resources:
      events:
        from: {command: "sh gen.sh"}
        write_disposition: merge
        primary_key: id
        incremental:
          cursor_path: seq
YAML
export SLUICE_PIPELINES_DIR="$tmp/pipelines"
unset SLUICE_FAULT

fail() {
    echo "soak: FAIL: $*" >&2
    SOAK_KEEP=1
    echo "soak: scratch dir kept: $tmp" >&2
    exit 1
}

figures=$tmp/figures.tsv
: > "$figures"
k=1
while [ "$k" -le "$RUNS" ]; do
    if [ "$k" -gt 1 ] && [ $(( (k - 1) % RESTART )) -eq 0 ]; then
        rm -rf "$SLUICE_PIPELINES_DIR"
    fi
    rm -f "$tmp/fd_mid" "$tmp/fd_exit"
    (cd "$work" && SOAK_FD_MID="$tmp/fd_mid" SOAK_FD_EXIT="$tmp/fd_exit" \
        /usr/bin/time -v -o "$tmp/time" env LD_PRELOAD="$tmp/fdcount.so" \
        "$BIN" run config.yaml --progress none >"$tmp/out" 2>"$tmp/err")
    rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$tmp/err" >&2
        fail "run $k exited $rc"
    fi
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): *//p' "$tmp/time")
    mid=$(cat "$tmp/fd_mid" 2>/dev/null | tr -d ' ')
    ext=$(cat "$tmp/fd_exit" 2>/dev/null | tr -d ' ')
    [ -n "$rss" ] || fail "run $k: no peak RSS from /usr/bin/time"
    [ -n "$mid" ] || fail "run $k: gen.sh could not count the sluice process's descriptors"
    [ -n "$ext" ] || fail "run $k: no descriptor count at exit (did sluice _exit?)"
    printf '%d\t%d\t%d\t%d\n' "$k" "$rss" "$mid" "$ext" >> "$figures"
    k=$((k + 1))
done

echo "run  peak_rss_kb  fds_during_extract  fds_at_exit"
awk -v every="$RESTART" -v runs="$RUNS" \
    '$1 == 1 || $1 % every == 0 || $1 % every == 1 || $1 == runs { printf "%4d %12d %19d %12d\n", $1, $2, $3, $4 }' "$figures"

summary=$(awk -v w="$WINDOW" -v runs="$RUNS" '
    $1 <= w        { r1 += $2; m1 += $3; e1 += $4 }
    $1 > runs - w  { r2 += $2; m2 += $3; e2 += $4 }
    END { printf "%.1f %.1f %.2f %.2f %.2f %.2f", r1 / w, r2 / w, m1 / w, m2 / w, e1 / w, e2 / w }' "$figures")
set -- $summary
echo "peak RSS (kB), average of runs 1-$WINDOW: $1, of runs $((RUNS - WINDOW + 1))-$RUNS: $2"
echo "open fds during extract, average first/last $WINDOW: $3 / $4"
echo "open fds at exit, average first/last $WINDOW: $5 / $6"
awk -v a="$1" -v b="$2" 'BEGIN { d = b - a; if (d < 0) d = -d; exit !(d <= 0.10 * a) }' ||
    fail "peak RSS not flat: $1 kB -> $2 kB (more than 10%)"
[ "$3" = "$4" ] || fail "descriptors during extract not flat: $3 -> $4"
[ "$5" = "$6" ] || fail "descriptors at exit not flat: $5 -> $6"

q() { (cd "$work" && "$BIN" pipeline soak query "$1" --format csv) || fail "query failed: $1"; }
n=$((3 * RUNS))
got=$(q "SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi, sum(run = (id + 2) / 3) AS own_run FROM events" | tail -n 1)
[ "$got" = "$n,$n,1,$n,$n" ] || fail "events: expected $n,$n,1,$n,$n (rows,ids,min,max,own run), got $got"
got=$(q "SELECT count(*) AS n FROM events__payload__tags" | tail -n 1)
[ "$got" = "$((2 * n))" ] || fail "events__payload__tags: expected $((2 * n)) rows, got $got"
got=$(q "SELECT count(*) AS n FROM events__payload__tags t LEFT JOIN events e ON t._dlt_parent_id = e._dlt_id WHERE e._dlt_id IS NULL" | tail -n 1)
[ "$got" = 0 ] || fail "events__payload__tags: $got orphan rows"
got=$(q "SELECT count(*) AS n FROM _dlt_loads" | tail -n 1)
[ "$got" = "$RUNS" ] || fail "_dlt_loads: expected $RUNS loads, got $got"
runs=$( (cd "$work" && "$BIN" pipeline soak info --json) | tr -d ' \n' | sed -n 's/.*"runs":\([0-9]*\).*/\1/p')
[ "$runs" = "$RUNS" ] || fail "resource state: expected runs $RUNS, got '${runs}'"
echo "soak: ok: $RUNS runs, $n rows, state runs=$runs"
