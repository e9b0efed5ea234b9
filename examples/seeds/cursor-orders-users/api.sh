#!/bin/sh
# An API with one endpoint per entity (the first argument: orders or users) and a `since`
# filter: it returns the current version of each record (the last line of that id in
# data/<entity>.jsonl with updated_at up to API_NOW, default: all) when updated at or after
# `since`, oldest first, 2 per page. `since` is the incremental's last value,
# SLUICE_LAST_VALUE (as it stands when the resource starts).
set -eu
entity=${1:?usage: api.sh orders|users}
exec awk -v since="${SLUICE_LAST_VALUE:-}" -v now="${API_NOW:-9999-12-31T23:59:59Z}" '
    match($0, /"updated_at": "[^"]*"/) {
        u = substr($0, RSTART + 15, RLENGTH - 16)
        if (u > now) next
        match($0, /"id": [0-9]+/); id = substr($0, RSTART + 6, RLENGTH - 6)
        if (!(id in rec)) order[++n] = id
        rec[id] = $0; upd[id] = u
    }
    END {
        for (i = 1; i <= n; i++) {
            id = order[i]
            if (since != "" && upd[id] < since) continue
            page = page (c++ ? ", " : "") rec[id]
            if (c == 2) { print "[" page "]"; page = ""; c = 0 }
        }
        if (c) print "[" page "]"
    }' "data/$entity.jsonl"
