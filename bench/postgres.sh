#!/bin/sh
# bench/postgres.sh — sluice into PostgreSQL next to PostgreSQL's own bulk path (`make bench`).
#
#  1. End to end: BENCH_PG_ITEMS (default 1M) JSON-lines items (bench/gen_items: a parent row and
#     0-4 `items__tags` rows each) loaded by `sluice run` (append) into a fresh dataset; then the
#     very rows it loaded are written out with `\copy ... TO` and loaded again by
#     `psql -c '\copy ... FROM'` (text COPY, one transaction) into tables of the same
#     definition: the native path on the same rows. Prints rows/s of both, the ratio
#     (target >= 0.70) and sluice's peak RSS (target <= 100 MiB).
#  2. Merge: a table of each size in BENCH_PG_MERGE_SIZES (default 1M and 10M items, with their
#     nested rows) is filled by an append run (root_key, so nested rows carry _dlt_root_id),
#     one small merge creates the key indexes, then BENCH_PG_DELTA (default 10k) items are
#     merged on `id` (half of them update rows spread over the table, half are new), timed.
#     Prints the seconds per size and the ratio of the largest to the smallest (target <= 2).
# Figures are medians of BENCH_REPEAT (default 3) runs. The server is a private cluster of
# scripts/pg-start in build/pg-bench, durable (fsync on: SLUICE_PG_DURABLE=1), stopped at the
# end. The machines are shared and noisy: trust the ratios, not the absolutes.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/build/bench/postgres
SLUICE=$ROOT/build/sluice
GEN=$ROOT/build/bench/gen_items
ITEMS=${BENCH_PG_ITEMS:-1000000}
SIZES=${BENCH_PG_MERGE_SIZES:-1000000 10000000}
DELTA=${BENCH_PG_DELTA:-10000}
REPEAT=${BENCH_REPEAT:-3}
TIME_BIN=/usr/bin/time
[ -x "$SLUICE" ] || { echo "bench: build sluice first (make)"; exit 1; }
[ -x "$TIME_BIN" ] || TIME_BIN=
mkdir -p "$OUT"
if [ ! -x "$GEN" ] || [ bench/gen_items.c -nt "$GEN" ]; then
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$GEN" bench/gen_items.c
fi

export SLUICE_PG_DIR=$ROOT/build/pg-bench SLUICE_PG_DURABLE=1
eval "$(sh scripts/pg-start --env)"
trap 'sh scripts/pg-stop >/dev/null 2>&1' EXIT
DSN=$SLUICE_TEST_PG_DSN
export SLUICE_PIPELINES_DIR=$OUT/pipelines
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" "$@"; }
sql() { PGOPTIONS='-c client_min_messages=warning' psql_q -c "$1" >/dev/null; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
# server_cpu: CPU seconds the cluster has used so far: the backends it reaped (the postmaster's
# cutime + cstime) and its live processes (WAL writer, checkpointer ...); read from /proc
PM_PID=$(head -n 1 "$SLUICE_PG_DIR/data/postmaster.pid" 2>/dev/null || echo)
server_cpu() {
    [ -n "$PM_PID" ] && [ -r "/proc/$PM_PID/stat" ] || { echo 0; return; }
    {
        sed 's/.*) //' "/proc/$PM_PID/stat" | awk '{ print $14 + $15 }'
        for c in $(cat "/proc/$PM_PID/task/$PM_PID/children" 2>/dev/null); do
            sed 's/.*) //' "/proc/$c/stat" 2>/dev/null | awk '{ print $12 + $13 }'
        done
    } | awk -v hz="$(getconf CLK_TCK)" '{ t += $1 } END { printf "%.2f\n", t / hz }'
}
cpu_delta() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

# ---- 1. end to end ---------------------------------------------------------------------------
data=$OUT/items_$ITEMS.jsonl
[ -s "$data" ] && [ "$data" -nt "$GEN" ] || "$GEN" "$ITEMS" > "$data"
cat > "$OUT/e2e.yaml" <<EOF
pipeline: bench_pg_e2e
destination: {type: postgres, dsn: "$DSN"}
dataset: bench_e2e
sources:
  bench:
    resources:
      items:
        from: {file: "$data"}
EOF
: > "$OUT/e2e.ms"
: > "$OUT/e2e.rss"
: > "$OUT/e2e.cpu"
: > "$OUT/e2e.scpu"
echo "bench: $ITEMS items end to end into PostgreSQL ($REPEAT runs)"
r=0
while [ $r -lt "$REPEAT" ]; do
    r=$((r + 1))
    sql "DROP SCHEMA IF EXISTS bench_e2e CASCADE"
    rm -rf "$SLUICE_PIPELINES_DIR"
    c0=$(server_cpu)
    t0=$(now_ms)
    if [ -n "$TIME_BIN" ]; then
        "$TIME_BIN" -v -o "$OUT/e2e.time" "$SLUICE" run "$OUT/e2e.yaml" --progress none \
            > "$OUT/e2e.out" 2>&1
        awk -F': *' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' \
            "$OUT/e2e.time" >> "$OUT/e2e.rss"
        awk -F': *' '/User time|System time/ { t += $2 } END { printf "%.2f\n", t }' \
            "$OUT/e2e.time" >> "$OUT/e2e.cpu"
    else
        "$SLUICE" run "$OUT/e2e.yaml" --progress none > "$OUT/e2e.out" 2>&1
    fi
    echo $(($(now_ms) - t0)) >> "$OUT/e2e.ms"
    sleep 0.2 # the backend's exit is reaped
    cpu_delta "$c0" "$(server_cpu)" >> "$OUT/e2e.scpu"
done
rows=$(psql_q -tA -c "SELECT (SELECT count(*) FROM bench_e2e.items) + (SELECT count(*) FROM bench_e2e.items__tags)")
# the same rows as COPY text files, into tables of the same definition
psql_q -c "\\copy bench_e2e.items TO '$OUT/items.copy'" >/dev/null
psql_q -c "\\copy bench_e2e.items__tags TO '$OUT/items__tags.copy'" >/dev/null
: > "$OUT/native.ms"
: > "$OUT/native.cpu"
: > "$OUT/native.scpu"
r=0
while [ $r -lt "$REPEAT" ]; do
    r=$((r + 1))
    sql "DROP SCHEMA IF EXISTS bench_native CASCADE; CREATE SCHEMA bench_native;
         CREATE TABLE bench_native.items (LIKE bench_e2e.items INCLUDING ALL);
         CREATE TABLE bench_native.items__tags (LIKE bench_e2e.items__tags INCLUDING ALL)"
    c0=$(server_cpu)
    t0=$(now_ms)
    if [ -n "$TIME_BIN" ]; then
        "$TIME_BIN" -v -o "$OUT/native.time" psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" \
            -c "BEGIN" -c "\\copy bench_native.items FROM '$OUT/items.copy'" \
            -c "\\copy bench_native.items__tags FROM '$OUT/items__tags.copy'" -c "COMMIT" \
            >/dev/null
        awk -F': *' '/User time|System time/ { t += $2 } END { printf "%.2f\n", t }' \
            "$OUT/native.time" >> "$OUT/native.cpu"
    else
        psql_q -c "BEGIN" -c "\\copy bench_native.items FROM '$OUT/items.copy'" \
            -c "\\copy bench_native.items__tags FROM '$OUT/items__tags.copy'" -c "COMMIT" \
            >/dev/null
    fi
    echo $(($(now_ms) - t0)) >> "$OUT/native.ms"
    sleep 0.2
    cpu_delta "$c0" "$(server_cpu)" >> "$OUT/native.scpu"
done
got=$(psql_q -tA -c "SELECT (SELECT count(*) FROM bench_native.items) + (SELECT count(*) FROM bench_native.items__tags)")
[ "$got" = "$rows" ] || { echo "bench: native path loaded $got rows, sluice $rows" >&2; exit 1; }
sql "DROP SCHEMA IF EXISTS bench_native CASCADE; DROP SCHEMA IF EXISTS bench_e2e CASCADE"
rm -f "$OUT/items.copy" "$OUT/items__tags.copy"
e2e_ms=$(median < "$OUT/e2e.ms")
nat_ms=$(median < "$OUT/native.ms")
rss=$( [ -s "$OUT/e2e.rss" ] && sort -n "$OUT/e2e.rss" | tail -n 1 || echo -)
cpu_of() { [ -s "$1" ] && median < "$1" || echo -; }

# ---- 2. merge of a delta into large tables ----------------------------------------------------
# delta FILE SIZE RUN: DELTA items; the first half update ids spread over 1..SIZE, the second
# half are new ids above SIZE (a new range per run)
delta() {
    "$GEN" "$DELTA" | awk -v size="$2" -v run="$3" -v half=$((DELTA / 2)) '{
        if (NR <= half) id = (NR * 7919 + run * 104729) % size + 1
        else id = size + run * 1000000 + NR
        sub(/^\{"id": [0-9]+/, "{\"id\": " id)
        print
    }' > "$1"
}
: > "$OUT/merge.txt"
for size in $SIZES; do
    ds=bench_merge_$size
    base=$OUT/items_$size.jsonl
    [ -s "$base" ] && [ "$base" -nt "$GEN" ] || "$GEN" "$size" > "$base"
    for kind in base delta; do
        {
            echo "pipeline: bench_pg_${kind}_$size"
            echo "destination: {type: postgres, dsn: \"$DSN\"}"
            echo "dataset: $ds"
            echo "sources:"
            echo "  bench:"
            echo "    root_key: true"
            echo "    resources:"
            echo "      items:"
            if [ $kind = base ]; then
                echo "        from: {file: \"$base\"}"
            else
                echo "        from: {file: \"$OUT/delta.jsonl\"}"
                echo "        write_disposition: merge"
                echo "        primary_key: id"
            fi
        } > "$OUT/$kind-$size.yaml"
    done
    sql "DROP SCHEMA IF EXISTS $ds CASCADE; DROP SCHEMA IF EXISTS ${ds}_staging CASCADE"
    rm -rf "$SLUICE_PIPELINES_DIR"
    echo "bench: filling a table of $size items"
    "$SLUICE" run "$OUT/base-$size.yaml" --progress none > "$OUT/base.out" 2>&1 ||
        { cat "$OUT/base.out"; exit 1; }
    # warm-up: creates the key indexes (not timed), then the stats the planner will see
    delta "$OUT/delta.jsonl" "$size" 0
    "$SLUICE" run "$OUT/delta-$size.yaml" --progress none > "$OUT/delta.out" 2>&1 ||
        { cat "$OUT/delta.out"; exit 1; }
    sql "VACUUM ANALYZE $ds.items"
    sql "VACUUM ANALYZE $ds.items__tags"
    : > "$OUT/merge_$size.ms"
    r=0
    while [ $r -lt "$REPEAT" ]; do
        r=$((r + 1))
        delta "$OUT/delta.jsonl" "$size" $r
        t0=$(now_ms)
        "$SLUICE" run "$OUT/delta-$size.yaml" --progress none > "$OUT/delta.out" 2>&1 ||
            { cat "$OUT/delta.out"; exit 1; }
        echo $(($(now_ms) - t0)) >> "$OUT/merge_$size.ms"
    done
    n=$(psql_q -tA -c "SELECT count(*) - count(DISTINCT id) FROM $ds.items")
    [ "$n" = 0 ] || { echo "bench: merge left $n duplicate ids in $ds.items" >&2; exit 1; }
    echo "$size $(median < "$OUT/merge_$size.ms")" >> "$OUT/merge.txt"
    sql "DROP SCHEMA IF EXISTS $ds CASCADE; DROP SCHEMA IF EXISTS ${ds}_staging CASCADE"
done

# ---- report ------------------------------------------------------------------------------------
echo
echo "PostgreSQL, $ITEMS items end to end ($rows rows: items + items__tags), median of $REPEAT"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); CPU s: the client process"
echo "and the server's processes, from /proc):"
printf '  %-34s %8s %12s %10s %10s\n' "" "wall s" "rows/s" "client CPU" "server CPU"
printf '  %-34s %8s %12s %10s %10s\n' "psql \\copy of the same rows" "$(secs "$nat_ms")" \
    "$(awk -v r="$rows" -v ms="$nat_ms" 'BEGIN { printf "%.0f", r / (ms / 1000) }')" \
    "$(cpu_of "$OUT/native.cpu")" "$(cpu_of "$OUT/native.scpu")"
printf '  %-34s %8s %12s %10s %10s\n' "sluice run (JSON lines → tables)" "$(secs "$e2e_ms")" \
    "$(awk -v r="$rows" -v ms="$e2e_ms" 'BEGIN { printf "%.0f", r / (ms / 1000) }')" \
    "$(cpu_of "$OUT/e2e.cpu")" "$(cpu_of "$OUT/e2e.scpu")"
awk -v a="$nat_ms" -v b="$e2e_ms" -v rss="$rss" 'BEGIN {
    printf "  sluice/native rows/s: %.2f (target >= 0.70); sluice peak RSS %s MiB (target <= 100)\n",
        a / b, rss }'
echo
echo "merge of $DELTA items (half updates, half new) on id, median of $REPEAT:"
awk '{ printf "  into %9d items: %6.2f s\n", $1, $2 / 1000 } NR == 1 { lo = $2; lo_n = $1 }
     { hi = $2; hi_n = $1 }
     END { if (NR > 1) printf "  %d/%d ratio: %.2f (target <= 2)\n", hi_n, lo_n, hi / lo }' "$OUT/merge.txt"
