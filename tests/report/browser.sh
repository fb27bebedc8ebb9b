#!/usr/bin/env bash
# imvar report, end to end in a real browser: a small results file made with
# the built imvar from the shipped data (plus one portfolio whose id is full of
# markup) and a small calibration file (imvar calibrate), the report with
# --calibration rendered by headless Chromium (screenshot, DOM dump, console
# log, a layout probe), and every number shown compared with 'imvar validate
# --json' of the results file and h5dump of the calibration file
# (check_report.py); a report without --calibration says it has none.
# usage: browser.sh IMVAR SOURCE_DIR WORKDIR
set -uo pipefail
imvar=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work/r" && cd "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

chromium=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$chromium" ]; then
  bad "chromium not found (Debian package chromium; scripts/deps.sh installs it)"
  finish
fi

# --- a small results file ------------------------------------------------------
args=()
for u in BTC ETH SOL BNB XRP ADA DOGE; do args+=("$u=$src/data/market/${u,,}_usdt_binance_daily.csv"); done
"$imvar" import -o market.h5 "${args[@]}" >import.log 2>&1 || { cat import.log; bad "import"; finish; }
cp "$src/data/portfolios/curated.csv" ports.csv
evil="<i>evil</i> & \"q'"
printf '"<i>evil</i> & ""q'"'"'",BTC-SPOT,1\n' >>ports.csv
"$imvar" backtest -q -c "$src/tests/report/small.yaml" --set market=market.h5 --set portfolios=ports.csv \
  -o small.h5 >backtest.log 2>&1 || { cat backtest.log; bad "backtest"; finish; }
"$imvar" validate small.h5 --json >r/validate.json 2>validate.err || { cat validate.err; bad "validate --json"; finish; }
# the total-margin adequacy the report must show (the layered model)
h5dump -m %.17g -d /models/apc_h1/summary_total small.h5 >r/total_apc_h1.txt || bad "h5dump summary_total"

# --- a small calibration file (8 sets, a calibration and a test period; with a
# pass share of 0.8 one set is recommended, and it fails in the test period) ---------
cat >cal.yaml <<YAML
market: market.h5
portfolios: $src/data/portfolios/btc_eth.csv
seed: 3
start: 2021-01-01
end: 2023-12-31
calibrate:
  name: im
  grid:
    kind: [hs, fhs]
    confidence: [0.975, 0.99]
    horizon: [1]
    window: [250, 500]
    lambda: [0.94]
  calibration: {start: 2021-06-01, end: 2022-12-31}
  tests:
    y2023: {start: 2023-01-01}
  criteria: {coverage: 0.99, pass_share: 0.8}
YAML
"$imvar" calibrate -q -c cal.yaml -o cal.h5 >calibrate.log 2>&1 || { cat calibrate.log; bad "calibrate"; finish; }
# the same grid with the default pass share (0.95): no set is eligible
sed 's/pass_share: 0.8/pass_share: 0.95/' cal.yaml >calnone.yaml
"$imvar" calibrate -q -c calnone.yaml -o calnone.h5 >calnone.log 2>&1 || { cat calnone.log; bad "calibrate (none eligible)"; finish; }
# the numbers the report must show, as h5dump prints them (%.17g: exact)
for o in metrics sets periods sensitivity ranking pareto; do
  h5dump -m %.17g -d /$o cal.h5 >r/cal_$o.txt || bad "h5dump /$o"
done
for a in recommended criteria_coverage criteria_zone criteria_test_level criteria_pass_share; do
  h5dump -m %.17g -a /$a cal.h5 >r/cal_attr_$a.txt || bad "h5dump -a /$a"
done

# --- the report ----------------------------------------------------------------
start=$(date +%s.%N)
if "$imvar" report small.h5 -o r/report.html --portfolios "$evil" --calibration cal.h5 >report.log 2>&1; then
  ok "imvar report: $(head -1 report.log)"
else
  cat report.log; bad "imvar report failed"; finish
fi
end=$(date +%s.%N)
for f in report.html summary.json summary_models.csv summary_portfolios.csv summary_calibration.csv; do
  [ -s "r/$f" ] && ok "wrote $f ($(stat -c %s "r/$f") bytes)" || bad "r/$f missing"
done
ls r | grep -q tmp && bad "temporary file left: $(ls r)" || ok "no temporary file left"
grep -q "^calibration cal.h5: recommended " report.log && ok "imvar report: $(grep '^calibration' report.log)" ||
  bad "report.log does not name the recommended set: $(cat report.log)"

# --- no set eligible: "none eligible" and the nearest (the best-ranked) -------------
mkdir -p rn
if "$imvar" report small.h5 -o rn/report.html --calibration calnone.h5 >reportn.log 2>&1; then
  first=$(h5dump -d /ranking -s 0 -c 1 calnone.h5 | grep -o '(0): [0-9]*' | grep -o '[0-9]*$')
  rec=$(h5dump -a /recommended calnone.h5 | grep -o '(0): -*[0-9]*' | grep -o -- '-*[0-9]*$')
  [ "$rec" = -1 ] && grep -q 'data-recommended="none"><span class="badge v-fail">none eligible</span>' rn/report.html &&
    grep -q "<tr data-cal=\"ref\" data-set=\"$first\" data-period=\"0\">" rn/report.html &&
    python3 -c 'import json,sys; c=json.load(open("rn/summary.json"))["calibration"]; sys.exit(not (c["recommended"] is None and c["reference"]["set"] == int(sys.argv[1]) and c["reference"]["role"] == "nearest"))' "$first" &&
    grep -q "none eligible; nearest .* (set $first)" reportn.log &&
    ok "no set eligible (recommended $rec): the report says none eligible and shows the nearest, set $first (/ranking[0])" ||
    bad "the report of a calibration with no eligible set (recommended '$rec', ranking[0] '$first')"
else
  cat reportn.log; bad "imvar report --calibration calnone.h5"
fi

# --- without --calibration: the section says so, summary.json has null -------------
mkdir -p r0
if "$imvar" report small.h5 -o r0/report.html >report0.log 2>&1; then
  grep -q '<section id="calibration"><h2>Calibration</h2>' r0/report.html &&
    grep -q 'data-calibration="none">No calibration file was given' r0/report.html &&
    grep -q 'imvar calibrate -c calibrate.yaml' r0/report.html &&
    python3 -c 'import json,sys; sys.exit(json.load(open("r0/summary.json"))["calibration"] is not None)' &&
    [ ! -e r0/summary_calibration.csv ] && ! grep -q 'calibration-pareto' r0/report.html &&
    ok "without --calibration: a short section says none was given and how to make one; summary.json calibration null; no summary_calibration.csv" ||
    bad "the report without --calibration"
else
  cat report0.log; bad "imvar report without --calibration"
fi

# --- Chromium: screenshot, DOM, console, layout probe --------------------------
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --window-size=1280,2000)
chrome() { # chrome NAME args...: a fresh profile each time, bounded in time
  local name=$1; shift
  timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$work/profile-$name" "$@"
}
url="file://$work/r/report.html"
chrome shot --screenshot="$work/r/shot.png" "$url" >chrome-shot.log 2>&1 &&
  [ -s r/shot.png ] && ok "Chromium took a screenshot: r/shot.png" || { cat chrome-shot.log; bad "screenshot"; }
chrome dom --enable-logging=stderr --v=0 --dump-dom "$url" >r/report.dom 2>r/report.console &&
  [ -s r/report.dom ] && ok "Chromium dumped the DOM ($(stat -c %s r/report.dom) bytes)" || { tail r/report.console; bad "dump-dom"; }
# The probe runs on a copy: the report's Content-Security-Policy forbids scripts.
python3 - "$work/r/report.html" "$work/r/probe.html" <<'EOF'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
s = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", s, count=1)
probe = """<script>(function(){var r={figs:[],imgs:[]};
document.querySelectorAll('figure.chart').forEach(function(f){var s=f.querySelector('svg');
 var b=s?s.getBoundingClientRect():null;
 r.figs.push({kind:f.dataset.chart,svg:s?1:0,w:b?b.width:0,h:b?b.height:0,paths:s?s.querySelectorAll('path').length:0});});
document.querySelectorAll('img').forEach(function(i){r.imgs.push({src:i.src,ok:i.complete&&i.naturalWidth>0});});
var p=document.createElement('pre');p.id='imvar-probe';p.textContent=JSON.stringify(r);document.body.appendChild(p);})();
</script>"""
open(sys.argv[2], "w", encoding="utf-8").write(s.replace("</body>", probe + "</body>"))
EOF
chrome probe --dump-dom "file://$work/r/probe.html" >probe.dom 2>probe.err
python3 - probe.dom r/probe.json <<'EOF'
import html, re, sys
m = re.search(r'<pre id="imvar-probe">(.*?)</pre>', open(sys.argv[1], encoding="utf-8").read(), re.S)
open(sys.argv[2], "w").write(html.unescape(m.group(1)) if m else '{"figs": [], "imgs": []}')
EOF
[ -s r/probe.json ] && grep -q '"figs":\[{' r/probe.json && ok "layout probe ran in Chromium" || bad "layout probe"

# --- the checks ------------------------------------------------------------------
python3 "$src/tests/report/check_report.py" r "$evil" >check.log 2>&1
cat check.log
pass=$((pass + $(grep -c '^ok ' check.log)))
fail=$((fail + $(grep -c '^FAIL ' check.log)))
grep -q Traceback check.log && bad "check_report.py crashed"
awk -v s="$start" -v e="$end" 'BEGIN { printf "report of %s took %.2f s\n", "small.h5", e - s }'
finish
