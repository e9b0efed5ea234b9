#!/bin/sh
# tickets: Zendesk's incremental ticket export (GET /api/v2/incremental/tickets?start_time=T):
# every ticket updated at or after T (unix time), oldest first, 100 per page, and no way to say
# where to end. T is the incremental's start value (SLUICE_START_VALUE). The bundled tickets
# (data/tickets.jsonl) are followed by 20000 generated ones from April 2023 on, so that reading
# to the end would take a while.
# The file requested_all_pages appears only when the last page has been sent: it stays absent
# when sluice stopped reading at the end value (row_order: asc).
rm -f requested_all_pages
{
    cat data/tickets.jsonl
    awk 'BEGIN { for (i = 0; i < 20000; i++)
        printf "{\"id\": %d, \"subject\": \"Ticket %d\", \"status\": \"new\", \"updated_at\": %d}\n",
               1000 + i, 1000 + i, 1680307200 + 300 * i }'
} | awk -v start_time="${SLUICE_START_VALUE:-0}" -v per_page=100 '
    match($0, /"updated_at": [0-9]+/) && substr($0, RSTART + 14, RLENGTH - 14) + 0 >= start_time + 0 {
        page = page (n++ ? ", " : "") $0
        if (n == per_page) { print "[" page "]"; fflush(); page = ""; n = 0 }
    }
    END { if (n) print "[" page "]" }' && : > requested_all_pages
