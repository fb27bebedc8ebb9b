#!/usr/bin/env bash
# The README's five-minute tour, command for command, on the shipped data:
# checks that every command of it works. Run after ./run.sh main (or a build).
# usage: scripts/docs/tour.sh   (BUILD_DIR, DOCS_OUT: scripts/docs/lib.sh)
. "$(dirname "$0")/lib.sh"
cd "$root"
t=$out/tour
rm -rf "$t" && mkdir -p "$t"
step() { echo "== $*"; }

step 1 import
"$imvar" import -o "$t/market.h5" BTC=data/market/btc_usdt_binance_daily.csv \
  ETH=data/market/eth_usdt_binance_daily.csv --funding BTC=data/market/btc_usdt_binance_funding_daily.csv

step 2 portfolios
cat >"$t/books.csv" <<CSV
portfolio,instrument,quantity
my_btc_long,BTC-SPOT,1
my_basis,BTC-SPOT,2
my_basis,BTC-PERP,-2
my_pair,BTC-PERP,1
my_pair,ETH-PERP,-15
CSV

step 3 backtest
mpirun -n 2 "$imvar" backtest -c data/configs/default.yaml --set market="$t/market.h5" \
  --set portfolios="$t/books.csv" --set models.fhs99_h2.kind=fhs -o "$t/results.h5"

step 4 validate
"$imvar" validate "$t/results.h5" --json >"$t/validate.json"
head -c 300 "$t/validate.json"; echo

step 5 report
"$imvar" report "$t/results.h5" -o "$t/report/report.html"

step 6 calibrate
mpirun -n 2 "$imvar" calibrate -c data/configs/calibrate.yaml --set market="$t/market.h5" \
  --set calibrate.grid.kind=hs,fhs --set calibrate.grid.horizon=1,2 -o "$t/calibration.h5"
"$imvar" report "$t/results.h5" -o "$t/report/report.html" --calibration "$t/calibration.h5"

step 7 Slurm, dry run and outside Slurm
IMVAR_OUT=$t/slurm jobs/submit.sh --dry-run
IMVAR_OUT=$t/slurm IMVAR_MARKET=$t/market.h5 IMVAR_PORTFOLIOS=$t/books.csv IMVAR_NTASKS=2 \
  IMVAR_BIN=$imvar bash jobs/backtest.sbatch
ls "$t/slurm/backtest"
