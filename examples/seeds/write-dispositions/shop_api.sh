#!/bin/sh
# A shop's API as of SHOP_DAY (YYYY-MM-DD, a folder of data/): `shop_api.sh page_views` gives
# that day's page views, `products` the whole current catalogue, `customers` every customer
# updated at or after SLUICE_START_VALUE (all when unset).
set -eu
day=${SHOP_DAY:?set SHOP_DAY=YYYY-MM-DD}
case ${1:?usage: shop_api.sh page_views|products|customers} in
    customers)
        exec awk -v since="${SLUICE_START_VALUE:-}" '
            match($0, /"updated_at": "[^"]*"/) && substr($0, RSTART + 15, RLENGTH - 16) >= since
        ' "data/$day/customers.jsonl" ;;
    *)
        exec cat "data/$day/$1.jsonl" ;;
esac
