#!/bin/sh
# run_all.sh TB — every test of one build tree (TB = build/san or build):
#   1. $TB/test/unit                      the C unit tests ("unit: N passed, N failed")
#   2. $TB/examples/c_api, if present     the C API example, run in a temp dir (one test)
#   3. $TB/test/run_cases $TB/sluice tests/cases
#                                        the cases ("cases: N passed, N failed, N skipped")
#   4. the same runner on tests/bad, the bad-input catalogue
#   4b. both again with RUN_CASES_DEST=postgres (SLUICE_TEST_PG_DSN set) and =duckdb (libduckdb.so
#       found: $SLUICE_DUCKDB_LIB, else deps/duckdb/; without it the pass is skipped, or failed
#       when SLUICE_TEST_DUCKDB_REQUIRED=1 as .ci/run sets), side by side
#   5. tests/readme/tutorial.sh $TB     the README's tutorial as written ("readme: ...")
#   6. tests/install.sh $TB              make install + the README's C API link line
#   7. tests/tty/progress.sh $TB         the progress bar under a pseudo-terminal (script(1))
# With TB = build/san (the sanitizer build, which has the fault points) SLUICE_TEST_BUILD=1 is
# set, so cases that declare `--- requires fault` run instead of being skipped.
# Ends with one line "N passed, N failed" (unit tests + example + cases) and exits non-zero when
# anything failed, a runner crashed, or a runner printed no summary line.
set -u

if [ $# -ne 1 ]; then
    echo "usage: sh tests/run_all.sh BUILD_DIR   (build/san or build)" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")/.." && pwd)
case "$1" in
    /*) tb=$1 ;;
    *) tb=$(pwd)/$1 ;;
esac
tb=${tb%/}
cd "$here" || exit 2

case "$tb" in
    */san) SLUICE_TEST_BUILD=1; export SLUICE_TEST_BUILD ;;
esac

passed=0
failed=0
status=0

# add_summary OUTPUT_FILE LABEL: add the counts of the last "LABEL: N passed, N failed" line
add_summary() {
    line=$(grep -E "^$2: [0-9]+ passed, [0-9]+ failed" "$1" | tail -n 1)
    if [ -z "$line" ]; then
        echo "run_all: $2: no summary line" >&2
        failed=$((failed + 1))
        status=1
        return
    fi
    p=$(echo "$line" | sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    passed=$((passed + p))
    failed=$((failed + f))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-run-all-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# timed LABEL: the seconds since the previous call, added to the timings line printed last
# (where the suite's time goes: CI has a time budget)
timings=
t_prev=$(date +%s)
timed() {
    t_now=$(date +%s)
    timings="$timings${timings:+, }$1 $((t_now - t_prev)) s"
    t_prev=$t_now
}

# 1. unit tests
if [ -x "$tb/test/unit" ]; then
    { "$tb/test/unit"; echo $? > "$tmp/unit.rc"; } | tee "$tmp/unit.out"
    [ "$(cat "$tmp/unit.rc")" = 0 ] || status=1
    add_summary "$tmp/unit.out" unit
else
    echo "run_all: $tb/test/unit is missing" >&2
    failed=$((failed + 1))
    status=1
fi
timed unit

# 2. the C API example, in a scratch dir with its own pipelines dir
if [ -x "$tb/examples/c_api" ]; then
    mkdir -p "$tmp/c_api/pipelines"
    if (cd "$tmp/c_api" && SLUICE_PIPELINES_DIR="$tmp/c_api/pipelines" "$tb/examples/c_api" \
            > "$tmp/c_api.out" 2>&1); then
        echo "ok examples/c_api"
        passed=$((passed + 1))
    else
        echo "FAIL examples/c_api:"
        sed 's/^/    /' "$tmp/c_api.out"
        failed=$((failed + 1))
        status=1
    fi
fi
timed c_api

# 3. scenario cases
if [ -x "$tb/test/run_cases" ] && [ -x "$tb/sluice" ]; then
    { "$tb/test/run_cases" "$tb/sluice" tests/cases; echo $? > "$tmp/cases.rc"; } |
        tee "$tmp/cases.out"
    [ "$(cat "$tmp/cases.rc")" = 0 ] || status=1
    add_summary "$tmp/cases.out" cases
else
    echo "run_all: $tb/test/run_cases or $tb/sluice is missing" >&2
    failed=$((failed + 1))
    status=1
fi
timed cases

# 4. the bad-input catalogue (same runner and format)
if [ -x "$tb/test/run_cases" ] && [ -x "$tb/sluice" ]; then
    { "$tb/test/run_cases" "$tb/sluice" tests/bad; echo $? > "$tmp/bad.rc"; } | tee "$tmp/bad.out"
    [ "$(cat "$tmp/bad.rc")" = 0 ] || status=1
    add_summary "$tmp/bad.out" cases
fi
timed bad
# 4b. the conformance passes (tests/README.md "One suite, every destination"): the cases and
# the bad-input catalogue again, loaded into PostgreSQL (when SLUICE_TEST_PG_DSN is set, as
# .ci/run does) and into DuckDB (when libduckdb.so is there), side by side.
extra=
if [ -n "${SLUICE_TEST_PG_DSN:-}" ]; then
    extra=postgres
else
    echo "conformance: postgres pass skipped (SLUICE_TEST_PG_DSN is not set; eval \"\$(sh scripts/pg-start --env)\")"
fi
duck_lib=${SLUICE_DUCKDB_LIB:-$here/deps/duckdb/libduckdb.so}
if [ -f "$duck_lib" ]; then
    extra="$extra duckdb"
elif [ "${SLUICE_TEST_DUCKDB_REQUIRED:-}" = 1 ]; then
    echo "conformance: duckdb pass FAILED: $duck_lib is missing and SLUICE_TEST_DUCKDB_REQUIRED=1 (sh scripts/install-deps fetches it)"
    failed=$((failed + 1))
    status=1
else
    echo "conformance: duckdb pass skipped ($duck_lib is missing; sh scripts/install-deps fetches it)"
fi
# one pass alone runs two cases at a time; two passes side by side one each (2 cores)
jobs=1
[ "$(echo $extra | wc -w)" -eq 1 ] && jobs=2
for d in $extra; do
    (
        for dir in cases bad; do
            RUN_CASES_DEST=$d RUN_CASES_JOBS=${RUN_CASES_JOBS:-$jobs} \
                "$tb/test/run_cases" "$tb/sluice" "tests/$dir" > "$tmp/$d-$dir.out" 2>&1
            echo $? > "$tmp/$d-$dir.rc"
        done
    ) &
done
wait
for d in $extra; do
    for dir in cases bad; do
        cat "$tmp/$d-$dir.out"
        [ "$(cat "$tmp/$d-$dir.rc")" = 0 ] || status=1
        add_summary "$tmp/$d-$dir.out" cases
    done
done
[ -n "$extra" ] && timed "conformance ($(echo $extra | tr ' ' '+'))"

# 5. the README's tutorial, run as it is written (tests/readme/tutorial.sh)
if [ -x "$tb/sluice" ]; then
    { sh tests/readme/tutorial.sh "$tb"; echo $? > "$tmp/readme.rc"; } | tee "$tmp/readme.out"
    [ "$(cat "$tmp/readme.rc")" = 0 ] || status=1
    add_summary "$tmp/readme.out" readme
fi
timed readme
# 6. make install and the C API link line of the README (tests/install.sh)
if [ -x "$tb/sluice" ]; then
    { sh tests/install.sh "$tb"; echo $? > "$tmp/install.rc"; } | tee "$tmp/install.out"
    [ "$(cat "$tmp/install.rc")" = 0 ] || status=1
    add_summary "$tmp/install.out" install
fi
timed install
# 7. the progress bar under a real (pseudo-)terminal (tests/tty/progress.sh)
if [ -x "$tb/sluice" ]; then
    { sh tests/tty/progress.sh "$tb"; echo $? > "$tmp/tty.rc"; } | tee "$tmp/tty.out"
    [ "$(cat "$tmp/tty.rc")" = 0 ] || status=1
    add_summary "$tmp/tty.out" tty
fi
timed tty
echo "run_all timings: $timings"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] || status=1
exit $status
