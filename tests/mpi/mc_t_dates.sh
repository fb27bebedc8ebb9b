#!/usr/bin/env bash
# mc_t is reproducible by date, end to end: the same mc_t model on the shipped
# BTC and ETH closes, once in a market file of BTC and ETH, once in one that
# starts 30 days later and lists SOL first (so every row and underlying index
# moves), at 1 and 2 ranks: /models/mc/im, pnl and exceed byte-identical on
# the common dates (2023-01-01 .. 2023-06-30).
# usage: mc_t_dates.sh IMVAR SOURCE_DIR WORKDIR
set -uo pipefail
imvar=$1 src=$2 work=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
d=$src/data/market
# The first 30 data rows dropped: the calendar starts 30 days later.
for u in btc eth; do
  { head -1 "$d/${u}_usdt_binance_daily.csv"; tail -n +32 "$d/${u}_usdt_binance_daily.csv"; } >"late_$u.csv"
done
"$imvar" import -o a.h5 BTC="$d/btc_usdt_binance_daily.csv" ETH="$d/eth_usdt_binance_daily.csv" \
  >/dev/null || { echo "import a failed"; exit 1; }
"$imvar" import -o b.h5 SOL="$d/sol_usdt_binance_daily.csv" BTC=late_btc.csv ETH=late_eth.csv \
  >/dev/null || { echo "import b failed"; exit 1; }
cat >mc.yaml <<YAML
portfolios: $src/data/portfolios/btc_eth.csv
seed: 7
start: 2023-01-01
end: 2023-06-30
models:
  mc:
    kind: mc_t
    measure: es
    confidence: 0.99
    horizon: 2
    window: 250
    paths: 2000
YAML
mpirun -n 1 "$imvar" backtest -q -c mc.yaml --set market=a.h5 -o ra.h5 >run.log 2>&1 || { cat run.log; exit 1; }
mpirun -n 2 "$imvar" backtest -q -c mc.yaml --set market=b.h5 -o rb.h5 >run.log 2>&1 || { cat run.log; exit 1; }
fail=0
for ds in /dates /models/mc/im /models/mc/pnl /models/mc/exceed; do
  h5dump -d "$ds" -b LE -o a.bin ra.h5 >/dev/null && h5dump -d "$ds" -b LE -o b.bin rb.h5 >/dev/null ||
    { echo "FAIL $ds: cannot read"; fail=1; continue; }
  if cmp -s a.bin b.bin && [ -s a.bin ]; then echo "ok   $ds identical ($(stat -c %s a.bin) bytes)"; else echo "FAIL $ds differs"; fail=1; fi
done
exit $fail
