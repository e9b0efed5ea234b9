#!/bin/sh
# Command source of the soak pipeline (tests/soak/soak.sh). Run k (k-1 taken from the
# resource state, so losing the state would show as repeated ids) prints three new items
# (ids 3k-2..3k, cursor seq = id), then the previous run's last item again (at the incremental
# boundary: de-duplicated) and item 1 (behind the cursor: filtered out). Then it sleeps
# (SOAK_SLEEP, default 0.2 s) so that sluice has consumed every line and sits idle waiting for
# the command to end, and records the sluice process's open descriptors at that quiet point
# (walking up from $PPID to the process named sluice): counted earlier, the number races with
# whatever sluice opens for a moment while it processes items (OpenSSL reading its config).
set -eu
prev=$(sed -n 's/.*"runs": *\([0-9]*\).*/\1/p' "$SLUICE_STATE_FILE")
k=$(( ${prev:-0} + 1 ))
i=$(( 3 * k - 2 ))
while [ "$i" -le $(( 3 * k )) ]; do
    echo "{\"id\": $i, \"seq\": $i, \"run\": $k, \"payload\": {\"tags\": [\"t$i\", \"u\"], \"note\": \"item $i\"}}"
    i=$(( i + 1 ))
done
if [ "$k" -gt 1 ]; then
    last=$(( 3 * k - 3 ))
    echo "[{\"id\": $last, \"seq\": $last, \"run\": $k}, {\"id\": 1, \"seq\": 1, \"run\": $k}]"
fi
printf '{"runs": %d}\n' "$k" > "$SLUICE_STATE_FILE"

sleep "${SOAK_SLEEP:-0.2}"
pid=$PPID
n=0
while [ "$n" -lt 10 ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" != sluice ]; do
    pid=$(awk '{print $4}' /proc/"$pid"/stat)
    n=$(( n + 1 ))
done
if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = sluice ]; then
    ls /proc/"$pid"/fd | wc -l > "${SOAK_FD_MID:-/dev/null}"
fi
