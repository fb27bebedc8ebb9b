#!/usr/bin/python3
"""Independent reference for the hs model: recomputes margins, realised P&L and
exceedance flags of a small book from the shipped CSVs and compares them with
a results.h5 written by `imvar import` + `imvar backtest`.

usage: hs_reference.py CONFIG.yaml BOOK.csv RESULTS.h5 BTC=prices.csv ETH=prices.csv
                       --funding BTC=funding.csv [--range START END]
(--range: the as-of dates the backtest ran with --set start=START --set end=END)

Nothing of imvar's is used but its output file. The definitions, from DESIGN.md
and the hs description in src/core/model.h/model.c:
  - E_u = sum over spot, linear perpetual and future positions on u of
    quantity x close_u(t) (USD exposure); F_u = the same over perpetuals only
    (they pay funding). A day's funding is 3 x the CSV's funding_rate_mean
    (imvar import --help); f_u(k, h) = the funding of days k-h+1 .. k, unknown
    days 0.
  - Scenario k (the last W days k <= t with the closes of every underlying
    the portfolio holds at k and k-h; on gapless history k = t-W+1 .. t):
    loss_k = -sum_u E_u (S_u(k) / S_u(k-h) - 1) + sum_u F_u f_u(k, h).
  - DESIGN.md "Quantile": sorted L(1) >= L(2) >= ..., m = W (1 - a) (exact,
    in fractions of the confidence as written in the config), VaR = L(floor(m) + 1),
    ES = (L(1) + ... + L(floor m) + (m - floor m) L(floor m + 1)) / m.
  - Realised pnl(t) = sum_u E_u (S_u(t+h) / S_u(t) - 1) - sum_u F_u f_u(t+h, h);
    exceed = 1 if -pnl > im strictly, else 0; -1 (im or pnl NaN) where a
    close is missing at t or t+h (DESIGN.md, "not observed").
im and pnl must agree to a relative 1e-12, exceed exactly.
"""
import csv
import datetime
import math
import sys
from fractions import Fraction

import h5py

REL = 1e-12
NAN = float("nan")
EPOCH = datetime.date(1970, 1, 1)


def day(s):
    return (datetime.date.fromisoformat(s) - EPOCH).days


def read_column(path, column):
    """{days since 1970-01-01: float} from a CSV with a 'date' column."""
    with open(path, newline="") as f:
        return {day(r["date"]): float(r[column]) for r in csv.DictReader(f)}


def read_config(path):
    """start, end and {model: (measure, confidence, horizon, window)} from the
    flat YAML of this directory (one model per line, flow style)."""
    cfg, models = {}, {}
    for line in open(path):
        line = line.split("#")[0].rstrip()
        if line.startswith("  ") and "{" in line:
            name, body = line.strip().split(":", 1)
            kv = dict(p.split(":") for p in body.strip(" {}").split(","))
            kv = {k.strip(): v.strip() for k, v in kv.items()}
            assert kv["kind"] == "hs", line
            models[name] = (kv["measure"], Fraction(kv["confidence"]), int(kv["horizon"]),
                            int(kv["window"]))
        elif ":" in line and not line.startswith(" "):
            k, v = line.split(":", 1)
            cfg[k.strip()] = v.strip()
    return day(cfg["start"]), day(cfg["end"]), models


def read_book(path):
    """{portfolio: [(underlying, kind, quantity)]} in file order."""
    book = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            und, kind = r["instrument"].split("-")
            book.setdefault(r["portfolio"], []).append((und, kind, float(r["quantity"])))
    return book


def exposures(positions, close, t):
    e, fe = {}, {}
    for und, kind, q in positions:
        assert kind in ("SPOT", "PERP"), kind
        e[und] = e.get(und, 0.0) + q * close[und][t]
        if kind == "PERP":
            fe[und] = fe.get(und, 0.0) + q * close[und][t]
    return e, fe


def funding_sum(funding, und, k, h):
    rates = funding.get(und, {})
    return sum(3.0 * rates.get(k - j, 0.0) for j in range(h))


def quantile(losses, measure, conf):
    srt = sorted(losses, reverse=True)
    m = len(srt) * (1 - conf)
    whole = int(m)  # floor: m >= 0
    if measure == "var":
        return srt[whole]
    frac = float(m - whole)
    return (sum(srt[:whole]) + frac * srt[whole]) / float(m)


def scenario_loss(e, fe, close, funding, k, h):
    loss = -sum(x * (close[u][k] / close[u][k - h] - 1.0) for u, x in e.items())
    return loss + sum(x * funding_sum(funding, u, k, h) for u, x in fe.items())


def reference(positions, close, funding, model, t):
    """(im, pnl, exceed) at t: NaN, NaN, -1 where not observed."""
    measure, conf, h, w = model
    unds = {u for u, _, _ in positions}
    im = pnl = NAN
    if all(t in close[u] for u in unds):
        e, fe = exposures(positions, close, t)
        usable = [k for k in range(t, t - 2 * w, -1)
                  if all(k in close[u] and k - h in close[u] for u in unds)][:w]
        if len(usable) == w:
            im = quantile([scenario_loss(e, fe, close, funding, k, h) for k in usable], measure,
                          conf)
        if all(t + h in close[u] for u in unds):
            pnl = sum(x * (close[u][t + h] / close[u][t] - 1.0) for u, x in e.items())
            pnl -= sum(x * funding_sum(funding, u, t + h, h) for u, x in fe.items())
    if math.isnan(im) or math.isnan(pnl):
        return im, pnl, -1
    return im, pnl, 1 if -pnl > im else 0


def near(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= REL * max(abs(a), abs(b))


def as_days(stored):
    """/dates as days since 1970-01-01: DESIGN.md's encoding, or YYYYMMDD
    integers (what results.h5 holds today)."""
    if stored.size and stored[0] > 10**7:
        return [(datetime.date(d // 10000, d // 100 % 100, d % 100) - EPOCH).days
                for d in stored.tolist()]
    return stored.tolist()


def compare(results, start, end, models, book, close, funding):
    problems, checked, exceedances, unobserved = [], 0, 0, 0
    dates = list(range(start, end + 1))
    with h5py.File(results, "r") as f:
        if as_days(f["dates"][...]) != dates:
            problems.append(f"/dates is not {start} .. {end}")
            return problems, checked
        ids = [s.decode().rstrip("\0") for s in f["portfolios/id"][...]]
        if sorted(ids) != sorted(book):
            problems.append(f"portfolios {ids} != book {list(book)}")
            return problems, checked
        for name, model in models.items():
            g = f["models"][name]
            im, pnl, ex = g["im"][...], g["pnl"][...], g["exceed"][...]
            for p, pid in enumerate(ids):
                for j, t in enumerate(dates):
                    r_im, r_pnl, r_ex = reference(book[pid], close, funding, model, t)
                    got = (im[p, j], pnl[p, j], ex[p, j])
                    if not (near(got[0], r_im) and near(got[1], r_pnl) and got[2] == r_ex):
                        problems.append(f"{name} {pid} {EPOCH + datetime.timedelta(t)}: im/pnl/"
                                        f"exceed {got} vs reference ({r_im!r}, {r_pnl!r}, {r_ex})")
                    checked += 1
                    exceedances += r_ex == 1
                    unobserved += r_ex == -1
    if exceedances == 0:
        problems.append("no exceedance in the reference: the flags are not tested")
    print(f"hs_reference: {exceedances} exceedances and {unobserved} not observed in the "
          "reference")
    return problems, checked


def parse_sources(args):
    close, funding, dates = {}, {}, None
    it = iter(args)
    for a in it:
        if a == "--range":
            dates = day(next(it)), day(next(it))
        elif a == "--funding":
            u, path = next(it).split("=", 1)
            funding[u] = read_column(path, "funding_rate_mean")
        else:
            u, path = a.split("=", 1)
            close[u] = read_column(path, "close")
    return close, funding, dates


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    start, end, models = read_config(argv[1])
    book = read_book(argv[2])
    close, funding, dates = parse_sources(argv[4:])
    if dates:
        start, end = dates
    problems, checked = compare(argv[3], start, end, models, book, close, funding)
    for p in problems[:20]:
        print("hs_reference:", p)
    print(f"hs_reference: {checked} (model, portfolio, date) triples checked against the "
          f"reference, {len(problems)} differ")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
