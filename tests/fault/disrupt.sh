#!/bin/sh
# disrupt.sh [BUILD_DIR] — the PostgreSQL server fails under a running load: its connection is
# dropped (pg_terminate_backend) or the whole server restarts as after a crash (pg_ctl stop -m
# immediate, then start), at seeded random moments. The run must fail cleanly (exit 1 with a
# postgres error, or exit 0 when it finished first), the destination must then hold exactly the
# tables of the run before or of the disrupted run (never a mix), and the next run must
# complete with every invariant of crash.sh (nothing lost, nothing duplicated, state = data).
# See README.md. Needs the cluster of scripts/pg-start (SLUICE_TEST_PG_DSN and, for restarts,
# SLUICE_TEST_PG_DIR: `eval "$(sh scripts/pg-start --env)"`) and the right to restart it.
#
# Per disposition (default merge_inc and append, lib.sh) and per disruption (terminate,
# restart): a clean run of DISRUPT_ITEMS items measures T; each iteration raises k by
# DISRUPT_ITEMS, starts the run, disrupts the server after a delay drawn from [0, 1.1 T],
# waits for the run, checks, re-runs to completion, checks.
# Environment:
#   DISRUPT_ITERS=8  DISRUPT_ITEMS=100000  DISRUPT_SEED=1  DISRUPT_MODES="terminate restart"
#   DISRUPT_DISPOSITIONS="merge_inc append"
#   SLUICE_FAULT_QUICK=1   bounded run for CI: 3 iterations of 20000 items
#   FAULT_KEEP=1           keep the temp dir
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
FAULT_DIR=$here/tests/fault
FAULT_DEST=postgres
. "$FAULT_DIR/lib.sh"
fault_init disrupt.sh "${1:-}"
if [ "${SLUICE_FAULT_QUICK:-0}" = 1 ]; then
    : "${DISRUPT_ITERS:=3}"
    : "${DISRUPT_ITEMS:=20000}"
fi
ITERS=${DISRUPT_ITERS:-8}
ITEMS=${DISRUPT_ITEMS:-100000}
SEED=${DISRUPT_SEED:-1}
MODES=${DISRUPT_MODES:-terminate restart}
DISPS=${DISRUPT_DISPOSITIONS:-merge_inc append}
FAULT_MOD=$ITEMS
case " $MODES " in
    *" restart "*)
        if [ -z "${SLUICE_TEST_PG_DIR:-}" ]; then
            echo "disrupt.sh: restarts need SLUICE_TEST_PG_DIR (scripts/pg-start --env)" >&2
            exit 2
        fi
        # An immediate stop is a crash: a server without fsync and synchronous_commit (the test
        # cluster's fast default) may lose a commit it already confirmed, such as the previous
        # run's, which no client can survive. Restarts need the durable server sluice relies on.
        SLUICE_PG_DIR=$SLUICE_TEST_PG_DIR SLUICE_PG_DURABLE=1 sh "$here/scripts/pg-start" \
            > /dev/null || exit 2 ;;
esac

fault_tmp disrupt.sh

# disrupt MODE DB: drop sluice's connections to DB, or restart the server as after a crash
disrupt() {
    case $1 in
        terminate)
            pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = '$2' AND pid <> pg_backend_pid()" ;;
        restart)
            SLUICE_PG_DIR=$SLUICE_TEST_PG_DIR sh "$here/scripts/pg-stop" immediate &&
                SLUICE_PG_DIR=$SLUICE_TEST_PG_DIR SLUICE_PG_DURABLE=1 sh "$here/scripts/pg-start" \
                    > /dev/null ;;
    esac
}

echo "disrupt.sh: $ITERS disruptions × modes ($MODES) × dispositions ($DISPS), $ITEMS items" \
    "per run, seed $SEED; binary $tb/sluice"
status=0
survived=0
failed=0
: > "$tmp/where"
t_start=$(date +%s)
di=0
for d in $DISPS; do
    for mode in $MODES; do
        di=$((di + 1))
        name=disrupt_${d}_$mode
        dir=$tmp/$d-$mode
        mkdir -p "$dir/pl"
        export SLUICE_PIPELINES_DIR=$dir/pl
        setup_pipeline "$dir/work" $name $d || exit 2
        db=$(pg_db "$dir")
        if ! clean_run "$dir" $ITEMS || [ $rc -ne 0 ] ||
            ! check_final $name $d $ITEMS > "$tmp/msg"; then
            echo "FAIL $d/$mode: first run (exit $rc):"
            sed -n '1,10p' "$dir/err" "$tmp/msg" | sed 's/^/    /'
            status=1
            failed=$((failed + 1))
            continue
        fi
        T=$dur
        prev=$ITEMS
        echo "$d/$mode: first run of $ITEMS items took ${T} ms"
        i=1
        while [ $i -le $ITERS ]; do
            k=$((prev + ITEMS))
            delay=$(delay_ms "$SEED" $i $di $T)
            run_bg "$dir" $k
            sleep_ms $delay
            disrupt $mode "$db" > "$tmp/disrupt.out" 2>&1
            drc=$?
            wait $pid
            krc=$?
            wait_children "$dir/work"
            stage=$(pending_stage $name)
            b=$(check_between $name $d $prev $k)
            brc=$?
            if [ $krc -eq 0 ]; then
                where="completed before the $mode"
            else
                where="$mode during stage $stage (tables of k=$b)"
            fi
            echo "$mode: $where" | sed 's/ (tables of k=[0-9]*)//' >> "$tmp/where"
            if [ $drc -ne 0 ]; then
                fail="the $mode itself failed: $(head -n 3 "$tmp/disrupt.out")"
            elif has_san_report "$dir/err"; then
                fail="sanitizer report in the disrupted run: $(grep -m1 -E 'ERROR|runtime error' "$dir/err")"
            elif [ $krc -ne 0 ] && [ $krc -ne 1 ]; then
                fail="the disrupted run exited $krc: $(head -n 3 "$dir/err")"
            elif [ $krc -eq 1 ] && ! grep -q "postgres destination" "$dir/err"; then
                fail="the disrupted run failed without a postgres error: $(head -n 3 "$dir/err")"
            else
                recover "$dir" $name $d $k $mode
            fi
            iteration_end "$d/$mode #$i: k=$k, after ${delay} ms: $where" "$dir" \
                "fail-$d-$mode-$i" || break
            prev=$k
            i=$((i + 1))
        done
    done
done
t_end=$(date +%s)
where_landed disruptions
echo "server disruptions (postgres): $survived iterations survived, $failed failed ($((t_end - t_start)) s)"
exit $status
