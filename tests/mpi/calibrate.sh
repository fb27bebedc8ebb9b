#!/usr/bin/env bash
# imvar calibrate, end to end on the shipped BTC/ETH data (a small grid):
#  1. the same calibration at 1 and 3 ranks, and as 3 chunks (--chunk I/3 at
#     2 ranks each) merged with --merge: /sets, /periods, /computed, /metrics,
#     /ranking, /pareto and /sensitivity identical (h5diff, exact);
#  2. the recommended configuration loads in imvar backtest and, run over the
#     calibration period, reproduces the reported figures of that set: n_obs,
#     n_exceed, exceedance rate, shares passing Kupiec / CC / the green zone
#     (from imvar validate --json) and the mean margin (from /models/im/im);
#  3. bad calibrate input: a missing chunk, a chunk of another configuration,
#     an unknown grid parameter: a clear error, non-zero exit, no output.
# usage: calibrate.sh IMVAR SOURCE_DIR WORKDIR
set -uo pipefail
imvar=$1 src=$2 work=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' "$2" | head -20; }

d=$src/data/market
"$imvar" import -o market.h5 BTC="$d/btc_usdt_binance_daily.csv" ETH="$d/eth_usdt_binance_daily.csv" \
  >/dev/null || { echo "import failed"; exit 1; }
cat >cal.yaml <<YAML
market: market.h5
portfolios: $src/data/portfolios/btc_eth.csv
seed: 3
start: 2021-01-01
end: 2023-12-31
calibrate:
  name: im
  grid:
    kind: [hs, fhs, ewma_t]
    confidence: [0.975, 0.99, 0.995]
    horizon: [1, 2]
    window: [250, 500]
    lambda: [0.94]
    nu: [4]
  calibration: {start: 2021-06-01, end: 2022-12-31}
  tests:
    y2023: {start: 2023-01-01}
  criteria: {coverage: 0.99}
YAML
objects=(/sets /periods /computed /metrics /ranking /pareto /sensitivity)
same() { # same A B: every object identical
  for o in "${objects[@]}"; do h5diff -q "$1" "$2" "$o" "$o" >/dev/null 2>&1 || { echo "$o differs"; return 1; }; done
}

mpirun -n 1 "$imvar" calibrate -q -c cal.yaml -o np1.h5 >np1.out 2>np1.err || bad "calibrate at 1 rank" np1.err
mpirun -n 3 "$imvar" calibrate -q -c cal.yaml -o np3.h5 >np3.out 2>np3.err || bad "calibrate at 3 ranks" np3.err
n_sets=$(h5dump -H -d /sets np1.h5 | grep -o 'SIMPLE { ( [0-9]*' | grep -o '[0-9]*$')
if why=$(same np1.h5 np3.h5); then ok "1 and 3 ranks: identical calibration files ($n_sets sets)"; else bad "1 vs 3 ranks: $why"; fi
for i in 0 1 2; do
  mpirun -n 2 "$imvar" calibrate -q -c cal.yaml --chunk $i/3 -o chunk$i.h5 >/dev/null 2>chunk$i.err ||
    bad "chunk $i/3" chunk$i.err
done
"$imvar" calibrate -q -c cal.yaml --merge chunk2.h5 chunk0.h5 chunk1.h5 -o merged.h5 >merged.out 2>merged.err ||
  bad "merge" merged.err
if why=$(same np1.h5 merged.h5); then ok "3 chunks merged: identical to the single job"; else bad "merged vs single job: $why"; fi
# The comment lines name the output file; the configuration itself must be the same.
if [ -s np1.h5.recommended.yaml ] && [ -s merged.h5.recommended.yaml ] &&
  diff <(grep -v '^#' np1.h5.recommended.yaml) <(grep -v '^#' merged.h5.recommended.yaml) >/dev/null; then
  ok "merged and single job recommend the same configuration"
else
  bad "recommended configurations missing or different"
fi

# 2. The recommended configuration reproduces the figures.
rec=np1.h5.recommended.yaml
if [ ! -s "$rec" ]; then
  bad "no recommended configuration written" np1.out
else
  idx=$(h5dump -a /recommended np1.h5 | awk '/\(0\)/ {print $2}')
  mpirun -n 2 "$imvar" backtest -q -c "$rec" --set start=2021-06-01 --set end=2022-12-31 -o rep.h5 \
    >/dev/null 2>rep.err || bad "backtest of the recommended configuration" rep.err
  "$imvar" validate rep.h5 --json >rep.json 2>>rep.err
  h5dump -d /metrics -s "$idx,0" -c "1,1" np1.h5 >metrics.txt
  h5dump -y -w 0 -d /models/im/im rep.h5 >im.txt
  h5dump -y -w 0 -d /models/im/exceed rep.h5 >exceed.txt
  h5dump -y -w 0 -d /models/im/validation_subsamples rep.h5 >sub.txt 2>/dev/null
  if python3 - "$idx" <<'PY' >check.out 2>&1; then ok "recommended set $idx reproduced: $(cat check.out)"; else bad "recommended configuration does not reproduce the figures" check.out; fi
import json, re, sys
names = ["n_portfolios", "n_obs", "n_exceed", "expected", "exceed_rate", "coverage", "share_pass_uc",
         "share_pass_cc", "share_zone_ok", "mean_margin", "procyclicality"]
text = open("metrics.txt").read()
data = text[text.index("DATA {"):]
vals = [float(v) for v in re.findall(r"-?[0-9.]+(?:e[-+]?[0-9]+)?|nan|-?inf", data.split("}")[0].split("{", 2)[2])]
cal = dict(zip(names, vals))
s = json.load(open("rep.json"))["models"][0]["summary"]
n = s["n_evaluated"]
def num(path):
    t = open(path).read()
    body = t[t.index("DATA {") + 6:t.rindex("}")]
    return [float(x) for x in re.findall(r"-?[0-9][0-9.e+-]*|nan", body.split("}")[0])]
im, ex = num("im.txt"), num("exceed.txt")
obs = [m for m, e in zip(im, ex) if e >= 0]
# Kupiec and CC p-values: the whole series for h = 1; for h > 1 the
# Bonferroni combination min(1, h min_k p_k) over the h sub-samples of
# /models/im/validation_subsamples ([P][h] rows of 47 fields: p_uc is field 8,
# p_cc field 12, in the order of IM_BT_STATS_FIELDS).
model = json.load(open("rep.json"))["models"][0]
h = model["horizon_days"]
rows = [r for r in model["portfolios"] if r["n_obs"] > 0]
if h == 1:
    puc = [r["p_uc"] for r in rows]
    pcc = [r["p_cc"] for r in rows]
else:
    t = open("sub.txt").read()
    body = t[t.index("DATA {") + 6:]
    f = [float(x) for x in re.findall(r"-?[0-9][0-9.e+-]*|-?nan|-?inf", body)]
    subs = [f[i:i + 47] for i in range(0, len(f) - 46, 47)]
    ports = [subs[i * h:(i + 1) * h] for i in range(len(subs) // h)]
    ports = [sub for sub, r in zip(ports, model["portfolios"]) if r["n_obs"] > 0]
    comb = lambda ps: min(1.0, h * min(p for p in ps if p == p))
    puc = [comb([x[8] for x in sub]) for sub in ports]
    pcc = [comb([x[12] for x in sub]) for sub in ports]
checks = [("n_portfolios", n, cal["n_portfolios"]), ("n_obs", s["n_obs"], cal["n_obs"]),
          ("n_exceed", s["n_exceed"], cal["n_exceed"]),
          ("share_pass_uc", sum(p >= 0.05 for p in puc) / n, cal["share_pass_uc"]),
          ("share_pass_cc", sum(p >= 0.05 for p in pcc) / n, cal["share_pass_cc"]),
          ("share_zone_ok (green)", s["n_green"] / n, cal["share_zone_ok"]),
          ("mean_margin", sum(obs) / len(obs), cal["mean_margin"])]
bad = [c for c in checks if abs(c[1] - c[2]) > 1e-6 * max(1, abs(c[2]))]
for c in bad: print("%s: backtest %r, calibrate %r" % c)
if bad: sys.exit(1)
print("h %d, n_obs %d, n_exceed %d, mean margin %.0f USD, Kupiec pass %.2f, CC pass %.2f" % (
      h, s["n_obs"], s["n_exceed"], cal["mean_margin"], cal["share_pass_uc"], cal["share_pass_cc"]))
PY
fi

# 3. Bad input.
check() { # check NAME PATTERN cmd...: exit 3, the message, no output file
  local name=$1 pattern=$2 rc=0
  shift 2
  "$@" >"$name.out" 2>"$name.err" || rc=$?
  if [ "$rc" = 3 ] && grep -q -- "$pattern" "$name.err" && [ ! -e "$name.h5" ]; then
    ok "$name: exit 3, $(grep -m1 'imvar: error' "$name.err")"
  else
    bad "$name: exit $rc" "$name.err"
  fi
}
check merge-missing "no chunk file holds set" "$imvar" calibrate -q -c cal.yaml --merge chunk0.h5 chunk1.h5 -o merge-missing.h5
check merge-other "written for another configuration" "$imvar" calibrate -q -c cal.yaml --set seed=4 --merge chunk0.h5 chunk1.h5 chunk2.h5 -o merge-other.h5
check grid-unknown "unknown grid parameter 'windw'" "$imvar" calibrate -q -c cal.yaml --set calibrate.grid.windw=5 -o grid-unknown.h5
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
