#!/bin/sh
# issues: a repository's issues as the API shows them at GITHUB_NOW (default: the end of time),
# each in its latest version, updated at or after `since` (SLUICE_START_VALUE), 2 per page.
# data/issues.jsonl is the repository's history: issue versions, and deletions
# ({"id": N, "deleted_at": T}) after which an issue is gone from the API.
exec awk -v since="${SLUICE_START_VALUE:-}" -v now="${GITHUB_NOW:-9999-12-31T23:59:59Z}" '
    function field(name,   v) {
        if (!match($0, "\"" name "\": (\"[^\"]*\"|[0-9]+)")) return ""
        v = substr($0, RSTART, RLENGTH); sub(/^[^:]*: /, "", v); gsub(/"/, "", v)
        return v
    }
    { id = field("id") }
    field("deleted_at") != "" && field("deleted_at") <= now { gone[id] = 1; next }
    field("updated_at") != "" && field("updated_at") <= now {
        if (!(id in latest)) order[++n] = id
        latest[id] = $0; updated[id] = field("updated_at")
    }
    END {
        for (i = 1; i <= n; i++) {
            id = order[i]
            if ((id in gone) || (since != "" && updated[id] < since)) continue
            page = page (c++ ? ", " : "") latest[id]
            if (c == 2) { print "[" page "]"; page = ""; c = 0 }
        }
        if (c) print "[" page "]"
    }' data/issues.jsonl
