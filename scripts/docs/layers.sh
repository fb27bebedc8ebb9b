#!/usr/bin/env bash
# docs/models.md, "Anti-procyclicality" and "Add-ons": the figures quoted there.
#  1. hs 99%, h = 1, W = 250 on the BTC/ETH books (data/portfolios/btc_eth.csv),
#     with and without the three EMIR art. 28 layers: exceedances of the core
#     margin and of the total.
#  2. fhs 99%, h = 2, W = 500 with the liquidity and concentration add-ons on the
#     curated books: per portfolio with an add-on, the days it is > 0 and its
#     median and largest share of the core margin; exceedances of core and total.
# usage: scripts/docs/layers.sh   (BUILD_DIR, DOCS_OUT: scripts/docs/lib.sh)
. "$(dirname "$0")/lib.sh"
docs_market
cat >"$out/layers.yaml" <<YAML
market: $out/market.h5
portfolios: $root/data/portfolios/btc_eth.csv
models:
  hs:
    {kind: hs, confidence: 0.99, horizon: 1, window: 250}
  hs_apc:
    {kind: hs, confidence: 0.99, horizon: 1, window: 250, apc_buffer: true, apc_stress: true, apc_floor: true}
  fhs_addons:
    {kind: fhs, confidence: 0.99, horizon: 2, window: 500, liquidity: true, concentration: true}
YAML
mpirun -n 2 "$imvar" backtest -q -c "$out/layers.yaml" -o "$out/layers.h5" 2>/dev/null
# The add-on model on the curated books: a second run of the same file.
mpirun -n 2 "$imvar" backtest -q -c "$out/layers.yaml" --set "portfolios=$root/data/portfolios/curated.csv" \
  -o "$out/layers-curated.h5" 2>/dev/null
"$imvar" validate "$out/layers.h5" --limit 1 | grep -E '^(model|summary|total)'
echo
"$imvar" validate "$out/layers-curated.h5" --limit 1 | sed -n '/^model fhs_addons/,$p' | grep -E '^(model|summary|total)'
f=$out/layers-curated.h5
ids=$(dataset "$f" /portfolios/id | sed 's/\\000//g; s/"//g')
t=$(dataset "$f" /dates | wc -l)
for addon in liquidity concentration; do
  echo "addon_$addon (share of the core margin on the days it is > 0):"
  paste -d' ' <(dataset "$f" /models/fhs_addons/im) <(dataset "$f" "/models/fhs_addons/addon_$addon") |
    awk -v t="$t" '$1 != "nan" && $2 != "nan" && $1 > 0 {print int((NR - 1) / t), $2 / $1}' |
    sort -k1,1n -k2,2g |
    awk -v ids="$ids" 'BEGIN {n = split(ids, id, "\n"); q = -1}
      function flush() {
        if (c) shown = 1
        if (c) printf "  %s: > 0 on %d of %d days, median +%.1f%%, largest +%.1f%%\n", id[q + 1], c, all, 100 * v[k + int((c + 1) / 2)], 100 * v[all]
      }
      $1 != q { flush(); q = $1; c = 0; all = 0; k = 0 }
      { v[++all] = $2; if ($2 > 0) c++; else k++ }
      END { flush(); if (!shown) print "  none on any day" }'
done
