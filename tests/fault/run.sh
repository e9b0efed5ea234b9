#!/bin/sh
# run.sh [BUILD_DIR] — every fault-injection test of one -DSLUICE_TESTING build (what
# `make test-fault` runs): the allocation-failure loop, the crash-point matrix and the kill -9
# loop on SQLite, and, when a test PostgreSQL server is up (SLUICE_TEST_PG_DSN, from
# `eval "$(sh scripts/pg-start --env)"`), the crash-point matrix, the kill -9 loop and the
# server disruptions (dropped connection, server restart) on PostgreSQL, and, when libduckdb.so
# is installed (scripts/install-deps), the crash-point matrix, the kill -9 loop and the several
# machines on DuckDB.
# Prints each one's output and, at the end, their summary lines and times; exits 1 when any
# failed. FAULT_ONLY="alloc crash kill9 machines pg-crash pg-kill9 pg-disrupt duck-crash
# duck-kill9 duck-machines" picks some; SLUICE_FAULT_QUICK=1 bounds all of them (see README.md).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
tb=${1:-build/san}
case "$tb" in /*) ;; *) tb=$here/$tb ;; esac
if [ -n "${SLUICE_TEST_PG_DSN:-}" ]; then
    only=${FAULT_ONLY:-alloc crash kill9 machines pg-crash pg-kill9 pg-disrupt}
else
    only=${FAULT_ONLY:-alloc crash kill9 machines}
fi
if [ -z "${FAULT_ONLY:-}" ] &&
    [ -r "${SLUICE_DUCKDB_LIB:-$here/deps/duckdb/libduckdb.so}" ]; then
    only="$only duck-crash duck-kill9 duck-machines"
fi
quick=${SLUICE_FAULT_QUICK:-0}
status=0
summary=""
for t in $only; do
    t0=$(date +%s)
    out=$(mktemp "${TMPDIR:-/tmp}/sluice-fault-XXXXXX")
    case $t in
        alloc)
            if [ ! -x "$tb/test/fault_alloc" ]; then
                echo "run.sh: $tb/test/fault_alloc is missing" >&2
                status=1
                continue
            fi
            (cd "$here" && "$tb/test/fault_alloc") 2>&1 | tee "$out"
            ;;
        machines)
            # several machines, one SQLite dataset: clock skew, schema evolution (issue 8.1, 8.6)
            FAULT_DEST=sqlite sh "$here/tests/fault/machines.sh" "$tb" 2>&1 | tee "$out"
            ;;
        duck-machines)
            # the same on one DuckDB file (45 runs, about a minute alone)
            FAULT_DEST=duckdb sh "$here/tests/fault/machines.sh" "$tb" 2>&1 | tee "$out"
            ;;
        crash | kill9)
            FAULT_DEST=sqlite sh "$here/tests/fault/$t.sh" "$tb" 2>&1 | tee "$out"
            ;;
        pg-crash)
            # PostgreSQL: a database copy per case makes each one ~10x slower than on SQLite;
            # the quick subset keeps the points of the load and its recovery
            if [ "$quick" = 1 ]; then
                : "${PG_FAULT_POINTS:=run.after_pending load.after_ddl load.row load.after_rows load.after_merge load.after_state load.before_commit load.after_commit local.before_state_save}"
                : "${PG_FAULT_DISPOSITIONS:=append replace merge_inc}"
            fi
            FAULT_DEST=postgres FAULT_POINTS=${PG_FAULT_POINTS:-${FAULT_POINTS:-}} \
                FAULT_DISPOSITIONS=${PG_FAULT_DISPOSITIONS:-${FAULT_DISPOSITIONS:-}} \
                sh "$here/tests/fault/crash.sh" "$tb" 2>&1 | tee "$out"
            ;;
        pg-kill9)
            [ "$quick" = 1 ] && : "${PG_KILL9_ITERS:=3}"
            FAULT_DEST=postgres KILL9_ITERS=${PG_KILL9_ITERS:-${KILL9_ITERS:-}} \
                sh "$here/tests/fault/kill9.sh" "$tb" 2>&1 | tee "$out"
            ;;
        duck-crash)
            # DuckDB: the quick subset keeps the points of the load and its recovery, with the
            # dispositions of every kind of load (append, replace, merge, upsert); load.follow_* are
            # the load thread's (it follows the normalizer on DuckDB too)
            if [ "$quick" = 1 ]; then
                : "${DUCK_FAULT_POINTS:=run.after_pending load.after_ddl load.row load.follow_row load.follow_drained load.after_rows load.after_merge load.after_state load.before_commit load.after_commit local.before_state_save}"
                : "${DUCK_FAULT_DISPOSITIONS:=append replace merge_inc upsert}"
            fi
            FAULT_DEST=duckdb FAULT_POINTS=${DUCK_FAULT_POINTS:-${FAULT_POINTS:-}} \
                FAULT_DISPOSITIONS=${DUCK_FAULT_DISPOSITIONS:-${FAULT_DISPOSITIONS:-}} \
                sh "$here/tests/fault/crash.sh" "$tb" 2>&1 | tee "$out"
            ;;
        duck-kill9)
            [ "$quick" = 1 ] && : "${DUCK_KILL9_ITERS:=3}"
            FAULT_DEST=duckdb KILL9_ITERS=${DUCK_KILL9_ITERS:-${KILL9_ITERS:-}} \
                sh "$here/tests/fault/kill9.sh" "$tb" 2>&1 | tee "$out"
            ;;
        pg-disrupt)
            sh "$here/tests/fault/disrupt.sh" "$tb" 2>&1 | tee "$out"
            ;;
        *)
            echo "run.sh: unknown test '$t' (alloc, crash, kill9, machines, pg-crash, pg-kill9, pg-disrupt, duck-crash, duck-kill9, duck-machines)" >&2
            exit 2
            ;;
    esac
    line=$(grep -E '^(alloc: [0-9]+ allocation failures|fault points|kill -9|server disruptions|machines \()' "$out" | tail -n 1)
    [ -n "$line" ] || line="$t: no summary line (crashed?)"
    # a failure shows as "N failed" with N > 0, or as a missing summary or a sanitizer report
    if ! echo "$line" | grep -qE '(^|[ ,])0 failed'; then
        status=1
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
        line="$line; SANITIZER REPORT"
        status=1
    fi
    summary="$summary$line [$(($(date +%s) - t0)) s]
"
    rm -f "$out"
done
echo
printf '%s' "$summary"
exit $status
