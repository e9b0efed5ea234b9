#!/bin/sh
# person: a mutable source of 10 users. Every call "updates" two of them: they move to another
# country and get updated_at = now; the others keep updated_at 2024-01-01T00:00:00Z. Loaded with
# merge on id and an incremental on updated_at, only the two updated rows reach the
# destination after the first run (in a real API, SLUICE_LAST_VALUE would be the `since`).
#   PERSON_NOW      the time of the update (default: the current time, UTC)
#   PERSON_UPDATE   the ids updated by this call (default: two picked at random)
now=${PERSON_NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
exec awk -v now="$now" -v update="${PERSON_UPDATE:-}" 'BEGIN {
    split("Ada Lovelace,Alan Turing,Grace Hopper,Edsger Dijkstra,Barbara Liskov," \
          "Donald Knuth,Frances Allen,Ken Thompson,Margaret Hamilton,John Backus", name, ",")
    split("USA,China,Poland", country, ",")
    if (update == "") { srand(); update = int(rand() * 10) " " (int(rand() * 9) + 1) }
    n = split(update, u, " ")
    for (i = 1; i <= n; i++) upd[u[i] % 10] = 1
    for (id = 0; id < 10; id++) {
        c = country[id % 3 + 1]; t = "2024-01-01T00:00:00Z"
        if (id in upd) { c = country[(id + 1) % 3 + 1]; t = now }   # moved
        printf "{\"id\": %d, \"name\": \"%s\", \"country\": \"%s\", \"updated_at\": \"%s\"}\n",
               id, name[id + 1], c, t
    }
}'
