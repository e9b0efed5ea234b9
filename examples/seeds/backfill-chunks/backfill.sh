#!/bin/sh
# Backfill June, July and August 2022 in three chunks at once. Two runs cannot share one
# working dir (the second fails fast: the pipeline is locked), so each chunk gets its own
# SLUICE_PIPELINES_DIR; they all load into the same dataset, whose state they only read.
set -eu
cd "$(dirname "$0")"
base=${SLUICE_PIPELINES_DIR:-$HOME/.sluice/pipelines}
pids=
for chunk in 2022-06-01:2022-07-01 2022-07-01:2022-08-01 2022-08-01:2022-09-01; do
    start=${chunk%:*}T00:00:00Z
    end=${chunk#*:}T00:00:00Z
    SLUICE_PIPELINES_DIR="$base/backfill-${chunk%:*}" \
        sluice run issues.yaml --start "$start" --end "$end" --progress none &
    pids="$pids $!"
done
status=0
for pid in $pids; do
    wait "$pid" || status=1
done
exit $status
