#!/usr/bin/env bash
# docs/calibration.md, "Evidence": the sweep of data/configs/calibrate.yaml on
# the BTC/ETH books, as the main job runs it, with its ranked table (top 5).
# usage: scripts/docs/calibration.sh   (BUILD_DIR, DOCS_OUT: scripts/docs/lib.sh)
. "$(dirname "$0")/lib.sh"
docs_market
start=$(date +%s.%N)
mpirun -n 2 "$imvar" calibrate --top 5 -c "$root/data/configs/calibrate.yaml" --set "market=$out/market.h5" \
  --set "portfolios=$root/data/portfolios/btc_eth.csv" -o "$out/calibration.h5"
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "wall time %.1f s on 2 ranks\n", b - a}'
