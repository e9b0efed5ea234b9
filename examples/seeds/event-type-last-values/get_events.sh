#!/bin/sh
# get_events: GitHub events, each kind with its own last value. The resource state holds
# {"last_created_at": {"<event type>": "<newest created_at loaded>", ...}} (what dlt builds
# with a custom last_value_func over the whole item); an event is yielded only if it is newer
# than the last value of its type, and the newest created_at of each type is written back.
# The events are the oldest GITHUB_PUBLISHED (default: all) of data/events.json (100 real
# events, newest first, pretty-printed).
set -eu
exec awk -v published="${GITHUB_PUBLISHED:-100}" -v statefile="$SLUICE_STATE_FILE" '
    function field(s, name,   v) {    # the first "name": "value" in s
        if (!match(s, "\"" name "\": *\"[^\"]*\"")) return ""
        v = substr(s, RSTART, RLENGTH); sub(/^"[^"]*": *"/, "", v); sub(/"$/, "", v)
        return v
    }
    function last_field(s, name,   v, x) {    # the last one: the created_at of an event
        v = ""                                 # comes after those inside its payload
        while ((x = field(s, name)) != "") { v = x; s = substr(s, RSTART + RLENGTH) }
        return v
    }
    BEGIN {     # the last values so far: "SomeEvent": "2023-..." pairs in the state file
        while ((getline line < statefile) > 0)
            while (match(line, /"[A-Za-z]+Event": *"[^"]*"/)) {
                pair = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
                t = substr(pair, 2); sub(/".*/, "", t)
                last[t] = field(pair, t)
            }
    }
    /^    \{$/ { ev = "{"; next }
    /^    \}/  { e[++n] = ev "}"; ev = ""; next }
    ev != ""   { sub(/^ +/, ""); ev = ev $0; next }
    END {
        first = n - published + 1
        if (first < 1) first = 1
        for (i = first; i <= n; i++) {
            type = field(e[i], "type"); created = last_field(e[i], "created_at")
            if (created > last[type]) {
                print e[i]
                if (created > newest[type]) newest[type] = created
            }
        }
        for (t in newest) last[t] = newest[t]
        printf "{\"last_created_at\": {" > statefile
        for (t in last) printf "%s\"%s\": \"%s\"", c++ ? ", " : "", t, last[t] > statefile
        print "}}" > statefile
    }' data/events.json
