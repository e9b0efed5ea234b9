#!/bin/sh
# fuzz/smoke.sh — a bounded libFuzzer session per target (what `make fuzz-smoke` runs).
#
#   sh fuzz/smoke.sh [TARGET...]          default: every fuzz/fuzz_*.c that is built
#
# Each target build/fuzz/<t> runs for FUZZ_SECONDS (default 60) on its seeds fuzz/corpus/<t>/
# with the dictionary fuzz/<t>.dict, -max_len (per target, below) and -rss_limit_mb=2048. New
# inputs go to FUZZ_WORK/<t> (default build/fuzz/work/<t>, kept between runs so sessions add
# up); the seed dirs are never written. A crash, leak, timeout (FUZZ_TIMEOUT s per input,
# default 30) or out-of-memory leaves FUZZ_WORK/artifacts/<t>-crash-... and fails the script.
# Prints the executions of every target from libFuzzer's final stats.
# Exit: 0 all clean, 1 a target failed, 2 a binary is missing (run `make fuzz`).
set -u

SECONDS_EACH=${FUZZ_SECONDS:-60}
TIMEOUT=${FUZZ_TIMEOUT:-30}
BIN=${FUZZ_BIN:-build/fuzz}
WORK=${FUZZ_WORK:-build/fuzz/work}
cd "$(dirname "$0")/.." || exit 2

max_len() {
    case $1 in
    jsonpath) echo 4200 ;;
    config) echo 8192 ;;
    *) echo 16384 ;;
    esac
}

if [ $# -eq 0 ]; then
    set --
    for src in fuzz/fuzz_*.c; do
        t=$(basename "$src" .c)
        set -- "$@" "${t#fuzz_}"
    done
fi

mkdir -p "$WORK/artifacts"
failed=0
report=""
for t in "$@"; do
    if [ ! -x "$BIN/$t" ]; then
        echo "smoke: $BIN/$t is missing (make fuzz)" >&2
        exit 2
    fi
    mkdir -p "$WORK/$t"
    log="$WORK/$t.log"
    dict=""
    [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
    echo "smoke: $t for ${SECONDS_EACH}s" >&2
    # shellcheck disable=SC2086
    "$BIN/$t" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
        -timeout="$TIMEOUT" -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$t-" \
        $dict "$WORK/$t" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    status=ok
    if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK failed' "$log"; then
        status=FAIL
        failed=1
        echo "smoke: $t FAILED (exit $rc); log $log:" >&2
        grep -E 'ERROR|SUMMARY|runtime error|FUZZ_CHECK|artifact|Test unit written' "$log" | head -n 20 >&2
    fi
    report="$report$(printf '%-18s %-5s execs %-10s exec/s %-7s cov %s' "$t" "$status" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}")
"
done
printf "%s" "$report"
exit "$failed"
