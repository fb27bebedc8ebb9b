#!/usr/bin/env bash
# docs/calibration.md, "Evidence": the sweep of data/configs/calibrate.yaml on
# the BTC/ETH books, as the main job runs it: the ranked table (top 5, test
# periods, recommendation), then from the full table the eligible sets per kind,
# the best coverage of the 97.5% sets and the coverage range of ewma_t.
# usage: scripts/docs/calibration.sh   (BUILD_DIR, DOCS_OUT: scripts/docs/lib.sh)
. "$(dirname "$0")/lib.sh"
docs_market
start=$(date +%s.%N)
mpirun -n 2 "$imvar" calibrate --top 1000 -c "$root/data/configs/calibrate.yaml" \
  --set "market=$out/market.h5" --set "portfolios=$root/data/portfolios/btc_eth.csv" \
  -o "$out/calibration.h5" >"$out/calibration.txt"
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "wall time %.1f s on 2 ranks\n", b - a}'
# The ranked rows: rank kind measure confidence h W [lambda] cover rate %UC %CC %zone margin p/t ok.
rows() { awk '/^rank /{n++; next} n == 1 && $1 ~ /^[0-9]+$/' "$out/calibration.txt"; }
awk '/^rank /{n++} n == 1 && /^[0-9]+ / && $1 > 5 {next} {print}' "$out/calibration.txt"
echo "eligible sets per kind: $(rows | awk '$NF == "yes" {k[$2]++} END {for (i in k) printf "%s %d  ", i, k[i]}')"
rows | awk '$4 == "97.5%" {c = $(NF - 7); if (c > m) m = c} END {print "best coverage of a 97.5% set: " m}'
rows | awk '$2 == "ewma_t" {c = $(NF - 7); l = $4; if (!(l in lo) || c < lo[l]) lo[l] = c; if (c > hi[l]) hi[l] = c}
  END {for (l in lo) print "ewma_t at " l ": coverage " lo[l] " to " hi[l]}' | sort
