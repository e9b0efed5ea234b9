#!/bin/sh
# Run the pipeline with the last value taken from the data: SELECT max(id) over the loaded
# tweets. Before the first run there is no pipeline and no table: the query fails and the
# search starts from nothing. (If the state were lost, e.g. the state table dropped, this still
# knows where to continue.)  Arguments go to `sluice run`.
cd "$(dirname "$0")"
last_id=$(sluice pipeline tweets_from_data query "SELECT max(id) AS last_id FROM search_tweets" \
              --format csv 2>/dev/null | sed -n 2p)
echo "last value from the data: ${last_id:-none}"
LAST_ID=$last_id exec sluice run search.yaml "$@"
