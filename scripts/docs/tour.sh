#!/usr/bin/env bash
# The README's five-minute tour, command for command, on the shipped data, into
# out/tour/: checks that every command of it works. Step 4's my_series.csv is
# made here from the backtest (pnl and margin of my_btc_long under hs99_h1).
# Run after ./run.sh main (or a build into build/).
# usage: scripts/docs/tour.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/docs/lib.sh
unset OMPI_MCA_rmaps_base_oversubscribe OMPI_MCA_btl OMPI_MCA_mpi_yield_when_idle
imvar=build/src/app/imvar
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf out/tour
step() { echo "== $*"; }

step 1 import
mkdir -p out/tour
$imvar import -o out/tour/market.h5 BTC=data/market/btc_usdt_binance_daily.csv \
  ETH=data/market/eth_usdt_binance_daily.csv --funding BTC=data/market/btc_usdt_binance_funding_daily.csv

step 2 portfolios
cat > out/tour/books.csv <<EOF2
portfolio,instrument,quantity
my_btc_long,BTC-SPOT,1
my_basis,BTC-SPOT,2
my_basis,BTC-PERP,-2
my_pair,BTC-PERP,1
my_pair,ETH-PERP,-15
EOF2

step 3 backtest
mpirun -n 2 $imvar backtest -c data/configs/default.yaml --set market=out/tour/market.h5 \
  --set portfolios=out/tour/books.csv --set models.fhs99_h2.kind=fhs -o out/tour/results.h5

step 4 validate
$imvar validate out/tour/results.h5 --json > out/tour/validate.json
head -c 200 out/tour/validate.json; echo
t=$(dataset out/tour/results.h5 /dates | wc -l)
{ echo pnl,margin
  paste -d, <(dataset out/tour/results.h5 /models/hs99_h1/pnl | head -n "$t") \
    <(dataset out/tour/results.h5 /models/hs99_h1/im | head -n "$t") | sed 's/nan//g'; } > my_series.csv
$imvar stats my_series.csv --confidence 0.99    # a CSV with pnl,margin columns of your own
rm my_series.csv

step 5 report
$imvar report out/tour/results.h5 -o out/tour/report.html

step 6 calibrate
mpirun -n 2 $imvar calibrate -c data/configs/calibrate.yaml --set market=out/tour/market.h5 \
  --set calibrate.grid.kind=hs,fhs --set calibrate.grid.horizon=1,2 -o out/tour/calibration.h5
$imvar report out/tour/results.h5 -o out/tour/report.html --calibration out/tour/calibration.h5

step 7 Slurm
(
  export IMVAR_OUT=/scratch/${USER:-$(id -un)}/imvar-run1 IMVAR_PARTITION=compute IMVAR_NTASKS=64
  jobs/submit.sh --dry-run     # print the sbatch commands; without --dry-run, submit them
)
IMVAR_OUT=out/tour/slurm IMVAR_NTASKS=2 bash jobs/backtest.sbatch   # the same job, without Slurm
ls out/tour/slurm/backtest
