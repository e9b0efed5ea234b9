#!/bin/sh
# progress.sh TB — the progress bar of `sluice run` under a real terminal (issue 13 point 1).
#
# script(1) gives the run a pseudo-terminal, so `--progress auto` picks the live bar as it does
# for a person. The pipeline has two slow command sources (an item every 50 ms, ~2 s and ~1 s)
# and a file of BULK_ROWS items, whose load takes long enough to be seen. From the bytes the
# terminal received (each redraw is "\r<line>\033[K") it checks that:
#   - the bar ticks on time: at least MIN_RATE redraws with a different clock per second of
#     extraction, whatever the item rate;
#   - an extract redraw shows a resource's count mid-way (0 < n < its total), the items/s rate
#     and, once the second resource runs, both per-resource counts;
#   - a load redraw shows rows done of rows expected for the table mid-way (0 < done < total)
#     and for the whole package;
#   - the bar is erased before the summary, which is the same as without a terminal.
# Prints "tty: N passed, N failed" (run_all.sh adds it up); without script(1) it says it
# skipped and counts nothing. Keeps the captured bytes in $TTY_KEEP when that is set.
set -u

if [ $# -ne 1 ]; then
    echo "usage: sh tests/tty/progress.sh BUILD_DIR" >&2
    exit 2
fi
case "$1" in
    /*) tb=$1 ;;
    *) tb=$(pwd)/$1 ;;
esac
tb=${tb%/}
if ! command -v script >/dev/null 2>&1; then
    echo "skip tty/progress: script(1) is not installed (util-linux)"
    echo "tty: 0 passed, 0 failed"
    exit 0
fi

BULK_ROWS=${BULK_ROWS:-150000}
MIN_RATE=4 # redraws per second; the bar aims at 10

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-tty-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 2
mkdir pipelines
awk -v n="$BULK_ROWS" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"id\": %d, \"name\": \"row %d\", \"score\": %d.5}\n", i, i, i % 1000 }' > bulk.jsonl
cat > slow.sh <<'EOF'
# slow.sh N: N items, one every 50 ms
i=1
while [ "$i" -le "$1" ]; do
    echo "{\"id\": $i}"
    sleep 0.05
    i=$((i + 1))
done
EOF
cat > p.yaml <<'EOF'
pipeline: tty_progress
destination: {type: sqlite, path: out.db}
dataset: ds
sources:
  api:
    resources:
      slow_a:
        from: {command: "sh slow.sh 40"}
      slow_b:
        from: {command: "sh slow.sh 20"}
      bulk:
        from: {file: bulk.jsonl}
EOF

passed=0
failed=0
check() { # check NAME STATUS [DETAIL]
    if [ "$2" = 0 ]; then
        echo "ok tty/progress: $1"
        passed=$((passed + 1))
    else
        echo "FAIL tty/progress: $1${3:+: $3}"
        failed=$((failed + 1))
    fi
}

# the terminal: 160 columns (COLUMNS, as the pty has no size of its own), TERM set
SLUICE_PIPELINES_DIR=$tmp/pipelines TERM=xterm COLUMNS=160 \
    script -q -e -c "'$tb/sluice' run p.yaml" /dev/null < /dev/null > raw.out 2>&1
rc=$?
[ -n "${TTY_KEEP:-}" ] && cp raw.out "$TTY_KEEP"
check "the run succeeds under a terminal" "$rc" "exit $rc"

# one redraw a line: split on CR and LF, drop the erase-to-end-of-line sequences
tr '\r' '\n' < raw.out | sed 's/\x1b\[K//g' | grep -v '^$' > lines.out

# extract: redraws with distinct clocks per second of extraction
awk '
/^extract: / { n = split($0, f, ", "); clock = f[n]; sub(/ s$/, "", clock)
               if (!(clock in seen)) { seen[clock] = 1; distinct++ }
               if (clock + 0 > last) last = clock + 0 }
END { rate = last > 0 ? distinct / last : 0
      printf "%d distinct redraws over %.1f s (%.1f a second)\n", distinct, last, rate
      exit !(last >= 2.5 && rate >= '"$MIN_RATE"') }' lines.out > rate.out
check "the extract bar ticks at least $MIN_RATE times a second" $? "$(cat rate.out)"

grep -Eq '^extract: slow_a ([1-9]|[1-3][0-9]) \| [0-9]+ items, [0-9]+ items/s, [0-9.]+ s$' lines.out
check "an extract redraw shows slow_a mid-way with items/s" $? \
    "$(grep '^extract: ' lines.out | sed -n 5p)"
grep -Eq '^extract: slow_a 40, slow_b ([1-9]|1[0-9]) \| [0-9]+ items, ' lines.out
check "an extract redraw shows both resources' counts" $? \
    "$(grep '^extract: slow_a 40' lines.out | head -n 1)"

# the load stage: per table rows done of rows expected, mid-way, with rows/s. With the load
# thread (the default on SQLite) most rows go in while normalize runs, so this run slows the
# thread's inserts (SLUICE_FAULT_DELAY, test builds) to watch the bar while it drains; the
# one-thread load (SLUICE_LOAD_PIPELINING=0, as on DuckDB) is slow enough as it is.
midway() { # midway FILE
    awk -v total="$BULK_ROWS" '
    /^load: / && match($0, /bulk [0-9]+\/[0-9]+/) {
        split(substr($0, RSTART + 5, RLENGTH - 5), c, "/")
        if (c[1] > 0 && c[1] < total && c[2] == total &&
            $0 ~ / \| [1-9][0-9]*\/[0-9]+ rows, [0-9]+ rows\/s, [0-9.]+ s$/) found = 1 }
    END { exit !found }' "$1"
}
rm -rf pipelines out.db out__ds.db && mkdir pipelines
SLUICE_FAULT_DELAY=load.follow_row:20 SLUICE_PIPELINES_DIR=$tmp/pipelines TERM=xterm \
    COLUMNS=160 script -q -e -c "'$tb/sluice' run p.yaml" /dev/null < /dev/null > raw2.out 2>&1
tr '\r' '\n' < raw2.out | sed 's/\x1b\[K//g' | grep -v '^$' > lines2.out
midway lines2.out
check "a load redraw (load thread) shows rows done of rows expected mid-way, with rows/s" $? \
    "$(grep '^load: ' lines2.out | head -n 3 | tr '\n' '|')"

rm -rf pipelines out.db out__ds.db && mkdir pipelines
SLUICE_LOAD_PIPELINING=0 SLUICE_PIPELINES_DIR=$tmp/pipelines TERM=xterm COLUMNS=160 \
    script -q -e -c "'$tb/sluice' run p.yaml" /dev/null < /dev/null > raw1.out 2>&1
tr '\r' '\n' < raw1.out | sed 's/\x1b\[K//g' | grep -v '^$' > lines1.out
midway lines1.out
check "a load redraw (one-thread load) shows rows done of rows expected mid-way, with rows/s" $? \
    "$(grep '^load: ' lines1.out | head -n 3 | tr '\n' '|')"

# the summary after the bar: same text as without a terminal, nothing of the bar on its lines
grep -q '^  bulk    150000 inserted$' lines.out || [ "$BULK_ROWS" != 150000 ]
check "the summary follows the erased bar" $? "$(tail -n 5 lines.out | tr '\n' '|')"

echo "tty: $passed passed, $failed failed"
[ "$failed" = 0 ]
