#!/bin/sh
# tweets: tweets fetched one day at a time. The days already loaded are a list in the resource
# state ("days_loaded"); every day up to TWEETS_TODAY that is not in it is fetched and added
# to it. The bundled tweets are data/tweets.jsonl.
set -eu
today=$(echo "${TWEETS_TODAY:-9999-12-31}" | tr -d -)
# loaded_dates = resource_state().setdefault("days_loaded", [])
loaded=$(grep -o '"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"' "$SLUICE_STATE_FILE" | tr -d '"' || true)
days=$loaded
for day in $(sed -n 's/.*"day": "\([^"]*\)".*/\1/p' data/tweets.jsonl | sort -u); do
    if [ "$(echo "$day" | tr -d -)" -gt "$today" ] || printf '%s\n' "$loaded" | grep -qxF "$day"; then
        continue
    fi
    grep -F "\"day\": \"$day\"" data/tweets.jsonl      # get the day's data and yield it
    days=$(printf '%s\n%s' "$days" "$day")             # loaded_dates.append(day)
done
printf '%s\n' "$days" | awk 'NF { printf "%s\"%s\"", n++ ? ", " : "{\"days_loaded\": [", $0 }
                             END { print n ? "]}" : "{\"days_loaded\": []}" }' > "$SLUICE_STATE_FILE"
