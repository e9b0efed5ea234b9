#!/bin/sh
# kill9.sh [BUILD_DIR] — large loads killed with kill -9 at random moments (seeded), each
# followed by a run to completion; after each kill the destination must hold exactly the
# tables of the run before or of the killed run, and after each completed run every
# invariant of crash.sh holds (see README.md). BUILD_DIR defaults to build/san; no fault
# points are needed, so the optimised build/ works too (and is ~5× faster).
#
# Per disposition (default merge_inc, append and rest, lib.sh): a clean run of KILL9_ITEMS items
# measures T; then each iteration raises k by KILL9_ITEMS (merge_inc: every run updates all
# KILL9_ITEMS ids; append: the table grows, see KILL9_RESET), starts the run, sends kill -9 after a delay drawn
# uniformly from [0, 1.1 T] (T = the longest completed run so far), re-runs to completion and
# checks. Printed per iteration: the delay, where the kill landed (from the package left
# behind), and the outcome.
# Environment:
#   KILL9_ITERS=20  KILL9_ITEMS=200000  KILL9_SEED=1  KILL9_DISPOSITIONS="merge_inc append rest"
#   KILL9_REST_ITEMS=KILL9_ITEMS/5   items per run of the rest disposition (every item travels
#                   over HTTP from the Python mock, which is the slow part)
#   KILL9_RESET=5   a disposition whose tables grow (append) starts a new pipeline every 5
#                   iterations (0: never), so that the checks stay fast
#   SLUICE_FAULT_QUICK=1   bounded run for CI: 6 iterations of 50000 items
#   FAULT_KEEP=1           keep the temp dir
#   FAULT_DEST=duckdb      load into a DuckDB file (libduckdb.so: scripts/install-deps)
#   FAULT_DEST=postgres    load into PostgreSQL (SLUICE_TEST_PG_DSN): a database per pipeline
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
FAULT_DIR=$here/tests/fault
. "$FAULT_DIR/lib.sh"
fault_init kill9.sh "${1:-}"
if [ "${SLUICE_FAULT_QUICK:-0}" = 1 ]; then
    : "${KILL9_ITERS:=6}"
    : "${KILL9_ITEMS:=50000}"
fi
ITERS=${KILL9_ITERS:-20}
ITEMS=${KILL9_ITEMS:-200000}
SEED=${KILL9_SEED:-1}
DISPS=${KILL9_DISPOSITIONS:-merge_inc append rest}
RESET=${KILL9_RESET:-5}
REST_ITEMS=${KILL9_REST_ITEMS:-$((ITEMS / 5))}
# items_of D: items per run of disposition D
items_of() {
    if [ "$1" = rest ]; then echo "$REST_ITEMS"; else echo "$ITEMS"; fi
}
FAULT_MOD=$ITEMS
fault_tmp kill9.sh
case " $DISPS " in *" rest "*) rest_mock_start "$tmp/restapi" || exit 2 ;; esac

echo "kill9.sh: $ITERS kills × $(echo $DISPS | wc -w) dispositions, $ITEMS items per run," \
    "seed $SEED; destination $FAULT_DEST; binary $tb/sluice"
status=0
survived=0
failed=0
: > "$tmp/where"
t_start=$(date +%s)
di=0
# start_pipeline D: a new pipeline for disposition D and its first clean run (k = ITEMS);
# sets dir, name, T, prev; 1 on failure (reported)
start_pipeline() {
    name=kill9_$1
    dir=$tmp/$1
    rm -rf "$dir"
    mkdir -p "$dir/pl"
    export SLUICE_PIPELINES_DIR=$dir/pl
    setup_pipeline "$dir/work" $name $1 || exit 2
    n_items=$(items_of "$1")
    if ! clean_run "$dir" $n_items || [ $rc -ne 0 ]; then
        echo "FAIL $1: first run exited $rc"
        sed -n '1,10p' "$dir/err"
        return 1
    fi
    if ! check_final $name $1 $n_items > "$tmp/msg"; then
        echo "FAIL $1: first run:"
        sed 's/^/    /' "$tmp/msg"
        return 1
    fi
    T=$dur
    prev=$n_items
    echo "$1: new pipeline, first run of $n_items items took ${T} ms"
    return 0
}

for d in $DISPS; do
    di=$((di + 1))
    if ! start_pipeline $d; then
        status=1
        failed=$((failed + 1))
        continue
    fi
    i=1
    while [ $i -le $ITERS ]; do
        disp_params $d
        if [ "$D_M" = 0 ] && [ "$RESET" -gt 0 ] && [ $i -gt 1 ] &&
            [ $(((i - 1) % RESET)) -eq 0 ]; then
            # append grows by ITEMS per iteration: start over so that checks stay fast
            if ! start_pipeline $d; then
                status=1
                failed=$((failed + 1))
                break
            fi
        fi
        k=$((prev + $(items_of $d)))
        delay=$(delay_ms "$SEED" $i $di $T)
        run_bg "$dir" $k
        sleep_ms $delay
        kill -9 $pid 2>/dev/null
        { wait $pid; } 2>/dev/null # no "Killed" notice
        krc=$?
        wait_children "$dir/work"
        stage=$(pending_stage $name)
        b=$(check_between $name $d $prev $k)
        brc=$?
        if [ $krc -eq 0 ]; then
            where="completed before the kill"
        elif [ $krc -ne 137 ]; then
            where="exited $krc"
        elif [ $brc -ne 0 ]; then
            where="stage $stage"
        else
            case "$stage,$b" in
                none,$prev) where="before extraction" ;;
                extract,*) where="extract" ;;
                normalize,*) where="normalize (extracted package)" ;;
                load,$prev) where="load (before commit)" ;;
                load,$k) where="after commit, before clean-up" ;;
                none,$k) where="after clean-up" ;;
                *) where="stage $stage, tables of k=$b" ;;
            esac
        fi
        echo "$where" >> "$tmp/where"
        if has_san_report "$dir/err"; then
            fail="sanitizer report in the killed run: $(grep -m1 -E 'ERROR|runtime error' "$dir/err")"
        elif [ $krc -ne 0 ] && [ $krc -ne 137 ]; then
            fail="the killed run exited $krc: $(head -n 3 "$dir/err")"
        else
            recover "$dir" $name $d $k kill
        fi
        # the next iterations would start from a broken pipeline
        iteration_end "$d #$i: k=$k, kill -9 after ${delay} ms: $where" "$dir" "fail-$d-$i" ||
            break
        prev=$k
        i=$((i + 1))
    done
done
t_end=$(date +%s)
where_landed kills
echo "kill -9 ($FAULT_DEST): $survived iterations survived, $failed failed ($((t_end - t_start)) s)"
exit $status
