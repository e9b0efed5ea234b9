#!/bin/sh
# ads: the ads of an account with the given effective statuses (AD_STATES, e.g. "DISAPPROVED" or
# "PAUSED ACTIVE"), each with its list of creatives. The account as it was on a given day is
# data/ads_<FB_DAY>.jsonl (default: the latest).
set -eu
day=${FB_DAY:-$(ls data | sed -n 's/^ads_\(.*\)\.jsonl$/\1/p' | sort | tail -n 1)}
for state in ${AD_STATES:?set AD_STATES}; do
    grep -F "\"status\": \"$state\"" "data/ads_$day.jsonl" || true
done
