#!/bin/sh
# tickets: Zendesk's incremental ticket export (GET /api/v2/incremental/tickets?start_time=T):
# the tickets updated at or after T (a unix timestamp), oldest first, 3 per page; there is no
# end parameter. T is the incremental's start value, SLUICE_START_VALUE. The bundled tickets
# are data/tickets.jsonl.
exec awk -v start_time="${SLUICE_START_VALUE:-0}" -v per_page=3 '
    match($0, /"updated_at": [0-9]+/) && substr($0, RSTART + 14, RLENGTH - 14) + 0 >= start_time + 0 {
        page = page (n++ ? ", " : "") $0
        if (n == per_page) { print "[" page "]"; page = ""; n = 0 }
    }
    END { if (n) print "[" page "]" }' data/tickets.jsonl
