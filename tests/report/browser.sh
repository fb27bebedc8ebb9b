#!/usr/bin/env bash
# imvar report, end to end in a real browser: a small results file made with
# the built imvar from the shipped data (plus one portfolio whose id is full of
# markup), the report rendered by headless Chromium (screenshot, DOM dump,
# console log, a layout probe), and every number shown compared with
# 'imvar validate --json' of the same file (check_report.py).
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

# --- the report ----------------------------------------------------------------
start=$(date +%s.%N)
if "$imvar" report small.h5 -o r/report.html --portfolios "$evil" >report.log 2>&1; then
  ok "imvar report: $(head -1 report.log)"
else
  cat report.log; bad "imvar report failed"; finish
fi
end=$(date +%s.%N)
for f in report.html summary.json summary_models.csv summary_portfolios.csv; do
  [ -s "r/$f" ] && ok "wrote $f ($(stat -c %s "r/$f") bytes)" || bad "r/$f missing"
done
ls r | grep -q tmp && bad "temporary file left: $(ls r)" || ok "no temporary file left"

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
 r.figs.push({kind:f.dataset.chart,w:b?b.width:0,h:b?b.height:0,paths:s?s.querySelectorAll('path').length:0});});
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
