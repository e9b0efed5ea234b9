#!/bin/sh
# persons: people changed after the last run. The resource keeps its own checkpoint in its state:
# "last_updated_person" (null on the first run). The API returns the people updated after
# that time (start_from) and up to API_NOW; the newest update time becomes the new checkpoint,
# committed together with the rows. The bundled history is data/persons.jsonl.
set -eu
now=${API_NOW:-9999-12-31T23:59:59Z}
newest=$(mktemp)
trap 'rm -f "$newest"' EXIT
# last_val = state.setdefault("last_updated_person", None)
last=$(sed -n 's/.*"last_updated_person": *"\([^"]*\)".*/\1/p' "$SLUICE_STATE_FILE")
# data = get_data(start_from=last_val); yield data
awk -v since="$last" -v now="$now" '
    match($0, /"updated_at": "[^"]*"/) {
        u = substr($0, RSTART + 15, RLENGTH - 16)
        if (u > since && u <= now) { print; if (u > newest) newest = u }
    }
    END { print newest > newest_file }' newest_file="$newest" data/persons.jsonl
# state["last_updated_person"] = data["last_updated_at"] (unchanged when there was nothing new)
last=$(cat "$newest")
if [ -n "$last" ]; then
    printf '{"last_updated_person": "%s"}\n' "$last" > "$SLUICE_STATE_FILE"
fi
