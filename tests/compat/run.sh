#!/bin/sh
# run.sh [BUILD_DIR] — the compat suite (README.md here): sluice and dlt 1.31.0 continue each
# other's pipelines on every destination both have (interop.py). Installs the pinned dlt into
# build/dlt-venv first (scripts/dlt-venv; cached). Ends with "compat: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
tb=${1:-build}
case "$tb" in /*) ;; *) tb=$here/$tb ;; esac
if [ ! -x "$tb/sluice" ]; then
    echo "compat: $tb/sluice is missing (make $tb/sluice)" >&2
    exit 2
fi
py=$(cd "$here" && sh scripts/dlt-venv build/dlt-venv) || {
    echo "compat: cannot install the pinned dlt (scripts/dlt-venv)" >&2
    exit 2
}
case "$py" in /*) ;; *) py=$here/$py ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-compat-XXXXXX") || exit 2
[ "${COMPAT_KEEP:-0}" = 1 ] && echo "compat: keeping $work" || trap 'rm -rf "$work"' EXIT
out=$work/interop.out
# dlt's own warnings (pyarrow timestamp fallbacks, SQLAlchemy) go to stderr; keep them aside
"$py" "$here/tests/compat/interop.py" "$tb/sluice" "$work/interop" > "$out" 2> "$work/stderr"
rc=$?
cat "$out"
line=$(grep -E '^interop: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
if [ -z "$line" ]; then
    echo "compat: interop.py ended without a summary (exit $rc); its stderr:"
    tail -n 20 "$work/stderr"
    echo "compat: 0 passed, 1 failed"
    exit 1
fi
passed=$(echo "$line" | sed 's/^interop: \([0-9]*\) passed.*/\1/')
failed=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "compat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
