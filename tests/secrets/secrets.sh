#!/bin/sh
# tests/secrets/secrets.sh — a planted secret never shows up in anything sluice writes.
#
#   sh tests/secrets/secrets.sh [SLUICE_BIN]     (default build/san/sluice; `make secrets`)
#
# The secret SLUICE_TEST_SECRET (exported, so every command source receives it) is planted
# where secrets live:
#   - the destination dsn: DESTINATION__CREDENTIALS, DESTINATION__POSTGRES__CREDENTIALS (also
#     set, unused, during sqlite runs), and `dsn: "...${SLUICE_TEST_SECRET}..."` in a file;
#   - `${SLUICE_TEST_SECRET}` in a command source's text (interpolated into its arguments);
#   - the environment of the command source (the program checks it got both, and says so in a
#     marker file, so the test cannot pass vacuously).
# REST API sources (when python3 is there for the mock API): the secret as a bearer token, an
# API key in the query, a basic password and an OAuth2 client secret, echoed back by the mock in
# 401 bodies; a server that is down.
# Runs: successful runs (plain, --json, SLUICE_DEBUG=1 with --progress log, `sync`, a run
# restoring its state from the destination), a failing command, a missing program, unknown
# config keys next to the secret, bad destinations (a postgres dsn from the file or the env,
# a credentials value that is not a dsn; a sqlite file that cannot be created), and runs killed
# by SLUICE_FAULT at several points
# to leave a load package behind (needs a build with fault points, -DSLUICE_TESTING: the
# sanitizer build), then `pending`, `info`, `info -v`, `info --json` and `query` of every
# pipeline. Every channel is captured (stdout, stderr, --json) and, at the end, every file
# below the pipelines dir (state.json, schemas, pipeline.json, package manifests, extracted
# items) and the destination databases are searched for the secret (grep -a). With a test
# PostgreSQL server (SLUICE_TEST_PG_DSN, scripts/pg-start) a role whose password is the secret
# loads through the dsn, ${ENV}, PGPASSWORD and DESTINATION__CREDENTIALS, with a wrong password
# and a killed run too, and the dataset's rows join the search. The test fails
# when the secret is found anywhere, naming the file; it also fails when an expected exit
# status differs (so a run that silently stops doing the interesting thing is noticed).
# A command that prints its own environment into its data is the user's business: not tested.
# SECRETS_KEEP=1 keeps the scratch dir. Exit 0 ok, 1 failed, 2 setup problem.
set -u

here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-build/san/sluice}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
[ -x "$BIN" ] || { echo "secrets: $BIN is not executable" >&2; exit 2; }

SECRET="s3cr3t-xyz-Q7pW"
export SLUICE_TEST_SECRET="$SECRET"
DSN="postgresql://loader:${SECRET}@127.0.0.1:9/warehouse"
tmp=$(mktemp -d /tmp/sluice-secrets-XXXXXX) || exit 2
cleanup() { [ "${SECRETS_KEEP:-0}" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT
work=$tmp/work
out=$tmp/out
mkdir -p "$work" "$out"
export SLUICE_PIPELINES_DIR="$tmp/pipelines"
unset SLUICE_FAULT SLUICE_DEBUG DESTINATION__CREDENTIALS DESTINATION__POSTGRES__CREDENTIALS
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

failures=0
bad() {
    echo "secrets: FAIL: $*" >&2
    failures=$((failures + 1))
}

n=0
# sx NAME EXPECTED_EXIT CMD...: run CMD in $work, capturing stdout and stderr as NAME.*
sx() {
    name=$1
    want=$2
    shift 2
    n=$((n + 1))
    (cd "$work" && "$@") >"$out/$n-$name.stdout" 2>"$out/$n-$name.stderr"
    rc=$?
    if [ "$want" != any ] && [ "$rc" != "$want" ]; then
        bad "$name: exit $rc, expected $want: $*"
        sed 's/^/    | /' "$out/$n-$name.stderr" >&2
    fi
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$out/$n-$name.stderr"; then
        bad "$name: sanitizer report"
        sed 's/^/    | /' "$out/$n-$name.stderr" >&2
    fi
    return 0
}

# inspect PIPELINE: every read-only view of a pipeline
inspect() {
    sx "$1-info" any "$BIN" pipeline "$1" info
    sx "$1-info-v" any "$BIN" pipeline "$1" info -v
    sx "$1-info-json" any "$BIN" pipeline "$1" info --json
    sx "$1-pending" any "$BIN" pipeline "$1" pending
    sx "$1-query" any "$BIN" pipeline "$1" query "SELECT * FROM _dlt_loads" --format csv
}

# ---- the program and the configs -------------------------------------------------------------
cat > "$work/gen.sh" <<'SH'
# gen.sh --token TOKEN: prints three items; checks that it got the secret as an argument and in
# its environment (without ever printing it) and leaves a marker saying so
if [ "${1:-}" = --token ] && [ "${2:-}" = "$SLUICE_TEST_SECRET" ] && [ -n "$SLUICE_TEST_SECRET" ]; then
    echo ok > got-secret
fi
n=$(cat counter 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > counter
echo "{\"id\": $((3 * n - 2)), \"updated\": $((3 * n - 2)), \"user\": {\"name\": \"u\"}, \"tags\": [\"a\"]}"
echo "[{\"id\": $((3 * n - 1)), \"updated\": $((3 * n - 1))}, {\"id\": $((3 * n)), \"updated\": $((3 * n))}]"
echo "{\"page\": $n}" > "$SLUICE_STATE_FILE"
SH
cat > "$work/fail.sh" <<'SH'
echo '{"id": 1, "updated": 1}'
echo "upstream API said no (HTTP 401)" >&2
exit 3
SH

resource() { # resource NAME COMMAND
    cat <<YAML
      $1:
        from: {command: "$2"}
        write_disposition: merge
        primary_key: id
        incremental: {cursor_path: updated}
YAML
}
config() { # config FILE PIPELINE DESTINATION_YAML RESOURCE_YAML
    printf 'pipeline: %s\ndestination: %s\ndataset: ds\nsources:\n  src:\n    resources:\n%s\n' \
        "$2" "$3" "$4" > "$work/$1"
}

good_cmd='sh gen.sh --token ${SLUICE_TEST_SECRET}'
config ok.yaml p_ok '{type: sqlite, path: ok.db}' "$(resource events "$good_cmd")"
config fault.yaml p_fault '{type: sqlite, path: fault.db}' "$(resource events "$good_cmd")"
config fail.yaml p_fail '{type: sqlite, path: fail.db}' "$(resource events 'sh fail.sh --token ${SLUICE_TEST_SECRET}')"
config missing.yaml p_missing '{type: sqlite, path: missing.db}' \
    "$(resource events 'fetch-events-tool --token ${SLUICE_TEST_SECRET} --since 2024')"
config badkey_dest.yaml p_badkey '{type: postgres, dsn: "postgresql://loader:${SLUICE_TEST_SECRET}@127.0.0.1:9/w", sslmod: require}' \
    "$(resource events "$good_cmd")"
config badkey_dsn.yaml p_badkey2 '{type: postgres, dns: "postgresql://loader:${SLUICE_TEST_SECRET}@127.0.0.1:9/w"}' \
    "$(resource events "$good_cmd")"
config badkey_src.yaml p_badkey3 '{type: sqlite, path: bk.db}' "      events:
        from: {command: \"$good_cmd\", shell: bash}
        write_disposition: merge"
config badval.yaml p_badval '{type: sqlite, path: bv.db}' "      events:
        from: {command: \"$good_cmd\"}
        write_disposition: upsert"
config pg_file.yaml p_pg_file '{type: postgres, dsn: "postgresql://loader:${SLUICE_TEST_SECRET}@127.0.0.1:9/w"}' \
    "$(resource events "$good_cmd")"
config pg_env.yaml p_pg_env '{type: postgres}' "$(resource events "$good_cmd")"
config baddest.yaml p_baddest '{type: sqlite, path: /dev/null/no/such/dir.db}' "$(resource events "$good_cmd")"
config pg_env_sqlite.yaml p_pg_env_sqlite '{type: sqlite, path: pgenv.db}' "$(resource events "$good_cmd")"

# ---- success paths -----------------------------------------------------------------------------
DESTINATION__POSTGRES__CREDENTIALS=$DSN sx ok-run 0 "$BIN" run ok.yaml --progress none
sx ok-run-json 0 "$BIN" run ok.yaml --progress none --json
SLUICE_DEBUG=1 sx ok-run-debug 0 "$BIN" run ok.yaml --progress log
[ -f "$work/got-secret" ] || bad "the command source did not receive the secret (argument and environment): the test is vacuous"
inspect p_ok
sx ok-sync 0 "$BIN" pipeline p_ok sync
rm -rf "$SLUICE_PIPELINES_DIR/p_ok"
sx ok-run-restored 0 "$BIN" run ok.yaml --progress none --json
inspect p_ok
# an unused credentials variable of another destination type, during a sqlite run
DESTINATION__POSTGRES__CREDENTIALS=$DSN sx pg-env-sqlite-run 0 "$BIN" run pg_env_sqlite.yaml --progress none --json
inspect p_pg_env_sqlite

# ---- failure paths -----------------------------------------------------------------------------
sx fail-run 1 "$BIN" run fail.yaml --progress none
sx fail-run-json 1 "$BIN" run fail.yaml --progress none --json
SLUICE_DEBUG=1 sx fail-run-debug 1 "$BIN" run fail.yaml --progress log
inspect p_fail
sx missing-run 1 "$BIN" run missing.yaml --progress none --json
sx badkey-dest 2 "$BIN" run badkey_dest.yaml --progress none
sx badkey-dest-json 2 "$BIN" run badkey_dest.yaml --progress none --json
sx badkey-dsn 2 "$BIN" run badkey_dsn.yaml --progress none --json
sx badkey-src 2 "$BIN" run badkey_src.yaml --progress none --json
sx badval 2 "$BIN" run badval.yaml --progress none --json
DESTINATION__CREDENTIALS=$DSN sx badkey-dest-env 2 "$BIN" run badkey_dest.yaml --progress none
# bad destinations: postgres (unreachable, or not built in), from the file and from the env
sx pg-file any "$BIN" run pg_file.yaml --progress none
sx pg-file-json any "$BIN" run pg_file.yaml --progress none --json
SLUICE_DEBUG=1 sx pg-file-debug any "$BIN" run pg_file.yaml --progress log
DESTINATION__CREDENTIALS=$DSN sx pg-env any "$BIN" run pg_env.yaml --progress none --json
DESTINATION__POSTGRES__CREDENTIALS=$DSN sx pg-env-typed any "$BIN" run pg_env.yaml --progress none
# a credentials value that is not a dsn at all (and looks like a harmless word)
DESTINATION__CREDENTIALS=$SECRET sx pg-env-word any "$BIN" run pg_env.yaml --progress none --json
# a sqlite destination that cannot be opened, with the secret in the command and the env
DESTINATION__POSTGRES__CREDENTIALS=$DSN sx baddest-run 1 "$BIN" run baddest.yaml --progress none
sx baddest-run-json 1 "$BIN" run baddest.yaml --progress none --json
for p in p_pg_file p_pg_env p_badkey p_baddest; do inspect "$p"; done
for f in pg-file pg-env pg-env-typed pg-env-word; do
    st=$(sed -n '$p' "$out"/*-"$f".stderr 2>/dev/null | head -n 1)
    case $(cat "$out"/*-"$f".stdout "$out"/*-"$f".stderr) in
    *rror*|*ERR*|*fail*) ;;
    *) bad "$f: a postgres destination at 127.0.0.1:9 did not fail ($st)" ;;
    esac
done

# ---- killed runs leave packages behind ---------------------------------------------------------
faults=0
for point in run.after_extract extract.before_manifest normalize.before_manifest load.after_state load.before_commit; do
    SLUICE_FAULT=$point sx "fault-$point" any "$BIN" run fault.yaml --progress none
    [ -n "$(find "$SLUICE_PIPELINES_DIR/p_fault" -path '*load*' -name manifest.json 2>/dev/null)" ] && faults=$((faults + 1))
    inspect p_fault
    # keep a copy of the pending package before the next run loads it
    if [ -d "$SLUICE_PIPELINES_DIR/p_fault/load" ]; then
        mkdir -p "$tmp/packages/$point"
        cp -R "$SLUICE_PIPELINES_DIR/p_fault/load" "$tmp/packages/$point/" 2>/dev/null
    fi
    sx "fault-$point-recover" 0 "$BIN" run fault.yaml --progress none --json
done
if [ "$faults" -eq 0 ]; then
    bad "no run left a load package behind: is $BIN built with fault points (-DSLUICE_TESTING)?"
fi

# ---- a real PostgreSQL server (scripts/pg-start), when there is one ----------------------------
# A role whose password IS the secret (password authentication: scripts/pg-start's pg_hba), used
# through the dsn, ${ENV} in the file, PGPASSWORD and DESTINATION__CREDENTIALS; a wrong
# password; a run killed before its commit; then every view of the pipeline, and a dump of the
# dataset (the state and schema rows) joins the searched files.
pg_runs=0
if [ -n "${SLUICE_TEST_PG_DSN:-}" ] && command -v psql >/dev/null 2>&1; then
    hostport=$(printf '%s' "$SLUICE_TEST_PG_DSN" | sed -E 's#^postgresql://[^@]*@([^/]*)/.*#\1#')
    psql -X -q -v ON_ERROR_STOP=1 "$SLUICE_TEST_PG_DSN" >/dev/null 2>&1 <<SQL || bad "cannot set up the postgres role"
DROP SCHEMA IF EXISTS secrets_ds CASCADE;
DROP SCHEMA IF EXISTS secrets_ds_staging CASCADE;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_secret') THEN
    CREATE ROLE sluice_secret LOGIN IN ROLE sluice_password_auth;
  END IF;
END \$\$;
ALTER ROLE sluice_secret PASSWORD '$SECRET';
GRANT CREATE, TEMPORARY ON DATABASE sluice TO sluice_secret;
SQL
    pgdsn="postgresql://sluice_secret:\${SLUICE_TEST_SECRET}@$hostport/sluice"
    nopw="postgresql://sluice_secret@$hostport/sluice"
    pgconfig() { # pgconfig FILE PIPELINE DESTINATION_YAML
        printf 'pipeline: %s\ndestination: %s\ndataset: secrets_ds\nsources:\n  src:\n    resources:\n%s\n' \
            "$2" "$3" "$(resource events "$good_cmd")" > "$work/$1"
    }
    pgconfig pgs_file.yaml p_pgs '{type: postgres, dsn: "'"$pgdsn"'"}'
    pgconfig pgs_cred.yaml p_pgs '{type: postgres, credentials: "'"$pgdsn"'"}'
    pgconfig pgs_nopw.yaml p_pgs '{type: postgres, dsn: "'"$nopw"'"}'
    pgconfig pgs_env.yaml p_pgs '{type: postgres}'
    sx pgs-run 0 "$BIN" run pgs_file.yaml --progress none
    sx pgs-run-json 0 "$BIN" run pgs_cred.yaml --progress none --json
    SLUICE_DEBUG=1 sx pgs-run-debug 0 "$BIN" run pgs_file.yaml --progress log
    PGPASSWORD=$SECRET sx pgs-run-pgpassword 0 "$BIN" run pgs_nopw.yaml --progress none --json
    DESTINATION__CREDENTIALS="postgresql://sluice_secret:$SECRET@$hostport/sluice" \
        sx pgs-run-env 0 "$BIN" run pgs_env.yaml --progress none --json
    inspect p_pgs
    SLUICE_FAULT=load.before_commit sx pgs-fault any "$BIN" run pgs_file.yaml --progress none
    inspect p_pgs
    sx pgs-sync 0 "$BIN" pipeline p_pgs sync
    rm -rf "$SLUICE_PIPELINES_DIR/p_pgs"
    sx pgs-restored 0 "$BIN" run pgs_file.yaml --progress none --json
    inspect p_pgs
    # wrong passwords: in the dsn (the secret with a suffix), and through PGPASSWORD
    DESTINATION__CREDENTIALS="postgresql://sluice_secret:${SECRET}x@$hostport/sluice" \
        sx pgs-wrong-pw 1 "$BIN" run pgs_env.yaml --progress none --json
    PGPASSWORD="${SECRET}x" SLUICE_DEBUG=1 sx pgs-wrong-pgpassword 1 "$BIN" run pgs_nopw.yaml --progress log
    grep -q "password authentication failed" "$out"/*-pgs-wrong-pw.stderr "$out"/*-pgs-wrong-pw.stdout ||
        bad "pgs-wrong-pw: the error does not say the password was refused"
    pg_runs=$(cat "$out"/*-pgs-run*.stdout | grep -c '"rows"\|rows in' || true)
    [ "$pg_runs" -gt 0 ] || bad "no postgres run loaded anything: the test is vacuous"
    psql -X -q "$SLUICE_TEST_PG_DSN" -c "SELECT count(*) FROM secrets_ds._dlt_pipeline_state" \
        > "$out/pg-state-count.txt" 2>&1 || bad "no state rows in the postgres dataset"
    for t in _dlt_pipeline_state _dlt_version _dlt_loads events; do
        psql -X -q "$SLUICE_TEST_PG_DSN" -c "COPY secrets_ds.$t TO STDOUT" > "$out/pg-dump-$t.txt" 2>&1
    done
fi

# ---- REST API sources (tests/fixtures/rest_mock.py) --------------------------------------------
# The secret as a bearer token (also rejected, with a suffix), as an API key in the query under
# a name that is not on the sensitive list, as a basic password and as an OAuth2 client secret;
# the mock echoes what it received in its 401 bodies (which sluice quotes in its error), and a
# server that is down gets the URL with the key into a transport error. Then every view.
rest_runs=0
if command -v python3 >/dev/null 2>&1; then
    mock=$tmp/mock
    mkdir -p "$mock/api"
    printf '{"id": 1}\n{"id": 2}\n' > "$mock/api/items.jsonl"
    printf '{"auth": {"type": "bearer", "token": "%s"}, "echo_credentials": true}\n' "$SECRET" \
        > "$mock/rules.json"
    (cd "$mock" && exec python3 "$here/../fixtures/rest_mock.py" --port-file "$mock/port" \
        --log "$mock/requests.log" --rules "$mock/rules.json") > "$mock/out" 2>&1 &
    mock_pid=$!
    i=0
    while [ ! -s "$mock/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    murl=http://127.0.0.1:$(cat "$mock/port" 2>/dev/null)
    restcfg() { # restcfg FILE PIPELINE BASE_URL AUTH_YAML PARAMS_YAML
        printf 'pipeline: %s\ndestination: {type: sqlite, path: %s.db}\ndataset: rest\nsources:\n  api:\n    rest_api:\n      client:\n        base_url: "%s"\n        auth: %s\n        session: {max_attempts: 2, backoff_factor: 0.01}\n      resources:\n        - name: items\n          endpoint: {path: list/items, params: %s}\n' \
            "$2" "$2" "$3" "$4" "$5" > "$work/$1"
    }
    restcfg rest_ok.yaml p_rest_ok "$murl" '{type: bearer, token: "${SLUICE_TEST_SECRET}"}' '{}'
    restcfg rest_wrong.yaml p_rest_wrong "$murl" '{token: "${SLUICE_TEST_SECRET}x"}' '{}'
    restcfg rest_query.yaml p_rest_query "$murl" \
        '{type: api_key, name: k, api_key: "${SLUICE_TEST_SECRET}", location: query}' '{sig: "${SLUICE_TEST_SECRET}"}'
    restcfg rest_basic.yaml p_rest_basic "$murl" \
        '{type: http_basic, username: me, password: "${SLUICE_TEST_SECRET}"}' '{}'
    restcfg rest_oauth.yaml p_rest_oauth "$murl" \
        "{type: oauth2_client_credentials, access_token_url: \"$murl/oauth/token\", client_id: app, client_secret: \"\${SLUICE_TEST_SECRET}\"}" '{}'
    restcfg rest_down.yaml p_rest_down "http://127.0.0.1:9" \
        '{type: api_key, name: k, api_key: "${SLUICE_TEST_SECRET}", location: query}' '{}'
    sx rest-ok 0 "$BIN" run rest_ok.yaml --progress none
    sx rest-ok-json 0 "$BIN" run rest_ok.yaml --progress none --json
    SLUICE_DEBUG=1 sx rest-ok-debug 0 "$BIN" run rest_ok.yaml --progress log
    for c in wrong query basic oauth down; do
        sx "rest-$c" 1 "$BIN" run "rest_$c.yaml" --progress none
        sx "rest-$c-json" 1 "$BIN" run "rest_$c.yaml" --progress none --json
        SLUICE_DEBUG=1 sx "rest-$c-debug" 1 "$BIN" run "rest_$c.yaml" --progress log
    done
    for p in p_rest_ok p_rest_wrong p_rest_query p_rest_basic p_rest_oauth p_rest_down; do
        inspect "$p"
    done
    kill "$mock_pid" 2>/dev/null
    rest_runs=$(grep -c 'GET /list/items' "$mock/requests.log" 2>/dev/null || true)
    [ "${rest_runs:-0}" -gt 0 ] || bad "the REST mock received no request: the test is vacuous"
    grep -q 'Bad credentials' "$out"/*-rest-query.stderr ||
        bad "rest-query: the 401 body the mock echoed is not in the error: the test is vacuous"
fi

# ---- search everything -------------------------------------------------------------------------
# control: the search must find the secret where it is known to be
printf 'x%sy\n' "$SECRET" > "$tmp/control"
grep -qaF -- "$SECRET" "$tmp/control" || { echo "secrets: grep cannot find the secret" >&2; exit 2; }
found=$(grep -rlaF -- "$SECRET" "$out" "$SLUICE_PIPELINES_DIR" "$tmp/packages" 2>/dev/null)
dbs=$(find "$work" -name '*.db' 2>/dev/null)
if [ -n "$dbs" ]; then
    found="$found
$(grep -laF -- "$SECRET" $dbs 2>/dev/null)"
fi
found=$(printf '%s\n' "$found" | sed '/^$/d')
files=$(find "$out" "$SLUICE_PIPELINES_DIR" "$tmp/packages" -type f 2>/dev/null | wc -l)
if [ -n "$found" ]; then
    for f in $found; do
        bad "the secret appears in ${f#"$tmp"/}:"
        grep -aF -- "$SECRET" "$f" | head -n 3 | cut -c1-300 | sed 's/^/    | /' >&2
    done
fi
echo "secrets: $n commands, $files files searched (+ $(echo "$dbs" | wc -w) databases), packages left by $faults fault runs, $pg_runs postgres loads, $rest_runs REST requests"
if [ "$failures" -ne 0 ]; then
    SECRETS_KEEP=1
    echo "secrets: $failures failure(s); scratch dir kept: $tmp" >&2
    exit 1
fi
echo "secrets: ok: the secret appears nowhere"
