#!/bin/sh
# my_resource: items numbered by "some_key", from the incremental's start value
# (SLUICE_START_VALUE, 0 on the first run; included, like an inclusive `since`) up to MAX_KEY
# (default 42).
exec awk -v from="${SLUICE_START_VALUE:-0}" -v to="${MAX_KEY:-42}" 'BEGIN {
    for (k = from; k <= to; k++) printf "{\"some_key\": %d, \"square\": %d}\n", k, k * k
}'
