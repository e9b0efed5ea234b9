#!/bin/sh
# crash.sh [BUILD_DIR] — kill a run at every fault point, re-run, check nothing was lost or
# duplicated (see README.md). BUILD_DIR (default build/san) must be a -DSLUICE_TESTING build.
#
# For each disposition (lib.sh) and each point named by SL_FAULT_POINT("...") in src/:
#   run 1 (k=200) completes — done once per disposition and copied for every case;
#   run 2 (k=400) with SLUICE_FAULT=point:n must die with status 137 (not hit: the point is
#     hit fewer than n times in such a run, and the larger n are skipped); right after it the
#     destination must hold exactly the tables of run 1 or of run 2 (a load is atomic);
#   with CRASH_TWICE=1, run 3 (k=600) is killed again at point:n (recovery itself crashing),
#     and the destination must again be exactly one of runs 1, 2 or 3;
#   the next run (k=600) without a fault must complete, and then every invariant holds:
#     the tables hold exactly the expected rows (each item once; replace: the last run's),
#     no orphan child rows, children under the right parent, no repeated _dlt_id, only
#     completed loads, incremental last_value and the resource state = max(seq) loaded = 600,
#     `sluice pipeline NAME pending` says none.
# Environment:
#   FAULT_POINTS="a b"         only these points (default: all in src/)
#   FAULT_DISPOSITIONS="..."   default: append append_state replace merge merge_inc upsert rest
#   CRASH_HITS="1 2 3"         hit counts tried per point (stopping at the first not hit);
#                              default 1..12, then 36 108 324 972 2916
#   CRASH_TWICE=0|1            also the double-kill variant of every case (default 1)
#   SLUICE_FAULT_QUICK=1       bounded run for CI: CRASH_HITS="1 2 7 100", CRASH_TWICE=0
#   FAULT_KEEP=1               keep the temp dir; CRASH_VERBOSE=1 prints every case
#   FAULT_DEST=duckdb          load into a DuckDB file (libduckdb.so: scripts/install-deps)
#   FAULT_DEST=postgres        load into PostgreSQL (SLUICE_TEST_PG_DSN, scripts/pg-start): a
#                              database per pipeline dir, copied with CREATE DATABASE TEMPLATE
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
FAULT_DIR=$here/tests/fault
. "$FAULT_DIR/lib.sh"
fault_init crash.sh "${1:-}"
if [ "${SLUICE_FAULT_QUICK:-0}" = 1 ]; then
    : "${CRASH_HITS:=1 2 7 100}"
    : "${CRASH_TWICE:=0}"
fi
HITS=${CRASH_HITS:-1 2 3 4 5 6 7 8 9 10 11 12 36 108 324 972 2916}
TWICE=${CRASH_TWICE:-1}
# (the postgres destination has no upsert yet)
if [ "$FAULT_DEST" = postgres ]; then
    DISPS=${FAULT_DISPOSITIONS:-append append_state replace merge merge_inc rest}
else
    DISPS=${FAULT_DISPOSITIONS:-append append_state replace merge merge_inc upsert rest}
fi
FAULT_MOD=${FAULT_MOD:-250}
K1=200
K2=400
K3=600

# the dirs of failing cases (fail/) outlive the run (their postgres databases do not)
fault_tmp crash.sh
mkdir -p "$tmp/run" "$tmp/tpl" "$tmp/fail"
case " $DISPS " in *" rest "*) rest_mock_start "$tmp/restapi" || exit 2 ;; esac

# ---- the points -------------------------------------------------------------------------
grep -rhoE 'SL_FAULT_POINT\("[^"]+"\)' "$here/src" | sed -E 's/.*\("([^"]+)"\).*/\1/' |
    sort > "$tmp/sites"
all_points=$(uniq "$tmp/sites")
dups=$(uniq -d "$tmp/sites")
status=0
if [ -n "$dups" ]; then
    echo "crash.sh: fault point names used at more than one place in src/: $dups"
    status=1
fi
points=${FAULT_POINTS:-$all_points}
npoints=$(echo $points | wc -w)
ndisps=$(echo $DISPS | wc -w)
echo "crash.sh: $npoints fault points × $ndisps dispositions; destination $FAULT_DEST;" \
    "binary $tb/sluice"

# run_sluice DIR K [FAULT]: one run in DIR/work with k = K; sets rc; output in DIR/out, DIR/err
run_sluice() {
    echo "$2" > "$1/work/k"
    before_run "$1/work"
    if [ -n "${3:-}" ]; then
        (cd "$1/work" && SLUICE_FAULT=$3 "$SLUICE" run config.yaml --progress none \
            > "$1/out" 2> "$1/err")
    else
        (cd "$1/work" && "$SLUICE" run config.yaml --progress none > "$1/out" 2> "$1/err")
    fi
    rc=$?
    wait_children "$1/work"
    if has_san_report "$1/err"; then
        echo "sanitizer report (run k=$2 ${3:-}):"
        sed -n '1,40p' "$1/err"
        return 1
    fi
    return 0
}

# keep_failure DIR LABEL: keep the case's dirs for inspection
keep_failure() {
    dst=$tmp/fail/$2
    copy_pipeline "$1" "$dst"
    echo "    (kept in $dst)"
}

# one_case DISP POINT N TWICE: the killed run(s) and the recovery, in the current shell with
# problems printed on stdout; sets HIT (1 when run 2 was killed), KILLED (runs killed), LOST
# and DUP (rows); returns 1 on failure.
one_case() {
    d=$1
    name=crash_$d
    dir=$tmp/run/$d
    copy_pipeline "$tmp/tpl/$d" "$dir" || { echo "cannot copy the pipeline of run 1"; return 1; }
    export SLUICE_PIPELINES_DIR=$dir/pl
    KILLED=0
    HIT=0
    LOST=0
    DUP=0
    run_sluice "$dir" $K2 "$2:$3" || return 1
    if [ $rc -eq 0 ]; then
        return 0 # not hit
    fi
    if [ $rc -ne 137 ]; then
        echo "run 2 with SLUICE_FAULT=$2:$3 exited $rc, not 137:"
        sed -n '1,10p' "$dir/err"
        return 1
    fi
    HIT=1
    KILLED=1
    b=$(check_between $name $d $K1 $K2) || { echo "after the kill: $b"; return 1; }
    if [ "$4" = 1 ]; then
        # the recovery run is killed at the same point and hit count
        run_sluice "$dir" $K3 "$2:$3" || return 1
        if [ $rc -eq 137 ]; then
            KILLED=2
            b=$(check_between $name $d $K1 $K2 $K3) || {
                echo "after the second kill: $b"
                return 1
            }
        elif [ $rc -ne 0 ]; then
            echo "run 3 with SLUICE_FAULT=$2:$3 exited $rc:"
            sed -n '1,10p' "$dir/err"
            return 1
        fi
    fi
    if [ "$4" != 1 ] || [ $KILLED -eq 2 ]; then
        run_sluice "$dir" $K3 || return 1
        if [ $rc -ne 0 ]; then
            echo "the run after the kill exited $rc:"
            sed -n '1,10p' "$dir/err"
            return 1
        fi
    fi
    check_final $name $d $K3 || return 1
    return 0
}

# ---- per disposition: run 1 once, as the template of every case --------------------------
: > "$tmp/results"
survived=0
failed=0
lost_total=0
dup_total=0
t_start=$(date +%s)
for d in $DISPS; do
    dir=$tmp/run/$d
    rm -rf "$dir"
    mkdir -p "$dir/pl"
    setup_pipeline "$dir/work" crash_$d $d || exit 2
    export SLUICE_PIPELINES_DIR=$dir/pl
    if ! run_sluice "$dir" $K1 > "$tmp/msg" || [ $rc -ne 0 ]; then
        echo "FAIL $d: run 1 exited $rc"
        cat "$tmp/msg"
        sed -n '1,20p' "$dir/err"
        failed=$((failed + 1))
        status=1
        continue
    fi
    if ! check_final crash_$d $d $K1 > "$tmp/msg"; then
        echo "FAIL $d: run 1 does not give the expected tables:"
        sed 's/^/    /' "$tmp/msg"
        failed=$((failed + 1))
        status=1
        continue
    fi
    copy_pipeline "$dir" "$tmp/tpl/$d" || exit 2

    for pt in $points; do
        ok=0
        bad=0
        max_hit=0
        for n in $HITS; do
            hit_now=0
            for tw in 0 $([ "$TWICE" = 1 ] && echo 1); do
                if one_case $d $pt $n $tw > "$tmp/msg"; then
                    [ $HIT = 1 ] && ok=$((ok + KILLED))
                else
                    bad=$((bad + 1))
                    failed=$((failed + 1))
                    status=1
                    lost_total=$((lost_total + LOST))
                    dup_total=$((dup_total + DUP))
                    echo "FAIL $pt:$n $d$([ $tw = 1 ] && echo ' (recovery killed too)'):"
                    sed 's/^/    /' "$tmp/msg"
                    keep_failure "$tmp/run/$d" "$d-$pt-$n-$tw"
                fi
                [ $HIT = 1 ] && hit_now=1
                [ $HIT = 1 ] || break # not hit: the twice variant is the same
            done
            [ $hit_now = 1 ] || break
            max_hit=$n
        done
        echo "$pt $d $ok $bad $max_hit" >> "$tmp/results"
        if [ "${CRASH_VERBOSE:-0}" = 1 ]; then
            echo "  $d $pt: $ok killed runs survived, $bad failed, killed up to hit $max_hit"
        fi
        survived=$((survived + ok))
    done
done
t_end=$(date +%s)

# ---- report -----------------------------------------------------------------------------
echo
printf '%-28s' "point"
for d in $DISPS; do printf ' %-14s' "$d"; done
echo
for pt in $points; do
    printf '%-28s' "$pt"
    for d in $DISPS; do
        line=$(awk -v p="$pt" -v d="$d" '$1 == p && $2 == d' "$tmp/results")
        if [ -z "$line" ]; then
            cell="-"
        else
            set -- $line
            if [ "$4" != 0 ]; then
                cell="FAILED($4)"
            elif [ "$5" = 0 ]; then
                cell="not hit"
            else
                cell="survived($3)"
            fi
        fi
        printf ' %-14s' "$cell"
    done
    echo
done
echo "(survived(N): N killed runs recovered; the points are tried at hit counts $HITS," \
    "up to the last one the run reaches)"
nothit=$(awk '$5 == 0 && $4 == 0 { printf "%s%s/%s", sep, $1, $2; sep = " " }' "$tmp/results")
[ -z "$nothit" ] || echo "never hit: $nothit"
echo "fault points ($FAULT_DEST): $npoints × dispositions: $ndisps = $survived runs survived, $failed failed," \
    "$lost_total rows lost, $dup_total duplicated ($((t_end - t_start)) s)"
exit $status
