#!/usr/bin/env python3
"""Checks an imvar report as a browser rendered it against the results file.

usage: check_report.py DIR NAMED_ID

DIR holds: report.html (what imvar wrote), report.dom (headless Chromium's
--dump-dom of it), report.console (Chromium's stderr with console logging),
probe.json (layout measured in Chromium by a probe script run on a copy),
shot.png (Chromium's screenshot), validate.json (imvar validate --json of the
same results file), summary.json, summary_models.csv, summary_portfolios.csv.
NAMED_ID is the portfolio named with --portfolios. When DIR holds cal_*.txt
(h5dump -m %.17g of the calibration file's datasets and root attributes),
the calibration section, summary.json's calibration object and
summary_calibration.csv are compared with them.

Prints one 'ok ...' or 'FAIL ...' line per check (standard library only).
"""
import csv
import json
import math
import os
import re
import struct
import sys
from html.parser import HTMLParser

d, named = sys.argv[1], sys.argv[2]
results = []


def check(cond, what):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + what)
    return cond


class Dom(HTMLParser):
    """Collects what the checks need from the DOM, tracking the enclosing
    model section, table row and figure."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.figures, self.cells, self.rows = set(), [], [], []
        self.tags = {}
        self.model = None
        self.row = None
        self.fig = None
        self.cell = None
        self.th = None
        self.imgs, self.refs = [], []
        self.calrows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if a.get("id"):
            self.ids.add(a["id"])
        for k in ("src", "href", "xlink:href", "data", "action"):
            if k in a and a[k] is not None:
                self.refs.append((tag, k, a[k]))
        if tag == "img":
            self.imgs.append(a.get("src"))
        if tag == "section" and "model" in (a.get("class") or "").split():
            self.model = a.get("data-model")
        if tag == "tr" and "data-cal" in a:
            self.row = {"cal": a["data-cal"], "set": int(a["data-set"]), "period": int(a["data-period"]),
                        "rank": int(a.get("data-rank") or 0), "cells": {}, "th": "", "model": None, "id": None}
        if tag == "tr" and "data-portfolio" in a:
            self.row = {"model": self.model, "id": a["data-portfolio"], "rank": int(a["data-rank"]),
                        "cells": {}, "th": ""}
        if tag == "th" and self.row is not None:
            self.th = ""
        if tag == "figure" and "chart" in (a.get("class") or "").split():
            self.fig = {"model": self.model, "kind": a.get("data-chart"), "svg": 0,
                        "empty": a.get("data-empty") == "1"}
        if tag == "svg" and self.fig is not None:
            self.fig["svg"] += 1
        if tag == "td" and "data-f" in a:
            self.cell = {"model": self.model, "f": a["data-f"], "v": a.get("data-v"), "text": ""}

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            c, self.cell = self.cell, None
            c["text"] = c["text"].strip()
            if self.row is not None:
                self.row["cells"][c["f"]] = c
            else:
                self.cells.append(c)
        if tag == "th" and self.th is not None:
            self.row["th"], self.th = self.th, None
        if tag == "tr" and self.row is not None:
            (self.calrows if "cal" in self.row else self.rows).append(self.row)
            self.row = None
        if tag == "figure" and self.fig is not None:
            self.figures.append(self.fig)
            self.fig = None
        if tag == "section":
            self.model = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data
        if self.th is not None:
            self.th += data


def load(name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return f.read()


dom = Dom()
dom.feed(load("report.dom"))
raw = load("report.html")
val = json.loads(load("validate.json"))
summ = json.loads(load("summary.json"))
probe = json.loads(load("probe.json"))
models = [m["name"] for m in val["models"]]
P = len(val["models"][0]["portfolios"])

# ---- the page: sections, charts, nothing broken, nothing fetched ----
need = ["cover", "verdict", "verdicts", "run", "models", "toc", "calibration"]
for i in range(len(models)):
    need += [f"model-{i}"] + [f"model-{i}-{s}" for s in (
        "verdict", "coverage", "tests", "multiple", "magnitude", "procyclicality", "adequacy",
        "charts", "charted", "table")]
missing = [s for s in need if s not in dom.ids]
check(not missing, f"{len(need)} sections present in the rendered DOM" + (f" (missing {missing})" if missing else ""))

charted = {m["name"]: [c["portfolio"] for c in m["charted"]] for m in summ["models"]}
want_figs = sum(3 + 2 * len(charted[m]) for m in models)
check(len([f for f in dom.figures if f["model"] is not None]) == want_figs,
      f"{len(dom.figures)} chart figures, expected {want_figs} (3 per model + 2 per charted portfolio)")
for m in models:
    kinds = [f["kind"] for f in dom.figures if f["model"] == m]
    check(all(k in kinds for k in ("exceed-vs-binomial", "pvalue-histogram", "rolling-traffic-light")),
          f"{m}: exceedance, p-value and rolling traffic-light charts present")
    check(kinds.count("margin-vs-loss") == len(charted[m]) == kinds.count("margin-increases"),
          f"{m}: margin-vs-loss and margin-increases charts for each of {len(charted[m])} charted portfolios")
    check(named in charted[m], f"{m}: the portfolio named with --portfolios is charted")
drawn = [f for f in dom.figures if not f["empty"]]
check(all(f["svg"] == 1 for f in drawn) and dom.tags.get("svg", 0) == len(drawn),
      f"every drawn chart is one inline <svg> ({dom.tags.get('svg', 0)} in the DOM, {len(drawn)} drawn)")
check(len(probe["figs"]) == len(dom.figures), "the layout probe saw every figure")
bad = [f for f in probe["figs"] if f.get("svg", 1) and (f["w"] < 300 or f["h"] < 150 or f["paths"] < 10)]
check(not bad and len(probe["figs"]) > 0,
      f"every chart is laid out by Chromium with a size and drawn paths ({len(probe['figs'])} measured)" +
      (f"; bad: {bad[:3]}" if bad else ""))
check(all(i["ok"] for i in probe["imgs"]), f"no broken images ({len(probe['imgs'])} <img> in the page)")
check(dom.tags.get("img", 0) == 0 and dom.tags.get("script", 0) == 0 and dom.tags.get("link", 0) == 0
      and dom.tags.get("iframe", 0) == 0 and dom.tags.get("object", 0) == 0,
      "no <img>, <script>, <link>, <iframe> or <object> in the report")
ext = [r for r in dom.refs if not r[2].startswith("#")]
check(not ext, "every src/href in the DOM is a fragment within the page" + (f" (found {ext[:3]})" if ext else ""))
urls = set(re.findall(r"https?://[^\s\"'<>)]+", raw)) - {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
check(not urls, "no URL in report.html but the SVG namespaces" + (f" (found {sorted(urls)[:3]})" if urls else ""))
console = [l for l in load("report.console").splitlines() if ":CONSOLE" in l]
check(not console, "Chromium logged no console message (no CSP violation, no failed load)" +
      (f": {console[:2]}" if console else ""))
png = open(os.path.join(d, "shot.png"), "rb").read()
w, hgt = struct.unpack(">II", png[16:24]) if png[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)
check(w == 1280 and hgt > 1000 and len(png) > 50000, f"screenshot is a {w}x{hgt} PNG of {len(png)} bytes")

# ---- escaping: a portfolio id full of markup comes back as the same text ----
evil = [r for r in dom.rows if "<" in r["id"]]
check(evil and all(r["th"] == r["id"] for r in evil) and "<i>evil</i>" not in raw and "&lt;i&gt;evil&lt;/i&gt;" in raw,
      "a portfolio id with markup, quotes and & is shown as text, escaped in the HTML")

# ---- numbers shown = numbers in results.h5 (imvar validate --json) ----
PFIELDS = ("p_uc", "p_ind", "p_cc", "p_tuff", "p_tbfi", "p_tbf", "dur_p", "dq_p", "bin_p")


def same(v, j):
    """data-v attribute v against a JSON value j."""
    if j is None:
        return v in ("", None)
    if isinstance(j, str):
        return v == j
    if isinstance(j, int) and not isinstance(j, bool):
        return v not in ("", None) and float(v) == j and str(int(float(v))) == str(j)
    return v not in ("", None) and float(v) == j


def shown(f, j, text):
    """The rounding a person sees, for the fields whose format is fixed."""
    if f in PFIELDS:
        return text == ("\u2013" if j is None else f"{j + 0.0:.4f}")
    if f in ("n_obs", "n_exceed"):
        return text == str(j)
    if f == "expected":
        return text == f"{j:.2f}"
    return True


for mj in val["models"]:
    m = mj["name"]
    rows = [r for r in dom.rows if r["model"] == m]
    byid = {p["id"]: p for p in mj["portfolios"]}
    check(len(rows) == P and {r["id"] for r in rows} == set(byid),
          f"{m}: the table has every one of the {P} portfolios")
    check([r["rank"] for r in rows] == list(range(1, P + 1)), f"{m}: rows in worst-first rank order")
    zone_key = "tl_zone_overlap" if mj["horizon_days"] > 1 else "tl_zone"
    sev = {"red": 2, "yellow": 1, "green": 0, None: -1}
    zs = [sev[byid[r["id"]][zone_key]] if byid[r["id"]]["n_obs"] > 0 else -1 for r in rows]
    check(zs == sorted(zs, reverse=True), f"{m}: worst first means red, then yellow, then green ({zone_key})")
    compared = mism = 0
    bad = []
    for r in rows:
        pj = byid[r["id"]]
        for f, c in r["cells"].items():
            if f not in pj:
                continue
            compared += 1
            if not same(c["v"], pj[f]) or not shown(f, pj[f], c["text"]):
                mism += 1
                bad.append((r["id"], f, c["v"], c["text"], pj[f]))
    check(compared >= P * 24 and mism == 0,
          f"{m}: {compared} per-portfolio numbers in the table equal imvar validate --json "
          f"(value and shown rounding)" + (f"; {mism} differ, e.g. {bad[:3]}" if mism else ""))
    sj = mj["summary"]
    cells = [c for c in dom.cells if c["model"] == m and c["f"].startswith("summary.")]
    ok = [c for c in cells if same(c["v"], sj[c["f"][8:]])]
    check(len(cells) >= 12 and len(ok) == len(cells),
          f"{m}: {len(cells)} model-level figures equal the validate summary" +
          ("" if len(ok) == len(cells) else f" ({[c for c in cells if c not in ok][:3]})"))
    sm = next(x for x in summ["models"] if x["name"] == m)
    check(all(sm["summary"][k] == sj[k] for k in sj), f"{m}: summary.json summary equals the validate summary")
    # one verdict rule (core/verdict.c): validate --json and summary.json agree
    vkeys = ("verdict", "zone_kind", "criteria")
    check(all(k in mj for k in vkeys) and all(mj[k] == sm[k] for k in vkeys),
          f"{m}: verdict '{mj.get('verdict')}' and its {len(mj.get('criteria', []))} criteria "
          f"in imvar validate --json equal summary.json's")
    # for h > 1 the summary counts the overlap-corrected zones, as the report does
    zk = "tl_zone_overlap" if mj["horizon_days"] > 1 else "tl_zone"
    zc = [sum(r[zk] == z for r in mj["portfolios"] if r["n_obs"] > 0) for z in ("green", "yellow", "red")]
    pc = [sum(r["tl_zone"] == z for r in mj["portfolios"] if r["n_obs"] > 0) for z in ("green", "yellow", "red")]
    check([sj["n_green"], sj["n_yellow"], sj["n_red"]] == zc == [sm["zones"][z] for z in ("green", "yellow", "red")]
          and [sj["n_green_plain"], sj["n_yellow_plain"], sj["n_red_plain"]] == pc,
          f"{m}: summary zones {zc} counted from {zk} (the report's), plain binomial {pc}")
    vcell = [c for c in dom.cells if c["f"] == "verdict" and c["v"] == sm["verdict"]]
    check(sm["verdict"] in ("pass", "attention", "fail") and vcell,
          f"{m}: verdict '{sm['verdict']}' shown on the cover and in summary.json")
    zc = {c["f"]: c for c in dom.cells if c["model"] == m and c["f"].startswith("zones.")}
    cnt = {z: sum(1 for p in mj["portfolios"] if p["n_obs"] > 0 and p[zone_key] == z) for z in ("green", "yellow", "red")}
    check(all(same(zc["zones." + z]["v"], cnt[z]) and sm["zones"][z] == cnt[z] for z in cnt),
          f"{m}: zone counts {cnt} shown and in summary.json")
    passed = sum(1 for p in mj["portfolios"] if p["n_obs"] > 0 and p["p_uc"] is not None and p["p_uc"] >= 0.05)
    kup = next(t for t in sm["tests"] if t["key"] == "p_uc")
    check(kup["passed"] == passed and kup["passed"] + sj["n_reject_uc"] == kup["defined"],
          f"{m}: Kupiec pass count {passed} agrees with the rejections")
    big = max((p["largest_exceedance"] for p in mj["portfolios"] if p["largest_exceedance"] is not None), default=None)
    check(sm["magnitude"]["largest_exceedance"] == big, f"{m}: largest exceedance {big} in summary.json")

# ---- the CSV tables ----
with open(os.path.join(d, "summary_portfolios.csv"), newline="", encoding="utf-8") as f:
    crow = list(csv.DictReader(f))
check(len(crow) == P * len(models), f"summary_portfolios.csv has {len(crow)} rows = models x portfolios")
diff = 0
for mj in val["models"]:
    byid = {p["id"]: p for p in mj["portfolios"]}
    for r in (x for x in crow if x["model"] == mj["name"]):
        pj = byid[r["portfolio"]]
        for k, j in pj.items():
            if k == "id":
                continue
            v = r[k]
            if not (v == "" if j is None else (v == j if isinstance(j, str) else float(v) == j)):
                diff += 1
check(diff == 0, f"every statistic in summary_portfolios.csv equals imvar validate --json ({diff} differ)")
with open(os.path.join(d, "summary_models.csv"), newline="", encoding="utf-8") as f:
    mrow = list(csv.DictReader(f))
check([r["model"] for r in mrow] == models and
      all(r["verdict"] == next(x for x in summ["models"] if x["name"] == r["model"])["verdict"] for r in mrow),
      "summary_models.csv has one row per model with the same verdicts")


# ---- the calibration section against the calibration file (h5dump) ----
def h5dump(name):
    """(fields, records) of a compound dataset, or a flat list of values."""
    t = load(name)
    data = t[t.index("DATA {") + 6:]

    def val(v):
        v = v.strip()
        if v.startswith('"'):
            return v.strip('"').replace("\\000", "")
        return int(v) if re.fullmatch(r"-?\d+", v) else float(v)

    if "H5T_COMPOUND" in t:
        fields = re.findall(r'"(\w+)";', t[t.index("H5T_COMPOUND"):t.index("DATASPACE")])
        recs = [dict(zip(fields, (val(v) for v in re.split(r",\s*\n", body.strip()))))
                for body in re.findall(r"\{([^{}]*)\}", data)]
        return recs
    body = re.sub(r"\(\d+(,\d+)*\):", "", data[:data.index("}")])
    return [val(v) for v in body.split(",") if v.strip()]


def eq(a, b):
    """Exact equality, NaN = NaN = None (JSON null / empty cell)."""
    na = a is None or a == "" or (isinstance(a, float) and math.isnan(a))
    nb = b is None or b == "" or (isinstance(b, float) and math.isnan(b))
    if na or nb:
        return na and nb
    if isinstance(a, bool) or isinstance(b, bool):
        return int(a) == int(b)
    return float(a) == float(b)


MFIELDS = ("n_portfolios", "n_obs", "n_exceed", "expected", "exceed_rate", "coverage", "share_pass_uc",
           "share_pass_cc", "share_zone_ok", "mean_margin", "procyclicality", "ok_coverage", "ok_uc", "ok_cc",
           "ok_zone", "eligible")
SHOWN = ("n_portfolios", "n_obs", "n_exceed", "coverage", "exceed_rate", "share_pass_uc", "share_pass_cc",
         "share_zone_ok", "mean_margin", "procyclicality", "eligible")

if os.path.exists(os.path.join(d, "cal_metrics.txt")):
    sets, periods = h5dump("cal_sets.txt"), h5dump("cal_periods.txt")
    S, Q = len(sets), len(periods)
    met = h5dump("cal_metrics.txt")
    sens = h5dump("cal_sensitivity.txt")
    ranking, pareto = h5dump("cal_ranking.txt"), h5dump("cal_pareto.txt")
    attr = {a: h5dump(f"cal_attr_{a}.txt")[0] for a in
            ("recommended", "criteria_coverage", "criteria_zone", "criteria_test_level", "criteria_pass_share")}
    check(len(met) == S * Q and len(ranking) == S == len(pareto) and S >= 4 and Q >= 2,
          f"calibration file read back with h5dump: {S} sets x {Q} periods, {len(sens)} sensitivity rows")
    rec = attr["recommended"]
    ref = rec if rec >= 0 else ranking[0]
    M = lambda i, q: met[i * Q + q]
    cj = summ["calibration"]

    need = ["calibration-criteria", "calibration-criteria-table", "calibration-recommended", "calibration-set",
            "calibration-verdicts", "calibration-ranking", "calibration-ranked", "calibration-charts"]
    missing = [s for s in need if s not in dom.ids]
    check(not missing, f"calibration section: {len(need)} parts present" + (f" (missing {missing})" if missing else ""))
    rawdom = load("report.dom")
    check((f'data-recommended="{rec}"' if rec >= 0 else 'data-recommended="none"') in rawdom and
          cj["recommended"] == (rec if rec >= 0 else None) and cj["reference"]["set"] == ref,
          f"recommended set {rec} (attribute) shown and in summary.json")

    # criteria
    crit = {c["f"]: c for c in dom.cells if c["f"].startswith("criteria.")}
    okc = (eq(crit["criteria.coverage"]["v"] and float(crit["criteria.coverage"]["v"]), attr["criteria_coverage"])
           and int(crit["criteria.zone"]["v"]) == attr["criteria_zone"]
           and float(crit["criteria.test_level"]["v"]) == attr["criteria_test_level"]
           and float(crit["criteria.pass_share"]["v"]) == attr["criteria_pass_share"]
           and eq(cj["criteria"]["coverage"], attr["criteria_coverage"])
           and cj["criteria"]["test_level"] == attr["criteria_test_level"]
           and cj["criteria"]["pass_share"] == attr["criteria_pass_share"])
    check(okc, f"criteria (coverage {attr['criteria_coverage']}, zone {attr['criteria_zone']}, level "
               f"{attr['criteria_test_level']}, share {attr['criteria_pass_share']}) shown and in summary.json")

    def cells_match(r, m):
        bad = [(f, r["cells"][f]["v"], m[f]) for f in SHOWN
               if f not in r["cells"] or not eq(r["cells"][f]["v"] if r["cells"][f]["v"] != "" else None, m[f])]
        return bad

    # the recommended set's verdicts, one row per period
    vr = sorted((r for r in dom.calrows if r["cal"] == "ref"), key=lambda r: r["period"])
    bad = [(r["period"], cells_match(r, M(ref, r["period"]))) for r in vr if cells_match(r, M(ref, r["period"]))]
    check(len(vr) == Q and all(r["set"] == ref for r in vr) and not bad,
          f"verdicts of set {ref}: {Q} periods x {len(SHOWN)} numbers equal /metrics" + (f"; differ: {bad[:2]}" if bad else ""))
    holds = [r["cells"]["eligible"]["text"] for r in vr]
    check(holds == ["holds" if M(ref, q)["eligible"] else "fails" for q in range(Q)],
          f"holds/fails per period: {holds}")
    vj = cj["reference"]["verdicts"]
    check(len(vj) == Q and all(eq(vj[q][f], M(ref, q)[f]) for q in range(Q) for f in MFIELDS)
          and [v["period"] for v in vj] == [p["name"] for p in periods],
          "summary.json reference verdicts equal /metrics (every field, every period)")

    # the ranking
    rr = sorted((r for r in dom.calrows if r["cal"] == "rank"), key=lambda r: r["rank"])
    top = min(20, S)
    bad = [(r["rank"], cells_match(r, M(r["set"], 0))) for r in rr if cells_match(r, M(r["set"], 0))]
    check([r["set"] for r in rr] == ranking[:top] and not bad,
          f"ranked table: the {top} best sets in /ranking order, {top * len(SHOWN)} numbers equal /metrics"
          + (f"; differ: {bad[:2]}" if bad else ""))
    check(all(int(r["cells"]["pareto"]["v"]) == pareto[r["set"]] for r in rr),
          "ranked table: frontier flags equal /pareto")
    rj = cj["ranked"]
    check([x["set"] for x in rj] == ranking[:top] and
          all(eq(x[f], M(x["set"], 0)[f]) for x in rj for f in MFIELDS) and
          all(x["pareto"] == bool(pareto[x["set"]]) for x in rj),
          "summary.json ranked sets equal /ranking, /metrics and /pareto")
    check(cj["pareto"] == [i for i in range(S) if pareto[i]], f"summary.json pareto = {cj['pareto']}")
    sj = cj["sensitivity"]
    check(len(sj) == len(sens) and all(
        a["parameter"] == b["parameter"] and a["set"] == b["set"] and
        all(eq(a[f], b[f]) for f in ("value", "mean_margin", "exceed_rate", "rel_change"))
        for a, b in zip(sj, sens)), f"summary.json sensitivity equals /sensitivity ({len(sens)} rows)")

    # the charts: a Pareto frontier and one sensitivity chart per parameter, inline SVG
    cf = [f for f in dom.figures if f["model"] is None]
    params = []
    for z in sens:
        if z["parameter"] not in params:
            params.append(z["parameter"])
    n_par = {p: sum(1 for z in sens if z["parameter"] == p) for p in params}
    kinds = [f["kind"] for f in cf]
    check(kinds.count("calibration-pareto") == 1 and kinds.count("calibration-sensitivity") == len(params),
          f"calibration charts: 1 Pareto frontier and {len(params)} sensitivity charts ({params})")
    drawn_c = [f for f in cf if not f["empty"]]
    check(all(f["svg"] == 1 for f in drawn_c) and
          len([f for f in drawn_c if f["kind"] == "calibration-sensitivity"]) == sum(1 for p in params if n_par[p] > 1) and
          any(f["kind"] == "calibration-pareto" for f in drawn_c),
          f"the Pareto chart and every sensitivity with two or more sets drawn as inline SVG ({len(drawn_c)})")
    pf = [f for f in probe["figs"] if f["kind"].startswith("calibration-") and f["svg"]]
    check(len(pf) == len(drawn_c) and all(f["w"] >= 300 and f["h"] >= 150 and f["paths"] >= 10 for f in pf),
          f"Chromium laid out the {len(pf)} calibration charts with a size and drawn paths")
    svgs = re.findall(r'<figure class="chart" data-chart="calibration-pareto">(.*?)</figure>', raw, re.S)
    front = sum(pareto)
    check(bool(svgs) and "Pareto frontier" in svgs[0] and "target exceedance rate" in svgs[0] and
          ("recommended" if rec >= 0 else "nearest") in svgs[0],
          f"the Pareto chart has its frontier ({front} sets), the target rate and the {'recommended' if rec >= 0 else 'nearest'} set in its key")

    # summary_calibration.csv: every set and period
    with open(os.path.join(d, "summary_calibration.csv"), newline="", encoding="utf-8") as f:
        crow = list(csv.DictReader(f))
    rank_of = {s_: k + 1 for k, s_ in enumerate(ranking)}
    diff = sum(1 for r in crow for f in MFIELDS
               if not eq(r[f] if r[f] != "" else None, M(int(r["set"]), [p["name"] for p in periods].index(r["period"]))[f]))
    diff += sum(1 for r in crow if int(r["rank"]) != rank_of[int(r["set"])] or int(r["pareto"]) != pareto[int(r["set"])]
                or int(r["recommended"]) != (int(r["set"]) == rec) or float(r["confidence"]) != sets[int(r["set"])]["confidence"])
    check(len(crow) == S * Q and diff == 0,
          f"summary_calibration.csv: {len(crow)} rows = sets x periods, every metric, rank and flag equal the file ({diff} differ)")


# ---- margin adequacy of the total margin (models with layers) ----
for mj in summ["models"]:
    path = os.path.join(d, "total_%s.txt" % mj["name"])
    if not os.path.exists(path):
        check("total" not in mj["margin_adequacy"]["layers"],
              f"{mj['name']}: no layers, so no total-margin row in summary.json")
        continue
    body = open(path).read()
    body = body[body.index("DATA {"):]
    vals = re.findall(r"-?[0-9][0-9.e+-]*|nan", body.split("{", 2)[2])
    # IM_BT_SUMMARY_FIELDS order: n_portfolios n_evaluated n_obs n_exceed expected exceed_rate ...
    n_exceed, expected, rate = int(vals[3]), float(vals[4]), float(vals[5])
    t = mj["margin_adequacy"].get("total")
    check(t is not None and t["n_exceed"] == n_exceed and eq(t["expected"], expected)
          and eq(t["coverage"], 1 - rate),
          f"{mj['name']}: total-margin adequacy in summary.json = summary_total of the file "
          f"({n_exceed} exceedances, coverage {1 - rate:.5f})")
    check(re.search(r'<tr data-layer="total">', raw) is not None,
          f"{mj['name']}: the total-margin row is in the page")
