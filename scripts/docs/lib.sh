# Sourced by the scripts of scripts/docs/, which regenerate the figures of docs/.
# Sets root, build, out and imvar; BUILD_DIR (default build) and DOCS_OUT
# (default out/docs) may be set in the environment.
# shellcheck shell=bash
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
out=${DOCS_OUT:-$root/out/docs}
imvar=$build/src/app/imvar
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1

# docs_market: $out/market.h5 as the main job imports it (7 coins, BTC and ETH
# DVOL, Binance BTCUSDT funding), once.
docs_market() {
  [ -s "$out/market.h5" ] && return
  local m=$root/data/market args=()
  for u in BTC ETH SOL BNB XRP ADA DOGE; do args+=("$u=$m/${u,,}_usdt_binance_daily.csv"); done
  "$imvar" import -o "$out/market.h5" "${args[@]}" --ivol BTC="$m/btc_dvol_daily.csv" \
    --ivol ETH="$m/eth_dvol_daily.csv" --funding BTC="$m/btc_usdt_binance_funding_daily.csv" >/dev/null
}

# summary_rows: reads 'imvar validate' output on stdin and prints one line per
# model: name, observations, exceedances, rate %, zones g/y/r.
summary_rows() {
  sed -nE -e 's/^model ([^:]+):.*/\1/p' \
    -e 's/^summary:.* ([0-9]+) exceedances in ([0-9]+) observations \(([0-9.]+)%.*green ([0-9]+), yellow ([0-9]+), red ([0-9]+).*/\2 \1 \3 \4\/\5\/\6/p' |
    paste -d' ' - -
}

# dataset FILE PATH: every value of an HDF5 dataset, one a line (each ended by
# a newline, so that wc -l counts them), row-major. The first DATA block is the
# dataset's own: its attributes (long_name, units) follow with theirs.
dataset() {
  h5dump -y -w 0 -d "$2" "$1" | tr -d ' \n' | sed 's/DATA{/@/; s/^[^@]*@//; s/}.*//' | tr ',' '\n'
  echo
}
