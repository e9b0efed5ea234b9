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
tb=${1:-build/san}
case "$tb" in /*) ;; *) tb=$here/$tb ;; esac
FAULT_DEST=postgres
. "$FAULT_DIR/lib.sh"

if [ ! -x "$tb/sluice" ]; then
    echo "disrupt.sh: $tb/sluice is missing" >&2
    exit 2
fi
dest_check || exit 2
unset SLUICE_FAULT
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
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
case " $MODES " in
    *" restart "*)
        if [ -z "${SLUICE_TEST_PG_DIR:-}" ]; then
            echo "disrupt.sh: restarts need SLUICE_TEST_PG_DIR (scripts/pg-start --env)" >&2
            exit 2
        fi ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-disrupt-XXXXXX") || exit 2
FAULT_PG_DBS=$tmp/pgdbs
if [ "${FAULT_KEEP:-0}" = 1 ]; then
    echo "disrupt.sh: keeping $tmp"
else
    trap 'pg_drop_all; for f in "$tmp"/*; do case $f in */fail-*) ;; *) rm -rf "$f" ;; esac; done; rmdir "$tmp" 2>/dev/null' EXIT
fi
trap 'exit 130' INT TERM
mkdir -p "$tmp/bin"
cp "$tb/sluice" "$tmp/bin/sluice" || exit 2
SLUICE=$tmp/bin/sluice
CHECK_ERR=$tmp/check.err

now_ms() { date +%s%3N; }

# clean_run DIR K: a run to completion; sets rc and dur (ms); 1 on a sanitizer report
clean_run() {
    echo "$2" > "$1/work/k"
    t0=$(now_ms)
    (cd "$1/work" && "$SLUICE" run config.yaml --progress none > "$1/out" 2> "$1/err")
    rc=$?
    dur=$(($(now_ms) - t0))
    wait_children "$1/work"
    if has_san_report "$1/err"; then
        sed -n '1,40p' "$1/err"
        return 1
    fi
    return 0
}

# disrupt MODE DB: drop sluice's connections to DB, or restart the server as after a crash
disrupt() {
    case $1 in
        terminate)
            pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = '$2' AND pid <> pg_backend_pid()" ;;
        restart)
            SLUICE_PG_DIR=$SLUICE_TEST_PG_DIR sh "$here/scripts/pg-stop" immediate &&
                SLUICE_PG_DIR=$SLUICE_TEST_PG_DIR sh "$here/scripts/pg-start" > /dev/null ;;
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
            delay=$(awk -v s="$SEED" -v i=$i -v d=$di -v t=$T \
                'BEGIN { srand(s * 100003 + d * 1009 + i); printf "%d", rand() * t * 1.1 }')
            echo "$k" > "$dir/work/k"
            (cd "$dir/work" && exec "$SLUICE" run config.yaml --progress none \
                > "$dir/out" 2> "$dir/err") &
            pid=$!
            sleep "$(awk -v ms=$delay 'BEGIN { printf "%.3f", ms / 1000 }')"
            disrupt $mode "$db" > "$tmp/disrupt.out" 2>&1
            drc=$?
            wait $pid
            krc=$?
            wait_children "$dir/work"
            pend=$("$SLUICE" pipeline $name pending 2>&1)
            b=$(check_between $name $d $prev $k)
            brc=$?
            case "$pend" in
                "No pending packages.") stage=none ;;
                *unfinished*) stage=extract ;;
                *extracted*) stage=normalize ;;
                *normalized*) stage=load ;;
                *) stage="?($pend)" ;;
            esac
            if [ $krc -eq 0 ]; then
                where="completed before the $mode"
            else
                where="$mode during stage $stage (tables of k=$b)"
            fi
            echo "$mode: $where" | sed 's/ (tables of k=[0-9]*)//' >> "$tmp/where"
            fail=""
            if [ $drc -ne 0 ]; then
                fail="the $mode itself failed: $(head -n 3 "$tmp/disrupt.out")"
            elif has_san_report "$dir/err"; then
                fail="sanitizer report in the disrupted run: $(grep -m1 -E 'ERROR|runtime error' "$dir/err")"
            elif [ $krc -ne 0 ] && [ $krc -ne 1 ]; then
                fail="the disrupted run exited $krc: $(head -n 3 "$dir/err")"
            elif [ $krc -eq 1 ] && ! grep -q "postgres destination" "$dir/err"; then
                fail="the disrupted run failed without a postgres error: $(head -n 3 "$dir/err")"
            elif [ $brc -ne 0 ]; then
                fail="after the $mode: $b"
            elif ! clean_run "$dir" $k > "$tmp/msg"; then
                fail="sanitizer report in the recovery run: $(cat "$tmp/msg")"
            elif [ $rc -ne 0 ]; then
                fail="the recovery run exited $rc: $(head -n 3 "$dir/err")"
            elif ! check_final $name $d $k > "$tmp/msg"; then
                fail=$(cat "$tmp/msg")
            fi
            [ -z "$fail" ] && [ $dur -gt $T ] && T=$dur
            if [ -z "$fail" ]; then
                echo "  $d/$mode #$i: k=$k, after ${delay} ms: $where; recovered in ${dur} ms: ok"
                survived=$((survived + 1))
            else
                echo "  $d/$mode #$i: k=$k, after ${delay} ms: $where: FAIL"
                echo "$fail" | sed 's/^/    /'
                status=1
                failed=$((failed + 1))
                copy_pipeline "$dir" "$tmp/fail-$d-$mode-$i"
                echo "    (kept in $tmp/fail-$d-$mode-$i)"
                break
            fi
            prev=$k
            i=$((i + 1))
        done
    done
done
t_end=$(date +%s)
echo
echo "where the disruptions landed:"
sort "$tmp/where" | uniq -c | sort -rn | sed 's/^/  /'
echo "server disruptions (postgres): $survived iterations survived, $failed failed ($((t_end - t_start)) s)"
exit $status
