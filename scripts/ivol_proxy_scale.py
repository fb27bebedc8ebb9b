#!/usr/bin/env python3
"""The scale of the implied-vol proxy (ivol_proxy: ewma): the ratio of the mean
Deribit DVOL to the mean EWMA(0.94) realised volatility annualised with
sqrt(365), over the days where both exist, for BTC and ETH (shipped data).

The realised volatility is the one src/core/model.c computes (ewma_vol): on
the gapless daily calendar, r_k = ln(c_k / c_{k-1}) (undefined next to a
missing close), the variance started as the mean square of the first 30
returns, then var = 0.94 var + 0.06 r^2 (an undefined r leaves it), and the
volatility at day k uses returns of days <= k only.

Usage: python3 scripts/ivol_proxy_scale.py [data/market]"""
import csv, datetime, math, sys

d = sys.argv[1] if len(sys.argv) > 1 else "data/market"


def series(path, col="close"):
    with open(path, newline="") as f:
        return {datetime.date.fromisoformat(r["date"]): float(r[col]) for r in csv.DictReader(f)}


def ewma_vol(close, lam=0.94, burn=30):
    days = sorted(close)
    out, var, s, seen = {}, math.nan, 0.0, 0
    day, prev = days[0], None
    while day <= days[-1]:
        c = close.get(day)
        r = math.log(c / prev) if (c is not None and prev is not None) else math.nan
        if not math.isnan(r):
            if seen < burn:
                s += r * r
                seen += 1
                if seen == burn:
                    var = s / burn
            else:
                var = lam * var + (1 - lam) * r * r
        out[day] = math.sqrt(var) * math.sqrt(365) if not math.isnan(var) else math.nan
        prev = c
        day += datetime.timedelta(days=1)
    return out


tot_iv = tot_rv = 0.0
tot_n = 0
for u in ("btc", "eth"):
    rv = ewma_vol(series(f"{d}/{u}_usdt_binance_daily.csv"))
    iv = series(f"{d}/{u}_dvol_daily.csv")
    both = [k for k in iv if k in rv and not math.isnan(rv[k])]
    miv = sum(iv[k] / 100 for k in both) / len(both)
    mrv = sum(rv[k] for k in both) / len(both)
    print(f"{u.upper()}: {len(both)} days {min(both)}..{max(both)}: mean DVOL {miv:.4f}, "
          f"mean EWMA realised {mrv:.4f}, ratio {miv / mrv:.4f}")
    tot_iv += sum(iv[k] / 100 for k in both)
    tot_rv += sum(rv[k] for k in both)
    tot_n += len(both)
print(f"BTC and ETH pooled: {tot_n} days, ratio {tot_iv / tot_rv:.4f}")
