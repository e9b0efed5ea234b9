#!/bin/sh
# machines.sh [BUILD_DIR] — several machines, one dataset (issue 8.1 and 8.6; see README.md).
# Each "machine" is its own SLUICE_PIPELINES_DIR (working dir) on the pipelines of lib.sh;
# BUILD_DIR (default build/san) must be a -DSLUICE_TESTING build, whose wall clock
# SLUICE_TEST_CLOCK_SHIFT moves.
#
# clock skew, per disposition: machines a, b, c take turns with clocks an hour ahead, right,
#   a day behind, stepped back; one run of them is killed before its commit and recovered
#   after another machine has loaded. After every completed run every invariant of lib.sh
#   holds (no row lost or duplicated, last_value = max(seq) loaded), state versions are each
#   written once, and load ids grow in commit order.
# schema evolution: machines a and b load the same pipeline from working dirs whose schemas
#   fall behind each other; a field f is a bigint on a and text on b, g and h come later; one
#   of b's runs is killed before its commit while a evolves the schema, then b recovers. After
#   every run: the invariants, f is never text in the bigint column (b's values are in
#   f__v_text), and _dlt_version holds one schema per version.
# FAULT_DEST (lib.sh) picks the destination: sqlite (default), duckdb or postgres.
# Prints one line per failed step and ends with "machines (DEST): N runs, N failed".
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
FAULT_DIR=$here/tests/fault
. "$FAULT_DIR/lib.sh"
fault_init machines.sh "${1:-}"
unset SLUICE_TEST_CLOCK_SHIFT
FAULT_MOD=${FAULT_MOD:-250}
fault_tmp machines.sh
runs=0
failed=0

fail() {
    failed=$((failed + 1))
    echo "FAIL $*"
}

# commit_order ALIAS: an expression of the _dlt_loads row ALIAS that grows in commit order.
# SQLite and DuckDB: its rowid (the table is only appended to, by one writer at a time);
# PostgreSQL: the inserting transaction's id (assigned at its first write, which comes after
# the pipeline's advisory lock, so in commit order). Load ids are compared as DOUBLE
# PRECISION: REAL is a 4-byte float on DuckDB and PostgreSQL (steps of 128 at 1.8e9), which
# made distinct load ids a minute apart compare equal.
commit_order() {
    if [ "$FAULT_DEST" = postgres ]; then
        echo "CAST(CAST($1.xmin AS TEXT) AS BIGINT)"
    else
        echo "$1.rowid"
    fi
}

# one_run WORK NAME DISP MACHINE SHIFT K [FAULT]: a run of machine MACHINE with its clock
# shifted by SHIFT seconds; without FAULT it must complete and every invariant must hold,
# with FAULT it must die there (137).
one_run() {
    runs=$((runs + 1))
    echo "$6" > "$1/k"
    (
        cd "$1" || exit 2
        export SLUICE_PIPELINES_DIR="$1/machine_$4" SLUICE_TEST_CLOCK_SHIFT="$5"
        [ -n "${7:-}" ] && export SLUICE_FAULT="$7"
        exec "$SLUICE" run config.yaml --progress none
    ) > "$1/out" 2>&1
    or_rc=$?
    wait_children "$1"
    if has_san_report "$1/out"; then
        fail "$3 machine $4 k=$6: sanitizer report: $(grep -m1 -E 'ERROR|runtime' "$1/out")"
        return 1
    fi
    if [ -n "${7:-}" ]; then
        [ $or_rc -eq 137 ] || fail "$3 machine $4 k=$6: expected the kill at $7, exit $or_rc"
        return 0
    fi
    if [ $or_rc -ne 0 ]; then
        fail "$3 machine $4 (clock $5 s) k=$6: exit $or_rc: $(tail -n 2 "$1/out" | tr '\n' ' ')"
        return 1
    fi
    if [ "$3" = merge_nostate ]; then
        # a pipeline whose state never changes: every id once, the newest version of each
        or_why=$(cd "$1" && SLUICE_PIPELINES_DIR="$1/machine_$4" "$SLUICE" pipeline "$2" query \
            "SELECT count(*) || ':' || count(DISTINCT id) || ':' || max(seq) AS n FROM items" \
            --format csv 2> "$CHECK_ERR" | sed -n 2p)
        or_m=$(( $6 < FAULT_MOD ? $6 : FAULT_MOD ))
        [ "$or_why" = "$or_m:$or_m:$6" ] && or_why="" ||
            or_why="rows:ids:max(seq) $or_why, expected $or_m:$or_m:$6"
    else
        or_why=$(cd "$1" && SLUICE_PIPELINES_DIR="$1/machine_$4" check_final "$2" "$3" "$6")
    fi
    [ -z "$or_why" ] || fail "$3 machine $4 (clock $5 s) k=$6: $or_why"
    or_order=$(cd "$1" && SLUICE_PIPELINES_DIR="$1/machine_$4" "$SLUICE" pipeline "$2" query \
        "SELECT (SELECT count(*) FROM _dlt_loads a JOIN _dlt_loads b
                 ON $(commit_order a) < $(commit_order b)
                 AND CAST(a.load_id AS DOUBLE PRECISION) >= CAST(b.load_id AS DOUBLE PRECISION))
              + (SELECT count(*) FROM (SELECT 1 FROM _dlt_pipeline_state
                 GROUP BY pipeline_name, version HAVING count(DISTINCT version_hash) > 1) s)
              + (SELECT count(*) FROM (SELECT 1 FROM _dlt_version
                 GROUP BY schema_name, version HAVING count(*) > 1) v) AS n" --format csv \
        2> "$CHECK_ERR" | sed -n 2p)
    [ "$or_order" = 0 ] || fail "$3 machine $4 k=$6: load ids out of commit order, or a state" \
        "or schema version written twice ($or_order) $(head -c 300 "$CHECK_ERR")"
    return 0
}

# ---- clock skew ----------------------------------------------------------------------------
for disp in append append_state merge_inc; do
    w=$tmp/skew_$disp
    setup_pipeline "$w" "skew_$disp" "$disp" || exit 2
    one_run "$w" "skew_$disp" "$disp" a 3600 200
    one_run "$w" "skew_$disp" "$disp" b 0 400
    one_run "$w" "skew_$disp" "$disp" c 0 600
    one_run "$w" "skew_$disp" "$disp" a 0 800
    one_run "$w" "skew_$disp" "$disp" b -86400 1000
    one_run "$w" "skew_$disp" "$disp" a 0 1200 load.before_commit
    one_run "$w" "skew_$disp" "$disp" c 7200 1400
    one_run "$w" "skew_$disp" "$disp" a -3600 1600
    one_run "$w" "skew_$disp" "$disp" b 0 1800
done

# ---- schema evolution ----------------------------------------------------------------------
# not_int COLUMN: a condition true where COLUMN holds something else than an integer (text
# in SQLite's bigint column; SQLite's typeof names storage classes, DuckDB's the column type)
not_int() {
    echo "$1 IS NOT NULL AND CAST($1 AS TEXT) <> CAST(CAST($1 AS BIGINT) AS TEXT)"
}
# FIELDS (in the work dir) says which extra fields this run's items carry: "f:int g:text" ...
extra_awk='{
    n = split(fields, fl, " ")
    if (!match($0, /"seq":[0-9]+/)) { print; next }
    s = substr($0, RSTART + 6, RLENGTH - 6)
    add = ""
    for (i = 1; i <= n; i++) {
        split(fl[i], kv, ":")
        v = kv[2] == "int" ? s : "\"t" s "\""
        add = add "\"" kv[1] "\":" v ","
    }
    print "{" add substr($0, 2)
}'
# merge_nostate: merge on id without any state (the command keeps none): the state of such a
# pipeline never changes, so nothing but the schema check brings b's schema up to date.
# (Not append with an incremental cursor: its boundary de-duplication hashes the whole row,
# and a row whose new field appears from one run to the next is a new row to it, in dlt too.)
for disp in append_state merge_nostate; do
    w=$tmp/schema_$disp
    name=schema_$disp
    if [ $disp = merge_nostate ]; then
        setup_pipeline "$w" "$name" merge || exit 2
        sed -i '/SLUICE_STATE_FILE"$/d' "$w/gen.sh"
    else
        setup_pipeline "$w" "$name" "$disp" || exit 2
    fi
    printf '%s\n' "$extra_awk" > "$w/extra.awk"
    sed -i 's|from: {command: "\(sh gen.sh [^"]*\)"}|from: {command: "\1 \| awk -v fields=\\"$(cat fields)\\" -f extra.awk"}|' \
        "$w/config.yaml"
    step() { echo "$1" > "$w/fields"; one_run "$w" "$name" "$disp" "$2" 0 "$3" ${4:-}; }
    step "" a 100
    step "" b 200
    step "f:int" a 300
    step "f:text" b 400                         # b's working dir is behind: f is bigint
    step "f:text g:int" b 500
    step "f:int h:text" b 600 load.before_commit # b's package adds h, not committed
    step "f:int g:text" a 700                   # a evolves the schema meanwhile
    step "f:int h:text" b 800                   # b's pending package is stale: re-extracted
    step "f:int" a 900
    got=$(cd "$w" && SLUICE_PIPELINES_DIR="$w/machine_a" "$SLUICE" pipeline "$name" query \
        "SELECT (SELECT count(*) FROM items WHERE $(not_int f))
              || ':' || (SELECT count(*) FROM items WHERE f__v_text IS NOT NULL)
              || ':' || (SELECT count(*) FROM items WHERE $(not_int g))
              || ':' || (SELECT count(*) FROM items WHERE h IS NOT NULL) AS n" --format csv \
        2> "$CHECK_ERR" | sed -n 2p)
    # append_state: b's text f is seq 301..500; b's killed package (501..600 with h) is stale
    # once a has loaded 501..700, so it is discarded and b loads 701..800 with h; merge (ids
    # mod 250): rows are rewritten by later runs,
    # so only the typing is checked
    case $disp in
        append_state) want="0:200:0:100" ;;
        *) want=$(echo "$got" | awk -F: '{ print "0:" $2 ":0:" $4 }') ;;
    esac
    [ "$got" = "$want" ] || fail "$disp schema: text in a bigint column or values lost" \
        "(f not int, f__v_text, g not int, h): $got, expected $want"
done

echo "machines ($FAULT_DEST): $runs runs, $failed failed"
[ $failed -eq 0 ]
