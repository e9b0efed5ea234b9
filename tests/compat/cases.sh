#!/bin/sh
# cases.sh [FILTER...] — the scenario cases run through dlt 1.31.0 itself (cases.py, README.md
# here): every case dlt can express must give the tables and state the case expects, or say
# why it differs on purpose. Installs the pinned dlt into build/dlt-venv first (scripts/dlt-venv;
# cached). Ends with "compat-cases: N run through dlt, ..., N failed"; exit 1 when one failed.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
py=$(cd "$here" && sh scripts/dlt-venv build/dlt-venv) || {
    echo "compat-cases: cannot install the pinned dlt (scripts/dlt-venv)" >&2
    exit 2
}
case "$py" in /*) ;; *) py=$here/$py ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-compat-cases-XXXXXX") || exit 2
[ "${COMPAT_KEEP:-0}" = 1 ] && echo "compat-cases: keeping $work" || trap 'rm -rf "$work"' EXIT
"$py" "$here/tests/compat/cases.py" "$work" --jobs "${COMPAT_JOBS:-2}" "$@"
