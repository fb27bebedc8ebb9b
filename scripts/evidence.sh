#!/usr/bin/env bash
# The model comparison of docs/models.md ("Which models cover crypto"): every
# model kind at 99% with h = 1 and h = 2 on the shipped BTC and ETH history (with
# Binance's BTCUSDT funding, as the main job imports it) and the BTC/ETH
# portfolios of data/portfolios/btc_eth.csv; one row per model and
# horizon (the variants of all-models.yaml with layers are left out: their
# core margin is fhs's). usage: scripts/evidence.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build} out=${2:-$root/out/evidence}
imvar=$build/src/app/imvar
mkdir -p "$out"
"$imvar" import -o "$out/market.h5" BTC="$root/data/market/btc_usdt_binance_daily.csv" \
  ETH="$root/data/market/eth_usdt_binance_daily.csv" \
  --funding BTC="$root/data/market/btc_usdt_binance_funding_daily.csv" >/dev/null
printf '| model | h | portfolios | exceedance rate | Kupiec rejects | independence rejects | CC rejects | zones g/y/r | BTC 1-coin IM / price (median) |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
models="hs fhs ewma_normal ewma_t mc_t es_fhs grid"
for h in 1 2; do
  "$imvar" backtest -q -c "$root/data/configs/all-models.yaml" --set "market=$out/market.h5" \
    --set "portfolios=$root/data/portfolios/btc_eth.csv" \
    $(for m in $models; do echo "--set models.$m.horizon=$h"; done) \
    -o "$out/h$h.h5" 2>/dev/null
  "$imvar" validate "$out/h$h.h5" --limit 1 >"$out/h$h.txt"
  # Closes of BTC (underlying 0) turn the IM of btc_spot_long (1 BTC, the first
  # portfolio) into a share of the price.
  # series DATASET FILE: row 0 of a [rows][T] dataset, one value a line (from the
  # first DATA block: the dataset's attributes follow with theirs).
  series() {
    local n
    n=$(h5dump -H -d "$1" "$2" | grep -o 'SIMPLE { ( [0-9]*, [0-9]* )' | grep -o '[0-9]* )' | grep -o '[0-9]*')
    h5dump -y -w 0 -d "$1[0,0;;1,$n]" "$2" 2>/dev/null | tr -d ' \n' |
      sed 's/DATA{/@/; s/^[^@]*@//; s/}.*//' | tr ',' '\n'
  }
  series /close "$out/market.h5" >"$out/btc_close.txt"
  name=""
  while IFS= read -r line; do
    case "$line" in
      "model "*) name=${line#model }; name=${name%%:*} ;;
      summary:*)
        n=$(sed -E 's/.* of ([0-9]+) portfolios.*/\1/' <<<"$line")
        rate=$(sed -E 's/.*observations \(([0-9.]+)%, expected ([0-9.]+)%\).*/\1% (target \2%)/' <<<"$line")
        rej=$(sed -E 's/.*Kupiec ([0-9]+), independence ([0-9]+), conditional coverage ([0-9]+).*/\1 | \2 | \3/' <<<"$line")
        zones=$(sed -E 's/.*green ([0-9]+), yellow ([0-9]+), red ([0-9]+).*/\1\/\2\/\3/' <<<"$line")
        med=$(series "/models/$name/im" "$out/h$h.h5" | paste -d' ' - "$out/btc_close.txt" |
          awk '$1 != "nan" && $2 > 0 {print $1 / $2}' | sort -g |
          awk '{v[NR] = $1} END {if (NR) printf "%.1f%%", 100 * v[int((NR + 1) / 2)]; else print "-"}')
        # An ES model's exceedances of its ES are not a VaR coverage test: left out here.
        [ "${name#es_}" = "$name" ] && [[ " $models " == *" $name "* ]] && echo "| $name | $h | $n | $rate | $rej | $zones | $med |"
        ;;
    esac
  done <"$out/h$h.txt"
done
