#!/bin/sh
# tests/soak/valgrind.sh — end-to-end CLI runs under valgrind (the second half of
# `make valgrind`; the first half runs the unit tests under it).
#
#   sh tests/soak/valgrind.sh [SLUICE_BIN]          (default build/sluice: no sanitizers)
#
# Runs, each under `valgrind --leak-check=full` (any memory error or leak fails the script;
# the command sources' shells are not traced, and a forked child that fails before its exec is
# silent: it still holds the parent's blocks, which valgrind would call lost):
#   1. a file source: the GitHub events page (tests/fixtures), one table per event type,
#      merge on id; then `info --json`, `info -v`, `query`, `pending`;
#   2. a command source with nested items, merge + incremental, run twice (the second run
#      sees the state of the first and filters), then a failing command (exit 1), a config
#      error (exit 2), and `drop --resource`.
# VALGRIND_KEEP=1 keeps the scratch dir. Exit 0 ok, 1 failed, 2 setup problem.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BIN=${1:-build/sluice}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
[ -x "$BIN" ] || { echo "valgrind: $BIN is not executable" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind: valgrind is not installed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/sluice-valgrind-XXXXXX) || exit 2
cleanup() { [ "${VALGRIND_KEEP:-0}" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT
work=$tmp/work
mkdir -p "$work"
export SLUICE_PIPELINES_DIR="$tmp/pipelines"
unset SLUICE_FAULT
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --child-silent-after-fork=yes"
failures=0
n=0

# vg EXPECTED_EXIT ARGS...: run sluice ARGS under valgrind in $work
vg() {
    want=$1
    shift
    n=$((n + 1))
    (cd "$work" && $VG "$BIN" "$@") >"$tmp/$n.stdout" 2>"$tmp/$n.stderr"
    rc=$?
    if [ "$rc" = 99 ] || grep -q '^==[0-9]*== ' "$tmp/$n.stderr"; then
        echo "valgrind: FAIL: valgrind reported errors for: sluice $*" >&2
        grep '^==[0-9]*== ' "$tmp/$n.stderr" | head -n 40 >&2
        failures=$((failures + 1))
    elif [ "$rc" != "$want" ]; then
        echo "valgrind: FAIL: sluice $* exited $rc, expected $want" >&2
        sed 's/^/    | /' "$tmp/$n.stderr" | head -n 20 >&2
        failures=$((failures + 1))
    else
        echo "valgrind: ok: sluice $*"
    fi
}

cp "$root/tests/fixtures/github/github_events_page1.json" "$work/events.json"
cat > "$work/files.yaml" <<'YAML'
pipeline: vg_files
destination: {type: sqlite, path: files.db}
dataset: gh
sources:
  github:
    resources:
      events:
        from: {file: "events.json"}
        table_name: "{type}"
        write_disposition: merge
        primary_key: id
YAML
cat > "$work/gen.sh" <<'SH'
n=$(cat counter 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > counter
i=1
while [ "$i" -le 50 ]; do
    id=$(( (n - 1) * 40 + i ))
    echo "{\"id\": $id, \"ts\": \"2024-01-01T00:00:$(printf %02d $((i % 60)))Z\", \"user\": {\"name\": \"u$i\", \"tags\": [\"a\", \"b\"]}, \"lines\": [{\"sku\": \"s$i\", \"qty\": [1, 2]}], \"v\": $i.5}"
    i=$((i + 1))
done
echo "{\"runs\": $n}" > "$SLUICE_STATE_FILE"
SH
cat > "$work/cmd.yaml" <<'YAML'
pipeline: vg_cmd
destination: {type: sqlite, path: cmd.db}
dataset: ds
sources:
  src:
    resources:
      orders:
        from: {command: "sh gen.sh"}
        write_disposition: merge
        primary_key: id
        incremental: {cursor_path: id}
      broken:
        from: {command: "echo '{\"id\": 1}'; echo 'no more' >&2; exit 4"}
        selected: false
YAML
cat > "$work/bad.yaml" <<'YAML'
pipeline: vg_bad
destination: {type: sqlite, path: bad.db}
sources:
  src:
    resources:
      orders:
        from: {command: "true"}
        write_disposition: upsert
YAML

vg 0 run files.yaml --progress none
vg 0 pipeline vg_files info --json
vg 0 pipeline vg_files info -v
vg 0 pipeline vg_files query "SELECT count(*) AS n FROM push_event" --format csv
vg 0 pipeline vg_files pending
vg 0 run cmd.yaml --progress none
vg 0 run cmd.yaml --progress log --json
vg 1 run cmd.yaml --resource broken --progress none
vg 2 run bad.yaml --progress none
vg 0 pipeline vg_cmd info --json
vg 0 pipeline vg_cmd query "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM orders" --format csv
vg 0 pipeline vg_cmd drop --resource orders --yes

got=$(tail -n 1 "$tmp/11.stdout")
[ "$got" = "90,90" ] || { echo "valgrind: FAIL: orders after two runs: expected 90,90, got $got" >&2; failures=$((failures + 1)); }
if [ "$failures" -ne 0 ]; then
    VALGRIND_KEEP=1
    echo "valgrind: $failures failure(s); scratch dir kept: $tmp" >&2
    exit 1
fi
echo "valgrind: ok: $n sluice commands clean under valgrind"
