#!/bin/sh
# Incremental-run benchmark (issue "Incremental cursors and pipeline state"):
#  1. a run that finds no new items on a 1M-row merge table: sluice's overhead over the
#     source's own time (target <= 50 ms);
#  2. a run adding 10k items to that 1M-row table, next to the same 10k items loaded into an
#     empty table: the ratio shows whether the cost grows with the table (target ~1).
# The source is a command that prints only items after $SLUICE_START_VALUE, like an API
# called with `since`. Figures are medians of BENCH_REPEAT runs (default 5), side by side.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE=$ROOT/build/sluice
OUT=$ROOT/build/bench/incremental
GEN=$ROOT/build/bench/gen_items
REPEAT=${BENCH_REPEAT:-5}
BASE=${BENCH_BASE:-1000000}
[ -x "$SLUICE" ] || { echo "bench: build sluice first (make)"; exit 1; }
mkdir -p "$OUT"
if [ ! -x "$GEN" ] || [ "$ROOT/bench/gen_items.c" -nt "$GEN" ]; then
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$GEN" "$ROOT/bench/gen_items.c"
fi

cat > "$OUT/src.sh" <<SRC
#!/bin/sh
# items with id in (SLUICE_START_VALUE, BENCH_MAX], or the prepared file \$NEW_FILE
if [ -n "\${NEW_FILE:-}" ]; then exec cat "\$NEW_FILE"; fi
last=\${SLUICE_START_VALUE:-0}
n=\$((BENCH_MAX - last))
[ "\$n" -gt 0 ] || exit 0
exec "$GEN" "\$n" "\$((last + 1))"
SRC

config() { # name
    cat > "$OUT/$1.yaml" <<CFG
pipeline: $1
destination: {type: sqlite, path: $OUT/$1.db}
dataset: bench
sources:
  bench:
    resources:
      items:
        from: {command: "sh $OUT/src.sh"}
        write_disposition: merge
        primary_key: id
        incremental: {cursor_path: id}
CFG
}

now_ms() { date +%s%3N; }

# median of the numbers on stdin
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

timed_run() { # config -> prints ms
    t0=$(now_ms)
    "$SLUICE" run "$1" --progress none >/dev/null 2>"$OUT/last.err" || { cat "$OUT/last.err"; exit 1; }
    t1=$(now_ms)
    echo $((t1 - t0))
}

export SLUICE_PIPELINES_DIR="$OUT/pipelines"
rm -rf "$OUT/pipelines" "$OUT"/*.db
config big
config small

echo "bench: initial load of $BASE items"
BENCH_MAX=$BASE timed_run "$OUT/big.yaml" >/dev/null

echo "bench: $REPEAT runs finding no new items"
noop=$(for i in $(seq "$REPEAT"); do BENCH_MAX=$BASE timed_run "$OUT/big.yaml"; done | median)
src=$(for i in $(seq "$REPEAT"); do
    t0=$(now_ms); SLUICE_START_VALUE=$BASE BENCH_MAX=$BASE sh "$OUT/src.sh" >/dev/null; t1=$(now_ms)
    echo $((t1 - t0)); done | median)

echo "bench: $REPEAT runs adding 10k items to the ${BASE}-row table and to an empty table"
: > "$OUT/add_big"; : > "$OUT/add_small"
max=$BASE
for i in $(seq "$REPEAT"); do
    max=$((max + 10000))
    # the next 10k items, prepared so that neither run pays for generating them
    SLUICE_START_VALUE=$((max - 10000)) BENCH_MAX=$max sh "$OUT/src.sh" > "$OUT/small.jsonl"
    NEW_FILE="$OUT/small.jsonl" timed_run "$OUT/big.yaml" >> "$OUT/add_big"
    rm -rf "$OUT/pipelines/small" "$OUT"/small*.db
    # the same 10k items, into an empty table
    cat > "$OUT/small.yaml" <<CFG
pipeline: small
destination: {type: sqlite, path: $OUT/small.db}
dataset: bench
sources:
  bench:
    resources:
      items:
        from: {file: $OUT/small.jsonl}
        write_disposition: merge
        primary_key: id
CFG
    timed_run "$OUT/small.yaml" >> "$OUT/add_small"
done
big=$(median < "$OUT/add_big")
small=$(median < "$OUT/add_small")

rows=$("$SLUICE" pipeline big query "SELECT count(*) FROM items" --format csv | tail -1)
echo
printf '%-52s %10s\n' "measure (median of $REPEAT)" "ms"
printf '%-52s %10s\n' "no-new-items run on a $rows-row table" "$noop"
printf '%-52s %10s\n' "  the source's own time" "$src"
printf '%-52s %10s\n' "  sluice overhead (target <= 50)" "$((noop - src))"
printf '%-52s %10s\n' "add 10k items to the big table" "$big"
printf '%-52s %10s\n' "add the same 10k items to an empty table" "$small"
awk -v b="$big" -v s="$small" 'BEGIN { printf "%-52s %10.2f\n", "  ratio big/empty (cost growth with the table)", b / s }'
