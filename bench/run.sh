#!/bin/sh
# bench/run.sh - every benchmark, one after the other (`make bench`, which builds build/sluice,
# build/bench/gen_items and build/bench/floor first):
#   1. bench/compare.py   sluice against dlt 1.31.0 (pinned in build/dlt-venv by
#                         scripts/dlt-venv) alternately on the same data, the floor program, the
#                         DuckDB native path; the table is in build/bench/compare/results.md
#   2. bench/postgres.sh  sluice into PostgreSQL against psql's \copy, merge at two sizes
#   3. bench/rest.sh      the REST source against the same items from a file
# BENCH_QUICK=1 runs each at small sizes, once (a smoke test of a few minutes, not figures).
# A failing benchmark does not stop the others; the exit status is 1 if any failed.
set -u
cd "$(dirname "$0")/.."
if [ -n "${BENCH_QUICK:-}" ] && [ "$BENCH_QUICK" != 0 ]; then
    export BENCH_REPEAT=${BENCH_REPEAT:-1}
    export BENCH_PG_ITEMS=${BENCH_PG_ITEMS:-100000}
    export BENCH_PG_MERGE_SIZES=${BENCH_PG_MERGE_SIZES:-100000 300000}
    export BENCH_PG_DELTA=${BENCH_PG_DELTA:-1000}
    export BENCH_REST_PAGES=${BENCH_REST_PAGES:-20} BENCH_REST_RUNS=${BENCH_REST_RUNS:-1}
fi
status=0
py=$(sh scripts/dlt-venv) || { echo "bench: cannot build the dlt venv (scripts/dlt-venv)" >&2; exit 1; }
for b in compare postgres rest; do
    echo "==== bench/$b"
    if [ $b = compare ]; then
        "$py" bench/compare.py || { status=1; echo "bench/compare.py FAILED" >&2; }
    else
        sh bench/$b.sh || { status=1; echo "bench/$b.sh FAILED" >&2; }
    fi
done
exit $status
