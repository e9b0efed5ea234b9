#!/bin/sh
# events: a report whose recent entries keep changing after they first appear. LAG_RUN picks
# what the source returns: 1 = the first run's two entries, 2 (or more) = the second run's
# data, where entries 1 and 2 were updated and entry 3 is new.
if [ "${LAG_RUN:-1}" = 1 ]; then
    cat <<'EOD'
{"id": 1, "created_at": "2023-03-03T01:00:00Z", "event": "1"}
{"id": 2, "created_at": "2023-03-03T02:00:00Z", "event": "2"}
EOD
else
    cat <<'EOD'
{"id": 1, "created_at": "2023-03-03T01:00:00Z", "event": "1_updated"}
{"id": 2, "created_at": "2023-03-03T02:00:01Z", "event": "2_updated"}
{"id": 3, "created_at": "2023-03-03T03:00:00Z", "event": "3"}
EOD
fi
