#!/bin/sh
# make demo: load the bundled GitHub issues into SQLite twice. The first run sees the issues
# updated up to the end of 2022; the second run sees them all and loads only the newer ones.
set -eu
SLUICE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(pwd)/build/demo
rm -rf "$OUT"
mkdir -p "$OUT"
export DEMO_OUT="$OUT"
export SLUICE_PIPELINES_DIR="$OUT/pipelines"

echo "== run 1: the API has issues updated up to 2022-12-31"
DEMO_NOW=2022-12-31T00:00:00Z "$SLUICE" run "$HERE/pipeline.yaml" --progress none
echo
echo "== run 2: two months later; only issues updated since run 1 are loaded"
DEMO_NOW=2023-03-01T00:00:00Z "$SLUICE" run "$HERE/pipeline.yaml" --progress none
echo
echo "== the result: sluice pipeline github_issues query ..."
"$SLUICE" pipeline github_issues query \
    "SELECT state, count(*) AS issues, max(updated_at) AS last_update FROM issues GROUP BY state ORDER BY state"
echo
"$SLUICE" pipeline github_issues query \
    "SELECT name AS label, count(*) AS issues FROM issues__labels GROUP BY name ORDER BY issues DESC, name LIMIT 5"
echo
echo "Database: $OUT/github.db (dataset file $OUT/github__github.db)"
