#!/usr/bin/env bash
# Bad input must give one clear message naming the file and line or key, a
# non-zero exit (on every rank: mpirun returns non-zero if any rank does) and
# no output file. usage: bad_inputs.sh IMVAR RANKS WORKDIR SOURCE_DIR
set -uo pipefail
imvar=$1 np=$2 work=$3 src=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
pass=0 fail=0
# As root and with more ranks than cores (the same settings as the README).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# One rank runs as an MPI singleton (no mpirun): mpirun takes about 2 s here to
# return a non-zero exit, which would make this catalogue slow.
launch=(mpirun -n "$np")
[ "$np" = 1 ] && launch=()

# run NAME EXPECTED_RC PATTERN OUTPUT -- command...: checks rc, the message and
# that OUTPUT (and any temporary sibling) does not exist afterwards.
check() {
  local name=$1 want=$2 pattern=$3 out=$4
  shift 5
  local rc=0
  timeout 60 "$@" >stdout.txt 2>stderr.txt || rc=$?
  local why=""
  [ "$rc" = "$want" ] || why="exit $rc, expected $want"
  grep -qF -- "$pattern" stderr.txt || why="$why; message lacks '$pattern'"
  [ "$(grep -c 'imvar: error:' stderr.txt)" = 1 ] || why="$why; expected exactly one error line"
  compgen -G "$out*" >/dev/null && why="$why; output $out left behind"
  if [ -z "$why" ]; then
    pass=$((pass + 1))
    echo "ok   $name: $(grep 'imvar: error:' stderr.txt)"
  else
    fail=$((fail + 1))
    echo "FAIL $name: $why"
    sed 's/^/     | /' stderr.txt
  fi
}


# --- market CSV (import runs its work on rank 0) -----------------------------
good=$src/data/market/btc_usdt_binance_daily.csv
csv() { printf "$2" >"$1"; }
csv unsorted.csv 'date,close\n2024-01-02,10\n2024-01-01,11\n'
csv dup.csv 'date,close\n2024-01-01,10\n2024-01-02,11\n2024-01-02,12\n'
csv zero.csv 'date,close\n2024-01-01,10\n2024-01-02,0\n'
csv neg.csv 'date,close\n2024-01-01,-5\n'
csv text.csv 'date,close\n2024-01-01,abc\n'
csv nan.csv 'date,close\n2024-01-01,NaN\n'
csv inf.csv 'date,close\n2024-01-01,10\n2024-01-02,inf\n'
csv noclose.csv 'date,open\n2024-01-01,10\n'
csv nodate.csv 'day,close\n2024-01-01,10\n'
csv empty.csv ''
csv header.csv 'date,close\n'
csv baddate.csv 'date,close\n2024-13-01,10\n'
csv quote.csv 'date,close\n2024-01-01,"10\n'
csv ragged.csv 'date,close\n2024-01-01,10,3\n'
check import-unsorted 3 "unsorted.csv:3: dates are not sorted" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=unsorted.csv
check import-duplicate 3 "dup.csv:4: duplicate date 2024-01-02" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=dup.csv
check import-zero 3 "zero.csv:3: close 0 is not positive" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=zero.csv
check import-negative 3 "neg.csv:2: close -5 is not positive" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=neg.csv
check import-text 3 "text.csv:2: close 'abc' is not a finite number" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=text.csv
check import-nan 3 "nan.csv:2: close 'NaN'" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=nan.csv
check import-inf 3 "inf.csv:3: close 'inf'" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=inf.csv
check import-no-close 3 "noclose.csv:1: header has no 'close' column" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=noclose.csv
check import-no-date 3 "nodate.csv:1: header has no 'date' or 'timestamp' column" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=nodate.csv
check import-empty 3 "empty.csv: empty file" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=empty.csv
check import-header-only 3 "header.csv: no data rows" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=header.csv
check import-bad-date 3 "baddate.csv:2: '2024-13-01' is not a date" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=baddate.csv
check import-bad-quote 3 "quote.csv" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=quote.csv
check import-ragged 3 "ragged.csv:2: 3 fields, the header has 2" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=ragged.csv
check import-missing 1 "nosuch.csv: cannot open" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 X=nosuch.csv
check import-one-bad-of-two 3 "dup.csv:4" m.h5 -- "${launch[@]}" "$imvar" import -o m.h5 BTC=$good X=dup.csv
check import-unwritable 1 "nodir/m.h5: cannot write there: directory 'nodir' does not exist" nodir/m.h5 -- "${launch[@]}" "$imvar" import -o nodir/m.h5 BTC=$good

# --- backtest: configuration, portfolios, outputs ----------------------------
"$imvar" import -o market.h5 BTC=$good ETH=$src/data/market/eth_usdt_binance_daily.csv >/dev/null
printf 'portfolio,instrument,quantity\np1,BTC-SPOT,1\np2,ETH-PERP,-3\n' >ports.csv
cfg() { # cfg FILE [extra yaml lines]
  local f=$1
  shift
  { echo "market: market.h5"; echo "portfolios: ${PORTS:-ports.csv}"; echo "output: r.h5"
    echo "models:"; echo "  m1:"; echo "    kind: hs"; echo "    window: ${WINDOW:-100}"
    echo "    confidence: ${CONF:-0.99}"; for l in "$@"; do echo "$l"; done; } >"$f"
}
cfg ok.yaml
cfg unknown.yaml "colour: blue"
check bt-unknown-key 3 "unknown.yaml:9: unknown key 'colour'" r.h5 -- "${launch[@]}" "$imvar" backtest -c unknown.yaml
cfg modelkey.yaml "    gamma: 0.94"
check bt-unknown-model-key 3 "modelkey.yaml:9: unknown key 'models.m1.gamma'" r.h5 -- "${launch[@]}" "$imvar" backtest -c modelkey.yaml
cfg lambdahs.yaml "    lambda: 0.94"
check bt-param-of-other-kind 3 "lambdahs.yaml:9: models.m1.lambda: kind hs takes no lambda" r.h5 -- "${launch[@]}" "$imvar" backtest -c lambdahs.yaml
check bt-nu-too-small 3 "models.m1.nu: 2; the t needs nu > 2" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set models.m1.kind=ewma_t --set models.m1.nu=2
check bt-unknown-set 3 "--set models.m1.colour=red: unknown key 'models.m1.colour'" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set models.m1.colour=red
CONF=1.5 cfg conf.yaml
check bt-confidence-high 3 "conf.yaml:8: models.m1.confidence: '1.5' is not a number strictly between 0 and 1" r.h5 -- "${launch[@]}" "$imvar" backtest -c conf.yaml
check bt-confidence-zero 3 "--set models.m1.confidence=0: models.m1.confidence" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set models.m1.confidence=0
WINDOW=5000 cfg window.yaml
check bt-window-too-long 3 "window.yaml: models.m1.window: 5000 scenarios of 2-day moves need 5002 days of history" r.h5 -- "${launch[@]}" "$imvar" backtest -c window.yaml
check bt-horizon-text 3 "models.m1.horizon: 'two' is not a whole number" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set models.m1.horizon=two
check bt-kind 3 "unknown model kind 'garch' (known: hs, fhs, ewma_normal, ewma_t, grid, mc_t)" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set models.m1.kind=garch
printf 'market: market.h5\nmodels: [1, 2\n' >syntax.yaml
check bt-yaml-syntax 3 "syntax.yaml:3: YAML error" r.h5 -- "${launch[@]}" "$imvar" backtest -c syntax.yaml
printf 'market: a\nmarket: b\n' >dupkey.yaml
check bt-yaml-duplicate 3 "dupkey.yaml:2: duplicate key 'market'" r.h5 -- "${launch[@]}" "$imvar" backtest -c dupkey.yaml
check bt-config-missing 1 "nosuch.yaml: cannot open" r.h5 -- "${launch[@]}" "$imvar" backtest -c nosuch.yaml
check bt-market-missing 1 "nosuch.h5: market file not found" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set market=nosuch.h5
check bt-market-not-market 3 "ports.csv: not an HDF5 file" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set market=ports.csv
printf 'portfolio,instrument,quantity\np1,BTC-SPOT,1\np2,BTC-FUTURE,1\n' >kind.csv
check bt-portfolio-kind 3 "kind.csv:3: instrument 'BTC-FUTURE': unknown kind 'FUTURE'" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set portfolios=kind.csv
printf 'portfolio,instrument,quantity\np1,XYZ-SPOT,1\n' >und.csv
check bt-portfolio-underlying 3 "und.csv:2: instrument 'XYZ-SPOT': underlying 'XYZ' is not in the market file" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set portfolios=und.csv
printf 'portfolio,instrument,quantity\np1,BTC-SPOT,lots\n' >qty.csv
check bt-portfolio-quantity 3 "qty.csv:2: quantity 'lots' is not a finite number" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set portfolios=qty.csv
printf 'portfolio,instrument,qty\np1,BTC-SPOT,1\n' >cols.csv
check bt-portfolio-columns 3 "cols.csv:1: header has no 'quantity' column" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set portfolios=cols.csv
check bt-portfolio-missing 1 "nosuch.csv: cannot open" r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml --set portfolios=nosuch.csv
check bt-output-unwritable 1 "nodir/r.h5: cannot write there: directory 'nodir' does not exist" nodir/r.h5 -- "${launch[@]}" "$imvar" backtest -c ok.yaml -o nodir/r.h5
check validate-not-results 3 "not an imvar results file" nothing -- "${launch[@]}" "$imvar" validate market.h5
check validate-missing 1 "nosuch.h5: cannot open" nothing -- "${launch[@]}" "$imvar" validate nosuch.h5

# --- stats: a user's series --------------------------------------------------
printf 'date,pnl\nd1,1\n' >nomargin.csv
printf 'date,value\nd1,1\n' >nocols.csv
printf 'pnl,margin\n-1,2\n3,-2\n' >negmargin.csv
printf 'pnl,margin\nabc,2\n' >badpnl.csv
printf 'hit\n0\n2\n' >badhit.csv
check stats-no-margin 3 "nomargin.csv:1: header has 'pnl' but no 'margin' column" nothing -- "${launch[@]}" "$imvar" stats nomargin.csv -c 0.99
check stats-no-columns 3 "nocols.csv:1: header needs 'pnl' and 'margin' columns, or a 'hit' column" nothing -- "${launch[@]}" "$imvar" stats nocols.csv -c 0.99
check stats-negative-margin 3 "negmargin.csv:3: margin '-2' is not a finite number >= 0" nothing -- "${launch[@]}" "$imvar" stats negmargin.csv -c 0.99
check stats-bad-pnl 3 "badpnl.csv:2: pnl 'abc' is not a finite number" nothing -- "${launch[@]}" "$imvar" stats badpnl.csv -c 0.99
check stats-bad-hit 3 "badhit.csv:3: hit '2' is not 0 or 1" nothing -- "${launch[@]}" "$imvar" stats badhit.csv -c 0.99
check stats-missing 1 "nosuch.csv: cannot open" nothing -- "${launch[@]}" "$imvar" stats nosuch.csv -c 0.99

# The good configuration works, so the failures above are the inputs' doing.
if timeout 60 "${launch[@]}" "$imvar" backtest -q -c ok.yaml >/dev/null 2>&1 && [ -s r.h5 ]; then
  pass=$((pass + 1)); echo "ok   bt-good-config: exit 0 and r.h5 written"
else
  fail=$((fail + 1)); echo "FAIL bt-good-config"
fi
echo "bad inputs at $np rank(s): $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
