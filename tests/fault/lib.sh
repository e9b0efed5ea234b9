# lib.sh — shared by crash.sh, kill9.sh, disrupt.sh and machines.sh (sourced, POSIX sh): how a
# script starts (fault_init, fault_tmp), the test pipelines, their expected tables, the
# invariant checks and the kill-and-recover loop's steps. Needs: $here (the repository),
# $FAULT_DIR (this folder) and SLUICE_PIPELINES_DIR set by the caller; fault_tmp sets $SLUICE
# (the binary under test).
#
# One pipeline per disposition (destination: FAULT_DEST), all loading the items of gen.awk (a parent with a list of
# scalars and a list of objects holding another list: tables items, items__tags, items__parts,
# items__parts__subs) from a command source; the file `k` in the work dir says how far the
# source goes this run (seq 1..k).
#   append        append, incremental cursor seq (the command starts at SLUICE_LAST_VALUE)
#   append_state  append, no incremental: the command keeps {"last": k} in $SLUICE_STATE_FILE
#                 and starts after it
#   replace       replace: each run yields seq k-W+1..k (W = $FAULT_WINDOW)
#   merge         merge on primary key id (id = (seq-1) % M + 1): every run yields 1..k
#   merge_inc     merge on id with an incremental cursor seq
#   upsert        as merge, with the upsert strategy (_dlt_id = the key's hash; several items
#                 of one id in a run: the last one wins, with its own nested rows)
#   rest          append from a REST API (the mock, fixtures/rest_mock.py, serving seq 1..k in
#                 pages of 97): offset paginator, incremental cursor seq sent as `since`
# Every command also writes {"last": k} into its state file, so each pipeline has resource
# state committed with its data (the REST resource has none: its state is the incremental).
# Shell functions share the caller's variables: these set only D_* (disp_params), LOST and DUP
# (check_final) and scratch variables prefixed cf_, cb_, wc_, ex_.

FAULT_WINDOW=${FAULT_WINDOW:-300}
# The destination: sqlite or duckdb (a file in the work dir: out.db, out.duckdb) or postgres
# (a database of its own per pipeline dir on the server of SLUICE_TEST_PG_DSN, named after the
# dir; see pg_db).
FAULT_DEST=${FAULT_DEST:-sqlite}

# ---- how a script starts -----------------------------------------------------------------
# fault_init SCRIPT [BUILD_DIR]: tb, the build under test (default build/san, relative to the
# repository), whose sluice must exist; FAULT_DEST must be usable; no SLUICE_FAULT inherited;
# the sanitizers' options. Exits 2 when something is missing.
fault_init() {
    tb=${2:-build/san}
    case "$tb" in /*) ;; *) tb=$here/$tb ;; esac
    if [ ! -x "$tb/sluice" ]; then
        echo "$1: $tb/sluice is missing (make $tb/sluice)" >&2
        exit 2
    fi
    dest_check || exit 2
    unset SLUICE_FAULT
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
}

# fault_tmp SCRIPT: the temp dir $tmp, with a private copy of the binary ($SLUICE: a rebuild of
# the tree while the script runs does not change the binary under test), CHECK_ERR and
# FAULT_PG_DBS. At exit (unless FAULT_KEEP=1) the REST mock stops, the postgres databases are
# dropped and everything goes but the kept failures (fail-* and a non-empty fail/).
fault_tmp() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-${1%.sh}-XXXXXX") || exit 2
    FAULT_PG_DBS=$tmp/pgdbs
    if [ "${FAULT_KEEP:-0}" = 1 ]; then
        echo "$1: keeping $tmp"
    else
        trap 'rest_mock_stop; pg_drop_all; for f in "$tmp"/*; do case $f in */fail-*) ;; */fail) rmdir "$f" 2>/dev/null ;; *) rm -rf "$f" ;; esac; done; rmdir "$tmp" 2>/dev/null' EXIT
    fi
    trap 'exit 130' INT TERM
    mkdir -p "$tmp/bin"
    cp "$tb/sluice" "$tmp/bin/sluice" || exit 2
    SLUICE=$tmp/bin/sluice
    CHECK_ERR=$tmp/check.err
}

# ---- postgres databases ------------------------------------------------------------------
# pg_sql SQL: run SQL as the test server's superuser (maintenance database postgres).
pg_sql() {
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$(pg_dsn postgres)" \
        -c "$1" > /dev/null
}
# pg_dsn DB: the test server's dsn with another database.
pg_dsn() {
    printf '%s' "$SLUICE_TEST_PG_DSN" | sed -E "s#/[^/?]*(\?|\$)#/$1\1#"
}
# pg_db DIR: the database of the pipeline dir DIR ("fault_" + a checksum of its path).
pg_db() {
    echo "fault_$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
}
# pg_new_db DB [TEMPLATE]: (re)create DB, empty or as a copy of TEMPLATE; remembered in
# $FAULT_PG_DBS for pg_drop_all.
pg_new_db() {
    pg_sql "DROP DATABASE IF EXISTS $1 WITH (FORCE)" || return 1
    if [ -n "${2:-}" ]; then
        pg_sql "CREATE DATABASE $1 TEMPLATE $2" || return 1
    else
        pg_sql "CREATE DATABASE $1" || return 1
    fi
    [ -n "${FAULT_PG_DBS:-}" ] && echo "$1" >> "$FAULT_PG_DBS"
    return 0
}
# pg_drop_all: drop every database pg_new_db made.
pg_drop_all() {
    [ -n "${FAULT_PG_DBS:-}" ] && [ -f "$FAULT_PG_DBS" ] || return 0
    for pd_db in $(sort -u "$FAULT_PG_DBS"); do
        pg_sql "DROP DATABASE IF EXISTS $pd_db WITH (FORCE)" 2> /dev/null
    done
    : > "$FAULT_PG_DBS"
}
# dest_check: can the harness use FAULT_DEST? (postgres: SLUICE_TEST_PG_DSN and psql; duckdb:
# libduckdb.so, from $SLUICE_DUCKDB_LIB or deps/duckdb/ as scripts/install-deps fills it)
dest_check() {
    case $FAULT_DEST in
        sqlite) return 0 ;;
        duckdb)
            if [ ! -r "${SLUICE_DUCKDB_LIB:-$FAULT_DIR/../../deps/duckdb/libduckdb.so}" ]; then
                echo "FAULT_DEST=duckdb needs libduckdb.so (sh scripts/install-deps)" >&2
                return 1
            fi
            return 0 ;;
        postgres)
            if [ -z "${SLUICE_TEST_PG_DSN:-}" ] || ! command -v psql > /dev/null 2>&1; then
                echo "FAULT_DEST=postgres needs SLUICE_TEST_PG_DSN (scripts/pg-start) and psql" >&2
                return 1
            fi
            return 0 ;;
        *) echo "unknown FAULT_DEST '$FAULT_DEST' (sqlite, duckdb, postgres)" >&2; return 1 ;;
    esac
}
# copy_pipeline SRC DST: DST becomes a copy of the pipeline dir SRC, destination included
# (postgres: a copy of SRC's database, and DST's config points to it).
copy_pipeline() {
    rm -rf "$2"
    cp -a "$1" "$2" || return 1
    [ "$FAULT_DEST" = postgres ] || return 0
    cp_db=$(pg_db "$2")
    pg_new_db "$cp_db" "$(pg_db "$1")" || return 1
    sed -i "s#^destination: .*#destination: {type: postgres, dsn: \"$(pg_dsn "$cp_db")\"}#" \
        "$2/work/config.yaml"
}

# The parameters of a disposition: sets D_WD (merge for every merge strategy), D_STRATEGY,
# D_MODE, D_M (id modulus), D_INC.
disp_params() {
    D_M=0
    D_INC=0
    D_STRATEGY=
    D_REST=0
    case $1 in
        append) D_WD=append; D_MODE=inc; D_INC=1 ;;
        append_state) D_WD=append; D_MODE=state ;;
        replace) D_WD=replace; D_MODE=window ;;
        merge) D_WD=merge; D_MODE=all; D_M=$FAULT_MOD ;;
        merge_inc) D_WD=merge; D_MODE=inc; D_M=$FAULT_MOD; D_INC=1 ;;
        upsert) D_WD=merge; D_STRATEGY=upsert; D_MODE=all; D_M=$FAULT_MOD ;;
        rest) D_WD=append; D_MODE=inc; D_INC=1; D_REST=1 ;;
        *) echo "lib.sh: unknown disposition '$1'" >&2; return 1 ;;
    esac
}

# rest_mock_start DIR: the mock REST API for the rest disposition, serving DIR/items.jsonl;
# exports MOCK_URL and REST_DATA. rest_mock_stop ends it. It must outlive the other
# dispositions' runs, which can take many minutes on a loaded machine (an hour idle at most).
rest_mock_start() {
    REST_DATA=$1
    mkdir -p "$REST_DATA"
    : > "$REST_DATA/items.jsonl"
    echo '{"page_size": 97, "cursor_field": "seq", "gzip": false}' > "$REST_DATA/rules.json"
    rm -f "$REST_DATA/port"
    python3 "$FAULT_DIR/../fixtures/rest_mock.py" --port-file "$REST_DATA/port" \
        --data "$REST_DATA" --rules "$REST_DATA/rules.json" --idle 3600 > "$REST_DATA/mock.log" 2>&1 &
    REST_MOCK_PID=$!
    rm_i=0
    while [ ! -s "$REST_DATA/port" ] && [ $rm_i -lt 200 ]; do
        sleep 0.05
        rm_i=$((rm_i + 1))
    done
    [ -s "$REST_DATA/port" ] || { echo "lib.sh: the REST mock did not start" >&2; return 1; }
    MOCK_URL=http://127.0.0.1:$(cat "$REST_DATA/port")
    export MOCK_URL REST_DATA
}

rest_mock_stop() {
    [ -n "${REST_MOCK_PID:-}" ] && kill "$REST_MOCK_PID" 2>/dev/null
    REST_MOCK_PID=
}

# before_run WORKDIR: what a run needs first (the rest disposition: the API's items 1..k).
before_run() {
    [ -f "$1/prerun.sh" ] && (cd "$1" && sh prerun.sh)
    return 0
}

# setup_pipeline WORKDIR NAME DISPOSITION: config.yaml, gen.sh, gen.awk in WORKDIR (postgres:
# and a new database for the pipeline dir, WORKDIR's parent).
setup_pipeline() {
    disp_params "$3" || return 1
    mkdir -p "$1" || return 1
    if [ "$FAULT_DEST" = postgres ]; then
        sp_db=$(pg_db "$(dirname "$1")")
        pg_new_db "$sp_db" || return 1
        sp_dest="{type: postgres, dsn: \"$(pg_dsn "$sp_db")\"}"
    elif [ "$FAULT_DEST" = duckdb ]; then
        sp_dest="{type: duckdb, path: out.duckdb}"
    else
        sp_dest="{type: sqlite, path: out.db}"
    fi
    cp "$FAULT_DIR/gen.awk" "$1/gen.awk" || return 1
    if [ "$D_REST" = 1 ]; then
        [ -n "${REST_DATA:-}" ] || { echo "lib.sh: rest needs rest_mock_start" >&2; return 1; }
        printf '%s\n' 'awk -v from=1 -v k="$(cat k)" -v m=0 -f gen.awk > "$REST_DATA/items.tmp" &&' \
            'mv "$REST_DATA/items.tmp" "$REST_DATA/items.jsonl"' > "$1/prerun.sh"
        {
            echo "pipeline: $2"
            echo "destination: $sp_dest"
            echo "dataset: ds"
            echo "sources:"
            echo "  src:"
            echo "    rest_api:"
            echo "      client:"
            echo '        base_url: "${MOCK_URL}"'
            echo "        session: {backoff_factor: 0.05}"
            echo "      resources:"
            echo "        - name: items"
            echo "          endpoint:"
            echo "            path: offset/items"
            echo '            params: {since: "{incremental.start_value}"}'
            echo "            paginator: {type: offset, limit: 97}"
            echo "            incremental: {cursor_path: seq, initial_value: 0}"
        } > "$1/config.yaml"
        return 0
    fi
    cat > "$1/gen.sh" <<'EOF'
# gen.sh MODE M W — this run's items (up to seq $(cat k)), then {"last": k} as resource state
k=$(cat k)
echo $$ >> pids # the harness waits for the commands of killed runs to end
case $1 in
    inc) from=${SLUICE_LAST_VALUE:-1} ;;
    state)
        last=$(sed -n 's/.*"last": *\([0-9][0-9]*\).*/\1/p' "$SLUICE_STATE_FILE")
        from=$((${last:-0} + 1)) ;;
    window) from=$((k - $3 + 1)) ;;
    *) from=1 ;;
esac
awk -v from="$from" -v k="$k" -v m="$2" -f gen.awk || exit 1
printf '{"last": %d}\n' "$k" > "$SLUICE_STATE_FILE"
EOF
    {
        echo "pipeline: $2"
        echo "destination: $sp_dest"
        echo "dataset: ds"
        echo "sources:"
        echo "  src:"
        echo "    resources:"
        echo "      items:"
        echo "        from: {command: \"sh gen.sh $D_MODE $D_M $FAULT_WINDOW\"}"
        if [ -n "$D_STRATEGY" ]; then
            echo "        write_disposition: {disposition: $D_WD, strategy: $D_STRATEGY}"
        else
            echo "        write_disposition: $D_WD"
        fi
        [ "$D_WD" = merge ] && echo "        primary_key: id"
        [ "$D_INC" = 1 ] && echo "        incremental: {cursor_path: seq}"
    } > "$1/config.yaml"
    return 0
}

# wait_children WORKDIR: wait (up to ~10 s) until the commands started by killed runs have
# ended, so they cannot write into the next run's working dir.
wait_children() {
    [ -f "$1/pids" ] || return 0
    for wc_pid in $(cat "$1/pids"); do
        wc_i=0
        while kill -0 "$wc_pid" 2>/dev/null && [ $wc_i -lt 200 ]; do
            sleep 0.05
            wc_i=$((wc_i + 1))
        done
    done
    : > "$1/pids"
}

# has_san_report FILE: a sanitizer report in FILE?
has_san_report() {
    grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$1"
}

CHECK_COLS="n,ids,sseq,mseq,tags,stags,parts,sparts,subs,ssubs,orphans,badlink,dupid,unloaded,badroot,dupload,orphanstate"

# check_sql DISPOSITION: one query, one row, the columns of CHECK_COLS:
#   n ids sseq mseq          items: rows, distinct ids, sum and max of seq
#   tags stags parts sparts subs ssubs    child tables: rows and sum of values
#   orphans   child rows whose parent row is missing
#   badlink   child rows under the wrong parent or list index (values encode their parent;
#             (v - v % 10) / 10 is the integer quotient on every engine: DuckDB's / is exact)
#   dupid     _dlt_id values that appear more than once (per table)
#   unloaded  parent rows whose _dlt_load_id is not a completed load in _dlt_loads
#   badroot   (merge) child rows whose _dlt_root_id is not a parent row
#   dupload   load ids recorded twice in _dlt_loads
#   orphanstate  state rows whose load is not in _dlt_loads
check_sql() {
    disp_params "$1" || return 1
    if [ "$D_WD" = merge ]; then
        badroot="(SELECT count(*) FROM items__tags WHERE _dlt_root_id NOT IN (SELECT _dlt_id FROM items))
 + (SELECT count(*) FROM items__parts WHERE _dlt_root_id NOT IN (SELECT _dlt_id FROM items))
 + (SELECT count(*) FROM items__parts__subs WHERE _dlt_root_id NOT IN (SELECT _dlt_id FROM items))"
    else
        badroot=0
    fi
    cat <<EOF
WITH lt AS (SELECT sum(CASE WHEN p._dlt_id IS NULL THEN 1 ELSE 0 END) AS o,
        sum(CASE WHEN (c.value - c.value % 10) / 10 <> p.seq OR c.value % 10 <> c._dlt_list_idx THEN 1 ELSE 0 END) AS b
      FROM items__tags c LEFT JOIN items p ON p._dlt_id = c._dlt_parent_id),
  lp AS (SELECT sum(CASE WHEN p._dlt_id IS NULL THEN 1 ELSE 0 END) AS o,
        sum(CASE WHEN (c.p - c.p % 10) / 10 <> p.seq OR c.p % 10 <> c._dlt_list_idx THEN 1 ELSE 0 END) AS b
      FROM items__parts c LEFT JOIN items p ON p._dlt_id = c._dlt_parent_id),
  ls AS (SELECT sum(CASE WHEN p._dlt_id IS NULL THEN 1 ELSE 0 END) AS o,
        sum(CASE WHEN (c.value - c.value % 10) / 10 <> p.p OR c.value % 10 <> c._dlt_list_idx THEN 1 ELSE 0 END) AS b
      FROM items__parts__subs c LEFT JOIN items__parts p ON p._dlt_id = c._dlt_parent_id)
SELECT (SELECT count(*) FROM items) AS n,
 (SELECT count(DISTINCT id) FROM items) AS ids,
 (SELECT coalesce(sum(seq), 0) FROM items) AS sseq,
 (SELECT coalesce(max(seq), 0) FROM items) AS mseq,
 (SELECT count(*) FROM items__tags) AS tags,
 (SELECT coalesce(sum(value), 0) FROM items__tags) AS stags,
 (SELECT count(*) FROM items__parts) AS parts,
 (SELECT coalesce(sum(p), 0) FROM items__parts) AS sparts,
 (SELECT count(*) FROM items__parts__subs) AS subs,
 (SELECT coalesce(sum(value), 0) FROM items__parts__subs) AS ssubs,
 coalesce((SELECT o FROM lt), 0) + coalesce((SELECT o FROM lp), 0) + coalesce((SELECT o FROM ls), 0) AS orphans,
 coalesce((SELECT b FROM lt), 0) + coalesce((SELECT b FROM lp), 0) + coalesce((SELECT b FROM ls), 0) AS badlink,
 (SELECT count(*) - count(DISTINCT _dlt_id) FROM items) + (SELECT count(*) - count(DISTINCT _dlt_id) FROM items__tags)
 + (SELECT count(*) - count(DISTINCT _dlt_id) FROM items__parts) + (SELECT count(*) - count(DISTINCT _dlt_id) FROM items__parts__subs) AS dupid,
 (SELECT count(*) FROM items WHERE _dlt_load_id NOT IN (SELECT load_id FROM _dlt_loads WHERE status = 0)) AS unloaded,
 $badroot AS badroot,
 (SELECT count(*) - count(DISTINCT load_id) FROM _dlt_loads) AS dupload,
 (SELECT count(*) FROM _dlt_pipeline_state WHERE _dlt_load_id NOT IN (SELECT load_id FROM _dlt_loads)) AS orphanstate
EOF
}

# expected DISPOSITION K: the CSV data line check_sql must return after a run with k = K.
expected() {
    disp_params "$1" || return 1
    ex_from=1
    [ "$D_MODE" = window ] && ex_from=$(($2 - FAULT_WINDOW + 1))
    printf '%s,0,0,0,0,0,0,0\n' "$(awk -v from="$ex_from" -v k="$2" -v m="$D_M" -f "$FAULT_DIR/expect.awk")"
}

# explain GOT EXPECTED: the columns that differ, "name: expected X, got Y; ..."
explain() {
    awk -v cols="$CHECK_COLS" -v got="$1" -v want="$2" 'BEGIN {
        nc = split(cols, c, ","); split(got, g, ","); split(want, w, ",")
        for (i = 1; i <= nc; i++)
            if (g[i] != w[i]) { printf "%s%s: expected %s, got %s", sep, c[i], w[i], g[i]; sep = "; " }
    }'
}

# rows_off GOT EXPECTED: "LOST DUP" — rows missing and rows in excess: parent ids missing or
# extra, parent rows beyond one per id, child rows short or in excess (at least the number of
# repeated _dlt_ids).
rows_off() {
    awk -v got="$1" -v want="$2" 'BEGIN {
        split(got, g, ","); split(want, w, ",")
        # items: ids missing, and rows beyond one per id or beyond the expected ids
        if (g[2] < w[1]) lost += w[1] - g[2]; else dup += g[2] - w[1]
        dup += g[1] - g[2]
        split("5 7 9", idx, " ")
        for (i = 1; i <= 3; i++) { d = g[idx[i]] - w[idx[i]]; if (d < 0) lost -= d; else dup += d }
        if (g[13] > dup) dup = g[13]  # the same rows loaded twice repeat their _dlt_id
        printf "%d %d\n", lost, dup
    }'
}

# query_check NAME DISPOSITION: the CSV data line of check_sql (empty on failure; the error
# goes to $CHECK_ERR).
query_check() {
    "$SLUICE" pipeline "$1" query "$(check_sql "$2")" --format csv 2> "$CHECK_ERR" | sed -n 2p
}

# check_final NAME DISPOSITION K: every invariant after a completed run with k = K. Prints
# nothing when all hold, else one line per broken invariant; sets LOST and DUP (rows).
check_final() {
    LOST=0
    DUP=0
    cf_bad=0
    cf_want=$(expected "$2" "$3")
    cf_got=$(query_check "$1" "$2")
    if [ -z "$cf_got" ]; then
        echo "query failed: $(head -c 300 "$CHECK_ERR")"
        return 1
    fi
    if [ "$cf_got" != "$cf_want" ]; then
        echo "tables: $(explain "$cf_got" "$cf_want")"
        set -- "$1" "$2" "$3" $(rows_off "$cf_got" "$cf_want")
        LOST=$4
        DUP=$5
        cf_bad=1
    fi
    cf_mseq=$(echo "$cf_got" | cut -d, -f4)
    cf_info=$("$SLUICE" pipeline "$1" info --json 2> "$CHECK_ERR")
    if [ -z "$cf_info" ]; then
        echo "info failed: $(head -c 300 "$CHECK_ERR")"
        return 1
    fi
    disp_params "$2"
    if [ "$D_INC" = 1 ]; then
        cf_lv=$(printf '%s' "$cf_info" | grep -o '"last_value":[^,}]*' | head -n 1 | cut -d: -f2)
        if [ "$cf_lv" != "$cf_mseq" ] || [ "$cf_lv" != "$3" ]; then
            echo "state: incremental last_value $cf_lv, max(seq) loaded $cf_mseq, expected $3"
            cf_bad=1
        fi
    fi
    cf_last=$(printf '%s' "$cf_info" | grep -o '"last":[^,}]*' | head -n 1 | cut -d: -f2)
    [ "$D_REST" = 1 ] && cf_last=$3 # no resource state of its own
    if [ "$cf_last" != "$3" ] || [ "$cf_last" != "$cf_mseq" ]; then
        echo "state: resource state last=$cf_last, max(seq) loaded $cf_mseq, expected $3"
        cf_bad=1
    fi
    cf_pend=$("$SLUICE" pipeline "$1" pending 2>&1)
    if [ "$cf_pend" != "No pending packages." ]; then
        echo "pending: $cf_pend"
        cf_bad=1
    fi
    return $cf_bad
}

# check_between NAME DISPOSITION K...: after a killed run, the destination holds exactly the
# tables of one of the runs with k = K... (the run before the kill, the killed run, ...),
# never a mix. Query only: nothing that would touch the working dir. Prints the k it matches,
# or an error line (return 1).
check_between() {
    cb_name=$1
    cb_disp=$2
    shift 2
    cb_got=$(query_check "$cb_name" "$cb_disp")
    if [ -z "$cb_got" ]; then
        echo "query failed: $(head -c 300 "$CHECK_ERR")"
        return 1
    fi
    cb_why=""
    for cb_k in "$@"; do
        cb_w=$(expected "$cb_disp" "$cb_k")
        if [ "$cb_got" = "$cb_w" ]; then
            echo "$cb_k"
            return 0
        fi
        cb_why="$cb_why | vs k=$cb_k: $(explain "$cb_got" "$cb_w")"
    done
    echo "not atomic (matches no run)$cb_why"
    return 1
}

# ---- the kill-and-recover loop (kill9.sh, disrupt.sh) --------------------------------------
now_ms() { date +%s%3N; }

# delay_ms SEED I D T: the seeded delay (ms) of iteration I of loop D, uniform in [0, 1.1 T]
delay_ms() {
    awk -v s="$1" -v i="$2" -v d="$3" -v t="$4" \
        'BEGIN { srand(s * 100003 + d * 1009 + i); printf "%d", rand() * t * 1.1 }'
}

# sleep_ms MS
sleep_ms() {
    sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

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

# run_bg DIR K: start a run with k = K in the background; sets pid
run_bg() {
    echo "$2" > "$1/work/k"
    before_run "$1/work"
    (cd "$1/work" && exec "$SLUICE" run config.yaml --progress none \
        > "$1/out" 2> "$1/err") &
    pid=$!
}

# pending_stage NAME: where the pipeline's pending package stopped (none, extract, normalize,
# load)
pending_stage() {
    ps_pend=$("$SLUICE" pipeline "$1" pending 2>&1)
    case "$ps_pend" in
        "No pending packages.") echo none ;;
        *unfinished*) echo extract ;;
        *extracted*) echo normalize ;;
        *normalized*) echo load ;;
        *) echo "?($ps_pend)" ;;
    esac
}

# recover DIR NAME DISP K WHAT: after the run killed by WHAT was found atomic or not (brc, b of
# check_between), the recovery run to completion and every invariant. Sets fail (empty: all
# held); uses tmp.
recover() {
    fail=""
    if [ $brc -ne 0 ]; then
        fail="after the $5: $b"
    elif ! clean_run "$1" "$4" > "$tmp/msg"; then
        fail="sanitizer report in the recovery run: $(cat "$tmp/msg")"
    elif [ $rc -ne 0 ]; then
        fail="the recovery run exited $rc: $(head -n 3 "$1/err")"
    elif ! check_final "$2" "$3" "$4" > "$tmp/msg"; then
        fail=$(cat "$tmp/msg")
    fi
}

# iteration_end LABEL DIR KEEP: print the iteration's outcome (LABEL, then ok or FAIL with
# $fail) and count it in survived or failed (and status); a failure's DIR is kept as
# $tmp/KEEP and returns 1. A survivor's recovery time dur raises T.
iteration_end() {
    if [ -z "$fail" ]; then
        [ $dur -gt $T ] && T=$dur
        echo "  $1; recovered in ${dur} ms: ok"
        survived=$((survived + 1))
        return 0
    fi
    echo "  $1: FAIL"
    echo "$fail" | sed 's/^/    /'
    status=1
    failed=$((failed + 1))
    copy_pipeline "$2" "$tmp/$3"
    echo "    (kept in $tmp/$3)"
    return 1
}

# where_landed WHAT: the counts of where the kills landed ($tmp/where)
where_landed() {
    echo
    echo "where the $1 landed:"
    sort "$tmp/where" | uniq -c | sort -rn | sed 's/^/  /'
}
