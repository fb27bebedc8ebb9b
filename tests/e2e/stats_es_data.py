#!/usr/bin/env python3
"""Writes stats_es.csv for stats_cli.sh: a real-shaped ES margin series.

P&L of a long position of 100 (USDT) in BTC: pnl_t = 100 (close_t/close_{t-1} - 1)
on Binance daily closes (data/market/btc_usdt_binance_daily.csv), days
2022-01-01 .. 2023-06-30. Model: normal with mean 0 and sigma_t the sample
standard deviation of the 250 previous daily P&Ls; at a = 0.025 (97.5%):
var = sigma z, z = Phi^-1(0.975); es = sigma phi(z)/a; pit = Phi(pnl/sigma);
margin = es (an ES margin). Two days have an empty cell (not observed).
Standard library only.
usage: stats_es_data.py MARKET_CSV OUT_CSV
"""
import csv
import math
import statistics
import sys

A = 0.025
WINDOW = 250
FIRST, LAST = "2022-01-01", "2023-06-30"
BLANK = {"2022-03-15": "var", "2022-11-09": "pit"}  # cells left empty


def main(market, out):
    with open(market, newline="") as f:
        rows = [(r["date"], float(r["close"])) for r in csv.DictReader(f)]
    pnl = [(rows[i][0], 100 * (rows[i][1] / rows[i - 1][1] - 1)) for i in range(1, len(rows))]
    nd = statistics.NormalDist()
    z = nd.inv_cdf(1 - A)
    with open(out, "w") as f:
        f.write("date,pnl,margin,var,es,pit\n")
        for t in range(WINDOW, len(pnl)):
            date, y = pnl[t]
            if not FIRST <= date <= LAST:
                continue
            sigma = statistics.stdev(p for _, p in pnl[t - WINDOW:t])
            cell = {"pnl": "%.10g" % y, "var": "%.10g" % (sigma * z),
                    "es": "%.10g" % (sigma * nd.pdf(z) / A), "pit": "%.10g" % nd.cdf(y / sigma)}
            cell["margin"] = cell["es"]
            if date in BLANK:
                cell[BLANK[date]] = ""
            f.write(",".join([date] + [cell[k] for k in ("pnl", "margin", "var", "es", "pit")]) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
