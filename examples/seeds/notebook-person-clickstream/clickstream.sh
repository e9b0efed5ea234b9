#!/bin/sh
# clickstream: an immutable source of page views with increasing ids. Instead of keeping the
# last id in a local file, the id is an incremental cursor: the next clicks start after
# SLUICE_START_VALUE (the newest id already loaded), and the rows are appended.
#   CLICKS   how many new clicks there are per call (default 5)
exec awk -v last="${SLUICE_START_VALUE:-0}" -v n="${CLICKS:-5}" 'BEGIN {
    split("/home,/about,/contact,/pricing,/blog", page, ",")
    for (id = last + 1; id <= last + n; id++)
        printf "{\"id\": %d, \"user_id\": %d, \"timestamp\": \"2024-05-01T%02d:%02d:00Z\", \"page\": \"%s\"}\n",
               id, (id * 7) % 10, 8 + int(id / 60), id % 60, page[id % 5 + 1]
}'
