#!/bin/sh
# some_data: 20 items, delta -10..9, each with a timestamp nested in "item": the time
# SOME_DATA_NOW (unix seconds; default: now) moved by delta days.
now=${SOME_DATA_NOW:-$(date +%s)}
exec awk -v now="$now" 'BEGIN {
    for (i = -10; i < 10; i++) printf "{\"delta\": %d, \"item\": {\"ts\": %d}}\n", i, now + i * 86400
}'
