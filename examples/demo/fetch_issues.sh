#!/bin/sh
# A stand-in for the GitHub issues API: prints the bundled issues (JSON lines, oldest update
# first) that were updated up to $DEMO_NOW, and only those updated at or after
# $SLUICE_START_VALUE when sluice hands us the incremental cursor (as a real API's `since`).
now=${DEMO_NOW:-9999-12-31T23:59:59Z}
since=${SLUICE_START_VALUE:-}
exec awk -v now="$now" -v since="$since" '
    match($0, /"updated_at":"[^"]*"/) {
        u = substr($0, RSTART + 14, RLENGTH - 15)
        if (u <= now && (since == "" || u >= since))
            print
    }' "$(dirname "$0")/data/issues.jsonl"
