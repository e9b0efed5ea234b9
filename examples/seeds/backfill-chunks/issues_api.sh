#!/bin/sh
# repo_issues: GitHub issues of a repository, oldest first, 3 per page. Like an API with
# `since` and `until` parameters, it returns only the issues created in that range (both ends
# included; sluice drops what is at or past the end value). sluice passes the range of the run
# as SLUICE_START_VALUE and SLUICE_END_VALUE (unset when there is no end: plain incremental).
# The bundled issues are data/issues.jsonl.
#   GITHUB_NOW   the API's clock: issues created later do not exist yet (default: all exist)
#   API_DELAY    seconds the API takes to answer (default 0)
sleep "${API_DELAY:-0}"
exec awk -v since="${SLUICE_START_VALUE:-}" -v until="${SLUICE_END_VALUE:-}" \
         -v now="${GITHUB_NOW:-9999-12-31T23:59:59Z}" -v per_page=3 '
    match($0, /"created_at": "[^"]*"/) {
        c = substr($0, RSTART + 15, RLENGTH - 16)
        if (c <= now && (since == "" || c >= since) && (until == "" || c <= until))
            page = page (n++ ? ", " : "") $0
        if (n == per_page) { print "[" page "]"; page = ""; n = 0 }
    }
    END { if (n) print "[" page "]" }' data/issues.jsonl
