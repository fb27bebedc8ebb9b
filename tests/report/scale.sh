#!/usr/bin/env bash
# imvar report on 20,000 generated portfolios (a year of as-of dates, two
# models): it must take seconds, chart only the worst, keep the HTML table to
# --rows and put every portfolio in summary_portfolios.csv.
# usage: scale.sh IMVAR SOURCE_DIR WORKDIR [COUNT]
set -uo pipefail
imvar=$1 src=$2 work=$3 count=${4:-20000}
limit=${REPORT_SCALE_LIMIT_S:-30}
rm -rf "$work" && mkdir -p "$work/r" && cd "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1

args=()
for u in BTC ETH SOL BNB XRP ADA DOGE; do args+=("$u=$src/data/market/${u,,}_usdt_binance_daily.csv"); done
"$imvar" import -o market.h5 "${args[@]}" >/dev/null 2>&1 || { bad "import"; finish; }
"$imvar" portfolios generate --count "$count" --seed 1 --market market.h5 -o ports.csv >/dev/null 2>&1 ||
  { bad "portfolios generate"; finish; }
cat >scale.yaml <<'YAML'
market: market.h5
portfolios: ports.csv
output: results.h5
start: 2025-01-01
end: 2025-12-31
tiles:
  portfolios: 0
  dates: 0
models:
  hs99_h1:
    kind: hs
    measure: var
    confidence: 0.99
    horizon: 1
    window: 250
  hs99_h2:
    kind: hs
    measure: var
    confidence: 0.99
    horizon: 2
    window: 250
YAML
t0=$(date +%s.%N)
mpirun -n 2 "$imvar" backtest -q -c scale.yaml -o big.h5 >backtest.log 2>&1 || { cat backtest.log; bad "backtest"; finish; }
t1=$(date +%s.%N)
ok "backtest of $count portfolios x 365 dates x 2 models: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"

named=$(sed -n 2p ports.csv | cut -d, -f1) # the first account, named with --portfolios
t0=$(date +%s.%N)
"$imvar" report big.h5 -o r/report.html --portfolios "$named" >report.log 2>&1 || { cat report.log; bad "report"; finish; }
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
cat report.log
awk -v s="$secs" -v l="$limit" 'BEGIN{exit !(s < l)}' &&
  ok "report of $count portfolios x 2 models in $secs s (limit $limit s)" ||
  bad "report took $secs s (limit $limit s)"
html=$(stat -c %s r/report.html)
[ "$html" -lt 30000000 ] && ok "report.html is $html bytes" || bad "report.html is $html bytes"
# the named account: a row of its own below the 1,000 worst unless it is among them
below=$(awk -F, -v id="$named" '$2 == id && $3 > 1000' r/summary_portfolios.csv | wc -l)
top5=$(awk -F, -v id="$named" '$2 == id && $3 <= 5' r/summary_portfolios.csv | wc -l)
rows=$(grep -c '<tr data-portfolio=' r/report.html)
[ "$rows" = $((2000 + below)) ] &&
  ok "HTML tables: the 1,000 worst rows per model (--rows default) + $below row(s) of the named account" ||
  bad "HTML table rows: $rows, expected $((2000 + below))"
grep -q "data-more=\"$((count - 1000))\"" r/report.html && ok "the page says how many more are in the CSV" || bad "no 'more' note"
svgs=$(grep -c '<svg' r/report.html)
want=$((26 + 2 * (2 - top5)))
[ "$svgs" = "$want" ] && ok "$svgs charts: 3 per model + 2 for each of the 5 worst and the named account" ||
  bad "$svgs charts, expected $want"
lines=$(($(wc -l <r/summary_portfolios.csv) - 1))
[ "$lines" = $((2 * count)) ] && ok "summary_portfolios.csv has all $lines model x portfolio rows" || bad "CSV rows: $lines"
python3 -c "import json,sys; d=json.load(open('r/summary.json')); sys.exit(not all(m['summary']['n_portfolios']==$count for m in d['models']))" &&
  ok "summary.json parses and counts $count portfolios per model" || bad "summary.json"
finish
