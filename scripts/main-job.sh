#!/usr/bin/env bash
# The main job on an already built tree: import the shipped market data, run
# the backtest on 2 MPI ranks with a config, validate, print the table, run the
# recalibration sweep (data/configs/calibrate.yaml), and write the report.
# usage: scripts/main-job.sh BUILD_DIR CONFIG OUT_DIR [--set key=value ...]
set -euo pipefail
build=$1 config=$2 out=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
imvar=$build/src/app/imvar
mkdir -p "$out"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1

args=()
for u in BTC ETH SOL BNB XRP ADA DOGE; do
  args+=("$u=$root/data/market/${u,,}_usdt_binance_daily.csv")
done
echo "== import: Binance daily closes of 7 coins, Deribit DVOL of BTC and ETH, Binance BTCUSDT"
echo "   perpetual funding (data/PROVENANCE.md)"
"$imvar" import -o "$out/market.h5" "${args[@]}" \
  --ivol BTC="$root/data/market/btc_dvol_daily.csv" --ivol ETH="$root/data/market/eth_dvol_daily.csv" \
  --funding BTC="$root/data/market/btc_usdt_binance_funding_daily.csv"

echo "== backtest on 2 MPI ranks: $config"
mpirun -n 2 "$imvar" backtest -q -c "$config" --set "market=$out/market.h5" \
  -o "$out/results.h5" "$@"

echo "== validate"
"$imvar" validate "$out/results.h5" --limit 0
echo "== calibrate on 2 MPI ranks: data/configs/calibrate.yaml (calibration 2020-07..2022, tests 2023, 2024-)"
mpirun -n 2 "$imvar" calibrate -q -c "$root/data/configs/calibrate.yaml" --set "market=$out/market.h5" \
  --set "portfolios=$root/data/portfolios/btc_eth.csv" -o "$out/calibration.h5"
echo "== report"
mkdir -p "$out/report"
"$imvar" report "$out/results.h5" -o "$out/report/report.html" --calibration "$out/calibration.h5"
echo
echo "results: $out/results.h5 (layout: README.md, 'results.h5'); market: $out/market.h5"
echo "calibration: $out/calibration.h5, recommended configuration $out/calibration.h5.recommended.yaml"
echo "report:  $out/report/report.html (with summary.json and CSV tables beside it)"
echo "JSON: $imvar validate $out/results.h5 --json"
