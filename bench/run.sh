#!/bin/sh
# bench/run.sh - the floor-vs-sluice benchmark (`make bench`).
#
# Builds bench/gen_items.c and bench/floor.c into build/bench/, generates the JSON-lines
# datasets (1M and 10M items of ~156 bytes, shaped as in PERF.md), and loads each one into a
# fresh SQLite database twice: once with the hand-written floor program (yajl streaming +
# prepared INSERTs in one transaction, the lower bound) and once with build/sluice, if it has
# been built. It prints items/s for both, the ratio sluice/floor, sluice's peak RSS (from
# /usr/bin/time -v) and the RSS ratio between the largest and smallest size, which should
# stay near 1 because sluice must stream in bounded memory.
#
# Environment:
#   BENCH_SIZES  item counts to run (default "1000000 10000000")
#   CC           C compiler (default cc)
#
# The machines are shared and noisy (PERF.md: +-20%): trust the ratios, not the absolutes.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/build/bench"
CC=${CC:-cc}
BENCH_SIZES=${BENCH_SIZES:-"1000000 10000000"}
CFLAGS="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow"

mkdir -p "$OUT"

# ---- build (only when the source is newer, so the datasets are not regenerated needlessly) --
if [ ! -x "$OUT/gen_items" ] || [ bench/gen_items.c -nt "$OUT/gen_items" ]; then
    echo "bench: building gen_items"
    $CC $CFLAGS -o "$OUT/gen_items" bench/gen_items.c
fi
if [ ! -x "$OUT/floor" ] || [ bench/floor.c -nt "$OUT/floor" ]; then
    echo "bench: building floor"
    # shellcheck disable=SC2046
    $CC $CFLAGS $(pkg-config --cflags sqlite3 libcrypto) -o "$OUT/floor" bench/floor.c \
        $(pkg-config --libs sqlite3 libcrypto) -lyajl
fi

# ---- peak-RSS tool -----------------------------------------------------------------------
TIME_BIN=/usr/bin/time
if [ ! -x "$TIME_BIN" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing GNU time for peak-RSS figures"
    apt-get install -y -q time >/dev/null || true
fi
if [ ! -x "$TIME_BIN" ]; then
    echo "bench: $TIME_BIN not found; sluice peak RSS will not be measured"
    TIME_BIN=
fi

SLUICE="$ROOT/build/sluice"
HAVE_SLUICE=0
if [ -x "$SLUICE" ]; then
    HAVE_SLUICE=1
fi

# items_1m / items_10m for the standard sizes, items_<n> otherwise.
label() {
    case "$1" in
        *000000) echo "${1%000000}m" ;;
        *000) echo "${1%000}k" ;;
        *) echo "$1" ;;
    esac
}

# now: wall-clock seconds with nanoseconds (GNU date).
now() {
    date +%s.%N
}

# rate N START END: items per second, rounded.
rate() {
    awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; if (d <= 0) d = 1e-9; printf "%.0f", n / d }'
}

RESULTS="$OUT/results.txt"
: >"$RESULTS"

for n in $BENCH_SIZES; do
    lbl=$(label "$n")
    data="$OUT/items_$lbl.jsonl"

    # ---- dataset (regenerated when missing or older than the generator) ----------------
    if [ ! -s "$data" ] || [ "$OUT/gen_items" -nt "$data" ]; then
        echo "bench: generating $data ($n items)"
        "$OUT/gen_items" "$n" >"$data.tmp"
        mv "$data.tmp" "$data"
    fi

    # ---- floor ---------------------------------------------------------------------------
    fdb="$OUT/floor_$lbl.db"
    rm -f "$fdb" "$fdb-journal"
    echo "bench: floor on $lbl"
    fline=$("$OUT/floor" "$data" "$fdb")
    echo "  $fline"
    floor_ips=$(echo "$fline" | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "items/s") print $i }')
    if command -v sqlite3 >/dev/null 2>&1; then
        got=$(sqlite3 "$fdb" "SELECT count(*) FROM items")
        if [ "$got" != "$n" ]; then
            echo "bench: floor wrote $got items, expected $n" >&2
            exit 1
        fi
    fi
    rm -f "$fdb" "$fdb-journal"

    # ---- sluice --------------------------------------------------------------------------
    sluice_ips=-
    rss_mib=-
    if [ "$HAVE_SLUICE" = 1 ]; then
        sdb="$OUT/bench.db"
        cfg="$OUT/bench_$lbl.yaml"
        rm -f "$sdb" "$sdb-journal" "$sdb-wal" "$sdb-shm"
        cat >"$cfg" <<EOF
pipeline: bench_items
destination: {type: sqlite, path: $sdb}
dataset: bench
sources:
  bench:
    resources:
      items:
        from: {file: $data}
EOF
        pdir=$(mktemp -d "$OUT/pipelines.XXXXXX")
        tlog="$OUT/sluice_$lbl.time"
        echo "bench: sluice on $lbl"
        t0=$(now)
        if [ -n "$TIME_BIN" ]; then
            set +e
            SLUICE_PIPELINES_DIR="$pdir" "$TIME_BIN" -v -o "$tlog" \
                "$SLUICE" run "$cfg" --progress none >"$OUT/sluice_$lbl.out" 2>&1
            src=$?
            set -e
        else
            set +e
            SLUICE_PIPELINES_DIR="$pdir" "$SLUICE" run "$cfg" --progress none \
                >"$OUT/sluice_$lbl.out" 2>&1
            src=$?
            set -e
        fi
        t1=$(now)
        rm -rf "$pdir"
        if [ "$src" -ne 0 ]; then
            echo "  sluice failed (exit $src); last lines of $OUT/sluice_$lbl.out:"
            tail -n 5 "$OUT/sluice_$lbl.out" | sed 's/^/    /'
            sluice_ips=failed
        else
            sluice_ips=$(rate "$n" "$t0" "$t1")
            echo "  sluice: $n items, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s, $sluice_ips items/s"
            if [ -n "$TIME_BIN" ]; then
                rss_kb=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$tlog")
                rss_mib=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
            fi
        fi
    fi
    echo "$n $lbl $floor_ips $sluice_ips $rss_mib" >>"$RESULTS"
done

# ---- report ------------------------------------------------------------------------------
# results.txt columns: items label floor_ips sluice_ips sluice_rss_mib ("-" when not measured)
echo
printf '%-10s %14s %14s %14s %16s\n' size "floor items/s" "sluice items/s" "sluice/floor" \
    "sluice RSS MiB"
awk '{
    ratio = ($4 ~ /^[0-9]+$/ && $3 > 0) ? sprintf("%.2f", $4 / $3) : "-"
    printf "%-10s %14s %14s %14s %16s\n", $1, $3, $4, ratio, $5
}' "$RESULTS"

if [ "$HAVE_SLUICE" = 0 ]; then
    echo
    echo "sluice was not built (no $SLUICE): floor figures only; run 'make' first."
else
    # Peak RSS must not grow with the input: largest size (10M) against smallest (1M).
    awk 'NR == 1 || $1 + 0 < lo { lo = $1 + 0; lo_lbl = $2; lo_rss = $5 }
         NR == 1 || $1 + 0 > hi { hi = $1 + 0; hi_lbl = $2; hi_rss = $5 }
         END {
             if (hi != lo && lo_rss ~ /^[0-9.]+$/ && hi_rss ~ /^[0-9.]+$/ && lo_rss > 0)
                 printf "\nsluice peak RSS ratio %s/%s: %.2f\n", hi_lbl, lo_lbl, hi_rss / lo_rss
             else
                 print "\nsluice peak RSS ratio: n/a (needs two sizes with RSS figures)"
         }' "$RESULTS"
fi
