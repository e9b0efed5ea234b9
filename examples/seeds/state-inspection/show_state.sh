#!/bin/sh
# Print the newest state a pipeline stored in its dataset, straight from the _dlt_pipeline_state
# table: the `state` column is base64 of zlib-compressed JSON. zlib data is a deflate stream
# between a 2-byte header and a 4-byte checksum, so with a gzip header in front gzip can inflate
# it (it then complains about the missing gzip trailer, which is ignored here).
#   sh show_state.sh [PIPELINE]    (default: example_pipeline)
set -eu
pipeline=${1:-example_pipeline}
sluice pipeline "$pipeline" query \
    "SELECT state FROM _dlt_pipeline_state ORDER BY _dlt_load_id DESC LIMIT 1" --format csv |
    tail -n 1 | base64 -d | {
        printf '\037\213\010\000\000\000\000\000\000\003'
        tail -c +3
    } | gzip -dc 2>/dev/null || true
echo
