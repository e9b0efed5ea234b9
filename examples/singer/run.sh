#!/bin/sh
# run.sh — install tap-spreadsheets (PyPI) into a virtualenv beside this file and load
# orders.csv with it twice through sluice: the second run hands the tap its state and loads
# only what changed. Needs python3 with venv (Debian: python3-venv) and sluice on the PATH
# (from the repository root: export PATH="$PWD/build:$PATH"). Works offline once installed.
set -eu
cd "$(dirname "$0")"
if [ ! -x .venv/bin/tap-spreadsheets ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet "tap-spreadsheets==1.1.2"
fi
PATH="$PWD/.venv/bin:$PATH"
export SLUICE_PIPELINES_DIR="$PWD/.pipelines"
rm -rf .pipelines orders.db orders__shop.db
sluice run pipeline.yaml --progress none
sluice pipeline singer_orders query "SELECT id, customer, amount, status FROM orders ORDER BY id"
# bob's order is paid back: the tap sees the file changed and sends it again
cp orders.csv orders.csv.orig
trap 'mv orders.csv.orig orders.csv' EXIT
sed 's/^2,bob,5.25,paid$/2,bob,5.25,refunded/' orders.csv.orig > orders.csv
sluice run pipeline.yaml --progress none
sluice pipeline singer_orders query "SELECT id, customer, status FROM orders ORDER BY id"
