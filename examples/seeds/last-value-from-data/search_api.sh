#!/bin/sh
# search_tweets: tweets newer than LAST_ID (the since_id of the search API; empty: all), up to
# TWITTER_NOW (the API's clock; default: everything). No state is used: run.sh takes the last
# id from the loaded data itself. The bundled tweets are data/tweets.jsonl.
exec awk -v since="${LAST_ID:-0}" -v now="${TWITTER_NOW:-9999-12-31T23:59:59Z}" '
    match($0, /"id": [0-9]+/) {
        id = substr($0, RSTART + 6, RLENGTH - 6) + 0
        match($0, /"created_at": "[^"]*"/)
        if (id > since + 0 && substr($0, RSTART + 15, RLENGTH - 16) <= now) print
    }' data/tweets.jsonl
