#!/bin/sh
# One Stripe list endpoint (the first argument: customers, invoices, subscriptions), as
# GET /v1/<endpoint>?created[gte]=T: the objects created at or after T (unix time; the
# resource's incremental start value, SLUICE_START_VALUE) and up to STRIPE_NOW (the API's clock,
# default: all). The bundled objects are data/<endpoint>.jsonl.
set -eu
endpoint=${1:?usage: stripe_api.sh ENDPOINT}
exec awk -v since="${SLUICE_START_VALUE:-0}" -v now="${STRIPE_NOW:-9999999999}" '
    match($0, /"created": [0-9]+/) {
        c = substr($0, RSTART + 11, RLENGTH - 11) + 0
        if (c >= since + 0 && c <= now + 0) print
    }' "data/$endpoint.jsonl"
