#!/bin/sh
# players_games: the games of chess.com players, fetched archive by archive (one archive per
# player and month, as https://api.chess.com/pub/player/NAME/games/YYYY/MM). The URLs of the
# archives already loaded are kept in the resource state ("archives") and skipped, so asking
# for the same months twice loads them once. Here the archives are the bundled files
# data/NAME/YYYY/MM.json.
#   CHESS_PLAYERS      players (default: "magnuscarlsen vincentkeymer")
#   CHESS_START_MONTH  first month, YYYY/MM (default: the oldest)
#   CHESS_END_MONTH    last month, YYYY/MM (default: the newest)
set -eu
api=https://api.chess.com/pub/player
start=$(echo "${CHESS_START_MONTH:-0000/00}" | tr -d /)
end=$(echo "${CHESS_END_MONTH:-9999/99}" | tr -d /)

# the state sluice hands over: {"archives": [url, ...]} (or {} on the first run)
loaded=$(grep -o '"https://[^"]*"' "$SLUICE_STATE_FILE" | tr -d '"' || true)
archives=$loaded

for player in ${CHESS_PLAYERS:-magnuscarlsen vincentkeymer}; do
    # "GET $api/$player/games/archives": the months this player has games in
    for file in data/"$player"/*/*.json; do
        month=${file#data/"$player"/}
        month=${month%.json}
        n=$(echo "$month" | tr -d /)
        if [ "$n" -lt "$start" ] || [ "$n" -gt "$end" ]; then
            continue
        fi
        url="$api/$player/games/$month"
        if printf '%s\n' "$loaded" | grep -qxF "$url"; then
            echo "skipping archive $url" >&2
            continue
        fi
        archives=$(printf '%s\n%s' "$archives" "$url")
        # "GET $url" and yield its "games" list as one page
        sed -e 's/^{"games": *//' -e 's/}$//' "$file"
    done
done

# write the list back: sluice commits it with the games, or not at all
printf '%s\n' "$archives" | awk 'NF { printf "%s\"%s\"", n++ ? ", " : "{\"archives\": [", $0 }
                                 END { print n ? "]}" : "{\"archives\": []}" }' > "$SLUICE_STATE_FILE"
