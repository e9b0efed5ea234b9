#!/bin/sh
# run.sh [BUILD_DIR] — every fault-injection test of one -DSLUICE_TESTING build (what
# `make test-fault` runs): the allocation-failure loop, the crash-point matrix, the kill -9
# loop. Prints each one's output and, at the end, their summary lines and times; exits 1 when
# any failed. FAULT_ONLY="alloc crash kill9" picks some; SLUICE_FAULT_QUICK=1 bounds all three
# (see README.md).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
tb=${1:-build/san}
case "$tb" in /*) ;; *) tb=$here/$tb ;; esac
only=${FAULT_ONLY:-alloc crash kill9}
status=0
summary=""
for t in $only; do
    t0=$(date +%s)
    case $t in
        alloc)
            if [ ! -x "$tb/test/fault_alloc" ]; then
                echo "run.sh: $tb/test/fault_alloc is missing" >&2
                status=1
                continue
            fi
            out=$(mktemp "${TMPDIR:-/tmp}/sluice-fault-XXXXXX")
            (cd "$here" && "$tb/test/fault_alloc") 2>&1 | tee "$out"
            ;;
        crash | kill9)
            out=$(mktemp "${TMPDIR:-/tmp}/sluice-fault-XXXXXX")
            sh "$here/tests/fault/$t.sh" "$tb" 2>&1 | tee "$out"
            ;;
        *)
            echo "run.sh: unknown test '$t' (alloc, crash, kill9)" >&2
            exit 2
            ;;
    esac
    line=$(grep -E '^(alloc: [0-9]+ allocation failures|fault points:|kill -9:)' "$out" | tail -n 1)
    [ -n "$line" ] || line="$t: no summary line (crashed?)"
    # a failure shows as "N failed" with N > 0, or as a missing summary or a sanitizer report
    if ! echo "$line" | grep -qE '(^|[ ,])0 failed'; then
        status=1
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
        line="$line; SANITIZER REPORT"
        status=1
    fi
    summary="$summary$line [$(($(date +%s) - t0)) s]
"
    rm -f "$out"
done
echo
printf '%s' "$summary"
exit $status
