#!/bin/sh
# get_daily_batch: the batch of one day (BATCH_DAY, YYYY-MM-DD) from the bucket; here the
# bucket is the folder data/, one JSON-lines file per day. Every record carries its batch_day.
set -eu
day=${BATCH_DAY:?set BATCH_DAY=YYYY-MM-DD}
cat "data/$day.jsonl"
