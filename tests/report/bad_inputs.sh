#!/usr/bin/env bash
# imvar report on bad input: the exit code, one message naming the file (or
# the id) and what is wrong, and no output left behind -- and a report from an
# earlier run is left untouched when a later run fails.
# usage: bad_inputs.sh IMVAR SOURCE_DIR WORKDIR
set -uo pipefail
imvar=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work/out" && cd "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1

# A small results file, a market file (an HDF5 file that is not a results
# file) and a checkpoint of an unfinished backtest (no validation yet).
args=()
for u in BTC ETH; do args+=("$u=$src/data/market/${u,,}_usdt_binance_daily.csv"); done
"$imvar" import -o market.h5 "${args[@]}" >/dev/null 2>&1 || { bad "import"; finish; }
printf 'portfolio,instrument,quantity\nlong_btc,BTC-SPOT,1\nshort_eth,ETH-PERP,-10\n' >ports.csv
cat >c.yaml <<'EOF'
market: market.h5
portfolios: ports.csv
output: results.h5
start: 2024-01-01
end: 2024-12-31
tiles:
  portfolios: 1
  dates: 30
models:
  m1:
    kind: hs
    measure: var
    confidence: 0.99
    horizon: 1
    window: 250
EOF
"$imvar" backtest -q -c c.yaml -o good.h5 >/dev/null 2>&1 || { bad "backtest"; finish; }
IMVAR_FAULT_STOP_AFTER_TILES=1 "$imvar" backtest -q -c c.yaml -o cut.h5 >/dev/null 2>&1
[ -e cut.h5.partial ] || { bad "no checkpoint to test with"; finish; }
printf 'not hdf5\n' >text.h5
# A calibration file and the file of one chunk of the same calibration.
cat >cal.yaml <<'YAML'
market: market.h5
portfolios: ports.csv
start: 2023-01-01
end: 2024-12-31
calibrate:
  grid:
    kind: [hs]
    confidence: [0.99, 0.995]
    horizon: [1]
    window: [250]
  calibration: {start: 2024-01-01, end: 2024-12-31}
YAML
"$imvar" calibrate -q -c cal.yaml -o cal.h5 >/dev/null 2>&1 || { bad "calibrate"; finish; }
"$imvar" calibrate -q -c cal.yaml --chunk 0/2 -o chunk0.h5 >/dev/null 2>&1 || { bad "calibrate --chunk"; finish; }

no_output() { compgen -G "out/*" >/dev/null && echo "output left: $(ls out)"; }

# check NAME EXPECTED_RC PATTERN -- command...: an "imvar: error:" line with PATTERN.
check() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local rc=0
  timeout 60 "$@" >stdout.txt 2>stderr.txt || rc=$?
  local why=""
  [ "$rc" = "$want" ] || why="exit $rc, expected $want"
  grep -qF -- "$pattern" stderr.txt || why="$why; message lacks '$pattern'"
  [ "$(grep -c 'imvar: error:' stderr.txt)" = 1 ] || why="$why; expected exactly one error line"
  local left; left=$(no_output)
  [ -n "$left" ] && why="$why; $left"
  if [ -z "$why" ]; then ok "$name: $(grep 'imvar: error:' stderr.txt)"; else bad "$name: $why"; sed 's/^/     | /' stderr.txt; fi
  rm -rf out && mkdir out
}
# usage NAME PATTERN -- command...: exit 2, the usage text and PATTERN on stderr.
usage() {
  local name=$1 pattern=$2
  shift 3
  local rc=0
  timeout 60 "$@" >stdout.txt 2>stderr.txt || rc=$?
  local why=""
  [ "$rc" = 2 ] || why="exit $rc, expected 2"
  grep -qF -- "$pattern" stderr.txt || why="$why; message lacks '$pattern'"
  grep -q '^usage:' stderr.txt || why="$why; no usage text"
  local left; left=$(no_output)
  [ -n "$left" ] && why="$why; $left"
  if [ -z "$why" ]; then ok "$name: $(head -1 stderr.txt)"; else bad "$name: $why"; sed 's/^/     | /' stderr.txt; fi
  rm -rf out && mkdir out
}

R=out/report.html
check missing-file 1 "nope.h5: cannot open as an HDF5 file" -- "$imvar" report nope.h5 -o $R
check not-hdf5 1 "text.h5: cannot open as an HDF5 file" -- "$imvar" report text.h5 -o $R
check not-results 3 "market.h5: not an imvar results file" -- "$imvar" report market.h5 -o $R
check not-validated 3 "validation missing (run 'imvar validate')" -- "$imvar" report cut.h5.partial -o $R
check unknown-portfolio 3 "good.h5: --portfolios: no portfolio 'nope' in this file" -- \
  "$imvar" report good.h5 -o $R --portfolios long_btc,nope
check calibration-chunk 3 "chunk0.h5: the file of one chunk (--chunk) of a calibration, not a complete one" -- \
  "$imvar" report good.h5 -o $R --calibration chunk0.h5
check calibration-is-results 3 "good.h5: not an imvar calibration file (format 'imvar-results'" -- \
  "$imvar" report good.h5 -o $R --calibration good.h5
check calibration-is-market 3 "market.h5: not an imvar calibration file" -- \
  "$imvar" report good.h5 -o $R --calibration market.h5
check calibration-missing 1 "nope.h5: cannot open as an HDF5 file" -- \
  "$imvar" report good.h5 -o $R --calibration nope.h5
check calibration-not-hdf5 1 "text.h5: cannot open as an HDF5 file" -- \
  "$imvar" report good.h5 -o $R --calibration text.h5
check output-is-calibration 3 "the report would overwrite the calibration file" -- \
  "$imvar" report good.h5 -o cal.h5 --calibration cal.h5
if "$imvar" report good.h5 -o $R --calibration cal.h5 >stdout.txt 2>stderr.txt &&
  grep -q '^calibration cal.h5: ' stdout.txt && [ -s out/summary_calibration.csv ] &&
  grep -q 'id="calibration-ranked"' $R; then
  ok "the complete calibration file is accepted: $(grep '^calibration' stdout.txt)"
else
  bad "report --calibration cal.h5"; cat stderr.txt
fi
rm -rf out && mkdir out
check output-dir 1 "good.h5/dir/r.html: cannot write there" -- "$imvar" report good.h5 -o good.h5/dir/r.html
# The report makes its output directory; a failed report removes what it made.
check new-dir-failed-run 3 "validation missing" -- "$imvar" report cut.h5.partial -o new/sub/r.html
[ -e new ] && bad "a failed report left its new directory" || ok "a failed report leaves no new directory"
if "$imvar" report good.h5 -o new/sub/r.html >stdout.txt 2>stderr.txt && [ -s new/sub/r.html ] &&
  [ -s new/sub/summary.json ]; then
  ok "the report creates its output directory"
else
  bad "report -o new/sub/r.html"; cat stderr.txt
fi
rm -rf new
check output-is-input 3 "the report would overwrite the results file" -- "$imvar" report good.h5 -o good.h5
mkdir side && cp good.h5 side/summary.json
rc=0
"$imvar" report side/summary.json -o side/r.html >stdout.txt 2>stderr.txt || rc=$?
[ "$rc" = 3 ] && grep -qF "side/summary.json: the report would overwrite the results file (it writes summary.json beside side/r.html)" stderr.txt &&
  [ "$(ls side)" = summary.json ] && cmp -s good.h5 side/summary.json &&
  ok "side-file-is-input: $(cat stderr.txt)" || { bad "side-file-is-input: exit $rc"; cat stderr.txt; }
check no-gnuplot 1 "cannot run '/nonexistent/gnuplot' to draw the charts" -- \
  env IMVAR_GNUPLOT=/nonexistent/gnuplot "$imvar" report good.h5 -o $R
check gnuplot-fails 1 "'false' failed drawing the charts (exit 1)" -- env IMVAR_GNUPLOT=false "$imvar" report good.h5 -o $R
check unknown-portfolio-np2 3 "no portfolio 'nope'" -- mpirun -n 2 "$imvar" report good.h5 -o $R --portfolios nope

usage no-output "expected one results file and -o report.html" -- "$imvar" report good.h5
usage no-input "expected one results file and -o report.html" -- "$imvar" report -o $R
usage two-inputs "expected one results file and -o report.html" -- "$imvar" report good.h5 good.h5 -o $R
usage bad-worst "--worst 'x' is not a count 0..1000" -- "$imvar" report good.h5 -o $R --worst x
usage bad-rows "--rows '-1' is not a count" -- "$imvar" report good.h5 -o $R --rows -1
usage empty-id "--portfolios 'a,,b' has an empty id" -- "$imvar" report good.h5 -o $R --portfolios a,,b
usage unknown-option "unrecognized option '--colour'" -- "$imvar" report good.h5 -o $R --colour

# A failed run leaves an earlier report as it was.
if "$imvar" report good.h5 -o $R >/dev/null 2>&1; then
  before=$(cd out && sha256sum ./*)
  IMVAR_GNUPLOT=false "$imvar" report good.h5 -o $R >/dev/null 2>&1
  rc=$?
  after=$(cd out && sha256sum ./*)
  [ "$rc" = 1 ] && [ "$before" = "$after" ] &&
    ok "a failed run leaves the earlier report.html, summary.json and CSVs as they were" ||
    bad "a failed run changed the earlier report (rc $rc): $after"
else
  bad "report of good.h5"
fi
# --help
"$imvar" report --help >help.txt 2>&1 && grep -q '^usage: .*imvar report results.h5 -o report.html' help.txt &&
  grep -q 'summary.json' help.txt && ok "--help describes the command" || bad "--help"
"$imvar" --help | grep -q '^  report ' && ok "imvar --help lists report" || bad "imvar --help lacks report"
# Every command's --help comes from its option table: each option it lists is
# one the command accepts, and -h/--help is listed.
for cmd in import backtest validate stats report calibrate "portfolios generate" "smile fit"; do
  $imvar $cmd --help >help.txt 2>&1 || { bad "$cmd --help: exit $?"; continue; }
  opts=$(sed -n '/^options:/,/^$/p' help.txt | grep -o -- '--[a-z][a-z-]*' | sort -u)
  unknown=""
  for o in $opts; do
    $imvar $cmd "$o" >/dev/null 2>opt.err
    grep -q "unrecognized option" opt.err && unknown="$unknown $o"
  done
  if [ -n "$opts" ] && [ -z "$unknown" ] && grep -q -- '-h, --help' help.txt; then
    ok "$cmd --help: $(echo $opts | wc -w) options, each accepted"
  else
    bad "$cmd --help: options not accepted:$unknown"
  fi
done
n=$("$imvar" validate --help | grep -cE '^ +[0-9]+\. ')
[ "$n" = 15 ] && ok "validate --help lists the battery's 15 tests" || bad "validate --help lists $n tests"
finish
