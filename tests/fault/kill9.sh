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
tb=${1:-build/san}
case "$tb" in /*) ;; *) tb=$here/$tb ;; esac
. "$FAULT_DIR/lib.sh"

if [ ! -x "$tb/sluice" ]; then
    echo "kill9.sh: $tb/sluice is missing" >&2
    exit 2
fi
dest_check || exit 2
unset SLUICE_FAULT
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
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-kill9-XXXXXX") || exit 2
FAULT_PG_DBS=$tmp/pgdbs
if [ "${FAULT_KEEP:-0}" = 1 ]; then
    echo "kill9.sh: keeping $tmp"
else
    # the dirs of failing iterations (fail-*) outlive the run (their postgres databases do not)
    trap 'rest_mock_stop; pg_drop_all; for f in "$tmp"/*; do case $f in */fail-*) ;; *) rm -rf "$f" ;; esac; done; rmdir "$tmp" 2>/dev/null' EXIT
fi
trap 'exit 130' INT TERM
mkdir -p "$tmp/bin"
case " $DISPS " in *" rest "*) rest_mock_start "$tmp/restapi" || exit 2 ;; esac
cp "$tb/sluice" "$tmp/bin/sluice" || exit 2
SLUICE=$tmp/bin/sluice
CHECK_ERR=$tmp/check.err

now_ms() { date +%s%3N; }

# clean_run DIR K: a run to completion; sets rc and dur (ms); 1 on a sanitizer report
clean_run() {
    echo "$2" > "$1/work/k"
    before_run "$1/work"
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
        delay=$(awk -v s="$SEED" -v i=$i -v d=$di -v t=$T \
            'BEGIN { srand(s * 100003 + d * 1009 + i); printf "%d", rand() * t * 1.1 }')
        echo "$k" > "$dir/work/k"
        before_run "$dir/work"
        (cd "$dir/work" && exec "$SLUICE" run config.yaml --progress none \
            > "$dir/out" 2> "$dir/err") &
        pid=$!
        sleep "$(awk -v ms=$delay 'BEGIN { printf "%.3f", ms / 1000 }')"
        kill -9 $pid 2>/dev/null
        { wait $pid; } 2>/dev/null # no "Killed" notice
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
        fail=""
        if has_san_report "$dir/err"; then
            fail="sanitizer report in the killed run: $(grep -m1 -E 'ERROR|runtime error' "$dir/err")"
        elif [ $krc -ne 0 ] && [ $krc -ne 137 ]; then
            fail="the killed run exited $krc: $(head -n 3 "$dir/err")"
        elif [ $brc -ne 0 ]; then
            fail="after the kill: $b"
        elif ! clean_run "$dir" $k > "$tmp/msg"; then
            fail="sanitizer report in the recovery run: $(cat "$tmp/msg")"
        elif [ $rc -ne 0 ]; then
            fail="the recovery run exited $rc: $(head -n 3 "$dir/err")"
        elif ! check_final $name $d $k > "$tmp/msg"; then
            fail=$(cat "$tmp/msg")
        fi
        [ -z "$fail" ] && [ $dur -gt $T ] && T=$dur
        if [ -z "$fail" ]; then
            echo "  $d #$i: k=$k, kill -9 after ${delay} ms: $where; recovered in ${dur} ms: ok"
            survived=$((survived + 1))
        else
            echo "  $d #$i: k=$k, kill -9 after ${delay} ms: $where: FAIL"
            echo "$fail" | sed 's/^/    /'
            status=1
            failed=$((failed + 1))
            copy_pipeline "$dir" "$tmp/fail-$d-$i"
            echo "    (kept in $tmp/fail-$d-$i)"
            break # the next iterations would start from a broken pipeline
        fi
        prev=$k
        i=$((i + 1))
    done
done
t_end=$(date +%s)
echo
echo "where the kills landed:"
sort "$tmp/where" | uniq -c | sort -rn | sed 's/^/  /'
echo "kill -9 ($FAULT_DEST): $survived iterations survived, $failed failed ($((t_end - t_start)) s)"
exit $status
