#!/bin/sh
# search_tweets: recent tweets for several search terms. Each term has its own last value in the
# resource state ("last_value_<term>": the newest tweet id loaded so far) and is searched only
# for newer tweets (since_id), as the Twitter API v2 recent search does. The API answers newest
# first in pages of 2 tweets ({"data": [...], "meta": {...}}); each page is yielded with its
# "search_term". The bundled tweets are data/tweets.jsonl.
#   TWEET_TERMS   search terms (default: "python rust")
#   TWITTER_NOW   the API's clock: tweets created later do not exist yet (default: all exist)
set -eu
now=${TWITTER_NOW:-9999-12-31T23:59:59Z}
news=$(mktemp)
trap 'rm -f "$news"' EXIT

for term in ${TWEET_TERMS:-python rust}; do
    # last_value_cache = resource_state().setdefault("last_value_<term>", None)
    last=$(awk -v key="\"last_value_$term\"" '
        index($0, key) { sub(/.*: */, ""); sub(/[^0-9].*/, ""); print }' "$SLUICE_STATE_FILE")
    echo "last_value_cache for $term: ${last:-None}" >&2
    # GET /2/tweets/search/recent?query=<term>&since_id=<last>&max_results=2, all pages
    awk -v term="$term" -v since="${last:-0}" -v now="$now" -v news="$news" '
        function field(name,   v) {
            if (!match($0, "\"" name "\": \"[^\"]*\"")) return ""
            v = substr($0, RSTART, RLENGTH); sub(/^[^:]*: "/, "", v); sub(/"$/, "", v)
            return v
        }
        index(tolower(field("text")), term) && field("created_at") <= now && field("id") + 0 > since {
            t[++n] = $0; id[n] = field("id")
        }
        END {
            for (i = n; i >= 1; i -= 2) {          # newest first, 2 per page
                j = (i > 1) ? i - 1 : i
                data = t[i]; if (j < i) data = data ", " t[j]
                meta = "\"newest_id\": \"" id[i] "\", \"oldest_id\": \"" id[j] "\", \"result_count\": " (i - j + 1)
                if (j > 1) meta = meta ", \"next_token\": \"p" id[j] "\""
                printf "{\"data\": [%s], \"meta\": {%s}, \"search_term\": \"%s\"}\n", data, meta, term
            }
            if (n) print term, id[n] >> news
        }' data/tweets.jsonl
done

# resource_state()["last_value_<term>"] = max(last_value_cache or 0, int(newest_id)), every term
awk -v news="$news" '
    BEGIN { while ((getline line < news) > 0) { split(line, f, " "); v["last_value_" f[1]] = f[2] } }
    match($0, /"last_value_[^"]*": *[0-9]+/) {
        k = substr($0, RSTART + 1, RLENGTH - 1); sub(/".*/, "", k)
        n = substr($0, RSTART, RLENGTH); sub(/.*: */, "", n)
        if (!(k in v) || v[k] + 0 < n + 0) v[k] = n
    }
    END {
        printf "{"
        for (k in v) printf "%s\"%s\": %s", c++ ? ", " : "", k, v[k]
        print "}"
    }' "$SLUICE_STATE_FILE" > "$SLUICE_STATE_FILE.new"
mv "$SLUICE_STATE_FILE.new" "$SLUICE_STATE_FILE"
