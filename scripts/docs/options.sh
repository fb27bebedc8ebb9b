#!/usr/bin/env bash
# docs/models.md, "Option books": every kind of data/configs/options.yaml (99%,
# h = 1) on data/portfolios/options.csv with the main job's market file (spot,
# DVOL, BTC funding), without and with the implied-vol proxy. Per model: the 9
# option books pooled, and the future-vs-perpetual book (fut_vs_perp_btc) apart.
# usage: scripts/docs/options.sh   (BUILD_DIR, DOCS_OUT: scripts/docs/lib.sh)
. "$(dirname "$0")/lib.sh"
docs_market
# pool: 'imvar validate --limit 0' on stdin -> "model books_obs books_exc fut_obs fut_exc".
pool() {
  awk '/^model /{if (m) print m, o, e, fo, fe; m = $2; sub(":", "", m); o = e = fo = fe = 0; next}
       m && $2 ~ /^[0-9]+$/ && NF > 5 {if ($1 == "fut_vs_perp_btc") {fo += $2; fe += $3} else {o += $2; e += $3}}
       END {if (m) print m, o, e, fo, fe}'
}
for proxy in none ewma; do
  mpirun -n 2 "$imvar" backtest -q -c "$root/data/configs/options.yaml" --set "market=$out/market.h5" \
    --set "portfolios=$root/data/portfolios/options.csv" --set "ivol_proxy=$proxy" \
    -o "$out/options-$proxy.h5" 2>/dev/null
  "$imvar" validate "$out/options-$proxy.h5" --limit 0 | pool >"$out/options-$proxy.txt"
done
echo "| model | 9 option books: observations | exceedances | rate | with ivol_proxy: ewma | | | fut_vs_perp_btc | |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
paste -d' ' "$out/options-none.txt" "$out/options-ewma.txt" |
  awk '{printf "| %s | %d | %d | %.2f%% | %d | %d | %.2f%% | %d of %d | %.2f%% |\n",
        $1, $2, $3, 100 * $3 / $2, $7, $8, 100 * $8 / $7, $5, $4, 100 * $5 / $4}'
