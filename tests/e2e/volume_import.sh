#!/usr/bin/env bash
# imvar import: the price CSVs' volume_quote column becomes /volume (NaN for
# an empty cell); files without the column import as before, with no /volume;
# the add-ons refuse a market file without volumes.
# usage: volume_import.sh IMVAR SOURCE_DIR WORKDIR
set -euo pipefail
imvar=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail=0
printf 'date,close,volume_quote\n2024-01-01,10,1500.5\n2024-01-02,11,\n2024-01-03,12,2000\n' >v.csv
printf 'date,close\n2024-01-01,20\n2024-01-02,21\n2024-01-03,22\n' >nv.csv
"$imvar" import -o both.h5 A=v.csv B=nv.csv >both.log
grep -q '^  A .* 2 volumes ' both.log || { echo "A: volume count"; cat both.log; fail=1; }
# A's volumes as written (the empty cell is NaN), B's all NaN.
got=$(h5dump -d /volume -y both.h5 | tr -d ' \n' | sed 's/.*DATA{//; s/}.*//')
[ "$got" = "1500.5,nan,2000,nan,nan,nan" ] || { echo "/volume: $got"; fail=1; }
"$imvar" import -o none.h5 B=nv.csv >/dev/null
h5ls none.h5 | grep -q '^volume' && { echo "/volume written without the column"; fail=1; }
# The shipped Binance export: BTC's first day, 3454770.05073206 USD.
"$imvar" import -o btc.h5 BTC="$src/data/market/btc_usdt_binance_daily.csv" >/dev/null
first=$(h5dump -d /volume -c 1,1 -y -m %.15g btc.h5 | tr -d ' \n' | sed 's/.*DATA{//; s/}.*//')
[ "$first" = "3454770.05073206" ] || { echo "BTC first volume: $first"; fail=1; }
# Add-ons on a market without volumes: refused, nothing written.
printf 'portfolio,instrument,quantity\np,B-SPOT,1\n' >p.csv
printf 'market: none.h5\nportfolios: p.csv\noutput: r.h5\nmodels:\n  m:\n    kind: hs\n    window: 1\n    horizon: 1\n    liquidity: true\n' >c.yaml
set +e
"$imvar" backtest -q -c c.yaml 2>err.txt
rc=$?
set -e
[ $rc = 3 ] && grep -q 'liquidity: the add-ons need traded volumes' err.txt ||
  { echo "add-ons without volumes: rc $rc"; cat err.txt; fail=1; }
[ -e r.h5 ] && { echo "r.h5 written"; fail=1; }
[ $fail = 0 ] && echo "volume import: ok"
exit $fail
