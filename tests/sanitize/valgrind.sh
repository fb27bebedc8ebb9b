#!/usr/bin/env bash
# valgrind memcheck on every rank of 2-rank backtests (hs, fhs and grid with
# options, funding and h = 2; ewma_t and mc_t on linear books), a 2-rank
# validate, a serial import and two failing runs (their error paths): no
# invalid access, no use of uninitialised memory, no definite leak. Open MPI's
# own leaks are suppressed (tools/ompi-valgrind.supp and Debian's file).
# usage: valgrind.sh IMVAR SOURCE_DIR WORKDIR
set -uo pipefail
imvar=$1 src=$2 work=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
export HWLOC_COMPONENTS=-x86 # else hwloc warns that its x86 backend cannot run under valgrind
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
if ! command -v valgrind >/dev/null; then
  echo "FAIL valgrind is not installed (scripts/deps.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi
vg=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9
  --track-origins=yes --suppressions="$src/tools/ompi-valgrind.supp")
[ -f /usr/share/openmpi/openmpi-valgrind.supp ] &&
  vg+=(--suppressions=/usr/share/openmpi/openmpi-valgrind.supp)

# run NAME EXPECTED_RC RANKS imvar-args...: valgrind on every rank, each
# writing vg-NAME.<pid>; any report there is a failure.
run() {
  local name=$1 want=$2 np=$3
  shift 3
  local launch=(mpirun -n "$np" -x HWLOC_COMPONENTS)
  [ "$np" = 1 ] && launch=()
  local t0=$SECONDS rc=0
  timeout -k 10 300 "${launch[@]}" "${vg[@]}" --log-file="vg-$name.%p" "$imvar" "$@" \
    >"$name.out" 2>"$name.err" || rc=$?
  local reports
  reports=$(cat vg-"$name".* 2>/dev/null | grep -c '^==[0-9]*== ' || true)
  if [ "$rc" = "$want" ] && [ "$reports" = 0 ]; then
    pass=$((pass + 1))
    echo "ok   $name: exit $rc, no memcheck report ($((SECONDS - t0)) s)"
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $rc (expected $want), $reports memcheck report lines"
    cat vg-"$name".* "$name.err" 2>/dev/null | head -60 | sed 's/^/     | /'
  fi
}

d=$src/data/market
run import 0 1 import -o market.h5 BTC="$d/btc_usdt_binance_daily.csv" \
  ETH="$d/eth_usdt_binance_daily.csv" --ivol BTC="$d/btc_dvol_daily.csv" \
  --ivol ETH="$d/eth_dvol_daily.csv" --funding BTC="$d/btc_usdt_binance_funding_daily.csv"
[ -s market.h5 ] || "$imvar" import -o market.h5 BTC="$d/btc_usdt_binance_daily.csv" \
  ETH="$d/eth_usdt_binance_daily.csv" --ivol BTC="$d/btc_dvol_daily.csv" \
  --ivol ETH="$d/eth_dvol_daily.csv" >/dev/null
# BTC/ETH linear books and a few option books.
cp "$src/data/portfolios/btc_eth.csv" linear.csv
{ cat linear.csv; grep -E '^[a-z_0-9]+,(BTC|ETH)-[CP]-' "$src/data/portfolios/options.csv" | head -8; } >mixed.csv
cat >with-options.yaml <<'YAML'
market: market.h5
portfolios: mixed.csv
start: 2023-01-01
end: 2023-03-31
models:
  hs99_h2: {kind: hs, window: 250, horizon: 2}
  fhs_es: {kind: fhs, window: 250, horizon: 1, measure: es}
  grid: {kind: grid}
YAML
cat >linear.yaml <<'YAML'
market: market.h5
portfolios: linear.csv
start: 2023-01-01
end: 2023-02-28
models:
  ewma_t: {kind: ewma_t, window: 250, horizon: 1}
  mc_t: {kind: mc_t, window: 250, horizon: 1, paths: 200}
YAML
run backtest-options-np2 0 2 backtest -q -c with-options.yaml -o r1.h5
run backtest-parametric-np2 0 2 backtest -q -c linear.yaml -o r2.h5
run validate-np2 0 2 validate r1.h5
run bad-portfolio-np2 3 2 backtest -q -c linear.yaml --set portfolios=with-options.yaml -o r3.h5
run bad-config-np2 3 2 backtest -q -c linear.yaml --set models.mc_t.paths=12 -o r4.h5
[ ! -e r3.h5 ] && [ ! -e r4.h5 ] || { fail=$((fail + 1)); echo "FAIL output left by a failed run"; }
echo "valgrind: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
