#!/bin/sh
# bench/rest.sh - the REST API source against the same items read from a local file (`make bench`).
#
# Generates PAGES x PER_PAGE items (default 200 x 1000, ~156 bytes each, shaped as in PERF.md)
# with bench/gen_items.c, serves them from the local mock REST API (tests/fixtures/rest_mock.py,
# json_link pages, no gzip) and loads them into a fresh SQLite database with a `rest_api`
# source; then loads the same items from the JSON-lines file with a file source. Each load
# runs RUNS times (default 3) and the median is kept. Prints rows/s and peak RSS (GNU time)
# for both and the ratio file/REST: the cost of HTTP, the mock's own Python time included.
# A second REST load of PAGES/10 pages shows that peak RSS does not grow with the number of
# pages (pages stream through: one response at a time is held).
#
# Environment: BENCH_REST_PAGES (200), BENCH_REST_PER_PAGE (1000), BENCH_REST_RUNS (3).
# The machines are shared and noisy (PERF.md: +-20%): trust the ratios, not the absolutes.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/build/bench/rest"
CC=${CC:-cc}
PAGES=${BENCH_REST_PAGES:-200}
PER_PAGE=${BENCH_REST_PER_PAGE:-1000}
RUNS=${BENCH_REST_RUNS:-3}
SLUICE="$ROOT/build/sluice"
TIME_BIN=/usr/bin/time
CFLAGS="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow"

[ -x "$SLUICE" ] || { echo "bench/rest.sh: build/sluice is missing (make)" >&2; exit 2; }
[ -x "$TIME_BIN" ] || { echo "bench/rest.sh: needs GNU time ($TIME_BIN)" >&2; exit 2; }
mkdir -p "$OUT/api"
if [ ! -x "$ROOT/build/bench/gen_items" ] || [ bench/gen_items.c -nt "$ROOT/build/bench/gen_items" ]; then
    $CC $CFLAGS -o "$ROOT/build/bench/gen_items" bench/gen_items.c
fi
N=$((PAGES * PER_PAGE))
data="$OUT/api/items.jsonl"
if [ ! -s "$data" ] || [ "$(wc -l < "$data")" -ne "$N" ]; then
    "$ROOT/build/bench/gen_items" "$N" > "$data"
fi
small=$((PAGES / 10 * PER_PAGE))
head -n "$small" "$data" > "$OUT/api/small.jsonl"

printf '{"page_size": %d, "gzip": false}\n' "$PER_PAGE" > "$OUT/rules.json"
rm -f "$OUT/port"
python3 tests/fixtures/rest_mock.py --port-file "$OUT/port" --data "$OUT/api" \
    --rules "$OUT/rules.json" > "$OUT/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null' EXIT
i=0
while [ ! -s "$OUT/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
url=http://127.0.0.1:$(cat "$OUT/port")

config() { # config NAME SOURCE_YAML
    printf 'pipeline: %s\ndestination: {type: sqlite, path: %s/%s.db}\ndataset: bench\nsources:\n  bench:\n%s\n' \
        "$1" "$OUT" "$1" "$2" > "$OUT/$1.yaml"
}
config rest "    rest_api:
      client: {base_url: \"$url\", paginator: json_link}
      resources:
        - {name: items, endpoint: {path: json_link/items, data_selector: data}}"
config rest_small "    rest_api:
      client: {base_url: \"$url\", paginator: json_link}
      resources:
        - {name: items, endpoint: {path: json_link/small, data_selector: data}}"
config file "    resources:
      items:
        from: {file: $data}"

# one NAME: a fresh load; prints "seconds peak_kib rows cpu_seconds" (cpu: sluice's own)
one() {
    rm -rf "$OUT/$1.db" "$OUT/$1__bench.db" "$OUT/pl"
    t0=$(date +%s.%N)
    SLUICE_PIPELINES_DIR="$OUT/pl" "$TIME_BIN" -v -o "$OUT/$1.time" \
        "$SLUICE" run "$OUT/$1.yaml" --progress none > "$OUT/$1.out" 2>&1 ||
        { cat "$OUT/$1.out" >&2; exit 1; }
    t1=$(date +%s.%N)
    rows=$(SLUICE_PIPELINES_DIR="$OUT/pl" "$SLUICE" pipeline "$1" query \
        "SELECT count(*) FROM items" --format csv | tail -n 1)
    kib=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$OUT/$1.time")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.3f", s }' \
        "$OUT/$1.time")
    echo "$t0 $t1 $kib $rows $cpu" | awk '{ printf "%.3f %d %d %.3f\n", $2 - $1, $3, $4, $5 }'
}

# median NAME: RUNS loads, the median time and its RSS; checks the row count
median() {
    r=1
    : > "$OUT/$1.runs"
    while [ $r -le "$RUNS" ]; do
        one "$1" >> "$OUT/$1.runs"
        r=$((r + 1))
    done
    sort -n "$OUT/$1.runs" | awk -v k=$(((RUNS + 1) / 2)) 'NR == k'
}

echo "bench/rest.sh: $PAGES pages x $PER_PAGE items = $N items, $RUNS runs each (median)"
rest=$(median rest)
file=$(median file)
small_rest=$(median rest_small)
printf '%s\n%s\n%s\n' "$rest" "$file" "$small_rest" | awk -v n=$N -v sn=$small \
    -v pages=$PAGES '
    NR == 1 { rt = $1; rk = $2; rn = $3; rc = $4 }
    NR == 2 { ft = $1; fk = $2; fn = $3; fc = $4 }
    NR == 3 { st = $1; sk = $2; sc = $4 }
    END {
        if (rn != n || fn != n) { printf "bench/rest.sh: rows %d (rest) %d (file), expected %d\n", rn, fn, n; exit 1 }
        f = "  %-26s %8.0f rows/s (%5.2f s)  %8.0f rows per CPU s (%5.2f s)  peak RSS %4.0f MiB\n"
        printf f, "REST (mock, " pages " pages)", n / rt, rt, n / rc, rc, rk / 1024
        printf f, "file (JSON lines)", n / ft, ft, n / fc, fc, fk / 1024
        printf f, "REST (mock, " pages / 10 " pages)", sn / st, st, sn / sc, sc, sk / 1024
        printf "  HTTP overhead: REST/file %.2fx wall time (the mock included), %.2fx sluice CPU time; peak RSS %d pages / %d pages: %.2f\n", rt / ft, rc / fc, pages, pages / 10, rk / sk
    }'
