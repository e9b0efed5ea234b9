#!/bin/sh
# For each reaction, the first 2 pages (10 per page here) of the repository's issues sorted by
# that reaction, most first (GET /repos/duckdb/duckdb/issues?state=all&sort=reactions-<r>&page=N),
# all printed one page per line. The lists overlap a lot; the pipeline keeps one copy of each
# issue by merging on id. The "repository" is data/issues.json: 100 real duckdb issues.
set -eu
flat=$(mktemp)
trap 'rm -f "$flat"' EXIT
# one issue per line (the file is pretty-printed: an issue starts at "    {" and ends at "    }")
awk '/^    \{$/ { is = "{"; next }
     /^    \}/  { print is "}"; is = ""; next }
     is != ""   { sub(/^ +/, ""); is = is $0 }' data/issues.json > "$flat"

for reaction in %2B1 -1 smile tada thinking_face heart rocket eyes; do
    case $reaction in                       # sort names -> keys of the "reactions" object
        %2B1) key=+1 ;; smile) key=laugh ;; tada) key=hooray ;; thinking_face) key=confused ;;
        *) key=$reaction ;;
    esac
    for page_no in 1 2; do
        echo "got page for $reaction page $page_no" >&2
        awk -v key="\"$key\": " '{
                match($0, /"reactions": \{[^}]*\}/); r = substr($0, RSTART, RLENGTH)
                i = index(r, key); n = i ? substr(r, i + length(key)) + 0 : 0
                match($0, /"number": [0-9]+/)
                print n "\t" substr($0, RSTART + 10, RLENGTH - 10) + 0 "\t" $0
            }' "$flat" |
            sort -t "$(printf '\t')" -k1,1nr -k2,2nr | cut -f 3- |
            awk -v first=$(( (page_no - 1) * 10 + 1 )) -v last=$(( page_no * 10 )) '
                NR >= first && NR <= last { page = page (NR > first ? "," : "") $0 }
                END { print "[" page "]" }'
    done
done
