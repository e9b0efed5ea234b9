#!/bin/sh
# Stand-in for GET /repos/duckdb/duckdb/events?per_page=10: GitHub lists a repository's events
# newest first and has no `since` filter, so every call pages through everything it has.
# GITHUB_PUBLISHED: how many events the API has published so far (the oldest N of the bundled
# page of 100 real events); default: all of them.
# The file requested_all_pages appears only when the last page has been sent: it stays absent
# when sluice stopped reading early (row_order: desc).
published=${GITHUB_PUBLISHED:-100}
rm -f requested_all_pages
awk -v published="$published" -v per_page=10 '
    /^    \{$/ { ev = "{"; next }            # an event starts (the file is pretty-printed)
    /^    \}/  { e[++n] = ev "}"; ev = ""; next }
    ev != ""   { sub(/^ +/, ""); ev = ev $0; next }
    END {
        first = n - published + 1
        if (first < 1) first = 1
        for (i = first; i <= n; i++) {
            page = page (c++ ? "," : "") e[i]
            if (c == per_page || i == n) {
                print "[" page "]"
                fflush()
                page = ""; c = 0
            }
        }
    }' data/events.json && : > requested_all_pages
