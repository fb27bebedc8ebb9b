#!/usr/bin/env python3
"""Independent check of imvar stats' ES keys (issue 14 definitions), standard
library only: recomputes from the CSV Z1, Z2, the severity ratios,
Du-Escanciano U (and its p-value) and C(5) (chi2_5 p-value), the
Costanzino-Curran zone, the mean quantile score and the mean FZ0 score, and
the VaR battery's counts on the series --measure picks (margin or var), and
compares them with the JSON to 1e-9 (relative above 1).
A day with an empty cell in pnl, margin, var, es or pit is not observed.
usage: stats_es_check.py CSV JSON A MEASURE   (prints one line, exit 1 on a mismatch)
"""
import csv
import json
import math
import sys

LAGS = 5


def chi2_sf(x, k):
    """P(chi2_k > x) for odd k: Q(1) = erfc(sqrt(x/2)), Q(k+2) = Q(k) + (x/2)^(k/2) e^(-x/2) / Gamma(k/2+1)."""
    q = math.erfc(math.sqrt(x / 2))
    for j in range(1, k, 2):
        q += (x / 2) ** (j / 2) * math.exp(-x / 2) / math.gamma(j / 2 + 1)
    return q


def expected(rows, a, measure):
    loss = [-r["pnl"] for r in rows]
    var = [r["var"] for r in rows]
    es = [r["es"] for r in rows]
    n = len(rows)
    fail = [t for t in range(n) if loss[t] > var[t]]
    e = {"es_n_obs": n, "es_n_fail": len(fail)}
    e["es_z1"] = 1 - sum(loss[t] / es[t] for t in fail) / len(fail)
    e["es_z2"] = 1 - sum(loss[t] / (n * a * es[t]) for t in fail)
    sev = [t for t in fail if var[t] > 0]
    e["es_severity_expected"] = sum(es[t] / var[t] for t in sev) / len(sev)
    e["es_severity_observed"] = sum(loss[t] / var[t] for t in sev) / len(sev)
    h = [(1 - r["pit"] / a) if r["pit"] <= a else 0.0 for r in rows]
    u = math.sqrt(n) * (sum(h) / n - a / 2) / math.sqrt(a * (4 - 3 * a) / 12)
    e["de_u"], e["de_u_p"] = u, math.erfc(abs(u) / math.sqrt(2))
    phi_u = 0.5 * math.erfc(-u / math.sqrt(2))
    e["cc_es_zone"] = "green" if phi_u <= 0.95 else "yellow" if phi_u <= 0.9999 else "red"
    d = [x - a / 2 for x in h]
    gamma = [sum(d[t] * d[t - j] for t in range(j, n)) / (n - j) for j in range(LAGS + 1)]
    e["de_c"] = n * sum((gamma[j] / gamma[0]) ** 2 for j in range(1, LAGS + 1))
    e["de_c_p"] = chi2_sf(e["de_c"], LAGS)
    e["de_c_lags"] = LAGS
    e["qs_mean"] = sum((a - (loss[t] > var[t])) * (var[t] - loss[t]) for t in range(n)) / n
    fz0 = 0.0
    for t, r in enumerate(rows):
        v, ee, y = -var[t], -es[t], r["pnl"]
        fz0 += -(1 / (a * ee)) * (y <= v) * (v - y) + v / ee + math.log(-ee) - 1
    e["fz0_mean"] = fz0 / n
    side = var if measure == "es" else [r["margin"] for r in rows]
    e["n_obs"] = n
    e["n_exceed"] = sum(loss[t] > side[t] for t in range(n))
    return e


def main(path, out, a, measure):
    cols = ("pnl", "margin", "var", "es", "pit")
    with open(path, newline="") as f:
        rows = [{k: float(r[k]) for k in cols} for r in csv.DictReader(f) if all(r[k] for k in cols)]
    with open(out) as f:
        got = json.load(f)
    bad = []
    for k, want in expected(rows, float(a), measure).items():
        g = got.get(k)
        if isinstance(want, float):
            ok = isinstance(g, (int, float)) and abs(g - want) <= 1e-9 * max(1.0, abs(want))
        else:  # counts and the zone name: exactly
            ok = g == want
        if not ok:
            bad.append("%s %r != %r" % (k, g, want))
    if bad:
        print("mismatch: " + "; ".join(bad))
        return 1
    print("Z1=%.6f Z2=%.6f U=%.4f C(5)=%.4f QS=%.6f FZ0=%.6f sev=%.4f/%.4f exceed=%d agree to 1e-9" % (
        got["es_z1"], got["es_z2"], got["de_u"], got["de_c"], got["qs_mean"], got["fz0_mean"],
        got["es_severity_expected"], got["es_severity_observed"], got["n_exceed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
