#!/usr/bin/env bash
# imvar stats on constructed series: the JSON contract (every required key,
# null never NaN/Inf text, zones as names), the edge cases where popular tools
# fail, a published example, and hit input agreeing with pnl/margin input.
# usage: stats_cli.sh IMVAR WORKDIR
set -uo pipefail
imvar=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
keys="n_obs n_exceed expected n00 n01 n10 n11 first_failure lr_uc p_uc lr_ind p_ind lr_cc p_cc
lr_tuff p_tuff lr_tbfi p_tbfi lr_tbf p_tbf dur_b dur_lr dur_p dq_stat dq_p bin_z bin_p
tl_cumprob tl_zone largest_exceedance mean_loss_to_margin
p_uc_sim p_ind_sim p_cc_sim p_tuff_sim p_tbfi_sim p_tbf_sim dur_p_sim dq_hits_p_sim bin_p_sim
es_z1 es_z1_p_sim es_z2 es_z2_p_sim de_u de_u_p de_u_p_sim de_c de_c_p de_c_p_sim de_c_lags
cc_es_zone es_severity_expected es_severity_observed qs_mean fz0_mean measure battery_series"
es_keys="es_z1 es_z2 es_severity_expected es_severity_observed fz0_mean"
de_keys="de_u de_u_p de_u_p_sim de_c de_c_p de_c_p_sim de_c_lags cc_es_zone"
# value KEY FILE: the JSON value of a top-level key (objects are one line).
value() { grep -o "\"$1\": [^,}]*" "$2" | head -1 | sed 's/.*: //'; }

# hits N LIST: a hit CSV of N days with exceedances on the listed 1-based days.
hits() { awk -v n="$1" -v l="$2" 'BEGIN{split(l,a," "); for(i in a) h[a[i]]=1; print "hit";
  for(i=1;i<=n;i++) print (i in h)?1:0}'; }
hits 1000 "" >zero.csv
awk 'BEGIN{print "hit"; for(i=0;i<300;i++) print 1}' >all.csv
hits 1000 "1" >first.csv
hits 1000 "1000" >last.csv
hits 1000 "250 700" >two.csv
awk 'BEGIN{print "hit"; for(i=0;i<2000;i++) print (i%4==0)?1:0}' >many.csv
for f in zero all first last two many; do
  rc=0
  "$imvar" stats $f.csv --confidence 0.99 --json >$f.json 2>$f.err || rc=$?
  miss=""
  for k in $keys; do grep -q "\"$k\": " $f.json || miss="$miss $k"; done
  if [ "$rc" != 0 ] || [ -n "$miss" ] || grep -qiE 'nan|inf' $f.json; then
    bad "$f: rc=$rc missing:$miss $(grep -oiE '"[a-z_0-9]*": -?(nan|inf)' $f.json | head -3)"
  elif [ "$(value lr_uc $f.json)" = null ] || [ "$(value p_uc $f.json)" = null ] ||
       [ "$(value tl_cumprob $f.json)" = null ]; then
    bad "$f: a defined statistic (lr_uc, p_uc or tl_cumprob) is null"
  else
    ok "$f: all keys, finite or null, lr_uc=$(value lr_uc $f.json) zone=$(value tl_zone $f.json)"
  fi
done
# Kupiec with no exceedance in 1000 days at 99%: -2*1000*ln(0.99) = 20.1007 (bc -l).
awk -v v="$(value lr_uc zero.json)" 'BEGIN{exit !(v > 20.1006 && v < 20.1008)}' &&
  ok "zero exceedances: lr_uc = -2000 ln 0.99 = 20.1007" || bad "zero: lr_uc $(value lr_uc zero.json)"
[ "$(value tl_zone many.json)" = '"red"' ] && ok "500 of 2000 at 99%: red" || bad "many: zone"

# MATLAB varbacktest documentation example at 95%, 1043 days: N00=932, N01=53,
# N10=53, N11=4; MathWorks publishes LRatioPOF 0.46147, LRatioCCI 0.25866,
# LRatioCC 0.72013. Series: 53 runs of exceedances (4 of length 2) between
# zero runs of 18 days, 32 zeros at the end.
awk 'BEGIN{print "hit"; for(r=0;r<53;r++){for(i=0;i<18;i++)print 0; print 1; if(r<4)print 1}
  for(i=0;i<32;i++)print 0}' >matlab.csv
"$imvar" stats matlab.csv --confidence 0.95 --json >matlab.json
close() { awk -v a="$(value "$1" matlab.json)" -v b="$2" 'BEGIN{d=a-b; exit !(d<5e-5 && d>-5e-5)}'; }
if [ "$(value n00 matlab.json)/$(value n01 matlab.json)/$(value n10 matlab.json)/$(value n11 matlab.json)" = 932/53/53/4 ] &&
   close lr_uc 0.46147 && close lr_ind 0.25866 && close lr_cc 0.72013; then
  ok "MATLAB example: counts 932/53/53/4, LR pof/cci/cc = 0.46147/0.25866/0.72013"
else
  bad "MATLAB example: $(value n00 matlab.json)/$(value n01 matlab.json)/$(value n10 matlab.json)/$(value n11 matlab.json) $(value lr_uc matlab.json) $(value lr_ind matlab.json) $(value lr_cc matlab.json)"
fi

# pnl/margin input and the equivalent hit input agree on every hit statistic.
awk 'BEGIN{print "date,pnl,margin"; s=7; for(i=0;i<800;i++){s=(s*1103515245+12345)%2147483648;
  x=(s/2147483648-0.5)*6; printf "d%d,%.6f,%.3f\n", i, x, 2.9}}' >pm.csv
awk -F, 'NR==1{print "hit"; next} {print (-$2 > $3) ? 1 : 0}' pm.csv >pm_hit.csv
"$imvar" stats pm.csv -c 0.975 --json >pm.json
"$imvar" stats pm_hit.csv -c 0.975 --json >pm_hit.json
same=1
for k in n_exceed n00 n01 n10 n11 lr_uc lr_ind lr_tuff lr_tbfi dur_lr tl_cumprob; do
  [ "$(value $k pm.json)" = "$(value $k pm_hit.json)" ] || { same=0; echo "     $k differs"; }
done
[ $same = 1 ] && [ "$(value largest_exceedance pm.json)" != null ] &&
  [ "$(value largest_exceedance pm_hit.json)" = null ] &&
  ok "pnl/margin and hit input agree; magnitudes only with pnl/margin" || bad "pnl/margin vs hit"

# Overlapping horizons: sub-samples and simulated bounds, reproducible by seed.
"$imvar" stats pm.csv -c 0.975 --horizon 3 --json >h3a.json
"$imvar" stats pm.csv -c 0.975 --horizon 3 --json >h3b.json
if cmp -s h3a.json h3b.json && [ "$(grep -o '"k": ' h3a.json | wc -l)" = 3 ] &&
   [ "$(value overlap_green_max h3a.json)" -gt 0 ]; then
  ok "horizon 3: 3 sub-samples, bounds green<=$(value overlap_green_max h3a.json) yellow<=$(value overlap_yellow_max h3a.json), same bytes twice"
else
  bad "horizon 3"
fi

# ES tests on a real-shaped ES margin series (stats_es_data.py: a normal model
# on BTC daily returns), against the independent computation of
# stats_es_check.py to 1e-9; the committed CSV is what the script makes.
python3 "$here/stats_es_data.py" "$here/../../data/market/btc_usdt_binance_daily.csv" es_made.csv &&
  cmp -s es_made.csv "$here/stats_es.csv" && ok "stats_es.csv is what stats_es_data.py makes" ||
  bad "stats_es.csv differs from stats_es_data.py's output"
cp "$here/stats_es.csv" es.csv
for m in es var; do
  r=""
  "$imvar" stats es.csv -c 0.975 --measure $m --dist normal --json >es_$m.json 2>es_$m.err &&
    r=$(python3 "$here/stats_es_check.py" es.csv es_$m.json 0.025 $m) &&
    [ "$(value battery_series es_$m.json)" = "$([ $m = es ] && echo '"var"' || echo '"margin"')" ] &&
    ok "measure $m: $r" || bad "measure $m: $r $(cat es_$m.err)"
done
# Simulated p-values: all there with --dist, the same bytes twice, Z's null without --dist.
"$imvar" stats es.csv -c 0.975 --measure es --dist t:5 --json >es_t5a.json
"$imvar" stats es.csv -c 0.975 --measure es --dist t:5 --json >es_t5b.json
"$imvar" stats es.csv -c 0.975 --measure es --json >es_nodist.json
nulls=""
for k in $(echo "$keys" | tr ' ' '\n' | grep '_sim$'); do
  [ "$(value $k es_t5a.json)" = null ] && nulls="$nulls $k"
done
if [ -z "$nulls" ] && cmp -s es_t5a.json es_t5b.json && [ "$(value dist es_t5a.json)" = '"t:5"' ] &&
   [ "$(value es_z1_p_sim es_nodist.json)" = null ] && [ "$(value es_z2_p_sim es_nodist.json)" = null ] &&
   [ "$(value es_z1 es_nodist.json)" = "$(value es_z1 es_t5a.json)" ]; then
  ok "p_sim: all defined with --dist t:5 (es_z1_p_sim=$(value es_z1_p_sim es_t5a.json)), same bytes twice, Z p-values null without --dist"
else
  bad "p_sim: null:$nulls; twice same: $(cmp -s es_t5a.json es_t5b.json && echo yes || echo no)"
fi
# Horizon 2: the ES tests on each non-overlapping sub-sample (rows k, k+2, ...)
# are those of that sub-series, checked the same way.
"$imvar" stats es.csv -c 0.975 --measure es -H 2 --sims 0 --json >es_h2.json
for k in 0 1; do
  awk -v k=$k 'NR == 1 || (NR - 2) % 2 == k' es.csv >es_h2_$k.csv
  python3 -c "import json; print(json.dumps(json.load(open('es_h2.json'))['subsamples'][$k]))" \
    >es_h2_$k.json 2>/dev/null
  r=$(python3 "$here/stats_es_check.py" es_h2_$k.csv es_h2_$k.json 0.025 es) &&
    ok "horizon 2, sub-sample $k: $r" || bad "horizon 2, sub-sample $k: $r"
done
# Keys whose inputs are missing are null: no var/es/pit (QS from the margin),
# pit alone, var and es without pit.
cut -d, -f1-3 es.csv >es_pm.csv
cut -d, -f1-3,6 es.csv >es_pit.csv
cut -d, -f1-5 es.csv >es_vares.csv
for f in es_pm es_pit es_vares; do "$imvar" stats $f.csv -c 0.975 --json >$f.json; done
isnull() { for k in $2; do [ "$(value $k $1)" = null ] || return 1; done; }
notnull() { for k in $2; do [ "$(value $k $1)" != null ] || return 1; done; }
if isnull es_pm.json "$es_keys $de_keys es_z1_p_sim" && notnull es_pm.json "qs_mean p_uc_sim" &&
   isnull es_pit.json "$es_keys" && notnull es_pit.json "$de_keys qs_mean" &&
   isnull es_vares.json "$de_keys es_z1_p_sim" && notnull es_vares.json "$es_keys qs_mean"; then
  ok "missing columns give null keys (pnl/margin, +pit, +var/es)"
else
  bad "null keys with missing columns"
fi

echo "stats cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
